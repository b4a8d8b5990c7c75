"""Bad input: every problem reported at once, with file, row, column, what is wrong and a fix."""

from __future__ import annotations

import copy
import csv
import math
from pathlib import Path
from typing import NamedTuple

import pytest
from support import TINY, make

from flowopt.errors import GraphError, InputError
from flowopt.io import atomic_path, load_scenario, write_scenario, write_workbook


def problems_of(exc_info) -> list[str]:
    return [str(p) for p in exc_info.value.problems if p.severity == "error"]


def bad(**changes):
    with pytest.raises(InputError) as info:
        make(**changes)
    return info


class _Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _cli(capsys, *argv: str) -> _Result:
    """Run the command line in-process (``flowopt.cli.main``) and capture what it prints."""
    from flowopt.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return _Result(code, captured.out, captured.err)


def test_unknown_id_is_named_with_a_suggestion():
    accepts = [*copy.deepcopy(TINY["accepts"]), {"outlet": "Q", "stream": "s11"}, {"outlet": "PP", "stream": "s1"}]
    info = bad(accepts=accepts)
    msgs = problems_of(info)
    assert any("accepts, row 5, column stream: unknown streams id 's11'" in m and "Did you mean 's1'?" in m for m in msgs)
    assert any("unknown projects or sinks id 'PP'" in m and "Did you mean 'P'?" in m for m in msgs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-5, "greater than or equal to 0"),
        (float("nan"), "finite number"),
        (float("inf"), "finite number"),
        (1e20, "less than or equal to 10000000000"),
        ("12 t", "valid number"),
    ],
)
def test_bad_capacity_values(value, expected):
    projects = copy.deepcopy(TINY["projects"])
    projects[1]["capacity_t"] = value
    info = bad(projects=projects)
    p = next(p for p in info.value.problems if p.column == "capacity_t")
    assert p.table == "projects" and p.row == 2
    assert expected in p.message
    assert p.hint


def test_absurd_cost_is_rejected():
    projects = copy.deepcopy(TINY["projects"])
    projects[0]["processing_cost_cny_per_t"] = 1e15
    info = bad(projects=projects)
    assert any("processing_cost_cny_per_t" in m and "less than or equal to 1000000" in m for m in problems_of(info))


def test_fractions_above_one_and_yields_not_one():
    comp = [
        {"stream": "s1", "component": "TiO2", "fraction": 0.7},
        {"stream": "s1", "component": "H2O", "fraction": 0.5},
    ]
    residues = [{"project": "P", "stream": "s2", "fraction": 0.5}]
    info = bad(composition=comp, residues=residues)
    msgs = problems_of(info)
    assert any("fractions of stream 's1' sum to 1.2000, above 1" in m for m in msgs)
    assert any("yields of project 'P' add up to 1.100000" in m for m in msgs)


def test_stream_that_nothing_can_take():
    streams = [*copy.deepcopy(TINY["streams"]), {"id": "orphan", "site": "A", "category": "other", "generation_t": 5}]
    accepts = [a for a in TINY["accepts"] if a["stream"] != "*"] + [{"outlet": "L", "stream": "s1"}, {"outlet": "L", "stream": "s2"}]
    info = bad(streams=streams, accepts=accepts)
    assert any("no project, sink or storage accepts stream 'orphan'" in m for m in problems_of(info))


def test_duplicate_ids_unknown_fields_and_quality_without_composition():
    streams = [*copy.deepcopy(TINY["streams"]), {"id": "s1", "category": "other"}]
    projects = copy.deepcopy(TINY["projects"])
    projects[0]["colour"] = "red"
    quality = [{"project": "Q", "component": "TiO2", "max_fraction": 0.1}]
    info = bad(streams=streams, projects=projects, quality=quality)
    msgs = problems_of(info)
    # all three found in one pass
    assert any("colour" in m and "Extra inputs are not permitted" in m for m in msgs)


def test_quality_limit_on_undeclared_component():
    quality = [{"project": "Q", "component": "TiO2", "max_fraction": 0.1}]
    info = bad(quality=quality)
    msgs = problems_of(info)
    assert any("accepted stream 'old' has no 'TiO2' value" in m for m in msgs)
    assert any("accepted stream 's2' has no 'TiO2' value" in m for m in msgs)


def test_duplicate_ids_reported():
    streams = [*copy.deepcopy(TINY["streams"]), {"id": "s1", "category": "other"}]
    info = bad(streams=streams)
    assert any("duplicate id 's1'" in m for m in problems_of(info))


def test_missing_distance_is_a_graph_error():
    from flowopt.graph import build_graph

    sites = [{"id": "A"}, {"id": "B"}]
    sinks = [{"id": "L", "site": "B", "counts_as": "disposal", "fee_cny_per_t": 5}]
    s = make(sites=sites, sinks=sinks)
    with pytest.raises(GraphError) as info:
        build_graph(s)
    assert any("no distance between sites 'A' and 'B'" in m for m in problems_of(info))


def test_residue_cycle_that_creates_mass():
    from flowopt.graph import build_graph

    projects = copy.deepcopy(TINY["projects"])
    projects[1] = {"id": "Q", "site": "A", "capacity_t": 50, "revenue_cny_per_t": 5, "product_fraction": 0}
    residues = [{"project": "P", "stream": "s2", "fraction": 0.4}, {"project": "Q", "stream": "s2", "fraction": 1.0}]
    s = make(projects=projects, residues=residues)
    with pytest.raises(GraphError) as info:
        build_graph(s)
    assert any("residue cycle s2 -> Q" in m or "residue cycle Q -> s2" in m for m in problems_of(info))


def _write_tiny(tmp_path: Path) -> Path:
    return write_scenario(make(), tmp_path / "tiny")


def _edit_cell(path: Path, row: int, column: str, value: str) -> None:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[row - 2][column] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_csv_errors_name_file_row_and_column_all_at_once(tmp_path):
    folder = _write_tiny(tmp_path)
    _edit_cell(folder / "projects.csv", 3, "capacity_t", "-50")
    _edit_cell(folder / "streams.csv", 2, "generation_t", "NaN")
    _edit_cell(folder / "accepts.csv", 2, "stream", "s9")
    with pytest.raises(InputError) as info:
        load_scenario(folder)
    where = {(Path(p.file).name, p.row, p.column) for p in info.value.problems}
    assert ("projects.csv", 3, "capacity_t") in where
    assert ("streams.csv", 2, "generation_t") in where
    text = str(info.value)
    assert "projects.csv, row 3, column capacity_t" in text
    assert "Fix:" in text


def test_cross_reference_errors_point_at_the_file_line(tmp_path):
    folder = _write_tiny(tmp_path)
    _edit_cell(folder / "accepts.csv", 4, "stream", "s9")
    with pytest.raises(InputError) as info:
        load_scenario(folder)
    p = next(p for p in info.value.problems if "s9" in p.message)
    assert (Path(p.file).name, p.row, p.column) == ("accepts.csv", 4, "stream")


def test_unknown_and_missing_columns_and_bad_yaml(tmp_path):
    folder = _write_tiny(tmp_path)
    text = (folder / "sinks.csv").read_text(encoding="utf-8").replace("counts_as", "counts")
    (folder / "sinks.csv").write_text(text, encoding="utf-8")
    (folder / "scenario.yaml").write_text("id: tiny\npolicy:\n  target_rate: 7\n  bogus: 1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(folder)
    msgs = problems_of(info)
    assert any("sinks.csv, row 1, column counts: unknown column 'counts'" in m for m in msgs)
    assert any("required column 'counts_as' is missing" in m for m in msgs)
    assert any("scenario.yaml" in m and "policy.target_rate" in m for m in msgs)
    assert any("policy.bogus" in m for m in msgs)


def test_missing_folder_and_malformed_yaml(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_scenario(tmp_path / "nowhere")
    folder = _write_tiny(tmp_path)
    (folder / "scenario.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(folder)


def test_workbook_loads_identically_to_csv(tmp_path):
    s = make()
    folder = write_scenario(s, tmp_path / "csv")
    book = write_workbook(s, tmp_path / "tiny.xlsx")
    assert load_scenario(folder) == s
    assert load_scenario(book) == s


def test_workbook_errors_name_sheet_and_row(tmp_path):
    from openpyxl import load_workbook

    book = write_workbook(make(), tmp_path / "tiny.xlsx")
    wb = load_workbook(book)
    ws = wb["projects"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("capacity_t") + 1, value=-1)
    wb.save(book)
    with pytest.raises(InputError) as info:
        load_scenario(book)
    p = next(p for p in info.value.problems if p.column == "capacity_t")
    assert p.file == "tiny.xlsx[projects]" and p.row == 3


def test_atomic_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as work:
        work.write_text("{", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_cli_reports_bad_input_with_exit_code_2_and_no_traceback(tmp_path, capsys):
    folder = _write_tiny(tmp_path)
    _edit_cell(folder / "projects.csv", 2, "capacity_t", "1e20")
    res = _cli(capsys, "solve", str(folder))
    assert res.returncode == 2
    assert "projects.csv, row 2, column capacity_t" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_target_override_out_of_range():
    from flowopt.pipeline import run

    with pytest.raises(InputError, match="not a fraction"):
        run(make(), target_rate=1.5)
    assert not math.isnan(run(make(), target_rate=0.0).objective_cny)
