"""The commands that write artifacts: flowopt solve --out, flowopt report, flowopt template."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from support import PARK_2023, PARK_2025, make
from test_artifacts import _fill_template, assert_offline, parse_html

from flowopt.cli import EXIT_INPUT, EXIT_OK, main
from flowopt.io import load_scenario
from flowopt.pipeline import run


@pytest.mark.slow
def test_solve_out_writes_every_artifact(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["solve", "--out", str(out), "--lang", "zh"]) == EXIT_OK
    names = {p.name for p in out.iterdir()}
    assert {"plan.json", "flows.csv", "plan.xlsx", "sankey.svg", "sankey.html", "report.html", "report.md"} <= names
    assert "report.sankey.svg" not in names  # the Markdown report links sankey.svg
    plan = run(PARK_2025)
    flows = pd.read_excel(out / "plan.xlsx", sheet_name="流向")  # --lang zh: the workbook is in Chinese
    assert flows["吨数（吨/年）"].sum() == pytest.approx(sum(f.tonnes for f in plan.flows))
    assert ET.parse(out / "sankey.svg").getroot().tag.endswith("svg")
    assert_offline(parse_html((out / "sankey.html").read_text(encoding="utf-8")))
    assert "目标已实现" in (out / "report.html").read_text(encoding="utf-8")
    assert "](sankey.svg)" in (out / "report.md").read_text(encoding="utf-8")
    assert "plan.xlsx" in capsys.readouterr().out


@pytest.mark.slow
def test_report_command(tmp_path):
    html = tmp_path / "report.html"
    assert main(["report", str(PARK_2025), "--lang", "en", "--out", str(html)]) == EXIT_OK
    page = parse_html(html.read_text(encoding="utf-8"))
    assert_offline(page)
    assert "Target met" in " ".join(page.text)
    md = tmp_path / "report.md"
    assert main(["report", "--lang", "zh", "--out", str(md)]) == EXIT_OK
    assert (tmp_path / "report.sankey.svg").is_file()
    assert main(["report", "--out", str(tmp_path / "report.pdf")]) == EXIT_INPUT
    r2023 = tmp_path / "r2023.html"
    assert main(["report", str(PARK_2023), "--out", str(r2023)]) == 1
    # an unreachable target writes the diagnosis report (tests/test_daily_use.py), never a plan report
    assert "Target met" not in r2023.read_text(encoding="utf-8")


def test_template_command(tmp_path):
    book = tmp_path / "template.xlsx"
    assert main(["template", str(book)]) == EXIT_OK
    assert main(["template", str(tmp_path / "template.csv")]) == EXIT_INPUT
    _fill_template(book, make())
    assert load_scenario(book) == make()
    assert main(["solve", str(book)]) == EXIT_OK
