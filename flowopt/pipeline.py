"""Pipeline: files or ``Scenario`` -> audited ``Plan`` (the whole story on one screen).

    load_scenario -> build_graph -> assemble -> Session.solve -> extract -> audit -> Plan

Each stage is public in its own module so tests, notebooks and the API can stop between
stages. An infeasible target is an answer, not a crash: :func:`run` raises
:class:`~flowopt.errors.InfeasibleError` carrying a :class:`~flowopt.diagnosis.Diagnosis`: the
highest reachable rate, what limits it and the cheapest relaxation that would fix it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flowopt.audit import audit_plan
from flowopt.bottlenecks import find_bottlenecks, target_marginal_cost, why_not
from flowopt.bundled import default_data_dir
from flowopt.diagnosis import diagnose, max_reachable_rate
from flowopt.errors import AuditError, InfeasibleError, InputError, Problem
from flowopt.formulation import assemble
from flowopt.graph import MaterialGraph, build_graph
from flowopt.io import load_scenario
from flowopt.results import (
    Plan,
    assemble_plan,
    extract_flows,
    kpis,
    stream_fates,
)
from flowopt.schema import RateMode, Scenario
from flowopt.solve import Session, SolveOptions, SolveOutcome, SolveStatus

logger = logging.getLogger(__name__)


@dataclass
class StageTimes:
    """Seconds spent in each stage of one run (for the benchmark)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def mark(self, stage: str, start: float) -> float:
        """Record the time since ``start`` under ``stage`` and return the current time."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - start
        return now


def run(source: Scenario | str | os.PathLike[str] | None = None, *, target_rate: float | None = None, rate_mode: str | None = None, options: SolveOptions | None = None, times: StageTimes | None = None, explain: bool = True) -> Plan:
    """Solve one scenario and return its audited plan.

    Args:
        source: a scenario, a scenario folder or workbook; ``None`` for the bundled park data.
        target_rate: overrides ``policy.target_rate``.
        rate_mode: overrides ``policy.rate_mode`` (``utilization``, ``utilization_plus_disposal``
            or ``disposal_only``): which rate the target applies to.
        options: solver settings.
        times: filled with seconds per stage when given.
        explain: compute valid ranges, why-not break-evens, the target's price range and the
            highest reachable rate (extra warm-started solves). With ``False`` the plan still
            carries its bottleneck cards and shadow prices, without ranges.

    Returns:
        The optimal, audited plan.

    Raises:
        InputError: invalid input (every problem listed).
        InfeasibleError: the target cannot be met; ``exc.diagnosis`` is a :class:`Diagnosis`.
        SolveError: any other non-optimal end of the solver.
        AuditError: the solver's plan breaks the input's constraints (never shown as a plan).
    """
    times = times or StageTimes()
    t = time.perf_counter()
    if isinstance(source, Scenario):
        scenario = source
    else:
        scenario = load_scenario(default_data_dir() if source is None else source)
    scenario = with_policy(scenario, target_rate=target_rate, rate_mode=rate_mode)
    t = times.mark("load", t)
    g = build_graph(scenario)
    t = times.mark("graph", t)
    lp = assemble(g)
    t = times.mark("build", t)
    options = options or SolveOptions()
    outcome = Session(lp, options).solve()
    t = times.mark("solve", t)
    return plan_from_outcome(g, outcome, options=options, times=times, explain=explain)


def with_policy(scenario: Scenario, *, target_rate: float | None = None, rate_mode: str | None = None) -> Scenario:
    """The scenario with its target and the rate it applies to overridden (``None``: unchanged).

    :func:`run` and the command line's ``--target`` and ``--rate-mode`` use this, so a plan,
    its cards, its diagnosis and its explanations all speak of the overriding rate.

    Args:
        scenario: a validated scenario.
        target_rate: a fraction from 0 to 1 for ``policy.target_rate``.
        rate_mode: ``utilization``, ``utilization_plus_disposal`` or ``disposal_only`` for
            ``policy.rate_mode``.

    Returns:
        The scenario (the same object when nothing is overridden).

    Raises:
        InputError: a target outside [0, 1] or an unknown rate mode (both listed).
    """
    update: dict[str, object] = {}
    problems: list[Problem] = []
    if target_rate is not None:
        # model_copy skips validation, so check the values we change
        if not 0 <= target_rate <= 1:
            problems.append(Problem("policy", None, "target_rate", f"target {target_rate} is not a fraction between 0 and 1.", "give the target as a fraction, e.g. 0.70 for 70 %."))
        update["target_rate"] = target_rate
    if rate_mode is not None:
        modes = [m.value for m in RateMode]
        if str(rate_mode) not in modes:
            problems.append(Problem("policy", None, "rate_mode", f"rate mode '{str(rate_mode)[:60]}' is not one of {', '.join(modes)}.", "utilization is the official 综合利用率 U/(G+U_prior); see the README, 'The rate and the target'."))
        else:
            update["rate_mode"] = RateMode(str(rate_mode))
    if problems:
        raise InputError(problems[0].message if len(problems) == 1 else f"{len(problems)} problems with the policy overrides.", problems)
    if not update:
        return scenario
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update=update)})


def plan_from_outcome(g: MaterialGraph, outcome: SolveOutcome, *, options: SolveOptions | None = None, times: StageTimes | None = None, explain: bool = True, max_rate: Callable[[], float | None] | None = None) -> Plan:
    """Turn a solve outcome into an audited plan (or the answer that there is none).

    Shared by :func:`run` and warm-started what-ifs (:mod:`flowopt.whatif`).

    Args:
        g: the material graph of the scenario the LP was solved for.
        outcome: the solver's outcome (its LP must hold that scenario's numbers).
        options: solver settings for explanation re-solves.
        times: filled with seconds per stage when given.
        explain: compute ranges, why-not, target price range and the highest reachable rate.
        max_rate: gives the highest reachable rate instead of :func:`max_reachable_rate`
            (a what-if session that knows it already, since only costs or the target moved).

    Returns:
        The optimal, audited plan.

    Raises:
        InfeasibleError: with ``diagnosis``; SolveError, AuditError as :func:`run`.
    """
    options = options or SolveOptions()
    times = times or StageTimes()
    scenario = g.scenario
    t = time.perf_counter()
    target = scenario.policy.target_rate
    if outcome.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
        diagnosis = diagnose(g, target, options)
        times.mark("diagnose", t)
        err = InfeasibleError(diagnosis.statement, outcome)
        err.diagnosis = diagnosis  # type: ignore[attr-defined]
        raise err
    outcome.raise_for_status()
    assert outcome.objective is not None
    flows, reclaim = extract_flows(g, outcome)
    fates = stream_fates(scenario, flows, reclaim)
    k = kpis(scenario, fates)
    t = times.mark("results", t)
    bottlenecks = find_bottlenecks(g, outcome, options, ranges=explain)
    # explanations get the solver's time limit once more, as a whole: a large park answers with
    # the why-not entries found by then rather than running on
    deadline = time.monotonic() + options.time_limit_s
    idle = why_not(g, outcome, options, deadline=deadline) if explain else []
    late = [f"Why-not entries were examined for {options.time_limit_s:g} s and may be incomplete; raise --time-limit to examine every project."] if explain and time.monotonic() > deadline else []
    marginal = target_marginal_cost(g, outcome, options) if explain else None
    t = times.mark("explain", t)
    best = (max_rate() if max_rate is not None else max_reachable_rate(outcome.lp.network or g, options)) if explain else None
    t = times.mark("max_rate", t)
    report = audit_plan(scenario, flows, reclaim, outcome.objective, target)
    t = times.mark("audit", t)
    if not report.passed:
        failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
        msg = "The solver's plan failed the audit against the input data; it is not shown. Check the input for extreme magnitudes and report this case."
        raise AuditError(msg, failed)
    warnings = [str(w) for w in g.warnings] + late
    if k.unmanaged_t > 0:
        warnings.append(f"{k.unmanaged_t:,.0f} t/yr are left unmanaged (taxed): no outlet with room takes them at lower cost.")
    return assemble_plan(
        scenario,
        flows,
        reclaim,
        fates,
        k,
        objective_cny=outcome.objective,
        target=target,
        bottlenecks=bottlenecks,
        audit=report,
        warnings=warnings,
        solver={"name": "HiGHS", "status": outcome.status.value, "message": outcome.message, "runtime_s": outcome.runtime_s},
        why_not=idle,
        target_marginal_cost=marginal,
        max_utilization_rate=best,
    )
