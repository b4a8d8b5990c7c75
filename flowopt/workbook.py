"""Excel workbooks: a plan as ``plan.xlsx`` and a blank input template with a data dictionary.

Stage: results -> presentation (the plan workbook) and schema -> input form (the template).

* :func:`write_plan_workbook` writes one sheet per plan table (summary, flows, stream fates,
  project and sink loads, bottleneck cards, why-not entries, rates per firm and per category,
  audit). Column
  headers are Chinese and English with the unit in brackets (``吨数 Tonnes (t/yr)``); every
  number is stored as a number, formatted for reading.
* :func:`write_template` writes an empty scenario workbook that
  :func:`flowopt.io.load_scenario` reads once it is filled: a ``scenario`` sheet of
  ``key | value`` rows, one sheet per table whose header row is the field names, and a
  ``dictionary`` sheet built from the field docstrings of :mod:`flowopt.schema`.

Both writers go through :func:`flowopt.io.atomic_path`.
"""

from __future__ import annotations

import enum
import os
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flowopt._render import COST_TERM_NAMES, category_name
from flowopt.io import MANIFEST_SHEET, atomic_path
from flowopt.results import Plan
from flowopt.schema import REQUIRED_TABLES, TABLES, Scenario

#: Sheet names of ``plan.xlsx`` keyed by table name.
PLAN_SHEETS = {
    "summary": "摘要 Summary",
    "flows": "流向 Flows",
    "stream_fates": "归宿 Stream fates",
    "outlet_loads": "负荷 Loads",
    "bottlenecks": "瓶颈 Bottlenecks",
    "why_not": "未用足 Why not",
    "rates_by_firm": "企业 By firm",
    "rates_by_category": "类别 By category",
    "audit": "审计 Audit",
}

#: Name of the template's data-dictionary sheet (the loader ignores it).
DICTIONARY_SHEET = "dictionary"

_T, _CNY, _FRAC = "t/yr", "CNY/yr", "fraction"

#: field -> (Chinese, English, unit or "") for the plan tables' column headers.
COLUMNS: dict[str, tuple[str, str, str]] = {
    "rank": ("序号", "Rank", ""),
    "stream": ("物料流", "Stream", ""),
    "stream_name_zh": ("物料流名称", "Stream name (zh)", ""),
    "stream_name_en": ("物料流名称（英）", "Stream name (en)", ""),
    "category": ("类别", "Category", ""),
    "category_name": ("类别名称", "Category name", ""),
    "origin": ("来源期", "Origin (new/legacy)", ""),
    "source_kind": ("来源类型", "Source kind", ""),
    "source": ("来源", "Source", ""),
    "from_site": ("起点", "From site", ""),
    "destination": ("去向", "Destination", ""),
    "destination_name_zh": ("去向名称", "Destination name (zh)", ""),
    "destination_name_en": ("去向名称（英）", "Destination name (en)", ""),
    "destination_kind": ("去向类型", "Destination kind", ""),
    "kind": ("类型", "Kind", ""),
    "tonnes": ("吨数", "Tonnes", _T),
    "distance_km": ("距离", "Distance", "km"),
    "transport_cny": ("运输费", "Transport", _CNY),
    "handling_cny": ("加工/处置费", "Processing or fee", _CNY),
    "revenue_cny": ("收入", "Revenue", _CNY),
    "tax_cny": ("环保税", "Environmental tax", _CNY),
    "penalty_cny": ("罚金", "Penalty", _CNY),
    "cost_cny": ("净成本", "Net cost", _CNY),
    "root": ("源头", "Root (stream or stockpile)", ""),
    "firm": ("企业", "Firm", ""),
    "firm_name": ("企业名称", "Firm name", ""),
    "supplied_t": ("供给量", "Supplied", _T),
    "utilized_t": ("综合利用量", "Utilized", _T),
    "disposed_t": ("处置量", "Disposed", _T),
    "stored_t": ("贮存量", "Stored", _T),
    "unmanaged_t": ("未妥善处置量", "Unmanaged", _T),
    "lost_t": ("工艺损失", "Process losses", _T),
    "outlet": ("设施", "Outlet", ""),
    "name_zh": ("名称", "Name (zh)", ""),
    "name_en": ("名称（英）", "Name (en)", ""),
    "intake_t": ("进料量", "Intake", _T),
    "capacity_t": ("能力", "Capacity", _T),
    "spare_t": ("剩余能力", "Spare capacity", _T),
    "min_intake_t": ("最低进料", "Minimum intake", _T),
    "load_share": ("负荷率", "Load", _FRAC),
    "full": ("满负荷", "Full", ""),
    "group": ("分组", "Group", ""),
    "group_name": ("分组名称", "Group name", ""),
    "generated_t": ("产生量", "Generated", _T),
    "utilized_prior_t": ("其中往年贮存利用", "of which prior-year stock", _T),
    "rate": ("综合利用率", "Utilization rate", _FRAC),
    "constraint": ("约束", "Constraint", ""),
    "subject": ("对象", "Subject", ""),
    "subject_name_zh": ("对象名称", "Subject name (zh)", ""),
    "subject_name_en": ("对象名称（英）", "Subject name (en)", ""),
    "shadow_price": ("影子价格", "Shadow price", "see unit"),
    "unit": ("单位", "Unit", ""),
    "limit": ("限值", "Limit", "t/yr or fraction"),
    "valid_from": ("有效区间下限", "Valid from", "t/yr or fraction"),
    "valid_to": ("有效区间上限", "Valid to", "t/yr or fraction"),
    "tonnes_at_stake": ("可放宽吨数", "Tonnes at stake", _T),
    "cny_at_stake": ("涉及金额", "Money at stake", _CNY),
    "status": ("状态", "Status", ""),
    "reduced_cost_cny_per_t": ("检验数", "Reduced cost", "CNY/t"),
    "break_even_cny_per_t": ("盈亏平衡降幅", "Break-even cut", "CNY/t"),
    "entering_stream": ("首先接收的物料流", "First stream it would take", ""),
    "entering_source": ("该物料流来源", "Its source", ""),
    "explanation_zh": ("说明", "Explanation (zh)", ""),
    "explanation": ("说明（英）", "Explanation (en)", ""),
    "name": ("检查", "Check", ""),
    "passed": ("通过", "Passed", ""),
    "worst_violation": ("最大偏差", "Worst violation", ""),
    "detail": ("详情", "Detail", ""),
    "item_zh": ("项目", "Item (zh)", ""),
    "item_en": ("项目（英）", "Item (en)", ""),
    "value": ("数值", "Value", ""),
}

_INT_FMT, _MONEY_FMT, _PCT_FMT, _KM_FMT = "#,##0", "#,##0", "0.00%", "0.0"


def header(field: str) -> str:
    """Bilingual column header of a plan-table field: ``吨数 Tonnes (t/yr)``.

    Args:
        field: a key of :data:`COLUMNS` (unknown fields are returned unchanged).

    Returns:
        The header text.
    """
    zh, en, unit = COLUMNS.get(field, (field, "", ""))
    text = f"{zh} {en}".strip()
    return f"{text} ({unit})" if unit else text


def _number_format(field: str) -> str | None:
    unit = COLUMNS.get(field, ("", "", ""))[2]
    if unit == _FRAC:
        return _PCT_FMT
    if field == "distance_km":
        return _KM_FMT
    if unit in (_T, _CNY):
        return _INT_FMT
    return None


def _name(plan: Plan, ident: str | None, lang: str) -> str:
    if not ident:
        return ""
    names = plan.labels.get(ident, {})
    return names.get("name_zh" if lang == "zh" else "name_en", "") or ""


def plan_tables(plan: Plan) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The rows of ``plan.xlsx``: sheet key -> (field names, rows of values).

    Args:
        plan: the plan.

    Returns:
        One entry per key of :data:`PLAN_SHEETS`; values are numbers, text, booleans or
        ``None`` (an empty cell).
    """
    k = plan.kpis
    terms = plan.cost_terms
    met = k.target_rate_value + 1e-9 >= plan.target
    summary: list[list[Any]] = [
        ["方案", "Scenario", plan.scenario_id, ""],
        ["求解状态", "Status", plan.status, ""],
        ["审计", "Audit passed", plan.audit.passed, ""],
        ["目标", "Target", plan.target, f"{_FRAC} ({plan.rate_mode})"],
        ["目标是否实现", "Target met", met, ""],
        ["达到的目标口径比率", "Rate the target applies to", k.target_rate_value, _FRAC],
        ["综合利用率（官方口径 U/(G+U_prior)）", "Utilization rate, official U/(G+U_prior)", k.utilization_rate, _FRAC],
        ["综合利用+处置率", "Utilization plus disposal rate", k.utilization_plus_disposal_rate, _FRAC],
        ["处置率", "Disposal rate", k.disposal_rate, _FRAC],
        ["不计成本时最高可达比率", "Highest reachable rate (cost ignored)", plan.max_utilization_rate, _FRAC],
    ]
    tm = plan.target_marginal_cost
    if tm is not None:
        summary += [
            ["目标每提高 1 个百分点的年成本", "Cost of one more percentage point of the target", tm.cny_per_point, "CNY/yr per point"],
            ["  该价格有效的目标下限", "  price holds from target", tm.valid_from_target, _FRAC],
            ["  该价格有效的目标上限", "  price holds up to target", tm.valid_to_target, _FRAC],
        ]
    summary.append(["年总成本", "Total cost", plan.objective_cny, _CNY])
    for term, value in terms.items():
        zh, en = COST_TERM_NAMES.get(term, (term, term))
        summary.append([f"  {zh}", f"  {en}", -value if term == "revenue_cny" else value, f"{_CNY} (revenue negative)" if term == "revenue_cny" else _CNY])
    summary += [
        ["产生量 G", "Generated G", k.generated_t, _T],
        ["回采量", "Reclaimed from stock", k.reclaimed_t, _T],
        ["综合利用量 U", "Utilized U", k.utilized_t, _T],
        ["  其中当年产生", "  of which current generation", k.utilized_new_t, _T],
        ["  其中往年贮存 U_prior", "  of which prior-year stock U_prior", k.utilized_prior_t, _T],
        ["处置量 D", "Disposed D", k.disposed_t, _T],
        ["贮存量 S", "Stored S", k.stored_t, _T],
        ["未妥善处置量", "Unmanaged", k.unmanaged_t, _T],
        ["工艺损失", "Process losses", k.lost_t, _T],
    ]
    flows = [
        [f.stream, _name(plan, f.stream, "zh"), _name(plan, f.stream, "en"), f.category, f.origin, f.source_kind, f.source, f.from_site, f.destination, _name(plan, f.destination, "zh"), _name(plan, f.destination, "en"), f.destination_kind, f.kind, f.tonnes, f.distance_km, f.transport_cny, f.handling_cny, f.revenue_cny, f.tax_cny, f.penalty_cny, f.cost_cny]
        for f in plan.flows
    ]
    fates = [[f.root, _name(plan, f.root, "zh"), _name(plan, f.root, "en"), f.stream, f.origin, f.category, f.firm, f.supplied_t, f.utilized_t, f.disposed_t, f.stored_t, f.unmanaged_t, f.lost_t] for f in plan.stream_fates]
    loads = [
        [o.outlet, o.kind, o.name_zh, o.name_en, o.intake_t, o.capacity_t, None if o.capacity_t is None else max(o.capacity_t - o.intake_t, 0.0), o.min_intake_t, o.load_share, o.load_share is not None and o.load_share >= 1 - 1e-6]
        for o in plan.outlet_loads
    ]
    cards = [[i, b.kind, b.constraint, b.subject, b.subject_name_zh, b.subject_name_en, b.shadow_price, b.unit, b.limit, b.valid_from, b.valid_to, b.tonnes_at_stake, b.cny_at_stake, b.explanation_zh, b.explanation] for i, b in enumerate(plan.bottlenecks, 1)]
    why_not = [[w.subject, w.kind, w.status, w.name_zh, w.name_en, w.intake_t, w.capacity_t, w.reduced_cost_cny_per_t, w.break_even_cny_per_t, w.entering_stream, w.entering_source, w.explanation_zh, w.explanation] for w in plan.why_not]
    by_firm = [[r.group, _name(plan, r.group, "zh") or _name(plan, r.group, "en"), r.generated_t, r.utilized_t, r.utilized_prior_t, r.rate] for r in plan.rates_by_firm]
    by_cat = [[r.group, f"{category_name(r.group, 'zh')} {category_name(r.group, 'en')}", r.generated_t, r.utilized_t, r.utilized_prior_t, r.rate] for r in plan.rates_by_category]
    audit = [[c.name, c.passed, c.worst_violation, c.detail] for c in plan.audit.checks]
    return {
        "summary": (["item_zh", "item_en", "value", "unit"], summary),
        "flows": (["stream", "stream_name_zh", "stream_name_en", "category", "origin", "source_kind", "source", "from_site", "destination", "destination_name_zh", "destination_name_en", "destination_kind", "kind", "tonnes", "distance_km", "transport_cny", "handling_cny", "revenue_cny", "tax_cny", "penalty_cny", "cost_cny"], flows),
        "stream_fates": (["root", "name_zh", "name_en", "stream", "origin", "category", "firm", "supplied_t", "utilized_t", "disposed_t", "stored_t", "unmanaged_t", "lost_t"], fates),
        "outlet_loads": (["outlet", "kind", "name_zh", "name_en", "intake_t", "capacity_t", "spare_t", "min_intake_t", "load_share", "full"], loads),
        "bottlenecks": (["rank", "kind", "constraint", "subject", "subject_name_zh", "subject_name_en", "shadow_price", "unit", "limit", "valid_from", "valid_to", "tonnes_at_stake", "cny_at_stake", "explanation_zh", "explanation"], cards),
        "why_not": (["subject", "kind", "status", "name_zh", "name_en", "intake_t", "capacity_t", "reduced_cost_cny_per_t", "break_even_cny_per_t", "entering_stream", "entering_source", "explanation_zh", "explanation"], why_not),
        "rates_by_firm": (["group", "group_name", "generated_t", "utilized_t", "utilized_prior_t", "rate"], by_firm),
        "rates_by_category": (["group", "group_name", "generated_t", "utilized_t", "utilized_prior_t", "rate"], by_cat),
        "audit": (["name", "passed", "worst_violation", "detail"], audit),
    }


def _style_header(ws: Any, ncols: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1][:ncols]:
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def _widths(ws: Any, rows: list[list[Any]], heads: list[str], cap: int = 60) -> None:
    from openpyxl.utils import get_column_letter

    for i, head in enumerate(heads):
        longest = max([len(str(head)) * 0.8, *(len(str(r[i])) if i < len(r) and r[i] is not None else 0 for r in rows[:500])])
        ws.column_dimensions[get_column_letter(i + 1)].width = max(8, min(cap, longest + 2))


def write_plan_workbook(plan: Plan, path: str | os.PathLike[str]) -> Path:
    """Write a plan as an Excel workbook (``plan.xlsx``), atomically.

    Sheets (names in :data:`PLAN_SHEETS`): summary (target, rates, the target's marginal cost,
    total cost and its terms, tonnes by fate), flows, stream fates, outlet loads vs capacity,
    bottleneck cards (with valid ranges and money at stake), why-not entries for projects
    unused or below capacity, rates per firm and per waste category, and the audit. Headers are ``中文 English (unit)``; numbers
    are numbers (tonnes t/yr, money CNY/yr, rates as fractions formatted as percentages).

    Args:
        plan: the plan.
        path: target ``.xlsx`` file; replaced atomically.

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.xlsx``.
    """
    from openpyxl import Workbook

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        msg = f"'{target.name}' is not an .xlsx file name."
        raise ValueError(msg)
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    for key, (fields, rows) in plan_tables(plan).items():
        ws = wb.create_sheet(PLAN_SHEETS[key])
        heads = [header(f) for f in fields]
        ws.append(heads)
        for row in rows:
            ws.append(row)
        formats = [_number_format(f) for f in fields]
        if key == "summary":
            for r, row in enumerate(rows, start=2):
                unit = str(row[3])
                fmt = _PCT_FMT if unit.startswith(_FRAC) else _INT_FMT if unit.startswith((_T, _CNY)) else None
                if fmt and isinstance(row[2], (int, float)) and not isinstance(row[2], bool):
                    ws.cell(row=r, column=3).number_format = fmt
        else:
            for c, fmt in enumerate(formats, start=1):
                if fmt:
                    for r in range(2, len(rows) + 2):
                        ws.cell(row=r, column=c).number_format = fmt
        _style_header(ws, len(fields))
        _widths(ws, rows, heads)
    with atomic_path(target) as work:
        wb.save(work)
    return target


# ---------------------------------------------------------------------------------------------
# Input template
# ---------------------------------------------------------------------------------------------

#: Chinese names of the input tables (the sheet names stay the English table names).
TABLE_NAMES_ZH = {
    "sites": "场地",
    "firms": "企业",
    "streams": "固废物料流",
    "composition": "成分",
    "stockpiles": "历史堆存",
    "projects": "综合利用项目",
    "sinks": "处置/贮存设施",
    "accepts": "接收关系",
    "residues": "项目残渣",
    "quality": "进料品质限值",
    "distances": "距离",
    "routes": "运输路线规则",
}


def _unit(name: str) -> str:
    if "_cny_per_t." in name:  # policy.environmental_tax_cny_per_t.<category>
        return "CNY/t"
    name = name.rsplit(".", 1)[-1]
    if name.endswith("_cny_per_t_km"):
        return "CNY/(t·km)"
    if name.endswith("_cny_per_t"):
        return "CNY/t"
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


def field_type(info: FieldInfo) -> str:
    """Readable type of a schema field, e.g. ``number, ≥ 0, ≤ 1e+10`` or ``one of: a, b``.

    Args:
        info: a pydantic field.

    Returns:
        A short description of the accepted values.
    """
    parts: list[str] = []
    kinds: list[str] = []
    for item in [*_walk(info.annotation), *info.metadata]:
        if isinstance(item, type) and issubclass(item, enum.Enum):
            kinds.append("one of: " + ", ".join(str(m.value) for m in item))
        elif item is bool:
            kinds.append("TRUE/FALSE")
        elif item is float:
            kinds.append("number")
        elif item is int:
            kinds.append("integer")
        elif item is str:
            kinds.append("text")
        elif isinstance(getattr(item, "ge", None), (int, float)):  # annotated_types bounds
            parts.append(f"≥ {item.ge:g}")
        elif isinstance(getattr(item, "gt", None), (int, float)):
            parts.append(f"> {item.gt:g}")
        elif isinstance(getattr(item, "le", None), (int, float)):
            parts.append(f"≤ {item.le:g}")
        elif isinstance(getattr(item, "pattern", None), str):
            kinds.append("id or *" if "\\*|" in item.pattern else "id (a letter, then letters, digits or _)")
    kinds = list(dict.fromkeys(k for k in kinds if not (k == "text" and any(x.startswith(("id", "one of")) for x in kinds))))
    return ", ".join([*kinds, *dict.fromkeys(parts)])


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


def dictionary_rows() -> list[list[Any]]:
    """Rows of the data dictionary: one per manifest key and per table field.

    Returns:
        Rows of ``[sheet, table name (zh), field, required, type, unit, default, description]``
        built from the pydantic fields and their docstrings in :mod:`flowopt.schema`.
    """
    rows: list[list[Any]] = []
    for key, info in _manifest_fields(Scenario):
        rows.append([MANIFEST_SHEET, "方案参数", key, "no", field_type(info), _unit(key), _default(info), _doc(info)])
    rows.append([MANIFEST_SHEET, "方案参数", "sources.<key>", "no", "text", "", None, "Source of a manifest value, keyed by its dotted path (e.g. sources.policy.target_rate)."])
    for table, model in TABLES.items():
        required_table = "required table" if table in REQUIRED_TABLES else "optional table"
        rows.append([table, TABLE_NAMES_ZH.get(table, ""), "", required_table, "", "", None, " ".join((model.__doc__ or "").split())])
        for name, info in model.model_fields.items():
            rows.append([table, TABLE_NAMES_ZH.get(table, ""), name, "yes" if info.is_required() else "no", field_type(info), _unit(name), _default(info), _doc(info)])
    return rows


def _doc(info: FieldInfo) -> str:
    return " ".join((info.description or "").replace("``", "").split())


def write_template(path: str | os.PathLike[str]) -> Path:
    """Write a blank scenario workbook to fill in, atomically.

    Sheets: ``scenario`` (``key | value`` rows for every manifest setting, values empty so the
    defaults apply, with the default and a description beside them), one sheet per table with
    the field names as the header row (hover a header for its description; enumerated fields
    offer a drop-down), and ``dictionary`` (every field: required, type, unit, default,
    description). Once filled, :func:`flowopt.io.load_scenario` reads it.

    Args:
        path: target ``.xlsx`` file; replaced atomically.

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.xlsx``.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        msg = f"'{target.name}' is not an .xlsx file name."
        raise ValueError(msg)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = MANIFEST_SHEET
    # only the first two columns are read; the others are help for the person filling it in
    ws.append(["key", "value", "default 默认值", "unit 单位", "description 说明"])
    for key, info in _manifest_fields(Scenario):
        ws.append([key, None, _default(info), _unit(key), _doc(info)])
    ws.append(["sources.policy.target_rate", None, None, "", "Source of the target (any manifest key can have a sources.<key> row)."])
    _style_header(ws, 5)
    for col, width in zip("ABCDE", (44, 24, 16, 14, 90), strict=True):
        ws.column_dimensions[col].width = width
    for table, model in TABLES.items():
        sheet = wb.create_sheet(table)
        fields = list(model.model_fields.items())
        sheet.append([name for name, _ in fields])
        _style_header(sheet, len(fields))
        for i, (name, info) in enumerate(fields, start=1):
            letter = get_column_letter(i)
            note = f"{'required' if info.is_required() else 'optional'}; {field_type(info)}"
            unit = _unit(name)
            sheet.cell(row=1, column=i).comment = Comment(f"{_doc(info)}\n[{note}{'; ' + unit if unit else ''}]", "flowopt")
            sheet.column_dimensions[letter].width = 40 if name in ("source", "name_zh", "name_en") else max(12, len(name) + 4)
            choices = _choices(info)
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                dv.add(f"{letter}2:{letter}5000")
                sheet.add_data_validation(dv)
    dictionary = wb.create_sheet(DICTIONARY_SHEET)
    heads = ["sheet 工作表", "table 表名", "field 字段", "required 必填", "type 类型", "unit 单位", "default 默认值", "description 说明"]
    dictionary.append(heads)
    rows = dictionary_rows()
    for row in rows:
        dictionary.append(row)
    _style_header(dictionary, len(heads))
    for col, width in zip("ABCDEFGH", (14, 14, 34, 16, 34, 14, 14, 100), strict=True):
        dictionary.column_dimensions[col].width = width
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
    "PLAN_SHEETS",
    "dictionary_rows",
    "field_type",
    "header",
    "plan_tables",
    "write_plan_workbook",
    "write_template",
]
