"""Solver options: plain settings, importable without the solver stack (the CLI reads them first)."""

from __future__ import annotations

from dataclasses import dataclass

#: Above this many columns ``solver="choose"`` uses the interior-point method (with crossover,
#: so duals, ranging and warm starts still have a basis); below it, dual simplex.
IPM_ABOVE_COLS = 50_000


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings.

    Attributes:
        time_limit_s: wall-clock limit inside HiGHS, in seconds.
        threads: HiGHS threads; 1 keeps concurrent solves in separate processes predictable.
        solver: ``simplex``, ``ipm`` (interior point, with crossover so that duals, ranging and
            warm starts still have a basis) or ``choose`` (IPM above
            :data:`IPM_ABOVE_COLS` columns, else simplex).
        primal_feasibility_tolerance: HiGHS primal feasibility tolerance.
        dual_feasibility_tolerance: HiGHS dual feasibility tolerance.
    """

    time_limit_s: float = 60.0
    threads: int = 1
    solver: str = "choose"
    primal_feasibility_tolerance: float = 1e-7
    dual_feasibility_tolerance: float = 1e-7
