"""The FastAPI application: ``create_app(settings) -> FastAPI``, ``app``, and ``serve``.

Startup (lifespan): take the database's one-server lock (a second server on the same database
refuses to start), open the database (SQLite files are integrity-checked), run the Alembic
migrations, mark jobs interrupted by the last shutdown as failed, store the bundled park
scenario, start the solver processes. Shutdown stops the processes; a running solve is killed
and its job marked ``interrupted``.

Middleware, outermost first: security headers (on every response, Starlette's error pages
included), CORS (when origins are configured; refused preflights answer problem+json), the
per-client rate limit, the body-size limit; then the routes. There is no ``/docs`` or ``/redoc``
page: FastAPI's load their scripts from a CDN, and this origin is where the plan viewer keeps
its API key, so no third-party script may run here; ``/openapi.json`` is served for any viewer.

``flowopt serve`` calls :func:`serve`; ``uvicorn api.main:app`` works too (settings from the
environment either way).
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

import flowopt
from api import docs, errors
from api import examples as ex
from api.bodies import BodySizeLimit
from api.db import (
    DatabaseUnusable,
    ServerLock,
    check_integrity,
    lock_database,
    make_engine,
    migrate,
)
from api.deps import require_read
from api.middleware import ProblemCORSMiddleware, SecurityHeaders, problem_h11_protocol
from api.ratelimit import EXEMPT_PATHS, RateLimit
from api.routes import health, jobs, plans, scenarios
from api.routes.investments import router as investments_router
from api.routes.risks import router as risks_router
from api.routes.viewer import router as viewer_router
from api.routes.whatifs import router as whatifs_router
from api.schemas import (
    BottleneckList,
    CostCurveDocument,
    FlowPage,
    Health,
    InvestmentCreate,
    InvestmentDocument,
    JobPublic,
    PlanCreate,
    PlanPage,
    ProblemDocument,
    Ready,
    RiskCreate,
    RiskDocument,
    Sankey,
    ScenarioPage,
    ScenarioSummary,
    SweepCreate,
    ValidationReport,
    WhatIfCreate,
    WhatIfResult,
)
from api.service import Service
from api.settings import Settings, SettingsError
from flowopt.bundled import default_data_dir
from flowopt.results import Plan
from flowopt.schema import Scenario

logger = logging.getLogger("flowopt.api")

DESCRIPTION = """\
Least-cost material-flow plans for the Panzhihua East District industrial park
(攀枝花东区高新技术产业园区), over HTTP: scenarios, plans with their bottlenecks, flows and Sankey
data, what-ifs compared with their base, target–cost curves, and solve jobs. A plan is the same
document `flowopt solve --json` prints. `GET /` is a built-in plan viewer.

* **Keys.** Every `POST` needs an `X-API-Key` header when the server has keys configured
  (`FLOWOPT_API_KEYS`); reads need one too when `FLOWOPT_READ_REQUIRES_KEY` is true.
* **Solves.** `POST /v1/plans` waits briefly for the plan (201, or 200 when an identical request
  was solved before); longer solves answer 202 with a job to poll at `GET /v1/jobs/{id}`.
* **Errors.** Every error is `application/problem+json` with a stable `code`, English and
  Chinese text, and for invalid input `problems` located by table, row, column and JSON pointer.
"""

TAGS = [
    {"name": "plans", "description": "Solve scenarios and read the stored plans."},
    {"name": "jobs", "description": "Progress of solves that take longer than a moment."},
    {"name": "scenarios", "description": "Park networks: the bundled Panzhihua East park and uploaded ones."},
    {"name": "what-ifs", "description": "A base scenario plus changes: the what-if plan and its comparison with the base; the target–cost curve."},
    {"name": "risk", "description": "How likely the target is when the scenario's uncertain estimates move within their ranges: the probability with its interval, what drives it."},
    {"name": "investments", "description": "Which candidate projects to build (a mixed-integer program): the least-cost build set, the plan given it, the value of each decision."},
    {"name": "health", "description": "Liveness and readiness."},
]

#: Models whose JSON schemas the OpenAPI components hold (responses are built by the routes).
DOCUMENTED_MODELS: tuple[type[Any], ...] = (Scenario, PlanCreate, Plan, JobPublic, PlanPage, ScenarioSummary, ScenarioPage, ValidationReport, BottleneckList, FlowPage, Sankey, Health, Ready, ProblemDocument, WhatIfCreate, WhatIfResult, SweepCreate, CostCurveDocument, InvestmentCreate, InvestmentDocument, RiskCreate, RiskDocument)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """Return the OpenAPI description of ``app`` (deterministic: same code, same document)."""
    doc = get_openapi(title="flowopt API", version=flowopt.__version__, summary="Circular-economy material-flow plans for an industrial park.", description=DESCRIPTION, routes=app.routes, tags=TAGS)
    _, defs = models_json_schema([(m, "validation") for m in DOCUMENTED_MODELS], ref_template="#/components/schemas/{model}")
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(defs.get("$defs", {}))
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    doc["components"]["examples"] = docs.SHARED_EXAMPLES
    _document_rate_limit(doc)
    return doc


_RATE_LIMITED = errors.ApiError(errors.Code.rate_limited, "This client sent more than 20 requests per second (bursts up to 60); retry in 1 s.", retry_after_s=1)


def _document_rate_limit(doc: dict[str, Any]) -> None:
    """Add the ``rate_limited`` 429 to every operation the rate limit applies to."""
    for path, operations in doc["paths"].items():
        if path in EXEMPT_PATHS:
            continue
        for op in operations.values():
            instance = path.replace("{plan_id}", ex.PLAN_ID).replace("{job_id}", ex.JOB_ID).replace("{scenario_id}", ex.BUNDLED_ID)
            (limited,) = docs.errors("rate_limited", instance=instance).values()
            limited["content"][errors.PROBLEM_JSON]["examples"]["rate_limited"]["value"] = _RATE_LIMITED.document(instance)
            if "429" in op["responses"]:  # queue_full: a copy, the route's dicts are shared
                answer = copy.deepcopy(op["responses"]["429"])
                answer["description"] += "; " + limited["description"]
                answer["content"][errors.PROBLEM_JSON]["examples"].update(limited["content"][errors.PROBLEM_JSON]["examples"])
                limited = answer
            op["responses"]["429"] = limited


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application.

    Args:
        settings: API settings; default read from ``FLOWOPT_*`` environment variables.

    Returns:
        The FastAPI app. Database, migrations and solver processes start with its lifespan
        (``with TestClient(app)`` in tests, uvicorn in production), not here.
    """
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.effective_database_url
        # one server per database, held before anything reads or changes a job (recover() would
        # fail another server's running jobs); `flowopt serve` takes it before uvicorn starts, so
        # that a refusal is a clean exit 2, and hands it over in app.state.database_lock
        lock: ServerLock | None = getattr(app.state, "database_lock", None)
        own_lock = lock is None
        if lock is None:
            lock = lock_database(url)
        engine = None
        service: Service | None = None
        pool_started = False
        try:
            engine = make_engine(url)
            check_integrity(engine)
            migrate(engine)
            service = Service(settings, engine)
            service.recover()
            builtin = service.ensure_builtin(default_data_dir())
            app.state.builtin_scenario = builtin  # the viewer's plan (GET /viewer/plan)
            service.pool.start()
            pool_started = True
            app.state.service = service
            if settings.writes_open:
                logger.warning("FLOWOPT_API_KEYS is empty: anyone who can reach this server can store scenarios and start solves")
            logger.info("flowopt API ready: database %s (%s), %d solver process(es), bundled scenario '%s'", engine.url.render_as_string(hide_password=True), lock.what, settings.workers, builtin)
            yield
        finally:
            if service is not None:
                if pool_started:
                    service.pool.stop()
                service.close()
            if engine is not None:
                engine.dispose()
            if own_lock:
                lock.release()

    # no /docs or /redoc: FastAPI's pages load scripts from a CDN (see the module docstring)
    app = FastAPI(title="flowopt API", version=flowopt.__version__, description=DESCRIPTION, lifespan=lifespan, openapi_tags=TAGS, separate_input_output_schemas=False, docs_url=None, redoc_url=None)
    app.state.settings = settings
    read_deps = [Depends(require_read)] if settings.read_requires_key else []
    app.include_router(plans.router, dependencies=read_deps)
    app.include_router(jobs.router, dependencies=read_deps)
    app.include_router(scenarios.router, dependencies=read_deps)
    app.include_router(whatifs_router, dependencies=read_deps)
    app.include_router(investments_router, dependencies=read_deps)
    app.include_router(risks_router, dependencies=read_deps)
    app.include_router(health.router)
    app.include_router(viewer_router)  # GET / (plan viewer page, no key) and the Sankey SVG
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # before the body is read and before the key is checked (guessing keys is limited too)
    app.add_middleware(RateLimit, rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst, api_keys=settings.api_keys)
    if settings.cors_origins:
        # outside the limits, so that 413, 429 and other early answers carry CORS headers too
        app.add_middleware(ProblemCORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"], allow_headers=["Content-Type", "X-API-Key", "Idempotency-Key", "Prefer"], expose_headers=["Location", "Retry-After", "ETag"], allow_credentials=False, max_age=600)
    # around the whole stack, Starlette's error middleware included, so every answer has them
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build_stack())  # type: ignore[method-assign]

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app


def serve(host: str | None = None, port: int | None = None) -> None:
    """Run the API with uvicorn until interrupted (``flowopt serve``).

    Args:
        host: address to bind; default ``FLOWOPT_HOST`` or 127.0.0.1.
        port: port; default ``FLOWOPT_PORT`` or 8000.
    """
    import uvicorn

    try:
        settings = Settings.from_env(host=host, port=port)
    except SettingsError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None
    logging.getLogger("flowopt").setLevel(settings.log_level.upper())
    lock = _lock_or_exit(settings.effective_database_url)
    try:
        app = create_app(settings)
        app.state.database_lock = lock  # the lifespan uses this lock instead of taking its own
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, server_header=False, timeout_graceful_shutdown=10, http=problem_h11_protocol())
    finally:
        lock.release()


def _lock_or_exit(url: str) -> ServerLock:
    """Take the database's server lock for ``flowopt serve``, or exit 2 with the reason.

    Another server on the same database, an unreachable PostgreSQL, a missing driver or an
    unwritable folder stop the command with one message and no traceback.
    """
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return lock_database(url)
    except DatabaseUnusable as exc:
        message = str(exc)
    except (SQLAlchemyError, OSError, ImportError) as exc:
        try:
            shown = make_url(url).render_as_string(hide_password=True)
        except SQLAlchemyError:
            shown = "FLOWOPT_DATABASE_URL"
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        message = (
            f"The database {shown} cannot be opened ({type(exc).__name__}: {reason}). Check FLOWOPT_DATABASE_URL or FLOWOPT_DATA_DIR, "
            "that the database server is running and reachable, and that its driver is installed (pip install \"flowopt[api]\" brings psycopg for PostgreSQL)."
        )
    sys.stderr.write(f"flowopt serve: {message}\n")
    raise SystemExit(2)


def __getattr__(name: str) -> Any:
    """Build ``app`` on first access (``uvicorn api.main:app``), so importing is side-effect free."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
