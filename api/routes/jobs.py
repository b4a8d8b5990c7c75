"""Jobs: ``GET /v1/jobs/{job_id}``, the status, progress and result of a plan, what-if, sweep or investment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from api import docs
from api import examples as ex
from api.deps import ServiceDep, json_response

router = APIRouter(tags=["jobs"])

_EXAMPLES = {
    "queued": ex.job_example("queued"),
    "running": ex.job_example("running"),
    "succeeded": docs.shared("JobSucceeded"),
    "failed": ex.job_example("failed"),
    "whatif_succeeded": docs.shared("JobWhatIfSucceeded"),
    "sweep_succeeded": docs.shared("JobSweepSucceeded"),
    "investment_succeeded": docs.shared("JobInvestmentSucceeded"),
    "risk_running": ex.job_example("running", "risk"),
    "risk_succeeded": docs.shared("JobRiskSucceeded"),
}


@router.get(
    "/v1/jobs/{job_id}",
    operation_id="getJob",
    summary="Status and progress of a solve; its result once done",
    response_model=None,
    responses=docs.merge(docs.ok(200, "JobPublic", "The job; `result` holds the plan (what-if answer, curve) once `status` is `succeeded`, `error` the problem document once `failed`.", _EXAMPLES), docs.errors("not_found", "input_invalid", instance=f"/v1/jobs/{ex.JOB_ID}")),
)
def get_job(service: ServiceDep, job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Job id (32 hex digits) from the 202 answer of `POST /v1/plans`, `/v1/whatifs`, `/v1/sweeps`, `/v1/investments` or `/v1/risks`.")]) -> Response:
    """Return the job document."""
    return json_response(service.job_document(job_id))
