r"""Investment decisions: which candidate projects to build, how big, and what each decision is worth.

Stage: analysis. Input: a scenario with ``candidates`` (projects that may be built or
expanded, with capital costs, lifetimes and sizing; ``flowopt/schema.py``). Output: an
:class:`InvestmentResult`: the least-cost build set (``flowopt invest``, ``POST
/v1/investments``), the plan given those builds, and why.

    assemble(investment=True) -> Session (MILP) -> builds -> plan given the builds -> audit
                              -> decision values (a MILP per candidate, forced the other way)
                              -> capital break-evens (MILPs with one candidate's capital scaled)

**The model** is the LP of ``models/README.md`` with the candidates' decisions added
(section 11): a build decision b_c ∈ {0, 1}, the capacity added s_c (between m_c and M_c when
built, 0 otherwise; whole modules for ``modules``), F_p − Σ_c s_c ≤ C̄_p, at most one build per
exclusive group, capital within the budgets, and the annualized capital
CRF_c (K_c b_c + k_c s_c) plus the fixed operating cost O_c b_c in the objective.

**Explanations given the chosen builds.** With the builds fixed the MILP is an LP: the
scenario with each built project's capacity raised by its size (and projects that exist only as
unbuilt candidates left out). That LP is solved and explained exactly as ``flowopt solve`` does
(bottleneck cards, valid ranges, why-not, the target's price); the plan says it is "given the
chosen builds". Its cost plus the builds' annualized capital and fixed cost is the MILP's.

**Decision values.** For every candidate, the MILP re-solved with that candidate forced the
other way (built if it was not, not built if it was): the value of the decision is the cost
change, ≥ 0 at an optimum (up to the gap); infeasible when the target cannot be met that way.

**Capital break-even** of a candidate not built: the largest factor λ* on its capital (fixed
and per t/yr together) at which it would be built. With C₀ the optimal cost (which does not
depend on λ: the candidate is not in it) and C(λ) the least cost with the candidate forced in
and its capital scaled by λ, C(λ) = min_s (O_s + λ A_s) over the plans s with it built (A_s its
annualized capital in plan s, O_s everything else): concave and piecewise linear, so
λ* = max { λ : C(λ) ≤ C₀ } is found exactly by Newton steps from below,

.. math:: λ_{k+1} = (C₀ − O_{s_k}) / A_{s_k}, \quad s_k \text{ optimal at } λ_k,

starting from λ₁ = 1 − V / A₁ (V the decision value): each λ_k is feasible (C(λ_k) ≤ C₀) and
the steps stop at the kink where C(λ*) = C₀. The break-even capital is λ* × (K_c + k_c s*), at
the size s* it would then be built; in yearly terms the decision value is what the annualized
capital must fall by when the size does not change (λ* = 1 − V / A).

**Target–cost curve with builds** (:func:`investment_curve`): a MILP per target on a grid, and
where the build set differs between two neighbouring targets, bisection on the target until the
change is located within ``resolution``.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from flowopt.audit import audit_builds
from flowopt.bundled import bundled_root
from flowopt.diagnosis import Diagnosis
from flowopt.errors import AuditError, InfeasibleError, InputError, Problem
from flowopt.formulation import AssembledLP, Network, assemble
from flowopt.formulation.families import (
    annualized,
    candidate_available,
    candidate_sizes,
    exclusive_groups,
)
from flowopt.graph import build_graph
from flowopt.io import load_scenario
from flowopt.pipeline import run
from flowopt.results import AuditReport, Plan
from flowopt.schema import Scenario
from flowopt.solve import Session, SolveOptions, SolveOutcome, SolveStatus, maximize_ratio_lp

#: Default relative MIP gap of an investment solve (the answer is proven within it).
DEFAULT_GAP = 1e-6
#: Newton steps of a capital break-even at most (each a MILP).
MAX_BREAK_EVEN_STEPS = 30


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuildDecision(_Out):
    """One candidate and what the optimum does with it."""

    id: str
    project: str
    name_zh: str = ""
    name_en: str = ""
    sizing: str
    built: bool
    size_t: float
    """Capacity added, t/yr (0 when not built)."""
    modules: int | None = None
    """Modules built (``sizing`` modules)."""
    year: int | None = None
    """Year it is in operation from (the scenario's year; ``None`` when not built)."""
    capital_cny: float
    """Capital of the build, CNY (0 when not built)."""
    annualized_cny: float
    """That capital per year: capital × CRF(discount rate, lifetime), CNY/yr."""
    fixed_opex_cny: float
    """Fixed operating cost per year of the build, CNY/yr."""
    crf: float
    """Capital recovery factor used, 1/yr."""
    existing_t: float
    """Capacity of the project without the candidate, t/yr."""
    min_size_t: float
    max_size_t: float
    available: bool = True
    """False when its ``earliest_year`` is after the scenario's year."""
    forced: str | None = None
    """``build`` or ``skip`` when the decision was imposed (``--build``/``--skip``)."""
    group: str | None = None
    source: str = ""


class DecisionValue(_Out):
    """What one decision is worth: the cost of the MILP re-solved with the candidate forced the other way."""

    id: str
    built: bool
    """The decision at the optimum."""
    forced_to: str
    """``build`` or ``skip``: the other way."""
    feasible: bool
    """False when the target cannot be met that way (the decision is required)."""
    total_cost_cny: float | None
    """Total annual cost with the decision reversed, CNY/yr."""
    value_cny: float | None
    """Its cost change against the optimum, CNY/yr (≥ 0 up to the gap; ``None`` if infeasible)."""
    builds: list[str] = []
    """The build set with the decision reversed."""
    mip_gap: float | None = None
    explanation: str = ""
    explanation_zh: str = ""


class BreakEven(_Out):
    """The capital at which a candidate that is not built would be built."""

    id: str
    capital_cny: float | None
    """Its capital at the size it would be built at, at today's prices, CNY."""
    break_even_capital_cny: float | None
    """The most that capital may be for it to be built, CNY (``None``: no capital would do)."""
    factor: float | None
    """Break-even capital / capital (λ*)."""
    size_t: float | None
    """The size it would be built at, t/yr."""
    annualized_cny: float | None
    """Its annualized capital at today's prices, CNY/yr."""
    break_even_annualized_cny: float | None
    """The annualized capital at break-even, CNY/yr."""
    steps: int = 0
    """MILP solves it took."""
    explanation: str = ""
    explanation_zh: str = ""


class InvestmentResult(_Out):
    """The answer of ``flowopt invest``: the JSON contract of ``--json`` and ``POST /v1/investments``."""

    scenario_id: str
    status: str
    """``optimal`` (within the gap), ``feasible`` (a limit stopped the solve: the incumbent, with
    its gap) or ``infeasible`` (no build set reaches the target; see ``diagnosis``)."""
    target: float
    rate_mode: str
    utilization_rate: float | None = None
    objective_cny: float | None = None
    """Total annual cost: operating (the plan's) + annualized capital + fixed cost of the builds, CNY/yr."""
    operating_cost_cny: float | None = None
    capital_annualized_cny: float | None = None
    fixed_opex_cny: float | None = None
    capital_cny: float | None = None
    """Capital of all builds, CNY (not annualized)."""
    discount_rate: float
    capital_budget_cny: float | None = None
    capital_budget_cny_per_yr: float | None = None
    mip_gap: float | None = None
    mip_bound: float | None = None
    gap_limit: float
    """The relative gap asked for (``--gap``)."""
    within_gap: bool = False
    builds: list[BuildDecision] = []
    plan: Plan | None = None
    """The plan given the chosen builds (as ``flowopt solve --json``)."""
    decision_values: list[DecisionValue] = []
    build_break_even: list[BreakEven] = []
    audit: AuditReport | None = None
    """The build decisions checked against the input (capacity only where built, budgets,
    groups, sizes, forcings, the capital's annualization)."""
    diagnosis: Diagnosis | None = None
    statement: str = ""
    statement_zh: str = ""
    note: str = ""
    note_zh: str = ""
    solver: dict[str, Any] = {}
    warnings: list[str] = []

    @property
    def built(self) -> list[BuildDecision]:
        """The candidates built."""
        return [b for b in self.builds if b.built]


# ---------------------------------------------------------------------------------------------
# Inputs: the scenario, the forcings
# ---------------------------------------------------------------------------------------------


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def prepare(source: Scenario | str | os.PathLike[str] | None, *, target_rate: float | None = None, budget_cny: float | None = None, build: Sequence[str] = (), skip: Sequence[str] = ()) -> Scenario:
    """Load the scenario and check the request: candidates present, target, budget, forcings.

    Args:
        source: a scenario, folder or workbook (``None``: the bundled investment scenario).
        target_rate: overrides ``policy.target_rate``.
        budget_cny: overrides ``policy.capital_budget_cny``.
        build: candidates that must be built.
        skip: candidates that must not be built.

    Returns:
        The scenario with the overrides applied.

    Raises:
        InputError: every problem at once (no candidates, a target or budget out of range,
            unknown or contradictory forcings), each with what to do.
    """
    if isinstance(source, Scenario):
        scenario = source
    else:
        scenario = load_scenario(default_invest_dir() if source is None else source)
    problems: list[Problem] = []
    policy: dict[str, Any] = {}
    if target_rate is not None:
        if not (math.isfinite(target_rate) and 0 <= target_rate <= 1):
            problems.append(Problem("policy", None, "target_rate", f"target {target_rate} is not a fraction between 0 and 1.", "give the target as a fraction, e.g. 0.70 for 70 %."))
        else:
            policy["target_rate"] = float(target_rate)
    if budget_cny is not None:
        if not (math.isfinite(budget_cny) and 0 <= budget_cny <= 1e12):
            problems.append(Problem("policy", None, "capital_budget_cny", f"budget {budget_cny} is not an amount of CNY from 0 to 1e12.", "give the capital budget in CNY, e.g. 2e9 for 2 billion."))
        else:
            policy["capital_budget_cny"] = float(budget_cny)
    if not scenario.candidates:
        problems.append(Problem("candidates", None, None, f"scenario '{scenario.id}' has no candidates, so there is nothing to decide.", "add a candidates table (candidates.csv or a 'candidates' sheet: id, project, sizing, size_t …, capital_cny, capital_cny_per_t, lifetime_yr); or run flowopt solve to plan the network as it stands."))
    known = {c.id: c for c in scenario.candidates}
    year = scenario.year
    sized, size_problems = parse_builds(build, known)
    problems += size_problems
    build = list(sized)
    for flag, ids in (("--build", build), ("--skip", skip)):
        for cid in ids:
            if cid not in known:
                problems.append(Problem("candidates", None, "id", f"{flag} {cid}: no candidate '{cid}'.{_suggest(cid, known)}", f"use an id from the candidates table ({', '.join(sorted(known)) or 'none'})."))
    for cid in sorted(set(build) & set(skip)):
        problems.append(Problem("candidates", None, "id", f"candidate '{cid}' is given both to --build and to --skip.", "keep one of the two."))
    for cid in build:
        c = known.get(cid)
        if c is not None and c.earliest_year is not None and year is not None and c.earliest_year > year:
            problems.append(Problem("candidates", None, "earliest_year", f"--build {cid}: candidate '{cid}' cannot be in operation before {c.earliest_year}, after the scenario's year {year}.", "drop --build for it, or change its earliest_year."))
    forced_groups: dict[str, list[str]] = {}
    for cid in dict.fromkeys(build):
        c = known.get(cid)
        if c is not None and c.group is not None:
            forced_groups.setdefault(c.group, []).append(cid)
    for group, ids in sorted(forced_groups.items()):
        if len(ids) > 1:
            problems.append(Problem("candidates", None, "group", f"--build {' and '.join(ids)}: they are alternatives (group '{group}'), and at most one of a group is built.", "force at most one candidate of each group."))
    if problems:
        msg = f"The investment request is invalid: {len(problems)} problem{'s' if len(problems) != 1 else ''} found."
        raise InputError(msg, problems)
    if policy:
        scenario = scenario.model_copy(update={"policy": scenario.policy.model_copy(update=policy)})
    return scenario


#: The bundled investment scenario: the 2023 network with the plan's projects as candidates.
INVEST_SCENARIO = "panzhihua_east_invest"


def parse_builds(build: Sequence[str], known: dict[str, Any]) -> tuple[dict[str, float | None], list[Problem]]:
    """Read ``--build`` items: ``ID`` (built, size chosen by the optimizer) or ``ID=SIZE_T``.

    Args:
        build: the items as given.
        known: candidate id -> record.

    Returns:
        ``(id -> size or None, problems)``: a size must be a number the candidate's sizing
        allows (its ``size_t``; ``min_size_t``–``max_size_t``; whole modules up to ``max_modules``).
    """
    out: dict[str, float | None] = {}
    problems: list[Problem] = []
    for item in build:
        cid, _, text = str(item).partition("=")
        cid = cid.strip()
        if not text:
            out[cid] = None
            continue
        try:
            size = float(text)
        except ValueError:
            size = math.nan
        c = known.get(cid)
        if not math.isfinite(size) or size <= 0:
            problems.append(Problem("candidates", None, "size_t", f"--build {item}: '{text[:40]}' is not a size in t/yr above 0.", "write --build ID=SIZE_T, e.g. --build R04=2000000, or --build ID to let flowopt choose the size."))
            continue
        if c is not None:
            low, high = candidate_sizes(c)
            mode = c.sizing.value
            unit = float(c.module_t or 0.0)
            ok = low - 1e-9 * high <= size <= high + 1e-9 * high
            if mode == "modules" and unit > 0:
                ok = ok and abs(size / unit - round(size / unit)) <= 1e-9
            if not ok:
                allowed = {"build": f"only {low:,.0f} t/yr", "size": f"{low:,.0f} to {high:,.0f} t/yr", "modules": f"whole modules of {unit:,.0f} t/yr, up to {high:,.0f} t/yr"}[mode]
                problems.append(Problem("candidates", None, "size_t", f"--build {item}: candidate '{cid}' can add {allowed}, not {size:,.0f}.", "give a size its sizing allows, or --build ID alone."))
                continue
        out[cid] = size
    return out, problems


def default_invest_dir() -> Path:
    """The bundled investment scenario folder (``data/panzhihua_east_invest``)."""
    return bundled_root() / INVEST_SCENARIO


def fixed_scenario(scenario: Scenario, sizes: dict[str, float]) -> Scenario:
    """The scenario with the builds fixed: an LP with each project's capacity raised by what is built.

    Projects that exist only as candidates (capacity 0) none of which is built are left out,
    with their accepts, residues and quality rows; the candidates table is emptied. Rows keep
    their file locations, so explanations still name ``projects.csv row 6``.

    Args:
        scenario: the scenario with candidates.
        sizes: candidate id -> capacity it adds (t/yr); candidates not listed (or 0) are not built.

    Returns:
        The scenario of the network with those builds, candidates gone.
    """
    added: dict[str, float] = {}
    candidate_projects: set[str] = set()
    for c in scenario.candidates:
        candidate_projects.add(c.project)
        if sizes.get(c.id, 0.0) > 0:
            added[c.project] = added.get(c.project, 0.0) + sizes[c.id]
    absent = {p.id for p in scenario.projects if p.id in candidate_projects and p.capacity_t <= 0 and p.id not in added}
    locs = scenario._locations
    new_locs: dict[str, list[tuple[str, int]]] = {}

    def keep(table: str, records: tuple[Any, ...], ok: Callable[[Any], bool], change: Callable[[Any], Any] | None = None) -> tuple[Any, ...]:
        rows, where = [], []
        for i, r in enumerate(records):
            if ok(r):
                rows.append(change(r) if change else r)
                if table in locs and i < len(locs[table]):
                    where.append(locs[table][i])
        if table in locs:
            new_locs[table] = where
        return tuple(rows)

    def grown(p: Any) -> Any:
        return p.model_copy(update={"capacity_t": p.capacity_t + added[p.id]}) if p.id in added else p

    update = {
        "projects": keep("projects", scenario.projects, lambda r: r.id not in absent, grown),
        "accepts": keep("accepts", scenario.accepts, lambda r: r.outlet not in absent),
        "residues": keep("residues", scenario.residues, lambda r: r.project not in absent),
        "quality": keep("quality", scenario.quality, lambda r: r.project not in absent),
        "candidates": (),
    }
    out = scenario.model_copy(update=update)
    out._locations = {**{k: v for k, v in locs.items() if k != "candidates"}, **new_locs}
    return out


# ---------------------------------------------------------------------------------------------
# The MILP
# ---------------------------------------------------------------------------------------------


class InvestmentModel:
    """One investment MILP held in one HiGHS session, with forcings and capital scalings.

    Args:
        scenario: a scenario with candidates (see :func:`prepare`).
        options: solver settings (``time_limit_s`` per MILP solve).
        gap: relative MIP gap.
        build: candidates forced to be built.
        skip: candidates forced not to be built.
        target_rate: overrides the scenario's target (the curve).
        with_target: keep the target row (``False`` for the highest reachable rate).
    """

    def __init__(self, scenario: Scenario, options: SolveOptions | None = None, *, gap: float = DEFAULT_GAP, build: Sequence[str] = (), skip: Sequence[str] = (), target_rate: float | None = None, with_target: bool = True, network: Network | None = None) -> None:
        self.scenario = scenario
        self.options = options or SolveOptions()
        self.gap = float(gap)
        self.network = network or Network(build_graph(scenario))
        self.lp: AssembledLP = assemble(self.network, investment=True, target_rate=target_rate, with_target=with_target)
        self.ids: list[str] = list(self.network.candidates)
        self.build_col = {c: self.lp.col_of("build", c) for c in self.ids}
        self.built_col = {c: self.lp.col_of("built_t", c) for c in self.ids}
        self.modules_col = {c: self.lp.col_of("modules", c) for c in self.network.modular}
        sized, _ = parse_builds(build, self.network.candidate)
        self.forced: dict[str, str] = {**dict.fromkeys(sized, "build"), **dict.fromkeys(skip, "skip")}
        self.forced_size: dict[str, float] = {c: v for c, v in sized.items() if v is not None}
        for cid, how in self.forced.items():
            j = self.build_col[cid]
            value = 1.0 if how == "build" else 0.0
            self.lp.col_lower[j] = self.lp.col_upper[j] = value
        for cid, size in self.forced_size.items():
            j = self.built_col[cid]
            self.lp.col_lower[j] = self.lp.col_upper[j] = size
            if cid in self.modules_col:
                k = self.modules_col[cid]
                self.lp.col_lower[k] = self.lp.col_upper[k] = round(size / float(self.network.candidate[cid].module_t or 1.0))
        self.session = Session(self.lp, self.options, mip_rel_gap=self.gap)
        self.base_cost = self.session.lp.col_cost.copy()

    def solve(self) -> SolveOutcome:
        """Solve the MILP as it stands (forcings and scalings applied)."""
        return self.session.solve()

    def fix(self, cid: str, value: float | None) -> None:
        """Force ``cid`` built (1), not built (0), or back to its bounds as asked (``None``).

        Reversing a forced size (``--build ID=SIZE_T``) also frees the size.
        """
        j = self.build_col[cid]
        cols, lows, highs = [j], [0.0, 0.0], [0.0, 0.0]
        if value is None:
            lows[0], highs[0] = float(self.lp.col_lower[j]), float(self.lp.col_upper[j])
        else:
            lows[0] = highs[0] = float(value)
        if cid in self.forced_size:
            k = self.built_col[cid]
            cols.append(k)
            lows[1], highs[1] = (float(self.lp.col_lower[k]), float(self.lp.col_upper[k])) if value is None else (0.0, np.inf)
            if cid in self.modules_col:
                m = self.modules_col[cid]
                cols.append(m)
                lows.append(float(self.lp.col_lower[m]) if value is None else 0.0)
                highs.append(float(self.lp.col_upper[m]) if value is None else float(self.network.candidate[cid].max_modules or 0))
        self.session.set_col_bounds(np.array(cols), np.array(lows[: len(cols)]), np.array(highs[: len(cols)]))

    def scale_capital(self, cid: str, factor: float) -> None:
        """Multiply the annualized capital of ``cid`` by ``factor`` in the objective (1 restores it)."""
        c = self.network.candidate[cid]
        crf = annualized(self.network, cid)
        jb, js = self.build_col[cid], self.built_col[cid]
        costs = np.array([factor * crf * c.capital_cny + c.fixed_opex_cny_per_yr, factor * crf * c.capital_cny_per_t])
        self.session.set_costs(np.array([jb, js]), costs)

    def decisions(self, out: SolveOutcome) -> dict[str, tuple[bool, float, int | None]]:
        """Candidate -> (built, capacity added t/yr, modules) read from a solution."""
        result: dict[str, tuple[bool, float, int | None]] = {}
        for cid in self.ids:
            c = self.network.candidate[cid]
            built = bool(out.x[self.build_col[cid]] > 0.5)
            low, high = candidate_sizes(c)
            size = float(out.x[self.built_col[cid]]) if built else 0.0
            modules = None
            if cid in self.modules_col:
                modules = round(float(out.x[self.modules_col[cid]])) if built else 0
                size = float(modules) * float(c.module_t or 0.0) if built else 0.0
            elif built and c.sizing.value == "build":
                size = float(c.size_t or 0.0)
            elif built:
                # the solver's size within its tolerance of a bound is the bound
                tol = 1e-9 * max(1.0, high)
                size = low if abs(size - low) <= tol else high if abs(size - high) <= tol else min(max(size, low), high)
            result[cid] = (built, size, modules)
        return result

    def capital_of(self, cid: str, size: float) -> float:
        """Capital of building ``cid`` at ``size`` t/yr, CNY."""
        c = self.network.candidate[cid]
        return float(c.capital_cny + c.capital_cny_per_t * size)


def _build_set(decided: dict[str, tuple[bool, float, int | None]]) -> list[str]:
    return [cid for cid, (built, _, _) in decided.items() if built]


def _labels(scenario: Scenario) -> dict[str, tuple[str, str]]:
    projects = {p.id: p for p in scenario.projects}
    out = {}
    for c in scenario.candidates:
        p = projects.get(c.project)
        zh = c.name_zh or (p.name_zh if p else "") or c.id
        en = c.name_en or (p.name_en if p else "") or c.id
        out[c.id] = (zh, en)
    return out


def _money(x: float) -> str:
    return f"{x:,.0f} CNY"


def _money_zh(x: float) -> str:
    if abs(x) >= 1e8:
        return f"{x / 1e8:,.2f} 亿元"
    if abs(x) >= 1e4:
        return f"{x / 1e4:,.1f} 万元"
    return f"{x:,.0f} 元"


# ---------------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------------


def solve_investment(source: Scenario | str | os.PathLike[str] | None = None, *, target_rate: float | None = None, budget_cny: float | None = None, build: Sequence[str] = (), skip: Sequence[str] = (), gap: float = DEFAULT_GAP, options: SolveOptions | None = None, explain: bool = True, decision_values: bool = True, break_even: bool = True) -> InvestmentResult:
    """Choose the least-cost build set and explain it (see the module docstring).

    Args:
        source: a scenario with candidates, a folder or workbook (``None``: the bundled
            ``data/panzhihua_east_invest``).
        target_rate: overrides ``policy.target_rate``.
        budget_cny: overrides ``policy.capital_budget_cny``.
        build: candidates that must be built ("what if we must build X").
        skip: candidates that must not be built.
        gap: relative MIP gap at which a solve counts as optimal.
        options: solver settings; ``time_limit_s`` applies to each MILP solve.
        explain: explain the plan given the builds (ranges, why-not, the target's price range).
        decision_values: re-solve with each candidate forced the other way.
        break_even: the capital break-even of each candidate not built.

    Returns:
        The result: ``optimal``, ``feasible`` (stopped by the time limit: the incumbent and its
        gap; decision values and break-evens are then left out) or ``infeasible`` (with the
        diagnosis of the network with every candidate built at its largest).

    Raises:
        InputError: invalid input or request (every problem listed).
        SolveError: the solver ended without a plan for another reason (a time limit before
            any incumbent, an unbounded cost, a failure).
        AuditError: the builds or the plan broke an input constraint.
    """
    options = options or SolveOptions()
    scenario = prepare(source, target_rate=target_rate, budget_cny=budget_cny, build=build, skip=skip)
    start = time.perf_counter()
    model = InvestmentModel(scenario, options, gap=gap, build=build, skip=skip)
    out = model.solve()
    policy = scenario.policy
    head: dict[str, Any] = {
        "scenario_id": scenario.id,
        "target": policy.target_rate,
        "rate_mode": policy.rate_mode.value,
        "discount_rate": policy.discount_rate,
        "capital_budget_cny": policy.capital_budget_cny,
        "capital_budget_cny_per_yr": policy.capital_budget_cny_per_yr,
        "gap_limit": model.gap,
    }
    if out.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
        return _infeasible(model, head, options, start)
    if not out.has_solution:
        out.raise_for_status()
    assert out.objective is not None
    decided = model.decisions(out)
    builds = _build_rows(model, decided)
    sizes = {b.id: b.size_t for b in builds if b.built}
    fixed = fixed_scenario(scenario, sizes)
    plan = run(fixed, options=options, explain=explain)
    capital_annual = sum(b.annualized_cny for b in builds)
    opex = sum(b.fixed_opex_cny for b in builds)
    capital = sum(b.capital_cny for b in builds)
    total = plan.objective_cny + capital_annual + opex
    names = ", ".join(_build_name(b) for b in builds if b.built) or "none"
    names_zh = "、".join(_build_name(b, zh=True) for b in builds if b.built) or "无"
    note = f"Explanations (bottleneck cards, ranges, why-not, the target's price) are given the chosen builds: {names}."
    note_zh = f"以下说明（瓶颈卡片、有效区间、未用足项目、目标价格）均以所选建设方案为前提：{names_zh}。"
    plan = _given_builds(plan, note)
    report = audit_builds(scenario, {b.id: (b.built, b.size_t, b.modules) for b in builds}, plan.flows, model.forced, total_cny=total, operating_cny=plan.objective_cny, capital_annualized_cny=capital_annual, fixed_opex_cny=opex)
    if not report.passed:
        failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
        msg = "The build decisions failed the audit against the input data; they are not shown. Report this case."
        raise AuditError(msg, failed)
    status = out.status.value
    gap_found = out.mip_gap
    within = out.status == SolveStatus.optimal or (gap_found is not None and gap_found <= model.gap)
    warnings: list[str] = []
    # the LP at fixed builds may beat an incumbent's operating part (never the other way round)
    if total > out.objective + 1e-6 * max(1.0, abs(out.objective)) + 1e-3:
        warnings.append(f"The plan given the builds costs {total - out.objective:,.2f} CNY/yr more than the solver's incumbent; report this case.")
    values: list[DecisionValue] = []
    evens: list[BreakEven] = []
    if out.status == SolveStatus.optimal:
        if decision_values:
            values = _decision_values(model, decided, out.objective)
        if break_even:
            evens = _break_evens(model, decided, out.objective, values)
    else:
        warnings.append(f"The solve stopped at a limit (--time-limit) with a gap of {_pct(gap_found)} (asked: {_pct(model.gap)}): decision values and capital break-evens are left out; raise --time-limit or --gap.")
    statement, statement_zh = _statement(builds, total, plan.utilization_rate, policy.target_rate, out, model.gap)
    solver = {"name": "HiGHS", "status": status, "message": out.message, "runtime_s": out.runtime_s, "nodes": out.nodes, "seconds_total": time.perf_counter() - start, "columns": model.lp.n_cols, "rows": model.lp.n_rows, "integers": int(np.count_nonzero(model.lp.integrality)) if model.lp.integrality is not None else 0}
    return InvestmentResult(
        **head,
        status=status,
        utilization_rate=plan.utilization_rate,
        objective_cny=total,
        operating_cost_cny=plan.objective_cny,
        capital_annualized_cny=capital_annual,
        fixed_opex_cny=opex,
        capital_cny=capital,
        mip_gap=gap_found,
        mip_bound=out.mip_bound,
        within_gap=bool(within),
        builds=builds,
        plan=plan,
        decision_values=values,
        build_break_even=evens,
        audit=report,
        statement=statement,
        statement_zh=statement_zh,
        note=note,
        note_zh=note_zh,
        solver=solver,
        warnings=warnings,
    )


#: The label every explanation of the plan given the builds carries.
GIVEN = ("Given the chosen builds: ", "以所选建设方案为前提：")


def _given_builds(plan: Plan, note: str) -> Plan:
    """The plan with every card, why-not entry and the target's price labelled "given the chosen builds"."""

    def label(item: Any) -> Any:
        return item.model_copy(update={"explanation": GIVEN[0] + item.explanation, "explanation_zh": GIVEN[1] + item.explanation_zh})

    update: dict[str, Any] = {"bottlenecks": [label(b) for b in plan.bottlenecks], "why_not": [label(w) for w in plan.why_not], "warnings": [*plan.warnings, note]}
    if plan.target_marginal_cost is not None:
        update["target_marginal_cost"] = label(plan.target_marginal_cost)
    return plan.model_copy(update=update)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4%}"


def _build_name(b: BuildDecision, zh: bool = False) -> str:
    per = "吨/年" if zh else "t/yr"
    if b.modules is not None and b.modules > 1:
        return f"{b.id} ({b.modules} × {b.size_t / b.modules:,.0f} {per})"
    return f"{b.id} ({b.size_t:,.0f} {per})"


def _build_rows(model: InvestmentModel, decided: dict[str, tuple[bool, float, int | None]]) -> list[BuildDecision]:
    s = model.scenario
    projects = {p.id: p for p in s.projects}
    labels = _labels(s)
    rows = []
    for c in sorted(s.candidates, key=lambda c: c.id):
        built, size, modules = decided[c.id]
        crf = annualized(model.network, c.id)
        capital = model.capital_of(c.id, size) if built else 0.0
        low, high = candidate_sizes(c)
        rows.append(BuildDecision(
            id=c.id, project=c.project, name_zh=labels[c.id][0], name_en=labels[c.id][1], sizing=c.sizing.value, built=built, size_t=size, modules=modules,
            year=s.year if built else None, capital_cny=capital, annualized_cny=capital * crf, fixed_opex_cny=c.fixed_opex_cny_per_yr if built else 0.0, crf=crf,
            existing_t=projects[c.project].capacity_t if c.project in projects else 0.0, min_size_t=low, max_size_t=high,
            available=candidate_available(model.network, c.id), forced=model.forced.get(c.id), group=c.group, source=c.source,
        ))
    return rows


def _statement(builds: list[BuildDecision], total: float, rate: float, target: float, out: SolveOutcome, gap: float) -> tuple[str, str]:
    built = [b for b in builds if b.built]
    capital = sum(b.capital_cny for b in built)
    names = ", ".join(b.id for b in built) or "nothing"
    names_zh = "、".join(b.id for b in built) or "不建设任何项目"
    proven = f"optimal within a gap of {_pct(gap)}" if out.status == SolveStatus.optimal else f"NOT proven optimal: the best found when a limit stopped the solve, within {_pct(out.mip_gap)} of the optimum (asked {_pct(gap)})"
    proven_zh = f"在 {_pct(gap)} 的间隙内最优" if out.status == SolveStatus.optimal else f"未证明最优：为求解达到限制时找到的最好方案，与最优相差不超过 {_pct(out.mip_gap)}（要求 {_pct(gap)}）"
    en = f"Least-cost build set for the {target:.1%} target: {names} ({len(built)} of {len(builds)} candidates, capital {_money(capital)}); total cost {_money(total)}/yr including annualized capital; rate reached {rate:.2%}; {proven}."
    zh = f"实现 {target:.1%} 目标的最低成本建设方案：{names_zh}（{len(builds)} 个候选项目中建 {len(built)} 个，投资 {_money_zh(capital)}）；含投资年值的年总成本 {_money_zh(total)}/年；达到 {rate:.2%}；{proven_zh}。"
    return en, zh


def _decision_values(model: InvestmentModel, decided: dict[str, tuple[bool, float, int | None]], optimum: float) -> list[DecisionValue]:
    """Re-solve with each candidate forced the other way; ranked by value, required ones first."""
    labels = _labels(model.scenario)
    rows = []
    for cid in model.ids:
        built = decided[cid][0]
        if not built and not candidate_available(model.network, cid):
            continue  # it cannot be built at all: no decision to value
        model.fix(cid, 0.0 if built else 1.0)
        try:
            out = model.solve()
        finally:
            model.fix(cid, None)
        name_zh, name_en = labels[cid]
        forced_to = "skip" if built else "build"
        if out.has_solution and out.objective is not None:
            value = out.objective - optimum
            others = _build_set(model.decisions(out))
            if built:
                en = f"Not building {name_en} ({cid}) would cost {_money(value)}/yr more (then built: {', '.join(others) or 'nothing'})."
                zh = f"若不建设{name_zh}（{cid}），年成本增加 {_money_zh(value)}（届时建设：{'、'.join(others) or '无'}）。"
            else:
                en = f"Building {name_en} ({cid}) anyway would cost {_money(value)}/yr more (then built: {', '.join(others) or 'nothing'})."
                zh = f"若仍建设{name_zh}（{cid}），年成本增加 {_money_zh(value)}（届时建设：{'、'.join(others) or '无'}）。"
            rows.append(DecisionValue(id=cid, built=built, forced_to=forced_to, feasible=True, total_cost_cny=out.objective, value_cny=value, builds=others, mip_gap=out.mip_gap, explanation=en, explanation_zh=zh))
        elif out.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded):
            if built:
                en = f"{name_en} ({cid}) is required: without it the target cannot be met (with the budgets, the groups and any decisions forced on the command line)."
                zh = f"{name_zh}（{cid}）必须建设：不建则无法实现目标（在预算、互斥组及命令行指定的决策约束下）。"
            else:
                en = f"{name_en} ({cid}) cannot be built together with a plan that meets the target (budget, group or a forced decision)."
                zh = f"建设{name_zh}（{cid}）则无法同时实现目标（受预算、互斥组或指定决策限制）。"
            rows.append(DecisionValue(id=cid, built=built, forced_to=forced_to, feasible=False, total_cost_cny=None, value_cny=None, explanation=en, explanation_zh=zh))
        else:
            rows.append(DecisionValue(id=cid, built=built, forced_to=forced_to, feasible=False, total_cost_cny=None, value_cny=None, explanation=f"The re-solve with {cid} forced the other way ended without a plan: {out.message}.", explanation_zh=f"将 {cid} 的决策反转后重新求解未得到方案：{out.message}。"))
    return sorted(rows, key=lambda r: (r.feasible, -(r.value_cny or 0.0), r.id))


def _break_evens(model: InvestmentModel, decided: dict[str, tuple[bool, float, int | None]], optimum: float, values: list[DecisionValue]) -> list[BreakEven]:
    """The capital at which each candidate not built would be built (exact Newton steps, see the module docstring)."""
    labels = _labels(model.scenario)
    value_of = {v.id: v for v in values}
    rows = []
    tol = max(1e-6, 10 * model.gap) * max(1.0, abs(optimum))
    for cid in model.ids:
        if decided[cid][0] or not candidate_available(model.network, cid) or model.forced.get(cid) == "skip":
            continue
        name_zh, name_en = labels[cid]
        known = value_of.get(cid)
        if known is not None and not known.feasible:
            rows.append(BreakEven(id=cid, capital_cny=None, break_even_capital_cny=None, factor=None, size_t=None, annualized_cny=None, break_even_annualized_cny=None,
                                  explanation=f"{name_en} ({cid}) cannot be built in a plan that meets the target, whatever its capital.", explanation_zh=f"{name_zh}（{cid}）无论投资多少都无法在实现目标的方案中建设。"))
            continue
        row = _break_even(model, cid, optimum, tol, name_en, name_zh)
        group = model.network.candidate[cid].group
        mates = [m for m in exclusive_groups(model.network).get(group or "", []) if m != cid and decided[m][0]]
        if mates:
            # an alternative of its group is built: building this one means giving that up
            row = row.model_copy(update={"explanation": f"{row.explanation} Its alternative {', '.join(mates)} (group {group}) is built now; building {cid} means giving that up.",
                                         "explanation_zh": f"{row.explanation_zh}同组（{group}）的替代方案 {'、'.join(mates)} 现已选中；建设 {cid} 即放弃该方案。"})
        rows.append(row)
    return sorted(rows, key=lambda r: (r.factor is None, -(r.factor or 0.0), r.id))


def _break_even(model: InvestmentModel, cid: str, optimum: float, tol: float, name_en: str, name_zh: str) -> BreakEven:
    """λ* for one candidate: Newton steps λ ← (C₀ − O_s) / A_s with the candidate forced in."""
    crf = annualized(model.network, cid)
    lam, steps = 1.0, 0
    size = capital = 0.0

    def none(text: str, text_zh: str, annual: float | None = None) -> BreakEven:
        return BreakEven(id=cid, capital_cny=capital or None, break_even_capital_cny=None, factor=None, size_t=size or None, annualized_cny=annual, break_even_annualized_cny=None, steps=steps, explanation=text, explanation_zh=text_zh)

    model.fix(cid, 1.0)
    try:
        while True:
            model.scale_capital(cid, lam)
            out = model.solve()
            steps += 1
            if not out.has_solution or out.objective is None:
                return none(f"{name_en} ({cid}): the re-solve with it built ended without a plan ({out.message}).", f"{name_zh}（{cid}）：强制建设后重新求解未得到方案（{out.message}）。")
            size = model.decisions(out)[cid][1]
            capital = model.capital_of(cid, size)
            annual = crf * capital  # A_s: its annualized capital at today's prices
            other = out.objective - lam * annual  # O_s: everything else
            excess = out.objective - optimum
            if annual <= 0:
                return none(f"{name_en} ({cid}) has no capital cost, yet building it costs {_money(excess)}/yr more: its operating costs, not its capital, keep it out.",
                            f"{name_zh}（{cid}）没有投资成本，建设后年成本仍增加 {_money_zh(excess)}：使其不被选中的是运营成本而非投资。", 0.0)
            nxt = (optimum - other) / annual
            if nxt <= lam * (1 + 1e-12) + 1e-15 and excess <= tol:
                break  # C(λ) = C₀: the kink where building it starts to pay
            if nxt < 0:
                if lam == 0.0:
                    return none(f"{name_en} ({cid}) would not be built even at no capital cost: it would still cost {_money(excess)}/yr more.",
                                f"{name_zh}（{cid}）即使不需要投资也不会被选中：年成本仍会增加 {_money_zh(excess)}。", annual)
                lam = 0.0
            elif steps >= MAX_BREAK_EVEN_STEPS:
                lam = max(0.0, min(nxt, lam))
                break
            else:
                lam = nxt
    finally:
        model.scale_capital(cid, 1.0)
        model.fix(cid, None)
    be = lam * capital
    en = (f"{name_en} ({cid}) would be built, at {size:,.0f} t/yr, if its capital were at most {_money(be)} ({lam:.1%} of today's {_money(capital)}): "
          f"its annualized capital would then be {_money(lam * crf * capital)}/yr instead of {_money(crf * capital)}/yr.")
    zh = (f"若{name_zh}（{cid}）的投资不超过 {_money_zh(be)}（现估算 {_money_zh(capital)} 的 {lam:.1%}），将以 {size:,.0f} 吨/年的规模建设："
          f"投资年值由 {_money_zh(crf * capital)}/年降至 {_money_zh(lam * crf * capital)}/年。")
    return BreakEven(id=cid, capital_cny=capital, break_even_capital_cny=be, factor=lam, size_t=size, annualized_cny=crf * capital, break_even_annualized_cny=lam * crf * capital, steps=steps, explanation=en, explanation_zh=zh)


def _infeasible(model: InvestmentModel, head: dict[str, Any], options: SolveOptions, start: float) -> InvestmentResult:
    """No build set reaches the target: say why, with the network of every candidate built at its largest."""
    s = model.scenario
    usable = {c.id: candidate_sizes(c)[1] for c in s.candidates if candidate_available(model.network, c.id) and model.forced.get(c.id) != "skip"}
    full = fixed_scenario(s, usable)
    diagnosis: Diagnosis | None = None
    reasons: list[str] = []
    reasons_zh: list[str] = []
    try:
        run(full, options=options, explain=False)
    except InfeasibleError as exc:
        diagnosis = getattr(exc, "diagnosis", None)
        rate = f" (at most {diagnosis.max_rate:.2%})" if diagnosis is not None and diagnosis.max_rate is not None else ""
        rate_zh = f"（最高 {diagnosis.max_rate:.2%}）" if diagnosis is not None and diagnosis.max_rate is not None else ""
        reasons.append(f"Even with every candidate built at its largest{', except those skipped,' if any(v == 'skip' for v in model.forced.values()) else ''} the target cannot be met{rate}: the diagnosis below counts the candidates as the expansions they offer.")
        reasons_zh.append(f"即使所有候选项目均按最大规模建设{'（指定不建的除外）' if any(v == 'skip' for v in model.forced.values()) else ''}，也无法实现目标{rate_zh}：以下诊断已把候选项目计为可提供的扩建能力。")
    else:
        least = _least_capital(model)
        budget = s.policy.capital_budget_cny
        budget_yr = s.policy.capital_budget_cny_per_yr
        if least is not None and ((budget is not None and least > budget) or (budget_yr is not None and least > budget_yr)):
            limit = min(b for b in (budget, budget_yr) if b is not None)
            reasons.append(f"The target can be met with the candidates, but not within the capital budget of {_money(limit)}: the least capital that meets it is {_money(least)}.")
            reasons_zh.append(f"候选项目可以实现目标，但超出 {_money_zh(limit)} 的投资预算：实现目标所需的最少投资为 {_money_zh(least)}。")
        else:
            reasons.append("The target can be met with every candidate built at its largest, but not with the exclusive groups and forced decisions (--build/--skip) together.")
            reasons_zh.append("所有候选项目按最大规模建设时可以实现目标，但在互斥组与指定决策（--build/--skip）同时约束下无法实现。")
    return InvestmentResult(**head, status="infeasible", builds=_build_rows(model, dict.fromkeys(model.ids, (False, 0.0, None))), diagnosis=diagnosis, statement=" ".join(reasons), statement_zh="".join(reasons_zh),
                            solver={"name": "HiGHS", "status": "infeasible", "seconds_total": time.perf_counter() - start})


def _least_capital(model: InvestmentModel) -> float | None:
    """The least capital (CNY, not annualized) of a build set that meets the target, budgets ignored."""
    lp = model.lp.copy()
    lp.col_cost = np.zeros(lp.n_cols)
    form = lp.forms["capital_cny_total"]
    np.add.at(lp.col_cost, form.index, form.coef)
    lp.offset = 0.0
    if "capital_budget" in lp.rows:
        lp.row_upper[lp.rows["capital_budget"].slice] = np.inf
    out = Session(lp, model.options, mip_rel_gap=model.gap).solve()
    return out.objective if out.has_solution else None


# ---------------------------------------------------------------------------------------------
# The highest reachable rate with the candidates, and the target–cost curve with builds
# ---------------------------------------------------------------------------------------------


def max_rate_with_candidates(scenario: Scenario, options: SolveOptions | None = None, *, gap: float = DEFAULT_GAP, build: Sequence[str] = (), skip: Sequence[str] = ()) -> float | None:
    """The highest rate any build set (within budgets and groups) lets the park reach, cost ignored.

    Dinkelbach's method as for the LP (``models/README.md`` section 8), each step a MILP.

    Returns:
        The rate, or ``None`` when no build set gives a feasible plan.
    """
    model = InvestmentModel(scenario, options, gap=gap, build=build, skip=skip, with_target=False)
    lp = model.lp
    gen = lp.constants["generation_t"]
    if gen <= 0:
        return None
    rate, out = maximize_ratio_lp(model.session, lp.forms["rate_numerator"], lp.forms["rate_extra_denominator"], gen)
    return None if not out.ok or math.isnan(rate) else float(rate)


class CurvePoint(_Out):
    """The least total cost at one target, and the build set that gives it."""

    target: float
    status: str
    objective_cny: float | None = None
    builds: list[str] = []
    sizes_t: dict[str, float] = {}
    capital_cny: float | None = None
    kind: str = "grid"
    """``grid``, or ``bisection`` (a target visited to locate a change of the build set)."""


class BuildChange(_Out):
    """Where the build set changes along the target: between ``below`` and ``above`` (at most ``resolution`` apart)."""

    below: float
    above: float
    builds_below: list[str]
    builds_above: list[str]
    added: list[str]
    removed: list[str]
    explanation: str = ""
    explanation_zh: str = ""


class InvestmentCurve(_Out):
    """The target–cost curve with builds."""

    scenario_id: str
    max_rate: float | None
    points: list[CurvePoint]
    changes: list[BuildChange]
    resolution: float
    solves: int = 0


def investment_curve(source: Scenario | str | os.PathLike[str] | None = None, t_from: float = 0.6, t_to: float | None = None, *, step: float = 0.01, resolution: float = 1e-4, gap: float = DEFAULT_GAP, options: SolveOptions | None = None, budget_cny: float | None = None, build: Sequence[str] = (), skip: Sequence[str] = ()) -> InvestmentCurve:
    """The least total cost (with capital) and the build set from ``t_from`` to ``t_to``.

    A MILP per grid target; where two neighbouring targets have different build sets, the
    target is bisected until each change lies within ``resolution`` (a MILP per visit).

    Args:
        source: a scenario with candidates, a folder or workbook (``None``: bundled).
        t_from: first target.
        t_to: last target (default, and at most: the highest rate the candidates allow).
        step: grid spacing.
        resolution: width of the interval each change is located in.
        gap: relative MIP gap of each solve.
        options: solver settings.
        budget_cny: overrides ``policy.capital_budget_cny``.
        build: candidates forced to be built.
        skip: candidates forced not to be built.

    Returns:
        The curve: points (grid and bisection), changes of the build set, the highest rate.
    """
    scenario = prepare(source, budget_cny=budget_cny, build=build, skip=skip)
    options = options or SolveOptions()
    network = Network(build_graph(scenario))
    best = max_rate_with_candidates(scenario, options, gap=gap, build=build, skip=skip)
    top = best if t_to is None else (min(t_to, best) if best is not None else t_to)
    count = 0

    def at(target: float, kind: str) -> CurvePoint:
        nonlocal count
        count += 1
        model = InvestmentModel(scenario, options, gap=gap, build=build, skip=skip, target_rate=target, network=network)
        out = model.solve()
        if not out.has_solution or out.objective is None:
            return CurvePoint(target=target, status=out.status.value, kind=kind)
        decided = model.decisions(out)
        built = _build_set(decided)
        return CurvePoint(target=target, status=out.status.value, objective_cny=out.objective, builds=built, sizes_t={c: decided[c][1] for c in built}, capital_cny=sum(model.capital_of(c, decided[c][1]) for c in built), kind=kind)

    grid: list[float] = []
    if top is not None and t_from <= top:
        n = math.floor((top - t_from) / step + 1e-9)
        grid = [round(t_from + i * step, 12) for i in range(n + 1)]
        if not grid or top - grid[-1] > 1e-9:
            grid.append(float(np.floor(top * 1e6) / 1e6))
    points = [at(t, "grid") for t in grid]
    extra: list[CurvePoint] = []
    changes: list[BuildChange] = []

    def locate(lo: CurvePoint, hi: CurvePoint) -> None:
        if lo.builds == hi.builds or lo.objective_cny is None or hi.objective_cny is None:
            return
        if hi.target - lo.target <= resolution:
            added = sorted(set(hi.builds) - set(lo.builds))
            removed = sorted(set(lo.builds) - set(hi.builds))
            en = f"Between {lo.target:.3%} and {hi.target:.3%} the build set changes: {'+ ' + ', '.join(added) if added else ''}{'; ' if added and removed else ''}{'− ' + ', '.join(removed) if removed else ''}."
            zh = f"目标在 {lo.target:.3%} 与 {hi.target:.3%} 之间时建设方案改变：{'新增 ' + '、'.join(added) if added else ''}{'；' if added and removed else ''}{'去掉 ' + '、'.join(removed) if removed else ''}。"
            changes.append(BuildChange(below=lo.target, above=hi.target, builds_below=lo.builds, builds_above=hi.builds, added=added, removed=removed, explanation=en, explanation_zh=zh))
            return
        mid = at((lo.target + hi.target) / 2, "bisection")
        extra.append(mid)
        if mid.objective_cny is None:
            return
        locate(lo, mid)
        locate(mid, hi)

    for a, b in itertools.pairwise(points):
        locate(a, b)
    every = sorted([*points, *extra], key=lambda p: p.target)
    return InvestmentCurve(scenario_id=scenario.id, max_rate=best, points=every, changes=sorted(changes, key=lambda c: c.below), resolution=resolution, solves=count)


# ---------------------------------------------------------------------------------------------
# Files (flowopt invest --out)
# ---------------------------------------------------------------------------------------------

#: The investment's own files ``flowopt invest --out`` writes (the plan's follow, see :func:`invest_files`).
INVEST_FILES = ("invest.json", "builds.csv", "decision_values.csv", "break_even.csv")


def invest_files() -> list[str]:
    """Every file name :func:`write_investment` may write: the investment's and the plan's."""
    from flowopt.planfiles import plan_files

    return [*INVEST_FILES, *plan_files()]


def write_investment(result: InvestmentResult, folder: str | os.PathLike[str], *, scenario: Scenario | None = None, lang: str = "en") -> Path:
    """Write an investment result into ``folder``, adding or replacing only flowopt's own files.

    ``invest.json`` (the whole result), ``builds.csv`` (every candidate, built or not),
    ``decision_values.csv``, ``break_even.csv`` and, when there is a plan, the plan's files as
    ``flowopt solve --out`` writes them, with the workbook and the report opening on the
    builds. Each file is replaced atomically; other files are left alone (:mod:`flowopt.outputs`).

    Args:
        result: the result.
        folder: target folder (created if needed).
        scenario: the scenario with its candidates (names and sources in the report).
        lang: ``en`` or ``zh`` for the workbook, the Sankey and the report.

    Returns:
        The folder.

    Raises:
        OutputError: the folder is refused or cannot be written.
    """
    import json

    import pandas as pd

    from flowopt.outputs import OutputFolder, write_text
    from flowopt.planfiles import plan_files, write_csv
    from flowopt.report import write_report
    from flowopt.sankey import write_sankey
    from flowopt.workbook import write_plan_workbook

    plan = result.plan
    tables = plan.tables() if plan is not None else {}
    names = [*INVEST_FILES, *(plan_files(list(tables)) if plan is not None else [])]
    with OutputFolder(folder, names, what="the investment's files", refuse_scenario=True) as out:
        write_text(out.path("invest.json"), json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False))
        write_csv(pd.DataFrame([b.model_dump() for b in result.builds]), out.path("builds.csv"))
        write_csv(pd.DataFrame([{k: v for k, v in d.model_dump().items() if k != "builds"} | {"builds": " ".join(d.builds)} for d in result.decision_values]), out.path("decision_values.csv"))
        write_csv(pd.DataFrame([e.model_dump() for e in result.build_break_even]), out.path("break_even.csv"))
        if plan is not None:
            write_text(out.path("plan.json"), json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False))
            for name, frame in tables.items():
                write_csv(frame, out.path(f"{name}.csv"))
            write_plan_workbook(plan, out.path("plan.xlsx"), lang=lang, investment=result)
            write_sankey(plan, out.path("sankey.svg"), lang=lang)
            write_sankey(plan, out.path("sankey.html"), lang=lang)
            write_report(plan, out.path("report.html"), scenario, lang=lang, investment=result)
            write_report(plan, out.path("report.md"), scenario, lang=lang, sankey_href="sankey.svg", investment=result)
    return Path(folder)
