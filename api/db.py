"""Storage: SQLAlchemy tables, the engine, and migrations run at startup.

Tables (the Alembic migrations in ``api/migrations`` create them; keep both in step, a test
compares them):

* ``scenario_contents`` - canonical scenario JSON keyed by its SHA-256; plans and jobs point
  here, so an inline scenario is stored once however often it is solved;
* ``scenarios`` - named scenarios (the id a client uses), each pointing at one content;
  immutable, the bundled park scenario is ``builtin``;
* ``jobs`` - one row per solve request that reached a worker (``kind`` = ``plan``, ``whatif``
  or ``sweep``), with status, request, error, result plan and, for the kinds whose answer is
  not just a plan, ``result_json`` (a what-if's plan ids, comparison and solve statistics; a
  sweep's target–cost curve);
* ``plans`` - one row per optimal, audited plan: the exact JSON document served, its SHA-256,
  and ``request_key`` (scenario hash + target + library version) for reuse;
* ``idempotency_keys`` - a client's ``Idempotency-Key`` -> the job it created.

SQLite (the default) runs in WAL mode with ``synchronous=FULL``, so a transaction reported
committed survives a kill of the process or the machine. Only portable SQL is used, so a
PostgreSQL URL works as well.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> dt.datetime:
    """Return the current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime | None) -> str | None:
    """Return ``t`` as an ISO 8601 UTC string with ``Z`` (SQLite returns naive datetimes)."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Base(DeclarativeBase):
    """Declarative base of the API's tables."""


class ScenarioContent(Base):
    """A canonical scenario document, stored once per content."""

    __tablename__ = "scenario_contents"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    document: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class ScenarioRow(Base):
    """A named scenario."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("scenario_contents.sha256"))
    name_zh: Mapped[str] = mapped_column(sa.String(200), default="")
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    year: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    rows_json: Mapped[str] = mapped_column(sa.Text)
    builtin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class JobRow(Base):
    """A solve request handed to the worker pool."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    request_json: Mapped[str] = mapped_column(sa.Text)
    request_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    scenario_sha256: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("scenario_contents.sha256"))
    scenario_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    plan_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    error_json: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    result_json: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)


class PlanRow(Base):
    """An optimal, audited plan and the exact document served for it."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("jobs.id"))
    request_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scenario_sha256: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("scenario_contents.sha256"))
    scenario_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    target: Mapped[float] = mapped_column(sa.Float)
    status: Mapped[str] = mapped_column(sa.String(16))
    utilization_rate: Mapped[float] = mapped_column(sa.Float)
    objective_cny: Mapped[float] = mapped_column(sa.Float)
    document: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class IdempotencyKey(Base):
    """A client's Idempotency-Key, scoped by the API key that sent it."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    job_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("jobs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit reported to a client survives power loss, not only a process kill
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        cur.close()


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite files get WAL mode and their folder is created.

    Args:
        url: SQLAlchemy database URL.

    Returns:
        The engine.
    """
    u = sa.make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    engine = sa.create_engine(u, **kwargs)
    if u.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Any]:
    """Return the session factory (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    """Return an Alembic config for ``api/migrations`` (bound to ``engine`` when given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration (run at every startup)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check_integrity(engine: Engine) -> None:
    """Fail fast on a damaged SQLite file instead of serving from it.

    Raises:
        RuntimeError: when ``PRAGMA quick_check`` reports damage, with what to do.
    """
    if engine.url.get_backend_name() != "sqlite":
        return
    with engine.connect() as conn:
        result = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    if result != ["ok"]:
        msg = f"The database {engine.url.database} is damaged ({'; '.join(result[:3])}). Restore it from a backup or move it away to start with an empty one."
        raise RuntimeError(msg)
