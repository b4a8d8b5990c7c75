"""Storage: migrations match the tables, SQLite durability settings, recovery after a crash."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_support import BUNDLED, ROOT, assert_problem, make_client

from api.db import Base, make_engine, migrate


def test_migrations_create_exactly_the_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _insert_jobs(db: str) -> None:
    with sqlite3.connect(db) as conn:
        sha = conn.execute("SELECT sha256 FROM scenarios WHERE id = ?", (BUNDLED,)).fetchone()[0]
        for job_id, status in (("a" * 32, "running"), ("b" * 32, "queued")):
            conn.execute(
                "INSERT INTO jobs (id, kind, status, request_json, request_key, scenario_sha256, scenario_id, attempts, created_at) VALUES (?, 'plan', ?, ?, ?, ?, ?, 1, '2025-01-01 00:00:00')",
                (job_id, status, '{"kind": "plan", "target": 0.7}', "k" * 64, sha, BUNDLED),
            )
        conn.execute("INSERT INTO idempotency_keys (key, fingerprint, job_id, created_at) VALUES ('anonymous:retry-me', 'f', ?, '2025-01-01 00:00:00')", ("a" * 32,))


def test_jobs_left_running_are_marked_failed_at_startup(tmp_path):
    with make_client(tmp_path, warm_workers=False):
        pass
    _insert_jobs(str(tmp_path / "flowopt-api.db"))
    with make_client(tmp_path, warm_workers=False) as client:
        for job_id in ("a" * 32, "b" * 32):
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "failed" and job["error"]["code"] == "interrupted" and job["finished_at"]
            assert job["error"]["status"] == 503


def test_an_interrupted_job_is_run_again_under_its_idempotency_key(tmp_path):
    with make_client(tmp_path, warm_workers=False, api_keys=()):
        pass
    _insert_jobs(str(tmp_path / "flowopt-api.db"))
    with make_client(tmp_path, api_keys=()) as client:
        body = {"scenario_id": BUNDLED, "target": 0.7}
        key = client.app.state.service.request_key(client.app.state.service.scenario_json(BUNDLED)[1], 0.7)
        with sqlite3.connect(str(tmp_path / "flowopt-api.db")) as conn:
            conn.execute("UPDATE idempotency_keys SET fingerprint = ?", (key,))
        r = client.post("/v1/plans", json=body, headers={"Idempotency-Key": "retry-me"})
        assert r.status_code == 201, r.text
        with sqlite3.connect(str(tmp_path / "flowopt-api.db")) as conn:
            (job_id,) = conn.execute("SELECT job_id FROM idempotency_keys").fetchone()
        assert job_id != "a" * 32
        again = client.post("/v1/plans", json=body, headers={"Idempotency-Key": "retry-me"})
        assert again.status_code == 200 and again.headers["location"] == r.headers["location"]


def test_a_damaged_database_stops_startup(tmp_path):
    with make_client(tmp_path, warm_workers=False):
        pass
    db = tmp_path / "flowopt-api.db"
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"flowopt-api.db{suffix}").unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    data[:16] = b"definitely wrong"
    db.write_bytes(bytes(data))
    with pytest.raises(sa.exc.DatabaseError), make_client(tmp_path, warm_workers=False):
        pass


def test_the_bundled_scenario_follows_the_data(tmp_path, monkeypatch):
    data = tmp_path / "park"
    shutil.copytree(ROOT / "data" / "panzhihua_east", data)
    monkeypatch.setenv("FLOWOPT_DATA", str(data))
    with make_client(tmp_path, warm_workers=False) as client:
        before = client.get(f"/v1/scenarios/{BUNDLED}").headers["etag"]
    manifest = data / "scenario.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("name_en: Panzhihua", "name_en: Updated Panzhihua", 1), encoding="utf-8")
    with make_client(tmp_path, warm_workers=False) as client:
        r = client.get(f"/v1/scenarios/{BUNDLED}")
        assert r.headers["etag"] != before and r.json()["name_en"].startswith("Updated")
        items = client.get("/v1/scenarios").json()["items"]
        assert [i["id"] for i in items] == [BUNDLED] and items[0]["builtin"]


def test_storage_failure_is_503_not_500(tmp_path):
    from api.db import session_factory
    from api.examples import EXAMPLE_SCENARIO

    with make_client(tmp_path, warm_workers=False) as client:
        service = client.app.state.service
        # a database that cannot be opened stands in for a full or vanished disk
        service.sessions = session_factory(sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"))
        r = client.post("/v1/scenarios", json={**EXAMPLE_SCENARIO, "id": "not_stored"})
        assert_problem(r, 503, "storage_unavailable")
        assert r.headers["retry-after"] == "5"
        assert_problem(client.get("/v1/plans"), 503, "storage_unavailable")
        ready = assert_problem(client.get("/v1/ready"), 503, "not_ready")
        assert ready["database"]["ok"] is False
        health = client.get("/v1/health")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
