"""OpenAPI pieces: documented responses and request bodies with examples for every operation.

Routes return ready-made responses (stored plans are served byte for byte), so their OpenAPI
entries are declared here rather than inferred from return types: :func:`ok` for success,
:func:`errors` for the problem documents an operation can answer with (by error code, from
the table in :mod:`api.errors`), :func:`json_body` for request bodies.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from api import examples as ex
from api.errors import ERRORS, PROBLEM_JSON, ApiError

_DETAILS: dict[str, tuple[str, dict[str, Any]]] = {
    "json_invalid": ("Malformed JSON at line 1, column 38: Expecting ',' delimiter.", {"problems": [{"file": None, "table": "request", "row": 1, "column": "38", "pointer": None, "message": "Expecting ',' delimiter (line 1, column 38).", "hint": "fix the JSON syntax at this position (quotes, commas, brackets).", "severity": "error"}]}),
    "unsupported_media_type": ("Content-Type text/plain is not accepted here; send JSON with Content-Type: application/json.", {}),
    "body_too_large": ("The request body has 12,582,912 bytes; the limit is 4,194,304. Send a smaller body, or ask the operator to raise FLOWOPT_MAX_BODY_BYTES.", {}),
    "scenario_too_large": ("The scenario has 25,000 table rows; this server accepts at most 20,000. Split it, or ask the operator to raise FLOWOPT_MAX_SCENARIO_ROWS.", {}),
    "api_key_missing": ("Send an API key in the X-API-Key header.", {}),
    "api_key_invalid": ("The API key in X-API-Key is not accepted. Check for typos or ask the operator for a current key.", {}),
    "not_found": ("No plan '3f2b8c1e9d4a4f6b8e0c7a5d2b1f9e3c'. Plan ids are listed by GET /v1/plans and returned in the Location header of POST /v1/plans.", {}),
    "scenario_exists": ("A different scenario is already stored as 'example_park' (sha256 5c0a3b2e7f1d…). Scenarios are immutable: give this one a new id.", {"existing_url": "/v1/scenarios/example_park"}),
    "idempotency_key_reused": ("This Idempotency-Key was used for a different request (other scenario or target). Use a new key for a new request.", {"job_id": ex.JOB_ID}),
    "queue_full": ("64 solves are already waiting; retry in 3 s.", {"retry_after_s": 3}),
    "solve_timeout": ("The solve ran longer than the wall-clock limit of 90 s and was stopped. Simplify the scenario, or ask the operator to raise FLOWOPT_SOLVE_WALL_LIMIT_S.", {"job_id": ex.JOB_ID}),
    "solver_limit": ("The solver ended without an optimal plan: Time limit reached. Raise the time limit or simplify the scenario.", {"job_id": ex.JOB_ID}),
    "unbounded": ("The solver ended without an optimal plan: Unbounded. A revenue likely exceeds all costs on a loop; check revenues and residue fractions.", {"job_id": ex.JOB_ID}),
    "graph_invalid": ("The material network cannot carry a plan: 1 problem found.", {"problems": [{"file": None, "table": "distances", "row": None, "column": None, "pointer": "/scenario/distances", "message": "no distance between sites 'A' and 'B', and they have no coordinates.", "hint": "add a distances row for A-B or x_km/y_km for both sites.", "severity": "error"}]}),
    "worker_crashed": ("The solver process ended unexpectedly (exit code -9); submit the job again.", {"job_id": ex.JOB_ID}),
    "storage_unavailable": ("The database is unavailable (OperationalError: database or disk is full). Try again later.", {}),
    "interrupted": ("The server stopped before this job finished; submit it again.", {"job_id": ex.JOB_ID}),
    "not_ready": ("No solver process is ready yet (0 of 2 started).", {}),
    "audit_failed": ("The solver's plan failed the audit against the input data; it is not shown. Check the input for extreme magnitudes and report this case.", {"findings": ["capacity R02: 1.2e+06 t above capacity"], "job_id": ex.JOB_ID}),
    "solver_failure": ("The solver ended without an optimal plan: Solve error.", {"job_id": ex.JOB_ID}),
}


def problem_example(code: str, instance: str) -> dict[str, Any]:
    """Return an example problem document for ``code``."""
    if code == "infeasible":
        return {**ex.INFEASIBLE_PROBLEM, "instance": instance}
    if code == "input_invalid":
        return {**ex.INPUT_PROBLEM, "instance": instance}
    detail, fixed = _DETAILS.get(code, (ERRORS[code].title + ".", {}))
    extra = dict(fixed)
    problems = extra.pop("problems", None)
    return ApiError(code, detail, problems=problems, **extra).document(instance)


def errors(*codes: str, instance: str = "/v1/…") -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI responses for the given error codes, grouped by HTTP status."""
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in codes:
        by_status[ERRORS[code].status].append(code)
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted(by_status):
        cs = by_status[status]
        examples = {c: {"summary": ERRORS[c].title, "value": problem_example(c, instance)} for c in cs}
        entry: dict[str, Any] = {
            "description": "; ".join(f"`{c}`: {ERRORS[c].title}" for c in cs),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}, "examples": examples}},
        }
        if status in (429, 503):
            entry["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"description": "How to authenticate (`ApiKey header=\"X-API-Key\"`).", "schema": {"type": "string"}}}
        out[status] = entry
    return out


#: Large examples shared by several operations, under ``components/examples`` (name -> example).
SHARED_EXAMPLES: dict[str, dict[str, Any]] = {
    "Plan": {"summary": "The plan of the example park", "value": ex.example_plan()},
    "JobSucceeded": {"summary": "A finished job with its plan", "value": ex.job_example("succeeded")},
    "WhatIf": {"summary": "A what-if of the example park: its plan, the comparison with the base, how it was solved", "value": ex.whatif_example()},
    "CostCurve": {"summary": "The target–cost curve of the example park", "value": ex.curve_example()},
    "JobWhatIfSucceeded": {"summary": "A finished what-if job with its answer", "value": ex.job_example("succeeded", "whatif")},
    "JobSweepSucceeded": {"summary": "A finished sweep job with its curve", "value": ex.job_example("succeeded", "sweep")},
    "Investment": {"summary": "The investment decisions of the example park with two candidates, at 65 %", "value": ex.investment_example()},
    "JobInvestmentSucceeded": {"summary": "A finished investment job with its answer", "value": ex.job_example("succeeded", "investment")},
    "Risk": {"summary": "How likely the example park reaches 65 % with an uncertain generation and yield", "value": ex.risk_example()},
    "JobRiskSucceeded": {"summary": "A finished risk job with its answer", "value": ex.job_example("succeeded", "risk")},
}


def shared(name: str) -> dict[str, str]:
    """Return a reference to a shared example."""
    if name not in SHARED_EXAMPLES:  # pragma: no cover - a typo in a route declaration
        msg = f"no shared example {name!r}"
        raise KeyError(msg)
    return {"$ref": f"#/components/examples/{name}"}


def ok(status: int, schema: str | dict[str, Any], description: str, examples: dict[str, Any], *, headers: dict[str, str] | None = None, links: dict[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    """Return an OpenAPI success response.

    Args:
        status: HTTP status.
        schema: a component name or an inline schema.
        description: what the response means.
        examples: name -> example value, or a :func:`shared` reference.
        headers: response header name -> description.
        links: OpenAPI links to follow-up operations (for clients and stateful fuzzing).
    """
    ref = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
    shown = {k: v if isinstance(v, dict) and set(v) == {"$ref"} else {"value": v} for k, v in examples.items()}
    entry: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ref, "examples": shown}}}
    if headers:
        entry["headers"] = {h: {"description": d, "schema": {"type": "string"}} for h, d in headers.items()}
    if links:
        entry["links"] = links
    return {status: entry}


def json_body(schema: str, examples: dict[str, tuple[str, Any]], *, workbook: bool = False, description: str = "") -> dict[str, Any]:
    """Return ``openapi_extra`` declaring a JSON request body (and optionally a workbook upload).

    Args:
        schema: component name of the body schema.
        examples: name -> (summary, value).
        workbook: also accept ``multipart/form-data`` with an ``.xlsx`` file in field ``file``.
        description: text for the request body.
    """
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}, "examples": {k: {"summary": s, "value": v} for k, (s, v) in examples.items()}}}
    if workbook:
        content["multipart/form-data"] = {
            "schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary", "description": "The scenario as an .xlsx workbook (one sheet per table plus a 'scenario' key|value sheet; see `flowopt convert`)."}}, "additionalProperties": False},
            "encoding": {"file": {"contentType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/octet-stream"}},
        }
    return {"requestBody": {"required": True, "description": description, "content": content}}


def merge(*parts: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Merge response dicts (later ones win per status)."""
    out: dict[int | str, dict[str, Any]] = {}
    for p in parts:
        out.update(p)
    return out
