"""Plan report: one self-contained HTML page (or Markdown) in Chinese or English.

Stage: results -> presentation. A report holds the headline (target met or not, the official
rate, total cost), key figures and cost terms, the Sankey diagram (inline SVG), the bottleneck
cards, the why-not entries for projects left unused or below capacity, outlet loads, rates per
waste category and firm, and the assumptions with their sources: every record's ``source``
field and the manifest's ``sources``, each classed as cited or containing estimates.

The content is built once as a list of blocks and rendered to HTML or Markdown, so both say the
same. The HTML has no scripts and no external ``src``/``href``: it works offline and prints.
Output is deterministic (no timestamps).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flowopt import __version__, fmt
from flowopt._render import FONT_FAMILY, check_lang, esc
from flowopt.i18n import (
    VALUES,
    category,
    cost_term,
    family,
    header,
    metric,
    name_of,
    shadow_unit,
    text,
    value,
)
from flowopt.io import atomic_path
from flowopt.results import TERM_SIGNS, Plan
from flowopt.sankey import sankey_svg
from flowopt.schema import TABLES, Scenario

SourceClass = Literal["cited", "estimate", "none"]

#: Words that mark a source text as (partly) an estimate rather than a citation.
ESTIMATE_MARKERS = ("estimate", "[e]", "assum", "估算", "估计", "假设", "待核")

#: Fields that identify a record of a table without an ``id``.
_KEY_FIELDS = {
    "composition": ("stream", "component"),
    "accepts": ("outlet", "stream"),
    "residues": ("project", "stream"),
    "quality": ("project", "component"),
    "distances": ("from_site", "to_site"),
}

#: Display names (zh, en) of the input tables, the bottleneck kinds and the source classes:
#: views of :mod:`flowopt.i18n` kept for callers of the report's helpers.
_TABLE_NAMES = {k: (v.zh, v.en) for k, v in VALUES["table"].items() if k != "scenario"}
_KIND_NAMES = {k: (family(k, "zh"), family(k, "en")) for k in ("target", "project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit", "quality_max", "quality_min", "feed_share")}
_CLASS_NAMES = {k: (v.zh, v.en) for k, v in VALUES["source_class"].items()}


def source_class(text: str) -> SourceClass:
    """Class a ``source`` text as cited, estimate or none.

    ``estimate`` if it mentions an estimate or assumption anywhere (a row mixing cited and
    estimated numbers counts as an estimate), ``cited`` if it names a source and no estimate,
    ``none`` if empty.

    Args:
        text: a record's ``source`` field or a manifest ``sources`` value.

    Returns:
        ``cited``, ``estimate`` or ``none``.
    """
    t = (text or "").strip().lower()
    if not t:
        return "none"
    return "estimate" if any(m in t for m in ESTIMATE_MARKERS) else "cited"


def _record_key(table: str, record: object) -> str:
    if hasattr(record, "id"):
        return str(record.id)
    fields = _KEY_FIELDS.get(table, ())
    return " / ".join(str(getattr(record, f, "")) for f in fields)


def sources_table(scenario: Scenario) -> list[tuple[str, str, str, SourceClass]]:
    """Every sourced item of a scenario: ``(table, key, source text, class)``.

    Args:
        scenario: the scenario the plan was solved from.

    Returns:
        Manifest ``sources`` first (table ``scenario``), then each table's records in order.
    """
    rows: list[tuple[str, str, str, SourceClass]] = [("scenario", k, v, source_class(v)) for k, v in scenario.sources.items()]
    for table in TABLES:
        for r in getattr(scenario, table):
            text = str(getattr(r, "source", "") or "")
            # a quality limit names its standard (and clause) ahead of its source
            law = str(getattr(r, "standard", "") or "")
            if law:
                clause = str(getattr(r, "clause", "") or "")
                head = f"{law} §{clause}" if clause else law
                text = f"{head}: {text}" if text else head
            rows.append((table, _record_key(table, r), text, source_class(text)))
    return rows


# ---------------------------------------------------------------------------------------------
# Blocks: the report's content, rendered to HTML or Markdown
# ---------------------------------------------------------------------------------------------


@dataclass
class _Heading:
    level: int
    text: str


@dataclass
class _Para:
    text: str
    style: str = ""


@dataclass
class _Table:
    head: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool] = ()


@dataclass
class _Card:
    title: str
    badge: str
    lines: Sequence[str]


@dataclass
class _Cards:
    cards: Sequence[_Card]


@dataclass
class _Figure:
    svg: str
    caption: str
    href: str | None = None
    note: str = "(see the HTML report or `sankey.svg` for the diagram)"


@dataclass
class _Details:
    summary: str
    blocks: list[object] = field(default_factory=list)


_Block = _Heading | _Para | _Table | _Cards | _Figure | _Details


def _tr(lang: str, zh_text: str, en_text: str) -> str:
    return zh_text if lang == "zh" else en_text


def _invest_blocks(result: Any, lang: str) -> list[_Block]:
    """The section of an investment result: every candidate built or not, costs, decision values, break-evens."""
    zh = lang == "zh"

    def tr(zh_text: str, en_text: str) -> str:
        return _tr(lang, zh_text, en_text)

    out: list[_Block] = [_Heading(2, tr("建设哪些项目（投资决策）", "Which projects to build (investment decisions)"))]
    out.append(_Para(result.statement_zh if zh else result.statement, "headline met" if result.status == "optimal" else "headline missed"))
    if result.status != "optimal":
        out.append(_Para(text("invest.stopped", lang, gap=fmt.rate(result.mip_gap, 4), bound=fmt.money(result.mip_bound, lang), asked=fmt.rate(result.gap_limit, 4))))
    out.append(_Para(text("invest.cost", lang, total=fmt.money(result.objective_cny, lang), operating=fmt.money(result.operating_cost_cny, lang), capital=fmt.money(result.capital_annualized_cny, lang), fixed=fmt.money(result.fixed_opex_cny, lang), audit=text("passed" if result.audit is not None and result.audit.passed else "failed", lang))))
    rows = []
    for b in sorted(result.builds, key=lambda b: (not b.built, b.id)):
        word = text("invest.built_yes" if b.built else ("invest.built_no" if b.available else "invest.unavailable"), lang)
        if b.forced:
            word += f" ({text('invest.forced', lang, how=text('invest.forced_' + b.forced, lang))})"
        name = ((b.name_zh or b.name_en) if zh else (b.name_en or b.name_zh)) or b.id
        rows.append([f"{name} ({b.id})", word, fmt.number(b.size_t) if b.built else "–", fmt.number(b.capital_cny) if b.built else "–", fmt.number(b.annualized_cny) if b.built else "–"])
    out.append(_Table([tr("候选项目", "candidate"), tr("决策", "decision"), tr("新增能力（吨/年）", "capacity added (t/yr)"), tr("投资（元）", "capital (CNY)"), tr("投资年值（元/年）", "annualized (CNY/yr)")], rows, (False, False, True, True, True)))
    if result.decision_values:
        out.append(_Heading(3, tr("各项决策的价值（反向决策时年成本的变化）", "Value of each decision (the cost change if made the other way)")))
        out.append(_Cards([_Card(f"{i}. {v.id}", text("invest.required", lang) if not v.feasible else fmt.money(v.value_cny, lang), [v.explanation_zh if zh else v.explanation]) for i, v in enumerate(result.decision_values, 1)]))
    if result.build_break_even:
        out.append(_Heading(3, tr("未建设项目的投资盈亏平衡点", "Capital break-even of the candidates not built")))
        out.append(_Cards([_Card(e.id, fmt.rate(e.factor, 1, lang=lang) if e.factor is not None else "–", [e.explanation_zh if zh else e.explanation]) for e in result.build_break_even]))
    out.append(_Para(result.note_zh if zh else result.note, "meta"))
    return out


def _blocks(plan: Plan, scenario: Scenario | None, lang: str, sankey_href: str | None, investment: Any = None) -> tuple[str, list[_Block]]:
    zh = lang == "zh"
    k = plan.kpis

    def tr(zh_text: str, en_text: str) -> str:
        return _tr(lang, zh_text, en_text)

    name = ((scenario.name_zh or scenario.name_en) if zh else (scenario.name_en or scenario.name_zh)) if scenario else ""
    title = tr(f"{name or plan.scenario_id}：工业固废综合利用方案报告", f"{name or plan.scenario_id}: solid-waste utilization plan")
    met = k.target_rate_value + 1e-9 >= plan.target
    out: list[_Block] = [_Heading(1, title)]
    if name:
        year = scenario.year if scenario else None
        out.append(_Para(tr(f"方案编号 {plan.scenario_id}", f"Scenario {plan.scenario_id}") + ((f"，{year} 年" if zh else f", year {year}") if year else ""), "meta"))
    # headline
    rate_text = fmt.rate(k.utilization_rate)
    gain = plan.objective_cny < 0
    cost = fmt.money(plan.objective_cny, lang)
    mode = value("rate_mode", plan.rate_mode, lang)
    if zh:
        if plan.rate_mode == "utilization":
            head = f"{'目标已实现' if met else '目标未实现'}：综合利用率（官方口径 U/(G+U_prior)）为 {rate_text}，目标 {fmt.rate(plan.target, 1)}；年总成本 {cost}{'（净收益：产品收入高于各项成本）' if gain else ''}。"
        else:
            # the target applies to another rate: that rate leads, the official utilization rate follows
            head = f"{'目标已实现' if met else '目标未实现'}：{mode}为 {fmt.rate(k.target_rate_value)}，目标 {fmt.rate(plan.target, 1)}（综合利用率 U/(G+U_prior) 为 {rate_text}）；年总成本 {cost}{'（净收益：产品收入高于各项成本）' if gain else ''}。"
        head += f"审计{'通过' if plan.audit.passed else '未通过'}。"
    else:
        if plan.rate_mode == "utilization":
            head = f"Target {'met' if met else 'NOT met'}: the utilization rate (official, U/(G+U_prior)) is {rate_text} against a target of {fmt.rate(plan.target, 1)}, at a total cost of {cost}{' (a net gain: product revenue exceeds all costs)' if gain else ''}. "
        else:
            head = f"Target {'met' if met else 'NOT met'}: the {mode} is {fmt.rate(k.target_rate_value)} against a target of {fmt.rate(plan.target, 1)} (the official utilization rate U/(G+U_prior) is {rate_text}), at a total cost of {cost}{' (a net gain: product revenue exceeds all costs)' if gain else ''}. "
        head += f"Audit {'passed' if plan.audit.passed else 'FAILED'}."
    out.append(_Para(head, "headline met" if met else "headline missed"))
    extra = []
    if plan.target_marginal_cost is not None:
        extra.append(plan.target_marginal_cost.explanation_zh if zh else plan.target_marginal_cost.explanation)
    if plan.max_utilization_rate is not None:
        extra.append(tr(f"不计成本时最高可达 {fmt.rate(plan.max_utilization_rate)}。", f"The highest rate the network can reach, cost ignored, is {fmt.rate(plan.max_utilization_rate)}."))
    unmanaged = getattr(plan, "unmanaged", None)
    if unmanaged is not None:
        extra.append(unmanaged.headline_zh if zh else unmanaged.headline)
    co2 = getattr(plan, "co2_t", None)
    if co2 is not None and co2.cap_t is not None:  # a cap is policy: it belongs to the headline
        extra.append(co2.headline_zh if zh else co2.headline)
    if extra:
        out.append(_Para(" ".join(extra)))
    if investment is not None:  # flowopt invest: which projects, then the plan given them
        out.extend(_invest_blocks(investment, lang))
    # the three official rates side by side
    out.append(_Heading(2, tr("官方口径比率", "Official rates")))
    rates = getattr(plan, "rates", None) or []
    if rates:
        rate_rows = [[value("rate_mode", r.mode, lang) + (tr("（目标口径）", " (target)") if r.target_applies else ""), fmt.rate(r.value, lang=lang), fmt.number(r.numerator_t), fmt.number(r.denominator_t), r.formula_zh if zh else r.formula] for r in rates]
        out.append(_Table([tr("比率", "rate"), tr("数值", "value"), tr("分子（吨/年）", "numerator (t/yr)"), tr("分母（吨/年）", "denominator (t/yr)"), tr("公式", "formula")], rate_rows, (False, True, True, True, False)))
    else:
        rate_rows = [[metric(m, lang)[0], fmt.rate(getattr(k, m, None), lang=lang)] for m in ("utilization_rate", "utilization_plus_disposal_rate", "disposal_rate")]
        out.append(_Table([tr("比率", "rate"), tr("数值", "value")], rate_rows, (False, True)))
    # key figures
    out.append(_Heading(2, tr("关键数字", "Key figures")))
    figures = ("generated_t", "reclaimed_t", "utilized_t", "utilized_prior_t", "disposed_t", "stored_t", "unmanaged_t", "lost_t")
    rows = [[metric(f, lang)[0], fmt.number(getattr(k, f))] for f in figures]
    out.append(_Table([tr("项目", "item"), tr("吨/年", "t/yr")], rows, (False, True)))
    out.append(_Heading(2, tr("成本构成", "Cost terms")))
    cost_rows = [[cost_term(t, lang), fmt.number(TERM_SIGNS.get(t, 1) * v), fmt.money(TERM_SIGNS.get(t, 1) * v, "zh") if zh else fmt.money_short(TERM_SIGNS.get(t, 1) * v, lang, per_year=True)] for t, v in plan.cost_terms.items()]
    cost_rows.append([tr("年总成本", "total cost"), fmt.number(plan.objective_cny), fmt.money(plan.objective_cny, "zh") if zh else fmt.money_short(plan.objective_cny, lang, per_year=True)])
    out.append(_Table([tr("分项", "term"), tr("元/年（收入与税收优惠为负）", "CNY/yr (revenue and incentives negative)"), tr("约数", "rounded")], cost_rows, (False, True, True)))
    out.extend(_markets_duties_blocks(plan, lang))
    out.extend(_airspace_carbon_blocks(plan, lang))
    # Sankey
    out.append(_Heading(2, tr("物料流向（桑基图）", "Material flows (Sankey diagram)")))
    out.append(_Figure(sankey_svg(plan, lang, title=""), tr("带宽为年吨数，颜色为固废类别；悬停可查看精确吨数。", "Band width is tonnes per year, colour the waste category; hover for exact tonnes."), sankey_href, tr("（桑基图见 HTML 报告或 `sankey.svg`）", "(see the HTML report or `sankey.svg` for the diagram)")))
    # bottlenecks
    out.append(_Heading(2, tr(f"瓶颈（{len(plan.bottlenecks)} 个起约束作用的条件，按涉及金额排序）", f"Bottlenecks ({len(plan.bottlenecks)} binding limits, largest money at stake first)")))
    if plan.bottlenecks:
        cards = []
        for i, b in enumerate(plan.bottlenecks, 1):
            lines = [b.explanation_zh if zh else b.explanation]
            stake = fmt.money(b.cny_at_stake, lang) if b.cny_at_stake is not None else text("unbounded", lang)
            price = f"{fmt.number(b.shadow_price, 2)} {shadow_unit(b.kind, lang, b.unit)}"
            lines.append(tr(f"影子价格：{price}；涉及金额：{stake}", f"shadow price: {price}; money at stake: {stake}"))
            subject = b.subject_name_zh if zh else b.subject_name_en
            heading = tr("园区综合利用率目标", "the park's utilization target") if b.kind == "target" else f"{subject or b.subject}" + (f" ({b.subject})" if subject and subject != b.subject else "")
            cards.append(_Card(f"{i}. {heading}", family(b.kind, lang), lines))
        out.append(_Cards(cards))
    else:
        out.append(_Para(tr("没有起约束作用的限制。", "No limit binds.")))
    # why not
    out.append(_Heading(2, tr("未用足的项目（为何不用）", "Why not? Projects unused or below capacity")))
    if plan.why_not:
        out.append(_Cards([_Card(f"{((w.name_zh or w.name_en) if zh else (w.name_en or w.name_zh)) or w.subject} ({w.subject})", value("why_not", w.status, lang), [w.explanation_zh if zh else w.explanation]) for w in plan.why_not]))
    else:
        out.append(_Para(tr("所有项目均满负荷运行。", "Every project runs at capacity.")))
    # loads
    out.append(_Heading(2, tr("项目与设施负荷", "Project and site loads")))
    out.append(_Table(
        [tr("编号", "id"), tr("名称", "name"), tr("类型", "kind"), tr("进料（吨/年）", "intake (t/yr)"), tr("能力（吨/年）", "capacity (t/yr)"), tr("负荷率", "load")],
        [[o.outlet, ((o.name_zh or o.name_en) if zh else (o.name_en or o.name_zh)) or o.outlet, value("outlet_kind", o.kind, lang), fmt.number(o.intake_t), fmt.number(o.capacity_t) if o.capacity_t is not None else text("no_limit", lang), fmt.rate(o.load_share, 1, lang=lang) if o.capacity_t is not None else "–"] for o in plan.outlet_loads],
        (False, False, False, True, True, True),
    ))
    # rates
    out.append(_Heading(2, tr("分类与分企业综合利用率", "Utilization rates by waste category and by firm")))
    rate_head = [tr("分组", "group"), tr("产生量（吨/年）", "generated (t/yr)"), tr("综合利用量（吨/年）", "utilized (t/yr)"), tr("综合利用率", "rate")]
    out.append(_Heading(3, tr("按固废类别", "By waste category")))
    out.append(_Table(rate_head, [[category(r.group, lang), fmt.number(r.generated_t), fmt.number(r.utilized_t), fmt.rate(r.rate, 1, lang=lang)] for r in plan.rates_by_category], (False, True, True, True)))
    out.append(_Heading(3, tr("按企业", "By firm")))
    out.append(_Table(rate_head, [[_firm(plan, r.group, lang), fmt.number(r.generated_t), fmt.number(r.utilized_t), fmt.rate(r.rate, 1, lang=lang)] for r in plan.rates_by_firm], (False, True, True, True)))
    # assumptions
    out.append(_Heading(2, tr("假设与数据来源", "Assumptions and sources")))
    if scenario is None:
        out.append(_Para(tr("未提供方案数据，无法列出来源。", "The scenario was not given, so its sources cannot be listed.")))
    else:
        out.extend(_source_blocks(scenario, lang))
    if plan.warnings:
        out.append(_Heading(2, tr("警告", "Warnings")))
        out.extend(_Para(w) for w in plan.warnings)
    out.append(_Para(tr(f"由 flowopt {__version__} 生成；求解器 {plan.solver.get('name', 'HiGHS')}；结果已按原始输入审计。", f"Made by flowopt {__version__}; solver {plan.solver.get('name', 'HiGHS')}; the plan was audited against the original input."), "meta"))
    return title, out


def _markets_duties_blocks(plan: Plan, lang: str) -> list[_Block]:
    """Sections on the plan's product markets, tax incentives and firms' duties (none when it has none)."""
    zh = lang == "zh"
    out: list[_Block] = []

    def nm(zh_name: str, en_name: str, ident: str) -> str:
        return ((zh_name or en_name) if zh else (en_name or zh_name)) or ident

    markets = getattr(plan, "markets", None) or []
    if markets:
        out.append(_Heading(2, "产品市场" if zh else "Product markets"))
        out.append(_Para(text("plan.markets", lang).rstrip(":：")))
        rows = []
        for r in markets:
            tier = text("plan.market_tier", lang, k=r.tier_reached, n=len(r.tiers), price=fmt.number(r.price_reached_cny_per_t or 0.0, 2)) if r.tier_reached else text("plan.market_nothing" if r.tiers else "plan.market_untiered", lang)
            state = text("plan.market_binds", lang, price=fmt.number(r.shadow_price_cny_per_t or 0.0, 2)) if r.binds else text("plan.market_room", lang)
            rows.append([r.market, nm(r.name_zh, r.name_en, r.market), fmt.number(r.limit_t) if r.limit_t is not None else text("plan.market_no_limit", lang), fmt.number(r.sold_t), tier, fmt.number(r.revenue_cny), state])
        heads = [header(f, lang) for f in ("market", "market_name", "limit_t", "sold_t", "tier_reached", "market_revenue_cny", "market_state")]
        out.append(_Table(heads, rows, (False, False, True, True, False, True, False)))
    inc = getattr(plan, "incentives_cny", None)
    if inc is not None:
        out.append(_Heading(2, "税收优惠" if zh else "Tax incentives"))
        if not inc.applied:
            out.append(_Para(text("plan.incentives_off", lang)))
        else:
            out.append(_Para(text("plan.incentives", lang, total=fmt.number(inc.total_cny), vat=fmt.number(inc.vat_refund_cny), tax=fmt.number(inc.income_tax_cny), without=fmt.number(inc.objective_without_cny))))
            rows = [[r.project, nm(r.name_zh, r.name_en, r.project), r.incentive_item or "—", fmt.number(r.revenue_cny), fmt.rate(r.vat_refund_rate, 0, lang=lang), fmt.number(r.vat_refund_cny), fmt.number(r.income_tax_cny), fmt.number(r.total_cny)] for r in inc.by_project]
            heads = [header("project", lang), header("name", lang), header("incentive_item", lang), header("revenue_cny", lang), header("vat_refund_rate", lang, with_unit=False), header("vat_refund_cny", lang), header("income_tax_cny", lang), header("incentive_cny", lang)]
            out.append(_Table(heads, rows, (False, False, False, True, True, True, True, True)))
    duties = getattr(plan, "firm_targets", None) or []
    if duties:
        out.append(_Heading(2, "企业主体责任目标" if zh else "Firms' duties"))
        out.append(_Para(text("plan.duties", lang).rstrip(":：")))
        rows = []
        for r in duties:
            state = text("plan.duty_binds", lang, price=fmt.number(r.cny_per_point or 0.0)) if r.binds else text("plan.duty_met", lang)
            rows.append([_firm(plan, r.firm, lang), fmt.rate(r.target_rate, 1, lang=lang), fmt.rate(r.rate, 2, lang=lang), fmt.number(r.delivered_t), fmt.number(r.generated_t), state])
        heads = [header("firm", lang), header("duty", lang, with_unit=False), header("duty_reached", lang, with_unit=False), header("delivered_t", lang), header("generated_t", lang), header("duty_state", lang)]
        out.append(_Table(heads, rows, (False, True, True, True, True, False)))
    return out


def _airspace_carbon_blocks(plan: Plan, lang: str) -> list[_Block]:
    """Sections on the sites' airspace and the plan's CO2 (none when the plan has neither)."""
    zh = lang == "zh"
    out: list[_Block] = []

    def tr(zh_text: str, en_text: str) -> str:
        return _tr(lang, zh_text, en_text)

    rows = getattr(plan, "airspace", None) or []
    if rows:
        out.append(_Heading(2, tr("处置/贮存设施剩余库容", "Airspace of the disposal and storage sites")))
        out.append(_Para(tr("剩余年限 = 年末剩余库容 ÷ 当年进场量（当年无进场则不会用尽）。", "Years left = airspace left at the end of the year ÷ this year's intake (a site that takes nothing does not fill).")))
        body = [[a.sink, ((a.name_zh or a.name_en) if zh else (a.name_en or a.name_zh)) or a.sink, value("sink_kind", a.kind, lang), fmt.number(a.remaining_start_t), fmt.number(a.intake_t), fmt.number(a.remaining_t), text("airspace.never", lang) if a.years_left is None else fmt.number(a.years_left, 1)] for a in rows]
        heads = [header("sink", lang), header("name", lang), header("kind", lang), header("remaining_start_t", lang), header("intake_t", lang), header("remaining_t", lang), header("years_left", lang)]
        out.append(_Table(heads, body, (False, False, False, True, True, True, True)))
    co2 = getattr(plan, "co2_t", None)
    if co2 is None or not (co2.gross_tco2 or co2.avoided_tco2 or co2.cap_t is not None):
        return out
    out.append(_Heading(2, tr("二氧化碳排放", "CO2 emissions")))
    out.append(_Para(co2.headline_zh if zh else co2.headline))
    columns = ["tonnes", "transport_tco2", "process_tco2", "electricity_tco2", "gross_tco2", "avoided_tco2", "net_tco2"]
    for key, rows_, title in (("project", co2.by_project, tr("按项目（进入项目的吨数造成的排放）", "By project (what the tonnes delivered to it cause)")), ("firm", co2.by_firm, tr("按企业（各企业固废造成的排放）", "By firm (what each firm's waste causes)"))):
        out.append(_Heading(3, title))
        body = [[(f"{r.group} {(r.name_zh if zh else r.name_en) or ''}".strip() if key == "project" else _firm(plan, r.group, lang)), *(fmt.number(getattr(r, c)) for c in columns)] for r in rows_]
        out.append(_Table([header(key, lang), *(header(c, lang) for c in columns)], body, (False, *(True for _ in columns))))
    return out


def _firm(plan: Plan, group: str, lang: str) -> str:
    from flowopt.textreport import firm_group

    special = firm_group(group, lang)
    if special is not None:
        return special
    name = name_of(plan.labels, group, lang)
    return f"{name} ({group})" if name != group else group


def _where_kept(table: str) -> str:
    """Where a table's records are kept: ``scenario.yaml`` for the manifest, else the table (file or sheet) name."""
    return "scenario.yaml" if table == "scenario" else table


def _source_blocks(scenario: Scenario, lang: str) -> list[_Block]:
    zh = lang == "zh"
    items = sources_table(scenario)
    out: list[_Block] = []
    n = {c: sum(1 for *_, cls in items if cls == c) for c in ("cited", "estimate", "none")}
    if zh:
        out.append(_Para(f"共 {len(items)} 条有来源说明的数据：{n['cited']} 条为引用，{n['estimate']} 条含估算，{n['none']} 条无来源。来源说明中出现“估算”“假设”“待核”或 “estimate”、“[E]”、“assumed” 等标记的记为含估算（同一行中引用与估算并存时也记为含估算）。用于决策前，应以园区台账数据替换估算值。"))
    else:
        out.append(_Para(f"{len(items)} sourced items: {n['cited']} cited, {n['estimate']} containing estimates, {n['none']} without a source. An item counts as an estimate when its source mentions an estimate or assumption (“estimate”, “[E]”, “assumed”), also when it mixes cited and estimated numbers. Replace estimates with the park's own ledger data before using a plan for decisions."))
    summary_rows = []
    for table in ("scenario", *TABLES):
        sub = [x for x in items if x[0] == table]
        if not sub:
            continue
        summary_rows.append([f"{value('table', table, lang)} ({_where_kept(table)})", str(len(sub)), *(str(sum(1 for x in sub if x[3] == c)) for c in ("cited", "estimate", "none"))])
    head = ["表" if zh else "table", "条数" if zh else "items", *(value("source_class", c, lang) for c in ("cited", "estimate", "none"))]
    out.append(_Table(head, summary_rows, (False, True, True, True, True)))
    for table in ("scenario", *TABLES):
        sub = [x for x in items if x[0] == table]
        if not sub:
            continue
        rows = [[key, value("source_class", cls, lang), src or "—"] for _, key, src, cls in sub]
        out.append(_Details(f"{value('table', table, lang)} ({_where_kept(table)}): {len(sub)}", [_Table(["键" if zh else "key", "类别" if zh else "class", "来源" if zh else "source"], rows)]))
    return out


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------

_CSS = """
body{margin:0;background:#f6f7f9;color:#1d1d1f;font:15px/1.55 %s}
main{max-width:1240px;margin:0 auto;padding:24px 20px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h3{font-size:15px;margin:14px 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #e2e2e2;padding-bottom:4px}
.meta{color:#666;font-size:13px}
.headline{font-size:17px;padding:12px 16px;border-radius:6px;border-left:6px solid}
.headline.met{background:#eef7ee;border-color:#2e7d32}.headline.missed{background:#fdeeee;border-color:#c62828}
table{border-collapse:collapse;margin:8px 0 12px;font-size:14px}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:10px}
.card{border:1px solid #dde3ea;border-radius:6px;padding:10px 12px;background:#fbfcfe}
.card h3{font-size:15px;margin:0 0 6px}.card p{margin:4px 0;font-size:14px}
.badge{display:inline-block;font-size:12px;background:#e3ecf7;color:#1f4e79;border-radius:10px;padding:1px 8px;margin-left:6px;font-weight:normal}
figure{margin:0}figure svg{max-width:100%%;height:auto;border:1px solid #e2e2e2}
figcaption{color:#666;font-size:13px}
details{margin:6px 0}summary{cursor:pointer;font-weight:bold}
@media print{body{background:#fff}main{padding:0}details{display:block}}
"""


def _html_block(b: object) -> str:
    if isinstance(b, _Heading):
        return f"<h{b.level}>{esc(b.text)}</h{b.level}>"
    if isinstance(b, _Para):
        cls = f' class="{esc(b.style)}"' if b.style else ""
        return f"<p{cls}>{esc(b.text)}</p>"
    if isinstance(b, _Table):
        num = list(b.numeric) + [False] * (len(b.head) - len(b.numeric))
        head = "".join(f"<th>{esc(h)}</th>" for h in b.head)
        tds = ('<td class="n">', "<td>")
        body = "\n".join("<tr>" + "".join(f"{tds[0] if num[i] else tds[1]}{esc(c)}</td>" for i, c in enumerate(r)) + "</tr>" for r in b.rows)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    if isinstance(b, _Cards):
        cards = "\n".join(f'<div class="card"><h3>{esc(c.title)}<span class="badge">{esc(c.badge)}</span></h3>' + "".join(f"<p>{esc(x)}</p>" for x in c.lines) + "</div>" for c in b.cards)
        return f'<div class="cards">\n{cards}\n</div>'
    if isinstance(b, _Figure):
        return f'<figure class="sankey">\n{b.svg}<figcaption>{esc(b.caption)}</figcaption>\n</figure>'
    if isinstance(b, _Details):
        inner = "\n".join(_html_block(x) for x in b.blocks)
        return f"<details>\n<summary>{esc(b.summary)}</summary>\n{inner}\n</details>"
    msg = f"unknown report block {type(b).__name__}"
    raise TypeError(msg)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_block(b: object) -> str:
    if isinstance(b, _Heading):
        return "#" * b.level + " " + b.text
    if isinstance(b, _Para):
        return f"**{b.text}**" if b.style.startswith("headline") else f"*{b.text}*" if b.style == "meta" else b.text
    if isinstance(b, _Table):
        num = list(b.numeric) + [False] * (len(b.head) - len(b.numeric))
        lines = ["| " + " | ".join(_md_cell(h) for h in b.head) + " |", "|" + "|".join("---:" if n else "---" for n in num) + "|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
        return "\n".join(lines)
    if isinstance(b, _Cards):
        return "\n".join(f"- **{_md_cell(c.title)}** ({_md_cell(c.badge)})" + "".join(f"<br>\n  {_md_cell(x)}" for x in c.lines) for c in b.cards)
    if isinstance(b, _Figure):
        return f"![{b.caption}]({b.href})\n\n*{b.caption}*" if b.href else f"*{b.caption}* {b.note}"
    if isinstance(b, _Details):
        return f"<details><summary>{esc(b.summary)}</summary>\n\n" + "\n\n".join(_md_block(x) for x in b.blocks) + "\n\n</details>"
    msg = f"unknown report block {type(b).__name__}"
    raise TypeError(msg)


def _check(plan: Plan, scenario: Scenario | None) -> None:
    if scenario is not None and scenario.id != plan.scenario_id:
        msg = f"The plan is of scenario '{plan.scenario_id}' but the scenario given is '{scenario.id}'; pass the scenario the plan was solved from."
        raise ValueError(msg)


def report_html(plan: Plan, scenario: Scenario | None = None, *, lang: str = "en", investment: Any = None) -> str:
    """Return the plan report as one self-contained HTML page.

    Args:
        plan: an optimal plan.
        scenario: the scenario it was solved from (for names and the sources section); ``None``
            leaves the sources section empty with a note.
        lang: ``zh`` or ``en``.
        investment: the investment result the plan is given (``flowopt invest``): adds the
            section on which candidates are built, with decision values and break-evens.

    Returns:
        HTML text: inline CSS and SVG, no scripts, no external links or sources.

    Raises:
        ValueError: unknown ``lang``, or ``scenario`` is not the plan's scenario.
    """
    lang = check_lang(lang)
    _check(plan, scenario)
    title, blocks = _blocks(plan, scenario, lang, None, investment)
    body = "\n".join(_html_block(b) for b in blocks)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS % FONT_FAMILY}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def report_markdown(plan: Plan, scenario: Scenario | None = None, *, lang: str = "en", sankey_href: str | None = None, investment: Any = None) -> str:
    """Return the plan report as Markdown (GitHub-flavoured tables).

    Args:
        plan: an optimal plan.
        scenario: the scenario it was solved from (names, sources); ``None`` for none.
        lang: ``zh`` or ``en``.
        sankey_href: relative link to the Sankey SVG to show as an image; ``None`` for a note
            instead.
        investment: the investment result the plan is given (``flowopt invest``).

    Returns:
        Markdown text with the same content as :func:`report_html`.

    Raises:
        ValueError: unknown ``lang``, or ``scenario`` is not the plan's scenario.
    """
    lang = check_lang(lang)
    _check(plan, scenario)
    _, blocks = _blocks(plan, scenario, lang, sankey_href, investment)
    return "\n\n".join(_md_block(b) for b in blocks) + "\n"


def write_report(plan: Plan, path: str | os.PathLike[str], scenario: Scenario | None = None, *, lang: str = "en", sankey_href: str | None = None, investment: Any = None) -> Path:
    """Write the report as ``.html`` or ``.md`` (the suffix decides), atomically.

    A Markdown report links an SVG Sankey diagram: ``sankey_href`` if given (e.g. a
    ``sankey.svg`` written beside it already), otherwise it writes one beside the report as
    ``<name>.sankey.svg``.

    Args:
        plan: an optimal plan.
        path: target file (``.html``/``.htm`` or ``.md``).
        scenario: the scenario it was solved from; ``None`` for no sources section.
        lang: ``zh`` or ``en``.
        sankey_href: Markdown only: relative link to an existing Sankey SVG.
        investment: the investment result the plan is given (``flowopt invest``), shown first.

    Returns:
        The report path.

    Raises:
        ValueError: another suffix, unknown ``lang`` or a scenario that is not the plan's.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in (".html", ".htm"):
        text = report_html(plan, scenario, lang=lang, investment=investment)
    elif suffix == ".md":
        text = report_markdown(plan, scenario, lang=lang, sankey_href=sankey_href or target.stem + ".sankey.svg", investment=investment)
        if sankey_href is None:
            with atomic_path(target.with_name(target.stem + ".sankey.svg")) as work:
                work.write_text(sankey_svg(plan, lang), encoding="utf-8")
    else:
        msg = f"Cannot write a report to '{target.name}': use a .html or .md file name."
        raise ValueError(msg)
    with atomic_path(target) as work:
        work.write_text(text, encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------------
# Diagnosis report: an unreachable target (`flowopt report` when the target cannot be met)
# ---------------------------------------------------------------------------------------------

from typing import TYPE_CHECKING  # noqa: E402  (this section is self-contained)

if TYPE_CHECKING:
    from flowopt.diagnosis import Diagnosis


def _diagnosis_blocks(diag: Diagnosis, scenario: Scenario | None, lang: str) -> tuple[str, list[_Block]]:
    """The blocks of a diagnosis report: why the target is out of reach and the cheapest fix."""
    zh = lang == "zh"

    def tr(zh_text: str, en_text: str) -> str:
        return zh_text if zh else en_text

    sid = scenario.id if scenario else ""
    name = ((scenario.name_zh or scenario.name_en) if zh else (scenario.name_en or scenario.name_zh)) if scenario else ""
    title = tr(f"{name or sid or '方案'}：目标无法实现——原因与最经济的调整", f"{name or sid or 'Scenario'}: the target cannot be met — why, and the cheapest fix")
    out: list[_Block] = [_Heading(1, title)]
    if sid:
        out.append(_Para(tr(f"方案编号 {sid}", f"Scenario {sid}") + ((f"，{scenario.year} 年" if zh else f", year {scenario.year}") if scenario and scenario.year else ""), "meta"))
    out.append(_Para(diag.statement_zh if zh else diag.statement, "headline bad"))
    best = "—" if diag.max_rate is None else f"{diag.max_rate:.2%}"
    out.append(_Table([tr("指标", "Figure"), tr("数值", "Value")], [[tr("目标", "Target"), f"{diag.target:.2%}"], [tr("现有网络最高可达（不计成本）", "Highest rate this network reaches (cost ignored)"), best], [tr("口径", "Rate"), value("rate_mode", diag.rate_mode, lang)]], (False, True)))
    if diag.relaxations:
        out.append(_Heading(2, tr("最经济的调整", "Cheapest relaxation")))
        out.append(_Para(tr(f"按每吨/年新增能力 {diag.expansion_cost_cny_per_t:,.0f} 元的假设价格排序（用于排序，不是投资估算）。", f"Ranked at an assumed {diag.expansion_cost_cny_per_t:,.0f} CNY per t/yr of new capacity (a ranking convention, not an investment estimate).")))
        rows = [[r.explanation_zh if zh else r.explanation, f"{r.current:,.6g}", f"{r.proposed:,.6g}", f"{r.change:+,.6g}", r.unit, r.where or ""] for r in diag.relaxations]
        out.append(_Table([tr("调整", "Change"), tr("现值", "Now"), tr("建议值", "Proposed"), tr("变化", "Change by"), tr("单位", "Unit"), tr("来源", "From")], rows, (False, True, True, True, False, False)))
    for heading, findings in ((tr("筛查", "Screens"), diag.screens), (tr("最小割：限制利用量的能力", "Minimum cut: the capacities that limit utilization"), diag.min_cut), (tr("相互冲突的限制（HiGHS 不可约不可行子集）", "Conflicting limits (HiGHS's irreducible infeasible subset)"), diag.conflict)):
        if findings:
            out.append(_Heading(2, heading))
            out.append(_Table([tr("发现", "Finding"), tr("来源", "From")], [[f.message_zh if zh else f.message, f.where or ""] for f in findings]))
    if scenario is not None:
        out.append(_Heading(2, tr("假设与来源", "Assumptions and sources")))
        out.extend(_source_blocks(scenario, lang))
    out.append(_Para(f"flowopt {__version__}", "meta"))
    return title, out


def diagnosis_report_html(diag: Diagnosis, scenario: Scenario | None = None, *, lang: str = "en") -> str:
    """Return the report of an unreachable target as one self-contained HTML page.

    Args:
        diag: the diagnosis (``InfeasibleError.diagnosis``).
        scenario: the scenario it is about (title, sources); ``None`` for none.
        lang: ``zh`` or ``en``.

    Returns:
        HTML text: the statement, the highest reachable rate, the cheapest relaxations with the
        input row each comes from, screens, the minimum cut and the conflicting limits; inline
        CSS, no scripts, no external links.

    Raises:
        ValueError: unknown ``lang``.
    """
    lang = check_lang(lang)
    title, blocks = _diagnosis_blocks(diag, scenario, lang)
    body = "\n".join(_html_block(b) for b in blocks)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS % FONT_FAMILY}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def diagnosis_report_markdown(diag: Diagnosis, scenario: Scenario | None = None, *, lang: str = "en") -> str:
    """Return the report of an unreachable target as Markdown (the same content as the HTML).

    Raises:
        ValueError: unknown ``lang``.
    """
    lang = check_lang(lang)
    _, blocks = _diagnosis_blocks(diag, scenario, lang)
    return "\n\n".join(_md_block(b) for b in blocks) + "\n"


def write_diagnosis_report(diag: Diagnosis, path: str | os.PathLike[str], scenario: Scenario | None = None, *, lang: str = "en") -> Path:
    """Write the report of an unreachable target as ``.html`` or ``.md`` (the suffix decides), atomically.

    Args:
        diag: the diagnosis.
        path: target file (``.html``/``.htm`` or ``.md``).
        scenario: the scenario it is about; ``None`` for no sources section.
        lang: ``zh`` or ``en``.

    Returns:
        The report path.

    Raises:
        ValueError: another suffix or an unknown ``lang``.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in (".html", ".htm"):
        content = diagnosis_report_html(diag, scenario, lang=lang)
    elif suffix == ".md":
        content = diagnosis_report_markdown(diag, scenario, lang=lang)
    else:
        msg = f"Cannot write a report to '{target.name}': use a .html or .md file name."
        raise ValueError(msg)
    with atomic_path(target) as work:
        work.write_text(content, encoding="utf-8")
    return target
