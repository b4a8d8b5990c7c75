"""What-ifs: keep the model and HiGHS alive, change numbers, re-solve warm.

Stage: (base ``Scenario``, what-if ``Scenario``) -> ``Plan``, without rebuilding when only numbers
changed. A :class:`WhatIfSession` builds the base once (graph, Pyomo model, compiled LP, one
``Highs`` instance). For a what-if it builds the new material graph (cheap) and compares its
*structure* with the session's: the same lots, arcs, constrained sets and yields. When equal,
the new numbers go straight into the live LP — column costs, row bounds and the coefficients
that hold limits (quality, feed shares, the target) — and HiGHS re-solves from the previous
optimal basis. When the structure differs (a project added or removed, a yield changed) the
session rebuilds, and says so.

Which numbers can move without a rebuild: capacities, minimum intakes (while above 0),
reclaim limits and stocks, generation (while above 0), processing costs, revenues, fees,
reclaim costs, taxes and penalties, the tariff and distances, quality limits, feed shares,
the target and route capacities. A test checks that the updated LP equals a freshly compiled
one for such changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

from flowopt.graph import MaterialGraph, build_graph
from flowopt.model import build_model, generation_total_t, rate_extra_denominator, rate_numerator
from flowopt.pipeline import StageTimes, plan_from_outcome
from flowopt.results import Plan
from flowopt.schema import Scenario
from flowopt.solve import (
    SolveOptions,
    SolveOutcome,
    compile_model,
    linear_coefficients,
    new_highs,
    run_highs,
)

_INF = highspy.kHighsInf


def _structure(g: MaterialGraph) -> tuple[Any, ...]:
    """Everything about a graph that fixes the LP's shape (not its numbers)."""
    s = g.scenario
    return (
        tuple(g.lots),
        tuple(a.key for a in g.arcs),
        tuple((a.key, a.routes) for a in g.arcs if a.routes),
        tuple(g.project_origins),
        tuple(sorted((p.id, p.product_fraction, p.loss_fraction, p.counts_as.value, p.min_intake_t > 0) for p in s.projects)),
        tuple(sorted((d.id, d.counts_as.value, d.capacity_t is not None) for d in s.sinks)),
        tuple(sorted((r.project, r.stream, r.fraction) for r in s.residues)),
        tuple(sorted((q.project, q.component, q.min_fraction is not None, q.max_fraction is not None) for q in s.quality)),
        tuple(sorted((a.outlet, a.stream, a.max_share < 1) for a in s.accepts)),
        tuple(sorted((r.id, r.capacity_t is not None, r.prohibited) for r in s.routes)),
        tuple(sorted(k.id for k in s.stockpiles if min(k.max_reclaim_t, k.stock_t) > 0)),
        s.policy.rate_mode.value,
        s.policy.count_losses_as_utilized,
    )


@dataclass
class LPNumbers:
    """The numbers of the LP for one scenario on a fixed structure."""

    col_cost: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    coefficients: dict[tuple[int, int], float]
    """(row, column) -> value for the entries that hold limits (quality, share, target)."""
    needs_rebuild: bool = False
    """A limit row the compiler had dropped (all coefficients 0) has become non-trivial."""


class _Layout:
    """Column and row positions of the model's components, found once per structure."""

    def __init__(self, g: MaterialGraph, m: pyo.ConcreteModel, col: dict[str, int], row: dict[str, int]) -> None:
        self.arc_col = [col[m.flow_t[a.key].name] for a in g.arcs]
        self.unmanaged_col = {lid: col[m.unmanaged_t[lid].name] for lid in m.UNMANAGED_LOTS if m.unmanaged_t[lid].name in col}
        self.reclaim_col = {k: col[m.reclaim_t[k].name] for k in m.STOCKPILES if m.reclaim_t[k].name in col}
        def rows(component: Any, keys: Any) -> dict[Any, int]:
            # the compiler drops rows whose body has no variable left (e.g. every coefficient
            # of a quality row is 0): those limits are kept aside in ``absent``
            out = {}
            for k in keys:
                name = component[k].name
                if name in row:
                    out[k] = row[name]
                else:
                    self.absent.add((component.local_name, k))
            return out

        self.absent: set[tuple[str, Any]] = set()
        self.lot_row = rows(m.lot_balance, m.LOTS)
        self.cap_row = rows(m.project_capacity, m.PROJECTS)
        self.min_row = rows(m.project_min_intake, m.MIN_INTAKE_PROJECTS)
        self.sink_row = rows(m.sink_capacity, m.CAPPED_SINKS)
        self.route_row = rows(m.route_capacity, m.CAPPED_ROUTES)
        self.reclaim_row = rows(m.stock_reclaim_limit, m.STOCKPILES)
        self.qmax_row = rows(m.quality_max, m.QUALITY_MAX)
        self.qmin_row = rows(m.quality_min, m.QUALITY_MIN)
        self.share_row = rows(m.feed_share, m.SHARE_LIMITS)
        self.target_row = row.get(m.target.name) if hasattr(m, "target") else None
        cols = list(col)
        variables = [None] * len(cols)
        for v in m.component_data_objects(pyo.Var):
            if v.name in col:
                variables[col[v.name]] = v
        self.n_vec, _ = linear_coefficients(rate_numerator(m, g), variables)
        self.e_vec, _ = linear_coefficients(rate_extra_denominator(m, g), variables)
        self.target_cols = [j for j in range(len(cols)) if self.n_vec[j] or self.e_vec[j]]


def lp_numbers(g: MaterialGraph, layout: _Layout, n_cols: int, n_rows: int, base: LPNumbers | None = None) -> LPNumbers:
    """Compute the LP's numbers for scenario ``g.scenario`` on a fixed layout.

    Mirrors :mod:`flowopt.model` term by term (a test compares the result with a fresh
    compile); rows not listed here keep the bounds of ``base``.
    """
    s = g.scenario
    cost = np.zeros(n_cols)
    for a, j in zip(g.arcs, layout.arc_col, strict=True):
        c = a.transport_cny_per_t
        if a.outlet in g.projects:
            p = g.projects[a.outlet]
            c += p.processing_cost_cny_per_t - p.revenue_cny_per_t
        else:
            c += g.sinks[a.outlet].fee_cny_per_t
        cost[j] = c
    category = {x.id: x.category for x in s.streams}
    tax = s.policy.environmental_tax_cny_per_t
    for lid, j in layout.unmanaged_col.items():
        cost[j] = tax.rate(category[g.lots[lid].stream]) + s.policy.unmanaged_penalty_cny_per_t
    rc = {k.id: k.reclaim_cost_cny_per_t for k in s.stockpiles}
    for k, j in layout.reclaim_col.items():
        cost[j] = rc[k]
    lower = base.row_lower.copy() if base is not None else np.full(n_rows, -_INF)
    upper = base.row_upper.copy() if base is not None else np.full(n_rows, _INF)
    gen = {x.id: x.generation_t for x in s.streams}
    for lid, i in layout.lot_row.items():
        lot = g.lots[lid]
        lower[i] = upper[i] = gen[lot.stream] if lot.kind == "generation" else 0.0
    for p, i in layout.cap_row.items():
        lower[i], upper[i] = -_INF, g.projects[p].capacity_t
    for p, i in layout.min_row.items():
        lower[i], upper[i] = g.projects[p].min_intake_t, _INF
    for d, i in layout.sink_row.items():
        lower[i], upper[i] = -_INF, float(g.sinks[d].capacity_t or 0.0)
    routes = {r.id: r for r in s.routes}
    for r, i in layout.route_row.items():
        lower[i], upper[i] = -_INF, float(routes[r].capacity_t or 0.0)
    stock = {k.id: min(k.max_reclaim_t, k.stock_t) for k in s.stockpiles}
    for k, i in layout.reclaim_row.items():
        lower[i], upper[i] = -_INF, stock[k]
    coef: dict[tuple[int, int], float] = {}
    comp = {(c.stream, c.component): c.fraction for c in s.composition}
    qmax = {(q.project, q.component): q.max_fraction for q in s.quality}
    qmin = {(q.project, q.component): q.min_fraction for q in s.quality}
    arc_col = {a.key: j for a, j in zip(g.arcs, layout.arc_col, strict=True)}
    for rows, limits in ((layout.qmax_row, qmax), (layout.qmin_row, qmin)):
        for (p, k), i in rows.items():
            q = float(limits[(p, k)] or 0.0)
            for a in g.arcs_into(p):
                coef[(i, arc_col[a.key])] = comp[(g.lots[a.lot].stream, k)] - q
    needs_rebuild = False
    for family, key in layout.absent:
        if family in ("quality_max", "quality_min"):
            p, k = key
            q = float((qmax if family == "quality_max" else qmin)[(p, k)] or 0.0)
            needs_rebuild |= any(comp[(g.lots[a.lot].stream, k)] != q for a in g.arcs_into(p))
        elif family == "feed_share":
            needs_rebuild = True  # a share row always has variables; be safe
    share = {(a.outlet, a.stream): a.max_share for a in s.accepts}
    for (o, st), i in layout.share_row.items():
        sigma = share[(o, st)]
        for a in g.arcs_into(o):
            coef[(i, arc_col[a.key])] = (1.0 if g.lots[a.lot].stream == st else 0.0) - sigma
    if layout.target_row is not None:
        t = s.policy.target_rate
        for j in layout.target_cols:
            coef[(layout.target_row, j)] = float(layout.n_vec[j] - t * layout.e_vec[j])
        lower[layout.target_row], upper[layout.target_row] = t * generation_total_t(g), _INF
    return LPNumbers(cost, lower, upper, coef, needs_rebuild)


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
        self._rebuild(base)

    def _rebuild(self, scenario: Scenario) -> SolveOutcome:
        start = time.perf_counter()
        g = build_graph(scenario)
        m = build_model(g)
        compiled = compile_model(m)
        h = new_highs(self.options)
        h.passModel(compiled.lp)
        outcome = run_highs(h, compiled)
        self.g, self.m, self.compiled, self.h = g, m, compiled, h
        self.layout = _Layout(g, m, compiled.column_index, compiled.row_index)
        self.structure = _structure(g)
        self.numbers = lp_numbers(g, self.layout, len(compiled.columns), len(compiled.rows), LPNumbers(np.asarray(compiled.lp.col_cost_), np.asarray(compiled.lp.row_lower_), np.asarray(compiled.lp.row_upper_), {}))
        self.numbers.coefficients = dict(self.numbers.coefficients)
        self.stats = WhatIfStats(False, time.perf_counter() - start, int(h.getInfo().simplex_iteration_count), 0, 0, 0)
        return outcome

    def _update_params(self, g: MaterialGraph) -> None:
        # the cards read limits from the model's mutable parameters
        m = self.m
        for p in m.PROJECTS:
            m.capacity_t[p] = g.projects[p].capacity_t
        for p in m.MIN_INTAKE_PROJECTS:
            m.min_intake_t[p] = g.projects[p].min_intake_t
        for d in m.CAPPED_SINKS:
            m.sink_capacity_t[d] = g.sinks[d].capacity_t
        routes = {r.id: r for r in g.scenario.routes}
        for r in m.CAPPED_ROUTES:
            m.route_capacity_t[r] = routes[r].capacity_t
        stock = {k.id: min(k.max_reclaim_t, k.stock_t) for k in g.scenario.stockpiles}
        for k in m.STOCKPILES:
            m.reclaim_limit_t[k] = stock[k]
        m.target_rate = g.scenario.policy.target_rate

    def _cold(self, scenario: Scenario, g: MaterialGraph, start: float, times: StageTimes, explain: bool) -> Plan:
        # a different network: solve it on its own and keep the session's model for the next
        # what-if (in a batch most what-ifs are numeric changes of the same base)
        m = build_model(g)
        compiled = compile_model(m)
        h = new_highs(self.options)
        h.passModel(compiled.lp)
        outcome = run_highs(h, compiled)
        self.stats = WhatIfStats(False, time.perf_counter() - start, int(h.getInfo().simplex_iteration_count), 0, 0, 0)
        times.mark("rebuild", start)
        return plan_from_outcome(g, m, outcome, options=self.options, times=times, explain=explain)

    def solve(self, scenario: Scenario, *, explain: bool = True, times: StageTimes | None = None) -> Plan:
        """Solve ``scenario``: warm when its structure matches the session's, else cold.

        After a warm solve the session holds ``scenario`` (the next what-if starts from its
        basis); a what-if with another structure is solved on its own and leaves the session
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
        if _structure(g) != self.structure:
            return self._cold(scenario, g, start, times, explain)
        h, old = self.h, self.numbers
        new = lp_numbers(g, self.layout, len(old.col_cost), len(old.row_lower), old)
        if new.needs_rebuild:
            return self._cold(scenario, g, start, times, explain)
        cols = np.flatnonzero(new.col_cost != old.col_cost).astype(np.int32)
        if len(cols):
            h.changeColsCost(len(cols), cols, new.col_cost[cols])
        rows = np.flatnonzero((new.row_lower != old.row_lower) | (new.row_upper != old.row_upper)).astype(np.int32)
        if len(rows):
            h.changeRowsBounds(len(rows), rows, new.row_lower[rows], new.row_upper[rows])
        changed = 0
        for (i, j), v in new.coefficients.items():
            if old.coefficients.get((i, j)) != v:
                h.changeCoeff(i, j, v)
                changed += 1
        # explanation re-solves copy the LP: keep the compiled copy in step with the live one
        self.compiled.lp = h.getLp()
        self.numbers, self.g = new, g
        self._update_params(g)
        outcome = run_highs(h, self.compiled)
        self.stats = WhatIfStats(True, time.perf_counter() - start, int(h.getInfo().simplex_iteration_count), len(cols), len(rows), changed)
        times.mark("warm_solve", start)
        return plan_from_outcome(g, self.m, outcome, options=self.options, times=times, explain=explain)


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
    base_plan = plan_from_outcome(session.g, session.m, run_highs(session.h, session.compiled), options=session.options, explain=explain)
    whatif_plan = session.solve(whatif, explain=explain)
    assert session.stats is not None
    return WhatIfResult(base_plan, whatif_plan, compare_plans(base_plan, whatif_plan), session.stats)
