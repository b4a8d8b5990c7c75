"""PNG charts (matplotlib, no browser): the target–cost curve and the comparison of two plans.

Stage: results -> pictures for documents that cannot hold SVG. The SVG versions in
:mod:`flowopt.charts` remain the reference (interactive titles, exact text); these render the
same data with matplotlib's Agg backend.

Chinese needs a CJK font. matplotlib's font list is a cache built when matplotlib first ran, so
a font installed later (``apt-get install fonts-wqy-microhei``) is not in it: :func:`cjk_font`
looks for CJK font files on the system (``fc-list :lang=zh``, then the usual font folders) and
adds them to matplotlib's font manager at run time. Without any CJK font every label is drawn
in English (legend included; a Chinese label passed in is replaced by its English version), so
no glyph is missing and matplotlib warns about none.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from flowopt import fmt
from flowopt.i18n import check_lang, text, unit
from flowopt.io import atomic_path
from flowopt.results import Plan
from flowopt.texttable import clip

#: Widest legend entry (display columns: a Chinese character counts two).
LEGEND_COLUMNS = 120

#: Family names of CJK fonts matplotlib may already know, in order of preference.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN")
#: Parts of the file names of CJK fonts (lower case), for the folder scan.
_CJK_FILE_HINTS = ("wqy", "wenquanyi", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback", "simhei", "msyh", "pingfang", "uming", "ukai")
#: Folders scanned for font files when ``fc-list`` is not there or finds none.
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
_FONT_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(s: str) -> bool:
    """True when ``s`` holds a Chinese (CJK) character or a full-width form."""
    return bool(_CJK.search(s))


def _fc_list() -> list[str]:
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()]


def cjk_font_files(dirs: tuple[str, ...] = FONT_DIRS) -> list[str]:
    """Paths of CJK font files on this system: ``fc-list :lang=zh``, else a scan of ``dirs``.

    Returns:
        Existing font files (``.ttf``, ``.ttc``, ``.otf``), sorted, without duplicates.
    """
    found = {p for p in _fc_list() if p.lower().endswith(_FONT_SUFFIXES) and os.path.isfile(p)}
    if not found:
        for d in dirs:
            root = Path(d).expanduser()
            if not root.is_dir():
                continue
            for p in root.rglob("*"):
                name = p.name.lower().replace("-", "").replace("_", "")
                if name.endswith(_FONT_SUFFIXES) and any(h in name for h in _CJK_FILE_HINTS) and p.is_file():
                    found.add(str(p))
    return sorted(found)


@functools.cache
def cjk_font() -> str | None:
    """Family name of a CJK font matplotlib can draw with, or ``None`` when there is none.

    Fonts already in matplotlib's list are used first; otherwise the system's CJK font files
    (:func:`cjk_font_files`) are added to the font manager (``fontManager.addfont``), so a
    font installed after matplotlib built its cache is found without deleting the cache.
    """
    from matplotlib import font_manager

    fm = font_manager.fontManager
    known = {f.name for f in fm.ttflist}
    name = next((n for n in CJK_FONTS if n in known), None)
    if name:
        return name
    added: list[str] = []
    for path in cjk_font_files():
        before = len(fm.ttflist)
        try:
            fm.addfont(path)
        except (OSError, RuntimeError, ValueError):  # an unreadable or unsupported file
            continue
        added += [f.name for f in fm.ttflist[before:]]
    known = {f.name for f in fm.ttflist}
    return next((n for n in CJK_FONTS if n in known), added[0] if added else None)


@contextlib.contextmanager
def _pyplot(lang: str) -> Iterator[tuple[Any, bool]]:
    """Matplotlib's pyplot on the Agg backend with the fonts for ``lang``; yield it and whether Chinese is drawn."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    font = cjk_font() if lang == "zh" else None
    rc: dict[str, Any] = {"axes.unicode_minus": False}
    if font:
        rc |= {"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"]}
    with plt.rc_context(rc):
        yield plt, font is not None


def _label(shown: str | None, english: str, zh: bool) -> str:
    """``shown`` when it can be drawn (Chinese needs the CJK font), else the English text."""
    if shown and (zh or not has_cjk(shown)):
        return shown
    return english


def _save(fig: Any, plt: Any, path: str | os.PathLike[str]) -> Path:
    with atomic_path(Path(path)) as work:
        fig.savefig(work, format="png")
    plt.close(fig)
    return Path(path)


def _money_scale(values: list[float], lang: str) -> tuple[float, str]:
    """Divisor and unit of a money axis: 亿元/年 or 万元/年 by magnitude in Chinese, M CNY/yr in English."""
    top = max([abs(v) for v in values] or [0.0])
    if lang == "zh":
        return (1e8, unit("100M CNY/yr", lang)) if top >= 1e8 else (1e4, unit("10k CNY/yr", lang))
    return 1e6, unit("M CNY/yr", lang)


def cost_curve_png(curve: pd.DataFrame, path: str | os.PathLike[str], *, lang: str = "en", labels: Mapping[int, str] | None = None, labels_en: Mapping[int, str] | None = None, current_target: float | None = None, max_rate: float | None = None) -> Path:
    """Draw the least cost against the target, one colour per segment, as a PNG.

    The legend (what binds on each segment) sits below the plot, outside the data.

    Args:
        curve: columns ``target`` (fraction), ``objective_cny`` and ``segment`` (int).
        path: the PNG file (written atomically).
        lang: ``en`` or ``zh`` (Chinese only if a CJK font is installed, see :func:`cjk_font`).
        labels: segment index -> legend text in ``lang``.
        labels_en: segment index -> English legend text, drawn when Chinese cannot be.
        current_target: marked with a dotted line.
        max_rate: the highest reachable rate, marked with a dashed line.

    Returns:
        The path.

    Raises:
        ValueError: when ``curve`` lacks the columns or has no row.
    """
    lang = check_lang(lang)
    missing = {"target", "objective_cny", "segment"} - set(curve.columns)
    if missing or curve.empty:
        msg = f"the curve needs rows with columns target, objective_cny and segment (missing: {sorted(missing) or 'rows'})."
        raise ValueError(msg)
    with _pyplot(lang) as (plt, zh):
        shown_lang = "zh" if zh else "en"
        costs = [float(v) for v in curve["objective_cny"] if pd.notna(v)]
        div, money_unit = _money_scale(costs, shown_lang)
        groups = list(curve.sort_values("target").groupby("segment", sort=True))
        height = 4.6 + 0.2 * len(groups)
        fig, ax = plt.subplots(figsize=(8, height), dpi=120)
        for seg, part in groups:
            i = int(seg)
            english = (labels_en or {}).get(i) or text("chart.segment", "en", n=i)
            label = _label((labels or {}).get(i), english, zh) if zh else english
            ax.plot(part["target"] * 100, part["objective_cny"] / div, marker="o", markersize=3, linewidth=2, label=clip(label, LEGEND_COLUMNS))
        if current_target is not None:
            ax.axvline(current_target * 100, color="#333", linestyle=":", linewidth=1)
        if max_rate is not None:
            ax.axvline(max_rate * 100, color="#c62828", linestyle="--", linewidth=1)
        ax.set_xlabel(text("chart.target_axis", shown_lang) + " (%)")
        ax.set_ylabel(text("chart.cost_axis", shown_lang, unit=money_unit))
        ax.set_title(text("chart.curve_title", shown_lang))
        ax.grid(True, color="#e6e6e6")
        # the legend goes below the axes, outside the layout: it never covers the curve or squeezes it
        room = (0.2 * len(groups) + 0.25) / height
        fig.tight_layout(rect=(0, room, 1, 1))
        legend = fig.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.01, 0.005), ncol=1, frameon=False)
        legend.set_in_layout(False)
        return _save(fig, plt, path)


def comparison_figure(a: Plan, b: Plan, *, names: tuple[str, str] = ("base", "what-if"), lang: str = "en") -> tuple[Any, Any]:
    """Build the comparison figure (for :func:`comparison_png` and tests): ``(pyplot, figure)``.

    Three rows (rates in %, tonnes by fate, cost terms with revenue negative); on the left both
    plans' bars side by side, on the right the change B − A as bars around zero (green where it
    helps, red where it hurts). The legend sits above the panels, outside the data.
    """
    from flowopt.charts import DELTA_COLOURS, PLAN_COLOURS, comparison_rows

    lang = check_lang(lang)
    with _pyplot(lang) as (plt, zh):
        shown = "zh" if zh else "en"
        rows = comparison_rows(a, b, shown)
        shown_names = tuple(_label(n, ("A", "B")[i], zh) for i, n in enumerate(names))
        cost_values = [v for r in rows["costs"] for v in (r.a, r.b) if v is not None]
        div, money_unit = _money_scale(cost_values, shown)
        t_div, t_unit = (1e4, unit("10kt/yr", shown)) if zh else (1e6, unit("Mt/yr", shown))
        panels = [
            (rows["rates"], text("chart.rates", shown), 100.0, 1),
            (rows["tonnes"], text("chart.tonnes", shown, unit=t_unit), 1 / t_div, 0),
            (rows["costs"], text("chart.costs", shown, unit=money_unit), 1 / div, -1),
        ]
        heights = [max(len(p[0]), 1) for p in panels]
        fig, axes = plt.subplots(3, 2, figsize=(12, 2.2 + 0.42 * sum(heights)), dpi=110, gridspec_kw={"height_ratios": heights, "width_ratios": [2.2, 1]}, squeeze=False)
        width = 0.38
        for (items, title, scale, better), (ax, dax) in zip(panels, axes, strict=True):
            ys = list(range(len(items)))
            ax.barh([y - width / 2 for y in ys], [(r.a or 0.0) * scale for r in items], height=width, color=PLAN_COLOURS[0])
            ax.barh([y + width / 2 for y in ys], [(r.b or 0.0) * scale for r in items], height=width, color=PLAN_COLOURS[1])
            ax.set_yticks(ys)
            ax.set_yticklabels([r.label for r in items], fontsize=8)
            ax.invert_yaxis()
            ax.set_title(title, fontsize=10, loc="left")
            ax.grid(True, axis="x", color="#e6e6e6")
            ax.axvline(0, color="#888", linewidth=0.8)
            deltas = [((r.b or 0.0) - (r.a or 0.0)) * scale for r in items]
            tones = ["neutral" if better == 0 or abs(d) < 1e-12 else ("good" if d * better > 0 else "bad") for d in deltas]
            dax.barh(ys, deltas, height=0.6, color=[DELTA_COLOURS[t] for t in tones])
            dax.set_yticks(ys)
            dax.set_yticklabels([])
            dax.set_ylim(ax.get_ylim())
            dax.margins(x=0.3)  # room for the values beside the bars
            if all(t == "neutral" and abs(d) < 1e-12 for t, d in zip(tones, deltas, strict=True)):
                dax.set_xticks([0])
                dax.text(0.5, 0.5, text("chart.no_change", shown), transform=dax.transAxes, ha="center", va="center", fontsize=9, color="#666")
            dax.axvline(0, color="#888", linewidth=0.8)
            dax.set_title(text("chart.delta", shown), fontsize=9, loc="left")
            dax.grid(True, axis="x", color="#e6e6e6")
            for y, d in zip(ys, deltas, strict=True):
                if abs(d) > 1e-12:
                    dax.annotate(fmt.number(d, 2 if abs(d) < 10 else 1 if abs(d) < 100 else 0, signed=True), (d, y), fontsize=7, va="center", ha="left" if d >= 0 else "right", xytext=(3 if d >= 0 else -3, 0), textcoords="offset points")
        from matplotlib.patches import Patch

        handles = [Patch(color=PLAN_COLOURS[0]), Patch(color=PLAN_COLOURS[1]), Patch(color=DELTA_COLOURS["good"]), Patch(color=DELTA_COLOURS["bad"])]
        legend_labels = [text("chart.base", shown, name=shown_names[0]), text("chart.whatif", shown, name=shown_names[1]), text("chart.delta_good", shown), text("chart.delta_bad", shown)]
        fig.legend(handles, legend_labels, loc="upper center", bbox_to_anchor=(0.5, 0.995), ncol=4, fontsize=9, frameon=False)
        top = 1 - 0.5 / (2.2 + 0.42 * sum(heights))  # room for the legend above the panels
        fig.tight_layout(rect=(0, 0, 1, top))
        fig.canvas.draw()  # lay the text out while the fonts of ``lang`` apply
    return plt, fig


def comparison_png(a: Plan, b: Plan, path: str | os.PathLike[str], *, names: tuple[str, str] = ("base", "what-if"), lang: str = "en") -> Path:
    """Draw two plans side by side with the change B − A (rates, tonnes by fate, cost terms) as a PNG.

    Args:
        a: the first plan.
        b: the second plan.
        path: the PNG file (written atomically).
        names: legend names of the two plans.
        lang: ``en`` or ``zh`` (Chinese only if a CJK font is installed, see :func:`cjk_font`).

    Returns:
        The path.
    """
    plt, fig = comparison_figure(a, b, names=names, lang=lang)
    with _pyplot(lang):
        return _save(fig, plt, path)


# ---------------------------------------------------------------------------------------------
# flowopt risk: the histogram of the highest reachable rate and the tornado
# ---------------------------------------------------------------------------------------------


def risk_histogram_png(result: Any, path: str | os.PathLike[str], *, lang: str = "en") -> Path:
    """The histogram of a risk run's highest reachable rates as a PNG (see :func:`flowopt.charts.risk_histogram_svg`).

    Args:
        result: a :class:`flowopt.risk.RiskResult`.
        path: the PNG file (written atomically).
        lang: ``en`` or ``zh`` (Chinese only if a CJK font is installed, see :func:`cjk_font`).

    Returns:
        The path.
    """
    from flowopt.charts import RISK_COLOURS, _p_text, histogram_bins

    lang = check_lang(lang)
    rates = [r.max_rate * 100 for r in result.rows if r.solved and r.max_rate is not None]
    target = result.target * 100
    with _pyplot(lang) as (plt, zh):
        shown = "zh" if zh else "en"
        fig, ax = plt.subplots(figsize=(8, 4.4), dpi=120)
        p = result.probability
        ax.set_title(text("chart.hist_title", shown, n=f"{p.n:,}", target=fmt.rate(result.target, 1), p=_p_text(p)), fontsize=10)
        if rates:
            edges = histogram_bins(rates, target)
            below = [v for v in rates if v < target - 1e-9]
            above = [v for v in rates if v >= target - 1e-9]
            ax.hist([below, above], bins=edges, stacked=True, color=[RISK_COLOURS["misses"], RISK_COLOURS["reaches"]], alpha=0.85, label=[text("chart.misses", shown), text("chart.reaches", shown)])
            ax.axvline(target, color="#111", linestyle="--", linewidth=1.2, label=text("chart.target_marker", shown, rate=fmt.rate(result.target, 1)))
            if result.deterministic_max_rate is not None:
                ax.axvline(result.deterministic_max_rate * 100, color="#555", linestyle=":", linewidth=1.2, label=text("chart.scenario_value", shown, rate=fmt.rate(result.deterministic_max_rate, 1)))
            ax.legend(fontsize=8, loc="upper left", frameon=False)
        else:
            ax.text(0.5, 0.5, text("chart.no_data", shown), transform=ax.transAxes, ha="center", va="center", color="#666")
        ax.set_xlabel(text("chart.hist_axis", shown))
        ax.set_ylabel(text("chart.samples_axis", shown))
        ax.grid(True, axis="y", color="#e6e6e6")
        fig.tight_layout()
        return _save(fig, plt, path)


def tornado_png(result: Any, path: str | os.PathLike[str], *, lang: str = "en") -> Path:
    """The tornado of a risk run as a PNG (see :func:`flowopt.charts.tornado_svg`).

    Args:
        result: a :class:`flowopt.risk.RiskResult`.
        path: the PNG file (written atomically).
        lang: ``en`` or ``zh`` (Chinese only if a CJK font is installed, see :func:`cjk_font`).

    Returns:
        The path.
    """
    from flowopt.charts import RISK_COLOURS

    lang = check_lang(lang)
    bars = [b for b in result.tornado if b.low_rate is not None and b.high_rate is not None]
    with _pyplot(lang) as (plt, zh):
        shown = "zh" if zh else "en"
        fig, ax = plt.subplots(figsize=(10, 1.6 + 0.5 * max(len(bars), 1)), dpi=110)
        ax.set_title(text("chart.tornado_title", shown), fontsize=10, loc="left")
        if bars:
            base = (result.deterministic_max_rate if result.deterministic_max_rate is not None else bars[0].low_rate) * 100
            ys = list(range(len(bars)))
            for y, b in zip(ys, bars, strict=True):
                for side, rate, value, dy in (("low", b.low_rate, b.low_value, -0.18), ("high", b.high_rate, b.high_value, 0.18)):
                    ax.barh(y + dy, rate * 100 - base, left=base, height=0.34, color=RISK_COLOURS[side])
                    ax.annotate(clip(value, 24), (rate * 100, y + dy), fontsize=7, va="center", ha="left" if rate * 100 >= base else "right", xytext=(3 if rate * 100 >= base else -3, 0), textcoords="offset points")
            ax.set_yticks(ys)
            ax.set_yticklabels([clip(_label(b.label_zh if zh else None, b.label_en, zh), 48) for b in bars], fontsize=8)
            ax.invert_yaxis()
            ax.axvline(base, color="#333", linewidth=1)
            ax.axvline(result.target * 100, color="#111", linestyle="--", linewidth=1.2)
            ax.margins(x=0.15)
            from matplotlib.patches import Patch

            ax.legend([Patch(color=RISK_COLOURS["low"]), Patch(color=RISK_COLOURS["high"])], [text("chart.input_low", shown), text("chart.input_high", shown)], fontsize=8, loc="lower right", frameon=False)
        else:
            ax.text(0.5, 0.5, text("chart.no_data", shown), transform=ax.transAxes, ha="center", va="center", color="#666")
        ax.set_xlabel(text("chart.tornado_axis", shown))
        ax.grid(True, axis="x", color="#e6e6e6")
        fig.tight_layout()
        return _save(fig, plt, path)
