"""Helpers for the API tests: apps on temporary databases, and real servers on 127.0.0.1.

Apps built by :func:`make_client` run their lifespan (migrations, bundled scenario, solver
processes) inside ``with``; ``warm_workers=False`` keeps tests that never solve from starting
solver processes. :class:`Server` starts ``flowopt serve`` in its own process group, so a test
can kill the whole group and check that nothing survives.

Backends: every test that starts an app or a server runs once on SQLite and once on
PostgreSQL (``tests/api/conftest.py`` parametrizes them by :data:`BACKENDS`; the PostgreSQL
variants are skipped unless ``FLOWOPT_TEST_POSTGRES_URL`` names a server, see
:data:`POSTGRES_URL`). :func:`settings` and :class:`Server` put each ``tmp`` folder's app on
:func:`database_url` of the current backend: a SQLite file in the folder, or a fresh PostgreSQL
database created for the folder and dropped after the test.

Named ``api_support`` (not ``conftest``) so test modules can import it: the repository's
``tests/conftest.py`` already owns the module name ``conftest``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

# Starlette 1.x asks for httpx2 in its test client; httpx (declared in dev) still works
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402

KEY = "test-key-0123456789abcdef"
KEY2 = "second-key-fedcba9876543210"
BUNDLED = "panzhihua_east_2025"
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------
# Database backends
# ---------------------------------------------------------------------------------------------

#: URL of a PostgreSQL database through which the tests create and drop their own databases
#: (the role needs CREATEDB), e.g. postgresql+psycopg://flowopt:flowopt@127.0.0.1:5432/postgres.
#: Unset: the PostgreSQL variants of the tests are skipped. ``.ci/run`` sets it.
POSTGRES_URL = os.environ.get("FLOWOPT_TEST_POSTGRES_URL", "").strip()
BACKENDS = ("sqlite", "postgresql")
POSTGRES_SKIP_REASON = "PostgreSQL variant: set FLOWOPT_TEST_POSTGRES_URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/postgres (a role with CREATEDB) to run it; .ci/run does"

_backend = "sqlite"
#: tmp folder -> URL of the PostgreSQL database created for it (in creation order)
_pg_databases: dict[Path, str] = {}


def current_backend() -> str:
    """The backend the current test runs on: ``sqlite`` or ``postgresql``."""
    return _backend


def use_backend(name: str) -> None:
    """Make :func:`settings` and :class:`Server` use ``name`` (set by the ``backend`` fixture)."""
    global _backend
    if name not in BACKENDS:
        msg = f"unknown backend {name!r}"
        raise ValueError(msg)
    _backend = name


def _admin() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def database_url(tmp: Path) -> str:
    """The database of the app or server whose data folder is ``tmp``, on the current backend.

    SQLite: ``tmp/flowopt-api.db``. PostgreSQL: a database ``flowopt_t_<hex>`` created on the
    first call for ``tmp`` (later calls, e.g. for a restart, return the same one).
    """
    if _backend == "sqlite":
        return f"sqlite:///{(tmp / 'flowopt-api.db').resolve()}"
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    key = tmp.resolve()
    url = _pg_databases.get(key)
    if url is None:
        name = f"flowopt_t_{uuid.uuid4().hex}"
        engine = _admin()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        _pg_databases[key] = url
    return url


def pg_databases() -> list[Path]:
    """The tmp folders that have a PostgreSQL database now (see :func:`drop_pg_databases`)."""
    return list(_pg_databases)


def drop_pg_databases(folders: Iterable[Path]) -> None:
    """Drop the PostgreSQL databases of ``folders`` (closing any connection still open)."""
    folders = [f for f in folders if f in _pg_databases]
    if not folders:
        return
    engine = _admin()
    try:
        with engine.connect() as conn:
            for folder in folders:
                name = sa.make_url(_pg_databases.pop(folder)).database
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def engine_for(tmp: Path) -> sa.Engine:
    """An engine on the database of ``tmp`` for a test's own SQL (dispose it when done)."""
    return sa.create_engine(database_url(tmp), poolclass=sa.pool.NullPool)


def settings(tmp: Path, **changes: Any) -> Settings:
    """Settings for a test app: a database for ``tmp`` on the current backend, one worker, two keys."""
    values: dict[str, Any] = {"data_dir": tmp, "workers": 1, "api_keys": (KEY, KEY2), "sync_wait_s": 20.0, "solve_time_limit_s": 20.0, "rate_limit_per_s": 0.0}  # rate limit: test_api_attacks turns it on
    if _backend != "sqlite":
        values["database_url"] = database_url(tmp)
    values.update(changes)
    return Settings(**values)


@contextlib.contextmanager
def make_client(tmp: Path, **changes: Any) -> Iterator[TestClient]:
    """Yield a TestClient over an app with its lifespan running."""
    app = create_app(settings(tmp, **changes))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["X-API-Key"] = KEY
        yield client


def wait_ready(client: TestClient | httpx.Client, timeout: float = 90.0) -> None:
    """Wait until ``GET /v1/ready`` answers 200."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            last = client.get("/v1/ready")
            if last.status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"not ready after {timeout} s: {last.text if last is not None else 'no answer'}")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Check that ``response`` is a problem document with this status and code; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    doc = response.json()
    assert doc["code"] == code, doc
    assert doc["status"] == status
    assert doc["title"] and doc["title_zh"] and doc["detail"] and doc["detail_zh"]
    return doc


# ---------------------------------------------------------------------------------------------
# Real servers
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_members(pgid: int) -> list[int]:
    """Return the pids of live (non-zombie) processes in process group ``pgid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            out.append(int(entry.name))
    return sorted(out)


def flowopt_command() -> list[str]:
    """The installed ``flowopt`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("flowopt")
    if not script.exists():
        pytest.skip("the flowopt console script is not installed in this environment (pip install -e .)")
    return [str(script), "serve"]


class Server:
    """``flowopt serve`` on 127.0.0.1 in its own process group, with a database in ``data_dir``."""

    def __init__(self, data_dir: Path, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        inherited = {k: v for k, v in os.environ.items() if k != "FLOWOPT_DATABASE_URL"}
        self.env = {**inherited, "FLOWOPT_DATA_DIR": str(data_dir), "FLOWOPT_HOST": "127.0.0.1", "FLOWOPT_PORT": str(self.port), "FLOWOPT_API_KEYS": f"{KEY},{KEY2}", "FLOWOPT_LOG_LEVEL": "warning", "FLOWOPT_RATE_LIMIT_PER_S": "0"}
        if _backend != "sqlite":
            self.env["FLOWOPT_DATABASE_URL"] = database_url(data_dir)
        self.env.update(env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 90.0) -> Server:
        """Start the server and wait until it is ready."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(flowopt_command(), env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"flowopt serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if c.get("/v1/ready").status_code == 200:
                        return self
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"flowopt serve not ready after {timeout} s:\n{self.log.read_text()[-3000:]}")

    def wait_workers(self, timeout: float = 90.0) -> dict[str, Any]:
        """Wait until every solver process is warm (ready answers as soon as one is)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as c:
            while True:
                health = c.get("/v1/health").json()
                solver = health["solver"]
                if solver["workers_ready"] == solver["workers_configured"] or time.monotonic() > deadline:
                    return dict(health)
                time.sleep(0.1)

    @property
    def pgid(self) -> int:
        """The server's process group (its pid: it leads a new session)."""
        assert self.proc is not None
        return self.proc.pid

    def client(self, **kwargs: Any) -> httpx.Client:
        """Return an HTTP client for this server with the write key set."""
        return httpx.Client(base_url=self.url, headers={"X-API-Key": KEY}, timeout=kwargs.pop("timeout", 60), **kwargs)

    def kill(self) -> None:
        """SIGKILL the whole process group (server, solver processes, helpers)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then make sure nothing of the group is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        deadline = time.monotonic() + 10
        while group_members(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_members(self.pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
