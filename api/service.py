"""What the routes do, without HTTP: scenario intake, plan requests, jobs, storage.

Stage: parsed request -> library calls (``flowopt.checks.validated``, ``flowopt.io.load_scenario``,
``flowopt.graph.build_graph``) -> jobs in the :class:`~api.pool.SolverPool` -> rows in the
database. Routes never build or solve models; solves happen only in worker processes.

A plan request is answered in this order, holding the lock of its request key (and of its
``Idempotency-Key``) so that two identical requests cannot both start a solve, while requests
for other keys go on in parallel (their database work is not serialized behind one lock):

1. ``Idempotency-Key`` seen before -> the job it created (422 if the request differs);
2. an identical job still queued or running -> that job (looked up before the stored plans: a
   job stores its plan before it leaves the in-flight table, so a job missing there has
   either never run or is already stored);
3. a stored plan with the same request key (scenario SHA-256, target, library version) -> it;
4. otherwise a new job, if the queue has room (else 429 with Retry-After; a place in the queue
   is reserved before the job row is written, so an accepted job always finds its place).

What-ifs (``POST /v1/whatifs``) and sweeps (``POST /v1/sweeps``) follow the same order with
their own request keys (a what-if: base and what-if scenario hashes and targets; a sweep:
scenario hash and range). A what-if job reuses stored plans: the worker solves only the base
plan and/or what-if plan not stored yet (checked again when a worker takes the job), and when
both are stored the job completes at once without a worker. Its two plans are stored like any
plan, together with the comparison, in the transaction that marks the job done.

A finished solve is stored in one transaction (plan rows + job status and result), so a
restarted server shows every plan it reported and none half-written; jobs found queued or
running at startup are marked failed (``interrupted``). That is safe because a server holds its
database's lock (:func:`api.db.lock_database`) before :meth:`Service.recover` runs.

When the result cannot be stored (the database is locked, full or gone), the job fails with
``storage_unavailable`` (retryable: the same Idempotency-Key runs it again) in a transaction
of its own; if even that write is refused, the failure is kept in memory, answered from there,
and written as soon as the database accepts writes again. A job never stays ``running`` while
its server lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

import flowopt
from api.db import (
    IdempotencyKey,
    JobRow,
    PlanRow,
    ScenarioContent,
    ScenarioRow,
    iso,
    session_factory,
    utcnow,
)
from api.errors import ERRORS, ApiError, Code, from_library, problem_item
from api.pool import Result, SolverPool, Task
from api.schemas import InvestmentCreate, PlanCreate, RiskCreate, SweepCreate, WhatIfCreate
from api.settings import Settings
from api.strict import STRICT_HINTS as _STRICT_HINTS
from api.strict import short as _short
from api.strict import strict_problems as _strict_problems
from api.whatifs import check_sweep, envelope_error, whatif_scenario
from flowopt.checks import validated
from flowopt.compare import compare_plans
from flowopt.errors import FlowoptError
from flowopt.graph import MaterialGraph, build_graph
from flowopt.io import load_scenario, read_workbook
from flowopt.results import Plan
from flowopt.schema import TABLES, Scenario
from flowopt.xlsx import ReadLimits

logger = logging.getLogger("flowopt.api")

T = TypeVar("T")
#: How many locks request keys are hashed into (two different keys share one lock rarely, and
#: then only wait for each other's few database round trips).
_KEY_LOCKS = 64
#: Characters of what-if documents the API process keeps checked (see ``Service._whatif_prepared``).
_WHATIF_MEMO_CHARS = 16_000_000

#: Largest total uncompressed size of an uploaded workbook; the library also bounds each part
#: (64 MiB), its compression ratio (100:1 above 1 MiB) and the XML it streams.
MAX_WORKBOOK_UNZIPPED = 256 << 20
#: Jobs that failed for one of these reasons may be run again under the same Idempotency-Key.
RETRYABLE = frozenset(code for code, spec in ERRORS.items() if spec.retryable)
#: How often job failures the database refused are written again (see Service._job_done).
UNRECORDED_RETRY_S = 1.0

def canonical_json(doc: Any) -> str:
    """Return the canonical JSON of ``doc`` (sorted keys, compact, UTF-8 text) used for hashes."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def sha256_text(text: str) -> str:
    """Return the hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_document(s: Scenario) -> tuple[str, str]:
    """Return ``(document, sha256)``: the scenario's JSON in field order and its content hash."""
    doc = s.model_dump(mode="json")
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False), sha256_text(canonical_json(doc))


def row_counts(s: Scenario) -> dict[str, int]:
    """Return the number of rows per table of ``s``."""
    return {t: len(getattr(s, t)) for t in TABLES}


# ---------------------------------------------------------------------------------------------
# Scenario intake
# ---------------------------------------------------------------------------------------------


def check_rows(data: Mapping[str, Any], max_rows: int, pointer: str) -> None:
    """Refuse a scenario whose tables hold more than ``max_rows`` rows in total.

    Raises:
        ApiError: ``scenario_too_large`` (413) naming each table and its row count.
    """
    counts = {t: len(v) for t in TABLES if isinstance(v := data.get(t), list | tuple)}
    total = sum(counts.values())
    if total <= max_rows:
        return
    items = [{"file": None, "table": t, "row": None, "column": None, "pointer": f"{pointer}/{t}", "message": f"{n:,} rows.", "hint": "split the scenario or merge rows.", "severity": "error"} for t, n in sorted(counts.items()) if n]
    msg = f"The scenario has {total:,} table rows; this server accepts at most {max_rows:,}. Split it, or ask the operator to raise FLOWOPT_MAX_SCENARIO_ROWS."
    raise ApiError(Code.scenario_too_large, msg, problems=items)


def scenario_from_json(data: Any, *, max_rows: int, pointer: str = "") -> tuple[Scenario, MaterialGraph]:
    """Validate a scenario sent as JSON with the library's rules, plus strict JSON types.

    Args:
        data: the parsed JSON value.
        max_rows: the row limit (see :func:`check_rows`).
        pointer: JSON pointer of the scenario in the body, for problem locations.

    Returns:
        The scenario and its material graph (structurally checked).

    Raises:
        ApiError: ``input_invalid``/``graph_invalid`` (422) with every problem located, or
            ``scenario_too_large`` (413).
    """
    if not isinstance(data, dict):
        item = {"file": None, "table": "request", "row": None, "column": None, "pointer": pointer or "", "message": f"the scenario must be a JSON object (got {type(data).__name__}).", "hint": "send an object with id, policy and the tables (see GET /v1/scenarios/panzhihua_east_2025).", "severity": "error"}
        raise ApiError(Code.input_invalid, "The scenario is not a JSON object.", problems=[item])
    check_rows(data, max_rows, pointer)
    problems = _strict_problems(data, pointer)
    if problems:
        # the library's checks too (cross-record, network), so every problem shows in one answer
        try:
            validated(data)
        except FlowoptError as exc:
            seen = {(i["table"], i["row"], i["column"]) for i in problems}
            problems += [problem_item(p, pointer) for p in getattr(exc, "problems", ()) if (p.table, p.row, p.column) not in seen]
        n = len(problems)
        raise ApiError(Code.input_invalid, f"The scenario is invalid: {n} problem{'s' if n != 1 else ''} found.", problems=problems)
    try:
        scenario = validated(data)
        graph = build_graph(scenario)
    except FlowoptError as exc:
        raise from_library(exc, pointer) from None
    return scenario, graph


def _workbook_name(filename: str | None) -> str:
    """Return the name problems give an uploaded workbook: the client's file name, made safe.

    Only the last component of the name is kept (some browsers send a whole Windows path),
    characters other than letters, digits and ``-_. ()`` become ``_`` (so ``[`` cannot fake a
    sheet label and no markup or control character is echoed), and the stem is cut to 80
    characters. The server's temporary paths never appear: the workbook is read from memory.
    """
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_. ()" else "_" for c in base).strip(" .")
    stem, dot, ext = safe.rpartition(".")
    if not dot or ext.lower() not in ("xlsx", "xlsm"):
        stem, ext = safe, "xlsx"
    return f"{stem[:80].rstrip(' .') or 'scenario'}.{ext}"


def scenario_from_workbook(content: bytes, filename: str | None, *, max_rows: int) -> tuple[Scenario, MaterialGraph]:
    """Validate a scenario uploaded as an ``.xlsx`` workbook, read from memory with bounds.

    The library checks the archive before parsing (sizes, compression ratio, no XML part with a
    DTD) and stops reading at the first limit passed (``max_rows`` data rows; columns, cells
    and XML elements scaled to it), so a hostile workbook costs a bounded, small amount of time
    and memory (see :mod:`flowopt.xlsx`).

    Args:
        content: the file's bytes.
        filename: the client's file name (problems name it, e.g. ``park.xlsx[streams]``).
        max_rows: the row limit.

    Returns:
        The scenario and its material graph.

    Raises:
        ApiError: 422 with every problem located by sheet, row and column; 413
            (``scenario_too_large``) when a limit is passed.
    """
    name = _workbook_name(filename)
    limits = ReadLimits.for_rows(max_rows, max_archive_bytes=MAX_WORKBOOK_UNZIPPED, setting="ask the operator to raise FLOWOPT_MAX_SCENARIO_ROWS")
    try:
        scenario = read_workbook(content, name=name, limits=limits)
        check_rows(scenario.model_dump(mode="json"), max_rows, "")  # exact count of records
        graph = build_graph(scenario)
    except FlowoptError as exc:
        raise from_library(exc, None) from None
    return scenario, graph


# ---------------------------------------------------------------------------------------------
# Waiting for jobs across threads and the event loop
# ---------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """The end of a job: the stored plan's id (``None`` for a sweep), or the error."""

    plan_id: str | None = None
    error: ApiError | None = None


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcome = outcome
            self.done.set()
            futures, self.futures = self.futures, []
        for loop, fut in futures:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                loop.call_soon_threadsafe(_resolve, fut)

    async def wait(self, timeout: float) -> Outcome | None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self.lock:
            if self.done.is_set():
                return self.outcome
            self.futures.append((loop, fut))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fut, timeout)
        with self.lock:
            if (loop, fut) in self.futures:
                self.futures.remove((loop, fut))
        return self.outcome if self.done.is_set() else None


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------


@dataclass
class Submitted:
    """Where a plan request ended up: an existing plan, or a job (new or shared)."""

    job_id: str | None = None
    plan_id: str | None = None
    created: bool = False
    """True when this request started the job (so a success is 201, not 200)."""


class Service:
    """Storage and job orchestration behind the routes.

    Args:
        settings: the API settings.
        engine: the database engine (schema already migrated).
    """

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.pool = SolverPool(workers=settings.workers, queue_size=settings.queue_size, time_limit_s=settings.solve_time_limit_s, wall_limit_s=settings.effective_wall_limit_s, max_jobs=settings.worker_max_jobs, warm=settings.warm_workers, on_start=self._job_started, on_done=self._job_done, on_progress=self._job_progress)
        self._lock = threading.RLock()
        #: locks by request key (hashed into a fixed set): identical requests queue here, others
        #: do their database work in parallel instead of behind ``_lock``
        self._key_locks = tuple(threading.Lock() for _ in range(_KEY_LOCKS))
        #: places in the solver queue promised to jobs being written (see :meth:`_reserve_room`)
        self._reserved = 0
        self._waiters: dict[str, _Waiter] = {}
        self._inflight: dict[str, str] = {}
        self._scenarios: OrderedDict[str, Scenario] = OrderedDict()
        #: stored scenario id -> content hash: a stored scenario never changes (the bundled one
        #: is replaced only at start-up, before this process answers), so a hash once read holds
        self._scenario_shas: OrderedDict[str, str] = OrderedDict()
        #: what-if scenarios already checked, by base content and changes (see :meth:`_whatif_prepared`)
        self._whatifs: OrderedDict[str, tuple[Scenario, str, str]] = OrderedDict()
        #: job id -> (problem document, finished_at) of failures the database has refused so far
        self._unrecorded: dict[str, tuple[str, Any]] = {}
        #: job id -> (done, total, what) of running risk jobs, as their solver process reports it
        self._progress: dict[str, tuple[int, int, str]] = {}
        self._writer: threading.Thread | None = None
        self._closed = threading.Event()
        self.started = time.monotonic()

    # -- database helpers -------------------------------------------------------------------

    def _tx(self, work: Callable[[Session], T], *, attempts: int = 1) -> T:
        """Run ``work`` in one transaction; storage failures become ``storage_unavailable``.

        A storage failure is an ``OperationalError`` (locked, full, unreachable, out of
        connections, a lock timeout on PostgreSQL) or a lost connection; integrity and other
        errors propagate unchanged (``_tx_unique`` relies on ``IntegrityError``).
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.sessions.begin() as session:
                    return work(session)
            except DBAPIError as exc:
                if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
                    raise
                if attempt == attempts:
                    logger.error("database error: %s", exc.orig)
                    msg = f"The database is unavailable ({type(exc.orig).__name__}: {exc.orig}). Try again later."
                    raise ApiError(Code.storage_unavailable, msg, headers={"Retry-After": "5"}) from None
                time.sleep(0.2 * attempt)
        msg = "attempts must be at least 1"
        raise ValueError(msg)

    def _tx_unique(self, work: Callable[[Session], T]) -> T:
        """Run a transaction that stores plans; run it again if another one stored the same plan.

        Two jobs may solve the same plan at once (a what-if's base, say): the second insert
        fails on the unique ``request_key``, and the retry finds and uses the first plan.
        """
        try:
            return self._tx(work, attempts=3)
        except IntegrityError:
            return self._tx(work, attempts=3)

    @contextlib.contextmanager
    def _keys_locked(self, *keys: str | None) -> Iterator[None]:
        """Hold the locks of these request or idempotency keys (in one global order: no deadlock)."""
        slots = sorted({zlib.crc32(k.encode()) % _KEY_LOCKS for k in keys if k})
        with contextlib.ExitStack() as stack:
            for slot in slots:
                stack.enter_context(self._key_locks[slot])
            yield

    @contextlib.contextmanager
    def _reserve_room(self) -> Iterator[None]:
        """Reserve a place in the solver queue for a job about to be written, or raise 429.

        Raises:
            ApiError: ``queue_full`` with Retry-After.
        """
        with self._lock:
            if not self.pool.has_room(reserved=self._reserved):
                after = self.pool.retry_after_s()
                msg = f"{self.settings.queue_size} solves are already waiting; retry in {after} s."
                raise ApiError(Code.queue_full, msg, headers={"Retry-After": str(after)}, retry_after_s=after)
            self._reserved += 1
        try:
            yield
        finally:
            with self._lock:
                self._reserved -= 1

    def recover(self) -> int:
        """Mark jobs left queued or running by a previous process as failed; return how many.

        Call it only while holding the database's server lock (:func:`api.db.lock_database`):
        every queued or running job then belongs to a server that is gone.
        """
        err = ApiError(Code.interrupted, "The server stopped before this job finished; submit it again.").document()

        def work(s: Session) -> int:
            result = s.execute(sa.update(JobRow).where(JobRow.status.in_(("queued", "running"))).values(status="failed", error_json=json.dumps(err, ensure_ascii=False), finished_at=utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

        n = self._tx(work)
        if n:
            logger.warning("%d job(s) interrupted by the last shutdown were marked failed", n)
        return n

    def ensure_builtin(self, path: Path) -> str:
        """Store the bundled scenario (always present); return its id.

        A changed bundled dataset replaces the previous builtin content under the same id.
        """
        scenario = load_scenario(path)
        build_graph(scenario)
        doc, sha = scenario_document(scenario)

        def work(s: Session) -> None:
            if s.get(ScenarioContent, sha) is None:
                s.add(ScenarioContent(sha256=sha, document=doc, created_at=utcnow()))
                s.flush()
            row = s.get(ScenarioRow, scenario.id)
            if row is None:
                s.add(self._scenario_row(scenario, sha, builtin=True))
            elif row.sha256 != sha or not row.builtin:
                row.sha256, row.builtin, row.rows_json = sha, True, json.dumps(row_counts(scenario))
                row.name_zh, row.name_en, row.year = scenario.name_zh, scenario.name_en, scenario.year

        self._tx(work)
        # every solver process keeps a live what-if session of the bundled park
        self.pool.preload = [(sha, scenario)]
        return scenario.id

    @staticmethod
    def _scenario_row(s: Scenario, sha: str, *, builtin: bool) -> ScenarioRow:
        return ScenarioRow(id=s.id, sha256=sha, name_zh=s.name_zh, name_en=s.name_en, year=s.year, rows_json=json.dumps(row_counts(s)), builtin=builtin, created_at=utcnow())

    def database_ok(self) -> tuple[bool, str]:
        """Probe the database with a read; return ``(ok, detail)``."""
        try:
            with self.sessions() as s:
                s.execute(sa.select(sa.func.count()).select_from(ScenarioRow)).scalar_one()
        except SQLAlchemyError as exc:
            return False, f"{type(exc).__name__}: {exc}"[:300]
        return True, "ok"

    # -- scenarios --------------------------------------------------------------------------

    def store_scenario(self, scenario: Scenario) -> tuple[dict[str, Any], bool]:
        """Store a validated scenario under its id.

        Returns:
            The scenario summary and whether it was newly created (False: identical one existed).

        Raises:
            ApiError: ``scenario_exists`` (409) when the id holds different content.
        """
        doc, sha = scenario_document(scenario)

        def work(s: Session) -> tuple[dict[str, Any], bool]:
            row = s.get(ScenarioRow, scenario.id)
            if row is not None:
                if row.sha256 != sha:
                    msg = f"A different scenario is already stored as '{scenario.id}' (sha256 {row.sha256[:12]}…). Scenarios are immutable: give this one a new id."
                    raise ApiError(Code.scenario_exists, msg, existing_url=f"/v1/scenarios/{scenario.id}")
                return self._summary(row), False
            if s.get(ScenarioContent, sha) is None:
                s.add(ScenarioContent(sha256=sha, document=doc, created_at=utcnow()))
                s.flush()
            row = self._scenario_row(scenario, sha, builtin=False)
            s.add(row)
            return self._summary(row), True

        try:
            return self._tx(work)
        except IntegrityError:  # a concurrent request stored the same id first
            return self._tx(work)

    @staticmethod
    def _summary(row: ScenarioRow) -> dict[str, Any]:
        return {"id": row.id, "name_zh": row.name_zh, "name_en": row.name_en, "year": row.year, "sha256": row.sha256, "builtin": row.builtin, "rows": json.loads(row.rows_json), "created_at": iso(row.created_at), "url": f"/v1/scenarios/{row.id}"}

    def list_scenarios(self, offset: int, limit: int) -> dict[str, Any]:
        """Return a page of scenario summaries ordered by id."""

        def work(s: Session) -> dict[str, Any]:
            total = s.execute(sa.select(sa.func.count()).select_from(ScenarioRow)).scalar_one()
            rows = s.execute(sa.select(ScenarioRow).order_by(ScenarioRow.id).offset(offset).limit(limit)).scalars().all()
            return {"items": [self._summary(r) for r in rows], "total": total, "offset": offset, "limit": limit, "next": _next("/v1/scenarios", offset, limit, total)}

        return self._tx(work)

    def scenario_json(self, scenario_id: str) -> tuple[str, str]:
        """Return ``(document, sha256)`` of a stored scenario.

        Raises:
            ApiError: ``not_found`` (404).
        """

        def work(s: Session) -> tuple[str, str]:
            row = s.get(ScenarioRow, scenario_id)
            if row is None:
                raise _scenario_missing(scenario_id)
            content = s.get(ScenarioContent, row.sha256)
            assert content is not None  # foreign key
            return content.document, row.sha256

        return self._tx(work)

    def scenario_sha(self, scenario_id: str) -> str:
        """Return the content hash of a stored scenario.

        Raises:
            ApiError: ``not_found`` (404).
        """
        with self._lock:
            sha = self._scenario_shas.get(scenario_id)
        if sha is not None:
            return sha
        sha = self._tx(lambda s: s.execute(sa.select(ScenarioRow.sha256).where(ScenarioRow.id == scenario_id)).scalar_one_or_none())
        if sha is None:
            raise _scenario_missing(scenario_id)
        with self._lock:
            self._scenario_shas[scenario_id] = sha
            while len(self._scenario_shas) > 1024:
                self._scenario_shas.popitem(last=False)
        return sha

    def _scenario_object(self, sha: str) -> Scenario:
        with self._lock:
            cached = self._scenarios.get(sha)
            if cached is not None:
                self._scenarios.move_to_end(sha)
                return cached

        def work(s: Session) -> str:
            content = s.get(ScenarioContent, sha)
            assert content is not None
            return content.document

        scenario = Scenario.model_validate_json(self._tx(work))
        with self._lock:
            self._scenarios[sha] = scenario
            while len(self._scenarios) > 16:
                self._scenarios.popitem(last=False)
        return scenario

    # -- plans ------------------------------------------------------------------------------

    def parse_plan_request(self, body: Any) -> tuple[Scenario, str, str | None, float, str | None]:
        """Validate a plan request body.

        Returns:
            ``(scenario, sha256, scenario_id, target, inline_document)``; the document is set
            for inline scenarios (to be stored with the job).

        Raises:
            ApiError: 422 with every problem located, 404 for an unknown ``scenario_id``.
        """
        if not isinstance(body, dict):
            item = {"file": None, "table": "request", "row": None, "column": None, "pointer": "", "message": f"the body must be a JSON object (got {type(body).__name__}).", "hint": 'send {"scenario_id": "panzhihua_east_2025", "target": 0.72}.', "severity": "error"}
            raise ApiError(Code.input_invalid, "The plan request is not a JSON object.", problems=[item])
        try:
            req = PlanCreate.model_validate(body)
        except ValidationError as exc:
            items = []
            for err in exc.errors(include_url=False):
                loc = [str(x) for x in err["loc"]]
                field_name = loc[0] if loc else None
                if field_name == "scenario" and err["type"] == "dict_type":
                    hint = "send the scenario as a JSON object (see GET /v1/scenarios/panzhihua_east_2025)."
                else:
                    hint = _STRICT_HINTS.get(err["type"], "see the PlanCreate schema in /openapi.json.")
                items.append({"file": None, "table": "request", "row": None, "column": ".".join(loc) or None, "pointer": "".join(f"/{x}" for x in loc), "message": f"{err['msg']} (got {_short(err.get('input'))}).", "hint": hint, "severity": "error"})
            raise ApiError(Code.input_invalid, "The plan request is invalid; every problem is listed.", problems=sorted(items, key=lambda i: (i["column"] or "", i["message"]))) from None
        scenario, sha, scenario_id, inline_doc = self._request_scenario(req.scenario_id, req.scenario)
        if req.rate_mode is not None and req.rate_mode != scenario.policy.rate_mode:
            # another rate for the target is another scenario content (its own hash and plan)
            scenario = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"rate_mode": req.rate_mode})})
            inline_doc, sha = scenario_document(scenario)
        target = req.target if req.target is not None else scenario.policy.target_rate
        return scenario, sha, scenario_id, target, inline_doc

    def _request_scenario(self, scenario_id: str | None, inline: dict[str, Any] | None) -> tuple[Scenario, str, str | None, str | None]:
        """Return ``(scenario, sha256, id, inline document or None)`` of a request's scenario.

        Raises:
            ApiError: unknown id (404), invalid inline scenario (422), too large (413).
        """
        if scenario_id is not None:
            sha = self.scenario_sha(scenario_id)
            return self._scenario_object(sha), sha, scenario_id, None
        scenario, _ = scenario_from_json(inline, max_rows=self.settings.max_scenario_rows, pointer="/scenario")
        doc, sha = scenario_document(scenario)
        return scenario, sha, scenario.id, doc

    @staticmethod
    def request_key(sha: str, target: float) -> str:
        """Return the key under which identical plan requests share one plan."""
        return sha256_text(canonical_json({"kind": "plan", "flowopt": flowopt.__version__, "scenario_sha256": sha, "target": target}))

    def submit_plan(self, body: Any, client: str, idempotency_key: str | None) -> Submitted:
        """Validate a plan request and find or start the job that answers it (see module doc).

        Args:
            body: the parsed JSON body.
            client: who is asking (API key id or ``anonymous``); scopes Idempotency-Keys.
            idempotency_key: the ``Idempotency-Key`` header, if any.

        Returns:
            The existing plan or the job to wait for.

        Raises:
            ApiError: invalid request (422/404/413), reused key (422), full queue (429),
                storage failure (503).
        """
        scenario, sha, scenario_id, target, inline_doc = self.parse_plan_request(body)
        key = self.request_key(sha, target)
        scoped = f"{client}:{idempotency_key}" if idempotency_key else None
        request_doc = {"kind": "plan", "scenario_id": scenario_id, "scenario_sha256": sha, "target": target}
        with self._keys_locked(key, scoped):
            if scoped is not None:
                found = self._tx(lambda s: _idempotent_job(s, scoped))
                if found is not None:
                    fingerprint, job = found
                    if fingerprint != key:
                        msg = "This Idempotency-Key was used for a different request (other scenario or target). Use a new key for a new request."
                        raise ApiError(Code.idempotency_key_reused, msg, job_id=job.id)
                    # the plan itself, by its key: the job the key points at may be a what-if
                    # job that stored this plan as its base
                    stored = self._tx(lambda s: s.execute(sa.select(PlanRow.id, PlanRow.job_id).where(PlanRow.request_key == key)).first())
                    if stored is not None:
                        return Submitted(job_id=stored.job_id, plan_id=stored.id)
                    error = json.loads(job.error_json) if job.error_json else None
                    if not (job.status == "failed" and error and error.get("code") in RETRYABLE):
                        return Submitted(job_id=job.id, plan_id=job.plan_id)
            with self._lock:
                running = self._inflight.get(key)
            if running is not None:
                if scoped is not None:
                    self._tx(lambda s: _remember_key(s, scoped, key, running))
                return Submitted(job_id=running)
            plan = self._tx(lambda s: s.execute(sa.select(PlanRow.id, PlanRow.job_id).where(PlanRow.request_key == key)).first())
            if plan is not None:
                if scoped is not None:
                    self._tx(lambda s: _remember_key(s, scoped, key, plan.job_id))
                return Submitted(job_id=plan.job_id, plan_id=plan.id)
            job_id = uuid.uuid4().hex

            def create(s: Session) -> None:
                if inline_doc is not None and s.get(ScenarioContent, sha) is None:
                    s.add(ScenarioContent(sha256=sha, document=inline_doc, created_at=utcnow()))
                    s.flush()  # the job row refers to it; no ORM relationship orders the inserts
                s.add(JobRow(id=job_id, kind="plan", status="queued", request_json=json.dumps(request_doc, ensure_ascii=False), request_key=key, scenario_sha256=sha, scenario_id=scenario_id, attempts=0, created_at=utcnow()))
                if scoped is not None:
                    s.flush()
                    _remember_key(s, scoped, key, job_id)

            with self._reserve_room():
                self._tx(create)
                with self._lock:
                    self._waiters[job_id] = _Waiter()
                    self._inflight[key] = job_id
                    queued = self.pool.submit(Task(job_id, scenario, target))
            if not queued:  # pragma: no cover - the place was reserved
                self._job_done(Task(job_id, scenario, target), Result(error=ApiError(Code.queue_full, "The queue filled up; retry.")))
            return Submitted(job_id=job_id, created=True)

    # -- what-ifs and sweeps -----------------------------------------------------------------

    @staticmethod
    def whatif_key(base_sha: str, base_target: float, whatif_sha: str, target: float) -> str:
        """Return the key under which identical what-if requests share one answer."""
        return sha256_text(canonical_json({"kind": "whatif", "flowopt": flowopt.__version__, "base_sha256": base_sha, "base_target": base_target, "whatif_sha256": whatif_sha, "target": target}))

    @staticmethod
    def sweep_key(sha: str, t_from: float, t_to: float, step: float) -> str:
        """Return the key under which identical sweep requests share one curve."""
        return sha256_text(canonical_json({"kind": "sweep", "flowopt": flowopt.__version__, "scenario_sha256": sha, "from": t_from, "to": t_to, "step": step}))

    def submit_whatif(self, body: Any, client: str, idempotency_key: str | None) -> Submitted:
        """Validate a what-if request and find or start the job that answers it.

        The changes are checked and applied here (cheap, every problem located); the worker
        only solves. Plans already stored (same scenario content and target) are not solved
        again; when both are, the job completes at once.

        Args:
            body: the parsed JSON body (:class:`~api.schemas.WhatIfCreate`).
            client: who is asking (scopes Idempotency-Keys).
            idempotency_key: the ``Idempotency-Key`` header, if any.

        Returns:
            The job to wait for (new, shared with an identical request, or done before).

        Raises:
            ApiError: invalid request or changes (422, every problem with its pointer), unknown
                scenario (404), reused key (422), full queue (429), storage failure (503).
        """
        try:
            req = WhatIfCreate.model_validate(body)
        except ValidationError as exc:
            raise envelope_error(exc, "WhatIfCreate") from None
        base, base_sha, base_id, base_doc = self._request_scenario(req.scenario_id, req.scenario)
        whatif, whatif_doc, whatif_sha = self._whatif_prepared(base, base_sha, req)
        base_target = base.policy.target_rate
        target = req.target if req.target is not None else whatif.policy.target_rate
        key = self.whatif_key(base_sha, base_target, whatif_sha, target)
        spec: dict[str, Any] = {
            "base_sha": base_sha,
            "base": base,
            "whatif_doc": whatif_doc,
            "target": target,
            "need_base": True,
            "need_whatif": True,
            "base_plan_key": self.request_key(base_sha, base_target),
            "base_target": base_target,
            "whatif_sha": whatif_sha,
            "whatif_plan_key": self.request_key(whatif_sha, target),
        }
        request_doc = {"kind": "whatif", "scenario_id": whatif.id, "scenario_sha256": whatif_sha, "target": target, "base_scenario_id": base_id, "base_scenario_sha256": base_sha, "base_target": base_target, "changes": len(req.changes)}
        contents = [(base_sha, base_doc), (whatif_sha, whatif_doc)]

        def prepare(s: Session) -> bool:
            self._plans_needed(s, spec)
            return bool(spec["need_base"] or spec["need_whatif"])

        task = Task("", whatif, target, kind="whatif", spec=spec)
        return self._submit_job(task, key=key, client=client, idempotency_key=idempotency_key, request_doc=request_doc, sha=whatif_sha, scenario_id=whatif.id, contents=contents, prepare=prepare)

    def _whatif_prepared(self, base: Scenario, base_sha: str, req: WhatIfCreate) -> tuple[Scenario, str, str]:
        """The what-if scenario of ``req`` on ``base``, checked, with its document and hash.

        Checking the changes and hashing the result is most of the API process's work for a
        what-if; a dashboard sends the same changes again and again (a slider moved back), so
        the last 64 results are kept (at most 16 M characters of documents, none above 2 M),
        keyed by the base's content hash and the changes. The result depends on nothing else,
        and scenarios are immutable.

        Raises:
            ApiError: as :func:`api.whatifs.whatif_scenario`; row limit (413).
        """
        try:
            memo: str | None = sha256_text(canonical_json({"base": base_sha, "changes": req.changes, "id": req.id, "description": req.description}))
        except (TypeError, ValueError):  # not canonical JSON (a lone surrogate, say): not kept
            memo = None
        with self._lock:
            found = self._whatifs.get(memo) if memo is not None else None
            if found is not None:
                self._whatifs.move_to_end(memo)
                return found
        whatif = whatif_scenario(base, req)
        whatif_doc, whatif_sha = scenario_document(whatif)
        check_rows({t: getattr(whatif, t) for t in TABLES}, self.settings.max_scenario_rows, "/changes")
        if memo is not None and len(whatif_doc) <= _WHATIF_MEMO_CHARS // 8:
            with self._lock:
                self._whatifs[memo] = (whatif, whatif_doc, whatif_sha)
                # bounded in count and in size: large inline scenarios must not pile up
                while len(self._whatifs) > 64 or sum(len(v[1]) for v in self._whatifs.values()) > _WHATIF_MEMO_CHARS:
                    self._whatifs.popitem(last=False)
        return whatif, whatif_doc, whatif_sha

    def submit_sweep(self, body: Any, client: str, idempotency_key: str | None) -> Submitted:
        """Validate a sweep request and find or start the job that computes its curve.

        Raises:
            ApiError: as :meth:`submit_whatif`; a range or grid out of bounds is 422 at
                ``/to`` or ``/step``.
        """
        try:
            req = SweepCreate.model_validate(body)
        except ValidationError as exc:
            raise envelope_error(exc, "SweepCreate") from None
        check_sweep(req)
        scenario, sha, scenario_id, inline_doc = self._request_scenario(req.scenario_id, req.scenario)
        key = self.sweep_key(sha, req.from_, req.to, req.step)
        spec = {"scenario": scenario, "from": req.from_, "to": req.to, "step": req.step}
        request_doc = {"kind": "sweep", "scenario_id": scenario_id, "scenario_sha256": sha, "target": None, "from": req.from_, "to": req.to, "step": req.step}
        task = Task("", scenario, None, kind="sweep", spec=spec)
        return self._submit_job(task, key=key, client=client, idempotency_key=idempotency_key, request_doc=request_doc, sha=sha, scenario_id=scenario_id, contents=[(sha, inline_doc)])

    @staticmethod
    def investment_key(sha: str, req: Any) -> str:
        """Return the key under which identical investment requests share one answer."""
        return sha256_text(canonical_json({"kind": "investment", "flowopt": flowopt.__version__, "scenario_sha256": sha, "target": req.target, "budget_cny": req.budget_cny, "build": sorted(req.build), "skip": sorted(req.skip), "gap": req.gap, "explain": req.explain}))

    def submit_investment(self, body: Any, client: str, idempotency_key: str | None) -> Submitted:
        """Validate an investment request and find or start the job that answers it.

        The request (candidates present, target, budget, forced decisions) is checked here with
        :func:`flowopt.invest.prepare`, every problem located; the worker only solves.

        Raises:
            ApiError: as :meth:`submit_whatif`; a scenario without candidates or an unknown or
                contradictory forced decision is 422 ``input_invalid``.
        """
        from flowopt.errors import InputError
        from flowopt.invest import prepare

        try:
            req = InvestmentCreate.model_validate(body)
        except ValidationError as exc:
            raise envelope_error(exc, "InvestmentCreate") from None
        scenario, sha, scenario_id, inline_doc = self._request_scenario(req.scenario_id, req.scenario)
        try:
            prepare(scenario, target_rate=req.target, budget_cny=req.budget_cny, build=req.build, skip=req.skip)
        except InputError as exc:
            raise from_library(exc) from None
        key = self.investment_key(sha, req)
        target = req.target if req.target is not None else scenario.policy.target_rate
        spec = {"scenario": scenario, "target": req.target, "budget_cny": req.budget_cny, "build": list(req.build), "skip": list(req.skip), "gap": req.gap, "explain": req.explain}
        request_doc = {"kind": "investment", "scenario_id": scenario_id, "scenario_sha256": sha, "target": target, "budget_cny": req.budget_cny, "build": list(req.build), "skip": list(req.skip), "gap": req.gap, "explain": req.explain}
        task = Task("", scenario, target, kind="investment", spec=spec)
        return self._submit_job(task, key=key, client=client, idempotency_key=idempotency_key, request_doc=request_doc, sha=sha, scenario_id=scenario_id, contents=[(sha, inline_doc)])

    @staticmethod
    def risk_key(sha: str, req: Any) -> str:
        """Return the key under which identical risk requests share one answer."""
        return sha256_text(canonical_json({"kind": "risk", "flowopt": flowopt.__version__, "scenario_sha256": sha, "target": req.target, "samples": req.samples, "seed": req.seed, "method": req.method, "tolerance": req.tolerance, "rows": req.rows}))

    def submit_risk(self, body: Any, client: str, idempotency_key: str | None) -> Submitted:
        """Validate a risk request and find or start the job that answers it.

        The scenario's ``uncertainty`` table is checked here (:func:`flowopt.uncertainty.resolve`
        and the scenario at the inputs' medians), every problem located; the worker only solves.

        Raises:
            ApiError: as :meth:`submit_whatif`; a scenario without uncertain inputs or with an
                invalid ``uncertainty`` table is 422 ``input_invalid``.
        """
        from flowopt.errors import InputError
        from flowopt.uncertainty import resolve

        try:
            req = RiskCreate.model_validate(body)
        except ValidationError as exc:
            raise envelope_error(exc, "RiskCreate") from None
        scenario, sha, scenario_id, inline_doc = self._request_scenario(req.scenario_id, req.scenario)
        try:
            inputs = resolve(scenario)
            inputs.scenario_of(inputs.quantile_values(0.5))  # every sample starts from it
        except InputError as exc:
            raise from_library(exc, "/scenario" if inline_doc is not None else None) from None
        key = self.risk_key(sha, req)
        target = req.target if req.target is not None else scenario.policy.target_rate
        spec = {"scenario": scenario, "target": target, "samples": req.samples, "seed": req.seed, "method": req.method, "tolerance": req.tolerance, "rows": req.rows}
        request_doc = {"kind": "risk", "scenario_id": scenario_id, "scenario_sha256": sha, "target": target, "samples": req.samples, "seed": req.seed, "method": req.method, "tolerance": req.tolerance, "rows": req.rows}
        task = Task("", scenario, target, kind="risk", spec=spec)
        return self._submit_job(task, key=key, client=client, idempotency_key=idempotency_key, request_doc=request_doc, sha=sha, scenario_id=scenario_id, contents=[(sha, inline_doc)])

    def _job_progress(self, task: Task, done: int, total: int, what: str) -> None:
        """Keep a running job's progress (reported by its solver process) for ``GET /v1/jobs/{id}``."""
        with self._lock:
            self._progress[task.job_id] = (int(done), int(total), str(what)[:100])

    def _submit_job(self, task: Task, *, key: str, client: str, idempotency_key: str | None, request_doc: dict[str, Any], sha: str, scenario_id: str | None, contents: list[tuple[str, str | None]], prepare: Callable[[Session], bool] | None = None) -> Submitted:
        """Find or start the job of a what-if or sweep (the order of :meth:`submit_plan`).

        Args:
            task: the task to queue (its ``job_id`` is filled in here).
            key: the request key (identical requests share one job).
            client: who is asking (scopes the ``Idempotency-Key``).
            idempotency_key: the ``Idempotency-Key`` header, if any.
            request_doc: stored as the job's request.
            sha: content hash of the job's scenario.
            scenario_id: id of the job's scenario.
            contents: ``(sha256, document)`` of scenario contents to store (``None``: stored).
            prepare: called in the transaction that creates the job; False when nothing is
                left to solve, so the job completes at once without a worker.
        """
        scoped = f"{client}:{idempotency_key}" if idempotency_key else None
        kind = task.kind

        def finished(s: Session) -> str | None:
            return s.execute(sa.select(JobRow.id).where(JobRow.request_key == key, JobRow.kind == kind, JobRow.status == "succeeded").order_by(JobRow.created_at).limit(1)).scalar_one_or_none()

        with self._keys_locked(key, scoped):
            if scoped is not None:
                found = self._tx(lambda s: _idempotent_job(s, scoped))
                if found is not None:
                    fingerprint, job = found
                    if fingerprint != key:
                        msg = "This Idempotency-Key was used for a different request (other scenario, changes, target or range). Use a new key for a new request."
                        raise ApiError(Code.idempotency_key_reused, msg, job_id=job.id)
                    done = self._tx(finished)
                    if done is not None:
                        return Submitted(job_id=done)
                    error = json.loads(job.error_json) if job.error_json else None
                    if not (job.status == "failed" and error and error.get("code") in RETRYABLE):
                        return Submitted(job_id=job.id)
            with self._lock:
                running = self._inflight.get(key)
            if running is not None:
                if scoped is not None:
                    self._tx(lambda s: _remember_key(s, scoped, key, running))
                return Submitted(job_id=running)
            done = self._tx(finished)
            if done is not None:
                if scoped is not None:
                    self._tx(lambda s: _remember_key(s, scoped, key, done))
                return Submitted(job_id=done)
            job_id = uuid.uuid4().hex
            task.job_id = job_id

            def create(s: Session) -> bool:
                for content_sha, doc in contents:
                    if doc is not None and s.get(ScenarioContent, content_sha) is None:
                        s.add(ScenarioContent(sha256=content_sha, document=doc, created_at=utcnow()))
                        s.flush()  # the job row refers to it; no ORM relationship orders the inserts
                s.add(JobRow(id=job_id, kind=kind, status="queued", request_json=json.dumps(request_doc, ensure_ascii=False), request_key=key, scenario_sha256=sha, scenario_id=scenario_id, attempts=0, created_at=utcnow()))
                if scoped is not None:
                    s.flush()
                    _remember_key(s, scoped, key, job_id)
                return prepare(s) if prepare is not None else True

            with self._reserve_room():
                solve = self._tx(create)
                with self._lock:
                    self._waiters[job_id] = _Waiter()
                    self._inflight[key] = job_id
                    queued = not solve or self.pool.submit(task)
            if not queued:  # pragma: no cover - the place was reserved
                self._job_done(task, Result(error=ApiError(Code.queue_full, "The queue filled up; retry.")))
        if not solve:  # every plan was stored already: compare them here
            self._job_done(task, Result(payload={}))
        return Submitted(job_id=job_id, created=True)

    @staticmethod
    def _plans_needed(s: Session, spec: dict[str, Any]) -> None:
        """Mark in a what-if spec which of its two plans are not stored yet."""
        stored = set(s.execute(sa.select(PlanRow.request_key).where(PlanRow.request_key.in_((spec["base_plan_key"], spec["whatif_plan_key"])))).scalars())
        spec["need_base"] = spec["base_plan_key"] not in stored
        spec["need_whatif"] = spec["whatif_plan_key"] not in stored

    # -- jobs -----------------------------------------------------------------------------

    async def wait(self, job_id: str, timeout: float) -> Outcome | None:
        """Wait up to ``timeout`` seconds for a job of this process; ``None`` if still running."""
        waiter = self._waiters.get(job_id)
        if waiter is None:  # finished already, or started by an earlier process
            return await run_in_threadpool(self._stored_outcome, job_id)
        return await waiter.wait(timeout)

    def _stored_outcome(self, job_id: str) -> Outcome | None:
        with self._lock:
            kept = self._unrecorded.get(job_id)
        if kept is not None:  # failed, but the database has refused the record so far
            error = ApiError.from_document(json.loads(kept[0]))
            if error.status == 503:
                error.headers["Retry-After"] = "5"
            return Outcome(error=error)
        job = self._tx(lambda s: s.get(JobRow, job_id))
        if job is None or job.status in ("queued", "running"):
            return None
        if job.status == "succeeded":
            return Outcome(plan_id=job.plan_id)
        return Outcome(error=ApiError.from_document(json.loads(job.error_json or "{}")) if job.error_json else ApiError(Code.internal_error, "The job failed without a recorded error."))

    def _job_started(self, task: Task) -> None:
        def work(s: Session) -> None:
            s.execute(sa.update(JobRow).where(JobRow.id == task.job_id).values(status="running", started_at=utcnow(), attempts=JobRow.attempts + 1))
            if task.kind == "whatif" and task.spec is not None:
                # a job queued behind another what-if of the same base need not solve it again
                self._plans_needed(s, task.spec)

        self._tx(work, attempts=3)

    def _job_done(self, task: Task, result: Result) -> None:
        """Store a finished solve in one transaction, then wake whoever waits for it.

        If the result cannot be stored (after brief retries) the job fails with
        ``storage_unavailable`` and the reason; a failure the database refuses too is kept in
        memory (answered from there) and written by a background thread as soon as the
        database accepts writes. Waiters get the outcome before that write is tried.
        """
        now = utcnow()
        failure: ApiError | None = None
        outcome = Outcome(error=ApiError(Code.internal_error, "The job ended without an outcome.", job_id=task.job_id))
        try:
            try:
                stored = self._store_result(task, result, now)
            except Exception as exc:  # whatever went wrong, the job must end, not stay 'running'
                logger.exception("storing the result of %s job %s failed", task.kind, task.job_id)
                failure = _lost_result(exc)
            else:
                if isinstance(stored, ApiError):  # the solve failed: record its error
                    failure = stored
                else:
                    outcome = stored
            if failure is not None:
                failure.extra["job_id"] = task.job_id
                outcome = Outcome(error=failure)
                # kept in memory first, so that anyone asking from now on sees the failure; one
                # write before waking the waiters, so that a client retrying at once (same
                # Idempotency-Key) normally finds the job failed in the database already
                with self._lock:
                    self._unrecorded[task.job_id] = (json.dumps(failure.document(), ensure_ascii=False), now)
                self._write_unrecorded()
            logger.info("%s job %s %s after %.2f s", task.kind, task.job_id, f"failed ({outcome.error.code})" if outcome.error else "stored " + (outcome.plan_id or "its result"), result.seconds)
        finally:
            # whatever happened, nobody may wait on this job forever or join it later
            with self._lock:
                waiter = self._waiters.pop(task.job_id, None)
                self._progress.pop(task.job_id, None)
                for k, v in list(self._inflight.items()):
                    if v == task.job_id:
                        del self._inflight[k]
            if waiter is not None:
                waiter.set(outcome)
        # failures the database refused, this job's or earlier ones: retried now, then by a thread
        if self._unrecorded and not self._write_unrecorded(attempts=2):
            self._start_writer()

    def _store_result(self, task: Task, result: Result, now: Any) -> Outcome | ApiError:
        """Store a solve's result with its job's status; return the outcome, or the solve's error.

        Raises:
            Exception: the result could not be stored (``ApiError`` storage_unavailable after
                retries, or any other error); nothing of it was committed.
        """
        if result.plan_json is not None:
            return Outcome(plan_id=self._tx_unique(lambda s: _store_plan(s, task.job_id, result.plan_json or "", now)))
        if result.error is None and result.payload is not None and task.kind == "whatif":
            return self._tx_unique(lambda s: _store_whatif(s, task, result.payload, now))
        if result.error is None and result.payload is not None and task.kind == "sweep":
            return self._tx(lambda s: _store_sweep(s, task.job_id, result.payload["curve"], now), attempts=3)
        if result.error is None and result.payload is not None and task.kind == "risk":
            return self._tx(lambda s: _store_sweep(s, task.job_id, result.payload["risk"], now), attempts=3)
        if result.error is None and result.payload is not None and task.kind == "investment":
            # stored with its job like a curve: the result document is the job's
            return self._tx(lambda s: _store_sweep(s, task.job_id, result.payload["investment"], now), attempts=3)
        return result.error or ApiError(Code.internal_error, "The solve ended without a result.")

    def _write_unrecorded(self, attempts: int = 1) -> bool:
        """Write the job failures kept in memory, in one transaction; True when none is left.

        A job is only moved from ``queued``/``running`` to ``failed``: a row already final is
        never overwritten.
        """
        with self._lock:
            pending = dict(self._unrecorded)
        if not pending:
            return True
        error: Exception | None = None
        for attempt in range(1, attempts + 1):
            try:
                with self.sessions.begin() as s:
                    for job_id, (doc, when) in pending.items():
                        s.execute(sa.update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(("queued", "running"))).values(status="failed", error_json=doc, finished_at=when))
            except Exception as exc:
                error = exc
                if attempt < attempts:
                    time.sleep(0.2 * attempt)
                continue
            error = None
            break
        if error is not None:
            logger.warning("%d failed job(s) could not be recorded yet (%s); retrying every %g s", len(pending), _reason(error), UNRECORDED_RETRY_S)
            return False
        with self._lock:
            for job_id, entry in pending.items():
                if self._unrecorded.get(job_id) is entry:
                    del self._unrecorded[job_id]
            left = bool(self._unrecorded)
        logger.info("recorded %d failed job(s) the database had refused", len(pending))
        return not left

    def _start_writer(self) -> None:
        """Start the thread that writes refused job failures until none is left (if not running)."""
        with self._lock:
            if self._writer is not None or self._closed.is_set():
                return
            self._writer = threading.Thread(target=self._writer_loop, name="flowopt-unrecorded-jobs", daemon=True)
            self._writer.start()

    def _writer_loop(self) -> None:
        while not self._closed.wait(UNRECORDED_RETRY_S):
            try:
                self._write_unrecorded()
            except Exception:  # pragma: no cover - _write_unrecorded catches database errors
                logger.exception("writing failed jobs kept in memory failed")
            with self._lock:
                if not self._unrecorded:
                    self._writer = None
                    return
        with self._lock:
            self._writer = None

    def _overlay_unrecorded(self, job: JobRow) -> None:
        """Show a failure the database has refused so far on a job row read from it (not saved)."""
        with self._lock:
            kept = self._unrecorded.get(job.id)
        if kept is not None and job.status in ("queued", "running"):
            job.status, job.error_json, job.finished_at = "failed", kept[0], kept[1]

    def close(self) -> None:
        """Stop the background writer after one last try (call after ``pool.stop()``).

        Failures still refused stay ``running`` in the database; the next server's
        :meth:`recover` marks them interrupted, which is retryable too.
        """
        self._closed.set()
        self._write_unrecorded()
        writer = self._writer
        if writer is not None:
            writer.join(5)

    def job_document(self, job_id: str) -> dict[str, Any]:
        """Return the job resource (with its result embedded once succeeded).

        Raises:
            ApiError: ``not_found`` (404).
        """

        def work(s: Session) -> tuple[JobRow, Any]:
            job = s.get(JobRow, job_id)
            if job is None:
                msg = f"No job '{job_id}'. Job ids come from the 202 answers of POST /v1/plans, /v1/whatifs, /v1/sweeps, /v1/investments and /v1/risks."
                raise ApiError(Code.not_found, msg)
            result: Any = None
            if job.status == "succeeded":
                result = _job_result(s, job)
            return job, result

        job, result = self._tx(work)
        self._overlay_unrecorded(job)
        request = json.loads(job.request_json)
        position = self.pool.position(job.id) if job.status == "queued" else None
        stage = {"queued": "waiting for a solver process", "running": "solving", "succeeded": "done", "failed": "done"}.get(job.status, job.status)
        return {
            "id": job.id,
            "kind": job.kind,
            "status": job.status,
            "stage": stage,
            "queue_position": position,
            "scenario_id": job.scenario_id,
            "scenario_sha256": job.scenario_sha256,
            "target": request.get("target"),
            "created_at": iso(job.created_at),
            "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at),
            "plan_id": job.plan_id,
            "plan_url": f"/v1/plans/{job.plan_id}" if job.plan_id else None,
            "result": result,
            "error": json.loads(job.error_json) if job.error_json else None,
            "url": f"/v1/jobs/{job.id}",
        } | self._progress_of(job)

    def _progress_of(self, job: JobRow) -> dict[str, Any]:
        """``{"progress": {...}}`` while a risk job of this process runs and has reported, else ``{}``."""
        with self._lock:
            found = self._progress.get(job.id)
        if found is None or job.status != "running":
            return {}
        done, total, what = found
        return {"progress": {"done": done, "total": total, "what": what}}

    def job_result(self, job_id: str) -> Any:
        """Return the result of a succeeded job: the plan, the what-if answer or the curve.

        Raises:
            ApiError: ``not_found`` (404) when there is no such succeeded job.
        """

        def work(s: Session) -> Any:
            job = s.get(JobRow, job_id)
            if job is None or job.status != "succeeded":
                raise ApiError(Code.not_found, f"No finished job '{job_id}'.")
            return _job_result(s, job)

        return self._tx(work)

    def whatif_result_text(self, job_id: str) -> tuple[str, str]:
        """The answer of a succeeded what-if job as JSON text, and its what-if plan's URL.

        The same document as :meth:`job_result`, but the stored plan's text is spliced in
        as it is instead of being parsed and encoded again (most of the answer's bytes).

        Raises:
            ApiError: ``not_found`` (404) when there is no such succeeded what-if job.
        """

        def work(s: Session) -> tuple[str, str]:
            job = s.get(JobRow, job_id)
            if job is None or job.status != "succeeded" or job.kind != "whatif":
                raise ApiError(Code.not_found, f"No finished what-if job '{job_id}'.")
            plan_doc = s.execute(sa.select(PlanRow.document).where(PlanRow.id == job.plan_id)).scalar_one_or_none() if job.plan_id else None
            result = json.loads(job.result_json or "{}")
            head = _whatif_head(job, result)
            text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
            tail = json.dumps({"comparison": result["comparison"], "solve": result["solve"]}, ensure_ascii=False, allow_nan=False, separators=(",", ":"))[1:]
            # key order as job_result's: ids, urls, whatif, comparison, solve
            return f'{text},"whatif":{plan_doc or "null"},{tail}', head["whatif_plan_url"]

        return self._tx(work)

    def plan_text(self, plan_id: str) -> tuple[str, str]:
        """Return ``(document, sha256)`` of a stored plan.

        Raises:
            ApiError: ``not_found`` (404).
        """

        def work(s: Session) -> tuple[str, str]:
            row = s.execute(sa.select(PlanRow.document, PlanRow.sha256).where(PlanRow.id == plan_id)).first()
            if row is None:
                msg = f"No plan '{plan_id}'. Plan ids are listed by GET /v1/plans and returned in the Location header of POST /v1/plans."
                raise ApiError(Code.not_found, msg)
            return row.document, row.sha256

        return self._tx(work)

    def list_plans(self, offset: int, limit: int, scenario_id: str | None) -> dict[str, Any]:
        """Return a page of plan summaries, newest first."""

        def work(s: Session) -> dict[str, Any]:
            q = sa.select(PlanRow.id, PlanRow.scenario_id, PlanRow.scenario_sha256, PlanRow.target, PlanRow.status, PlanRow.utilization_rate, PlanRow.objective_cny, PlanRow.created_at)
            count = sa.select(sa.func.count()).select_from(PlanRow)
            if scenario_id is not None:
                q = q.where(PlanRow.scenario_id == scenario_id)
                count = count.where(PlanRow.scenario_id == scenario_id)
            total = s.execute(count).scalar_one()
            rows = s.execute(q.order_by(PlanRow.created_at.desc(), PlanRow.id).offset(offset).limit(limit)).all()
            items = [{"id": r.id, "scenario_id": r.scenario_id, "scenario_sha256": r.scenario_sha256, "target": r.target, "status": r.status, "utilization_rate": r.utilization_rate, "objective_cny": r.objective_cny, "created_at": iso(r.created_at), "url": f"/v1/plans/{r.id}"} for r in rows]
            base = "/v1/plans" + (f"?scenario_id={scenario_id}&" if scenario_id else "?")
            return {"items": items, "total": total, "offset": offset, "limit": limit, "next": _next(base, offset, limit, total)}

        return self._tx(work)


def _next(base: str, offset: int, limit: int, total: int) -> str | None:
    if offset + limit >= total:
        return None
    sep = "" if base.endswith(("?", "&")) else "?"
    return f"{base}{sep}offset={offset + limit}&limit={limit}"


def _scenario_missing(scenario_id: str) -> ApiError:
    msg = f"No scenario '{scenario_id}'. Stored scenarios are listed by GET /v1/scenarios; the bundled park is 'panzhihua_east_2025'."
    return ApiError(Code.not_found, msg, problems=[{"file": None, "table": "request", "row": None, "column": "scenario_id", "pointer": "/scenario_id", "message": f"unknown scenario id '{scenario_id}'.", "hint": "use an id from GET /v1/scenarios, or send the scenario inline as 'scenario'.", "severity": "error"}])


def _idempotent_job(s: Session, scoped: str) -> tuple[str, JobRow] | None:
    rec = s.get(IdempotencyKey, scoped)
    if rec is None:
        return None
    job = s.get(JobRow, rec.job_id)
    assert job is not None  # foreign key
    return rec.fingerprint, job


def _remember_key(s: Session, scoped: str, fingerprint: str, job_id: str) -> None:
    rec = s.get(IdempotencyKey, scoped)
    if rec is None:
        s.add(IdempotencyKey(key=scoped, fingerprint=fingerprint, job_id=job_id, created_at=utcnow()))
    else:  # the key's earlier job failed for a transient reason and is being retried
        rec.job_id = job_id


def _reason(exc: BaseException) -> str:
    """Return a short reason for a storage failure: the driver's message, not SQLAlchemy's."""
    if isinstance(exc, ApiError):
        if not isinstance(exc.__context__, SQLAlchemyError):  # _tx raises "from None"
            return exc.detail[:300]
        exc = exc.__context__
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {text}"[:200] if text else type(orig).__name__


def _lost_result(exc: BaseException) -> ApiError:
    """Return the error of a job whose finished result could not be stored (``storage_unavailable``)."""
    if isinstance(exc, ApiError) and exc.code != Code.storage_unavailable:
        return exc
    msg = f"The solve finished, but its result could not be stored ({_reason(exc)}). Nothing of it was saved; send the request again later (a retry with the same Idempotency-Key runs it again)."
    return ApiError(Code.storage_unavailable, msg, headers={"Retry-After": "5"})


def _store_plan(s: Session, job_id: str, plan_json: str, now: Any) -> str:
    """Insert the plan and mark its job succeeded (one transaction); return the plan id."""
    job = s.get(JobRow, job_id)
    assert job is not None
    doc = json.loads(plan_json)
    existing = s.execute(sa.select(PlanRow.id).where(PlanRow.request_key == job.request_key)).scalar_one_or_none()
    plan_id = existing or uuid.uuid4().hex
    if existing is None:
        s.add(PlanRow(id=plan_id, job_id=job_id, request_key=job.request_key, scenario_sha256=job.scenario_sha256, scenario_id=doc["scenario_id"], target=doc["target"], status=doc["status"], utilization_rate=doc["utilization_rate"], objective_cny=doc["objective_cny"], document=plan_json, sha256=sha256_text(plan_json), created_at=now))
    job.status, job.plan_id, job.finished_at, job.error_json = "succeeded", plan_id, now, None
    return plan_id


def _put_plan(s: Session, job_id: str, request_key: str, sha: str, plan_json: str, now: Any) -> tuple[str, str]:
    """Store a plan under ``request_key`` unless one is there; return ``(id, document)``.

    The plan is parsed once, into the object :func:`_plan_object` keeps for comparisons.
    """
    existing = s.execute(sa.select(PlanRow.id, PlanRow.document).where(PlanRow.request_key == request_key)).first()
    if existing is not None:
        return existing.id, existing.document
    plan = Plan.model_validate_json(plan_json)
    plan_id = uuid.uuid4().hex
    s.add(PlanRow(id=plan_id, job_id=job_id, request_key=request_key, scenario_sha256=sha, scenario_id=plan.scenario_id, target=plan.target, status=plan.status, utilization_rate=plan.utilization_rate, objective_cny=plan.objective_cny, document=plan_json, sha256=sha256_text(plan_json), created_at=now))
    s.flush()
    _keep_plan(plan_id, plan)
    return plan_id, plan_json


#: ``solve`` of a what-if whose plan was stored already.
_REUSED_SOLVE = {"warm": False, "seconds": 0.0, "lp_seconds": None, "simplex_iterations": None, "session_reused": False, "reused": True}


_PLANS: OrderedDict[str, Plan] = OrderedDict()
_PLANS_LOCK = threading.Lock()


def _plan_object(plan_id: str, document: str) -> Plan:
    """The stored plan ``plan_id`` as an object.

    The last 32 read are kept: a dashboard's what-ifs compare with the same base plan again and
    again, and a stored plan never changes.
    """
    with _PLANS_LOCK:
        plan = _PLANS.get(plan_id)
        if plan is not None:
            _PLANS.move_to_end(plan_id)
            return plan
    plan = Plan.model_validate_json(document)
    _keep_plan(plan_id, plan)
    return plan


def _keep_plan(plan_id: str, plan: Plan) -> None:
    """Keep a stored plan's object for :func:`_plan_object` (the last 32)."""
    with _PLANS_LOCK:
        _PLANS[plan_id] = plan
        _PLANS.move_to_end(plan_id)
        while len(_PLANS) > 32:
            _PLANS.popitem(last=False)


def _store_whatif(s: Session, task: Task, payload: dict[str, Any], now: Any) -> Outcome:
    """Store a what-if's plans (those solved now), its comparison and the job's status, at once.

    A what-if without a plan (an infeasible target, say) still stores the base plan if it was
    solved, and fails the job with the what-if's problem document.
    """
    spec = task.spec or {}
    job = s.get(JobRow, task.job_id)
    assert job is not None

    def fail(err: ApiError) -> Outcome:
        err.extra["job_id"] = task.job_id
        job.status, job.error_json, job.finished_at = "failed", json.dumps(err.document(), ensure_ascii=False), now
        return Outcome(error=err)

    found = {}
    for which, key, sha in (("base", spec["base_plan_key"], spec["base_sha"]), ("whatif", spec["whatif_plan_key"], spec["whatif_sha"])):
        if which == "whatif" and payload.get("whatif_error"):
            return fail(ApiError.from_document(payload["whatif_error"]))
        text = payload.get(f"{which}_plan")
        if text is not None:
            found[which] = _put_plan(s, task.job_id, key, sha, text, now)
        else:
            row = s.execute(sa.select(PlanRow.id, PlanRow.document).where(PlanRow.request_key == key)).first()
            if row is None:  # pragma: no cover - a plan found stored is never deleted
                return fail(ApiError(Code.internal_error, f"The {which} plan was neither solved nor stored."))
            found[which] = (row.id, row.document)
    (base_id, base_doc), (whatif_id, whatif_doc) = found["base"], found["whatif"]
    comparison = compare_plans(_plan_object(base_id, base_doc), _plan_object(whatif_id, whatif_doc))
    result = {"base_plan_id": base_id, "whatif_plan_id": whatif_id, "comparison": comparison.model_dump(mode="json"), "solve": payload.get("solve") or _REUSED_SOLVE}
    job.status, job.plan_id, job.finished_at, job.error_json = "succeeded", whatif_id, now, None
    job.result_json = json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Outcome(plan_id=whatif_id)


def _store_sweep(s: Session, job_id: str, curve_json: str, now: Any) -> Outcome:
    """Store a sweep's curve and mark its job succeeded."""
    job = s.get(JobRow, job_id)
    assert job is not None
    job.status, job.result_json, job.finished_at, job.error_json = "succeeded", curve_json, now, None
    return Outcome()


def _job_result(s: Session, job: JobRow) -> Any:
    """Return the result document of a succeeded job (see :meth:`Service.job_result`)."""
    if job.kind in ("sweep", "investment", "risk"):
        return json.loads(job.result_json or "null")
    plan_doc = s.execute(sa.select(PlanRow.document).where(PlanRow.id == job.plan_id)).scalar_one_or_none() if job.plan_id else None
    plan = json.loads(plan_doc) if plan_doc else None
    if job.kind != "whatif":
        return plan
    result = json.loads(job.result_json or "{}")
    return {**_whatif_head(job, result), "whatif": plan, "comparison": result["comparison"], "solve": result["solve"]}


def _whatif_head(job: JobRow, result: Mapping[str, Any]) -> dict[str, Any]:
    """The ids and URLs that open a what-if answer (its plan, comparison and solve follow)."""
    base_id, whatif_id = result["base_plan_id"], result["whatif_plan_id"]
    return {"job_id": job.id, "base_plan_id": base_id, "whatif_plan_id": whatif_id, "base_plan_url": f"/v1/plans/{base_id}", "whatif_plan_url": f"/v1/plans/{whatif_id}"}


def validation_report(scenario: Scenario, graph: MaterialGraph) -> dict[str, Any]:
    """Return the summary of a valid scenario (``POST /v1/scenarios/validate``)."""
    _, sha = scenario_document(scenario)
    return {"valid": True, "scenario_id": scenario.id, "sha256": sha, "rows": row_counts(scenario), "lots": len(graph.lots), "arcs": len(graph.arcs), "warnings": [problem_item(w, None) for w in graph.warnings]}
