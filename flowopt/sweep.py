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
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from flowopt.bottlenecks import ZERO_DUAL, find_bottlenecks, parametric_apply
from flowopt.diagnosis import max_reachable_rate
from flowopt.errors import InputError, Problem
from flowopt.formulation import FAMILIES, assemble
from flowopt.graph import build_graph
from flowopt.schema import Co2Basis, Scenario
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
        return _points_table(self.points, self.segments)


def _points_table(points: Sequence[BaseModel], segments: Sequence[Any]) -> pd.DataFrame:
    """A curve's points as a DataFrame, each with its segment's label (``label``)."""
    labels = {s.index: s.label for s in segments}
    df = pd.DataFrame([p.model_dump() for p in points])
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
    }.get(card.kind)
    if what is None:  # any other family: its own labels from the registry
        from flowopt.formulation.families import FAMILIES

        family = FAMILIES.get(card.kind)
        what = (f"{family.label_en} of", family.label_zh) if family is not None else (card.kind, card.kind)
    return f"{name}{what[1]}" if zh else f"{what[0]} {card.subject}"


def _label(cards: list[Any], previous: dict[str, Any], *, first: bool, limit: str = "target") -> tuple[str, str]:
    """Describe a segment: does the swept limit bind, and what changed from the previous one.

    Args:
        cards: the segment's bottleneck cards.
        previous: the previous segment's cards by constraint.
        first: True for the first segment (then every other binding limit is listed).
        limit: the swept family: ``target`` (the target-cost curve) or ``co2_cap``.

    Returns:
        ``(English, Chinese)``.
    """
    short = _short if limit == "target" else _co2_short
    names = {c.constraint: c for c in cards}
    binds = any(c.kind == limit for c in cards)
    word, word_zh = ("target", "目标") if limit == "target" else ("cap", "排放上限")
    en = [f"{word} binds" if binds else f"{word} does not bind"]
    zh = [f"{word_zh}起约束作用" if binds else f"{word_zh}不起约束作用"]
    if first:
        others = [c for c in cards if c.kind != limit]
        if others:
            en.append("limits: " + ", ".join(short(c) for c in others))
            zh.append("约束：" + "、".join(short(c, True) for c in others))
        return "; ".join(en), "；".join(zh)
    new = [names[k] for k in sorted(set(names) - set(previous)) if names[k].kind != limit]
    gone = [previous[k] for k in sorted(set(previous) - set(names)) if previous[k].kind != limit]
    if new:
        en.append("now binding: " + ", ".join(short(c) for c in new))
        zh.append("新增约束：" + "、".join(short(c, True) for c in new))
    if gone:
        en.append("no longer: " + ", ".join(short(c) for c in gone))
        zh.append("解除约束：" + "、".join(short(c, True) for c in gone))
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


# ---------------------------------------------------------------------------------------------
# The cost–CO2 curve (flowopt sweep --co2): the least cost as a function of a CO2 cap
# ---------------------------------------------------------------------------------------------

#: The cap a sweep puts in a scenario without one, so that the cap's row exists (tCO2/yr).
OPEN_CAP_T = 1e10
#: The files ``flowopt sweep --co2 --out`` writes.
CO2_SWEEP_FILES = ("co2_curve.csv", "co2_segments.csv", "co2_curve.svg")


class Co2Point(_Out):
    """The least cost at one CO2 cap."""

    cap_tco2: float
    objective_cny: float
    cny_per_tco2: float
    """Slope: CNY/yr saved per extra tCO2/yr of cap (the cap's shadow price; 0 where it does not bind)."""
    co2_tco2: float
    """The capped total (gross or net) of the plan at this cap, tCO2/yr."""
    segment: int


class Co2Segment(_Out):
    """A range of caps over which the same limits bind (the cost is a straight line there)."""

    index: int
    start_cap_tco2: float
    end_cap_tco2: float
    binding: list[str]
    """Constraint names of the binding limits."""
    label: str
    label_zh: str
    cny_per_tco2: float
    """The slope on the segment: CNY/yr saved per extra tCO2/yr of cap."""
    end_change: str | None = None
    """What changes at the segment's end (an arc that starts or stops carrying, a limit that
    starts or stops binding; ``None`` at the end of the range)."""


class Co2Curve(_Out):
    """The least cost as a function of a cap on the plan's CO2 (``flowopt sweep --co2``)."""

    scenario_id: str
    rate_mode: str
    target: float
    basis: str
    """``gross`` or ``net``: the total the cap limits (``policy.co2_cap_basis``)."""
    status: str
    """``ok``, or ``infeasible`` when the target cannot be met under any cap."""
    least_tco2: float | None
    """The least CO2 any plan meeting the target emits (the tightest feasible cap)."""
    free_tco2: float | None
    """The CO2 of the least-cost plan without a cap (above it the cap does not bind)."""
    from_cap_tco2: float
    to_cap_tco2: float
    breakpoints: list[float]
    """Caps where the slope changes (exact, from the optimal basis)."""
    segments: list[Co2Segment]
    points: list[Co2Point]

    def table(self) -> pd.DataFrame:
        """Points as a DataFrame: cap_tco2, objective_cny, cny_per_tco2, co2_tco2, segment, label."""
        return _points_table(self.points, self.segments)


def _co2_short(card: Any, zh: bool = False) -> str:
    if card.kind == "co2_cap":
        return "排放上限" if zh else "the CO2 cap"
    if card.kind == "sink_airspace":
        return f"{card.subject_name_zh}剩余库容" if zh else f"airspace of {card.subject}"
    return _short(card, zh)


class _CapParametric:
    """One warm gateway session whose CO2 cap can be moved (a right-hand side: b = 0, c = 1)."""

    def __init__(self, scenario: Scenario, options: SolveOptions) -> None:
        from flowopt.formulation.families import Parametric, co2_forms

        capped = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"co2_cap_t": OPEN_CAP_T})})
        self.g = build_graph(capped)
        lp = assemble(self.g)
        self.basis_name = Co2Basis(capped.policy.co2_cap_basis).value
        self.form = co2_forms(lp.network)[f"co2_{self.basis_name}_tco2"]
        self.row = lp.row_of("co2_cap", self.basis_name)
        cols, coef = self.row_entries(lp)
        self.par = Parametric(cols, coef, np.zeros(len(cols)), 1.0, OPEN_CAP_T)
        self.session = Session(lp, options)
        self.last: SolveOutcome | None = None

    def set_cap(self, cap: float) -> None:
        """Put the cap (the row's right-hand side) at ``cap`` tCO2/yr."""
        self.session.set_row_bounds(np.array([self.row]), np.array([-math.inf]), np.array([cap]))

    def row_entries(self, lp: Any) -> tuple[np.ndarray, np.ndarray]:
        """Columns and coefficients of the cap's row (duplicates summed, as assembled)."""
        dense = self.form.dense(lp.n_cols)
        cols = np.flatnonzero(dense)
        return cols, dense[cols]

    def emissions(self, x: np.ndarray) -> float:
        """The capped total at column values ``x`` (tCO2/yr)."""
        return self.form.dot(x)

    def least(self) -> tuple[float | None, float | None]:
        """``(least CO2 at the target, CO2 of the least-cost plan)``; ``None`` when infeasible."""
        out = self.session.solve()
        if not out.ok:
            return None, None
        free = self.emissions(out.x)
        scratch = Session(self.session.lp.copy(), self.session.options)
        scratch.all_costs(self.form.dense(self.session.lp.n_cols))
        low = scratch.solve()
        return (self.emissions(low.x) if low.ok else None), free

    def solve(self, cap: float, basis: Any = None) -> bool:
        self.set_cap(cap)
        if basis is not None:
            self.session.set_basis(basis)
        self.last = self.session.solve()
        return self.last.ok

    def slope(self) -> float:
        """CNY/yr saved per extra tCO2/yr of cap at the last solve (−dual of the cap's row)."""
        assert self.last is not None
        y = float(self.last.row_dual[self.row])
        return -y if abs(y) >= ZERO_DUAL else 0.0

    def point(self, cap: float, segment: int) -> Co2Point:
        out = self.last
        assert out is not None and out.objective is not None
        return Co2Point(cap_tco2=cap, objective_cny=out.objective, cny_per_tco2=self.slope(), co2_tco2=self.emissions(out.x), segment=segment)

    def edge(self, cap: float, top: float) -> Change:
        """The exact cap above ``cap`` where the current optimal basis stops being optimal."""
        par = replace(self.par, theta=cap)
        _, hi = limit_range(self.session.basis_view(), self.session.lp, self.row, par, "<=", (0.0, top))
        return hi

    def step_past(self, end: float, top: float) -> bool:
        """Move just past a breakpoint so HiGHS pivots to the basis that holds beyond it."""
        before = self.session.basis()
        for eps in (1e-9, 1e-8, 1e-7, 1e-6):
            cap = min(end + eps * max(1.0, abs(end)), top)
            if not self.solve(cap, before):
                return False
            if self.last is not None and self.last.iterations > 0:
                return True
            if cap >= top:
                return True
        return True


def check_co2_sweep(from_cap: object, to_cap: object, step: object) -> None:
    """Check a cost–CO2 sweep's caps and grid before any work (``None``: chosen from the network).

    Raises:
        InputError: every problem at once (table ``sweep``, columns ``cap_from``, ``cap_to``,
            ``cap_step``).
    """
    problems: list[Problem] = []
    values: dict[str, float] = {}
    for name, value in (("cap_from", from_cap), ("cap_to", to_cap)):
        if value is None:
            continue
        number = _number(value)
        # a cap on net CO2 may be below 0 (products avoid more than the plan emits)
        if number is None or not -OPEN_CAP_T <= number <= OPEN_CAP_T:
            problems.append(Problem("sweep", None, name, f"{name} must be a CO2 cap in tCO2/yr, a finite number of magnitude at most 1e10 (got {str(value)[:60]}).", "write e.g. 250000 for 250,000 tCO2/yr, or leave it out."))
        else:
            values[name] = number
    if len(values) == 2 and values["cap_from"] > values["cap_to"]:
        problems.append(Problem("sweep", None, "cap_to", f"cap_to ({values['cap_to']:g}) is below cap_from ({values['cap_from']:g}).", "give the lower cap first."))
    if step is not None:
        number = _number(step)
        if number is None or number <= 0:
            problems.append(Problem("sweep", None, "cap_step", f"cap_step must be a finite number of tCO2/yr above 0 (got {str(step)[:60]}).", "write e.g. 5000, or leave it out (50 steps over the range)."))
        elif len(values) == 2 and (values["cap_to"] - values["cap_from"]) / number + 1 > MAX_GRID_POINTS:
            problems.append(Problem("sweep", None, "cap_step", f"cap_step {number:g} over {values['cap_from']:g}–{values['cap_to']:g} tCO2/yr gives more than {MAX_GRID_POINTS:,} grid points (each is one solve).", f"use a step of at least {(values['cap_to'] - values['cap_from']) / (MAX_GRID_POINTS - 1):.6g}."))
    if problems:
        msg = f"The CO2 sweep is invalid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)


def co2_cost_curve(scenario: Scenario, from_cap: float | None = None, to_cap: float | None = None, *, step: float | None = None, options: SolveOptions | None = None, progress: Callable[[int, int, str], None] | None = None) -> Co2Curve:
    """The least cost at the scenario's target as a function of a cap on its CO2, with exact breakpoints.

    The cap is the right-hand side of the ``co2_cap`` row (``policy.co2_cap_basis``: gross or
    net CO2), so the least cost is convex and piecewise linear in it, and falls as the cap
    rises. From the optimal basis at the first cap, the exact edge of the range where that basis
    stays optimal (:func:`flowopt.sensitivity.limit_range` with b = 0, c = 1) ends a stretch; a
    warm re-solve just past it gives the next basis, and so on. A breakpoint is where the slope
    (the cap's shadow price, CNY per tCO2) jumps; basis changes without a kink merge.

    Args:
        scenario: the scenario (its target applies; its own cap, if any, is replaced).
        from_cap: lowest cap (tCO2/yr); default, and never below, the least CO2 any plan
            meeting the target emits.
        to_cap: highest cap; default the CO2 of the least-cost plan without a cap.
        step: spacing of the extra grid points for plotting (default 1/50 of the range).
        options: solver settings.
        progress: called with (done, total, what) while the curve is traced (per mille).

    Returns:
        The curve; ``status`` ``infeasible`` (and no points) when the target cannot be met at all.

    Raises:
        InputError: a cap or step that is not a finite number in range (see :func:`check_co2_sweep`).
    """
    check_co2_sweep(from_cap, to_cap, step)
    options = options or SolveOptions()
    par = _CapParametric(scenario, options)
    least, free = par.least()
    common = {"scenario_id": scenario.id, "rate_mode": scenario.policy.rate_mode.value, "target": scenario.policy.target_rate, "basis": par.basis_name}
    if least is None or free is None:
        return Co2Curve(**common, status="infeasible", least_tco2=None, free_tco2=None, from_cap_tco2=float(from_cap or 0.0), to_cap_tco2=float(to_cap or 0.0), breakpoints=[], segments=[], points=[])
    lo = max(float(from_cap) if from_cap is not None else least, least)
    top = float(to_cap) if to_cap is not None else max(free, least)
    if top < lo:
        return Co2Curve(**common, status="ok", least_tco2=least, free_tco2=free, from_cap_tco2=float(from_cap if from_cap is not None else least), to_cap_tco2=top, breakpoints=[], segments=[], points=[])
    grid_step = float(step) if step is not None else max((top - lo) / 50.0, 1e-9)
    if (top - lo) / grid_step + 1 > MAX_GRID_POINTS:
        grid_step = (top - lo) / (MAX_GRID_POINTS - 1)
    # at the least CO2 itself the feasible set is a face: start a hair above it if need be
    start = lo
    for nudge in (0.0, 1e-9, 1e-7, 1e-5):
        start = lo + nudge * max(1.0, abs(lo))
        if par.solve(start):
            break
    else:
        return Co2Curve(**common, status="ok", least_tco2=least, free_tco2=free, from_cap_tco2=lo, to_cap_tco2=top, breakpoints=[], segments=[], points=[])
    stretches: list[tuple[float, float, list[Any], float, Change]] = []
    cap = start
    while True:
        slope = par.slope()
        change = par.edge(cap, top)
        end = max(cap, min(float(change.at if change.at is not None else top), top))
        basis = par.session.basis()
        par.solve((cap + end) / 2, basis)
        cards = find_bottlenecks(par.g, par.last, ranges=False) if par.last is not None and par.last.ok else []
        par.solve(end, basis)
        stretches.append((cap, end, cards, slope, change))
        if end >= top - 1e-9 * max(1.0, abs(top)) or len(stretches) > MAX_STRETCHES:
            break
        if not par.step_past(end, top):
            break
        if progress is not None:
            progress(int(1000 * (end - lo) / max(top - lo, 1e-12)), 1000, "breakpoints")
        par.solve(end, par.session.basis())
        cap = end
    segments: list[Co2Segment] = []
    kept: list[float] = []
    previous: dict[str, Any] = {}
    last_slope: float | None = None
    for begin, end, cards, slope, change in stretches:
        names = sorted(c.constraint for c in cards)
        kink = last_slope is not None and abs(slope - last_slope) > SLOPE_TOL * max(abs(slope), abs(last_slope)) + SLOPE_ABS_TOL
        described = change.describe(par.session.lp) if end < top - 1e-9 * max(1.0, abs(top)) else None
        if segments and not kink:
            segments[-1] = segments[-1].model_copy(update={"end_cap_tco2": end, "end_change": described})
            continue
        if segments:
            kept.append(begin)
        label, label_zh = _label(cards, previous, first=not segments, limit="co2_cap")
        previous = {c.constraint: c for c in cards}
        segments.append(Co2Segment(index=len(segments), start_cap_tco2=begin, end_cap_tco2=end, binding=names, label=label, label_zh=label_zh, cny_per_tco2=slope, end_change=described))
        last_slope = slope
    first = math.ceil(start / grid_step) * grid_step
    count = min(MAX_GRID_POINTS, math.floor((top - first) / grid_step + 1e-9) + 1) if top >= first else 0
    caps = sorted({round(x, 6) for x in [start, top, *(first + i * grid_step for i in range(count)), *kept]})
    points = []
    for x in caps:
        if not par.solve(x):
            continue
        seg = next((s.index for s in segments if s.start_cap_tco2 - 1e-6 <= x <= s.end_cap_tco2 + 1e-6), segments[-1].index if segments else 0)
        seg = next((s.index for s in segments if abs(s.start_cap_tco2 - x) <= 1e-6), seg)
        points.append(par.point(x, seg))
    return Co2Curve(**common, status="ok", least_tco2=least, free_tco2=free, from_cap_tco2=start, to_cap_tco2=top, breakpoints=kept, segments=segments, points=points)
