"""Shared helpers of the renderers (Sankey, charts, report): formatting, escaping, text width.

Everything here is deterministic: numbers are written with a fixed number of decimals, so the
same input gives byte-identical SVG and HTML.
"""

from __future__ import annotations

import html
import math
import unicodedata

#: Font stack of every SVG and HTML artifact: CJK fonts first so Chinese labels render.
FONT_FAMILY = (
    "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "'WenQuanYi Micro Hei','Helvetica Neue',Arial,sans-serif"
)

#: Display names of the waste categories (``Category`` values).
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "smelting_slag": ("冶炼渣", "smelting slag"),
    "tailings": ("尾矿", "tailings"),
    "fly_ash": ("粉煤灰", "fly ash"),
    "coal_gangue": ("煤矸石", "coal gangue"),
    "byproduct_gypsum": ("工业副产石膏", "by-product gypsum"),
    "other": ("其他", "other"),
}

#: Display names of the cost terms of ``Plan.cost_terms``.
COST_TERM_NAMES: dict[str, tuple[str, str]] = {
    "transport_cny": ("运输费", "transport"),
    "processing_cny": ("加工费", "processing"),
    "revenue_cny": ("产品收入（减）", "revenue (subtracted)"),
    "incentives_cny": ("税收优惠（减）", "tax incentives (subtracted)"),
    "disposal_fees_cny": ("处置费", "disposal fees"),
    "storage_fees_cny": ("贮存费", "storage fees"),
    "reclaim_cny": ("回采费", "reclaim"),
    "environmental_tax_cny": ("环境保护税", "environmental tax"),
    "unmanaged_penalty_cny": ("未妥善处置罚金", "unmanaged penalty"),
}

LANGS = ("en", "zh")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``en`` or ``zh``; raise ``ValueError`` otherwise."""
    if lang not in LANGS:
        msg = f"lang must be 'en' or 'zh', not {lang!r}."
        raise ValueError(msg)
    return lang


def pick(pair: tuple[str, str], lang: str) -> str:
    """Return the Chinese (``zh``) or English member of a ``(zh, en)`` pair."""
    return pair[0] if lang == "zh" else pair[1]


def category_name(category: str | None, lang: str) -> str:
    """Display name of a waste category (the raw value if unknown)."""
    if category is None:
        return ""
    return pick(CATEGORY_NAMES.get(category, (category, category)), lang)


def esc(text: object) -> str:
    """Escape text for HTML and XML content and attribute values."""
    return html.escape(str(text), quote=True)


def num(value: float, decimals: int = 2) -> str:
    """Format a coordinate compactly and deterministically (``12.5``, ``3``, never ``-0``)."""
    s = f"{value:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def thousands(value: float, decimals: int = 0) -> str:
    """Format a number with thousands separators (``12,775,000``; ``-0`` shown as ``0``)."""
    s = f"{value:,.{decimals}f}"
    return s[1:] if s.startswith("-") and float(s[1:].replace(",", "")) == 0 else s


def percent(value: float | None, decimals: int = 2) -> str:
    """Format a fraction as a percentage (``0.7`` -> ``70.00%``); ``None`` -> ``n/a``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value * 100:.{decimals}f}%"


def tonnes_short(t: float, lang: str) -> str:
    """Compact tonnage: ``3.00 Mt`` / ``80.0 kt`` in English, ``300 万吨`` in Chinese."""
    if lang == "zh":
        w = t / 1e4
        return f"{w:,.0f} 万吨" if abs(w) >= 100 else f"{w:,.1f} 万吨" if abs(w) >= 1 else f"{t:,.0f} 吨"
    if abs(t) >= 1e6:
        return f"{t / 1e6:.2f} Mt"
    if abs(t) >= 1e3:
        return f"{t / 1e3:.1f} kt"
    return f"{t:,.0f} t"


def money_short(cny: float, lang: str) -> str:
    """Compact money: ``-346.4 M CNY`` in English, ``-34,644.8 万元`` in Chinese."""
    if lang == "zh":
        return f"{thousands(cny / 1e4, 1)} 万元"
    return f"{thousands(cny / 1e6, 1)} M CNY"


def _char_em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch in " .,;:'|!il()[]·":
        return 0.3
    if ch.isupper() or ch.isdigit():
        return 0.64
    return 0.54


def text_px(text: str, size: float) -> float:
    """Estimated rendered width in px of ``text`` at font size ``size`` (CJK = 1 em)."""
    return sum(_char_em(c) for c in text) * size


def fit(text: str, max_px: float, size: float) -> str:
    """Shorten ``text`` with an ellipsis so that it fits in ``max_px`` at font size ``size``."""
    if text_px(text, size) <= max_px:
        return text
    out, width, limit = [], 0.0, max_px - size  # room for the ellipsis
    for ch in text:
        width += _char_em(ch) * size
        if width > limit:
            break
        out.append(ch)
    return "".join(out).rstrip(" ,;:–-") + "…"
