"""What-if and sweep requests in the API process: checks with located problems, keys, results.

Stage: parsed body -> :class:`~api.schemas.WhatIfCreate` / :class:`~api.schemas.SweepCreate`
(strict JSON types) -> the changes checked and applied with the library
(:mod:`flowopt.overrides`), every problem located by a JSON pointer into the request
(``/changes/2/set``) -> the what-if scenario (validated, network checked). All of this is
cheap and runs in the API process; only solves go to the worker processes.

A problem that shows only once the changes are applied (a capacity set negative, a removed
site still named by an accepts row) is reported where it lands in the what-if scenario (table,
row, column) and, when a change can be blamed, with the pointer of that change's ``value``,
``factor``, ``record/<field>`` or operation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from api.errors import ApiError, Code, from_library
from api.schemas import MAX_SWEEP_POINTS, MIN_SWEEP_STEP, SweepCreate, WhatIfCreate
from api.strict import STRICT_HINTS, short, strict_scenario
from flowopt.checks import cross_checked
from flowopt.errors import FlowoptError, InputError
from flowopt.graph import build_graph
from flowopt.overrides import Change, after_changes
from flowopt.schema import TABLES, Scenario

_HINT = "see the changes format in flowopt/overrides.py: set/scale/add/remove/disable with table.id.field paths."
_SELECT = re.compile(r"^(?P<table>[a-z_]+)(?:\[(?P<where>[^\]]*)\])?(?:\.(?P<rest>.+))?$")
_SETTINGS = ("policy", "transport", "id", "name_zh", "name_en", "year", "description")


def _item(table: str, row: int | None, column: str | None, pointer: str | None, message: str, hint: str) -> dict[str, Any]:
    return {"file": None, "table": table, "row": row, "column": column, "pointer": pointer, "message": message, "hint": hint, "severity": "error"}


def _invalid(problems: list[dict[str, Any]], what: str) -> ApiError:
    n = len(problems)
    return ApiError(Code.input_invalid, f"The {what} is invalid: {n} problem{'s' if n != 1 else ''} found; every one is listed with its location.", problems=problems)


# ---------------------------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------------------------


def parse_changes(req: WhatIfCreate) -> tuple[list[tuple[int, Change]], list[dict[str, Any]]]:
    """Check each change's shape strictly (JSON types too), problems at ``/changes/<i>/…``.

    Returns:
        ``(position in the request, change)`` of the well-formed changes, and the problems of
        the others (the well-formed ones are still checked against the scenario, so every
        problem is reported at once).
    """
    good: list[tuple[int, Change]] = []
    problems: list[dict[str, Any]] = []
    for i, raw in enumerate(req.changes):
        try:
            good.append((i, Change.model_validate(raw, strict=True)))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = [str(x) for x in err["loc"]]
                message = err["msg"].removeprefix("Value error, ")
                problems.append(_item("changes", i + 1, ".".join(loc) or None, f"/changes/{i}" + "".join(f"/{x}" for x in loc), f"{message}.", STRICT_HINTS.get(err["type"], _HINT)))
    return good, problems


def _selects(change: Change, table: str, record: dict[str, Any] | None) -> tuple[bool, str | None]:
    """Does ``change``'s path select ``record`` of ``table``? Also return the field it names."""
    m = _SELECT.match(change.path)
    if not m or m.group("table") != table:
        return False, None
    where, rest = m.group("where"), m.group("rest")
    if where is not None:
        field = rest
        if record is None or where.strip() == "*":
            return True, field
        conds = [part.split("=", 1) for part in where.split(",") if "=" in part]
        return all(str(record.get(k.strip())) == v.strip() for k, v in conds), field
    ident, _, field = (rest or "").partition(".")
    return record is None or record.get("id") == ident, field or None


def blame(changes: Sequence[tuple[int, Change]], data: dict[str, Any], removed: dict[int, set[Any]], table: str, row: int | None, column: str | None) -> str | None:
    """Return the JSON pointer of the change most likely behind a problem in the what-if scenario.

    Args:
        changes: ``(position in the request, change)``, in order.
        data: the what-if scenario as applied (before validation).
        removed: position of each ``remove`` change -> the ids it removed (with the records
            that went with them), so a row still naming one is blamed on that change.
        table: the problem's table in the what-if scenario.
        row: its 1-based row, if any.
        column: its field, if any.

    Returns:
        ``/changes/<i>/value`` (or ``factor``, ``record/<field>``, the operation), or ``None``
        when no change touches that place (the problem was in the base already).
    """
    rows = data.get(table)
    record = rows[row - 1] if isinstance(rows, list) and row is not None and 0 < row <= len(rows) and isinstance(rows[row - 1], dict) else None
    field = column.split(".")[0] if column else None
    for i, ch in reversed(changes):
        op, path = ch.operation, ch.path
        if table not in TABLES:  # a setting: policy.target_rate, transport.…
            setting = ".".join(x for x in (None if table in ("scenario", "request") else table, column) if x)
            if op in ("set", "scale") and path.split(".", 1)[0] in _SETTINGS and path == setting:
                return f"/changes/{i}/{'value' if op == 'set' else 'factor'}"
            continue
        if op == "add":
            new = ch.record or {}
            same = record is not None and (record.get("id") == new["id"] if "id" in new else all(record.get(k) == v for k, v in new.items()))
            if path == table and same:
                return f"/changes/{i}/record" + (f"/{field}" if field and field in new else "")
            continue
        if op in ("set", "scale"):
            hit, named = _selects(ch, table, record)
            if hit and (named is None or field is None or named.split(".")[0] == field):
                return f"/changes/{i}/{'value' if op == 'set' else 'factor'}"
            continue
        m = _SELECT.match(path)
        if not m:
            continue
        target_table, ident = m.group("table"), (m.group("rest") or "").split(".")[0]
        if op == "remove" and record is not None and field and target_table != table and record.get(field) in removed.get(i, ()):
            return f"/changes/{i}/remove"  # a row still naming a removed record
        if record is None and target_table == table:
            return f"/changes/{i}/{op}"
        if op == "disable" and target_table == table and record is not None and record.get("id") == ident:
            return f"/changes/{i}/disable"
    return None


def _after(problems: Sequence[dict[str, Any]], changes: Sequence[tuple[int, Change]], data: dict[str, Any], removed: dict[int, set[Any]]) -> list[dict[str, Any]]:
    out = []
    for p in problems:
        message = p["message"]
        if not message.startswith("after the changes"):
            message = f"after the changes: {message}"
        out.append({**p, "pointer": blame(changes, data, removed, p["table"], p["row"], p["column"]), "message": message})
    return out


def _ids(data: dict[str, Any]) -> set[Any]:
    return {r.get("id") for t in TABLES for r in data.get(t) or () if isinstance(r, dict) and r.get("id") is not None}


def _order(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Problems of changes first, by change; then the what-if scenario's, by place."""
    return sorted(problems, key=lambda p: (p["table"] != "changes", p["row"] or 0 if p["table"] == "changes" else 0, p["table"], p["row"] or 0, p["column"] or "", p["message"]))


def whatif_scenario(base: Scenario, req: WhatIfCreate) -> Scenario:
    """Apply the request's changes to ``base`` with the library and check the result.

    Every problem is reported at once: a malformed change, a change that does not apply
    (``/changes/<i>/<op>``), a value of the wrong JSON type or out of range, a broken
    reference, a network that cannot carry a plan; the last three located in the what-if
    scenario and blamed on a change when one touches that place.

    Returns:
        The what-if scenario (validated; its network checked).

    Raises:
        ApiError: ``input_invalid`` or ``graph_invalid`` (422).
    """
    from flowopt.overrides import _apply_one  # the library's own step, for locations only

    changes, problems = parse_changes(req)
    data = base.model_dump(mode="json")
    removed: dict[int, set[Any]] = {}
    for i, ch in changes:
        before = _ids(data) if ch.operation == "remove" else set()
        err = _apply_one(data, ch)
        if ch.operation == "remove":
            removed[i] = before - _ids(data)
        if err:
            problems.append(_item("changes", i + 1, ch.operation, f"/changes/{i}/{ch.operation}", err, "fix the path or value; paths are table.id.field, table[field=value].field or policy.<setting>."))
    if req.id:
        data["id"] = req.id
    if req.description:
        data["description"] = req.description
    # one validation: the strict one's scenario is the library's (apply_overrides would
    # validate the same data a second time), so only the cross-record checks remain
    checked, strict = strict_scenario(data, "")
    if strict or problems or checked is None:
        raise _invalid(_order(problems + _after(strict, changes, data, removed)), "what-if")
    try:
        scenario = cross_checked(checked)
    except InputError as exc:
        items = [{**p.to_dict(), "pointer": None} for p in after_changes(exc.problems)]
        raise _invalid(_order(_after(items, changes, data, removed)), "what-if") from None
    try:
        build_graph(scenario)
    except FlowoptError as exc:
        err = from_library(exc, None)
        if err.problems:
            err.problems = _order(_after(err.problems, changes, data, removed))
        raise err from None
    return scenario


# ---------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------


def sweep_points(req: SweepCreate) -> int | float:
    """Grid points of a sweep (breakpoints come on top); ``inf`` when beyond counting.

    Computed in floating point without building anything, so an absurd step (``5e-324``, whose
    quotient overflows to infinity) is counted, not turned into an ``OverflowError``.
    """
    ratio = (req.to - req.from_) / req.step if req.step > 0 else math.inf
    if not math.isfinite(ratio) or ratio > 1e15:
        return math.inf
    return math.floor(ratio + 1e-9) + 1


def check_sweep(req: SweepCreate) -> None:
    """Check the range, the step and the grid size of a sweep before any work.

    Raises:
        ApiError: ``input_invalid`` (422) with ``/to`` or ``/step`` located.
    """
    problems = []
    if req.from_ > req.to:
        problems.append(_item("request", None, "to", "/to", f"'to' ({req.to:g}) is below 'from' ({req.from_:g}).", "give 0 <= from <= to <= 1 (fractions: 0.9 = 90 %)."))
    elif not req.step >= MIN_SWEEP_STEP:  # also refused by the schema; kept for callers that build requests
        problems.append(_item("request", None, "step", "/step", f"the step {req.step:g} is below the finest step, {MIN_SWEEP_STEP:g}.", f"use a step of at least {MIN_SWEEP_STEP:g} (0.01 percentage point); breakpoints are exact whatever the step."))
    elif (n := sweep_points(req)) > MAX_SWEEP_POINTS:
        least = (req.to - req.from_) / (MAX_SWEEP_POINTS - 1)
        count = f"{n:,}" if math.isfinite(n) else "too many"
        problems.append(_item("request", None, "step", "/step", f"from {req.from_:g} to {req.to:g} in steps of {req.step:g} gives {count} points; at most {MAX_SWEEP_POINTS} are computed.", f"use a step of at least {math.ceil(least * 1e6) / 1e6:g} (breakpoints are exact whatever the step)."))
    if problems:
        raise _invalid(problems, "sweep request")


def envelope_error(exc: ValidationError, schema: str) -> ApiError:
    """Turn a strict validation error of a request envelope into located problems."""
    items = []
    for err in exc.errors(include_url=False):
        loc = [str(x) for x in err["loc"]]
        if loc and loc[0] == "scenario" and err["type"] == "dict_type":
            hint = "send the scenario as a JSON object (see GET /v1/scenarios/panzhihua_east_2025)."
        else:
            hint = STRICT_HINTS.get(err["type"], f"see the {schema} schema in /openapi.json.")
        message = err["msg"].removeprefix("Value error, ")
        items.append(_item("request", None, ".".join(loc) or None, "".join(f"/{x}" for x in loc), f"{message} (got {short(err.get('input'))}).", hint))
    return ApiError(Code.input_invalid, "The request is invalid; every problem is listed.", problems=sorted(items, key=lambda i: (i["pointer"] or "", i["message"])))
