"""Target–cost curve: ``Scenario`` + a range of targets -> ``CostCurve`` with exact breakpoints.

Stage: scenario -> parametric analysis. The least cost is a function of the target. Within a
range of targets the same simplex basis stays optimal (the same limits bind); at a
*breakpoint* the basis changes. The sweep walks the range with one warm HiGHS instance: from
the current basis it gallops and bisects to the largest target for which that basis is still
optimal (no simplex iteration needed when re-solved from it), records the breakpoint, steps
just past it, and continues. Consecutive stretches whose binding limits are the same (a
degenerate basis change) are merged into one segment. Each segment is labelled with what binds
there; the curve's points also sit on a regular grid for plotting.

The target enters the rate's denominator (prior-year stock utilized), so inside a segment the
cost is smooth but not always a straight line; its slope at every point is the target's shadow
price (CNY/yr per percentage point), reported with each point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from flowopt.bottlenecks import ZERO_DUAL, find_bottlenecks, parametric_apply
from flowopt.diagnosis import max_reachable_rate
from flowopt.errors import InputError, Problem
from flowopt.formulation import FAMILIES, assemble
from flowopt.graph import build_graph
from flowopt.schema import Scenario
from flowopt.sensitivity import Change, limit_range
from flowopt.solve import Session, SolveOptions, SolveOutcome

#: Slopes on either side of a basis change that differ by less than this (relative, plus
#: ``SLOPE_ABS_TOL`` CNY/yr per point) are one segment: the basis changed (degenerately) but
#: the curve does not bend there.
SLOPE_TOL = 1e-7
SLOPE_ABS_TOL = 1e-6
#: Stretches walked at most (each is one basis; real parks have a few dozen).
MAX_STRETCHES = 10_000
#: Most points of the plotting grid (``(to - from) / step + 1``); each is one LP re-solve.
MAX_GRID_POINTS = 2_001


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CurvePoint(_Out):
    """The least cost at one target."""

    target: float
    objective_cny: float
    cny_per_point: float
    """Slope: CNY/yr per extra percentage point of the target at this point."""
    segment: int


class Segment(_Out):
    """A range of targets over which the same limits bind."""

    index: int
    start_target: float
    end_target: float
    binding: list[str]
    """Constraint names of the binding limits."""
    label: str
    """What binds, in words (English)."""
    label_zh: str
    start_slope_cny_per_point: float | None = None
    """Slope at the segment's start (CNY/yr per percentage point; the right-hand slope)."""
    end_slope_cny_per_point: float | None = None
    """Slope at the segment's end (the left-hand slope)."""
    end_change: str | None = None
    """What changes at the segment's end: the arc that enters or empties, the limit that starts
    or stops binding (``None`` at the end of the range)."""


class CostCurve(_Out):
    """The least cost as a function of the target."""

    scenario_id: str
    rate_mode: str
    from_target: float
    to_target: float
    max_rate: float | None
    breakpoints: list[float]
    segments: list[Segment]
    points: list[CurvePoint]

    def table(self) -> pd.DataFrame:
        """Points as a DataFrame: target, objective_cny, cny_per_point, segment, label."""
        labels = {s.index: s.label for s in self.segments}
        df = pd.DataFrame([p.model_dump() for p in self.points])
        if not df.empty:
            df["label"] = df["segment"].map(labels)
        return df


def _short(card: Any, zh: bool = False) -> str:
    if card.kind == "target":
        return "目标" if zh else "the target"
    name = card.subject_name_zh if zh else card.subject
    if card.kind == "feed_share":
        stream = card.constraint.split(",")[-1].rstrip("]").strip()
        return f"{name}进料中{stream}占比" if zh else f"share of {stream} at {card.subject}"
    what = {
        "project_capacity": ("capacity of", "产能"), "project_min_intake": ("minimum intake of", "最低进料"),
        "sink_capacity": ("capacity of", "容量"), "route_capacity": ("capacity of route", "运力"),
        "stock_reclaim_limit": ("reclaim limit of", "回采上限"), "quality_max": ("quality maximum of", "质量上限"),
        "quality_min": ("quality minimum of", "质量下限"),
    }.get(card.kind, (card.kind, card.kind))
    return f"{name}{what[1]}" if zh else f"{what[0]} {card.subject}"


def _label(cards: list[Any], previous: dict[str, Any], *, first: bool) -> tuple[str, str]:
    """Describe a segment: does the target bind, and what changed from the previous one."""
    names = {c.constraint: c for c in cards}
    binds = any(c.kind == "target" for c in cards)
    en = ["target binds" if binds else "target does not bind"]
    zh = ["目标起约束作用" if binds else "目标不起约束作用"]
    if first:
        others = [c for c in cards if c.kind != "target"]
        if others:
            en.append("limits: " + ", ".join(_short(c) for c in others))
            zh.append("约束：" + "、".join(_short(c, True) for c in others))
        return "; ".join(en), "；".join(zh)
    new = [names[k] for k in sorted(set(names) - set(previous)) if names[k].kind != "target"]
    gone = [previous[k] for k in sorted(set(previous) - set(names)) if previous[k].kind != "target"]
    if new:
        en.append("now binding: " + ", ".join(_short(c) for c in new))
        zh.append("新增约束：" + "、".join(_short(c, True) for c in new))
    if gone:
        en.append("no longer: " + ", ".join(_short(c) for c in gone))
        zh.append("解除约束：" + "、".join(_short(c, True) for c in gone))
    return "; ".join(en), "；".join(zh)


class _Parametric:
    """One warm gateway session whose target can be moved (the target family's own form)."""

    def __init__(self, scenario: Scenario, options: SolveOptions) -> None:
        self.g = build_graph(scenario)
        lp = assemble(self.g)
        self.session = Session(lp, options)
        fam = FAMILIES["target"]
        assert fam.parametric is not None
        self.row = lp.row_of("target")
        self.par = fam.parametric(lp.network, None)
        self.set_target = parametric_apply(self.session, self.row, self.par, fam.sense)
        self.last: SolveOutcome | None = None

    def solve(self, t: float, basis: Any = None) -> bool:
        self.set_target(t)
        if basis is not None:
            self.session.set_basis(basis)
        self.last = self.session.solve()
        return self.last.ok

    def same_basis(self, t: float, basis: Any) -> bool:
        return self.solve(t, basis) and self.last is not None and self.last.iterations == 0

    def point(self, t: float, segment: int) -> CurvePoint:
        out = self.last
        assert out is not None and out.objective is not None
        y = float(out.row_dual[self.row])
        denominator = self.par.c + float(self.par.b @ out.x[self.par.cols])
        price = y * denominator * 0.01 if abs(y) >= ZERO_DUAL else 0.0
        return CurvePoint(target=t, objective_cny=out.objective, cny_per_point=price, segment=segment)

    def binding(self) -> list[Any]:
        assert self.last is not None
        return find_bottlenecks(self.g, self.last, ranges=False)

    def edge(self, t0: float, limit: float) -> Change:
        """The exact target above ``t0`` where the current optimal basis stops being optimal."""
        par = replace(self.par, theta=t0)
        _, hi = limit_range(self.session.basis_view(), self.session.lp, self.row, par, ">=", (0.0, limit))
        return hi

    def slope(self) -> float:
        """CNY/yr per percentage point of the target at the last solve (its basis's slope)."""
        out = self.last
        assert out is not None
        y = float(out.row_dual[self.row])
        return y * (self.par.c + float(self.par.b @ out.x[self.par.cols])) * 0.01

    def step_past(self, end: float, top: float) -> bool:
        """Move just past a breakpoint so HiGHS pivots to the basis that holds beyond it."""
        before = self.session.basis()
        for eps in (1e-9, 1e-8, 1e-7, 1e-6):
            t = min(end + eps, top)
            if not self.solve(t, before):
                return False
            if self.last is not None and self.last.iterations > 0:
                return True
            if t >= top:
                return True
        return True


def _number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (bools, text, NaN and infinities are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return number if math.isfinite(number) else None


def _count(points: float) -> str:
    if not math.isfinite(points):
        return "unboundedly many"
    return f"{points:,.0f}" if points < 1e9 else f"about {points:.1e}"


def check_sweep(from_target: object, to_target: object, step: object) -> None:
    """Check a sweep's range and grid before any work.

    Raises:
        InputError: every problem at once (table ``sweep``, column ``from_target``,
            ``to_target`` or ``step``), values shown cut to 60 characters.
    """
    problems: list[Problem] = []
    values: dict[str, float] = {}
    for name, value in (("from_target", from_target), ("to_target", to_target)):
        number = _number(value)
        if number is None or not 0 <= number <= 1:
            problems.append(Problem("sweep", None, name, f"{name} must be a fraction from 0 to 1 (got {str(value)[:60]}).", "write e.g. 0.5 for 50 %."))
        else:
            values[name] = number
    if len(values) == 2 and values["from_target"] > values["to_target"]:
        problems.append(Problem("sweep", None, "to_target", f"to_target ({values['to_target']:g}) is below from_target ({values['from_target']:g}).", "give the lower target first."))
    number = _number(step)
    if number is None or number <= 0:
        problems.append(Problem("sweep", None, "step", f"step must be a finite number above 0 (got {str(step)[:60]}).", "write e.g. 0.005 for half a percentage point."))
    elif len(values) == 2 and values["from_target"] <= values["to_target"]:
        points = (values["to_target"] - values["from_target"]) / number + 1  # inf for a subnormal step
        if not points <= MAX_GRID_POINTS:
            problems.append(Problem("sweep", None, "step", f"step {number:g} over {values['from_target']:g}–{values['to_target']:g} gives {_count(points)} grid points; at most {MAX_GRID_POINTS:,} are allowed (each is one solve).", f"use a step of at least {(values['to_target'] - values['from_target']) / (MAX_GRID_POINTS - 1):.6g}, or a shorter range."))
    if problems:
        msg = f"The sweep is invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)


def target_cost_curve(scenario: Scenario, from_target: float, to_target: float, *, step: float = 0.005, options: SolveOptions | None = None, progress: Callable[[int, int, str], None] | None = None) -> CostCurve:
    """Sweep the target from ``from_target`` to ``to_target`` (fractions) with exact breakpoints.

    Args:
        scenario: the scenario (its own target is ignored).
        from_target: first target.
        to_target: last target (capped at the highest reachable rate).
        step: spacing of the extra grid points for plotting.
        options: solver settings.
        progress: called with (done, total, what) while the curve is traced (per mille).

    Returns:
        The curve: breakpoints, labelled segments and points (grid and breakpoints), sorted by
        target.

    Raises:
        InputError: (a ``ValueError``) before any work when a target is not a finite fraction
            in [0, 1], ``from_target`` > ``to_target``, ``step`` is not finite and above 0, or
            the grid would have more than :data:`MAX_GRID_POINTS` points.
    """
    check_sweep(from_target, to_target, step)
    options = options or SolveOptions()
    par = _Parametric(scenario, options)
    best = max_reachable_rate(par.g, options)
    top = min(to_target, best) if best is not None else to_target
    stretches: list[tuple[float, float, list[Any], float, float, Change]] = []
    t = from_target
    if best is not None and from_target > best + 1e-12:
        return CostCurve(scenario_id=scenario.id, rate_mode=scenario.policy.rate_mode.value, from_target=from_target, to_target=to_target, max_rate=best, breakpoints=[], segments=[], points=[])
    if not par.solve(t):
        return CostCurve(scenario_id=scenario.id, rate_mode=scenario.policy.rate_mode.value, from_target=from_target, to_target=to_target, max_rate=best, breakpoints=[], segments=[], points=[])
    while True:
        # the stretch where this basis stays optimal: exact, from its factorization
        start_slope = par.slope()
        change = par.edge(t, top)
        end = max(t, min(float(change.at if change.at is not None else top), top))
        basis = par.session.basis()
        par.solve((t + end) / 2, basis)
        cards = par.binding()
        par.solve(end, basis)
        end_slope = par.slope()
        stretches.append((t, end, cards, start_slope, end_slope, change))
        if end >= top - 1e-12 or len(stretches) > MAX_STRETCHES:
            break
        if not par.step_past(end, top):
            break
        if progress is not None:
            progress(int(1000 * (end - from_target) / max(top - from_target, 1e-12)), 1000, "breakpoints")
        # the new basis is optimal at the breakpoint too: its slope there is the right-hand one
        new_basis = par.session.basis()
        par.solve(end, new_basis)
        t = end
    # a breakpoint is where the slope jumps; basis changes without a kink (degenerate) merge
    segments: list[Segment] = []
    kept_breaks: list[float] = []
    previous: dict[str, Any] = {}
    last_slope: float | None = None
    for start, end, cards, s0, s1, change in stretches:
        names = sorted(c.constraint for c in cards)
        kink = last_slope is not None and abs(s0 - last_slope) > SLOPE_TOL * max(abs(s0), abs(last_slope)) + SLOPE_ABS_TOL
        if segments and not kink:
            segments[-1] = segments[-1].model_copy(update={"end_target": end, "end_slope_cny_per_point": s1, "end_change": change.describe(par.session.lp) if end < top - 1e-12 else None})
            last_slope = s1
            continue
        if segments:
            kept_breaks.append(start)
        label, label_zh = _label(cards, previous, first=not segments)
        previous = {c.constraint: c for c in cards}
        segments.append(Segment(index=len(segments), start_target=start, end_target=end, binding=names, label=label, label_zh=label_zh, start_slope_cny_per_point=s0, end_slope_cny_per_point=s1, end_change=change.describe(par.session.lp) if end < top - 1e-12 else None))
        last_slope = s1
    # the grid's size is counted first (check_sweep bounded it), never left to arange's rounding
    first = math.ceil(from_target / step) * step
    count = min(MAX_GRID_POINTS, math.floor((top - first) / step + 1e-9) + 1) if top >= first else 0
    grid = [first + i * step for i in range(count)]
    targets = sorted({round(float(x), 10) for x in [from_target, top, *grid, *kept_breaks]})
    points = []
    for x in targets:
        if not par.solve(x):
            continue
        seg = next((s.index for s in segments if s.start_target - 1e-9 <= x <= s.end_target + 1e-9), segments[-1].index if segments else 0)
        # at a breakpoint report the segment that starts there
        seg = next((s.index for s in segments if abs(s.start_target - x) <= 1e-9), seg)
        points.append(par.point(x, seg))
    return CostCurve(scenario_id=scenario.id, rate_mode=scenario.policy.rate_mode.value, from_target=from_target, to_target=to_target, max_rate=best, breakpoints=kept_breaks, segments=segments, points=points)
