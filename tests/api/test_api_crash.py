"""SIGKILL of the whole server process group during a stream of plan writes, then restart.

Every plan acknowledged (201) before a kill must be served afterwards byte for byte, the
database must pass SQLite's integrity check, no process of the killed group may survive, and
jobs caught mid-solve must be marked failed rather than left running. Runs on SQLite and on
PostgreSQL (there the same job and plan checks run through SQL; PostgreSQL has no file to check).
"""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import pytest
import sqlalchemy as sa
from api_support import BUNDLED, Server, current_backend, engine_for, group_members

from flowopt.results import Plan


def _stream_and_kill(srv: Server, acked: dict[str, bytes], first_target: int, writers: int = 4, before_kill: int = 10) -> None:
    """Post plans with distinct targets from several clients; SIGKILL the group mid-stream."""
    stop = threading.Event()
    lock = threading.Lock()
    fresh: list[str] = []

    def writer(i: int) -> None:
        n = 0
        with srv.client(timeout=30) as c:
            while not stop.is_set():
                target = round((first_target + i * 10_000 + n) * 1e-5, 6)
                n += 1
                try:
                    r = c.post("/v1/plans", json={"scenario_id": BUNDLED, "target": target})
                except httpx.TransportError:
                    return  # killed mid-request: never acknowledged
                if r.status_code == 201:
                    with lock:
                        acked[r.headers["location"]] = r.content
                        fresh.append(r.headers["location"])

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(fresh) < before_kill and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fresh) >= before_kill, "the server acknowledged too few plans before the kill"
    alive = sum(t.is_alive() for t in threads)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert alive == writers, "writes must still be streaming when the server is killed"
    deadline = time.monotonic() + 10
    while group_members(srv.pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(srv.pgid) == [], "a process of the killed server survived (orphan solver?)"


def _check_file(tmp_path) -> None:
    if current_backend() == "sqlite":
        with sqlite3.connect(tmp_path / "flowopt-api.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
def test_sigkill_during_plan_writes_loses_no_acknowledged_plan(tmp_path):
    acked: dict[str, bytes] = {}
    for cycle in range(2):
        srv = Server(tmp_path, FLOWOPT_WORKERS="2", FLOWOPT_SYNC_WAIT_S="30").start()
        _stream_and_kill(srv, acked, first_target=40_000 + cycle * 5_000)
        _check_file(tmp_path)

    srv = Server(tmp_path, FLOWOPT_WORKERS="1").start()
    try:
        with srv.client() as c:
            for location, body in acked.items():
                r = c.get(location)
                assert r.status_code == 200, location
                assert r.content == body, f"{location} changed after the restart"
            # every stored plan is whole and audited, acknowledged or not
            page = c.get("/v1/plans", params={"limit": 500}).json()
            assert page["total"] >= len(acked)
            for item in page["items"]:
                plan = Plan.model_validate(c.get(item["url"]).json())
                assert plan.status == "optimal" and plan.audit.passed
        engine = engine_for(tmp_path)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")).scalar_one() == 0
            mismatched = conn.execute(sa.text("SELECT count(*) FROM jobs j JOIN plans p ON p.job_id = j.id WHERE j.status != 'succeeded' OR j.plan_id != p.id")).scalar_one()
        engine.dispose()
        assert mismatched == 0
    finally:
        srv.stop()
    assert group_members(srv.pgid) == []
