"""Files <-> ``Scenario``: a folder of ``scenario.yaml`` + CSV tables, or one ``.xlsx`` workbook.

Stage: files -> validated :class:`~flowopt.schema.Scenario` (or :class:`~flowopt.errors.InputError`
listing every problem with file, row and column).

A scenario folder holds ``scenario.yaml`` (id, names, year, ``policy``, ``transport``,
``sources`` and optionally ``tables``, a mapping from table name to file name) and one CSV per
table named ``<table>.csv``, whose header row equals the record's field names. A workbook holds
the same tables as sheets named after the tables, plus a ``scenario`` sheet with two columns
``key`` and ``value`` whose keys are the manifest's dotted paths (``policy.target_rate``).
Both load to the same ``Scenario``.

Writers are atomic: they write to a temporary file or folder beside the target and rename it
into place, so an interrupted write never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flowopt.checks import check_scenario, raise_for_problems, validation_problems
from flowopt.errors import InputError, Problem
from flowopt.schema import REQUIRED_TABLES, TABLES, Record, Scenario

MANIFEST = "scenario.yaml"
MANIFEST_SHEET = "scenario"
_MANIFEST_TABLE = "scenario"


@dataclass
class _Reader:
    """Collects records, their file locations and every problem while reading one scenario."""

    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, list[int]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

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
        for line, cells in raw_rows:
            if all(_blank(c) for c in cells):
                continue  # blank lines are layout, not data
            values = {header[c]: cells[c] for c in keep if c < len(cells) and not _blank(cells[c])}
            try:
                model.model_validate(values)
            except ValidationError as exc:
                for prob in validation_problems(exc, table, line):
                    if prob.column in missing:
                        continue  # already reported once for the header
                    self.problems.append(_with_file(prob, file))
            records.append(values)
            lines.append(line)
        self.tables[table] = records
        self.rows[table] = lines

    def locate(self, problem: Problem) -> Problem:
        """Map a record-numbered problem from :func:`check_scenario` to its file and line."""
        lines = self.rows.get(problem.table)
        row = problem.row
        if lines is not None and row is not None and 1 <= row <= len(lines):
            row = lines[row - 1]
        return Problem(problem.table, row, problem.column, problem.message, problem.hint, self.files.get(problem.table, problem.file), problem.severity)

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
            self.problems.extend(self.locate(p) for p in check_scenario(scenario))
        raise_for_problems(self.problems, "The scenario could not be loaded")
        assert scenario is not None  # raise_for_problems raised otherwise
        scenario._locations = {t: [(self.files[t], line) for line in self.rows[t]] for t in self.rows}
        return scenario


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _with_file(p: Problem, file: str) -> Problem:
    return Problem(p.table, p.row, p.column, p.message, p.hint, file, p.severity)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario from a folder or an ``.xlsx`` workbook.

    Args:
        path: a scenario folder (``scenario.yaml`` + CSVs) or a workbook file.

    Returns:
        The validated scenario.

    Raises:
        InputError: with every problem found (file, row, column, message, fix).
    """
    p = Path(path)
    if p.is_dir():
        return _load_folder(p)
    if p.suffix.lower() in {".xlsx", ".xlsm"} and p.is_file():
        return _load_workbook(p)
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
        loaded = yaml.safe_load(text)
    except UnicodeDecodeError:
        reader.problems.append(Problem(_MANIFEST_TABLE, None, None, "the file is not UTF-8 text.", "save it as UTF-8.", str(path)))
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reader.problems.append(Problem(_MANIFEST_TABLE, line, None, f"not valid YAML: {getattr(exc, 'problem', exc)}.", "fix the YAML syntax (indentation, colons, quotes).", str(path)))
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
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if header is None:
            reader.problems.append(Problem(table, 1, None, "the file is empty (no header row).", "add a header row with the field names.", str(path)))
            continue
        raw: list[tuple[int, list[Any]]] = []
        try:
            raw.extend((rows.line_num, list(cells)) for cells in rows)
        except csv.Error as exc:
            reader.problems.append(Problem(table, rows.line_num, None, f"malformed CSV: {exc}.", "check quoting of fields that contain commas.", str(path)))
        reader.add_table(table, str(path), list(header), raw)
    return reader.finish(manifest, str(manifest_path))


def _load_workbook(path: Path) -> Scenario:
    from openpyxl import load_workbook  # local import: only workbook users pay for it

    reader = _Reader()
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types on a corrupt file
        msg = f"'{path.name}' could not be opened as a workbook: {exc}."
        raise InputError(msg, [Problem(_MANIFEST_TABLE, None, None, msg, "save it from Excel as .xlsx.", str(path))]) from exc
    try:
        manifest: dict[str, Any] = {}
        if MANIFEST_SHEET in wb.sheetnames:
            manifest = _manifest_from_rows(wb[MANIFEST_SHEET].iter_rows(values_only=True), reader, f"{path.name}[{MANIFEST_SHEET}]")
        else:
            reader.problems.append(Problem(_MANIFEST_TABLE, None, None, f"sheet '{MANIFEST_SHEET}' is missing.", "add a sheet 'scenario' with columns key and value (e.g. id, policy.target_rate).", str(path)))
        for table in TABLES:
            label = f"{path.name}[{table}]"
            if table not in wb.sheetnames:
                if table in REQUIRED_TABLES:
                    reader.problems.append(Problem(table, None, None, f"required sheet '{table}' is missing.", f"add a sheet named '{table}' with a header row.", label))
                continue
            rows = wb[table].iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                reader.problems.append(Problem(table, 1, None, "the sheet is empty (no header row).", "add a header row with the field names.", label))
                continue
            raw = [(i + 2, list(cells)) for i, cells in enumerate(rows)]
            reader.add_table(table, label, list(header), raw)
        extra = sorted(set(wb.sheetnames) - set(TABLES) - {MANIFEST_SHEET, "dictionary"})
        for name in extra:
            reader.problems.append(Problem(name, None, None, f"unknown sheet '{name}'.", f"rename it to one of: {', '.join(TABLES)}, or delete it.", f"{path.name}[{name}]", "warning"))
    finally:
        wb.close()
    return reader.finish(manifest, f"{path.name}[{MANIFEST_SHEET}]")


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
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    Works for files and folders. On error the temporary path is removed and ``target`` is left
    as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    work = tmp / target.name
    try:
        yield work
        if target.is_dir() and work.is_dir():
            old = tmp / (target.name + ".old")
            target.rename(old)
            work.rename(target)
        else:
            os.replace(work, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_scenario(s: Scenario, folder: str | os.PathLike[str]) -> Path:
    """Write a scenario as a folder (``scenario.yaml`` + one CSV per non-empty table).

    Args:
        s: the scenario.
        folder: target folder; replaced atomically if it exists.

    Returns:
        The folder path.
    """
    target = Path(folder)
    with atomic_path(target) as work:
        work.mkdir()
        (work / MANIFEST).write_text(yaml.safe_dump(_manifest(s), allow_unicode=True, sort_keys=False), encoding="utf-8")
        for table, model in TABLES.items():
            header, rows = _record_rows(getattr(s, table), model)
            with (work / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                w.writerows(rows)
    return target


def write_workbook(s: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write a scenario as one ``.xlsx`` workbook that :func:`load_scenario` reads back equal.

    Args:
        s: the scenario.
        path: target ``.xlsx`` file; replaced atomically.

    Returns:
        The workbook path.
    """
    from openpyxl import Workbook

    target = Path(path)
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
    with atomic_path(target) as work:
        wb.save(work)
    return target
