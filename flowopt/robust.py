r"""Robust builds: the build set that reaches the target in a chosen share of samples, at least expected cost.

Stage: (``Scenario`` with ``candidates`` and an ``uncertainty`` table, confidence c) ->
:class:`RobustResult` (``flowopt risk --robust``). The deterministic answer of ``flowopt
invest`` builds just enough for the scenario's own values; when the estimates move, it may
reach the target in only a few samples. This module chooses builds that hold up::

    training samples (draw stream 1) -> one MILP per sample, assemble(investment=True)
      -> stack_samples: shared builds, a copy of the plan per sample, "met" binaries, Σ met ≥ ⌈c N⌉
      -> Session (HiGHS branch and cut) -> the robust build set
      -> fresh samples (stream 0, as flowopt risk draws them): P(target) with the robust and
         with the deterministic build set, each with its 95 % interval

**The MILP** (sample-average approximation; :mod:`flowopt.formulation.saa`, written out in
``models/README.md`` §11): minimize the annualized capital and fixed cost of the builds plus the
mean over the N training samples of each sample's operating cost, such that the target is met in
at least k = ⌈c N⌉ samples. A sample where the target is not met (μ_s = 0) is planned at least
cost without the target (its shortfall σ_s is free): the expected cost is that of operating
the park in every sample, meeting the target where the builds are to count it. A sample whose
values make an invalid scenario, or that has no plan at all with every candidate built
(its LP relaxation without the target infeasible), is left out of the MILP and counts as not
met (k is still ⌈c N⌉ of all N drawn).

**Checked out of sample.** The training share says little (the MILP chose the builds for
those samples); the probability that counts is measured on fresh samples drawn from another
seed stream (:func:`flowopt.uncertainty.draws`), each solved with both build sets for its
highest reachable rate, exactly as :func:`flowopt.risk.run_risk` does. With finite N the
out-of-sample probability of a chance-constrained SAA solution can fall below c (the MILP fits
the training samples); more training samples close the gap, at the cost of a larger MILP.

**Bounded before it starts.** N training samples of an LP of C columns make a MILP of about
N (C + 2) columns; above :data:`MAX_SAA_COLUMNS` (or N above :data:`MAX_TRAIN`) the request is
refused before any solve, saying how many samples would fit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from flowopt.errors import InputError, Problem
from flowopt.options import SolveOptions
from flowopt.progress import ProgressCallback
from flowopt.risk import BLOCK, BuildSet, Engine, Interval, plan_build_set, run_risk
from flowopt.schema import Scenario
from flowopt.uncertainty import METHODS, Method, draws, resolve

#: Default number of training samples.
DEFAULT_TRAIN = 64
#: Default share of training samples in which the target must be met.
DEFAULT_CONFIDENCE = 0.9
#: Most training samples.
MAX_TRAIN = 2000
#: Most columns of the robust-build MILP (training samples × columns per sample).
MAX_SAA_COLUMNS = 400_000
#: Draw stream of the training samples (``flowopt risk`` and the out-of-sample check use 0).
TRAIN_STREAM = 1
#: Default relative MIP gap of the robust-build MILP.
DEFAULT_GAP = 1e-4


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuiltCandidate(_Out):
    """One candidate of a build set."""

    id: str
    project: str
    size_t: float
    """Capacity added, t/yr."""
    capital_cny: float
    annualized_cny: float
    """Capital × CRF plus the fixed operating cost, CNY/yr."""


class BuildSetReport(_Out):
    """One build set: what it builds, what it costs, and how often it reaches the target."""

    label: str
    """``robust`` or ``deterministic`` (the ``flowopt invest`` build set with the scenario's own values)."""
    name_en: str
    name_zh: str
    builds: list[BuiltCandidate]
    capital_cny: float
    """Capital of the builds, CNY (not annualized)."""
    capital_annualized_cny: float
    """Annualized capital plus fixed operating cost of the builds, CNY/yr."""
    train_reached: int
    """Training samples whose target these builds reach (each re-solved with the builds fixed)."""
    train_share: float
    """``train_reached`` / training samples drawn."""
    expected_cost_cny: float | None
    """Objective of the robust-build MILP with these builds fixed: capital per year + mean operating
    cost over the training samples, CNY/yr (``None`` when they reach the target in fewer than k)."""
    probability: Interval | None = None
    """Out of sample: P(highest rate with these builds ≥ target) on the fresh samples, 95 % interval."""


class DroppedSample(_Out):
    """A training sample left out of the MILP (counted as not meeting the target)."""

    index: int
    reason: str


class RobustResult(_Out):
    """What ``flowopt risk --robust`` reports: the ``--json`` document."""

    scenario_id: str
    status: str
    """``optimal`` (within ``gap``), ``feasible`` (a time limit stopped the MILP: the incumbent) or
    ``infeasible`` (no build set meets the target in k training samples; ``robust`` is then the
    least-cost build set among those that meet it in the most)."""
    target: float
    rate_mode: str
    confidence: float
    train: int
    """Training samples drawn (N)."""
    required: int
    """k = ⌈confidence × N⌉: training samples in which the target must be met."""
    met: int | None = None
    """Training samples the MILP counts as met (or, when infeasible, the most any build set meets)."""
    dropped: list[DroppedSample] = []
    seed: int
    method: str
    samples: int
    """Fresh samples of the out-of-sample check."""
    objective_cny: float | None = None
    """Expected yearly cost of the robust build set: its annualized capital and fixed cost plus the
    mean operating cost over the training samples, CNY/yr."""
    mip_gap: float | None = None
    gap_limit: float
    robust: BuildSetReport | None = None
    deterministic: BuildSetReport | None = None
    statement: str = ""
    statement_zh: str = ""
    notes: list[str] = []
    notes_zh: list[str] = []
    solver: dict[str, Any] = {}
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Checks and the size bound
# ---------------------------------------------------------------------------------------------


def _check(scenario: Scenario, confidence: float, train: int, samples: int, seed: int, method: str, gap: float) -> list[Problem]:
    problems = []
    if not scenario.candidates:
        problems.append(Problem("candidates", None, None, f"scenario '{scenario.id}' has no candidates, so there is no build set to choose.", "add a candidates table (see flowopt invest), or run flowopt risk without --robust."))
    if not (isinstance(confidence, int | float) and math.isfinite(confidence) and 0 < confidence <= 1):
        problems.append(Problem("risk", None, "confidence", f"confidence must be a share above 0 and at most 1 (got {confidence!r}).", "e.g. 0.9: the target met in at least 90 % of the training samples."))
    if not (isinstance(train, int) and 1 <= train <= MAX_TRAIN):
        problems.append(Problem("risk", None, "train", f"training samples must be a whole number from 1 to {MAX_TRAIN:,} (got {train!r}).", f"e.g. --train {DEFAULT_TRAIN}."))
    if not (isinstance(samples, int) and samples >= 1):
        problems.append(Problem("risk", None, "samples", f"fresh samples must be a whole number of at least 1 (got {samples!r}).", "e.g. --samples 1000."))
    if not (isinstance(seed, int) and 0 <= seed < 2**63):
        problems.append(Problem("risk", None, "seed", f"seed must be a whole number from 0 (got {seed!r}).", "give any whole number; the same seed gives the same samples."))
    if method not in METHODS:
        problems.append(Problem("risk", None, "method", f"unknown sampling method '{str(method)[:40]}'.", f"use one of {', '.join(METHODS)}."))
    if not (isinstance(gap, int | float) and math.isfinite(gap) and 0 <= gap < 1):
        problems.append(Problem("risk", None, "gap", f"gap must be a relative gap from 0 to below 1 (got {gap!r}).", "e.g. 0.0001."))
    return problems


def size_check(columns_per_sample: int, train: int) -> Problem | None:
    """The bound on the MILP's size, as a problem to report (``None`` when within it).

    Args:
        columns_per_sample: columns of one sample's LP (the candidates' shared columns aside).
        train: training samples asked for.
    """
    total = train * (columns_per_sample + 2)
    if total <= MAX_SAA_COLUMNS:
        return None
    fits = max(1, MAX_SAA_COLUMNS // (columns_per_sample + 2))
    return Problem("risk", None, "train", f"{train:,} training samples × {columns_per_sample + 2:,} columns each make a MILP of {total:,} columns, above the limit of {MAX_SAA_COLUMNS:,}.", f"ask for at most {fits:,} training samples (--train {fits}), or simplify the park.")


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def training_draws(n: int, d: int, seed: int, method: Method) -> np.ndarray:
    """The training samples' draws: blocks of :data:`flowopt.risk.BLOCK` on stream :data:`TRAIN_STREAM`."""
    parts = [draws(min(BLOCK, n - b * BLOCK), d, seed, b, method, TRAIN_STREAM) for b in range(math.ceil(n / BLOCK))]
    return np.vstack(parts) if parts else np.zeros((0, d))


def robust_builds(
    scenario: Scenario,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    train: int = DEFAULT_TRAIN,
    samples: int = 1000,
    seed: int = 0,
    target: float | None = None,
    method: Method = "lhs",
    gap: float = DEFAULT_GAP,
    options: SolveOptions | None = None,
    engine: Engine = "local",
    address: str | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> RobustResult:
    """Choose the build set that meets the target in ``confidence`` of the training samples at least expected cost.

    Args:
        scenario: a scenario with ``candidates`` and an ``uncertainty`` table.
        confidence: share c of the training samples in which the target must be met.
        train: training samples N (the MILP holds one copy of the plan per sample).
        samples: fresh samples of the out-of-sample check (``flowopt risk``'s own samples for
            ``seed``, no early stop).
        seed: the seed of both the training samples (stream 1) and the fresh ones (stream 0).
        target: the target rate (default: the scenario's ``policy.target_rate``).
        method: ``lhs`` (default), ``sobol`` or ``random``.
        gap: relative MIP gap of the robust-build MILP.
        options: solver settings (``time_limit_s`` per solve).
        engine: engine of the out-of-sample check (``local``, ``dask``, ``ray``).
        address: the cluster's address for ``dask`` or ``ray``.
        workers: local worker processes of the out-of-sample check.
        progress: ``progress(done, total, what)`` during the out-of-sample check.

    Returns:
        The result: the robust and the deterministic build sets side by side.

    Raises:
        InputError: invalid arguments, no candidates, an invalid uncertainty table, or a MILP
            above the size bound (every problem at once).
    """
    from flowopt.formulation import Network, assemble
    from flowopt.formulation.saa import SampleMismatch, stack_samples
    from flowopt.graph import build_graph
    from flowopt.solve import Session, SolveStatus

    t0 = time.perf_counter()
    options = options or SolveOptions()
    problems = _check(scenario, confidence, train, samples, seed, method, gap)
    target = scenario.policy.target_rate if target is None else float(target)
    if not 0 <= target <= 1:
        problems.append(Problem("risk", None, "target", f"target {target} is not a fraction between 0 and 1.", "give the target as a fraction, e.g. 0.70 for 70 %."))
    if problems:
        msg = f"The robust-build request is not valid: {len(problems)} problem(s) found."
        raise InputError(msg, problems)
    inputs = resolve(scenario).with_target(target)
    # the bound, from the sample at the medians, before any sample is built or solved
    try:
        center = inputs.scenario_of(inputs.quantile_values(0.5))
    except InputError as exc:
        msg = "The uncertain inputs at their medians make an invalid scenario."
        raise InputError(msg, exc.problems) from exc
    ref = assemble(Network(build_graph(center)), investment=True)
    per_sample = ref.n_cols - sum(len(ref.cols[f]) for f in ("build", "built_t", "modules"))
    too_big = size_check(per_sample, train)
    if too_big is not None:
        msg = "The robust-build MILP would be too large."
        raise InputError(msg, [too_big])

    # training samples: each a MILP of its own scenario (dropped when invalid or without any plan)
    u = training_draws(train, len(inputs.drivers), seed, method)
    values = inputs.values(u)
    stacked: list[tuple[int, Any, dict[str, float]]] = []
    dropped: list[DroppedSample] = []
    for i, vals in enumerate(values):
        try:
            s_i = inputs.scenario_of(vals)
            lp = assemble(Network(build_graph(s_i)), investment=True)
        except Exception as exc:  # an invalid sample is dropped, with its reason; the run goes on
            dropped.append(DroppedSample(index=i, reason=f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"))
            continue
        relaxed = lp.copy()
        relaxed.integrality = None
        relaxed.row_lower[relaxed.rows["target"].slice] = -np.inf
        screen = Session(relaxed, options).solve()
        if screen.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
            dropped.append(DroppedSample(index=i, reason="no plan at all, even with every candidate built and no target"))
            continue
        stacked.append((i, lp, inputs.capacity_factors(vals)))
    required = math.ceil(confidence * train - 1e-9)
    det_set, det_note, det_note_zh = plan_build_set(scenario, target, options)
    notes, notes_zh = ([det_note], [det_note_zh]) if det_note else ([], [])
    if not stacked:
        msg = "No training sample gives a plan, even with every candidate built."
        raise InputError(msg, [Problem("risk", None, "train", msg, "check the uncertainty table's ranges (every sample failed; see flowopt risk for the reasons).")])
    try:
        saa = stack_samples(stacked, required)
    except SampleMismatch as exc:
        msg = "Robust builds need the candidates to be the same in every sample."
        raise InputError(msg, [Problem("uncertainty", None, "path", f"{exc}.", "leave candidates' sizes, groups and budgets out of the uncertainty table (capital costs may vary).")]) from exc
    t_build = time.perf_counter() - t0
    model = _Model(saa, stacked, options, gap)
    out = model.session.solve()
    status = out.status.value if out.has_solution else ("infeasible" if out.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded) else out.status.value)
    met: int | None
    if out.has_solution:
        sizes = model.sizes(out.x)
        objective: float | None = out.objective
        met = round(float(out.x[saa.cols["met"].slice].sum()))
    elif status == "infeasible":
        # the most samples any build set meets, then the least expected cost among those that meet that many
        sizes, met = model.most_met()
        objective = None
        if met > 0:
            best = model.solve_with_required(met)
            if best.has_solution:
                sizes, objective = model.sizes(best.x), best.objective
    else:
        out.raise_for_status()
        raise AssertionError  # raise_for_status raised
    robust_set = BuildSet.of("robust", sizes, name_en=f"robust at {confidence:.0%}", name_zh=f"稳健方案（{confidence:.0%}）")
    sets = [robust_set] + ([BuildSet("deterministic", "deterministic (flowopt invest)", "确定性方案（flowopt invest）", det_set.sizes_t)] if det_set is not None else [])
    t_solve = time.perf_counter() - t0 - t_build
    # out of sample: fresh samples (stream 0), both build sets on the same samples
    risk = run_risk(scenario, samples=samples, seed=seed, target=target, method=method, tolerance=0.0, engine=engine, address=address, workers=workers, options=options, build_sets=sets, tornado=False, progress=progress)
    by_label = {b.label: b.probability for b in risk.build_sets}
    reports = {}
    for bs in sets:
        reached = model.reached(dict(bs.sizes_t))
        cost = model.cost_with(dict(bs.sizes_t))
        reports[bs.label] = _report(scenario, bs, reached, train, cost, by_label.get(bs.label))
    robust = reports["robust"]
    det = reports.get("deterministic")
    statement, statement_zh = _statement(status, confidence, required, train, met, robust, det, target)
    return RobustResult(
        scenario_id=scenario.id, status=status, target=target, rate_mode=scenario.policy.rate_mode.value, confidence=float(confidence), train=train, required=required, met=met,
        dropped=dropped, seed=seed, method=method, samples=risk.samples, objective_cny=objective, mip_gap=out.mip_gap if out.has_solution else None, gap_limit=float(gap),
        robust=robust, deterministic=det, statement=statement, statement_zh=statement_zh, notes=[*notes, *risk.notes], notes_zh=[*notes_zh, *risk.notes_zh],
        solver={"name": "HiGHS", "status": out.status.value, "message": out.message, "columns": saa.n_cols, "rows": saa.n_rows, "integers": int(np.count_nonzero(saa.integrality)), "nodes": out.nodes,
                "runtime_s": out.runtime_s, "build_s": t_build, "solve_s": t_solve, "out_of_sample_s": risk.seconds},
        seconds=time.perf_counter() - t0,
    )


class _Model:
    """The robust-build MILP in one gateway session, with the build columns fixable."""

    def __init__(self, lp: Any, stacked: Sequence[tuple[int, Any, dict[str, float]]], options: SolveOptions, gap: float) -> None:
        from flowopt.solve import Session

        self.lp = lp
        self.options = options
        self.gap = gap
        self.session = Session(lp, options, mip_rel_gap=gap)
        first = stacked[0][1]
        self.network = first.network
        self.ids: list[str] = list(lp.cols["build"].keys)
        self.modular: list[str] = list(lp.cols["modules"].keys)

    def sizes(self, x: np.ndarray) -> dict[str, float]:
        """Candidate -> capacity added (t/yr), for the candidates built in ``x``."""
        from flowopt.formulation.families import candidate_sizes

        out = {}
        for cid in self.ids:
            if x[self.lp.col_of("build", cid)] <= 0.5:
                continue
            c = self.network.candidate[cid]
            low, high = candidate_sizes(c)
            if cid in self.modular:
                size = round(float(x[self.lp.col_of("modules", cid)])) * float(c.module_t or 0.0)
            elif c.sizing.value == "build":
                size = float(c.size_t or 0.0)
            else:
                tol = 1e-9 * max(1.0, high)
                raw = float(x[self.lp.col_of("built_t", cid)])
                size = low if abs(raw - low) <= tol else high if abs(raw - high) <= tol else min(max(raw, low), high)
            out[cid] = size
        return out

    def _fixing(self, sizes: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        cols, vals = [], []
        for cid in self.ids:
            size = sizes.get(cid, 0.0)
            cols += [self.lp.col_of("build", cid), self.lp.col_of("built_t", cid)]
            vals += [1.0 if size > 0 else 0.0, size]
            if cid in self.modular:
                cols.append(self.lp.col_of("modules", cid))
                vals.append(float(round(size / float(self.network.candidate[cid].module_t or 1.0))))
        return np.array(cols), np.array(vals)

    def _counting(self) -> Any:
        """A session that maximizes the samples met (no chance row, no cost)."""
        from flowopt.solve import Session

        lp = self.lp.copy()
        lp.col_cost = np.zeros(lp.n_cols)
        lp.col_cost[lp.cols["met"].slice] = -1.0
        lp.offset = 0.0
        lp.row_lower[lp.rows["chance"].slice] = -np.inf
        return Session(lp, self.options, mip_rel_gap=0.0)

    def reached(self, sizes: dict[str, float]) -> int:
        """Training samples whose target ``sizes`` reach (the MILP with the builds fixed, met maximized)."""
        session = self._counting()
        cols, vals = self._fixing(sizes)
        session.set_col_bounds(cols, vals, vals)
        out = session.solve()
        return round(-out.objective) if out.has_solution and out.objective is not None else 0

    def most_met(self) -> tuple[dict[str, float], int]:
        """The build set that meets the target in the most training samples, and how many."""
        out = self._counting().solve()
        if not out.has_solution or out.objective is None:
            return {}, 0
        return self.sizes(out.x), round(-out.objective)

    def solve_with_required(self, k: int) -> Any:
        """The MILP with the target required in ``k`` samples (the chance row restored after)."""
        row = np.array([self.lp.row_of("chance")])
        self.session.set_row_bounds(row, np.array([float(k)]), np.array([np.inf]))
        try:
            return self.session.solve()
        finally:
            self.session.set_row_bounds(row, np.array([self.lp.row_lower[row[0]]]), np.array([np.inf]))

    def cost_with(self, sizes: dict[str, float]) -> float | None:
        """The MILP's objective with these builds fixed (``None`` when they meet the target in fewer than k)."""
        cols, vals = self._fixing(sizes)
        lows, highs = self.session.lp.col_lower[cols].copy(), self.session.lp.col_upper[cols].copy()
        self.session.set_col_bounds(cols, vals, vals)
        try:
            out = self.session.solve()
        finally:
            self.session.set_col_bounds(cols, lows, highs)
        return out.objective if out.has_solution else None


def _report(scenario: Scenario, bs: BuildSet, reached: int, train: int, cost: float | None, probability: Interval | None) -> BuildSetReport:
    from flowopt.formulation.families import capital_recovery_factor

    cands = {c.id: c for c in scenario.candidates}
    rate = scenario.policy.discount_rate
    rows = []
    for cid, size in bs.sizes_t:
        c = cands[cid]
        capital = float(c.capital_cny + c.capital_cny_per_t * size)
        rows.append(BuiltCandidate(id=cid, project=c.project, size_t=size, capital_cny=capital, annualized_cny=capital * capital_recovery_factor(rate, c.lifetime_yr) + c.fixed_opex_cny_per_yr))
    names = ", ".join(f"{b.id} {b.size_t:,.0f} t/yr" for b in rows) or "nothing"
    names_zh = "、".join(f"{b.id} {b.size_t:,.0f} 吨/年" for b in rows) or "不建设"
    return BuildSetReport(label=bs.label, name_en=f"{bs.name_en}: {names}", name_zh=f"{bs.name_zh}：{names_zh}", builds=rows, capital_cny=sum(b.capital_cny for b in rows), capital_annualized_cny=sum(b.annualized_cny for b in rows),
                          train_reached=reached, train_share=reached / train if train else 0.0, expected_cost_cny=cost, probability=probability)


def _pct(iv: Interval | None) -> tuple[str, str]:
    if iv is None or iv.estimate is None:
        return "–", "–"
    return f"{iv.estimate:.1%} (95 % interval {iv.low:.1%}–{iv.high:.1%}, {iv.successes} of {iv.n})", f"{iv.estimate:.1%}（95% 区间 {iv.low:.1%}–{iv.high:.1%}，{iv.n} 个中 {iv.successes} 个）"


def _listed(rep: BuildSetReport) -> tuple[str, str]:
    return (", ".join(f"{b.id} {b.size_t:,.0f} t/yr" for b in rep.builds) or "nothing", "、".join(f"{b.id} {b.size_t:,.0f} 吨/年" for b in rep.builds) or "不建设")


def _statement(status: str, confidence: float, required: int, train: int, met: int | None, robust: BuildSetReport, det: BuildSetReport | None, target: float) -> tuple[str, str]:
    rp, rp_zh = _pct(robust.probability)
    listed, listed_zh = _listed(robust)
    if status == "infeasible":
        en = (f"No build set meets the {target:.1%} target in {required} of the {train} training samples ({confidence:.0%}); the most any build set meets it in is {met or 0} "
              f"({(met or 0) / train:.0%}), and the least-cost build set that does builds {listed}; on fresh samples it reaches the target with probability {rp}.")
        zh = (f"没有任何建设方案能在 {train} 个训练样本中的 {required} 个（{confidence:.0%}）达到 {target:.1%} 的目标；最多只能在 {met or 0} 个样本（{(met or 0) / train:.0%}）中达标，"
              f"其中成本最低的方案建设 {listed_zh}；在新样本上的达标概率为 {rp_zh}。")
    else:
        en = f"The robust build set for {target:.1%} in at least {confidence:.0%} of the training samples ({required} of {train}) builds {listed}; on fresh samples it reaches the target with probability {rp}."
        zh = f"在至少 {confidence:.0%} 的训练样本（{train} 个中 {required} 个）中达到 {target:.1%} 的稳健建设方案：建设 {listed_zh}；在新样本上的达标概率为 {rp_zh}。"
    if det is not None:
        dp, dp_zh = _pct(det.probability)
        d_listed, d_listed_zh = _listed(det)
        en += f" The deterministic build set of flowopt invest ({d_listed}) reaches it with probability {dp}."
        zh += f"flowopt invest 的确定性方案（{d_listed_zh}）的达标概率为 {dp_zh}。"
    return en, zh


# ---------------------------------------------------------------------------------------------
# Text and files
# ---------------------------------------------------------------------------------------------

#: The files ``flowopt risk --robust --out DIR`` writes.
ROBUST_FILES = ("robust.json", "robust_builds.csv")


def format_robust(r: RobustResult, *, lang: str = "en") -> str:
    """Render a robust-build result as text, in English or Chinese.

    Returns:
        The statement, then the two build sets side by side: builds, capital, expected cost over
        the training samples, training share, out-of-sample probability with its interval.
    """
    zh = lang == "zh"
    lines = [("flowopt 稳健建设方案：" if zh else "flowopt robust builds: ") + r.scenario_id, "=" * 72, r.statement_zh if zh else r.statement, ""]
    if zh:
        lines.append(f"训练样本：{r.train} 个（随机种子 {r.seed}，第 1 抽样流），要求 {r.required} 个达标；剔除 {len(r.dropped)} 个；新样本 {r.samples} 个（第 0 抽样流，与 flowopt risk 相同）。")
    else:
        lines.append(f"Training samples: {r.train} (seed {r.seed}, draw stream 1), the target required in {r.required}; {len(r.dropped)} left out; fresh samples: {r.samples} (stream 0, as flowopt risk draws them).")
    if r.status == "feasible" and r.mip_gap is not None:
        lines.append(f"未证明最优：求解在限制处停止，间隙 {r.mip_gap:.4%}。" if zh else f"NOT proven optimal: the solve stopped at a limit with a gap of {r.mip_gap:.4%}.")
    for rep in (r.robust, r.deterministic):
        if rep is None:
            continue
        p, p_zh = _pct(rep.probability)
        cost = "–" if rep.expected_cost_cny is None else (f"{rep.expected_cost_cny / 1e4:,.1f} 万元/年" if zh else f"{rep.expected_cost_cny:,.0f} CNY/yr")
        lines += ["", rep.name_zh if zh else rep.name_en]
        if zh:
            lines += [f"  投资 {rep.capital_cny / 1e4:,.1f} 万元，年值（含固定运营费）{rep.capital_annualized_cny / 1e4:,.1f} 万元/年",
                      f"  训练样本期望年总成本：{cost}" + ("（达标样本不足 k 个）" if rep.expected_cost_cny is None else ""),
                      f"  训练样本达标：{rep.train_reached} / {r.train}（{rep.train_share:.0%}）",
                      f"  新样本达标概率：{p_zh}"]
        else:
            lines += [f"  capital {rep.capital_cny:,.0f} CNY, per year (with fixed cost) {rep.capital_annualized_cny:,.0f} CNY/yr",
                      f"  expected total cost over the training samples: {cost}" + (" (it meets the target in fewer than k)" if rep.expected_cost_cny is None else ""),
                      f"  training samples reaching the target: {rep.train_reached} of {r.train} ({rep.train_share:.0%})",
                      f"  out of sample: {p}"]
    if r.dropped:
        lines += ["", ("剔除的训练样本（计为未达标）：" if zh else "Training samples left out (counted as not met):")]
        lines += [f"  #{d.index}: {d.reason}" for d in r.dropped[:5]]
    if r.notes:
        lines += ["", *(r.notes_zh if zh and len(r.notes_zh) == len(r.notes) else r.notes)]
    s = r.solver
    lines += ["", (f"混合整数规划：{s.get('columns', 0):,} 列、{s.get('rows', 0):,} 行、{s.get('integers', 0):,} 个整数变量；构建 {s.get('build_s', 0):.1f} 秒，求解 {s.get('solve_s', 0):.1f} 秒，样本外检验 {s.get('out_of_sample_s', 0):.1f} 秒。" if zh
                   else f"MILP: {s.get('columns', 0):,} columns, {s.get('rows', 0):,} rows, {s.get('integers', 0):,} integers; built in {s.get('build_s', 0):.1f} s, solved in {s.get('solve_s', 0):.1f} s, out-of-sample check {s.get('out_of_sample_s', 0):.1f} s.")]
    return "\n".join(lines)


def write_robust(r: RobustResult, folder: Any) -> Any:
    """Write ``robust.json`` and ``robust_builds.csv`` (one row per build of each set) into ``folder``.

    Raises:
        OutputError: the folder holds a scenario or a file of these names flowopt did not write.
    """
    import json
    from pathlib import Path

    import pandas as pd

    from flowopt.outputs import OutputFolder, write_text
    from flowopt.planfiles import write_csv

    with OutputFolder(folder, list(ROBUST_FILES), what="the robust builds' files", refuse_scenario=True) as out:
        write_text(out.path("robust.json"), json.dumps(r.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False))
        rows = [{"set": rep.label, **b.model_dump()} for rep in (r.robust, r.deterministic) if rep is not None for b in rep.builds]
        write_csv(pd.DataFrame(rows, columns=["set", *BuiltCandidate.model_fields]), out.path("robust_builds.csv"))
    return Path(folder)
