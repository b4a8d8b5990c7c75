"""PNG charts (matplotlib, no browser): the target–cost curve and the comparison of two plans.

Stage: results -> pictures for documents that cannot hold SVG. The SVG versions in
:mod:`flowopt.charts` remain the reference (interactive titles, exact text); these render the
same data with matplotlib's Agg backend. Chinese labels are used when a CJK font is installed
(e.g. Noto Sans CJK, WenQuanYi); otherwise the English labels are drawn, so no glyph is lost.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from flowopt.io import atomic_path
from flowopt.results import Plan

_CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei")


def _pyplot(lang: str) -> tuple[object, bool]:
    """Import pyplot on the Agg backend; return it and whether Chinese can be drawn."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    zh = False
    if lang == "zh":
        available = {f.name for f in font_manager.fontManager.ttflist}
        font = next((f for f in _CJK_FONTS if f in available), None)
        if font:
            matplotlib.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
            matplotlib.rcParams["axes.unicode_minus"] = False
            zh = True
    return plt, zh


def cost_curve_png(curve: pd.DataFrame, path: str | os.PathLike[str], *, lang: str = "en", labels: dict[int, str] | None = None, current_target: float | None = None, max_rate: float | None = None) -> Path:
    """Draw the least cost against the target, one colour per segment, as a PNG.

    Args:
        curve: columns ``target`` (fraction), ``objective_cny`` and ``segment`` (int).
        path: the PNG file (written atomically).
        lang: ``en`` or ``zh`` (Chinese only if a CJK font is installed).
        labels: segment index -> legend text.
        current_target: marked with a dotted line.
        max_rate: the highest reachable rate, marked with a dashed line.

    Returns:
        The path.

    Raises:
        ValueError: when ``curve`` lacks the columns or has no row.
    """
    missing = {"target", "objective_cny", "segment"} - set(curve.columns)
    if missing or curve.empty:
        msg = f"the curve needs rows with columns target, objective_cny and segment (missing: {sorted(missing) or 'rows'})."
        raise ValueError(msg)
    plt, zh = _pyplot(lang)
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)  # type: ignore[attr-defined]
    for seg, part in curve.sort_values("target").groupby("segment", sort=True):
        label = (labels or {}).get(int(seg), f"segment {seg}")
        ax.plot(part["target"] * 100, part["objective_cny"] / 1e6, marker="o", markersize=3, linewidth=2, label=label[:70])
    if current_target is not None:
        ax.axvline(current_target * 100, color="#333", linestyle=":", linewidth=1)
    if max_rate is not None:
        ax.axvline(max_rate * 100, color="#c62828", linestyle="--", linewidth=1)
    ax.set_xlabel("综合利用率目标 (%)" if zh else "Utilization target (%)")
    ax.set_ylabel("年总成本（百万元）" if zh else "Total cost (M CNY/yr)")
    ax.set_title("目标—成本曲线" if zh else "Target–cost curve")
    ax.grid(True, color="#e6e6e6")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    with atomic_path(Path(path)) as work:
        fig.savefig(work, format="png")
    plt.close(fig)  # type: ignore[attr-defined]
    return Path(path)


def comparison_png(a: Plan, b: Plan, path: str | os.PathLike[str], *, names: tuple[str, str] = ("base", "what-if"), lang: str = "en") -> Path:
    """Draw two plans side by side (rates, tonnes by fate, cost terms) as a PNG.

    Args:
        a: the first plan.
        b: the second plan.
        path: the PNG file (written atomically).
        names: legend names of the two plans.
        lang: ``en`` or ``zh`` (Chinese only if a CJK font is installed).

    Returns:
        The path.
    """
    plt, zh = _pyplot(lang)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), dpi=110)  # type: ignore[attr-defined]
    width = 0.38
    rates = [("utilization", a.utilization_rate, b.utilization_rate)] + [(r.group, r.rate or 0.0, next((x.rate or 0.0 for x in b.rates_by_category if x.group == r.group), 0.0)) for r in a.rates_by_category]
    fates = [(k, getattr(a.kpis, k) / 1e6, getattr(b.kpis, k) / 1e6) for k in ("utilized_t", "disposed_t", "stored_t", "unmanaged_t")]
    sign = {"revenue_cny": -1.0}
    terms = [(k, sign.get(k, 1.0) * a.cost_terms[k] / 1e6, sign.get(k, 1.0) * b.cost_terms.get(k, 0.0) / 1e6) for k in a.cost_terms]
    panels = [
        (rates, "综合利用率" if zh else "Utilization rate", 100.0, "%"),
        (fates, "去向（百万吨/年）" if zh else "Tonnes by fate (Mt/yr)", 1.0, "Mt"),
        (terms, "成本分项（百万元/年）" if zh else "Cost terms (M CNY/yr; revenue negative)", 1.0, "M CNY"),
    ]
    for ax, (rows, title, scale, _unit) in zip(axes, panels, strict=True):
        ys = range(len(rows))
        ax.barh([y - width / 2 for y in ys], [r[1] * scale for r in rows], height=width, label=names[0], color="#1f77b4")
        ax.barh([y + width / 2 for y in ys], [r[2] * scale for r in rows], height=width, label=names[1], color="#ff7f0e")
        ax.set_yticks(list(ys))
        ax.set_yticklabels([r[0].removesuffix("_t").removesuffix("_cny") for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="x", color="#e6e6e6")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(Path(path)) as work:
        fig.savefig(work, format="png")
    plt.close(fig)  # type: ignore[attr-defined]
    return Path(path)
