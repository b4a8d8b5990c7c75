"""API keys, keyed reads, open mode, CORS, and keys never reaching logs or answers."""

from __future__ import annotations

import logging

import pytest
from api_support import KEY, KEY2, assert_problem, make_client

from api.examples import EXAMPLE_SCENARIO


def test_writes_need_a_valid_key(quiet_client):
    anonymous = {"X-API-Key": ""}
    r = quiet_client.post("/v1/scenarios/validate", json=EXAMPLE_SCENARIO, headers=anonymous)
    assert_problem(r, 401, "api_key_missing")
    assert r.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'
    r = quiet_client.post("/v1/plans", json={"scenario_id": "panzhihua_east_2025"}, headers={"X-API-Key": KEY + "x"})
    assert_problem(r, 401, "api_key_invalid")
    # the key is checked before the body is even read
    r = quiet_client.post("/v1/scenarios", content=b"{broken", headers={"X-API-Key": "wrong-key-000000000", "Content-Type": "application/json"})
    assert_problem(r, 401, "api_key_invalid")
    for key in (KEY, KEY2):  # several keys, for rotation
        assert quiet_client.post("/v1/scenarios/validate", json=EXAMPLE_SCENARIO, headers={"X-API-Key": key}).status_code == 200
    # a key in the query string is not a key
    r = quiet_client.post(f"/v1/scenarios/validate?X-API-Key={KEY}", json=EXAMPLE_SCENARIO, headers=anonymous)
    assert_problem(r, 401, "api_key_missing")


def test_reads_are_open_by_default(quiet_client):
    for path in ("/v1/scenarios", "/v1/plans", "/v1/health", "/openapi.json"):
        assert quiet_client.get(path, headers={"X-API-Key": ""}).status_code == 200, path


def test_reads_can_require_a_key(tmp_path):
    with make_client(tmp_path, warm_workers=False, read_requires_key=True) as client:
        for path in ("/v1/scenarios", "/v1/plans", "/v1/scenarios/panzhihua_east_2025", f"/v1/jobs/{'0' * 32}"):
            assert_problem(client.get(path, headers={"X-API-Key": ""}), 401, "api_key_missing")
        assert client.get("/v1/scenarios").status_code == 200
        for path in ("/v1/health", "/v1/ready"):
            assert client.get(path, headers={"X-API-Key": ""}).status_code in (200, 503)
        health = client.get("/v1/health").json()
        assert health["reads_need_key"] and health["writes_need_key"]
        spec = client.get("/openapi.json").json()
        assert spec["paths"]["/v1/plans"]["get"]["security"] == [{"ApiKey": []}]


def test_without_keys_writes_are_open(tmp_path):
    with make_client(tmp_path, warm_workers=False, api_keys=()) as client:
        r = client.post("/v1/scenarios", json=EXAMPLE_SCENARIO, headers={"X-API-Key": ""})
        assert r.status_code == 201
        assert client.get("/v1/health").json()["writes_need_key"] is False


def test_keys_never_reach_logs_or_answers(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with make_client(tmp_path, warm_workers=False) as client:
        answers = [
            client.post("/v1/scenarios/validate", json=EXAMPLE_SCENARIO).text,
            client.post("/v1/scenarios/validate", json={"id": 3}, headers={"X-API-Key": KEY2}).text,
            client.get("/v1/health").text,
            client.post("/v1/plans", json={"scenario_id": "nope"}, headers={"X-API-Key": KEY + "-wrong"}).text,
        ]
    for text in [*answers, caplog.text]:
        assert KEY not in text and KEY2 not in text


@pytest.mark.parametrize("origin", ["https://dashboard.example.cn", "http://localhost:5173"])
def test_cors_allows_only_listed_origins(tmp_path, origin):
    allowed = ("https://dashboard.example.cn", "http://localhost:5173")
    with make_client(tmp_path, warm_workers=False, cors_origins=allowed) as client:
        pre = client.options("/v1/plans", headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key, Content-Type, Idempotency-Key"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == origin
        assert "access-control-allow-credentials" not in pre.headers
        got = client.get("/v1/scenarios", headers={"Origin": origin})
        assert got.headers["access-control-allow-origin"] == origin
        assert "Location" in got.headers["access-control-expose-headers"]
        evil = client.options("/v1/plans", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
        assert evil.status_code == 400 and "access-control-allow-origin" not in evil.headers
        assert "access-control-allow-origin" not in client.get("/v1/scenarios", headers={"Origin": "https://evil.example.com"}).headers
        # errors raised before the routes (413) still carry CORS headers
        big = client.post("/v1/plans", content=b"x" * (5 << 20), headers={"Origin": origin, "Content-Type": "application/json"})
        assert big.status_code == 413 and big.headers["access-control-allow-origin"] == origin
