"""``GET /v1/health`` (liveness with details) and ``GET /v1/ready`` (can take work)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

import flowopt
from api import docs
from api.deps import ServiceDep, json_response
from api.errors import ApiError, Code
from api.service import Service

router = APIRouter(tags=["health"])

_DB = {"ok": True, "backend": "sqlite", "detail": "ok"}
_SOLVER = {"ok": True, "highs_version": "1.16.0", "workers_configured": 2, "workers_alive": 2, "workers_ready": 2, "busy": 1, "queued": 0, "queue_capacity": 64, "detail": "2 of 2 solver processes ready"}
HEALTH_EXAMPLE = {"status": "ok", "version": flowopt.__version__, "uptime_s": 3600.5, "database": _DB, "solver": _SOLVER, "writes_need_key": True, "reads_need_key": False}
READY_EXAMPLE = {"ready": True, "database": _DB, "solver": _SOLVER}


def _checks(service: Service) -> tuple[dict[str, Any], dict[str, Any]]:
    ok, detail = service.database_ok()
    database = {"ok": ok, "backend": service.engine.url.get_backend_name(), "detail": detail}
    pool = service.pool.status()
    if not pool.accepting:
        solver_ok, text = False, "the solver pool is stopped"
    elif pool.ready == 0 and service.settings.warm_workers:
        solver_ok, text = False, f"no solver process is ready yet (0 of {pool.configured} started)"
    else:
        solver_ok, text = True, f"{pool.ready} of {pool.configured} solver processes ready"
    solver = {"ok": solver_ok, "highs_version": pool.highs_version, "workers_configured": pool.configured, "workers_alive": pool.alive, "workers_ready": pool.ready, "busy": pool.busy, "queued": pool.queued, "queue_capacity": pool.capacity, "detail": text}
    return database, solver


@router.get(
    "/v1/health",
    operation_id="getHealth",
    summary="Liveness, with the state of database and solver processes",
    response_model=None,
    responses=docs.ok(200, "Health", "The process serves requests; `status` is `degraded` when the database or the solver processes are not usable.", {"ok": HEALTH_EXAMPLE}),
)
def health(service: ServiceDep) -> Response:
    """Answer 200 while the process serves; report database and solver state in the body."""
    database, solver = _checks(service)
    settings = service.settings
    doc = {"status": "ok" if database["ok"] and solver["ok"] else "degraded", "version": flowopt.__version__, "uptime_s": round(time.monotonic() - service.started, 3), "database": database, "solver": solver, "writes_need_key": not settings.writes_open, "reads_need_key": settings.read_requires_key and not settings.writes_open}
    return json_response(doc)


@router.get(
    "/v1/ready",
    operation_id="getReady",
    summary="Readiness: can the server take solve work now?",
    response_model=None,
    responses=docs.merge(docs.ok(200, "Ready", "The database answers and a solver process can take work.", {"ready": READY_EXAMPLE}), docs.errors("not_ready", instance="/v1/ready")),
)
def ready(service: ServiceDep) -> Response:
    """Answer 200 when the database and the solver pool can take work, else 503."""
    database, solver = _checks(service)
    if database["ok"] and solver["ok"]:
        return json_response({"ready": True, "database": database, "solver": solver})
    failing = "; ".join(f"{name}: {part['detail']}" for name, part in (("database", database), ("solver", solver)) if not part["ok"])
    raise ApiError(Code.not_ready, f"Not ready: {failing}.", headers={"Retry-After": "5"}, database=database, solver=solver)
