"""Solver worker process: one solve at a time, HiGHS with one thread, nothing shared.

The API process starts each worker with the ``spawn`` method (Pyomo's and HiGHS's locks are
not safe across ``fork``, and solves in threads of one process can hang; see the reliability
notes) and talks to it over a pipe:

* worker -> API, once: ``("ready", pid, highs_version)`` after imports and a warm-up solve;
* API -> worker: ``("solve", job_id, scenario, target, time_limit_s)`` or ``None`` to stop;
* worker -> API: ``("ok", job_id, plan_json)`` or ``("error", job_id, problem_document)``.

The worker dies with the API process: Linux delivers SIGKILL to it when its parent thread
ends (``PR_SET_PDEATHSIG``), and a watchdog thread exits if the parent disappears otherwise.
A solve that overruns its wall-clock limit is killed by the API, never left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1
#: Added to a worker's nice value (lower CPU priority than the API process).
NICENESS = 5


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(1.0)

    # the parent may have died before prctl took effect
    if os.getppid() != parent_pid:
        os._exit(0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _error_document(exc: BaseException) -> dict[str, Any]:
    from api.errors import ApiError, Code, from_library
    from flowopt.errors import FlowoptError

    if isinstance(exc, FlowoptError):
        try:
            return from_library(exc).document()
        except Exception:  # a library change the mapping does not know yet: keep the message
            traceback.print_exc(file=sys.stderr)
            code = exc.code if exc.code in ("input_invalid", "graph_invalid", "infeasible", "unbounded", "solver_limit", "solver_failure", "audit_failed") else "flowopt_error"
            return ApiError(code, str(exc).splitlines()[0]).document()
    # the traceback goes to the server's log, not to the client
    traceback.print_exc(file=sys.stderr)
    return ApiError(Code.internal_error, f"Unexpected {type(exc).__name__} in the solver process; the server log has the details.").document()


def solve(scenario: Any, target: float | None, time_limit_s: float) -> tuple[str, Any]:
    """Run the library pipeline once.

    Args:
        scenario: a validated :class:`flowopt.schema.Scenario`.
        target: target rate, or ``None`` for the scenario's own.
        time_limit_s: HiGHS time limit.

    Returns:
        ``("ok", plan_json)`` with the plan encoded as strict JSON, or ``("error", document)``
        with a problem document (see :mod:`api.errors`).
    """
    from flowopt.pipeline import run
    from flowopt.solve import SolveOptions

    try:
        plan = run(scenario, target_rate=target, options=SolveOptions(threads=1, time_limit_s=time_limit_s))
        return "ok", json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except Exception as exc:  # every failure goes back to the API as a problem document
        return "error", _error_document(exc)


def _warm_up() -> str:
    """Import the solver stack and solve the example once, so the first real job is fast."""
    from importlib.metadata import PackageNotFoundError, version

    from api.examples import EXAMPLE_SCENARIO
    from flowopt.checks import validated

    solve(validated(EXAMPLE_SCENARIO), None, 10.0)
    try:
        return version("highspy")
    except PackageNotFoundError:  # pragma: no cover - highspy always comes from a distribution
        return "unknown"


def worker_main(conn: Connection, parent_pid: int) -> None:
    """Entry point of a worker process: serve solve requests from ``conn`` until told to stop.

    Args:
        conn: this end of the pipe to the API process.
        parent_pid: pid of the API process (the worker exits when it goes away).
    """
    _die_with_parent(parent_pid)
    # solves yield the CPU to the API process, so health checks and reads stay fast under load
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)
    # Ctrl-C in a terminal reaches the whole process group; the API stops the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        highs_version = _warm_up()
        conn.send(("ready", os.getpid(), highs_version))
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            _, job_id, scenario, target, time_limit_s = message
            kind, payload = solve(scenario, target, time_limit_s)
            conn.send((kind, job_id, payload))
    except (BrokenPipeError, EOFError, OSError):
        return
    finally:
        with contextlib.suppress(OSError):
            conn.close()
