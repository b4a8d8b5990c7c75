"""Builds in the 2023–2025 pathway: which candidates to build, in which year, over the years at once.

Stage: a :class:`~flowopt.pathway.Pathway` whose base scenario has ``candidates`` -> one MILP
over the years (:func:`flowopt.formulation.build_years.link_builds`) -> the builds, each with
its year -> the pathway with those builds written into its capacities, solved as the LP of
``flowopt pathway`` (plans, audits, carried stock, shadow prices "given the chosen builds")::

    year scenarios (candidates whose project operates that year) -> assemble(investment=True)
      -> stack_years -> link_builds -> Session (HiGHS branch and cut) -> builds by year
      -> fixed_pathway (capacity ramps, commissioning) -> solve_pathway (the LP) -> result + builds

Conventions (``models/README.md`` §11, "Builds in the pathway"):

* a build commissioned in year y gives its capacity from y on; a candidate cannot be built
  before its ``earliest_year`` nor before its project operates (``commissioning``);
* each build is made at most once, and at most one of an exclusive group over the years;
* **capital**: the build's annualized capital (capital recovery factor over its lifetime at
  ``policy.discount_rate``) plus its fixed operating cost is counted in every operating year of
  the pathway, each year discounted with the pathway's ``discount_rate`` like the year's
  operating cost. So the last year's cost is what ``flowopt invest`` minimizes for that year,
  and a build made a year earlier pays one more year of capital for one more year of use;
* ``policy.capital_budget_cny`` bounds the capital of all builds over the pathway,
  ``policy.capital_budget_cny_per_yr`` the capital commissioned in each year;
* a ``max`` target is refused in a year where a candidate could be built (the highest rate
  would depend on the builds); it stays allowed in the years before any candidate is available.

The pathway's ``objective_cny`` is then the present value of the operating costs plus the
builds' capital (``capital_cny_pv``); each year's plan and cost are the operating ones, given
the chosen builds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from flowopt.errors import InputError, Problem
from flowopt.formulation.build_years import carried_weights, link_builds
from flowopt.formulation.families import candidate_sizes, capital_recovery_factor
from flowopt.formulation.lp import AssembledLP
from flowopt.options import SolveOptions
from flowopt.pathway import Pathway, PathwayBuild, PathwayResult, YearResult, solve_pathway
from flowopt.progress import ProgressCallback

#: Default relative MIP gap of the pathway with builds.
DEFAULT_GAP = 1e-6


def available_years(p: Pathway) -> dict[str, list[int]]:
    """Candidate id -> the pathway's years in which it can be commissioned (earliest year, project in operation)."""
    out = {}
    for c in p.base.candidates:
        out[c.id] = [y for y in p.spec.years if (c.earliest_year is None or c.earliest_year <= y) and p.operates(c.project, y)]
    return out


def build_problems(p: Pathway) -> list[Problem]:
    """What a pathway with candidates may not do: a ``max`` target in a year a candidate can be built."""
    years = available_years(p)
    out = []
    for y, spec in sorted(p.spec.targets.items()):
        if spec != "max":
            continue
        open_ = sorted(c for c, ys in years.items() if any(x <= y for x in ys))
        if open_:
            out.append(Problem("pathway", None, f"targets.{y}", f"target 'max' in {y}, when candidates can be built ({', '.join(open_[:5])}{'…' if len(open_) > 5 else ''}): the highest rate would depend on what is built.",
                               "give that year a fraction (e.g. 0.5), or keep 'max' only for years before the candidates' earliest_year."))
    return out


def fixed_pathway(p: Pathway, built: dict[str, tuple[int, float]]) -> Pathway:
    """The pathway with builds written in: capacity ramps by year, projects only as candidates dropped.

    Args:
        p: the pathway whose base has candidates.
        built: candidate id -> (year commissioned, capacity added t/yr); others are not built.

    Returns:
        A pathway whose base has no candidates: each project's capacity in year y is its own
        (or its ramp's) plus what its candidates built in y or before (so a project that exists
        only through its candidates has 0 t/yr before its first build, as in the MILP), and a
        project that exists only through candidates none of which is built is left out
        (:func:`flowopt.invest.fixed_scenario`).
    """
    from flowopt.invest import fixed_scenario

    base = fixed_scenario(p.base, {c: size for c, (_, size) in built.items()})
    project = {c.id: c.project for c in p.base.candidates}
    own = {x.id: x.capacity_t for x in p.base.projects}
    capacity = {o: dict(r) for o, r in p.spec.capacity.items()}
    for pid in sorted({project[c] for c in built}):
        for y in p.spec.years:
            if not p.operates(pid, y):
                continue
            added = sum(size for c, (year, size) in built.items() if project[c] == pid and year <= y)
            capacity.setdefault(pid, {})[y] = p.spec.capacity.get(pid, {}).get(y, own[pid]) + added
    return Pathway(p.spec.model_copy(update={"capacity": capacity}), base, p.source, p.warnings)


def _decisions(out: Any, joint: AssembledLP, years: Sequence[tuple[int, AssembledLP, float]]) -> dict[str, tuple[int, float]]:
    """Candidate -> (year commissioned, size t/yr) read from the MILP's solution."""
    built: dict[str, tuple[int, float]] = {}
    for year, lp, _ in years:
        n = lp.network
        for cid in n.candidates:
            if out.x[joint.col_of(f"{year}/build", cid)] <= 0.5:
                continue
            c = n.candidate[cid]
            low, high = candidate_sizes(c)
            if c.sizing.value == "modules":
                size = round(float(out.x[joint.col_of(f"{year}/modules", cid)])) * float(c.module_t or 0.0)
            elif c.sizing.value == "build":
                size = float(c.size_t or 0.0)
            else:
                raw, tol = float(out.x[joint.col_of(f"{year}/built_t", cid)]), 1e-9 * max(1.0, high)
                size = low if abs(raw - low) <= tol else high if abs(raw - high) <= tol else min(max(raw, low), high)
            built[cid] = (year, size)
    return built


def build_rows(p: Pathway, built: dict[str, tuple[int, float]]) -> tuple[list[PathwayBuild], float]:
    """One row per candidate (built or not) and the present value of the builds' yearly capital."""
    years = list(p.spec.years)
    weight = dict(zip(years, carried_weights([p.weight(y) for y in years]), strict=True))
    projects = {x.id: x for x in p.base.projects}
    rate = p.base.policy.discount_rate
    rows, pv = [], 0.0
    for c in sorted(p.base.candidates, key=lambda c: c.id):
        year, size = built.get(c.id, (None, 0.0))
        capital = float(c.capital_cny + c.capital_cny_per_t * size) if year is not None else 0.0
        annual = capital * capital_recovery_factor(rate, c.lifetime_yr) + (c.fixed_opex_cny_per_yr if year is not None else 0.0)
        value = annual * weight[year] if year is not None else 0.0
        pv += value
        proj = projects.get(c.project)
        rows.append(PathwayBuild(
            id=c.id, project=c.project, name_zh=c.name_zh or (proj.name_zh if proj else ""), name_en=c.name_en or (proj.name_en if proj else ""),
            built=year is not None, year=year, size_t=size, capital_cny=capital, annualized_cny=annual,
            years_in_operation=sum(1 for y in years if year is not None and y >= year), capital_pv_cny=value, earliest_year=c.earliest_year, source=c.source,
        ))
    return rows, pv


def solve_with_builds(p: Pathway, years: Sequence[tuple[int, AssembledLP, float]], joint: AssembledLP, options: SolveOptions, *, gap: float | None = None, diagnose_infeasible: bool = True, progress: ProgressCallback | None = None) -> PathwayResult:
    """Solve the pathway's MILP with builds, then its LP given the builds (see the module docstring).

    Args:
        p: the pathway (base with candidates).
        years: ``(year, investment MILP, weight)`` as stacked into ``joint``.
        joint: ``stack_years`` of ``years`` (the links of the builds are added here).
        options: solver settings (time limit per solve).
        gap: relative MIP gap (default :data:`DEFAULT_GAP`).
        diagnose_infeasible: diagnose a year that cannot meet its target.
        progress: passed to the LP solve of the pathway given the builds.

    Returns:
        The pathway result with ``builds``, ``capital_cny_pv`` and ``mip_gap``; ``objective_cny``
        includes the builds' capital.
    """
    from flowopt.solve import Session, SolveStatus

    start = time.perf_counter()
    gap = DEFAULT_GAP if gap is None else float(gap)
    milp = link_builds(joint, years)
    session = Session(milp, options, mip_rel_gap=gap)
    out = session.solve()
    info = {"milp_status": out.status.value, "milp_columns": milp.n_cols, "milp_rows": milp.n_rows, "milp_integers": int(np.count_nonzero(milp.integrality)) if milp.integrality is not None else 0, "milp_s": time.perf_counter() - start, "milp_nodes": out.nodes}
    if out.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
        return _infeasible(p, options, diagnose_infeasible, info)
    if not out.has_solution or out.objective is None:
        rows, _ = build_rows(p, {})
        return PathwayResult(pathway_id=p.id, base_scenario_id=p.base.id, status="error", message=f"The solver ended without a build plan for the pathway: {out.message}.", rate_mode=p.base.policy.rate_mode.value, discount_rate=p.spec.discount_rate, years=[], builds=rows, solver=info)
    built = _decisions(out, milp, years)
    rows, pv = build_rows(p, built)
    result = solve_pathway(fixed_pathway(p, built), options, diagnose_infeasible=diagnose_infeasible, progress=progress)
    warnings = list(result.warnings)
    objective = None if result.objective_cny is None else result.objective_cny + pv
    if objective is not None and objective > out.objective + max(1e-6 * abs(out.objective), 1e-3) + gap * abs(out.objective):
        warnings.append(f"The pathway given the builds costs {objective - out.objective:,.2f} CNY more than the MILP's incumbent; report this case.")
    listed = ", ".join(f"{b.id} in {b.year}" for b in rows if b.built) or "nothing"
    listed_zh = "、".join(f"{b.id}（{b.year} 年）" for b in rows if b.built) or "不建设"
    note = f"Builds chosen over the years (a MILP, gap {out.mip_gap or 0:.4%}): {listed}; the years' plans are given those builds."
    if out.status != SolveStatus.optimal:
        warnings.append(f"The build plan is NOT proven optimal: the solve stopped at a limit with a gap of {out.mip_gap or 0:.4%}.")
    return result.model_copy(update={
        "objective_cny": objective, "builds": rows, "capital_cny_pv": pv, "mip_gap": out.mip_gap, "builds_statement": note,
        "builds_statement_zh": f"多年建设方案（混合整数规划，间隙 {out.mip_gap or 0:.4%}）：{listed_zh}；各年方案以此为前提。",
        "message": f"{result.message} {note}".strip(), "warnings": warnings, "solver": {**result.solver, **info, "seconds_total": time.perf_counter() - start},
    })


def _infeasible(p: Pathway, options: SolveOptions, diagnose_infeasible: bool, info: dict[str, Any]) -> PathwayResult:
    """No build plan meets every year's target: solve the pathway with every candidate built at its largest as early as it can be."""
    earliest: dict[str, tuple[int, float]] = {}
    groups: set[str] = set()
    for c in sorted(p.base.candidates, key=lambda c: (-candidate_sizes(c)[1], c.id)):
        ys = available_years(p)[c.id]
        if ys and (c.group is None or c.group not in groups):  # of a group, the largest
            earliest[c.id] = (ys[0], candidate_sizes(c)[1])
            if c.group:
                groups.add(c.group)
    full = solve_pathway(fixed_pathway(p, earliest), options, diagnose_infeasible=diagnose_infeasible)
    rows, _ = build_rows(p, {})
    if full.status == "infeasible":
        msg = "No set of builds meets every year's target. With every candidate built at its largest as early as it can be (of an exclusive group, the largest): " + full.message
        return full.model_copy(update={"message": msg, "builds": rows, "builds_statement": msg, "builds_statement_zh": "任何建设方案都无法使各年达到目标；即使所有候选项目尽早按最大规模建设（互斥组取最大者）也无法实现（见各年诊断）。", "solver": {**full.solver, **info}})
    budgets = p.base.policy.capital_budget_cny is not None or p.base.policy.capital_budget_cny_per_yr is not None
    reason, reason_zh = ("the capital budgets", "投资预算") if budgets else ("the exclusive groups and the years' timing", "互斥组与建设时序")
    msg = f"No set of builds meets every year's target within {reason}: with every candidate built at its largest as early as it can be (of an exclusive group, the largest; budgets ignored) every year meets its target."
    cleared = {k: v for k, v in {"status": "feasible_alone", "plan": None, "objective_cny": None, "audit_passed": None, "met": None, "utilization_rate": None, "target_rate_value": None, "bottlenecks": [], "reclaim_t": {}, "stock": [], "airspace": []}.items() if k in YearResult.model_fields}
    years = [y.model_copy(update=cleared) for y in full.years]
    return PathwayResult(pathway_id=p.id, base_scenario_id=p.base.id, status="infeasible", message=msg, rate_mode=p.base.policy.rate_mode.value, discount_rate=p.spec.discount_rate, years=years, builds=rows, builds_statement=msg,
                         builds_statement_zh=f"在{reason_zh}约束下，任何建设方案都无法使各年达到目标；不考虑预算、所有候选项目尽早按最大规模建设（互斥组取最大者）时各年均可达标。", solver={**full.solver, **info})


def build_lines(r: PathwayResult, lang: str = "en") -> list[str]:
    """The builds of a pathway result as text lines (empty without candidates)."""
    if not r.builds:
        return []
    zh = lang == "zh"
    lines = ["", "建设方案（按投产年份）：" if zh else "Builds (by the year they come into operation):"]
    for b in sorted(r.builds, key=lambda b: (b.year is None, b.year or 0, b.id)):
        name = (b.name_zh if zh else b.name_en) or b.id
        if b.built:
            lines.append(f"  {b.year}  {b.id} {name}：新增 {b.size_t:,.0f} 吨/年，投资 {b.capital_cny / 1e4:,.1f} 万元，年值 {b.annualized_cny / 1e4:,.1f} 万元/年 × {b.years_in_operation} 年" if zh
                         else f"  {b.year}  {b.id} {name}: +{b.size_t:,.0f} t/yr, capital {b.capital_cny:,.0f} CNY, {b.annualized_cny:,.0f} CNY/yr × {b.years_in_operation} yr")
        else:
            lines.append(f"  不建  {b.id} {name}" if zh else f"  not built  {b.id} {name}")
    if r.capital_cny_pv is not None:
        lines.append(f"  建设年值现值（计入总成本）：{r.capital_cny_pv / 1e4:,.1f} 万元" if zh else f"  present value of the builds' yearly capital (in the total): {r.capital_cny_pv:,.0f} CNY")
    return lines


def check_gap(gap: float) -> None:
    """Refuse a gap outside [0, 1)."""
    if not (isinstance(gap, int | float) and math.isfinite(gap) and 0 <= gap < 1):
        msg = f"gap must be a relative gap from 0 to below 1 (got {gap!r})."
        raise InputError(msg, [Problem("pathway", None, "gap", msg, "e.g. 0.0001.")])
