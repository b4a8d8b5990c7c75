"""Pipeline: files or ``Scenario`` -> audited ``Plan`` (the whole story on one screen).

    load_scenario -> build_graph -> build_model -> solve_model -> extract -> audit -> Plan

Each stage is public in its own module so tests, notebooks and the API can stop between
stages. An infeasible target is an answer, not a crash: :func:`run` raises
:class:`~flowopt.errors.InfeasibleError` carrying an :class:`Infeasibility` that states the
target, the highest reachable rate and what limits it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from flowopt.audit import audit_plan
from flowopt.bottlenecks import find_bottlenecks
from flowopt.errors import AuditError, InfeasibleError, InputError, Problem
from flowopt.graph import MaterialGraph, build_graph
from flowopt.io import load_scenario
from flowopt.model import build_model, generation_total_t, rate_extra_denominator, rate_numerator
from flowopt.results import (
    Plan,
    cost_terms,
    extract_flows,
    group_rates,
    kpis,
    labels,
    outlet_loads,
    stream_fates,
)
from flowopt.schema import Scenario
from flowopt.solve import SolveOptions, SolveStatus, maximize_ratio, solve_model

logger = logging.getLogger(__name__)


@dataclass
class Infeasibility:
    """Why a target cannot be met.

    Attributes:
        target: the target asked for.
        rate_mode: the rate it applies to.
        max_rate: the highest rate the network can reach (``None`` if even the network without
            a target has no plan, e.g. because of minimum intakes).
        statement: one plain sentence in English.
        statement_zh: the same in Chinese.
    """

    target: float
    rate_mode: str
    max_rate: float | None
    statement: str
    statement_zh: str

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {"target": self.target, "rate_mode": self.rate_mode, "max_rate": self.max_rate, "statement": self.statement, "statement_zh": self.statement_zh}


@dataclass
class StageTimes:
    """Seconds spent in each stage of one run (for the benchmark)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def mark(self, stage: str, start: float) -> float:
        """Record the time since ``start`` under ``stage`` and return the current time."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - start
        return now


def default_data_dir() -> Path:
    """Return the bundled park dataset (``data/panzhihua_east``), or ``FLOWOPT_DATA`` if set."""
    env = os.environ.get("FLOWOPT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "panzhihua_east"


def max_reachable_rate(g: MaterialGraph, options: SolveOptions | None = None) -> float | None:
    """Return the highest value of the scenario's rate any plan can reach, cost ignored.

    Args:
        g: the material graph.
        options: solver settings.

    Returns:
        The maximum rate, or ``None`` when the network has no feasible plan at all.
    """
    m = build_model(g, with_target=False)
    gen = generation_total_t(g)
    if gen <= 0:
        return None
    rate, outcome = maximize_ratio(m, rate_numerator(m, g), rate_extra_denominator(m, g), gen, options)
    if outcome.status != SolveStatus.optimal or math.isnan(rate):
        return None
    return rate


def diagnose_target(g: MaterialGraph, target: float, options: SolveOptions | None = None) -> Infeasibility:
    """Explain why ``target`` cannot be met on graph ``g``."""
    mode = g.scenario.policy.rate_mode.value
    best = max_reachable_rate(g, options)
    if best is None:
        return Infeasibility(target, mode, None,
                             "No plan exists even without the target: minimum intakes of projects cannot all be supplied. Lower min_intake_t or add supply.",
                             "即使不设目标也无可行方案：各项目的最低进料量无法同时满足。请降低 min_intake_t 或增加来料。")
    return Infeasibility(target, mode, best,
                         f"The {target:.1%} {mode} target cannot be met: the highest rate this network can reach is {best:.2%}. More reuse capacity, more reclaimable stock or a lower target is needed.",
                         f"{target:.1%} 的目标（{mode}）无法实现：现有网络最高只能达到 {best:.2%}。需要增加综合利用产能、可回采存量，或降低目标。")


def run(source: Scenario | str | os.PathLike[str] | None = None, *, target_rate: float | None = None, options: SolveOptions | None = None, times: StageTimes | None = None) -> Plan:
    """Solve one scenario and return its audited plan.

    Args:
        source: a scenario, a scenario folder or workbook; ``None`` for the bundled park data.
        target_rate: overrides ``policy.target_rate``.
        options: solver settings.
        times: filled with seconds per stage when given.

    Returns:
        The optimal, audited plan.

    Raises:
        InputError: invalid input (every problem listed).
        InfeasibleError: the target cannot be met; ``exc.diagnosis`` is an :class:`Infeasibility`.
        SolveError: any other non-optimal end of the solver.
        AuditError: the solver's plan breaks the input's constraints (never shown as a plan).
    """
    times = times or StageTimes()
    t = time.perf_counter()
    if isinstance(source, Scenario):
        scenario = source
    else:
        scenario = load_scenario(default_data_dir() if source is None else source)
    if target_rate is not None:
        scenario = scenario.model_copy(update={"policy": scenario.policy.model_copy(update={"target_rate": target_rate})})
        # model_copy skips validation, so check the one value we changed
        if not 0 <= target_rate <= 1:
            msg = f"target {target_rate} is not a fraction between 0 and 1."
            raise InputError(msg, [Problem("policy", None, "target_rate", msg, "give the target as a fraction, e.g. 0.70 for 70 %.")])
    t = times.mark("load", t)
    g = build_graph(scenario)
    t = times.mark("graph", t)
    m = build_model(g)
    t = times.mark("build", t)
    options = options or SolveOptions()
    outcome = solve_model(m, options)
    t = times.mark("solve", t)
    target = scenario.policy.target_rate
    if outcome.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
        diagnosis = diagnose_target(g, target, options)
        times.mark("diagnose", t)
        err = InfeasibleError(diagnosis.statement, outcome)
        err.diagnosis = diagnosis  # type: ignore[attr-defined]
        raise err
    outcome.raise_for_status()
    assert outcome.objective is not None
    flows, reclaim = extract_flows(g, m, outcome)
    fates = stream_fates(scenario, flows, reclaim)
    k = kpis(scenario, fates)
    terms = cost_terms(scenario, flows, reclaim)
    bottlenecks = find_bottlenecks(g, m, outcome)
    t = times.mark("results", t)
    report = audit_plan(scenario, flows, reclaim, outcome.objective, target)
    t = times.mark("audit", t)
    if not report.passed:
        failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
        msg = "The solver's plan failed the audit against the input data; it is not shown. Check the input for extreme magnitudes and report this case."
        raise AuditError(msg, failed)
    warnings = [str(w) for w in g.warnings]
    if k.unmanaged_t > 0:
        warnings.append(f"{k.unmanaged_t:,.0f} t/yr are left unmanaged (taxed): no outlet with room takes them at lower cost.")
    return Plan(
        scenario_id=scenario.id,
        status="optimal",
        target=target,
        rate_mode=scenario.policy.rate_mode.value,
        utilization_rate=k.utilization_rate,
        objective_cny=outcome.objective,
        cost_terms=terms,
        kpis=k,
        flows=flows,
        stream_fates=fates,
        outlet_loads=outlet_loads(scenario, flows),
        rates_by_category=group_rates(scenario, fates, "category"),
        rates_by_firm=group_rates(scenario, fates, "firm"),
        reclaim_t=reclaim,
        bottlenecks=bottlenecks,
        audit=report,
        warnings=warnings,
        solver={"name": "HiGHS", "status": outcome.status.value, "message": outcome.message, "runtime_s": outcome.runtime_s},
        labels=labels(scenario),
    )
