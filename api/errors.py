"""Errors of the HTTP API: one table from error ``code`` to HTTP status and bilingual titles.

Library errors (:class:`flowopt.errors.FlowoptError` subclasses) are mapped by their stable
``code``; the API adds codes of its own (auth, limits, storage, jobs). Every error body is an
RFC 9457 problem document (``application/problem+json``)::

    {"type": "urn:flowopt:error:input_invalid", "status": 422, "code": "input_invalid",
     "title": "...", "title_zh": "...", "detail": "...", "detail_zh": "...",
     "instance": "/v1/plans", "problems": [{"table", "row", "column", "pointer", ...}]}

``problems`` (invalid input) lists every finding with its location; ``diagnosis`` (an
infeasible target) gives the highest reachable rate. Bodies never contain non-finite numbers:
values echoed from a request are turned into strings first. ``problems`` holds at most
:data:`MAX_PROBLEMS` items (``problems_total`` then says how many were found), each member at
most :data:`MAX_FIELD_CHARS` characters, so no request can make the server build or send an
error body larger than a few hundred kilobytes; and a document is encodable whatever it echoes
(a lone UTF-16 surrogate is escaped, not a 500).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flowopt.errors import AuditError, FlowoptError, InfeasibleError, InputError, Problem

if TYPE_CHECKING:  # the worker processes import this module without the web stack
    from fastapi import FastAPI, Request
    from starlette.responses import Response

logger = logging.getLogger("flowopt.api")

PROBLEM_JSON = "application/problem+json"

#: Most items listed in ``problems``; the rest are counted in ``problems_total``.
MAX_PROBLEMS = 100
#: Longest text of one member of a problem (a pointer or column naming a megabyte-long key).
MAX_FIELD_CHARS = 300
#: Integers wider than this are described, not printed, in error documents (about 300 digits).
_MAX_INT_BITS = 1000
_CAPPED_NOTE = "are listed; fix them and send the request again to see the rest."


@dataclass(frozen=True)
class ErrorSpec:
    """How one error code is answered.

    Attributes:
        status: HTTP status.
        title: short English title (fixed per code).
        title_zh: the same in Chinese.
        detail_zh: Chinese sentence used as ``detail_zh`` (the English ``detail`` is specific).
        retryable: a client may send the same request again later and expect a different answer.
    """

    status: int
    title: str
    title_zh: str
    detail_zh: str
    retryable: bool = False


class Code(StrEnum):
    """Every error code the API answers with; the keys of :data:`ERRORS`."""

    input_invalid = "input_invalid"
    graph_invalid = "graph_invalid"
    infeasible = "infeasible"
    unbounded = "unbounded"
    solver_limit = "solver_limit"
    solve_failed = "solve_failed"
    solver_failure = "solver_failure"
    audit_failed = "audit_failed"
    output_invalid = "output_invalid"
    flowopt_error = "flowopt_error"
    json_invalid = "json_invalid"
    request_malformed = "request_malformed"
    cors_refused = "cors_refused"
    unsupported_media_type = "unsupported_media_type"
    body_too_large = "body_too_large"
    scenario_too_large = "scenario_too_large"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    api_key_missing = "api_key_missing"
    api_key_invalid = "api_key_invalid"
    scenario_exists = "scenario_exists"
    idempotency_key_reused = "idempotency_key_reused"
    queue_full = "queue_full"
    rate_limited = "rate_limited"
    solve_timeout = "solve_timeout"
    worker_crashed = "worker_crashed"
    interrupted = "interrupted"
    storage_unavailable = "storage_unavailable"
    not_ready = "not_ready"
    internal_error = "internal_error"


#: The error table: every ``code`` the API can answer with. Library codes come first.
ERRORS: dict[Code, ErrorSpec] = {
    # flowopt library errors (flowopt.errors), by their ``code``
    Code.input_invalid: ErrorSpec(422, "Invalid input", "输入无效", "输入数据有误，请按 problems 中列出的位置逐条修改后重新提交。"),
    Code.graph_invalid: ErrorSpec(422, "Network cannot carry a plan", "物料网络无法形成方案", "物料网络结构有误（如缺少距离、没有去向或循环产生质量），请按 problems 修改。"),
    Code.infeasible: ErrorSpec(422, "Target not reachable", "目标无法实现", "在现有网络下无法达到所设目标；diagnosis 给出可达到的最高比率。"),
    Code.unbounded: ErrorSpec(422, "Cost unbounded", "成本无下界", "成本可以无限下降，通常是收益数据有误，请检查项目收益与残渣比例。"),
    Code.solver_limit: ErrorSpec(422, "Solver limit reached", "求解达到上限", "求解器在时间或迭代上限内未得到最优解，请简化情景或提高时间上限。"),
    Code.solve_failed: ErrorSpec(422, "No optimal plan", "未得到最优方案", "求解器未得到最优方案。"),
    Code.solver_failure: ErrorSpec(500, "Solver failure", "求解器故障", "求解器 HiGHS 报告内部错误，请将该情景反馈给维护人员。"),
    Code.audit_failed: ErrorSpec(500, "Plan failed its audit", "方案未通过校核", "求解器给出的方案违反了输入约束，未予保存；请检查数量级异常的输入并反馈。"),
    Code.output_invalid: ErrorSpec(500, "Output could not be written", "输出无法写入", "服务器无法安全写入输出文件（如磁盘已满或权限不足），这是服务器端的问题，请反馈给维护人员。"),
    Code.flowopt_error: ErrorSpec(500, "flowopt error", "flowopt 错误", "flowopt 内部错误。"),
    # request shape and size
    Code.json_invalid: ErrorSpec(400, "Malformed JSON", "JSON 格式错误", "请求体不是合法的 JSON，请在所示行列处修正。"),
    Code.request_malformed: ErrorSpec(400, "Malformed request", "请求格式错误", "HTTP 请求本身不合规范（如 Content-Length 无效），请检查客户端发送的请求头。"),
    Code.cors_refused: ErrorSpec(400, "Cross-origin request refused", "跨域请求被拒绝", "该浏览器来源、方法或请求头未被允许；允许的来源由服务器的 FLOWOPT_CORS_ORIGINS 配置。"),
    Code.unsupported_media_type: ErrorSpec(415, "Unsupported media type", "不支持的内容类型", "请使用 Content-Type: application/json（情景也可用 multipart/form-data 上传 .xlsx）。"),
    Code.body_too_large: ErrorSpec(413, "Request body too large", "请求体过大", "请求体超过服务器上限，请缩小数据或联系管理员提高 FLOWOPT_MAX_BODY_BYTES。"),
    Code.scenario_too_large: ErrorSpec(413, "Scenario too large", "情景规模过大", "情景的表格行数超过服务器上限，请拆分情景或提高 FLOWOPT_MAX_SCENARIO_ROWS。"),
    Code.not_found: ErrorSpec(404, "Not found", "未找到", "所请求的资源不存在。"),
    Code.method_not_allowed: ErrorSpec(405, "Method not allowed", "不允许的请求方法", "该路径不支持此请求方法。"),
    # access
    Code.api_key_missing: ErrorSpec(401, "API key required", "需要 API 密钥", "此操作需要在请求头 X-API-Key 中提供 API 密钥。"),
    Code.api_key_invalid: ErrorSpec(401, "API key not accepted", "API 密钥无效", "X-API-Key 中的密钥不被接受，请检查或更换密钥。"),
    # resources and idempotency
    Code.scenario_exists: ErrorSpec(409, "Scenario id already used", "情景编号已被占用", "已存在同编号但内容不同的情景；情景不可修改，请换用新的 id。"),
    Code.idempotency_key_reused: ErrorSpec(422, "Idempotency-Key reused", "幂等键被重复使用", "该 Idempotency-Key 已用于内容不同的请求，请为新请求使用新的键。"),
    # capacity and jobs
    Code.queue_full: ErrorSpec(429, "Too many solves waiting", "排队求解过多", "求解队列已满，请在 Retry-After 秒后重试。", retryable=True),
    Code.rate_limited: ErrorSpec(429, "Too many requests", "请求过于频繁", "该客户端的请求频率超过服务器上限，请在 Retry-After 秒后重试。", retryable=True),
    Code.solve_timeout: ErrorSpec(422, "Solve exceeded the time limit", "求解超时", "求解超过服务器的时间上限而被终止，请简化情景。"),
    Code.worker_crashed: ErrorSpec(503, "Solver process ended unexpectedly", "求解进程意外退出", "求解进程意外退出，请稍后重试。", retryable=True),
    Code.interrupted: ErrorSpec(503, "Interrupted by a restart", "因服务重启而中断", "服务在任务完成前重启，任务未完成，请重新提交。", retryable=True),
    Code.storage_unavailable: ErrorSpec(503, "Storage unavailable", "存储不可用", "数据库暂时不可用（例如磁盘已满），请稍后重试。", retryable=True),
    Code.not_ready: ErrorSpec(503, "Not ready", "服务未就绪", "服务尚未就绪（求解进程或数据库不可用），请稍后重试。", retryable=True),
    Code.internal_error: ErrorSpec(500, "Internal error", "内部错误", "服务器内部错误，这是一个缺陷，请将 instance 与时间反馈给维护人员。"),
}


class ApiError(Exception):
    """An error answered with a problem document; raise it anywhere in a request.

    Args:
        code: a key of :data:`ERRORS`.
        detail: what went wrong, where, and how to fix it (English).
        problems: located input problems (``problems`` in the body); only the first
            :data:`MAX_PROBLEMS` are kept, and ``problems_total`` counts them all.
        headers: extra response headers (``Retry-After``).
        **extra: further members of the problem document (``diagnosis``, ``job_id``,
            ``problems_total`` when the caller capped the list already).
    """

    def __init__(self, code: str, detail: str, *, problems: Sequence[Mapping[str, Any]] | None = None, headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        if code not in ERRORS:  # a programming error, caught by the error-table test
            msg = f"error code {code!r} is not in api.errors.ERRORS"
            raise KeyError(msg)
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.problems: list[dict[str, Any]] | None = None
        self.headers = dict(headers or {})
        self.extra = extra
        if problems is not None:
            self.problems = [{k: clip(v, MAX_FIELD_CHARS) if isinstance(v, str) else v for k, v in p.items()} for p in problems[:MAX_PROBLEMS]]
            self._count(len(problems))

    def _count(self, found: int) -> None:
        """Record ``problems_total`` when the list is (or was, by the caller) capped.

        Idempotent: a document rebuilt from a capped one, or a library error that capped its
        own list and says how many it found, keeps the larger count.
        """
        total = max(found, int(self.extra.pop("problems_total", 0) or 0))
        shown = len(self.problems or ())
        if total > shown:
            self.extra["problems_total"] = total
            if _CAPPED_NOTE not in self.detail:
                self.detail += f" Only the first {shown} of {total:,} problems {_CAPPED_NOTE}"

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ApiError:
        """Rebuild an error from its problem document (as sent back by a worker process)."""
        fixed = {"type", "status", "code", "title", "title_zh", "detail", "problems", "instance"}
        extra = {k: v for k, v in doc.items() if k not in fixed and not (k == "detail_zh" and v == ERRORS[doc["code"]].detail_zh)}
        return cls(doc["code"], doc["detail"], problems=doc.get("problems"), **extra)

    @property
    def status(self) -> int:
        """The HTTP status of this error."""
        return ERRORS[self.code].status

    def document(self, instance: str | None = None) -> dict[str, Any]:
        """Return the problem document (JSON-ready, finite numbers only)."""
        spec = ERRORS[self.code]
        doc: dict[str, Any] = {
            "type": f"urn:flowopt:error:{self.code}",
            "status": spec.status,
            "code": self.code,
            "title": spec.title,
            "title_zh": spec.title_zh,
            "detail": self.detail,
            "detail_zh": spec.detail_zh,
        }
        if instance is not None:
            doc["instance"] = instance
        if self.problems is not None:
            doc["problems"] = self.problems
        doc.update(self.extra)
        return finite(doc)


def problem_item(p: Problem, pointer_prefix: str | None = None) -> dict[str, Any]:
    """Return one library :class:`~flowopt.errors.Problem` as a JSON item with a JSON pointer.

    Args:
        p: the problem.
        pointer_prefix: JSON pointer of the scenario inside the request body (``""`` when the
            body is the scenario, ``"/scenario"`` inside a plan request); ``None`` when the
            scenario did not come from JSON (a workbook), so no pointer is given.

    Returns:
        ``{file, table, row, column, pointer, message, hint, severity}``.
    """
    item = p.to_dict()
    pointer = None
    if pointer_prefix is not None and p.file is None:
        parts = [p.table] if p.table not in ("scenario", "request") else []
        if p.row is not None:
            parts.append(str(p.row - 1))
        if p.column:
            parts.extend(p.column.split("."))
        pointer = pointer_prefix + "".join("/" + x.replace("~", "~0").replace("/", "~1") for x in parts)
    item["pointer"] = pointer
    return item


def from_library(exc: FlowoptError, pointer_prefix: str | None = None) -> ApiError:
    """Map a library exception to an :class:`ApiError` through the error table.

    Args:
        exc: any :class:`~flowopt.errors.FlowoptError`.
        pointer_prefix: see :func:`problem_item`.

    Returns:
        The API error with ``problems`` (input errors), ``diagnosis`` (infeasible target) or
        ``findings`` (failed audit) attached.
    """
    code = exc.code if exc.code in ERRORS else "flowopt_error"
    if isinstance(exc, InputError):
        items = [problem_item(p, pointer_prefix) for p in exc.problems]
        # the library keeps the first MAX_PROBLEMS and counts the rest: say how many there were
        return ApiError(code, exc.message, problems=items, problems_total=getattr(exc, "problems_total", len(items)))
    if isinstance(exc, InfeasibleError):
        diagnosis = getattr(exc, "diagnosis", None)
        extra: dict[str, Any] = {}
        if diagnosis is not None:
            extra["diagnosis"] = diagnosis.model_dump(mode="json") if hasattr(diagnosis, "model_dump") else diagnosis.to_dict()
            err = ApiError(code, diagnosis.statement, **extra)
            err.extra["detail_zh"] = diagnosis.statement_zh
            return err
        return ApiError(code, str(exc))
    if isinstance(exc, AuditError):
        return ApiError(code, str(exc).splitlines()[0], findings=exc.findings)
    return ApiError(code, str(exc))


def finite(value: Any) -> Any:
    """Return ``value`` with every non-finite float replaced by its string (``"nan"``, ``"inf"``).

    Error bodies echo request values; a NaN there would make the error itself unencodable, and
    so would an integer of more than 4,300 digits (Python refuses to print it): such an integer
    is replaced by a description of its size.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        return f"an integer of about {int(value.bit_length() * math.log10(2)):,} digits"
    if isinstance(value, Mapping):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def dumps(doc: Any) -> bytes:
    r"""Encode a JSON document the way every response is encoded (UTF-8, compact, strict).

    A string holding a lone UTF-16 surrogate (``"\ud800"`` in a request, echoed in an error)
    has no UTF-8 form; such a document is sent with every non-ASCII character escaped
    (``\ud800``), which is valid JSON, instead of failing with a 500.
    """
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def problem_response(err: ApiError, instance: str | None = None) -> Response:
    """Return the ``application/problem+json`` response for ``err``."""
    from starlette.responses import Response

    return Response(dumps(err.document(instance)), status_code=err.status, media_type=PROBLEM_JSON, headers=err.headers)


def clip(text: str, limit: int = 60) -> str:
    """Return ``text`` cut to ``limit`` characters (with ``...``), for echoing in a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shorten(value: Any, limit: int = 60) -> str:
    """Return ``value`` as JSON text of at most ``limit`` characters, for echoing in a message.

    Only the start of a long string or container is looked at, so echoing a megabyte-long
    value costs no more than echoing a short one.
    """
    if isinstance(value, str):
        value = value[: limit + 1]
    elif isinstance(value, Mapping | list | tuple):
        return f"a {type(value).__name__} of {len(value):,} item{'s' if len(value) != 1 else ''}"
    return clip(json.dumps(finite(value), ensure_ascii=False), limit)


def _validation_problems(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Format (at most :data:`MAX_PROBLEMS`) parameter errors as located problems."""
    items = []
    for e in errors[:MAX_PROBLEMS]:
        loc = [str(x) for x in e.get("loc", ())]
        where = loc[0] if loc else "request"
        column = ".".join(loc[1:]) or None
        pointer = "/" + "/".join(loc) if loc else None
        got = e.get("input")
        got_text = shorten(got) if got is not None else "nothing"
        items.append({"file": None, "table": where, "row": None, "column": column, "pointer": pointer, "message": f"{e.get('msg', 'invalid value')} (got {got_text}).", "hint": _PARAM_HINTS.get(where, "correct the value."), "severity": "error"})
    return sorted(items, key=lambda i: (i["table"], i["column"] or "", i["message"]))


_PARAM_HINTS = {
    "query": "correct the query parameter; see the endpoint's parameters in /openapi.json.",
    "path": "check the id in the URL; ids are listed by the collection endpoint.",
    "header": "correct the header; see the endpoint's headers in /openapi.json.",
}

def _allowed_methods(request: Request) -> list[str]:
    """Every method the API documents for this path (Starlette names only one route's)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [(path, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), {m.upper() for m in ops}) for path, ops in request.app.openapi()["paths"].items()]
        request.app.state.allowed_methods = table
    matching = [(path, methods) for path, pattern, methods in table if pattern.match(request.url.path)]
    # a literal path (/v1/scenarios/validate) wins over a template that also matches it
    literal = [methods for path, methods in matching if "{" not in path]
    chosen = literal or [methods for _, methods in matching]
    return sorted({m for methods in chosen for m in methods})


_STATUS_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into a problem document."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return problem_response(exc, request.url.path)

    async def library_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FlowoptError)
        return problem_response(from_library(exc), request.url.path)

    async def request_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        # this handler runs on the event loop: format a bounded number of errors only
        errors = exc.errors()
        err = ApiError(Code.input_invalid, "The request's parameters are invalid; every problem is listed.", problems=_validation_problems(errors), problems_total=len(errors))
        return problem_response(err, request.url.path)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code)
        if code is None:
            code = "internal_error" if exc.status_code >= 500 else "input_invalid"
        detail = exc.detail if isinstance(exc.detail, str) else ERRORS[code].title
        path = clip(request.url.path, 80)
        if code == "not_found":
            detail = f"No resource at {path}. The endpoints are listed in /openapi.json."
        headers = dict(exc.headers or {})
        if code == "method_not_allowed":
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{clip(request.method, 20)} is not supported on {path}; use {' or '.join(allowed)}."
        return problem_response(ApiError(code, detail, headers=headers), request.url.path)

    async def disconnected(request: Request, exc: Exception) -> Response:
        # the client closed the connection before its body was complete: not a bug, and nobody
        # is left to read the answer (uvicorn drops it)
        logger.info("client disconnected before sending the whole body of %s %s", request.method, clip(request.url.path, 80))
        return problem_response(ApiError(Code.request_malformed, "The connection closed before the whole request body arrived; nothing was done."), request.url.path)

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(ApiError(Code.internal_error, f"Unexpected {type(exc).__name__}; this is a bug in flowopt's API."), request.url.path)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(FlowoptError, library_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnect, disconnected)
    app.add_exception_handler(Exception, unexpected)
