"""Bottlenecks: solved LP -> ranked ``Bottleneck`` cards, ``WhyNot`` entries, the target's price.

Every family's price sign, unit, limit and sentence come from the registry
(:mod:`flowopt.formulation.families`); rows and columns are addressed by family and position.

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
market_demand        CNY/yr saved per extra t/yr of demand    -y
firm_target          CNY/yr cost per +1 point of the duty     y × (G_f + E_f) × 0.01
===================  ======================================  =====================================

For the limits that sit in the coefficients (quality, share, target) the derivative follows
from d objective / d θ = y (d b/d θ − (d a/d θ) · x*), with x* the optimal flows; E is the
prior-year part of the rate's denominator at the optimum.

**Valid ranges.** A price holds while the optimal basis does not change. For limits that are
a right-hand side (capacities, minimum intakes, reclaim limits) the range comes from HiGHS's
ranging (``getRanging``). For limits inside the coefficients it is found by moving the limit in
a warm-started copy of the LP (a gateway session) and bisecting for the point where the basis
changes.

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
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from flowopt.formulation.families import ROWS, Parametric, RowFamily, market_limits, sold_columns
from flowopt.formulation.lp import component_name
from flowopt.graph import MaterialGraph
from flowopt.labels import Labels
from flowopt.results import Bottleneck, TargetMarginalCost, WhyNot
from flowopt.sensitivity import Change, cost_cut_edge, cost_cut_walk, limit_range
from flowopt.solve import BasisView, Session, SolveOptions, SolveOutcome

#: Duals smaller than this (CNY per unit) are treated as zero.
ZERO_DUAL = 1e-6
#: Bisection stops when the bracket on a fraction limit is narrower than this (1e-4 points).
RANGE_TOL = 1e-6
#: Flows below this are treated as zero when looking for projects' unused arcs.
ZERO_T = 1e-6

#: Price units of the cards, by family.
_UNITS = {
    "project_capacity": "CNY/yr per t/yr of capacity",
    "project_min_intake": "CNY/yr per t/yr of minimum intake",
    "sink_capacity": "CNY/yr per t/yr of capacity",
    "route_capacity": "CNY/yr per t/yr of route capacity",
    "stock_reclaim_limit": "CNY/yr per t/yr of reclaim",
    "quality_max": "CNY/yr per percentage point of the limit",
    "quality_min": "CNY/yr per percentage point of the limit",
    "feed_share": "CNY/yr per percentage point of share",
    "target": "CNY/yr per percentage point of the target",
    "sink_airspace": "CNY/yr per t of airspace",
    "co2_cap": "CNY/yr per tCO2/yr of the cap",
    "market_demand": "CNY/yr per t/yr of demand",
    "firm_target": "CNY/yr per percentage point of the duty",
}

#: Units of the limit in the range sentences, for tonnage families not in t/yr: (en, zh).
_LIMIT_UNITS = {"sink_airspace": ("t", "吨"), "co2_cap": ("tCO2/yr", "吨二氧化碳/年")}


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


def parametric_apply(session: Session, row: int, par: Parametric, sense: str) -> Callable[[float], None]:
    """Return ``apply(theta)``, which puts the row into the state for limit value ``theta``.

    The row reads Σ (a − θ b) x {≤,≥} θ c (see :class:`~flowopt.formulation.families.Parametric`).
    """
    rows = np.full(len(par.cols), row)

    def apply(theta: float) -> None:
        session.set_coefficients(rows, par.cols, par.a - theta * par.b)
        if par.c:
            bound = theta * par.c
            if sense == ">=":
                session.set_row_bounds(np.array([row]), np.array([bound]), np.array([session.lp.row_upper[row]]))
            else:
                session.set_row_bounds(np.array([row]), np.array([session.lp.row_lower[row]]), np.array([bound]))

    return apply


class _Ranger:
    """Valid ranges of limits around an optimal basis (exact: from the basis factorization)."""

    def __init__(self, outcome: SolveOutcome) -> None:
        self.outcome = outcome
        self.ranging = outcome.session.ranging()
        self._view: BasisView | None = None

    def rhs_range(self, row: int) -> tuple[float | None, float | None]:
        """Right-hand-side values between which the row's dual stays valid (None = unbounded)."""
        if self.ranging is None:
            return None, None
        lo = float(self.ranging.row_bound_dn[row])
        hi = float(self.ranging.row_bound_up[row])
        return (lo if math.isfinite(lo) else None), (hi if math.isfinite(hi) else None)

    def view(self) -> BasisView:
        """The optimal basis with its factorization (read once)."""
        if self._view is None:
            self._view = self.outcome.session.basis_view()
        return self._view

    def coef_range(self, row: int, par: Parametric, sense: str) -> tuple[Change, Change]:
        """Exact interval of a coefficient limit where the basis stays optimal (fractions 0–1)."""
        return limit_range(self.view(), self.outcome.session.lp, row, par, sense, (0.0, 1.0))


@dataclass
class _Spec:
    family: RowFamily
    key: object
    row: int
    kind: str
    subject: str
    names: tuple[str, str]
    price: float
    limit: float
    en: str
    zh: str
    parametric: Parametric | None = None


def _limit(fam: RowFamily, outcome: SolveOutcome, row: int) -> float:
    lp = outcome.lp
    return float(lp.row_lower[row] if fam.sense == ">=" else lp.row_upper[row])


def _range_texts(spec: _Spec, lo: float | None, hi: float | None) -> tuple[str, str]:
    if spec.family.tonnage:
        edge = lo if spec.family.relax > 0 else hi
        if edge is None:
            return " This price holds however far the limit moves.", "该价格在任意范围内均有效。"
        u, u_zh = _LIMIT_UNITS.get(spec.family.name, ("t/yr", "吨/年"))
        return f" The price holds while the limit stays between {lo or 0:,.0f} and {hi:,.0f} {u}." if hi is not None else f" The price holds from {lo or 0:,.0f} {u} upward.", f"该价格在限值 {lo or 0:,.0f}–{hi:,.0f} {u_zh}之间有效。" if hi is not None else f"该价格在限值不低于 {lo or 0:,.0f} {u_zh}时有效。"
    lo_s = f"{(lo or 0):.2%}"
    hi_s = f"{hi:.2%}" if hi is not None else "100%"
    return f" It holds while the limit stays between {lo_s} and {hi_s}.", f"该价格在 {lo_s}–{hi_s} 之间有效。"


def _specs(g: MaterialGraph, outcome: SolveOutcome) -> list[_Spec]:
    lp = outcome.lp
    n = lp.network
    labels = Labels(g.scenario)
    specs: list[_Spec] = []
    for fam in ROWS:
        if fam.card is None:
            continue
        block = lp.rows[fam.name]
        y = outcome.row_dual[block.slice]
        for i in np.flatnonzero(np.abs(y) >= ZERO_DUAL):
            key = block.keys[int(i)]
            row = block.start + int(i)
            dual = float(y[i])
            kind, subject = fam.subject(key)
            if kind == "outlet":
                kind = "project" if subject in g.projects else "sink"
            names = ("园区", "the park") if kind == "park" else labels.name(kind, subject)
            par = fam.parametric(n, key) if fam.parametric is not None else None
            if par is None:
                limit, scale = _limit(fam, outcome, row), 1.0
            else:
                limit = par.theta
                scale = (par.c + float(par.b @ outcome.x[par.cols])) * 0.01
            price = fam.relax * dual * scale
            en, zh = _named(g, fam.name, key, limit, *fam.card(labels, key, limit, price))
            specs.append(_Spec(fam, key, row, fam.name, subject, names, price, limit, en, zh, par))
    return specs


def _named(g: MaterialGraph, family: str, key: object, limit: float, en: str, zh: str) -> tuple[str, str]:
    """A card's sentences with what the registry's text leaves out.

    That is the standard behind a quality limit and an index shown as a number (the registry's
    cards name the chosen rate in Chinese themselves).

    Args:
        g: the material graph (its scenario holds the quality rows and the policy).
        family: the row family.
        key: the row's key (``(project, component)`` for quality limits).
        limit: the limit's value.
        en: the registry's English sentence.
        zh: the registry's Chinese sentence.

    Returns:
        ``(en, zh)``, amended.
    """
    s = g.scenario
    if family not in ("quality_max", "quality_min") or not isinstance(key, tuple):
        return en, zh
    project, component = key
    if str(component).endswith("_index"):
        # an index is a number, not a share of the feed (1.00, not 100.00%)
        en = en.replace(f"{limit:.2%} of the blended feed", f"{limit:.2f} (an index, blended by tonnes)")
        zh = zh.replace(f"{limit:.2%}", f"{limit:.2f}（指数，按吨数加权）")
    row = next((q for q in s.quality if q.project == project and q.component == component), None)
    if row is None or not row.standard:
        return en, zh
    where_en = f"{row.standard}, clause {row.clause}" if row.clause else row.standard
    where_zh = f"{row.standard} 第 {row.clause} 条" if row.clause else row.standard
    return f"{en} The limit is set by {where_en}.", f"{zh}该限值依据 {where_zh}。"


def find_bottlenecks(g: MaterialGraph, outcome: SolveOutcome, options: SolveOptions | None = None, *, ranges: bool = True) -> list[Bottleneck]:
    """List every binding constraint with a non-zero shadow price, its valid range and stake.

    Args:
        g: the material graph.
        outcome: the optimal outcome (with its gateway session).
        options: unused (the session carries the solver settings); kept for callers.
        ranges: compute valid ranges (set ``False`` for a quick list without them).

    Returns:
        Cards sorted by ``cny_at_stake`` (largest first; unbounded stakes first), then by name.
    """
    ranger = _Ranger(outcome) if ranges else None
    cards = [_make_card(spec, ranger) for spec in _specs(g, outcome)]
    cards.sort(key=lambda c: (-(math.inf if c.cny_at_stake is None else abs(c.cny_at_stake)), c.constraint))
    return cards


def _make_card(spec: _Spec, ranger: _Ranger | None) -> Bottleneck:
    lo: float | None = None
    hi: float | None = None
    fam = spec.family
    if ranger is not None:
        if spec.parametric is None:
            lo, hi = ranger.rhs_range(spec.row)
            if lo is not None:
                lo = max(lo, 0.0) + 0.0  # never -0.0
        else:
            lo_change, hi_change = ranger.coef_range(spec.row, spec.parametric, fam.sense)
            lo, hi = lo_change.at, hi_change.at
    down = fam.relax > 0
    if ranger is None:
        move = None
    elif down:
        move = None if lo is None else spec.limit - lo
    else:
        move = None if hi is None else hi - spec.limit
    tonnes = move if fam.tonnage else None
    if move is None:
        stake = None
    elif fam.tonnage:
        stake = spec.price * move
    else:
        stake = spec.price * move * 100
    en, zh = spec.en, spec.zh
    if ranger is not None:
        ren, rzh = _range_texts(spec, lo, hi)
        en, zh = en + ren, zh + rzh
    return Bottleneck(constraint=component_name(fam.name, spec.key), kind=spec.kind, subject=spec.subject, subject_name_zh=spec.names[0], subject_name_en=spec.names[1], shadow_price=spec.price, unit=_UNITS[fam.name], limit=spec.limit, valid_from=lo, valid_to=hi, tonnes_at_stake=tonnes, cny_at_stake=stake, explanation=en, explanation_zh=zh)


def target_marginal_cost(g: MaterialGraph, outcome: SolveOutcome, options: SolveOptions | None = None) -> TargetMarginalCost | None:
    """Cost of one more percentage point of the target, and the targets where it holds.

    Returns ``None`` when the LP has no target row. A target that does not bind costs 0 per
    point; its range is where it keeps not binding.
    """
    lp = outcome.lp
    if not lp.has_row("target"):
        return None
    fam = next(f for f in ROWS if f.name == "target")
    assert fam.parametric is not None
    row = lp.row_of("target")
    par = fam.parametric(lp.network, None)
    y = float(outcome.row_dual[row])
    price = y * (par.c + float(par.b @ outcome.x[par.cols])) * 0.01 if abs(y) >= ZERO_DUAL else 0.0
    t = par.theta
    lo_change, hi_change = _Ranger(outcome).coef_range(row, par, fam.sense)
    lo, hi = float(lo_change.at or 0.0), float(hi_change.at if hi_change.at is not None else 1.0)
    return TargetMarginalCost(target=t, cny_per_point=price, valid_from_target=lo, valid_to_target=hi,
                              explanation=f"At {t:.1%}, one more percentage point of the target costs {price:,.0f} CNY/yr; the same constraints bind for targets from {lo:.2%} to {hi:.2%}.",
                              explanation_zh=f"目标为 {t:.1%} 时，每提高 1 个百分点年成本增加 {price:,.0f} 元；目标在 {lo:.2%}–{hi:.2%} 之间时起约束作用的条件不变。")


class _CostSearch:
    """The exact cost cut on a set of movements at which they carry more (parametric in the cost).

    From the optimal basis the first cut at which the basis stops being optimal is computed
    exactly (:func:`flowopt.sensitivity.cost_cut_edge`); the LP is then re-solved just past it
    (a pivot or two from the old basis). If the movements carry more there, that cut is the
    answer; otherwise the walk goes on from the new basis to the next breakpoint.
    """

    #: Cuts beyond this (CNY/t) are treated as "never".
    MAX_CUT = 1e5
    #: Breakpoints walked at most per question (degenerate bases can take a few zero steps).
    MAX_STEPS = 200

    def __init__(self, outcome: SolveOutcome) -> None:
        self.outcome = outcome
        self.basis = outcome.session.basis()
        self.cost0 = outcome.lp.col_cost.copy()
        self._session: Session | None = None
        self._view: BasisView | None = None

    def _fresh(self) -> Session:
        if self._session is None:
            self._session = self.outcome.session.clone()
        self._session.set_costs(np.arange(len(self.cost0)), self.cost0)
        self._session.set_basis(self.basis)
        return self._session

    def threshold(self, cols: np.ndarray, current: float) -> tuple[float | None, np.ndarray]:
        """Smallest cut (CNY/t) at which ``cols`` carry more than ``current`` tonnes in all.

        Returns the cut (``None`` if no cut up to ``MAX_CUT`` does it) and the tonnes per
        column just past it.
        """
        tol = max(1e-6, 1e-9 * current)
        # the first breakpoint, from the solved basis itself: when the variable that enters
        # there moves the solution to a vertex where these movements carry more, that is the
        # answer, with no re-solve at all
        if self._view is None:
            self._view = self.outcome.session.basis_view()
        walked = cost_cut_walk(self._view, self.outcome.lp, cols, current, max_cut=self.MAX_CUT)
        if walked is not None:
            return walked
        # the walk could not decide (many degenerate pivots, an unstable one): re-solve instead
        session = self._fresh()
        cut = 0.0
        out = session.solve()
        for _ in range(self.MAX_STEPS):
            if not out.ok:
                return None, np.zeros(0)
            edge = cost_cut_edge(session.basis_view(), session.lp, cols, session.lp.col_cost)
            if edge.at is None or cut + edge.at > self.MAX_CUT:
                return None, np.zeros(0)
            cut += edge.at
            # just past the breakpoint: the basis that takes over beyond it. The step must
            # exceed HiGHS's dual tolerance (1e-7) so that it pivots; a second breakpoint
            # closer than the step would be merged with this one (1e-6 CNY/t)
            step = max(1e-6, 1e-9 * cut)
            session.set_costs(cols, self.cost0[cols] - (cut + step))
            out = session.solve()
            if out.ok and float(out.x[cols].sum()) > current + tol:
                return cut, out.x[cols]
            cut += step
        return None, np.zeros(0)


def saturated_markets(outcome: SolveOutcome, project: str) -> list[str]:
    """Markets the project sells into whose demand limit is reached in the solution (sorted ids).

    Args:
        outcome: an optimal outcome.
        project: a project id.

    Returns:
        The market ids; empty for a project without markets or whose markets have room.
    """
    lp = outcome.lp
    n = lp.network
    if n is None or "market_demand" not in lp.rows:
        return []
    cols = sold_columns(n)
    limits = market_limits(n)
    out = []
    for m in sorted(n.g.projects[project].market_yields) if project in n.g.projects else []:
        if m not in limits:
            continue
        sold = sum(float(outcome.x[c].sum()) for (q, mm), c in cols.items() if mm == m)
        if sold >= limits[m] - max(ZERO_T, 1e-9 * limits[m]):
            out.append(m)
    return out


def why_not(g: MaterialGraph, outcome: SolveOutcome, options: SolveOptions | None = None, *, deadline: float | None = None) -> list[WhyNot]:
    """Explain each reuse project (and capped route) that is unused or below capacity.

    The break-even is the smallest cut in the cost per tonne of everything the project takes
    (a lower processing cost, a higher revenue, or a subsidy per tonne) at which it takes
    more, idle or partly used alike. It is exact: a parametric walk in the cut from the
    optimal basis (:class:`_CostSearch`), not a search.

    Args:
        g: the material graph.
        outcome: the optimal outcome (with its gateway session).
        options: unused (the session carries the solver settings); kept for callers.
        deadline: a ``time.monotonic()`` value after which no further project is examined
            (the entries found so far are returned).

    Returns:
        Entries sorted by break-even (smallest first, ``None`` last), then by id.
    """
    lp = outcome.lp
    n = lp.network
    labels = Labels(g.scenario)
    flow = lp.cols["flow_t"]
    x = outcome.x
    rc = outcome.col_dual
    out: list[WhyNot] = []
    search = _CostSearch(outcome)
    for p, proj in g.projects.items():
        if deadline is not None and time.monotonic() > deadline:
            break
        cols = flow.start + n.arcs_into(p)
        if not len(cols):
            continue
        feed = float(x[cols].sum())
        if feed >= proj.capacity_t * (1 - 1e-9) - ZERO_T:
            continue
        status: Literal["unused", "below_capacity"] = "unused" if feed <= ZERO_T else "below_capacity"
        unused = cols[x[cols] <= ZERO_T]
        rc_min = float(np.maximum(rc[unused], 0.0).min()) if len(unused) else None
        cut, x_new = search.threshold(cols, feed)
        nm = labels.name("project", p)
        full = saturated_markets(outcome, p)
        if cut is None and full:
            names = [labels.name("market", m) for m in full]
            out.append(WhyNot(subject=p, kind="project", status=status, name_zh=nm[0], name_en=nm[1], intake_t=feed, capacity_t=proj.capacity_t, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=None, entering_stream=None, entering_source=None,
                              explanation=f"{nm[1]} ({p}) takes {feed:,.0f} of {proj.capacity_t:,.0f} t/yr: its market {', '.join(f'{n[1]} ({m})' for n, m in zip(names, full, strict=True))} is full, so more would need more demand, not a lower cost.",
                              explanation_zh=f"{nm[0]}（{p}）进料 {feed:,.0f} / {proj.capacity_t:,.0f} 吨/年：其产品市场{'、'.join(f'{n[0]}（{m}）' for n, m in zip(names, full, strict=True))}已饱和，增加进料需要更多市场需求而非降低成本。"))
            continue
        if cut is None:
            out.append(WhyNot(subject=p, kind="project", status=status, name_zh=nm[0], name_en=nm[1], intake_t=feed, capacity_t=proj.capacity_t, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=None, entering_stream=None, entering_source=None,
                              explanation=f"{nm[1]} ({p}) takes {feed:,.0f} of {proj.capacity_t:,.0f} t/yr: it already receives everything that can reach it; more would need more supply, not a lower cost.",
                              explanation_zh=f"{nm[0]}（{p}）进料 {feed:,.0f} / {proj.capacity_t:,.0f} 吨/年：可进入的物料已全部接收，增加进料需要更多来料而非降低成本。"))
            continue
        gain = x_new - x[cols]
        arcs = [g.arcs[int(j)] for j in cols - flow.start]
        first = max(range(len(arcs)), key=lambda i: (gain[i], arcs[i].key))
        lot = g.lots[arcs[first].lot]
        sn = labels.name("stream", lot.stream)
        src = f" from {lot.source}" if lot.kind != "generation" else ""
        verb = "enter the plan" if status == "unused" else "take more"
        verb_zh = "进入方案" if status == "unused" else "增加进料"
        out.append(WhyNot(subject=p, kind="project", status=status, name_zh=nm[0], name_en=nm[1], intake_t=feed, capacity_t=proj.capacity_t, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=cut, entering_stream=lot.stream, entering_source=lot.source,
                          explanation=f"{nm[1]} ({p}) takes {feed:,.0f} of {proj.capacity_t:,.0f} t/yr. It would {verb} if its cost per tonne fell (or its revenue or a subsidy rose) by more than {cut:,.2f} CNY/t; it would first take more {sn[1]} ({lot.stream}){src}.",
                          explanation_zh=f"{nm[0]}（{p}）进料 {feed:,.0f} / {proj.capacity_t:,.0f} 吨/年。若每吨成本降低（或收入、补贴增加）超过 {cut:,.2f} 元，将{verb_zh}，首先多接收{sn[0]}（{lot.stream}）。"))
    routes = lp.rows["route_capacity"]
    for i, r in enumerate(routes.keys):
        row = routes.start + i
        cols, _ = lp.row(row)
        carried = float(x[cols].sum())
        cap = float(lp.row_upper[row])
        if carried >= cap - ZERO_T:
            continue
        unused = cols[x[cols] <= ZERO_T]
        rc_min = float(np.maximum(rc[unused], 0.0).min()) if len(unused) else None
        cut, _ = search.threshold(cols, carried)
        nm = labels.name("route", str(r))
        out.append(WhyNot(subject=str(r), kind="route", status="unused" if carried <= ZERO_T else "below_capacity", name_zh=nm[0], name_en=nm[1], intake_t=carried, capacity_t=cap, reduced_cost_cny_per_t=rc_min, break_even_cny_per_t=cut, entering_stream=None, entering_source=None,
                          explanation=f"Route {nm[1]} ({r}) carries {carried:,.0f} of {cap:,.0f} t/yr" + (f"; it would carry more if transport on it cost more than {cut:,.2f} CNY/t less." if cut is not None else "; all that can use it already does."),
                          explanation_zh=f"运输线路 {nm[0]}（{r}）运量 {carried:,.0f} / {cap:,.0f} 吨/年" + (f"；运费每吨降低超过 {cut:,.2f} 元时运量将增加。" if cut is not None else "；可用的物料已全部经由该线路。")))
    out.sort(key=lambda w: (w.break_even_cny_per_t is None, w.break_even_cny_per_t or 0.0, w.subject))
    return out
