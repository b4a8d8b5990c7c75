"""Bounded, safe reading of ``.xlsx`` workbooks: checked before parsing, streamed with limits.

Stage: a workbook file or its bytes -> the rows of its sheets (lists of cell values), for
:func:`flowopt.io.load_scenario`. Nothing here knows about scenario tables.

Why not openpyxl's reader: in read-only mode it pads every row to the sheet's declared
``<dimension>`` (a 100 KB workbook declaring ``A1:XFD1048576`` takes gigabytes), reads a sheet
to its end whatever it holds (a million one-cell rows take minutes), and hands XML with a DTD to
a parser that expands its entities. This reader instead

1. checks the archive before any XML is parsed: a zip; a bounded number of members; bounded
   total and per-member unzipped sizes and compression ratios; no encryption; and no XML part
   with a DTD (``<!DOCTYPE``), found by streaming each part's prolog with expat up to its root
   element (a DTD can only come before it), so external entities (XXE) and entity expansion
   ("billion laughs") never reach a parser that would act on them;
2. streams the parts it needs (workbook, relationships, styles, shared strings, the requested
   sheets) with expat, counting as it goes and stopping at the first limit exceeded: data rows
   holding a value (all table sheets together), the rightmost column holding a value, cells
   holding a value, XML elements, and characters in one cell. The declared dimension is
   ignored; blank rows and cells count only as XML elements.

Cell values follow openpyxl's ``data_only`` reading, so a workbook reads the same as before:
formulas give their cached value; numbers are ``int`` without a ``.``/exponent, else ``float``;
numbers in a date format are ``datetime`` (or ``timedelta``); booleans are ``bool``; strings
(shared, inline, formula results) join their rich-text runs and skip phonetic runs; error
values are their text (``#N/A``). A value a cell cannot hold (text in a number cell) is kept
as its text, for validation to report at its row and column, instead of failing the read.

Every refusal is an :class:`~flowopt.errors.InputError` naming the workbook by the name it was
given (never a server path) and the part or sheet; limits raise
:class:`~flowopt.errors.ScenarioTooLargeError` (``scenario_too_large``, HTTP 413 in the API).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn
from xml.parsers import expat

from flowopt.errors import InputError, Problem, ScenarioTooLargeError

#: Excel's own sheet size; a row or column number beyond it means a corrupt or forged file.
EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COLUMN = 16_384
#: Excel's most characters in one cell.
EXCEL_MAX_CELL_CHARS = 32_767
#: Excel's most cell formats in one workbook (64,000), rounded up.
MAX_CELL_FORMATS = 65_536
#: Most sheets read from a workbook's list (a real one has a dozen or so).
MAX_SHEETS = 1_000

_TABLE = "scenario"  # problems about the whole workbook belong to its manifest table
_CHUNK_BYTES = 1 << 16
#: How far into a part its root element must start (the prolog: declaration, comments, DTD).
_PROLOG_BYTES = 1 << 16
#: Members smaller than this are not ratio-checked (tiny parts compress unpredictably).
_RATIO_FLOOR_BYTES = 1 << 20
_HINT_RESAVE = "open it in Excel or LibreOffice and save it again as .xlsx (Excel Workbook)."

_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships", "http://purl.oclc.org/ooxml/officeDocument/relationships")
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SEP = " "  # expat's namespace separator: element names arrive as "namespace local"


def _names(*local: str, spaces: tuple[str, ...] = _MAIN_NS) -> dict[str, str]:
    """Map every spelling of the elements ``local`` (each namespace, or none) to the local name."""
    out = {name: name for name in local}
    for ns in spaces:
        out.update({f"{ns}{_SEP}{name}": name for name in local})
    return out


_SHEET_TAGS = _names("sheetData", "row", "c", "v", "is", "t", "rPh")
_STRING_TAGS = _names("si", "t", "rPh")
_STYLE_TAGS = _names("numFmts", "numFmt", "cellXfs", "xf")
_BOOK_TAGS = _names("sheet", "workbookPr")
_REL_TAGS = _names("Relationship", spaces=(_PKG_REL_NS,))
_RID_ATTRS = tuple(f"{ns}{_SEP}id" for ns in _REL_NS)
_COLUMN_RE = re.compile(r"([A-Za-z]{1,3})([0-9]*)")
#: Column letters seen so far -> column number (cell references repeat the same few letters).
_COLUMNS: dict[str, int] = {}


@dataclass(frozen=True)
class ReadLimits:
    """How much of a workbook is read before it is refused as too large.

    The defaults are far above any real park (the bundled one has about 250 rows) and keep a
    hostile file to seconds of work and tens of megabytes. A server passes its own row limit
    through :meth:`for_rows`; the cell and element limits follow it.

    Attributes:
        max_rows: data rows holding a value in all table sheets together (header rows and the
            ``scenario`` sheet are not counted; that sheet alone may hold as many).
        max_columns: rightmost column that may hold a value (256 = column IV).
        max_cells: cells holding a value, all sheets together; ``None``: 32 per allowed row.
        max_elements: XML elements streamed (rows, cells, strings, formatting, blank or not);
            ``None``: 64 per allowed row. Bounds the work on blank rows and cells.
        max_archive_bytes: total unzipped size of all members.
        max_part_bytes: unzipped size of one member.
        max_members: members in the zip.
        max_ratio: unzipped/zipped size of a member above 1 MiB (zip bombs reach ~1000).
        setting: how the user of this reader can raise ``max_rows`` (e.g. a server's setting),
            added to the hint of a "too many rows" problem.
    """

    max_rows: int = 200_000
    max_columns: int = 256
    max_cells: int | None = None
    max_elements: int | None = None
    max_archive_bytes: int = 256 << 20
    max_part_bytes: int = 64 << 20
    max_members: int = 10_000
    max_ratio: int = 100
    setting: str = ""

    @classmethod
    def for_rows(cls, max_rows: int | None, **changes: Any) -> ReadLimits:
        """Return the default limits with ``max_rows`` (``None``: the default) and ``changes``."""
        limits = cls(**changes)
        return limits if max_rows is None else replace(limits, max_rows=max_rows)

    @property
    def cells(self) -> int:
        """The effective cell limit."""
        return self.max_cells if self.max_cells is not None else 32 * self.max_rows + 10_000

    @property
    def elements(self) -> int:
        """The effective XML element limit."""
        return self.max_elements if self.max_elements is not None else 64 * self.max_rows + 100_000


def clip(text: str, limit: int = 60) -> str:
    """Return ``text`` (a member or sheet name from the file) cut to ``limit`` characters."""
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem(name: str, message: str, hint: str, sheet: str | None, row: int | None, column: str | None) -> Problem:
    """A problem in workbook ``name``: in ``sheet`` (file ``name[sheet]``), else the whole file."""
    if sheet is None:
        return Problem(_TABLE, row, column, message, hint, name)
    return Problem(sheet, row, column, message, hint, f"{name}[{sheet}]")


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class _Stop(Exception):
    """Raised from an expat handler to stop reading a part (its prolog is checked)."""


@dataclass
class _Budget:
    """Work done on one workbook, counted against its limits."""

    limits: ReadLimits
    name: str
    elements: int = 0
    cells: int = 0
    rows: int = 0

    def too_large(self, what: str, hint: str, sheet: str | None = None, row: int | None = None, column: str | None = None) -> NoReturn:
        """Raise :class:`ScenarioTooLargeError` for one exceeded limit, located in ``sheet`` if given."""
        msg = f"'{self.name}' is too large: {what}"
        raise ScenarioTooLargeError(msg, [_problem(self.name, what, hint, sheet, row, column)])

    def element(self, where: str) -> None:
        """Count one XML element; refuse the workbook past the element limit."""
        self.elements += 1
        if self.elements > self.limits.elements:
            self.too_large(
                f"it holds more than {self.limits.elements:,} XML elements (rows, cells and formatting, blank ones included), reached in '{clip(where)}'; nothing after that was read.",
                "delete the empty rows and columns below and right of the data (select them, Delete) and unused sheets, then save again.",
            )


class Workbook:
    """An opened, checked workbook; read its sheets with :meth:`rows`. Use it as a context manager.

    Args:
        source: a path or the file's bytes.
        name: the name problems give the workbook (a file name, never a server's temp path).
        limits: the limits; ``None``: :class:`ReadLimits` defaults.

    Raises:
        InputError: not a zip, encrypted, a part with a DTD, or corrupt workbook parts.
        ScenarioTooLargeError: an archive limit is exceeded.
    """

    def __init__(self, source: str | os.PathLike[str] | bytes, name: str, limits: ReadLimits | None = None) -> None:
        self.name = name
        self.limits = limits or ReadLimits()
        self.budget = _Budget(self.limits, name)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else Path(source))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            self._fail(f"'{name}' is not an .xlsx workbook ({clip(str(exc) or type(exc).__name__)}).", "save it from Excel as .xlsx (Excel Workbook); a password-protected or old .xls workbook must be saved as .xlsx without a password.")
        try:
            self._members = {info.filename.lower(): info for info in self._zip.infolist()}
            self._check_archive()
            self.sheetnames: list[str] = []
            self._sheet_parts: dict[str, str] = {}
            self._date_styles: dict[int, bool] = {}  # cell format index -> is a timedelta
            self._epoch_1904 = False
            self._strings: _SharedStrings | None = None
            self._read_structure()
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the archive."""
        if self._strings is not None:
            self._strings.close()
        self._zip.close()

    # -- refusals ------------------------------------------------------------------------------

    def _fail(self, message: str, hint: str = _HINT_RESAVE, sheet: str | None = None, row: int | None = None, column: str | None = None) -> NoReturn:
        raise InputError(message, [_problem(self.name, message, hint, sheet, row, column)])

    def _corrupt(self, member: str, detail: str, sheet: str | None = None, row: int | None = None, column: str | None = None) -> NoReturn:
        self._fail(f"'{self.name}' is damaged: part '{clip(member)}' {detail}", _HINT_RESAVE, sheet, row, column)

    # -- 1. the archive, before any XML is parsed ---------------------------------------------

    def _check_archive(self) -> None:
        lim = self.limits
        infos = self._zip.infolist()
        if len(infos) > lim.max_members:
            self.budget.too_large(f"the archive has {len(infos):,} members; at most {lim.max_members:,} are read.", "save the workbook again from Excel; remove unused sheets, images and objects.")
        total = 0
        for info in infos:
            member = clip(info.filename)
            if info.flag_bits & 0x1:
                self._fail(f"'{self.name}' is encrypted (part '{member}').", "save it without a password as .xlsx.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self._corrupt(info.filename, f"uses zip compression method {info.compress_type}, which Excel never writes.")
            if info.file_size > lim.max_part_bytes:
                self.budget.too_large(f"part '{member}' unpacks to {info.file_size:,} bytes; at most {lim.max_part_bytes:,} are read per part.", "remove unused rows, formatting, images and objects, then save again.")
            if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > lim.max_ratio * max(info.compress_size, 1):
                self.budget.too_large(
                    f"part '{member}' unpacks {info.file_size / max(info.compress_size, 1):,.0f} times its packed size ({info.compress_size:,} -> {info.file_size:,} bytes); at most {lim.max_ratio} times is read (a zip bomb goes far beyond anything Excel writes).",
                    "save the workbook again from Excel or LibreOffice; delete blank formatted rows below the data.",
                )
            total += info.file_size
        if total > lim.max_archive_bytes:
            self.budget.too_large(f"it unpacks to {total:,} bytes; at most {lim.max_archive_bytes:,} are read.", "remove unused sheets, formatting, images and objects, then save again.")
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels")):
                self._check_prolog(info)

    def _check_prolog(self, info: zipfile.ZipInfo) -> None:
        """Refuse a part whose prolog declares a DTD; read only up to its root element."""
        parser = expat.ParserCreate()

        def doctype(*_: object) -> None:
            self._fail(
                f"'{self.name}' is refused: part '{clip(info.filename)}' declares a DTD (<!DOCTYPE>), which Excel never writes and which can make a reader fetch files or expand entities without end.",
                "save it again from Excel or LibreOffice as .xlsx (Excel Workbook).",
            )

        def root(*_: object) -> None:
            raise _Stop

        parser.StartDoctypeDeclHandler = doctype
        parser.StartElementHandler = root
        read = 0
        try:
            with self._zip.open(info) as fh:
                while read <= _PROLOG_BYTES:
                    chunk = fh.read(4096)
                    read += len(chunk)
                    parser.Parse(chunk, not chunk)
                    if not chunk:
                        return
        except _Stop:
            return
        except expat.ExpatError:
            return  # not XML at all: only a part this reader needs is refused for that, when read
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError) as exc:
            self._corrupt(info.filename, f"cannot be unpacked ({clip(str(exc))}).")
        self._corrupt(info.filename, f"has no root element in its first {_PROLOG_BYTES:,} bytes.")

    # -- 2. streaming parts --------------------------------------------------------------------

    def _member(self, path: str) -> zipfile.ZipInfo | None:
        return self._members.get(path.lower().lstrip("/"))

    def _stream(self, info: zipfile.ZipInfo, parser: expat.XMLParserType, sheet: str | None = None, drain: Callable[[], Iterator[Any]] | None = None) -> Iterator[Any]:
        """Feed part ``info`` to ``parser`` chunk by chunk; after each chunk yield from ``drain``."""

        def doctype(*_: object) -> None:  # the prolog check already refused these; never trust one
            self._corrupt(info.filename, "declares a DTD.")

        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        try:
            with self._zip.open(info) as fh:
                while True:
                    chunk = fh.read(_CHUNK_BYTES)
                    parser.Parse(chunk, not chunk)
                    if drain is not None:
                        yield from drain()
                    if not chunk:
                        return
        except expat.ExpatError as exc:
            self._corrupt(info.filename, f"is not well-formed XML (line {exc.lineno}, column {exc.offset}: {clip(expat.ErrorString(exc.code))}).", sheet)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError) as exc:
            self._corrupt(info.filename, f"cannot be unpacked ({clip(str(exc))}).", sheet)

    def _parse(self, info: zipfile.ZipInfo, start: Callable[[str, dict[str, str]], None], end: Callable[[str], None] | None = None) -> None:
        """Stream a structural part, calling ``start`` (and ``end``) for each element (counted)."""
        parser = expat.ParserCreate(namespace_separator=_SEP)
        budget = self.budget

        def counted(name: str, attrs: dict[str, str]) -> None:
            budget.element(info.filename)
            start(name, attrs)

        parser.StartElementHandler = counted
        if end is not None:
            parser.EndElementHandler = end
        for _ in self._stream(info, parser):
            pass

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Return ``{id: (type, member path)}`` of part ``part``'s relationships (internal only)."""
        folder, base = posixpath.split(part)
        info = self._member(posixpath.join(folder, "_rels", base + ".rels"))
        out: dict[str, tuple[str, str]] = {}
        if info is None:
            return out

        def start(name: str, attrs: dict[str, str]) -> None:
            if _REL_TAGS.get(name) != "Relationship" or attrs.get("TargetMode") == "External":
                return
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out.setdefault(attrs.get("Id", ""), (attrs.get("Type", ""), path))

        self._parse(info, start)
        return out

    def _read_structure(self) -> None:
        """Read the sheet names and where their parts are, the date formats and the epoch."""
        book_part = next((path for kind, path in self._rels("").values() if kind.endswith("/officeDocument")), "xl/workbook.xml")
        book = self._member(book_part)
        if book is None:
            self._fail(f"'{self.name}' is not an .xlsx workbook (it has no workbook part).", "save it from Excel as .xlsx (Excel Workbook); .xls, .ods and .csv files are not read here.")
        rels = self._rels(book.filename)
        sheets: list[tuple[str, str]] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = _BOOK_TAGS.get(name)
            if tag == "sheet":
                rid = next((attrs[a] for a in _RID_ATTRS if a in attrs), "")
                sheets.append((attrs.get("name", ""), rid))
                if len(sheets) > MAX_SHEETS:
                    self.budget.too_large(f"it lists more than {MAX_SHEETS:,} sheets.", "delete unused sheets, then save again.")
            elif tag == "workbookPr":
                self._epoch_1904 = attrs.get("date1904", "0").lower() in ("1", "true")

        self._parse(book, start)
        for sheet, rid in sheets:
            if sheet in self._sheet_parts:
                continue  # Excel refuses duplicate names; the first is the one a reader shows
            self.sheetnames.append(sheet)
            self._sheet_parts[sheet] = rels.get(rid, ("", ""))[1]
        for kind, path in rels.values():
            info = self._member(path)
            if info is None:
                continue
            if kind.endswith("/styles"):
                self._read_styles(info)
            elif kind.endswith("/sharedStrings") and self._strings is None:
                self._strings = _SharedStrings(self, info)

    def _read_styles(self, info: zipfile.ZipInfo) -> None:
        """Find the cell formats (``cellXfs``) that show numbers as dates or durations."""
        custom: dict[int, str] = {}
        formats: list[int] = []
        inside = {"numFmts": False, "cellXfs": False}

        def number(text: str | None) -> int:
            return int(text) if text is not None and text.isdigit() and len(text) < 10 else 0

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = _STYLE_TAGS.get(name)
            if tag in inside:
                inside[tag] = True
            elif tag == "numFmt" and inside["numFmts"]:
                custom[number(attrs.get("numFmtId"))] = attrs.get("formatCode", "")[:256]
            elif tag == "xf" and inside["cellXfs"]:
                formats.append(number(attrs.get("numFmtId")))
                if len(formats) > MAX_CELL_FORMATS:
                    self.budget.too_large(f"it defines more than {MAX_CELL_FORMATS:,} cell formats (Excel's limit is 64,000).", "save it again from Excel; Excel removes unused formats.")

        def end(name: str) -> None:
            tag = _STYLE_TAGS.get(name)
            if tag in inside:
                inside[tag] = False

        self._parse(info, start, end)
        if not any(formats):
            return  # every cell format is General (id 0): no dates, and no need for openpyxl
        from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format

        for index, fmt_id in enumerate(formats):
            code = custom[fmt_id] if fmt_id in custom else builtin_format_code(fmt_id)
            if is_date_format(code):
                self._date_styles[index] = is_timedelta_format(code)

    # -- 3. sheets -----------------------------------------------------------------------------

    def rows(self, sheet: str, *, data: bool = True) -> Iterator[tuple[int, list[Any]]]:
        """Yield ``(row number, values)`` for every row of ``sheet`` that holds a value.

        ``values[i]`` is column ``i + 1``'s value (``None`` where blank); trailing blanks are
        cut. Reading stops with :class:`~flowopt.errors.ScenarioTooLargeError` at the first
        limit exceeded.

        Args:
            sheet: a name in :attr:`sheetnames`.
            data: count rows after the first against ``max_rows`` for all sheets together
                (a table); ``False``: the sheet alone may hold ``max_rows`` rows (the manifest).
        """
        part = self._sheet_parts.get(sheet, "")
        info = self._member(part) if part else None
        if info is None:
            self._fail(f"'{self.name}' is damaged: sheet '{clip(sheet)}' has no worksheet part.", _HINT_RESAVE, sheet)
        reader = _SheetReader(self, sheet, data)
        yield from self._stream(info, reader.parser, sheet, reader.drain)

    def filled_rows(self, sheet: str) -> Iterator[tuple[Any, ...]]:
        """Yield every row of ``sheet`` from row 1 as a tuple, blank rows as ``()`` (for the manifest)."""
        expected = 1
        for number, values in self.rows(sheet, data=False):
            for _ in range(expected, number):
                yield ()
            expected = number + 1
            yield tuple(values)

    # -- values --------------------------------------------------------------------------------

    def shared_string(self, index: int, sheet: str, row: int, column: str) -> str:
        """Return shared string ``index``, reading the table only as far as needed."""
        if self._strings is None:
            self._corrupt("xl/sharedStrings.xml", f"is missing, but cell {column}{row} refers to shared string {index}.", sheet, row, column)
        return self._strings.get(index, sheet, row, column)

    def date(self, value: float, style: int) -> Any:
        """Return a number in date format ``style`` as a ``datetime``/``timedelta`` (as openpyxl)."""
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel

        try:
            return from_excel(value, CALENDAR_MAC_1904 if self._epoch_1904 else WINDOWS_EPOCH, timedelta=self._date_styles[style])
        except (OverflowError, ValueError):
            return "#VALUE!"  # openpyxl's reading of a date serial out of range


class _SharedStrings:
    """The shared-string table, parsed lazily up to the highest index a cell asks for."""

    def __init__(self, book: Workbook, info: zipfile.ZipInfo) -> None:
        self.book = book
        self.info = info
        self.strings: list[str] = []
        self._parts: list[str] = []
        self._chars = 0
        self._depth_rph = 0
        self._text = False
        self._in_si = False
        parser = expat.ParserCreate(namespace_separator=_SEP)
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        self._chunks = book._stream(info, parser, None, self._drain)
        self._done = False

    def _drain(self) -> Iterator[None]:
        yield None

    def close(self) -> None:
        """Stop reading (closes the part)."""
        self._chunks.close()

    def get(self, index: int, sheet: str, row: int, column: str) -> str:
        """Return string ``index`` (asked for by cell ``column``/``row`` of ``sheet``)."""
        book = self.book
        if index >= book.limits.cells:
            book.budget.too_large(f"cell {column}{row} refers to shared string {index:,}; at most {book.limits.cells:,} strings are read.", "save the workbook again from Excel.", sheet, row, column)
        while index >= len(self.strings) and not self._done:
            if next(self._chunks, StopIteration) is StopIteration:
                self._done = True
        if index >= len(self.strings):
            book._corrupt(self.info.filename, f"holds {len(self.strings):,} strings, but cell {column}{row} refers to string {index:,}.", sheet, row, column)
        return self.strings[index]

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.book.budget.element(self.info.filename)
        tag = _STRING_TAGS.get(name)
        if tag == "si":
            self._in_si, self._parts, self._chars, self._depth_rph = True, [], 0, 0
        elif tag == "rPh":
            self._depth_rph += 1
        elif tag == "t" and self._in_si and not self._depth_rph:
            self._text = True

    def _end(self, name: str) -> None:
        tag = _STRING_TAGS.get(name)
        if tag == "t":
            self._text = False
        elif tag == "rPh":
            self._depth_rph -= 1
        elif tag == "si":
            self._in_si = False
            # openpyxl drops this escape prefix too; kept so values read the same as before
            self.strings.append("".join(self._parts).replace("x005F_", ""))

    def _data(self, text: str) -> None:
        if self._text:
            self._chars += len(text)
            if self._chars > EXCEL_MAX_CELL_CHARS:
                self.book._corrupt(self.info.filename, f"holds string {len(self.strings):,} longer than Excel's {EXCEL_MAX_CELL_CHARS:,} characters per cell.")
            self._parts.append(text)


class _SheetReader:
    """Expat handlers turning one worksheet part into ``(row number, values)`` rows.

    The handlers run once per XML element of a sheet, so they keep what they need in slots
    and take the common path (a cell with a number or a known shared string) with few calls.
    """

    __slots__ = (
        "book",
        "budget",
        "cells",
        "chars",
        "column",
        "data",
        "done",
        "first_row",
        "has_value",
        "in_data",
        "kind",
        "max_cells",
        "max_columns",
        "max_elements",
        "parser",
        "parts",
        "row_number",
        "rph",
        "sheet",
        "sheet_rows",
        "strings",
        "style",
        "text",
    )  # fmt: skip

    def __init__(self, book: Workbook, sheet: str, data: bool) -> None:
        self.book, self.sheet, self.data = book, sheet, data
        self.budget = book.budget
        limits = book.limits
        self.max_elements, self.max_cells, self.max_columns = limits.elements, limits.cells, limits.max_columns
        self.strings: list[str] = book._strings.strings if book._strings is not None else []
        self.done: list[tuple[int, list[Any]]] = []
        self.sheet_rows = self.row_number = self.column = self.style = self.chars = self.rph = 0
        self.first_row: int | None = None
        self.cells: dict[int, Any] = {}
        self.kind = "n"
        self.text: list[str] | None = None  # where the characters of the value being read go
        self.parts: list[str] = []
        self.has_value = self.in_data = False
        parser = expat.ParserCreate(namespace_separator=_SEP)
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.chars_in
        self.parser = parser

    def drain(self) -> Iterator[tuple[int, list[Any]]]:
        """Yield the rows finished so far."""
        rows, self.done = self.done, []
        yield from rows

    def _bad(self, detail: str) -> NoReturn:
        part = self.book._sheet_parts.get(self.sheet, "")
        self.book._corrupt(part, f"(sheet '{clip(self.sheet)}') {detail}", self.sheet, self.row_number or None)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Start of an element: a row, a cell, or a value's text."""
        budget = self.budget
        budget.elements += 1
        if budget.elements > self.max_elements:
            budget.element(self.sheet)
        tag = _SHEET_TAGS.get(name)
        if tag is None or not self.in_data:
            if tag == "sheetData":
                self.in_data = True
            return
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                col = _COLUMNS.get(ref.rstrip("0123456789"))
                self.column = col if col is not None else self._column(ref)
            else:
                self.column += 1
                if self.column > EXCEL_MAX_COLUMN:
                    self._bad(f"has a cell beyond Excel's last column ({_column_letters(EXCEL_MAX_COLUMN)}) in row {self.row_number}.")
            self.kind = attrs.get("t", "n")
            style = attrs.get("s")
            self.style = int(style) if style and style.isdigit() and len(style) < 10 else 0
            self.parts, self.chars, self.has_value, self.text = [], 0, False, None
        elif tag == "v":
            if self.kind != "inlineStr":
                self.text, self.has_value = self.parts, True
        elif tag == "row":
            self.start_row(attrs.get("r"))
        elif tag == "is":
            if self.kind == "inlineStr":
                self.has_value = True
        elif tag == "rPh":
            self.rph += 1
            self.text = None
        elif tag == "t" and self.kind == "inlineStr" and self.has_value and not self.rph:
            self.text = self.parts

    def _column(self, ref: str) -> int:
        """Column number of cell reference ``ref`` (``AB12``) not seen yet, checked."""
        m = _COLUMN_RE.fullmatch(ref)
        if m is None:
            self._bad(f"has a cell reference '{clip(ref, 20)}' that is not a cell.")
        col = 0
        for ch in m.group(1).upper():
            col = col * 26 + ord(ch) - 64
        if col > EXCEL_MAX_COLUMN:
            self._bad(f"has a cell beyond Excel's last column ({_column_letters(EXCEL_MAX_COLUMN)}) in row {self.row_number}.")
        _COLUMNS[m.group(1)] = col
        return col

    def start_row(self, r: str | None) -> None:
        """Start of a row: its number from ``r``, or the next one."""
        if r is None:
            self.row_number += 1
        else:
            number = int(r) if r.isdigit() and len(r) < 12 else 0
            if not 1 <= number <= EXCEL_MAX_ROW:
                self._bad(f"has a row number '{clip(r, 20)}' outside Excel's 1 to {EXCEL_MAX_ROW:,}.")
            self.row_number = number
        if self.row_number > EXCEL_MAX_ROW:
            self._bad(f"has more than Excel's {EXCEL_MAX_ROW:,} rows.")
        self.cells, self.column = {}, 0

    def chars_in(self, text: str) -> None:
        """Characters: kept while inside a value, up to Excel's cell size."""
        if self.text is not None:
            self.chars += len(text)
            if self.chars > EXCEL_MAX_CELL_CHARS:
                self._bad(f"has a cell in row {self.row_number} longer than Excel's {EXCEL_MAX_CELL_CHARS:,} characters.")
            self.text.append(text)

    def end(self, name: str) -> None:
        """End of an element: a finished cell or row is taken."""
        tag = _SHEET_TAGS.get(name)
        if tag is None or not self.in_data:
            return
        if tag == "c":
            self.text = None
            if self.has_value:
                self.end_cell()
        elif tag == "v" or tag == "t":
            self.text = None
        elif tag == "row":
            if self.cells:
                self.end_row()
        elif tag == "rPh":
            self.rph -= 1
        elif tag == "sheetData":
            self.in_data = False

    def end_cell(self) -> None:
        """A cell with a value: convert it, check the column and cell limits, keep it."""
        parts = self.parts
        value = self.value(parts[0] if len(parts) == 1 else "".join(parts))
        if value is None or (value.__class__ is str and not value.strip()):
            return  # blank: neither a value nor counted
        if self.column > self.max_columns:
            lim = self.max_columns
            letters = _column_letters(self.column)
            self.budget.too_large(
                f"sheet '{clip(self.sheet)}' has a value in column {letters} (column {self.column:,}) of row {self.row_number}; at most {lim} columns ({_column_letters(lim)}) are read.",
                "delete the columns right of the table's fields.",
                self.sheet,
                self.row_number,
                letters,
            )
        budget = self.budget
        budget.cells += 1
        if budget.cells > self.max_cells:
            budget.too_large(f"it holds more than {self.max_cells:,} cells with a value (counted to row {self.row_number} of sheet '{clip(self.sheet)}'); nothing after that was read.", "split the scenario or remove unused columns.", self.sheet, self.row_number)
        self.cells[self.column] = value

    def end_row(self) -> None:
        """A row with values: count it against the row limit and hand it out."""
        cells = self.cells
        values: list[Any] = [None] * max(cells)
        for col, value in cells.items():
            values[col - 1] = value
        self.cells = {}
        if self.first_row is None:
            self.first_row = self.row_number
        elif self.data:
            self.count_data_row()
        else:
            self.sheet_rows += 1
            if self.sheet_rows > self.book.limits.max_rows:
                self.budget.too_large(f"sheet '{clip(self.sheet)}' holds more than {self.book.limits.max_rows:,} rows (counted to row {self.row_number}).", "delete the rows below the settings.", self.sheet, self.row_number)
        self.done.append((self.row_number, values))

    def count_data_row(self) -> None:
        """Count one data row of a table sheet; refuse the workbook past ``max_rows``."""
        budget, lim = self.budget, self.book.limits
        budget.rows += 1
        if budget.rows > lim.max_rows:
            hint = "split the scenario, or delete the rows below the data (select them, then Delete Rows)"
            hint += f"; or {lim.setting}." if lim.setting else "."
            budget.too_large(f"its table sheets hold more than {lim.max_rows:,} data rows (counted to row {self.row_number} of sheet '{clip(self.sheet)}'); at most {lim.max_rows:,} are read, and nothing after that was.", hint, self.sheet, self.row_number)

    def value(self, text: str) -> Any:
        """Return a cell's value from its type and text, as openpyxl's ``data_only`` reading does."""
        kind = self.kind
        if kind == "inlineStr":
            return text
        if not text:
            return None
        if kind == "n":
            try:
                number: int | float = float(text) if "." in text or "e" in text or "E" in text else int(text)
            except ValueError:
                return text  # not a number: validation reports it at its row and column
            if self.style and self.style in self.book._date_styles:
                return self.book.date(number, self.style)
            return number
        if kind == "s":
            if text.isdigit() and len(text) < 12:
                index = int(text)
                if index < len(self.strings):
                    return self.strings[index]
                return self.book.shared_string(index, self.sheet, self.row_number, _column_letters(self.column))
            self._bad(f"has cell {_column_letters(self.column)}{self.row_number} referring to shared string '{clip(text, 20)}'.")
        if kind == "b":
            try:
                return bool(int(text))
            except ValueError:
                return text
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                return from_ISO8601(text)
            except ValueError:
                return text
        return text  # "str" (a formula's text result), "e" (an error such as #N/A)
