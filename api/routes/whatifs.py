"""What-ifs (``POST /v1/whatifs``) and the target–cost curve (``POST /v1/sweeps``).

A what-if is a base scenario plus changes, answered with the what-if plan and its comparison
with the base plan; a sweep is the least cost as a function of the target. Both answer like ``POST /v1/plans``: 201 with the result when computed now, 200 when an
identical request was answered before (or the ``Idempotency-Key`` was seen), 202 with a job
when it takes longer than ``FLOWOPT_SYNC_WAIT_S`` (or ``Prefer: respond-async``). The changes
are checked in the API process; every solve runs in a solver process.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api import docs
from api import examples as ex
from api.deps import (
    ServiceDep,
    WriteClient,
    answer_job,
    json_body,
    json_response,
    raw_json_response,
)
from api.schemas import SweepCreate, WhatIfCreate
from api.service import Outcome

router = APIRouter(tags=["what-ifs"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$", description="Any 1-255 visible ASCII characters; a retried request with the same key and body returns the first result instead of solving again.")]
Prefer = Annotated[str | None, Header(max_length=200, description="`respond-async` answers 202 with the job at once instead of waiting briefly.")]

_BODY_ERRORS = ("json_invalid", "unsupported_media_type", "body_too_large", "scenario_too_large", "input_invalid", "not_found", "idempotency_key_reused", "api_key_missing", "api_key_invalid", "queue_full", "worker_crashed", "interrupted", "storage_unavailable")
_SOLVE_ERRORS = ("graph_invalid", "infeasible", "unbounded", "solver_limit", "solve_timeout", "audit_failed", "solver_failure")
_JOB_202 = {"Location": "URL of the job (`/v1/jobs/{id}`).", "Retry-After": "Seconds before polling."}
_GET_JOB = {"GetJob": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/id"}, "description": "Poll the job."}}


@router.post(
    "/v1/whatifs",
    operation_id="createWhatIf",
    summary="Solve a what-if (base scenario + changes) and compare it with the base",
    status_code=201,
    response_model=None,
    responses=docs.merge(
        docs.ok(201, "WhatIfResult", "Solved now: both plans are stored (`base_plan_id`, `whatif_plan_id`; `Location` is the what-if plan's URL), with the what-if plan, the comparison and how it was solved.", {"whatif": docs.shared("WhatIf")}, headers={"Location": "URL of the what-if plan (`/v1/plans/{id}`)."}),
        docs.ok(200, "WhatIfResult", "An identical what-if (same base and what-if content and targets) was answered before, or this `Idempotency-Key` was seen: the stored answer.", {"whatif": docs.shared("WhatIf")}, headers={"Location": "URL of the what-if plan (`/v1/plans/{id}`)."}),
        docs.ok(202, "JobPublic", "Still solving after the short wait (or `Prefer: respond-async`): poll the job at `Location`; its `result` is this operation's answer once `succeeded`.", {"queued": ex.job_example("queued", "whatif"), "running": ex.job_example("running", "whatif")}, headers=_JOB_202, links=_GET_JOB),
        docs.errors(*_BODY_ERRORS, *_SOLVE_ERRORS, instance="/v1/whatifs"),
    ),
    openapi_extra=docs.json_body(
        "WhatIfCreate",
        {
            "target": ("The bundled park at 72 % instead of its own 70 %", ex.WHATIF_REQUEST_TARGET),
            "capacity": ("The bundled park with the sand line R06 at 3.5 Mt/yr", ex.WHATIF_REQUEST_CAPACITY),
            "several": ("Several changes: a price, a feed share, a project switched off", ex.WHATIF_REQUEST_SEVERAL),
            "inline": ("An inline base with a larger brick line at a 62 % target", ex.WHATIF_REQUEST_INLINE),
        },
        description="The base (`scenario_id` of a stored scenario, or a whole `scenario`), the `changes` (the format of `flowopt/overrides.py`), optionally the what-if's `target` (fraction), `id` and `description`.",
    ),
)
async def create_whatif(request: Request, service: ServiceDep, client: WriteClient, idempotency_key: IdempotencyKey = None, prefer: Prefer = None) -> Response:
    """Check the changes here, solve in a solver process, answer with plan and comparison."""
    body = await json_body(request, ["scenario"], WhatIfCreate)
    submitted = await run_in_threadpool(service.submit_whatif, body, client, idempotency_key)

    def respond(_: Outcome, status: int) -> Response:
        text, plan_url = service.whatif_result_text(str(submitted.job_id))
        return raw_json_response(text, status, {"Location": plan_url})

    return await answer_job(service, submitted, prefer, respond)


@router.post(
    "/v1/sweeps",
    operation_id="createSweep",
    summary="The least cost as a function of the target, with exact breakpoints",
    status_code=201,
    response_model=None,
    responses=docs.merge(
        docs.ok(201, "CostCurve", "Computed now: breakpoints, labelled segments, points (grid and breakpoints, with the slope in CNY/yr per percentage point) and the highest reachable rate; `Location` is the job that keeps it. Targets above `max_rate` are left out (no points at all when `from` is above it).", {"curve": docs.shared("CostCurve")}, headers={"Location": "URL of the job that holds the curve (`/v1/jobs/{id}`)."}),
        docs.ok(200, "CostCurve", "An identical sweep (same scenario content and range) was computed before, or this `Idempotency-Key` was seen.", {"curve": docs.shared("CostCurve")}, headers={"Location": "URL of the job that holds the curve (`/v1/jobs/{id}`)."}),
        docs.ok(202, "JobPublic", "Still computing after the short wait (or `Prefer: respond-async`): poll the job at `Location`; its `result` is the curve once `succeeded`.", {"queued": ex.job_example("queued", "sweep"), "running": ex.job_example("running", "sweep")}, headers=_JOB_202, links=_GET_JOB),
        docs.errors(*_BODY_ERRORS, "graph_invalid", "solver_limit", "solve_timeout", "solver_failure", instance="/v1/sweeps"),
    ),
    openapi_extra=docs.json_body(
        "SweepCreate",
        {"stored": ("The bundled park from 50 % to 90 %", ex.SWEEP_REQUEST), "inline": ("An inline scenario on a coarse grid", ex.SWEEP_REQUEST_INLINE)},
        description="`scenario_id` or `scenario`, the range `from` ≤ `to` (fractions) and the plotting `step` (at most 401 grid points).",
    ),
)
async def create_sweep(request: Request, service: ServiceDep, client: WriteClient, idempotency_key: IdempotencyKey = None, prefer: Prefer = None) -> Response:
    """Compute the target–cost curve in a solver process."""
    body = await json_body(request, ["scenario"], SweepCreate)
    submitted = await run_in_threadpool(service.submit_sweep, body, client, idempotency_key)

    def respond(_: Outcome, status: int) -> Response:
        return json_response(service.job_result(str(submitted.job_id)), status, {"Location": f"/v1/jobs/{submitted.job_id}"})

    return await answer_job(service, submitted, prefer, respond)
