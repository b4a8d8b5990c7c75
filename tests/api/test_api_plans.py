"""Plans over HTTP with a real solver process: solve, reuse, jobs, idempotency, plan views."""

from __future__ import annotations

import copy
import time
import uuid

import pytest
from api_support import BUNDLED, KEY2, assert_problem

from api.examples import EXAMPLE_SCENARIO
from flowopt.results import Plan
from flowopt.sankey import sankey_data


def check_plan(doc: dict, target: float) -> Plan:
    plan = Plan.model_validate(doc)
    assert plan.status == "optimal" and plan.audit.passed
    assert plan.target == pytest.approx(target)
    assert plan.kpis.target_rate_value >= target - 1e-7
    return plan


def poll(client, url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    pytest.fail(f"job {url} did not finish in {timeout} s")


def test_solve_stored_scenario_then_reuse(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.71})
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location.startswith("/v1/plans/") and r.headers["etag"]
    check_plan(r.json(), 0.71)
    again = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.71})
    assert again.status_code == 200 and again.headers["location"] == location
    assert again.content == r.content
    stored = solver_client.get(location)
    assert stored.status_code == 200 and stored.content == r.content
    # an inline copy of the same content is the same request
    park = solver_client.get(f"/v1/scenarios/{BUNDLED}").json()
    inline = solver_client.post("/v1/plans", json={"scenario": park, "target": 0.71})
    assert inline.status_code == 200 and inline.headers["location"] == location


def test_default_target_is_the_scenarios_own(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED})
    assert r.status_code in (200, 201), r.text
    check_plan(r.json(), 0.70)


def test_rate_mode_of_a_plan_request(solver_client):
    # the target applied to another rate: the library's plan of the same scenario with that
    # policy.rate_mode, stored apart from the default plan; the scenario's own mode is a no-op
    from flowopt.bundled import default_data_dir
    from flowopt.io import load_scenario
    from flowopt.pipeline import run
    from flowopt.schema import RateMode

    default = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.9})
    other = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.9, "rate_mode": "utilization_plus_disposal"})
    assert other.status_code == 201, other.text
    plan = Plan.model_validate(other.json())
    scenario = load_scenario(default_data_dir())
    expected = run(scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"rate_mode": RateMode.utilization_plus_disposal, "target_rate": 0.9})}))
    assert plan.rate_mode == "utilization_plus_disposal" and plan.objective_cny == pytest.approx(expected.objective_cny, rel=1e-9)
    assert default.status_code == 422  # 90 % utilization is out of reach; 90 % with disposal is not
    same = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "rate_mode": str(scenario.policy.rate_mode)})
    plain = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED})
    assert same.headers["location"] == plain.headers["location"]


def test_inline_scenario(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario": EXAMPLE_SCENARIO, "target": 0.5})
    assert r.status_code == 201, r.text
    plan = check_plan(r.json(), 0.5)
    assert plan.scenario_id == "example_park"
    listed = solver_client.get("/v1/plans", params={"scenario_id": "example_park"}).json()
    assert [i["url"] for i in listed["items"]] == [r.headers["location"]]
    # inline scenarios are kept for the plan, not listed as named scenarios
    assert solver_client.get("/v1/scenarios/example_park").status_code == 404


def test_infeasible_target_is_422_with_diagnosis_and_a_failed_job(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.95})
    doc = assert_problem(r, 422, "infeasible")
    diag = doc["diagnosis"]
    assert diag["target"] == 0.95 and 0.5 < diag["max_rate"] < 0.95
    assert diag["statement"] == doc["detail"] and diag["statement_zh"] == doc["detail_zh"]
    job = solver_client.get(f"/v1/jobs/{doc['job_id']}").json()
    assert job["status"] == "failed" and job["error"]["code"] == "infeasible" and job["plan_id"] is None


def test_respond_async_gives_a_job_to_poll(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.705}, headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == job["url"] == f"/v1/jobs/{job['id']}"
    assert r.headers["retry-after"] == "1"
    assert job["status"] in ("queued", "running", "succeeded") and job["kind"] == "plan"
    done = poll(solver_client, job["url"])
    assert done["status"] == "succeeded" and done["stage"] == "done"
    assert done["started_at"] and done["finished_at"] and done["created_at"] <= done["finished_at"]
    check_plan(done["result"], 0.705)
    assert solver_client.get(done["plan_url"]).json() == done["result"]


def test_plan_views(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.72})
    assert r.status_code in (200, 201)
    plan = Plan.model_validate(r.json())
    url = r.headers["location"]
    bn = solver_client.get(url + "/bottlenecks").json()
    assert bn["total"] == len(plan.bottlenecks) > 0 and bn["items"] == [b.model_dump(mode="json") for b in plan.bottlenecks]
    first = solver_client.get(url + "/flows", params={"limit": 5}).json()
    assert first["total"] == len(plan.flows) and len(first["items"]) == 5
    pages = [first]
    while pages[-1]["next"]:
        pages.append(solver_client.get(pages[-1]["next"]).json())
    assert [f for p in pages for f in p["items"]] == [f.model_dump(mode="json") for f in plan.flows]
    reuse = solver_client.get(url + "/flows", params={"kind": "reuse", "limit": 1000}).json()
    assert reuse["items"] and all(f["kind"] == "reuse" for f in reuse["items"])
    w = plan.flows[0].stream
    assert all(f["stream"] == w for f in solver_client.get(url + "/flows", params={"stream": w}).json()["items"])
    for lang in ("en", "zh"):
        sk = solver_client.get(url + "/sankey", params={"lang": lang}).json()
        assert sk == sankey_data(plan, lang=lang)
    assert_problem(solver_client.get(url + "/sankey", params={"lang": "fr"}), 422, "input_invalid")


def test_list_plans_newest_first(solver_client):
    ids = []
    for target in (0.701, 0.702):
        r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": target})
        assert r.status_code == 201
        ids.append(r.headers["location"])
    page = solver_client.get("/v1/plans", params={"limit": 2}).json()
    assert [i["url"] for i in page["items"]] == ids[::-1]
    assert page["total"] >= 2


def test_idempotency_key(solver_client):
    key = uuid.uuid4().hex
    body = {"scenario_id": BUNDLED, "target": 0.715}
    first = solver_client.post("/v1/plans", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    before = solver_client.get("/v1/plans").json()["total"]
    retry = solver_client.post("/v1/plans", json=body, headers={"Idempotency-Key": key})
    assert retry.status_code == 200 and retry.headers["location"] == first.headers["location"]
    assert solver_client.get("/v1/plans").json()["total"] == before
    other = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.716}, headers={"Idempotency-Key": key})
    assert_problem(other, 422, "idempotency_key_reused")
    # keys are scoped by API key: another client may use the same value
    mine = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.716}, headers={"Idempotency-Key": key, "X-API-Key": KEY2})
    assert mine.status_code == 201


@pytest.mark.parametrize("value", ["", " ", "a" * 256, "ключ"])
def test_bad_idempotency_keys_are_422(solver_client, value):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED}, headers={"Idempotency-Key": value.encode("utf-8")})
    doc = assert_problem(r, 422, "input_invalid")
    assert doc["problems"][0]["table"] == "header"


def _inline(change) -> dict:
    s = copy.deepcopy(EXAMPLE_SCENARIO)
    change(s)
    return {"scenario": s}


#: Bad plan requests: (id, body or raw bytes, status, code, pointer).
BAD_PLANS = [
    ("nan_target", b'{"scenario_id": "panzhihua_east_2025", "target": NaN}', 422, "input_invalid", "/target"),
    ("inf_target", b'{"scenario_id": "panzhihua_east_2025", "target": Infinity}', 422, "input_invalid", "/target"),
    ("huge_target", b'{"scenario_id": "panzhihua_east_2025", "target": 1e400}', 422, "input_invalid", "/target"),
    ("negative_target", {"scenario_id": BUNDLED, "target": -0.1}, 422, "input_invalid", "/target"),
    ("bool_target", {"scenario_id": BUNDLED, "target": False}, 422, "input_invalid", "/target"),
    ("string_target", {"scenario_id": BUNDLED, "target": "0.7"}, 422, "input_invalid", "/target"),
    ("unknown_field", {"scenario_id": BUNDLED, "overrides": []}, 422, "input_invalid", "/overrides"),
    ("both_sources", {"scenario_id": BUNDLED, "scenario": EXAMPLE_SCENARIO}, 422, "input_invalid", ""),
    ("no_source", {"target": 0.7}, 422, "input_invalid", ""),
    ("dangling_scenario", {"scenario_id": "no_such_park"}, 404, "not_found", "/scenario_id"),
    ("scenario_not_object", {"scenario": [1, 2]}, 422, "input_invalid", "/scenario"),
    ("inline_negative", _inline(lambda s: s["projects"][0].update(capacity_t=-1)), 422, "input_invalid", "/scenario/projects/0/capacity_t"),
    ("inline_1e20", _inline(lambda s: s["stockpiles"][0].update(stock_t=1e20)), 422, "input_invalid", "/scenario/stockpiles/0/stock_t"),
    ("inline_1e15_cost", _inline(lambda s: s["sinks"][0].update(fee_cny_per_t=1e15)), 422, "input_invalid", "/scenario/sinks/0/fee_cny_per_t"),
    ("inline_dangling", _inline(lambda s: s["residues"][0].update(project="ZZ")), 422, "input_invalid", "/scenario/residues/0/project"),
    ("inline_duplicate", _inline(lambda s: s["sites"].append({"id": "A"})), 422, "input_invalid", "/scenario/sites/1/id"),
    ("inline_empty", _inline(lambda s: s.update(accepts=[])), 422, "input_invalid", "/scenario/accepts"),
    ("inline_nan", b'{"scenario": {"id": "x", "streams": [{"id": "s", "category": "tailings", "generation_t": NaN}]}}', 422, "input_invalid", "/scenario/streams/0/generation_t"),
    ("unknown_rate_mode", {"scenario_id": BUNDLED, "rate_mode": "recycling"}, 422, "input_invalid", "/rate_mode"),
    ("malformed", b'{"scenario_id": panzhihua}', 400, "json_invalid", None),
    ("duplicate_keys", b'{"scenario_id": "panzhihua_east_2025", "target": 0.7, "target": 0.99}', 422, "input_invalid", "/target"),
]


@pytest.mark.parametrize(("name", "body", "status", "code", "pointer"), BAD_PLANS, ids=[b[0] for b in BAD_PLANS])
def test_bad_plan_requests_are_4xx_with_location_and_store_nothing(solver_client, name, body, status, code, pointer):
    before = solver_client.get("/v1/plans").json()["total"]
    if isinstance(body, bytes):
        r = solver_client.post("/v1/plans", content=body, headers={"Content-Type": "application/json"})
    else:
        r = solver_client.post("/v1/plans", json=body)
    doc = assert_problem(r, status, code)
    if pointer is not None:
        assert pointer in [p["pointer"] for p in doc["problems"]], doc
    else:
        assert doc["problems"][0]["row"] == 1
    assert solver_client.get("/v1/plans").json()["total"] == before


def test_unknown_plan_and_job_are_404(solver_client):
    missing = "0" * 32
    assert_problem(solver_client.get(f"/v1/plans/{missing}"), 404, "not_found")
    for suffix in ("bottlenecks", "flows", "sankey"):
        assert_problem(solver_client.get(f"/v1/plans/{missing}/{suffix}"), 404, "not_found")
    assert_problem(solver_client.get(f"/v1/jobs/{missing}"), 404, "not_found")
    assert_problem(solver_client.get("/v1/plans/not-an-id"), 422, "input_invalid")
    assert_problem(solver_client.get("/v1/nothing/here"), 404, "not_found")


def test_method_not_allowed_lists_allowed_methods(solver_client):
    r = solver_client.delete("/v1/scenarios")
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, POST"
