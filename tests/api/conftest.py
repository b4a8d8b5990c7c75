"""Fixtures for the API tests (helpers live in ``api_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Server, make_client, wait_ready
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def solver_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with one warm solver process, shared by a module's tests."""
    with make_client(tmp_path_factory.mktemp("api")) as client:
        wait_ready(client)
        yield client


@pytest.fixture
def quiet_client(tmp_path: Path) -> Iterator[TestClient]:
    """An app whose solver process starts only if a test solves."""
    with make_client(tmp_path, warm_workers=False) as client:
        yield client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``flowopt serve`` shared by a module's tests (two solver processes)."""
    srv = Server(tmp_path_factory.mktemp("server"), FLOWOPT_WORKERS="2", FLOWOPT_SYNC_WAIT_S="30")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
