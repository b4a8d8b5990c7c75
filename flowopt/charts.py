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

import pandas as pd

from flowopt._render import (
    COST_TERM_NAMES,
    FONT_FAMILY,
    category_name,
    check_lang,
    esc,
    fit,
    num,
    percent,
    pick,
    text_px,
    thousands,
)
from flowopt.io import atomic_path
from flowopt.results import Plan

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
    frame = pd.DataFrame({"x": x_all.to_numpy() * 100, "y": y_all.to_numpy() / (1e4 if zh else 1e6), "seg": [str(s) for s in seg_all]})
    frame = frame.sort_values(["x", "seg"], kind="stable").reset_index(drop=True)
    ok = frame[frame["y"].notna()]
    reach = (max_rate * 100) if max_rate is not None else float(ok["x"].max())
    unit = "万元/年" if zh else "M CNY/yr"
    title = (("达标成本曲线：综合利用率目标与年总成本" if zh else "Target–cost curve: utilization target vs least total cost") if title is None else title)

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
    parts.append(_text((left + right) / 2, bottom + 36, "综合利用率目标" if zh else "Utilization target", anchor="middle", size=12))
    parts.append(_text(18, (top + bottom) / 2, f"{'年总成本' if zh else 'Total cost'} ({unit})", anchor="middle", size=12, extra=f' transform="rotate(-90 18 {num((top + bottom) / 2)})"'))
    # unreachable targets
    if frame["y"].isna().any() and reach < x1:
        parts.append(f'<rect class="unreachable" x="{num(px(reach))}" y="{num(top)}" width="{num(right - px(reach))}" height="{num(bottom - top)}" fill="#c62828" fill-opacity="0.07"/>')
    if frame["y"].isna().any() or max_rate is not None:
        parts.append(f'<line class="max-rate" x1="{num(px(reach))}" x2="{num(px(reach))}" y1="{num(top)}" y2="{num(bottom)}" stroke="#c62828" stroke-dasharray="5,3"/>')
        label = f"{'最高可达' if zh else 'max reachable'} {reach:.1f}%"
        lx, ly = px(reach) + 13, (top + bottom) / 2
        parts.append(_text(lx, ly, label, anchor="middle", size=11, fill="#c62828", extra=f' transform="rotate(-90 {num(lx)} {num(ly)})"'))
    if current_target is not None:
        cx = px(current_target * 100)
        parts.append(f'<line class="current" x1="{num(cx)}" x2="{num(cx)}" y1="{num(top)}" y2="{num(bottom)}" stroke="#333" stroke-dasharray="2,3"/>')
        parts.append(_text(cx + 4, bottom - 6, f"{'目标' if zh else 'target'} {current_target * 100:.0f}%", size=11))
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
            tip = f"{r.x:.2f}%: {thousands(r.y, 1)} {unit}" + (f" — {s}" if s else "")
            parts.append(f'<circle cx="{num(px(r.x))}" cy="{num(py(r.y))}" r="3" fill="{colour[s]}"><title>{esc(tip)}</title></circle>')
        if s:
            slope = ""
            if len(run) > 1 and run["x"].iloc[-1] > run["x"].iloc[0]:
                d = (run["y"].iloc[-1] - run["y"].iloc[0]) / (run["x"].iloc[-1] - run["x"].iloc[0])
                slope = f" ({thousands(d, 1)} 万元/年 每百分点)" if zh else f" ({thousands(d, 2)} M CNY/yr per percentage point)"
            legend.append((colour[s], s + slope))
    if frame["y"].isna().any():
        legend.append(("#f3d9d9", "无法实现的目标（无可行方案）" if zh else "unreachable targets (no feasible plan)"))
    y = bottom + 52
    for c, text in legend:
        parts.append(f'<rect x="{num(left)}" y="{num(y - 9)}" width="14" height="10" fill="{c}"/>')
        parts.append(_text(left + 20, y, fit(text, right - left - 20, 12), size=12))
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


def _fmt(kind: str, v: float | None, zh: bool) -> str:
    if v is None:
        return "n/a"
    if kind == "rate":
        return percent(v, 1)
    if kind == "tonnes":
        return thousands(v / 1e4, 1) if zh else f"{v / 1e6:,.2f}"
    return thousands(v / 1e4, 0) if zh else thousands(v / 1e6, 1)


def _panel(parts: list[str], y: float, width: float, heading: str, rows: list[_Row], kind: str, zh: bool) -> float:
    """Draw one panel of grouped horizontal bars; return the y below it."""
    label_w, value_w, delta_w = 190.0, 78.0, 78.0
    left, right = 16.0 + label_w, width - 16.0 - value_w - delta_w
    parts.append(_text(16, y + 14, heading, size=13.5, extra=' font-weight="bold"', fill="#111"))
    parts.append(_text(width - 16, y + 14, "B − A", size=11, anchor="end", fill="#666"))
    y += 24
    vals = [v for r in rows for v in (r.a, r.b) if v is not None]
    lo, hi = min([0.0, *vals]), max([0.0, *vals])
    if hi == lo:
        hi = lo + 1.0

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    bar_h, row_h = 10.0, 30.0
    for r in rows:
        parts.append(_text(16 + label_w - 8, y + 17, fit(r.label, label_w - 10, 12), anchor="end", size=12))
        for i, v in enumerate((r.a, r.b)):
            by = y + 4 + i * (bar_h + 2)
            if v is not None:
                xa, xb = sorted((px(0), px(v)))
                parts.append(f'<rect class="bar plan-{"ab"[i]}" x="{num(xa)}" y="{num(by)}" width="{num(max(xb - xa, 0.5))}" height="{num(bar_h)}" fill="{PLAN_COLOURS[i]}"/>')
            parts.append(_text(right + value_w - 4, by + 9, _fmt(kind, v, zh), anchor="end", size=10.5))
        if r.a is not None and r.b is not None:
            d = r.b - r.a
            dtext = ("+" if d > 0 else "") + (f"{d * 100:.1f} pp" if kind == "rate" else _fmt(kind, d, zh))
            parts.append(_text(width - 16, y + 17, dtext, anchor="end", size=11, fill="#c62828" if d > 0 and kind == "cost" else "#333"))
        y += row_h
    parts.append(f'<line x1="{num(px(0))}" x2="{num(px(0))}" y1="{num(y - row_h * len(rows))}" y2="{num(y)}" stroke="#888"/>')
    return y + 14


def comparison_svg(a: Plan, b: Plan, *, names: Sequence[str] = ("A", "B"), lang: str = "en", title: str | None = None, width: float = 800.0) -> str:
    """Compare two plans side by side: rates, tonnes by fate and cost terms, as SVG bars.

    Args:
        a: the first plan (e.g. the baseline).
        b: the second plan (e.g. a what-if).
        names: display names of ``a`` and ``b``.
        lang: ``en`` or ``zh``.
        title: heading; ``None`` for the default, ``""`` for none.
        width: picture width in px (the height follows from the rows).

    Returns:
        The SVG text: three panels (rates in %, tonnes in Mt/yr or 万吨/年, cost terms in
        M CNY/yr or 万元/年, revenue shown negative as it is subtracted), each row with both
        plans' bars, values and the difference B − A.

    Raises:
        ValueError: ``names`` does not hold two names, or an unknown ``lang``.
    """
    lang = check_lang(lang)
    zh = lang == "zh"
    if len(names) != 2:
        msg = f"names must hold two display names (for a and b), got {len(names)}."
        raise ValueError(msg)
    title = (f"方案对比：{names[0]} 与 {names[1]}" if zh else f"Plan comparison: {names[0]} vs {names[1]}") if title is None else title
    ka, kb = a.kpis, b.kpis
    rates = [_Row("综合利用率（官方口径）" if zh else "utilization rate (official)", ka.utilization_rate, kb.utilization_rate), _Row("目标" if zh else "target", a.target, b.target)]
    cat_a = {r.group: r.rate for r in a.rates_by_category}
    cat_b = {r.group: r.rate for r in b.rates_by_category}
    rates += [_Row(category_name(c, lang), cat_a.get(c), cat_b.get(c)) for c in sorted(set(cat_a) | set(cat_b))]
    fate_names = [
        ("generated_t", "产生量", "generated"),
        ("reclaimed_t", "回采量", "reclaimed from stock"),
        ("utilized_t", "综合利用量", "utilized"),
        ("disposed_t", "处置量", "disposed"),
        ("stored_t", "贮存量", "stored"),
        ("unmanaged_t", "未妥善处置", "unmanaged"),
        ("lost_t", "工艺损失", "process losses"),
    ]
    tonnes = [_Row(zh_ if zh else en, getattr(ka, f), getattr(kb, f)) for f, zh_, en in fate_names if f == "generated_t" or getattr(ka, f) or getattr(kb, f)]
    costs = []
    for term in dict.fromkeys([*a.cost_terms, *b.cost_terms]):
        va, vb = a.cost_terms.get(term, 0.0), b.cost_terms.get(term, 0.0)
        if va == 0 and vb == 0:
            continue
        sign = -1.0 if term == "revenue_cny" else 1.0
        costs.append(_Row(pick(COST_TERM_NAMES.get(term, (term, term)), lang), sign * va, sign * vb))
    costs.append(_Row("年总成本" if zh else "total cost", a.objective_cny, b.objective_cny))
    parts: list[str] = []
    y = 16.0
    if title:
        parts.append(_text(16, y + 16, title, size=16, extra=' font-weight="bold"', fill="#111"))
        y += 30
    x = 16.0
    for i, nm in enumerate(names):
        parts.append(f'<rect x="{num(x)}" y="{num(y)}" width="14" height="10" fill="{PLAN_COLOURS[i]}"/>')
        parts.append(_text(x + 20, y + 10, f"{'AB'[i]}: {nm}", size=12))
        x += 20 + text_px(f"{'AB'[i]}: {nm}", 12) + 24
    y += 22
    y = _panel(parts, y, width, "利用率" if zh else "Rates", rates, "rate", zh)
    y = _panel(parts, y, width, "年吨数（万吨/年）" if zh else "Tonnes by fate (Mt/yr)", tonnes, "tonnes", zh)
    y = _panel(parts, y, width, "成本构成（万元/年，收入为负）" if zh else "Cost terms (M CNY/yr; revenue negative)", costs, "cost", zh)
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
