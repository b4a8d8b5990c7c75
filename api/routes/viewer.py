"""The built-in plan viewer: ``GET /`` (one page), its static files, and the Sankey as SVG.

The page (``api/static/index.html`` with ``viewer.js`` and ``viewer.css``) is plain HTML, CSS
and JavaScript shipped in the repository: no build step, no CDN, no external address. It loads
the bundled park's plan through the public API (``POST /v1/plans``), shows KPI tiles, the
Sankey (``GET /v1/plans/{id}/sankey.svg``), the bottleneck cards, the plan's product
markets, tax incentives and firms' duties, and sliders for the target and
one project's capacity that call ``POST /v1/whatifs``, a risk panel (``POST /v1/risks``) and an
investment panel that reads ``GET /viewer/investment`` (the bundled investment scenario's
``POST /v1/investments`` answer: built and not-built projects). The page and its files load without a key;
the API calls it makes follow the API's rules (a key pasted into the page is sent as
``X-API-Key``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api import docs
from api import examples as ex
from api.deps import ServiceDep, answer_job, json_response, raw_json_response, require_read
from api.errors import ApiError, Code, from_library
from api.middleware import PAGE_CSP
from api.service import Outcome, Service
from flowopt.results import Plan
from flowopt.sankey import sankey_svg

router = APIRouter()

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

#: The files the page is made of (name -> media type); nothing else is served from the folder.
STATIC_FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
    "risk.js": "text/javascript; charset=utf-8",
    "invest.js": "text/javascript; charset=utf-8",
}

#: The page talks only to this server: no external scripts, styles, fonts, images or frames.
CONTENT_SECURITY_POLICY = PAGE_CSP

_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

_SVG_EXAMPLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" class="sankey" viewBox="0 0 1200 420" width="1200" height="420" role="img" '
    'aria-label="Material flows, example_park: 200 t generated, utilization rate 72.00%">\n'
    '<rect width="100%" height="100%" fill="#ffffff"/>\n'
    '<text x="16" y="36" font-size="18" font-weight="bold" fill="#111">Material flows, example_park: 200 t generated, utilization rate 72.00%</text>\n'
    '<g class="links" fill="none" stroke-opacity="0.45">\n'
    '<path class="link" data-source="stream:s1" data-target="project:P" data-stream="s1" data-value-t="60" d="M220,120C570,120 570,140 920,140" stroke="#bcbd22" stroke-width="40"><title>Tailings → Sand line\n'
    "s1 (tailings, reuse): 60 t/yr</title></path>\n"
    "</g>\n"
    "…\n"
    "</svg>\n"
)


class SvgResponse(Response):
    """An SVG picture (so the OpenAPI description lists ``image/svg+xml``, not JSON)."""

    media_type = "image/svg+xml"


def _static(name: str) -> Response:
    body = (STATIC_DIR / name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Response(body, media_type=STATIC_FILES[name], headers={**_PAGE_HEADERS, "ETag": etag})


@router.get("/", include_in_schema=False)
def viewer_page() -> Response:
    """Return the plan viewer page (no key needed to load it)."""
    return _static("index.html")


def read_key(request: Request) -> str:
    """Apply the API's read rule (a key when ``FLOWOPT_READ_REQUIRES_KEY``) without a schema entry.

    The other plan reads get the same rule from the router's dependencies in ``api.main``; this
    route lives outside that router, so it checks by itself (and, like them, does not list the
    key in the OpenAPI description, where reads are open by default).
    """
    return require_read(request, request.headers.get("X-API-Key"))


@router.get("/viewer/plan", include_in_schema=False, dependencies=[Depends(read_key)])
async def viewer_plan(request: Request, service: ServiceDep) -> Response:
    """Return the bundled park's plan at its own target: what the viewer shows first.

    A read, not a write: it follows the read rule only (no key unless
    ``FLOWOPT_READ_REQUIRES_KEY``), so the page shows the plan on a server whose writes need a
    key. The request is fixed (the bundled scenario at its own target), so it is solved at most
    once and then served from storage; like ``POST /v1/plans`` it answers 200 with the plan
    (``Location`` names it) or 202 with the job to poll when the solve takes longer.
    """
    scenario_id = getattr(request.app.state, "builtin_scenario", ex.BUNDLED_ID)
    submitted = await run_in_threadpool(service.submit_plan, {"scenario_id": scenario_id}, "viewer", None)
    if submitted.plan_id is not None:
        return await run_in_threadpool(_plan_response, service, submitted.plan_id, 200)
    return await answer_job(service, submitted, None, lambda outcome, status: _plan_response(service, str(outcome.plan_id), status))


def _plan_response(service: Service, plan_id: str, status: int) -> Response:
    text, sha = service.plan_text(plan_id)
    return raw_json_response(text, status, {"Location": f"/v1/plans/{plan_id}", "ETag": f'"{sha}"', "Cache-Control": "no-cache"})


@router.get("/viewer/investment", include_in_schema=False, dependencies=[Depends(read_key)])
async def viewer_investment(service: ServiceDep) -> Response:
    """Return the bundled investment scenario's answer: what the viewer's investment panel shows.

    The document ``POST /v1/investments`` answers (``flowopt invest --json``) for
    ``data/panzhihua_east_invest`` (the 2023 network with the plan's projects as candidates) at
    its own target. A read like ``/viewer/plan``: no key unless ``FLOWOPT_READ_REQUIRES_KEY``; the
    request is fixed, so it is solved at most once and then served from storage (identical
    investment requests share one answer). 200 with the result, or 202 with the job to poll.

    Raises:
        ApiError: the bundled investment scenario cannot be loaded (``input_invalid``).
    """
    body = await run_in_threadpool(_bundled_investment_body)
    submitted = await run_in_threadpool(service.submit_investment, body, "viewer", None)

    def respond(_: Outcome, status: int) -> Response:
        # a read: 200 whether solved now or before
        return json_response(service.job_result(str(submitted.job_id)), 200, {"Location": f"/v1/jobs/{submitted.job_id}", "Cache-Control": "no-cache"})

    return await answer_job(service, submitted, None, respond)


def _bundled_investment_body() -> dict[str, Any]:
    """``{"scenario": ...}`` of the bundled investment scenario, as an inline request."""
    from flowopt.errors import InputError
    from flowopt.invest import default_invest_dir
    from flowopt.io import load_scenario

    try:
        scenario = load_scenario(default_invest_dir())
    except InputError as exc:
        raise from_library(exc) from None
    return {"scenario": scenario.model_dump(mode="json")}


# after /viewer/plan and /viewer/investment, which this pattern would otherwise catch
@router.get("/viewer/{name}", include_in_schema=False)
def viewer_file(name: str) -> Response:
    """Return one of the page's files (``viewer.js``, ``viewer.css``).

    Raises:
        ApiError: ``not_found`` (404) for any other name.
    """
    if name not in STATIC_FILES or name == "index.html":
        msg = f"No viewer file '{name[:80]}'. The viewer is served at /."
        raise ApiError(Code.not_found, msg)
    return _static(name)


@router.get(
    "/v1/plans/{plan_id}/sankey.svg",
    operation_id="getPlanSankeySvg",
    tags=["plans"],
    summary="The plan's Sankey diagram as a static SVG picture",
    response_model=None,
    response_class=SvgResponse,
    dependencies=[Depends(read_key)],
    responses=docs.merge(
        {
            200: {
                "description": "The same picture `flowopt solve --out` writes as `sankey.svg`: bands in t/yr, colours by waste category, labels in the chosen language, exact tonnes in each band's `<title>` tooltip. No scripts, no external references.",
                "headers": {"ETag": {"description": "Changes with the plan and the language.", "schema": {"type": "string"}}},
                "content": {"image/svg+xml": {"schema": {"type": "string"}, "examples": {"svg": {"summary": "A Sankey picture (shortened)", "value": _SVG_EXAMPLE}}}},
            }
        },
        docs.errors("not_found", "input_invalid", instance=f"/v1/plans/{ex.PLAN_ID}/sankey.svg"),
    ),
)
def get_sankey_svg(
    service: ServiceDep,
    plan_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$", description="Plan id (32 hex digits), from the `Location` header of `POST /v1/plans` or from `GET /v1/plans`.")],
    lang: Annotated[Literal["en", "zh"], Query(description="Language of titles and labels.")] = "en",
) -> Response:
    """Render ``flowopt.sankey.sankey_svg`` of the stored plan."""
    text, sha = service.plan_text(plan_id)
    svg = sankey_svg(Plan.model_validate_json(text), lang)
    headers = {"ETag": f'"{sha[:32]}-{lang}"', "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return SvgResponse(svg.encode("utf-8"), headers=headers)
