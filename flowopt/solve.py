"""Solve: Pyomo ``ConcreteModel`` -> ``SolveOutcome`` (the only module that talks to HiGHS).

The model is compiled to matrix form with Pyomo's standard-form compiler and handed to
HiGHS through highspy directly. That keeps one ``Highs`` object per solve, gives row duals and
(later) ranging on the same basis, and avoids Pyomo's HiGHS output capture, which can
deadlock when solves run in threads.

``solve_model`` never raises for a non-optimal end: it returns a ``SolveOutcome`` whose
``raise_for_status`` the caller may call (the pattern of httpx's ``raise_for_status``).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from flowopt.errors import (
    InfeasibleError,
    SolveError,
    SolverFailure,
    SolverLimitError,
    UnboundedError,
)


class SolveStatus(StrEnum):
    """How a solve ended."""

    optimal = "optimal"
    infeasible = "infeasible"
    unbounded = "unbounded"
    infeasible_or_unbounded = "infeasible_or_unbounded"
    time_limit = "time_limit"
    iteration_limit = "iteration_limit"
    error = "error"


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings.

    Attributes:
        time_limit_s: wall-clock limit inside HiGHS, in seconds.
        threads: HiGHS threads; 1 keeps concurrent solves in separate processes predictable.
        primal_feasibility_tolerance: HiGHS primal feasibility tolerance.
        dual_feasibility_tolerance: HiGHS dual feasibility tolerance.
    """

    time_limit_s: float = 60.0
    threads: int = 1
    primal_feasibility_tolerance: float = 1e-7
    dual_feasibility_tolerance: float = 1e-7


@dataclass
class CompiledLP:
    """A model in matrix form, ready for HiGHS, with the maps back to Pyomo."""

    lp: Any
    columns: list[Any]
    rows: list[Any]
    offset: float
    column_names: list[str] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)
    column_index: dict[str, int] = field(default_factory=dict)
    row_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Pyomo builds names on request and that is slow: do it once per compile
        self.column_names = [v.name for v in self.columns]
        self.row_names = [c.name for c, _ in self.rows]
        self.column_index = {n: j for j, n in enumerate(self.column_names)}
        self.row_index = {n: i for i, n in enumerate(self.row_names)}


@dataclass
class SolveOutcome:
    """What the solver reported, mapped back to Pyomo components.

    Attributes:
        status: how the solve ended.
        message: HiGHS's model status in words.
        objective: objective value (CNY/yr) when optimal, else ``None``.
        runtime_s: wall-clock time spent in HiGHS.
        values: primal value per Pyomo variable name, when optimal.
        duals: dual value per Pyomo constraint name (d objective / d right-hand side, in the
            objective's units per unit of the constraint), when optimal.
        reduced_costs: reduced cost per variable name, when optimal.
    """

    status: SolveStatus
    message: str
    objective: float | None = None
    runtime_s: float = 0.0
    values: dict[str, float] = field(default_factory=dict)
    duals: dict[str, float] = field(default_factory=dict)
    reduced_costs: dict[str, float] = field(default_factory=dict)
    highs: Any = field(default=None, repr=False)
    columns: list[Any] = field(default_factory=list, repr=False)
    rows: list[Any] = field(default_factory=list, repr=False)
    compiled: CompiledLP | None = field(default=None, repr=False)

    _row_index: dict[str, int] | None = field(default=None, repr=False)
    _column_index: dict[str, int] | None = field(default=None, repr=False)

    def row_index(self) -> dict[str, int]:
        """Map each constraint name to its row in the compiled LP (computed once)."""
        if self._row_index is None:
            self._row_index = {con.name: i for i, (con, _) in enumerate(self.rows)}
        return self._row_index

    def column_index(self) -> dict[str, int]:
        """Map each variable name to its column in the compiled LP (computed once)."""
        if self._column_index is None:
            self._column_index = {var.name: j for j, var in enumerate(self.columns)}
        return self._column_index

    @property
    def ok(self) -> bool:
        """True when the solve ended optimal."""
        return self.status == SolveStatus.optimal

    def raise_for_status(self) -> SolveOutcome:
        """Return ``self`` when optimal, else raise the matching :class:`SolveError`.

        Raises:
            InfeasibleError: infeasible (or infeasible-or-unbounded) model.
            UnboundedError: unbounded objective.
            SolverLimitError: time or iteration limit reached.
            SolverFailure: any HiGHS error.
        """
        if self.ok:
            return self
        text = f"The solver ended without an optimal plan: {self.message}."
        if self.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
            raise InfeasibleError(text, self)
        if self.status == SolveStatus.unbounded:
            raise UnboundedError(text + " A revenue likely exceeds all costs on a loop; check revenues and residue fractions.", self)
        if self.status in (SolveStatus.time_limit, SolveStatus.iteration_limit):
            raise SolverLimitError(text + " Raise the time limit or simplify the scenario.", self)
        raise SolverFailure(text, self)


_STATUS = {
    highspy.HighsModelStatus.kOptimal: SolveStatus.optimal,
    highspy.HighsModelStatus.kInfeasible: SolveStatus.infeasible,
    highspy.HighsModelStatus.kUnbounded: SolveStatus.unbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: SolveStatus.infeasible_or_unbounded,
    highspy.HighsModelStatus.kTimeLimit: SolveStatus.time_limit,
    highspy.HighsModelStatus.kIterationLimit: SolveStatus.iteration_limit,
}


def compile_model(model: pyo.ConcreteModel) -> CompiledLP:
    """Compile the active objective and constraints of ``model`` into a ``HighsLp``.

    Args:
        model: a linear Pyomo model with one active objective (minimized).

    Returns:
        The LP with column and row maps (rows are ``(ConstraintData, sense)`` with sense 0 for
        equality, 1 for ``<=`` and -1 for ``>=``).
    """
    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    n_cols = len(info.columns)
    n_rows = len(info.rows)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    cost = np.asarray(info.c.toarray()).reshape(-1) if info.c.shape[0] else np.zeros(n_cols)
    lp.col_cost_ = cost[:n_cols] if cost.size else np.zeros(n_cols)
    inf = highspy.kHighsInf
    lp.col_lower_ = np.array([-inf if v.lb is None else float(v.lb) for v in info.columns])
    lp.col_upper_ = np.array([inf if v.ub is None else float(v.ub) for v in info.columns])
    rhs = np.asarray(info.rhs, dtype=float)
    lower = np.empty(n_rows)
    upper = np.empty(n_rows)
    for i, (_, sense) in enumerate(info.rows):
        lower[i] = rhs[i] if sense in (0, -1) else -inf
        upper[i] = rhs[i] if sense in (0, 1) else inf
    lp.row_lower_ = lower
    lp.row_upper_ = upper
    a = info.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return CompiledLP(lp, list(info.columns), list(info.rows), offset)


_banner_lock = threading.Lock()
_banner_shown = False


def _quiet_highs() -> Any:
    """Create a ``Highs`` object without letting HiGHS's one-time banner reach stdout.

    HiGHS prints its copyright banner from the C++ constructor of the first instance in a
    process, before any option can be set; on stdout it would corrupt ``--json`` output.
    """
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
        return h


def new_highs(options: SolveOptions) -> Any:
    """Return a quiet ``Highs`` instance configured from ``options``."""
    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", options.threads)
    h.setOptionValue("time_limit", float(options.time_limit_s))
    h.setOptionValue("primal_feasibility_tolerance", options.primal_feasibility_tolerance)
    h.setOptionValue("dual_feasibility_tolerance", options.dual_feasibility_tolerance)
    # simplex leaves a basic solution, which duals and later ranging rely on
    h.setOptionValue("solver", "simplex")
    return h


def solve_model(model: pyo.ConcreteModel, options: SolveOptions | None = None) -> SolveOutcome:
    """Solve a linear Pyomo model with HiGHS.

    Args:
        model: the model from :func:`flowopt.model.build_model` (or any LP).
        options: solver settings; defaults to :class:`SolveOptions`.

    Returns:
        The outcome; optimal outcomes carry values, duals and reduced costs by component name.
    """
    options = options or SolveOptions()
    compiled = compile_model(model)
    h = new_highs(options)
    status = h.passModel(compiled.lp)
    if status == highspy.HighsStatus.kError:
        return SolveOutcome(SolveStatus.error, "HiGHS rejected the model (check for huge or non-finite coefficients)")
    return run_highs(h, compiled)


def run_highs(h: Any, compiled: CompiledLP) -> SolveOutcome:
    """Run HiGHS on the LP it holds (warm from its current basis, if any) and read the outcome.

    Args:
        h: a ``Highs`` instance holding ``compiled``'s LP (possibly modified in place).
        compiled: the maps from LP columns and rows back to Pyomo components.

    Returns:
        The outcome.
    """
    start = time.perf_counter()
    h.run()
    model_status = h.getModelStatus()
    result = _STATUS.get(model_status, SolveStatus.error)
    if result == SolveStatus.infeasible_or_unbounded:
        # presolve could not tell which; without presolve the simplex can
        h.setOptionValue("presolve", "off")
        h.clearSolver()
        h.run()
        h.setOptionValue("presolve", "choose")
        model_status = h.getModelStatus()
        result = _STATUS.get(model_status, SolveStatus.error)
    runtime = time.perf_counter() - start
    message = h.modelStatusToString(model_status)
    outcome = SolveOutcome(result, message, runtime_s=runtime, highs=h, columns=compiled.columns, rows=compiled.rows, compiled=compiled)
    if result != SolveStatus.optimal:
        return outcome
    sol = h.getSolution()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        outcome.status = SolveStatus.error
        outcome.message = "HiGHS reported optimal without a feasible primal solution"
        return outcome
    objective = float(info.objective_function_value) + compiled.offset
    if not math.isfinite(objective):
        outcome.status = SolveStatus.error
        outcome.message = "HiGHS returned a non-finite objective"
        return outcome
    outcome.objective = objective
    names = compiled.column_names
    outcome.values = dict(zip(names, map(float, sol.col_value), strict=True))
    outcome.reduced_costs = dict(zip(names, map(float, sol.col_dual), strict=True))
    outcome.duals = dict(zip(compiled.row_names, map(float, sol.row_dual), strict=True))
    outcome._column_index = compiled.column_index
    outcome._row_index = compiled.row_index
    return outcome


def load_values(model: pyo.ConcreteModel, outcome: SolveOutcome) -> None:
    """Write the outcome's primal values into the model's variables (for inspection).

    Raises:
        SolveError: when the outcome carries no solution.
    """
    if not outcome.ok:
        msg = "No solution to load: the solve was not optimal."
        raise SolveError(msg, outcome)
    for var in outcome.columns:
        var.set_value(outcome.values[var.name], skip_validation=True)


def linear_coefficients(expr: Any, columns: list[Any]) -> tuple[np.ndarray, float]:
    """Return the coefficient vector of a linear expression over ``columns`` and its constant.

    Variables of the expression that are not among ``columns`` must be fixed or absent.
    """
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True)
    index = {id(v): i for i, v in enumerate(columns)}
    vec = np.zeros(len(columns))
    for v, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        vec[index[id(v)]] += float(coef)
    return vec, float(repn.constant or 0.0)


def maximize_ratio(model: pyo.ConcreteModel, numerator: Any, denominator_extra: Any, denominator_const: float, options: SolveOptions | None = None, max_iter: int = 30) -> tuple[float, SolveOutcome]:
    """Maximize ``numerator / (denominator_const + denominator_extra)`` over the model's constraints.

    Uses Dinkelbach's method: each step maximizes ``N - q (c + E)`` with HiGHS and updates
    ``q`` to the ratio reached, which converges to the exact maximum of a linear-fractional
    program in a few steps.

    Args:
        model: the model whose constraints bound the flows (its objective is ignored).
        numerator: linear expression of the model's variables (the ratio's numerator).
        denominator_extra: linear expression added to ``denominator_const``.
        denominator_const: constant part of the denominator (must be > 0).
        options: solver settings.
        max_iter: safety bound on steps.

    Returns:
        The maximum ratio and the outcome of the last step.
    """
    options = options or SolveOptions()
    compiled = compile_model(model)
    n_vec, n_const = linear_coefficients(numerator, compiled.columns)
    d_vec, d_const = linear_coefficients(denominator_extra, compiled.columns)
    h = new_highs(options)
    h.passModel(compiled.lp)
    q = 0.0
    outcome = SolveOutcome(SolveStatus.error, "not solved")
    for _ in range(max_iter):
        cost = -(n_vec - q * d_vec)
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        h.run()
        status = _STATUS.get(h.getModelStatus(), SolveStatus.error)
        outcome = SolveOutcome(status, h.modelStatusToString(h.getModelStatus()), highs=h, columns=compiled.columns, rows=compiled.rows)
        if status != SolveStatus.optimal:
            return math.nan, outcome
        x = np.asarray(h.getSolution().col_value)
        num = float(n_vec @ x + n_const)
        den = float(denominator_const + d_vec @ x + d_const)
        new_q = num / den if den > 0 else 0.0
        if abs(new_q - q) <= 1e-10:
            q = new_q
            break
        q = new_q
    return q, outcome
