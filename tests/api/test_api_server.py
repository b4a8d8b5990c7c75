"""The real server (``flowopt serve`` on 127.0.0.1): HTTP, concurrent solves, fuzzing."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor, wait

import httpx
import pytest
import schemathesis
from api_support import BUNDLED, KEY, flowopt_command, group_members
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import positive_data_acceptance

from api.openapi import OPENAPI_PATH
from flowopt.results import Plan

# from the checked-in file (test_api_openapi checks the server serves the same document);
# schemathesis.pytest.from_fixture does not work with pytest 9
schema = schemathesis.openapi.from_path(OPENAPI_PATH)


def test_serve_answers_over_http(server):
    health = server.wait_workers()
    assert health["status"] == "ok" and health["solver"]["workers_ready"] == 2
    with server.client() as c:
        assert health["writes_need_key"] and not health["reads_need_key"]
        assert c.get("/v1/ready").status_code == 200
        assert c.get(f"/v1/scenarios/{BUNDLED}").status_code == 200
        assert c.post("/v1/plans", json={"scenario_id": BUNDLED}, headers={"X-API-Key": "wrong-key-0000000000"}).status_code == 401
        r = c.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.7})
        assert r.status_code in (200, 201) and Plan.model_validate(r.json()).audit.passed
    # the solver processes belong to the server's process group
    assert len(group_members(server.pgid)) >= 3


def test_eight_concurrent_solves_complete_audited_while_reads_stay_fast(server):
    targets = [round(0.60 + 0.011 * i, 3) for i in range(8)]

    def solve(target: float) -> tuple[float, Plan]:
        with server.client(timeout=90) as c:
            r = c.post("/v1/plans", json={"scenario_id": BUNDLED, "target": target})
            if r.status_code == 202:
                url = r.headers["location"]
                while (job := c.get(url).json())["status"] not in ("succeeded", "failed"):
                    time.sleep(0.05)
                assert job["status"] == "succeeded", job
                return target, Plan.model_validate(job["result"])
            assert r.status_code == 201, r.text
            return target, Plan.model_validate(r.json())

    read_latencies = []
    with ThreadPoolExecutor(8) as pool, server.client() as c:
        futures = [pool.submit(solve, t) for t in targets]
        while not all(f.done() for f in futures):
            t0 = time.perf_counter()
            assert c.get("/v1/health").status_code == 200
            read_latencies.append(time.perf_counter() - t0)
            time.sleep(0.02)
        done, pending = wait(futures, timeout=120)
    assert not pending, "concurrent solves hung"
    results = [f.result() for f in done]
    assert sorted(t for t, _ in results) == targets
    for target, plan in results:
        assert plan.status == "optimal" and plan.audit.passed
        assert plan.target == pytest.approx(target) and plan.kpis.target_rate_value >= target - 1e-7
    # cost rises with the target: the plans belong to their requests
    costs = [p.objective_cny for _, p in sorted(results, key=lambda x: x[0])]
    assert costs == sorted(costs)
    assert max(read_latencies) < 2.0, f"health took {max(read_latencies):.2f} s during solves"


def test_oversized_chunked_body_over_a_socket_is_413(server):
    host, port = "127.0.0.1", server.port
    received = b""
    with socket.create_connection((host, port), timeout=10) as sock:
        head = f"POST /v1/plans HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        sock.sendall(head.encode())
        chunk = b" " * 16384
        for _ in range(512):  # up to 8 MiB, twice the default limit, never announced
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered; stop sending
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
        # the server answers and closes without reading the rest of the body
        with contextlib.suppress(ConnectionResetError):
            while part := sock.recv(65536):
                received += part
    answer = received.decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "application/problem+json" in answer and "body_too_large" in answer
    with server.client() as c:
        declared = c.post("/v1/plans", content=b" " * (5 << 20), headers={"Content-Type": "application/json"})
        assert declared.status_code == 413
        assert c.get("/v1/health").status_code == 200


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_fuzz_finds_no_server_error_and_no_spec_violation(case, server):
    # positive_data_acceptance is off: the schema cannot express referential integrity (an id
    # must name an existing row), so schema-valid scenarios are often rightly refused with 422
    case.call_and_validate(base_url=server.url, headers={"X-API-Key": KEY}, excluded_checks=[positive_data_acceptance], timeout=60)


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
def test_serve_refuses_bad_settings_with_exit_code_2(tmp_path):
    env = {**os.environ, "FLOWOPT_DATA_DIR": str(tmp_path), "FLOWOPT_WORKERS": "0", "FLOWOPT_API_KEYS": "short-secret"}
    done = subprocess.run(flowopt_command(), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "FLOWOPT_WORKERS" in done.stderr and "FLOWOPT_API_KEYS" in done.stderr
    assert "short-secret" not in done.stderr + done.stdout


def test_loopback_only(server):
    assert httpx.URL(server.url).host == "127.0.0.1"
