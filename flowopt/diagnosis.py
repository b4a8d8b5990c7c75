"""Diagnosis: an infeasible target -> ``Diagnosis`` (why, and the cheapest fix).

Stage: (``MaterialGraph``, target) -> ``Diagnosis``. Four views of the same question:

1. **Screens** that need no solver: for each waste category, the tonnes to place against the
   capacity of the utilizing projects that accept it; for each project, quality limits that no
   accepted stream can meet. When no plan exists even without the target and unmanaged
   (dumped) tonnes are not allowed, a placement screen (one small LP) names each stream whose
   tonnes have no outlet with room, and how many (:func:`unplaced_streams`).
2. **Min cut**: a max-flow from the supplies to the utilizing projects over the material
   graph; the capacities on the minimum cut are the ones that limit how much can be utilized.
3. **Elastic re-solve**: the LP again, with every limit allowed to move at a price —
   capacities, reclaim limits, minimum intakes and route capacities at ``expansion_cost``
   CNY per t/yr, quality limits and feed shares at the same price per tonne of component (or
   stream) beyond the limit, and the target itself at a far higher price per tonne of shortfall
   so it is moved only when nothing else can help (a firm's duty, ``firms.target_rate``, likewise). Phase 1 minimizes the price of the
   relaxations alone; phase 2 keeps that price and minimizes the plan's cost. The result is
   the least-cost set of relaxations, with sizes that make the target feasible when applied.
4. **Conflict**: HiGHS's irreducible infeasible subset of limits.

Everything is named with ids, names and the input row the limit comes from, in English and
Chinese.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from flowopt.formulation import ROWS, AssembledLP, Network, RowFamily, assemble
from flowopt.formulation.lp import INF
from flowopt.graph import MaterialGraph
from flowopt.labels import Labels
from flowopt.schema import ProjectBooking
from flowopt.solve import Session, SolveOptions, iis_within, maximize_ratio_lp

#: Default price of relaxing a limit in the elastic re-solve: CNY per t/yr of extra capacity
#: (an annualized capital charge; a modelling convention that ranks relaxations, not data).
DEFAULT_EXPANSION_CNY_PER_T = 50.0
#: The target's shortfall costs this many times more per tonne than a capacity expansion.
SHORTFALL_WEIGHT = 1e4
#: Families relaxed only when nothing else helps: targets set by policy (the park's, a firm's duty).
POLICY_TARGETS = ("target", "firm_target")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Out):
    """One fact found by a screen, the min cut or the conflict set."""

    kind: str
    subject: str
    where: str | None
    message: str
    message_zh: str
    tonnes_t: float | None = None
    """t/yr the finding is about, where it is about a tonnage (``placement_screen``, ``placement_total``)."""


class Relaxation(_Out):
    """One limit to move, by how much, to make the target feasible."""

    kind: Literal["project_capacity", "project_min_intake", "sink_capacity", "sink_airspace", "route_capacity", "stock_reclaim_limit", "quality_max", "quality_min", "feed_share", "target", "co2_cap", "market_demand", "firm_target"]
    subject: str
    """Project, sink, route, stockpile, market or firm id; for quality and share limits
    ``project:component`` or ``outlet:stream``; ``park`` for the target."""
    name_zh: str
    name_en: str
    where: str | None
    current: float
    proposed: float
    change: float
    unit: str
    cost_cny: float
    """Price of the relaxation in the elastic re-solve (CNY/yr at the assumed expansion cost;
    ranks relaxations, it is not an investment estimate)."""
    explanation: str
    explanation_zh: str


class Diagnosis(_Out):
    """Why a target cannot be met and what would fix it."""

    target: float
    rate_mode: str
    max_rate: float | None
    statement: str
    statement_zh: str
    screens: list[Finding] = []
    min_cut: list[Finding] = []
    relaxations: list[Relaxation] = []
    expansion_cost_cny_per_t: float = DEFAULT_EXPANSION_CNY_PER_T
    conflict: list[Finding] = []
    max_rate_with_candidates: float | None = None
    """With ``candidates`` in the scenario (left unbuilt by a plan): the highest rate some build set
    reaches (``flowopt invest``); the statement then points to ``flowopt invest``."""


def _name(g: MaterialGraph, table: str, ident: str) -> tuple[str, str]:
    rec = next((r for r in getattr(g.scenario, table) if getattr(r, "id", None) == ident), None)
    return (getattr(rec, "name_zh", "") or ident, getattr(rec, "name_en", "") or ident)


def _booked(g: MaterialGraph, pid: str) -> float:
    p = g.projects[pid]
    return p.product_fraction + (p.loss_fraction if g.scenario.policy.count_losses_as_utilized else 0.0)


def screens(g: MaterialGraph) -> list[Finding]:
    """Solver-free checks: category tonnage vs utilizing capacity, unmeetable quality limits."""
    s = g.scenario
    out: list[Finding] = []
    utilizing = {p for p, x in g.projects.items() if x.counts_as == ProjectBooking.utilization}
    cat_of = {x.id: x.category.value for x in s.streams}
    supply: dict[str, float] = defaultdict(float)
    for x in s.streams:
        supply[x.category.value] += x.generation_t
    for k in s.stockpiles:
        supply[cat_of[k.stream]] += min(k.max_reclaim_t, k.stock_t)
    takers: dict[str, set[str]] = defaultdict(set)
    for a in g.arcs:
        if a.outlet in utilizing:
            takers[cat_of[g.lots[a.lot].stream]].add(a.outlet)
    for cat in sorted(supply):
        if supply[cat] <= 0:
            continue
        cap = sum(g.projects[p].capacity_t * _booked(g, p) for p in takers[cat])
        names = ", ".join(sorted(takers[cat])) or "none"
        if cap < supply[cat]:
            out.append(Finding(kind="capacity_screen", subject=cat, where=None,
                               message=f"{cat}: {supply[cat]:,.0f} t/yr to place (generation plus reclaimable stock), but the utilizing projects that accept it ({names}) can book at most {cap:,.0f} t/yr even if they took nothing else.",
                               message_zh=f"{cat}：待处置 {supply[cat]:,.0f} 吨/年（产生量加可回采存量），接收该类固废的综合利用项目（{names}）即使只处理该类，最多也只能利用 {cap:,.0f} 吨/年。"))
    comp = {(c.stream, c.component): c.fraction for c in s.composition}
    for q in s.quality:
        streams = sorted({g.lots[a.lot].stream for a in g.arcs_into(q.project)})
        if not streams:
            continue
        values = [comp.get((st, q.component), 0.0) for st in streams]
        nm = _name(g, "projects", q.project)
        if q.max_fraction is not None and min(values) > q.max_fraction:
            out.append(Finding(kind="quality_screen", subject=q.project, where=s.where("projects", q.project),
                               message=f"{nm[1]} ({q.project}) limits {q.component} to {q.max_fraction:.2%}, but every stream it accepts has more (lowest {min(values):.2%}): it can take nothing.",
                               message_zh=f"{nm[0]}（{q.project}）要求 {q.component} 不高于 {q.max_fraction:.2%}，但所接收的物料均高于此值（最低 {min(values):.2%}），无法进料。"))
        if q.min_fraction is not None and max(values) < q.min_fraction:
            out.append(Finding(kind="quality_screen", subject=q.project, where=s.where("projects", q.project),
                               message=f"{nm[1]} ({q.project}) needs at least {q.min_fraction:.2%} {q.component}, but every stream it accepts has less (highest {max(values):.2%}): it can take nothing.",
                               message_zh=f"{nm[0]}（{q.project}）要求 {q.component} 不低于 {q.min_fraction:.2%}，但所接收的物料均低于此值（最高 {max(values):.2%}），无法进料。"))
    return out


def unplaced_streams(g: MaterialGraph, options: SolveOptions | None = None) -> list[Finding]:
    """Streams whose tonnes no outlet has room for, when unmanaged tonnes are not allowed.

    Solves the LP without the target once more, with a scratch column on each generation lot's
    balance that takes the tonnes no outlet can (as if they were dumped), and minimizes those
    tonnes. What remains in them is the least tonnage that has nowhere to go; when several
    streams compete for the same full outlets, which of them is short is one of several equal
    answers (the park total is exact).

    Args:
        g: the material graph.
        options: solver settings.

    Returns:
        One ``placement_screen`` finding per stream short of room (largest first) and a
        ``placement_total`` finding for the park; empty when everything can be placed or the
        network has no plan for another reason (a minimum intake that cannot be met).
    """
    lp = assemble(g, with_target=False)
    block = lp.rows["lot_balance"]
    lots = [(block.start + i, str(key)) for i, key in enumerate(block.keys) if g.lots[str(key)].kind == "generation"]
    if not lots:
        return []
    k = len(lots)
    session = Session(lp, options)
    first = session.add_columns(np.ones(k), np.zeros(k), np.full(k, INF), np.arange(k), np.array([r for r, _ in lots]), np.ones(k))
    session.all_costs(np.concatenate([np.zeros(lp.n_cols), np.ones(k)]))
    out = session.solve()
    if not out.ok:
        return []
    s = g.scenario
    gen = {x.id: x for x in s.streams}
    short = []
    for i, (_, lid) in enumerate(lots):
        t = float(out.x[first + i])
        stream = gen[g.lots[lid].stream]
        if t > max(1e-3, 1e-7 * stream.generation_t):
            short.append((t, stream))
    if not short:
        return []
    short.sort(key=lambda x: (-x[0], x[1].id))
    labels = Labels(s)
    found: list[Finding] = []
    for t, st in short:
        outlets = sorted({a.outlet for a in g.arcs_from(f"gen:{st.id}")})
        en_parts, zh_parts = [], []
        for o in outlets:
            cap = g.projects[o].capacity_t if o in g.projects else g.sinks[o].capacity_t
            # a sink's airspace limits it too (sinks.remaining_volume_t)
            space = g.sinks[o].remaining_volume_t if o in g.sinks else None
            en_air, zh_air = ("", "") if space is None else (f", {space:,.0f} t of airspace left", f"，剩余库容 {space:,.0f} 吨")
            en_parts.append(f"{o} ({'no limit' if cap is None else f'{cap:,.0f} t/yr'}{en_air})")
            zh_parts.append(f"{o}（{'不限' if cap is None else f'{cap:,.0f} 吨/年'}{zh_air}）")
        nm = labels.name("stream", st.id)
        firm = f", firm {st.firm}" if st.firm else ""
        firm_zh = f"，{st.firm}" if st.firm else ""
        found.append(Finding(kind="placement_screen", subject=st.id, where=s.where("streams", st.id), tonnes_t=t,
                             message=f"{nm[1]} ({st.id}{firm}): {t:,.0f} of its {st.generation_t:,.0f} t/yr have no outlet with room. It can go only to {', '.join(en_parts)}, and capacities, quality limits or shares leave no room there; dumping is not allowed (policy.allow_unmanaged is false). Add capacity, an outlet that accepts it, or allow unmanaged tonnes at a stated penalty.",
                             message_zh=f"{nm[0]}（{st.id}{firm_zh}）：年产生 {st.generation_t:,.0f} 吨中有 {t:,.0f} 吨无处可去。其可去向仅有 {'、'.join(zh_parts)}，受产能、成分或占比限制已无余量；本情景不允许未妥善处置（policy.allow_unmanaged 为 false）。请增加产能、增加接收该物料的去向，或明确允许未妥善处置并给出罚金。"))
    total = sum(t for t, _ in short)
    found.append(Finding(kind="placement_total", subject="park", where=None, tonnes_t=total,
                         message=f"At least {total:,.0f} t/yr of this year's waste cannot be placed in any project or sink (streams that share full outlets could trade places; the total is exact).",
                         message_zh=f"当年产生的固废中至少 {total:,.0f} 吨/年无法进入任何利用项目或处置/贮存设施（共用已满去向的物料可互换，总量准确）。"))
    return found


def min_cut(g: MaterialGraph) -> list[Finding]:
    """Capacities on the minimum cut between supplies and utilizing projects (feed tonnes).

    Residues are supplied at their largest possible amount (fraction × the producing
    project's capacity), so the cut is an optimistic bound; what it names still limits.
    """
    s = g.scenario
    utilizing = {p for p, x in g.projects.items() if x.counts_as == ProjectBooking.utilization}
    gen = {x.id: x.generation_t for x in s.streams}
    stock = {k.id: min(k.max_reclaim_t, k.stock_t) for k in s.stockpiles}
    frac = {(r.project, r.stream): r.fraction for r in s.residues}
    import networkx as nx  # only a diagnosis needs the min-cut

    net = nx.DiGraph()
    for lid, lot in g.lots.items():
        if lot.kind == "generation":
            cap = gen[lot.stream]
        elif lot.kind == "stock":
            cap = stock[lot.source]
        else:
            cap = frac[(lot.source, lot.stream)] * g.projects[lot.source].capacity_t
        net.add_edge("supply", lid, capacity=cap)
    for a in g.arcs:
        if a.outlet in utilizing:
            net.add_edge(a.lot, a.outlet)  # no capacity attribute: unbounded
    for p in sorted(utilizing):
        net.add_edge(p, "utilized", capacity=g.projects[p].capacity_t)
    if "utilized" not in net or "supply" not in net:
        return []
    value, (reach, _) = nx.minimum_cut(net, "supply", "utilized")
    out: list[Finding] = []
    for u, v, data in sorted(net.edges(data=True)):
        if u in reach and v not in reach and "capacity" in data:
            if v == "utilized":
                nm = _name(g, "projects", u)
                out.append(Finding(kind="min_cut", subject=u, where=s.where("projects", u),
                                   message=f"{nm[1]} ({u}): its capacity of {data['capacity']:,.0f} t/yr is on the cut that limits utilization.",
                                   message_zh=f"{nm[0]}（{u}）：其 {data['capacity']:,.0f} 吨/年的产能位于限制综合利用的最小割上。"))
            else:
                lot = g.lots[v]
                out.append(Finding(kind="min_cut", subject=lot.stream, where=None,
                                   message=f"Supply of {lot.stream} ({lot.kind} {lot.source}), {data['capacity']:,.0f} t/yr, is all taken by utilizing outlets on the cut.",
                                   message_zh=f"{lot.stream}（{lot.source}）的来料 {data['capacity']:,.0f} 吨/年已全部进入综合利用，位于最小割上。"))
    out.append(Finding(kind="min_cut_value", subject="park", where=None,
                       message=f"At most {value:,.0f} t/yr of feed can reach utilizing projects over this network.",
                       message_zh=f"在现有网络上，最多 {value:,.0f} 吨/年物料可进入综合利用项目。"))
    return out


def _subject(key: Hashable) -> str:
    """A row key as the ``subject`` of a relaxation or finding (``R01``, ``R01:TiO2``, ``park``)."""
    if key is None:
        return "park"
    if isinstance(key, tuple):
        return ":".join(str(k) for k in key)
    return str(key)


def elastic_relaxations(g: MaterialGraph, target: float, expansion_cost: float = DEFAULT_EXPANSION_CNY_PER_T, options: SolveOptions | None = None) -> list[Relaxation]:
    """Least-cost set of relaxations that makes ``target`` feasible (see module docstring).

    Every row of every family with a relaxation sign gets an elastic column with that sign
    as its coefficient (:mod:`flowopt.formulation.families`), priced at ``expansion_cost``
    (the target's at ``SHORTFALL_WEIGHT`` times that).

    Args:
        g: the material graph.
        target: the target that is infeasible.
        expansion_cost: CNY per t/yr of relaxing a limit.
        options: solver settings.

    Returns:
        The relaxations with non-zero size, largest cost first; empty if the elastic LP fails.
    """
    lp = assemble(g, target_rate=target)
    n = lp.network
    held = {k.id: k.stock_t for k in g.scenario.stockpiles}
    extra: list[tuple[RowFamily, Hashable, int, float, float]] = []  # family, key, row, cost, upper
    for fam in ROWS:
        if fam.relax == 0:
            continue
        block = lp.rows[fam.name]
        for i, key in enumerate(block.keys):
            row = block.start + i
            cost = expansion_cost * (SHORTFALL_WEIGHT if fam.name in POLICY_TARGETS else 1.0)
            # no relaxation can reclaim more than the stockpile holds
            upper = held[str(key)] - float(lp.row_upper[row]) if fam.name == "stock_reclaim_limit" else INF
            extra.append((fam, key, row, cost, upper))
    session = Session(lp, options)
    n0 = lp.n_cols
    k = len(extra)
    weights = np.array([e[3] for e in extra])
    signs = np.array([float(e[0].relax) for e in extra])
    first = session.add_columns(weights, np.zeros(k), np.array([e[4] for e in extra]), np.arange(k + 1)[:-1] if k else np.zeros(0), np.array([e[2] for e in extra]), signs)
    # phase 1: the smallest relaxation, plan costs ignored (else cheap capacity would be
    # "relaxed" merely because using it earns money)
    session.all_costs(np.concatenate([np.zeros(n0), weights]))
    out1 = session.solve()
    if not out1.ok:
        return []
    least = float(out1.objective or 0.0)
    # phase 2: among relaxations that cheap, the least-cost plan
    idx = np.arange(first, first + k)
    session.add_row(-INF, least * (1 + 1e-9) + 1e-6, idx, weights)
    session.all_costs(np.concatenate([lp.col_cost, np.zeros(k)]))
    out2 = session.solve()
    if not out2.ok:
        return []
    x = out2.x
    labels = Labels(g.scenario)
    relaxations: list[Relaxation] = []
    for i, (fam, key, row, cost, _) in enumerate(extra):
        size = float(x[first + i])
        if size <= 1e-3:  # below a kilogram (or a gram of component): solver round-off
            continue
        relax = _relaxation(labels, n, lp, fam, key, row, size, cost * size, x)
        # drop round-off: a couple of tonnes of capacity or a millionth of a fraction
        if abs(relax.change) > (2.0 if relax.unit == "t/yr" else 1e-6):
            relaxations.append(relax)
    relaxations.sort(key=lambda r: (-r.cost_cny, r.kind, r.subject))
    return relaxations


def _relaxation(labels: Labels, n: Network, lp: AssembledLP, fam: RowFamily, key: Hashable, row: int, size: float, cost: float, x: np.ndarray) -> Relaxation:
    """One relaxation, with sizes rounded outward a little so that applying them is feasible."""
    assert fam.relaxation is not None and fam.conflict is not None
    where = fam.conflict(labels, n, key)[2]
    kind, subject_id = fam.subject(key)
    if kind == "outlet":
        kind = "project" if subject_id in n.g.projects else "sink"
    if fam.tonnage:
        down = fam.relax > 0
        current = float(lp.row_lower[row] if down else lp.row_upper[row])
        # whole tonnes; round down only by what the solver's tolerance absorbs
        step = float(round(size)) if round(size) >= size * (1 - 1e-9) else float(math.ceil(size))
        proposed = max(current - step, 0.0) if down else current + step
        unit = "t/yr"
        names = labels.name(kind, subject_id)
    else:
        assert fam.parametric is not None
        par = fam.parametric(n, key)
        current = par.theta
        denominator = max(par.c + float(par.b @ x[par.cols]), 1e-9)
        delta = size / denominator + 1e-7
        proposed = max(current - delta, 0.0) if fam.relax > 0 else min(current + delta, 1.0)
        unit = "fraction"
        names = ("园区目标", "the park's target") if kind == "park" else labels.name(kind, subject_id)
    en, zh = fam.relaxation(labels, key, current, proposed)
    return Relaxation(kind=fam.name, subject=_subject(key), name_zh=names[0], name_en=names[1], where=where, current=current, proposed=proposed, change=proposed - current, unit=unit, cost_cny=cost, explanation=en, explanation_zh=zh)


def conflict(g: MaterialGraph, target: float, options: SolveOptions | None = None, *, seconds: float | None = None) -> list[Finding]:
    """Limits in HiGHS's irreducible infeasible subset (empty when HiGHS cannot find one).

    The search is bounded by ``seconds`` of wall clock (default: the solver's time limit);
    when it cannot finish in time the answer is one finding saying so, never a hang.
    """
    options = options or SolveOptions()
    lp = assemble(g, target_rate=target)
    budget = options.time_limit_s if seconds is None else seconds
    # the smaller set first (strategy 4), then the row-priority one
    found = iis_within(lp, budget, options, (4, 2))
    if found.status == "timeout":
        return [Finding(kind="conflict_timeout", subject="park", where=None, message=f"The conflicting limits were not computed: the search did not finish within {budget:g} s (raise --time-limit to let it run longer).", message_zh=f"未能在 {budget:g} 秒内找出相互冲突的约束（可提高 --time-limit 后重试）。")]
    rows = found.rows if found.status == "found" else []
    labels = Labels(g.scenario)
    families = {f.name: f for f in ROWS}
    out: list[Finding] = []
    for i in sorted(rows, key=lp.row_name):
        family, key = lp.row_family(i)
        fam = families[family]
        assert fam.conflict is not None
        text, text_zh, where = fam.conflict(labels, lp.network, key)
        out.append(Finding(kind=family, subject=_subject(key), where=where, message=text, message_zh=text_zh))
    return out


def diagnose(g: MaterialGraph, target: float, options: SolveOptions | None = None, expansion_cost: float = DEFAULT_EXPANSION_CNY_PER_T) -> Diagnosis:
    """Explain why ``target`` cannot be met on ``g`` and propose the cheapest fix.

    Args:
        g: the material graph.
        target: the infeasible target.
        options: solver settings.
        expansion_cost: CNY per t/yr used to price relaxations.

    Returns:
        The diagnosis: highest reachable rate, screens, min cut, relaxations and conflict set.
    """
    options = options or SolveOptions()
    mode = g.scenario.policy.rate_mode.value
    best = max_reachable_rate(g, options)
    relax = elastic_relaxations(g, target, expansion_cost, options)
    fix = [r for r in relax if r.kind != "target"]
    placement = unplaced_streams(g, options) if best is None and not g.scenario.policy.allow_unmanaged else []
    short = [f for f in placement if f.kind == "placement_screen"]
    if short:
        total = sum(f.tonnes_t or 0.0 for f in short)
        each = ", ".join(f"{f.subject} {f.tonnes_t or 0.0:,.0f} t/yr" for f in short[:5]) + (f" and {len(short) - 5} more" if len(short) > 5 else "")
        each_zh = "、".join(f"{f.subject} {f.tonnes_t or 0.0:,.0f} 吨/年" for f in short[:5]) + (f" 等 {len(short)} 种" if len(short) > 5 else "")
        statement = f"No plan exists even without the target: at least {total:,.0f} t/yr of this year's waste have no outlet with room ({each}), and unmanaged (dumped) tonnes are not allowed (policy.allow_unmanaged is false)."
        statement_zh = f"即使不设目标也无可行方案：当年产生的固废至少 {total:,.0f} 吨/年无处可去（{each_zh}），且本情景不允许未妥善处置（policy.allow_unmanaged 为 false）。"
    elif best is None and any(f.target_rate for f in g.scenario.firms):
        statement = "No plan exists even without the target: some minimum intakes or firms' duties (firms.target_rate) cannot be met."
        statement_zh = "即使不设目标也无可行方案：部分项目的最低进料量或企业主体责任目标（firms.target_rate）无法满足。"
    elif best is None:
        statement = "No plan exists even without the target: some minimum intakes cannot be supplied."
        statement_zh = "即使不设目标也无可行方案：部分项目的最低进料量无法满足。"
    else:
        statement = f"The {target:.1%} {mode.replace('_', ' ')} target cannot be met: the highest rate this network can reach is {best:.2%}."
        from flowopt.i18n import value

        statement_zh = f"{target:.1%} 的{value('rate_mode', mode, 'zh')}目标无法实现：现有网络最高只能达到 {best:.2%}。"
    if fix:
        top = "; ".join(r.explanation.rstrip(".") for r in fix[:3])
        top_zh = "；".join(r.explanation_zh.rstrip("。") for r in fix[:3])
        more = f" (and {len(fix) - 3} more)" if len(fix) > 3 else ""
        statement += f" Cheapest fix found: {top}{more}."
        statement_zh += f"最经济的调整：{top_zh}。"
    if any(r.kind == "target" for r in relax):
        r = next(r for r in relax if r.kind == "target")
        statement += f" No relaxation of capacities or limits reaches it: at most {r.proposed:.2%} with them."
        statement_zh += f"仅放宽产能与限值也无法达到，最多 {r.proposed:.2%}。"
    with_builds = None
    if g.scenario.candidates:  # a plan leaves candidates unbuilt: say what building them would reach
        with_builds, hint, hint_zh = _candidates_hint(g, target, options)
        statement += hint
        statement_zh += hint_zh
    return Diagnosis(target=target, rate_mode=mode, max_rate=best, statement=statement, statement_zh=statement_zh, screens=placement + screens(g), min_cut=min_cut(g), relaxations=relax, expansion_cost_cny_per_t=expansion_cost, conflict=conflict(g, target, options), max_rate_with_candidates=with_builds)


def _candidates_hint(g: MaterialGraph, target: float, options: SolveOptions) -> tuple[float | None, str, str]:
    """The highest rate with the scenario's candidates built (a MILP) and the sentences pointing to ``flowopt invest``."""
    from flowopt.invest import max_rate_with_candidates

    n = len(g.scenario.candidates)
    try:
        rate = max_rate_with_candidates(g.scenario.model_copy(update={"policy": g.scenario.policy.model_copy(update={"target_rate": target})}), options)
    except Exception:  # the hint is a courtesy: the diagnosis stands without it
        rate = None
    if rate is None:
        return None, (f" The scenario also lists {n} candidate project(s), which a plan leaves unbuilt; run flowopt invest (POST /v1/investments) to choose which to build."), (f"本情景还列有 {n} 个候选项目，方案计算时均按未建设处理；可运行 flowopt invest（POST /v1/investments）选择建设哪些项目。")
    if rate + 1e-9 >= target:
        return rate, (f" The scenario also lists {n} candidate project(s), which a plan leaves unbuilt: with them the target is reachable (up to {rate:.2%}). Run flowopt invest (POST /v1/investments) to choose which to build at least cost."), (f"本情景还列有 {n} 个候选项目，方案计算时均按未建设处理：建设后可以实现目标（最高 {rate:.2%}）。请运行 flowopt invest（POST /v1/investments）选择成本最低的建设方案。")
    return rate, (f" The scenario also lists {n} candidate project(s), which a plan leaves unbuilt; even with them the highest rate is {rate:.2%} (flowopt invest diagnoses the network with them built)."), (f"本情景还列有 {n} 个候选项目，方案计算时均按未建设处理；即使全部可建，最高也只能达到 {rate:.2%}（flowopt invest 会按建成后的网络给出诊断）。")


def max_reachable_rate(g: MaterialGraph | Network, options: SolveOptions | None = None) -> float | None:
    """Return the highest value of the scenario's rate any plan can reach, cost ignored.

    Args:
        g: the material graph (or its :class:`~flowopt.formulation.Network`, to reuse it).
        options: solver settings.

    Returns:
        The maximum rate, or ``None`` when the network has no feasible plan at all.
    """
    lp = assemble(g, with_target=False)
    gen = lp.constants["generation_t"]
    if gen <= 0:
        return None
    rate, outcome = maximize_ratio_lp(Session(lp, options), lp.forms["rate_numerator"], lp.forms["rate_extra_denominator"], gen)
    if not outcome.ok or math.isnan(rate):
        return None
    return rate


def with_target_source(diag: Diagnosis, where: str) -> Diagnosis:
    """Return ``diag`` with the target's relaxation and conflict entries naming where it came from.

    The formulation names ``scenario.yaml policy.target_rate`` as the target's source; a target
    given on the command line (``--target 0.95``), in a workbook or in an API request comes
    from elsewhere, and the diagnosis should send the reader there.

    Args:
        diag: a diagnosis.
        where: the target's source, e.g. ``--target 0.95 (command line)``.

    Returns:
        A copy with ``where`` set on every entry of kind ``target``; the rest unchanged.
    """

    def fix(items: list[Any]) -> list[Any]:
        return [x.model_copy(update={"where": where}) if x.kind == "target" else x for x in items]

    return diag.model_copy(update={"relaxations": fix(diag.relaxations), "conflict": fix(diag.conflict)})
