"""Solve: the one gateway to HiGHS — ``AssembledLP`` -> :class:`Session` -> :class:`SolveOutcome`.

Only this module imports highspy. A :class:`Session` holds one ``Highs`` instance with one
assembled LP (:mod:`flowopt.formulation`): it solves, re-solves warm after costs, bounds or
coefficients change, hands out bases and sensitivity ranges, adds scratch columns and rows
(elastic relaxations), and computes irreducible infeasible subsets. Consumers address rows and
columns by family and position (``outcome.cols("flow_t")``, ``lp.row_of("target")``).

A solve never raises for a non-optimal end: it returns a :class:`SolveOutcome` whose
``raise_for_status`` the caller may call (the pattern of httpx's ``raise_for_status``).

An LP with integer columns (the investment model, ``AssembledLP.integrality``) is solved by
HiGHS's branch and cut to the relative gap the session is given (``mip_rel_gap``): it ends
``optimal`` (within the gap), ``feasible`` (a limit stopped it with an incumbent: the outcome
carries the incumbent, its gap and the best bound), or without a plan. A MIP outcome has no
duals.
HiGHS runs one thread per solve by default; if another HiGHS user in the process started
HiGHS's global scheduler with another thread count, the session resets it and runs.
"""

from __future__ import annotations

import contextlib
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

from flowopt.errors import (
    InfeasibleError,
    SolverFailure,
    SolverLimitError,
    UnboundedError,
)
from flowopt.options import IPM_ABOVE_COLS, SolveOptions


class SolveStatus(StrEnum):
    """How a solve ended."""

    optimal = "optimal"
    infeasible = "infeasible"
    unbounded = "unbounded"
    infeasible_or_unbounded = "infeasible_or_unbounded"
    time_limit = "time_limit"
    iteration_limit = "iteration_limit"
    feasible = "feasible"
    """A mixed-integer solve stopped by a limit with an incumbent (see ``mip_gap``, ``mip_bound``)."""
    error = "error"


_STATUS = {
    highspy.HighsModelStatus.kOptimal: SolveStatus.optimal,
    highspy.HighsModelStatus.kInfeasible: SolveStatus.infeasible,
    highspy.HighsModelStatus.kUnbounded: SolveStatus.unbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: SolveStatus.infeasible_or_unbounded,
    highspy.HighsModelStatus.kTimeLimit: SolveStatus.time_limit,
    highspy.HighsModelStatus.kIterationLimit: SolveStatus.iteration_limit,
    # mixed-integer limits (an LP never ends with these)
    highspy.HighsModelStatus.kSolutionLimit: SolveStatus.iteration_limit,
    highspy.HighsModelStatus.kInterrupt: SolveStatus.time_limit,
}


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


# ---------------------------------------------------------------------------------------------
# The gateway for assembled LPs (flowopt.formulation): one Session per HiGHS instance
# ---------------------------------------------------------------------------------------------



@dataclass
class Ranging:
    """Sensitivity ranges of an optimal basis (HiGHS ``getRanging``), as arrays.

    Attributes:
        row_bound_dn: per row, the lowest right-hand side for which the row's dual holds.
        row_bound_up: per row, the highest.
        col_cost_dn: per column, the lowest cost for which the basis stays optimal.
        col_cost_up: per column, the highest.
    """

    row_bound_dn: np.ndarray
    row_bound_up: np.ndarray
    col_cost_dn: np.ndarray
    col_cost_up: np.ndarray


@dataclass
class BasisView:
    """An optimal basis and the solution it gives, as arrays (see :meth:`Session.basis_view`).

    Attributes:
        session: the session whose factorization ``ftran``/``btran`` use.
        basic: per basis position, the basic variable: ``j >= 0`` a column, ``-1 - i`` row i.
        col_status: per column, 0 basic, 1 at its lower bound, 2 at its upper bound, 3 other.
        row_status: per row, the same for the row's activity.
        x: column values.
        row_activity: row activities A x.
        col_dual: reduced costs.
        row_dual: row duals.
    """

    session: Any = field(repr=False)
    basic: np.ndarray
    col_status: np.ndarray
    row_status: np.ndarray
    x: np.ndarray
    row_activity: np.ndarray
    col_dual: np.ndarray
    row_dual: np.ndarray

    def ftran(self, rhs: np.ndarray) -> np.ndarray:
        """B⁻¹ rhs."""
        return self.session.ftran(rhs)

    def btran(self, rhs: np.ndarray) -> np.ndarray:
        """B⁻ᵀ rhs."""
        return self.session.btran(rhs)


@dataclass
class IisResult:
    """An irreducible infeasible subset, or why there is none.

    Attributes:
        status: ``found``, ``none`` (the LP is not infeasible, or HiGHS found no subset),
            ``timeout`` (the time budget ran out first) or ``error``.
        rows: rows of the subset.
        cols: columns whose bounds are in the subset.
        message: what happened, in words.
    """

    status: str
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    message: str = ""


@dataclass
class SolveOutcome:
    """How a solve of an assembled LP ended, with the solution as arrays.

    Attributes:
        status: how the solve ended.
        message: HiGHS's model status in words.
        lp: the LP that was solved (its family layout addresses ``x``, ``row_dual`` …).
        objective: objective value (CNY/yr) when optimal.
        runtime_s: wall-clock seconds in HiGHS.
        iterations: simplex iterations of this run (0 when an earlier basis was still optimal).
        x: column values (optimal only).
        col_dual: reduced costs (optimal only).
        row_dual: row duals, d objective / d right-hand side (optimal only).
        session: the session that solved it (for warm re-solves and ranging).
        mip_gap: for a mixed-integer program, the relative gap |objective − bound| / |objective|
            of the plan returned (0 when proven optimal); ``None`` for an LP.
        mip_bound: for a mixed-integer program, the best lower bound on the optimum HiGHS proved.
        nodes: branch-and-bound nodes (mixed-integer programs; 0 for an LP).
    """

    status: SolveStatus
    message: str
    lp: Any = field(repr=False)
    objective: float | None = None
    runtime_s: float = 0.0
    iterations: int = 0
    x: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    col_dual: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    row_dual: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    session: Any = field(default=None, repr=False)
    mip_gap: float | None = None
    mip_bound: float | None = None
    nodes: int = 0

    @property
    def ok(self) -> bool:
        """True when the solve ended optimal."""
        return self.status == SolveStatus.optimal

    @property
    def has_solution(self) -> bool:
        """True when the outcome carries a plan: optimal, or a MIP incumbent stopped by a limit."""
        return self.status in (SolveStatus.optimal, SolveStatus.feasible) and len(self.x) > 0

    def cols(self, family: str) -> np.ndarray:
        """Values of one column family, in its key order."""
        return self.x[self.lp.cols[family].slice]

    def duals(self, family: str) -> np.ndarray:
        """Duals of one row family, in its key order."""
        return self.row_dual[self.lp.rows[family].slice]

    def value(self, form: Any) -> float:
        """Value of a linear form (:class:`~flowopt.formulation.lp.SparseVector`) at the solution."""
        return float(form.dot(self.x))

    def raise_for_status(self) -> SolveOutcome:
        """Return ``self`` when optimal, else raise the matching :class:`SolveError`."""
        if self.ok:
            return self
        text = f"The solver ended without an optimal plan: {self.message}."
        if self.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
            raise InfeasibleError(text, self)
        if self.status == SolveStatus.unbounded:
            raise UnboundedError(text + " A revenue likely exceeds all costs on a loop; check revenues and residue fractions.", self)
        if self.status == SolveStatus.feasible:
            gap = f" at a gap of {self.mip_gap:.4%}" if self.mip_gap is not None else ""
            msg = f"The solver stopped at its limit with a plan{gap}, not proven optimal. Raise the time limit or accept a larger gap."
            raise SolverLimitError(msg, self)
        if self.status in (SolveStatus.time_limit, SolveStatus.iteration_limit):
            raise SolverLimitError(text + " Raise the time limit or simplify the scenario.", self)
        raise SolverFailure(text, self)


def _integrality(lp: Any) -> np.ndarray:
    """Per column 1 (integer) or 0 (continuous), as HiGHS reads it."""
    whole = getattr(lp, "integrality", None)
    if whole is None:
        return np.zeros(lp.n_cols, dtype=np.int32)
    return np.ascontiguousarray(whole, dtype=np.int32)


def _pass_lp(h: Any, lp: Any) -> Any:
    # numpy infinities are HiGHS's infinity (kHighsInf is float("inf")); integrality 0 = continuous,
    # 1 = integer (the investment model's build decisions and modules)
    return h.passModel(
        int(lp.n_cols), int(lp.n_rows), int(lp.nnz), int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize), float(lp.offset),
        np.ascontiguousarray(lp.col_cost, dtype=float), np.ascontiguousarray(lp.col_lower, dtype=float), np.ascontiguousarray(lp.col_upper, dtype=float),
        np.ascontiguousarray(lp.row_lower, dtype=float), np.ascontiguousarray(lp.row_upper, dtype=float),
        np.ascontiguousarray(lp.a_start[: lp.n_cols], dtype=np.int32), np.ascontiguousarray(lp.a_index, dtype=np.int32), np.ascontiguousarray(lp.a_value, dtype=float),
        _integrality(lp),
    )


class Session:
    """One HiGHS instance holding one assembled LP: solve, change numbers, re-solve warm.

    The only place (with :func:`solve_model`) where flowopt talks to HiGHS. Not thread-safe:
    one session per thread. Changes (costs, bounds, coefficients) are applied to HiGHS and to
    the session's copy of the LP (``self.lp``), so both always describe the same problem.

    Args:
        lp: the assembled LP (copied; the caller's arrays are never changed).
        options: solver settings.
        mip_rel_gap: for a mixed-integer program, the relative gap at which HiGHS stops and
            calls its plan optimal (HiGHS's ``mip_rel_gap``; default 1e-4); ignored for an LP.
    """

    def __init__(self, lp: Any, options: SolveOptions | None = None, *, mip_rel_gap: float = 1e-4) -> None:
        self.options = options or SolveOptions()
        self.lp = lp.copy()
        self.h = new_highs(self.options)
        self.is_mip = bool(getattr(lp, "is_mip", False))
        choice = self.options.solver
        if not self.is_mip and (choice == "ipm" or (choice == "choose" and lp.n_cols > IPM_ABOVE_COLS)):
            self.h.setOptionValue("solver", "ipm")
            self.h.setOptionValue("run_crossover", "on")
        if self.is_mip:
            self.h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
            # an absolute gap of 0: the relative gap alone decides (HiGHS's default 1e-6 CNY is
            # meaningless next to objectives of millions, but would stop a tiny test instance early)
            self.h.setOptionValue("mip_abs_gap", 0.0)
        self.mip_rel_gap = float(mip_rel_gap)
        self.accepted = _pass_lp(self.h, self.lp) != highspy.HighsStatus.kError
        self._keys: np.ndarray | None = None

    # -- solving --------------------------------------------------------------------------

    def solve(self) -> SolveOutcome:
        """Run HiGHS (warm from the current basis, if any) and read the outcome."""
        if not self.accepted:
            return SolveOutcome(SolveStatus.error, "HiGHS rejected the model (check for huge or non-finite coefficients)", self.lp, session=self)
        h = self.h
        start = time.perf_counter()
        status = h.run()
        if status == highspy.HighsStatus.kError and h.getModelStatus() == highspy.HighsModelStatus.kNotset:
            # another HiGHS user in this process started the global thread scheduler with a
            # different thread count: HiGHS refuses to run until it is reset
            highspy.Highs.resetGlobalScheduler(True)
            h.run()
        model_status = h.getModelStatus()
        result = _STATUS.get(model_status, SolveStatus.error)
        if result == SolveStatus.infeasible_or_unbounded:
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            h.run()
            h.setOptionValue("presolve", "choose")
            model_status = h.getModelStatus()
            result = _STATUS.get(model_status, SolveStatus.error)
        info = h.getInfo()
        iterations = int(info.simplex_iteration_count)  # HiGHS counts per run
        out = SolveOutcome(result, h.modelStatusToString(model_status), self.lp, runtime_s=time.perf_counter() - start, iterations=iterations, session=self)
        if self.is_mip:
            return self._mip_outcome(out, info)
        if result != SolveStatus.optimal:
            return out
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            out.status, out.message = SolveStatus.error, "HiGHS reported optimal without a feasible primal solution"
            return out
        objective = float(info.objective_function_value)
        if not math.isfinite(objective):
            out.status, out.message = SolveStatus.error, "HiGHS returned a non-finite objective"
            return out
        sol = h.getSolution()
        out.objective = objective
        out.x = np.asarray(sol.col_value, dtype=float)
        out.col_dual = np.asarray(sol.col_dual, dtype=float)
        out.row_dual = np.asarray(sol.row_dual, dtype=float)
        return out

    def _mip_outcome(self, out: SolveOutcome, info: Any) -> SolveOutcome:
        """Complete a mixed-integer outcome: the incumbent, its gap and bound (no duals).

        ``optimal`` means within ``mip_rel_gap``; a limit that stopped HiGHS with an incumbent
        gives ``feasible``; without an incumbent the limit's own status stays.
        """
        out.nodes = int(getattr(info, "mip_node_count", 0) or 0)
        has_incumbent = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if out.status not in (SolveStatus.optimal, SolveStatus.time_limit, SolveStatus.iteration_limit) and not (out.status == SolveStatus.error and has_incumbent):
            return out
        if not has_incumbent:
            if out.status == SolveStatus.optimal:
                out.status, out.message = SolveStatus.error, "HiGHS reported optimal without a feasible primal solution"
            return out
        objective = float(info.objective_function_value)
        if not math.isfinite(objective):
            out.status, out.message = SolveStatus.error, "HiGHS returned a non-finite objective"
            return out
        if out.status != SolveStatus.optimal:
            out.status = SolveStatus.feasible
        bound = float(info.mip_dual_bound)
        out.mip_bound = bound if math.isfinite(bound) else None
        gap = float(info.mip_gap)
        out.mip_gap = max(0.0, gap) if math.isfinite(gap) else None
        out.objective = objective
        out.x = np.asarray(self.h.getSolution().col_value, dtype=float)
        return out

    def set_col_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Set the bounds of columns ``cols`` (a build decision fixed at 0 or 1, say)."""
        cols = np.asarray(cols, dtype=np.int32)
        lower = np.asarray(lower, dtype=float)
        upper = np.asarray(upper, dtype=float)
        if len(cols):
            self.h.changeColsBounds(len(cols), cols, lower, upper)
            self.lp.col_lower[cols] = lower
            self.lp.col_upper[cols] = upper

    def basis_still_optimal(self) -> bool:
        """Re-solve from the current basis; True when it stays optimal without a pivot."""
        out = self.solve()
        return out.ok and out.iterations == 0

    # -- changing numbers -----------------------------------------------------------------

    def set_costs(self, cols: np.ndarray, values: np.ndarray) -> None:
        """Set the costs of columns ``cols``."""
        cols = np.asarray(cols, dtype=np.int32)
        values = np.asarray(values, dtype=float)
        if len(cols):
            self.h.changeColsCost(len(cols), cols, values)
            self.lp.col_cost[cols] = values

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Set the bounds of rows ``rows`` (``±inf`` for one-sided rows)."""
        rows = np.asarray(rows, dtype=np.int32)
        lower = np.asarray(lower, dtype=float)
        upper = np.asarray(upper, dtype=float)
        if len(rows):
            self.h.changeRowsBounds(len(rows), rows, lower, upper)
            self.lp.row_lower[rows] = lower
            self.lp.row_upper[rows] = upper

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Set matrix entries ``A[rows[i], cols[i]] = values[i]`` (missing entries are added)."""
        lp = self.lp
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        values = np.asarray(values, dtype=float)
        for i, j, v in zip(rows.tolist(), cols.tolist(), values.tolist(), strict=True):
            self.h.changeCoeff(i, j, v)
        if self._keys is None:
            # one sorted key per stored entry (column-major, as CSC stores them)
            self._keys = np.repeat(np.arange(lp.n_cols, dtype=np.int64), np.diff(lp.a_start)) * max(lp.n_rows, 1) + lp.a_index
        want = cols * max(lp.n_rows, 1) + rows
        pos = np.searchsorted(self._keys, want)
        found = (pos < len(self._keys)) & (self._keys[np.minimum(pos, len(self._keys) - 1)] == want) if len(self._keys) else np.zeros(len(want), dtype=bool)
        lp.a_value[pos[found]] = values[found]
        missing = np.flatnonzero(~found)
        for m in missing.tolist():
            # an entry that was 0 when assembled: insert it so the copy matches HiGHS
            i, j = int(rows[m]), int(cols[m])
            lo, hi = int(lp.a_start[j]), int(lp.a_start[j + 1])
            p = lo + int(np.searchsorted(lp.a_index[lo:hi], i))
            lp.a_index = np.insert(lp.a_index, p, np.int32(i))
            lp.a_value = np.insert(lp.a_value, p, float(values[m]))
            lp.a_start[j + 1 :] += 1
        if len(missing):
            self._keys = None

    def adopt(self, lp: Any) -> None:
        """Take ``lp``'s network, cost terms and forms after its numbers were written in.

        Called by what-ifs once every differing number of ``lp`` is in the live model, so
        explanations read the what-if's scenario while HiGHS keeps its basis.
        """
        self.lp.network, self.lp.terms, self.lp.forms, self.lp.constants = lp.network, dict(lp.terms), dict(lp.forms), dict(lp.constants)

    # -- bases, ranging, copies -----------------------------------------------------------

    def basis(self) -> Any:
        """The current basis (opaque; give it back to :meth:`set_basis`)."""
        return self.h.getBasis()

    def set_basis(self, basis: Any) -> None:
        """Start the next solve from ``basis``."""
        self.h.setBasis(basis)

    def ranging(self) -> Ranging | None:
        """Ranges of the current optimal basis, or ``None`` when HiGHS cannot give them."""
        status, r = self.h.getRanging()
        if status != highspy.HighsStatus.kOk:
            return None
        return Ranging(np.asarray(r.row_bound_dn.value_, dtype=float), np.asarray(r.row_bound_up.value_, dtype=float), np.asarray(r.col_cost_dn.value_, dtype=float), np.asarray(r.col_cost_up.value_, dtype=float))

    def clone(self) -> Session:
        """A new session on a copy of this LP, starting from this session's basis."""
        other = Session(self.lp, self.options, mip_rel_gap=self.mip_rel_gap)
        if not self.is_mip and self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            other.set_basis(self.basis())
        return other

    def add_columns(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, starts: np.ndarray, index: np.ndarray, value: np.ndarray) -> int:
        """Append columns (CSC ``starts``/``index``/``value``); return the first new column.

        The session's ``lp`` copy is not extended: added columns are scratch (elastic
        relaxations, ratio objectives) and are read through the outcome's ``x``.
        """
        first = int(self.h.getNumCol())
        self.h.addCols(len(cost), np.asarray(cost, dtype=float), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), len(value), np.asarray(starts, dtype=np.int32), np.asarray(index, dtype=np.int32), np.asarray(value, dtype=float))
        return first

    def add_row(self, lower: float, upper: float, cols: np.ndarray, values: np.ndarray) -> int:
        """Append one row; return its index (scratch, like :meth:`add_columns`)."""
        first = int(self.h.getNumRow())
        self.h.addRow(float(lower), float(upper), len(cols), np.asarray(cols, dtype=np.int32), np.asarray(values, dtype=float))
        return first

    def all_costs(self, cost: np.ndarray) -> None:
        """Replace the whole cost vector of the HiGHS model (scratch objectives; ``lp`` unchanged)."""
        n = int(self.h.getNumCol())
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))

    def solution(self) -> np.ndarray:
        """Column values of the last solve, scratch columns included."""
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    # -- the optimal basis, for exact parametric analysis (flowopt.sensitivity) -----------

    def basis_view(self) -> BasisView:
        """The current (optimal) basis as arrays, with solves against its factorization.

        Conventions (HiGHS's): the basis matrix B holds the columns of A for basic structural
        variables and the unit column e_i for a basic row (its logical variable is minus the
        row's activity); row duals y solve Bᵀy = c_B and reduced costs are d = c − Aᵀy.
        """
        h = self.h
        status, basic_list = h.getBasicVariables()
        basic = np.asarray(basic_list, dtype=np.int64)
        if status == highspy.HighsStatus.kError:
            msg = "HiGHS has no basis to analyse (solve to optimality first)"
            raise SolverFailure(msg)
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        r = np.asarray(sol.row_value, dtype=float)
        lp = self.lp
        basic_cols = basic[basic >= 0]
        basic_rows = -1 - basic[basic < 0]

        def codes(value: np.ndarray, lower: np.ndarray, upper: np.ndarray, basics: np.ndarray) -> np.ndarray:
            # 0 basic, 1 at its lower bound, 2 at its upper bound, 3 other (free nonbasic);
            # read from the values (HiGHS's per-variable status list is slow to convert)
            with np.errstate(invalid="ignore"):  # inf − inf on free sides: never "at" them
                at_lower = np.isfinite(lower) & (value <= lower + 1e-9 * np.maximum(1.0, np.abs(lower)))
                at_upper = np.isfinite(upper) & (value >= upper - 1e-9 * np.maximum(1.0, np.abs(upper)))
            out = np.where(at_lower, 1, np.where(at_upper, 2, 3)).astype(np.int8)
            out[np.isfinite(lower) & np.isfinite(upper) & (lower == upper)] = 1
            out[basics] = 0
            return out

        basic = np.asarray(basic, dtype=np.int64)
        col_status = codes(x, lp.col_lower[: len(x)], lp.col_upper[: len(x)], basic_cols) if len(x) == lp.n_cols else np.zeros(0, dtype=np.int8)
        row_status = codes(r, lp.row_lower[: len(r)], lp.row_upper[: len(r)], basic_rows) if len(r) == lp.n_rows else np.zeros(0, dtype=np.int8)
        return BasisView(
            session=self,
            basic=basic,
            col_status=col_status,
            row_status=row_status,
            x=x,
            row_activity=r,
            col_dual=np.asarray(sol.col_dual, dtype=float),
            row_dual=np.asarray(sol.row_dual, dtype=float),
        )

    def ftran(self, rhs: np.ndarray) -> np.ndarray:
        """Solve B z = rhs with the current basis."""
        status, z = self.h.getBasisSolve(np.ascontiguousarray(rhs, dtype=float))
        if status == highspy.HighsStatus.kError:
            msg = "HiGHS could not solve with the basis"
            raise SolverFailure(msg)
        return np.asarray(z, dtype=float)

    def btran(self, rhs: np.ndarray) -> np.ndarray:
        """Solve Bᵀ z = rhs with the current basis."""
        status, z = self.h.getBasisTransposeSolve(np.ascontiguousarray(rhs, dtype=float))
        if status == highspy.HighsStatus.kError:
            msg = "HiGHS could not solve with the transposed basis"
            raise SolverFailure(msg)
        return np.asarray(z, dtype=float)

    def iis(self, strategy: int = 4) -> IisResult:
        """An irreducible infeasible subset of the LP (HiGHS ``getIis`` with ``iis_strategy``)."""
        h = self.h
        h.setOptionValue("iis_strategy", strategy)
        try:
            status, iis = h.getIis()
        except Exception as exc:  # highspy raises plain exceptions on internal errors
            return IisResult("error", message=f"HiGHS could not compute the subset: {exc}")
        if status != highspy.HighsStatus.kOk or not iis.valid_:
            return IisResult("none", message="HiGHS found no irreducible infeasible subset")
        return IisResult("found", [int(i) for i in iis.row_index_], [int(j) for j in iis.col_index_], "")


def _iis_in_this_process(lp: Any, options: SolveOptions, strategies: tuple[int, ...]) -> IisResult:
    """The IIS of ``lp`` (the first strategy that finds one), computed here."""
    session = Session(lp, options)
    if session.solve().status != SolveStatus.infeasible:
        return IisResult("none", message="the LP is not infeasible")
    found = IisResult("none", message="HiGHS found no irreducible infeasible subset")
    for strategy in strategies:
        found = session.iis(strategy)
        if found.status == "found" and found.rows:
            break
    return found


def iis_within(lp: Any, seconds: float, options: SolveOptions | None = None, strategies: tuple[int, ...] = (4, 2)) -> IisResult:
    """An irreducible infeasible subset of ``lp``, or ``timeout`` after ``seconds`` of wall clock.

    HiGHS's IIS search does not watch its time limit and cannot be interrupted from Python, so
    it runs in a forked child process (which shares the LP without copying or re-importing
    anything) that is killed when the time is up. ``os.fork`` is used directly rather than
    ``multiprocessing``, which refuses children of daemon processes such as the API's solver
    workers and Dask's. Where there is no ``fork`` the search runs here, unbounded.

    Args:
        lp: the infeasible LP.
        seconds: the wall-clock budget.
        options: solver settings for the child's solves.
        strategies: HiGHS ``iis_strategy`` values tried in order.

    Returns:
        The subset (``found``), ``none``, ``timeout`` or ``error``, with a message.
    """
    import pickle
    import select
    import signal

    options = options or SolveOptions()
    if not hasattr(os, "fork"):
        return _iis_in_this_process(lp, options, strategies)
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        return IisResult("error", message=f"could not start the search: {exc}")
    if pid == 0:  # the child: compute, send, leave without running the parent's cleanup
        code = 0
        try:
            os.close(read_fd)
            found = _iis_in_this_process(lp, options, strategies)
            data = pickle.dumps((found.status, found.rows, found.cols, found.message))
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + max(0.0, seconds)
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return IisResult("timeout", message=f"the search for conflicting limits did not finish within {seconds:g} s and was stopped")
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        if not chunks:
            return IisResult("error", message="the search for conflicting limits ended without an answer")
        status, rows, cols, message = pickle.loads(b"".join(chunks))
        return IisResult(status, list(rows), list(cols), message)
    finally:
        os.close(read_fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def export_name(name: str) -> str:
    """A row or column name made safe for MPS and LP files.

    ``flow_t['gen:W01',R01]`` becomes ``flow_t(gen.W01,R01)``: quotes dropped, ``:`` read as
    ``.``, brackets as parentheses (the LP format does not allow brackets), blanks as ``_``.
    """
    table = str.maketrans({":": ".", "[": "(", "]": ")", "'": None, '"': None, "\\": None, " ": "_", "\t": "_"})
    return name.translate(table)


def write_lp(lp: Any, path: str | os.PathLike[str], options: SolveOptions | None = None) -> None:
    """Write an assembled LP as ``.mps`` or ``.lp`` (by suffix), with readable names.

    Args:
        lp: the assembled LP (as flowopt solves it).
        path: target file; its suffix chooses the format.
        options: solver settings (only HiGHS's quiet output matters here).

    Raises:
        OSError: when HiGHS cannot write the file.
    """
    h = new_highs(options or SolveOptions())
    if _pass_lp(h, lp) == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the model (check for huge or non-finite coefficients)"
        raise OSError(msg)
    for j, name in enumerate(lp.column_names()):
        h.passColName(j, export_name(name))
    for i, name in enumerate(lp.row_names()):
        h.passRowName(i, export_name(name))
    if h.writeModel(str(path)) == highspy.HighsStatus.kError:
        msg = f"HiGHS could not write {path}"
        raise OSError(msg)


def maximize_ratio_lp(session: Session, numerator: Any, extra: Any, constant: float, max_iter: int = 30) -> tuple[float, SolveOutcome]:
    """Maximize ``N(x) / (constant + E(x))`` over a session's constraints (Dinkelbach).

    The session's objective is replaced by ``-(N - q E)`` at each step; call on a session of
    its own (its costs are scratch afterwards).

    Args:
        session: a session on the LP whose constraints bound x (its objective is ignored).
        numerator: linear form N (:class:`~flowopt.formulation.lp.SparseVector`).
        extra: linear form E.
        constant: the denominator's constant part (> 0).
        max_iter: safety bound on steps.

    Returns:
        The maximum ratio (``nan`` when a step is not optimal) and the last step's outcome.
    """
    n = int(session.h.getNumCol())
    n_vec = numerator.dense(n)
    e_vec = extra.dense(n)
    q = 0.0
    out = SolveOutcome(SolveStatus.error, "not solved", session.lp)
    for _ in range(max_iter):
        session.all_costs(-(n_vec - q * e_vec))
        out = session.solve()
        if not out.ok:
            return math.nan, out
        num = float(n_vec @ out.x)
        den = float(constant + e_vec @ out.x)
        new_q = num / den if den > 0 else 0.0
        if abs(new_q - q) <= 1e-10:
            return new_q, out
        q = new_q
    return q, out
