"""Request dependencies: the service, API-key checks, body reading, response helpers.

API keys travel in the ``X-API-Key`` header and are compared in constant time against every
configured key (so timing reveals neither which key matched nor how much of it). Keys are never
logged or echoed; a client is identified by a short hash of its key (``key:1a2b3c4d5e6f``), which
scopes its ``Idempotency-Key`` values.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.bodies import parse_json, refuse_many_unknown_keys
from api.errors import ApiError, Code, dumps
from api.service import Outcome, Service, Submitted
from api.settings import Settings

api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="An API key from FLOWOPT_API_KEYS. Needed for every POST; for reads too when FLOWOPT_READ_REQUIRES_KEY is true.",
    auto_error=False,
)


def get_service(request: Request) -> Service:
    """Return the app's :class:`~api.service.Service`."""
    service: Service = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    """Return the app's settings."""
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[Service, Depends(get_service)]


def client_id(key: str) -> str:
    """Return the public id of an API key: a short hash, safe to log and store."""
    return "key:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _check_key(settings: Settings, key: str | None) -> str:
    if not settings.api_keys:
        return "anonymous"
    if not key:
        raise ApiError(Code.api_key_missing, "Send an API key in the X-API-Key header.", headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'})
    given = key.encode("utf-8", "surrogateescape")
    matched = False
    for candidate in settings.api_keys:
        # every key is compared, so the time taken does not depend on which one matches
        matched |= hmac.compare_digest(given, candidate.encode("utf-8"))
    if not matched:
        raise ApiError(Code.api_key_invalid, "The API key in X-API-Key is not accepted. Check for typos or ask the operator for a current key.", headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'})
    return client_id(key)


def require_write(request: Request, key: Annotated[str | None, Security(api_key_header)] = None) -> str:
    """Check the write key; return the client id (``anonymous`` when writes are open)."""
    return _check_key(get_settings(request), key)


def require_read(request: Request, key: Annotated[str | None, Security(api_key_header)] = None) -> str:
    """Check the read key when reads are keyed; return the client id."""
    settings = get_settings(request)
    if not settings.read_requires_key:
        return "anonymous"
    return _check_key(settings, key)


WriteClient = Annotated[str, Depends(require_write)]


def media_type(request: Request) -> str:
    """Return the request's media type without parameters, lower case."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json(request: Request) -> None:
    """Refuse bodies that are not ``application/json``.

    Raises:
        ApiError: ``unsupported_media_type`` (415).
    """
    kind = media_type(request)
    if kind != "application/json":
        shown = kind or "none"
        msg = f"Content-Type {shown} is not accepted here; send JSON with Content-Type: application/json."
        raise ApiError(Code.unsupported_media_type, msg)


def _parse(raw: bytes, scenario_at: list[str] | None, model: type[BaseModel] | None) -> Any:
    value = parse_json(raw, scenario_at)
    refuse_many_unknown_keys(value, model, scenario_at)
    return value


async def json_body(request: Request, scenario_at: list[str] | None = None, model: type[BaseModel] | None = None) -> Any:
    """Read and strictly parse a JSON body off the event loop.

    Args:
        request: the request.
        scenario_at: JSON path of the scenario in the body (``[]``: the body is the scenario).
        model: the request envelope, checked for unknown keys with the scenario (see
            :func:`api.bodies.refuse_many_unknown_keys`).

    Returns:
        The parsed body (see :func:`api.bodies.parse_json`).
    """
    require_json(request)
    raw = await request.body()
    return await run_in_threadpool(_parse, raw, scenario_at, model)


def json_response(doc: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Return ``doc`` as a compact UTF-8 JSON response."""
    return Response(dumps(doc), status_code=status, media_type="application/json", headers=dict(headers or {}))


def raw_json_response(text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Return already-encoded JSON text (stored plans are served byte for byte)."""
    return Response(text.encode("utf-8"), status_code=status, media_type="application/json", headers=dict(headers or {}))


def respond_async(prefer: str | None) -> bool:
    """True when the client asked for an immediate 202 (``Prefer: respond-async``)."""
    return prefer is not None and any(p.strip().lower() == "respond-async" for p in prefer.split(","))


async def answer_job(service: Service, submitted: Submitted, prefer: str | None, respond: Callable[[Outcome, int], Response]) -> Response:
    """Wait briefly for a submitted job; answer with its result, the job (202) or its error.

    Args:
        service: the service.
        submitted: what ``submit_*`` returned (with a job id).
        prefer: the request's ``Prefer`` header.
        respond: builds the answer from the job's outcome and status (201 new, 200 reused);
            it runs in the thread pool, since it reads the database.

    Returns:
        The response.

    Raises:
        ApiError: the job's error.
    """
    assert submitted.job_id is not None
    wait_s = 0.0 if respond_async(prefer) else service.settings.sync_wait_s
    outcome = await service.wait(submitted.job_id, wait_s)
    if outcome is None:
        job = await run_in_threadpool(service.job_document, submitted.job_id)
        return json_response(job, 202, {"Location": job["url"], "Retry-After": "1"})
    if outcome.error is not None:
        raise outcome.error
    return await run_in_threadpool(respond, outcome, 201 if submitted.created else 200)
