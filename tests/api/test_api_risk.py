"""Risk over HTTP (``POST /v1/risks``) with a real solver process.

The answer is the document ``flowopt risk --json`` prints (without the per-sample rows unless
asked for); the tests compare the two, follow a job's progress, and locate bad input.
"""

from __future__ import annotations

import copy
import json
import time

import pytest
from api_support import BUNDLED, assert_problem

from api import examples as ex
from api.openapi import OPENAPI_PATH
from api.schemas import JobPublic
from flowopt.checks import validated
from flowopt.risk import RiskResult, run_risk

SPEC = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def poll(client, url: str, timeout: float = 120.0) -> tuple[dict, list[dict]]:
    """The finished job and every progress report seen while it ran."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job.get("progress"):
            seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed"):
            return job, seen
        time.sleep(0.02)
    pytest.fail(f"job {url} did not finish in {timeout} s")


def _library(req: dict) -> RiskResult:
    return run_risk(validated(req["scenario"]), target=req.get("target"), samples=req["samples"], seed=req["seed"], tolerance=req["tolerance"], workers=1)


def test_inline_risk_equals_the_library(solver_client):
    req = ex.RISK_REQUEST_INLINE
    r = solver_client.post("/v1/risks", json=req, headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    job, _ = poll(solver_client, r.headers["location"])
    assert job["status"] == "succeeded" and job["kind"] == "risk" and job["target"] == req["target"]
    JobPublic.model_validate(job)
    doc = job["result"]
    lib = _library(req)
    assert doc["probability"] == lib.probability.model_dump(mode="json")
    assert doc["max_rate"] == lib.max_rate.model_dump(mode="json") and doc["cost"] == lib.cost.model_dump(mode="json")
    assert [b["driver"] for b in doc["tornado"]] == [b.driver for b in lib.tornado]
    assert doc["rows"] == []  # only when asked for
    again = solver_client.post("/v1/risks", json=req)
    assert again.status_code == 200 and again.json() == doc and again.headers["location"] == r.headers["location"]


def test_rows_when_asked_for(solver_client):
    req = {**ex.RISK_REQUEST_INLINE, "samples": 10, "rows": True}
    r = solver_client.post("/v1/risks", json=req)
    if r.status_code == 202:
        job, _ = poll(solver_client, r.headers["location"])
        doc = job["result"]
    else:
        assert r.status_code == 201, r.text
        doc = r.json()
    assert len(doc["rows"]) == 10 and {"index", "status", "max_rate", "values", "draws"} <= set(doc["rows"][0])
    RiskResult.model_validate(doc)


@pytest.mark.slow
def test_the_bundled_park_reports_progress_while_it_runs(solver_client):
    r = solver_client.post("/v1/risks", json={"scenario_id": BUNDLED, "samples": 320, "seed": 3, "tolerance": 0}, headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    job, seen = poll(solver_client, r.headers["location"])
    assert job["status"] == "succeeded", job["error"]
    doc = job["result"]
    assert doc["samples"] == 320 and doc["failed"] == 0 and doc["scenario_id"] == BUNDLED
    p = doc["probability"]
    assert p["low"] <= p["estimate"] <= p["high"] and p["n"] == 320
    assert seen, "no progress was reported while the job ran"
    assert all(0 < s["done"] <= s["total"] == 320 for s in seen)
    assert [s["done"] for s in seen] == sorted(s["done"] for s in seen)
    assert "progress" not in job  # gone once the job is done


def _scenario_with(rows: list[dict]) -> dict:
    s = copy.deepcopy(ex.EXAMPLE_RISK_SCENARIO)
    s["uncertainty"] = rows
    return s


def test_a_bad_uncertainty_row_is_located_by_its_pointer(quiet_client):
    # a row's own error (low above high): found when the scenario is read
    bad = _scenario_with([{"id": "G", "path": "streams.s1.generation_t", "distribution": "uniform", "low": 130, "high": 80, "source": "t"}])
    doc = assert_problem(quiet_client.post("/v1/risks", json={"scenario": bad}), 422, "input_invalid")
    assert [(p["table"], p["row"], p["column"], p["pointer"]) for p in doc["problems"]] == [("uncertainty", 1, "low", "/scenario/uncertainty/0/low")]
    # a row naming a record that does not exist: a warning when read, an error for a risk run
    missing = _scenario_with([{"id": "G", "path": "streams.s1.generation_t", "distribution": "uniform", "low": 80, "high": 130, "source": "t"},
                              {"id": "Z", "path": "projects.ZZ.capacity_t", "distribution": "uniform", "low": 1, "high": 2, "source": "t"}])
    doc = assert_problem(quiet_client.post("/v1/risks", json={"scenario": missing}), 422, "input_invalid")
    assert [(p["row"], p["column"], p["pointer"]) for p in doc["problems"]] == [(2, "path", "/scenario/uncertainty/1/path")]
    assert "ZZ" in doc["problems"][0]["message"]


def test_a_scenario_without_uncertain_inputs_is_refused(quiet_client):
    doc = assert_problem(quiet_client.post("/v1/risks", json={"scenario": ex.EXAMPLE_SCENARIO}), 422, "input_invalid")
    assert doc["problems"][0]["table"] == "uncertainty" and "no uncertain inputs" in doc["detail"]


@pytest.mark.parametrize(("body", "pointer"), [
    ({"scenario_id": BUNDLED, "samples": 0}, "/samples"),
    ({"scenario_id": BUNDLED, "samples": 2001}, "/samples"),
    ({"scenario_id": BUNDLED, "method": "halton"}, "/method"),
    ({"scenario_id": BUNDLED, "tolerance": 2}, "/tolerance"),
    ({"scenario_id": BUNDLED, "seed": -1}, "/seed"),
    ({"scenario_id": BUNDLED, "samples": "100"}, "/samples"),
])
def test_bad_request_fields_are_located(quiet_client, body, pointer):
    doc = assert_problem(quiet_client.post("/v1/risks", json=body), 422, "input_invalid")
    assert pointer in [p["pointer"] for p in doc["problems"]]


def test_the_operation_is_documented_with_its_examples():
    op = SPEC["paths"]["/v1/risks"]["post"]
    assert op["operationId"] == "createRisk" and op["tags"] == ["risk"]
    examples = op["requestBody"]["content"]["application/json"]["examples"]
    assert examples["inline"]["value"] == ex.RISK_REQUEST_INLINE and examples["stored"]["value"] == ex.RISK_REQUEST_STORED
    RiskResult.model_validate(SPEC["components"]["examples"]["Risk"]["value"])
    JobPublic.model_validate(ex.job_example("running", "risk"))
    # the example answer is the library's answer to the example request (times aside)
    lib = _library(ex.RISK_REQUEST_INLINE).summary()
    want = SPEC["components"]["examples"]["Risk"]["value"]
    assert {k: v for k, v in want.items() if k != "seconds"} == {**{k: v for k, v in lib.items() if k != "seconds"}, "rows": []}


# ---------------------------------------------------------------------------------------------
# The viewer's risk panel, in headless Chromium (skipped when it is not installed)
# ---------------------------------------------------------------------------------------------

from test_viewer import (  # noqa: E402
    assert_clean,
    assert_not_blank,
    chromium_browser,
    needs_chromium,
    page_server,
    settled,
)


@pytest.fixture(scope="module")
def risk_server(tmp_path_factory):
    with page_server(tmp_path_factory, "risk-viewer") as srv:
        yield srv


@pytest.fixture(scope="module")
def risk_browser(tmp_path_factory):
    with chromium_browser(tmp_path_factory, "chromium-risk") as chrome:
        yield chrome


@needs_chromium
@pytest.mark.slow
def test_the_viewer_shows_the_probability_and_the_tornado(risk_server, risk_browser):
    from api_support import KEY

    page = risk_browser.new_page()
    page.goto(risk_server.url + "/")
    page.js(f"localStorage.setItem('flowopt.apiKey', {json.dumps(KEY)})")
    page.goto(risk_server.url + "/")
    settled(page, "the base plan", "app.dataset.state === 'ready'")
    assert page.js("document.getElementById('risk-run').textContent") == "Estimate the probability of 70.0%"
    page.click("#risk-run")
    page.wait_for("!document.getElementById('risk-result').hidden", "the risk result", 180)
    shown = page.js("""(() => ({p: document.getElementById('risk-p').textContent, label: document.getElementById('risk-label').textContent,
      interval: document.getElementById('risk-interval').textContent, raw: document.getElementById('risk-result').dataset.probability,
      bars: Array.from(document.querySelectorAll('#risk-tornado .risk-bar')).map(b => b.dataset.driver),
      status: document.getElementById('risk-status').textContent}))()""")
    # the page shows what the API answers for the same request (now stored: 200)
    with risk_server.client(timeout=60) as c:
        r = c.post("/v1/risks", json={"scenario_id": BUNDLED, "samples": 256, "seed": 0, "target": 0.7})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert float(shown["raw"]) == doc["probability"]["estimate"]
    assert shown["p"] == f"{doc['probability']['estimate'] * 100:.1f}%" and shown["label"] == "Probability that 70.0% is reachable"
    assert "95 % interval" in shown["interval"] and f"{doc['probability']['n']} samples" in shown["interval"]
    assert shown["bars"] == [b["driver"] for b in doc["tornado"] if b["low_rate"] is not None][:6] and len(shown["bars"]) >= 3
    assert shown["status"] == ""
    polled = [e["response"]["url"] for e in page.events("Network.responseReceived") if "/v1/jobs/" in e["response"]["url"]]
    assert polled, "the page did not follow the risk job"
    assert_not_blank(page.screenshot("viewer-risk-en.png"))
    page.click("#lang-zh")
    page.wait_for("document.getElementById('risk-label').textContent.indexOf('概率') >= 0", "the Chinese risk panel", 20)
    assert page.js("document.getElementById('risk-interval').textContent").startswith("95% 区间")
    assert_clean(page, risk_server)
