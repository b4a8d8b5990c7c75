"""Numbers people read: tonnes, money, rates and prices in English or Chinese, and stored precision.

Stage: renderer helper, the one place that decides how a number looks. The text report, the
report, the workbook and the charts format through here; CSVs and workbook cells are rounded
here too, so no file shows ``4150000.0000000005`` or ``8.000018859863282``.

Rules:

* English: thousands separators, units ``t/yr``, ``CNY/yr``, ``CNY/t``.
* Chinese: ``吨/年``, ``元/年``, ``元/吨``; money by magnitude (``-3.46 亿元/年`` from 1e8 元,
  ``146.0 万元/年`` from 1e4 元, plain 元 below); tonnes exact in tables, ``万吨/年`` in headlines.
* Rates as percentages with 2 decimals; differences of rates in percentage points.
* Stored precision (CSV, workbook cells): tonnes 0.001 t, money 0.01 CNY, prices 0.0001 CNY/t,
  rates 1e-6, distances 0.001 km, anything else 6 decimals.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from flowopt.i18n import text, unit

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["t", "cny", "price", "rate", "km", "s", "int", "other"]

#: Decimals kept when a value of each kind is stored (CSV, workbook cells).
DECIMALS: dict[str, int] = {"t": 3, "cny": 2, "price": 4, "rate": 6, "km": 3, "s": 4, "int": 0, "other": 6}

#: Excel number format of each kind.
EXCEL_FORMATS: dict[str, str] = {"t": "#,##0", "cny": "#,##0", "price": "#,##0.00", "rate": "0.00%", "km": "#,##0.0", "s": "0.000", "int": "0", "other": "0.00E+00"}

_MISSING = "–"


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def number(x: float | None, decimals: int = 0, *, signed: bool = False) -> str:
    """``x`` with thousands separators (``12,775,000``); ``-0`` shows as ``0``; missing as ``–``.

    Args:
        x: the number (``None`` or NaN for missing).
        decimals: digits after the point.
        signed: prefix ``+`` to positive numbers (for changes).

    Returns:
        The text.
    """
    if not _finite(x):
        return _MISSING
    s = f"{x:,.{decimals}f}"
    if s.startswith("-") and float(s[1:].replace(",", "")) == 0:
        s = s[1:]
    if signed and not s.startswith("-") and float(s.replace(",", "")) != 0:
        s = "+" + s
    return s


def tonnes(x: float | None, lang: str, *, per_year: bool = True, signed: bool = False) -> str:
    """Exact tonnes with the unit: ``12,775,000 t/yr`` or ``12,775,000 吨/年``."""
    return f"{number(x, signed=signed)} {unit('t/yr' if per_year else 't', lang)}"


def tonnes_short(x: float | None, lang: str, *, per_year: bool = True) -> str:
    """Tonnes for a headline: ``12.78 Mt/yr`` / ``80.0 kt/yr`` or ``1,277.5 万吨/年`` (from 1e4 t)."""
    if not _finite(x):
        return _MISSING
    assert x is not None
    suffix = ("/年" if lang == "zh" else "/yr") if per_year else ""
    a = abs(x)
    if lang == "zh":
        if a >= 1e4:
            w = x / 1e4
            return f"{number(w, 0 if abs(w) >= 1000 else 1)} 万吨{suffix}"
        return f"{number(x)} 吨{suffix}"
    if a >= 1e6:
        return f"{x / 1e6:,.2f} Mt{suffix}"
    if a >= 1e3:
        return f"{x / 1e3:,.1f} kt{suffix}"
    return f"{number(x)} t{suffix}"


def _zh_money(x: float, *, signed: bool) -> str:
    a = abs(x)
    if a >= 1e8:
        return f"{number(x / 1e8, 2, signed=signed)} 亿元"
    if a >= 1e4:
        w = x / 1e4
        return f"{number(w, 2 if abs(w) < 10 else 1 if abs(w) < 1000 else 0, signed=signed)} 万元"
    return f"{number(x, 0 if a >= 100 or float(x).is_integer() else 2, signed=signed)} 元"


def money(x: float | None, lang: str, *, per_year: bool = True, signed: bool = False) -> str:
    """Money with its unit: ``-346,448,000 CNY/yr``; in Chinese by magnitude: ``-3.46 亿元/年``.

    Args:
        x: CNY (``None`` or NaN for missing).
        lang: ``en`` or ``zh``.
        per_year: append ``/yr`` (``/年``).
        signed: ``+`` before positive amounts (changes).

    Returns:
        The text.
    """
    if not _finite(x):
        return _MISSING
    assert x is not None
    if lang == "zh":
        return _zh_money(x, signed=signed) + ("/年" if per_year else "")
    return f"{number(x, signed=signed)} {'CNY/yr' if per_year else 'CNY'}"


def money_exact(x: float | None, lang: str, *, per_year: bool = True) -> str:
    """Money to the yuan with its unit: ``-346,448,000 CNY/yr`` / ``-346,448,000 元/年``."""
    return f"{number(x)} {unit('CNY/yr' if per_year else 'CNY', lang)}"


def money_short(x: float | None, lang: str, *, per_year: bool = False) -> str:
    """Money for a headline: ``-346.4 M CNY`` in English, by magnitude in Chinese (``-3.46 亿元``)."""
    if not _finite(x):
        return _MISSING
    assert x is not None
    if lang == "zh":
        return _zh_money(x, signed=False) + ("/年" if per_year else "")
    return f"{number(x / 1e6, 1)} M CNY" + ("/yr" if per_year else "")


def rate(x: float | None, decimals: int = 2, *, lang: str = "en") -> str:
    """A fraction as a percentage: ``0.7`` -> ``70.00%``; missing -> ``n/a`` (``—``)."""
    if not _finite(x):
        return text("n/a", lang)
    assert x is not None
    s = f"{x * 100:.{decimals}f}%"
    return s[1:] if s.startswith("-") and float(s[1:-1]) == 0 else s


def points(x: float | None, lang: str, decimals: int = 2) -> str:
    """A change of a fraction in percentage points: ``+1.20 pp`` / ``+1.20 个百分点``."""
    if not _finite(x):
        return text("n/a", lang)
    assert x is not None
    return f"{number(x * 100, decimals, signed=True)} {unit('pp', lang)}"


def price(x: float | None, lang: str, unit_key: str = "CNY/t", decimals: int = 2) -> str:
    """A price with its unit: ``8.00 CNY/t`` / ``8.00 元/吨``."""
    return f"{number(x, decimals)} {unit(unit_key, lang)}"


def milliseconds(seconds: float, lang: str) -> str:
    """A duration in ms: ``8.8 ms`` / ``8.8 毫秒``."""
    return f"{number(seconds * 1000, 1)} {unit('ms', lang)}"


def amount(x: float | None, kind: str) -> str:
    """A table cell of a given kind, without the unit (the header carries it).

    Args:
        x: the value.
        kind: ``t``, ``cny`` (whole numbers), ``price`` (2 decimals), ``rate`` (percent),
            ``km`` (1 decimal), ``s`` (3 decimals), ``int``, anything else 6 significant digits.

    Returns:
        The text (``–`` when missing).
    """
    if not _finite(x):
        return _MISSING
    assert x is not None
    if kind in ("t", "cny", "int"):
        return number(x)
    if kind == "price":
        return number(x, 2)
    if kind == "rate":
        return rate(x)
    if kind == "km":
        return number(x, 1)
    if kind == "s":
        return number(x, 3)
    return f"{x:.6g}"


# ---------------------------------------------------------------------------------------------
# Stored precision
# ---------------------------------------------------------------------------------------------

_RATE_WORDS = ("rate", "share", "fraction", "target", "load")


def kind_of(field: str, unit_key: str = "") -> Kind:
    """Kind of a numeric field, from its unit or else its name (``tonnes``/``*_t``, ``*_cny`` …).

    Args:
        field: the column or field name.
        unit_key: its unit when known (``t/yr``, ``CNY/yr``, ``CNY/t``, ``fraction``, ``km``, ``s``).

    Returns:
        ``t``, ``cny``, ``price``, ``rate``, ``km``, ``s`` or ``other``.
    """
    u = unit_key.split(" ")[0] if unit_key else ""
    by_unit: dict[str, Kind] = {"t/yr": "t", "t": "t", "CNY/yr": "cny", "CNY": "cny", "CNY/t": "price", "CNY/(t·km)": "price", "fraction": "rate", "km": "km", "s": "s"}
    if u in by_unit:
        return by_unit[u]
    n = field.lower()
    if n.endswith(("_cny_per_t", "_cny_per_t_km")) or n in ("shadow_price", "price"):
        return "price"
    if n == "tonnes" or n.endswith("_t"):
        return "t"
    if "cny" in n:
        return "cny"
    if n.endswith("_km"):
        return "km"
    if n in ("seconds",) or n.endswith("_s"):
        return "s"
    if any(w in n for w in _RATE_WORDS):
        return "rate"
    return "other"


def stored(x: Any, kind: str) -> Any:
    """``x`` rounded to the stored precision of ``kind`` (non-floats and non-finite values unchanged)."""
    if isinstance(x, bool) or not isinstance(x, float) or not math.isfinite(x):
        return x
    r = round(x, DECIMALS.get(kind, 6))
    return 0.0 if r == 0 else r  # no -0.0


def round_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every float column rounded to its stored precision (by column name).

    Args:
        frame: a table (e.g. from ``Plan.tables()``).

    Returns:
        The rounded copy (other columns unchanged).
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f" or out[col].dtype == object:
            kind = kind_of(str(col))
            out[col] = out[col].map(lambda v, k=kind: stored(v, k))
    return out
