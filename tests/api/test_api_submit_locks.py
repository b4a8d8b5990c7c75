"""Submitting jobs: identical requests share one job, other requests do not wait for them.

The service answers a request in a fixed order (idempotency key, job in flight, stored result,
new job) under the lock of its request key. These tests hold one key's lock by hand and check
what goes on around it, and fire concurrent requests at a tiny queue.
"""

from __future__ import annotations

import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

from api_support import BUNDLED, make_client

from api.service import _KEY_LOCKS

ASYNC = {"Prefer": "respond-async"}


def _slot(key: str) -> int:
    return zlib.crc32(key.encode()) % _KEY_LOCKS


def test_a_request_waits_only_for_its_own_key(tmp_path):
    with make_client(tmp_path, warm_workers=False) as client:
        service = client.app.state.service
        sha = service.scenario_sha(BUNDLED)
        held_key = service.request_key(sha, 0.61)
        # another target whose key hashes to another lock (deterministic: the first one found)
        other = next(t for t in (round(0.62 + i / 1000, 3) for i in range(100)) if _slot(service.request_key(sha, t)) != _slot(held_key))
        results: dict[str, object] = {}

        def post(name: str, target: float) -> None:
            results[name] = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": target}, headers=ASYNC)

        with service._keys_locked(held_key):
            same = threading.Thread(target=post, args=("same", 0.61))
            same.start()
            post("other", other)  # answered while the other key's lock is held
            time.sleep(0.3)
            assert "same" not in results, "a request for a held key went ahead"
        same.join(30)
        assert results["other"].status_code == 202 and results["same"].status_code == 202
        # once released, a second identical request joins the first one's job
        again = client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.61}, headers=ASYNC)
        assert again.json()["id"] == results["same"].json()["id"]


def test_concurrent_identical_requests_share_one_job(tmp_path):
    with make_client(tmp_path, warm_workers=False) as client:
        body = {"scenario_id": BUNDLED, "target": 0.655}
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.post("/v1/plans", json=body, headers=ASYNC), range(16)))
        assert {a.status_code for a in answers} == {202}
        assert len({a.json()["id"] for a in answers}) == 1


def test_a_full_queue_refuses_before_writing_a_job(tmp_path):
    # the solver process is held while starting: accepted jobs wait, so the queue fills; every
    # accepted job must then run (its place was reserved), every other request gets 429
    with make_client(tmp_path, warm_workers=False, queue_size=2) as client:
        pool = client.app.state.service.pool
        release = threading.Event()
        start_process = pool._ensure_process

        def held(slot):
            release.wait(60)
            return start_process(slot)

        pool._ensure_process = held
        try:
            with ThreadPoolExecutor(8) as workers:
                answers = list(workers.map(lambda i: client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.60 + i / 100}, headers=ASYNC), range(8)))
        finally:
            release.set()
        accepted = [a.json() for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code == 429]
        assert len(accepted) + len(refused) == 8
        assert 2 <= len(accepted) <= 3  # two queued, and one more if the held slot took one first
        for job in accepted:
            deadline = time.monotonic() + 120
            while (state := client.get(job["url"]).json())["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert state["status"] == "succeeded", state
