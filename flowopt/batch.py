"""Batches: many what-ifs of one base -> one comparison table, solved in parallel.

A batch file lists what-ifs, each an overrides file or inline changes::

    base: ../panzhihua_east          # optional, relative to this file
    whatifs:
      - file: haorun_slips.yaml      # an overrides file (relative to this file)
      - id: target_75
        changes:
          - set: policy.target_rate
            value: 0.75

By default the what-ifs run on this machine, and the work decides how (:func:`choose_workers`):
the base is solved first, in this process, and its time estimates each what-if's; a spawned
worker process costs about :data:`WORKER_START_S` to start (imports and its own model), so the
batch goes parallel (one process per core at most, one HiGHS thread each) only when that saves
time, and a handful of quick what-ifs run serially in this process with one warm session.
``workers=N`` fixes the number of processes instead. Each worker keeps a
:class:`~flowopt.whatif.WhatIfSession` of the base, so its second and later what-ifs re-solve
warm. ``engine="dask"`` or ``engine="ray"`` sends the
same tasks to an existing Dask or Ray cluster (``address``); those packages are needed only
then.

Every what-if ends as a row of the table, whatever happens to it: an invalid one names the
change, field and value that are wrong; an unexpected error (a bug) or a worker process that
died gives a row with status ``error`` and the reason, and the other what-ifs still run. A
local worker that dies is replaced and the items it was running are retried once, alone; Dask
and Ray retry a task whose worker died by their own rules. If the engine itself fails midway
(e.g. the Dask scheduler goes away) the finished rows are kept and the others say so. Workers
may run several tasks in threads (Dask's default): each process solves one item at a time
with its warm session, because Pyomo is not thread-safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import multiprocessing
import os
import re
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from flowopt.errors import FlowoptError, InputError, Problem
from flowopt.overrides import Overrides, apply_overrides, load_overrides, parse_overrides
from flowopt.progress import ProgressCallback
from flowopt.schema import Scenario
from flowopt.solve import SolveOptions
from flowopt.yamlload import parse_yaml

Engine = Literal["local", "dask", "ray"]


class BatchItem(BaseModel):
    """One what-if of a batch: an id and its overrides."""

    model_config = ConfigDict(frozen=True)

    id: str
    overrides: Overrides


def load_batch(path: str | os.PathLike[str]) -> tuple[list[BatchItem], Path | None]:
    """Read a batch file.

    Returns:
        The items (ids unique, in file order) and the base path if the file names one.

    Raises:
        InputError: unreadable file, unknown keys, bad or duplicate items (all listed).
    """
    p = Path(path)
    label = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"Cannot read the batch file '{p}': {getattr(exc, 'strerror', None) or type(exc).__name__}."
        raise InputError(msg, [Problem("batch", None, None, msg, "give a UTF-8 YAML file with a 'whatifs' list.", label)]) from exc
    # bounded parser: duplicate keys, alias bombs, deep nesting and huge integers are input errors
    data = parse_yaml(text, source=label, table="batch")
    if not isinstance(data, dict) or not isinstance(data.get("whatifs"), list) or set(data) - {"base", "whatifs"}:
        msg = "A batch file is a mapping with a 'whatifs' list and an optional 'base'."
        raise InputError(msg, [Problem("batch", None, None, msg, "see the format in flowopt/batch.py.", label)])
    items: list[BatchItem] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["whatifs"], 1):
        try:
            if isinstance(entry, dict) and set(entry) == {"file"}:
                ov, _ = load_overrides(p.parent / str(entry["file"]))
                ident = ov.id or Path(str(entry["file"])).stem
            else:
                ov = parse_overrides(entry, label)
                ident = ov.id or f"whatif_{i}"
        except InputError as exc:
            # keep the change number: "what-if 3, change 2: …"
            problems += [Problem("batch", i, q.column, f"what-if {i}{f', change {q.row}' if q.table == 'changes' and q.row else ''}: {q.message}", q.hint, q.file or label) for q in exc.problems]
            continue
        if ident in seen:
            problems.append(Problem("batch", i, "id", f"duplicate what-if id '{ident}'.", "give each what-if its own id.", label))
        if ident == "base":
            problems.append(Problem("batch", i, "id", "the what-if id 'base' is taken by the base row of the table.", "give the what-if another id.", label))
        seen.add(ident)
        items.append(BatchItem(id=ident, overrides=ov))
    if problems:
        msg = f"The batch file is invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)
    base = (p.parent / str(data["base"])) if data.get("base") else None
    return items, base


# Pyomo is not thread-safe: its compilers pause the garbage collector through one process-wide
# stack (PauseGC raises when two threads exit it out of order) and import helpers lazily, and
# a WhatIfSession keeps one model and one HiGHS instance. Engines that run several tasks per
# process in threads (Dask's default on machines with more than 4 cores) therefore solve one
# item at a time per process, under this lock, and all threads share the process's warm session.
# Measured on the bundled park: HiGHS's run() (which releases the GIL) is ~45 % of an item's
# time, the rest Python work that the GIL serializes anyway; overlapping the HiGHS part would
# need a lock around Pyomo's compiler inside flowopt.solve, not here.
_session_lock = threading.Lock()
# warm sessions of this process, by base and options, most recently used last
_sessions: OrderedDict[str, Any] = OrderedDict()
_MAX_SESSIONS = 4
_MESSAGE_CHARS = 300
_VALUE_CHARS = 60

#: Builds the what-if scenario of one item from the base (default: apply its overrides).
ScenarioOf = Callable[[Scenario, BatchItem], Scenario]


def _short(text: str, limit: int = _MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    """``Type: first line of the message``, bounded (never a traceback)."""
    lines = str(exc).strip().splitlines()
    return _short(f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


def _cluster_reason(exc: BaseException) -> str:
    """:func:`_reason` without the cluster's task keys (``_solve_item-<uuid>``), which say nothing to a reader."""
    return re.sub(r"'?\w+-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}'?\s*", "", _reason(exc))


def _row(item_id: str, status: str = "error", message: str = "") -> dict[str, Any]:
    """A row of the batch table with no results yet."""
    return {"id": item_id, "status": status, "utilization_rate": None, "objective_cny": None, "target": None, "max_utilization_rate": None, "target_cny_per_point": None, "warm": None, "seconds": None, "message": message}


def _writes(ch: Any, table: str, column: str | None) -> bool:
    """True when change ``ch`` writes field ``column`` of ``table`` (or adds a record to it)."""
    path = ch.path.replace(" ", "")
    if ch.operation == "add":
        return path == table
    if ch.operation not in ("set", "scale") or not column:
        return False
    return path == f"{table}.{column}" or (path.startswith((f"{table}.", f"{table}[")) and path.endswith(f".{column}"))


def _change_of(p: Problem, base: Scenario, overrides: Overrides) -> str | None:
    """Name the change of ``overrides`` that a problem comes from, e.g. ``change 2 (set projects.R06.capacity_t)``."""
    changes = overrides.changes

    def label(k: int) -> str:
        ch = changes[k - 1]
        return f"change {k} ({ch.operation} {_short(ch.path, _VALUE_CHARS)})"

    if p.table == "changes":
        return label(p.row) if p.row and 1 <= p.row <= len(changes) else None
    # a value the schema rejected after the changes: find the change that wrote that field
    candidates = [(k, ch.path.replace(" ", "")) for k, ch in enumerate(changes, 1) if _writes(ch, p.table, p.column)]
    if not candidates:
        return None
    records = getattr(base, p.table, None)
    if len(candidates) > 1 and isinstance(records, list) and p.row and not any(ch.operation in ("add", "remove") for ch in changes):
        # no record added or removed: the problem's record number is the base record's
        ident = getattr(records[p.row - 1], "id", None) if p.row <= len(records) else None
        exact = [k for k, path in candidates if ident is not None and path == f"{p.table}.{ident}.{p.column}"]
        if exact:
            return label(exact[-1])
    return label(candidates[-1][0])


def _input_reason(exc: InputError, base: Scenario, overrides: Overrides) -> str:
    """Which change, field and value of a what-if are wrong: the first problem, located by change."""
    problems = [p for p in exc.problems if p.severity == "error"] or exc.problems
    if not problems:
        return _reason(exc)
    p = problems[0]
    # apply_overrides prefixes "after the changes of <source>: " to what validation found
    message = re.sub(r"^after the changes( of [^:]*)?: ", "", p.message)
    change = _change_of(p, base, overrides)
    if change is None:
        text = f"{p.where()}: {message}"
    elif p.table != "changes" and p.column and f".{p.column}" not in change:
        text = f"{change}, field {p.column}: {message}"  # e.g. a bad value in an added record
    else:
        text = f"{change}: {message}"
    if p.hint:
        text += f" Fix: {p.hint}"
    if len(problems) > 1:
        text = f"{_short(text, _MESSAGE_CHARS - 40)} (+{len(problems) - 1} more problem(s))"
    return _short(text)


def _apply(base: Scenario, item: BatchItem) -> Scenario:
    return apply_overrides(base, item.overrides, item.id)


def _session(base: Scenario, key: str, options: SolveOptions) -> Any:
    """This process's warm session for ``base`` (call with ``_session_lock`` held)."""
    from flowopt.whatif import WhatIfSession

    session = _sessions.pop(key, None)
    if session is None:
        session = WhatIfSession(base, options)
    _sessions[key] = session
    while len(_sessions) > _MAX_SESSIONS:
        _sessions.popitem(last=False)
    return session


def _solve_item(base: Scenario, base_key: str, item: BatchItem, options: SolveOptions, scenario_of: ScenarioOf | None = None) -> dict[str, Any]:
    """Solve one what-if in a worker and return its row of the batch table.

    Never raises an ``Exception``: an invalid what-if, an unsolvable one and an unexpected
    error (a bug) each become a row whose ``status`` and ``message`` say what happened.
    Safe to call from several threads of one process (see ``_session_lock``).
    """
    from flowopt.errors import InfeasibleError

    start = time.perf_counter()
    row = _row(item.id)
    try:
        scenario = (scenario_of or _apply)(base, item)
        row["target"] = scenario.policy.target_rate
        with _session_lock:
            session = _session(base, base_key, options)
            try:
                plan = session.solve(scenario)
            except FlowoptError:
                raise
            except Exception:
                # an unexpected error may leave the live LP half-updated: never reuse it
                _sessions.pop(base_key, None)
                raise
            warm = session.stats.warm if session.stats else None
        row.update(status="optimal", utilization_rate=plan.utilization_rate, objective_cny=plan.objective_cny, max_utilization_rate=plan.max_utilization_rate, target_cny_per_point=plan.target_marginal_cost.cny_per_point if plan.target_marginal_cost else None, warm=warm)
    except InfeasibleError as exc:
        diag = getattr(exc, "diagnosis", None)
        row.update(status="infeasible", max_utilization_rate=diag.max_rate if diag else None, message=_short(diag.statement if diag else str(exc)))
    except InputError as exc:
        row.update(status=exc.code, message=_input_reason(exc, base, item.overrides))
    except FlowoptError as exc:
        row.update(status=exc.code, message=_short(str(exc).splitlines()[0] if str(exc) else exc.code))
    except Exception as exc:  # a bug: one row says so, the batch goes on
        row.update(status="error", message=_short(f"unexpected error (a bug in flowopt; please report it): {_reason(exc)}"))
    row["seconds"] = time.perf_counter() - start
    return row


# engines: (fn, tasks, ids, …) -> (task index, row) for every task, in any order; a task whose
# worker died or whose result never came back gets a failed row, the others go on
Results = Iterator[tuple[int, dict[str, Any]]]


def _marked(marks: str, index: int, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn`` in a pool worker, leaving a file named ``index`` in ``marks`` while it runs.

    When a worker dies, the files left behind name the items that were running at that moment.
    """
    mark = Path(marks) / str(index)
    mark.touch()
    row = fn(*args)
    mark.unlink(missing_ok=True)
    return row


#: Seconds to start one spawned worker process and build its model (imports of the solver
#: stack, the base's session), measured on the bundled park on a 2-core machine: 2.5–3.5 s.
WORKER_START_S = 3.0


def choose_workers(items: int, seconds_per_item: float, cores: int) -> int:
    """Worker processes that finish ``items`` what-ifs soonest (1: serially, in this process).

    The estimate for ``w`` processes is ``WORKER_START_S + ceil(items / w) * seconds_per_item``
    (the processes start at the same time), for one it is ``items * seconds_per_item``; the
    smallest estimate wins, ties going to fewer processes. So parallel pays only once the
    serial work exceeds about twice a worker's start-up: on the bundled park (0.05 s a what-if)
    that takes over a hundred what-ifs, on a 2,000-stream park (1.4 s) six.

    Args:
        items: what-ifs left to solve.
        seconds_per_item: the time of one (the base's solve, measured).
        cores: processes available (the machine's cores).

    Returns:
        From 1 to ``min(cores, items)``.
    """
    best, best_s = 1, items * max(seconds_per_item, 0.0)
    for w in range(2, min(cores, items) + 1):
        estimate = WORKER_START_S + math.ceil(items / w) * max(seconds_per_item, 0.0)
        if estimate < best_s:
            best, best_s = w, estimate
    return best


def _local(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], ids: list[str], workers: int | None) -> Results:
    """Run the tasks here: ``workers`` processes, or (``None``) as many as the work warrants.

    With ``workers=None`` the first task (the base) runs in this process and its time feeds
    :func:`choose_workers`; the other tasks then run serially here (same warm session) or in a
    pool of processes.
    """
    first = 0
    if workers is None:
        if not tasks:
            return
        import flowopt.whatif  # noqa: F401  (imports are not part of a solve's time)

        start = time.perf_counter()
        yield 0, fn(*tasks[0])
        first = 1
        workers = choose_workers(len(tasks) - 1, time.perf_counter() - start, os.cpu_count() or 1)
    rest = list(range(first, len(tasks)))
    if workers <= 1 or len(rest) <= 1:
        for i in rest:
            yield i, fn(*tasks[i])
        return
    for j, row in _local_pool(fn, [tasks[i] for i in rest], [ids[i] for i in rest], min(workers, len(rest))):
        yield rest[j], row


def _local_pool(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], ids: list[str], workers: int) -> Results:
    """Run the tasks in spawned worker processes, surviving workers that die.

    When a worker dies (a crash in native code, the out-of-memory killer, ``os._exit``) the
    pool breaks and is replaced. The items that were running then (named by their marker
    files) are suspects: each runs again alone before the others resume. A suspect whose
    worker dies again, alone, becomes a failed row, and the other suspects of that crash are
    cleared; a suspect that finishes alone was innocent. Items that had not started, and every
    finished row, are not affected.
    """
    # spawn, not fork: HiGHS and Pyomo hold state that a forked child must not share
    ctx = multiprocessing.get_context("spawn")
    pending = list(range(len(tasks)))
    suspects: dict[int, int] = {}  # item -> number of the crash it was running in
    crashes = idle_crashes = 0
    with tempfile.TemporaryDirectory(prefix="flowopt-batch-") as marks:

        def submit(pool: ProcessPoolExecutor, wave: list[int]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
            """Run ``wave`` in ``pool``: (item, row, "") per finished item, (item, None, why) if the pool broke."""
            try:
                futures = {pool.submit(_marked, marks, i, fn, *tasks[i]): i for i in wave}
            except BrokenProcessPool as exc:  # a worker died between two waves
                yield wave[0], None, _reason(exc)
                return
            for f in as_completed(futures):
                i, why = futures[f], ""
                try:
                    row = f.result()
                except BrokenProcessPool as exc:
                    row, why = None, _reason(exc)
                except (Exception, SystemExit) as exc:  # e.g. a result that cannot be pickled
                    row = _row(ids[i], "error", _short(f"the worker could not return this what-if's result: {_reason(exc)}"))
                yield i, row, why

        while pending:
            broken = ""
            alone: int | None = None
            # processes start on demand (spawn): a suspect alone starts one worker, not all
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                waves = [[i] for i in sorted(suspects)] + [[i for i in pending if i not in suspects]]
                for wave in filter(None, waves):
                    alone = wave[0] if len(wave) == 1 and wave[0] in suspects else None
                    for i, row, why in submit(pool, wave):
                        if row is None:
                            broken = why
                            continue
                        pending.remove(i)
                        suspects.pop(i, None)
                        (Path(marks) / str(i)).unlink(missing_ok=True)
                        try:
                            yield i, row
                        except GeneratorExit:
                            # the caller has what it needs (a risk run that stopped early): drop
                            # the tasks not started instead of waiting for them
                            pool.shutdown(wait=False, cancel_futures=True)
                            raise
                    if broken:
                        break
            if not broken:
                continue
            running = {int(m.name) for m in Path(marks).iterdir()} & set(pending)
            for m in Path(marks).iterdir():
                m.unlink()
            if alone is not None and alone in running:
                # it died alone: this item is the cause; the other suspects of that crash are cleared
                crash = suspects.pop(alone)
                suspects = {i: c for i, c in suspects.items() if c != crash}
                pending.remove(alone)
                yield alone, _row(ids[alone], "error", _short(f"its worker process died twice while solving it, the second time alone; a crash in the solver or lack of memory are likely causes ({broken})."))
                continue
            if not running:
                # the workers died outside any item (e.g. at start-up): try once more, then give up
                idle_crashes += 1
                if idle_crashes >= 2:
                    for i in list(pending):
                        pending.remove(i)
                        yield i, _row(ids[i], "error", _short(f"the worker processes keep dying before they run a what-if ({broken}); not solved."))
                continue
            idle_crashes = 0
            crashes += 1
            for i in running:
                suspects[i] = crashes


def _dask(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], ids: list[str], address: str | None) -> Results:
    try:
        from dask.distributed import Client  # type: ignore[import-not-found]
        from dask.distributed import as_completed as dask_completed
    except ImportError as exc:
        msg = "engine 'dask' needs the dask[distributed] package on this machine and the cluster's workers."
        raise InputError(msg, [Problem("batch", None, "engine", msg, "pip install 'dask[distributed]', or use --engine local.")]) from exc
    return _dask_results(Client, dask_completed, fn, tasks, ids, address)


def _dask_results(client_class: Any, completed: Any, fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], ids: list[str], address: str | None) -> Results:
    client = client_class(address) if address else client_class(processes=True)
    try:
        futures = {client.submit(fn, *t, pure=False): i for i, t in enumerate(tasks)}
        for f in completed(futures):
            i = futures[f]
            try:
                row = f.result()
            except Exception as exc:  # KilledWorker: the workers running it died; or the result was lost
                row = _row(ids[i], "error", _short(f"the Dask cluster could not solve it: {_cluster_reason(exc)}"))
            yield i, row
    finally:
        with contextlib.suppress(Exception):
            client.close()


def _ray(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], ids: list[str], address: str | None) -> Results:
    try:
        import ray  # type: ignore[import-not-found]
    except ImportError as exc:
        msg = "engine 'ray' needs the ray package on this machine and the cluster's workers."
        raise InputError(msg, [Problem("batch", None, "engine", msg, "pip install ray, or use --engine local.")]) from exc
    return _ray_results(ray, fn, tasks, ids, address)


def _ray_results(ray: Any, fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], ids: list[str], address: str | None) -> Results:
    ray.init(address=address, ignore_reinit_error=True)
    # a task whose worker dies is retried once, then its row says so
    remote = ray.remote(max_retries=1)(fn)
    refs = {remote.remote(*t): i for i, t in enumerate(tasks)}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        i = refs[done[0]]
        try:
            row = ray.get(done[0])
        except Exception as exc:  # WorkerCrashedError, RayTaskError, ObjectLostError …
            row = _row(ids[i], "error", _short(f"the Ray cluster could not solve it: {_cluster_reason(exc)}"))
        yield i, row


def run_batch(base: Scenario, items: list[BatchItem], *, workers: int | None = None, engine: Engine = "local", address: str | None = None, options: SolveOptions | None = None, progress: Callable[[int, int, dict[str, Any]], None] | None = None, scenario_of: ScenarioOf | None = None) -> pd.DataFrame:
    """Solve every what-if of a batch against ``base`` and return one comparison table.

    Every what-if ends as a row, whatever happens: an invalid one says which change, field
    and value are wrong; an unsolvable one why; an unexpected error (a bug), a worker that
    died or an engine that failed midway gives a row with status ``error`` and the reason,
    while the other what-ifs still run and every finished row is kept.

    Args:
        base: the base scenario.
        items: the what-ifs.
        workers: processes for the local engine (default: chosen by the work, see
            :func:`choose_workers`; 1 runs every what-if in this process).
        engine: ``local`` (default), ``dask`` or ``ray``.
        address: cluster address for dask or ray (default: a local cluster of that engine).
        options: solver settings (HiGHS threads are kept at 1 per solve).
        progress: called with (done, total, row) after each what-if; if it raises, progress
            reports stop and the batch goes on (:func:`row_progress` adapts a
            :class:`flowopt.progress.Progress` callback).
        scenario_of: builds an item's what-if scenario from the base, in the worker (default:
            apply its overrides); for process engines a module-level function.

    Returns:
        One row per what-if in input order, with the base as the first row (id ``base``):
        status, rate, cost and its change against the base, maximum rate, target price, warm,
        seconds and a message for rows without a plan.

    Raises:
        InputError: an unknown engine, or the dask or ray package missing.
    """
    options = options or SolveOptions()
    # sessions are kept per base and solver settings
    key = hashlib.sha256((base.model_dump_json() + repr(options)).encode()).hexdigest()
    base_item = BatchItem(id="base", overrides=Overrides())
    every = [base_item, *items]
    tasks = [(base, key, it, options, scenario_of) for it in every]
    ids = [it.id for it in every]
    n = len(tasks)
    if engine == "local":
        results = _local(_solve_item, tasks, ids, workers)
    elif engine == "dask":
        results = _dask(_solve_item, tasks, ids, address)
    elif engine == "ray":
        results = _ray(_solve_item, tasks, ids, address)
    else:
        msg = f"unknown engine '{_short(str(engine), _VALUE_CHARS)}'."
        raise InputError(msg, [Problem("batch", None, "engine", msg, "use local, dask or ray.")])
    rows: list[dict[str, Any] | None] = [None] * n
    done = 0

    def record(i: int, row: dict[str, Any]) -> None:
        nonlocal done, progress
        if rows[i] is not None:
            return  # an engine that reports an item twice: keep the first
        rows[i] = row
        done += 1
        if progress:
            try:
                progress(done, n, row)
            except Exception:  # a broken progress sink must not lose the batch
                progress = None

    try:
        for i, row in results:
            record(i, row)
    except Exception as exc:  # the engine itself failed: keep what finished, say what did not
        reason = f"the {engine} engine stopped before this what-if finished: {_reason(exc)}"
        for i in range(n):
            if rows[i] is None:
                record(i, _row(ids[i], "error", _short(reason)))
    for i in range(n):
        if rows[i] is None:  # an engine that ended without reporting an item
            record(i, _row(ids[i], "error", f"the {engine} engine returned no result for this what-if."))
    base_cost = rows[0]["objective_cny"] if rows[0] else None
    table = pd.DataFrame(rows)
    table.insert(4, "delta_cost_cny", [None if c is None or base_cost is None or pd.isna(c) else c - base_cost for c in table["objective_cny"]])
    return table


def row_progress(progress: ProgressCallback) -> Callable[[int, int, dict[str, Any]], None]:
    """Adapt a ``progress(done, total, what)`` callback to :func:`run_batch`'s rows.

    ``what`` is ``"<id>: <status>"`` of the what-if that just finished.
    """

    def on_row(done: int, total: int, row: dict[str, Any]) -> None:
        progress(done, total, f"{row['id']}: {row['status']}")

    return on_row


def print_progress(done: int, total: int, row: dict[str, Any]) -> None:
    """Progress line on stderr: ``[3/10] id: status (1.2 s)``."""
    seconds = row.get("seconds") or 0.0
    sys.stderr.write(f"[{done}/{total}] {row['id']}: {row['status']} ({seconds:.2f} s)\n")
    sys.stderr.flush()
