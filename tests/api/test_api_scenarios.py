"""Scenarios over HTTP: the bundled park, JSON and workbook uploads, validation, bad input."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from api_support import BUNDLED, assert_problem

from api.examples import EXAMPLE_SCENARIO
from flowopt.checks import validated
from flowopt.io import load_scenario, write_workbook
from flowopt.pipeline import default_data_dir


def example(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE_SCENARIO)
    data.update(changes)
    return data


def test_bundled_park_is_always_listed(quiet_client):
    page = quiet_client.get("/v1/scenarios").json()
    (item,) = [i for i in page["items"] if i["id"] == BUNDLED]
    assert item["builtin"] and item["rows"]["streams"] == 14 and item["url"] == f"/v1/scenarios/{BUNDLED}"
    r = quiet_client.get(f"/v1/scenarios/{BUNDLED}")
    assert r.status_code == 200 and r.headers["etag"] == f'"{item["sha256"]}"'
    assert validated(r.json()) == load_scenario(default_data_dir())


def test_create_then_same_again_then_conflict(quiet_client):
    r = quiet_client.post("/v1/scenarios", json=EXAMPLE_SCENARIO)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/scenarios/example_park"
    created = r.json()
    assert created["rows"]["projects"] == 2 and not created["builtin"]
    again = quiet_client.post("/v1/scenarios", json=EXAMPLE_SCENARIO)
    assert again.status_code == 200 and again.json()["sha256"] == created["sha256"]
    changed = example(name_en="Another park")
    assert_problem(quiet_client.post("/v1/scenarios", json=changed), 409, "scenario_exists")
    stored = quiet_client.get("/v1/scenarios/example_park").json()
    assert stored["name_en"] == "Example park"
    # the bundled id cannot be taken over either
    assert_problem(quiet_client.post("/v1/scenarios", json=example(id=BUNDLED)), 409, "scenario_exists")
    ids = [i["id"] for i in quiet_client.get("/v1/scenarios").json()["items"]]
    assert ids == sorted(ids) and "example_park" in ids


def test_an_id_that_names_an_endpoint_is_refused(quiet_client):
    doc = assert_problem(quiet_client.post("/v1/scenarios", json=example(id="validate")), 422, "input_invalid")
    assert doc["problems"][0]["pointer"] == "/id"
    r = quiet_client.options("/v1/scenarios/validate")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_paging_of_scenarios(quiet_client):
    for i in range(3):
        assert quiet_client.post("/v1/scenarios", json=example(id=f"park_{i}")).status_code == 201
    first = quiet_client.get("/v1/scenarios", params={"limit": 2}).json()
    assert first["total"] == 4 and len(first["items"]) == 2 and first["next"] == "/v1/scenarios?offset=2&limit=2"
    rest = quiet_client.get(first["next"]).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == ["panzhihua_east_2025", "park_0", "park_1", "park_2"]
    assert rest["next"] is None


def test_workbook_upload(quiet_client, tmp_path):
    path = write_workbook(validated(example(id="from_excel")), tmp_path / "park.xlsx")
    with path.open("rb") as fh:
        r = quiet_client.post("/v1/scenarios", files={"file": ("park.xlsx", fh, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "from_excel"
    assert validated(quiet_client.get("/v1/scenarios/from_excel").json()) == validated(example(id="from_excel"))


def test_workbook_problems_name_sheet_and_row(quiet_client, tmp_path):
    from openpyxl import load_workbook

    path = write_workbook(validated(example(id="bad_excel")), tmp_path / "bad.xlsx")
    wb = load_workbook(path)
    ws = wb["projects"]
    col = [c.value for c in ws[1]].index("capacity_t") + 1
    ws.cell(row=3, column=col, value=-5)
    wb.save(path)
    r = quiet_client.post("/v1/scenarios/validate", files={"file": ("bad.xlsx", path.read_bytes())})
    doc = assert_problem(r, 422, "input_invalid")
    (p,) = doc["problems"]
    assert (p["file"], p["row"], p["column"]) == ("bad.xlsx[projects]", 3, "capacity_t")


@pytest.mark.parametrize(
    ("files", "data"),
    [({"file": ("park.xlsx", b"not a zip at all")}, None), ({"other": ("park.xlsx", b"x")}, None), (None, {"file": "text, not a file"})],
)
def test_bad_uploads_are_422(quiet_client, files, data):
    r = quiet_client.post("/v1/scenarios", files=files, data=data) if files else quiet_client.post("/v1/scenarios", data=data, files={"x": ("a", b"")})
    doc = assert_problem(r, 422, "input_invalid")
    assert doc["problems"]


def test_validate_reports_counts_and_stores_nothing(quiet_client):
    r = quiet_client.post("/v1/scenarios/validate", json=example(id="only_checked"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["valid"] is True and report["rows"]["streams"] == 3 and report["arcs"] > 0
    assert_problem(quiet_client.get("/v1/scenarios/only_checked"), 404, "not_found")


def _set(path: str, value: Any) -> Any:
    def change(d: dict[str, Any]) -> None:
        node: Any = d
        parts = path.split("/")
        for p in parts[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


#: Bad scenarios a client will send: (id, change, expected status, code, pointer of a problem).
BAD: list[tuple[str, Any, int, str, str | None]] = [
    ("negative", _set("projects/0/capacity_t", -60), 422, "input_invalid", "/projects/0/capacity_t"),
    ("capacity_1e20", _set("projects/0/capacity_t", 1e20), 422, "input_invalid", "/projects/0/capacity_t"),
    ("cost_1e15", _set("projects/1/processing_cost_cny_per_t", 1e15), 422, "input_invalid", "/projects/1/processing_cost_cny_per_t"),
    ("string_number", _set("streams/0/generation_t", "100"), 422, "input_invalid", "/streams/0/generation_t"),
    ("bool_number", _set("sinks/0/fee_cny_per_t", True), 422, "input_invalid", "/sinks/0/fee_cny_per_t"),
    ("unknown_field", _set("projects/0/colour", "red"), 422, "input_invalid", "/projects/0/colour"),
    ("unknown_top_field", _set("overrides", {}), 422, "input_invalid", "/overrides"),
    ("dangling_id", _set("accepts/1/outlet", "LL"), 422, "input_invalid", "/accepts/1/outlet"),
    ("duplicate_id", lambda d: d["projects"].append(dict(d["projects"][0])), 422, "input_invalid", "/projects/2/id"),
    ("empty_list", _set("projects", []), 422, "input_invalid", "/projects"),
    ("wrong_type_table", _set("sites", "A"), 422, "input_invalid", "/sites"),
    ("target_above_one", _set("policy/target_rate", 1.5), 422, "input_invalid", "/policy/target_rate"),
    ("bad_enum", _set("streams/0/category", "plutonium"), 422, "input_invalid", "/streams/0/category"),
    ("bad_id_pattern", _set("sites/0/id", "1st site"), 422, "input_invalid", "/sites/0/id"),
    ("yields_not_one", _set("projects/1/product_fraction", 0.5), 422, "input_invalid", "/projects/1/product_fraction"),
    ("missing_required", lambda d: d["projects"][0].pop("capacity_t"), 422, "input_invalid", "/projects/0/capacity_t"),
]


@pytest.mark.parametrize(("name", "change", "status", "code", "pointer"), BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("endpoint", ["/v1/scenarios", "/v1/scenarios/validate"])
def test_bad_scenarios_are_4xx_with_location(quiet_client, endpoint, name, change, status, code, pointer):
    data = example(id=f"bad_{name}")
    change(data)
    doc = assert_problem(quiet_client.post(endpoint, json=data), status, code)
    pointers = [p["pointer"] for p in doc["problems"]]
    assert pointer in pointers, doc["problems"]
    for p in doc["problems"]:
        assert p["message"] and p["hint"] and p["table"]
    assert quiet_client.get(f"/v1/scenarios/bad_{name}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"id": "x", "sites": [{"id": "A", "x_km": NaN}]}', 422, "input_invalid"),
        (b'{"id": "x", "sites": [{"id": "A", "x_km": Infinity}]}', 422, "input_invalid"),
        (b'{"id": "x", "sites": [{"id": "A", "x_km": 1e400}]}', 422, "input_invalid"),
        (b'{"id": "x", "id": "y"}', 422, "input_invalid"),
        (b'{"id": "x", "sites": [', 400, "json_invalid"),
        (b"[]", 422, "input_invalid"),
        (b"null", 422, "input_invalid"),
    ],
)
def test_raw_bodies(quiet_client, body, status, code):
    doc = assert_problem(quiet_client.post("/v1/scenarios", content=body, headers={"Content-Type": "application/json"}), status, code)
    assert doc["problems"]
    assert all(p["pointer"] is not None or p["row"] is not None for p in doc["problems"])


def test_non_finite_location_inside_scenario(quiet_client):
    r = quiet_client.post("/v1/scenarios", content=b'{"id": "x", "sites": [{"id": "A"}, {"id": "B", "y_km": -Infinity}]}', headers={"Content-Type": "application/json"})
    (p,) = assert_problem(r, 422, "input_invalid")["problems"]
    assert (p["table"], p["row"], p["column"], p["pointer"]) == ("sites", 2, "y_km", "/sites/1/y_km")


def test_wrong_media_type_is_415(quiet_client):
    r = quiet_client.post("/v1/scenarios", content=json.dumps(EXAMPLE_SCENARIO), headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")


def test_graph_error_is_422(quiet_client):
    data = example(id="two_sites")
    data["sites"].append({"id": "B"})
    data["projects"][1]["site"] = "B"  # no distance and no coordinates between A and B
    doc = assert_problem(quiet_client.post("/v1/scenarios/validate", json=data), 422, "graph_invalid")
    assert doc["problems"]


def test_bad_path_and_query_parameters(quiet_client):
    doc = assert_problem(quiet_client.get("/v1/scenarios/1bad id"), 422, "input_invalid")
    assert doc["problems"][0]["table"] == "path"
    doc = assert_problem(quiet_client.get("/v1/scenarios", params={"limit": "lots"}), 422, "input_invalid")
    assert doc["problems"][0]["pointer"] == "/query/limit"
    assert_problem(quiet_client.get("/v1/scenarios", params={"offset": -1}), 422, "input_invalid")
