"""Hostile ``.xlsx`` workbooks built in memory for the workbook-bounds tests (no binary files).

Each builder starts from a valid workbook (``write_workbook`` of a small scenario) and swaps or
adds one part of the zip, so a test fails only because of the hostile part.

Imported by the tests as ``from workbook_bombs import …``.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from support import make

from flowopt.io import write_workbook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

#: What an external entity would leak; asserted absent from every output.
PASSWD_MARK = "root:x:0:0"

XXE_DOCTYPE = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS_DOCTYPE = (
    "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)


def valid_workbook(tmp: Path, name: str = "park.xlsx") -> bytes:
    """Return the bytes of a valid workbook of the tiny test scenario."""
    return write_workbook(make(), tmp / name).read_bytes()


def sheet_part(book: bytes, sheet: str) -> str:
    """Return the zip member holding ``sheet`` (read from workbook.xml and its relationships)."""
    with zipfile.ZipFile(io.BytesIO(book)) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', workbook)
    if rid is None:  # attribute order differs between writers
        rid = re.search(rf'<sheet [^>]*r:id="([^"]+)"[^>]*name="{re.escape(sheet)}"', workbook)
    assert rid is not None, sheet
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    assert target is not None
    path = target.group(1)
    return path.lstrip("/") if path.startswith("/") else f"xl/{path}"


def with_parts(book: bytes, parts: dict[str, bytes]) -> bytes:
    """Return ``book`` with the members in ``parts`` replaced (or added), deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename not in parts:
                dst.writestr(info.filename, src.read(info.filename))
        for name, data in parts.items():
            dst.writestr(name, data)
    return out.getvalue()


def excel_like(book: bytes) -> bytes:
    """Return ``book`` with every inline string moved to a shared-string table, as Excel saves.

    Every other shared string is written as two rich-text runs with a phonetic run (which
    readers must skip), so a reader that handles only plain ``<t>`` would read other values.
    """
    strings: dict[str, int] = {}

    def shared(m: re.Match[str]) -> str:
        index = strings.setdefault(m.group(3), len(strings))
        return f'<c r="{m.group(1)}"{m.group(2)} t="s"><v>{index}</v></c>'

    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(book)) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                text = zf.read(name).decode("utf-8")
                parts[name] = re.sub(r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>', shared, text).encode("utf-8")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        types = zf.read("[Content_Types].xml").decode("utf-8")
    items = []
    for text, index in strings.items():
        if index % 2 and len(text) > 1:
            half = len(text) // 2
            items.append(f'<si><r><t>{text[:half]}</t></r><r><rPr><b/></rPr><t xml:space="preserve">{text[half:]}</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>')
        else:
            items.append(f"<si><t>{text}</t></si>")
    parts["xl/sharedStrings.xml"] = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst xmlns="{MAIN_NS}" count="{len(items)}" uniqueCount="{len(items)}">{"".join(items)}</sst>'.encode()
    rel = '<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")
    override = '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode("utf-8")
    return with_parts(book, parts)


def sheet_xml(rows: str | bytes, *, dimension: str | None = None, prolog: str = "") -> bytes:
    """Return a worksheet part whose ``sheetData`` holds ``rows`` (raw ``<row>`` XML)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = rows.decode() if isinstance(rows, bytes) else rows
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}<worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{body}</sheetData></worksheet>'.encode()


def inline_row(r: int, values: list[object]) -> str:
    """Return one ``<row>`` with inline strings and numbers in columns A, B, …."""
    cells = []
    for i, v in enumerate(values):
        ref = f"{chr(65 + i)}{r}"
        if isinstance(v, int | float):
            cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'


def million_rows(tmp: Path, rows: int = 1_000_000) -> bytes:
    """The issue's workbook: the ``streams`` sheet holds a header and a million one-cell rows.

    Rows and cells carry no references (``<row><c><v>1</v></c></row>``, 26 bytes each), so the
    sheet is 26 MB unzipped (within the 256 MiB archive check) and about 90 KB deflated.
    """
    book = valid_workbook(tmp)
    header = inline_row(1, ["id", "site", "category", "generation_t"])
    return with_parts(book, {sheet_part(book, "streams"): sheet_xml(header + "<row><c><v>1</v></c></row>" * rows)})


def many_rows(tmp: Path, rows: int) -> bytes:
    """A workbook whose ``streams`` sheet holds ``rows`` distinct data rows (shared strings).

    Unlike :func:`million_rows` it compresses like a real sheet (about 10:1), so only the
    row limit can stop it.
    """
    book = excel_like(valid_workbook(tmp))
    header = inline_row(1, ["id", "site", "category", "generation_t"])
    body = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c><c r="D{r}"><v>{r}</v></c></row>' for r in range(2, rows + 2))
    return with_parts(book, {sheet_part(book, "streams"): sheet_xml(header + body)})


def huge_dimension(tmp: Path, blank_rows: int = 3000) -> bytes:
    """A ``streams`` sheet declaring ``A1:XFD1048576``: four real rows, then blank formatted rows.

    A reader that pads every row to the declared 16,384 columns holds 128 KB per row.
    """
    book = valid_workbook(tmp)
    blank = "".join(f'<row r="{r}"><c r="A{r}" s="0"/></row>' for r in range(5, blank_rows + 5))
    return with_parts(book, {sheet_part(book, "streams"): sheet_xml(streams_rows() + blank, dimension="A1:XFD1048576")})


def streams_rows(last_id: str = "old") -> str:
    """The tiny scenario's ``streams`` sheet as inline-string rows (``last_id`` in cell A4)."""
    return "".join(
        [
            inline_row(1, ["id", "site", "category", "generation_t"]),
            inline_row(2, ["s1", "A", "tailings", 100]),
            inline_row(3, ["s2", "", "tailings"]),
            inline_row(4, [last_id, "", "smelting_slag"]),
        ]
    )


def with_doctype(tmp: Path, part: str, doctype: str, entity: str) -> bytes:
    """A valid workbook whose ``part`` has a DTD before its root element, and uses its entity.

    Args:
        tmp: folder for the base workbook.
        part: ``streams`` (that sheet, rewritten with inline strings) or a member such as
            ``xl/sharedStrings.xml`` or ``xl/workbook.xml`` (the workbook has shared strings).
        doctype: the ``<!DOCTYPE …>`` declaration.
        entity: the entity reference (``&xxe;``) written where the reader takes a value: the
            sheet's last row, else the part's first text, else its first ``name`` attribute.
    """
    book = excel_like(valid_workbook(tmp))
    if "/" not in part:
        # declared dimension and the entity in the last row: a reader meets it only mid-sheet
        return with_parts(book, {sheet_part(book, part): sheet_xml(streams_rows(f"old{entity}"), dimension="A1:D4", prolog=doctype)})
    with zipfile.ZipFile(io.BytesIO(book)) as zf:
        text = zf.read(part).decode("utf-8")
    text = re.sub(r"^(<\?xml[^>]*\?>)?\s*", lambda m: (m.group(1) or "") + "\n" + doctype, text, count=1)
    if "<t>" in text or "<t " in text:
        text = re.sub(r"(<t(?: [^>]*)?>)", lambda m: m.group(1) + entity, text, count=1)
    else:
        text = re.sub(r'( name=")', lambda m: m.group(1) + entity, text, count=1)
    return with_parts(book, {part: text.encode("utf-8")})
