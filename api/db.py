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
PostgreSQL URL (``postgresql+psycopg://...``) works as well; the API test suite runs on both.

One server per database: the solve queue and the jobs it runs live in the server's process,
and a starting server marks every job still queued or running as interrupted. So a server
holds :func:`lock_database` for its lifetime (a file lock beside a SQLite file, an advisory
lock on PostgreSQL) and a second one refuses to start (:class:`DatabaseInUse`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

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


def parse_url(url: str) -> sa.URL:
    """Parse a database URL; ``postgresql://`` and ``postgres://`` mean the bundled psycopg driver.

    SQLAlchemy would otherwise pick psycopg2 (not installed) for a URL without a driver, and
    does not know ``postgres://`` at all, a spelling many hosting services hand out.
    """
    u = sa.make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite files get WAL mode and their folder is created.

    Args:
        url: SQLAlchemy database URL (see :func:`parse_url`).

    Returns:
        The engine.
    """
    u = parse_url(url)
    # a server connection can drop (restart, idle timeout): test it before use; a SQLite file
    # connection cannot, and the ping would cost as much as the query it guards
    kwargs: dict[str, Any] = {"pool_pre_ping": u.get_backend_name() != "sqlite"}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        # requests run on up to 40 threads: with the default pool (5 kept, 10 more opened and
        # closed again) busy moments reopen connections and rerun the pragmas each time
        kwargs["pool_size"] = 16
        kwargs["max_overflow"] = 32
    elif u.get_backend_name() == "postgresql":
        # an unreachable server fails a request (503) after 10 s instead of hanging it
        kwargs["connect_args"] = {"connect_timeout": 10, "application_name": "flowopt-api"}
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


# ---------------------------------------------------------------------------------------------
# One server per database
# ---------------------------------------------------------------------------------------------

#: PostgreSQL advisory-lock key held by a running server: the first 8 bytes (big-endian,
#: signed) of SHA-256("flowopt-api: one server per database"). Advisory locks are local to a
#: database, so servers on different databases of one PostgreSQL cluster do not collide.
SERVER_LOCK_KEY = 595512368104473329


class DatabaseUnusable(RuntimeError):
    """The server cannot use this database; the message says why and what to do."""


class DatabaseInUse(DatabaseUnusable):
    """Another flowopt server holds the database (the message says which and what to do)."""


class ServerLock:
    """The lock a server holds on its database while it runs; :meth:`release` frees it.

    Args:
        what: what is locked, for logs (``/data/flowopt-api.db.lock``, ``advisory lock ...``).
        release: frees the lock; ``None`` when nothing is locked (an in-memory database).
    """

    def __init__(self, what: str, release: Callable[[], None] | None = None) -> None:
        self.what = what
        self._release = release

    def release(self) -> None:
        """Free the lock (idempotent; the process's death frees it too)."""
        release, self._release = self._release, None
        if release is not None:
            with contextlib.suppress(Exception):
                release()


def _in_use(shown: str, holder: str) -> DatabaseInUse:
    msg = (
        f"Another flowopt server is already using the database {shown} ({holder}). Run one server per database: "
        "the solve queue lives in the server's process, and a second server would mark the first one's running jobs as interrupted. "
        "Stop the other server first, or give this one its own database with FLOWOPT_DATA_DIR or FLOWOPT_DATABASE_URL."
    )
    return DatabaseInUse(msg)


def _lock_sqlite_file(database: str, shown: str) -> ServerLock:
    path = Path(database).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # flock, not fcntl/lockf: it belongs to this open file, so a second app in the same
        # process (or a forked child) conflicts too, and the kernel drops it when the process dies
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        raise _in_use(shown, f"{lock_path} is held by {holder or 'another process'}") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"flowopt server pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)

    def release() -> None:
        # the file stays: deleting it would race with a server that opened it meanwhile
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    return ServerLock(str(lock_path), release)


def _lock_postgresql(url: sa.URL, shown: str) -> ServerLock:
    name = f"flowopt server pid {os.getpid()} on {socket.gethostname()}"[:63]
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10, "application_name": name})
    try:
        # a connection of its own, in autocommit (never idle in a transaction), open for the
        # server's lifetime: the session-level advisory lock lives exactly as long as it does
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except BaseException:
        engine.dispose()
        raise
    try:
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": SERVER_LOCK_KEY}).scalar_one()
        if not got:
            unsigned = SERVER_LOCK_KEY & 0xFFFFFFFFFFFFFFFF
            holder = "another session holds its advisory lock"
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                row = conn.execute(
                    sa.text(
                        "SELECT a.pid, a.application_name, a.client_addr, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND l.classid::bigint = :hi AND l.objid::bigint = :lo AND l.objsubid = 1"
                    ),
                    {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
                ).first()
                if row is not None:
                    who = row.application_name or "an unnamed client"
                    where = f" from {row.client_addr}" if row.client_addr else ""
                    holder = f"{who}{where} holds its advisory lock (PostgreSQL backend pid {row.pid})"
            raise _in_use(shown, holder)
    except BaseException:
        conn.close()
        engine.dispose()
        raise

    def release() -> None:
        try:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": SERVER_LOCK_KEY})
            conn.close()
        finally:
            engine.dispose()

    return ServerLock(f"PostgreSQL advisory lock {SERVER_LOCK_KEY} on {shown}", release)


def lock_database(url: str) -> ServerLock:
    """Take the database's server lock, without waiting; hold it for the server's lifetime.

    SQLite: an exclusive ``flock`` on ``<database file>.lock`` (which names the holding
    process). PostgreSQL: ``pg_try_advisory_lock(SERVER_LOCK_KEY)`` on a connection of its own.
    An in-memory SQLite database needs no lock. Either lock goes when the process dies.

    Args:
        url: the SQLAlchemy database URL.

    Returns:
        The held lock.

    Raises:
        DatabaseInUse: another server holds it; the message names the database and what to do.
        DatabaseUnusable: a database other than SQLite or PostgreSQL.
        sqlalchemy.exc.OperationalError: PostgreSQL could not be reached.
        OSError: the lock file could not be created.
    """
    u = parse_url(url)
    shown = u.render_as_string(hide_password=True)
    backend = u.get_backend_name()
    if backend == "sqlite":
        if not u.database or u.database == ":memory:" or u.query.get("mode") == "memory":
            return ServerLock("in-memory database (no lock)")
        return _lock_sqlite_file(u.database, shown)
    if backend == "postgresql":
        return _lock_postgresql(u, shown)
    msg = f"flowopt supports SQLite and PostgreSQL databases, not {backend} ({shown}). Set FLOWOPT_DATABASE_URL to a sqlite:/// or postgresql+psycopg:// URL."
    raise DatabaseUnusable(msg)
