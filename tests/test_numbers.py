"""Numbers people read: one formatting helper, CSVs with a BOM and sensible precision, workbook
number formats, widths and print setup, aligned text tables, and a comparison chart that shows
the differences with its legend outside the data."""

from __future__ import annotations

import csv
import io
import math
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from openpyxl import load_workbook
from support import PARK_2025, make

from flowopt import fmt
from flowopt.charts import comparison_svg
from flowopt.cli import main
from flowopt.pipeline import run
from flowopt.planfiles import write_csv, write_plan
from flowopt.textreport import format_batch, format_comparison, format_curve, format_plan
from flowopt.texttable import display_width
from flowopt.workbook import write_plan_workbook, write_template

SVG = "{http://www.w3.org/2000/svg}"
BOM = b"\xef\xbb\xbf"


# ---------------------------------------------------------------------------------------------
# The formatting helper
# ---------------------------------------------------------------------------------------------


def test_money_in_chinese_by_magnitude_and_in_english_with_separators():
    assert fmt.money(-346_448_000, "zh") == "-3.46 亿元/年"
    assert fmt.money(1_429_000_000, "zh") == "14.29 亿元/年"
    assert fmt.money(1_460_000, "zh") == "146.0 万元/年"
    assert fmt.money(49_940_000, "zh") == "4,994 万元/年"
    assert fmt.money(276_000, "zh") == "27.6 万元/年"
    assert fmt.money(33_100, "zh") == "3.31 万元/年"
    assert fmt.money(8_000, "zh") == "8,000 元/年"
    assert fmt.money(50, "zh", per_year=False) == "50 元"
    assert fmt.money(49_940_000, "zh", signed=True) == "+4,994 万元/年"
    assert fmt.money(-346_448_000, "en") == "-346,448,000 CNY/yr"
    assert fmt.money_exact(-346_448_000, "zh") == "-346,448,000 元/年"
    assert fmt.money_short(-346_448_000, "en") == "-346.4 M CNY"
    assert fmt.money(None, "zh") == fmt.money(math.nan, "en") == "–"


def test_tonnes_rates_points_prices():
    assert fmt.tonnes(12_775_000, "en") == "12,775,000 t/yr"
    assert fmt.tonnes(12_775_000, "zh") == "12,775,000 吨/年"
    assert fmt.tonnes_short(12_775_000, "zh") == "1,278 万吨/年" and fmt.tonnes_short(805_000, "zh") == "80.5 万吨/年"
    assert fmt.tonnes_short(12_775_000, "en") == "12.78 Mt/yr"
    assert fmt.tonnes_short(5_000, "zh") == "5,000 吨/年"
    assert fmt.rate(0.7) == "70.00%" and fmt.rate(0.639452, 3) == "63.945%"
    assert fmt.rate(None) == "n/a" and fmt.rate(None, lang="zh") == "—"
    assert fmt.rate(-1e-12) == "0.00%"  # never -0.00%
    assert fmt.points(0.0083, "en") == "+0.83 pp" and fmt.points(-0.0083, "zh") == "-0.83 个百分点"
    assert fmt.price(8.000018859863282, "en") == "8.00 CNY/t" and fmt.price(44.8, "zh") == "44.80 元/吨"
    assert fmt.number(-0.0001) == "0" and fmt.number(1234.5, 1, signed=True) == "+1,234.5"


def test_stored_precision_by_kind_and_column_name():
    assert fmt.stored(4150000.0000000005, "cny") == 4150000.0
    assert fmt.stored(8.000018859863282, "price") == 8.0
    assert fmt.stored(0.6394523437499999, "rate") == 0.639452
    assert fmt.stored(1234.56789, "t") == 1234.568
    assert fmt.stored(-1e-12, "t") == 0.0 and math.copysign(1, fmt.stored(-1e-12, "t")) == 1.0
    assert fmt.stored(True, "t") is True and fmt.stored("R01", "t") == "R01"
    kinds = {c: fmt.kind_of(c) for c in ("tonnes", "base_t", "cost_cny", "break_even_cny_per_t", "load_share", "utilization_rate", "target", "distance_km", "seconds", "shadow_price", "limit")}
    assert kinds == {"tonnes": "t", "base_t": "t", "cost_cny": "cny", "break_even_cny_per_t": "price", "load_share": "rate", "utilization_rate": "rate", "target": "rate", "distance_km": "km", "seconds": "s", "shadow_price": "price", "limit": "other"}


# ---------------------------------------------------------------------------------------------
# CSV: BOM and rounding
# ---------------------------------------------------------------------------------------------


def _decimals(cell: str) -> int:
    return len(cell.split(".", 1)[1]) if re.fullmatch(r"-?\d+\.\d+", cell) else 0


def test_write_csv_rounds_and_starts_with_a_bom(tmp_path):
    frame = pd.DataFrame({"stream": ["W01", "W02"], "tonnes": [1234.56789, 2.0000000001], "cost_cny": [4150000.0000000005, -0.1 - 0.2], "rate": [0.6394523437499999, None], "name": ["尾矿", "高炉渣"]})
    write_csv(frame, tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(BOM)
    text_ = raw.decode("utf-8-sig")
    assert "4150000.0" in text_ and "0000000005" not in text_ and "0.30000000000000004" not in text_
    rows = list(csv.DictReader(io.StringIO(text_)))
    assert [r["tonnes"] for r in rows] == ["1234.568", "2.0"] and rows[0]["rate"] == "0.639452" and rows[1]["name"] == "高炉渣"
    # what was written is the rounded value of what was given
    assert float(rows[0]["cost_cny"]) == pytest.approx(4150000.0, abs=0.005)


@pytest.mark.slow
def test_plan_csvs_have_a_bom_and_sensible_precision(park_plan, tmp_path):
    write_plan(park_plan, tmp_path / "out", lang="zh")
    limits = {"t": 3, "cny": 2, "price": 4, "rate": 6, "km": 3, "s": 4, "other": 6, "int": 0}
    for path in sorted((tmp_path / "out").glob("*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(BOM), path.name
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        for row in rows:
            for col, cell in row.items():
                assert _decimals(cell or "") <= limits[fmt.kind_of(col)], f"{path.name} {col} = {cell}"
    flows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "flows.csv").read_text(encoding="utf-8-sig"))))
    assert sum(float(r["tonnes"]) for r in flows) == pytest.approx(sum(f.tonnes for f in park_plan.flows), abs=1e-3 * len(flows))
    assert "firm" in flows[0]  # the firm the tonnes come from, when the plan has it


@pytest.mark.slow
def test_compare_and_sweep_csvs_have_a_bom(tmp_path, capsys):
    cmp = tmp_path / "cmp"
    assert main(["compare", str(PARK_2025), str(PARK_2025 / "whatifs" / "haorun_slips.yaml"), "--out", str(cmp)]) == 0
    sw = tmp_path / "sweep"
    assert main(["sweep", str(PARK_2025), "--from", "0.68", "--to", "0.72", "--step", "0.01", "--out", str(sw), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    paths = sorted([*cmp.glob("*.csv"), *sw.glob("*.csv")])
    assert len(paths) >= 6
    for path in paths:
        raw = path.read_bytes()
        assert raw.startswith(BOM), path.name
        assert not re.search(r"\d\.\d{7,}", raw.decode("utf-8-sig")), path.name  # no float noise
    assert "已写出" in out and not re.search(r"\d\.\d{4}\b", out)


# ---------------------------------------------------------------------------------------------
# Workbook: formats on every number, rounded values, widths, print setup
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_workbook_numbers_widths_and_print_setup(park_plan, lang, tmp_path):
    path = write_plan_workbook(park_plan, tmp_path / "plan.xlsx", lang=lang)
    wb = load_workbook(path)
    formats_seen: set[str] = set()
    for ws in wb:
        # every number has a number format and no float noise
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                v = cell.value
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    assert cell.number_format != "General", f"{ws.title}!{cell.coordinate} = {v}"
                    formats_seen.add(cell.number_format)
                    assert round(v, 6) == v, f"{ws.title}!{cell.coordinate} = {v!r}"
        # widths count Chinese characters double (capped), the header row fits
        for col in ws.iter_cols(min_row=1):
            letter = col[0].column_letter
            width = ws.column_dimensions[letter].width
            longest = max(display_width(str(c.value)) for c in col if isinstance(c.value, str)) if any(isinstance(c.value, str) for c in col[1:]) else 0
            assert width >= min(longest, 60), f"{ws.title} column {letter}: width {width} < {longest}"
        lines = max(math.ceil(display_width(str(c.value)) / max(ws.column_dimensions[c.column_letter].width - 1, 1)) for c in ws[1])
        assert ws.row_dimensions[1].height >= 15 * lines
        assert all(c.alignment.wrap_text for c in ws[1])
        # print: A4 landscape, one page wide, header row on every page, header frozen
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
    assert {"#,##0", "0.00%", "#,##0.00"} <= formats_seen
    # the tonnes, rates and prices columns have their formats
    flows = wb.worksheets[1]
    head = [c.value for c in flows[1]]
    tonnes_col = head.index("吨数（吨/年）" if lang == "zh" else "Tonnes (t/yr)") + 1
    assert {flows.cell(row=r, column=tonnes_col).number_format for r in range(2, flows.max_row + 1)} == {"#,##0"}
    why = wb.worksheets[5]
    head = [c.value for c in why[1]]
    col = head.index("盈亏平衡降幅（元/吨）" if lang == "zh" else "Break-even cut (CNY/t)") + 1
    assert why.cell(row=2, column=col).number_format == "#,##0.00"
    values = [why.cell(row=r, column=col).value for r in range(2, why.max_row + 1)]
    assert values == [None if w.break_even_cny_per_t is None else round(w.break_even_cny_per_t, 4) for w in park_plan.why_not]  # 8.000018859863282 -> 8.0
    assert any(w.break_even_cny_per_t is not None and w.break_even_cny_per_t != round(w.break_even_cny_per_t, 4) for w in park_plan.why_not)


def test_template_prints_and_wraps(tmp_path):
    wb = load_workbook(write_template(tmp_path / "t.xlsx", lang="zh"))
    for ws in wb:
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    d = wb["dictionary"]
    assert d.column_dimensions["H"].width >= 60 and d["H2"].alignment.wrap_text
    assert [c.value for c in wb["scenario"][1]][:2] == ["key", "value"]  # what the loader reads


# ---------------------------------------------------------------------------------------------
# Text: aligned tables, no 0.0000
# ---------------------------------------------------------------------------------------------


def _table_after(text_: str, heading: str) -> list[str]:
    lines = text_.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading)) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_outlet_table_is_aligned_by_display_width(park_plan, lang):
    text_ = format_plan(park_plan, lang=lang)
    table = _table_after(text_, "项目与设施负荷" if lang == "zh" else "Outlet loads")
    assert len(table) == len(park_plan.outlet_loads) + 1
    # the right-aligned intake column ends at the same display column on every line
    ends = set()
    for line in table[1:]:
        intake = re.search(r"(?<=\s)[\d,]+(?=\s)", line)  # the first number after the id and name
        assert intake is not None, line
        ends.add(display_width(line[: intake.end()]))
    assert len(ends) == 1, ends
    names = [o.name_zh if lang == "zh" else o.name_en for o in park_plan.outlet_loads]
    assert any(n[:20] in text_ for n in names)
    if lang == "en":
        assert not re.search(r"[\u4e00-\u9fff]", text_)
    uncapped = [o for o in park_plan.outlet_loads if o.capacity_t is None]
    assert uncapped and ("无上限" if lang == "zh" else "no limit") in "\n".join(table)


@pytest.mark.slow
def test_comparison_sweep_and_batch_text_show_readable_numbers(tmp_path):
    from flowopt.io import load_scenario
    from flowopt.overrides import load_whatif
    from flowopt.sweep import target_cost_curve
    from flowopt.whatif import run_whatif

    base = load_scenario(PARK_2025)
    result = run_whatif(base, load_whatif(PARK_2025 / "whatifs" / "haorun_slips.yaml", base))
    curve = target_cost_curve(base, 0.68, 0.72, step=0.01)
    batch = pd.DataFrame([{"id": "a", "status": "optimal", "utilization_rate": 0.7, "objective_cny": -3.46e8, "delta_cost_cny": 0.0, "max_utilization_rate": 0.7368, "warm": False, "seconds": 0.41234, "message": None}, {"id": "b", "status": "infeasible", "utilization_rate": None, "objective_cny": None, "delta_cost_cny": None, "max_utilization_rate": 0.71, "warm": None, "seconds": 0.2, "message": "the target cannot be met"}])
    for lang in ("en", "zh"):
        texts = [format_comparison(result.comparison, lang=lang, stats=result.stats), format_curve(curve, lang=lang), format_batch(batch, lang=lang)]
        for t in texts:
            assert not re.search(r"\b0\.0000\b|\b0\.7000\b|\d\.\d{4,}(?!%)", t), t
        cmp_text = texts[0]
        assert "70.00%" in cmp_text and ("+49,940,000" in cmp_text)
        assert ("个百分点" if lang == "zh" else " pp") in cmp_text
        assert "0.41" in texts[2] and "73.68%" in texts[2] and "the target cannot be met" in texts[2]


# ---------------------------------------------------------------------------------------------
# The comparison chart shows differences, its legend outside the data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_comparison_svg_has_delta_bars_and_a_legend_above_the_bars(lang):
    a, b = run(make()), run(make(policy={"target_rate": 0.6}))
    root = ET.fromstring(comparison_svg(a, b, names=("base", "lower target"), lang=lang))
    rects = list(root.iter(f"{SVG}rect"))
    deltas = [r for r in rects if "delta-bar" in (r.get("class") or "")]
    # one delta bar per row whose value differs, computed here from the plans' numbers
    rows = [(a.utilization_rate, b.utilization_rate), (a.target, b.target), (a.objective_cny, b.objective_cny)]
    assert len(deltas) >= sum(1 for x, y in rows if abs(x - y) > 1e-12)
    total = [r for r in deltas if r.find(f"{SVG}title") is not None]
    assert total and all(r.get("fill") in ("#2e7d32", "#c62828", "#607d8b") for r in deltas)
    legend = [r for r in rects if r.get("class") == "legend"]
    bars = [r for r in rects if "bar" in (r.get("class") or "").split() or "delta-bar" in (r.get("class") or "")]
    assert len(legend) == 4 and max(float(r.get("y")) + float(r.get("height")) for r in legend) < min(float(r.get("y")) for r in bars)


def test_comparison_png_legend_is_outside_the_axes(park_plan):
    from flowopt.png import comparison_figure

    plt, fig = comparison_figure(park_plan, park_plan, names=("base", "what-if"), lang="en")
    try:
        renderer = fig.canvas.get_renderer()
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), "the legend covers a panel"
        assert len(fig.axes) == 6  # three panels, each with its change B − A
    finally:
        plt.close(fig)


def test_issue_15_tables_are_written_as_csv_and_agree_with_the_plan(park_plan, tmp_path):
    # markets, airspace, CO2 by project and by firm, firms' duties: one CSV each, the same
    # numbers as plan.json, and each table's own arithmetic holds
    out = write_plan(park_plan, tmp_path / "out")

    def read(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((out / f"{name}.csv").read_text(encoding="utf-8-sig"))))

    markets = read("markets")
    assert [r["market"] for r in markets] == [m.market for m in park_plan.markets] and markets
    for row, m in zip(markets, park_plan.markets, strict=True):
        assert float(row["sold_t"]) == pytest.approx(m.sold_t, abs=1e-3)
        by_project = dict(pair.split("=") for pair in row["by_project_t"].split(";") if pair)
        assert sum(float(v) for v in by_project.values()) == pytest.approx(m.sold_t, abs=1e-2)  # every tonne sold by a project
    airspace = read("airspace")
    assert [r["sink"] for r in airspace] == [a.sink for a in park_plan.airspace] and airspace
    for row in airspace:
        assert float(row["remaining_t"]) == pytest.approx(float(row["remaining_start_t"]) - float(row["intake_t"]), abs=1e-2)
    assert park_plan.co2_t is not None
    for name, total in (("co2_by_project", None), ("co2_by_firm", park_plan.co2_t.gross_tco2)):
        rows = read(name)
        assert rows and all(float(r["gross_tco2"]) == pytest.approx(float(r["transport_tco2"]) + float(r["process_tco2"]) + float(r["electricity_tco2"]), abs=1e-3) for r in rows)
        if total is not None:  # every tonne belongs to a firm: the firms' CO2 adds up to the plan's
            assert sum(float(r["gross_tco2"]) for r in rows) == pytest.approx(total, rel=1e-9, abs=1e-3)
    assert read("firm_targets") == [] and park_plan.firm_targets == []  # the bundled park sets no duty


def test_a_firms_duty_is_written_with_its_price(tmp_path):
    from flowopt.io import load_scenario
    from flowopt.overrides import apply_overrides, parse_overrides

    scenario = apply_overrides(load_scenario(PARK_2025), parse_overrides({"changes": [{"set": "firms.F01.target_rate", "value": 0.6}]}))
    plan = run(scenario)
    out = write_plan(plan, tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO((out / "firm_targets.csv").read_text(encoding="utf-8-sig"))))
    assert [r["firm"] for r in rows] == ["F01"]
    (row,) = rows
    # the firm's rate by its ledger, recomputed from the CSV's own columns, meets the duty
    assert float(row["rate"]) == pytest.approx(float(row["delivered_t"]) / (float(row["generated_t"]) + float(row["prior_t"])), rel=1e-6)
    assert float(row["rate"]) >= 0.6 - 1e-6 and float(row["target_rate"]) == 0.6
    assert row["binds"] == str(plan.firm_targets[0].binds)
