"""Batches: many what-ifs of one base -> one comparison table, solved in parallel.

A batch file lists what-ifs, each an overrides file or inline changes::

    base: ../panzhihua_east          # optional, relative to this file
    whatifs:
      - file: haorun_slips.yaml      # an overrides file (relative to this file)
      - id: target_75
        changes:
          - set: policy.target_rate
            value: 0.75

By default the what-ifs run in worker processes on this machine (one per core, spawned, one
HiGHS thread each). Each worker keeps a :class:`~flowopt.whatif.WhatIfSession` of the base, so
its second and later what-ifs re-solve warm. ``engine="dask"`` or ``engine="ray"`` sends the
same tasks to an existing Dask or Ray cluster (``address``); those packages are needed only
then.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict

from flowopt.errors import FlowoptError, InputError, Problem
from flowopt.overrides import Overrides, apply_overrides, load_overrides, parse_overrides
from flowopt.schema import Scenario
from flowopt.solve import SolveOptions

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
        data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        msg = f"Cannot read the batch file '{p}': {exc}"
        raise InputError(msg, [Problem("batch", None, None, msg, "give a YAML file with a 'whatifs' list.", label)]) from exc
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
            problems += [Problem("batch", i, q.column, f"what-if {i}: {q.message}", q.hint, q.file or label) for q in exc.problems]
            continue
        if ident in seen:
            problems.append(Problem("batch", i, "id", f"duplicate what-if id '{ident}'.", "give each what-if its own id.", label))
        seen.add(ident)
        items.append(BatchItem(id=ident, overrides=ov))
    if problems:
        msg = f"The batch file is invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)
    base = (p.parent / str(data["base"])) if data.get("base") else None
    return items, base


# one session per worker process and base, so later what-ifs in a worker re-solve warm
_sessions: dict[str, Any] = {}


def _solve_item(base: Scenario, base_key: str, item: BatchItem, options: SolveOptions) -> dict[str, Any]:
    """Solve one what-if in a worker; return one row of the batch table (never raises)."""
    from flowopt.errors import InfeasibleError
    from flowopt.whatif import WhatIfSession

    start = time.perf_counter()
    row: dict[str, Any] = {"id": item.id, "status": "error", "utilization_rate": None, "objective_cny": None, "target": None, "max_utilization_rate": None, "target_cny_per_point": None, "warm": None, "seconds": None, "message": ""}
    try:
        scenario = apply_overrides(base, item.overrides, item.id)
        row["target"] = scenario.policy.target_rate
        session = _sessions.get(base_key)
        if session is None:
            session = _sessions[base_key] = WhatIfSession(base, options)
        plan = session.solve(scenario)
        row.update(status="optimal", utilization_rate=plan.utilization_rate, objective_cny=plan.objective_cny, max_utilization_rate=plan.max_utilization_rate, target_cny_per_point=plan.target_marginal_cost.cny_per_point if plan.target_marginal_cost else None, warm=session.stats.warm if session.stats else None)
    except InfeasibleError as exc:
        diag = getattr(exc, "diagnosis", None)
        row.update(status="infeasible", max_utilization_rate=diag.max_rate if diag else None, message=diag.statement if diag else str(exc))
    except FlowoptError as exc:
        row.update(status=exc.code, message=str(exc).splitlines()[0])
    row["seconds"] = time.perf_counter() - start
    return row


def _local(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1:
        for t in tasks:
            yield fn(*t)
        return
    # spawn, not fork: HiGHS and Pyomo hold state that a forked child must not share
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(fn, *t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()


def _dask(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], address: str | None) -> Iterator[dict[str, Any]]:
    try:
        from dask.distributed import Client  # type: ignore[import-not-found]
        from dask.distributed import as_completed as dask_completed
    except ImportError as exc:
        msg = "engine 'dask' needs the dask[distributed] package on this machine and the cluster's workers."
        raise InputError(msg, [Problem("batch", None, "engine", msg, "pip install 'dask[distributed]', or use --engine local.")]) from exc
    client = Client(address) if address else Client(processes=True)
    try:
        futures = [client.submit(fn, *t, pure=False) for t in tasks]
        for f in dask_completed(futures):
            yield f.result()
    finally:
        client.close()


def _ray(fn: Callable[..., dict[str, Any]], tasks: list[tuple[Any, ...]], address: str | None) -> Iterator[dict[str, Any]]:
    try:
        import ray  # type: ignore[import-not-found]
    except ImportError as exc:
        msg = "engine 'ray' needs the ray package on this machine and the cluster's workers."
        raise InputError(msg, [Problem("batch", None, "engine", msg, "pip install ray, or use --engine local.")]) from exc
    ray.init(address=address, ignore_reinit_error=True)
    remote = ray.remote(fn)
    pending = [remote.remote(*t) for t in tasks]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])


def run_batch(base: Scenario, items: list[BatchItem], *, workers: int | None = None, engine: Engine = "local", address: str | None = None, options: SolveOptions | None = None, progress: Callable[[int, int, dict[str, Any]], None] | None = None) -> pd.DataFrame:
    """Solve every what-if of a batch against ``base`` and return one comparison table.

    Args:
        base: the base scenario.
        items: the what-ifs.
        workers: processes for the local engine (default: the machine's cores).
        engine: ``local`` (default), ``dask`` or ``ray``.
        address: cluster address for dask or ray (default: a local cluster of that engine).
        options: solver settings (HiGHS threads are kept at 1 per solve).
        progress: called with (done, total, row) after each what-if.

    Returns:
        One row per what-if in input order, with the base as the first row (id ``base``):
        status, rate, cost and its change against the base, maximum rate, target price, warm.
    """
    options = options or SolveOptions()
    key = hashlib.sha256(base.model_dump_json().encode()).hexdigest()
    base_item = BatchItem(id="base", overrides=Overrides())
    tasks = [(base, key, it, options) for it in [base_item, *items]]
    n = len(tasks)
    if engine == "local":
        results = _local(_solve_item, tasks, workers or os.cpu_count() or 1)
    elif engine == "dask":
        results = _dask(_solve_item, tasks, address)
    elif engine == "ray":
        results = _ray(_solve_item, tasks, address)
    else:
        msg = f"unknown engine '{engine}'."
        raise InputError(msg, [Problem("batch", None, "engine", msg, "use local, dask or ray.")])
    rows: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(results, 1):
        rows[row["id"]] = row
        if progress:
            progress(i, n, row)
    order = ["base", *(it.id for it in items)]
    table = pd.DataFrame([rows[i] for i in order])
    base_cost = rows["base"]["objective_cny"]
    table.insert(4, "delta_cost_cny", [None if c is None or base_cost is None else c - base_cost for c in table["objective_cny"]])
    return table


def print_progress(done: int, total: int, row: dict[str, Any]) -> None:
    """Progress line on stderr: ``[3/10] id: status (1.2 s)``."""
    seconds = row.get("seconds") or 0.0
    sys.stderr.write(f"[{done}/{total}] {row['id']}: {row['status']} ({seconds:.2f} s)\n")
    sys.stderr.flush()
