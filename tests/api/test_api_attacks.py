"""Attacks on the HTTP API's surface: every one answered 4xx with a problem document, none 5xx.

Bodies that make the server work (100,000 unknown keys), text no store can keep (lone UTF-16
surrogates, NUL), numbers Python cannot print, sweeps with absurd steps, requests the HTTP layer
cannot parse, refused CORS preflights, bursts of requests; the security headers on every kind
of answer; and the OpenAPI description agreeing with the server about ``null``. The table in
``api/README.md`` ("Bad input tried") lists each attack with its answer.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from api_support import BUNDLED, KEY, KEY2, Server, assert_problem, make_client, settings
from fastapi.testclient import TestClient

from api.bodies import parse_json
from api.errors import MAX_PROBLEMS, ApiError, Code, dumps, finite
from api.examples import EXAMPLE_SCENARIO
from api.main import create_app
from api.middleware import API_CSP
from api.openapi import OPENAPI_PATH
from api.ratelimit import RateLimit, TokenBuckets
from api.settings import Settings, SettingsError

SPEC = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
JSON = {"Content-Type": "application/json"}


def problem_4xx(r: httpx.Response) -> dict[str, Any]:
    """Check that ``r`` is a 4xx problem document with the security headers; return it."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    assert r.headers["x-content-type-options"] == "nosniff"
    doc = json.loads(r.content)  # strict: the body is valid JSON
    assert doc["status"] == r.status_code and doc["title_zh"] and doc["detail"]
    return dict(doc)


def pointers(doc: dict[str, Any]) -> list[str | None]:
    return [p["pointer"] for p in doc.get("problems") or ()]


# ---------------------------------------------------------------------------------------------
# Work bounded before it starts, and off the event loop
# ---------------------------------------------------------------------------------------------


def test_100k_unknown_keys_answer_a_short_problem_list_while_health_stays_fast(quiet_client):
    body = "{" + ",".join(f'"k{i}":1' for i in range(100_000)) + f',"scenario_id":"{BUNDLED}"}}'
    assert len(body) > 1_000_000
    quiet_client.get("/v1/health")  # warm
    answer: dict[str, httpx.Response] = {}
    sender = threading.Thread(target=lambda: answer.setdefault("r", quiet_client.post("/v1/plans", content=body, headers=JSON)))
    sender.start()
    latencies = []
    while sender.is_alive():
        t0 = time.perf_counter()
        assert quiet_client.get("/v1/health").status_code == 200
        latencies.append(time.perf_counter() - t0)
    sender.join()
    r = answer["r"]
    doc = assert_problem(r, 422, "input_invalid")
    assert len(doc["problems"]) == MAX_PROBLEMS and doc["problems_total"] == 100_000
    assert len(r.content) < 100_000, len(r.content)
    assert "first 100 of 100,000" in doc["detail"]
    assert doc["problems"][0]["pointer"] == "/k0"
    # before: a 23 MB document built on the event loop stalled health for 2-3 s
    assert latencies and max(latencies) < 1.0, f"health took {max(latencies):.2f} s during the request"


def test_many_unknown_keys_inside_an_inline_scenario_are_capped_too(quiet_client):
    scenario = copy.deepcopy(EXAMPLE_SCENARIO)
    scenario["projects"][0].update({f"x{i}": 1 for i in range(5_000)})
    doc = assert_problem(quiet_client.post("/v1/scenarios/validate", json=scenario), 422, "input_invalid")
    assert len(doc["problems"]) == MAX_PROBLEMS and doc["problems_total"] == 5_000
    assert doc["problems"][0]["pointer"] == "/projects/0/x0" and doc["problems"][0]["row"] == 1


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"scenario_id": BUNDLED, "from": 0.5, "to": 0.9, "step": 1e-20}, "/step"),
        ({"scenario_id": BUNDLED, "from": 0.5, "to": 0.9, "step": 5e-324}, "/step"),
        # an empty range: 1 grid point, but the library's rounding tolerance / step made 1e8
        ({"scenario_id": BUNDLED, "from": 0.5, "to": 0.5, "step": 1e-20}, "/step"),
        ({"scenario_id": BUNDLED, "from": 0.0, "to": 1.0, "step": 0.0001}, "/step"),
    ],
    ids=["1e-20", "5e-324", "empty_range_1e-20", "10001_points"],
)
def test_absurd_sweep_steps_are_422_before_any_work(quiet_client, body, pointer):
    t0 = time.perf_counter()
    doc = assert_problem(quiet_client.post("/v1/sweeps", json=body), 422, "input_invalid")
    assert time.perf_counter() - t0 < 2.0
    assert pointer in pointers(doc)
    assert quiet_client.get("/v1/health").json()["solver"]["busy"] == 0


# ---------------------------------------------------------------------------------------------
# Text no store can keep, numbers Python cannot print
# ---------------------------------------------------------------------------------------------

SURROGATE_BODIES = [
    ("value", "/v1/plans", b'{"scenario_id": "\\ud800"}', "/scenario_id"),
    ("key", "/v1/plans", b'{"scenario_id": "x", "\\udfff": 1}', "/\udfff"),
    ("scenario_name", "/v1/scenarios", json.dumps({**EXAMPLE_SCENARIO, "name_zh": "园区\ud800"}).encode(), "/name_zh"),
    ("scenario_row_key", "/v1/scenarios/validate", json.dumps({**EXAMPLE_SCENARIO, "sites": [{"id": "A", "\ud83d": "x"}]}).encode(), "/sites/0/\ud83d"),
    ("whatif_change", "/v1/whatifs", json.dumps({"scenario_id": BUNDLED, "changes": [{"set": "projects.R\ud800.capacity_t", "value": 1}]}).encode(), "/changes/0/set"),
    ("whatif_description", "/v1/whatifs", json.dumps({"scenario_id": BUNDLED, "changes": [], "description": "\udc00"}).encode(), "/description"),
    ("sweep_inline", "/v1/sweeps", json.dumps({"scenario": {**EXAMPLE_SCENARIO, "id": "x\ud800"}, "from": 0.1, "to": 0.2}).encode(), "/scenario/id"),
]


@pytest.mark.parametrize(("name", "path", "raw", "pointer"), SURROGATE_BODIES, ids=[c[0] for c in SURROGATE_BODIES])
def test_lone_surrogates_in_json_are_422_located(quiet_client, name, path, raw, pointer):
    assert b"\\ud" in raw.lower()  # sent as JSON escapes: the bytes are valid UTF-8
    doc = problem_4xx(quiet_client.post(path, content=raw, headers=JSON))
    assert doc["code"] == "input_invalid" and doc["status"] == 422
    assert pointer in pointers(doc), doc["problems"]
    assert "surrogate" in " ".join(p["message"] for p in doc["problems"])


def test_lone_surrogates_outside_the_body_are_4xx(quiet_client):
    # query and path parameters: the surrogate's WTF-8 bytes, percent-encoded
    problem_4xx(quiet_client.get("/v1/plans?scenario_id=%ED%A0%80"))
    problem_4xx(quiet_client.get("/v1/plans?scenario_id=" + "%ED%A0%80" * 2000))
    problem_4xx(quiet_client.get("/v1/scenarios/%ED%A0%80"))
    problem_4xx(quiet_client.get("/v1/jobs/%ED%A0%80"))
    # a header: the same bytes raw
    r = quiet_client.post("/v1/plans", json={"scenario_id": "no_such_park"}, headers={"Idempotency-Key": b"\xed\xa0\x80"})
    assert problem_4xx(r)["code"] == "input_invalid"
    # a multipart file name
    boundary = "flowoptboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode() + b"\xed\xa0\x80.xlsx" + f'"\r\nContent-Type: application/octet-stream\r\n\r\nnot a workbook\r\n--{boundary}--\r\n'.encode())
    problem_4xx(quiet_client.post("/v1/scenarios/validate", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        (json.dumps({**EXAMPLE_SCENARIO, "name_zh": "园区\x00"}).encode(), "/name_zh"),
        (json.dumps({**EXAMPLE_SCENARIO, "description": "bell\x07"}).encode(), "/description"),
        (json.dumps({**EXAMPLE_SCENARIO, "sources": {"policy\x00": "x"}}).encode(), "/sources/policy\x00"),
    ],
    ids=["nul_in_name_zh", "bell_in_description", "nul_in_key"],
)
def test_nul_and_control_characters_are_422_located_before_storage(quiet_client, raw, pointer):
    doc = assert_problem(quiet_client.post("/v1/scenarios", content=raw, headers=JSON), 422, "input_invalid")
    assert pointer in pointers(doc)
    assert quiet_client.get("/v1/scenarios/example_park").status_code == 404  # nothing stored
    # tab, line feed and carriage return are text; astral characters too
    ok = {**EXAMPLE_SCENARIO, "description": "line 1\r\n\tline 2 😀"}
    assert quiet_client.post("/v1/scenarios/validate", json=ok).status_code == 200


@pytest.mark.parametrize(
    ("path", "raw", "pointer"),
    [
        ("/v1/plans", b'{"scenario_id": "x", "target": ' + b"1" * 5000 + b"}", "/target"),
        ("/v1/plans", b'{"scenario_id": "x", "target": -' + b"9" * 4301 + b"}", "/target"),
        ("/v1/scenarios/validate", json.dumps(EXAMPLE_SCENARIO).replace('"capacity_t": 60', '"capacity_t": ' + "7" * 5000).encode(), "/projects/0/capacity_t"),
    ],
    ids=["5000_digits", "4301_digits_negative", "in_a_scenario"],
)
def test_integers_with_thousands_of_digits_are_422_located(quiet_client, path, raw, pointer):
    doc = assert_problem(quiet_client.post(path, content=raw, headers=JSON), 422, "input_invalid")
    assert pointer in pointers(doc)
    assert any("digits" in p["message"] for p in doc["problems"])


def test_a_huge_integer_in_a_query_parameter_is_422(quiet_client):
    problem_4xx(quiet_client.get("/v1/plans?offset=" + "1" * 5000))
    problem_4xx(quiet_client.get("/v1/plans?limit=-" + "9" * 5000))


# ---------------------------------------------------------------------------------------------
# Headers, pages, CORS, malformed requests
# ---------------------------------------------------------------------------------------------

_ALWAYS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def test_security_headers_on_json_html_and_problem_answers(quiet_client):
    for r in (quiet_client.get("/v1/health"), quiet_client.get("/v1/scenarios"), quiet_client.get("/openapi.json"), quiet_client.get("/v1/nope"), quiet_client.post("/v1/plans", content=b"{", headers=JSON)):
        assert {k: r.headers.get(k) for k in _ALWAYS} == _ALWAYS, r.url
        assert r.headers["content-security-policy"] == API_CSP
    page = quiet_client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert {k: page.headers.get(k) for k in _ALWAYS} == _ALWAYS
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "https://" not in page.text and "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_server_error_carries_the_security_headers_too(tmp_path):
    app = create_app(settings(tmp_path, warm_workers=False))

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert_problem(r, 500, "internal_error")
    assert {k: r.headers.get(k) for k in _ALWAYS} == _ALWAYS


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_documentation_pages_load_cdn_scripts(quiet_client, path):
    r = quiet_client.get(path)
    assert_problem(r, 404, "not_found")
    assert "cdn" not in r.text.lower()


def test_a_refused_cors_preflight_is_a_problem_document(tmp_path):
    with make_client(tmp_path, warm_workers=False, cors_origins=("https://dashboard.example.cn",)) as client:
        r = client.options("/v1/plans", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
        doc = assert_problem(r, 400, "cors_refused")
        assert "origin" in doc["detail"] and "access-control-allow-origin" not in r.headers
        assert r.headers["x-content-type-options"] == "nosniff"
        r = client.options("/v1/plans", headers={"Origin": "https://dashboard.example.cn", "Access-Control-Request-Method": "DELETE"})
        assert "method" in assert_problem(r, 400, "cors_refused")["detail"]
        ok = client.options("/v1/plans", headers={"Origin": "https://dashboard.example.cn", "Access-Control-Request-Method": "POST"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://dashboard.example.cn"


@pytest.mark.parametrize("length", ["1_0", "+2", " 2x", "-1", "١٢"])
def test_an_invalid_content_length_is_a_problem_document(quiet_client, length):
    headers = {**JSON, "Content-Length": length.encode("utf-8")}
    r = quiet_client.post("/v1/plans", content=b"{}", headers=headers)  # type: ignore[arg-type]
    assert_problem(r, 400, "request_malformed")


def test_malformed_queries_and_forms_are_problem_documents(quiet_client):
    problem_4xx(quiet_client.get("/v1/plans?scenario_id=%zz%E0%A4&limit=%"))
    problem_4xx(quiet_client.get("/v1/plans/" + "x" * 5000))
    for ctype, body in (("multipart/form-data; boundary=x", b"--x\r\nbroken"), ("multipart/form-data", b"no boundary"), ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n")):
        problem_4xx(quiet_client.post("/v1/scenarios", content=body, headers={"Content-Type": ctype}))


def _raw_exchange(port: int, request: bytes) -> bytes:
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        try:
            while part := sock.recv(65536):
                received += part
        except ConnectionResetError:
            pass
    return received


def test_requests_the_http_layer_cannot_parse_answer_problem_json(tmp_path):
    srv = Server(tmp_path, FLOWOPT_WARM_WORKERS="false", FLOWOPT_WORKERS="1")
    srv.start()
    try:
        for request in (
            b"POST /v1/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1_0\r\n\r\n{}",
            b"POST /v1/plans HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            b"GET /v1/plans/\xed\xa0\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /v1/health HTTP/1.1\r\nHost: x\r\nA header without a colon\r\n\r\n",
        ):
            answer = _raw_exchange(srv.port, request)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400"), answer[:200]
            assert b"content-type: application/problem+json" in head.lower() and b"x-content-type-options: nosniff" in head.lower()
            assert json.loads(body)["code"] == "request_malformed"
        # a body shorter than its Content-Length, then the client hangs up: not a server error
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
            sock.sendall(f"POST /v1/plans HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{}}".encode())
            sock.shutdown(socket.SHUT_WR)
            sock.recv(65536)
        with httpx.Client(base_url=srv.url) as c:  # the server is still serving
            assert c.get("/v1/health").status_code == 200
    finally:
        srv.stop()
    log = srv.log.read_text()
    assert "Traceback" not in log and "unexpected error" not in log, log[-2000:]


# ---------------------------------------------------------------------------------------------
# Rate limit
# ---------------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_and_spares_health_and_other_keys(tmp_path):
    with make_client(tmp_path, warm_workers=False, rate_limit_per_s=0.5, rate_limit_burst=5) as client:
        for _ in range(5):
            assert client.get("/v1/scenarios").status_code == 200
        r = client.get("/v1/scenarios")
        doc = assert_problem(r, 429, "rate_limited")
        after = int(r.headers["retry-after"])
        assert after >= 1 and doc["retry_after_s"] == after
        assert r.headers["x-content-type-options"] == "nosniff"
        # refused before the body is read or the key checked
        assert_problem(client.post("/v1/plans", content=b"{broken", headers=JSON), 429, "rate_limited")
        # monitoring is never limited
        for _ in range(10):
            assert client.get("/v1/health").status_code == 200
            assert client.get("/v1/ready").status_code in (200, 503)
        # another key has its own bucket; so has the address, for requests without a known key
        assert client.get("/v1/scenarios", headers={"X-API-Key": KEY2}).status_code == 200
        assert client.get("/v1/scenarios", headers={"X-API-Key": "invented-key-0000000000"}).status_code == 200
        assert client.get("/v1/scenarios", headers={"X-API-Key": KEY}).status_code == 429


def test_rate_limit_settings_come_from_the_environment():
    assert (Settings().rate_limit_per_s, Settings().rate_limit_burst) == (20.0, 60)
    s = Settings.from_env({"FLOWOPT_RATE_LIMIT_PER_S": "0", "FLOWOPT_RATE_LIMIT_BURST": "5"})
    assert (s.rate_limit_per_s, s.rate_limit_burst) == (0.0, 5)
    for env in ({"FLOWOPT_RATE_LIMIT_PER_S": "-1"}, {"FLOWOPT_RATE_LIMIT_PER_S": "inf"}, {"FLOWOPT_RATE_LIMIT_BURST": "0"}):
        with pytest.raises(SettingsError, match=next(iter(env))):
            Settings.from_env(env)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _call(mw: RateLimit, client: tuple[str, int], key: str | None = None, path: str = "/v1/plans") -> httpx.Headers:
    """Send one GET through the middleware; return the status and headers of the answer."""
    sent: list[dict[str, Any]] = []
    headers = [(b"x-api-key", key.encode())] if key else []
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers, "client": client, "root_path": ""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(mw(scope, receive, send))
    return httpx.Headers([(k.decode(), v.decode()) for k, v in sent[0]["headers"]] + [("status", str(sent[0]["status"]))])


def test_rate_limit_buckets_per_address_and_key_refill_and_stay_bounded():
    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    clock = _Clock()
    mw = RateLimit(ok, rate_per_s=2.0, burst=3, api_keys=(KEY,), clock=clock)
    a, b = ("10.0.0.1", 5000), ("10.0.0.2", 5000)
    assert [_call(mw, a)["status"] for _ in range(4)] == ["200", "200", "200", "429"]
    assert _call(mw, b)["status"] == "200"  # another address
    assert _call(mw, a, KEY)["status"] == "200"  # a configured key: its own bucket
    assert _call(mw, a, "invented-key-0000000000")["status"] == "429"  # an unknown key: the address's
    assert _call(mw, a, path="/v1/health")["status"] == "200"
    answer = _call(mw, a)
    assert answer["status"] == "429" and answer["retry-after"] == "1"
    clock.now += 0.5  # one token back
    assert _call(mw, a)["status"] == "200"
    # memory: idle buckets are forgotten once full again; never more than max_clients
    buckets = TokenBuckets(1.0, 2, max_clients=50, clock=clock)
    for i in range(500):
        buckets.take(f"addr:10.1.{i // 256}.{i % 256}")
    assert len(buckets) == 50
    clock.now += 2.0
    buckets.take("addr:10.9.9.9")
    assert len(buckets) == 1
    assert RateLimit(ok, rate_per_s=0, burst=1).buckets is None  # 0 turns it off


# ---------------------------------------------------------------------------------------------
# The OpenAPI description and the server agree about null
# ---------------------------------------------------------------------------------------------

_NULL_CASES = [
    ("/v1/plans", "PlanCreate", {"scenario_id": BUNDLED, "scenario": None}, "/scenario"),
    ("/v1/plans", "PlanCreate", {"scenario_id": None, "scenario": EXAMPLE_SCENARIO}, "/scenario_id"),
    ("/v1/whatifs", "WhatIfCreate", {"scenario_id": BUNDLED, "scenario": None, "changes": []}, "/scenario"),
    ("/v1/sweeps", "SweepCreate", {"scenario_id": BUNDLED, "scenario": None, "from": 0.5, "to": 0.6}, "/scenario"),
]


@pytest.mark.parametrize(("path", "schema", "body", "pointer"), _NULL_CASES, ids=[f"{c[1]}{c[3]}" for c in _NULL_CASES])
def test_null_source_is_refused_by_server_and_spec_alike(quiet_client, path, schema, body, pointer):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": SPEC["components"]})
    assert not validator.is_valid(body)
    without_null = {k: v for k, v in body.items() if v is not None}
    assert validator.is_valid(without_null)
    doc = assert_problem(quiet_client.post(path, json=body), 422, "input_invalid")
    assert pointer in pointers(doc) and any("null" in p["message"] for p in doc["problems"])


# ---------------------------------------------------------------------------------------------
# Units: the problem document's cap, encoding, strict JSON
# ---------------------------------------------------------------------------------------------


def test_problem_lists_are_capped_idempotently():
    items = [{"pointer": f"/k{i}", "message": "m"} for i in range(250)]
    err = ApiError(Code.input_invalid, "Bad.", problems=items)
    doc = err.document()
    assert len(doc["problems"]) == MAX_PROBLEMS and doc["problems_total"] == 250
    again = ApiError.from_document(doc).document()  # as sent back by a solver process
    assert again == doc and again["detail"].count("Only the first") == 1
    # a caller (the library) that capped its own list and counted more: the larger count wins
    assert ApiError(Code.input_invalid, "x", problems=items[:100], problems_total=5000).document()["problems_total"] == 5000
    assert "problems_total" not in ApiError(Code.input_invalid, "x", problems=items[:3], problems_total=3).document()
    # a megabyte-long key named in a pointer is not echoed whole
    (long,) = ApiError(Code.input_invalid, "x", problems=[{"pointer": "/" + "k" * 1_000_000, "row": 1}]).document()["problems"]
    assert len(long["pointer"]) <= 300 and long["pointer"].endswith("...") and long["row"] == 1


def test_documents_always_encode():
    doc = {"detail": "bad \ud800 text", "problems": [{"pointer": "/\udfff"}], "n": 10**5000, "x": float("nan")}
    encoded = dumps(finite(doc))
    back = json.loads(encoded)
    assert back["detail"] == "bad \ud800 text" and back["x"] == "nan" and "digits" in back["n"]
    assert json.loads(dumps({"ok": "园区"})) == {"ok": "园区"} and "园区".encode() in dumps({"ok": "园区"})


def test_strict_json_refuses_control_characters_in_keys_and_keeps_valid_text():
    with pytest.raises(ApiError) as info:
        parse_json(b'{"scenario": {"projects": [{"id\\u001b": 1}]}}', ["scenario"])
    (p,) = info.value.problems or []
    assert (p["table"], p["row"], p["pointer"]) == ("projects", 1, "/scenario/projects/0/id\x1b")
    assert parse_json('{"a": "\\ud83d\\ude00 \\t\\n\\r 园"}'.encode()) == {"a": "😀 \t\n\r 园"}
    assert parse_json(b'{"a": -123456789012345678901234567890}') == {"a": -123456789012345678901234567890}
