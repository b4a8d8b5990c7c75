"""Bottlenecks: solved model + duals -> ranked ``Bottleneck`` cards in readable units.

HiGHS reports, for every row, the change of the objective per unit change of the row's
right-hand side. Each constraint family turns that into a person's unit:

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

For the limits whose coefficients hold the limit (quality, share, target) the derivative
follows from d objective / d θ = y (d b/d θ − (d a/d θ) · x*), with x* the optimal flows; E is
the prior-year part of the rate's denominator at the optimum. Values hold for small changes;
the valid ranges come with the ranging work.

Cards are ranked by ``value_cny``: the CNY/yr at stake when the limit moves by a like-for-like
step, 1 % of a tonnage limit or one percentage point of a fraction limit or of the target.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from flowopt.graph import MaterialGraph
from flowopt.model import generation_total_t, rate_extra_denominator
from flowopt.results import Bottleneck
from flowopt.solve import SolveOutcome

#: Duals smaller than this (CNY per unit) are treated as zero.
ZERO_DUAL = 1e-6


def _names(g: MaterialGraph, kind: str, subject: str) -> tuple[str, str]:
    s = g.scenario
    table: dict[str, Any] = {
        "project": {p.id: p for p in s.projects},
        "sink": {d.id: d for d in s.sinks},
        "stockpile": {k.id: k for k in s.stockpiles},
        "route": {r.id: r for r in s.routes},
    }.get(kind, {})
    rec = table.get(subject)
    zh = getattr(rec, "name_zh", "") or subject
    en = getattr(rec, "name_en", "") or subject
    return zh, en


#: Kinds whose limit is a tonnage; their ``value_cny`` is the price of relaxing by 1 % of it.
_TONNAGE_KINDS = {"project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit"}


def _card(constraint: str, kind: str, subject: str, names: tuple[str, str], price: float, unit: str, limit: float, en: str, zh: str) -> Bottleneck:
    # tonnage limits and percentage limits have different units; ranking compares the money of
    # a like-for-like step: 1 % of a tonnage limit, or one percentage point of a fraction limit
    value = price * 0.01 * limit if kind in _TONNAGE_KINDS else price
    return Bottleneck(constraint=constraint, kind=kind, subject=subject, subject_name_zh=names[0], subject_name_en=names[1], shadow_price=price, unit=unit, limit=limit, value_cny=value, explanation=en, explanation_zh=zh)


def _value(outcome: SolveOutcome, expr: Any) -> float:
    """Evaluate a linear expression at the outcome's solution without loading it into the model."""
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True)
    return float(repn.constant or 0.0) + sum(float(c) * outcome.values.get(v.name, 0.0) for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True))


def find_bottlenecks(g: MaterialGraph, m: pyo.ConcreteModel, outcome: SolveOutcome) -> list[Bottleneck]:
    """List every binding constraint with a non-zero shadow price, most valuable first.

    Args:
        g: the material graph.
        m: the solved model.
        outcome: its optimal outcome (with duals).

    Returns:
        Bottleneck cards sorted by ``value_cny`` (money of a 1 % / one-point relaxation,
        largest magnitude first), then by constraint name.
    """
    d = outcome.duals
    cards: list[Bottleneck] = []

    def dual(con: Any) -> float:
        y = d.get(con.name, 0.0)
        return 0.0 if abs(y) < ZERO_DUAL else y

    for p in m.PROJECTS:
        y = dual(m.project_capacity[p])
        if y:
            nm = _names(g, "project", p)
            cap = pyo.value(m.capacity_t[p])
            cards.append(_card(m.project_capacity[p].name, "project_capacity", p, nm, -y, "CNY/yr per t/yr of capacity", cap,
                               f"{nm[1]} ({p}) is full at {cap:,.0f} t/yr: each extra t/yr of capacity would save {-y:,.2f} CNY/yr.",
                               f"{nm[0]}（{p}）产能已满（{cap:,.0f} 吨/年）：每增加 1 吨/年产能可节约 {-y:,.2f} 元/年。"))
    for p in m.MIN_INTAKE_PROJECTS:
        y = dual(m.project_min_intake[p])
        if y:
            nm = _names(g, "project", p)
            lim = pyo.value(m.min_intake_t[p])
            cards.append(_card(m.project_min_intake[p].name, "project_min_intake", p, nm, y, "CNY/yr per t/yr of minimum intake", lim,
                               f"{nm[1]} ({p}) must take at least {lim:,.0f} t/yr: each t/yr less of that minimum would save {y:,.2f} CNY/yr.",
                               f"{nm[0]}（{p}）最低进料 {lim:,.0f} 吨/年：最低进料每减少 1 吨/年可节约 {y:,.2f} 元/年。"))
    for k in m.CAPPED_SINKS:
        y = dual(m.sink_capacity[k])
        if y:
            nm = _names(g, "sink", k)
            lim = pyo.value(m.sink_capacity_t[k])
            cards.append(_card(m.sink_capacity[k].name, "sink_capacity", k, nm, -y, "CNY/yr per t/yr of capacity", lim,
                               f"{nm[1]} ({k}) is full at {lim:,.0f} t/yr: each extra t/yr it could take would save {-y:,.2f} CNY/yr.",
                               f"{nm[0]}（{k}）已满（{lim:,.0f} 吨/年）：每增加 1 吨/年容量可节约 {-y:,.2f} 元/年。"))
    for r in m.CAPPED_ROUTES:
        y = dual(m.route_capacity[r])
        if y:
            nm = _names(g, "route", r)
            lim = pyo.value(m.route_capacity_t[r])
            cards.append(_card(m.route_capacity[r].name, "route_capacity", r, nm, -y, "CNY/yr per t/yr of route capacity", lim,
                               f"Route {nm[1]} ({r}) is full at {lim:,.0f} t/yr: each extra t/yr would save {-y:,.2f} CNY/yr.",
                               f"运输线路 {nm[0]}（{r}）运力已满（{lim:,.0f} 吨/年）：每增加 1 吨/年运力可节约 {-y:,.2f} 元/年。"))
    for k in m.STOCKPILES:
        y = dual(m.stock_reclaim_limit[k])
        if y:
            nm = _names(g, "stockpile", k)
            lim = pyo.value(m.reclaim_limit_t[k])
            cards.append(_card(m.stock_reclaim_limit[k].name, "stock_reclaim_limit", k, nm, -y, "CNY/yr per t/yr of reclaim", lim,
                               f"Reclaim from {nm[1]} ({k}) is at its limit of {lim:,.0f} t/yr: each extra t/yr would save {-y:,.2f} CNY/yr.",
                               f"{nm[0]}（{k}）年回采量已达上限 {lim:,.0f} 吨：每多回采 1 吨/年可节约 {-y:,.2f} 元/年。"))
    for (p, comp) in m.QUALITY_MAX:
        y = dual(m.quality_max[p, comp])
        if y:
            nm = _names(g, "project", p)
            feed = _value(outcome, m.feed_t[p])
            lim = next(q.max_fraction for q in g.scenario.quality if q.project == p and q.component == comp)
            price = -y * feed * 0.01
            cards.append(_card(m.quality_max[p, comp].name, "quality_max", p, nm, price, "CNY/yr per percentage point of the limit", float(lim or 0),
                               f"The {comp} limit of {nm[1]} ({p}) binds at {lim:.2%} of the blended feed: allowing one percentage point more would save {price:,.0f} CNY/yr.",
                               f"{nm[0]}（{p}）进料 {comp} 上限 {lim:.2%} 起约束作用：上限每放宽 1 个百分点可节约 {price:,.0f} 元/年。"))
    for (p, comp) in m.QUALITY_MIN:
        y = dual(m.quality_min[p, comp])
        if y:
            nm = _names(g, "project", p)
            feed = _value(outcome, m.feed_t[p])
            lim = next(q.min_fraction for q in g.scenario.quality if q.project == p and q.component == comp)
            price = y * feed * 0.01
            cards.append(_card(m.quality_min[p, comp].name, "quality_min", p, nm, price, "CNY/yr per percentage point of the limit", float(lim or 0),
                               f"The {comp} minimum of {nm[1]} ({p}) binds at {lim:.2%} of the blended feed: lowering it by one percentage point would save {price:,.0f} CNY/yr.",
                               f"{nm[0]}（{p}）进料 {comp} 下限 {lim:.2%} 起约束作用：下限每降低 1 个百分点可节约 {price:,.0f} 元/年。"))
    for (o, st) in m.SHARE_LIMITS:
        y = dual(m.feed_share[o, st])
        if y:
            kind = "project" if o in g.projects else "sink"
            nm = _names(g, kind, o)
            intake = sum(outcome.values.get(m.flow_t[a.key].name, 0.0) for a in g.arcs_into(o))
            lim = next(a.max_share for a in g.scenario.accepts if a.outlet == o and a.stream == st)
            price = -y * intake * 0.01
            cards.append(_card(m.feed_share[o, st].name, "feed_share", o, nm, price, "CNY/yr per percentage point of share", lim,
                               f"Stream {st} may form at most {lim:.0%} of the intake of {nm[1]} ({o}): one percentage point more would save {price:,.0f} CNY/yr.",
                               f"{st} 在 {nm[0]}（{o}）进料中的占比上限 {lim:.0%} 起约束作用：每放宽 1 个百分点可节约 {price:,.0f} 元/年。"))
    if hasattr(m, "target"):
        y = dual(m.target)
        if y:
            extra = _value(outcome, rate_extra_denominator(m, g))
            price = y * (generation_total_t(g) + extra) * 0.01
            t = pyo.value(m.target_rate)
            mode = g.scenario.policy.rate_mode.value
            cards.append(_card(m.target.name, "target", "park", ("园区", "park"), price, "CNY/yr per percentage point of the target", t,
                               f"The {t:.0%} {mode} target binds: each extra percentage point costs the park {price:,.0f} CNY/yr (and each point less saves about as much).",
                               f"{t:.0%} 的综合利用率目标起约束作用：目标每提高 1 个百分点，园区年成本增加 {price:,.0f} 元。" if mode == "utilization" else f"{t:.0%} 的目标（{mode}）起约束作用：目标每提高 1 个百分点，园区年成本增加 {price:,.0f} 元。"))
    cards.sort(key=lambda c: (-abs(c.value_cny), c.constraint))
    return cards
