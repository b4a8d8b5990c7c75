"""Storage: migrations match the tables (SQLite and PostgreSQL), SQLite durability settings,
recovery after a crash, and a database the server cannot use stopping startup.

Tests that used to open the SQLite file with ``sqlite3`` read and write the test's database
through SQLAlchemy (``api_support.engine_for``), so they run on both backends; the damaged-file
test is SQLite's own (PostgreSQL's twin: a schema from a newer flowopt stops startup too).
"""

from __future__ import annotations

import datetime as dt
import shutil

import alembic.util
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from api_support import BUNDLED, ROOT, assert_problem, database_url, engine_for, make_client

from api.db import Base, IdempotencyKey, JobRow, make_engine, migrate

OLD = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.mark.backends("sqlite", "postgresql")
def test_migrations_create_exactly_the_models(tmp_path, backend):
    engine = make_engine(database_url(tmp_path))
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        if backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        else:
            # times keep their zone (the API answers ISO 8601 UTC from them)
            types = dict(conn.exec_driver_sql("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'jobs'").all())
            assert {types[c] for c in ("created_at", "started_at", "finished_at")} == {"timestamp with time zone"}
            assert conn.execute(sa.select(sa.func.count()).select_from(JobRow)).scalar_one() == 0
    engine.dispose()


def _insert_jobs(tmp) -> None:
    """A running and a queued job (as a server killed mid-solve leaves them), and a key for one."""
    engine = engine_for(tmp)
    with engine.begin() as conn:
        sha = conn.execute(sa.text("SELECT sha256 FROM scenarios WHERE id = :id"), {"id": BUNDLED}).scalar_one()
        for job_id, status in (("a" * 32, "running"), ("b" * 32, "queued")):
            conn.execute(sa.insert(JobRow).values(id=job_id, kind="plan", status=status, request_json='{"kind": "plan", "target": 0.7}', request_key="k" * 64, scenario_sha256=sha, scenario_id=BUNDLED, attempts=1, created_at=OLD))
        conn.execute(sa.insert(IdempotencyKey).values(key="anonymous:retry-me", fingerprint="f", job_id="a" * 32, created_at=OLD))
    engine.dispose()


def _job_statuses(tmp) -> dict[str, str]:
    engine = engine_for(tmp)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(JobRow.id, JobRow.status)).all()
    engine.dispose()
    return dict(rows)


def test_jobs_left_running_are_marked_failed_at_startup(tmp_path):
    with make_client(tmp_path, warm_workers=False):
        pass
    _insert_jobs(tmp_path)
    with make_client(tmp_path, warm_workers=False) as client:
        for job_id in ("a" * 32, "b" * 32):
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "failed" and job["error"]["code"] == "interrupted" and job["finished_at"]
            assert job["error"]["status"] == 503


def test_an_interrupted_job_is_run_again_under_its_idempotency_key(tmp_path):
    with make_client(tmp_path, warm_workers=False, api_keys=()):
        pass
    _insert_jobs(tmp_path)
    with make_client(tmp_path, api_keys=()) as client:
        body = {"scenario_id": BUNDLED, "target": 0.7}
        key = client.app.state.service.request_key(client.app.state.service.scenario_json(BUNDLED)[1], 0.7)
        engine = engine_for(tmp_path)
        with engine.begin() as conn:
            conn.execute(sa.update(IdempotencyKey).values(fingerprint=key))
        r = client.post("/v1/plans", json=body, headers={"Idempotency-Key": "retry-me"})
        assert r.status_code == 201, r.text
        with engine.connect() as conn:
            job_id = conn.execute(sa.select(IdempotencyKey.job_id)).scalar_one()
        engine.dispose()
        assert job_id != "a" * 32
        again = client.post("/v1/plans", json=body, headers={"Idempotency-Key": "retry-me"})
        assert again.status_code == 200 and again.headers["location"] == r.headers["location"]


@pytest.mark.backends("sqlite")
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


def test_a_database_from_a_newer_flowopt_stops_startup_and_is_left_alone(tmp_path):
    """The twin of the damaged-file test that PostgreSQL can run: a schema this code does not
    know (migrated by a newer flowopt) stops startup before any job is touched."""
    with make_client(tmp_path, warm_workers=False):
        pass
    _insert_jobs(tmp_path)
    engine = engine_for(tmp_path)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    engine.dispose()
    with pytest.raises(alembic.util.CommandError, match="9999_from_the_future"), make_client(tmp_path, warm_workers=False):
        pass
    assert _job_statuses(tmp_path) == {"a" * 32: "running", "b" * 32: "queued"}


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
