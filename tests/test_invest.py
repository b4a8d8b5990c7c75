"""Investment decisions (issue 12): candidates in the input, the MILP, its gateway, explanations, the CLI.

Expected answers are computed another way wherever exactness is claimed: by enumerating every
build set (each an LP) on random small parks, by the pipeline's LP on the scenario with the
builds written into its capacities (independent of the investment families), by a textbook
instance with a published optimum, and by re-solving at perturbed capital costs.
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import math

import numpy as np
import pytest
from support import ROOT, make

from flowopt.audit import audit_builds
from flowopt.checks import validated
from flowopt.cli import main
from flowopt.errors import InputError
from flowopt.formulation import assemble
from flowopt.formulation.reference import (
    canonical_assembled,
    canonical_pyomo,
    compare,
    differences,
    to_pyomo,
)
from flowopt.graph import build_graph
from flowopt.invest import InvestmentModel, fixed_scenario, investment_curve, solve_investment
from flowopt.io import load_scenario, write_scenario, write_workbook
from flowopt.pipeline import run
from flowopt.schema import Scenario
from flowopt.solve import Session, SolveOptions, SolveStatus
from flowopt.synthetic import random_park

INVEST = ROOT / "data" / "panzhihua_east_invest"
CAP41 = ROOT / "tests" / "data" / "cap41"
#: OR-Library capopt: the optimum of cap41 (J.E. Beasley, "An algorithm for solving large
#: capacitated warehouse location problems", European Journal of Operational Research 33 (1988)
#: 314–325; OR-Library file capopt.txt).
CAP41_OPTIMUM = 1040444.375
TIGHT = 1e-9


def crf(rate: float, years: int) -> float:
    """Capital recovery factor, written out here (not imported) for the independent checks."""
    return 1.0 / years if rate == 0 else rate * (1 + rate) ** years / ((1 + rate) ** years - 1)


def small_park(seed: int, k: int, *, modules_at_most: int = 2, build_only: bool = False) -> Scenario:
    """A random park of 3-8 streams with ``k`` candidates (groups for k >= 5, a budget for seeds % 3 == 0)."""
    data = random_park((3, 5, 8)[seed % 3], seed, candidates=k)
    for c in data["candidates"]:
        if build_only and c["sizing"] != "build":
            size = c.get("max_size_t") or c["module_t"] * c["max_modules"]
            for f in ("min_size_t", "max_size_t", "module_t", "max_modules"):
                c.pop(f, None)
            c["sizing"], c["size_t"] = "build", size
        if c["sizing"] == "modules":
            c["max_modules"] = min(c["max_modules"], modules_at_most)
    return validated(data)


# ---------------------------------------------------------------------------------------------
# Input: the candidates table and the policy fields
# ---------------------------------------------------------------------------------------------


def test_the_bundled_investment_scenario_loads_with_sourced_candidates():
    s = load_scenario(INVEST)
    assert {c.id for c in s.candidates} == {"R01X", "R02_P1", "R02_FULL", "R03X", "R04", "R05", "R06", "R07"}
    assert all(c.source for c in s.candidates) and s.policy.discount_rate == 0.08
    assert {p.id: p.capacity_t for p in s.projects}["R04"] == 0  # new: capacity only through its candidate
    assert "policy.discount_rate" in s.sources


def test_candidates_round_trip_through_csv_and_excel(tmp_path):
    s = load_scenario(INVEST)
    write_scenario(s, tmp_path / "folder")
    write_workbook(s, tmp_path / "park.xlsx")
    assert load_scenario(tmp_path / "folder") == s
    assert load_scenario(tmp_path / "park.xlsx") == s


def _with_rows(tmp_path, rows: list[dict]) -> str:
    folder = tmp_path / "bad"
    write_scenario(load_scenario(INVEST), folder)
    with open(folder / "candidates.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "project", "sizing", "size_t", "min_size_t", "max_size_t", "module_t", "max_modules", "capital_cny", "capital_cny_per_t", "lifetime_yr", "group"])
        w.writeheader()
        w.writerows(rows)
    return str(folder)


def test_candidate_problems_are_located_all_at_once(tmp_path):
    rows = [
        {"id": "A", "project": "R99", "sizing": "build", "size_t": 10, "lifetime_yr": 10},  # unknown project
        {"id": "B", "project": "R04", "sizing": "build", "lifetime_yr": 10},  # no size
        {"id": "C", "project": "R04", "sizing": "size", "min_size_t": 50, "max_size_t": 10, "lifetime_yr": 10},  # min above max
        {"id": "D", "project": "R04", "sizing": "modules", "module_t": 5, "size_t": 5, "lifetime_yr": 10},  # no max_modules, a build field
        {"id": "E", "project": "R04", "sizing": "build", "size_t": 5, "lifetime_yr": 0, "capital_cny": -1},  # field ranges
        {"id": "A", "project": "R04", "sizing": "build", "size_t": 5, "lifetime_yr": 10},  # duplicate id
    ]
    with pytest.raises(InputError) as err:
        load_scenario(_with_rows(tmp_path, rows))
    found = {(p.row, p.column) for p in err.value.problems if p.table == "candidates"}
    assert {(2, "project"), (3, "size_t"), (4, "min_size_t"), (5, "max_modules"), (5, "size_t"), (6, "lifetime_yr"), (6, "capital_cny")} <= found
    assert all(p.file and p.file.endswith("candidates.csv") for p in err.value.problems if p.table == "candidates")
    assert any(p.column == "id" and "duplicate" in p.message for p in err.value.problems)


def test_a_group_of_one_and_a_late_candidate_are_warnings(tmp_path):
    from flowopt.checks import candidate_problems

    s = load_scenario(INVEST)
    late = s.model_copy(update={"candidates": (s.candidates[0].model_copy(update={"earliest_year": 2030, "group": "solo"}),)})
    problems = candidate_problems(late)
    assert {p.column for p in problems} == {"earliest_year", "group"} and all(p.severity == "warning" for p in problems)
    # a candidate that cannot be in operation is never built (its build column is fixed at 0)
    lp = assemble(build_graph(late), investment=True)
    assert lp.col_upper[lp.col_of("build", late.candidates[0].id)] == 0


# ---------------------------------------------------------------------------------------------
# The formulation: the same MILP from arrays and in Pyomo, the LP unchanged without candidates
# ---------------------------------------------------------------------------------------------


def test_without_the_investment_families_the_lp_ignores_candidates():
    # the LP of a scenario with candidates is the LP of the network as it stands
    s = load_scenario(INVEST)
    plain = s.model_copy(update={"candidates": ()})
    a, b = canonical_assembled(assemble(build_graph(s))), canonical_assembled(assemble(build_graph(plain)))
    assert compare(a, b) == []
    assert assemble(build_graph(s)).integrality is None


def test_the_bundled_investment_milp_equals_the_pyomo_reference_integrality_included():
    # random parks with candidates: tests/test_formulation.py
    s = load_scenario(INVEST)
    assert differences(s, investment=True) == []
    lp = assemble(build_graph(s), investment=True)
    assert lp.integrality is not None and lp.integrality[lp.cols["build"].slice].all() and lp.integrality[lp.cols["modules"].slice].all()
    assert not lp.integrality[lp.cols["built_t"].slice].any() and not lp.integrality[lp.cols["flow_t"].slice].any()
    # the comparison is not vacuous: a build decision made continuous in Pyomo is reported
    m = to_pyomo(s, investment=True)
    import pyomo.environ as pyo

    m.build["R04"].domain = pyo.UnitInterval
    found = compare(canonical_assembled(lp), canonical_pyomo(m))
    assert len(found) == 1 and "build[R04]" in found[0]


def test_random_investment_parks_use_every_investment_family():
    seen: set[str] = set()
    for seed in range(12):
        lp = assemble(build_graph(validated(random_park(8, seed, candidates=6))), investment=True)
        seen |= {name for name, block in {**lp.rows, **lp.cols}.items() if len(block)}
    assert {"build", "built_t", "modules", "candidate_min_size", "candidate_max_size", "candidate_modules", "exclusive_group", "capital_budget"} <= seen


# ---------------------------------------------------------------------------------------------
# Brute force: every build set an LP; the MILP's optimum is the best of them
# ---------------------------------------------------------------------------------------------


def _enumerate(s: Scenario) -> float | None:
    """The least cost over every build decision (modules counted out), each an LP with the integers fixed."""
    lp = assemble(build_graph(s), investment=True)
    lp.integrality = None  # an LP: the integers are fixed below, one combination at a time
    session = Session(lp, SolveOptions())
    cands = list(lp.cols["build"].keys)
    modular = set(lp.cols["modules"].keys)
    by_id = {c.id: c for c in s.candidates}
    choices = [range(by_id[c].max_modules + 1) if c in modular else range(2) for c in cands]
    best = None
    for combo in itertools.product(*choices):
        cols, values = [], []
        for cid, v in zip(cands, combo, strict=True):
            cols.append(lp.col_of("build", cid))
            values.append(1.0 if v > 0 else 0.0)
            if cid in modular:
                cols.append(lp.col_of("modules", cid))
                values.append(float(v))
        session.set_col_bounds(np.array(cols), np.array(values), np.array(values))
        out = session.solve()
        if out.ok and (best is None or out.objective < best):
            best = out.objective
    return best


def test_the_milp_optimum_is_the_best_build_set_on_random_parks():
    solved = infeasible = grouped = budgeted = 0
    for seed in range(56):
        s = small_park(seed, 2 + seed % 7)
        grouped += any(c.group for c in s.candidates)
        budgeted += s.policy.capital_budget_cny is not None
        lp = assemble(build_graph(s), investment=True)
        out = Session(lp, SolveOptions(), mip_rel_gap=TIGHT).solve()
        best = _enumerate(s)
        if best is None:
            assert out.status in (SolveStatus.infeasible, SolveStatus.infeasible_or_unbounded), seed
            infeasible += 1
            continue
        assert out.ok, (seed, out.status)
        assert out.objective == pytest.approx(best, rel=1e-6, abs=1e-3), seed
        solved += 1
    assert solved >= 40 and grouped >= 10 and budgeted >= 10


def test_the_milp_equals_the_pipeline_lp_of_each_build_set_computed_independently():
    # build-only candidates: every subset (within groups and budget, checked here) is the
    # pipeline's own LP of the scenario with those capacities, plus the capital annualized here
    checked = 0
    for seed in range(10):
        s = small_park(seed, 3 + seed % 4, build_only=True)
        rate = s.policy.discount_rate
        best = None
        ids = [c.id for c in s.candidates]
        by_id = {c.id: c for c in s.candidates}
        for mask in itertools.product((0, 1), repeat=len(ids)):
            chosen = [c for c, m in zip(ids, mask, strict=True) if m]
            groups = [by_id[c].group for c in chosen if by_id[c].group]
            capital = sum(by_id[c].capital_cny + by_id[c].capital_cny_per_t * by_id[c].size_t for c in chosen)
            if len(groups) != len(set(groups)) or (s.policy.capital_budget_cny is not None and capital > s.policy.capital_budget_cny):
                continue
            try:
                plan = run(fixed_scenario(s, {c: by_id[c].size_t for c in chosen}), explain=False)
            except Exception:  # infeasible target (or no plan) for this subset
                continue
            cost = plan.objective_cny + sum(crf(rate, by_id[c].lifetime_yr) * (by_id[c].capital_cny + by_id[c].capital_cny_per_t * by_id[c].size_t) + by_id[c].fixed_opex_cny_per_yr for c in chosen)
            best = cost if best is None else min(best, cost)
        if best is None:
            continue
        r = solve_investment(s, gap=TIGHT, explain=False, decision_values=False, break_even=False)
        assert r.objective_cny == pytest.approx(best, rel=1e-7, abs=1e-3), seed
        checked += 1
    assert checked >= 6


# ---------------------------------------------------------------------------------------------
# A textbook instance with a published optimum
# ---------------------------------------------------------------------------------------------


def _cap41_raw() -> tuple[list[float], list[float], list[float], list[list[float]]]:
    tok = (CAP41 / "cap41.txt").read_text().split()
    m, n = int(tok[0]), int(tok[1])
    k, cap, fixed, dem, cost = 2, [], [], [], []
    for _ in range(m):
        cap.append(float(tok[k]))
        fixed.append(float(tok[k + 1]))
        k += 2
    for _ in range(n):
        dem.append(float(tok[k]))
        cost.append([float(v) for v in tok[k + 1 : k + 1 + m]])
        k += 1 + m
    return cap, fixed, dem, cost


def test_cap41_in_flowopts_format_is_the_or_library_file():
    cap, fixed, dem, cost = _cap41_raw()
    s = load_scenario(CAP41)
    assert [c.size_t for c in sorted(s.candidates, key=lambda c: c.id)] == cap
    assert [c.capital_cny for c in sorted(s.candidates, key=lambda c: c.id)] == fixed
    assert [st.generation_t for st in s.streams] == dem
    per_t = {(r.from_site, r.to_site): r.cost_cny_per_t for r in s.routes}
    assert all(per_t[(f"C{j + 1:02d}", f"W{i + 1:02d}")] * dem[j] == pytest.approx(cost[j][i], rel=1e-12, abs=1e-9) for j in range(len(dem)) for i in range(len(cap)))


def test_cap41_capacitated_facility_location_reaches_its_published_optimum():
    r = solve_investment(CAP41, gap=TIGHT, explain=False, decision_values=False, break_even=False)
    assert r.status == "optimal"
    assert r.objective_cny == pytest.approx(CAP41_OPTIMUM, rel=1e-9)
    _, _, dem, _ = _cap41_raw()
    assert sum(b.size_t for b in r.builds if b.built) >= sum(dem)  # the open warehouses hold the demand
    assert r.audit.passed and r.plan.audit.passed


# ---------------------------------------------------------------------------------------------
# The bundled park: the answer, decision values, break-evens
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def park():
    return solve_investment(INVEST, gap=TIGHT)


def test_the_bundled_park_builds_and_explains_given_the_builds(park):
    assert park.status == "optimal" and park.audit.passed and park.plan.audit.passed
    assert park.utilization_rate >= 0.7 - 1e-7
    assert park.objective_cny == pytest.approx(park.operating_cost_cny + park.capital_annualized_cny + park.fixed_opex_cny, rel=1e-12)
    assert park.capital_annualized_cny == pytest.approx(sum(crf(0.08, next(c for c in load_scenario(INVEST).candidates if c.id == b.id).lifetime_yr) * b.capital_cny for b in park.builds), rel=1e-12)
    # the plan is the LP at fixed builds, explained as flowopt solve does, and says so
    assert park.plan.bottlenecks and park.plan.why_not is not None and park.plan.target_marginal_cost is not None
    assert any("given the chosen builds" in w for w in park.plan.warnings)
    labelled = [*park.plan.bottlenecks, *park.plan.why_not, park.plan.target_marginal_cost]
    assert all(x.explanation.startswith("Given the chosen builds: ") and x.explanation_zh.startswith("以所选建设方案为前提：") for x in labelled)
    built = {b.id for b in park.builds if b.built}
    assert built and not {"R02_P1", "R02_FULL"} <= built  # one alternative of the group at most


def test_forcing_any_candidate_the_other_way_never_lowers_the_cost(park):
    tol = 1e-6 * abs(park.objective_cny)
    assert {v.id for v in park.decision_values} == {b.id for b in park.builds}
    for v in park.decision_values:
        if v.feasible:
            assert v.value_cny >= -tol, v
    # the same through the command line: --skip a built candidate, --build one not built
    built = next(b.id for b in park.builds if b.built and any(v.id == b.id and v.feasible for v in park.decision_values))
    idle = next(b.id for b in park.builds if not b.built)
    for flag, cid in (("--skip", built), ("--build", idle)):
        out = solve_investment(INVEST, gap=TIGHT, **({"skip": [cid]} if flag == "--skip" else {"build": [cid]}), decision_values=False, break_even=False, explain=False)
        assert out.objective_cny >= park.objective_cny - tol
        expected = next(v for v in park.decision_values if v.id == cid)
        assert out.objective_cny == pytest.approx(expected.total_cost_cny, rel=1e-7)


def test_the_capital_break_even_is_exact(park):
    # at the break-even capital (times 1 -+ 1e-4) the candidate is (not) built
    be = next(e for e in park.build_break_even if e.factor is not None)
    s = load_scenario(INVEST)

    def scaled(factor: float) -> Scenario:
        cands = tuple(c.model_copy(update={"capital_cny": c.capital_cny * factor, "capital_cny_per_t": c.capital_cny_per_t * factor}) if c.id == be.id else c for c in s.candidates)
        return s.model_copy(update={"candidates": cands})

    below = solve_investment(scaled(be.factor * (1 - 1e-4)), gap=TIGHT, explain=False, decision_values=False, break_even=False)
    above = solve_investment(scaled(be.factor * (1 + 1e-4)), gap=TIGHT, explain=False, decision_values=False, break_even=False)
    assert be.id in {b.id for b in below.builds if b.built}
    assert be.id not in {b.id for b in above.builds if b.built}
    assert below.objective_cny < park.objective_cny < above.objective_cny + 1e-6 * abs(park.objective_cny)
    assert be.break_even_capital_cny == pytest.approx(be.factor * be.capital_cny)


def test_the_break_even_equals_the_best_subset_ratio_on_a_small_park():
    # build-only candidates: λ* = max over build sets S with c of (C0 − O_S) / A_c, by enumeration
    for seed in range(30):
        s = small_park(seed, 4, build_only=True)
        r = solve_investment(s, gap=TIGHT, explain=False)
        if r.status != "optimal" or not r.build_break_even:
            continue
        be = next((e for e in r.build_break_even if e.factor is not None and 0 < e.factor < 1), None)
        if be is None:
            continue
        by_id = {c.id: c for c in s.candidates}
        others = [c for c in by_id if c != be.id]
        rate, best = s.policy.discount_rate, -math.inf
        a_c = crf(rate, by_id[be.id].lifetime_yr) * (by_id[be.id].capital_cny + by_id[be.id].capital_cny_per_t * by_id[be.id].size_t)
        for mask in itertools.product((0, 1), repeat=len(others)):
            chosen = [be.id] + [c for c, m in zip(others, mask, strict=True) if m]
            groups = [by_id[c].group for c in chosen if by_id[c].group]
            capital = sum(by_id[c].capital_cny + by_id[c].capital_cny_per_t * by_id[c].size_t for c in chosen)
            if len(groups) != len(set(groups)) or (s.policy.capital_budget_cny is not None and capital > s.policy.capital_budget_cny):
                continue
            try:
                plan = run(fixed_scenario(s, {c: by_id[c].size_t for c in chosen}), explain=False)
            except Exception:
                continue
            rest = plan.objective_cny + sum(crf(rate, by_id[c].lifetime_yr) * (by_id[c].capital_cny + by_id[c].capital_cny_per_t * by_id[c].size_t) + by_id[c].fixed_opex_cny_per_yr for c in chosen if c != be.id) + by_id[be.id].fixed_opex_cny_per_yr
            best = max(best, (r.objective_cny - rest) / a_c)
        assert be.factor == pytest.approx(best, rel=1e-6, abs=1e-9), seed
        return
    pytest.fail("no small park with a candidate whose break-even lies strictly between 0 and 1")


def test_the_curve_locates_where_the_build_set_changes(park):
    curve = investment_curve(INVEST, 0.6, 0.7, step=0.05, resolution=2e-3, gap=TIGHT)
    assert curve.changes, "the build set should change between 60 % and 70 %"
    for c in curve.changes:
        assert 0 < c.above - c.below <= 2e-3 + 1e-12 and c.builds_below != c.builds_above
    top = next(p for p in curve.points if p.target == pytest.approx(0.7))
    assert top.objective_cny == pytest.approx(park.objective_cny, rel=1e-7) and top.builds == sorted(b.id for b in park.builds if b.built)


# ---------------------------------------------------------------------------------------------
# The gateway: statuses of a MILP, the limit, the gap
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def one_solution(monkeypatch):
    """Every HiGHS instance stops at its first improving solution: a limit that always leaves an incumbent."""
    import flowopt.solve as gateway

    original = gateway.new_highs

    def limited(options):
        h = original(options)
        h.setOptionValue("mip_max_improving_sols", 1)
        return h

    monkeypatch.setattr(gateway, "new_highs", limited)


def test_a_limit_returns_the_incumbent_with_its_gap_and_bound(one_solution):
    model = InvestmentModel(load_scenario(CAP41), gap=TIGHT)
    out = model.solve()
    assert out.status == SolveStatus.feasible and out.has_solution and not out.ok
    assert out.mip_gap > 0 and out.mip_bound <= CAP41_OPTIMUM + 1e-6 <= out.objective
    assert out.mip_gap == pytest.approx((out.objective - out.mip_bound) / abs(out.objective), rel=1e-6)


def test_cli_exits_1_when_the_limit_leaves_a_gap_above_gap_and_0_within(one_solution, capsys):
    assert main(["invest", str(CAP41), "--gap", "0.0001", "--quiet"]) == 1
    text = capsys.readouterr().out
    assert "STOPPED AT A LIMIT" in text and "NOT proven optimal" in text and "BW01" in text  # the incumbent is shown
    # with a gap of 50 % HiGHS stops as soon as its plan is within it: optimal, within the gap asked
    assert main(["invest", str(CAP41), "--gap", "0.5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "optimal" and doc["within_gap"] and 0 <= doc["mip_gap"] <= 0.5 and doc["objective_cny"] >= CAP41_OPTIMUM - 1e-6


def test_an_lp_solves_as_before():
    out = Session(assemble(build_graph(make()))).solve()
    assert out.ok and out.mip_gap is None and len(out.row_dual) > 0


# ---------------------------------------------------------------------------------------------
# Audit, infeasible requests, the command line
# ---------------------------------------------------------------------------------------------


def test_the_build_audit_catches_capacity_budget_and_group_violations(park):
    s = load_scenario(INVEST)
    decisions = {b.id: (b.built, b.size_t, b.modules) for b in park.builds}
    ok = audit_builds(s, decisions, park.plan.flows, {}, total_cny=park.objective_cny, operating_cny=park.operating_cost_cny, capital_annualized_cny=park.capital_annualized_cny, fixed_opex_cny=park.fixed_opex_cny)
    assert ok.passed
    # a built candidate reported as not built: its project's feed has no capacity
    gone = dict(decisions, R04=(False, 0.0, None))
    checks = {c.name: c.passed for c in audit_builds(s, gone, park.plan.flows, {}, total_cny=park.objective_cny, operating_cny=park.operating_cost_cny, capital_annualized_cny=park.capital_annualized_cny, fixed_opex_cny=park.fixed_opex_cny).checks}
    assert not checks["build_capacity"] and not checks["capital_cost"]
    both = dict(decisions, R02_P1=(True, 600000.0, None))
    tight = s.model_copy(update={"policy": s.policy.model_copy(update={"capital_budget_cny": 1.0})})
    checks = {c.name: c.passed for c in audit_builds(tight, both, park.plan.flows, {"R04": "skip"}, total_cny=park.objective_cny, operating_cny=park.operating_cost_cny, capital_annualized_cny=park.capital_annualized_cny, fixed_opex_cny=park.fixed_opex_cny).checks}
    assert not checks["exclusive_groups"] and not checks["capital_budget"] and not checks["build_available"]


def test_an_unreachable_target_is_diagnosed_with_the_candidates_counted_in():
    r = solve_investment(INVEST, skip=["R06", "R07"])
    assert r.status == "infeasible" and r.diagnosis is not None
    assert "Even with every candidate built at its largest" in r.statement and r.diagnosis.max_rate < 0.7


def test_a_budget_too_small_says_how_much_capital_the_target_needs(capsys):
    assert main(["invest", str(INVEST), "--budget", "1e8", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "not within the capital budget of 100,000,000 CNY" in err and "the least capital that meets it is" in err


def test_cli_invest_json_carries_the_contract(capsys):
    assert main(["invest", "--json", "--gap", "1e-9"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"status", "builds", "mip_gap", "plan", "decision_values", "build_break_even", "objective_cny", "audit"} <= set(doc)
    assert {"id", "built", "size_t", "year", "capital_cny", "annualized_cny"} <= set(doc["builds"][0])
    assert doc["plan"]["scenario_id"] == "panzhihua_east_invest" and doc["plan"]["bottlenecks"]


def test_cli_invest_forced_size_and_bad_requests(capsys):
    assert main(["invest", "--build", "R07=3000000", "--skip", "R03X", "--json", "--no-explain"]) == 0
    doc = json.loads(capsys.readouterr().out)
    r07 = next(b for b in doc["builds"] if b["id"] == "R07")
    assert r07["built"] and r07["size_t"] == 3000000 and r07["forced"] == "build"
    assert main(["invest", "--build", "R07=9e9", "--build", "R02_P1", "--build", "R02_FULL", "--build", "NOPE", "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    text = " ".join(p["message"] for p in problems)
    assert "can add 500,000 to 4,000,000 t/yr" in text and "alternatives (group 'R02_scale')" in text and "no candidate 'NOPE'" in text
    assert main(["invest", str(ROOT / "data" / "panzhihua_east"), "--quiet"]) == 2
    assert "has no candidates" in capsys.readouterr().err


def test_cli_invest_out_and_chinese(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["invest", "--out", str(out), "--lang", "zh", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "建设" in text and "决策的价值" in text and "以所选建设方案为前提" in text
    names = {p.name for p in out.iterdir()}
    assert {"invest.json", "builds.csv", "decision_values.csv", "break_even.csv", "plan.json", "plan.xlsx", "report.html", "report.md"} <= names
    from openpyxl import load_workbook

    wb = load_workbook(out / "plan.xlsx")
    assert wb.sheetnames[:3] == ["建设决策", "决策价值", "投资盈亏平衡"]
    decisions = [row[4] for row in wb["建设决策"].iter_rows(min_row=2, values_only=True)]
    assert "建设" in decisions and "不建" in decisions  # built and not built
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "建设哪些项目" in html and "R03X" in html


def test_cli_invest_curve(capsys):
    assert main(["invest", "--curve", "--from", "0.66", "--to", "0.7", "--step", "0.02", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["points"] and doc["max_rate"] >= 0.7 and all(p["builds"] for p in doc["points"] if p["status"] == "optimal")


def test_synthetic_candidates_leave_the_park_unchanged():
    a, b = random_park(20, 5), random_park(20, 5, candidates=8)
    assert a["streams"] == b["streams"] and a["sinks"] == b["sinks"] and a["routes"] == b["routes"]
    assert b["projects"][: len(a["projects"])] == a["projects"] and len(b["candidates"]) == 8
    assert copy.deepcopy(a) == random_park(20, 5)


def test_the_readmes_compare_the_plans_list_with_flowopts_as_computed():
    # the side-by-side in README.md and data/panzhihua_east_invest/README.md, recomputed
    ours = solve_investment(INVEST, gap=TIGHT, decision_values=False, break_even=False)
    plans = solve_investment(INVEST, gap=TIGHT, build=["R01X=1500000", "R02_FULL", "R04=3000000", "R05", "R06=3000000", "R07=3000000"], skip=["R02_P1", "R03X"], decision_values=False, break_even=False)
    # the plan's list is the 2025 dataset: same tables (scenario.yaml `tables:`), same capacities.
    # This scenario has no markets and claims no incentives (issue 15): the 2025 dataset's markets
    # at their first price tiers without limits reproduce the projects' old revenues exactly
    # (data/panzhihua_east/README.md, "family off -> on"), so that is the 2025 plan to compare with
    base = load_scenario(ROOT / "data" / "panzhihua_east")
    first = {}
    for t in sorted(base.market_tiers, key=lambda t: (t.market, t.upto_t is None, t.upto_t or 0.0)):
        first.setdefault(t.market, t.model_copy(update={"upto_t": None}))
    flat = base.model_copy(update={"markets": tuple(m.model_copy(update={"limit_t": None}) for m in base.markets), "market_tiers": tuple(first.values()), "policy": base.policy.model_copy(update={"apply_incentives": False})})
    assert plans.operating_cost_cny == pytest.approx(run(flat, explain=False).objective_cny, rel=1e-9)
    assert ours.objective_cny <= plans.objective_cny

    def m(x: float) -> str:
        return f"{x / 1e6:,.1f} M CNY".replace("-", "−")

    for readme in (ROOT / "README.md", INVEST / "README.md"):
        text = readme.read_text(encoding="utf-8")
        for r in (ours, plans):
            assert m(r.capital_cny) in text and f"{m(r.objective_cny)}/yr" in text, (readme, m(r.objective_cny))
            assert f"{r.plan.max_utilization_rate:.2%}".replace("%", " %") in text
        assert f"{(plans.objective_cny - ours.objective_cny) / 1e6:.1f} M" in text


# ---------------------------------------------------------------------------------------------
# flowopt solve on a scenario whose target needs candidates points to flowopt invest (item 6)
# ---------------------------------------------------------------------------------------------


def test_solve_points_to_invest_when_only_the_candidates_reach_the_target(capsys):
    from flowopt.invest import max_rate_with_candidates

    assert main(["solve", str(INVEST), "--json"]) == 1
    diag = json.loads(capsys.readouterr().out)["diagnosis"]
    best = max_rate_with_candidates(load_scenario(INVEST))
    assert diag["max_rate"] < 0.7 <= best
    assert diag["max_rate_with_candidates"] == pytest.approx(best, rel=1e-9)
    assert "Run flowopt invest" in diag["statement"] and "flowopt invest" in diag["statement_zh"] and "候选项目" in diag["statement_zh"]
    assert main(["solve", str(INVEST), "--lang", "zh"]) == 1
    assert "请运行 flowopt invest" in capsys.readouterr().err
    # beyond what any build set reaches, it says so instead
    assert main(["solve", str(INVEST), "--target", "0.95", "--json"]) == 1
    diag = json.loads(capsys.readouterr().out)["diagnosis"]
    assert diag["max_rate_with_candidates"] < 0.95 and "even with them" in diag["statement"]
    # a scenario without candidates: no hint
    assert main(["solve", str(ROOT / "data" / "panzhihua_east_2023"), "--json"]) == 1
    diag = json.loads(capsys.readouterr().out)["diagnosis"]
    assert diag["max_rate_with_candidates"] is None and "flowopt invest" not in diag["statement"]
