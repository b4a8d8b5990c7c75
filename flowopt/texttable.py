"""Plain-text tables that stay aligned with Chinese text (wide characters count as two columns).

Stage: renderer helper. ``text_table(rows, columns)`` -> lines like pandas' ``to_string`` but
measuring each cell by its display width (``unicodedata.east_asian_width``), so a column of
project names in Chinese lines up in a terminal, and without importing pandas.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: 2 for wide and full-width characters, else 1."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 0 if unicodedata.combining(c) else 1 for c in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display columns (right-aligned if ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` display columns, ending in ``…`` when cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = display_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out).rstrip() + "…"


def text_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, headers: Mapping[str, str] | None = None, right: Sequence[str] = ()) -> str:
    """Render ``rows`` as an aligned table: a header line, then one line per row.

    Args:
        rows: the rows (values are shown with ``str``).
        columns: the keys to show, in order.
        headers: header text per key (default: the key).
        right: keys whose column is right-aligned (numbers).

    Returns:
        The table's lines joined by newlines (no trailing newline).
    """
    heads = [(headers or {}).get(c, c) for c in columns]
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([display_width(h), *(display_width(row[i]) for row in cells)]) for i, h in enumerate(heads)]
    aligned = [c in right for c in columns]
    lines = [" ".join(pad(h, w, right=a) for h, w, a in zip(heads, widths, aligned, strict=True)).rstrip()]
    lines += [" ".join(pad(v, w, right=a) for v, w, a in zip(row, widths, aligned, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
