r"""Request bodies: bytes -> JSON value, strictly, and the size limit that runs before parsing.

Python's ``json`` module accepts ``NaN``, ``Infinity`` and ``1e400`` (read as infinity), lets a
repeated key silently overwrite the first, fails with a ``ValueError`` (not a JSON error) on an
integer of more than 4,300 digits, and accepts ``"\ud800"`` (a lone UTF-16 surrogate, which no
UTF-8 text, database or answer can hold) and ``"\u0000"`` (NUL, which PostgreSQL cannot store
in text). A plan must never be built from such a body, so :func:`parse_json` reads them as
markers and reports each one with its JSON pointer (``/scenario/projects/3/capacity_t``)
instead of guessing or failing with a 500.

:class:`BodySizeLimit` is a pure ASGI middleware: it answers 413 from ``Content-Length`` before
the application runs (400 ``request_malformed`` when that header is not a decimal number), and
counts the bytes of bodies sent without a length (chunked), so no body larger than the limit is
ever held in memory.
"""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from functools import cache
from typing import Any

from pydantic import BaseModel

from api.errors import MAX_PROBLEMS, ApiError, Code, clip, problem_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Deepest nesting accepted in a JSON body (a scenario needs 4 levels).
MAX_DEPTH = 32
#: Most digits of an integer literal (no field needs more than 12; Python's own limit is 4,300).
MAX_INT_DIGITS = 30

#: Characters refused in strings and keys: lone UTF-16 surrogates (not characters: no UTF-8
#: form, so neither a database nor an answer can hold them), NUL (PostgreSQL cannot store it
#: in text) and the other C0 control characters but tab, line feed and carriage return (XML 1.0,
#: hence an Excel workbook, cannot hold them, and a scenario may be exported to one).
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class _Bad:
    """Marker for a value that must be rejected: a non-finite number or a repeated key."""

    def __init__(self, text: str, message: str, hint: str) -> None:
        self.text = text
        self.message = message
        self.hint = hint


class _Pairs(dict[str, Any]):
    """An object whose keys were repeated; ``repeated`` holds each repeated key once."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen[key] = value
    if not repeated:
        return seen
    out = _Pairs(seen)
    out.repeated = repeated
    return out


def _float(text: str) -> float | _Bad:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Bad(text, f"the number {text} is out of range (it would be read as infinity).", "use a finite number within the field's documented range.")


def _constant(text: str) -> _Bad:
    return _Bad(text, f"{text} is not a number JSON allows.", "use a finite number; NaN and Infinity are not accepted.")


def _int(text: str) -> int | _Bad:
    digits = len(text) - text.startswith("-")
    if digits <= MAX_INT_DIGITS:
        return int(text)
    return _Bad(text[:20], f"the integer {text[:12]}... has {digits:,} digits; at most {MAX_INT_DIGITS} are accepted.", "send the number as it is meant (capacities, prices and counts need far fewer digits), in exponent form if it is large (1.5e9).")


def _bad_text(text: str, what: str) -> tuple[str, str] | None:
    """Return ``(message, hint)`` when ``text`` holds a character no store can keep, else None."""
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    char, at = found.group(), found.start() + 1
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"{what} holds a lone UTF-16 surrogate ({code}) at character {at}; it is not a character and cannot be stored.", "send valid Unicode: a character outside the Basic Multilingual Plane is escaped as a pair of surrogates (\\ud83d\\ude00), or sent as UTF-8."
    name = "NUL" if char == "\x00" else "a control character"
    return f"{what} holds {name} ({code}) at character {at}; text fields cannot store it.", "remove the control character; only tab, line feed and carriage return are accepted in text."


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _location(path: list[str | int], scenario_at: list[str]) -> tuple[str, int | None, str | None]:
    """Map a JSON path to the (table, row, column) of the library's problem locations."""
    n = len(scenario_at)
    if path[:n] == scenario_at and len(path) > n:
        rest = path[n:]
        table = str(rest[0])
        if len(rest) > 1 and isinstance(rest[1], int):
            return table, rest[1] + 1, ".".join(str(x) for x in rest[2:]) or None
        return table, None, ".".join(str(x) for x in rest[1:]) or None
    return "request", None, ".".join(str(x) for x in path) or None


def _walk(value: Any, path: list[str | int], out: list[tuple[list[str | int], str, str]], depth: int = 0) -> None:
    if isinstance(value, _Bad):
        out.append((path, value.message, value.hint))
    elif isinstance(value, str):
        if (bad := _bad_text(value, "the text")) is not None:
            out.append((path, *bad))
    elif isinstance(value, dict):
        if isinstance(value, _Pairs):
            for key in value.repeated:
                out.append(([*path, key], f"key '{clip(key)}' appears more than once in this object.", "give every key once; a repeated key would silently overwrite the first value."))
        for key in value:
            if (bad := _bad_text(key, "the key")) is not None:
                out.append(([*path, key], *bad))
            _walk(value[key], [*path, key], out, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, [*path, i], out, depth + 1)


def _depth_ok(raw: bytes) -> bool:
    """Cheap pre-check: the bracket depth outside strings never exceeds :data:`MAX_DEPTH`."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def parse_json(raw: bytes, scenario_at: list[str] | None = None) -> Any:
    """Parse a request body strictly.

    Args:
        raw: the body bytes (UTF-8).
        scenario_at: JSON path of the scenario inside the body (``[]`` when the body is a
            scenario, ``["scenario"]`` in a plan request), so problems inside it are located by
            table, row and column like the library's.

    Returns:
        The JSON value (dicts, lists, str, int, finite float, bool, None).

    Raises:
        ApiError: ``json_invalid`` (400) for bytes that are not JSON, with line and column;
            ``input_invalid`` (422) listing every non-finite number, integer of more than
            :data:`MAX_INT_DIGITS` digits, repeated key, and string or key holding a lone
            surrogate or a control character (see ``_BAD_TEXT``).
    """
    if not raw.strip():
        raise ApiError(Code.json_invalid, "The request body is empty; send a JSON object.", problems=[_syntax_problem("empty body", 1, 1, "send a JSON object such as {\"scenario_id\": \"panzhihua_east_2025\"}.")])
    if not _depth_ok(raw):
        raise ApiError(Code.json_invalid, f"The JSON is nested deeper than {MAX_DEPTH} levels.", problems=[_syntax_problem(f"nesting deeper than {MAX_DEPTH} levels", None, None, "a scenario needs at most 4 levels; check the structure.")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(Code.json_invalid, f"The body is not UTF-8 text (byte {exc.start}).", problems=[_syntax_problem(f"invalid UTF-8 at byte {exc.start}", None, None, "encode the body as UTF-8.")]) from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_float=_float, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(Code.json_invalid, f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.", problems=[_syntax_problem(exc.msg, exc.lineno, exc.colno, "fix the JSON syntax at this position (quotes, commas, brackets).")]) from None
    except RecursionError:  # pragma: no cover - _depth_ok bounds the nesting first
        raise ApiError(Code.json_invalid, "The JSON is nested too deeply.") from None
    found: list[tuple[list[str | int], str, str]] = []
    _walk(value, [], found)
    if found:
        at = scenario_at if scenario_at is not None else []
        items = []
        for path, message, hint in found:
            table, row, column = _location(path, at)
            items.append({"file": None, "table": table, "row": row, "column": column, "pointer": _pointer(path), "message": message, "hint": hint, "severity": "error"})
        items.sort(key=lambda i: (i["table"], i["row"] or 0, i["column"] or "", i["message"]))
        n = len(items)
        raise ApiError(Code.input_invalid, f"The request contains {n} value{'s' if n != 1 else ''} that cannot be used; every one is listed.", problems=items)
    return value


@cache
def _fields(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Return the JSON names of ``model``'s fields -> the model of their records, if any.

    A field holding a model, or a list or tuple of models, maps to that model; any other field
    maps to ``None`` (its value is not looked into).
    """

    def inner(annotation: Any) -> type[BaseModel] | None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        if typing.get_origin(annotation) in (dict, typing.Annotated):
            return None if typing.get_origin(annotation) is dict else inner(typing.get_args(annotation)[0])
        for arg in typing.get_args(annotation):
            if (found := inner(arg)) is not None:
                return found
        return None

    return {field.alias or name: inner(field.annotation) for name, field in model.model_fields.items()}


def _unknown(value: Any, model: type[BaseModel], path: list[str | int], scenario_at: list[str] | None, scenario: type[BaseModel]) -> Iterator[list[str | int]]:
    """Yield the path of every key of ``value`` that ``model`` (recursively) does not know."""
    if not isinstance(value, dict) or model.model_config.get("extra") != "forbid":
        return
    fields = _fields(model)
    for key, item in value.items():
        if key not in fields:
            yield [*path, key]
            continue
        at = [*path, key]
        inner = scenario if at == scenario_at else fields[key]
        if inner is None:
            continue
        if isinstance(item, list):
            for i, row in enumerate(item):
                yield from _unknown(row, inner, [*at, i], scenario_at, scenario)
        else:
            yield from _unknown(item, inner, at, scenario_at, scenario)


def refuse_many_unknown_keys(value: Any, model: type[BaseModel] | None, scenario_at: list[str] | None) -> None:
    """Refuse a body with more unknown keys than a problem document lists, before validation.

    Validating such a body would make pydantic build one error per key in one call that holds
    the interpreter lock (0.6 s for 100,000 keys), stalling every other request. Counting them
    here is cheap and interruptible. With :data:`~api.errors.MAX_PROBLEMS` or fewer, nothing is
    done: validation then reports them with every other problem, all at once.

    Args:
        value: the parsed body.
        model: the request envelope (``PlanCreate`` …), or ``None`` when the body is the scenario.
        scenario_at: JSON path of the scenario in the body (checked against ``Scenario``), if any.

    Raises:
        ApiError: ``input_invalid`` (422) listing the first unknown keys, ``problems_total``
            counting them all.
    """
    from flowopt.schema import Scenario

    if model is None:
        if scenario_at != []:
            return
        model = Scenario
    found = list(_unknown(value, model, [], scenario_at, Scenario))
    if len(found) <= MAX_PROBLEMS:
        return
    at = scenario_at if scenario_at is not None else []
    items = []
    for path in found[:MAX_PROBLEMS]:
        table, row, column = _location(path, at)
        items.append({"file": None, "table": table, "row": row, "column": column, "pointer": _pointer(path), "message": f"unknown field '{clip(str(path[-1]))}'.", "hint": "remove the field or check its spelling against the documented field names.", "severity": "error"})
    raise ApiError(Code.input_invalid, f"The request has {len(found):,} unknown fields.", problems=items, problems_total=len(found))


def _syntax_problem(message: str, line: int | None, column: int | None, hint: str) -> dict[str, Any]:
    where = f" (line {line}, column {column})" if line is not None else ""
    return {"file": None, "table": "request", "row": line, "column": None if column is None else str(column), "pointer": None, "message": message + where + ".", "hint": hint, "severity": "error"}


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Pure ASGI middleware: reject bodies larger than ``max_bytes`` with 413 before parsing.

    Args:
        app: the wrapped ASGI application.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, answering 413 as soon as the body is known to be too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                # digits only: int() would also take "1_000", "+5", " 7" or non-ASCII digits
                if not (value.isdigit() and value.isascii()):
                    err = ApiError(Code.request_malformed, f"Content-Length {clip(value.decode('latin-1'), 30)!r} is not a number of bytes; nothing was read. Send the body's length in decimal digits, or send it chunked without Content-Length.")
                    await _answer(err, scope, send)
                    return
                declared = int(value)
                if declared > self.max_bytes:
                    await self._reject(scope, send, f"The request body has {declared:,} bytes; the limit is {self.max_bytes:,}.")
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._reject(scope, send, f"The request body exceeds the limit of {self.max_bytes:,} bytes.")

    async def _reject(self, scope: Scope, send: Send, detail: str) -> None:
        err = ApiError(Code.body_too_large, detail + " Send a smaller body, or ask the operator to raise FLOWOPT_MAX_BODY_BYTES.")
        await _answer(err, scope, send)


async def _answer(err: ApiError, scope: Scope, send: Send) -> None:
    """Answer ``err`` without reading the body (so the connection is closed after it)."""
    response = problem_response(err, scope.get("path"))
    # the rest of the body is never read, so the connection cannot be reused
    response.headers["Connection"] = "close"
    await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}
