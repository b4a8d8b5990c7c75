"""Scenarios: list, get, create (JSON or ``.xlsx`` upload), validate without storing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api import docs
from api import examples as ex
from api.deps import (
    ServiceDep,
    json_body,
    json_response,
    media_type,
    raw_json_response,
    require_write,
)
from api.errors import ApiError, Code
from api.service import Service, scenario_from_json, scenario_from_workbook, validation_report
from flowopt.graph import MaterialGraph
from flowopt.schema import Scenario

router = APIRouter(tags=["scenarios"])

ScenarioId = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64, description="Scenario id, e.g. `panzhihua_east_2025`.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Most items to return.")]

_ROWS = {"sites": 14, "firms": 9, "streams": 14, "composition": 45, "stockpiles": 4, "projects": 12, "sinks": 3, "accepts": 37, "residues": 4, "quality": 8, "distances": 91, "routes": 1}
SUMMARY_EXAMPLE = {"id": ex.BUNDLED_ID, "name_zh": "攀枝花东区高新技术产业园区工业固废流向优化（2025，规划项目建成）", "name_en": "Panzhihua East District high-tech industrial park, industrial solid-waste flows in 2025 with the 2023–2025 plan's projects built", "year": 2025, "sha256": ex.SHA, "builtin": True, "rows": _ROWS, "created_at": ex.CREATED, "url": f"/v1/scenarios/{ex.BUNDLED_ID}"}
_EXAMPLE_ROWS = {"sites": 1, "firms": 0, "streams": 3, "composition": 0, "stockpiles": 1, "projects": 2, "sinks": 1, "accepts": 4, "residues": 1, "quality": 0, "distances": 0, "routes": 0}
CREATED_EXAMPLE = {"id": "example_park", "name_zh": "示例园区", "name_en": "Example park", "year": 2025, "sha256": ex.SHA, "builtin": False, "rows": _EXAMPLE_ROWS, "created_at": ex.CREATED, "url": "/v1/scenarios/example_park"}
VALID_EXAMPLE = {"valid": True, "scenario_id": "example_park", "sha256": ex.SHA, "rows": _EXAMPLE_ROWS, "lots": 4, "arcs": 6, "warnings": []}

#: Ids that would clash with a path under /v1/scenarios.
RESERVED_IDS = frozenset({"validate"})

_BODY_CODES = ("json_invalid", "unsupported_media_type", "body_too_large", "scenario_too_large", "input_invalid", "graph_invalid", "api_key_missing", "api_key_invalid")


async def _scenario(request: Request, service: Service) -> tuple[Scenario, MaterialGraph]:
    """Read a scenario from a JSON body or an uploaded workbook and validate it (library rules)."""
    max_rows = service.settings.max_scenario_rows
    kind = media_type(request)
    if kind == "multipart/form-data":
        try:
            async with request.form(max_files=1, max_fields=4) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    item = {"file": None, "table": "request", "row": None, "column": "file", "pointer": None, "message": "the form has no file field 'file'.", "hint": "upload the workbook as the form field 'file' (curl -F file=@park.xlsx).", "severity": "error"}
                    raise ApiError(Code.input_invalid, "No workbook in the upload.", problems=[item])
                content = await upload.read()
                filename = upload.filename
        except HTTPException as exc:  # Starlette's answer to a malformed multipart body
            raise ApiError(Code.input_invalid, f"The multipart form could not be read: {exc.detail}") from None
        return await run_in_threadpool(scenario_from_workbook, content, filename, max_rows=max_rows)
    if kind == "application/json":
        data = await json_body(request, [])
        return await run_in_threadpool(scenario_from_json, data, max_rows=max_rows, pointer="")
    shown = kind or "none"
    msg = f"Content-Type {shown} is not accepted here; send the scenario as application/json or upload an .xlsx as multipart/form-data (field 'file')."
    raise ApiError(Code.unsupported_media_type, msg)


@router.get(
    "/v1/scenarios",
    operation_id="listScenarios",
    summary="List stored scenarios",
    response_model=None,
    responses=docs.merge(docs.ok(200, "ScenarioPage", "Stored scenarios by id; the bundled park is always there.", {"page": {"items": [SUMMARY_EXAMPLE], "total": 1, "offset": 0, "limit": 50, "next": None}}), docs.errors("input_invalid", instance="/v1/scenarios")),
)
def list_scenarios(service: ServiceDep, offset: Offset = 0, limit: Limit = 50) -> Response:
    """Return a page of scenario summaries ordered by id."""
    return json_response(service.list_scenarios(offset, limit))


@router.get(
    "/v1/scenarios/{scenario_id}",
    operation_id="getScenario",
    summary="Get a stored scenario (the same shape a client sends)",
    response_model=None,
    responses=docs.merge(docs.ok(200, "Scenario", "The scenario, all tables included.", {"example_park": ex.EXAMPLE_SCENARIO}, headers={"ETag": "SHA-256 of the canonical scenario JSON."}), docs.errors("not_found", "input_invalid", instance="/v1/scenarios/example_park")),
)
def get_scenario(service: ServiceDep, scenario_id: ScenarioId) -> Response:
    """Return a stored scenario document."""
    text, sha = service.scenario_json(scenario_id)
    return raw_json_response(text, headers={"ETag": f'"{sha}"'})


@router.post(
    "/v1/scenarios",
    operation_id="createScenario",
    summary="Store a scenario (JSON, or an .xlsx workbook upload)",
    status_code=201,
    response_model=None,
    dependencies=[Depends(require_write)],
    responses=docs.merge(
        docs.ok(201, "ScenarioSummary", "Stored; `Location` is its URL.", {"created": CREATED_EXAMPLE}, headers={"Location": "URL of the stored scenario."}),
        docs.ok(200, "ScenarioSummary", "An identical scenario was already stored under this id; nothing changed.", {"existing": CREATED_EXAMPLE}, headers={"Location": "URL of the stored scenario."}),
        docs.errors(*_BODY_CODES, "scenario_exists", "storage_unavailable", instance="/v1/scenarios"),
    ),
    openapi_extra=docs.json_body("Scenario", {"example_park": ("A one-site example park", ex.EXAMPLE_SCENARIO)}, workbook=True, description="The scenario as JSON, or an .xlsx workbook in the form field `file`. Scenarios are immutable: a stored id cannot be given other content."),
)
async def create_scenario(request: Request, service: ServiceDep) -> Response:
    """Validate a scenario with the library's rules and store it under its id."""
    scenario, _ = await _scenario(request, service)
    if scenario.id in RESERVED_IDS:
        item = {"file": None, "table": "scenario", "row": None, "column": "id", "pointer": "/id" if media_type(request) == "application/json" else None, "message": f"the id '{scenario.id}' names an endpoint (/v1/scenarios/{scenario.id}).", "hint": "choose another scenario id.", "severity": "error"}
        raise ApiError(Code.input_invalid, f"The scenario id '{scenario.id}' is reserved.", problems=[item])
    summary, created = await run_in_threadpool(service.store_scenario, scenario)
    return json_response(summary, 201 if created else 200, {"Location": summary["url"]})


@router.post(
    "/v1/scenarios/validate",
    operation_id="validateScenario",
    summary="Check a scenario (JSON or .xlsx) without storing it",
    response_model=None,
    dependencies=[Depends(require_write)],
    responses=docs.merge(docs.ok(200, "ValidationReport", "The scenario is valid; counts and warnings.", {"valid": VALID_EXAMPLE}), docs.errors(*_BODY_CODES, instance="/v1/scenarios/validate")),
    openapi_extra=docs.json_body("Scenario", {"example_park": ("A one-site example park", ex.EXAMPLE_SCENARIO)}, workbook=True, description="The scenario as JSON, or an .xlsx workbook in the form field `file`."),
)
async def validate_scenario(request: Request, service: ServiceDep) -> Response:
    """Run every input and network check; answer 200 with a summary or 422 with every problem."""
    scenario, graph = await _scenario(request, service)
    report: dict[str, Any] = validation_report(scenario, graph)
    return json_response(report)
