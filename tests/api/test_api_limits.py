"""Limits: body size (declared and streamed), scenario rows, full queue, wall-clock kill."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

from api_support import BUNDLED, assert_problem, make_client, wait_ready

from api.examples import EXAMPLE_SCENARIO


def test_body_limit_from_content_length_and_streamed_bytes(tmp_path):
    with make_client(tmp_path, warm_workers=False, max_body_bytes=64 * 1024) as client:
        declared = client.post("/v1/scenarios", content=b" " * (64 * 1024 + 1), headers={"Content-Type": "application/json"})
        doc = assert_problem(declared, 413, "body_too_large")
        assert "65,537" in doc["detail"]

        def chunks():
            for _ in range(100):
                yield b" " * 4096  # 400 KiB without a Content-Length

        streamed = client.post("/v1/plans", content=chunks(), headers={"Content-Type": "application/json"})
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "body_too_large")
        # a body just under the limit is read and judged on its content
        ok = client.post("/v1/scenarios/validate", json=EXAMPLE_SCENARIO)
        assert ok.status_code == 200
        assert client.get("/v1/health").status_code == 200


def test_scenario_row_limit(tmp_path):
    with make_client(tmp_path, warm_workers=False, max_scenario_rows=12) as client:
        data = copy.deepcopy(EXAMPLE_SCENARIO)
        data["distances"] = [{"from_site": "A", "to_site": "A", "distance_km": 0}] * 5
        doc = assert_problem(client.post("/v1/scenarios/validate", json=data), 413, "scenario_too_large")
        assert "at most 12" in doc["detail"]
        assert {p["table"] for p in doc["problems"]} >= {"distances", "accepts"}
        doc = assert_problem(client.post("/v1/plans", json={"scenario": data}), 413, "scenario_too_large")
        assert doc["problems"][0]["pointer"].startswith("/scenario/")


def test_full_queue_answers_429_with_retry_after(tmp_path):
    # one lazily started worker, held while "starting" until the test lets it go: the first job
    # occupies it, the second fills the queue of one, the third is refused
    import threading

    with make_client(tmp_path, warm_workers=False, queue_size=1) as client:
        pool = client.app.state.service.pool
        release = threading.Event()
        start_process = pool._ensure_process

        def held(slot):
            release.wait(60)
            return start_process(slot)

        pool._ensure_process = held
        try:
            asynchronous = {"Prefer": "respond-async"}
            first = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.61}, headers=asynchronous)
            assert first.status_code == 202
            deadline = time.monotonic() + 10
            while pool.position(first.json()["id"]) is not None and time.monotonic() < deadline:
                time.sleep(0.01)  # taken from the queue by the (held) worker slot
            second = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.62}, headers=asynchronous)
            assert second.status_code == 202 and second.json()["queue_position"] == 1
            third = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.63}, headers=asynchronous)
            doc = assert_problem(third, 429, "queue_full")
            assert int(third.headers["retry-after"]) >= 1 and doc["retry_after_s"] == int(third.headers["retry-after"])
            # an identical request joins the queued job instead of being refused
            same = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.62}, headers=asynchronous)
            assert same.status_code == 202 and same.json()["id"] == second.json()["id"]
        finally:
            release.set()
        for job in (first.json(), second.json()):
            deadline = time.monotonic() + 90
            while (state := client.get(job["url"]).json())["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert state["status"] == "succeeded", state


def test_wall_clock_kill_leaves_no_process_and_the_next_job_runs(tmp_path):
    with make_client(tmp_path, solve_wall_limit_s=0.001) as client:
        wait_ready(client)
        service = client.app.state.service
        (before,) = service.pool.pids()
        r = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.64})
        doc = assert_problem(r, 422, "solve_timeout")
        assert "wall-clock" in doc["detail"]
        job = client.get(f"/v1/jobs/{doc['job_id']}").json()
        assert job["status"] == "failed" and job["error"]["code"] == "solve_timeout"
        # the killed process is gone (reaped, not a zombie) and no other took its place yet
        assert before not in service.pool.pids()
        assert not Path(f"/proc/{before}").exists()
        service.pool.wall_limit_s = 60.0
        r = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.64})
        assert r.status_code == 201, r.text
        assert json.loads(r.content)["audit"]["passed"]
        assert len(service.pool.pids()) == 1 and before not in service.pool.pids()


def test_sync_wait_zero_always_answers_with_a_job(tmp_path):
    with make_client(tmp_path, sync_wait_s=0.0) as client:
        wait_ready(client)
        r = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.66})
        assert r.status_code == 202
        deadline = time.monotonic() + 60
        while (job := client.get(r.headers["location"]).json())["status"] != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job["result"]["audit"]["passed"]
        # the same request again is answered from storage at once
        assert client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.66}).status_code == 200
