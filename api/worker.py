"""Solver worker process: one solve at a time, HiGHS with one thread, nothing shared.

The API process starts each worker with the ``spawn`` method (Pyomo's and HiGHS's locks are
not safe across ``fork``, and solves in threads of one process can hang; see the reliability
notes) and talks to it over a pipe:

* worker -> API, once: ``("ready", pid, highs_version)`` after imports, a warm-up solve and
  the what-if sessions of the preloaded scenarios (the bundled park);
* API -> worker, one message at a time, or ``None`` to stop:

  - ``("solve", job_id, scenario, target, time_limit_s)``: one plan;
  - ``("whatif", job_id, spec, time_limit_s)``: the base plan and/or the what-if plan of
    ``spec`` (see :func:`whatif`), solved in the process's :class:`~flowopt.whatif.WhatIfSession`
    for the base scenario's hash (kept between messages, so what-ifs of one base re-solve warm);
  - ``("sweep", job_id, spec, time_limit_s)``: a target–cost curve (see :func:`sweep`);
  - ``("investment", job_id, spec, time_limit_s)``: which candidates to build (see :func:`investment`);
  - ``("risk", job_id, spec, time_limit_s)``: how likely the target is (see :func:`risk`); the
    worker reports ``("progress", job_id, done, total, what)`` after each block of samples;

* worker -> API: ``("ok", job_id, payload)`` (``plan_json`` for ``solve``, a dict for the others)
  or ``("error", job_id, problem_document)``, or ``("need_base", job_id, None)`` when a
  what-if came without its base (the pool leaves it out once the process holds its session)
  and the session is gone: the pool then sends the task again, base included.

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
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any

_PR_SET_PDEATHSIG = 1
#: Added to a worker's nice value (lower CPU priority than the API process).
NICENESS = 5
#: Live what-if sessions (base scenarios) one worker process keeps, least recently used dropped.
MAX_SESSIONS = 4

#: The answer to a what-if whose base was left out but whose session this process lacks.
NEED_BASE = "need_base"
#: base scenario SHA-256 -> its live :class:`flowopt.whatif.WhatIfSession` in this process
_sessions: OrderedDict[str, Any] = OrderedDict()


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
        return "ok", _plan_json(plan)
    except Exception as exc:  # every failure goes back to the API as a problem document
        return "error", _error_document(exc)


def _plan_json(plan: Any) -> str:
    return json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _has_session(sha: str, time_limit_s: float) -> bool:
    """True when this process keeps a live what-if session of base ``sha``."""
    session = _sessions.get(sha)
    return session is not None and session.options.time_limit_s == time_limit_s


def _session(sha: str, base: Any, time_limit_s: float) -> tuple[Any, bool]:
    """Return ``(session, reused)``: this process's live what-if session for base ``sha``."""
    from flowopt.solve import SolveOptions
    from flowopt.whatif import WhatIfSession

    session = _sessions.get(sha)
    if session is not None and session.options.time_limit_s == time_limit_s:
        _sessions.move_to_end(sha)
        return session, True
    session = WhatIfSession(base, SolveOptions(threads=1, time_limit_s=time_limit_s))
    _sessions[sha] = session
    _sessions.move_to_end(sha)
    while len(_sessions) > MAX_SESSIONS:
        _sessions.popitem(last=False)
    return session, False


def whatif(spec: dict[str, Any], time_limit_s: float) -> tuple[str, Any]:
    """Solve what a what-if job still needs, in the live session of its base scenario.

    Args:
        spec: ``base_sha`` and ``base`` (the base scenario; ``None`` when the pool knows this
            process holds its session already), ``whatif_doc`` (the what-if scenario's JSON)
            and ``target`` (the what-if's), ``need_base`` / ``need_whatif`` (False when the
            API found that plan stored already).
        time_limit_s: HiGHS time limit per solve.

    Returns:
        ``("ok", {"base_plan", "whatif_plan", "solve", "whatif_error"})`` with plan JSON texts
        (``None`` when not needed), the what-if's solve statistics and, when the what-if has no
        plan (an infeasible target, say), its problem document; ``("error", document)`` when
        the base has no plan (``failed_plan: "base"``) or the process failed; ``(NEED_BASE,
        None)`` when the base was left out but its session is not here (dropped as least
        recently used): the pool sends the task again with the base.
    """
    from flowopt.errors import FlowoptError
    from flowopt.schema import Scenario

    out: dict[str, Any] = {"base_plan": None, "whatif_plan": None, "solve": None, "whatif_error": None}
    if not (spec["need_base"] or spec["need_whatif"]):
        return "ok", out
    sha = spec["base_sha"]
    if spec.get("base") is None and not _has_session(sha, time_limit_s):
        return NEED_BASE, None  # the pool left the base out, expecting this session: send it
    try:
        session, reused = _session(sha, spec.get("base"), time_limit_s)
        if spec["need_base"]:
            try:
                out["base_plan"] = _plan_json(session.solve(spec["base"]))
            except FlowoptError as exc:
                doc = _error_document(exc)
                doc["detail"] = "The base scenario has no plan at its own target: " + doc["detail"]
                doc["failed_plan"] = "base"
                return "error", doc
        if spec["need_whatif"]:
            t0 = time.perf_counter()
            # the what-if comes as its JSON document (the API has it for the content hash):
            # cheaper to send than a pickled scenario
            whatif_scenario = Scenario.model_validate_json(spec["whatif_doc"])
            if whatif_scenario.policy.target_rate != spec["target"]:
                whatif_scenario = whatif_scenario.model_copy(update={"policy": whatif_scenario.policy.model_copy(update={"target_rate": spec["target"]})})
            try:
                plan = session.solve(whatif_scenario)
            except FlowoptError as exc:
                doc = _error_document(exc)
                doc["failed_plan"] = "whatif"
                out["whatif_error"] = doc
                return "ok", out
            out["whatif_plan"] = _plan_json(plan)
            stats = session.stats
            out["solve"] = {"warm": bool(stats.warm), "seconds": time.perf_counter() - t0, "lp_seconds": float(stats.seconds), "simplex_iterations": int(stats.simplex_iterations), "session_reused": reused, "reused": False}
        return "ok", out
    except Exception as exc:  # a broken session is not kept for the next what-if
        _sessions.pop(sha, None)
        return "error", _error_document(exc)


def sweep(spec: dict[str, Any], time_limit_s: float) -> tuple[str, Any]:
    """Compute a target–cost curve (``flowopt.sweep.target_cost_curve``).

    Args:
        spec: ``scenario``, ``from``, ``to``, ``step`` (checked by the API).
        time_limit_s: HiGHS time limit per solve.

    Returns:
        ``("ok", {"curve": curve_json})`` or ``("error", problem_document)``.
    """
    from flowopt.solve import SolveOptions
    from flowopt.sweep import target_cost_curve

    try:
        curve = target_cost_curve(spec["scenario"], spec["from"], spec["to"], step=spec["step"], options=SolveOptions(threads=1, time_limit_s=time_limit_s))
        return "ok", {"curve": json.dumps(curve.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":"))}
    except Exception as exc:
        return "error", _error_document(exc)


def investment(spec: dict[str, Any], time_limit_s: float) -> tuple[str, Any]:
    """Choose the candidates to build (``flowopt.invest.solve_investment``).

    Args:
        spec: ``scenario``, ``target``, ``budget_cny``, ``build``, ``skip``, ``gap``, ``explain``
            (checked by the API).
        time_limit_s: HiGHS time limit per MILP solve.

    Returns:
        ``("ok", {"investment": result_json})`` (also when no build set meets the target: the
        result says ``infeasible`` with its diagnosis) or ``("error", problem_document)``.
    """
    from flowopt.invest import solve_investment
    from flowopt.solve import SolveOptions

    try:
        explain = bool(spec.get("explain", True))
        result = solve_investment(spec["scenario"], target_rate=spec.get("target"), budget_cny=spec.get("budget_cny"), build=spec.get("build") or (), skip=spec.get("skip") or (), gap=float(spec.get("gap", 1e-4)), options=SolveOptions(threads=1, time_limit_s=time_limit_s), explain=explain, decision_values=explain, break_even=explain)
        return "ok", {"investment": json.dumps(result.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":"))}
    except Exception as exc:
        return "error", _error_document(exc)


def risk(spec: dict[str, Any], time_limit_s: float, progress: Any = None) -> tuple[str, Any]:
    """Sample the scenario's uncertain inputs and report how likely its target is (``flowopt.risk.run_risk``).

    The samples are solved here, one after the other (this process is the unit of parallelism
    of the API); ``progress(done, total, what)`` is called after each block.

    Args:
        spec: ``scenario``, ``target``, ``samples``, ``seed``, ``method``, ``tolerance``, ``rows``
            (checked by the API).
        time_limit_s: HiGHS time limit per solve.
        progress: the progress callback, or ``None``.

    Returns:
        ``("ok", {"risk": result_json})`` (without the per-sample rows unless ``rows``) or
        ``("error", problem_document)``.
    """
    from flowopt.risk import run_risk
    from flowopt.solve import SolveOptions

    try:
        result = run_risk(spec["scenario"], samples=int(spec["samples"]), seed=int(spec["seed"]), target=spec.get("target"), method=spec.get("method", "lhs"), tolerance=float(spec.get("tolerance", 0.04)), workers=1, options=SolveOptions(threads=1, time_limit_s=time_limit_s), progress=progress)
        doc = result.model_dump(mode="json") if spec.get("rows") else {**result.summary(), "rows": []}
        return "ok", {"risk": json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))}
    except Exception as exc:
        return "error", _error_document(exc)


def _preload(preload: list[tuple[str, Any]], time_limit_s: float) -> None:
    """Build the what-if sessions of the preloaded scenarios (failures only cost warmth)."""
    for sha, scenario in preload:
        try:
            _session(sha, scenario, time_limit_s)
        except Exception:
            traceback.print_exc(file=sys.stderr)


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


def worker_main(conn: Connection, parent_pid: int, preload: list[tuple[str, Any]] | None = None, time_limit_s: float = 30.0) -> None:
    """Entry point of a worker process: serve solve requests from ``conn`` until told to stop.

    Args:
        conn: this end of the pipe to the API process.
        parent_pid: pid of the API process (the worker exits when it goes away).
        preload: ``(sha256, scenario)`` pairs whose what-if sessions are built before ``ready``.
        time_limit_s: HiGHS time limit of the preloaded sessions (the pool's).
    """
    _die_with_parent(parent_pid)
    # solves yield the CPU to the API process, so health checks and reads stay fast under load
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)
    # Ctrl-C in a terminal reaches the whole process group; the API stops the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        highs_version = _warm_up()
        _preload(preload or [], time_limit_s)
        conn.send(("ready", os.getpid(), highs_version))
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            op, job_id = message[0], message[1]
            if op == "solve":
                _, _, scenario, target, limit_s = message
                kind, payload = solve(scenario, target, limit_s)
            elif op == "whatif":
                kind, payload = whatif(message[2], message[3])
            elif op == "sweep":
                kind, payload = sweep(message[2], message[3])
            elif op == "investment":
                kind, payload = investment(message[2], message[3])
            elif op == "risk":

                def report(done: int, total: int, what: str, job: Any = job_id) -> None:
                    conn.send(("progress", job, done, total, what))

                kind, payload = risk(message[2], message[3], report)
            else:  # pragma: no cover - the pool sends only the kinds above
                kind, payload = "error", _error_document(ValueError(f"unknown message {op!r}"))
            conn.send((kind, job_id, payload))
    except (BrokenPipeError, EOFError, OSError):
        return
    finally:
        with contextlib.suppress(OSError):
            conn.close()
