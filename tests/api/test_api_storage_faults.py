"""Storage faults and the one-server-per-database rule, on SQLite and on PostgreSQL.

* A job whose result cannot be stored (the database locked or full, or any error while
  storing) ends ``failed`` with ``storage_unavailable`` and the reason, never stays
  ``running``; when even that cannot be written, the failure is answered from memory and
  written as soon as the database accepts writes again; the same request (with or without its
  Idempotency-Key) then runs again. Faults are real where the database allows it: SQLite's
  ``max_page_count`` (``database or disk is full``), a second connection holding the write lock
  (SQLite ``BEGIN EXCLUSIVE``, PostgreSQL ``LOCK TABLE ... IN EXCLUSIVE MODE``) with a short
  busy/lock timeout; a store function that raises stands in for the rest.
* A second server on the same database refuses to start, names the database and what to do,
  and leaves the first server's jobs alone (in-process apps, ``flowopt serve`` processes).
* A NUL character in a text field is refused with 4xx, not a 500 from PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from api_support import (
    BUNDLED,
    ROOT,
    Server,
    assert_problem,
    current_backend,
    database_url,
    engine_for,
    flowopt_command,
    free_port,
    make_client,
    wait_ready,
)

import api.service
from api.db import DatabaseInUse, JobRow, lock_database, parse_url
from api.examples import EXAMPLE_SCENARIO
from api.main import serve


def _job_row(tmp) -> dict[str, dict]:
    engine = engine_for(tmp)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(JobRow.id, JobRow.status, JobRow.error_json)).all()
    engine.dispose()
    return {r.id: {"status": r.status, "error_json": r.error_json} for r in rows}


def _wait_for_status(tmp, job_id: str, status: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _job_row(tmp)[job_id]
        if row["status"] == status:
            return row
        time.sleep(0.1)
    pytest.fail(f"job {job_id} is {row['status']} in the database, not {status}, after {timeout} s")


def _after_start(client, action: Callable[[], None]) -> None:
    """Run ``action`` once, right after the next job is marked running and before it solves."""
    pool = client.app.state.service.pool
    original = pool._on_start
    fired = threading.Event()

    def on_start(task):
        original(task)
        if not fired.is_set():
            fired.set()
            pool._on_start = original
            action()

    pool._on_start = on_start


def _on_connect(engine: sa.Engine, sql: str) -> Callable[[], None]:
    """Run ``sql`` on every new connection of the app's engine (the pool is emptied); return the undo."""

    def listener(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute(sql)
        cur.close()
        if current_backend() == "postgresql":
            dbapi_conn.commit()  # the SET must not leave the connection inside a transaction

    sa.event.listen(engine, "connect", listener)
    engine.dispose()

    def undo() -> None:
        sa.event.remove(engine, "connect", listener)
        engine.dispose()

    return undo


@contextlib.contextmanager
def _short_waits(client) -> Iterator[None]:
    """The app gives up on a held lock after 100 ms instead of 10 s (SQLite) or never (PostgreSQL)."""
    sql = "PRAGMA busy_timeout = 100" if current_backend() == "sqlite" else "SET lock_timeout = '100ms'"
    undo = _on_connect(client.app.state.service.engine, sql)
    try:
        yield
    finally:
        undo()


class _WriteLock:
    """A second connection that holds the database's write lock until :meth:`release`."""

    def __init__(self, tmp) -> None:
        self.tmp = tmp
        self.conn = None
        self.engine = None

    def take(self) -> None:
        if current_backend() == "sqlite":
            # in WAL mode EXCLUSIVE stops writers only: the API can still read, as in a real stall
            self.conn = sqlite3.connect(self.tmp / "flowopt-api.db", check_same_thread=False, isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            self.engine = engine_for(self.tmp)
            self.conn = self.engine.connect()
            self.conn.begin()
            # EXCLUSIVE lets SELECTs through but no INSERT/UPDATE, like SQLite's write lock
            self.conn.exec_driver_sql("LOCK TABLE jobs, plans IN EXCLUSIVE MODE")

    def release(self) -> None:
        if self.conn is None:
            return
        self.conn.rollback()
        self.conn.close()
        self.conn = None
        if self.engine is not None:
            self.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Results that cannot be stored
# ---------------------------------------------------------------------------------------------


def test_a_locked_database_fails_the_job_then_records_it_when_the_lock_goes(tmp_path):
    lock = _WriteLock(tmp_path)
    body = {"scenario_id": BUNDLED, "target": 0.705}
    try:
        with make_client(tmp_path) as client, _short_waits(client):
            wait_ready(client)
            _after_start(client, lock.take)
            r = client.post("/v1/plans", json=body)
            doc = assert_problem(r, 503, "storage_unavailable")
            assert r.headers["retry-after"] == "5"
            assert "could not be stored" in doc["detail"]
            assert ("database is locked" if current_backend() == "sqlite" else "LockNotAvailable") in doc["detail"]
            job_id = doc["job_id"]
            # the database refuses the failure too: the server answers it from memory ...
            assert _job_row(tmp_path)[job_id]["status"] == "running"
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "failed" and job["error"]["code"] == "storage_unavailable" and job["finished_at"]
            # ... and writes it, without any request, as soon as the lock goes
            lock.release()
            row = _wait_for_status(tmp_path, job_id, "failed")
            assert '"storage_unavailable"' in row["error_json"]
            # the same request without a key is not joined to the failed job: it runs again
            again = client.post("/v1/plans", json=body)
            assert again.status_code == 201, again.text
            assert _job_row(tmp_path)[job_id]["status"] == "failed"
            assert client.get(again.headers["location"]).json()["target"] == 0.705
    finally:
        lock.release()


@pytest.mark.backends("sqlite")
def test_a_full_disk_fails_the_job_and_its_idempotency_key_runs_it_again(tmp_path):
    key = {"Idempotency-Key": "full-disk-1"}
    body = {"scenario_id": BUNDLED, "target": 0.695}
    with make_client(tmp_path) as client:
        wait_ready(client)
        engine = client.app.state.service.engine
        undo: list[Callable[[], None]] = []
        # after the job row is written, the file may not grow: SQLite answers SQLITE_FULL
        # ("database or disk is full") as on a full disk (a lower limit is raised to the size)
        _after_start(client, lambda: undo.append(_on_connect(engine, "PRAGMA max_page_count = 1")))
        r = client.post("/v1/plans", json=body, headers=key)
        doc = assert_problem(r, 503, "storage_unavailable")
        assert "database or disk is full" in doc["detail"]
        job_id = doc["job_id"]
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "failed" and job["error"]["code"] == "storage_unavailable"
        assert client.get("/v1/plans").json()["total"] == 0  # nothing half-stored
        undo[0]()  # space again
        _wait_for_status(tmp_path, job_id, "failed")
        again = client.post("/v1/plans", json=body, headers=key)
        assert again.status_code == 201, again.text
        assert again.json()["target"] == 0.695
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "failed"
        # the key now names the new job: one more retry is answered from the stored plan
        third = client.post("/v1/plans", json=body, headers=key)
        assert third.status_code == 200 and third.headers["location"] == again.headers["location"]


def _boom_operational(*_args, **_kwargs):
    raise sa.exc.OperationalError("INSERT INTO plans ...", {}, Exception("disk I/O error"))


def _boom_bug(*_args, **_kwargs):
    msg = "a bug while storing"
    raise RuntimeError(msg)


REQUESTS = {
    "plan": ("/v1/plans", "_store_plan", {"scenario_id": BUNDLED, "target": 0.6931}),
    "whatif": ("/v1/whatifs", "_store_whatif", {"scenario_id": BUNDLED, "changes": [{"set": "projects.R06.capacity_t", "value": 3_300_000}], "target": 0.6932}),
    "sweep": ("/v1/sweeps", "_store_sweep", {"scenario_id": BUNDLED, "from": 0.6, "to": 0.7, "step": 0.05}),
}


@pytest.mark.parametrize("boom", [_boom_operational, _boom_bug], ids=["OperationalError", "RuntimeError"])
@pytest.mark.parametrize("kind", list(REQUESTS))
def test_any_error_while_storing_fails_the_job_and_a_retry_runs_it(solver_client, monkeypatch, kind, boom):
    path, store, body = REQUESTS[kind]
    key = {"Idempotency-Key": f"store-{kind}-{boom.__name__}"}
    # a target or range of its own, so that nothing is answered from an earlier test's result
    shift = 0.001 if boom is _boom_bug else 0.0
    body = {**body, "to": body["to"] + shift} if kind == "sweep" else {**body, "target": body["target"] + shift}
    with monkeypatch.context() as m:
        m.setattr(api.service, store, boom)
        r = solver_client.post(path, json=body, headers=key)
    doc = assert_problem(r, 503, "storage_unavailable")
    assert ("disk I/O error" if boom is _boom_operational else "RuntimeError: a bug while storing") in doc["detail"]
    job = solver_client.get(f"/v1/jobs/{doc['job_id']}").json()
    assert job["status"] == "failed" and job["error"]["code"] == "storage_unavailable"
    assert job["error"]["detail"] == doc["detail"]
    again = solver_client.post(path, json=body, headers=key)
    assert again.status_code == 201, again.text
    assert solver_client.get(f"/v1/jobs/{doc['job_id']}").json()["status"] == "failed"


def test_a_result_stored_after_its_job_was_marked_failed_carries_no_stale_error(solver_client):
    """Issue #13: jobs failed as interrupted by a second server later turned 'succeeded' while
    still showing the interruption as their error."""
    service = solver_client.app.state.service

    def fail_running_jobs() -> None:
        with service.sessions.begin() as s:
            s.execute(sa.update(JobRow).where(JobRow.status == "running").values(status="failed", error_json='{"code": "interrupted", "status": 503}'))

    _after_start(solver_client, fail_running_jobs)
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED, "target": 0.6915}, headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    job_url = r.headers["location"]
    deadline = time.monotonic() + 60
    while (job := solver_client.get(job_url).json())["status"] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job["status"] == "succeeded" and job["error"] is None and job["result"]["target"] == 0.6915


# ---------------------------------------------------------------------------------------------
# One server per database
# ---------------------------------------------------------------------------------------------


def _add_jobs(tmp) -> None:
    """A running and a queued job of the server on ``tmp`` (as if it were solving them)."""
    engine = engine_for(tmp)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        sha = conn.execute(sa.text("SELECT sha256 FROM scenarios WHERE id = :id"), {"id": BUNDLED}).scalar_one()
        for job_id, status in (("c" * 32, "running"), ("d" * 32, "queued")):
            conn.execute(sa.insert(JobRow).values(id=job_id, kind="plan", status=status, request_json='{"kind": "plan", "target": 0.7}', request_key=status * 8, scenario_sha256=sha, scenario_id=BUNDLED, attempts=1, created_at=now))
    engine.dispose()


def _shown(tmp) -> str:
    return sa.make_url(database_url(tmp)).render_as_string(hide_password=True)


def test_a_second_app_on_the_same_database_refuses_to_start_and_touches_no_job(tmp_path):
    with make_client(tmp_path, warm_workers=False) as first:
        _add_jobs(tmp_path)
        with pytest.raises(DatabaseInUse) as refused, make_client(tmp_path, warm_workers=False):
            pass
        message = str(refused.value)
        assert "Another flowopt server is already using the database" in message
        assert _shown(tmp_path) in message and "FLOWOPT_DATABASE_URL" in message
        assert {k: v["status"] for k, v in _job_row(tmp_path).items()} == {"c" * 32: "running", "d" * 32: "queued"}
        assert first.get(f"/v1/jobs/{'c' * 32}").json()["status"] == "running"
        assert first.get("/v1/health").json()["database"]["ok"] is True
    # the first server gone, a new one starts, and only now are its jobs interrupted
    with make_client(tmp_path, warm_workers=False) as client:
        for job_id in ("c" * 32, "d" * 32):
            assert client.get(f"/v1/jobs/{job_id}").json()["error"]["code"] == "interrupted"


def _must_not_serve(*_args, **_kwargs):
    pytest.fail("flowopt serve started serving a database it must refuse")


@pytest.mark.backends("sqlite", "postgresql")
def test_flowopt_serve_refuses_a_database_in_use_with_exit_2(tmp_path, monkeypatch, capsys):
    url = database_url(tmp_path)
    held = lock_database(url)
    try:
        monkeypatch.setenv("FLOWOPT_DATABASE_URL", url)
        monkeypatch.setattr("uvicorn.run", _must_not_serve)
        with pytest.raises(SystemExit) as exited:
            serve(host="127.0.0.1", port=free_port())
    finally:
        held.release()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("flowopt serve: Another flowopt server is already using the database " + _shown(tmp_path))
    assert "Traceback" not in err


def test_flowopt_serve_names_an_unreachable_database_with_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("FLOWOPT_DATABASE_URL", "postgresql+psycopg://flowopt:secret-password@127.0.0.1:1/flowopt")
    monkeypatch.setattr("uvicorn.run", _must_not_serve)
    with pytest.raises(SystemExit) as exited:
        serve(host="127.0.0.1", port=free_port())
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "The database postgresql+psycopg://flowopt:***@127.0.0.1:1/flowopt cannot be opened" in err
    assert "secret-password" not in err and "Traceback" not in err


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
def test_a_second_flowopt_serve_process_exits_2_and_the_first_keeps_serving(tmp_path):
    first = Server(tmp_path, FLOWOPT_WORKERS="1").start()
    try:
        second = Server(tmp_path, FLOWOPT_WORKERS="1")
        done = subprocess.run(flowopt_command(), env=second.env, cwd=ROOT, capture_output=True, timeout=120, check=False)
        err = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 2, err
        assert "Another flowopt server is already using the database" in err and _shown(tmp_path) in err
        assert f"pid {first.proc.pid}" in err  # the holder is named
        assert "Traceback" not in err
        with first.client() as c:
            assert c.get("/v1/ready").status_code == 200
    finally:
        first.stop()
    Server(tmp_path, FLOWOPT_WORKERS="1").start().stop()  # the lock went with the first server


# ---------------------------------------------------------------------------------------------
# Text PostgreSQL cannot store
# ---------------------------------------------------------------------------------------------


def test_a_nul_character_in_a_name_is_refused_with_4xx(quiet_client):
    r = quiet_client.post("/v1/scenarios", json={**EXAMPLE_SCENARIO, "id": "nul_name", "name_zh": "园区\u0000"})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert quiet_client.get("/v1/scenarios/nul_name").status_code == 404


@pytest.mark.parametrize("url", ["postgresql://u:p@db.example/flowopt", "postgres://u:p@db.example/flowopt"])
def test_a_postgresql_url_without_a_driver_uses_the_bundled_psycopg(url):
    assert parse_url(url).drivername == "postgresql+psycopg"
    assert parse_url("sqlite:///x.db").drivername == "sqlite"
