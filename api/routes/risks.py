"""Risk (``POST /v1/risks``): how likely the target is when the scenario's estimates move.

The scenario's ``uncertainty`` table (``uncertainty.csv``, a workbook sheet, or the
``uncertainty`` list of an inline scenario) says which estimates are uncertain and how; the
answer is the document ``flowopt risk --json`` prints: the probability that the target is
reachable with its 95 % interval, the spread of the highest rate and of the cost, how often
each limit binds, the tornado of the inputs. It answers like ``POST /v1/sweeps``: 201 with the
result when computed now, 200 when an identical request was answered before (or the
``Idempotency-Key`` was seen), 202 with a job when it takes longer than ``FLOWOPT_SYNC_WAIT_S``
(or ``Prefer: respond-async``); the job shows ``progress`` (samples solved) while it runs. The
table is checked in the API process; the samples are solved in a solver process.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api import docs
from api import examples as ex
from api.deps import ServiceDep, WriteClient, answer_job, json_body, json_response
from api.routes.whatifs import _BODY_ERRORS, _GET_JOB, _JOB_202, IdempotencyKey, Prefer
from api.schemas import RiskCreate
from api.service import Outcome

router = APIRouter(tags=["risk"])


@router.post(
    "/v1/risks",
    operation_id="createRisk",
    summary="How likely the target is: sample the scenario's uncertain inputs, solve each sample",
    status_code=201,
    response_model=None,
    responses=docs.merge(
        docs.ok(201, "RiskResult", "Computed now: `probability` (P(highest reachable rate ≥ target) with its 95 % Wilson interval), `max_rate` and `cost` (P10/P50/P90), `limits` (how often each binds), `tornado` (which input moves the highest rate most), the scenario's own answer and the `inputs`; `rows` (one per sample) only when asked for. `Location` is the job that keeps it.", {"risk": docs.shared("Risk")}, headers={"Location": "URL of the job that holds the answer (`/v1/jobs/{id}`)."}),
        docs.ok(200, "RiskResult", "An identical request (same scenario content, target, samples, seed, method, tolerance) was answered before, or this `Idempotency-Key` was seen.", {"risk": docs.shared("Risk")}, headers={"Location": "URL of the job that holds the answer (`/v1/jobs/{id}`)."}),
        docs.ok(202, "JobPublic", "Still sampling after the short wait (or `Prefer: respond-async`): poll the job at `Location`; `progress` says how many samples are solved, `result` is the answer once `succeeded`.", {"queued": ex.job_example("queued", "risk"), "running": ex.job_example("running", "risk")}, headers=_JOB_202, links=_GET_JOB),
        docs.errors(*_BODY_ERRORS, "graph_invalid", "solve_timeout", instance="/v1/risks"),
    ),
    openapi_extra=docs.json_body(
        "RiskCreate",
        {
            "inline": ("The example park with an uncertain generation and an uncertain yield", ex.RISK_REQUEST_INLINE),
            "stored": ("The bundled park, 500 samples (the viewer's request)", ex.RISK_REQUEST_STORED),
        },
        description="`scenario_id` or `scenario` (with an `uncertainty` table), optionally `samples` (≤ 2,000), `seed`, `target`, `method`, `tolerance` and `rows`.",
    ),
)
async def create_risk(request: Request, service: ServiceDep, client: WriteClient, idempotency_key: IdempotencyKey = None, prefer: Prefer = None) -> Response:
    """Check the uncertainty table here, solve the samples in a solver process."""
    body = await json_body(request, ["scenario"], RiskCreate)
    submitted = await run_in_threadpool(service.submit_risk, body, client, idempotency_key)

    def respond(_: Outcome, status: int) -> Response:
        return json_response(service.job_result(str(submitted.job_id)), status, {"Location": f"/v1/jobs/{submitted.job_id}"})

    return await answer_job(service, submitted, prefer, respond)
