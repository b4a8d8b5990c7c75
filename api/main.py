"""The FastAPI application: ``create_app(settings) -> FastAPI``, ``app``, and ``serve``.

Startup (lifespan): open the database (SQLite files are integrity-checked), run the Alembic
migrations, mark jobs interrupted by the last shutdown as failed, store the bundled park
scenario, start the solver processes. Shutdown stops the processes; a running solve is killed
and its job marked ``interrupted``.

``flowopt serve`` calls :func:`serve`; ``uvicorn api.main:app`` works too (settings from the
environment either way).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

import flowopt
from api import docs, errors
from api.bodies import BodySizeLimit
from api.db import check_integrity, make_engine, migrate
from api.deps import require_read
from api.routes import health, jobs, plans, scenarios
from api.routes.viewer import router as viewer_router
from api.routes.whatifs import router as whatifs_router
from api.schemas import (
    BottleneckList,
    CostCurveDocument,
    FlowPage,
    Health,
    JobPublic,
    PlanCreate,
    PlanPage,
    ProblemDocument,
    Ready,
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
from flowopt.pipeline import default_data_dir
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
    {"name": "health", "description": "Liveness and readiness."},
]

#: Models whose JSON schemas the OpenAPI components hold (responses are built by the routes).
DOCUMENTED_MODELS: tuple[type[Any], ...] = (Scenario, PlanCreate, Plan, JobPublic, PlanPage, ScenarioSummary, ScenarioPage, ValidationReport, BottleneckList, FlowPage, Sankey, Health, Ready, ProblemDocument, WhatIfCreate, WhatIfResult, SweepCreate, CostCurveDocument)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """Return the OpenAPI description of ``app`` (deterministic: same code, same document)."""
    doc = get_openapi(title="flowopt API", version=flowopt.__version__, summary="Circular-economy material-flow plans for an industrial park.", description=DESCRIPTION, routes=app.routes, tags=TAGS)
    _, defs = models_json_schema([(m, "validation") for m in DOCUMENTED_MODELS], ref_template="#/components/schemas/{model}")
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(defs.get("$defs", {}))
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    doc["components"]["examples"] = docs.SHARED_EXAMPLES
    return doc


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
        engine = make_engine(settings.effective_database_url)
        check_integrity(engine)
        migrate(engine)
        service = Service(settings, engine)
        service.recover()
        builtin = service.ensure_builtin(default_data_dir())
        service.pool.start()
        app.state.service = service
        if settings.writes_open:
            logger.warning("FLOWOPT_API_KEYS is empty: anyone who can reach this server can store scenarios and start solves")
        logger.info("flowopt API ready: database %s, %d solver process(es), bundled scenario '%s'", engine.url.render_as_string(hide_password=True), settings.workers, builtin)
        try:
            yield
        finally:
            service.pool.stop()
            engine.dispose()

    app = FastAPI(title="flowopt API", version=flowopt.__version__, description=DESCRIPTION, lifespan=lifespan, openapi_tags=TAGS, separate_input_output_schemas=False)
    app.state.settings = settings
    read_deps = [Depends(require_read)] if settings.read_requires_key else []
    app.include_router(plans.router, dependencies=read_deps)
    app.include_router(jobs.router, dependencies=read_deps)
    app.include_router(scenarios.router, dependencies=read_deps)
    app.include_router(whatifs_router, dependencies=read_deps)
    app.include_router(health.router)
    app.include_router(viewer_router)  # GET / (plan viewer page, no key) and the Sankey SVG
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        # outermost, so that 413 and other early answers carry CORS headers too
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"], allow_headers=["Content-Type", "X-API-Key", "Idempotency-Key", "Prefer"], expose_headers=["Location", "Retry-After", "ETag"], allow_credentials=False, max_age=600)

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
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level, server_header=False, timeout_graceful_shutdown=10)


def __getattr__(name: str) -> Any:
    """Build ``app`` on first access (``uvicorn api.main:app``), so importing is side-effect free."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
