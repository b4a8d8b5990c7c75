"""Fixtures for the API tests (helpers live in ``api_support``).

Every test that starts an app or a server (its code, or a fixture it uses, calls
``make_client(`` or ``Server(``) runs once per database backend, ``[sqlite]`` and
``[postgresql]``; the PostgreSQL variants are skipped unless ``FLOWOPT_TEST_POSTGRES_URL`` is
set (see ``api_support.POSTGRES_URL``). ``@pytest.mark.backends("sqlite")`` limits a test to
the named backends (a test that opens the SQLite file itself, a PostgreSQL-only twin). A
module- or class-scoped fixture that starts an app must take the ``backend`` fixture, so that
it is built once per backend.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import api_support
import pytest
from api_support import (
    BACKENDS,
    POSTGRES_SKIP_REASON,
    POSTGRES_URL,
    Server,
    make_client,
    wait_ready,
)
from fastapi.testclient import TestClient

#: Source text that marks a test or fixture as starting an app or a server.
_STARTS_APP = ("make_client(", "Server(")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run this API test only on these database backends (sqlite, postgresql)")


def _source(obj: object) -> str:
    try:
        return inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def _starts_app(metafunc: pytest.Metafunc) -> bool:
    if any(s in _source(metafunc.function) for s in _STARTS_APP):
        return True
    # pytest keeps the fixture definitions of a test here (no public accessor)
    defs = getattr(metafunc, "_arg2fixturedefs", {})
    for name in metafunc.fixturenames:
        for fixturedef in defs.get(name, ()):
            if fixturedef.scope != "function" and "backend" not in fixturedef.argnames:
                continue  # built once whatever the backend: do not pretend it ran twice
            if any(s in _source(fixturedef.func) for s in _STARTS_APP):
                return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None:
        names = list(marker.args)
    elif _starts_app(metafunc):
        names = list(BACKENDS)
    else:
        return
    params = [pytest.param(n, id=n, marks=pytest.mark.skip(reason=POSTGRES_SKIP_REASON) if n == "postgresql" and not POSTGRES_URL else ()) for n in names]
    metafunc.parametrize("backend", params, indirect=True, scope="module")


@pytest.fixture(scope="module", autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The database backend of the tests (``sqlite`` unless parametrized)."""
    name = getattr(request, "param", "sqlite")
    before = set(api_support.pg_databases())
    api_support.use_backend(name)
    try:
        yield name
    finally:
        api_support.use_backend("sqlite")
        api_support.drop_pg_databases([f for f in api_support.pg_databases() if f not in before])


@pytest.fixture(autouse=True)
def _drop_test_databases(backend: str) -> Iterator[None]:
    """Drop the PostgreSQL databases a test created (those of module fixtures stay)."""
    before = set(api_support.pg_databases())
    yield
    if backend == "postgresql":
        api_support.drop_pg_databases([f for f in api_support.pg_databases() if f not in before])


@pytest.fixture(scope="module")
def solver_client(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with one warm solver process, shared by a module's tests."""
    with make_client(tmp_path_factory.mktemp("api")) as client:
        wait_ready(client)
        yield client


@pytest.fixture
def quiet_client(backend: str, tmp_path: Path) -> Iterator[TestClient]:
    """An app whose solver process starts only if a test solves."""
    with make_client(tmp_path, warm_workers=False) as client:
        yield client


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``flowopt serve`` shared by a module's tests (two solver processes)."""
    srv = Server(tmp_path_factory.mktemp("server"), FLOWOPT_WORKERS="2", FLOWOPT_SYNC_WAIT_S="30")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
