"""Overrides: a base ``Scenario`` + a short list of changes -> the what-if ``Scenario``.

A what-if is written by a person in YAML or JSON::

    id: haorun_slips                 # optional
    base: ../panzhihua_east          # optional, relative to this file
    description: Haorun's retrofit slips a year; slag aggregate prices drop 30 %
    changes:
      - set: projects.R05.capacity_t          # table.id.field
        value: 0
      - scale: projects.R01.revenue_cny_per_t
        factor: 0.7
      - set: policy.target_rate               # a manifest setting
        value: 0.75
      - set: accepts[outlet=R02,stream=W03].max_share   # records without an id: match fields
        value: 0.4
      - scale: projects[*].processing_cost_cny_per_t    # every record of a table
        factor: 1.1
      - add: projects                         # a new record (and its accepts rows, etc.)
        record: {id: R13, site: N08, capacity_t: 500000, product_fraction: 1}
      - remove: projects.R12                  # also removes the rows that name it
      - disable: projects.R12                 # capacity 0 / reclaim 0 / route prohibited

Every change is checked before anything is applied, and the result is validated like any
scenario; all problems are reported at once with the change's position in the file.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from flowopt.checks import validated
from flowopt.errors import InputError, Problem
from flowopt.schema import TABLES, Scenario
from flowopt.yamlload import parse_json, parse_yaml

_PATH = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
_TABLE = "changes"
#: Record fields that name another table's record: removing a record removes rows naming it.
_REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "sites": (("firms", "site"), ("streams", "site"), ("stockpiles", "site"), ("projects", "site"), ("sinks", "site"), ("distances", "from_site"), ("distances", "to_site"), ("routes", "from_site"), ("routes", "to_site")),
    "firms": (("streams", "firm"), ("projects", "firm")),
    "streams": (("composition", "stream"), ("stockpiles", "stream"), ("accepts", "stream"), ("residues", "stream"), ("routes", "stream")),
    "projects": (("accepts", "outlet"), ("residues", "project"), ("quality", "project")),
    "sinks": (("accepts", "outlet"),),
    "markets": (("market_tiers", "market"),),
}
_DISABLE = {"projects": ("capacity_t", 0.0), "sinks": ("capacity_t", 0.0), "stockpiles": ("max_reclaim_t", 0.0), "routes": ("prohibited", True), "streams": ("generation_t", 0.0)}
_SETTINGS = ("policy", "transport", "id", "name_zh", "name_en", "year", "description")


class Change(BaseModel):
    """One change: exactly one of ``set``, ``scale``, ``add``, ``remove``, ``disable``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    set: _PATH | None = None
    """Path of the field to set: ``table.id.field``, ``table[k=v,…].field``, ``table[*].field``
    or a manifest setting such as ``policy.target_rate``."""
    scale: _PATH | None = None
    """Path of a numeric field to multiply by ``factor``."""
    add: _PATH | None = None
    """Table to add ``record`` to."""
    remove: _PATH | None = None
    """``table.id`` or ``table[k=v,…]`` of the record(s) to remove."""
    disable: _PATH | None = None
    """``table.id`` of a project, sink, stockpile, route or stream to switch off."""
    value: Any = None
    """New value for ``set``."""
    factor: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] | None = None
    """Multiplier for ``scale``."""
    record: dict[str, Any] | None = None
    """The record for ``add``."""

    @model_validator(mode="after")
    def _one_operation(self) -> Change:
        ops = [k for k in ("set", "scale", "add", "remove", "disable") if getattr(self, k) is not None]
        if len(ops) != 1:
            msg = f"give exactly one of set, scale, add, remove, disable (got {', '.join(ops) or 'none'})"
            raise ValueError(msg)
        if self.set is not None and "value" not in self.model_fields_set:
            msg = "'set' needs a 'value'"
            raise ValueError(msg)
        if self.scale is not None and self.factor is None:
            msg = "'scale' needs a 'factor'"
            raise ValueError(msg)
        if self.add is not None and self.record is None:
            msg = "'add' needs a 'record'"
            raise ValueError(msg)
        return self

    @property
    def operation(self) -> str:
        """The operation name."""
        return next(k for k in ("set", "scale", "add", "remove", "disable") if getattr(self, k) is not None)

    @property
    def path(self) -> str:
        """The operation's path."""
        return str(getattr(self, self.operation))


class Overrides(BaseModel):
    """A what-if: an optional base, an id and description, and the changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)] | None = None
    """Id of the what-if (becomes the scenario id)."""
    base: str | None = None
    """Base scenario folder or workbook, relative to the overrides file."""
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    """What the what-if asks."""
    changes: list[Change] = []
    """The changes, applied in order."""


def load_overrides(path: str | os.PathLike[str]) -> tuple[Overrides, Path]:
    """Read an overrides file (YAML or JSON).

    Args:
        path: the file.

    Returns:
        The overrides and the folder the file is in (for a relative ``base``).

    Raises:
        InputError: unreadable file or invalid content, every problem located by change.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"No overrides file at '{p}'."
        raise InputError(msg, [Problem(_TABLE, None, None, msg, "check the path.", str(p))])
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"'{p.name}' cannot be read as UTF-8 text: {getattr(exc, 'strerror', None) or type(exc).__name__}."
        raise InputError(msg, [Problem(_TABLE, None, None, msg, "save it as UTF-8 text.", str(p))]) from exc
    # bounded parsers: duplicate keys, alias bombs, deep nesting and huge integers are input errors
    parse = parse_json if p.suffix.lower() == ".json" else parse_yaml
    data = parse(text, source=str(p), table="overrides")  # "changes" rows would read as change numbers
    return parse_overrides(data or {}, str(p)), p.parent


def parse_overrides(data: Any, source: str | None = None) -> Overrides:
    """Validate an overrides document given as a mapping (from a file or a request body).

    Raises:
        InputError: with every problem located as ``changes`` row (1-based change number).
    """
    if not isinstance(data, dict):
        msg = "An overrides document must be a mapping with a 'changes' list."
        raise InputError(msg, [Problem(_TABLE, None, None, msg, "write 'changes:' followed by a list.", source)])
    try:
        return Overrides.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            row = loc[1] + 1 if len(loc) > 1 and loc[0] == "changes" and isinstance(loc[1], int) else None
            column = ".".join(str(x) for x in (loc[2:] if row else loc)) or None
            problems.append(Problem(_TABLE, row, column, f"{err['msg']}.", "see the overrides format in flowopt/overrides.py (set/scale/add/remove/disable).", source))
        msg = f"The overrides are invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems) from exc


_SELECT = re.compile(r"^(?P<table>[a-z_]+)(?:\[(?P<where>[^\]]*)\])?(?:\.(?P<rest>.+))?$")


def _select(data: dict[str, Any], path: str) -> tuple[str, list[dict[str, Any]], str | None, str]:
    """Resolve ``table.id[.field]`` / ``table[k=v].field`` to (table, records, field, error)."""
    m = _SELECT.match(path)
    if not m or m.group("table") not in TABLES:
        return "", [], None, f"'{path}' does not start with a table name ({', '.join(TABLES)}) or a setting (policy.…, transport.…)."
    table, where, rest = m.group("table"), m.group("where"), m.group("rest")
    rows: list[dict[str, Any]] = data[table]
    field: str | None
    if where is not None:
        field = rest
        if where.strip() == "*":
            return table, rows, field, ""
        conds = {}
        for part in where.split(","):
            if "=" not in part:
                return table, [], None, f"'{where}' in '{path}' is not a list of field=value."
            k, v = part.split("=", 1)
            conds[k.strip()] = v.strip()
        hits = [r for r in rows if all(str(r.get(k)) == v for k, v in conds.items())]
        if not hits:
            return table, [], None, f"no {table} row matches [{where}]."
        return table, hits, field, ""
    if rest is None:
        return table, [], None, f"'{path}' names a table but no record; write {table}.<id> or {table}[field=value]."
    ident, _, field_part = rest.partition(".")
    field = field_part or None
    hits = [r for r in rows if r.get("id") == ident]
    if not hits:
        known = ", ".join(sorted(str(r.get("id")) for r in rows)[:12])
        return table, [], None, f"no {table} record has id '{ident}' (known: {known})."
    return table, hits, field, ""


def apply_overrides(base: Scenario, overrides: Overrides, source: str | None = None) -> Scenario:
    """Apply the changes to ``base`` and validate the result.

    Args:
        base: the base scenario.
        overrides: the what-if.
        source: file name for error locations.

    Returns:
        The what-if scenario (``id`` from the overrides when given).

    Raises:
        InputError: unknown tables, ids or fields, or values the schema rejects; every
            problem at once, located by change number (1-based).
    """
    data = base.model_dump(mode="json")
    problems: list[Problem] = []
    for i, ch in enumerate(overrides.changes, 1):
        err = _apply_one(data, ch)
        if err:
            problems.append(Problem(_TABLE, i, ch.operation, err, "fix the path or value; paths are table.id.field, table[field=value].field or policy.<setting>.", source))
    if overrides.id:
        data["id"] = overrides.id
    if overrides.description:
        data["description"] = overrides.description
    try:
        scenario = validated(data)
    except InputError as exc:
        # report what the applied changes broke together with the changes that failed
        problems += after_changes(exc.problems, source)
    if any(p.severity == "error" for p in problems):
        msg = f"The overrides cannot be applied: {len(problems)} problem(s) found."
        raise InputError(msg, problems)
    return scenario


def after_changes(problems: Sequence[Problem], source: str | None = None) -> list[Problem]:
    """Problems found in a what-if scenario, worded as what the changes broke.

    Args:
        problems: problems located in the what-if scenario (table, row, column).
        source: the overrides file, named in the message when given.

    Returns:
        The same problems, each message prefixed with "after the changes[ of FILE]: ".
    """
    after = f"after the changes of {Path(source).name}" if source else "after the changes"
    return [Problem(p.table, p.row, p.column, f"{after}: {p.message}", p.hint, None, p.severity) for p in problems]


def _apply_one(data: dict[str, Any], ch: Change) -> str:
    """Apply one change to the scenario dict in place; return an error text or ''."""
    op, path = ch.operation, ch.path
    head = path.split(".", 1)[0]
    if head in _SETTINGS:
        if op not in ("set", "scale"):
            return f"'{op}' does not apply to the setting '{path}'; use set or scale."
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            if not isinstance(node, dict) or part not in node:
                return f"unknown setting '{path}'."
            node = node[part]
        leaf = parts[-1]
        if not isinstance(node, dict) or leaf not in node:
            return f"unknown setting '{path}'."
        return _set_or_scale(node, leaf, ch, path)
    if op == "add":
        if path not in TABLES:
            return f"unknown table '{path}' (tables: {', '.join(TABLES)})."
        data[path].append(copy.deepcopy(ch.record))
        return ""
    table, rows, field, err = _select(data, path)
    if err:
        return err
    if op == "remove":
        if field:
            return f"'remove' takes a record, not a field ('{path}')."
        data[table] = [r for r in data[table] if not any(r is x for x in rows)]
        _cascade(data, table, {r.get("id") for r in rows if r.get("id") is not None})
        return ""
    if op == "disable":
        if table not in _DISABLE:
            return f"'disable' applies to {', '.join(_DISABLE)}, not {table}."
        key, value = _DISABLE[table]
        for r in rows:
            r[key] = value
        return ""
    if not field:
        return f"'{path}' names a record but no field; write {path}.<field>."
    fields = TABLES[table].model_fields
    if field not in fields:
        return f"{table} has no field '{field}' (fields: {', '.join(fields)})."
    for r in rows:
        err = _set_or_scale(r, field, ch, path)
        if err:
            return err
    return ""


def _cascade(data: dict[str, Any], table: str, ids: set[Any]) -> None:
    """Remove the rows that name removed records, and in turn the rows that name those."""
    for dep_table, dep_field in _REFERENCES.get(table, ()):
        gone = [r for r in data[dep_table] if r.get(dep_field) in ids]
        if not gone:
            continue
        data[dep_table] = [r for r in data[dep_table] if r.get(dep_field) not in ids]
        dep_ids = {r.get("id") for r in gone if r.get("id") is not None}
        if dep_ids:
            _cascade(data, dep_table, dep_ids)


def _set_or_scale(node: dict[str, Any], key: str, ch: Change, path: str) -> str:
    if ch.operation == "set":
        node[key] = copy.deepcopy(ch.value)
        return ""
    current = node.get(key)
    if isinstance(current, bool) or not isinstance(current, int | float):
        return f"'{path}' is not a number ({current!r}); 'scale' needs a numeric field."
    node[key] = float(current) * float(ch.factor or 0.0)
    return ""


def load_whatif(path: str | os.PathLike[str], base: Scenario | str | os.PathLike[str] | None = None) -> Scenario:
    """Load a what-if file and return the scenario with its changes applied.

    Args:
        path: the overrides file (YAML or JSON).
        base: the base scenario (object or path); default the file's ``base`` (relative to the
            file), else the bundled park data.

    Returns:
        The what-if scenario.
    """
    from flowopt.io import load_scenario
    from flowopt.pipeline import default_data_dir

    overrides, folder = load_overrides(path)
    if isinstance(base, Scenario):
        scenario = base
    elif base is not None:
        scenario = load_scenario(base)
    elif overrides.base:
        scenario = load_scenario(folder / overrides.base)
    else:
        scenario = load_scenario(default_data_dir())
    return apply_overrides(scenario, overrides, str(path))
