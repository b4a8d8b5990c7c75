"""Chinese throughout with ``lang="zh"``, English throughout with ``lang="en"``.

Every text flowopt renders from the bundled park data (solve, explain, pathway, compare, sweep
and batch text; the report as HTML and Markdown; the plan workbook; the input template and its
dictionary; the SVG charts) is scanned: in Chinese for English words a reader would meet
(headings, units, categories, cost terms, statuses), in English for Chinese characters. What is
not a word is taken out first: ids (R01, W03, SP_W02), field and file names, component symbols
(TiO2), command-line options, and text that comes from the input data itself (``source``
fields, Chinese-only names). PNG charts draw Chinese with an installed CJK font, and English
everywhere, without a missing-glyph warning, when there is none.
"""

from __future__ import annotations

import enum
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from support import PARK_2023, PARK_2025

from flowopt import png
from flowopt.charts import comparison_svg, cost_curve_svg
from flowopt.i18n import HEADERS, TEXT, UNITS, VALUES, cost_term, family, header, text, where
from flowopt.io import load_scenario
from flowopt.report import report_html, report_markdown
from flowopt.schema import TABLES
from flowopt.textreport import (
    format_batch,
    format_comparison,
    format_curve,
    format_diagnosis,
    format_explanation,
    format_plan,
)
from flowopt.workbook import DOCS_ZH, dictionary_rows, doc_zh, write_plan_workbook, write_template

#: English words that must not appear in Chinese output (case-sensitive where capitalised).
ENGLISH = (
    "Target", "target", "Flows", "flows", "Bottlenecks", "bottleneck", "capacity", "Capacity", "CNY", "t/yr", "utilization",
    "Utilization", "disposal", "Disposal", "reuse", "storage", "Warnings", "Cost terms", "cost", "Total", "reached", "met",
    "audit", "passed", "FAILED", "Tonnes", "tonnes", "generated", "utilized", "disposed", "stored", "unmanaged", "revenue",
    "processing", "transport", "reclaim", "stock", "Highest", "highest", "Breakpoints", "segment", "Segment", "What-if",
    "Base", "base", "Change", "change", "Indicator", "Status", "status", "optimal", "Scenario", "n/a", "fraction", "Name",
    "name", "Load", "load", "Rate", "rate", "Stream", "stream", "Source", "Destination", "Kind", "kind", "Firm", "firm",
    "project", "Project", "site", "Site", "slag", "tailings", "gypsum", "ash", "yes", "no", "none", "Year", "year",
    "Reclaimed", "Legacy", "Pathway", "checks", "ok", "per", "point", "Why", "why", "unused", "below", "limit", "share",
    "Shadow", "price", "Money", "stake", "Check", "Detail", "Item", "Value", "Unit", "Description", "Default", "Required",
    "number", "integer", "text", "one of", "required", "optional", "Made by", "solver", "plan", "Plan",
)
#: Chinese characters and full-width forms.
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: Tokens that are ids, not words: anything with an underscore, a dot or a digit inside
#: (R01, SP_W02, policy.target_rate, projects.csv, TiO2, U_prior), and command-line options.
_ID = re.compile(r"--[a-z-]+|[A-Za-z0-9]*[_.0-9][A-Za-z0-9_.]*")
#: Ids and symbols that are whole words.
_SYMBOLS = {"flowopt", "HiGHS", "U", "G", "D", "S", "A", "B", "pp", "Mt", "kt", "key", "value", "TRUE", "FALSE", "false", "true", "SVG", "HTML", "XLSX"}


def english_words(text_: str, *, codes: Iterable[str] = ()) -> list[str]:
    """The words of :data:`ENGLISH` in ``text_`` once ids, symbols and ``codes`` are taken out."""
    for code in sorted(codes, key=len, reverse=True):
        text_ = re.sub(rf"(?<![A-Za-z_]){re.escape(code)}(?![A-Za-z_])", " ", text_)
    text_ = _ID.sub(" ", text_)
    found = []
    for w in ENGLISH:
        pattern = rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])"
        found += [w for _ in re.findall(pattern, text_)]
    words = set(re.findall(r"[A-Za-z]+", text_)) - _SYMBOLS
    return sorted(set(found) | {w for w in words if w.lower() in {e.lower() for e in ENGLISH}})


def cjk_in(text_: str, allowed: Iterable[str] = ()) -> list[str]:
    """Lines of ``text_`` holding Chinese once the ``allowed`` strings (names without an English name) are taken out."""
    for a in sorted(allowed, key=len, reverse=True):
        text_ = text_.replace(a, " ")
    return [line for line in text_.splitlines() if CJK.search(line)]


def data_texts(scenario) -> list[str]:
    """Texts that come from the input data as written: sources and descriptions (not flowopt's words)."""
    out = [str(v) for v in scenario.sources.values()] + [scenario.description or ""]
    for table in TABLES:
        out += [str(getattr(r, "source", "") or "") for r in getattr(scenario, table)]
    return [t for t in out if t]


def chinese_only_names(scenario) -> list[str]:
    """Chinese names of records that have no English name (allowed in English output)."""
    out = []
    for table in ("sites", "firms", "streams", "stockpiles", "projects", "sinks"):
        out += [r.name_zh for r in getattr(scenario, table) if r.name_zh and not r.name_en]
    return out


def _strip(text_: str, pieces: Iterable[str]) -> str:
    for p in sorted(pieces, key=len, reverse=True):
        text_ = text_.replace(p, " ")
    return text_


class _Visible(HTMLParser):
    """The text a reader sees in an HTML page (no style or script content, no markup)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> str:
    page = _Visible()
    page.feed(html)
    page.close()
    return "\n".join(page.parts)


def _svg_text(svg: str) -> str:
    root = ET.fromstring(svg)
    return "\n".join(["".join(root.itertext()), root.get("aria-label") or ""])


def _workbook_text(path: Path) -> str:
    wb = load_workbook(path)
    parts = []
    for ws in wb:
        parts.append(ws.title)
        for row in ws.iter_rows(values_only=True):
            parts += [str(v) for v in row if isinstance(v, str)]
        for cell in ws[1]:
            if cell.comment is not None:
                parts.append(cell.comment.text)
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Fixtures: every output once per language
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(PARK_2025)


@pytest.fixture(scope="module")
def whatif_result(scenario):
    from flowopt.overrides import load_whatif
    from flowopt.whatif import run_whatif

    return run_whatif(scenario, load_whatif(PARK_2025 / "whatifs" / "haorun_slips.yaml", scenario))


@pytest.fixture(scope="module")
def curve(scenario):
    from flowopt.sweep import target_cost_curve

    return target_cost_curve(scenario, 0.6, 0.75, step=0.01)


@pytest.fixture(scope="module")
def pathway_result():
    from flowopt.options import SolveOptions
    from flowopt.pathway import load_pathway, run_pathway

    return run_pathway(load_pathway(PARK_2025), SolveOptions())


def _batch_table() -> pd.DataFrame:
    return pd.DataFrame([
        {"id": "base_case", "status": "optimal", "utilization_rate": 0.7, "objective_cny": -346448000.0, "delta_cost_cny": 0.0, "max_utilization_rate": 0.7368, "warm": False, "seconds": 0.4, "message": None},
        {"id": "haorun_slips", "status": "optimal", "utilization_rate": 0.7, "objective_cny": -296508000.0, "delta_cost_cny": 49940000.0, "max_utilization_rate": 0.7285, "warm": True, "seconds": 0.01, "message": None},
        {"id": "too_high", "status": "infeasible", "utilization_rate": None, "objective_cny": None, "delta_cost_cny": None, "max_utilization_rate": 0.7368, "warm": None, "seconds": 0.2, "message": None},
    ])


@pytest.fixture(scope="module")
def texts(park_plan, scenario, whatif_result, curve, pathway_result, tmp_path_factory):
    """Every rendered output, per language: name -> text."""
    from flowopt.pathway import format_pathway

    tmp = tmp_path_factory.mktemp("i18n")
    out: dict[str, dict[str, str]] = {}
    for lang in ("en", "zh"):
        labels = {s.index: (s.label_zh if lang == "zh" else s.label) for s in curve.segments}
        table = curve.table()
        book = write_plan_workbook(park_plan, tmp / f"plan_{lang}.xlsx", lang=lang)
        template = write_template(tmp / f"template_{lang}.xlsx", lang=lang)
        out[lang] = {
            "solve": format_plan(park_plan, lang=lang, all_flows=True),
            "explain": format_explanation(park_plan, lang=lang),
            "pathway": format_pathway(pathway_result, lang=lang),
            "compare": format_comparison(whatif_result.comparison, lang=lang, stats=whatif_result.stats),
            "sweep": format_curve(curve, lang=lang, t_from=0.6, t_to=0.75),
            "batch": format_batch(_batch_table(), lang=lang),
            "report.html": _strip(_html_text(report_html(park_plan, scenario, lang=lang)), data_texts(scenario)),
            "report.md": _strip(report_markdown(park_plan, scenario, lang=lang), data_texts(scenario)),
            "plan.xlsx": _workbook_text(book),
            "template.xlsx": _workbook_text(template),
            "curve.svg": _svg_text(cost_curve_svg(table.assign(segment=table["segment"].map(labels)), lang=lang, current_target=0.7, max_rate=curve.max_rate)),
            "comparison.svg": _svg_text(comparison_svg(whatif_result.base, whatif_result.whatif, names=("base_2025", "haorun_slips"), lang=lang)),
        }
    return out


def _template_codes() -> set[str]:
    """Values the template asks for as codes (sheet, table and field names, enum members): ids, not words."""
    from flowopt.io import MANIFEST_SHEET
    from flowopt.schema import RateMode, Scenario
    from flowopt.workbook import _walk

    codes: set[str] = set(TABLES) | {MANIFEST_SHEET} | {m.value for m in RateMode}
    models = [Scenario, *TABLES.values()]
    seen = set()
    while models:
        model = models.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            codes.add(name)
            for t in _walk(info.annotation):
                if isinstance(t, type) and issubclass(t, enum.Enum):
                    codes |= {str(m.value) for m in t}
                elif isinstance(t, type) and hasattr(t, "model_fields"):
                    models.append(t)
    return codes


# ---------------------------------------------------------------------------------------------
# The scans
# ---------------------------------------------------------------------------------------------

OUTPUTS = ("solve", "explain", "pathway", "compare", "sweep", "batch", "report.html", "report.md", "plan.xlsx", "template.xlsx", "curve.svg", "comparison.svg")


@pytest.mark.slow
@pytest.mark.parametrize("name", OUTPUTS)
def test_chinese_output_has_no_english_words(texts, park_plan, name):
    # ids a tool reads: field and enum codes in the template, constraint names in the workbook
    codes = _template_codes() if name == "template.xlsx" else {b.constraint for b in park_plan.bottlenecks} if name == "plan.xlsx" else ()
    found = english_words(texts["zh"][name], codes=codes)
    assert not found, f"{name} in Chinese still shows the English words {found}"
    assert CJK.search(texts["zh"][name]), f"{name} in Chinese holds no Chinese at all"


@pytest.mark.slow
@pytest.mark.parametrize("name", OUTPUTS)
def test_english_output_has_no_chinese(texts, scenario, name):
    allowed = chinese_only_names(scenario)
    lines = cjk_in(texts["en"][name], allowed)
    assert not lines, f"{name} in English shows Chinese: {lines[:3]}"


def test_the_scan_would_catch_what_it_looks_for():
    # the scanner itself: English words are found, ids are not words, Chinese is found
    assert english_words("目标 70.0%（utilization）") == ["utilization"]
    assert english_words("[涉及 1.2 CNY/yr]") == ["CNY"]
    assert english_words("R01 W03 SP_W02 TiO2 projects.csv 第 2 行 --all-flows policy.allow_unmanaged") == []
    assert cjk_in("Target met\n目标已实现") == ["目标已实现"]
    assert cjk_in("R06 尾矿制砂", allowed=["尾矿制砂"]) == []


def test_old_leaks_are_gone(park_plan):
    # the cases the issue names, one by one
    zh = format_plan(park_plan, lang="zh")
    for word in ("transport_cny", "Cost terms", "Flows", "Bottlenecks", "CNY/yr", "Target"):
        assert word not in zh
    explain = format_explanation(park_plan, lang="zh")
    assert "CNY/yr" not in explain and "(utilization)" not in explain and "涉及" in explain
    en = format_plan(park_plan, lang="en")
    names_en = [o.name_en for o in park_plan.outlet_loads if o.name_en]
    assert not CJK.search(en) and any(n[:30] in en for n in names_en)  # the English outlet table shows English names


def test_every_label_exists_in_both_languages():
    for table in (TEXT, UNITS):
        for key, label in table.items():
            assert label.en and label.zh, key
            assert not CJK.search(label.en), f"{key}: {label.en}"
            assert CJK.search(label.zh) or label.zh == label.en or key in ("%", "n/a"), f"{key}: {label.zh}"
    for group in VALUES.values():
        for key, label in group.items():
            assert not CJK.search(label.en) and CJK.search(label.zh), key
    for field, (label, _) in HEADERS.items():
        assert not CJK.search(label.en) and CJK.search(label.zh), field
    # cost terms and constraint families come from the registry, in both languages
    from flowopt.formulation.families import ROWS, TERMS

    for t in TERMS:
        assert cost_term(t.name, "zh") == t.label_zh and cost_term(t.name, "en") == t.label_en
    for f in ROWS:
        assert family(f.name, "zh") == f.label_zh and family(f.name, "en") == f.label_en
    assert header("tonnes", "zh") == "吨数（吨/年）" and header("tonnes", "en") == "Tonnes (t/yr)"
    assert header("load_share", "zh") == "负荷率"  # a fraction is shown as a percentage: no unit
    assert where("projects.csv row 4", "zh") == "projects.csv 第 4 行" and where("projects.csv row 4", "en") == "projects.csv row 4"
    assert text("plan.flows", "zh", shown=25, total=28).startswith("流向（共 28 条")


def test_template_dictionary_in_chinese_covers_every_field():
    rows = dictionary_rows("zh")
    assert len(rows) == len(dictionary_rows("en"))
    missing = [f"{r[0]}.{r[2]}" if r[2] else r[0] for r in rows if not CJK.search(str(r[7]))]
    assert not missing, f"no Chinese description for {missing} (add them to flowopt.workbook.DOCS_ZH)"
    assert all(CJK.search(str(r[1])) for r in rows)  # table names
    assert {r[3] for r in rows} <= {"是", "否", "必需表", "可选表"}
    unit = {(r[0], r[2]): r[5] for r in rows}
    assert unit[("streams", "generation_t")] == "吨/年" and unit[("projects", "processing_cost_cny_per_t")] == "元/吨"
    assert doc_zh("streams", "id") == DOCS_ZH["*.id"]


def test_diagnosis_headings_and_places_in_chinese():
    from flowopt.errors import InfeasibleError
    from flowopt.pipeline import run

    with pytest.raises(InfeasibleError) as err:
        run(PARK_2023)
    diag = err.value.diagnosis
    zh = format_diagnosis(diag, lang="zh")
    en = format_diagnosis(diag, lang="en")
    assert zh.startswith("目标无法实现") and "最经济的调整" in zh and " row " not in zh and "第 2 行" in zh
    assert en.startswith("Target not reachable") and "row 2" in en and not CJK.search(en.splitlines()[0])


# ---------------------------------------------------------------------------------------------
# PNG fonts
# ---------------------------------------------------------------------------------------------


def _figure_texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_png_without_a_cjk_font_is_english_everywhere_and_warns_nothing(park_plan, monkeypatch, tmp_path):
    monkeypatch.setattr(png, "cjk_font", lambda: None)
    curve = pd.DataFrame({"target": [0.6, 0.65, 0.7], "objective_cny": [-3.5e8, -3.49e8, -3.46e8], "segment": [0, 1, 1]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png.cost_curve_png(curve, tmp_path / "curve.png", lang="zh", labels={0: "目标不起约束作用", 1: "目标起约束作用"}, labels_en={0: "target slack", 1: "target binds"})
        png.cost_curve_png(curve, tmp_path / "curve2.png", lang="zh", labels={0: "目标不起约束作用", 1: "目标起约束作用"})  # no English given
        plt, fig = png.comparison_figure(park_plan, park_plan, names=("基准", "情景"), lang="zh")
        fig.savefig(tmp_path / "cmp.png")
        plt.close(fig)
    glyphs = [str(w.message) for w in caught if "glyph" in str(w.message).lower() or "missing from" in str(w.message).lower()]
    assert not glyphs, glyphs
    shown = _figure_texts(fig)
    assert shown and not [t for t in shown if CJK.search(t)], shown
    assert (tmp_path / "curve.png").stat().st_size > 1000 and (tmp_path / "curve2.png").is_file()


@pytest.mark.skipif(png.cjk_font() is None, reason="no CJK font installed (Debian: apt-get install fonts-wqy-microhei); CI installs one")
def test_png_with_a_cjk_font_draws_chinese_without_missing_glyphs(park_plan, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plt, fig = png.comparison_figure(park_plan, park_plan, names=("基准", "情景"), lang="zh")
        fig.savefig(tmp_path / "cmp.png")
        plt.close(fig)
    assert not [w for w in caught if "glyph" in str(w.message).lower()]
    shown = _figure_texts(fig)
    assert any(CJK.search(t) for t in shown) and "年总成本" in shown


def test_cjk_font_files_are_found_in_font_folders(monkeypatch, tmp_path):
    monkeypatch.setattr(png, "_fc_list", list)
    (tmp_path / "wqy").mkdir()
    (tmp_path / "wqy" / "wqy-microhei.ttc").write_bytes(b"not really a font")
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"latin only")
    assert png.cjk_font_files((str(tmp_path),)) == [str(tmp_path / "wqy" / "wqy-microhei.ttc")]
    assert png.cjk_font_files((str(tmp_path / "absent"),)) == []
