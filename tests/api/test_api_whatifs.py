"""What-ifs (``POST /v1/whatifs``) and sweeps (``POST /v1/sweeps``) with a real solver process."""

from __future__ import annotations

import copy
import itertools
import json
import time
import uuid

import pytest
from api_support import BUNDLED, assert_problem

from api import examples as ex
from api.openapi import OPENAPI_PATH
from api.schemas import MAX_CHANGES, JobPublic, SweepCreate, WhatIfCreate, WhatIfResult
from flowopt.compare import Comparison
from flowopt.results import Plan
from flowopt.sankey import sankey_data
from flowopt.sweep import CostCurve

SPEC = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
R06 = "projects.R06.capacity_t"


def whatif(client, body: dict, **headers: str):
    return client.post("/v1/whatifs", json=body, headers=headers)


def check_answer(doc: dict, target: float) -> WhatIfResult:
    res = WhatIfResult.model_validate(doc)
    assert res.whatif.status == "optimal" and res.whatif.audit.passed
    assert res.whatif.target == pytest.approx(target) and res.whatif.kpis.target_rate_value >= target - 1e-7
    assert res.base_plan_url == f"/v1/plans/{res.base_plan_id}" and res.whatif_plan_url == f"/v1/plans/{res.whatif_plan_id}"
    kpis = {k.metric: k for k in res.comparison.kpis}
    assert kpis["target"].whatif == pytest.approx(target)
    return res


def poll(client, url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    pytest.fail(f"job {url} did not finish in {timeout} s")


# ---------------------------------------------------------------------------------------------
# What-ifs
# ---------------------------------------------------------------------------------------------


def test_the_viewers_two_requests(solver_client):
    # (a) another target, no changes: compared with the base at its own 70 %
    t0 = time.perf_counter()
    r = whatif(solver_client, ex.WHATIF_REQUEST_TARGET)
    seconds_a = time.perf_counter() - t0
    assert r.status_code == 201, r.text
    a = check_answer(r.json(), 0.72)
    assert r.headers["location"] == a.whatif_plan_url
    base = Plan.model_validate(solver_client.get(a.base_plan_url).json())
    assert base.target == pytest.approx(0.70) and base.scenario_id == BUNDLED
    assert a.comparison.cost_delta_cny == pytest.approx(a.whatif.objective_cny - base.objective_cny)
    assert a.comparison.cost_delta_cny > 0  # a higher target costs more
    # (b) more sand-line capacity at the base's own target: same base plan, warm what-if
    t0 = time.perf_counter()
    r = whatif(solver_client, ex.WHATIF_REQUEST_CAPACITY)
    seconds_b = time.perf_counter() - t0
    assert r.status_code == 201, r.text
    b = check_answer(r.json(), 0.70)
    assert b.base_plan_id == a.base_plan_id
    assert b.solve.warm and b.solve.session_reused and not b.solve.reused
    assert b.comparison.cost_delta_cny < 0  # more capacity of a paying outlet saves money
    assert any(c.destination == "R06" and c.delta_t > 0 for c in b.comparison.flows)
    # answered well within a second each on a warm server (generous bound for shared CI)
    assert seconds_a < 5 and seconds_b < 5, (seconds_a, seconds_b)
    # the what-if plan is a plan like any other: views work on it
    plan = Plan.model_validate(solver_client.get(b.whatif_plan_url).json())
    assert plan == b.whatif
    assert solver_client.get(b.whatif_plan_url + "/sankey").json() == sankey_data(plan, lang="en")
    assert solver_client.get(b.whatif_plan_url + "/bottlenecks").json()["total"] == len(plan.bottlenecks)


def test_what_ifs_of_one_base_re_solve_warm_and_identical_ones_are_reused(solver_client):
    first = whatif(solver_client, {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_200_000}], "target": 0.705})
    assert first.status_code == 201, first.text
    second = whatif(solver_client, {"scenario_id": BUNDLED, "changes": [{"scale": R06, "factor": 1.1}, {"scale": "projects.R01.processing_cost_cny_per_t", "factor": 1.2}], "target": 0.71})
    assert second.status_code == 201, second.text
    a, b = check_answer(first.json(), 0.705), check_answer(second.json(), 0.71)
    assert b.solve.warm and b.solve.session_reused and b.solve.simplex_iterations is not None
    assert 0 < b.solve.lp_seconds <= b.solve.seconds < 5
    assert a.base_plan_id == b.base_plan_id and a.whatif_plan_id != b.whatif_plan_id
    again = whatif(solver_client, {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_200_000}], "target": 0.705})
    assert again.status_code == 200 and again.json() == first.json()


@pytest.mark.parametrize(
    "changes",
    [
        [{"set": R06, "value": 3_200_000}],  # an int where the schema has a float
        [{"scale": R06, "factor": 1.1}, {"scale": "projects.R01.processing_cost_cny_per_t", "factor": 1.2}],
        [{"set": "policy.target_rate", "value": 0.6}, {"disable": "projects.R07"}],
        [{"remove": "projects.R12"}],
        [{"scale": "streams.W03.generation_t", "factor": 0.9}, {"set": "streams.W03.name_en", "value": "Tailings"}],
    ],
)
def test_the_api_what_if_scenario_is_the_librarys(changes):
    # the API validates once (strict JSON types, then the cross-record checks); the library's
    # apply_overrides validates laxly on its own: both must give the same scenario
    from api.whatifs import whatif_scenario
    from flowopt.bundled import default_data_dir
    from flowopt.io import load_scenario
    from flowopt.overrides import Overrides, apply_overrides

    base = load_scenario(default_data_dir())
    req = WhatIfCreate.model_validate({"scenario_id": BUNDLED, "changes": changes, "id": "wi", "description": "d"})
    ours = whatif_scenario(base, req)
    theirs = apply_overrides(base, Overrides.model_validate({"id": "wi", "description": "d", "changes": changes}))
    assert ours.model_dump(mode="json") == theirs.model_dump(mode="json")
    assert ours.model_dump(mode="json") != base.model_dump(mode="json")


def test_repeated_what_ifs_are_prepared_once_and_kept_apart(solver_client):
    service = solver_client.app.state.service
    body = {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_150_000}], "target": 0.702}
    first = whatif(solver_client, body)
    kept = len(service._whatifs)
    again = whatif(solver_client, {**body, "target": 0.703})  # same changes: the kept scenario
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert len(service._whatifs) == kept
    # other changes or another id are another what-if, never the kept one
    other = whatif(solver_client, {**body, "changes": [{"set": R06, "value": 3_160_000}]})
    named = whatif(solver_client, {**body, "id": "named_wi"})
    assert len(service._whatifs) == kept + 2
    assert check_answer(other.json(), 0.702).whatif_plan_id != check_answer(first.json(), 0.702).whatif_plan_id
    assert named.json()["whatif"]["scenario_id"] == "named_wi" and first.json()["whatif"]["scenario_id"] != "named_wi"


def test_a_what_if_plan_is_the_plan_of_the_same_request(solver_client):
    # a plain plan at 0.715 first: the what-if "base at 0.715" reuses it and solves nothing
    plan = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.715})
    assert plan.status_code in (200, 201)
    r = whatif(solver_client, {"scenario_id": BUNDLED, "changes": [], "target": 0.715})
    assert r.status_code == 201, r.text
    res = check_answer(r.json(), 0.715)
    assert res.whatif_plan_url == plan.headers["location"]
    assert res.solve.reused and not res.solve.warm and res.solve.seconds == 0
    # and the base plan is the one POST /v1/plans gives for the base at its own target
    base = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED})
    assert base.status_code == 200 and base.headers["location"] == res.base_plan_url


def test_inline_base_with_id_and_description(solver_client):
    r = whatif(solver_client, ex.WHATIF_REQUEST_INLINE)
    assert r.status_code == 201, r.text
    res = check_answer(r.json(), 0.62)
    assert res.whatif.scenario_id == "example_more_bricks"
    assert Plan.model_validate(solver_client.get(res.base_plan_url).json()).scenario_id == "example_park"
    # a structural change (a project removed) is solved cold, the session stays for the next
    cold = whatif(solver_client, {"scenario": ex.EXAMPLE_SCENARIO, "changes": [{"remove": "projects.Q"}], "target": 0.3})
    assert cold.status_code == 201, cold.text
    assert not check_answer(cold.json(), 0.3).solve.warm


def test_infeasible_what_if_is_422_with_diagnosis_and_keeps_the_base_plan(solver_client):
    body = {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 2_000_000}], "target": 0.74}
    r = whatif(solver_client, body)
    doc = assert_problem(r, 422, "infeasible")
    diag = doc["diagnosis"]
    assert diag["target"] == 0.74 and 0.5 < diag["max_rate"] < 0.74 and diag["statement"] == doc["detail"]
    assert doc["failed_plan"] == "whatif" and doc["instance"] == "/v1/whatifs"
    job = solver_client.get(f"/v1/jobs/{doc['job_id']}").json()
    assert job["kind"] == "whatif" and job["status"] == "failed" and job["error"]["code"] == "infeasible"
    # the base plan solved on the way is stored, and POST /v1/plans reuses it, also under an
    # Idempotency-Key (whose record then points at the failed what-if job)
    key = uuid.uuid4().hex
    base = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED}, headers={"Idempotency-Key": key})
    assert base.status_code == 200, base.text
    retry = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED}, headers={"Idempotency-Key": key})
    assert retry.status_code == 200 and retry.headers["location"] == base.headers["location"]


def test_a_base_without_a_plan_is_422_naming_the_base(solver_client):
    base = {**ex.EXAMPLE_SCENARIO, "id": "example_too_ambitious", "policy": {"target_rate": 0.9}}
    doc = assert_problem(whatif(solver_client, {"scenario": base, "changes": [], "target": 0.5}), 422, "infeasible")
    assert doc["failed_plan"] == "base" and doc["diagnosis"]["target"] == 0.9
    assert doc["detail"].startswith("The base scenario has no plan at its own target")


def test_idempotency_key(solver_client):
    key = uuid.uuid4().hex
    body = {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_100_000}], "target": 0.702}
    first = whatif(solver_client, body, **{"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    before = solver_client.get("/v1/plans").json()["total"]
    retry = whatif(solver_client, body, **{"Idempotency-Key": key})
    assert retry.status_code == 200 and retry.json() == first.json()
    assert solver_client.get("/v1/plans").json()["total"] == before
    other = whatif(solver_client, {**body, "target": 0.703}, **{"Idempotency-Key": key})
    assert_problem(other, 422, "idempotency_key_reused")


def test_respond_async_gives_a_whatif_job(solver_client):
    body = {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_300_000}], "target": 0.708}
    r = whatif(solver_client, body, Prefer="respond-async")
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "whatif" and r.headers["location"] == job["url"] and job["target"] == 0.708
    done = poll(solver_client, job["url"])
    assert done["status"] == "succeeded" and done["plan_url"] == done["result"]["whatif_plan_url"]
    res = check_answer(done["result"], 0.708)
    assert res.job_id == job["id"]
    assert whatif(solver_client, body).json() == done["result"]


#: Bad what-ifs: (id, body or raw bytes, status, code, pointers that must be reported).
BAD_WHATIFS = [
    ("unknown_id", {"scenario_id": BUNDLED, "changes": [{"set": "projects.R99.capacity_t", "value": 1}]}, 422, "input_invalid", ["/changes/0/set"]),
    ("unknown_field", {"scenario_id": BUNDLED, "changes": [{"set": "projects.R06.capacity", "value": 1}]}, 422, "input_invalid", ["/changes/0/set"]),
    ("unknown_table", {"scenario_id": BUNDLED, "changes": [{"add": "factories", "record": {"id": "F"}}]}, 422, "input_invalid", ["/changes/0/add"]),
    ("string_factor", {"scenario_id": BUNDLED, "changes": [{"scale": R06, "factor": "2"}]}, 422, "input_invalid", ["/changes/0/factor"]),
    ("string_value", {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": "3500000"}]}, 422, "input_invalid", ["/changes/0/value"]),
    ("negative_value", {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": -1}]}, 422, "input_invalid", ["/changes/0/value"]),
    ("huge_value", {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 1e20}]}, 422, "input_invalid", ["/changes/0/value"]),
    ("target_setting", {"scenario_id": BUNDLED, "changes": [{"set": "policy.target_rate", "value": 1.5}]}, 422, "input_invalid", ["/changes/0/value"]),
    ("two_operations", {"scenario_id": BUNDLED, "changes": [{"set": R06, "scale": R06, "value": 1}]}, 422, "input_invalid", ["/changes/0"]),
    ("set_without_value", {"scenario_id": BUNDLED, "changes": [{"set": R06}]}, 422, "input_invalid", ["/changes/0"]),
    ("misspelt_key", {"scenario_id": BUNDLED, "changes": [{"sett": R06, "value": 1}]}, 422, "input_invalid", ["/changes/0/sett"]),
    ("change_not_object", {"scenario_id": BUNDLED, "changes": ["projects.R06.capacity_t=1"]}, 422, "input_invalid", ["/changes/0"]),
    ("added_record_bad", {"scenario_id": BUNDLED, "changes": [{"add": "projects", "record": {"id": "R13", "site": "N08", "capacity_t": -5, "product_fraction": 1}}]}, 422, "input_invalid", ["/changes/0/record/capacity_t"]),
    ("moved_to_unknown_site", {"scenario_id": BUNDLED, "changes": [{"set": "projects.R06.site", "value": "N99"}]}, 422, "input_invalid", ["/changes/0/value"]),
    ("nan_value", b'{"scenario_id": "panzhihua_east_2025", "changes": [{"set": "projects.R06.capacity_t", "value": NaN}]}', 422, "input_invalid", ["/changes/0/value"]),
    ("too_many_changes", {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 1}] * (MAX_CHANGES + 1)}, 422, "input_invalid", ["/changes"]),
    ("bad_target", {"scenario_id": BUNDLED, "changes": [], "target": 1.2}, 422, "input_invalid", ["/target"]),
    ("bad_id", {"scenario_id": BUNDLED, "changes": [], "id": "9lives"}, 422, "input_invalid", ["/id"]),
    ("no_source", {"changes": []}, 422, "input_invalid", [""]),
    ("unknown_scenario", {"scenario_id": "no_such_park", "changes": []}, 404, "not_found", ["/scenario_id"]),
    ("inline_invalid", {"scenario": {**ex.EXAMPLE_SCENARIO, "sinks": []}, "changes": []}, 422, "input_invalid", ["/scenario/accepts/1/outlet"]),
    ("malformed", b'{"scenario_id": "panzhihua_east_2025", "changes": [}', 400, "json_invalid", []),
    # every problem at once, each at its change
    (
        "several",
        {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_500_000}, {"set": "projects.R99.capacity_t", "value": 1}, {"scale": "projects.R01.capacity_t", "factor": "2"}, {"set": "projects.R02.capacity_t", "value": -3}, {"disable": "quality.R02"}]},
        422,
        "input_invalid",
        ["/changes/1/set", "/changes/2/factor", "/changes/3/value", "/changes/4/disable"],
    ),
]


@pytest.mark.parametrize(("name", "body", "status", "code", "pointers"), BAD_WHATIFS, ids=[b[0] for b in BAD_WHATIFS])
def test_bad_what_ifs_are_4xx_with_every_problem_located(solver_client, name, body, status, code, pointers):
    if isinstance(body, bytes):
        r = solver_client.post("/v1/whatifs", content=body, headers={"Content-Type": "application/json"})
    else:
        r = whatif(solver_client, body)
    doc = assert_problem(r, status, code)
    found = [p["pointer"] for p in doc.get("problems") or []]
    for pointer in pointers:
        assert pointer in found, (pointer, doc)
    if name == "several":
        assert len(doc["problems"]) == 4 and [p["row"] for p in doc["problems"][:3]] == [2, 3, 5]


def test_bad_what_ifs_store_nothing(solver_client):
    plans = solver_client.get("/v1/plans").json()["total"]
    for _, body, *_ in BAD_WHATIFS:
        if isinstance(body, dict):
            assert whatif(solver_client, body).status_code >= 400
    assert solver_client.get("/v1/plans").json()["total"] == plans


# ---------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------


def test_sweep_of_the_bundled_park(solver_client):
    r = solver_client.post("/v1/sweeps", json=ex.SWEEP_REQUEST)
    assert r.status_code == 201, r.text
    curve = CostCurve.model_validate(r.json())
    assert 0.72 < curve.max_rate < 0.75
    assert curve.breakpoints and all(0.5 <= b <= curve.max_rate for b in curve.breakpoints)
    assert len(curve.segments) == len(curve.breakpoints) + 1
    targets = [p.target for p in curve.points]
    assert targets == sorted(targets) and targets[0] == 0.5 and targets[-1] == pytest.approx(curve.max_rate)
    costs = [p.objective_cny for p in curve.points]
    assert all(b >= a - 1e-6 * abs(a) for a, b in itertools.pairwise(costs))  # a higher target never costs less
    job_url = r.headers["location"]
    assert job_url.startswith("/v1/jobs/")
    job = solver_client.get(job_url).json()
    assert job["kind"] == "sweep" and job["target"] is None and job["result"] == r.json()
    again = solver_client.post("/v1/sweeps", json=ex.SWEEP_REQUEST)
    assert again.status_code == 200 and again.json() == r.json() and again.headers["location"] == job_url


def test_sweep_above_the_reachable_rate_is_an_empty_curve(solver_client):
    r = solver_client.post("/v1/sweeps", json={"scenario_id": BUNDLED, "from": 0.8, "to": 0.9})
    assert r.status_code == 201, r.text
    curve = CostCurve.model_validate(r.json())
    assert curve.points == [] and curve.max_rate < 0.8


def test_sweep_respond_async_and_idempotency(solver_client):
    key = uuid.uuid4().hex
    body = {"scenario": ex.EXAMPLE_SCENARIO, "from": 0.2, "to": 0.6, "step": 0.05}
    r = solver_client.post("/v1/sweeps", json=body, headers={"Prefer": "respond-async", "Idempotency-Key": key})
    assert r.status_code == 202, r.text
    done = poll(solver_client, r.headers["location"])
    assert done["status"] == "succeeded" and done["kind"] == "sweep"
    retry = solver_client.post("/v1/sweeps", json=body, headers={"Idempotency-Key": key})
    assert retry.status_code == 200 and retry.json() == done["result"]
    assert_problem(solver_client.post("/v1/sweeps", json={**body, "step": 0.1}, headers={"Idempotency-Key": key}), 422, "idempotency_key_reused")


BAD_SWEEPS = [
    ("reversed", {"scenario_id": BUNDLED, "from": 0.9, "to": 0.5}, "/to"),
    ("too_many_points", {"scenario_id": BUNDLED, "from": 0.0, "to": 1.0, "step": 0.001}, "/step"),
    ("zero_step", {"scenario_id": BUNDLED, "from": 0.5, "to": 0.9, "step": 0}, "/step"),
    ("negative_from", {"scenario_id": BUNDLED, "from": -0.1, "to": 0.9}, "/from"),
    ("to_above_one", {"scenario_id": BUNDLED, "from": 0.5, "to": 1.5}, "/to"),
    ("missing_to", {"scenario_id": BUNDLED, "from": 0.5}, "/to"),
    ("string_from", {"scenario_id": BUNDLED, "from": "0.5", "to": 0.9}, "/from"),
    ("unknown_field", {"scenario_id": BUNDLED, "from": 0.5, "to": 0.9, "target": 0.7}, "/target"),
    ("both_sources", {"scenario_id": BUNDLED, "scenario": ex.EXAMPLE_SCENARIO, "from": 0.5, "to": 0.9}, ""),
    ("nan_step", b'{"scenario_id": "panzhihua_east_2025", "from": 0.5, "to": 0.9, "step": NaN}', "/step"),
]


@pytest.mark.parametrize(("name", "body", "pointer"), BAD_SWEEPS, ids=[b[0] for b in BAD_SWEEPS])
def test_bad_sweeps_are_422_located(solver_client, name, body, pointer):
    if isinstance(body, bytes):
        r = solver_client.post("/v1/sweeps", content=body, headers={"Content-Type": "application/json"})
    else:
        r = solver_client.post("/v1/sweeps", json=body)
    doc = assert_problem(r, 422, "input_invalid")
    assert pointer in [p["pointer"] for p in doc["problems"]], doc


def test_sweep_of_an_unknown_scenario_is_404(solver_client):
    doc = assert_problem(solver_client.post("/v1/sweeps", json={"scenario_id": "no_such_park", "from": 0.5, "to": 0.9}), 404, "not_found")
    assert doc["problems"][0]["pointer"] == "/scenario_id"


def test_writes_need_a_key(solver_client):
    for path, body in (("/v1/whatifs", ex.WHATIF_REQUEST_TARGET), ("/v1/sweeps", ex.SWEEP_REQUEST)):
        assert_problem(solver_client.post(path, json=body, headers={"X-API-Key": ""}), 401, "api_key_missing")


# ---------------------------------------------------------------------------------------------
# OpenAPI examples of the new operations
# ---------------------------------------------------------------------------------------------


def _request_examples(path: str) -> dict:
    return SPEC["paths"][path]["post"]["requestBody"]["content"]["application/json"]["examples"]


def test_openapi_examples_are_valid_and_answered(solver_client):
    for path, model in (("/v1/whatifs", WhatIfCreate), ("/v1/sweeps", SweepCreate)):
        examples = _request_examples(path)
        assert examples
        for name, example in examples.items():
            model.model_validate(example["value"])
            r = solver_client.post(path, json=copy.deepcopy(example["value"]))
            assert r.status_code in (200, 201), (path, name, r.text)
        responses = SPEC["paths"][path]["post"]["responses"]
        assert {"200", "201", "202", "401", "404", "413", "422", "429", "503"} <= set(responses)
        for status in ("200", "201"):
            for example in responses[status]["content"]["application/json"]["examples"].values():
                example = SPEC["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
                if path == "/v1/whatifs":
                    res = WhatIfResult.model_validate(example["value"])
                    assert res.whatif.audit.passed and isinstance(res.comparison, Comparison)
                else:
                    assert CostCurve.model_validate(example["value"]).breakpoints
    for name, kind in (("JobWhatIfSucceeded", WhatIfResult), ("JobSweepSucceeded", CostCurve)):
        assert isinstance(JobPublic.model_validate(SPEC["components"]["examples"][name]["value"]).result, kind)
    # the inline what-if example's answer is what the server gives for it (ids and times aside)
    answer = solver_client.post("/v1/whatifs", json=ex.WHATIF_REQUEST_INLINE).json()
    example = ex.whatif_example()
    for got, want in zip(answer["comparison"]["kpis"], example["comparison"]["kpis"], strict=True):
        assert got["metric"] == want["metric"] and got["whatif"] == pytest.approx(want["whatif"], rel=1e-9), got
    assert [(f["stream"], f["destination"]) for f in answer["whatif"]["flows"]] == [(f["stream"], f["destination"]) for f in example["whatif"]["flows"]]
    assert [f["tonnes"] for f in answer["whatif"]["flows"]] == pytest.approx([f["tonnes"] for f in example["whatif"]["flows"]])
    assert solver_client.post("/v1/sweeps", json=ex.SWEEP_REQUEST_INLINE).json() == ex.curve_example()


def test_a_base_left_out_is_asked_for_when_its_session_is_gone(solver_client):
    # the pool sends a what-if's base only to a process that does not hold its session yet;
    # a process that dropped the session (least recently used) asks for it, and the answer is
    # the same as with the base sent
    from api.worker import MAX_SESSIONS

    def inline(i: int, target: float) -> dict:
        return {"scenario": {**ex.EXAMPLE_SCENARIO, "id": f"base_{i}"}, "changes": [], "target": target}

    first = whatif(solver_client, inline(0, 0.5))
    assert first.status_code == 201, first.text
    slot = solver_client.app.state.service.pool._slots[0]
    assert first.json()["base_plan_id"] and len(slot.bases) >= 1
    for i in range(1, MAX_SESSIONS + 1):  # more bases than one process keeps
        assert whatif(solver_client, inline(i, 0.5)).status_code == 201
    again = whatif(solver_client, inline(0, 0.45))  # base_0's session was dropped
    assert again.status_code == 201, again.text
    res = check_answer(again.json(), 0.45)
    assert res.base_plan_id == first.json()["base_plan_id"] and not res.solve.session_reused


def test_the_worker_asks_for_a_base_it_does_not_hold():
    from api import worker

    spec = {"base_sha": "0" * 64, "base": None, "need_base": False, "need_whatif": True, "whatif_doc": "{}", "target": 0.5}
    assert worker.whatif(spec, 5.0) == (worker.NEED_BASE, None)


def test_kept_what_ifs_are_bounded_in_size(solver_client, monkeypatch):
    # a large inline scenario's what-if is not kept beyond the size budget
    import api.service as service_module

    service = solver_client.app.state.service
    service._whatifs.clear()
    monkeypatch.setattr(service_module, "_WHATIF_MEMO_CHARS", 8 * 10_000)  # documents above 10,000 characters are not kept
    big = whatif(solver_client, {"scenario_id": BUNDLED, "changes": [{"set": R06, "value": 3_170_000}], "target": 0.701})
    assert big.status_code == 201 and len(service._whatifs) == 0  # the bundled park's document is larger
    small = whatif(solver_client, {"scenario": ex.EXAMPLE_SCENARIO, "changes": [], "target": 0.5})
    assert small.status_code == 201 and len(service._whatifs) == 1
