"""The checked-in OpenAPI description: in sync with the code, with examples everywhere."""

from __future__ import annotations

import json

import pytest

from api.errors import ERRORS, PROBLEM_JSON
from api.examples import EXAMPLE_SCENARIO, example_plan
from api.openapi import OPENAPI_PATH, generate
from flowopt.checks import validated
from flowopt.results import Plan

SPEC = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
OPERATIONS = [(path, method, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()]


def test_checked_in_openapi_is_up_to_date():
    assert OPENAPI_PATH.read_text(encoding="utf-8") == generate(), "api/openapi.json is out of date; run: python -m api.openapi"


def test_every_endpoint_of_the_issue_is_there():
    have = {(m.upper(), p) for p, m, _ in OPERATIONS}
    assert have == {
        ("GET", "/v1/health"), ("GET", "/v1/ready"),
        ("GET", "/v1/scenarios"), ("GET", "/v1/scenarios/{scenario_id}"), ("POST", "/v1/scenarios"), ("POST", "/v1/scenarios/validate"),
        ("POST", "/v1/plans"), ("GET", "/v1/plans"), ("GET", "/v1/plans/{plan_id}"), ("GET", "/v1/plans/{plan_id}/bottlenecks"),
        ("GET", "/v1/plans/{plan_id}/flows"), ("GET", "/v1/plans/{plan_id}/sankey"), ("GET", "/v1/jobs/{job_id}"),
        ("POST", "/v1/whatifs"), ("POST", "/v1/sweeps"), ("GET", "/v1/plans/{plan_id}/sankey.svg"),
        ("POST", "/v1/investments"),  # issue 12
        ("POST", "/v1/risks"),  # issue 13
    }  # fmt: skip


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_is_documented_with_examples(path, method, op):
    assert op["operationId"] and op["summary"] and op["tags"]
    success = {s: r for s, r in op["responses"].items() if s.startswith("2")}
    assert success
    for status, response in op["responses"].items():
        (media, content), *_ = response["content"].items()
        assert content.get("examples") or content.get("example"), (status, media)
        if not status.startswith("2"):
            assert media == PROBLEM_JSON
            for name in content["examples"]:
                assert ERRORS[name].status == int(status)
    if "requestBody" in op:
        assert op["requestBody"]["content"]["application/json"]["examples"]
    if method == "post":
        assert op["security"] == [{"ApiKey": []}]
        assert "401" in op["responses"] and "413" in op["responses"]


def test_examples_are_valid_documents():
    assert validated(EXAMPLE_SCENARIO).id == "example_park"
    plan = Plan.model_validate(example_plan())
    assert plan.audit.passed
    assert SPEC["components"]["examples"]["Plan"]["value"] == example_plan()


def test_openapi_served_by_the_app_matches(quiet_client):
    served = quiet_client.get("/openapi.json").json()
    assert served == SPEC
