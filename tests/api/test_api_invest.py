"""Investment decisions over HTTP (``POST /v1/investments``) with a real solver process.

The answer is the document ``flowopt invest --json`` prints; the tests compare the two.
"""

from __future__ import annotations

import copy
import json
import time
import uuid

import pytest
from api_support import assert_problem

from api import examples as ex
from api.openapi import OPENAPI_PATH
from api.schemas import InvestmentCreate, JobPublic
from flowopt.bundled import bundled_root
from flowopt.checks import validated
from flowopt.invest import InvestmentResult, solve_investment
from flowopt.io import load_scenario

SPEC = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
INVEST = bundled_root() / "panzhihua_east_invest"


def poll(client, url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    pytest.fail(f"job {url} did not finish in {timeout} s")


def _same_answer(api: dict, lib: InvestmentResult) -> None:
    doc = lib.model_dump(mode="json")
    assert api["status"] == doc["status"] and api["builds"] == doc["builds"]
    assert api["objective_cny"] == pytest.approx(doc["objective_cny"], rel=1e-9)
    assert [v["id"] for v in api["decision_values"]] == [v["id"] for v in doc["decision_values"]]
    assert api["plan"]["flows"] == doc["plan"]["flows"]


def test_inline_park_with_candidates_equals_the_library(solver_client):
    r = solver_client.post("/v1/investments", json=ex.INVESTMENT_REQUEST_INLINE)
    assert r.status_code == 201, r.text
    res = InvestmentResult.model_validate(r.json())
    assert res.status == "optimal" and res.audit.passed and res.plan is not None and res.plan.audit.passed
    assert [b.id for b in res.builds if b.built] == ["Px"]
    _same_answer(r.json(), solve_investment(validated(ex.EXAMPLE_INVEST_SCENARIO), target_rate=0.65))
    job = solver_client.get(r.headers["location"]).json()
    assert job["kind"] == "investment" and job["status"] == "succeeded" and job["result"] == r.json() and job["target"] == 0.65
    again = solver_client.post("/v1/investments", json=ex.INVESTMENT_REQUEST_INLINE)
    assert again.status_code == 200 and again.json() == r.json() and again.headers["location"] == r.headers["location"]


def test_forced_decisions_and_a_stored_scenario_with_a_budget(solver_client):
    forced = solver_client.post("/v1/investments", json=ex.INVESTMENT_REQUEST_FORCED)
    assert forced.status_code == 201, forced.text
    builds = {b["id"]: b for b in forced.json()["builds"]}
    assert builds["Qx"]["built"] and builds["Qx"]["size_t"] == 40 and builds["Qx"]["forced"] == "build" and not builds["Px"]["built"]
    # the bundled investment scenario, stored under its id, then asked for with a budget
    scenario = load_scenario(INVEST)
    stored = solver_client.post("/v1/scenarios", json=scenario.model_dump(mode="json"))
    assert stored.status_code in (200, 201), stored.text
    r = solver_client.post("/v1/investments", json=ex.INVESTMENT_REQUEST_STORED)
    assert r.status_code in (201, 202), r.text
    doc = r.json() if r.status_code == 201 else poll(solver_client, r.headers["location"], 120)["result"]
    lib = solve_investment(scenario, budget_cny=1e9, gap=1e-4)
    _same_answer(doc, lib)
    assert doc["capital_cny"] <= 1e9


def test_an_unreachable_target_is_answered_with_the_diagnosis(solver_client):
    r = solver_client.post("/v1/investments", json={**ex.INVESTMENT_REQUEST_INLINE, "target": 0.99, "explain": False})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["status"] == "infeasible" and doc["diagnosis"]["max_rate"] < 0.99 and doc["statement"] and doc["statement_zh"]


def test_respond_async_and_idempotency(solver_client):
    key = uuid.uuid4().hex
    body = {**ex.INVESTMENT_REQUEST_INLINE, "target": 0.6}
    r = solver_client.post("/v1/investments", json=body, headers={"Prefer": "respond-async", "Idempotency-Key": key})
    assert r.status_code == 202, r.text
    done = poll(solver_client, r.headers["location"])
    assert done["status"] == "succeeded" and done["kind"] == "investment"
    assert isinstance(JobPublic.model_validate(done).result, InvestmentResult)
    retry = solver_client.post("/v1/investments", json=body, headers={"Idempotency-Key": key})
    assert retry.status_code == 200 and retry.json() == done["result"]
    assert_problem(solver_client.post("/v1/investments", json={**body, "skip": ["Px"]}, headers={"Idempotency-Key": key}), 422, "idempotency_key_reused")


BAD = [
    ("no_candidates", {"scenario": ex.EXAMPLE_SCENARIO}, "candidates"),
    ("unknown_build", {**ex.INVESTMENT_REQUEST_INLINE, "build": ["Zz"]}, "candidates"),
    ("build_and_skip", {**ex.INVESTMENT_REQUEST_INLINE, "build": ["Px"], "skip": ["Px"]}, "candidates"),
    ("size_not_allowed", {**ex.INVESTMENT_REQUEST_INLINE, "build": ["Qx=30"]}, "candidates"),
    ("gap_one", {**ex.INVESTMENT_REQUEST_INLINE, "gap": 1}, "request"),
    ("negative_budget", {**ex.INVESTMENT_REQUEST_INLINE, "budget_cny": -5}, "request"),
    ("bad_build_item", {**ex.INVESTMENT_REQUEST_INLINE, "build": ["Px=="]}, "request"),
    ("unknown_field", {**ex.INVESTMENT_REQUEST_INLINE, "from": 0.5}, "request"),
]


@pytest.mark.parametrize(("name", "body", "table"), BAD, ids=[b[0] for b in BAD])
def test_bad_investment_requests_are_422_located(solver_client, name, body, table):
    doc = assert_problem(solver_client.post("/v1/investments", json=body), 422, "input_invalid")
    assert doc["problems"] and all(p["table"] == table for p in doc["problems"]), doc


def test_unknown_scenario_is_404_and_writes_need_a_key(solver_client):
    assert_problem(solver_client.post("/v1/investments", json={"scenario_id": "no_such_park"}), 404, "not_found")
    assert_problem(solver_client.post("/v1/investments", json=ex.INVESTMENT_REQUEST_INLINE, headers={"X-API-Key": ""}), 401, "api_key_missing")


def test_openapi_documents_the_operation_and_its_examples_are_answered(solver_client):
    op = SPEC["paths"]["/v1/investments"]["post"]
    assert op["operationId"] == "createInvestment" and {"200", "201", "202", "401", "404", "422", "429", "503"} <= set(op["responses"])
    assert "InvestmentCreate" in SPEC["components"]["schemas"] and "InvestmentResult" in SPEC["components"]["schemas"]
    assert "investment" in SPEC["components"]["schemas"]["JobPublic"]["properties"]["kind"]["enum"]
    solver_client.post("/v1/scenarios", json=load_scenario(INVEST).model_dump(mode="json"))
    for name, example in op["requestBody"]["content"]["application/json"]["examples"].items():
        InvestmentCreate.model_validate(example["value"])
        r = solver_client.post("/v1/investments", json=copy.deepcopy(example["value"]))
        assert r.status_code in (200, 201, 202), (name, r.text)
    shown = SPEC["components"]["examples"]["Investment"]["value"]
    res = InvestmentResult.model_validate(shown)
    assert res.status == "optimal" and res.audit.passed
    # the documented answer is what the server gives for the inline example
    answer = solver_client.post("/v1/investments", json=ex.INVESTMENT_REQUEST_INLINE).json()
    assert answer["builds"] == shown["builds"] and answer["objective_cny"] == pytest.approx(shown["objective_cny"], rel=1e-9)
    assert isinstance(JobPublic.model_validate(SPEC["components"]["examples"]["JobInvestmentSucceeded"]["value"]).result, InvestmentResult)
