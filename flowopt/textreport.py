"""Text reports: a plan, its explanation, or a diagnosis as the lines a terminal shows.

Stage: renderer (``Plan`` / ``Diagnosis`` -> text). Used by the command line; the same
functions are public for notebooks (``flowopt.textreport.format_plan(plan)``).
"""

from __future__ import annotations

from typing import Any

from flowopt.results import Plan
from flowopt.texttable import text_table


def _t(x: float) -> str:
    return f"{x:,.0f}"


def format_plan(plan: Plan, *, lang: str = "en", all_flows: bool = False) -> str:
    """Render a plan as a readable text report.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh`` for the bottleneck explanations.
        all_flows: list every flow instead of the 25 largest.

    Returns:
        The report text.
    """
    k = plan.kpis
    met = k.target_rate_value + 1e-9 >= plan.target
    lines = [
        f"flowopt plan: {plan.scenario_id}",
        "=" * 72,
        f"Target: {plan.target:.1%} ({plan.rate_mode})  ->  reached {k.target_rate_value:.2%}  [{'met' if met else 'NOT met'}]",
        f"Utilization rate (official, U/(G+U_prior)) 综合利用率: {k.utilization_rate:.2%}",
        f"Total cost 总成本: {plan.objective_cny:,.0f} CNY/yr   (audit: {'passed' if plan.audit.passed else 'FAILED'})",
        "",
        "Tonnes per year 年吨数:",
        f"  generated 产生量 G        {_t(k.generated_t):>14}",
        f"  reclaimed from stock 回采 {_t(k.reclaimed_t):>14}",
        f"  utilized 综合利用量 U     {_t(k.utilized_t):>14}  (prior-year stock 往年贮存 {_t(k.utilized_prior_t)})",
        f"  disposed 处置量 D         {_t(k.disposed_t):>14}",
        f"  stored 贮存量 S           {_t(k.stored_t):>14}",
        f"  unmanaged 未妥善处置      {_t(k.unmanaged_t):>14}",
        "",
        "Cost terms (CNY/yr):",
    ]
    for name, value in plan.cost_terms.items():
        sign = "-" if name == "revenue_cny" else "+"
        lines.append(f"  {sign} {name:<24}{value:>18,.0f}")
    flows = sorted(plan.flows, key=lambda f: (-f.tonnes, f.stream))
    if flows:
        shown = flows if all_flows else flows[:25]
        lines += ["", f"Flows ({len(shown)} of {len(flows)}, largest first; --all-flows for all):"]
        rows = [{"stream": f.stream, "source": f.source, "destination": f.destination, "kind": f.kind, "tonnes": _t(f.tonnes), "cost_cny": _t(f.cost_cny)} for f in shown]
        lines.append(text_table(rows, ["stream", "source", "destination", "kind", "tonnes", "cost_cny"], right=["tonnes", "cost_cny"]))
    loads = [o for o in plan.outlet_loads if o.capacity_t]
    if loads:
        lines += ["", "Outlet loads:"]
        rows = [{"outlet": o.outlet, "name": o.name_zh or o.name_en, "intake_t": _t(o.intake_t), "capacity_t": _t(o.capacity_t or 0), "load": f"{(o.load_share or 0):.0%}"} for o in loads]
        lines.append(text_table(rows, ["outlet", "name", "intake_t", "capacity_t", "load"], right=["intake_t", "capacity_t", "load"]))
    lines += ["", "Rates by waste category 分类综合利用率:"]
    for r in plan.rates_by_category:
        lines.append(f"  {r.group:<18} {('n/a' if r.rate is None else f'{r.rate:.1%}'):>7}   generated {_t(r.generated_t)} t, utilized {_t(r.utilized_t)} t")
    lines += ["", f"Bottlenecks 瓶颈 ({len(plan.bottlenecks)} binding constraints, most valuable first):"]
    for i, b in enumerate(plan.bottlenecks, 1):
        lines.append(f"  {i:>2}. [{b.kind}] {b.explanation_zh if lang == 'zh' else b.explanation}")
    if plan.warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in plan.warnings]
    return "\n".join(lines)


def _money(x: float | None) -> str:
    return "unbounded" if x is None else f"{x:,.0f}"


def format_explanation(plan: Plan, *, lang: str = "en") -> str:
    """Render the explanation of a plan: target price, headroom, cards and why-not entries.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    zh = lang == "zh"
    k = plan.kpis
    lines = [f"flowopt explain: {plan.scenario_id}", "=" * 72]
    lines.append(f"{'目标' if zh else 'Target'} {plan.target:.1%} ({plan.rate_mode}); {'达到' if zh else 'reached'} {k.target_rate_value:.2%}; {'总成本' if zh else 'total cost'} {plan.objective_cny:,.0f} CNY/yr")
    if plan.max_utilization_rate is not None:
        lines.append(("不计成本时最高可达 " if zh else "Highest reachable rate (cost ignored): ") + f"{plan.max_utilization_rate:.2%}")
    tm = plan.target_marginal_cost
    if tm is not None:
        lines.append(tm.explanation_zh if zh else tm.explanation)
    lines += ["", f"{'瓶颈' if zh else 'Bottlenecks'} ({len(plan.bottlenecks)}, {'按涉及金额排序' if zh else 'ranked by money at stake'}):"]
    for i, b in enumerate(plan.bottlenecks, 1):
        stake = f"{'涉及' if zh else 'at stake'} {_money(b.cny_at_stake)} CNY/yr"
        lines.append(f"  {i:>2}. {b.explanation_zh if zh else b.explanation} [{stake}]")
    lines += ["", f"{'未用足的项目' if zh else 'Why not? Projects unused or below capacity'} ({len(plan.why_not)}):"]
    for w in plan.why_not:
        lines.append(f"   - {w.explanation_zh if zh else w.explanation}")
    return "\n".join(lines)


def format_diagnosis(diag: Any, *, lang: str = "en") -> str:
    """Render why a target cannot be met and the cheapest fix.

    Args:
        diag: a :class:`flowopt.diagnosis.Diagnosis`.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    zh = lang == "zh"
    lines = ["目标无法实现" if zh else "Target not reachable", "=" * 72, diag.statement_zh if zh else diag.statement]
    if diag.relaxations:
        lines += ["", "最经济的调整（按模型中的放宽代价排序）：" if zh else f"Cheapest relaxation (ranked at an assumed {diag.expansion_cost_cny_per_t:,.0f} CNY per t/yr of new capacity):"]
        for r in diag.relaxations:
            where = f" [{r.where}]" if r.where else ""
            lines.append(f"   - {r.explanation_zh if zh else r.explanation}{where}")
    if diag.screens:
        lines += ["", "预检查：" if zh else "Screens (no solver needed):"]
        lines += [f"   - {f.message_zh if zh else f.message}" for f in diag.screens]
    if diag.min_cut:
        lines += ["", "最小割（限制综合利用的产能）：" if zh else "Minimum cut (the capacities that limit utilization):"]
        lines += [f"   - {f.message_zh if zh else f.message}" + (f" [{f.where}]" if f.where else "") for f in diag.min_cut]
    if diag.conflict:
        lines += ["", "相互冲突的约束（不可行子集）：" if zh else "Conflicting limits (irreducible infeasible subset):"]
        lines += [f"   - {f.message_zh if zh else f.message}" + (f" [{f.where}]" if f.where else "") for f in diag.conflict]
    return "\n".join(lines)
