"""What-ifs: keep the LP and HiGHS alive, change numbers, re-solve warm.

Stage: (base ``Scenario``, what-if ``Scenario``) -> ``Plan``, without rebuilding when only numbers
changed. A :class:`WhatIfSession` assembles the base once and keeps one gateway
:class:`~flowopt.solve.Session`. For a what-if it assembles the what-if's LP (from arrays: cheap)
and compares its *layout* with the live one: the same rows and columns, family by family and key
by key. When equal, every number that differs — column costs, row bounds, matrix entries
(quality and share limits and the target sit there) — is written into the live LP and HiGHS
re-solves from the previous optimal basis. Nothing is mirrored by hand: the numbers come from the
same registry that assembles the LP, so a new constraint family is covered the day it is added.
When the layout differs (a project added or removed, a stream's generation set to 0) the what-if
is solved on its own, and says so.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from flowopt.diagnosis import max_reachable_rate
from flowopt.formulation import AssembledLP, assemble
from flowopt.graph import build_graph
from flowopt.pipeline import StageTimes, plan_from_outcome
from flowopt.results import Plan
from flowopt.schema import Scenario
from flowopt.solve import Session, SolveOptions, SolveOutcome


def layout(lp: AssembledLP) -> tuple[Any, ...]:
    """Everything about an LP that a warm update cannot change: its families and their keys."""
    return (tuple((f, tuple(b.keys)) for f, b in lp.cols.items()), tuple((f, tuple(b.keys)) for f, b in lp.rows.items()))


def _entries(lp: AssembledLP) -> tuple[np.ndarray, np.ndarray]:
    """Sorted entry keys (column-major) and values of an LP's matrix."""
    cols = np.repeat(np.arange(lp.n_cols, dtype=np.int64), np.diff(lp.a_start))
    return cols * max(lp.n_rows, 1) + lp.a_index, lp.a_value


def write_numbers(session: Session, new: AssembledLP) -> tuple[int, int, int]:
    """Write every number of ``new`` that differs into the session (same layout required).

    Returns:
        How many costs, row bounds and matrix entries changed.
    """
    old = session.lp
    cols = np.flatnonzero(new.col_cost != old.col_cost)
    session.set_costs(cols, new.col_cost[cols])
    rows = np.flatnonzero((new.row_lower != old.row_lower) | (new.row_upper != old.row_upper))
    session.set_row_bounds(rows, new.row_lower[rows], new.row_upper[rows])
    k_old, v_old = _entries(old)
    k_new, v_new = _entries(new)
    n_rows = max(new.n_rows, 1)
    # entries of the new LP that are missing or different in the live one, and live entries
    # the new LP no longer has (a coefficient that became exactly 0)
    pos = np.searchsorted(k_old, k_new)
    inside = pos < len(k_old)
    same_key = np.zeros(len(k_new), dtype=bool)
    same_key[inside] = k_old[pos[inside]] == k_new[inside]
    changed = ~same_key
    changed[same_key] = v_old[pos[same_key]] != v_new[same_key]
    gone = ~np.isin(k_old, k_new)
    keys = np.concatenate([k_new[changed], k_old[gone & (v_old != 0)]])
    values = np.concatenate([v_new[changed], np.zeros(int((gone & (v_old != 0)).sum()))])
    if len(keys):
        session.set_coefficients(keys % n_rows, keys // n_rows, values)
    session.adopt(new)
    return len(cols), len(rows), len(keys)


def rate_key(lp: AssembledLP) -> bytes:
    """A digest of everything in ``lp`` the highest reachable rate depends on.

    That rate maximizes the rate over the LP without its target row, costs ignored: so the
    digest covers column bounds, every other row's bounds and coefficients, the rate's
    numerator and extra-denominator forms and the generation; not costs, not the target
    row (whose coefficients hold the target). Two LPs with the same digest have the same
    highest reachable rate.
    """
    keep_rows = np.ones(lp.n_rows, dtype=bool)
    target = lp.rows.get("target")
    if target is not None:
        keep_rows[target.slice] = False
    cols = np.repeat(np.arange(lp.n_cols, dtype=np.int64), np.diff(lp.a_start))
    keep = keep_rows[lp.a_index]
    h = hashlib.blake2b(digest_size=20)
    parts = [lp.col_lower, lp.col_upper, np.flatnonzero(keep_rows), lp.row_lower[keep_rows], lp.row_upper[keep_rows], cols[keep], lp.a_index[keep], lp.a_value[keep], np.array([lp.constants.get("generation_t", 0.0)])]
    for name in ("rate_numerator", "rate_extra_denominator"):
        form = lp.forms.get(name)
        parts += [form.index, form.coef] if form is not None else [np.zeros(0)]
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes())
        h.update(b"|")  # so that arrays of different lengths cannot run into each other
    return h.digest()


@dataclass
class WhatIfStats:
    """How the last solve of a session went."""

    warm: bool
    """True when the live LP was updated in place and re-solved from the previous basis."""
    seconds: float
    """Wall time of the update and solve (plan building and explanation excluded)."""
    simplex_iterations: int
    changed_costs: int
    changed_rows: int
    changed_coefficients: int


class WhatIfSession:
    """A base scenario kept solved, for fast what-ifs that change numbers.

    Not thread-safe: one session per thread or process.
    """

    def __init__(self, base: Scenario, options: SolveOptions | None = None) -> None:
        self.options = options or SolveOptions()
        self.stats: WhatIfStats | None = None
        #: highest reachable rate by :func:`rate_key`: a what-if that moves only costs or the
        #: target (the viewer's target slider) does not change it, and it costs a few solves
        self._rates: OrderedDict[bytes, float] = OrderedDict()
        self._rebuild(base)

    def _rebuild(self, scenario: Scenario) -> SolveOutcome:
        start = time.perf_counter()
        g = build_graph(scenario)
        lp = assemble(g)
        session = Session(lp, self.options)
        outcome = session.solve()
        self.g, self.session, self.outcome = g, session, outcome
        self.layout = layout(lp)
        self.stats = WhatIfStats(False, time.perf_counter() - start, outcome.iterations, 0, 0, 0)
        return outcome

    def base_plan(self, *, explain: bool = True) -> Plan:
        """The plan of the scenario the session holds (solved already)."""
        return plan_from_outcome(self.g, self.outcome, options=self.options, explain=explain)

    def _cold(self, g: Any, lp: AssembledLP, start: float, times: StageTimes, explain: bool) -> Plan:
        # a different network: solve it on its own and keep the session's LP for the next
        # what-if (in a batch most what-ifs are numeric changes of the same base)
        outcome = Session(lp, self.options).solve()
        self.stats = WhatIfStats(False, time.perf_counter() - start, outcome.iterations, 0, 0, 0)
        times.mark("rebuild", start)
        return plan_from_outcome(g, outcome, options=self.options, times=times, explain=explain)

    def solve(self, scenario: Scenario, *, explain: bool = True, times: StageTimes | None = None) -> Plan:
        """Solve ``scenario``: warm when its LP has the session's layout, else cold.

        After a warm solve the session holds ``scenario`` (the next what-if starts from its
        basis); a what-if with another layout is solved on its own and leaves the session
        as it was.

        Args:
            scenario: the what-if scenario (validated).
            explain: as in :func:`flowopt.pipeline.run`.
            times: filled with seconds per stage.

        Returns:
            The audited plan; ``self.stats`` says whether the solve was warm.

        Raises:
            InfeasibleError, SolveError, AuditError: as :func:`flowopt.pipeline.run`.
        """
        times = times or StageTimes()
        start = time.perf_counter()
        g = build_graph(scenario)
        lp = assemble(g)
        if layout(lp) != self.layout:
            return self._cold(g, lp, start, times, explain)
        costs, rows, entries = write_numbers(self.session, lp)
        outcome = self.session.solve()
        self.g, self.outcome = g, outcome
        self.stats = WhatIfStats(True, time.perf_counter() - start, outcome.iterations, costs, rows, entries)
        times.mark("warm_solve", start)
        return plan_from_outcome(g, outcome, options=self.options, times=times, explain=explain, max_rate=lambda: self._max_rate(lp, g))

    def _max_rate(self, lp: AssembledLP, g: Any) -> float | None:
        """The highest reachable rate of ``lp``'s scenario, from the last 16 computed if known."""
        key = rate_key(lp)
        known = self._rates.get(key)
        if known is not None:
            self._rates.move_to_end(key)
            return known
        rate = max_reachable_rate(lp.network or g, self.options)
        if rate is not None:  # None may be a time limit: not kept
            self._rates[key] = rate
            while len(self._rates) > 16:
                self._rates.popitem(last=False)
        return rate


@dataclass
class WhatIfResult:
    """A base plan, a what-if plan, their comparison and how the what-if was solved."""

    base: Plan
    whatif: Plan
    comparison: Any
    stats: WhatIfStats


def run_whatif(base: Scenario, whatif: Scenario, *, options: SolveOptions | None = None, explain: bool = True) -> WhatIfResult:
    """Solve a base scenario and a what-if of it (warm when only numbers changed) and compare.

    Args:
        base: the base scenario.
        whatif: the what-if scenario (e.g. from :func:`flowopt.overrides.apply_overrides`).
        options: solver settings.
        explain: as in :func:`flowopt.pipeline.run`.

    Returns:
        Both plans, the comparison and the what-if's solve statistics.

    Raises:
        InfeasibleError: for the base or the what-if (``exc.diagnosis`` says which target).
    """
    from flowopt.compare import compare_plans

    session = WhatIfSession(base, options)
    base_plan = session.base_plan(explain=explain)
    whatif_plan = session.solve(whatif, explain=explain)
    assert session.stats is not None
    return WhatIfResult(base_plan, whatif_plan, compare_plans(base_plan, whatif_plan), session.stats)
