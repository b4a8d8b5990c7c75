"""Text reports: a plan, its explanation, a diagnosis, a comparison, a curve or a batch as terminal lines.

Stage: renderer (``Plan`` / ``Diagnosis`` / ``Comparison`` / ``CostCurve`` / batch table ->
text). Used by the command line; the same functions are public for notebooks
(``flowopt.textreport.format_plan(plan, lang="zh")``). Every word comes from :mod:`flowopt.i18n`
and every number from :mod:`flowopt.fmt`, so ``lang="zh"`` is Chinese throughout and
``lang="en"`` English throughout; tables are aligned by display width (:mod:`flowopt.texttable`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowopt import fmt
from flowopt.i18n import (
    category,
    check_lang,
    cost_term,
    family,
    header,
    metric,
    name_of,
    text,
    unit,
    value,
    where,
)
from flowopt.results import TERM_SIGNS, Plan
from flowopt.texttable import clip, display_width, pad, text_table

if TYPE_CHECKING:
    import pandas as pd

#: Widest name shown in a text table (display columns); longer names end in ``…``.
NAME_WIDTH = 44
#: Flows shown without ``--all-flows``; changed flows shown by ``format_comparison``.
TOP_FLOWS = 25
TOP_CHANGES = 20


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str, *, right: Sequence[str] = (), heads: Mapping[str, str] | None = None) -> str:
    return text_table(rows, columns, headers={c: (heads or {}).get(c) or header(c, lang) for c in columns}, right=right)


def _pairs(rows: Sequence[tuple[str, str, str]], indent: str = "  ") -> list[str]:
    """``label  value  note`` lines with the labels padded to one display width."""
    width = max((display_width(r[0]) for r in rows), default=0)
    vwidth = max((display_width(r[1]) for r in rows), default=0)
    return [f"{indent}{pad(label, width)}  {pad(val, vwidth, right=True)}{('  ' + note) if note else ''}".rstrip() for label, val, note in rows]


def _cost_headline(x: float, lang: str) -> str:
    if lang == "zh":
        return f"{fmt.money(x, lang)}（{fmt.money_exact(x, lang)}）"
    return fmt.money(x, lang)


def format_plan(plan: Plan, *, lang: str = "en", all_flows: bool = False, by: str | None = None) -> str:
    """Render a plan as a readable text report.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh``: every heading, header, unit and label in that language.
        all_flows: list every flow instead of the 25 largest (with ``by``: every flow of each
            group instead of its 10 largest).
        by: group the flows (``firm``, ``stream``, ``category``, ``destination`` or ``kind``,
            see ``Plan.flows_by``): who sends what where; ``None`` for one table.

    Returns:
        The report text.
    """
    lang = check_lang(lang)
    k = plan.kpis
    met = k.target_rate_value + 1e-9 >= plan.target
    lines = [
        text("plan.title", lang, id=plan.scenario_id),
        "=" * 72,
        text("plan.target", lang, target=fmt.rate(plan.target, 1), mode=value("rate_mode", plan.rate_mode, lang), reached=fmt.rate(k.target_rate_value), met=text("met" if met else "not_met", lang)),
        # the three official rates side by side, naming the one the target applies to unless it is the default
        text("plan.rates", lang, u=fmt.rate(k.utilization_rate), ud=fmt.rate(getattr(k, "utilization_plus_disposal_rate", None)), d=fmt.rate(getattr(k, "disposal_rate", None)), mark="" if plan.rate_mode == "utilization" else text("plan.rates_target", lang, mode=value("rate_mode", plan.rate_mode, lang))),
        text("plan.cost", lang, cost=_cost_headline(plan.objective_cny, lang), audit=text("passed" if plan.audit.passed else "failed", lang)),
    ]
    unmanaged = getattr(plan, "unmanaged", None)  # the unmanaged tonnes and their policy, when the plan says
    if unmanaged is not None:
        lines.append(unmanaged.headline_zh if lang == "zh" else unmanaged.headline)
    co2 = getattr(plan, "co2_t", None)  # the plan's CO2 headline (issue 15)
    if co2 is not None and (co2.gross_tco2 or co2.avoided_tco2 or co2.cap_t is not None):
        lines.append(co2.headline_zh if lang == "zh" else co2.headline)
    lines += ["", text("plan.tonnes", lang)]
    prior = text("plan.prior", lang, t=fmt.number(k.utilized_prior_t)) if k.utilized_prior_t else ""
    figures = [("generated_t", k.generated_t, ""), ("reclaimed_t", k.reclaimed_t, ""), ("utilized_t", k.utilized_t, prior), ("disposed_t", k.disposed_t, ""), ("stored_t", k.stored_t, ""), ("unmanaged_t", k.unmanaged_t, "")]
    if k.lost_t:
        figures.append(("lost_t", k.lost_t, ""))
    lines += _pairs([(metric(f, lang)[0], fmt.number(v), note) for f, v, note in figures])
    lines += ["", text("plan.cost_terms", lang)]
    terms = [(f"{'-' if TERM_SIGNS.get(name, 1) < 0 else '+'} {cost_term(name, lang)}", fmt.number(v), "") for name, v in plan.cost_terms.items()]
    terms.append((f"= {text('total_cost', lang)}", fmt.number(plan.objective_cny), ""))
    lines += _pairs(terms)
    lines += _group_lines(plan, lang, by, all_flows) if by else _flow_lines(plan, lang, all_flows)
    if plan.outlet_loads:
        lines += ["", text("plan.loads", lang), _loads_table(plan, lang)]
    lines += ["", text("plan.by_category", lang), _rates_table(plan.rates_by_category, lang, lambda g: category(g, lang))]
    if plan.rates_by_firm:
        lines += ["", text("plan.by_firm", lang), _rates_table(plan.rates_by_firm, lang, lambda g: _group_name(plan, g, lang))]
    lines += airspace_carbon_lines(plan, lang)
    lines += markets_duties_lines(plan, lang)
    lines += ["", text("plan.bottlenecks", lang, n=len(plan.bottlenecks))]
    for i, b in enumerate(plan.bottlenecks, 1):
        lines.append(f"  {i:>2}. [{family(b.kind, lang)}] {b.explanation_zh if lang == 'zh' else b.explanation}")
    if plan.warnings:
        lines += ["", text("plan.warnings", lang)] + [f"  - {w}" for w in plan.warnings]
    return "\n".join(lines)


def firm_group(group: str | None, lang: str) -> str | None:
    """Display name of the firm groups ``(mixed)`` and ``(none)``; ``None`` for a firm id."""
    from flowopt import results

    names: dict[str, tuple[str, str]] = getattr(results, "FIRM_GROUP_NAMES", {"(none)": ("未注明企业", "no firm recorded"), "(mixed)": ("多家企业", "several firms")})
    if group is None:
        return None
    pair = names.get(group)
    return None if pair is None else (pair[0] if lang == "zh" else pair[1])


def _group_name(plan: Plan, group: str, lang: str) -> str:
    special = firm_group(group, lang)
    if special is not None:
        return special
    name = name_of(plan.labels, group, lang)
    return f"{clip(name, NAME_WIDTH)} ({group})" if name != group else group


def origin_text(f: Any, lang: str) -> str:
    """Where a flow's tonnes come from, in words when the plan says (``prior-year stock (SP_W02)``), else the source id."""
    label = getattr(f, "origin_label_zh" if lang == "zh" else "origin_label", "")
    return label or f.source


def _flow_lines(plan: Plan, lang: str, all_flows: bool) -> list[str]:
    flows = sorted(plan.flows, key=lambda f: (-f.tonnes, f.stream, f.source, f.destination))
    if not flows:
        return []
    shown = flows if all_flows else flows[:TOP_FLOWS]
    head = text("plan.flows_all", lang, total=len(flows)) if len(shown) == len(flows) else text("plan.flows", lang, shown=len(shown), total=len(flows))
    with_firm = any(getattr(f, "firm", None) for f in shown)
    with_origin = any(getattr(f, "origin_label", "") for f in shown)
    columns = ["stream", *(["firm"] if with_firm else []), "origin_label" if with_origin else "source", "destination", "kind", "tonnes", "cost_cny"]
    rows = [{"stream": f.stream, "firm": firm_group(getattr(f, "firm", None), lang) or getattr(f, "firm", None) or "–", "source": f.source, "origin_label": origin_text(f, lang), "destination": f.destination, "kind": value("flow_kind", f.kind, lang), "tonnes": fmt.number(f.tonnes), "cost_cny": fmt.number(f.cost_cny)} for f in shown]
    return ["", head, _table(rows, columns, lang, right=["tonnes", "cost_cny"])]


#: Flows shown per group by ``format_plan(by=...)`` without ``all_flows``.
TOP_PER_GROUP = 10


def _flow_group_name(by: str, g: Any, lang: str) -> str:
    if by == "category":
        return category(g.group, lang)
    if by == "kind":
        return value("flow_kind", g.group, lang)
    special = firm_group(g.group, lang) if by == "firm" else None
    if special is not None:
        return special
    name = (g.name_zh or g.name_en) if lang == "zh" else (g.name_en or g.name_zh)
    if by == "destination" and g.group == "unmanaged":
        return value("flow_kind", "unmanaged", lang)
    return f"{clip(name, NAME_WIDTH)} ({g.group})" if name and name != g.group else g.group


def _group_lines(plan: Plan, lang: str, by: str, all_flows: bool) -> list[str]:
    """The flows grouped by firm, stream, category, destination or kind (``Plan.flows_by``)."""
    groups = plan.flows_by(by)  # type: ignore[attr-defined]
    what = header(by, lang, with_unit=False)
    lines = ["", text("plan.flows_by", lang, by=what.lower() if lang == "en" else what, n=len(groups))]
    hidden = {"firm": "firm", "stream": "stream", "destination": "destination", "kind": "kind"}.get(by)
    columns = [c for c in ("stream", "firm", "origin_label", "destination", "kind", "tonnes", "cost_cny") if c != hidden]
    for g in groups:
        lines += ["", "  " + text("plan.group", lang, name=_flow_group_name(by, g, lang), tonnes=fmt.number(g.tonnes), cost=fmt.money(g.cost_cny, lang))]
        shown = g.flows if all_flows else g.flows[:TOP_PER_GROUP]
        rows = [{"stream": f.stream, "firm": firm_group(getattr(f, "firm", None), lang) or getattr(f, "firm", None) or "–", "origin_label": origin_text(f, lang), "destination": f.destination, "kind": value("flow_kind", f.kind, lang), "tonnes": fmt.number(f.tonnes), "cost_cny": fmt.number(f.cost_cny)} for f in shown]
        lines += ["    " + line for line in _table(rows, columns, lang, right=["tonnes", "cost_cny"]).splitlines()]
        if len(g.flows) > len(shown):
            lines.append(text("plan.group_more", lang, n=len(g.flows) - len(shown)))
    return lines


def _loads_table(plan: Plan, lang: str) -> str:
    rows = []
    for o in plan.outlet_loads:
        name = (o.name_zh or o.name_en) if lang == "zh" else (o.name_en or o.name_zh)
        capped = o.capacity_t is not None
        rows.append({"outlet": o.outlet, "name": clip(name or o.outlet, NAME_WIDTH), "intake_t": fmt.number(o.intake_t), "capacity_t": fmt.number(o.capacity_t) if capped else text("no_limit", lang), "load_share": fmt.rate(o.load_share, 1) if capped and o.load_share is not None else "–"})
    return _table(rows, ["outlet", "name", "intake_t", "capacity_t", "load_share"], lang, right=["intake_t", "capacity_t", "load_share"], heads={"load_share": header("load_share", lang, with_unit=False)})


def markets_duties_lines(plan: Plan, lang: str) -> list[str]:
    """The plan's product markets, tax incentives and firms' duties (empty when it has none).

    Args:
        plan: the plan.
        lang: ``en`` or ``zh``.

    Returns:
        Lines: a table of markets (sold against demand, the price tier reached, whether the
        demand binds and its price), the incentives' total with the cost without them and a
        table per project, and a table of the firms' duties (the rate by each firm's ledger,
        whether the duty binds and what a point of it costs).
    """
    zh = lang == "zh"
    out: list[str] = []
    markets = getattr(plan, "markets", None) or []
    if markets:
        rows = []
        for r in markets:
            name = (r.name_zh or r.name_en) if zh else (r.name_en or r.name_zh)
            tier = text("plan.market_tier", lang, k=r.tier_reached, n=len(r.tiers), price=fmt.number(r.price_reached_cny_per_t or 0.0, 2)) if r.tier_reached else text("plan.market_nothing" if r.tiers else "plan.market_untiered", lang)
            state = text("plan.market_binds", lang, price=fmt.number(r.shadow_price_cny_per_t or 0.0, 2)) if r.binds else text("plan.market_room", lang)
            rows.append({"market": r.market, "market_name": clip(name or r.market, NAME_WIDTH), "limit_t": fmt.number(r.limit_t) if r.limit_t is not None else text("plan.market_no_limit", lang), "sold_t": fmt.number(r.sold_t), "tier_reached": tier, "market_revenue_cny": fmt.number(r.revenue_cny), "market_state": state})
        out += ["", text("plan.markets", lang), _table(rows, ["market", "market_name", "limit_t", "sold_t", "tier_reached", "market_revenue_cny", "market_state"], lang, right=["limit_t", "sold_t", "market_revenue_cny"])]
    inc = getattr(plan, "incentives_cny", None)
    if inc is not None:
        if not inc.applied:
            out += ["", text("plan.incentives_off", lang)]
        else:
            out += ["", text("plan.incentives", lang, total=fmt.number(inc.total_cny), vat=fmt.number(inc.vat_refund_cny), tax=fmt.number(inc.income_tax_cny), without=fmt.number(inc.objective_without_cny))]
            rows = [{"project": r.project, "name": clip(((r.name_zh or r.name_en) if zh else (r.name_en or r.name_zh)) or r.project, NAME_WIDTH), "revenue_cny": fmt.number(r.revenue_cny), "vat_refund_rate": fmt.rate(r.vat_refund_rate, 0, lang=lang), "vat_refund_cny": fmt.number(r.vat_refund_cny), "income_tax_cny": fmt.number(r.income_tax_cny), "incentive_cny": fmt.number(r.total_cny)} for r in inc.by_project]
            if rows:
                out.append(_table(rows, ["project", "name", "revenue_cny", "vat_refund_rate", "vat_refund_cny", "income_tax_cny", "incentive_cny"], lang, right=["revenue_cny", "vat_refund_rate", "vat_refund_cny", "income_tax_cny", "incentive_cny"], heads={"vat_refund_rate": header("vat_refund_rate", lang, with_unit=False)}))
    duties = getattr(plan, "firm_targets", None) or []
    if duties:
        rows = []
        for r in duties:
            name = _group_name(plan, r.firm, lang)
            state = text("plan.duty_binds", lang, price=fmt.number(r.cny_per_point or 0.0)) if r.binds else text("plan.duty_met", lang)
            rows.append({"firm": clip(name, NAME_WIDTH), "duty": fmt.rate(r.target_rate, 1, lang=lang), "duty_reached": fmt.rate(r.rate, 2, lang=lang), "delivered_t": fmt.number(r.delivered_t), "generated_t": fmt.number(r.generated_t), "duty_state": state})
        out += ["", text("plan.duties", lang), _table(rows, ["firm", "duty", "duty_reached", "delivered_t", "generated_t", "duty_state"], lang, right=["duty", "duty_reached", "delivered_t", "generated_t"], heads={"duty": header("duty", lang, with_unit=False), "duty_reached": header("duty_reached", lang, with_unit=False)})]
    return out


def airspace_carbon_lines(plan: Plan, lang: str) -> list[str]:
    """The plan's airspace (sinks with a remaining volume) and its CO2 by project and by firm.

    Args:
        plan: the plan (``airspace`` and ``co2_t``; a plan without them gives no lines).
        lang: ``en`` or ``zh``.

    Returns:
        Lines to add to the plan's text (empty when there is no airspace and no CO2 at all).
    """
    lines: list[str] = []
    rows = getattr(plan, "airspace", None) or []
    if rows:
        lines += ["", text("plan.airspace", lang)]
        for a in rows:
            name = clip(((a.name_zh or a.name_en) if lang == "zh" else (a.name_en or a.name_zh)) or a.sink, NAME_WIDTH)
            years = text("airspace.never", lang) if a.years_left is None else text("airspace.years", lang, years=fmt.number(a.years_left, 1))
            lines.append(text("plan.airspace_row", lang, sink=a.sink, name=name, start=fmt.number(a.remaining_start_t), intake=fmt.number(a.intake_t), left=fmt.number(a.remaining_t), years=years))
    co2 = getattr(plan, "co2_t", None)
    if co2 is None or not (co2.gross_tco2 or co2.avoided_tco2):
        return lines
    columns = ["group", "tonnes", "transport_tco2", "process_tco2", "electricity_tco2", "avoided_tco2", "net_tco2"]
    heads = {"group": header("project", lang), "tonnes": header("tonnes", lang)}
    lines += ["", text("plan.co2", lang)]

    def cells(r: Any, name: str) -> dict[str, str]:
        return {"group": clip(name, NAME_WIDTH), "tonnes": fmt.number(r.tonnes), **{c: fmt.number(getattr(r, c)) for c in columns[2:]}}

    by_project = [cells(r, f"{r.group} {(r.name_zh if lang == 'zh' else r.name_en) or ''}".strip()) for r in co2.by_project]
    lines.append(_table(by_project, columns, lang, right=columns[1:], heads=heads))
    by_firm = [cells(r, _group_name(plan, r.group, lang)) for r in co2.by_firm]
    lines.append(_table(by_firm, columns, lang, right=columns[1:], heads={**heads, "group": header("firm", lang)}))
    return lines


def _rates_table(rates: Sequence[Any], lang: str, label: Any) -> str:
    rows = [{"group": label(r.group), "rate": fmt.rate(r.rate, 1, lang=lang), "generated_t": fmt.number(r.generated_t), "utilized_t": fmt.number(r.utilized_t), "utilized_prior_t": fmt.number(r.utilized_prior_t)} for r in rates]
    return _table(rows, ["group", "rate", "generated_t", "utilized_t", "utilized_prior_t"], lang, right=["rate", "generated_t", "utilized_t", "utilized_prior_t"], heads={"rate": header("rate", lang, with_unit=False)})


def format_explanation(plan: Plan, *, lang: str = "en") -> str:
    """Render the explanation of a plan: target price, headroom, cards and why-not entries.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    k = plan.kpis
    lines = [text("explain.title", lang, id=plan.scenario_id), "=" * 72]
    lines.append(text("explain.head", lang, target=fmt.rate(plan.target, 1), mode=value("rate_mode", plan.rate_mode, lang), reached=fmt.rate(k.target_rate_value), cost=_cost_headline(plan.objective_cny, lang)))
    if plan.max_utilization_rate is not None:
        lines.append(text("explain.max", lang, rate=fmt.rate(plan.max_utilization_rate)))
    tm = plan.target_marginal_cost
    if tm is not None:
        lines.append(tm.explanation_zh if zh else tm.explanation)
    lines += ["", text("explain.bottlenecks", lang, n=len(plan.bottlenecks))]
    for i, b in enumerate(plan.bottlenecks, 1):
        stake = text("unbounded", lang) if b.cny_at_stake is None else fmt.money(b.cny_at_stake, lang)
        lines.append(f"  {i:>2}. {b.explanation_zh if zh else b.explanation} [{text('explain.stake', lang, money=stake)}]")
    lines += ["", text("explain.why_not", lang, n=len(plan.why_not))]
    for w in plan.why_not:
        lines.append(f"   - {w.explanation_zh if zh else w.explanation}")
    return "\n".join(lines)


def _where(item: Any, lang: str) -> str:
    w = where(getattr(item, "where", None), lang)
    return f" [{w}]" if w else ""


def format_diagnosis(diag: Any, *, lang: str = "en") -> str:
    """Render why a target cannot be met and the cheapest fix.

    Args:
        diag: a :class:`flowopt.diagnosis.Diagnosis`.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    lines = [text("diag.title", lang), "=" * 72, diag.statement_zh if zh else diag.statement]
    mode = getattr(diag, "rate_mode", "utilization")
    if mode != "utilization" and (diag.screens or diag.min_cut):
        # the screens and the min cut bound utilization, whatever rate the target applies to
        lines.append(text("diag.rate_note", lang, mode=value("rate_mode", mode, lang)))
    if diag.relaxations:
        lines += ["", text("diag.relaxations", lang, price=fmt.money(diag.expansion_cost_cny_per_t, lang, per_year=False))]
        lines += [f"   - {r.explanation_zh if zh else r.explanation}{_where(r, lang)}" for r in diag.relaxations]
    if diag.screens:
        lines += ["", text("diag.screens", lang)]
        lines += [f"   - {f.message_zh if zh else f.message}" for f in diag.screens]
    if diag.min_cut:
        lines += ["", text("diag.min_cut", lang)]
        lines += [f"   - {f.message_zh if zh else f.message}{_where(f, lang)}" for f in diag.min_cut]
    if diag.conflict:
        lines += ["", text("diag.conflict", lang)]
        lines += [f"   - {f.message_zh if zh else f.message}{_where(f, lang)}" for f in diag.conflict]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Comparison, curve, batch
# ---------------------------------------------------------------------------------------------


def _kpi_cells(unit_key: str, base: float | None, whatif: float | None, delta: float | None, lang: str) -> tuple[str, str, str]:
    if unit_key.startswith("fraction"):
        return fmt.rate(base, lang=lang), fmt.rate(whatif, lang=lang), fmt.points(delta, lang)
    return fmt.number(base), fmt.number(whatif), fmt.number(delta, signed=True)


def format_comparison(c: Any, *, lang: str = "en", stats: Any = None) -> str:
    """Render a comparison of a base plan and a what-if.

    Args:
        c: a :class:`flowopt.compare.Comparison`.
        lang: ``en`` or ``zh``.
        stats: the what-if's solve statistics (``warm``, ``seconds``, ``simplex_iterations``), if any.

    Returns:
        The text: the explanation, indicators side by side (rates in %, changes in percentage
        points), cost terms, the flows that moved and the bottlenecks that changed.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    lines = [text("compare.title", lang, base=c.base_id, whatif=c.whatif_id), "=" * 72, c.explanation_zh if zh else c.explanation, "", text("compare.kpis", lang)]
    rows = []
    for r in c.kpis:
        label, unit_key = metric(r.metric, lang)
        unit_key = unit_key or r.unit
        shown = label if unit_key.startswith("fraction") or not unit_key else (f"{label}（{unit(unit_key, lang)}）" if zh else f"{label} ({unit(unit_key, lang)})")
        b, w, d = _kpi_cells(unit_key, r.base, r.whatif, r.delta, lang)
        rows.append({"metric": shown, "base": b, "whatif": w, "delta": d})
    lines.append(_table(rows, ["metric", "base", "whatif", "delta"], lang, right=["base", "whatif", "delta"]))
    lines += ["", text("compare.cost_terms", lang)]
    rows = [{"term": cost_term(r.metric, lang), "base": fmt.number(r.base), "whatif": fmt.number(r.whatif), "delta": fmt.number(r.delta, signed=True)} for r in c.cost_terms]
    lines.append(_table(rows, ["term", "base", "whatif", "delta"], lang, right=["base", "whatif", "delta"]))
    if c.flows:
        lines += ["", text("compare.flows", lang, n=len(c.flows))]
        rows = [{"stream": f.stream, "source": f.source, "destination": f.destination, "kind": value("flow_kind", f.kind, lang), "base_t": fmt.number(f.base_t), "whatif_t": fmt.number(f.whatif_t), "delta_t": fmt.number(f.delta_t, signed=True)} for f in c.flows[:TOP_CHANGES]]
        lines.append(_table(rows, ["stream", "source", "destination", "kind", "base_t", "whatif_t", "delta_t"], lang, right=["base_t", "whatif_t", "delta_t"]))
        if len(c.flows) > TOP_CHANGES:
            lines.append(text("compare.flows_more", lang, n=len(c.flows) - TOP_CHANGES))
    if c.bottlenecks:
        lines += ["", text("compare.bottlenecks", lang)]
        lines += [f"  - [{value('change', b.change, lang)}] {b.explanation_zh if zh else b.explanation}" for b in c.bottlenecks]
    if stats is not None:
        lines += ["", text("compare.warm" if stats.warm else "compare.cold", lang, ms=fmt.milliseconds(stats.seconds, lang), it=stats.simplex_iterations)]
    return "\n".join(lines)


def _price_range(prices: list[float], lang: str) -> str:
    if not prices:
        return "–"
    lo, hi = min(prices), max(prices)
    if lang == "zh":
        a, b = fmt.money(lo, lang), fmt.money(hi, lang)
        return a if a == b else f"{fmt.money(lo, lang, per_year=False)}–{b}"
    a, b = fmt.number(lo), fmt.number(hi)
    return f"{a} CNY/yr" if a == b else f"{a}–{b} CNY/yr"


def format_curve(curve: Any, *, lang: str = "en", t_from: float | None = None, t_to: float | None = None) -> str:
    """Render a target–cost curve: breakpoints, labelled segments and the points.

    Args:
        curve: a :class:`flowopt.sweep.CostCurve`.
        lang: ``en`` or ``zh``.
        t_from: first target asked for (default: the curve's).
        t_to: last target asked for (default: the curve's).

    Returns:
        The text.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    lo = curve.from_target if t_from is None else t_from
    hi = curve.to_target if t_to is None else t_to
    lines = [text("curve.title", lang, id=curve.scenario_id, mode=value("rate_mode", curve.rate_mode, lang), lo=fmt.rate(lo, 1), hi=fmt.rate(hi, 1)), "=" * 72]
    if curve.max_rate is not None:
        lines.append(text("curve.max", lang, rate=fmt.rate(curve.max_rate)))
    sep = "，" if zh else ", "
    lines.append(text("curve.breakpoints", lang, points=sep.join(fmt.rate(b, 3) for b in curve.breakpoints) or text("none", lang)))
    lines.append("")
    for seg in curve.segments:
        prices = [p.cny_per_point for p in curve.points if p.segment == seg.index]
        lines.append(text("curve.segment", lang, lo=fmt.rate(seg.start_target, 3), hi=fmt.rate(seg.end_target, 3), label=seg.label_zh if zh else seg.label, prices=_price_range(prices, lang)))
    rows = [{"target": fmt.rate(p.target, 3), "objective_cny": fmt.number(p.objective_cny), "cny_per_point": fmt.number(p.cny_per_point), "segment": str(p.segment)} for p in sorted(curve.points, key=lambda p: p.target)]
    lines += ["", _table(rows, ["target", "objective_cny", "cny_per_point", "segment"], lang, right=["target", "objective_cny", "cny_per_point", "segment"])]
    return "\n".join(lines)


def format_co2_curve(curve: Any, *, lang: str = "en") -> str:
    """Render a cost–CO2 curve (``flowopt sweep --co2``): range, breakpoints, segments, points.

    Args:
        curve: a :class:`flowopt.sweep.Co2Curve`.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    head = text("co2.title", lang, id=curve.scenario_id, mode=value("rate_mode", curve.rate_mode, lang), target=fmt.rate(curve.target, 1), lo=fmt.number(curve.from_cap_tco2), hi=fmt.number(curve.to_cap_tco2), basis=value("co2_basis", curve.basis, lang))
    lines = [head, "=" * 72]
    if curve.status != "ok" or curve.least_tco2 is None:
        return "\n".join([*lines, text("co2.unreachable", lang)])
    lines.append(text("co2.range", lang, least=fmt.number(curve.least_tco2), free=fmt.number(curve.free_tco2 or 0.0)))
    sep = "，" if zh else ", "
    lines.append(text("co2.breakpoints", lang, points=sep.join(fmt.number(b) for b in curve.breakpoints) or text("none", lang)))
    lines.append("")
    for seg in curve.segments:
        lines.append(text("co2.segment", lang, lo=fmt.number(seg.start_cap_tco2), hi=fmt.number(seg.end_cap_tco2), label=seg.label_zh if zh else seg.label, prices=fmt.number(seg.cny_per_tco2, 2)))
    rows = [{"cap_tco2": fmt.number(p.cap_tco2), "co2_tco2": fmt.number(p.co2_tco2), "objective_cny": fmt.number(p.objective_cny), "cny_per_tco2": fmt.number(p.cny_per_tco2, 2), "segment": str(p.segment)} for p in sorted(curve.points, key=lambda p: p.cap_tco2)]
    columns = ["cap_tco2", "co2_tco2", "objective_cny", "cny_per_tco2", "segment"]
    lines += ["", _table(rows, columns, lang, right=columns)]
    return "\n".join(lines)


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def format_batch(table: pd.DataFrame, *, lang: str = "en") -> str:
    """Render the comparison table of a batch of what-ifs.

    Args:
        table: the table of :func:`flowopt.batch.run_batch` (one row per what-if).
        lang: ``en`` or ``zh``.

    Returns:
        The text: one line per what-if (status, rate, cost, change against the first row,
        highest reachable rate, warm or not, seconds), then why each failed row has no plan.
    """
    lang = check_lang(lang)
    rows = []
    for r in table.to_dict(orient="records"):
        warm = r.get("warm")
        rows.append({
            "id": str(r.get("id", "")),
            "status": value("status", r.get("status"), lang),
            "utilization_rate": "–" if _missing(r.get("utilization_rate")) else fmt.rate(r.get("utilization_rate")),
            "objective_cny": fmt.number(r.get("objective_cny")),
            "delta_cost_cny": fmt.number(r.get("delta_cost_cny"), signed=True),
            "max_utilization_rate": "–" if _missing(r.get("max_utilization_rate")) else fmt.rate(r.get("max_utilization_rate")),
            "warm": "–" if _missing(warm) else text("yes" if warm else "no", lang),
            "seconds": fmt.number(r.get("seconds"), 2),
        })
    columns = ["id", "status", "utilization_rate", "objective_cny", "delta_cost_cny", "max_utilization_rate", "warm", "seconds"]
    lines = [_table(rows, columns, lang, right=["utilization_rate", "objective_cny", "delta_cost_cny", "max_utilization_rate", "seconds"])]
    failed = [r for r in table.to_dict(orient="records") if r.get("status") != "optimal"]
    if failed:
        lines += ["", text("batch.failed", lang)]
        lines += [f"  {r.get('id')}: {r.get('message') or value('status', r.get('status'), lang)}" for r in failed]
    return "\n".join(lines)


def format_risk(result: Any, *, lang: str = "en", limits: int = 12, failed: int = 5) -> str:
    """Render a risk run (:class:`flowopt.risk.RiskResult`) as text.

    Args:
        result: the result of :func:`flowopt.risk.run_risk`.
        lang: ``en`` or ``zh``.
        limits: most limits listed (those that do not bind in every sample first).
        failed: most failed samples listed with their reason.

    Returns:
        The text: the probability with its interval (and with a build set), the scenario's own
        answer, the samples, the spread of the highest rate and of the cost, the tornado, how
        often limits bind, the inputs and the failed samples.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    p = result.probability
    lines = [text("risk.title", lang, id=result.scenario_id, mode=value("rate_mode", result.rate_mode, lang), target=fmt.rate(result.target, 1)), "=" * 72]

    def prob(key: str, iv: Any, **extra: Any) -> str:
        return text(key, lang, target=fmt.rate(result.target, 1), p=fmt.rate(iv.estimate, 1) if iv.estimate is not None else "–", lo=fmt.rate(iv.low, 1) if iv.low is not None else "–", hi=fmt.rate(iv.high, 1) if iv.high is not None else "–", k=f"{iv.successes:,}", n=f"{iv.n:,}", **extra)

    lines.append(prob("risk.probability", p))
    # the build set flowopt invest chose (a scenario with candidates) has a Chinese name of its own
    sets = getattr(result, "build_sets", [])
    builds_name = sets[0].name_zh if zh and sets and result.builds == sets[0].name_en else result.builds
    lines.append(prob("risk.with_builds", result.probability_with_builds, name=builds_name) if result.probability_with_builds is not None else text("risk.builds_later", lang))
    lines += [str(n) for n in (getattr(result, "notes_zh", []) if zh else getattr(result, "notes", []))]
    if result.deterministic_max_rate is not None:
        if result.deterministic_objective_cny is not None:
            lines.append(text("risk.deterministic", lang, rate=fmt.rate(result.deterministic_max_rate), cost=fmt.money(result.deterministic_objective_cny, lang)))
        else:
            lines.append(text("risk.deterministic_unreachable", lang, rate=fmt.rate(result.deterministic_max_rate)))
    lines.append(text("risk.samples", lang, n=f"{result.samples:,}", asked=f"{result.samples_requested:,}", method=value("method", result.method, lang), seed=result.seed, engine=result.engine, failed=f"{result.failed:,}", warm=fmt.rate(result.warm_share, 0), seconds=f"{result.seconds:.1f} {unit('s', lang)}"))
    if result.stopped_early:
        lines.append(text("risk.stopped", lang, tol=f"{fmt.number(result.tolerance * 100, 1)} {unit('pp', lang)}", n=f"{result.samples:,}"))
    lines.append(text("risk.method_note", lang, block=64))
    m = result.max_rate
    if m.n:
        lines.append(text("risk.max_rate", lang, p10=fmt.rate(m.p10), p50=fmt.rate(m.p50), p90=fmt.rate(m.p90), mean=fmt.rate(m.mean)))
    c = result.cost
    lines.append(text("risk.cost", lang, n=f"{c.n:,}", p10=fmt.money(c.p10, lang), p50=fmt.money(c.p50, lang), p90=fmt.money(c.p90, lang)) if c.n else text("risk.no_cost", lang))
    if result.tornado:
        lines += ["", text("risk.tornado", lang)]
        for b in result.tornado:
            rho = "–" if b.spearman is None else f"{b.spearman:+.2f}"
            lines.append(text("risk.bar", lang, label=clip(b.label_zh if zh else b.label_en, 80), lo=clip(b.low_value, 30), hi=clip(b.high_value, 30), lo_rate=fmt.rate(b.low_rate), hi_rate=fmt.rate(b.high_rate), swing=f"{fmt.number(b.swing * 100, 2)} {unit('pp', lang)}", rho=rho))
    if result.limits:
        partial = [x for x in result.limits if min(x.binding_share, x.limiting_share) < 1]
        always = len(result.limits) - len(partial)
        lines += ["", text("risk.limits", lang)]
        for x in sorted(partial, key=lambda x: (-max(x.binding_share, x.limiting_share), x.limit))[:limits]:
            lines.append(text("risk.limit", lang, label=clip(x.label_zh if zh else x.label_en, 80), plan=fmt.rate(x.binding_share, 0), max=fmt.rate(x.limiting_share, 0)))
        if always:
            lines.append(text("risk.always", lang, n=always))
    lines += ["", text("risk.inputs", lang, n=len(result.inputs))]
    for i in result.inputs:
        lines.append(text("risk.input", lang, id=i.id, name=clip(i.name_zh if zh else i.name_en, 50), describe=i.describe_zh if zh else i.describe, group=text("risk.group", lang, group=i.group) if i.group else "", current=i.current))
    bad = [r for r in result.rows if not r.solved]
    if bad:
        lines += ["", text("risk.failed", lang, n=len(bad), shown=min(failed, len(bad)))]
        lines += [f"  #{r.index} {value('status', r.status, lang)}: {clip(r.message, 200)}" for r in bad[:failed]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Investment decisions (flowopt invest)
# ---------------------------------------------------------------------------------------------

#: Bottleneck cards and why-not entries ``format_investment`` shows of the plan given the builds.
INVEST_CARDS = 8


def _decision_word(b: Any, lang: str) -> str:
    if b.built:
        word = text("invest.built_yes", lang)
    elif not b.available:
        word = text("invest.unavailable", lang)
    else:
        word = text("invest.built_no", lang)
    if b.forced:
        word += f" ({text('invest.forced', lang, how=text('invest.forced_' + b.forced, lang))})"
    return word


def format_investment(result: Any, *, lang: str = "en", cards: int = INVEST_CARDS) -> str:
    """Render an investment result (``flowopt invest``): builds, costs, decision values, break-evens and the plan given the builds.

    Args:
        result: a :class:`flowopt.invest.InvestmentResult`.
        lang: ``en`` or ``zh``.
        cards: bottleneck cards and why-not entries of the plan shown (the most valuable).

    Returns:
        The text. A solve stopped by the time limit says so in its second line, with the gap.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    lines = [text("invest.title", lang, id=result.scenario_id), "=" * 72]
    if result.status == "infeasible":
        lines += [text("invest.infeasible", lang), result.statement_zh if zh else result.statement]
        if result.diagnosis is not None:
            lines += ["", format_diagnosis(result.diagnosis, lang=lang)]
        return "\n".join(lines)
    if result.status != "optimal":
        lines.append(text("invest.stopped", lang, gap=fmt.rate(result.mip_gap, 4), bound=fmt.money(result.mip_bound, lang), asked=fmt.rate(result.gap_limit, 4)))
    plan = result.plan
    # the headings below say "given the chosen builds"; each entry carries the label too (JSON)
    given = ("Given the chosen builds: ", "以所选建设方案为前提：")

    def bare(item: Any) -> str:
        return (item.explanation_zh if zh else item.explanation).removeprefix(given[1] if zh else given[0])

    reached = plan.kpis.target_rate_value if plan is not None else result.utilization_rate
    met = reached is not None and reached + 1e-9 >= result.target
    lines.append(text("plan.target", lang, target=fmt.rate(result.target, 1), mode=value("rate_mode", result.rate_mode, lang), reached=fmt.rate(reached), met=text("met" if met else "not_met", lang)))
    solver = result.solver or {}
    lines.append(text("invest.status", lang, status=value("status", result.status, lang), gap=fmt.rate(result.mip_gap, 4), asked=fmt.rate(result.gap_limit, 4), nodes=fmt.number(solver.get("nodes", 0)), seconds=f"{solver.get('seconds_total', 0.0):.2f} {unit('s', lang)}"))
    audit = result.audit is not None and result.audit.passed and (plan is None or plan.audit.passed)
    lines.append(text("invest.cost", lang, total=_cost_headline(result.objective_cny, lang), operating=fmt.money(result.operating_cost_cny, lang), capital=fmt.money(result.capital_annualized_cny, lang), fixed=fmt.money(result.fixed_opex_cny, lang), audit=text("passed" if audit else "failed", lang)))
    budgets = [fmt.money(b, lang, per_year=False) for b in (result.capital_budget_cny, result.capital_budget_cny_per_yr) if b is not None]
    lines.append(text("invest.capital", lang, capital=fmt.money(result.capital_cny, lang, per_year=False), rate=fmt.rate(result.discount_rate, 1), budget=" / ".join(budgets) or text("invest.no_budget", lang)))
    lines += ["", result.statement_zh if zh else result.statement]
    built = [b for b in result.builds if b.built]
    lines += ["", text("invest.builds", lang, built=len(built), n=len(result.builds))]
    rows = []
    for b in sorted(result.builds, key=lambda b: (not b.built, b.id)):
        name = (b.name_zh or b.name_en) if zh else (b.name_en or b.name_zh)
        size = fmt.number(b.size_t) if b.built else "–"
        if b.built and b.modules:
            size += f" ({b.modules}×)"
        rows.append({"candidate": b.id, "name": clip(name, 40), "built": _decision_word(b, lang), "size_t": size, "capital_cny": fmt.number(b.capital_cny) if b.built else "–", "annualized_cny": fmt.number(b.annualized_cny) if b.built else "–"})
    lines.append(_table(rows, ["candidate", "name", "built", "size_t", "capital_cny", "annualized_cny"], lang, right=["size_t", "capital_cny", "annualized_cny"]))
    if result.decision_values:
        lines += ["", text("invest.values", lang)]
        for i, v in enumerate(result.decision_values, 1):
            amount = text("invest.required", lang) if not v.feasible else fmt.number(v.value_cny, signed=True)
            lines.append(f"  {i:>2}. [{amount}] {v.explanation_zh if zh else v.explanation}")
    if result.build_break_even:
        lines += ["", text("invest.break_even", lang)]
        lines += [f"   - {e.explanation_zh if zh else e.explanation}" for e in result.build_break_even]
    if plan is not None:
        lines += ["", result.note_zh if zh else result.note]
        if plan.target_marginal_cost is not None:
            lines.append(bare(plan.target_marginal_cost))
        if plan.max_utilization_rate is not None:
            lines.append(text("explain.max", lang, rate=fmt.rate(plan.max_utilization_rate)))
        lines += ["", text("invest.bottlenecks", lang, n=len(plan.bottlenecks))]
        for i, bn in enumerate(plan.bottlenecks[:cards], 1):
            lines.append(f"  {i:>2}. [{family(bn.kind, lang)}] {bare(bn)}")
        if plan.why_not:
            lines += ["", text("invest.why_not", lang, n=len(plan.why_not))]
            lines += [f"   - {bare(w)}" for w in plan.why_not[:cards]]
    warnings = [*result.warnings, *(plan.warnings if plan is not None else [])]
    warnings = [w for w in warnings if w != result.note]
    if warnings:
        lines += ["", text("plan.warnings", lang)] + [f"  - {w}" for w in warnings]
    return "\n".join(lines)


def format_investment_curve(curve: Any, *, lang: str = "en") -> str:
    """Render the target–cost curve with builds: each target's cost and build set, and where the set changes.

    Args:
        curve: a :class:`flowopt.invest.InvestmentCurve`.
        lang: ``en`` or ``zh``.

    Returns:
        The text.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    targets = [p.target for p in curve.points]
    lo, hi = (fmt.rate(min(targets), 1), fmt.rate(max(targets), 1)) if targets else ("–", "–")
    lines = [text("invest.curve_title", lang, id=curve.scenario_id, lo=lo, hi=hi, max=fmt.rate(curve.max_rate)), "=" * 72]
    rows = [{"target": fmt.rate(p.target, 2), "objective_cny": fmt.number(p.objective_cny), "capital_cny": fmt.number(p.capital_cny), "status": value("status", p.status, lang), "candidate": ", ".join(p.builds) or "–"} for p in curve.points if p.kind == "grid"]
    lines.append(_table(rows, ["target", "objective_cny", "capital_cny", "status", "candidate"], lang, right=["target", "objective_cny", "capital_cny"]))
    lines.append("")
    if curve.changes:
        lines.append(text("invest.curve_changes", lang, res=fmt.points(curve.resolution, lang, 3).lstrip("+")))
        lines += [f"   - {c.explanation_zh if zh else c.explanation}" for c in curve.changes]
    else:
        lines.append(text("invest.curve_none", lang))
    return "\n".join(lines)
