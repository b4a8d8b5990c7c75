"""Risk: how likely the target is, when the estimates it rests on move within their ranges.

Stage: (``Scenario`` with an ``uncertainty`` table, target) -> :class:`RiskResult`. The table
(:mod:`flowopt.uncertainty`) says which estimates are uncertain and how. ``run_risk`` draws
samples, solves each one and reports:

* the **probability that the target is reachable** with the current network, P(max rate ≥
  target), with a 95 % Wilson interval; with a build set (``builds``) the same probability for
  the network with those builds;
* the **distributions** of the highest reachable rate and of the least cost at the target (over
  the samples that reach it): P10, P50, P90;
* **how often each limit binds**: in the least-cost plan at the target, and at the highest rate;
* a **tornado**: which uncertain input moves the highest rate most;
* one row per sample (:meth:`RiskResult.table`).

**Samples.** Draws come in blocks of :data:`BLOCK` samples; each block is a Latin hypercube of
its own (or scrambled Sobol' points, or plain random draws), randomized by ``(seed, block)``
(:func:`flowopt.uncertainty.draws`). The same seed gives the same samples and results on every
engine, in any order of arrival. Inputs of one correlation group share one draw.

**Solves.** Each sample is a scenario of its own (the inputs' values written in, validated like
any scenario). Its highest reachable rate is a ratio maximized by Dinkelbach's method on the LP
without the target (cost ignored); when that rate reaches the target, the least-cost plan at the
target is solved, audited and its binding limits read. Both solves start from the optimal basis
of a *reference* scenario (the inputs at their medians, solved once per worker process) in a
gateway session of their own: a warm start, usually a few pivots, with no model shared between
samples or threads. That keeps every sample's answer independent of which worker solved it
and of what it solved before (a live model that is updated in place carries its history), and
it costs no more: writing a sample's numbers into a live model and passing its LP to a fresh
HiGHS instance take about the same time on the bundled park and on a 2,000-stream park. A
sample whose network differs from the reference (a yield that adds a residue where the
reference has none) is solved cold.

**Failures.** A sample whose values make an invalid scenario, or whose solve fails, becomes a
failed row with the reason; the run goes on and the probability counts only the samples that
were solved. A worker that dies or a cluster that fails marks the samples of its block.

**The interval and stopping early.** The estimate is k/n over the solved samples and the
interval is Wilson's score interval at 95 %. With Latin-hypercube blocks the variance of the
estimate is at most that of independent draws (Owen 1997, for n > 1 per block), so the interval
is, if anything, conservative; Sobol' points are not covered by that bound. A run stops early
once at least ``min_samples`` samples are in and the interval is narrower than ``tolerance``:
the check runs after each whole block, in block order, so the stopping point depends only on
the seed. Stopping on the data lowers the interval's coverage somewhat below its nominal 95 %
(it stops more readily when the estimate has wandered towards 0 or 1, where Wilson intervals
are narrow); ``tests/test_risk.py`` measures the coverage with stopping on the analytic case,
and ``tolerance=0`` turns stopping off.

**Engines.** ``local`` runs the blocks in this process or in worker processes, as the work
warrants (:func:`flowopt.batch.choose_workers`); ``dask`` and ``ray`` send them to a running
cluster (``address``). The engines are those of :mod:`flowopt.batch`. Blocks are safe to run in
several threads of one worker: each sample has its own scenario, LP and HiGHS instance.

**Not yet (issue 12).** A build set chosen by the investment model can be passed as
``builds`` (an :class:`~flowopt.overrides.Overrides`: the builds as changes to the scenario);
choosing a build set that stays good across samples (robust builds) needs that model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from flowopt.errors import FlowoptError, InputError, Problem
from flowopt.options import SolveOptions
from flowopt.overrides import Overrides
from flowopt.progress import ProgressCallback, report
from flowopt.schema import Scenario
from flowopt.uncertainty import METHODS, Inputs, Method, draws, resolve

#: Samples per block: the unit of sampling, of work sent to a worker, and of the stopping check.
BLOCK = 64
#: Default width of the 95 % interval below which a run stops early (0.04: ±2 points).
DEFAULT_TOLERANCE = 0.04
#: Samples solved before a run may stop early.
MIN_SAMPLES = 256
#: Most samples one run may ask for.
MAX_SAMPLES = 100_000
#: z of a two-sided 95 % interval.
Z95 = 1.959963984540054
#: A sample reaches the target when its highest rate is at least target − this.
RATE_TOL = 1e-9
#: Row duals below this are zero when reading which limits cap the highest rate.
ZERO_DUAL = 1e-7
#: Quantiles of a tornado bar for continuous inputs (one at a time, the others as in the scenario).
TORNADO_Q = (0.05, 0.95)

Engine = Literal["local", "dask", "ray"]


@dataclass(frozen=True)
class BuildSet:
    """A set of candidates built, to evaluate over the samples (picklable, sent with each block).

    Attributes:
        label: short name (``invest``, ``robust``, ``deterministic``).
        name_en: how the text names it in English.
        name_zh: the same in Chinese.
        sizes_t: ``(candidate id, capacity it adds t/yr)`` for every candidate built, sorted.
    """

    label: str
    name_en: str
    name_zh: str
    sizes_t: tuple[tuple[str, float], ...]

    @classmethod
    def of(cls, label: str, sizes: dict[str, float], name_en: str = "", name_zh: str = "") -> BuildSet:
        """A build set from ``candidate id -> size`` (sizes of 0 dropped); names default to the list."""
        items = tuple(sorted((str(c), float(v)) for c, v in sizes.items() if v > 0))
        listed = ", ".join(f"{c} {v / 1e6:g} Mt/yr" for c, v in items) or "nothing"
        listed_zh = "、".join(f"{c} {v / 1e4:,.0f} 万吨/年" for c, v in items) or "不建设"
        return cls(label, name_en or f"{label}: {listed}", name_zh or f"{label}：{listed_zh}", items)

    def key(self) -> tuple[tuple[str, float], ...]:
        """The sizes as a hashable, picklable tuple."""
        return self.sizes_t


def plan_build_set(scenario: Scenario, target: float, options: SolveOptions | None = None) -> tuple[BuildSet | None, str, str]:
    """The build set ``flowopt invest`` chooses with the scenario's own values (the current plan's).

    Returns:
        ``(build set, "", "")``, or ``(None, why not, the same in Chinese)`` when no build set
        meets the target (or the solve ends without one).
    """
    from flowopt.invest import solve_investment

    try:
        inv = solve_investment(scenario, target_rate=target, options=options, explain=False, decision_values=False, break_even=False)
    except FlowoptError as exc:
        return None, f"No probability with the current plan's build set: flowopt invest ended without one ({exc.code}: {_short(str(exc), 200)}).", f"无现行方案建设组合下的概率：flowopt invest 未得到建设方案（{exc.code}）。"
    if inv.plan is None:
        return None, f"No probability with the current plan's build set: no build set meets the {target:.1%} target with the scenario's own values.", f"无现行方案建设组合下的概率：按情景原值，任何建设方案都无法达到 {target:.1%} 的目标。"
    sizes = {b.id: b.size_t for b in inv.builds if b.built}
    return BuildSet.of("invest", sizes, name_en="chosen by flowopt invest (" + (", ".join(f"{c} {v:,.0f} t/yr" for c, v in sorted(sizes.items())) or "nothing") + ")",
                       name_zh="由 flowopt invest 选定（" + ("、".join(f"{c} {v:,.0f} 吨/年" for c, v in sorted(sizes.items())) or "不建设") + "）"), "", ""


def _check_sets(scenario: Scenario, sets: Sequence[BuildSet]) -> list[BuildSet]:
    """The build sets, checked against the scenario's candidates (every problem at once)."""
    from flowopt.formulation.families import candidate_sizes

    known = {c.id: c for c in scenario.candidates}
    problems = []
    for bs in sets:
        for cid, size in bs.sizes_t:
            c = known.get(cid)
            if c is None:
                problems.append(Problem("risk", None, "builds", f"build set '{bs.label}': no candidate '{cid}'.", "use ids from the candidates table."))
                continue
            low, high = candidate_sizes(c)
            if not (low - 1e-9 * max(1.0, high) <= size <= high + 1e-9 * max(1.0, high)):
                problems.append(Problem("risk", None, "builds", f"build set '{bs.label}': candidate '{cid}' can add {low:,.0f} to {high:,.0f} t/yr, not {size:,.0f}.", "give a size its sizing allows."))
    if len({bs.label for bs in sets}) != len(sets):
        problems.append(Problem("risk", None, "builds", "two build sets have the same label.", "give each build set its own label."))
    if problems:
        msg = f"The build sets do not fit the scenario: {len(problems)} problem(s) found."
        raise InputError(msg, problems)
    return list(sets)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Out):
    """A probability estimated from samples, with its 95 % interval."""

    estimate: float | None
    """k / n (``None`` when no sample was solved)."""
    low: float | None
    """Lower end of the 95 % Wilson score interval."""
    high: float | None
    """Upper end."""
    successes: int
    """k: samples that reach the target."""
    n: int
    """Samples solved."""
    method: str = "wilson"
    confidence: float = 0.95


class Spread(_Out):
    """Distribution of a quantity over the samples (``None`` throughout when it has no values)."""

    n: int
    mean: float | None = None
    p10: float | None = None
    p50: float | None = None
    p90: float | None = None
    min: float | None = None
    max: float | None = None


class LimitShare(_Out):
    """How often one limit binds across the samples."""

    limit: str
    """Constraint name (``project_capacity[R06]``)."""
    kind: str
    """Its family (``project_capacity``, ``quality_max``, … ``target``)."""
    subject: str
    """Id of the record it is about (``park`` for the target)."""
    label_en: str
    label_zh: str
    binding_share: float
    """Share of the samples that reach the target in whose least-cost plan it binds (a price above 0)."""
    limiting_share: float
    """Share of the solved samples whose highest rate it caps (a price above 0 at the maximum)."""


class TornadoBar(_Out):
    """How far one uncertain input (or correlation group) moves the highest rate, the others as in the scenario."""

    driver: str
    """The input's id, or the group's name."""
    inputs: list[str]
    label_en: str
    label_zh: str
    low_value: str
    """The input's value at the bar's low end (several for a group)."""
    high_value: str
    low_rate: float | None
    """Highest rate with the input at ``low_value``."""
    high_rate: float | None
    swing: float
    """|high_rate − low_rate|: the bar's length (a fraction; 0.05 = 5 points)."""
    spearman: float | None
    """Rank correlation between the input's draw and the highest rate over the samples."""


class InputSummary(_Out):
    """One uncertain input as read."""

    id: str
    path: str
    name_en: str
    name_zh: str
    distribution: str
    describe: str
    """The distribution and its parameters (``triangular 7,000,000–10,000,000–13,000,000``)."""
    describe_zh: str
    group: str | None
    current: str
    """Its value in the scenario (``×1`` for a scaled field)."""
    median: str
    source: str


class SampleRow(_Out):
    """One sample: its values and what they gave."""

    index: int
    block: int
    status: str
    """``ok`` (solved), ``no_plan`` (no plan even without the target: counts as not reaching it),
    or why it failed (``input_invalid``, ``error``, ``solver_limit`` …; not counted)."""
    reachable: bool | None
    max_rate: float | None
    objective_cny: float | None
    """Least cost at the target (CNY/yr) when reachable."""
    utilization_rate: float | None
    max_rate_with_builds: float | None = None
    reachable_with_builds: bool | None = None
    max_rate_with_sets: list[float | None] = []
    """Highest rate with each build set of candidates (``RiskResult.build_sets``, in order)."""
    warm: bool | None
    """True when both solves started from the reference basis."""
    seconds: float | None
    binding: list[str] = []
    limiting: list[str] = []
    draws: list[float]
    values: list[Any]
    message: str = ""

    @property
    def solved(self) -> bool:
        """True when the sample counts (solved, or shown to have no plan at all)."""
        return self.status in ("ok", "no_plan")


class BuildSetProbability(_Out):
    """The probability of the target with one set of candidates built (sizes in t/yr)."""

    label: str
    """``invest`` (the least-cost build set of ``flowopt invest`` with the scenario's own values),
    ``deterministic`` or ``robust`` (``flowopt risk --robust``), or a name given."""
    name_en: str
    name_zh: str
    sizes_t: dict[str, float]
    """Candidate id -> capacity it adds, t/yr (only the candidates built)."""
    probability: Interval
    """P(highest rate with these builds ≥ target), over the solved samples."""


class RiskResult(_Out):
    """What ``flowopt risk`` reports (see the module docstring)."""

    scenario_id: str
    target: float
    rate_mode: str
    method: str
    seed: int
    engine: str
    samples_requested: int
    samples: int
    """Samples drawn and run (fewer than requested when the run stopped early)."""
    failed: int
    """Samples without an answer (invalid values, solver failures, lost workers)."""
    stopped_early: bool
    tolerance: float
    probability: Interval
    """P(highest reachable rate ≥ target) with the current network."""
    probability_with_builds: Interval | None = None
    """The same with the build set ``builds`` (``None`` without one)."""
    builds: str | None = None
    build_sets: list[BuildSetProbability] = []
    """The same with each set of candidates built: for a scenario with candidates, the build set
    ``flowopt invest`` chooses with the scenario's own values (the current plan's), unless
    ``builds`` is given; ``flowopt risk --robust`` evaluates the robust and the deterministic one."""
    notes: list[str] = []
    """What was not computed, and why (e.g. no build set meets the target with the scenario's values)."""
    notes_zh: list[str] = []
    """The same in Chinese."""
    deterministic_max_rate: float | None
    """Highest rate with the scenario's own values."""
    deterministic_objective_cny: float | None
    """Least cost at the target with the scenario's own values (``None`` when unreachable)."""
    max_rate: Spread
    cost: Spread
    """Least cost at the target, over the samples that reach it."""
    limits: list[LimitShare]
    tornado: list[TornadoBar]
    inputs: list[InputSummary]
    drivers: list[str]
    """The independent draws: group names and ungrouped input ids (columns of ``draws``)."""
    rows: list[SampleRow]
    seconds: float
    warm_share: float
    """Share of the solved samples that started from the reference basis."""

    def table(self) -> Any:
        """One row per sample as a pandas DataFrame (values in a column per input id)."""
        import pandas as pd

        ids = [i.id for i in self.inputs]
        builds = self.probability_with_builds is not None
        records = []
        for r in self.rows:
            rec: dict[str, Any] = {"sample": r.index, "block": r.block, "status": r.status, "reachable": r.reachable, "max_rate": r.max_rate, "objective_cny": r.objective_cny, "utilization_rate": r.utilization_rate}
            if builds:
                rec |= {"max_rate_with_builds": r.max_rate_with_builds, "reachable_with_builds": r.reachable_with_builds}
            for bs, rate in zip(self.build_sets, r.max_rate_with_sets, strict=False):
                rec[f"max_rate_with_{bs.label}"] = rate
            rec |= dict(zip(ids, r.values, strict=True))
            rec |= {"binding": "; ".join(r.binding), "limiting": "; ".join(r.limiting), "warm": r.warm, "seconds": r.seconds, "message": r.message}
            records.append(rec)
        return pd.DataFrame(records)

    def summary(self) -> dict[str, Any]:
        """The result as JSON-ready data without the per-sample rows (for dashboards)."""
        return self.model_dump(mode="json", exclude={"rows"})


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval of a proportion ``k / n`` (95 % by default).

    Chosen over the Clopper–Pearson interval because it is not needlessly wide (its coverage is
    close to nominal for every p, Brown, Cai & DasGupta 2001) and over the Wald interval because
    it does not collapse to a point at k = 0 or k = n.
    """
    if n <= 0:
        return Interval(estimate=None, low=None, high=None, successes=k, n=n)
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return Interval(estimate=p, low=max(0.0, centre - half), high=min(1.0, centre + half), successes=k, n=n)


def spread(values: Sequence[float]) -> Spread:
    """P10, P50, P90, mean, min and max of ``values`` (linear interpolation between order statistics)."""
    if not values:
        return Spread(n=0)
    a = np.asarray(values, dtype=float)
    p10, p50, p90 = (float(x) for x in np.percentile(a, [10, 50, 90]))
    return Spread(n=len(a), mean=float(a.mean()), p10=p10, p50=p50, p90=p90, min=float(a.min()), max=float(a.max()))


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); ``None`` when either side is constant."""
    if len(x) < 3:
        return None
    from scipy.stats import rankdata

    rx, ry = rankdata(np.asarray(x, dtype=float)), rankdata(np.asarray(y, dtype=float))
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


# ---------------------------------------------------------------------------------------------
# One sample, in a worker
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """A block of samples as sent to a worker (picklable)."""

    key: str
    inputs: Inputs
    options: SolveOptions
    builds: Overrides | None
    block: int
    start: int
    draws: list[list[float]]
    values: list[list[Any]]
    sets: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    """Build sets of candidates: ``(label, ((candidate id, size t/yr), ...))``."""


@dataclass
class _Side:
    """The reference of one LP: its layout and optimal basis (``None``: solve cold)."""

    layout: Any
    basis: Any


@dataclass
class _Reference:
    """What samples warm-start from, built once per worker process and run."""

    free: _Side
    target: _Side
    builds_free: _Side | None
    sets: list[_Side | None] = field(default_factory=list)


# the references of this process, by run key (read-only once built; shared by threads)
_references: OrderedDict[str, _Reference] = OrderedDict()
_references_lock = threading.Lock()
_MAX_REFERENCES = 4


def _reference(job: _Job) -> _Reference:
    """This process's reference for the job's run (built under a lock on first use)."""
    with _references_lock:
        ref = _references.get(job.key)
        if ref is None:
            ref = _build_reference(job.inputs, job.options, job.builds, job.sets)
            _references[job.key] = ref
            while len(_references) > _MAX_REFERENCES:
                _references.popitem(last=False)
        else:
            _references.move_to_end(job.key)
        return ref


def _build_reference(inputs: Inputs, options: SolveOptions, builds: Overrides | None, sets: Sequence[tuple[str, Any]] = ()) -> _Reference:
    """Solve the scenario at the inputs' medians (and with the builds) and keep its bases."""
    from flowopt.formulation import Network, assemble
    from flowopt.graph import build_graph
    from flowopt.solve import Session
    from flowopt.whatif import layout

    center = inputs.scenario_of(inputs.quantile_values(0.5))

    def free_side(s: Scenario) -> tuple[_Side, float | None]:
        lp = assemble(build_graph(s), with_target=False)
        session = Session(lp, options)
        rate, out = _dinkelbach(session, lp)
        return _Side(layout(lp), session.basis() if out is not None and out.ok else None), rate

    free, rate = free_side(center)
    # when the reference itself cannot reach the target, its plan just below its highest rate
    # gives the basis (same rows and columns; the samples' target rows differ only in numbers)
    target_rate = float(center.policy.target_rate)
    if rate is not None and rate < target_rate:
        target_rate = rate * (1 - 1e-6)
    lp_t = assemble(Network(build_graph(center)), target_rate=target_rate)
    session = Session(lp_t, options)
    out = session.solve()
    target = _Side(layout(lp_t), session.basis() if out.ok else None)
    builds_free = free_side(_with_builds(center, builds))[0] if builds is not None else None
    median = inputs.quantile_values(0.5)
    by_set: list[_Side | None] = []
    for _, sizes in sets:
        try:
            by_set.append(free_side(with_candidates_built(inputs, center, median, dict(sizes)))[0])
        except Exception:  # that set's samples are solved cold
            by_set.append(None)
    return _Reference(free, target, builds_free, by_set)


def with_candidates_built(inputs: Inputs, sample: Scenario, values: Sequence[Any], sizes: dict[str, float]) -> Scenario:
    """A sample's scenario with candidates built: each project's capacity raised by what is built.

    The capacity a candidate adds is scaled by the sample's availability factor of its project
    (:meth:`flowopt.uncertainty.Inputs.capacity_factors`), the same rule the robust-build MILP
    uses (:mod:`flowopt.robust`); candidates not built and projects that exist only as unbuilt
    candidates are left out (:func:`flowopt.invest.fixed_scenario`).
    """
    from flowopt.invest import fixed_scenario

    factors = inputs.capacity_factors(values)
    project = {c.id: c.project for c in sample.candidates}
    return fixed_scenario(sample, {cid: size * factors.get(project.get(cid, ""), 1.0) for cid, size in sizes.items()})


def _with_builds(s: Scenario, builds: Overrides | None) -> Scenario:
    from flowopt.overrides import apply_overrides

    return s if builds is None else apply_overrides(s, builds, "builds")


def _dinkelbach(session: Any, lp: Any) -> tuple[float | None, Any]:
    """Highest reachable rate of an LP without the target (``None``: no plan at all)."""
    from flowopt.solve import maximize_ratio_lp

    gen = lp.constants["generation_t"]
    if gen <= 0:
        return None, None
    rate, out = maximize_ratio_lp(session, lp.forms["rate_numerator"], lp.forms["rate_extra_denominator"], gen)
    if not out.ok or math.isnan(rate):
        return None, out
    return rate, out


def _session(lp: Any, side: _Side | None, options: SolveOptions) -> tuple[Any, bool]:
    """A gateway session on ``lp``, started from the reference basis when the layouts agree."""
    from flowopt.solve import Session
    from flowopt.whatif import layout

    session = Session(lp, options)
    if side is not None and side.basis is not None and layout(lp) == side.layout:
        session.set_basis(side.basis)
        return session, True
    return session, False


def _max_rate(g: Any, side: _Side | None, options: SolveOptions) -> tuple[float | None, list[str], bool]:
    """Highest rate of a graph, the limits with a price at that maximum, and whether the start was warm."""
    from flowopt.formulation import FAMILIES, assemble, component_name

    lp = assemble(g, with_target=False)
    session, warm = _session(lp, side, options)
    rate, out = _dinkelbach(session, lp)
    if rate is None or out is None:
        return None, [], warm
    limiting = []
    for name, block in lp.rows.items():
        fam = FAMILIES.get(name)
        if fam is None or fam.relax == 0 or not len(block):
            continue
        duals = out.row_dual[block.slice]
        limiting += [component_name(name, block.keys[k]) for k in np.flatnonzero(np.abs(duals) > ZERO_DUAL)]
    return rate, limiting, warm


def _solve_sample(job: _Job, ref: _Reference | None, values: Sequence[Any], u: Sequence[float], index: int) -> dict[str, Any]:
    """Solve one sample; never raises an ``Exception`` (a failure is the row's status and message)."""
    from flowopt.formulation import Network, assemble
    from flowopt.graph import build_graph
    from flowopt.pipeline import plan_from_outcome
    from flowopt.solve import SolveStatus

    start = time.perf_counter()
    row: dict[str, Any] = {"index": index, "block": job.block, "status": "ok", "reachable": None, "max_rate": None, "objective_cny": None, "utilization_rate": None, "warm": None, "seconds": None, "binding": [], "limiting": [], "draws": [float(x) for x in u], "values": list(values), "message": ""}
    target = float(job.inputs.base_data["policy"]["target_rate"])
    try:
        scenario = job.inputs.scenario_of(values)
        g = build_graph(scenario)
        rate, limiting, warm_free = _max_rate(g, ref.free if ref else None, job.options)
        row.update(max_rate=rate, limiting=limiting, warm=warm_free)
        if rate is None:
            row.update(status="no_plan", reachable=False, message="no plan even without the target: some tonnes have no outlet with room.")
        else:
            row["reachable"] = rate >= target - RATE_TOL
        if row["reachable"]:
            lp = assemble(Network(g))
            session, warm_t = _session(lp, ref.target if ref else None, job.options)
            outcome = session.solve()
            row["warm"] = bool(warm_free and warm_t)
            if outcome.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
                # the highest rate meets the target only within the solver's tolerance
                row.update(reachable=False, message=f"the highest rate {rate:.9f} meets the target only within the solver's tolerance; counted as not reaching it.")
            else:
                plan = plan_from_outcome(g, outcome, options=job.options, explain=False)
                row.update(objective_cny=plan.objective_cny, utilization_rate=plan.utilization_rate, binding=[b.constraint for b in plan.bottlenecks])
        if job.builds is not None:
            built = _with_builds(scenario, job.builds)
            b_rate, _, _ = _max_rate(build_graph(built), ref.builds_free if ref else None, job.options)
            row.update(max_rate_with_builds=b_rate, reachable_with_builds=b_rate is not None and b_rate >= target - RATE_TOL)
        rates: list[float | None] = []
        for k, (_, sizes) in enumerate(job.sets):
            built = with_candidates_built(job.inputs, scenario, values, dict(sizes))
            side = ref.sets[k] if ref is not None and k < len(ref.sets) else None
            rates.append(_max_rate(build_graph(built), side, job.options)[0])
        row["max_rate_with_sets"] = rates
        if job.builds is None and rates:  # the first set is the row's "with builds" figure
            row.update(max_rate_with_builds=rates[0], reachable_with_builds=rates[0] is not None and rates[0] >= target - RATE_TOL)
    except InputError as exc:
        row.update(status=exc.code, reachable=None, message=_sample_reason(exc, job.inputs, values))
    except FlowoptError as exc:
        row.update(status=exc.code, reachable=None, message=_short(str(exc).splitlines()[0] if str(exc) else exc.code))
    except Exception as exc:  # a bug: this sample's row says so, the run goes on
        row.update(status="error", reachable=None, message=_short(f"unexpected error (a bug in flowopt; please report it): {type(exc).__name__}: {exc}"))
    row["seconds"] = time.perf_counter() - start
    return row


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sample_reason(exc: InputError, inputs: Inputs, values: Sequence[Any]) -> str:
    """Why a sample's values make an invalid scenario: the first problem and the values drawn."""
    problems = [p for p in exc.problems if p.severity == "error"] or exc.problems
    first = f"{problems[0].where()}: {problems[0].message}" if problems else str(exc)
    drawn = ", ".join(f"{s.id}={_value_text(v)}" for s, v in zip(inputs.specs, values, strict=True))
    more = f" (+{len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return _short(f"the values drawn ({drawn}) make an invalid scenario: {first}{more}")


def _value_text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)


def solve_block(job: _Job) -> dict[str, Any]:
    """Solve one block of samples in a worker (the task the engines run).

    Never raises an ``Exception``: a failing sample is a row with its status and message; when
    the reference scenario itself cannot be built, the samples are solved cold.

    Returns:
        ``{"id", "status": "done", "rows": [...]}`` (rows as plain dicts, in sample order).
    """
    ref: _Reference | None
    note = ""
    try:
        ref = _reference(job)
    except Exception as exc:  # solve every sample cold; the rows say why they are not warm
        ref, note = None, _short(f"reference not available, solved cold: {type(exc).__name__}: {exc}", 120)
    rows = []
    for k, (values, u) in enumerate(zip(job.values, job.draws, strict=True)):
        row = _solve_sample(job, ref, values, u, job.start + k)
        if note and not row["message"]:
            row["message"] = note
        rows.append(row)
    return {"id": f"block {job.block}", "status": "done", "rows": rows}


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def _check_args(samples: int, seed: int, tolerance: float, min_samples: int, method: str, engine: str) -> None:
    problems = []
    if not (isinstance(samples, int) and 1 <= samples <= MAX_SAMPLES):
        problems.append(Problem("risk", None, "samples", f"samples must be a whole number from 1 to {MAX_SAMPLES:,} (got {samples!r}).", "ask for e.g. 1000 samples."))
    if not (isinstance(seed, int) and 0 <= seed < 2**63):
        problems.append(Problem("risk", None, "seed", f"seed must be a whole number from 0 (got {seed!r}).", "give any whole number; the same seed gives the same samples."))
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and 0 <= tolerance <= 1):
        problems.append(Problem("risk", None, "tolerance", f"tolerance must be a width from 0 to 1 (got {tolerance!r}).", "e.g. 0.04 stops once the 95 % interval is narrower than 4 points; 0 never stops early."))
    if not (isinstance(min_samples, int) and min_samples >= 1):
        problems.append(Problem("risk", None, "min_samples", f"min_samples must be a whole number of at least 1 (got {min_samples!r}).", f"the default is {MIN_SAMPLES}."))
    if method not in METHODS:
        problems.append(Problem("risk", None, "method", f"unknown sampling method '{str(method)[:40]}'.", f"use one of {', '.join(METHODS)}."))
    if engine not in ("local", "dask", "ray"):
        problems.append(Problem("risk", None, "engine", f"unknown engine '{str(engine)[:40]}'.", "use local, dask or ray."))
    if problems:
        msg = f"The risk run is not valid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)


def _run_key(inputs: Inputs, options: SolveOptions, builds: Overrides | None, sets: Sequence[tuple[str, Any]] = ()) -> str:
    text = json.dumps(inputs.base_data, sort_keys=True, default=str) + repr(options) + repr([s.record for s in inputs.specs]) + (builds.model_dump_json() if builds else "") + repr(list(sets))
    return hashlib.sha256(text.encode()).hexdigest()


Results = Iterator[tuple[int, dict[str, Any]]]


def _engine_results(engine: str, tasks: list[tuple[Any, ...]], ids: list[str], address: str | None, workers: int | None) -> Results:
    """The blocks' results from an engine of :mod:`flowopt.batch` (``(block, result)`` in any order)."""
    from flowopt import batch

    try:
        if engine == "dask":
            return batch._dask(solve_block, tasks, ids, address)
        if engine == "ray":
            return batch._ray(solve_block, tasks, ids, address)
    except InputError as exc:  # the engine's package is missing: say so for a risk run
        raise InputError(exc.message, [Problem("risk", None, "engine", p.message, p.hint) for p in exc.problems]) from exc
    return batch._local(solve_block, tasks, ids, workers)


def run_risk(
    scenario: Scenario,
    *,
    samples: int = 1000,
    seed: int = 0,
    target: float | None = None,
    method: Method = "lhs",
    tolerance: float = DEFAULT_TOLERANCE,
    min_samples: int = MIN_SAMPLES,
    engine: Engine = "local",
    address: str | None = None,
    workers: int | None = None,
    options: SolveOptions | None = None,
    builds: Overrides | None = None,
    builds_label: str | None = None,
    build_sets: Sequence[BuildSet] | None = None,
    plan_builds: bool = True,
    tornado: bool = True,
    progress: ProgressCallback | None = None,
    stream: int = 0,
) -> RiskResult:
    """Sample the scenario's uncertain inputs and report how likely its target is.

    Args:
        scenario: the scenario, with an ``uncertainty`` table.
        samples: most samples to draw (fewer when the run stops early).
        seed: the seed; the same seed gives the same samples and results on every engine.
        target: the target rate (default: the scenario's ``policy.target_rate``).
        method: ``lhs`` (Latin hypercube blocks, default), ``sobol`` or ``random``.
        tolerance: stop once the 95 % interval of the probability is narrower than this (after
            ``min_samples``); 0 never stops early.
        min_samples: samples solved before a run may stop early.
        engine: ``local``, ``dask`` or ``ray`` (the latter two need a running cluster at
            ``address`` or start a local one).
        address: the Dask scheduler or Ray cluster address.
        workers: local worker processes (default: as the work warrants; 1 solves here).
        options: solver settings (HiGHS keeps one thread per solve).
        builds: a build set as changes to the scenario (e.g. the projects an investment plan
            builds); adds the probability with those builds.
        builds_label: how the build set is named in the result.
        build_sets: sets of candidates built (:class:`BuildSet`: a label and sizes in t/yr),
            each adding its probability (``build_sets`` of the result); the capacity a build adds
            is scaled by its project's availability factor in the sample, if the table has one.
        plan_builds: for a scenario with candidates and neither ``builds`` nor ``build_sets``,
            add the probability with the build set ``flowopt invest`` chooses with the
            scenario's own values (the current plan's build set).
        tornado: also compute the tornado (two or a few solves per input, here).
        progress: called as ``progress(done, total, what)`` after each block.
        stream: the draws' stream (0, the default, for every ``flowopt risk`` run; see
            :func:`flowopt.uncertainty.draws`).

    Returns:
        The result; ``rows`` in sample order.

    Raises:
        InputError: invalid arguments, an empty or invalid uncertainty table (every problem
            located), the reference scenario (inputs at their medians) invalid, or an engine
            whose package is missing.
    """
    t0 = time.perf_counter()
    _check_args(samples, seed, tolerance, min_samples, method, engine)
    options = options or SolveOptions()
    target = scenario.policy.target_rate if target is None else float(target)
    if not 0 <= target <= 1:
        msg = f"target {target} is not a fraction between 0 and 1."
        raise InputError(msg, [Problem("risk", None, "target", msg, "give the target as a fraction, e.g. 0.70 for 70 %.")])
    inputs = resolve(scenario).with_target(target)
    if builds is not None:
        _with_builds(scenario, builds)  # a build set that does not fit the scenario: its problems, by change
    notes: list[tuple[str, str]] = []
    if build_sets is None and builds is None and plan_builds and scenario.candidates:
        found, note, note_zh = plan_build_set(scenario, target, options)
        build_sets = [found] if found is not None else []
        notes += [(note, note_zh)] if note else []
    sets = _check_sets(scenario, build_sets or [])
    # the reference (inputs at their medians) in this process: an invalid one is the user's to fix
    try:
        center = inputs.scenario_of(inputs.quantile_values(0.5))
        if builds is not None:
            _with_builds(center, builds)
    except InputError as exc:
        msg = "The uncertain inputs at their medians make an invalid scenario (every sample starts from it)."
        raise InputError(msg, [Problem(p.table, p.row, p.column, f"at the medians: {p.message}", p.hint, p.file, p.severity) for p in exc.problems]) from exc
    key = _run_key(inputs, options, builds, [(s.label, s.key()) for s in sets])
    n_blocks = math.ceil(samples / BLOCK)
    d = len(inputs.drivers)
    jobs = []
    for b in range(n_blocks):
        m = min(BLOCK, samples - b * BLOCK)
        u = draws(m, d, seed, b, method, stream)
        jobs.append(_Job(key, inputs, options, builds, b, b * BLOCK, u.tolist(), inputs.values(u), tuple((s.label, s.key()) for s in sets)))
    tasks: list[tuple[Any, ...]] = [(j,) for j in jobs]
    ids = [f"block {j.block}" for j in jobs]
    results: dict[int, list[dict[str, Any]]] = {}
    stop_at: int | None = None
    checked = 0
    done = 0
    stream = _engine_results(engine, tasks, ids, address, workers)
    try:
        for b, out in stream:
            if b in results:
                continue
            results[b] = _rows_of(jobs[b], out)
            done += len(jobs[b].values)
            progress = report(progress, done, samples, f"block {b + 1} of {n_blocks}")
            while checked < n_blocks and checked in results:
                checked += 1
                if tolerance > 0 and checked < n_blocks and _narrow(results, checked, min_samples, tolerance, target):
                    stop_at = checked
                    break
            if stop_at is not None:
                break
    except Exception as exc:  # the engine failed midway: keep the finished blocks, mark the rest
        reason = _short(f"the {engine} engine stopped before this sample finished: {type(exc).__name__}: {exc}")
        for job in jobs:
            if job.block not in results:
                results[job.block] = _failed(job, reason)
    finally:
        with contextlib.suppress(Exception):
            stream.close()  # type: ignore[attr-defined]  # stop the engine's remaining blocks
    kept = range(stop_at if stop_at is not None else n_blocks)
    rows = [SampleRow(**r) for b in kept for r in results.get(b) or _failed(jobs[b], f"the {engine} engine returned no result for this block.")]
    deterministic = _solve_sample(_Job(key, inputs, options, None, -1, -1, [], []), None, inputs.current_values(), [], -1)
    result = _summarize(scenario, inputs, rows, target=target, method=method, seed=seed, engine=engine, samples_requested=samples, stopped=stop_at is not None, tolerance=tolerance, builds=builds, builds_label=builds_label, deterministic=deterministic, seconds=0.0, sets=sets, notes=notes)
    if tornado:
        result = result.model_copy(update={"tornado": _tornado(inputs, options, rows, key, builds)})
    return result.model_copy(update={"seconds": time.perf_counter() - t0})


def _rows_of(job: _Job, out: Any) -> list[dict[str, Any]]:
    """The sample rows of a block's result; an engine's failure row becomes one failed row per sample."""
    if isinstance(out, dict) and isinstance(out.get("rows"), list) and len(out["rows"]) == len(job.values):
        return list(out["rows"])
    message = out.get("message") if isinstance(out, dict) else None
    return _failed(job, _short(str(message or "the worker returned no result for this block.")))


def _failed(job: _Job, message: str, status: str = "error") -> list[dict[str, Any]]:
    return [{"index": job.start + k, "block": job.block, "status": status, "reachable": None, "max_rate": None, "objective_cny": None, "utilization_rate": None, "warm": None, "seconds": None, "draws": list(u), "values": list(v), "message": message} for k, (v, u) in enumerate(zip(job.values, job.draws, strict=True))]


def _narrow(results: dict[int, list[dict[str, Any]]], blocks: int, min_samples: int, tolerance: float, target: float | None = None) -> bool:
    """True when the first ``blocks`` blocks hold ``min_samples`` solved samples and narrow enough intervals.

    Every probability the run reports must be narrow enough: with the current network, with
    ``builds`` and with each build set (``max_rate_with_sets``, reached at ``target``).
    """
    rows = [r for b in range(blocks) for r in results[b] if r["status"] in ("ok", "no_plan")]
    if len(rows) < min_samples:
        return False
    counts = [sum(1 for r in rows if r["reachable"])]
    if any(r.get("reachable_with_builds") is not None for r in rows):
        counts.append(sum(1 for r in rows if r.get("reachable_with_builds")))
    if target is not None:
        sets = max((len(r.get("max_rate_with_sets") or []) for r in rows), default=0)
        for k in range(sets):
            counts.append(sum(1 for r in rows if len(r.get("max_rate_with_sets") or []) > k and r["max_rate_with_sets"][k] is not None and r["max_rate_with_sets"][k] >= target - RATE_TOL))
    for k in counts:
        iv = wilson(k, len(rows))
        if iv.low is None or iv.high is None or iv.high - iv.low >= tolerance:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------


def _limit_labels(scenario: Scenario, name: str) -> tuple[str, str, str, str]:
    """``(kind, subject, label_en, label_zh)`` of a constraint name such as ``quality_max[R04,TFe]``."""
    from flowopt.formulation import FAMILIES
    from flowopt.labels import Labels

    family, _, rest = name.partition("[")
    fam = FAMILIES.get(family)
    if fam is None:
        return family, "", name, name
    parts = [x.strip().strip("'\"") for x in rest.rstrip("]").split(",")] if rest else []
    key: Any = None if not parts else parts[0] if len(parts) == 1 else tuple(parts)
    kind, ident = fam.subject(key)
    if kind == "park":
        return family, "park", fam.label_en, fam.label_zh
    labels = Labels(scenario)
    zh, en = labels.outlet(ident) if kind == "outlet" else labels.name(kind, ident)
    extra = f", {parts[1]}" if len(parts) > 1 else ""
    return family, ident, f"{fam.label_en}: {en} ({ident}{extra})", f"{fam.label_zh}：{zh}（{ident}{extra}）"


def _summarize(scenario: Scenario, inputs: Inputs, rows: list[SampleRow], *, target: float, method: str, seed: int, engine: str, samples_requested: int, stopped: bool, tolerance: float, builds: Overrides | None, builds_label: str | None, deterministic: dict[str, Any], seconds: float, sets: Sequence[BuildSet] = (), notes: Sequence[tuple[str, str]] = ()) -> RiskResult:
    solved = [r for r in rows if r.solved]
    reach = [r for r in solved if r.reachable]
    rates = [r.max_rate for r in solved if r.max_rate is not None]
    costs = [r.objective_cny for r in reach if r.objective_cny is not None]
    binding = Counter(c for r in reach if r.objective_cny is not None for c in r.binding)
    limiting = Counter(c for r in solved for c in r.limiting)
    n_plans, n_rates = max(1, len(costs)), max(1, len(rates))
    limits = []
    for name in sorted(set(binding) | set(limiting)):
        kind, subject, en, zh = _limit_labels(scenario, name)
        limits.append(LimitShare(limit=name, kind=kind, subject=subject, label_en=en, label_zh=zh, binding_share=binding[name] / n_plans, limiting_share=limiting[name] / n_rates))
    limits.sort(key=lambda x: (-max(x.binding_share, x.limiting_share), x.limit))
    with_builds = None
    if builds is not None:
        built = [r for r in solved if r.reachable_with_builds is not None]
        with_builds = wilson(sum(1 for r in built if r.reachable_with_builds), len(built))
    set_rows = []
    for k, bs in enumerate(sets):
        rates_k = [r.max_rate_with_sets[k] if k < len(r.max_rate_with_sets) else None for r in solved]
        # a sample without any plan with the builds counts as not reaching the target
        iv = wilson(sum(1 for x in rates_k if x is not None and x >= target - RATE_TOL), len(rates_k))
        set_rows.append(BuildSetProbability(label=bs.label, name_en=bs.name_en, name_zh=bs.name_zh, sizes_t=dict(bs.sizes_t), probability=iv))
    label = (builds_label or builds.id or "builds") if builds is not None else None
    if builds is None and set_rows:  # the first set is the result's "with builds" figure
        with_builds, label = set_rows[0].probability, set_rows[0].name_en
    current, median = inputs.current_values(), inputs.quantile_values(0.5)
    summaries = [
        InputSummary(id=s.id, path=s.record.path, name_en=s.record.name_en or s.record.path, name_zh=s.record.name_zh or s.record.name_en or s.record.path, distribution=s.record.distribution.value, describe=s.describe(), describe_zh=s.describe("zh"), group=s.record.group, current=_value_text(c) if c is not None else "–", median=_value_text(m), source=s.record.source)
        for s, c, m in zip(inputs.specs, current, median, strict=True)
    ]
    return RiskResult(
        scenario_id=scenario.id,
        target=target,
        rate_mode=scenario.policy.rate_mode.value,
        method=method,
        seed=seed,
        engine=engine,
        samples_requested=samples_requested,
        samples=len(rows),
        failed=len(rows) - len(solved),
        stopped_early=stopped,
        tolerance=tolerance,
        probability=wilson(len(reach), len(solved)),
        probability_with_builds=with_builds,
        builds=label,
        build_sets=set_rows,
        notes=[en for en, _ in notes],
        notes_zh=[zh for _, zh in notes],
        deterministic_max_rate=deterministic.get("max_rate"),
        deterministic_objective_cny=deterministic.get("objective_cny"),
        max_rate=spread(rates),
        cost=spread(costs),
        limits=limits,
        tornado=[],
        inputs=summaries,
        drivers=list(inputs.drivers),
        rows=rows,
        seconds=seconds,
        warm_share=sum(1 for r in solved if r.warm) / len(solved) if solved else 0.0,
    )


def _tornado(inputs: Inputs, options: SolveOptions, rows: list[SampleRow], key: str, builds: Overrides | None) -> list[TornadoBar]:
    """One bar per driver: the highest rate with that driver low and high, the others as in the scenario.

    Continuous inputs go to their 5th and 95th percentiles (the members of a group together);
    a single discrete or alternatives input goes to each of its values, and the bar spans the
    lowest and highest rate they give. The bar's rank correlation comes from the samples.
    """
    from flowopt.schema import Distribution

    base = inputs.current_values()
    job = _Job(key, inputs, options, None, -1, -1, [], [])
    try:
        ref = _reference(job)
    except Exception:  # the bars are solved cold then
        ref = None
    solved = [r for r in rows if r.solved and r.max_rate is not None]
    bars = []
    for j, driver in enumerate(inputs.drivers):
        members = inputs.members(j)
        idx = [inputs.specs.index(m) for m in members]
        if len(members) == 1 and members[0].distribution in (Distribution.discrete, Distribution.alternatives):
            settings = [[v] for v in members[0].values]
        else:
            settings = [[m.quantile(q) for m in members] for q in TORNADO_Q]
        points = []
        for setting in settings:
            values = list(base)
            for k, v in zip(idx, setting, strict=True):
                values[k] = v
            row = _solve_sample(job, ref, values, [], -1)
            points.append((row["max_rate"], setting))
        known = [p for p in points if p[0] is not None]
        if len(members) == 1 and members[0].distribution in (Distribution.discrete, Distribution.alternatives) and known:
            low, high = min(known, key=lambda p: p[0]), max(known, key=lambda p: p[0])
        else:
            low, high = points[0], points[-1]
        text = lambda setting: ", ".join(_value_text(v) for v in setting)  # noqa: E731
        rho = spearman([r.draws[j] for r in solved], [r.max_rate for r in solved if r.max_rate is not None]) if solved and all(len(r.draws) > j for r in solved) else None
        swing = abs(high[0] - low[0]) if low[0] is not None and high[0] is not None else 0.0
        names_en = " + ".join(m.record.name_en or m.record.path for m in members)
        names_zh = " + ".join(m.record.name_zh or m.record.name_en or m.record.path for m in members)
        label_en = f"{driver}: {names_en}" if len(members) > 1 else names_en
        label_zh = f"{driver}：{names_zh}" if len(members) > 1 else names_zh
        bars.append(TornadoBar(driver=driver, inputs=[m.id for m in members], label_en=label_en, label_zh=label_zh, low_value=text(low[1]), high_value=text(high[1]), low_rate=low[0], high_rate=high[0], swing=swing, spearman=rho))
    bars.sort(key=lambda b: -b.swing)
    return bars


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

#: The files ``flowopt risk --out DIR`` writes.
RISK_FILES = ("risk.json", "samples.csv", "limits.csv", "tornado.csv", "histogram.svg", "histogram.png", "tornado.svg", "tornado.png")


def write_risk(result: RiskResult, folder: str | os.PathLike[str], *, lang: str = "en") -> Path:
    """Write a risk result's files into ``folder`` (adding or replacing only flowopt's own files).

    ``risk.json`` (the whole result), ``samples.csv`` (one row per sample), ``limits.csv``,
    ``tornado.csv``, and the histogram of the highest rate and the tornado as SVG and PNG.

    Raises:
        OutputError: the folder holds a scenario or a file of these names flowopt did not write.
    """
    import pandas as pd

    from flowopt.charts import risk_histogram_svg, tornado_svg
    from flowopt.outputs import OutputFolder, write_text
    from flowopt.planfiles import write_csv
    from flowopt.png import risk_histogram_png, tornado_png

    target = Path(folder)
    with OutputFolder(target, list(RISK_FILES), what="the risk analysis's files", refuse_scenario=True) as out:
        write_text(out.path("risk.json"), json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False))
        write_csv(result.table(), out.path("samples.csv"))
        write_csv(pd.DataFrame([x.model_dump() for x in result.limits], columns=list(LimitShare.model_fields)), out.path("limits.csv"))
        write_csv(pd.DataFrame([{**x.model_dump(), "inputs": "; ".join(x.inputs)} for x in result.tornado], columns=list(TornadoBar.model_fields)), out.path("tornado.csv"))
        write_text(out.path("histogram.svg"), risk_histogram_svg(result, lang=lang))
        risk_histogram_png(result, out.path("histogram.png"), lang=lang)
        write_text(out.path("tornado.svg"), tornado_svg(result, lang=lang))
        tornado_png(result, out.path("tornado.png"), lang=lang)
    return target

