"""Charts as dependency-free SVG: the target–cost curve and a side-by-side comparison of two plans.

Stage: results -> presentation. The functions take plain inputs (a DataFrame of target vs cost,
two :class:`~flowopt.results.Plan` objects) and return SVG text; ``write_svg`` writes it
atomically. Nothing here runs the optimizer: the sweep and the what-if that produce the inputs
live elsewhere. Output is deterministic (same input, same bytes).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowopt import fmt
from flowopt._render import FONT_FAMILY, check_lang, esc, fit, num, text_px, thousands
from flowopt.i18n import category, cost_term, metric, text, unit
from flowopt.io import atomic_path
from flowopt.results import TERM_SIGNS, Plan

#: Colours of the curve's segments, in order of first appearance.
SEGMENT_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
#: Colours of plan A and plan B in the comparison chart.
PLAN_COLOURS = ("#1f77b4", "#ff7f0e")


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Return round tick values covering ``[lo, hi]`` (steps of 1, 2, 2.5 or 5 x 10^k).

    Args:
        lo: smallest value to cover.
        hi: largest value to cover.
        count: about how many ticks.

    Returns:
        Ascending ticks; the first is <= ``lo`` and the last >= ``hi``.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        msg = f"ticks need finite bounds, got {lo!r} and {hi!r}."
        raise ValueError(msg)
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _tick_text(v: float, step: float) -> str:
    decimals = 0 if step >= 1 else min(4, max(0, -math.floor(math.log10(step) + 1e-9)))
    return thousands(v, decimals)


def _doc(width: float, height: float, label: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}" '
        f'font-family="{esc(FONT_FAMILY)}" role="img" aria-label="{esc(label)}">\n'
        '<rect width="100%" height="100%" fill="#ffffff"/>\n' + "\n".join(parts) + "\n</svg>\n"
    )


def _text(x: float, y: float, text: str, *, size: float = 12, anchor: str = "start", fill: str = "#333", extra: str = "") -> str:
    return f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" text-anchor="{anchor}" fill="{fill}"{extra}>{esc(text)}</text>'


# ---------------------------------------------------------------------------------------------
# Target–cost curve
# ---------------------------------------------------------------------------------------------


def cost_curve_svg(curve: pd.DataFrame, *, lang: str = "en", target_col: str = "target", cost_col: str = "objective_cny", segment_col: str | None = "segment", current_target: float | None = None, max_rate: float | None = None, title: str | None = None, width: float = 760.0, height: float = 460.0) -> str:
    """Plot total cost against the utilization target as an SVG line chart.

    The least-cost curve of an LP is piecewise linear; each segment (a range of targets over
    which the same constraints bind) is drawn in its own colour and listed in the legend with
    its slope, the marginal cost of one more percentage point. Targets the network cannot reach
    (cost missing) are shaded.

    Args:
        curve: one row per target, with columns ``target_col`` (fraction 0–1), ``cost_col``
            (total cost in CNY/yr; NaN or missing for an unreachable target) and, optionally,
            ``segment_col`` (a label per row: what binds on that stretch).
        lang: ``en`` or ``zh`` (axis titles, legend, units: M CNY or 万元).
        target_col: name of the target column.
        cost_col: name of the cost column.
        segment_col: name of the segment column, or ``None`` for one plain curve.
        current_target: draw a marker at this target (e.g. the policy's 0.70).
        max_rate: highest reachable rate, if known (drawn as a line; default: the largest
            target with a cost).
        title: heading; ``None`` for the default, ``""`` for none.
        width: picture width in px.
        height: picture height in px.

    Returns:
        The SVG text.

    Raises:
        ValueError: missing columns, no row with a cost, targets outside [0, 1] or non-numeric
            values.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    missing = [c for c in (target_col, cost_col, segment_col) if c is not None and c not in curve.columns]
    if missing:
        msg = f"The cost curve needs the column(s) {', '.join(missing)}; it has {', '.join(map(str, curve.columns)) or 'none'}."
        raise ValueError(msg)
    try:
        x_all = pd.to_numeric(curve[target_col], errors="raise").astype(float)
        y_all = pd.to_numeric(curve[cost_col], errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        msg = f"The cost curve's '{target_col}' and '{cost_col}' columns must be numbers: {exc}"
        raise ValueError(msg) from exc
    if x_all.isna().any() or ((x_all < 0) | (x_all > 1)).any():
        msg = f"Every '{target_col}' must be a fraction between 0 and 1 (0.7 = 70 %)."
        raise ValueError(msg)
    if curve.empty or y_all.isna().all():
        msg = "The cost curve has no target with a cost; nothing to plot."
        raise ValueError(msg)
    seg_all = curve[segment_col].astype(object).where(curve[segment_col].notna(), "") if segment_col else pd.Series([""] * len(curve), index=curve.index)
    # the cost axis in 亿元 or 万元 (Chinese, by magnitude) or M CNY (English)
    top_cny = float(y_all.abs().max())
    scale, unit_key = (1e8, "100M CNY/yr") if zh and top_cny >= 1e8 else (1e4, "10k CNY/yr") if zh else (1e6, "M CNY/yr")
    frame = pd.DataFrame({"x": x_all.to_numpy() * 100, "y": y_all.to_numpy() / scale, "seg": [str(s) for s in seg_all]})
    frame = frame.sort_values(["x", "seg"], kind="stable").reset_index(drop=True)
    ok = frame[frame["y"].notna()]
    reach = (max_rate * 100) if max_rate is not None else float(ok["x"].max())
    unit_text = unit(unit_key, lang)
    title = text("chart.curve_title", lang) if title is None else title

    left, right, top, bottom = 84.0, width - 24.0, 24.0 + (30.0 if title else 0.0), height - 56.0
    segs = list(dict.fromkeys(s for s in ok["seg"]))
    legend_rows = len([s for s in segs if s]) + (1 if frame["y"].isna().any() else 0)
    bottom -= 18.0 * legend_rows
    if bottom - top < 80 or right - left < 120:
        msg = f"Chart size {width:.0f} x {height:.0f} px is too small."
        raise ValueError(msg)
    xs_lo = min(float(frame["x"].min()), current_target * 100 if current_target is not None else math.inf)
    xs_hi = max(float(frame["x"].max()), current_target * 100 if current_target is not None else -math.inf, reach)
    xt = nice_ticks(xs_lo, xs_hi)
    yt = nice_ticks(float(ok["y"].min()), float(ok["y"].max()))
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    parts: list[str] = []
    if title:
        parts.append(_text(16, 30, title, size=16, extra=' font-weight="bold"', fill="#111"))
    # grid and axes
    parts.append('<g class="grid" stroke="#e6e6e6">')
    parts += [f'<line x1="{num(left)}" x2="{num(right)}" y1="{num(py(v))}" y2="{num(py(v))}"/>' for v in yt]
    parts += [f'<line x1="{num(px(v))}" x2="{num(px(v))}" y1="{num(top)}" y2="{num(bottom)}"/>' for v in xt]
    parts.append("</g>")
    xstep, ystep = (xt[1] - xt[0]) if len(xt) > 1 else 1.0, (yt[1] - yt[0]) if len(yt) > 1 else 1.0
    parts += [_text(px(v), bottom + 16, _tick_text(v, xstep) + "%", anchor="middle", size=11) for v in xt]
    parts += [_text(left - 6, py(v) + 4, _tick_text(v, ystep), anchor="end", size=11) for v in yt]
    if y0 < 0 < y1:
        parts.append(f'<line class="zero" x1="{num(left)}" x2="{num(right)}" y1="{num(py(0))}" y2="{num(py(0))}" stroke="#999"/>')
    parts.append(f'<rect x="{num(left)}" y="{num(top)}" width="{num(right - left)}" height="{num(bottom - top)}" fill="none" stroke="#888"/>')
    parts.append(_text((left + right) / 2, bottom + 36, text("chart.target_axis", lang), anchor="middle", size=12))
    parts.append(_text(18, (top + bottom) / 2, text("chart.cost_axis", lang, unit=unit_text), anchor="middle", size=12, extra=f' transform="rotate(-90 18 {num((top + bottom) / 2)})"'))
    # unreachable targets
    if frame["y"].isna().any() and reach < x1:
        parts.append(f'<rect class="unreachable" x="{num(px(reach))}" y="{num(top)}" width="{num(right - px(reach))}" height="{num(bottom - top)}" fill="#c62828" fill-opacity="0.07"/>')
    if frame["y"].isna().any() or max_rate is not None:
        parts.append(f'<line class="max-rate" x1="{num(px(reach))}" x2="{num(px(reach))}" y1="{num(top)}" y2="{num(bottom)}" stroke="#c62828" stroke-dasharray="5,3"/>')
        label = text("chart.max_reachable", lang, rate=f"{reach:.1f}%")
        lx, ly = px(reach) + 13, (top + bottom) / 2
        parts.append(_text(lx, ly, label, anchor="middle", size=11, fill="#c62828", extra=f' transform="rotate(-90 {num(lx)} {num(ly)})"'))
    if current_target is not None:
        cx = px(current_target * 100)
        parts.append(f'<line class="current" x1="{num(cx)}" x2="{num(cx)}" y1="{num(top)}" y2="{num(bottom)}" stroke="#333" stroke-dasharray="2,3"/>')
        parts.append(_text(cx + 4, bottom - 6, text("chart.target_marker", lang, rate=f"{current_target * 100:.0f}%"), size=11))
    # curve: grey connectors between segments, then each segment in its colour
    colour = {s: SEGMENT_COLOURS[i % len(SEGMENT_COLOURS)] for i, s in enumerate(segs)}
    pts = list(ok.itertuples(index=False))
    for a, b in itertools.pairwise(pts):
        if a.seg != b.seg:
            parts.append(f'<line class="connector" x1="{num(px(a.x))}" y1="{num(py(a.y))}" x2="{num(px(b.x))}" y2="{num(py(b.y))}" stroke="#999" stroke-width="2" stroke-dasharray="4,3"/>')
    legend: list[tuple[str, str]] = []
    for s in segs:
        run = ok[ok["seg"] == s]
        coords = " ".join(f"{num(px(r.x))},{num(py(r.y))}" for r in run.itertuples(index=False))
        parts.append(f'<polyline class="segment" data-segment="{esc(s)}" points="{coords}" fill="none" stroke="{colour[s]}" stroke-width="2.5" stroke-linejoin="round"/>')
        for r in run.itertuples(index=False):
            tip = f"{r.x:.2f}%: {fmt.money(r.y * scale, lang)}" + (f" — {s}" if s else "")
            parts.append(f'<circle cx="{num(px(r.x))}" cy="{num(py(r.y))}" r="3" fill="{colour[s]}"><title>{esc(tip)}</title></circle>')
        if s:
            slope = ""
            if len(run) > 1 and run["x"].iloc[-1] > run["x"].iloc[0]:
                d = (run["y"].iloc[-1] - run["y"].iloc[0]) / (run["x"].iloc[-1] - run["x"].iloc[0]) * scale  # CNY/yr per point
                slope = text("chart.slope", lang, value=fmt.money(d, lang) if zh else f"{thousands(d / 1e6, 2)} M CNY/yr")
            legend.append((colour[s], s + slope))
    if frame["y"].isna().any():
        legend.append(("#f3d9d9", text("chart.unreachable", lang)))
    y = bottom + 52
    for c, label in legend:
        parts.append(f'<rect x="{num(left)}" y="{num(y - 9)}" width="14" height="10" fill="{c}"/>')
        parts.append(_text(left + 20, y, fit(label, right - left - 20, 12), size=12))
        y += 18
    return _doc(width, height, title or "target-cost curve", parts)


# ---------------------------------------------------------------------------------------------
# Comparison of two plans
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    label: str
    a: float | None
    b: float | None


#: Colours of a change that helps (more utilized, lower cost), hurts, or is neutral.
DELTA_COLOURS = {"good": "#2e7d32", "bad": "#c62828", "neutral": "#607d8b"}


@dataclass(frozen=True)
class _Scale:
    """How one panel shows its values: divide by ``div``, unit text, decimals."""

    kind: str
    div: float
    unit: str
    decimals: int


def _panel_scale(kind: str, rows: list[_Row], lang: str) -> _Scale:
    top = max([abs(v) for r in rows for v in (r.a, r.b) if v is not None] or [0.0])
    if kind == "rate":
        return _Scale(kind, 0.01, "%", 1)
    if kind == "tonnes":
        if lang == "zh":
            return _Scale(kind, 1e4, unit("10kt/yr", lang), 1) if top >= 1e4 else _Scale(kind, 1.0, unit("t/yr", lang), 0)
        return _Scale(kind, 1e6, unit("Mt/yr", lang), 2) if top >= 1e5 else _Scale(kind, 1.0, unit("t/yr", lang), 0)
    if lang == "zh":  # 亿元, 万元 or 元 by magnitude
        if top >= 1e8:
            return _Scale(kind, 1e8, unit("100M CNY/yr", lang), 2)
        if top >= 1e4:
            return _Scale(kind, 1e4, unit("10k CNY/yr", lang), 0 if top >= 1e7 else 1 if top >= 1e5 else 2)
        return _Scale(kind, 1.0, unit("CNY/yr", lang), 0)
    if top >= 1e5:
        return _Scale(kind, 1e6, unit("M CNY/yr", lang), 1 if top >= 1e7 else 2)
    return _Scale(kind, 1.0, unit("CNY/yr", lang), 0)


def _fmt(scale: _Scale, v: float | None, lang: str, *, signed: bool = False) -> str:
    if v is None:
        return text("n/a", lang)
    if scale.kind == "rate":
        return fmt.points(v, lang, 1) if signed else fmt.rate(v, 1)
    return fmt.number(v / scale.div, scale.decimals, signed=signed)


def _panel(parts: list[str], y: float, width: float, heading: str, rows: list[_Row], scale: _Scale, lang: str, *, better: int) -> float:
    """Draw one panel: grouped bars of A and B with their values, and the change B − A as a bar.

    ``better`` is +1 when an increase is good (rates), -1 when it is bad (costs), 0 for neutral.
    Returns the y below the panel.
    """
    label_w, value_w, delta_w, delta_text_w = 190.0, 78.0, 130.0, 96.0
    left = 16.0 + label_w
    right = width - 16.0 - delta_text_w - delta_w - 16.0 - value_w
    d_left, d_right = right + value_w + 16.0, right + value_w + 16.0 + delta_w
    parts.append(_text(16, y + 14, heading, size=13.5, extra=' font-weight="bold"', fill="#111"))
    parts.append(_text(right + value_w - 4, y + 14, scale.unit, size=11, anchor="end", fill="#666"))
    parts.append(_text((d_left + d_right) / 2, y + 14, text("chart.delta", lang), size=11, anchor="middle", fill="#666"))
    y += 24
    vals = [v for r in rows for v in (r.a, r.b) if v is not None]
    lo, hi = min([0.0, *vals]), max([0.0, *vals])
    if hi == lo:
        hi = lo + 1.0
    deltas = [r.b - r.a for r in rows if r.a is not None and r.b is not None]
    dmax = max([abs(d) for d in deltas] or [0.0]) or 1.0

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    def dx(v: float) -> float:
        return (d_left + d_right) / 2 + v / dmax * (delta_w / 2 - 2)

    bar_h, row_h = 10.0, 30.0
    top = y
    for r in rows:
        parts.append(_text(16 + label_w - 8, y + 17, fit(r.label, label_w - 10, 12), anchor="end", size=12))
        for i, v in enumerate((r.a, r.b)):
            by = y + 4 + i * (bar_h + 2)
            if v is not None:
                xa, xb = sorted((px(0), px(v)))
                parts.append(f'<rect class="bar plan-{"ab"[i]}" x="{num(xa)}" y="{num(by)}" width="{num(max(xb - xa, 0.5))}" height="{num(bar_h)}" fill="{PLAN_COLOURS[i]}"/>')
            parts.append(_text(right + value_w - 4, by + 9, _fmt(scale, v, lang), anchor="end", size=10.5))
        if r.a is not None and r.b is not None:
            d = r.b - r.a
            tone = "neutral" if better == 0 or abs(d) < 1e-12 else ("good" if d * better > 0 else "bad")
            xa, xb = sorted((dx(0), dx(d)))
            if abs(d) > 1e-12:
                parts.append(f'<rect class="delta-bar {tone}" x="{num(xa)}" y="{num(y + 6)}" width="{num(max(xb - xa, 0.5))}" height="{num(bar_h * 2 - 4)}" fill="{DELTA_COLOURS[tone]}"><title>{esc(_fmt(scale, d, lang, signed=True))}</title></rect>')
            dtext = _fmt(scale, d, lang, signed=True) if abs(d) > 1e-12 else "0"
            parts.append(_text(width - 16, y + 17, dtext, anchor="end", size=11, fill=DELTA_COLOURS[tone] if tone != "neutral" else "#333"))
        y += row_h
    parts.append(f'<line x1="{num(px(0))}" x2="{num(px(0))}" y1="{num(top)}" y2="{num(y)}" stroke="#888"/>')
    parts.append(f'<line class="delta-zero" x1="{num(dx(0))}" x2="{num(dx(0))}" y1="{num(top)}" y2="{num(y)}" stroke="#888"/>')
    return y + 14


def comparison_rows(a: Plan, b: Plan, lang: str) -> dict[str, list[_Row]]:
    """The rows of the comparison chart: ``rates``, ``tonnes`` (t/yr) and ``costs`` (CNY/yr, revenue negative)."""
    ka, kb = a.kpis, b.kpis
    rates = [_Row(metric("utilization_rate", lang)[0], ka.utilization_rate, kb.utilization_rate), _Row(metric("target", lang)[0], a.target, b.target)]
    cat_a = {r.group: r.rate for r in a.rates_by_category}
    cat_b = {r.group: r.rate for r in b.rates_by_category}
    rates += [_Row(category(c, lang), cat_a.get(c), cat_b.get(c)) for c in sorted(set(cat_a) | set(cat_b))]
    fates = ("generated_t", "reclaimed_t", "utilized_t", "disposed_t", "stored_t", "unmanaged_t", "lost_t")
    tonnes = [_Row(metric(f, lang)[0], getattr(ka, f), getattr(kb, f)) for f in fates if f == "generated_t" or getattr(ka, f) or getattr(kb, f)]
    costs = []
    for term in dict.fromkeys([*a.cost_terms, *b.cost_terms]):
        va, vb = a.cost_terms.get(term, 0.0), b.cost_terms.get(term, 0.0)
        if va == 0 and vb == 0:
            continue
        sign = float(TERM_SIGNS.get(term, 1))  # revenue and incentives lower the cost
        costs.append(_Row(cost_term(term, lang), sign * va, sign * vb))
    costs.append(_Row(text("total_cost", lang), a.objective_cny, b.objective_cny))
    return {"rates": rates, "tonnes": tonnes, "costs": costs}


def comparison_svg(a: Plan, b: Plan, *, names: Sequence[str] = ("A", "B"), lang: str = "en", title: str | None = None, width: float = 900.0) -> str:
    """Compare two plans: rates, tonnes by fate and cost terms, each with the change B − A, as SVG.

    Args:
        a: the first plan (e.g. the baseline).
        b: the second plan (e.g. a what-if).
        names: display names of ``a`` and ``b``.
        lang: ``en`` or ``zh``.
        title: heading; ``None`` for the default, ``""`` for none.
        width: picture width in px (the height follows from the rows).

    Returns:
        The SVG text: a legend above the panels (outside the bars), then three panels (rates in
        %, tonnes in Mt/yr or 万吨/年, cost terms in M CNY/yr or 万元/年 / 亿元/年, revenue
        shown negative as it is subtracted). Each row has both plans' bars and values, and the
        change B − A as a bar around zero (green where it helps, red where it hurts) with its value.

    Raises:
        ValueError: ``names`` does not hold two names, or an unknown ``lang``.
    """
    lang = check_lang(lang)
    if len(names) != 2:
        msg = f"names must hold two display names (for a and b), got {len(names)}."
        raise ValueError(msg)
    title = text("chart.compare_title", lang, a=names[0], b=names[1]) if title is None else title
    rows = comparison_rows(a, b, lang)
    parts: list[str] = []
    y = 16.0
    if title:
        parts.append(_text(16, y + 16, title, size=16, extra=' font-weight="bold"', fill="#111"))
        y += 30
    x = 16.0
    legend = [(PLAN_COLOURS[0], text("chart.base", lang, name=names[0])), (PLAN_COLOURS[1], text("chart.whatif", lang, name=names[1])), (DELTA_COLOURS["good"], text("chart.delta_good", lang)), (DELTA_COLOURS["bad"], text("chart.delta_bad", lang))]
    for colour, label in legend:
        parts.append(f'<rect class="legend" x="{num(x)}" y="{num(y)}" width="14" height="10" fill="{colour}"/>')
        parts.append(_text(x + 20, y + 10, label, size=12))
        x += 20 + text_px(label, 12) + 24
    y += 22
    for key, kind, heading, better in (("rates", "rate", "chart.rates", 1), ("tonnes", "tonnes", "chart.tonnes", 0), ("costs", "cost", "chart.costs", -1)):
        scale = _panel_scale(kind, rows[key], lang)
        y = _panel(parts, y, width, text(heading, lang, unit=scale.unit), rows[key], scale, lang, better=better)
    return _doc(width, y + 4, title or "plan comparison", parts)


def write_svg(svg: str, path: str | os.PathLike[str]) -> Path:
    """Write SVG text to ``path`` atomically (a reader never sees a half-written file).

    Args:
        svg: SVG text, e.g. from :func:`cost_curve_svg` or :func:`comparison_svg`.
        path: target ``.svg`` file.

    Returns:
        The path written.

    Raises:
        ValueError: ``path`` does not end in ``.svg``.
    """
    target = Path(path)
    if target.suffix.lower() != ".svg":
        msg = f"'{target.name}' is not an .svg file name; these charts are SVG (convert with e.g. rsvg-convert for PNG)."
        raise ValueError(msg)
    with atomic_path(target) as work:
        work.write_text(svg, encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------------
# flowopt risk: the histogram of the highest reachable rate and the tornado
# ---------------------------------------------------------------------------------------------

#: Colours of the risk charts: samples that reach the target, those that miss it, input low/high.
RISK_COLOURS = {"reaches": "#2e7d32", "misses": "#c62828", "low": "#1f77b4", "high": "#ff7f0e"}


def histogram_bins(values: Sequence[float], target: float, count: int = 24) -> list[float]:
    """Bin edges (in %) for a histogram of rates: round steps, one edge exactly at ``target`` (%).

    Args:
        values: the rates, in percent.
        target: the target, in percent (an edge, so no bin straddles it).
        count: about how many bins.

    Returns:
        Ascending edges covering every value.
    """
    lo, hi = min([*values, target]), max([*values, target])
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = target - math.ceil((target - lo) / step - 1e-9) * step
    edges = [first]
    while edges[-1] < hi - 1e-9 or len(edges) < 2:
        edges.append(round(first + len(edges) * step, 10))
    return edges


def risk_histogram_svg(result: Any, *, lang: str = "en", width: float = 760.0, height: float = 420.0) -> str:
    """The highest reachable rate over the samples of a risk run, as an SVG histogram.

    Bars at or above the target are green (the sample reaches it), below it red; the target and
    the scenario's own highest rate are marked; the title gives the probability and its interval.

    Args:
        result: a :class:`flowopt.risk.RiskResult`.
        lang: ``en`` or ``zh``.
        width: picture width in px.
        height: picture height in px.

    Returns:
        The SVG text.
    """
    lang = check_lang(lang)
    rates = [r.max_rate * 100 for r in result.rows if r.solved and r.max_rate is not None]
    target = result.target * 100
    p = result.probability
    title = text("chart.hist_title", lang, n=f"{p.n:,}", target=fmt.rate(result.target, 1), p=_p_text(p))
    parts = [_text(16, 28, fit(title, width - 32, 15), size=15, extra=' font-weight="bold"', fill="#111")]
    left, right, top, bottom = 64.0, width - 20.0, 48.0, height - 74.0
    if not rates:
        parts.append(_text(width / 2, (top + bottom) / 2, text("chart.no_data", lang), anchor="middle", size=14, fill="#666"))
        return _doc(width, height, title, parts)
    edges = histogram_bins(rates, target)
    counts = [0] * (len(edges) - 1)
    for v in rates:
        k = min(max(0, int(np.searchsorted(edges, v, side="right")) - 1), len(counts) - 1)
        counts[k] += 1
    yt = nice_ticks(0, max(counts), 5)
    x0, x1, y1 = edges[0], edges[-1], yt[-1] or 1

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - v / y1 * (bottom - top)

    parts.append('<g class="grid" stroke="#e6e6e6">')
    parts += [f'<line x1="{num(left)}" x2="{num(right)}" y1="{num(py(v))}" y2="{num(py(v))}"/>' for v in yt]
    parts.append("</g>")
    parts += [_text(left - 6, py(v) + 4, thousands(v), anchor="end", size=11) for v in yt]
    xt = nice_ticks(x0, x1, 8)
    parts += [_text(px(v), bottom + 16, _tick_text(v, xt[1] - xt[0] if len(xt) > 1 else 1.0) + "%", anchor="middle", size=11) for v in xt if x0 - 1e-9 <= v <= x1 + 1e-9]
    for k, c in enumerate(counts):
        if not c:
            continue
        kind = "reaches" if edges[k] >= target - 1e-9 else "misses"
        tip = f"{edges[k]:.2f}–{edges[k + 1]:.2f}%: {c}"
        parts.append(f'<rect class="bar {kind}" x="{num(px(edges[k]) + 0.5)}" y="{num(py(c))}" width="{num(max(px(edges[k + 1]) - px(edges[k]) - 1, 0.5))}" height="{num(bottom - py(c))}" fill="{RISK_COLOURS[kind]}" fill-opacity="0.8"><title>{esc(tip)}</title></rect>')
    parts.append(f'<rect x="{num(left)}" y="{num(top)}" width="{num(right - left)}" height="{num(bottom - top)}" fill="none" stroke="#888"/>')
    tx = px(target)
    parts.append(f'<line class="target" x1="{num(tx)}" x2="{num(tx)}" y1="{num(top)}" y2="{num(bottom)}" stroke="#111" stroke-dasharray="5,3" stroke-width="1.5"/>')
    parts.append(_text(tx + 4, top + 14, text("chart.target_marker", lang, rate=fmt.rate(result.target, 1)), size=11, fill="#111"))
    if result.deterministic_max_rate is not None:
        dx = px(min(max(result.deterministic_max_rate * 100, x0), x1))
        parts.append(f'<line class="scenario-value" x1="{num(dx)}" x2="{num(dx)}" y1="{num(top)}" y2="{num(bottom)}" stroke="#555" stroke-dasharray="2,3"/>')
        parts.append(_text(dx + 4, top + 30, text("chart.scenario_value", lang, rate=fmt.rate(result.deterministic_max_rate, 1)), size=11, fill="#555"))
    parts.append(_text((left + right) / 2, bottom + 34, text("chart.hist_axis", lang), anchor="middle", size=12))
    parts.append(_text(16, (top + bottom) / 2, text("chart.samples_axis", lang), anchor="middle", size=12, extra=f' transform="rotate(-90 16 {num((top + bottom) / 2)})"'))
    x = left
    for kind in ("reaches", "misses"):
        label = text(f"chart.{kind}", lang)
        parts.append(f'<rect class="legend" x="{num(x)}" y="{num(height - 22)}" width="14" height="10" fill="{RISK_COLOURS[kind]}"/>')
        parts.append(_text(x + 20, height - 13, label, size=12))
        x += 20 + text_px(label, 12) + 24
    return _doc(width, height, title, parts)


def _p_text(p: Any) -> str:
    """``22.5% (17.3–28.8%)``: a probability with its interval."""
    if p.estimate is None:
        return "–"
    return f"{fmt.rate(p.estimate, 1)} ({fmt.rate(p.low, 1)}–{fmt.rate(p.high, 1)})"


def tornado_svg(result: Any, *, lang: str = "en", width: float = 900.0) -> str:
    """The tornado of a risk run: how far each uncertain input moves the highest reachable rate.

    One bar per input (or correlation group), longest first, from the rate with the input low
    to the rate with it high, around the scenario's own highest rate; the input's low and high
    values are written at the bar's ends and the target is marked.

    Args:
        result: a :class:`flowopt.risk.RiskResult`.
        lang: ``en`` or ``zh``.
        width: picture width in px (the height follows from the bars).

    Returns:
        The SVG text.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    bars = [b for b in result.tornado if b.low_rate is not None and b.high_rate is not None]
    title = text("chart.tornado_title", lang)
    parts = [_text(16, 28, fit(title, width - 32, 15), size=15, extra=' font-weight="bold"', fill="#111")]
    row_h, label_w = 34.0, 300.0
    top = 70.0
    height = top + row_h * max(len(bars), 1) + 70
    left, right = 16 + label_w, width - 110.0
    if not bars:
        parts.append(_text(width / 2, top + 20, text("chart.no_data", lang), anchor="middle", size=14, fill="#666"))
        return _doc(width, height, title, parts)
    base = (result.deterministic_max_rate if result.deterministic_max_rate is not None else bars[0].low_rate) * 100
    values = [v * 100 for b in bars for v in (b.low_rate, b.high_rate)] + [base, result.target * 100]
    xt = nice_ticks(min(values), max(values), 7)
    x0, x1 = xt[0], xt[-1]

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    bottom = top + row_h * len(bars)
    parts.append('<g class="grid" stroke="#e6e6e6">')
    parts += [f'<line x1="{num(px(v))}" x2="{num(px(v))}" y1="{num(top)}" y2="{num(bottom)}"/>' for v in xt]
    parts.append("</g>")
    parts += [_text(px(v), bottom + 16, _tick_text(v, xt[1] - xt[0] if len(xt) > 1 else 1.0) + "%", anchor="middle", size=11) for v in xt]
    for k, b in enumerate(bars):
        y = top + k * row_h
        label = b.label_zh if zh else b.label_en
        parts.append(_text(16 + label_w - 8, y + row_h / 2 + 4, fit(label, label_w - 12, 12), anchor="end", size=12))
        for side, rate, value in (("low", b.low_rate, b.low_value), ("high", b.high_rate, b.high_value)):
            xa, xb = sorted((px(base), px(rate * 100)))
            tip = f"{value}: {fmt.rate(rate, 2)}"
            parts.append(f'<rect class="bar {side}" x="{num(xa)}" y="{num(y + 7 + (0 if side == "low" else 10))}" width="{num(max(xb - xa, 1.0))}" height="10" fill="{RISK_COLOURS[side]}"><title>{esc(tip)}</title></rect>')
            anchor = "end" if rate * 100 < base else "start"
            tx = px(rate * 100) + (-4 if anchor == "end" else 4)
            parts.append(_text(tx, y + 16 + (0 if side == "low" else 10), fit(value, 150, 10), anchor=anchor, size=10, fill="#333"))
    parts.append(f'<line class="base" x1="{num(px(base))}" x2="{num(px(base))}" y1="{num(top - 6)}" y2="{num(bottom)}" stroke="#333"/>')
    parts.append(_text(px(base), top - 10, text("chart.scenario_value", lang, rate=fmt.rate(base / 100, 1)), anchor="middle", size=11, fill="#333"))
    tx = px(result.target * 100)
    parts.append(f'<line class="target" x1="{num(tx)}" x2="{num(tx)}" y1="{num(top - 6)}" y2="{num(bottom)}" stroke="#111" stroke-dasharray="5,3" stroke-width="1.5"/>')
    parts.append(_text(tx, bottom + 32, text("chart.target_marker", lang, rate=fmt.rate(result.target, 1)), anchor="middle", size=11, fill="#111"))
    x = left
    for side in ("low", "high"):
        label = text(f"chart.input_{side}", lang)
        parts.append(f'<rect class="legend" x="{num(x)}" y="{num(height - 22)}" width="14" height="10" fill="{RISK_COLOURS[side]}"/>')
        parts.append(_text(x + 20, height - 13, label, size=12))
        x += 20 + text_px(label, 12) + 24
    return _doc(width, height, title, parts)


# ---------------------------------------------------------------------------------------------
# Cost–CO2 curve (flowopt sweep --co2)
# ---------------------------------------------------------------------------------------------


def co2_curve_svg(curve: Any, *, lang: str = "en", width: float = 760.0, height: float = 440.0) -> str:
    """Plot the least cost against the CO2 cap (a :class:`~flowopt.sweep.Co2Curve`) as SVG.

    The curve is convex and piecewise linear: one line through the points, the breakpoints
    (kinks) are dots, the least CO2 at the target and the least-cost plan's CO2 are dashed
    lines, and the slope (CNY per tCO2) of the first and the last segment is written beside it.

    Args:
        curve: the curve (``points``, ``segments``, ``least_tco2``, ``free_tco2``, ``basis``).
        lang: ``en`` or ``zh``.
        width: picture width in px.
        height: picture height in px.

    Returns:
        The SVG text.

    Raises:
        ValueError: a curve without points.
    """
    from flowopt.i18n import value

    lang = check_lang(lang)
    zh = lang == "zh"
    pts = sorted(curve.points, key=lambda p: p.cap_tco2)
    if not pts:
        msg = "The cost–CO2 curve has no point; nothing to plot."
        raise ValueError(msg)
    top_cny = max(abs(p.objective_cny) for p in pts)
    scale, unit_key = (1e8, "100M CNY/yr") if zh and top_cny >= 1e8 else (1e4, "10k CNY/yr") if zh else (1e6, "M CNY/yr")
    title = text("chart.co2_title", lang, basis=value("co2_basis", curve.basis, lang))
    left, right, top, bottom = 84.0, width - 24.0, 54.0, height - 92.0
    xs = [p.cap_tco2 / 1e3 for p in pts]
    ys = [p.objective_cny / scale for p in pts]
    marks = [v / 1e3 for v in (curve.least_tco2, curve.free_tco2) if v is not None]
    xt = nice_ticks(min([*xs, *marks]), max([*xs, *marks]))
    yt = nice_ticks(min(ys), max(ys))
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    parts = [_text(16, 30, title, size=16, extra=' font-weight="bold"', fill="#111"), '<g class="grid" stroke="#e6e6e6">']
    parts += [f'<line x1="{num(left)}" x2="{num(right)}" y1="{num(py(v))}" y2="{num(py(v))}"/>' for v in yt]
    parts += [f'<line x1="{num(px(v))}" x2="{num(px(v))}" y1="{num(top)}" y2="{num(bottom)}"/>' for v in xt]
    parts.append("</g>")
    xstep, ystep = (xt[1] - xt[0]) if len(xt) > 1 else 1.0, (yt[1] - yt[0]) if len(yt) > 1 else 1.0
    parts += [_text(px(v), bottom + 16, _tick_text(v, xstep), anchor="middle", size=11) for v in xt]
    parts += [_text(left - 6, py(v) + 4, _tick_text(v, ystep), anchor="end", size=11) for v in yt]
    parts.append(f'<rect x="{num(left)}" y="{num(top)}" width="{num(right - left)}" height="{num(bottom - top)}" fill="none" stroke="#888"/>')
    axis = text("chart.co2_axis", lang).replace("（吨/年）", "（千吨/年）").replace("(tCO2/yr)", "(kt CO2/yr)")
    parts.append(_text((left + right) / 2, bottom + 36, axis, anchor="middle", size=12))
    parts.append(_text(18, (top + bottom) / 2, text("chart.cost_axis", lang, unit=unit(unit_key, lang)), anchor="middle", size=12, extra=f' transform="rotate(-90 18 {num((top + bottom) / 2)})"'))
    for v, cls in ((curve.least_tco2, "least"), (curve.free_tco2, "free")):
        if v is not None:
            parts.append(f'<line class="{cls}" x1="{num(px(v / 1e3))}" x2="{num(px(v / 1e3))}" y1="{num(top)}" y2="{num(bottom)}" stroke="#c62828" stroke-dasharray="5,3"/>')
    # one line through every point: the cost is continuous; the breakpoints are its kinks
    coords = " ".join(f"{num(px(p.cap_tco2 / 1e3))},{num(py(p.objective_cny / scale))}" for p in pts)
    parts.append(f'<polyline class="curve" points="{coords}" fill="none" stroke="{SEGMENT_COLOURS[0]}" stroke-width="2.5" stroke-linejoin="round"/>')
    for b in curve.breakpoints:
        near = min(pts, key=lambda p: abs(p.cap_tco2 - b))
        tip = f"{thousands(b, 0)} tCO2/yr: {fmt.money(near.objective_cny, lang)}"
        parts.append(f'<circle cx="{num(px(b / 1e3))}" cy="{num(py(near.objective_cny / scale))}" r="3.5" fill="#333"><title>{esc(tip)}</title></circle>')
    y = bottom + 56
    for seg in (curve.segments[:1] + curve.segments[-1:]) if len(curve.segments) > 1 else curve.segments:
        span = f"{thousands(seg.start_cap_tco2, 0)}–{thousands(seg.end_cap_tco2, 0)}" + text("chart.co2_slope", lang, value=thousands(seg.cny_per_tco2, 2))
        parts.append(_text(left, y, fit(f"{span}{'：' if zh else ': '}{seg.label_zh if zh else seg.label}", right - left, 12), size=12))
        y += 18
    return _doc(width, height, title, parts)
