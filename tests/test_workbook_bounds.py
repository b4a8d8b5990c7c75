"""Hostile workbooks are refused early and cheaply; problem lists stay short; names stay local.

The workbooks are built in memory (``workbook_bombs``): a million one-cell rows, a declared
dimension of the whole sheet, DTDs with an external entity or entity expansion in a sheet, the
shared strings or the workbook part, corrupt parts. Each must end with exit code 2 (invalid
input) quickly and with bounded memory, never with exit code 3, a traceback or the content of
a file the XML pointed at.
"""

from __future__ import annotations

import io
import json
import re
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from support import make
from workbook_bombs import (
    LAUGHS_DOCTYPE,
    PASSWD_MARK,
    XXE_DOCTYPE,
    excel_like,
    huge_dimension,
    inline_row,
    many_rows,
    million_rows,
    sheet_part,
    sheet_xml,
    streams_rows,
    valid_workbook,
    with_doctype,
    with_parts,
)

from flowopt.checks import raise_for_problems
from flowopt.cli import main
from flowopt.errors import MAX_PROBLEMS, InputError, Problem, ScenarioTooLargeError
from flowopt.io import load_scenario, read_workbook
from flowopt.xlsx import ReadLimits, Workbook


def _validate(capsys: pytest.CaptureFixture[str], path: Path, *flags: str) -> tuple[int, str, float]:
    """Run ``flowopt validate`` in-process; return exit code, all output and seconds taken."""
    start = time.perf_counter()
    code = main(["validate", str(path), *flags])
    seconds = time.perf_counter() - start
    out = capsys.readouterr()
    return code, out.out + out.err, seconds


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# Size: rows, columns, cells, declared dimension, zip bombs
# ---------------------------------------------------------------------------------------------


def test_million_one_cell_rows_exit_2_in_seconds(tmp_path, capsys):
    """The issue's 90 KB workbook of a million rows took > 400 s and 4.6 GB; now refused at once."""
    path = _write(tmp_path, "million.xlsx", million_rows(tmp_path))
    assert path.stat().st_size < 200_000
    code, out, seconds = _validate(capsys, path)
    assert code == 2, out
    assert seconds < 5, f"took {seconds:.1f} s"
    assert "too large" in out and len(out.splitlines()) < 10


def test_million_rows_stop_at_the_row_limit_when_the_ratio_passes(tmp_path):
    """With the ratio check out of the way, the row count stops the read at the limit.

    Rows count over all table sheets: ``sites`` (read first) holds one, so streams row 5,001
    (its 5,000th data row) is the 5,001st.
    """
    data = million_rows(tmp_path)
    start = time.perf_counter()
    with pytest.raises(ScenarioTooLargeError) as info:
        read_workbook(data, name="million.xlsx", limits=ReadLimits(max_ratio=10_000, max_rows=5_000))
    assert time.perf_counter() - start < 3
    exc = info.value
    assert exc.code == "scenario_too_large"
    (p,) = exc.problems
    assert (p.file, p.table, p.row) == ("million.xlsx[streams]", "streams", 5_001)
    assert "5,000" in p.message and p.hint


def test_row_limit_stops_reading_before_the_rest_of_the_sheet(tmp_path):
    """``max_rows`` refuses the workbook as soon as it is passed: what follows is never parsed."""
    book = many_rows(tmp_path, 3_000)
    member = sheet_part(book, "streams")
    with zipfile.ZipFile(io.BytesIO(book)) as zf:
        text = zf.read(member).decode()
    # row 2,500 onwards is not XML at all: a reader that went on would report that instead
    broken = text.replace('<row r="2500">', "<row r=2500 <<garbage", 1)
    path = _write(tmp_path, "many.xlsx", with_parts(book, {member: broken.encode()}))
    with pytest.raises(ScenarioTooLargeError) as info:
        load_scenario(path, max_rows=1_000)
    (p,) = info.value.problems
    assert (p.file, p.row) == ("many.xlsx[streams]", 1_001)  # with the one row of sites
    with pytest.raises(InputError, match="not well-formed XML"):
        load_scenario(path, max_rows=5_000)


def test_value_beyond_the_column_limit_is_refused_blank_cells_are_not(tmp_path):
    book = valid_workbook(tmp_path)
    member = sheet_part(book, "streams")
    far_blank = streams_rows().replace('</row><row r="3">', '<c r="XFD2" s="0"/></row><row r="3">')
    path = _write(tmp_path, "blank.xlsx", with_parts(book, {member: sheet_xml(far_blank)}))
    assert load_scenario(path) == make()
    far_value = streams_rows().replace('</row><row r="3">', '<c r="IW2"><v>1</v></c></row><row r="3">')
    path = _write(tmp_path, "wide.xlsx", with_parts(book, {member: sheet_xml(far_value)}))
    with pytest.raises(ScenarioTooLargeError) as info:
        load_scenario(path)
    (p,) = info.value.problems
    assert (p.file, p.row, p.column) == ("wide.xlsx[streams]", 2, "IW")


def test_cell_and_element_limits_bound_blank_and_filled_sheets(tmp_path):
    book = valid_workbook(tmp_path)
    member = sheet_part(book, "streams")
    blank_rows = streams_rows() + "".join(f'<row r="{r}" s="1" customFormat="1"/>' for r in range(5, 20_005))
    data = with_parts(book, {member: sheet_xml(blank_rows)})
    assert read_workbook(data, name="b.xlsx") == make()  # blank rows are not data rows
    with pytest.raises(ScenarioTooLargeError, match="XML elements"):
        read_workbook(data, name="b.xlsx", limits=ReadLimits(max_elements=10_000))
    with pytest.raises(ScenarioTooLargeError, match="cells with a value"):
        read_workbook(data, name="b.xlsx", limits=ReadLimits(max_cells=20))


def test_declared_dimension_of_the_whole_sheet_costs_nothing(tmp_path):
    """``A1:XFD1048576`` with 3,000 blank formatted rows: openpyxl padded each to 16,384 cells."""
    path = _write(tmp_path, "dimension.xlsx", huge_dimension(tmp_path, blank_rows=3_000))
    load_scenario(_write(tmp_path, "warm.xlsx", huge_dimension(tmp_path, blank_rows=10)))  # imports
    tracemalloc.start()
    try:
        start = time.perf_counter()
        scenario = load_scenario(path)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scenario == make()
    assert peak < 40 << 20, f"peak {peak / 2**20:.0f} MiB"
    assert seconds < 5


def test_zip_bomb_part_and_archive_sizes_are_refused_before_parsing(tmp_path):
    book = valid_workbook(tmp_path)
    member = sheet_part(book, "streams")
    bomb = sheet_xml(streams_rows() + "<row/>" * 400_000)  # 2.4 MB of blank rows, ~1000:1
    data = with_parts(book, {member: bomb})
    with pytest.raises(ScenarioTooLargeError, match="times its packed size"):
        read_workbook(data, name="bomb.xlsx")
    with pytest.raises(ScenarioTooLargeError, match="per part"):
        read_workbook(data, name="bomb.xlsx", limits=ReadLimits(max_ratio=10_000, max_part_bytes=1 << 20))
    with pytest.raises(ScenarioTooLargeError, match="unpacks to"):
        read_workbook(book, name="book.xlsx", limits=ReadLimits(max_archive_bytes=10_000))
    with pytest.raises(ScenarioTooLargeError, match="members"):
        read_workbook(book, name="book.xlsx", limits=ReadLimits(max_members=5))


# ---------------------------------------------------------------------------------------------
# DTDs: external entities and entity expansion never reach a parser
# ---------------------------------------------------------------------------------------------

_DTD_CASES = [
    ("streams", XXE_DOCTYPE, "&xxe;"),
    ("streams", LAUGHS_DOCTYPE, "&lol9;"),
    ("xl/sharedStrings.xml", XXE_DOCTYPE, "&xxe;"),
    ("xl/sharedStrings.xml", LAUGHS_DOCTYPE, "&lol9;"),
    ("xl/workbook.xml", XXE_DOCTYPE, "&xxe;"),
    ("xl/workbook.xml", LAUGHS_DOCTYPE, "&lol9;"),
    ("docProps/app.xml", XXE_DOCTYPE, "&xxe;"),  # a part the reader never needs: refused too
]


@pytest.mark.parametrize(("part", "doctype", "entity"), _DTD_CASES, ids=[f"{p}-{'xxe' if 'xxe' in e else 'laughs'}" for p, _, e in _DTD_CASES])
def test_dtd_in_any_part_exits_2_and_leaks_nothing(tmp_path, capsys, part, doctype, entity):
    """A DTD in a sheet made openpyxl raise mid-read: exit 3 (CLI) and 500 (API)."""
    path = _write(tmp_path, "hostile.xlsx", with_doctype(tmp_path, part, doctype, entity))
    code, out, seconds = _validate(capsys, path)
    assert code == 2, out
    assert "DTD" in out and "save it again from Excel" in out
    assert PASSWD_MARK not in out and str(tmp_path) not in out
    assert seconds < 2
    code, out, _ = _validate(capsys, path, "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["status"] == "invalid_input" and PASSWD_MARK not in out
    assert {p["file"] for p in doc["problems"]} == {"hostile.xlsx"}


# ---------------------------------------------------------------------------------------------
# Problem lists are capped; every damaged workbook is invalid input, never a crash
# ---------------------------------------------------------------------------------------------


def test_input_error_keeps_the_first_problems_and_counts_all():
    found = [Problem("streams", row, "id", "bad id.", "fix it.", "s.csv") for row in range(2_000, 0, -1)]
    found.append(Problem("sites", 1, None, "a warning.", severity="warning"))
    with pytest.raises(InputError) as info:
        raise_for_problems(found, "The scenario could not be loaded")
    exc = info.value
    assert exc.message == f"The scenario could not be loaded: 2,000 problems found; the first {MAX_PROBLEMS} are listed."
    assert [p.row for p in exc.problems] == list(range(1, MAX_PROBLEMS + 1))  # location order, as before
    assert exc.errors_total == 2_000 and exc.problems_total == 2_001
    assert len(str(exc).splitlines()) == MAX_PROBLEMS + 1
    small = InputError("Bad.", found[:3] + found[-1:])
    assert len(small.problems) == 4 and small.problems_total == 4 and small.message == "Bad."
    told = InputError("Bad.", found[:3], total=50)
    assert told.errors_total == 50 and "The first 3 of 50 problems are listed." in told.message


def test_a_workbook_with_thousands_of_bad_rows_prints_a_bounded_list(tmp_path, capsys):
    path = _write(tmp_path, "bad.xlsx", many_rows(tmp_path, 500))  # 500 streams without category
    code, out, _ = _validate(capsys, path)
    assert code == 2
    # 500 streams without a category, and the rows naming the streams the sheet no longer has
    assert re.search(r"\b5\d\d problems found; the first 100 are listed", out), out[:300]
    assert len(out.splitlines()) <= MAX_PROBLEMS + 2
    code, out, _ = _validate(capsys, path, "--json")
    assert code == 2 and len(json.loads(out)["problems"]) == MAX_PROBLEMS


def _swap(tmp_path: Path, rows: str) -> bytes:
    book = excel_like(valid_workbook(tmp_path))
    return with_parts(book, {sheet_part(book, "streams"): sheet_xml(rows)})


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (inline_row(1, ["id"]) + '<row r="2"><c r="A2" t="s"><v>999999</v></c></row>', "refers to string 999,999"),
        (inline_row(1, ["id"]) + '<row r="2"><c r="A2" t="s"><v>x</v></c></row>', "shared string 'x'"),
        (inline_row(1, ["id"]) + '<row r="99999999"><c r="A9"><v>1</v></c></row>', "outside Excel's"),
        (inline_row(1, ["id"]) + '<row r="2"><c r="1A"><v>1</v></c></row>', "not a cell"),
        (inline_row(1, ["id"]) + '<row r="2"><c r="A2" t="inlineStr"><is><t>' + "x" * 40_000 + "</t></is></c></row>", "32,767 characters"),
        (inline_row(1, ["id"]) + "<row><c><v>1</v></c>", "not well-formed XML"),
    ],
    ids=["string-index", "string-ref", "row-number", "cell-ref", "long-cell", "truncated-xml"],
)
def test_damaged_sheets_are_invalid_input_not_a_crash(tmp_path, capsys, rows, expected):
    path = _write(tmp_path, "damaged.xlsx", _swap(tmp_path, rows))
    code, out, _ = _validate(capsys, path)
    assert code == 2, out
    assert expected in out and "Internal error" not in out


def test_text_in_a_number_cell_is_reported_at_its_cell(tmp_path):
    rows = inline_row(1, ["id", "site", "category", "generation_t"]) + '<row r="2"><c r="A2" t="inlineStr"><is><t>s1</t></is></c><c r="C2" t="inlineStr"><is><t>tailings</t></is></c><c r="D2"><v>lots</v></c></row>'
    with pytest.raises(InputError) as info:
        read_workbook(_swap(tmp_path, rows), name="t.xlsx")
    assert any((p.file, p.row, p.column) == ("t.xlsx[streams]", 2, "generation_t") for p in info.value.problems)


def test_not_a_zip_names_the_file_not_its_folder(tmp_path):
    folder = tmp_path / "deep" / "secret-folder"
    folder.mkdir(parents=True)
    path = _write(folder, "park.xlsx", b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    exc = info.value
    assert {p.file for p in exc.problems} == {"park.xlsx"}
    assert "secret-folder" not in str(exc) and str(tmp_path) not in str(exc)


def test_problems_name_the_given_name_in_every_field(tmp_path):
    """Reading bytes under a name (an upload): that name is the only file name in the problems."""
    from openpyxl import Workbook as Book

    wb = Book()
    assert wb.active is not None
    wb.active.title = "streams"
    wb.active.append(["id", "category"])
    path = tmp_path / "server-temp-dir" / "upload.xlsx"
    path.parent.mkdir()
    wb.save(path)
    with pytest.raises(InputError) as info:
        read_workbook(path.read_bytes(), name="my park.xlsx")
    texts = [json.dumps(p.to_dict()) for p in info.value.problems] + [str(info.value)]
    assert all("server-temp-dir" not in t and str(tmp_path) not in t for t in texts)
    assert all(p.file is not None and p.file.startswith("my park.xlsx") for p in info.value.problems)
    assert any(p.file == "my park.xlsx" and "sheet 'scenario' is missing" in p.message for p in info.value.problems)


# ---------------------------------------------------------------------------------------------
# Values read exactly as openpyxl read them (the reader replaced openpyxl's)
# ---------------------------------------------------------------------------------------------


def _openpyxl_rows(path: Path, sheet: str) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet]
        ws.reset_dimensions()  # type: ignore[union-attr]
        out = []
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            values = [None if isinstance(v, str) and not v.strip() else v for v in row]
            while values and values[-1] is None:
                values.pop()
            if values:
                out.append((number, values))
        return out
    finally:
        wb.close()


def test_values_read_as_openpyxl_reads_them(tmp_path):
    import datetime as dt

    from openpyxl import Workbook as Book

    wb = Book()
    ws = wb.active
    assert ws is not None
    ws.title = "mixed"
    ws.append(["text", 3, 3.5, -2, 1e20, 1.5e-7, True, False, None, "  ", "中文", "=1+2"])
    ws.append([dt.datetime(2024, 3, 5, 12, 30), dt.date(2023, 1, 1), dt.time(10, 5), dt.timedelta(hours=30)])
    ws.cell(row=6, column=30, value="far")
    mixed = tmp_path / "mixed.xlsx"
    wb.save(mixed)
    shared = _write(tmp_path, "shared.xlsx", excel_like(valid_workbook(tmp_path)))
    for path in (mixed, shared):
        with Workbook(path, path.name) as book:
            for sheet in book.sheetnames:
                ours = list(book.rows(sheet, data=False))
                theirs = _openpyxl_rows(path, sheet)
                assert ours == theirs, sheet
                assert [type(v) for _, r in ours for v in r] == [type(v) for _, r in theirs for v in r]
    assert load_scenario(shared) == make()
