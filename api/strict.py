"""Strict JSON types for scenarios sent to the API: where the library coerces, the API refuses.

The library reads CSV text, so it turns ``"12"`` into 12; a JSON client that sends a string
where a number belongs has a bug worth reporting. Shared by :mod:`api.service` (plans,
scenarios) and :mod:`api.whatifs` (what-ifs, sweeps), which import it, never each other's
internals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from flowopt.schema import Scenario

#: How to fix each kind of type error pydantic reports.
STRICT_HINTS = {
    "float_type": "write a JSON number (not a string, true/false or null).",
    "int_type": "write a whole JSON number.",
    "string_type": "write a JSON string.",
    "bool_type": "write true or false.",
    "dict_type": "write a JSON object.",
    "tuple_type": "write a JSON array of objects.",
    "list_type": "write a JSON array.",
    "extra_forbidden": "remove the field or check its spelling against the documented field names.",
    "missing": "fill in the field; it is required.",
    "enum": "use one of the listed values.",
    "string_pattern_mismatch": "ids start with a letter and contain only letters, digits and underscores.",
    "greater_than_equal": "use a value within the allowed range (negative or absurdly large values are typing errors).",
    "less_than_equal": "use a value within the allowed range; magnitudes above the limit are treated as typing errors.",
    "finite_number": "use a finite number; NaN and infinity are not allowed.",
}


def short(value: Any) -> str:
    """A value as a message shows it: JSON, cut to 60 characters."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str | int | float | bool | None) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def strict_problems(data: Mapping[str, Any], pointer: str) -> list[dict[str, Any]]:
    """Check JSON types strictly: ``"12"`` or ``true`` where a number belongs is an error.

    The library coerces such values (it reads CSV text); a JSON client that sends them has a
    bug worth reporting rather than silently fixing.
    """
    return strict_scenario(data, pointer)[1]


def strict_scenario(data: Mapping[str, Any], pointer: str) -> tuple[Scenario | None, list[dict[str, Any]]]:
    """Validate ``data`` with strict JSON types (see :func:`strict_problems`).

    Args:
        data: the scenario as parsed JSON.
        pointer: JSON pointer of the scenario in the request, for problem locations.

    Returns:
        ``(scenario, [])`` when every field is valid, else ``(None, problems)``. The scenario
        equals what the library's lax validation makes of the same data (strict only refuses
        coercions), so callers need not validate it a second time; the cross-record checks
        (:func:`flowopt.checks.cross_checked`) are still theirs to run.
    """
    try:
        scenario = Scenario.model_validate_json(json.dumps(data, allow_nan=False), strict=True)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            table = str(loc[0]) if loc else "scenario"
            row = loc[1] + 1 if len(loc) > 1 and isinstance(loc[1], int) else None
            rest = loc[2:] if row is not None else loc[1:]
            column = ".".join(str(x) for x in rest) or None
            out.append({"file": None, "table": table, "row": row, "column": column, "pointer": pointer + "".join(f"/{x}" for x in loc), "message": f"{err['msg']} (got {short(err.get('input'))}).", "hint": STRICT_HINTS.get(err["type"], "correct the value."), "severity": "error"})
        return None, sorted(out, key=lambda i: (i["table"], i["row"] or 0, i["column"] or "", i["message"]))
    return scenario, []
