"""Plans: solve (``POST /v1/plans``), list, get, bottlenecks, flows (paged), Sankey data."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
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
from api.schemas import PlanCreate
from api.service import Service, Submitted
from flowopt.results import Plan
from flowopt.sankey import sankey_data

router = APIRouter(tags=["plans"])

PlanId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Plan id (32 hex digits), from the `Location` header of `POST /v1/plans` or from `GET /v1/plans`.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]

_PLAN = ex.example_plan()
_SUMMARY = {"id": ex.PLAN_ID, "scenario_id": ex.BUNDLED_ID, "scenario_sha256": ex.SHA, "target": 0.72, "status": "optimal", "utilization_rate": 0.72, "objective_cny": -343528000.0, "created_at": ex.CREATED, "url": f"/v1/plans/{ex.PLAN_ID}"}
_PLAN_HEADERS = {"Location": "URL of the plan (`/v1/plans/{id}`).", "ETag": "SHA-256 of the plan document."}
_INSTANCE = f"/v1/plans/{ex.PLAN_ID}"


def _plan_response(service: Service, plan_id: str, status: int) -> Response:
    text, sha = service.plan_text(plan_id)
    return raw_json_response(text, status, {"Location": f"/v1/plans/{plan_id}", "ETag": f'"{sha}"'})


@router.post(
    "/v1/plans",
    operation_id="createPlan",
    summary="Solve a stored or inline scenario and store the plan",
    status_code=201,
    response_model=None,
    responses=docs.merge(
        docs.ok(201, "Plan", "Solved and stored; the body is the plan (as `flowopt solve --json`), `Location` its URL.", {"plan": docs.shared("Plan")}, headers=_PLAN_HEADERS),
        docs.ok(200, "Plan", "An identical request (same scenario content and target) was solved before, or this `Idempotency-Key` was seen: the stored plan.", {"plan": docs.shared("Plan")}, headers=_PLAN_HEADERS),
        docs.ok(202, "JobPublic", "Still solving after the short wait (or `Prefer: respond-async`): poll the job at `Location`.", {"queued": ex.job_example("queued"), "running": ex.job_example("running")}, headers={"Location": "URL of the job (`/v1/jobs/{id}`).", "Retry-After": "Seconds before polling."}, links={"GetJob": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/id"}, "description": "Poll the job."}}),
        docs.errors("json_invalid", "unsupported_media_type", "body_too_large", "scenario_too_large", "input_invalid", "graph_invalid", "infeasible", "unbounded", "solver_limit", "solve_timeout", "idempotency_key_reused", "not_found", "api_key_missing", "api_key_invalid", "queue_full", "worker_crashed", "interrupted", "storage_unavailable", "audit_failed", "solver_failure", instance="/v1/plans"),
    ),
    openapi_extra=docs.json_body(
        "PlanCreate",
        {"stored": ("The bundled park at a 72 % target", ex.PLAN_REQUEST_STORED), "default_target": ("The bundled park at its own target (70 %)", ex.PLAN_REQUEST_DEFAULT_TARGET), "inline": ("A scenario sent inline", ex.PLAN_REQUEST_INLINE)},
        description="`scenario_id` of a stored scenario or a whole `scenario`, and optionally a `target` (fraction).",
    ),
)
async def create_plan(
    request: Request,
    service: ServiceDep,
    client: WriteClient,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$", description="Any 1-255 visible ASCII characters; a retried request with the same key and body returns the first result instead of solving again.")] = None,
    prefer: Annotated[str | None, Header(max_length=200, description="`respond-async` answers 202 with the job at once instead of waiting briefly for the plan.")] = None,
) -> Response:
    """Solve a plan request, waiting briefly; answer with the plan (201/200) or the job (202)."""
    body = await json_body(request, ["scenario"], PlanCreate)
    submitted: Submitted = await run_in_threadpool(service.submit_plan, body, client, idempotency_key)
    if submitted.plan_id is not None:
        return await run_in_threadpool(_plan_response, service, submitted.plan_id, 200)
    return await answer_job(service, submitted, prefer, lambda outcome, status: _plan_response(service, str(outcome.plan_id), status))


@router.get(
    "/v1/plans",
    operation_id="listPlans",
    summary="List stored plans, newest first",
    response_model=None,
    responses=docs.merge(docs.ok(200, "PlanPage", "Summaries of stored plans.", {"page": {"items": [_SUMMARY], "total": 1, "offset": 0, "limit": 50, "next": None}}), docs.errors("input_invalid", instance="/v1/plans")),
)
def list_plans(
    service: ServiceDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Most items to return.")] = 50,
    scenario_id: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64, description="Only plans of this scenario id.")] = None,
) -> Response:
    """Return a page of plan summaries."""
    return json_response(service.list_plans(offset, limit, scenario_id))


@router.get(
    "/v1/plans/{plan_id}",
    operation_id="getPlan",
    summary="Get a plan (the same document as `flowopt solve --json`)",
    response_model=None,
    responses=docs.merge(docs.ok(200, "Plan", "The plan.", {"plan": docs.shared("Plan")}, headers={"ETag": "SHA-256 of the plan document."}), docs.errors("not_found", "input_invalid", instance=_INSTANCE)),
)
def get_plan(service: ServiceDep, plan_id: PlanId) -> Response:
    """Return the stored plan document byte for byte."""
    text, sha = service.plan_text(plan_id)
    return raw_json_response(text, headers={"ETag": f'"{sha}"'})


@router.get(
    "/v1/plans/{plan_id}/bottlenecks",
    operation_id="getPlanBottlenecks",
    summary="The plan's binding constraints, most valuable first",
    response_model=None,
    responses=docs.merge(docs.ok(200, "BottleneckList", "Bottleneck cards with shadow prices and explanations (English and Chinese).", {"bottlenecks": {"plan_id": ex.PLAN_ID, "total": len(_PLAN["bottlenecks"]), "items": _PLAN["bottlenecks"]}}), docs.errors("not_found", "input_invalid", instance=_INSTANCE + "/bottlenecks")),
)
def get_bottlenecks(service: ServiceDep, plan_id: PlanId) -> Response:
    """Return the plan's bottlenecks in the plan's order."""
    text, _ = service.plan_text(plan_id)
    items = json.loads(text)["bottlenecks"]
    return json_response({"plan_id": plan_id, "total": len(items), "items": items})


@router.get(
    "/v1/plans/{plan_id}/flows",
    operation_id="getPlanFlows",
    summary="The plan's flows, paged and optionally filtered",
    response_model=None,
    responses=docs.merge(docs.ok(200, "FlowPage", "Flows in the plan's order (stream, source, destination).", {"page": {"plan_id": ex.PLAN_ID, "total": len(_PLAN["flows"]), "offset": 0, "limit": 100, "next": None, "items": _PLAN["flows"]}}), docs.errors("not_found", "input_invalid", instance=_INSTANCE + "/flows")),
)
def get_flows(
    service: ServiceDep,
    plan_id: PlanId,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most flows to return.")] = 100,
    kind: Annotated[Literal["reuse", "disposal", "storage", "unmanaged"] | None, Query(description="Only flows of this kind.")] = None,
    stream: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64, description="Only flows of this stream id.")] = None,
    firm: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64, description="Only flows whose tonnes come from this firm id (the flow's `firm`, or one of the `firm_shares` of a residue fed by several firms).")] = None,
) -> Response:
    """Return a page of the plan's flows."""
    text, _ = service.plan_text(plan_id)
    flows: list[dict[str, Any]] = json.loads(text)["flows"]
    chosen = [f for f in flows if (kind is None or f["kind"] == kind) and (stream is None or f["stream"] == stream) and (firm is None or _from_firm(f, firm))]
    total = len(chosen)
    query = "".join(f"&{k}={v}" for k, v in (("kind", kind), ("stream", stream), ("firm", firm)) if v is not None)
    nxt = f"/v1/plans/{plan_id}/flows?offset={offset + limit}&limit={limit}{query}" if offset + limit < total else None
    return json_response({"plan_id": plan_id, "total": total, "offset": offset, "limit": limit, "next": nxt, "items": chosen[offset : offset + limit]})


def _from_firm(flow: dict[str, Any], firm: str) -> bool:
    """True when some of the flow's tonnes come from ``firm`` (plans stored before flows had firms: never)."""
    return flow.get("firm") == firm or firm in (flow.get("firm_shares") or {})


@router.get(
    "/v1/plans/{plan_id}/sankey",
    operation_id="getPlanSankey",
    summary="Sankey nodes and links of the plan, ready for a chart library",
    response_model=None,
    responses=docs.merge(docs.ok(200, "Sankey", "Nodes (`id`, `label`, `kind`, `category`) and links (`source`, `target`, `value_t` in t/yr).", {"sankey": {"nodes": [{"id": "project:P", "label": "Sand line", "kind": "project", "category": None}, {"id": "stream:s1", "label": "Tailings", "kind": "stream", "category": "tailings"}], "links": [{"source": "stream:s1", "target": "project:P", "stream": "s1", "value_t": 60.0, "kind": "reuse", "category": "tailings"}]}}), docs.errors("not_found", "input_invalid", instance=_INSTANCE + "/sankey")),
)
def get_sankey(
    service: ServiceDep,
    plan_id: PlanId,
    lang: Annotated[Literal["en", "zh"], Query(description="Language of node labels.")] = "en",
    by: Annotated[Literal["stream", "firm"], Query(description="`firm` starts the diagram at the generating firms (`firm:<id>` nodes: firm → stream → outlet); `stream` (default) at the streams.")] = "stream",
) -> Response:
    """Return ``flowopt.sankey.sankey_data`` of the plan."""
    text, _ = service.plan_text(plan_id)
    return json_response(sankey_data(Plan.model_validate_json(text), lang=lang, by=by))
