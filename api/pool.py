"""Solver pool: a bounded queue of solve tasks served by spawned worker processes.

Stage: :class:`Task` -> worker process (:mod:`api.worker`) -> ``on_done(task, result)``.
Tasks are plan solves, what-ifs (a warm session per base scenario in each process) or sweeps;
all share the queue, the one-job-at-a-time processes and the wall-clock kill.

One supervisor thread per worker slot takes the next task, hands it to its process and waits
for the answer for at most the wall-clock limit; on overrun it kills the process (SIGKILL),
reaps it, reports ``solve_timeout`` and starts a fresh process for the next task. A process
that dies mid-solve is reported as ``worker_crashed``. Processes are replaced after
``max_jobs`` solves so slow leaks cannot accumulate. Nothing here touches the database: the
service stores results in ``on_done``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing as mp
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from api.errors import ApiError, Code
from api.worker import NEED_BASE, worker_main

logger = logging.getLogger("flowopt.api.pool")

#: Seconds a new worker process may take to import the solver stack and warm up.
STARTUP_TIMEOUT_S = 180.0


@dataclass
class Task:
    """One job to run in a worker process.

    Attributes:
        job_id: the job's id (echoed in the result).
        scenario: validated :class:`flowopt.schema.Scenario` (``plan``; else the one the job
            is about, for the record).
        target: target rate or ``None`` for the scenario's own (``plan``).
        kind: ``plan`` (one solve), ``whatif``, ``sweep``, ``investment`` or ``risk`` (see :mod:`api.worker`).
        spec: what a ``whatif`` or ``sweep`` job needs (sent to the worker as it is; the
            service may update it in ``on_start``, just before it is sent).
    """

    job_id: str
    scenario: Any
    target: float | None
    kind: str = "plan"
    spec: dict[str, Any] | None = None


@dataclass
class Result:
    """What became of a task: ``plan_json`` (``plan``) or ``payload`` (other kinds), else ``error``."""

    plan_json: str | None = None
    error: ApiError | None = None
    seconds: float = 0.0
    payload: Any = None


@dataclass
class PoolStatus:
    """A snapshot of the pool for health and readiness."""

    configured: int
    alive: int
    ready: int
    busy: int
    queued: int
    capacity: int
    highs_version: str | None
    accepting: bool


@dataclass
class _Slot:
    index: int
    proc: Any = None
    conn: Connection | None = None
    ready: bool = False
    jobs_done: int = 0
    #: base scenarios whose what-if session the process holds (preloaded or sent before)
    bases: set[str] = field(default_factory=set)
    busy_job: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


class SolverPool:
    """Bounded queue plus ``workers`` worker processes; see the module docstring.

    Args:
        workers: number of worker processes (and supervisor threads).
        queue_size: tasks that may wait for a worker; :meth:`has_room` turns false beyond.
        time_limit_s: HiGHS time limit passed to every solve.
        wall_limit_s: wall-clock seconds after which a solve's process is killed.
        max_jobs: solves before a worker process is replaced.
        warm: start the processes at once instead of on the first task.
        on_start: called with a task when a worker takes it (from a supervisor thread).
        on_done: called with a task and its :class:`Result` (from a supervisor thread).
        on_progress: called with a task, steps done, steps in all and the last step, when its
            worker reports progress (risk runs do, after each block of samples).
    """

    def __init__(self, *, workers: int, queue_size: int, time_limit_s: float, wall_limit_s: float, max_jobs: int, warm: bool, on_start: Callable[[Task], None], on_done: Callable[[Task, Result], None], on_progress: Callable[[Task, int, int, str], None] | None = None) -> None:
        #: ``(sha256, scenario)`` pairs every new worker process loads as warm what-if sessions
        #: (set by the service before :meth:`start`: the bundled park)
        self.preload: list[tuple[str, Any]] = []
        self.workers = workers
        self.queue_size = queue_size
        self.time_limit_s = time_limit_s
        self.wall_limit_s = wall_limit_s
        self.max_jobs = max_jobs
        self.warm = warm
        self._on_start = on_start
        self._on_done = on_done
        self._on_progress = on_progress
        self._queue: deque[Task] = deque()
        self._cv = threading.Condition()
        self._stopping = False
        self._slots = [_Slot(i) for i in range(workers)]
        self._ctx = mp.get_context("spawn")
        self._avg_s = 1.0
        self.highs_version: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start one supervisor thread per slot (and, if ``warm``, its process)."""
        for slot in self._slots:
            slot.thread = threading.Thread(target=self._serve, args=(slot,), name=f"flowopt-solver-{slot.index}", daemon=True)
            slot.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting tasks, end the processes (killing running solves) and join threads.

        Tasks still waiting are reported to ``on_done`` as ``interrupted``.
        """
        with self._cv:
            self._stopping = True
            waiting = list(self._queue)
            self._queue.clear()
            self._cv.notify_all()
        for task in waiting:
            self._finish(task, Result(error=ApiError(Code.interrupted, "The server stopped before this job started; submit it again.")))
        # a busy or starting process is killed; its supervisor sees the pipe close and cleans
        # up, while idle supervisors wake up and stop their processes gracefully
        for slot in self._slots:
            proc = slot.proc
            if proc is not None and (slot.busy_job is not None or not slot.ready):
                with contextlib.suppress(Exception):
                    proc.kill()
        deadline = time.monotonic() + timeout
        for slot in self._slots:
            if slot.thread is not None:
                slot.thread.join(max(0.0, deadline - time.monotonic()))
            if slot.thread is None or not slot.thread.is_alive():
                self._end_process(slot, graceful=False)
            elif slot.proc is not None:
                with contextlib.suppress(Exception):
                    slot.proc.kill()

    # -- queue ----------------------------------------------------------------------------

    def has_room(self, reserved: int = 0) -> bool:
        """True when a task submitted now would be accepted.

        Args:
            reserved: places already promised to tasks not submitted yet (counted as queued).
        """
        with self._cv:
            return not self._stopping and len(self._queue) + reserved < self.queue_size

    def submit(self, task: Task) -> bool:
        """Queue ``task``; return False (and do nothing) when the queue is full or stopping."""
        with self._cv:
            if self._stopping or len(self._queue) >= self.queue_size:
                return False
            self._queue.append(task)
            self._cv.notify()
            return True

    def position(self, job_id: str) -> int | None:
        """Return the 1-based place of a waiting job in the queue, or ``None``."""
        with self._cv:
            for i, task in enumerate(self._queue, 1):
                if task.job_id == job_id:
                    return i
        return None

    def retry_after_s(self) -> int:
        """Seconds a client should wait before retrying when the queue is full (1 to 60)."""
        with self._cv:
            waiting = len(self._queue)
        return max(1, min(60, math.ceil(waiting * self._avg_s / self.workers)))

    def status(self) -> PoolStatus:
        """Return a snapshot of processes and queue."""
        with self._cv:
            queued = len(self._queue)
            accepting = not self._stopping
        alive = sum(1 for s in self._slots if s.proc is not None and s.proc.is_alive())
        ready = sum(1 for s in self._slots if s.ready and s.proc is not None and s.proc.is_alive())
        busy = sum(1 for s in self._slots if s.busy_job is not None)
        threads = all(s.thread is not None and s.thread.is_alive() for s in self._slots)
        return PoolStatus(self.workers, alive, ready, busy, queued, self.queue_size, self.highs_version, accepting and threads)

    def pids(self) -> list[int]:
        """Return the pids of the live worker processes (for tests and diagnostics)."""
        return sorted(s.proc.pid for s in self._slots if s.proc is not None and s.proc.is_alive())

    # -- supervisor -----------------------------------------------------------------------

    def _next(self) -> Task | None:
        with self._cv:
            while not self._queue and not self._stopping:
                self._cv.wait()
            if self._stopping:
                return None
            return self._queue.popleft()

    def _serve(self, slot: _Slot) -> None:
        if self.warm:
            try:
                self._ensure_process(slot)
            except Exception:
                if not self._stopping:
                    logger.exception("solver process %d could not start; will retry on the next job", slot.index)
        while True:
            task = self._next()
            if task is None:
                break
            slot.busy_job = task.job_id
            try:
                result = self._run(slot, task)
            except Exception as exc:  # a bug here must not kill the slot
                logger.exception("solver slot %d failed on job %s", slot.index, task.job_id)
                result = Result(error=ApiError(Code.worker_crashed, f"The solver process failed unexpectedly ({type(exc).__name__}); submit the job again."))
                self._end_process(slot, graceful=False)
            finally:
                slot.busy_job = None
            self._finish(task, result)
            if self.warm and slot.proc is None and not self._stopping:
                # replace a retired, killed or crashed process now rather than on the next job
                try:
                    self._ensure_process(slot)
                except Exception:
                    if not self._stopping:
                        logger.exception("solver process %d could not be restarted; will retry on the next job", slot.index)
        self._end_process(slot, graceful=True)

    def _finish(self, task: Task, result: Result) -> None:
        if result.seconds > 0:
            self._avg_s = 0.8 * self._avg_s + 0.2 * result.seconds
        try:
            self._on_done(task, result)
        except Exception:
            logger.exception("storing the result of job %s failed", task.job_id)

    def _run(self, slot: _Slot, task: Task) -> Result:
        try:
            self._ensure_process(slot)
        except Exception as exc:
            return Result(error=ApiError(Code.worker_crashed, f"No solver process could be started ({exc}); try again later."))
        conn = slot.conn
        assert conn is not None
        try:
            self._on_start(task)
        except Exception:  # a failed status update must not lose the solve
            logger.exception("marking job %s as running failed", task.job_id)
        t0 = time.monotonic()
        try:
            if task.kind == "plan":
                conn.send(("solve", task.job_id, task.scenario, task.target, self.time_limit_s))
            elif task.kind == "whatif" and task.spec is not None and not task.spec["need_base"] and task.spec["base_sha"] in slot.bases:
                # the process holds the base's session: pickling the base again is waste
                conn.send((task.kind, task.job_id, {**task.spec, "base": None}, self.time_limit_s))
            else:
                conn.send((task.kind, task.job_id, task.spec, self.time_limit_s))
            deadline = t0 + self.wall_limit_s
            while True:
                if not conn.poll(max(0.0, deadline - time.monotonic())):
                    self._end_process(slot, graceful=False)
                    return Result(error=ApiError(Code.solve_timeout, f"The solve ran longer than the wall-clock limit of {self.wall_limit_s:g} s and was stopped. Simplify the scenario, or ask the operator to raise FLOWOPT_SOLVE_WALL_LIMIT_S."), seconds=time.monotonic() - t0)
                message = conn.recv()
                if message[0] == NEED_BASE:  # its session was dropped meanwhile: the whole task
                    slot.bases.discard(task.spec["base_sha"] if task.spec else "")
                    conn.send((task.kind, task.job_id, task.spec, self.time_limit_s))
                    continue
                if message[0] != "progress":
                    break
                # ("progress", job_id, done, total, what): a long job says how far it is
                if self._on_progress is not None:
                    with contextlib.suppress(Exception):  # a failed report must not lose the solve
                        self._on_progress(task, *message[2:5])
            kind, job_id, payload = message
        except (EOFError, OSError, BrokenPipeError):
            code = slot.proc.exitcode if slot.proc is not None else None
            self._end_process(slot, graceful=False)
            if self._stopping:
                return Result(error=ApiError(Code.interrupted, "The server stopped while this job was solving; submit it again."))
            return Result(error=ApiError(Code.worker_crashed, f"The solver process ended unexpectedly (exit code {code}); submit the job again."), seconds=time.monotonic() - t0)
        seconds = time.monotonic() - t0
        slot.jobs_done += 1
        if slot.jobs_done >= self.max_jobs:
            self._end_process(slot, graceful=True)
        if job_id != task.job_id:  # pragma: no cover - one task per process at a time
            return Result(error=ApiError(Code.internal_error, "The solver process answered for another job."))
        if task.kind == "whatif" and task.spec is not None:
            if kind == "ok":
                slot.bases.add(task.spec["base_sha"])
            else:  # a failed what-if drops its session in the process
                slot.bases.discard(task.spec["base_sha"])
        if kind == "ok":
            if task.kind == "plan":
                return Result(plan_json=payload, seconds=seconds)
            return Result(payload=payload, seconds=seconds)
        return Result(error=ApiError.from_document(payload), seconds=seconds)

    def _ensure_process(self, slot: _Slot) -> None:
        if slot.proc is not None and slot.proc.is_alive() and slot.conn is not None:
            return
        self._end_process(slot, graceful=False)
        if self._stopping:
            msg = "the pool is stopping"
            raise RuntimeError(msg)
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=worker_main, args=(child, os.getpid(), list(self.preload), self.time_limit_s), name=f"flowopt-solver-{slot.index}", daemon=True)
        proc.start()
        child.close()
        slot.proc, slot.conn, slot.jobs_done = proc, parent, 0
        slot.bases = {sha for sha, _ in self.preload}
        try:
            if not parent.poll(STARTUP_TIMEOUT_S):
                msg = f"no answer within {STARTUP_TIMEOUT_S:g} s"
                raise RuntimeError(msg)
            kind, pid, version = parent.recv()
        except (EOFError, OSError) as exc:
            self._end_process(slot, graceful=False)
            msg = f"the process exited during startup (exit code {proc.exitcode})"
            raise RuntimeError(msg) from exc
        except RuntimeError:
            self._end_process(slot, graceful=False)
            raise
        if kind != "ready":  # pragma: no cover - the worker sends ready first
            self._end_process(slot, graceful=False)
            msg = f"unexpected first message {kind!r}"
            raise RuntimeError(msg)
        self.highs_version = version
        slot.ready = True
        logger.info("solver process %d started (pid %d, HiGHS %s)", slot.index, pid, version)

    def _end_process(self, slot: _Slot, *, graceful: bool) -> None:
        """End the slot's process and reap it, so it never outlives the job or the server."""
        proc, conn = slot.proc, slot.conn
        slot.ready = False
        if proc is None:
            return
        if graceful and conn is not None and proc.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
            proc.join(2.0)
        if proc.is_alive():
            proc.kill()
            proc.join(5.0)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        slot.proc, slot.conn = None, None
