"""Uploaded workbooks: hostile ones get 413/422 within a second, with the server's memory bounded;
problems name the uploaded file, never the server's paths.

The workbooks are built in memory by ``workbook_bombs`` (tests/workbook_bombs.py). Before the
bounded reader, the million-row upload took minutes and gigabytes, a declared dimension of the
whole sheet gigabytes, a DTD in a sheet a 500, and problems named the server's temporary upload
path.
"""

from __future__ import annotations

import io
import re
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from api_support import Server, assert_problem, make_client
from workbook_bombs import (
    LAUGHS_DOCTYPE,
    PASSWD_MARK,
    XXE_DOCTYPE,
    huge_dimension,
    many_rows,
    million_rows,
    with_doctype,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client: httpx.Client, data: bytes, name: str = "park.xlsx", path: str = "/v1/scenarios/validate") -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    r = client.post(path, files={"file": (name, data, XLSX)})
    return r, time.perf_counter() - start


def _no_server_paths(text: str) -> None:
    assert tempfile.gettempdir() not in text and "/tmp" not in text and "flowopt-upload" not in text


def test_million_one_cell_rows_get_413_at_once(quiet_client, tmp_path):
    r, seconds = _upload(quiet_client, million_rows(tmp_path))
    doc = assert_problem(r, 413, "scenario_too_large")
    assert seconds < 2, f"took {seconds:.1f} s"
    assert 1 <= len(doc["problems"]) <= 100
    assert doc["problems"][0]["file"] == "park.xlsx"


def test_row_limit_refuses_an_upload_while_reading_it(tmp_path):
    """FLOWOPT_MAX_SCENARIO_ROWS stops the read at the first row past it (was: read all, 422)."""
    with make_client(tmp_path, warm_workers=False, max_scenario_rows=1_000) as client:
        r, seconds = _upload(client, many_rows(tmp_path, 5_000))
    doc = assert_problem(r, 413, "scenario_too_large")
    (p,) = doc["problems"]
    assert (p["file"], p["table"], p["row"]) == ("park.xlsx[streams]", "streams", 1_001)  # sites holds 1
    assert "FLOWOPT_MAX_SCENARIO_ROWS" in p["hint"]
    assert seconds < 2


def test_declared_dimension_of_the_whole_sheet_is_read_normally(quiet_client, tmp_path):
    r, seconds = _upload(quiet_client, huge_dimension(tmp_path, blank_rows=3_000))
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True and r.json()["rows"]["streams"] == 3
    assert seconds < 3, f"took {seconds:.1f} s"


@pytest.mark.parametrize(
    ("part", "doctype", "entity"),
    [
        ("streams", XXE_DOCTYPE, "&xxe;"),
        ("streams", LAUGHS_DOCTYPE, "&lol9;"),
        ("xl/sharedStrings.xml", XXE_DOCTYPE, "&xxe;"),
        ("xl/workbook.xml", LAUGHS_DOCTYPE, "&lol9;"),
    ],
    ids=["sheet-xxe", "sheet-laughs", "strings-xxe", "workbook-laughs"],
)
def test_dtd_uploads_get_422_and_leak_nothing(quiet_client, tmp_path, part, doctype, entity):
    """A DTD in a sheet was a 500 (the parse error escaped mid-read)."""
    data = with_doctype(tmp_path, part, doctype, entity)
    for path in ("/v1/scenarios/validate", "/v1/scenarios"):
        r, seconds = _upload(quiet_client, data, "hostile.xlsx", path)
        doc = assert_problem(r, 422, "input_invalid")
        assert seconds < 2
        assert PASSWD_MARK not in r.text
        (p,) = doc["problems"]
        assert p["file"] == "hostile.xlsx" and "DTD" in p["message"]
        _no_server_paths(r.text)


def test_problems_name_the_uploaded_file_only(quiet_client):
    """A workbook without its 'scenario' sheet: that problem named the server's temp path."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "streams"
    ws.append(["id", "category", "generation_t"])
    ws.append(["s1", "tailings", -5])
    buf = io.BytesIO()
    wb.save(buf)
    r, _ = _upload(quiet_client, buf.getvalue(), "C:\\Users\\li\\Desktop\\东区 park (2025).xlsx")
    doc = assert_problem(r, 422, "input_invalid")
    files = {p["file"] for p in doc["problems"]}
    assert "东区 park (2025).xlsx" in files  # the missing 'scenario' sheet
    assert "东区 park (2025).xlsx[streams]" in files  # the negative generation
    assert all(f.startswith("东区 park (2025).xlsx") for f in files)
    _no_server_paths(r.text)
    assert "Desktop" not in r.text
    r, _ = _upload(quiet_client, b"PK\x03\x04 definitely not a zip", "/home/li/report.xlsx")
    doc = assert_problem(r, 422, "input_invalid")
    assert [p["file"] for p in doc["problems"]] == ["report.xlsx"]
    _no_server_paths(r.text)


def test_problem_list_is_capped_and_counted(quiet_client, tmp_path):
    r, _ = _upload(quiet_client, many_rows(tmp_path, 300))  # 300 streams without a category
    doc = assert_problem(r, 422, "input_invalid")
    assert len(doc["problems"]) == 100
    # 300 streams without a category, and (found in the same answer) the rows that name the
    # streams the replaced sheet no longer has
    assert doc["problems_total"] >= 300
    found = re.search(r"(\d+) problems found; the first 100 are listed", doc["detail"])
    assert found and 300 <= int(found.group(1)) <= doc["problems_total"]
    rows = [p["row"] for p in doc["problems"] if p["table"] == "streams"]
    assert rows == list(range(2, 2 + len(rows))) and len(rows) >= 90


# ---------------------------------------------------------------------------------------------
# A real server: its memory stays bounded whatever is uploaded
# ---------------------------------------------------------------------------------------------


def _peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size (``VmHWM``), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no VmHWM in /proc (not Linux)")
    return 0


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
@pytest.mark.slow
def test_server_memory_stays_bounded_under_hostile_uploads(tmp_path):
    """Each upload answers within seconds; the API process's peak RSS stays under 400 MB.

    Before: the million-row upload took > 400 s and 4.6 GB, the declared-dimension one
    (20,000 blank rows, 110 KB) 2.7 GB.
    """
    uploads = {
        "million.xlsx": (million_rows(tmp_path), {413}),
        "dimension.xlsx": (huge_dimension(tmp_path, blank_rows=20_000), {200}),
        "rows.xlsx": (many_rows(tmp_path, 25_000), {413}),  # past the default 20,000 rows
        "laughs.xlsx": (with_doctype(tmp_path, "streams", LAUGHS_DOCTYPE, "&lol9;"), {422}),
        "xxe.xlsx": (with_doctype(tmp_path, "xl/sharedStrings.xml", XXE_DOCTYPE, "&xxe;"), {422}),
    }
    srv = Server(tmp_path, FLOWOPT_WORKERS="1")
    srv.start()
    try:
        assert srv.proc is not None
        at_start = _peak_rss_bytes(srv.proc.pid)
        with srv.client() as client:
            for name, (data, statuses) in uploads.items():
                r, seconds = _upload(client, data, name)
                assert r.status_code in statuses, f"{name}: {r.status_code} {r.text[:300]}"
                assert seconds < 5, f"{name} took {seconds:.1f} s"
                assert PASSWD_MARK not in r.text
        peak = _peak_rss_bytes(srv.proc.pid)
    finally:
        srv.stop()
    assert peak < 400 << 20, f"peak RSS {peak / 2**20:.0f} MiB (at start {at_start / 2**20:.0f} MiB)"
    assert peak - at_start < 150 << 20, f"uploads raised the peak RSS by {(peak - at_start) / 2**20:.0f} MiB"
