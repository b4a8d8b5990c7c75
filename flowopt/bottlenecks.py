"""Bottlenecks: solved model -> ranked ``Bottleneck`` cards, ``WhyNot`` entries, the target's price.

HiGHS reports, for every row, the change of the objective per unit change of the row's
right-hand side (y). Each constraint family turns that into a person's unit:

===================  ======================================  =====================================
family               shadow price reported                   derivation (y = row dual)
===================  ======================================  =====================================
project_capacity     CNY/yr saved per extra t/yr of capacity  -y
project_min_intake   CNY/yr saved per t/yr the minimum drops  y
sink_capacity        CNY/yr saved per extra t/yr              -y
route_capacity       CNY/yr saved per extra t/yr              -y
stock_reclaim_limit  CNY/yr saved per extra t/yr reclaimable  -y
quality_max          CNY/yr saved per +1 point of the limit   -y × feed × 0.01
quality_min          CNY/yr saved per -1 point of the limit   y × feed × 0.01
feed_share           CNY/yr saved per +1 point of the share   -y × intake × 0.01
target               CNY/yr cost per +1 point of the target   y × (G + E) × 0.01
===================  ======================================  =====================================

For the limits that sit in the coefficients (quality, share, target) the derivative follows
from d objective / d θ = y (d b/d θ − (d a/d θ) · x*), with x* the optimal flows; E is the
prior-year part of the rate's denominator at the optimum.

**Valid ranges.** A price holds while the optimal basis does not change. For limits that are
a right-hand side (capacities, minimum intakes, reclaim limits) the range comes from HiGHS's
ranging (``getRanging``). For limits inside the coefficients it is found by moving the limit in
a warm-started copy of the LP and bisecting for the point where the basis changes.

**Money at stake.** Relaxing a limit up to the edge of its valid range saves
price × (distance to that edge): tonnes for capacities, percentage points for fractions.
Cards are ranked by that amount.

**Why not?** A project below capacity takes no more because taking more would cost more than
the plan's alternatives. Its break-even is the cut in its cost per tonne (or rise in revenue,
or subsidy per tonne) at which it takes more: no cut below the smallest reduced cost of its
unused movements can change the plan, and from there warm-started re-solves find the exact
point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import highspy
import numpy as np
import pyomo.environ as pyo

from flowopt.graph import MaterialGraph
from flowopt.model import generation_total_t, rate_extra_denominator, rate_numerator
from flowopt.results import Bottleneck, TargetMarginalCost, WhyNot
from flowopt.solve import SolveOptions, SolveOutcome, linear_coefficients, new_highs

#: Duals smaller than this (CNY per unit) are treated as zero.
ZERO_DUAL = 1e-6
#: Bisection stops when the bracket on a fraction limit is narrower than this (1e-4 points).
RANGE_TOL = 1e-6
#: Flows below this are treated as zero when looking for projects' unused arcs.
ZERO_T = 1e-6

_TONNAGE_KINDS = {"project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit"}
_RELAX_DOWN = {"project_min_intake", "quality_min", "target"}


_NAME_TABLES = {"project": "projects", "sink": "sinks", "stockpile": "stockpiles", "route": "routes", "stream": "streams", "firm": "firms"}
_name_cache: list[tuple[Any, dict[tuple[str, str], tuple[str, str]]]] = []


def _names(g: MaterialGraph, kind: str, subject: str) -> tuple[str, str]:
    # one lookup table for the scenario in use, built on first use (kept with the scenario
    # itself, so a new scenario at a reused address never gets stale names)
    if not _name_cache or _name_cache[0][0] is not g.scenario:
        table: dict[tuple[str, str], tuple[str, str]] = {}
        for k, t in _NAME_TABLES.items():
            for r in getattr(g.scenario, t):
                table[(k, r.id)] = (getattr(r, "name_zh", "") or r.id, getattr(r, "name_en", "") or r.id)
        _name_cache[:] = [(g.scenario, table)]
    return _name_cache[0][1].get((kind, subject), (subject, subject))


def _firm_of(g: MaterialGraph, project: str) -> tuple[str, str] | None:
    p = g.projects.get(project)
    if p is None or not p.firm:
        return None
    return _names(g, "firm", p.firm)


def _value(outcome: SolveOutcome, expr: Any) -> float:
    """Evaluate a linear expression at the outcome's solution without loading it into the model."""
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True)
    return float(repn.constant or 0.0) + sum(float(c) * outcome.values.get(v.name, 0.0) for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True))


def stable_edge(holds: Callable[[float], bool], start: float, bound: float, tol: float) -> float:
    """Farthest value from ``start`` towards ``bound`` for which ``holds`` is still true.

    Assumes ``holds(start)`` and that the values where it holds form an interval around
    ``start``. Gallops away from ``start`` (nearby probes re-solve in a pivot or two), then
    bisects to ``tol``.
    """
    inside, step = start, 1e-4
    direction = 1.0 if bound >= start else -1.0
    while True:
        probe = start + direction * step
        if direction * (probe - bound) >= 0:
            probe = bound
        if not holds(probe):
            outside = probe
            break
        inside = probe
        if probe == bound:
            return bound
        step *= 4
    while abs(outside - inside) > tol:
        mid = (inside + outside) / 2
        if holds(mid):
            inside = mid
        else:
            outside = mid
    return inside


class _Ranger:
    """Valid ranges of limits around an optimal basis."""

    def __init__(self, outcome: SolveOutcome, options: SolveOptions) -> None:
        assert outcome.compiled is not None
        self.outcome = outcome
        self.compiled = outcome.compiled
        self.options = options
        self.basis = outcome.highs.getBasis()
        status, self.ranging = outcome.highs.getRanging()
        self.ranging_ok = status == highspy.HighsStatus.kOk
        self.rows = outcome.row_index()
        self.cols = outcome.column_index()
        self._h: Any = None

    def rhs_range(self, con: Any) -> tuple[float | None, float | None]:
        """Right-hand-side values between which the row's dual stays valid (None = unbounded)."""
        if not self.ranging_ok:
            return None, None
        i = self.rows[con.name]
        lo = float(self.ranging.row_bound_dn.value_[i])
        hi = float(self.ranging.row_bound_up.value_[i])
        return (lo if math.isfinite(lo) else None), (hi if math.isfinite(hi) else None)

    def _fresh(self) -> Any:
        if self._h is None:
            self._h = new_highs(self.options)
            self._h.passModel(self.compiled.lp)
        return self._h

    def _same_basis(self, apply: Callable[[Any, float], None], theta: float) -> bool:
        h = self._fresh()
        apply(h, theta)
        h.setBasis(self.basis)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False
        # started from the reference basis: no simplex iteration means it is still optimal
        return int(h.getInfo().simplex_iteration_count) == 0

    def coef_range(self, apply: Callable[[Any, float], None], theta0: float, lo: float, hi: float) -> tuple[float, float]:
        """Interval around ``theta0`` (within [lo, hi]) where the basis stays optimal.

        ``apply(h, theta)`` must set the LP in ``h`` to the state for limit value ``theta``
        (absolute values, not increments). The copy is restored to ``theta0`` afterwards.
        """

        def edge(bound: float) -> float:
            return stable_edge(lambda theta: self._same_basis(apply, theta), theta0, bound, RANGE_TOL)

        result = (edge(lo), edge(hi))
        apply(self._fresh(), theta0)
        return result


def _target_apply(outcome: SolveOutcome, m: pyo.ConcreteModel, g: MaterialGraph) -> Callable[[Any, float], None]:
    compiled = outcome.compiled
    assert compiled is not None
    n_vec, _ = linear_coefficients(rate_numerator(m, g), compiled.columns)
    e_vec, _ = linear_coefficients(rate_extra_denominator(m, g), compiled.columns)
    row = outcome.row_index()[m.target.name]
    gen = generation_total_t(g)
    cols = [j for j in range(len(compiled.columns)) if n_vec[j] or e_vec[j]]

    def apply(h: Any, theta: float) -> None:
        for j in cols:
            h.changeCoeff(row, j, float(n_vec[j] - theta * e_vec[j]))
        h.changeRowBounds(row, theta * gen, highspy.kHighsInf)

    return apply


def _blend_apply(outcome: SolveOutcome, row_name: str, coef: dict[int, Callable[[float], float]]) -> Callable[[Any, float], None]:
    row = outcome.row_index()[row_name]

    def apply(h: Any, theta: float) -> None:
        for j, f in coef.items():
            h.changeCoeff(row, j, float(f(theta)))

    return apply


@dataclass
class _Spec:
    con: Any
    kind: str
    subject: str
    names: tuple[str, str]
    price: float
    unit: str
    limit: float
    en: str
    zh: str
    apply: Callable[[Any, float], None] | None = None
    """For limits inside the coefficients: sets the LP to a limit value (fractions)."""


def _range_texts(spec: _Spec, lo: float | None, hi: float | None) -> tuple[str, str]:
    if spec.kind in _TONNAGE_KINDS:
        edge = lo if spec.kind in _RELAX_DOWN else hi
        if edge is None:
            return " This price holds however far the limit moves.", "该价格在任意范围内均有效。"
        return f" The price holds while the limit stays between {lo or 0:,.0f} and {hi:,.0f} t/yr." if hi is not None else f" The price holds from {lo or 0:,.0f} t/yr upward.", f"该价格在限值 {lo or 0:,.0f}–{hi:,.0f} 吨/年之间有效。" if hi is not None else f"该价格在限值不低于 {lo or 0:,.0f} 吨/年时有效。"
    lo_s = f"{(lo or 0):.2%}"
    hi_s = f"{hi:.2%}" if hi is not None else "100%"
    return f" It holds while the limit stays between {lo_s} and {hi_s}.", f"该价格在 {lo_s}–{hi_s} 之间有效。"


def find_bottlenecks(g: MaterialGraph, m: pyo.ConcreteModel, outcome: SolveOutcome, options: SolveOptions | None = None, *, ranges: bool = True) -> list[Bottleneck]:
    """List every binding constraint with a non-zero shadow price, its valid range and stake.

    Args:
        g: the material graph.
        m: the solved model.
        outcome: its optimal outcome (with duals and the HiGHS instance).
        options: solver settings for the warm-started range searches.
        ranges: compute valid ranges (set ``False`` for a quick list without them).

    Returns:
        Cards sorted by ``cny_at_stake`` (largest first; unbounded stakes first), then by name.
    """
    options = options or SolveOptions()
    d = outcome.duals
    col = outcome.column_index()
    comp = {(c.stream, c.component): c.fraction for c in g.scenario.composition}
    specs: list[_Spec] = []

    def dual(con: Any) -> float:
        y = d.get(con.name, 0.0)
        return 0.0 if abs(y) < ZERO_DUAL else y

    for p in m.PROJECTS:
        y = dual(m.project_capacity[p])
        if y:
            nm = _names(g, "project", p)
            firm = _firm_of(g, p)
            cap = pyo.value(m.capacity_t[p])
            run_en = f" (run by {firm[1]})" if firm else ""
            run_zh = f"（{firm[0]}）" if firm else ""
            specs.append(_Spec(m.project_capacity[p], "project_capacity", p, nm, -y, "CNY/yr per t/yr of capacity", cap,
                               f"{nm[1]}{run_en} is full at {cap:,.0f} t/yr: each extra t/yr of capacity would save {-y:,.2f} CNY/yr.",
                               f"{nm[0]}{run_zh}产能已满（{cap:,.0f} 吨/年）：每增加 1 吨/年产能可节约 {-y:,.2f} 元/年。"))
    for p in m.MIN_INTAKE_PROJECTS:
        y = dual(m.project_min_intake[p])
        if y:
            nm = _names(g, "project", p)
            lim = pyo.value(m.min_intake_t[p])
            specs.append(_Spec(m.project_min_intake[p], "project_min_intake", p, nm, y, "CNY/yr per t/yr of minimum intake", lim,
                               f"{nm[1]} must take at least {lim:,.0f} t/yr: each t/yr less of that minimum would save {y:,.2f} CNY/yr.",
                               f"{nm[0]}最低进料 {lim:,.0f} 吨/年：最低进料每减少 1 吨/年可节约 {y:,.2f} 元/年。"))
    for k in m.CAPPED_SINKS:
        y = dual(m.sink_capacity[k])
        if y:
            nm = _names(g, "sink", k)
            lim = pyo.value(m.sink_capacity_t[k])
            specs.append(_Spec(m.sink_capacity[k], "sink_capacity", k, nm, -y, "CNY/yr per t/yr of capacity", lim,
                               f"{nm[1]} is full at {lim:,.0f} t/yr: each extra t/yr it could take would save {-y:,.2f} CNY/yr.",
                               f"{nm[0]}已满（{lim:,.0f} 吨/年）：每增加 1 吨/年容量可节约 {-y:,.2f} 元/年。"))
    for r in m.CAPPED_ROUTES:
        y = dual(m.route_capacity[r])
        if y:
            nm = _names(g, "route", r)
            lim = pyo.value(m.route_capacity_t[r])
            specs.append(_Spec(m.route_capacity[r], "route_capacity", r, nm, -y, "CNY/yr per t/yr of route capacity", lim,
                               f"The transport route {nm[1]} is full at {lim:,.0f} t/yr: each extra t/yr would save {-y:,.2f} CNY/yr.",
                               f"运输线路 {nm[0]} 运力已满（{lim:,.0f} 吨/年）：每增加 1 吨/年运力可节约 {-y:,.2f} 元/年。"))
    for k in m.STOCKPILES:
        y = dual(m.stock_reclaim_limit[k])
        if y:
            nm = _names(g, "stockpile", k)
            lim = pyo.value(m.reclaim_limit_t[k])
            specs.append(_Spec(m.stock_reclaim_limit[k], "stock_reclaim_limit", k, nm, -y, "CNY/yr per t/yr of reclaim", lim,
                               f"Reclaim from {nm[1]} is at its limit of {lim:,.0f} t/yr: each extra t/yr would save {-y:,.2f} CNY/yr.",
                               f"{nm[0]}年回采量已达上限 {lim:,.0f} 吨：每多回采 1 吨/年可节约 {-y:,.2f} 元/年。"))
    for (p, c) in m.QUALITY_MAX:
        y = dual(m.quality_max[p, c])
        if y:
            nm = _names(g, "project", p)
            feed = _value(outcome, m.feed_t[p])
            lim = float(next(q.max_fraction for q in g.scenario.quality if q.project == p and q.component == c) or 0.0)
            price = -y * feed * 0.01
            coef = {col[m.flow_t[a.key].name]: (lambda th, cs=comp[(g.lots[a.lot].stream, c)]: cs - th) for a in g.arcs_into(p)}
            specs.append(_Spec(m.quality_max[p, c], "quality_max", p, nm, price, "CNY/yr per percentage point of the limit", lim,
                               f"The {c} limit of {nm[1]} binds at {lim:.2%} of the blended feed: allowing one percentage point more would save {price:,.0f} CNY/yr.",
                               f"{nm[0]}进料 {c} 上限 {lim:.2%} 起约束作用：上限每放宽 1 个百分点可节约 {price:,.0f} 元/年。",
                               _blend_apply(outcome, m.quality_max[p, c].name, coef)))
    for (p, c) in m.QUALITY_MIN:
        y = dual(m.quality_min[p, c])
        if y:
            nm = _names(g, "project", p)
            feed = _value(outcome, m.feed_t[p])
            lim = float(next(q.min_fraction for q in g.scenario.quality if q.project == p and q.component == c) or 0.0)
            price = y * feed * 0.01
            coef = {col[m.flow_t[a.key].name]: (lambda th, cs=comp[(g.lots[a.lot].stream, c)]: cs - th) for a in g.arcs_into(p)}
            specs.append(_Spec(m.quality_min[p, c], "quality_min", p, nm, price, "CNY/yr per percentage point of the limit", lim,
                               f"The {c} minimum of {nm[1]} binds at {lim:.2%} of the blended feed: lowering it by one percentage point would save {price:,.0f} CNY/yr.",
                               f"{nm[0]}进料 {c} 下限 {lim:.2%} 起约束作用：下限每降低 1 个百分点可节约 {price:,.0f} 元/年。",
                               _blend_apply(outcome, m.quality_min[p, c].name, coef)))
    for (o, st) in m.SHARE_LIMITS:
        y = dual(m.feed_share[o, st])
        if y:
            kind = "project" if o in g.projects else "sink"
            nm = _names(g, kind, o)
            sn = _names(g, "stream", st)
            intake = sum(outcome.values.get(m.flow_t[a.key].name, 0.0) for a in g.arcs_into(o))
            lim = next(a.max_share for a in g.scenario.accepts if a.outlet == o and a.stream == st)
            price = -y * intake * 0.01
            coef = {col[m.flow_t[a.key].name]: ((lambda th: 1 - th) if g.lots[a.lot].stream == st else (lambda th: -th)) for a in g.arcs_into(o)}
            specs.append(_Spec(m.feed_share[o, st], "feed_share", o, nm, price, "CNY/yr per percentage point of share", lim,
                               f"{sn[1]} ({st}) may form at most {lim:.0%} of the intake of {nm[1]}: one percentage point more would save {price:,.0f} CNY/yr.",
                               f"{sn[0]}（{st}）在{nm[0]}进料中的占比上限 {lim:.0%} 起约束作用：每放宽 1 个百分点可节约 {price:,.0f} 元/年。",
                               _blend_apply(outcome, m.feed_share[o, st].name, coef)))
    if hasattr(m, "target"):
        y = dual(m.target)
        if y:
            extra = _value(outcome, rate_extra_denominator(m, g))
            price = y * (generation_total_t(g) + extra) * 0.01
            t = pyo.value(m.target_rate)
            mode = g.scenario.policy.rate_mode.value
            rate_zh = "综合利用率" if mode == "utilization" else f"（{mode}）"
            specs.append(_Spec(m.target, "target", "park", ("园区", "the park"), price, "CNY/yr per percentage point of the target", t,
                               f"The {t:.0%} {mode.replace('_', ' ')} target binds: each extra percentage point costs the park {price:,.0f} CNY/yr, and each point less saves about as much.",
                               f"{t:.0%} 的{rate_zh}目标起约束作用：目标每提高 1 个百分点，园区年成本增加约 {price:,.0f} 元。",
                               _target_apply(outcome, m, g)))

    ranger = _Ranger(outcome, options) if ranges else None
    cards = [_make_card(spec, ranger) for spec in specs]
    cards.sort(key=lambda c: (-(math.inf if c.cny_at_stake is None else abs(c.cny_at_stake)), c.constraint))
    return cards


def _make_card(spec: _Spec, ranger: _Ranger | None) -> Bottleneck:
    lo: float | None = None
    hi: float | None = None
    if ranger is not None:
        if spec.apply is None:
            lo, hi = ranger.rhs_range(spec.con)
            if lo is not None:
                lo = max(lo, 0.0)
        else:
            lo, hi = ranger.coef_range(spec.apply, spec.limit, 0.0, 1.0)
    down = spec.kind in _RELAX_DOWN
    if ranger is None:
        move = None
    elif down:
        move = None if lo is None else spec.limit - lo
    else:
        move = None if hi is None else hi - spec.limit
    tonnes = move if spec.kind in _TONNAGE_KINDS else None
    if move is None:
        stake = None
    elif spec.kind in _TONNAGE_KINDS:
        stake = spec.price * move
    else:
        stake = spec.price * move * 100
    en, zh = spec.en, spec.zh
    if ranger is not None:
        ren, rzh = _range_texts(spec, lo, hi)
        en, zh = en + ren, zh + rzh
    return Bottleneck(constraint=spec.con.name, kind=spec.kind, subject=spec.subject, subject_name_zh=spec.names[0], subject_name_en=spec.names[1], shadow_price=spec.price, unit=spec.unit, limit=spec.limit, valid_from=lo, valid_to=hi, tonnes_at_stake=tonnes, cny_at_stake=stake, explanation=en, explanation_zh=zh)


def target_marginal_cost(g: MaterialGraph, m: pyo.ConcreteModel, outcome: SolveOutcome, options: SolveOptions | None = None) -> TargetMarginalCost | None:
    """Cost of one more percentage point of the target, and the targets where it holds.

    Returns ``None`` when the model has no target constraint. A target that does not bind
    costs 0 per point; its range is where it keeps not binding.
    """
    if not hasattr(m, "target"):
        return None
    options = options or SolveOptions()
    y = outcome.duals.get(m.target.name, 0.0)
    extra = _value(outcome, rate_extra_denominator(m, g))
    price = y * (generation_total_t(g) + extra) * 0.01 if abs(y) >= ZERO_DUAL else 0.0
    t = float(pyo.value(m.target_rate))
    lo, hi = _Ranger(outcome, options).coef_range(_target_apply(outcome, m, g), t, 0.0, 1.0)
    return TargetMarginalCost(target=t, cny_per_point=price, valid_from_target=lo, valid_to_target=hi,
                              explanation=f"At {t:.1%}, one more percentage point of the target costs {price:,.0f} CNY/yr; the same constraints bind for targets from {lo:.2%} to {hi:.2%}.",
                              explanation_zh=f"目标为 {t:.1%} 时，每提高 1 个百分点年成本增加 {price:,.0f} 元；目标在 {lo:.2%}–{hi:.2%} 之间时起约束作用的条件不变。")


class _CostSearch:
    """Find the cost cut on a set of movements at which they carry more (warm-started LPs)."""

    #: Cuts beyond this (CNY/t) are treated as "never".
    MAX_CUT = 1e5

    def __init__(self, outcome: SolveOutcome, options: SolveOptions) -> None:
        assert outcome.compiled is not None
        self.h = new_highs(options)
        self.h.passModel(outcome.compiled.lp)
        self.basis = outcome.highs.getBasis()
        self.cost0 = [float(c) for c in outcome.compiled.lp.col_cost_]

    def carried(self, cols: list[int], cut: float) -> list[float]:
        """Tonnes on each of ``cols`` when their costs are lowered by ``cut`` CNY/t."""
        self.h.changeColsCost(len(cols), np.array(cols, dtype=np.int32), np.array([self.cost0[j] - cut for j in cols]))
        self.h.setBasis(self.basis)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return [math.nan] * len(cols)
        x = self.h.getSolution().col_value
        return [float(x[j]) for j in cols]

    def threshold(self, cols: list[int], current: float, start: float) -> tuple[float | None, list[float]]:
        """Smallest cut (CNY/t) above ``start`` at which ``cols`` carry more than ``current``.

        Returns the cut (``None`` if no cut up to ``MAX_CUT`` does it) and the tonnes per
        column just past it.
        """
        tol = max(1.0, 1e-6 * current)

        def more(cut: float) -> tuple[bool, list[float]]:
            x = self.carried(cols, cut)
            return sum(x) > current + tol, x

        lo = max(start * (1 - 1e-9), 0.0)
        # the threshold is often right at the smallest reduced cost: try just past it first
        hi = lo + max(1e-3, 1e-6 * lo)
        ok, x = more(hi)
        while not ok:
            lo, hi = hi, 2 * hi + 1
            if hi > self.MAX_CUT:
                self.carried(cols, 0.0)
                return None, []
            ok, x = more(hi)
        while hi - lo > max(1e-4, 1e-7 * hi):
            mid = (lo + hi) / 2
            ok_mid, x_mid = more(mid)
            if ok_mid:
                hi, x = mid, x_mid
            else:
                lo = mid
        self.carried(cols, 0.0)
        return hi, x


def why_not(g: MaterialGraph, m: pyo.ConcreteModel, outcome: SolveOutcome, options: SolveOptions | None = None) -> list[WhyNot]:
    """Explain each reuse project (and capped route) that is unused or below capacity.

    The break-even is the smallest cut in the cost per tonne of everything the project takes
    (a lower processing cost, a higher revenue, or a subsidy per tonne) at which it takes
    more. It is found by re-solving with the project's costs lowered (warm-started), starting
    from the smallest reduced cost of its unused movements, below which nothing can change.

    Returns:
        Entries sorted by break-even (smallest first, ``None`` last), then by id.
    """
    options = options or SolveOptions()
    out: list[WhyNot] = []
    rc = outcome.reduced_costs
    col = outcome.column_index()
    search = _CostSearch(outcome, options)
    for p, proj in g.projects.items():
        arcs = g.arcs_into(p)
        feed = sum(outcome.values.get(m.flow_t[a.key].name, 0.0) for a in arcs)
        if feed >= proj.capacity_t * (1 - 1e-9) - ZERO_T or not arcs:
            continue
        status: Literal["unused", "below_capacity"] = "unused" if feed <= ZERO_T else "below_capacity"
        idle = [max(rc.get(m.flow_t[a.key].name, 0.0), 0.0) for a in arcs if outcome.values.get(m.flow_t[a.key].name, 0.0) <= ZERO_T]
        rc_min = min(idle) if idle else None
        cols = [col[m.flow_t[a.key].name] for a in arcs]
        cut, x = search.threshold(cols, feed, rc_min or 0.0)
        nm = _names(g, "project", p)
        if cut is None:
            out.append(WhyNot(subject=p, kind="project", status=status, name_zh=nm[0], name_en=nm[1], intake_t=feed, capacity_t=proj.capacity_t, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=None, entering_stream=None, entering_source=None,
                              explanation=f"{nm[1]} ({p}) takes {feed:,.0f} of {proj.capacity_t:,.0f} t/yr: it already receives everything that can reach it; more would need more supply, not a lower cost.",
                              explanation_zh=f"{nm[0]}（{p}）进料 {feed:,.0f} / {proj.capacity_t:,.0f} 吨/年：可进入的物料已全部接收，增加进料需要更多来料而非降低成本。"))
            continue
        gain = {a.key: x[i] - outcome.values.get(m.flow_t[a.key].name, 0.0) for i, a in enumerate(arcs)}
        first = max(arcs, key=lambda a: (gain[a.key], a.key))
        lot = g.lots[first.lot]
        sn = _names(g, "stream", lot.stream)
        src = f" from {lot.source}" if lot.kind != "generation" else ""
        verb = "enter the plan" if status == "unused" else "take more"
        verb_zh = "进入方案" if status == "unused" else "增加进料"
        out.append(WhyNot(subject=p, kind="project", status=status, name_zh=nm[0], name_en=nm[1], intake_t=feed, capacity_t=proj.capacity_t, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=cut, entering_stream=lot.stream, entering_source=lot.source,
                          explanation=f"{nm[1]} ({p}) takes {feed:,.0f} of {proj.capacity_t:,.0f} t/yr. It would {verb} if its cost per tonne fell (or its revenue or a subsidy rose) by more than {cut:,.2f} CNY/t; it would first take more {sn[1]} ({lot.stream}){src}.",
                          explanation_zh=f"{nm[0]}（{p}）进料 {feed:,.0f} / {proj.capacity_t:,.0f} 吨/年。若每吨成本降低（或收入、补贴增加）超过 {cut:,.2f} 元，将{verb_zh}，首先多接收{sn[0]}（{lot.stream}）。"))
    for r in m.CAPPED_ROUTES:
        members = [a for a in g.arcs if r in a.routes]
        carried = sum(outcome.values.get(m.flow_t[a.key].name, 0.0) for a in members)
        cap = pyo.value(m.route_capacity_t[r])
        if carried >= cap - ZERO_T:
            continue
        idle = [max(rc.get(m.flow_t[a.key].name, 0.0), 0.0) for a in members if outcome.values.get(m.flow_t[a.key].name, 0.0) <= ZERO_T]
        rc_min = min(idle) if idle else None
        cut, _ = search.threshold([col[m.flow_t[a.key].name] for a in members], carried, rc_min or 0.0)
        nm = _names(g, "route", r)
        out.append(WhyNot(subject=r, kind="route", status="unused" if carried <= ZERO_T else "below_capacity", name_zh=nm[0], name_en=nm[1], intake_t=carried, capacity_t=cap, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=cut, entering_stream=None, entering_source=None,
                          explanation=f"Route {nm[1]} ({r}) carries {carried:,.0f} of {cap:,.0f} t/yr" + (f"; it would carry more if transport on it cost more than {cut:,.2f} CNY/t less." if cut is not None else "; all that can use it already does."),
                          explanation_zh=f"运输线路 {nm[0]}（{r}）运量 {carried:,.0f} / {cap:,.0f} 吨/年" + (f"；运费每吨降低超过 {cut:,.2f} 元时运量将增加。" if cut is not None else "；可用的物料已全部经由该线路。")))
    out.sort(key=lambda w: (w.break_even_cny_per_t is None, w.break_even_cny_per_t or 0.0, w.subject))
    return out
