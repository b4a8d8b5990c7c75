"""Files <-> ``Scenario``: a folder of ``scenario.yaml`` + CSV tables, or one ``.xlsx`` workbook.

Stage: files -> validated :class:`~flowopt.schema.Scenario` (or :class:`~flowopt.errors.InputError`
listing every problem with file, row and column).

A scenario folder holds ``scenario.yaml`` (id, names, year, ``policy``, ``transport``,
``sources`` and optionally ``tables``, a mapping from table name to file name) and one CSV per
table named ``<table>.csv``, whose header row equals the record's field names. A workbook holds
the same tables as sheets named after the tables, plus a ``scenario`` sheet with two columns
``key`` and ``value`` whose keys are the manifest's dotted paths (``policy.target_rate``).
Both load to the same ``Scenario``.

Every YAML document goes through :func:`flowopt.yamlload.parse_yaml` (duplicate keys, alias
bombs, deep nesting and huge integers are input errors), and CSV is read strictly (an
unterminated quote is an input error, not a silently swallowed end of file).

Writers never delete anything (see :mod:`flowopt.outputs`): each file is written to a
temporary name beside it and renamed into place, so an interrupted write leaves the old file or
the new one; :func:`write_scenario` writes into a folder only files it may replace (new ones, or
ones flowopt wrote there before) and leaves every other file alone.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from flowopt.checks import (
    VALIDATION_HINTS,
    check_scenario,
    later_stage_problems,
    raise_for_problems,
    short_value,
    stand_in,
    validation_problems,
)
from flowopt.errors import InputError, Problem
from flowopt.outputs import OutputFolder, atomic_file, check_output_file
from flowopt.schema import REQUIRED_TABLES, TABLES, Record, Scenario
from flowopt.xlsx import ReadLimits
from flowopt.yamlload import parse_yaml

#: Problems kept per table read (the error reports at most 100 in all; the rest are counted).
MAX_ROW_PROBLEMS = 100

_ADAPTERS: dict[type[Record], TypeAdapter[list[Any]]] = {}


def _adapter(model: type[Record]) -> TypeAdapter[list[Any]]:
    """A validator for a whole table of ``model`` records (built once per record type)."""
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


MANIFEST = "scenario.yaml"
MANIFEST_SHEET = "scenario"
_MANIFEST_TABLE = "scenario"


@dataclass
class _Reader:
    """Collects records, their file locations and every problem while reading one scenario."""

    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, list[Any]] = field(default_factory=dict)
    uncollected: int = 0
    rows: dict[str, list[int]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # the rows that passed field validation (and their lines), and the raw rows that did not:
    # the later stages run on the first when the scenario is invalid (all problems at once)
    partial: dict[str, list[Any]] = field(default_factory=dict)
    partial_rows: dict[str, list[int]] = field(default_factory=dict)
    dropped: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    patched: set[tuple[str, int]] = field(default_factory=set)

    def add_table(self, table: str, file: str, header: list[str], raw_rows: list[tuple[int, list[Any]]]) -> None:
        """Validate one table's rows (as raw cell lists) into records, collecting problems."""
        model = TABLES[table]
        fields = model.model_fields
        self.files[table] = file
        header = [str(h).strip() if h is not None else "" for h in header]
        keep: list[int] = []
        for col, name in enumerate(header):
            if not name:
                continue
            if name not in fields:
                self.problems.append(
                    Problem(table, 1, name, f"unknown column '{name}'.", f"remove it or rename it to one of: {', '.join(fields)}.", file)
                )
                continue
            keep.append(col)
        present = {header[c] for c in keep}
        missing = [n for n, f in fields.items() if f.is_required() and n not in present]
        for name in missing:
            self.problems.append(
                Problem(table, 1, name, f"required column '{name}' is missing.", f"add a '{name}' column to the header row.", file)
            )
        records: list[dict[str, Any]] = []
        lines: list[int] = []
        names = [header[c] for c in keep]
        for line, cells in raw_rows:
            values = {}
            for name, c in zip(names, keep, strict=True):
                if c < len(cells):
                    v = cells[c]
                    if v is not None and (v.__class__ is not str or v.strip()):
                        values[name] = v
            if not values and all(_blank(c) for c in cells):
                continue  # blank lines are layout, not data
            records.append(values)
            lines.append(line)
        # one validation call for the whole table (pydantic's core loops, not Python); the
        # validated records are kept, so the scenario is not validated a second time
        try:
            validated: list[Any] = _adapter(model).validate_python(records)
            self.partial[table], self.partial_rows[table], self.dropped[table] = validated, lines, []
        except ValidationError as exc:
            validated = records
            errors = exc.errors(include_url=False)
            self._keep_partial(table, model, records, lines, errors)
            # beyond what could ever be listed the errors are only counted
            self.uncollected += max(0, len(errors) - MAX_ROW_PROBLEMS)
            for err in errors[:MAX_ROW_PROBLEMS]:
                loc = err["loc"]
                line = lines[int(loc[0])] if loc and isinstance(loc[0], int) else None
                column = ".".join(str(x) for x in loc[1:]) or None
                if column in missing:
                    continue  # already reported once for the header
                self.problems.append(Problem(table, line, column, f"{err['msg']} (got {short_value(err.get('input'))}).", VALIDATION_HINTS.get(err["type"], "correct the value."), file))
        self.tables[table] = validated
        self.rows[table] = lines

    def _keep_partial(self, table: str, model: type[Record], records: list[dict[str, Any]], lines: list[int], errors: list[Any]) -> None:
        """Keep what the later stages may check of a table with invalid rows.

        A row whose invalid values are all numbers or optional is kept with stand-ins (the
        field's default, else 1, 0 or 0.5, the first that passes), so the network checks still
        see its record and links; its own cross-record findings are not reported (they would
        be about the stand-ins). Other invalid rows are left out (:attr:`dropped`).
        """
        bad: dict[int, set[str]] = defaultdict(set)
        for e in errors:
            loc = e["loc"]
            if loc and isinstance(loc[0], int):
                bad[int(loc[0])].add(str(loc[1]) if len(loc) > 1 else "")
        adapter = _adapter(model)
        kept: list[Any] = []
        kept_lines: list[int] = []
        dropped: list[dict[str, Any]] = []
        for i, (record, line) in enumerate(zip(records, lines, strict=True)):
            if i not in bad:
                kept.append(record)
                kept_lines.append(line)
                continue
            patched = stand_in(model, record, bad[i])
            if patched is None:
                dropped.append(record)
                continue
            kept.append(patched)
            kept_lines.append(line)
            self.patched.add((table, line))
        try:
            self.partial[table] = adapter.validate_python(kept)
            self.partial_rows[table] = kept_lines
        except ValidationError:  # pragma: no cover - rows valid alone are valid together
            self.partial[table], self.partial_rows[table] = [], []
            dropped = list(records)
        self.dropped[table] = dropped

    def locate(self, problem: Problem, rows: dict[str, list[int]] | None = None, *, fallback: str | None = None) -> Problem:
        """Map a record-numbered problem from :func:`check_scenario` to its file and line.

        ``rows`` maps record numbers to lines (default: every record read; the partial
        scenario's records have their own, :attr:`partial_rows`). ``fallback`` names the file
        of a problem whose table was not read (a network problem about a missing table).
        """
        lines = (self.rows if rows is None else rows).get(problem.table)
        row = problem.row
        if lines is not None and row is not None and 1 <= row <= len(lines):
            row = lines[row - 1]
        return Problem(problem.table, row, problem.column, problem.message, problem.hint, self.files.get(problem.table, problem.file or fallback), problem.severity)

    def finish(self, manifest: dict[str, Any], manifest_file: str) -> Scenario:
        """Build the scenario from the manifest and tables; raise once with every problem."""
        data = dict(manifest)
        data.update(self.tables)
        scenario: Scenario | None = None
        try:
            Scenario.model_validate(manifest)
        except ValidationError as exc:
            for prob in validation_problems(exc, _MANIFEST_TABLE):
                self.problems.append(_with_file(prob, manifest_file))
        if not any(p.severity == "error" for p in self.problems):
            try:
                scenario = Scenario.model_validate(data)
            except ValidationError as exc:  # pragma: no cover - records and manifest passed above
                for prob in validation_problems(exc, _MANIFEST_TABLE):
                    self.problems.append(_with_file(prob, manifest_file))
        if scenario is not None:
            cross = check_scenario(scenario)
            self.problems.extend(self.locate(p) for p in cross)
            if any(p.severity == "error" for p in cross):
                # the network checks too, on what is whole, so every problem shows in one run
                _, network = later_stage_problems(scenario, cross_record=False, earlier=cross)
                self.problems.extend(self.locate(p, fallback=manifest_file) for p in network)
        elif any(p.severity == "error" for p in self.problems):
            partial = self._partial(manifest)
            if partial is not None:
                cross, network = later_stage_problems(partial, self.dropped)
                # findings about a row's stand-in values say nothing about the row itself, and an
                # empty table that was never read is already reported as missing
                located = [self.locate(p, self.partial_rows) for p in cross if p.table in self.files or p.row is not None]
                self.problems.extend(p for p in located if (p.table, p.row) not in self.patched)
                self.problems.extend(self.locate(p, self.partial_rows, fallback=manifest_file) for p in network)
        raise_for_problems(self.problems, "The scenario could not be loaded", uncollected=self.uncollected)
        assert scenario is not None  # raise_for_problems raised otherwise
        scenario._locations = {t: [(self.files[t], line) for line in self.rows[t]] for t in self.rows}
        return scenario


    def _partial(self, manifest: dict[str, Any]) -> Scenario | None:
        """The scenario of the rows that passed field validation (the manifest, or defaults if it failed)."""
        for head in (manifest, {}):
            try:
                return Scenario.model_validate({**head, **self.partial})
            except ValidationError:
                continue
        return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _with_file(p: Problem, file: str) -> Problem:
    return Problem(p.table, p.row, p.column, p.message, p.hint, file, p.severity)


def load_scenario(path: str | os.PathLike[str], *, max_rows: int | None = None) -> Scenario:
    """Load and validate a scenario from a folder or an ``.xlsx`` workbook.

    Args:
        path: a scenario folder (``scenario.yaml`` + CSVs) or a workbook file.
        max_rows: most data rows in all tables together (default 200,000); a workbook is
            refused as soon as it has more (see :func:`read_workbook`). CSV folders are not
            bounded by it yet.

    Returns:
        The validated scenario.

    Raises:
        ScenarioTooLargeError: the workbook is larger than the limits (nothing more was read).
        InputError: with every problem found (file, row, column, message, fix).
    """
    p = Path(path)
    if p.is_dir():
        return _load_folder(p)
    if p.suffix.lower() in {".xlsx", ".xlsm"} and p.is_file():
        return _load_workbook(p, limits=ReadLimits.for_rows(max_rows))
    if p.is_file() and p.name == MANIFEST:
        return _load_folder(p.parent)
    msg = f"No scenario at '{p}'."
    hint = "give a folder holding scenario.yaml and the CSV tables, or an .xlsx workbook."
    if not p.exists():
        hint = f"check the path; '{p}' does not exist. " + hint
    raise InputError(msg, [Problem(_MANIFEST_TABLE, None, None, msg, hint, str(p))])


def _read_manifest(path: Path, reader: _Reader) -> dict[str, Any]:
    if not path.is_file():
        reader.problems.append(
            Problem(_MANIFEST_TABLE, None, None, f"'{MANIFEST}' is missing.", "add a scenario.yaml with at least an id (see data/panzhihua_east/scenario.yaml).", str(path))
        )
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
        loaded = parse_yaml(text, source=str(path), table=_MANIFEST_TABLE)
    except UnicodeDecodeError:
        reader.problems.append(Problem(_MANIFEST_TABLE, None, None, "the file is not UTF-8 text.", "save it as UTF-8.", str(path)))
        return {}
    except InputError as exc:
        reader.problems.extend(exc.problems)
        return {}
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        reader.problems.append(Problem(_MANIFEST_TABLE, None, None, "the manifest must be a mapping of keys to values.", "write it as 'key: value' lines.", str(path)))
        return {}
    return loaded


def _table_files(manifest: dict[str, Any], reader: _Reader, manifest_file: str) -> dict[str, str]:
    names = {t: f"{t}.csv" for t in TABLES}
    custom = manifest.pop("tables", None)
    if custom is None:
        return names
    if not isinstance(custom, dict):
        reader.problems.append(Problem(_MANIFEST_TABLE, None, "tables", "'tables' must map table names to file names.", "write e.g. 'tables: {streams: my_streams.csv}'.", manifest_file))
        return names
    for key, value in custom.items():
        if key not in TABLES:
            reader.problems.append(Problem(_MANIFEST_TABLE, None, f"tables.{key}", f"unknown table '{key}'.", f"use one of: {', '.join(TABLES)}.", manifest_file))
        else:
            names[key] = str(value)
    return names


def _load_folder(folder: Path) -> Scenario:
    reader = _Reader()
    manifest_path = folder / MANIFEST
    manifest = _read_manifest(manifest_path, reader)
    files = _table_files(manifest, reader, str(manifest_path))
    for table, name in files.items():
        path = folder / name
        if not path.is_file():
            if table in REQUIRED_TABLES:
                reader.problems.append(Problem(table, None, None, f"required table file '{name}' is missing.", f"add {name} with a header row of field names.", str(path)))
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            reader.problems.append(Problem(table, None, None, "the file is not UTF-8 text.", "in Excel use 'Save as: CSV UTF-8'.", str(path)))
            continue
        # strict: an unterminated quote ('1,"2' at the end) is an error, not a silently closed field
        rows = csv.reader(io.StringIO(text, newline=""), strict=True)
        header: list[str] | None = None
        raw: list[tuple[int, list[Any]]] = []
        try:
            header = next(rows, None)
            if header is not None:
                raw.extend((rows.line_num, list(cells)) for cells in rows)
        except csv.Error as exc:
            reader.problems.append(Problem(table, rows.line_num or 1, None, f"malformed CSV: {exc}.", 'close every quote (") that opens a field, and quote fields that contain commas.', str(path)))
            if header is None:
                continue
        if header is None:
            reader.problems.append(Problem(table, 1, None, "the file is empty (no header row).", "add a header row with the field names.", str(path)))
            continue
        reader.add_table(table, str(path), list(header), raw)
    return reader.finish(manifest, str(manifest_path))


def _load_workbook(source: Path | bytes, *, name: str | None = None, limits: ReadLimits | None = None) -> Scenario:
    """Load a scenario from a workbook file or its bytes, bounded by ``limits``.

    The archive is checked before any XML is parsed and sheets are streamed with limits (see
    :mod:`flowopt.xlsx`); problems name the workbook ``name`` (default: the file's name), never
    the folder it sits in, so a server's temporary path never reaches a client.
    """
    from flowopt.xlsx import Workbook, clip  # not openpyxl's Workbook: that one only writes here

    if name is None:
        name = source.name if isinstance(source, Path) else "workbook.xlsx"
    reader = _Reader()
    with Workbook(source, name, limits) as wb:
        manifest: dict[str, Any] = {}
        if MANIFEST_SHEET in wb.sheetnames:
            manifest = _manifest_from_rows(wb.filled_rows(MANIFEST_SHEET), reader, f"{name}[{MANIFEST_SHEET}]")
        else:
            reader.problems.append(Problem(_MANIFEST_TABLE, None, None, f"sheet '{MANIFEST_SHEET}' is missing.", "add a sheet 'scenario' with columns key and value (e.g. id, policy.target_rate).", name))
        for table in TABLES:
            label = f"{name}[{table}]"
            if table not in wb.sheetnames:
                if table in REQUIRED_TABLES:
                    reader.problems.append(Problem(table, None, None, f"required sheet '{table}' is missing.", f"add a sheet named '{table}' with a header row.", label))
                continue
            header: list[Any] | None = None
            raw: list[tuple[int, list[Any]]] = []
            for line, cells in wb.rows(table):  # rows holding a value; stops at the row limit
                if line == 1:
                    header = cells
                else:
                    raw.append((line, cells))
            if header is None and not raw:
                reader.problems.append(Problem(table, 1, None, "the sheet is empty (no header row).", "add a header row with the field names.", label))
                continue
            reader.add_table(table, label, header or [], raw)
        extra = sorted(set(wb.sheetnames) - set(TABLES) - {MANIFEST_SHEET, "dictionary"})
        for sheet in extra:
            shown = clip(sheet)
            reader.problems.append(Problem(shown, None, None, f"unknown sheet '{shown}'.", f"rename it to one of: {', '.join(TABLES)}, or delete it.", f"{name}[{shown}]", "warning"))
    return reader.finish(manifest, f"{name}[{MANIFEST_SHEET}]")


def read_workbook(source: str | os.PathLike[str] | bytes, *, name: str | None = None, max_rows: int | None = None, limits: ReadLimits | None = None) -> Scenario:
    """Load and validate a scenario from an ``.xlsx`` workbook given as a path or as its bytes.

    Args:
        source: the workbook file, or its content (e.g. an upload, never written to disk).
        name: the name problems give the workbook (``park.xlsx``, ``park.xlsx[streams]``);
            default: the file's name. Give an upload's own name, never a temporary path.
        max_rows: most data rows in all table sheets together (default 200,000); reading
            stops as soon as there are more.
        limits: all limits (see :class:`flowopt.xlsx.ReadLimits`); ``max_rows`` overrides its
            row limit.

    Returns:
        The validated scenario.

    Raises:
        ScenarioTooLargeError: a limit was exceeded (nothing beyond it was read).
        InputError: with every problem found (sheet, row, column, message, fix).
    """
    from dataclasses import replace

    if limits is None:
        limits = ReadLimits.for_rows(max_rows)
    elif max_rows is not None:
        limits = replace(limits, max_rows=max_rows)
    if isinstance(source, bytes | bytearray):
        return _load_workbook(bytes(source), name=name, limits=limits)
    return _load_workbook(Path(source), name=name, limits=limits)


def _manifest_from_rows(rows: Iterator[tuple[Any, ...]], reader: _Reader, label: str) -> dict[str, Any]:
    """Turn ``key | value`` rows with dotted keys into the nested manifest mapping."""
    manifest: dict[str, Any] = {}
    header = next(rows, None)
    if header is None or [str(h).strip().lower() if h else "" for h in header[:2]] != ["key", "value"]:
        reader.problems.append(Problem(_MANIFEST_TABLE, 1, None, "the header must be 'key' and 'value'.", "put key in A1 and value in B1.", label))
        return manifest
    for i, cells in enumerate(rows):
        key, value = ([*list(cells), None, None])[:2]
        if _blank(key):
            continue
        if _blank(value):
            continue
        node = manifest
        parts = str(key).strip().split(".")
        # "sources" keys are free text and may contain dots themselves
        if parts[0] == "sources" and len(parts) > 1:
            parts = ["sources", ".".join(parts[1:])]
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                reader.problems.append(Problem(_MANIFEST_TABLE, i + 2, str(key), f"key '{key}' conflicts with an earlier key.", "give each setting once.", label))
                break
            node = nxt
        else:
            node[parts[-1]] = value
    return manifest


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------


def _record_rows(records: tuple[Record, ...], model: type[Record]) -> tuple[list[str], list[list[Any]]]:
    header = list(model.model_fields)
    rows = []
    for r in records:
        d = r.model_dump(mode="json")
        rows.append([d[h] if d[h] is not None else "" for h in header])
    return header, rows


def _manifest(s: Scenario) -> dict[str, Any]:
    return s.model_dump(mode="json", exclude=set(TABLES))


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}" if prefix else str(k), v)
    else:
        yield prefix, value


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside the file ``target``; rename it onto ``target`` on success.

    The same as :func:`flowopt.outputs.atomic_file` (kept under this name for callers): an
    interrupted write leaves ``target`` as it was; an existing folder at ``target`` is refused,
    never replaced.

    Raises:
        OutputError: ``target`` is a folder, or writing failed (permission, disk full …).
    """
    with atomic_file(target) as work:
        yield work


def scenario_files() -> list[str]:
    """Return the file names :func:`write_scenario` writes: the manifest and one CSV per table."""
    return [MANIFEST, *(f"{table}.csv" for table in TABLES)]


def write_scenario(s: Scenario, folder: str | os.PathLike[str]) -> Path:
    """Write a scenario as a folder (``scenario.yaml`` + one CSV per table).

    The folder may exist and hold other files: they are left alone. Files of the same names
    are replaced only if flowopt wrote them there before (each one atomically); otherwise
    nothing is written (see :mod:`flowopt.outputs`).

    Args:
        s: the scenario.
        folder: target folder (created if needed).

    Returns:
        The folder path.

    Raises:
        OutputError: the folder is a file, holds a scenario file flowopt did not write (e.g. the
            scenario's own input), or cannot be written.
    """
    target = Path(folder)
    with OutputFolder(target, scenario_files(), what="a scenario") as out:
        with atomic_file(out.path(MANIFEST)) as work:
            work.write_text(yaml.safe_dump(_manifest(s), allow_unicode=True, sort_keys=False), encoding="utf-8")
        for table, model in TABLES.items():
            header, rows = _record_rows(getattr(s, table), model)
            with atomic_file(out.path(f"{table}.csv")) as work, work.open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                w.writerows(rows)
    return target


def write_workbook(s: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write a scenario as one ``.xlsx`` workbook that :func:`load_scenario` reads back equal.

    Args:
        s: the scenario.
        path: target ``.xlsx`` file; an existing file is replaced atomically, an existing
            folder is refused.

    Returns:
        The workbook path.

    Raises:
        OutputError: ``path`` is a folder, or writing failed.
    """
    from openpyxl import Workbook

    target = check_output_file(path, "the workbook")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = MANIFEST_SHEET
    ws.append(["key", "value"])
    for key, value in _flatten("", _manifest(s)):
        if value is None or value == {}:
            continue
        ws.append([key, value])
    for table, model in TABLES.items():
        sheet = wb.create_sheet(table)
        header, rows = _record_rows(getattr(s, table), model)
        sheet.append(header)
        for row in rows:
            sheet.append([None if v == "" else v for v in row])
    with atomic_file(target, "the workbook") as work:
        wb.save(work)
    return target
