"""Diagnosis: an infeasible target -> ``Diagnosis`` (why, and the cheapest fix).

Stage: (``MaterialGraph``, target) -> ``Diagnosis``. Four views of the same question:

1. **Screens** that need no solver: for each waste category, the tonnes to place against the
   capacity of the utilizing projects that accept it; for each project, quality limits that no
   accepted stream can meet.
2. **Min cut**: a max-flow from the supplies to the utilizing projects over the material
   graph; the capacities on the minimum cut are the ones that limit how much can be utilized.
3. **Elastic re-solve**: the LP again, with every limit allowed to move at a price —
   capacities, reclaim limits, minimum intakes and route capacities at ``expansion_cost``
   CNY per t/yr, quality limits and feed shares at the same price per tonne of component (or
   stream) beyond the limit, and the target itself at a far higher price per tonne of shortfall
   so it is moved only when nothing else can help. Phase 1 minimizes the price of the
   relaxations alone; phase 2 keeps that price and minimizes the plan's cost. The result is
   the least-cost set of relaxations, with sizes that make the target feasible when applied.
4. **Conflict**: HiGHS's irreducible infeasible subset of limits.

Everything is named with ids, names and the input row the limit comes from, in English and
Chinese.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Literal

import highspy
import networkx as nx
import numpy as np
import pyomo.environ as pyo
from pydantic import BaseModel, ConfigDict

from flowopt.graph import MaterialGraph
from flowopt.model import build_model, generation_total_t, rate_extra_denominator, rate_numerator
from flowopt.schema import ProjectBooking
from flowopt.solve import SolveOptions, compile_model, maximize_ratio, new_highs

#: Default price of relaxing a limit in the elastic re-solve: CNY per t/yr of extra capacity
#: (an annualized capital charge; a modelling convention that ranks relaxations, not data).
DEFAULT_EXPANSION_CNY_PER_T = 50.0
#: The target's shortfall costs this many times more per tonne than a capacity expansion.
SHORTFALL_WEIGHT = 1e4


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Out):
    """One fact found by a screen, the min cut or the conflict set."""

    kind: str
    subject: str
    where: str | None
    message: str
    message_zh: str


class Relaxation(_Out):
    """One limit to move, by how much, to make the target feasible."""

    kind: Literal["project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit", "quality_max", "quality_min", "feed_share", "target"]
    subject: str
    """Project, sink, route or stockpile id; for quality and share limits ``project:component``
    or ``outlet:stream``; ``park`` for the target."""
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


def _elastic_columns(g: MaterialGraph, m: pyo.ConcreteModel, rows: dict[str, int], expansion: float) -> list[tuple[str, str, Any, int, float, float, float]]:
    """(kind, subject, constraint, row, coefficient, cost, upper bound) of each elastic column."""
    cols: list[tuple[str, str, Any, int, float, float, float]] = []
    held = {k.id: k.stock_t for k in g.scenario.stockpiles}

    def add(kind: str, subject: str, con: Any, coef: float, cost: float, upper: float = highspy.kHighsInf) -> None:
        if con.name in rows:
            cols.append((kind, subject, con, rows[con.name], coef, cost, upper))

    for p in m.PROJECTS:
        add("project_capacity", p, m.project_capacity[p], -1.0, expansion)
    for p in m.MIN_INTAKE_PROJECTS:
        add("project_min_intake", p, m.project_min_intake[p], 1.0, expansion)
    for d in m.CAPPED_SINKS:
        add("sink_capacity", d, m.sink_capacity[d], -1.0, expansion)
    for r in m.CAPPED_ROUTES:
        add("route_capacity", r, m.route_capacity[r], -1.0, expansion)
    for k in m.STOCKPILES:
        # no relaxation can reclaim more than the stockpile holds
        add("stock_reclaim_limit", k, m.stock_reclaim_limit[k], -1.0, expansion, held[k] - float(pyo.value(m.reclaim_limit_t[k])))
    for p, c in m.QUALITY_MAX:
        add("quality_max", f"{p}:{c}", m.quality_max[p, c], -1.0, expansion)
    for p, c in m.QUALITY_MIN:
        add("quality_min", f"{p}:{c}", m.quality_min[p, c], 1.0, expansion)
    for o, st in m.SHARE_LIMITS:
        add("feed_share", f"{o}:{st}", m.feed_share[o, st], -1.0, expansion)
    if hasattr(m, "target"):
        add("target", "park", m.target, 1.0, expansion * SHORTFALL_WEIGHT)
    return cols


def elastic_relaxations(g: MaterialGraph, target: float, expansion_cost: float = DEFAULT_EXPANSION_CNY_PER_T, options: SolveOptions | None = None) -> list[Relaxation]:
    """Least-cost set of relaxations that makes ``target`` feasible (see module docstring).

    Args:
        g: the material graph.
        target: the target that is infeasible.
        expansion_cost: CNY per t/yr of relaxing a limit.
        options: solver settings.

    Returns:
        The relaxations with non-zero size, largest cost first; empty if the elastic LP fails.
    """
    options = options or SolveOptions()
    m = build_model(g, target_rate=target)
    compiled = compile_model(m)
    rows = {con.name: i for i, (con, _) in enumerate(compiled.rows)}
    extra = _elastic_columns(g, m, rows, expansion_cost)
    h = new_highs(options)
    h.passModel(compiled.lp)
    n0 = len(compiled.columns)
    plan_cost = np.asarray(compiled.lp.col_cost_, dtype=float)
    # phase 1: the smallest relaxation, plan costs ignored (else cheap capacity would be
    # "relaxed" merely because using it earns money)
    h.changeColsCost(n0, np.arange(n0, dtype=np.int32), np.zeros(n0))
    for _, _, _, row, coef, cost, upper in extra:
        h.addCol(cost, 0.0, upper, 1, np.array([row], dtype=np.int32), np.array([coef]))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return []
    least = float(h.getInfo().objective_function_value)
    # phase 2: among relaxations that cheap, the least-cost plan
    weights = np.array([col[5] for col in extra])
    idx = np.arange(n0, n0 + len(extra), dtype=np.int32)
    h.addRow(-highspy.kHighsInf, least * (1 + 1e-9) + 1e-6, len(extra), idx, weights)
    h.changeColsCost(n0, np.arange(n0, dtype=np.int32), plan_cost)
    h.changeColsCost(len(extra), idx, np.zeros(len(extra)))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return []
    x = np.asarray(h.getSolution().col_value)
    values = {v.name: float(x[j]) for j, v in enumerate(compiled.columns)}
    out: list[Relaxation] = []
    for i, (kind, subject, con, _, _, cost, _) in enumerate(extra):
        size = float(x[n0 + i])
        if size <= 1e-3:  # below a kilogram (or a gram of component): solver round-off
            continue
        relax = _relaxation(g, m, kind, subject, con, size, cost * size, values, target)
        # drop round-off: a couple of tonnes of capacity or a millionth of a fraction
        if abs(relax.change) > (2.0 if relax.unit == "t/yr" else 1e-6):
            out.append(relax)
    out.sort(key=lambda r: (-r.cost_cny, r.kind, r.subject))
    return out


def _feed(m: pyo.ConcreteModel, g: MaterialGraph, outlet: str, values: dict[str, float]) -> float:
    return sum(values.get(m.flow_t[a.key].name, 0.0) for a in g.arcs_into(outlet))


def _relaxation(g: MaterialGraph, m: pyo.ConcreteModel, kind: str, subject: str, con: Any, size: float, cost: float, values: dict[str, float], target: float) -> Relaxation:
    s = g.scenario
    # sizes are rounded outward a little so that applying them is feasible despite round-off
    if kind in ("project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit"):
        table = {"project_capacity": "projects", "project_min_intake": "projects", "sink_capacity": "sinks", "route_capacity": "routes", "stock_reclaim_limit": "stockpiles"}[kind]
        param = {"project_capacity": m.capacity_t, "project_min_intake": m.min_intake_t, "sink_capacity": m.sink_capacity_t, "route_capacity": m.route_capacity_t, "stock_reclaim_limit": m.reclaim_limit_t}[kind]
        current = float(pyo.value(param[subject]))
        # whole tonnes; round down only by what the solver's tolerance absorbs
        step = float(round(size)) if round(size) >= size * (1 - 1e-9) else float(math.ceil(size))
        down = kind == "project_min_intake"
        proposed = max(current - step, 0.0) if down else current + step
        nm = _name(g, table, subject)
        verb, verb_zh = ("lower the minimum intake of", "将最低进料降低") if down else ("expand", "扩大")
        what = {"project_capacity": "capacity", "project_min_intake": "minimum intake", "sink_capacity": "capacity", "route_capacity": "route capacity", "stock_reclaim_limit": "yearly reclaim limit"}[kind]
        return Relaxation(kind=kind, subject=subject, name_zh=nm[0], name_en=nm[1], where=s.where(table, subject), current=current, proposed=proposed, change=proposed - current, unit="t/yr", cost_cny=cost,
                          explanation=f"{verb.capitalize()} {nm[1]} ({subject}) {what} from {current:,.0f} to {proposed:,.0f} t/yr ({'-' if down else '+'}{step:,.0f}).",
                          explanation_zh=f"{verb_zh}{nm[0]}（{subject}）的{ {'capacity': '产能', 'minimum intake': '最低进料', 'route capacity': '运力', 'yearly reclaim limit': '年回采上限'}[what]}：由 {current:,.0f} 调整为 {proposed:,.0f} 吨/年。")
    if kind in ("quality_max", "quality_min"):
        project, comp = subject.split(":", 1)
        q = next(x for x in s.quality if x.project == project and x.component == comp)
        current = float((q.max_fraction if kind == "quality_max" else q.min_fraction) or 0.0)
        feed = max(_feed(m, g, project, values), 1e-9)
        delta = size / feed + 1e-7
        proposed = min(current + delta, 1.0) if kind == "quality_max" else max(current - delta, 0.0)
        nm = _name(g, "projects", project)
        bound, bound_zh = ("maximum", "上限") if kind == "quality_max" else ("minimum", "下限")
        return Relaxation(kind=kind, subject=subject, name_zh=nm[0], name_en=nm[1], where=s.where("projects", project), current=current, proposed=proposed, change=proposed - current, unit="fraction", cost_cny=cost,
                          explanation=f"Move the {comp} {bound} of {nm[1]} ({project}) from {current:.2%} to {proposed:.2%} of the blended feed.",
                          explanation_zh=f"将{nm[0]}（{project}）进料 {comp} {bound_zh}由 {current:.2%} 调整为 {proposed:.2%}。")
    if kind == "feed_share":
        outlet, stream = subject.split(":", 1)
        current = next(a.max_share for a in s.accepts if a.outlet == outlet and a.stream == stream)
        intake = max(_feed(m, g, outlet, values), 1e-9)
        proposed = min(current + size / intake + 1e-7, 1.0)
        nm = _name(g, "projects" if outlet in g.projects else "sinks", outlet)
        return Relaxation(kind="feed_share", subject=subject, name_zh=nm[0], name_en=nm[1], where=None, current=current, proposed=proposed, change=proposed - current, unit="fraction", cost_cny=cost,
                          explanation=f"Let {stream} form up to {proposed:.1%} (now {current:.0%}) of the intake of {nm[1]} ({outlet}).",
                          explanation_zh=f"将 {stream} 在{nm[0]}（{outlet}）进料中的占比上限由 {current:.0%} 放宽至 {proposed:.1%}。")
    # the target: shortfall in numerator tonnes -> rate points at this solution
    gen = generation_total_t(g)
    extra = sum(values.get(v.name, 0.0) * c for v, c in _linear(rate_extra_denominator(m, g)))
    reached = max(target - size / (gen + extra) - 1e-7, 0.0)
    return Relaxation(kind="target", subject="park", name_zh="园区目标", name_en="the park's target", where="scenario.yaml policy.target_rate", current=target, proposed=reached, change=reached - target, unit="fraction", cost_cny=cost,
                      explanation=f"Even with the relaxations above, lower the target from {target:.1%} to {reached:.2%}.",
                      explanation_zh=f"即使采取上述放宽措施，仍需将目标由 {target:.1%} 降至 {reached:.2%}。")


def _linear(expr: Any) -> list[tuple[Any, float]]:
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True)
    return [(v, float(c)) for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)]


def conflict(g: MaterialGraph, target: float, options: SolveOptions | None = None) -> list[Finding]:
    """Limits in HiGHS's irreducible infeasible subset (empty when HiGHS cannot find one)."""
    options = options or SolveOptions()
    m = build_model(g, target_rate=target)
    compiled = compile_model(m)
    h = new_highs(options)
    h.passModel(compiled.lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return []
    rows: list[int] = []
    for strategy in (4, 2):  # the smaller set first, then the row-priority one
        h.setOptionValue("iis_strategy", strategy)
        status, iis = h.getIis()
        if status == highspy.HighsStatus.kOk and iis.valid_ and len(iis.row_index_):
            rows = list(iis.row_index_)
            break
    out: list[Finding] = []
    for i in sorted(rows, key=lambda r: compiled.rows[r][0].name):
        con = compiled.rows[i][0]
        family = con.parent_component().local_name
        index = con.index()
        key = index if isinstance(index, str) else (":".join(index) if isinstance(index, tuple) else "park")
        text, text_zh, where = _conflict_text(g, family, key)
        out.append(Finding(kind=family, subject=key, where=where, message=text, message_zh=text_zh))
    return out


def _conflict_text(g: MaterialGraph, family: str, key: str) -> tuple[str, str, str | None]:
    s = g.scenario
    if family in ("project_capacity", "project_min_intake"):
        nm = _name(g, "projects", key)
        p = g.projects[key]
        if family == "project_capacity":
            return f"the capacity of {nm[1]} ({key}), {p.capacity_t:,.0f} t/yr", f"{nm[0]}（{key}）的产能 {p.capacity_t:,.0f} 吨/年", s.where("projects", key)
        return f"the minimum intake of {nm[1]} ({key}), {p.min_intake_t:,.0f} t/yr", f"{nm[0]}（{key}）的最低进料 {p.min_intake_t:,.0f} 吨/年", s.where("projects", key)
    if family == "sink_capacity":
        nm = _name(g, "sinks", key)
        return f"the capacity of {nm[1]} ({key})", f"{nm[0]}（{key}）的容量", s.where("sinks", key)
    if family == "route_capacity":
        nm = _name(g, "routes", key)
        return f"the capacity of route {nm[1]} ({key})", f"运输线路 {nm[0]}（{key}）的运力", s.where("routes", key)
    if family == "stock_reclaim_limit":
        nm = _name(g, "stockpiles", key)
        return f"the yearly reclaim limit of {nm[1]} ({key})", f"{nm[0]}（{key}）的年回采上限", s.where("stockpiles", key)
    if family in ("quality_max", "quality_min"):
        project, comp = key.split(":", 1)
        nm = _name(g, "projects", project)
        bound = "maximum" if family == "quality_max" else "minimum"
        return f"the {comp} {bound} of {nm[1]} ({project})", f"{nm[0]}（{project}）的 {comp} {'上限' if family == 'quality_max' else '下限'}", s.where("projects", project)
    if family == "feed_share":
        outlet, stream = key.split(":", 1)
        return f"the share cap of {stream} at {outlet}", f"{stream} 在 {outlet} 的占比上限", None
    if family == "target":
        return "the target itself", "目标本身", "scenario.yaml policy.target_rate"
    if family == "lot_balance":
        lot = g.lots.get(key)
        what = lot.stream if lot else key
        return f"the mass balance of {what} (every tonne must go somewhere)", f"{what} 的物料平衡（每吨都须有去向）", None
    return family, family, None


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
    if best is None:
        statement = "No plan exists even without the target: some minimum intakes cannot be supplied."
        statement_zh = "即使不设目标也无可行方案：部分项目的最低进料量无法满足。"
    else:
        statement = f"The {target:.1%} {mode.replace('_', ' ')} target cannot be met: the highest rate this network can reach is {best:.2%}."
        statement_zh = f"{target:.1%} 的目标（{mode}）无法实现：现有网络最高只能达到 {best:.2%}。"
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
    return Diagnosis(target=target, rate_mode=mode, max_rate=best, statement=statement, statement_zh=statement_zh, screens=screens(g), min_cut=min_cut(g), relaxations=relax, expansion_cost_cny_per_t=expansion_cost, conflict=conflict(g, target, options))


def max_reachable_rate(g: MaterialGraph, options: SolveOptions | None = None) -> float | None:
    """Return the highest value of the scenario's rate any plan can reach, cost ignored.

    Args:
        g: the material graph.
        options: solver settings.

    Returns:
        The maximum rate, or ``None`` when the network has no feasible plan at all.
    """
    m = build_model(g, with_target=False)
    gen = generation_total_t(g)
    if gen <= 0:
        return None
    rate, outcome = maximize_ratio(m, rate_numerator(m, g), rate_extra_denominator(m, g), gen, options)
    if not outcome.ok or math.isnan(rate):
        return None
    return rate
