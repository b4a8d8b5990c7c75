"""Excel workbooks: a plan as ``plan.xlsx`` and a blank input template with a data dictionary.

Stage: results -> presentation (the plan workbook) and schema -> input form (the template).

* :func:`write_plan_workbook` writes one sheet per plan table (summary, flows, stream fates,
  project and sink loads, bottleneck cards, why-not entries, rates per firm and per category,
  audit) in one language (``lang``): sheet names, headers with units (``吨数（吨/年）`` or
  ``Tonnes (t/yr)``), categories, kinds and explanations. Every number is stored as a number,
  rounded to a sensible precision (:mod:`flowopt.fmt`) and formatted (``#,##0`` tonnes and
  CNY, ``0.00%`` rates, ``#,##0.00`` prices); widths count Chinese characters double, header
  rows wrap to fit, and every sheet prints landscape, one page wide, the header repeated.
* :func:`write_template` writes an empty scenario workbook that
  :func:`flowopt.io.load_scenario` reads once it is filled: a ``scenario`` sheet of
  ``key | value`` rows, one sheet per table whose header row is the field names, and a
  ``dictionary`` sheet built from the field docstrings of :mod:`flowopt.schema` (in Chinese
  from :data:`DOCS_ZH` with ``lang="zh"``).

Both writers go through :func:`flowopt.io.atomic_path`.
"""

from __future__ import annotations

import enum
import math
import os
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flowopt import fmt
from flowopt.i18n import (
    HEADERS,
    Label,
    category,
    check_lang,
    cost_term,
    family,
    metric,
    name_of,
    shadow_unit,
    text,
    unit,
    value,
)
from flowopt.io import MANIFEST_SHEET, atomic_path
from flowopt.results import TERM_SIGNS, Plan
from flowopt.schema import REQUIRED_TABLES, TABLES, Scenario
from flowopt.texttable import display_width

#: Sheet names of ``plan.xlsx`` keyed by table name, in English and Chinese.
PLAN_SHEETS: dict[str, Label] = {
    "summary": Label("Summary", "摘要"),
    "flows": Label("Flows", "流向"),
    "stream_fates": Label("Stream fates", "物料归宿"),
    "outlet_loads": Label("Loads", "负荷"),
    "bottlenecks": Label("Bottlenecks", "瓶颈"),
    "why_not": Label("Why not", "未用足项目"),
    "rates_by_firm": Label("By firm", "分企业"),
    "rates_by_category": Label("By category", "分类别"),
    "markets": Label("Markets", "产品市场"),
    "incentives": Label("Incentives", "税收优惠"),
    "firm_duties": Label("Firms' duties", "企业责任目标"),
    "airspace": Label("Airspace", "剩余库容"),
    "co2": Label("CO2", "碳排放"),
    "audit": Label("Audit", "审计"),
}

#: Name of the template's data-dictionary sheet (the loader ignores it).
DICTIONARY_SHEET = "dictionary"

#: Table headers (field -> label and unit), shared with the text tables: :data:`flowopt.i18n.HEADERS`.
COLUMNS = HEADERS

#: Bottleneck kinds whose limit is in t/yr (the others are fractions: quality, shares, the target).
_TONNAGE_KINDS = ("project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit", "sink_airspace", "co2_cap")


def plan_sheets(lang: str = "en") -> dict[str, str]:
    """Sheet names of ``plan.xlsx`` in ``lang``, keyed by table name (in sheet order)."""
    return {k: v.pick(lang) for k, v in PLAN_SHEETS.items()}


def header(field: str, lang: str = "en") -> str:
    """Column header of a plan-table field: ``吨数（吨/年）`` or ``Tonnes (t/yr)``.

    Args:
        field: a key of :data:`COLUMNS` (unknown fields are returned unchanged).
        lang: ``en`` or ``zh``.

    Returns:
        The header text.
    """
    from flowopt.i18n import header as _header

    return _header(field, lang)


@dataclass(frozen=True)
class Cell:
    """A workbook value with its own number kind (overrides the column's, e.g. in the summary)."""

    value: Any
    kind: str | None


def _field_kind(field: str) -> str | None:
    """Number kind of a column (``t``, ``cny``, ``price``, ``rate``, ``km``, ``int``…); None for text."""
    if field in ("rank",):
        return "int"
    if field in ("shadow_price",):
        return "price"
    if field in ("limit", "valid_from", "valid_to"):
        return "other"  # set per row (t/yr or a fraction)
    if field == "worst_violation":
        return "other"
    entry = HEADERS.get(field)
    unit_key = entry[1] if entry else ""
    if not unit_key:
        return None
    return fmt.kind_of(field, unit_key)


def _yes(flag: bool | None, lang: str) -> str | None:
    return None if flag is None else text("yes" if flag else "no", lang)


def _firm(plan: Plan, firm: str | None, lang: str) -> str:
    from flowopt.textreport import firm_group

    return firm_group(firm, lang) or name_of(plan.labels, firm, lang, fallback_id=False)


def _firm_id(firm: str | None) -> str:
    """A firm id for the id column; empty for the groups ``(mixed)`` and ``(none)`` (their name says it)."""
    return "" if not firm or firm.startswith("(") else firm


def _summary(plan: Plan, lang: str) -> list[list[Any]]:
    k = plan.kpis
    met = k.target_rate_value + 1e-9 >= plan.target
    mode = value("rate_mode", plan.rate_mode, lang)

    def row(label: str, v: Any, kind: str | None, unit_key: str = "") -> list[Any]:
        # a rate is shown as a percentage: its unit column stays empty
        return [label, Cell(v, kind), unit(unit_key, lang) if unit_key and unit_key != "fraction" else ""]

    zh = lang == "zh"
    rows = [
        row("情景" if zh else "Scenario", plan.scenario_id, None),
        row("求解状态" if zh else "Status", value("status", plan.status, lang), None),
        row("审计通过" if zh else "Audit passed", _yes(plan.audit.passed, lang), None),
        row((f"目标（{mode}）" if zh else f"Target ({mode})"), plan.target, "rate", "fraction"),
        row("目标是否实现" if zh else "Target met", _yes(met, lang), None),
        row("目标口径比率达到" if zh else "Rate the target applies to, reached", k.target_rate_value, "rate", "fraction"),
    ]
    official = getattr(plan, "rates", None) or []
    if official:
        # the rate's formula where a unit would stand (a rate has none), the target's rate marked
        symbols = {"utilization": "U/(G+U_prior)", "utilization_plus_disposal": "(U+D)/(G+U_prior+D_prior)", "disposal_only": "D/G"}
        mark = "（目标口径）" if zh else " (the target's rate)"
        rows += [[*row(value("rate_mode", r.mode, lang) + ("（官方口径）" if zh else " (official)"), r.value, "rate", "fraction")[:2], symbols.get(r.mode, "") + (mark if r.target_applies else "")] for r in official]
    else:
        rows += [row(metric(m, lang)[0], getattr(k, m, None), "rate", "fraction") for m in ("utilization_rate", "utilization_plus_disposal_rate", "disposal_rate")]
    rows.append(row(metric("max_utilization_rate", lang)[0], plan.max_utilization_rate, "rate", "fraction"))
    tm = plan.target_marginal_cost
    if tm is not None:
        rows += [
            row(metric("target_cny_per_point", lang)[0], tm.cny_per_point, "cny", "CNY/yr per point"),
            row("  该价格有效的目标下限" if zh else "  price holds from target", tm.valid_from_target, "rate", "fraction"),
            row("  该价格有效的目标上限" if zh else "  price holds up to target", tm.valid_to_target, "rate", "fraction"),
        ]
    rows.append(row(text("total_cost", lang) if zh else "Total cost", plan.objective_cny, "cny", "CNY/yr"))
    for term, v in plan.cost_terms.items():
        label = cost_term(term, lang)
        if TERM_SIGNS.get(term, 1) < 0:  # revenue and incentives are subtracted
            label = text("revenue_subtracted", lang, term=label)
        rows.append(row(f"  {label}", TERM_SIGNS.get(term, 1) * v, "cny", "CNY/yr"))
    incentives = getattr(plan, "incentives_cny", None)
    if incentives is not None and incentives.applied:
        rows.append(row("无税收优惠时的年总成本（同一方案）" if zh else "Total cost without the incentives (same plan)", incentives.objective_without_cny, "cny", "CNY/yr"))
    for f in ("generated_t", "reclaimed_t", "utilized_t", "utilized_new_t", "utilized_prior_t", "disposed_t", "stored_t", "unmanaged_t", "lost_t"):
        label = metric(f, lang)[0]
        rows.append(row(("  " + label) if f in ("utilized_new_t", "utilized_prior_t") else label, getattr(k, f), "t", "t/yr"))
    return rows


def plan_tables(plan: Plan, lang: str = "en") -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The rows of ``plan.xlsx``: sheet key -> (field names, rows of values), in ``lang``.

    Args:
        plan: the plan.
        lang: ``en`` or ``zh``: names, categories, kinds, statuses and explanations.

    Returns:
        One entry per key of :data:`PLAN_SHEETS`; values are numbers, text or ``None`` (an
        empty cell); a :class:`Cell` carries a value whose number format differs from its
        column's (the summary's values, bottleneck limits).
    """
    lang = check_lang(lang)
    zh = lang == "zh"

    def nm(ident: str | None) -> str:
        return name_of(plan.labels, ident, lang, fallback_id=False)

    flows = [
        [f.stream, nm(f.stream), _firm_id(getattr(f, "firm", None)), _firm(plan, getattr(f, "firm", None), lang), category(f.category, lang), (getattr(f, "origin_label_zh" if zh else "origin_label", "") or value("origin", f.origin, lang)), value("source_kind", f.source_kind, lang), f.source, f.from_site, f.destination, nm(f.destination) if f.destination_kind != "unmanaged" else value("flow_kind", "unmanaged", lang), value("destination_kind", f.destination_kind, lang), value("flow_kind", f.kind, lang), f.tonnes, f.distance_km, f.transport_cny, f.handling_cny, f.revenue_cny, f.tax_cny, f.penalty_cny, getattr(f, "incentive_cny", 0.0), f.cost_cny]
        for f in plan.flows
    ]
    fates = [[f.root, nm(f.root), f.stream, value("origin", f.origin, lang), category(f.category, lang), _firm_id(f.firm), _firm(plan, f.firm, lang), f.supplied_t, f.utilized_t, f.disposed_t, f.stored_t, f.unmanaged_t, f.lost_t] for f in plan.stream_fates]
    loads = [
        [o.outlet, value("outlet_kind", o.kind, lang), (o.name_zh or o.name_en) if zh else (o.name_en or o.name_zh), o.intake_t, Cell(o.capacity_t if o.capacity_t is not None else text("no_limit", lang), "t"), None if o.capacity_t is None else max(o.capacity_t - o.intake_t, 0.0), o.min_intake_t, o.load_share, _yes(o.load_share is not None and o.load_share >= 1 - 1e-6, lang)]
        for o in plan.outlet_loads
    ]

    def limit(b: Any, x: float | None) -> Cell:
        return Cell(x, "t" if b.kind in _TONNAGE_KINDS else "rate")

    def subject(b: Any) -> tuple[str, str]:
        if b.kind == "target":  # the park as a whole, not a record
            return "", "园区综合利用率目标" if zh else "the park's utilization target"
        return b.subject, (b.subject_name_zh if zh else b.subject_name_en) or ""

    cards = [[i, family(b.kind, lang), b.constraint, *subject(b), b.shadow_price, shadow_unit(b.kind, lang, b.unit), limit(b, b.limit), limit(b, b.valid_from), limit(b, b.valid_to), b.tonnes_at_stake, b.cny_at_stake, b.explanation_zh if zh else b.explanation] for i, b in enumerate(plan.bottlenecks, 1)]
    why_not = [[w.subject, value("outlet_kind", w.kind, lang) if w.kind == "project" else w.kind, value("why_not", w.status, lang), (w.name_zh or w.name_en) if zh else (w.name_en or w.name_zh), w.intake_t, w.capacity_t, w.reduced_cost_cny_per_t, w.break_even_cny_per_t, w.entering_stream, w.entering_source, w.explanation_zh if zh else w.explanation] for w in plan.why_not]
    by_firm = [[_firm_id(r.group), _firm(plan, r.group, lang), r.generated_t, r.utilized_t, r.utilized_prior_t, r.rate] for r in plan.rates_by_firm]
    by_cat = [[category(r.group, lang), r.generated_t, r.utilized_t, r.utilized_prior_t, r.rate] for r in plan.rates_by_category]
    audit = [[value("audit", c.name, lang), _yes(c.passed, lang), c.worst_violation, text("ok", lang) if c.detail == "ok" else c.detail] for c in plan.audit.checks]
    markets = [[r.market, (r.name_zh or r.name_en) if zh else (r.name_en or r.name_zh), Cell(r.limit_t if r.limit_t is not None else text("plan.market_no_limit", lang), "t"), r.sold_t, r.tier_reached or None, r.price_reached_cny_per_t, r.revenue_cny, _yes(r.binds, lang), r.shadow_price_cny_per_t if r.binds else None] for r in getattr(plan, "markets", [])]
    inc = getattr(plan, "incentives_cny", None)
    incentives = [[r.project, (r.name_zh or r.name_en) if zh else (r.name_en or r.name_zh), r.incentive_item, r.revenue_cny, r.vat_refund_rate, r.vat_refund_cny, r.income_tax_cny, r.total_cny] for r in (inc.by_project if inc is not None else [])]
    duties = [[r.firm, (r.name_zh or r.name_en) if zh else (r.name_en or r.name_zh), r.target_rate, r.rate, r.delivered_t, r.generated_t, _yes(r.binds, lang), r.cny_per_point] for r in getattr(plan, "firm_targets", [])]
    return {
        "summary": (["item", "value", "unit"], _summary(plan, lang)),
        "flows": (["stream", "stream_name", "firm", "firm_name", "category", "origin_label", "source_kind", "source", "from_site", "destination", "destination_name", "destination_kind", "kind", "tonnes", "distance_km", "transport_cny", "handling_cny", "revenue_cny", "tax_cny", "penalty_cny", "incentive_cny", "cost_cny"], flows),
        "stream_fates": (["root", "name", "stream", "origin", "category", "firm", "firm_name", "supplied_t", "utilized_t", "disposed_t", "stored_t", "unmanaged_t", "lost_t"], fates),
        "outlet_loads": (["outlet", "kind", "name", "intake_t", "capacity_t", "spare_t", "min_intake_t", "load_share", "full"], loads),
        "bottlenecks": (["rank", "kind", "constraint", "subject", "subject_name", "shadow_price", "unit", "limit", "valid_from", "valid_to", "tonnes_at_stake", "cny_at_stake", "explanation"], cards),
        "why_not": (["subject", "kind", "status", "name", "intake_t", "capacity_t", "reduced_cost_cny_per_t", "break_even_cny_per_t", "entering_stream", "entering_source", "explanation"], why_not),
        "rates_by_firm": (["group", "group_name", "generated_t", "utilized_t", "utilized_prior_t", "rate"], by_firm),
        "rates_by_category": (["category", "generated_t", "utilized_t", "utilized_prior_t", "rate"], by_cat),
        "markets": (["market", "market_name", "limit_t", "sold_t", "tier_reached", "price_reached_cny_per_t", "market_revenue_cny", "full", "shadow_price"], markets),
        "incentives": (["project", "name", "incentive_item", "revenue_cny", "vat_refund_rate", "vat_refund_cny", "income_tax_cny", "incentive_cny"], incentives),
        "firm_duties": (["firm", "firm_name", "duty", "duty_reached", "delivered_t", "generated_t", "duty_state", "cny_per_point"], duties),
        **_airspace_carbon_tables(plan, lang),
        "audit": (["check", "passed", "worst_violation", "detail"], audit),
    }


def _airspace_carbon_tables(plan: Plan, lang: str) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The ``airspace`` and ``co2`` sheets: sinks' airspace, the plan's CO2 by project and by firm."""
    zh = lang == "zh"
    air = [[a.sink, (a.name_zh or a.name_en) if zh else (a.name_en or a.name_zh), value("sink_kind", a.kind, lang), a.remaining_start_t, a.intake_t, a.remaining_t, a.years_left] for a in getattr(plan, "airspace", [])]
    co2 = getattr(plan, "co2_t", None)
    rows: list[list[Any]] = []
    if co2 is not None:
        # the park's totals first, then one row per project and per firm
        rows.append(["", "", "园区合计" if zh else "park total", None, co2.transport_tco2, co2.process_tco2, co2.electricity_tco2, co2.gross_tco2, co2.avoided_tco2, co2.net_tco2])
        for kind, group in (("project", co2.by_project), ("firm", co2.by_firm)):
            label = value("outlet_kind", "project", lang) if kind == "project" else header("firm", lang)
            rows += [[label, _firm_id(r.group) if kind == "firm" else r.group, (r.name_zh if zh else r.name_en) if kind == "project" else _firm(plan, r.group, lang), r.tonnes, r.transport_tco2, r.process_tco2, r.electricity_tco2, r.gross_tco2, r.avoided_tco2, r.net_tco2] for r in group]
    return {
        "airspace": (["sink", "name", "kind", "remaining_start_t", "intake_t", "remaining_t", "years_left"], air),
        "co2": (["kind", "id", "name", "tonnes", "transport_tco2", "process_tco2", "electricity_tco2", "gross_tco2", "avoided_tco2", "net_tco2"], rows),
    }


# ---------------------------------------------------------------------------------------------
# Writing sheets: formats, widths, print setup
# ---------------------------------------------------------------------------------------------

#: Widest column (Excel character units); longer text wraps.
MAX_WIDTH = 60
#: Width of columns of long sentences (explanations), which wrap.
TEXT_WIDTH = 80
_WRAPPED = ("explanation", "description", "detail", "formula")


def _shown_width(v: Any, kind: str | None) -> int:
    """Display width of a cell as Excel shows it (numbers formatted, CJK characters double)."""
    if v is None:
        return 0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return len(fmt.amount(v, kind or "other"))
    return display_width(str(v))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def write_sheet(ws: Any, heads: Sequence[str], rows: Sequence[Sequence[Any]], *, kinds: Sequence[str | None] | None = None, fields: Sequence[str] = (), widths: Sequence[float] | None = None) -> None:
    """Fill a worksheet for reading and printing: header, values, formats, widths, print setup.

    Numbers are rounded to their stored precision (:func:`flowopt.fmt.stored`) and get the
    number format of their kind (:data:`flowopt.fmt.EXCEL_FORMATS`); a :class:`Cell` brings its
    own kind. Column widths follow the longest shown value (Chinese characters count two),
    capped, with long sentences wrapped; the header row wraps and is as tall as its longest
    header needs; the header is frozen and repeated on every printed page; pages are A4
    landscape, one page wide.

    Args:
        ws: an openpyxl worksheet (empty).
        heads: header texts.
        rows: rows of values or :class:`Cell` objects.
        kinds: number kind per column (``None``: text); default from ``fields``.
        fields: field names (for wrapping sentence columns and default kinds).
        widths: fixed column widths (characters) instead of measured ones.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ncols = len(heads)
    kinds = list(kinds) if kinds is not None else [_field_kind(f) for f in fields] + [None] * (ncols - len(fields))
    ws.append(list(heads))
    longest = [0] * ncols
    for row in rows:
        values: list[Any] = []
        cell_kinds: list[str | None] = []
        for i in range(ncols):
            raw = row[i] if i < len(row) else None
            kind = kinds[i]
            if isinstance(raw, Cell):
                raw, kind = raw.value, raw.kind
            if isinstance(raw, float) and not math.isfinite(raw):
                raw = None
            if _is_number(raw):
                raw = fmt.stored(float(raw), kind or "other") if isinstance(raw, float) else raw
            values.append(raw)
            cell_kinds.append(kind)
        ws.append(values)
        r = ws.max_row
        for i, (v, kind) in enumerate(zip(values, cell_kinds, strict=True)):
            if _is_number(v):
                ws.cell(row=r, column=i + 1).number_format = fmt.EXCEL_FORMATS.get(kind or ("int" if isinstance(v, int) else "other"), "0.00")
            longest[i] = max(longest[i], _shown_width(v, kind))
    wrap = [any(w in f for w in _WRAPPED) for f in list(fields) + [""] * (ncols - len(fields))]
    head_lines = 1
    for i, head in enumerate(heads):
        letter = get_column_letter(i + 1)
        if widths is not None:
            width = float(widths[i])
        elif wrap[i]:
            width = float(min(TEXT_WIDTH, max(longest[i], 20) + 2))
        else:
            width = float(max(8, min(MAX_WIDTH, max(longest[i], min(display_width(head), 24)) + 2)))
        ws.column_dimensions[letter].width = width
        head_lines = max(head_lines, math.ceil(display_width(head) / max(width - 1, 1)))
        if wrap[i] or (widths is not None and longest[i] > width):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1][:ncols]:
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 15.0 * head_lines + 3
    ws.freeze_panes = "A2"
    print_setup(ws)


def print_setup(ws: Any) -> None:
    """A4 landscape, fit to one page wide (as many pages tall as needed), header row on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4


#: Sheets an investment result adds to ``plan.xlsx`` (``flowopt invest --out``), in order.
INVEST_SHEETS: dict[str, Label] = {
    "builds": Label("Builds", "建设决策"),
    "decision_values": Label("Decision values", "决策价值"),
    "break_even": Label("Capital break-even", "投资盈亏平衡"),
}


def invest_tables(result: Any, lang: str = "en") -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The rows of the investment sheets: every candidate, built or not; decision values; break-evens.

    Args:
        result: a :class:`flowopt.invest.InvestmentResult`.
        lang: ``en`` or ``zh``.

    Returns:
        Sheet key of :data:`INVEST_SHEETS` -> (field names, rows).
    """
    lang = check_lang(lang)
    zh = lang == "zh"

    def decision(b: Any) -> str:
        word = text("invest.built_yes" if b.built else ("invest.built_no" if b.available else "invest.unavailable"), lang)
        return word + (f" ({text('invest.forced', lang, how=text('invest.forced_' + b.forced, lang))})" if b.forced else "")

    builds = [[b.id, (b.name_zh or b.name_en) if zh else (b.name_en or b.name_zh), b.project, b.sizing, decision(b), b.size_t, b.modules, b.year, b.capital_cny, b.annualized_cny, b.fixed_opex_cny, b.group or ""] for b in sorted(result.builds, key=lambda b: (not b.built, b.id))]
    values = [[i, v.id, text("invest.forced_" + v.forced_to, lang), _yes(v.feasible, lang), v.total_cost_cny, v.value_cny, v.explanation_zh if zh else v.explanation] for i, v in enumerate(result.decision_values, 1)]
    evens = [[e.id, e.size_t, e.capital_cny, e.break_even_capital_cny, e.factor, e.explanation_zh if zh else e.explanation] for e in result.build_break_even]
    return {
        "builds": (["candidate", "name", "project", "sizing", "built", "size_t", "modules", "year", "capital_cny", "annualized_cny", "fixed_opex_cny", "group"], builds),
        "decision_values": (["rank", "candidate", "forced_to", "passed", "total_cost_cny", "value_cny", "explanation"], values),
        "break_even": (["candidate", "size_t", "capital_cny", "break_even_capital_cny", "factor", "explanation"], evens),
    }


def write_plan_workbook(plan: Plan, path: str | os.PathLike[str], *, lang: str = "en", investment: Any = None) -> Path:
    """Write a plan as an Excel workbook (``plan.xlsx``), atomically.

    Sheets (names in :data:`PLAN_SHEETS`): summary (target, the three official rates, the
    target's marginal cost, total cost and its terms, tonnes by fate), flows (with the firm the
    tonnes come from and their origin), stream fates, outlet loads vs capacity ("no limit" for
    uncapped sinks), bottleneck cards (with valid ranges and money at stake), why-not entries,
    rates per firm and per waste category, and the audit. Everything shown is in ``lang``;
    numbers are numbers (tonnes t/yr, money CNY/yr, rates as fractions formatted as
    percentages), rounded and formatted; every sheet is set up to print.

    Args:
        plan: the plan.
        path: target ``.xlsx`` file; replaced atomically.
        lang: ``en`` or ``zh``.
        investment: an investment result (:class:`flowopt.invest.InvestmentResult`) whose plan
            this is: the workbook starts with its sheets (:data:`INVEST_SHEETS`: every candidate
            built or not, the value of each decision, capital break-evens).

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.xlsx``, or an unknown ``lang``.
    """
    from openpyxl import Workbook

    lang = check_lang(lang)
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        msg = f"'{target.name}' is not an .xlsx file name."
        raise ValueError(msg)
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    if investment is not None:
        for key, (fields, rows) in invest_tables(investment, lang).items():
            ws = wb.create_sheet(INVEST_SHEETS[key].pick(lang))
            write_sheet(ws, [header(f, lang) for f in fields], rows, fields=fields)
    names = plan_sheets(lang)
    for key, (fields, rows) in plan_tables(plan, lang).items():
        ws = wb.create_sheet(names[key])
        write_sheet(ws, [header(f, lang) for f in fields], rows, fields=fields)
    with atomic_path(target) as work:
        wb.save(work)
    return target


# ---------------------------------------------------------------------------------------------
# Input template
# ---------------------------------------------------------------------------------------------

#: Names of the input tables (the sheet names stay the table names, which the loader reads).
TABLE_NAMES_ZH = {k: value("table", k, "zh") for k in TABLES}

#: The data dictionary in Chinese: ``table`` (the table), ``table.field``, ``scenario.<key>``
#: (manifest settings) or ``*.field`` (a field of that name in any table).
DOCS_ZH: dict[str, str] = {
    "*.id": "唯一编号。",
    "*.name_zh": "中文名称。",
    "*.name_en": "英文名称。",
    "*.source": "数据来源。",
    "scenario.id": "情景编号。",
    "scenario.name_zh": "中文标题。",
    "scenario.name_en": "英文标题。",
    "scenario.year": "情景所描述的年份。",
    "scenario.description": "说明文字。",
    "scenario.policy.target_rate": "rate_mode 所选比率的目标值（0.70 即 70%）。",
    "scenario.policy.rate_mode": "目标适用的比率；默认为官方口径的综合利用率。",
    "scenario.policy.count_losses_as_utilized": "项目进料的工艺损失（如蒸发的水分）是否与产品一样计入综合利用量。",
    "scenario.policy.allow_unmanaged": "是否允许当年产生的固废未妥善处置（按环境保护税另加 unmanaged_penalty_cny_per_t 计价）。默认 FALSE：不允许，每吨都须有去向。",
    "scenario.policy.unmanaged_penalty_cny_per_t": "每吨未妥善处置固废在环境保护税之外的额外成本（罚款、修复），元/吨；allow_unmanaged 为 TRUE 时必填（只计税则填 0），否则不起作用。",
    "scenario.policy.discount_rate": "投资决策（candidates 表）的年折现率：候选项目的投资按资金回收系数 r(1+r)^L/((1+r)^L−1) 在寿命期 L（lifetime_yr）内折算为年值（r 为 0 时为 1/L）。默认 0.08，即《建设项目经济评价方法与参数》（第三版，2006）的社会折现率。仅在有候选项目时使用。",
    "scenario.policy.capital_budget_cny": "建成的候选项目投资总额上限（元，未折年）；留空表示不限。",
    "scenario.policy.capital_budget_cny_per_yr": "同一年投运的候选项目投资额上限（元）；留空表示不限。单年模型中所有建设均在情景年份投运。",
    "scenario.transport.fixed_cny_per_t": "场地之间每运输 1 吨的装卸费。",
    "scenario.transport.variable_cny_per_t_km": "每吨公里运费。",
    "scenario.transport.road_winding_factor": "道路里程与直线距离之比；距离由坐标推算时使用。",
    "scenario.transport.same_site_fixed": "来源与去向在同一场地时是否也收取装卸费。",
    "scenario.sources.<key>": "方案参数的数据来源，以参数的点分路径为键（如 sources.policy.target_rate）。",
    "sites": "固废产生或处理的地点；运输距离按场地计算。",
    "sites.x_km": "可选的平面 x 坐标（公里）；distances 表中缺少的距离由坐标推算。",
    "sites.y_km": "可选的平面 y 坐标（公里）。",
    "sites.source": "坐标的来源。",
    "firms": "产生固废或运营项目的企业。",
    "firms.site": "企业的主要场地（sites 中的编号）。",
    "firms.source": "记录的来源。",
    "streams": "固废物料流：成分相同、环境保护税类别相同的一种物料。来源可以是当年产生（企业场地的 generation_t）、历史堆存回采（stockpiles）或项目残渣（residues）；仅作为残渣出现的物料流 generation_t 为 0。",
    "streams.firm": "产生企业（firms 中的编号）；仅为残渣的物料流留空。",
    "streams.site": "产生场地；默认为企业的场地。",
    "streams.category": "固废类别（决定未妥善处置时的环境保护税）。",
    "streams.generation_t": "当年产生量。",
    "streams.source": "产生量的来源。",
    "composition": "物料流中某一成分（TiO2、TFe、V2O5、H2O 等）的质量分数。",
    "composition.stream": "物料流编号。",
    "composition.component": "成分名称，与 quality 表一致（区分大小写）。",
    "composition.fraction": "该成分在物料流中的质量分数，0 到 1。",
    "composition.source": "数值的来源。",
    "stockpiles": "可回采的历史堆存（如西渣场）。回采量进入综合利用项目时计为“综合利用往年贮存量”，同时计入官方综合利用率的分子和分母。",
    "stockpiles.stream": "物料流编号，决定回采物料的成分和类别。",
    "stockpiles.site": "堆存所在场地。",
    "stockpiles.stock_t": "堆存量。",
    "stockpiles.max_reclaim_t": "每年最多可回采的吨数（实际上限取堆存量与此值的较小者）。",
    "stockpiles.reclaim_cost_cny_per_t": "每吨回采的挖掘装车费用。",
    "stockpiles.source": "数值的来源。",
    "projects": "综合利用项目：接收允许的物料流作为进料，出售产品，产生残渣。每吨进料中 product_fraction 成为产品（计入综合利用），loss_fraction 为工艺损失（如蒸发的水分），residues 表每行给出转为另一物料流、需再分配去向的比例；三者之和须为 1。",
    "projects.id": "去向编号（项目与设施共用一套编号）。",
    "projects.firm": "运营企业（firms 中的编号），如已知。",
    "projects.site": "厂址所在场地。",
    "projects.capacity_t": "每年最多进料吨数。",
    "projects.min_intake_t": "每年最少进料吨数（合同或技术下限）；无下限填 0。",
    "projects.processing_cost_cny_per_t": "每吨进料的加工成本。",
    "projects.revenue_cny_per_t": "每吨进料的产品收入。",
    "projects.product_fraction": "进料中成为产品的比例（计为综合利用或处置）。",
    "projects.loss_fraction": "进料在加工中损失的比例（水分、烧失）。",
    "projects.counts_as": "产品吨数的统计口径：utilization（综合利用，默认）或 disposal（处置，如按处置上报的充填）。",
    "projects.source": "数值的来源。",
    "sinks": "处置或贮存设施：填埋场、渣场、尾矿库。",
    "sinks.id": "去向编号（项目与设施共用一套编号）。",
    "sinks.site": "设施所在场地。",
    "sinks.kind": "设施类型。",
    "sinks.counts_as": "disposal（处置）或 storage（贮存，既不计综合利用也不计处置）。",
    "sinks.capacity_t": "每年最多接收吨数；不限则留空。",
    "sinks.fee_cny_per_t": "每吨入场费或运营成本。",
    "sinks.source": "数值的来源。",
    "accepts": "去向（项目或设施）接收某物料流，可限定其在进料中的最大占比。",
    "accepts.outlet": "项目或设施编号。",
    "accepts.stream": "物料流编号，* 表示全部物料流。",
    "accepts.max_share": "该物料流在去向总进料中的最大占比（1 = 不限）。",
    "accepts.source": "规则的来源。",
    "residues": "项目将其进料的一部分作为另一物料流转出。",
    "residues.project": "项目编号。",
    "residues.stream": "残渣物料流编号（与其他物料流一样需分配去向）。",
    "residues.fraction": "每吨进料产生的残渣吨数。",
    "residues.source": "比例的来源。",
    "quality": "项目混合进料的品质限值：某成分比例的下限和/或上限。",
    "quality.project": "项目编号。",
    "quality.component": "成分名称（与 composition 表一致）。名称以 _share 结尾的是份额（如 leach_class_II_share：属 GB 18599 第Ⅱ类的物料为 1），以 _index 结尾的是指数（如 GB 6566 的外照射指数 I_r_index）；二者均按吨数加权，不计入成分质量分数之和。",
    "quality.min_fraction": "混合进料中该成分的最低比例；无则留空。",
    "quality.max_fraction": "混合进料中该成分的最高比例；无则留空。",
    "quality.source": "限值的来源（标准、工艺要求），以及是否已对照标准原文核实。",
    "quality.standard": "规定该限值的标准编号及年份（如 GB/T 14684-2022）；工艺要求或估计值留空。显示在瓶颈卡片和报告中。",
    "quality.clause": "标准中规定该数值的条款或表（如 6.4、3.1.1）；无则留空。",
    "quality.applies_to": "限值适用对象：blend（默认，混合进料，可掺配稀释）或 each_stream（每种接收物料各自须满足，如钢渣骨料的游离氧化钙；读入数据时即按成分检查）。",
    "distances": "两场地之间的道路距离（双向通用）。",
    "distances.from_site": "场地编号。",
    "distances.to_site": "场地编号。",
    "distances.distance_km": "道路距离。",
    "distances.source": "距离的来源。",
    "routes": "从一个场地到另一场地的运输规则，可只适用于某一物料流。规则可覆盖距离、给定每吨运费（替代运价）、限定每年运量或禁止运输。",
    "routes.from_site": "起点场地编号。",
    "routes.to_site": "终点场地编号。",
    "routes.stream": "规则适用的物料流编号；留空表示全部物料流。",
    "routes.distance_km": "覆盖的距离。",
    "routes.cost_cny_per_t": "明确的每吨运费（替代运价）。",
    "routes.capacity_t": "该路线每年最多运量（所有匹配物料流合计）。",
    "routes.prohibited": "TRUE 表示禁止运输。",
    "routes.source": "规则的来源。",
    "candidates": "投资决策：可新建的项目或可扩建的现有项目。候选项目指向 projects 表中的一个项目：该项目的 capacity_t 是现有能力（尚未建设的项目为 0），其成本、收入、产率、接收物料与品质限值同样适用于新建能力。建成后，候选项目的规模计入项目能力；投资（一次性 capital_cny 加每吨/年能力 capital_cny_per_t）按 policy.discount_rate 在 lifetime_yr 内折算为年值，fixed_opex_cny_per_yr 为建成后每年的固定运营费。同一 group 的候选项目互斥，至多建一个。有候选项目时模型成为混合整数规划（flowopt invest）。",
    "candidates.project": "建设或扩建的项目（projects 中的编号）。",
    "candidates.sizing": "规模方式：build（按 size_t 建或不建）、size（建则规模在 min_size_t 与 max_size_t 之间）或 modules（建 1 至 max_modules 个 module_t 的模块）。",
    "candidates.size_t": "建成后新增的能力（sizing 为 build 时）。",
    "candidates.min_size_t": "建成时最小新增能力（sizing 为 size 时）。",
    "candidates.max_size_t": "最大新增能力（sizing 为 size 时）。",
    "candidates.module_t": "每个模块的能力（sizing 为 modules 时）。",
    "candidates.max_modules": "最多模块数（sizing 为 modules 时）。",
    "candidates.capital_cny": "建成时一次性投资，与规模无关（元）。",
    "candidates.capital_cny_per_t": "每吨/年新增能力的投资（元/(吨/年)）。",
    "candidates.lifetime_yr": "投资折年的经济寿命（年）。",
    "candidates.fixed_opex_cny_per_yr": "建成后每年的固定运营费，与进料量无关（元/年）。",
    "candidates.group": "互斥组：同组候选项目至多建一个（同一场地的替代方案）。",
    "candidates.earliest_year": "最早投运年份；晚于情景年份的候选项目不能建设。",
}


#: The uncertainty table (read only by flowopt risk), in Chinese.
DOCS_ZH.update({
    "uncertainty": "flowopt risk 的不确定输入：某条记录的某个字段及其取值的概率分布。只有 flowopt risk 读取此表，方案仍按其他表中的数值求解。每个样本从分布中抽取一个值，替换（apply 为 set）或乘以（apply 为 scale）该字段的值。同一 group 的输入同步变动（每个样本一次抽样）。项目产率（product_fraction、loss_fraction 或 residues 的 fraction）变动时，由 balance 指定的产率吸收差额，使各产率之和仍为 1。",
    "uncertainty.path": "不确定的字段，写法同情景变更文件：streams.W03.generation_t、projects.R07.counts_as、accepts[outlet=R02,stream=W03].max_share、projects[*].revenue_cny_per_t（所有记录）或 transport.variable_cny_per_t_km。",
    "uncertainty.apply": "set：抽取的值替换字段原值；scale：字段原值乘以抽取的值（系数）。",
    "uncertainty.distribution": "分布：uniform（均匀）、triangular（三角）、normal（正态，可截断）、lognormal（对数正态，可截断）、discrete（离散数值）或 alternatives（备选情形，如 utilization;disposal）。",
    "uncertainty.low": "最小值（均匀、三角分布；正态、对数正态分布的截断下限）。",
    "uncertainty.mode": "最可能值（三角分布）。",
    "uncertainty.high": "最大值（均匀、三角分布；正态、对数正态分布的截断上限）。",
    "uncertainty.mean": "均值（正态、对数正态分布；对数正态为取值本身的均值）。",
    "uncertainty.sd": "标准差（正态、对数正态分布），须大于 0。",
    "uncertainty.values": "可能的取值，以分号分隔：数值（离散分布）或情形（备选情形，如 utilization;disposal）。",
    "uncertainty.probabilities": "各取值的概率，以分号分隔，合计为 1；留空表示等概率。",
    "uncertainty.balance": "产率变动时吸收差额的产率：loss、product 或该项目某残渣物料流的编号；留空取默认（产品率由损失率吸收，其余由产品率吸收）。",
    "uncertainty.group": "相关组：同组输入同步变动（每个样本一次抽样）。",
    "uncertainty.source": "取值范围的来源或依据。",
})

# airspace and carbon (issue 15)
DOCS_ZH.update({
    "scenario.policy.grid_tco2_per_mwh": "电网排放因子，吨二氧化碳/兆瓦时：把项目的用电量（electricity_kwh_per_t）折算为二氧化碳排放。",
    "scenario.policy.co2_cap_t": "方案二氧化碳排放上限，吨/年（co2_cap_basis 指定总排放或净排放）；留空表示不设上限。上限起约束作用时给出每吨二氧化碳的影子价格。",
    "scenario.policy.co2_cap_basis": "排放上限所限的口径：gross（默认，运输与加工实际排放）或 net（总排放减去产品替代原生产品的减排量）。",
    "scenario.transport.tco2_per_t_km": "公路运输（柴油货车）每吨公里的二氧化碳排放，吨二氧化碳/(吨·公里)；运输路线的 transport_tco2_per_t 可替代该值。",
    "projects.process_tco2_per_t": "每吨进料的直接二氧化碳排放（燃料、还原剂、工艺排放，不含用电），吨二氧化碳/吨。",
    "projects.electricity_kwh_per_t": "每吨进料的用电量，千瓦时/吨；按 policy.grid_tco2_per_mwh 折算为二氧化碳排放。",
    "projects.product_avoided_tco2_per_t": "每吨产品（进料 × product_fraction）替代原生产品所避免的二氧化碳排放（如开采碎石、矿石、天然石膏），吨二氧化碳/吨。",
    "sinks.remaining_volume_t": "情景年份年初的剩余库容（按可填入吨数计）：此后总共还能接收的吨数。当年进场量不得超过该值；多年路径逐年扣减并报告剩余年限。留空表示不限。",
    "sinks.reclaim_as": "仅用于贮存设施（counts_as 为 storage）：在多年路径中，当年存入的吨数自下一年起成为该堆存（stockpiles 表中的编号）的可回采存量，按该堆存的物料流、回采成本和年回采上限计。留空表示存入后不再回采。",
    "routes.transport_tco2_per_t": "该路线每运输 1 吨的二氧化碳排放，吨二氧化碳/吨，替代公路运输因子（transport.tco2_per_t_km × 公里数），如管道输送或皮带运输；货车运输留空。",
})

#: Product markets, tax incentives and firms' duties (issue 15), in Chinese.
DOCS_ZH.update({
    "markets": "产品市场：销往同一市场的所有项目共用其需求上限（limit_t）与价格档（market_tiers 表）。项目通过 projects 表的 markets 字段与市场关联。没有价格档的市场只限制销量，收入仍按项目的 revenue_cny_per_t 计。",
    "markets.name_zh": "产品中文名称（如机制砂、水泥缓凝剂）。",
    "markets.name_en": "产品英文名称。",
    "markets.limit_t": "所有项目合计每年最多售出的产品吨数（园区产品能找到的需求）；不限则留空。",
    "markets.source": "需求上限的来源或估算依据。",
    "market_tiers": "市场的价格档：当年市场累计售出量不超过 upto_t 的部分按 price_cny_per_t 计价。各档依 upto_t 由小到大衔接，最后一档 upto_t 留空、延续至市场需求上限。价格不得随档位上升（先售出的吨数价格最高，收入为凹的分段线性函数）。",
    "market_tiers.market": "市场编号（markets 中的编号）。",
    "market_tiers.upto_t": "该档价格适用至市场累计售出的吨数（所有项目合计，从 0 计）；最后一档留空。",
    "market_tiers.price_cny_per_t": "该档每吨产品的售价（元/吨，不含增值税）。",
    "market_tiers.source": "价格的来源或估算依据。",
    "projects.markets": "项目产品销往的市场（markets 中的编号）及每吨进料产出的产品吨数，如 AGG=0.6;SAND=0.4；只写编号（如 SAND）表示按 product_fraction 计。所产产品须全部售出，受市场需求上限与价格档约束；市场价格另计于 revenue_cny_per_t 之外（后者填项目在市场之外的收入，常为 0）。留空：不进入市场，仅按 revenue_cny_per_t 计收入。",
    "projects.vat_refund_rate": "资源综合利用增值税即征即退比例：按产品所属《资源综合利用产品和劳务增值税优惠目录》条目为 0.3、0.5、0.7、0.9 或 1；无则填 0。仅在 policy.apply_incentives 为 TRUE 时计入。",
    "projects.vat_rate": "每元产品收入缴纳的增值税（即退税基数）：默认 0.13；选择 3% 简易计税的砂石销售方填 0.03。",
    "projects.taxable_revenue_share": "产品收入计入应纳税所得额的比例（资源综合利用企业所得税减计收入：按 90% 计入时填 0.9）；默认 1，即无减计。",
    "projects.income_tax_rate": "减计收入所节省的企业所得税税率（一般 0.25；享受西部大开发政策的企业 0.15）。",
    "projects.incentive_item": "给予退税的增值税优惠目录条目编号（如 2.1），供读者查阅；无则留空。",
    "firms.target_rate": "企业主体责任目标：企业自身固废按 policy.rate_mode 所选比率计的最低值，按企业台账口径计：其物料流（及其堆存回采）交付计入口径项目的吨数（自行利用 + 委托利用）÷（当年产生量 + 交付的往年贮存量）。留空：无目标。",
    "scenario.policy.apply_incentives": "是否将各项目的税收优惠（增值税即征即退、所得税减计收入）计为收入调整（成本分项 incentives_cny）；FALSE 表示按无优惠规划。",
})


def doc_zh(table: str, field: str = "") -> str | None:
    """The Chinese description of a table (``field`` empty), a field or a manifest key (``table`` ``scenario``); None if missing."""
    if not field:
        return DOCS_ZH.get(table)
    if table == MANIFEST_SHEET and field.startswith("policy.environmental_tax_cny_per_t."):
        return f"{category(field.rsplit('.', 1)[-1], 'zh')}的环境保护税（仅对未妥善处置的吨数征收）。"
    return DOCS_ZH.get(f"{table}.{field}") or DOCS_ZH.get(f"*.{field}")


def _unit(name: str) -> str:
    if "_cny_per_t." in name:  # policy.environmental_tax_cny_per_t.<category>
        return "CNY/t"
    name = name.rsplit(".", 1)[-1]
    carbon = {"co2_cap_t": "tCO2/yr", "remaining_volume_t": "t", "grid_tco2_per_mwh": "tCO2/MWh", "tco2_per_t_km": "tCO2/(t·km)"}
    if name in carbon:
        return carbon[name]
    if name.endswith("_tco2_per_t"):
        return "tCO2/t"
    if name.endswith("_kwh_per_t"):
        return "kWh/t"
    if name.endswith("_cny_per_t_km"):
        return "CNY/(t·km)"
    if name == "capital_cny_per_t":  # capital per t/yr of capacity added
        return "CNY/(t/yr)"
    if name.endswith("_cny_per_t"):
        return "CNY/t"
    if name.endswith("_cny_per_yr"):
        return "CNY/yr"
    if name.endswith("_cny"):
        return "CNY"
    if name.endswith("_yr"):
        return "yr"
    if name == "stock_t":
        return "t"
    if name.endswith("_t"):
        return "t/yr"
    if name.endswith("_km"):
        return "km"
    if name.endswith(("fraction", "share", "_rate")):
        return "fraction 0–1"
    return ""


def _walk(annotation: Any) -> Iterator[Any]:
    """Yield the annotation, its arguments and the metadata of nested Annotated/FieldInfo."""
    yield annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, FieldInfo):
            yield from arg.metadata
        else:
            yield from _walk(arg)
    meta = getattr(annotation, "__metadata__", ())
    for m in meta:
        if isinstance(m, FieldInfo):
            yield from m.metadata
        else:
            yield m


#: Words of :func:`field_type`: key -> (English, Chinese).
_TYPE_WORDS = {
    "one_of": Label("one of: ", "取值之一："),
    "bool": Label("TRUE/FALSE", "TRUE/FALSE（是/否）"),
    "number": Label("number", "数值"),
    "integer": Label("integer", "整数"),
    "text": Label("text", "文本"),
    "id_star": Label("id or *", "编号或 *"),
    "id": Label("id (a letter, then letters, digits or _)", "编号（字母开头，后接字母、数字或 _）"),
}


def field_type(info: FieldInfo, lang: str = "en") -> str:
    """Readable type of a schema field, e.g. ``number, ≥ 0, ≤ 1e+10`` or ``one of: a, b``.

    Args:
        info: a pydantic field.
        lang: ``en`` or ``zh`` (``数值, ≥ 0``; ``取值之一：a, b``).

    Returns:
        A short description of the accepted values.
    """
    words = {k: v.pick(lang) for k, v in _TYPE_WORDS.items()}
    parts: list[str] = []
    kinds: list[str] = []
    is_text = coded = False  # plain text, or text restricted to ids or enumerated values
    for item in [*_walk(info.annotation), *info.metadata]:
        if isinstance(item, type) and issubclass(item, enum.Enum):
            coded = True
            kinds.append(words["one_of"] + ", ".join(str(m.value) for m in item))
        elif item is bool:
            kinds.append(words["bool"])
        elif item is float:
            kinds.append(words["number"])
        elif item is int:
            kinds.append(words["integer"])
        elif item is str:
            is_text = True
        elif isinstance(getattr(item, "ge", None), (int, float)):  # annotated_types bounds
            parts.append(f"≥ {item.ge:g}")
        elif isinstance(getattr(item, "gt", None), (int, float)):
            parts.append(f"> {item.gt:g}")
        elif isinstance(getattr(item, "le", None), (int, float)):
            parts.append(f"≤ {item.le:g}")
        elif isinstance(getattr(item, "pattern", None), str):
            coded = True
            kinds.append(words["id_star"] if "\\*|" in item.pattern else words["id"])
    if is_text and not coded:
        kinds.insert(0, words["text"])
    kinds = list(dict.fromkeys(kinds))
    return ("，" if lang == "zh" else ", ").join([*kinds, *dict.fromkeys(parts)])


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return None
    d = info.default
    if isinstance(d, enum.Enum):
        return d.value
    if d in ("", None) or isinstance(d, (BaseModel, dict, tuple)):
        return None
    return d


def _manifest_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    for name, info in model.model_fields.items():
        if not prefix and name in TABLES:
            continue
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _manifest_fields(ann, f"{prefix}{name}.")
        elif name == "sources" and not prefix:
            continue
        else:
            yield f"{prefix}{name}", info


#: English descriptions that replace the schema's where it glosses official Chinese terms, so
#: the English dictionary is English throughout (the Chinese terms are in :data:`DOCS_ZH`).
DOCS_EN: dict[str, str] = {
    "projects.counts_as": "How the product tonnes are booked: utilization (default) or disposal (e.g. backfill that is reported as disposal).",
    "sinks.counts_as": "disposal, or storage (counts as neither utilization nor disposal).",
}


def _describe(table: str, field: str, english: str, lang: str) -> str:
    if table == MANIFEST_SHEET and field.startswith("policy.environmental_tax_cny_per_t."):
        if lang == "zh":
            return doc_zh(table, field) or english
        return f"Environmental tax on {category(field.rsplit('.', 1)[-1], 'en')} (charged only on tonnes left unmanaged)."
    if lang != "zh":
        return DOCS_EN.get(f"{table}.{field}", english)
    return doc_zh(table, field) or english


def dictionary_rows(lang: str = "en") -> list[list[Any]]:
    """Rows of the data dictionary: one per manifest key and per table field.

    Args:
        lang: ``en`` or ``zh``: table names, required, type, unit and description in that
            language (field names, sheet names and allowed values stay as the loader reads them).

    Returns:
        Rows of ``[sheet, table name, field, required, type, unit, default, description]``
        built from the pydantic fields and their docstrings in :mod:`flowopt.schema`
        (:data:`DOCS_ZH` for Chinese).
    """
    lang = check_lang(lang)
    yes, no = text("yes", lang), text("no", lang)
    settings = value("table", "scenario", lang)
    rows: list[list[Any]] = []
    for key, info in _manifest_fields(Scenario):
        rows.append([MANIFEST_SHEET, settings, key, no, field_type(info, lang), unit(_unit(key), lang), _default(info), _describe(MANIFEST_SHEET, key, _doc(info), lang)])
    rows.append([MANIFEST_SHEET, settings, "sources.<key>", no, _TYPE_WORDS["text"].pick(lang), "", None, _describe(MANIFEST_SHEET, "sources.<key>", "Source of a manifest value, keyed by its dotted path (e.g. sources.policy.target_rate).", lang)])
    for table, model in TABLES.items():
        required_table = Label("required table", "必需表") if table in REQUIRED_TABLES else Label("optional table", "可选表")
        rows.append([table, value("table", table, lang), "", required_table.pick(lang), "", "", None, _describe(table, "", " ".join((model.__doc__ or "").split()), lang)])
        for name, info in model.model_fields.items():
            rows.append([table, value("table", table, lang), name, yes if info.is_required() else no, field_type(info, lang), unit(_unit(name), lang), _default(info), _describe(table, name, _doc(info), lang)])
    return rows


def _doc(info: FieldInfo) -> str:
    return " ".join((info.description or "").replace("``", "").split())


def write_template(path: str | os.PathLike[str], *, lang: str = "en") -> Path:
    """Write a blank scenario workbook to fill in, atomically.

    Sheets: ``scenario`` (``key | value`` rows for every manifest setting, values empty so the
    defaults apply, with the default, unit and a description beside them), one sheet per table
    with the field names as the header row (hover a header for its description; enumerated
    fields offer a drop-down), and ``dictionary`` (every field: required, type, unit, default,
    description). Once filled, :func:`flowopt.io.load_scenario` reads it. The help text is in
    ``lang``; sheet names, ``key``/``value`` and field names stay as the loader reads them.

    Args:
        path: target ``.xlsx`` file; replaced atomically.
        lang: ``en`` or ``zh``.

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.xlsx``, or an unknown ``lang``.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lang = check_lang(lang)
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        msg = f"'{target.name}' is not an .xlsx file name."
        raise ValueError(msg)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = MANIFEST_SHEET
    # only the first two columns are read (their headers must be key and value); the others
    # are help for the person filling it in
    manifest_rows = [[key, None, _default(info), unit(_unit(key), lang), _describe(MANIFEST_SHEET, key, _doc(info), lang)] for key, info in _manifest_fields(Scenario)]
    manifest_rows.append(["sources.policy.target_rate", None, None, "", _describe(MANIFEST_SHEET, "sources.<key>", "Source of the target (any manifest key can have a sources.<key> row).", lang)])
    write_sheet(ws, ["key", "value", header("default", lang), header("unit", lang), header("description", lang)], manifest_rows, kinds=[None] * 5, fields=["key", "value", "default", "unit", "description"], widths=(44, 24, 16, 14, 90))
    fill = PatternFill("solid", fgColor="DDEBF7")
    for table, model in TABLES.items():
        sheet = wb.create_sheet(table)
        fields = list(model.model_fields.items())
        sheet.append([name for name, _ in fields])
        for i, (name, info) in enumerate(fields, start=1):
            letter = get_column_letter(i)
            required = Label("required", "必填") if info.is_required() else Label("optional", "选填")
            note = f"{required.pick(lang)}; {field_type(info, lang)}"
            u = unit(_unit(name), lang)
            cell = sheet.cell(row=1, column=i)
            cell.comment = Comment(f"{_describe(table, name, _doc(info), lang)}\n[{note}{'; ' + u if u else ''}]", "flowopt")
            cell.font = Font(bold=True)
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[letter].width = 40 if name in ("source", "name_zh", "name_en") else max(12, len(name) + 4)
            choices = _choices(info)
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                dv.add(f"{letter}2:{letter}5000")
                sheet.add_data_validation(dv)
        sheet.freeze_panes = "A2"
        print_setup(sheet)
    dictionary = wb.create_sheet(DICTIONARY_SHEET)
    heads = [header(f, lang) for f in ("sheet", "table", "field", "required", "type", "unit", "default", "description")]
    write_sheet(dictionary, heads, dictionary_rows(lang), kinds=[None] * 8, fields=["sheet", "table", "field", "required", "type", "unit", "default", "description"], widths=(14, 16, 34, 14, 34, 14, 14, 100))
    with atomic_path(target) as work:
        wb.save(work)
    return target


def _choices(info: FieldInfo) -> list[str]:
    for item in _walk(info.annotation):
        if isinstance(item, type) and issubclass(item, enum.Enum):
            return [str(m.value) for m in item]
        if item is bool:
            return ["TRUE", "FALSE"]
    return []


__all__ = [
    "COLUMNS",
    "DICTIONARY_SHEET",
    "DOCS_EN",
    "DOCS_ZH",
    "INVEST_SHEETS",
    "PLAN_SHEETS",
    "Cell",
    "dictionary_rows",
    "doc_zh",
    "field_type",
    "header",
    "invest_tables",
    "plan_sheets",
    "plan_tables",
    "print_setup",
    "write_plan_workbook",
    "write_sheet",
    "write_template",
]
