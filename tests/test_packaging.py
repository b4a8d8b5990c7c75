"""The wheel works from anywhere: data and API inside it, no ``sys.path`` edits, ``--version``.

``test_the_wheel_works_outside_the_checkout`` builds the wheel, installs it into a fresh virtual
environment and runs ``flowopt --version``, ``solve``, ``pathway`` and ``serve`` (health answers)
from a folder outside the checkout. By default the new environment borrows the dependencies of
the environment running the tests (fast, offline; the wheel itself is installed with
``--no-deps``, so only what the wheel holds is flowopt's); with
``FLOWOPT_TEST_WHEEL_DEPS=index`` (``.ci/run`` sets it) ``pip install 'WHEEL[api]'`` resolves
every dependency from the package index, as a user's install does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

import flowopt
from flowopt import bundled

ROOT = Path(__file__).resolve().parents[1]
#: What the tree copy for the build leaves out (environments, caches, earlier builds).
_SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "out", "*.db", "*.db-*")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_one_number_everywhere(capsys):
    from flowopt.cli import main

    declared = _pyproject()["project"]["version"]
    assert flowopt.__version__ == declared
    assert bundled.version() == declared
    with pytest.raises(SystemExit) as exc:  # argparse exits after printing the version
        from flowopt.cli import _parser

        _parser().parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowopt {declared}"
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"flowopt {declared}"


def test_bundled_data_resolve_to_the_checkout_or_the_package(monkeypatch, tmp_path):
    # from a checkout (or an editable install) the top-level data/ folder is the bundled data
    assert bundled.default_data_dir() == ROOT / "data" / "panzhihua_east"
    assert (bundled.bundled_root() / "panzhihua_east_2023" / "scenario.yaml").is_file()
    monkeypatch.setenv("FLOWOPT_DATA", str(tmp_path))
    assert bundled.default_data_dir() == tmp_path


def test_cli_has_no_sys_path_edits():
    text = (ROOT / "flowopt" / "cli.py").read_text(encoding="utf-8")
    assert "sys.path" not in text


def test_the_readme_install_command_brings_the_api():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()[0]
    assert "pip install" in first and "[api" in first.replace('"', "").replace("'", ""), first
    extras = _pyproject()["project"]["optional-dependencies"]
    assert {"api", "dev", "dask"} <= set(extras)
    assert any(d.startswith("fastapi") for d in extras["api"]) and any(d.startswith("uvicorn") for d in extras["api"])


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the tree (the build leaves nothing in the checkout)."""
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_SKIP)
    out = tmp / "wheel"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)]
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:  # too old for the project's metadata: let pip fetch one
        cmd.remove("--no-build-isolation")
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = out.glob("flowopt-*.whl")
    return wheel


def _venv(tmp: Path, wheel: Path) -> Path:
    """A fresh virtual environment with the wheel installed; returns its ``bin`` folder."""
    env_dir = tmp / "venv"
    from_index = os.environ.get("FLOWOPT_TEST_WHEEL_DEPS") == "index"
    subprocess.run([sys.executable, "-m", "venv", *([] if from_index else ["--without-pip"]), str(env_dir)], check=True, timeout=300)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    if from_index:
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", f"{wheel}[api]"], check=True, timeout=1800)
        return bin_dir
    target = Path(subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, text=True, timeout=300)
    # the dependencies (numpy, HiGHS, FastAPI …) of the running environment, appended after the
    # new environment's own packages; a .pth line only adds the folder (the .pth files inside
    # it, such as an editable install's import hook, are not run), so `flowopt` and `api` come
    # from the wheel
    (target / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return bin_dir


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWOPT_", "PYTHON", "VIRTUAL_ENV"))}
    env["FLOWOPT_DATA_DIR"] = str(tmp / "server")
    env["FLOWOPT_LOG_LEVEL"] = "warning"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.heavy
def test_the_wheel_works_outside_the_checkout(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    # the bundled data, the API and its non-Python files are inside the wheel
    for name in ("flowopt/bundled_data/panzhihua_east/scenario.yaml", "flowopt/bundled_data/panzhihua_east/pathway.yaml", "flowopt/bundled_data/panzhihua_east_2023/streams.csv", "flowopt/bundled_data/panzhihua_east/whatifs/batch.yaml", "flowopt/formulation/assemble.py", "api/main.py", "api/routes/viewer.py", "api/static/index.html", "api/static/viewer.js", "api/alembic.ini", "api/openapi.json", "api/example_plan.json", "api/migrations/env.py", "api/migrations/script.py.mako", "api/migrations/versions/0001_initial.py"):
        assert name in names, name
    assert not any(n.startswith(("tests/", "data/", "benchmarks/")) for n in names)
    bin_dir = _venv(tmp_path, wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = _env(tmp_path)
    flowopt_exe = str(bin_dir / "flowopt")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([flowopt_exe, *args], cwd=work, env=env, capture_output=True, text=True, timeout=600)

    where = subprocess.run([str(bin_dir / "python"), "-c", "import flowopt, api; print(flowopt.__file__); print(api.__file__)"], cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(str(ROOT) not in w for w in where), where  # the installed copies, not the checkout

    res = run("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"flowopt {flowopt.__version__}"
    res = run("solve")
    assert res.returncode == 0, res.stderr
    assert "audit: passed" in res.stdout
    res = run("pathway", "--json")
    assert res.returncode == 0, res.stderr
    assert '"status": "optimal"' in res.stdout
    res = run("solve", str(Path(where[0]).parent / "bundled_data" / "panzhihua_east_2023"))
    assert res.returncode == 1 and "24.58%" in res.stderr + res.stdout  # the 2023 park's honest answer (data/panzhihua_east_2023/README.md)

    port = _free_port()
    server = subprocess.Popen([flowopt_exe, "serve", "--port", str(port)], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=5) as r:
                status = r.status
                break
            time.sleep(0.3)
        assert status == 200, server.stdout.read().decode() if server.poll() is not None and server.stdout else "no answer"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:  # the viewer page ships too
            assert r.status == 200 and b"viewer.js" in r.read()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
