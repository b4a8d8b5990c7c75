"""Helpers for the API tests: apps on temporary databases, and real servers on 127.0.0.1.

Apps built by :func:`make_client` run their lifespan (migrations, bundled scenario, solver
processes) inside ``with``; ``warm_workers=False`` keeps tests that never solve from starting
solver processes. :class:`Server` starts ``flowopt serve`` in its own process group, so a test
can kill the whole group and check that nothing survives.

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
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# Starlette 1.x asks for httpx2 in its test client; httpx (declared in dev) still works
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402

KEY = "test-key-0123456789abcdef"
KEY2 = "second-key-fedcba9876543210"
BUNDLED = "panzhihua_east_2025"
ROOT = Path(__file__).resolve().parents[2]


def settings(tmp: Path, **changes: Any) -> Settings:
    """Settings for a test app: a database in ``tmp``, one worker, two keys."""
    values: dict[str, Any] = {"data_dir": tmp, "workers": 1, "api_keys": (KEY, KEY2), "sync_wait_s": 20.0, "solve_time_limit_s": 20.0}
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
        self.env = {**os.environ, "FLOWOPT_DATA_DIR": str(data_dir), "FLOWOPT_HOST": "127.0.0.1", "FLOWOPT_PORT": str(self.port), "FLOWOPT_API_KEYS": f"{KEY},{KEY2}", "FLOWOPT_LOG_LEVEL": "warning", **env}
        self.env.pop("FLOWOPT_DATABASE_URL", None)
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
