"""Comparison: two ``Plan`` objects -> ``Comparison`` (what changed, and why the cost moved).

Stage: results -> explanation. KPIs side by side, the flows whose tonnes changed, bottlenecks
that appeared, vanished or changed price, and the cost difference broken down by objective
term, largest first. Comparing a plan with itself yields no changes.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from flowopt.results import TERM_SIGNS, Plan

#: Tonnes below this are not a change (solver round-off on flows of millions of tonnes).
TOL_T = 1e-3
#: Relative price change below this is not a change.
TOL_PRICE = 1e-6


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KpiRow(_Out):
    """One indicator in both plans."""

    metric: str
    unit: str
    base: float | None
    whatif: float | None
    delta: float | None


class FlowChange(_Out):
    """A movement whose tonnes differ between the plans (CNY/yr, t/yr)."""

    stream: str
    origin: str
    source: str
    destination: str
    kind: str
    base_t: float
    whatif_t: float
    delta_t: float
    delta_cost_cny: float


class BottleneckChange(_Out):
    """A binding limit that appeared, vanished or changed price."""

    change: Literal["appeared", "vanished", "price_changed"]
    constraint: str
    kind: str
    subject: str
    explanation: str
    explanation_zh: str
    base_price: float | None
    whatif_price: float | None


class Comparison(_Out):
    """Base plan vs what-if plan."""

    base_id: str
    whatif_id: str
    kpis: list[KpiRow]
    cost_terms: list[KpiRow]
    flows: list[FlowChange]
    bottlenecks: list[BottleneckChange]
    cost_delta_cny: float
    explanation: str
    explanation_zh: str

    @property
    def unchanged(self) -> bool:
        """True when nothing material differs."""
        return not self.flows and not self.bottlenecks and abs(self.cost_delta_cny) <= 1e-6 * max(1.0, abs(self.kpis[1].base or 0.0))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the comparison's tables as DataFrames."""
        return {
            "kpis": pd.DataFrame([r.model_dump() for r in self.kpis]),
            "cost_terms": pd.DataFrame([r.model_dump() for r in self.cost_terms]),
            "flows": pd.DataFrame([r.model_dump() for r in self.flows]),
            "bottlenecks": pd.DataFrame([r.model_dump() for r in self.bottlenecks]),
        }


def _row(metric: str, unit: str, a: float | None, b: float | None) -> KpiRow:
    return KpiRow(metric=metric, unit=unit, base=a, whatif=b, delta=(b - a) if a is not None and b is not None else None)


_TERM_EN = {
    "transport_cny": "transport", "processing_cny": "processing", "revenue_cny": "product revenue", "incentives_cny": "tax incentives",
    "disposal_fees_cny": "disposal fees", "storage_fees_cny": "storage fees", "reclaim_cny": "stock reclaim",
    "environmental_tax_cny": "environmental tax", "unmanaged_penalty_cny": "unmanaged penalty",
}
_TERM_ZH = {
    "transport_cny": "运输", "processing_cny": "加工", "revenue_cny": "产品收入", "incentives_cny": "税收优惠",
    "disposal_fees_cny": "处置费", "storage_fees_cny": "贮存费", "reclaim_cny": "存量回采",
    "environmental_tax_cny": "环保税", "unmanaged_penalty_cny": "未妥善处置罚金",
}


def compare_plans(base: Plan, whatif: Plan) -> Comparison:
    """Compare two plans.

    Args:
        base: the reference plan.
        whatif: the plan to compare with it.

    Returns:
        The comparison: KPIs, cost terms, changed flows (largest first), bottleneck changes
        and a sentence on what moved the cost.
    """
    ka, kb = base.kpis, whatif.kpis
    tma = base.target_marginal_cost.cny_per_point if base.target_marginal_cost else None
    tmb = whatif.target_marginal_cost.cny_per_point if whatif.target_marginal_cost else None
    kpis = [
        _row("utilization_rate", "fraction", base.utilization_rate, whatif.utilization_rate),
        _row("objective_cny", "CNY/yr", base.objective_cny, whatif.objective_cny),
        _row("target", "fraction", base.target, whatif.target),
        _row("max_utilization_rate", "fraction", base.max_utilization_rate, whatif.max_utilization_rate),
        _row("target_cny_per_point", "CNY/yr per point", tma, tmb),
        _row("generated_t", "t/yr", ka.generated_t, kb.generated_t),
        _row("reclaimed_t", "t/yr", ka.reclaimed_t, kb.reclaimed_t),
        _row("utilized_t", "t/yr", ka.utilized_t, kb.utilized_t),
        _row("disposed_t", "t/yr", ka.disposed_t, kb.disposed_t),
        _row("stored_t", "t/yr", ka.stored_t, kb.stored_t),
        _row("unmanaged_t", "t/yr", ka.unmanaged_t, kb.unmanaged_t),
    ]
    # revenue enters the cost with a minus sign: report each term's effect on the cost
    sign = {k: float(TERM_SIGNS.get(k, 1)) for k in base.cost_terms}
    terms = [_row(k, "CNY/yr (effect on cost)", sign[k] * base.cost_terms[k], sign[k] * whatif.cost_terms.get(k, 0.0)) for k in base.cost_terms]

    def key(f: object) -> tuple[str, str, str, str]:
        return (f.stream, f.origin, f.source, f.destination)  # type: ignore[attr-defined]

    fa = {key(f): f for f in base.flows}
    fb = {key(f): f for f in whatif.flows}
    flows: list[FlowChange] = []
    for k in sorted(set(fa) | set(fb)):
        a, b = fa.get(k), fb.get(k)
        ta, tb = (a.tonnes if a else 0.0), (b.tonnes if b else 0.0)
        if abs(tb - ta) <= TOL_T:
            continue
        ca, cb = (a.cost_cny if a else 0.0), (b.cost_cny if b else 0.0)
        kind = (b or a).kind  # type: ignore[union-attr]
        flows.append(FlowChange(stream=k[0], origin=k[1], source=k[2], destination=k[3], kind=kind, base_t=ta, whatif_t=tb, delta_t=tb - ta, delta_cost_cny=cb - ca))
    flows.sort(key=lambda f: (-abs(f.delta_t), f.stream, f.source, f.destination))

    ba = {b.constraint: b for b in base.bottlenecks}
    bb = {b.constraint: b for b in whatif.bottlenecks}
    cards: list[BottleneckChange] = []
    for name in sorted(set(ba) | set(bb)):
        a, b = ba.get(name), bb.get(name)
        if a and not b:
            cards.append(BottleneckChange(change="vanished", constraint=name, kind=a.kind, subject=a.subject, explanation=f"No longer binding: {a.explanation}", explanation_zh=f"不再起约束作用：{a.explanation_zh}", base_price=a.shadow_price, whatif_price=None))
        elif b and not a:
            cards.append(BottleneckChange(change="appeared", constraint=name, kind=b.kind, subject=b.subject, explanation=f"Now binding: {b.explanation}", explanation_zh=f"新出现的瓶颈：{b.explanation_zh}", base_price=None, whatif_price=b.shadow_price))
        elif a and b and abs(a.shadow_price - b.shadow_price) > TOL_PRICE * max(1.0, abs(a.shadow_price)):
            cards.append(BottleneckChange(change="price_changed", constraint=name, kind=b.kind, subject=b.subject, explanation=f"Price {a.shadow_price:,.2f} → {b.shadow_price:,.2f} ({a.unit}): {b.explanation}", explanation_zh=f"影子价格 {a.shadow_price:,.2f} → {b.shadow_price:,.2f}：{b.explanation_zh}", base_price=a.shadow_price, whatif_price=b.shadow_price))

    delta = whatif.objective_cny - base.objective_cny
    moved = sorted((r for r in terms if r.delta and abs(r.delta) > 0.5), key=lambda r: -abs(r.delta or 0.0))
    if abs(delta) <= 1e-6 * max(1.0, abs(base.objective_cny)) and not moved:
        en = "The two plans cost the same."
        zh = "两个方案成本相同。"
    else:
        parts = ", ".join(f"{_TERM_EN.get(r.metric, r.metric)} {r.delta:+,.0f}" for r in moved[:4])
        parts_zh = "，".join(f"{_TERM_ZH.get(r.metric, r.metric)} {r.delta:+,.0f}" for r in moved[:4])
        en = f"The what-if {'costs' if delta >= 0 else 'saves'} {abs(delta):,.0f} CNY/yr {'more than' if delta >= 0 else 'against'} the base; by term (effect on cost): {parts}."
        zh = f"与基准相比，年成本{'增加' if delta >= 0 else '减少'} {abs(delta):,.0f} 元；分项：{parts_zh}。"
        if abs(whatif.utilization_rate - base.utilization_rate) > 1e-9:
            en += f" The utilization rate moves from {base.utilization_rate:.2%} to {whatif.utilization_rate:.2%}."
            zh += f"综合利用率由 {base.utilization_rate:.2%} 变为 {whatif.utilization_rate:.2%}。"
    return Comparison(base_id=base.scenario_id, whatif_id=whatif.scenario_id, kpis=kpis, cost_terms=terms, flows=flows, bottlenecks=cards, cost_delta_cny=delta, explanation=en, explanation_zh=zh)
