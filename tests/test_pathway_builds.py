"""Builds in the multi-year pathway (issue 12, item 2): when to build, over the years at once.

Checked by a two-year case solved by hand, by enumerating every build-year choice on small
random parks (each choice an LP of the pathway with those builds, capital added here), and by
the Pyomo model of the same MILP (compiled and compared entry by entry).
"""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from support import ROOT

from flowopt.checks import validated
from flowopt.cli import main
from flowopt.errors import InputError
from flowopt.formulation.reference import pathway_build_differences
from flowopt.graph import build_graph
from flowopt.pathway import Pathway, PathwaySpec, load_pathway, solve_pathway, year_scenario
from flowopt.pathway_builds import available_years, fixed_pathway
from flowopt.synthetic import random_park

INVEST = ROOT / "data" / "panzhihua_east_invest"


def crf(rate: float, years: int) -> float:
    """Capital recovery factor, written out here for the independent checks."""
    return 1.0 / years if rate == 0 else rate * (1 + rate) ** years / ((1 + rate) ** years - 1)


# ---------------------------------------------------------------------------------------------
# A two-year case by hand
# ---------------------------------------------------------------------------------------------
#
# 100 t/yr of one stream; a landfill at 10 CNY/t; a candidate project P (0 t/yr until built,
# processing free) that adds 100 t/yr for capital K over 10 years at a discount rate of 0
# (A = K / 10 CNY per operating year). 2024 has no target (0), 2025 needs 50 %, so P must be
# built by 2025. Built in 2024 it saves the 2024 landfill fee of 1,000 CNY and costs one more
# year of A: with the pathway's discount rate ρ = 0.1 (w = 1, 1/1.1),
#   built 2024: A (1 + 1/1.1)             built 2025: 1,000 + A / 1.1
# so it is built in 2024 exactly when A < 1,000.


def _two_years(capital: float, earliest: int | None = None) -> Pathway:
    data = {
        "id": "hand", "year": 2025,
        "policy": {"target_rate": 0.5, "discount_rate": 0.0},
        "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
        "sites": [{"id": "A"}],
        "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}],
        "projects": [{"id": "P", "site": "A", "capacity_t": 0, "product_fraction": 1}],
        "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 10}],
        "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}],
        "candidates": [{"id": "X", "project": "P", "sizing": "build", "size_t": 100, "capital_cny": capital, "lifetime_yr": 10, "earliest_year": earliest}],
    }
    spec = PathwaySpec(years=[2024, 2025], targets={2024: 0.0, 2025: 0.5}, discount_rate=0.1)
    return Pathway(spec, validated(data))


@pytest.mark.parametrize(("capital", "earliest", "year", "objective"), [
    (8000, None, 2024, 800 * (1 + 1 / 1.1)),
    (12000, None, 2025, 1000 + 1200 / 1.1),
    (8000, 2025, 2025, 1000 + 800 / 1.1),  # earliest_year: not before 2025, whatever it saves
])
def test_two_years_by_hand(capital, earliest, year, objective):
    r = solve_pathway(_two_years(capital, earliest))
    assert r.ok, r.message
    (b,) = r.builds
    assert b.built and b.year == year and b.size_t == 100
    assert r.objective_cny == pytest.approx(objective, rel=1e-9)
    assert r.capital_cny_pv == pytest.approx(capital / 10 * sum(1.1 ** -(y - 2024) for y in (2024, 2025) if y >= year), rel=1e-9)
    fee = {y.year: y.objective_cny for y in r.years}
    assert fee[2024] == pytest.approx(0 if year == 2024 else 1000) and fee[2025] == pytest.approx(0)
    # the capacity is there from the build's year on, and the plans are audited with it
    assert all(y.audit_passed for y in r.years)
    assert [y.capacity_t["P"] for y in r.years] == [100 if year == 2024 else 0, 100]


def test_a_build_is_made_once_and_a_budget_over_the_years_holds():
    # two candidates on P, 60 t each, 2025 needs 100 %: both must be built, in any years
    p = _two_years(1000)
    data = p.base.model_dump(mode="json")
    data["policy"]["target_rate"] = 1.0
    data["candidates"] = [{"id": f"X{i}", "project": "P", "sizing": "build", "size_t": 60, "capital_cny": 600, "lifetime_yr": 10} for i in (1, 2)]
    spec = p.spec.model_copy(update={"targets": {2024: 0.0, 2025: 1.0}})
    r = solve_pathway(Pathway(spec, validated(data)))
    assert r.ok and sorted(b.year for b in r.builds) == [2024, 2024]  # each saves 600 CNY of fees in 2024 for 60 of capital
    data["policy"]["capital_budget_cny"] = 1000  # both cannot be afforded over the pathway
    r = solve_pathway(Pathway(spec, validated(data)))
    assert r.status == "infeasible" and not any(b.built for b in r.builds)
    assert "budget" in r.message


# ---------------------------------------------------------------------------------------------
# Brute force over build-year choices on small random parks
# ---------------------------------------------------------------------------------------------


def _park_pathway(seed: int) -> Pathway | None:
    data = random_park((3, 5, 8)[seed % 3], seed, candidates=2 + seed % 2)
    for c in data["candidates"]:
        if c["sizing"] != "build":
            size = c.get("max_size_t") or c["module_t"] * c["max_modules"]
            for f in ("min_size_t", "max_size_t", "module_t", "max_modules"):
                c.pop(f, None)
            c["sizing"], c["size_t"] = "build", size
        c["earliest_year"] = 2024 if seed % 2 else None
        c.pop("group", None) if seed % 3 == 0 else None
    data["year"] = 2025
    s = validated(data)
    from flowopt.invest import fixed_scenario, max_rate_with_candidates

    top, low = max_rate_with_candidates(s), max_rate_with_candidates(fixed_scenario(s, {}))
    if top is None or low is None or top - low < 0.01:
        return None
    growth = {st["id"]: 0.05 for st in data["streams"][:2] if st.get("generation_t")}
    spec = PathwaySpec(years=[2023, 2024, 2025], targets={2023: round(low * 0.8, 4), 2024: round(low * 0.95, 4), 2025: round(low + 0.5 * (top - low), 4)}, discount_rate=0.07, growth=growth, base_year=2025)
    return Pathway(spec, s)


def _enumerate(p: Pathway) -> float | None:
    """The least objective over every choice of (not built, or the year) per candidate, each an LP."""
    cands = {c.id: c for c in p.base.candidates}
    years = available_years(p)
    rate = p.base.policy.discount_rate
    best = None
    for choice in itertools.product(*[[None, *years[c]] for c in sorted(cands)]):
        built = {c: (y, cands[c].size_t) for c, y in zip(sorted(cands), choice, strict=True) if y is not None}
        groups = [cands[c].group for c in built if cands[c].group]
        capital = sum(cands[c].capital_cny + cands[c].capital_cny_per_t * cands[c].size_t for c in built)
        if len(groups) != len(set(groups)) or (p.base.policy.capital_budget_cny is not None and capital > p.base.policy.capital_budget_cny):
            continue
        r = solve_pathway(fixed_pathway(p, built), diagnose_infeasible=False)
        if not r.ok:
            continue
        pv = sum((crf(rate, cands[c].lifetime_yr) * (cands[c].capital_cny + cands[c].capital_cny_per_t * cands[c].size_t) + cands[c].fixed_opex_cny_per_yr) * sum(p.weight(z) for z in p.spec.years if z >= y) for c, (y, _) in built.items())
        cost = r.objective_cny + pv
        best = cost if best is None else min(best, cost)
    return best


def test_the_pathway_milp_is_the_best_build_year_choice_on_random_parks():
    checked = built_early = 0
    for seed in range(16):
        p = _park_pathway(seed)
        if p is None:
            continue
        best = _enumerate(p)
        r = solve_pathway(p, diagnose_infeasible=False, gap=1e-9)
        if best is None:
            assert r.status == "infeasible", seed
            continue
        assert r.ok, (seed, r.message)
        assert r.objective_cny == pytest.approx(best, rel=1e-7, abs=1e-3), seed
        checked += 1
        built_early += any(b.built and b.year < 2025 for b in r.builds)
    assert checked >= 6 and built_early >= 1


# ---------------------------------------------------------------------------------------------
# The formulation: the stacked MILP equals the Pyomo pathway model with builds
# ---------------------------------------------------------------------------------------------


def _years(p: Pathway) -> list:
    return [(y, build_graph(year_scenario(p, y, target=0.3 if p.spec.targets[y] == "max" else None)), p.weight(y)) for y in p.spec.years]


@pytest.mark.parametrize("seed", range(10))
def test_random_pathways_with_builds_equal_the_pyomo_model(seed):
    data = random_park([5, 8, 20][seed % 3], seed, candidates=2 + seed % 5)
    data["year"] = 2025
    for i, c in enumerate(data["candidates"]):
        c["earliest_year"] = (None, 2024, 2025)[i % 3]
    spec = PathwaySpec(years=[2023, 2024, 2025], targets={2023: 0.2, 2024: 0.3, 2025: 0.4}, discount_rate=0.05, base_year=2025,
                       growth={st["id"]: 0.03 for st in data["streams"][:3] if st.get("generation_t")})
    p = Pathway(spec, validated(data))
    stock = {k.id: k.stock_t for k in p.base.stockpiles}
    assert pathway_build_differences(_years(p), stock) == []


def test_the_bundled_investment_pathway_equals_the_pyomo_model():
    p = load_pathway(INVEST / "pathway.yaml")
    stock = {k.id: k.stock_t for k in p.base.stockpiles}
    assert pathway_build_differences(_years(p), stock) == []


def test_a_missing_carried_capacity_is_found():
    from flowopt.formulation import assemble
    from flowopt.formulation.assemble import stack_years
    from flowopt.formulation.reference import canonical_assembled, canonical_pyomo, compare
    from flowopt.model import add_pathway_builds, build_pathway_model

    p = _two_years(8000)
    years = _years(p)
    lps = [(y, assemble(g, investment=True), w) for y, g, w in years]
    plain = stack_years(lps, {})  # without link_builds: no capacity carried, no build_once
    m = build_pathway_model(years, {})
    add_pathway_builds(m, years)
    diff = compare(canonical_assembled(plain), canonical_pyomo(m), limit=100)
    assert any("build_once" in d for d in diff) and any("2025/project_capacity" in d and "2024/built_t" in d for d in diff)


# ---------------------------------------------------------------------------------------------
# Input and the command line
# ---------------------------------------------------------------------------------------------


def test_max_is_refused_in_a_year_when_candidates_can_be_built():
    p = _two_years(8000)
    bad = Pathway(p.spec.model_copy(update={"targets": {2024: "max", 2025: 0.5}}), p.base)
    with pytest.raises(InputError) as err:
        solve_pathway(bad)
    (prob,) = err.value.problems
    assert prob.column == "targets.2024" and "X" in prob.message and "fraction" in prob.hint
    # allowed in a year before any candidate is available
    early = Pathway(bad.spec, _two_years(8000, earliest=2025).base)
    assert solve_pathway(early).ok


def test_a_candidate_waits_for_its_project_to_operate():
    p = _two_years(8000)
    data = p.base.model_dump(mode="json")
    data["projects"].append({"id": "Q", "site": "A", "capacity_t": 10, "processing_cost_cny_per_t": 100, "product_fraction": 1})  # never used: a 2024 network needs a project
    data["accepts"].append({"outlet": "Q", "stream": "s"})
    late = Pathway(p.spec.model_copy(update={"commissioning": {"P": 2025}}), validated(data))
    assert available_years(late) == {"X": [2025]}
    assert year_scenario(late, 2024).candidates == ()
    r = solve_pathway(late)
    assert r.ok and r.builds[0].year == 2025


def test_the_bundled_investment_pathway_builds_by_year(capsys):
    assert main(["pathway", str(INVEST / "pathway.yaml"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "optimal" and doc["audit_passed"]
    built = {b["id"]: b["year"] for b in doc["builds"] if b["built"]}
    # R06 and R07 cannot come before 2025 (earliest_year), and the 2025 target needs them
    assert built.get("R06") == 2025 and built.get("R07") == 2025
    assert all(y >= 2024 for y in built.values())
    assert doc["objective_cny"] == pytest.approx(sum(y["objective_cny"] * y["weight"] for y in doc["years"]) + doc["capital_cny_pv"], rel=1e-9)
    assert main(["pathway", str(INVEST / "pathway.yaml"), "--lang", "zh"]) == 0
    assert "建设方案（按投产年份）" in capsys.readouterr().out


def test_pathway_without_candidates_is_unchanged():
    r = solve_pathway(load_pathway(ROOT / "data" / "panzhihua_east" / "pathway.yaml"))
    assert r.ok and r.builds == [] and r.capital_cny_pv is None


def test_year_scenarios_drop_candidates_of_absent_projects_with_their_locations():
    p = load_pathway(INVEST / "pathway.yaml")
    spec = p.spec.model_copy(update={"commissioning": {**p.spec.commissioning, "R04": 2025}})
    s = year_scenario(Pathway(spec, p.base), 2024)
    assert "R04" not in {c.id for c in s.candidates}
    assert len(s._locations["candidates"]) == len(s.candidates)
    _ = copy.deepcopy(s)


def test_the_pathway_build_components_are_documented():
    from flowopt.model import add_pathway_builds, build_pathway_model

    doc = (ROOT / "models" / "README.md").read_text(encoding="utf-8")
    part = doc[doc.index("### Builds in the pathway") : doc.index("### Robust builds")]
    p = _two_years(8000)
    years = _years(p)
    plain = build_pathway_model(years, {})
    m = build_pathway_model(years, {})
    add_pathway_builds(m, years)
    new = {c.local_name for c in m.component_objects(descend_into=False)} - {c.local_name for c in plain.component_objects(descend_into=False)}
    assert new and all(f"`{n}`" in part for n in new), sorted(new)


def test_a_straight_line_2024_is_out_of_reach_even_with_every_candidate_built():
    # README and pathway.yaml: 47.5 % in 2024 cannot be met whatever is built (at most 44.49 %)
    p = load_pathway(INVEST / "pathway.yaml")
    r = solve_pathway(Pathway(p.spec.model_copy(update={"targets": {**p.spec.targets, 2024: 0.475}}), p.base), diagnose_infeasible=False)
    assert r.status == "infeasible" and not any(b.built for b in r.builds)
    (bad,) = [y for y in r.years if y.status == "infeasible"]
    assert bad.year == 2024 and round(bad.max_rate, 4) == 0.4449
    assert "No set of builds meets every year's target" in r.message
