"""Investment decisions (``POST /v1/investments``): which candidate projects to build.

The answer is the document ``flowopt invest --json`` prints: the least-cost build set, the plan
given those builds, the value of each decision and the capital break-evens. It answers like
``POST /v1/sweeps``: 201 with the result when computed now, 200 when an identical request was
answered before (or the ``Idempotency-Key`` was seen), 202 with a job when it takes longer than
``FLOWOPT_SYNC_WAIT_S`` (or ``Prefer: respond-async``). The request is checked in the API
process; the MILP solves run in a solver process.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api import docs
from api import examples as ex
from api.deps import ServiceDep, WriteClient, answer_job, json_body, json_response
from api.routes.whatifs import _BODY_ERRORS, _GET_JOB, _JOB_202, IdempotencyKey, Prefer
from api.schemas import InvestmentCreate
from api.service import Outcome

router = APIRouter(tags=["investments"])


@router.post(
    "/v1/investments",
    operation_id="createInvestment",
    summary="Which candidate projects to build: the least-cost build set, the plan given it, and the value of each decision",
    status_code=201,
    response_model=None,
    responses=docs.merge(
        docs.ok(201, "InvestmentResult", "Computed now: `status` (`optimal` within `gap`; `feasible` when the solver's limit stopped it with a larger gap, the incumbent shown; `infeasible` with the `diagnosis`), every candidate in `builds` (built or not, size, capital, annualized capital), `mip_gap`, the `plan` given the chosen builds (as `GET /v1/plans/{id}`), `decision_values` and `build_break_even`; `Location` is the job that keeps it.", {"investment": docs.shared("Investment")}, headers={"Location": "URL of the job that holds the answer (`/v1/jobs/{id}`)."}),
        docs.ok(200, "InvestmentResult", "An identical request (same scenario content, target, budget, forced decisions, gap) was answered before, or this `Idempotency-Key` was seen.", {"investment": docs.shared("Investment")}, headers={"Location": "URL of the job that holds the answer (`/v1/jobs/{id}`)."}),
        docs.ok(202, "JobPublic", "Still computing after the short wait (or `Prefer: respond-async`): poll the job at `Location`; its `result` is the answer once `succeeded`.", {"queued": ex.job_example("queued", "investment"), "running": ex.job_example("running", "investment")}, headers=_JOB_202, links=_GET_JOB),
        docs.errors(*_BODY_ERRORS, "graph_invalid", "unbounded", "solver_limit", "solve_timeout", "audit_failed", "solver_failure", instance="/v1/investments"),
    ),
    openapi_extra=docs.json_body(
        "InvestmentCreate",
        {
            "inline": ("The example park with two candidates at a 65 % target", ex.INVESTMENT_REQUEST_INLINE),
            "forced": ("What if we must build the brick modules (40 t/yr) and not the second sand line", ex.INVESTMENT_REQUEST_FORCED),
            "stored": ("A stored scenario with a capital budget of 1 billion CNY", ex.INVESTMENT_REQUEST_STORED),
        },
        description="`scenario_id` or `scenario` (with a `candidates` table), optionally `target`, `budget_cny`, `build` (`ID` or `ID=SIZE_T`), `skip`, `gap` and `explain`.",
    ),
)
async def create_investment(request: Request, service: ServiceDep, client: WriteClient, idempotency_key: IdempotencyKey = None, prefer: Prefer = None) -> Response:
    """Check the request here, solve the investment MILPs in a solver process."""
    body = await json_body(request, ["scenario"], InvestmentCreate)
    submitted = await run_in_threadpool(service.submit_investment, body, client, idempotency_key)

    def respond(_: Outcome, status: int) -> Response:
        return json_response(service.job_result(str(submitted.job_id)), status, {"Location": f"/v1/jobs/{submitted.job_id}"})

    return await answer_job(service, submitted, prefer, respond)
