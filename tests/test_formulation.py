"""The LP flowopt solves (assembled from arrays) equals the Pyomo reference model.

The Pyomo model (``flowopt.model``) is the readable formulation of record; the array
assembly (``flowopt.formulation``) is what the solver gets. Both are compiled to canonical
form (rows and columns keyed by family and index) and compared number by number on the
bundled parks, every hand-solved case and random synthetic parks covering every family.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from support import BLEND, PARK_2023, PARK_2025, ROOT, TINY, make

from flowopt.checks import validated
from flowopt.formulation import FAMILIES, ROWS, assemble, component_name
from flowopt.formulation.reference import differences, to_pyomo
from flowopt.graph import build_graph
from flowopt.io import load_scenario
from flowopt.solve import Session, SolveStatus
from flowopt.synthetic import random_park


def _hand_cases() -> list:
    disposal = copy.deepcopy(TINY)
    disposal["projects"][1]["counts_as"] = "disposal"
    disposal["sinks"].append({"id": "Y", "site": "A", "counts_as": "storage", "fee_cny_per_t": 1, "capacity_t": 20})
    disposal["accepts"].append({"outlet": "Y", "stream": "*", "max_share": 0.5})
    return [make(), make(BLEND), make(disposal), load_scenario(ROOT / "tests" / "data" / "trnsport")]


@pytest.mark.parametrize("path", [PARK_2025, PARK_2023], ids=["park_2025", "park_2023"])
@pytest.mark.parametrize(("target", "with_target"), [(None, True), (0.35, True), (None, False)])
def test_bundled_parks_equal_the_pyomo_reference(path, target, with_target):
    assert differences(load_scenario(path), target_rate=target, with_target=with_target) == []


@pytest.mark.parametrize("case", range(4), ids=["tiny", "blend", "disposal_storage_shares", "trnsport"])
def test_hand_solved_cases_equal_the_pyomo_reference(case):
    s = _hand_cases()[case]
    assert differences(s) == []
    assert differences(s, with_target=False) == []


@pytest.mark.parametrize("seed", range(120))
def test_random_parks_equal_the_pyomo_reference(seed):
    s = validated(random_park([3, 5, 8, 20, 40][seed % 5], seed))
    assert differences(s) == []
    if seed % 10 == 0:
        assert differences(s, with_target=False) == []


@pytest.mark.parametrize("seed", range(40))
def test_random_parks_with_markets_incentives_and_duties_equal_the_pyomo_reference(seed):
    # the issue-15 families: sold_t, market_sales, market_tier, market_demand, firm_target and
    # the incentives in the objective (random_park(..., markets=True); the parks above unchanged)
    s = validated(random_park([3, 5, 8, 20, 40][seed % 5], seed, markets=True))
    assert differences(s) == []
    if seed % 10 == 0:
        assert differences(s, with_target=False) == []


def test_random_parks_cover_every_family():
    seen = set()
    for seed in range(30):
        lp = assemble(build_graph(validated(random_park([3, 5, 8, 20, 40][seed % 5], seed))))
        seen |= {name for name, block in lp.rows.items() if len(block)}
    for seed in range(10):  # markets, incentives and firms' duties (issue 15)
        lp = assemble(build_graph(validated(random_park([3, 5, 8, 20, 40][seed % 5], seed, markets=True))))
        seen |= {name for name, block in lp.rows.items() if len(block)}
    for seed in range(4):  # airspace and the CO2 cap (issue 15; their equality: tests/test_airspace.py, tests/test_carbon.py)
        lp = assemble(build_graph(validated(random_park([3, 5, 8, 20, 40][seed % 5], seed, airspace_carbon=True))))
        seen |= {name for name, block in lp.rows.items() if len(block)}
    assert seen == set(FAMILIES)


def test_a_difference_is_found():
    # the comparison is not vacuous: a changed coefficient in the Pyomo model is reported
    s = make(BLEND)
    g = build_graph(s)
    lp = assemble(g)
    m = to_pyomo(s)
    m.quality_max.deactivate()
    from flowopt.formulation.reference import canonical_assembled, canonical_pyomo

    a, p = canonical_assembled(lp), canonical_pyomo(m)
    assert set(a.rows) - set(p.rows) == {("quality_max", ("cement", "TiO2"))}


def test_every_row_of_every_family_keeps_its_position():
    # a project nothing can reach still has its capacity row (empty), so positions never shift
    data = copy.deepcopy(TINY)
    data["projects"].append({"id": "Z", "site": "A", "capacity_t": 10, "product_fraction": 1})
    lp = assemble(build_graph(make(data)))
    i = lp.row_of("project_capacity", "Z")
    cols, _ = lp.row(i)
    assert len(cols) == 0 and lp.row_upper[i] == 10
    assert lp.row_name(i) == "project_capacity[Z]"
    assert [f.name for f in ROWS] == list(lp.rows)


def test_names_follow_pyomo_spelling():
    s = load_scenario(PARK_2025)
    m = to_pyomo(s)
    lp = assemble(build_graph(s))
    import pyomo.environ as pyo

    pyomo_names = {v.name for v in m.component_data_objects(pyo.Var)} | {c.name for c in m.component_data_objects(pyo.Constraint)}
    ours = set(lp.column_names()) | set(lp.row_names())
    assert ours <= pyomo_names
    assert component_name("flow_t", ("gen:W01", "R01")) == "flow_t['gen:W01',R01]"


def test_the_gateway_solves_after_another_highs_user_changed_the_thread_scheduler():
    import highspy

    highspy.Highs.resetGlobalScheduler(True)
    other = highspy.Highs()
    other.setOptionValue("output_flag", False)
    other.setOptionValue("threads", 2)
    other.addVar(0, 1)
    other.changeColCost(0, -1)
    assert other.run() == highspy.HighsStatus.kOk  # the scheduler now runs 2 threads
    out = Session(assemble(build_graph(make()))).solve()
    assert out.status == SolveStatus.optimal


def test_assembled_solution_matches_the_pyomo_path_objective():
    # the two LPs being equal, their optima agree; checked against the existing solve path
    from flowopt.pipeline import run

    for s in (make(), make(BLEND), load_scenario(PARK_2025)):
        out = Session(assemble(build_graph(s))).solve()
        assert out.ok
        assert np.isclose(out.objective, run(s, explain=False).objective_cny, rtol=1e-9, atol=1e-6)


def _pathway_years(p, target: float, weight: float):
    from flowopt.pathway import year_scenario

    return [(y, build_graph(year_scenario(p, y, target=target)), weight**i) for i, y in enumerate(p.spec.years)]


@pytest.mark.parametrize(("target", "weight"), [(0.2, 1.0), (0.3, 0.9)])
def test_the_bundled_pathway_equals_the_pyomo_pathway_model(target, weight):
    from flowopt.formulation.reference import pathway_differences
    from flowopt.pathway import load_pathway

    p = load_pathway(PARK_2025 / "pathway.yaml")
    stock = {k.id: k.stock_t for k in p.base.stockpiles}
    assert pathway_differences(_pathway_years(p, target, weight), stock) == []


@pytest.mark.parametrize("seed", range(20))
def test_random_multi_year_pathways_equal_the_pyomo_pathway_model(seed):
    # three "years" of one random park with different targets and grown generation
    from flowopt.formulation.reference import pathway_differences

    base = random_park([5, 8, 20][seed % 3], seed)
    years = []
    for i, year in enumerate((2023, 2024, 2025)):
        data = copy.deepcopy(base)
        data["policy"]["target_rate"] = round(0.2 + 0.1 * i, 3)
        for st in data["streams"]:
            if st.get("generation_t"):
                st["generation_t"] = round(st["generation_t"] * (1.03**i))
        years.append((year, build_graph(validated(data)), 0.95**i))
    stock = {k["id"]: k["stock_t"] for k in base["stockpiles"]}
    assert pathway_differences(years, stock) == []


@pytest.mark.parametrize("suffix", [".mps", ".lp"])
def test_export_writes_the_lp_flowopt_solves(tmp_path, suffix, capsys):
    import highspy

    from flowopt.cli import main

    out = tmp_path / f"park{suffix}"
    assert main(["export", str(PARK_2025), str(out)]) == 0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(out)) == highspy.HighsStatus.kOk
    h.run()
    lp = assemble(build_graph(load_scenario(PARK_2025)))
    ours = Session(lp).solve()
    # an independent read of the file by HiGHS gives the same optimum and the same names
    assert h.getInfo().objective_function_value == pytest.approx(ours.objective, rel=1e-9)
    assert h.getLp().num_col_ == lp.n_cols and h.getLp().num_row_ == lp.n_rows
    assert h.getColName(lp.col_of("flow_t", ("gen:W01", "R01")))[1] == "flow_t(gen.W01,R01)"
    assert h.getRowName(lp.row_of("target"))[1] == "target"


def test_export_refuses_other_file_names(tmp_path, capsys):
    from flowopt.cli import main

    assert main(["export", str(PARK_2025), str(tmp_path / "park.txt")]) == 2
    assert "ending in .mps or .lp" in capsys.readouterr().err


@pytest.mark.parametrize("solver", ["simplex", "ipm"])
def test_interior_point_and_simplex_give_the_same_plan_and_prices(solver):
    from flowopt.pipeline import run
    from flowopt.solve import SolveOptions

    base = run(PARK_2025, options=SolveOptions(solver="simplex"))
    plan = run(PARK_2025, options=SolveOptions(solver=solver))
    assert plan.objective_cny == pytest.approx(base.objective_cny, rel=1e-9)
    # the same limits bind at the same prices (their ranking by money at stake may differ:
    # ranges come from the basis each method ends on)
    assert sorted((b.constraint, round(b.shadow_price, 4)) for b in plan.bottlenecks) == sorted((b.constraint, round(b.shadow_price, 4)) for b in base.bottlenecks)


def test_no_explain_skips_ranges_but_keeps_prices(capsys):
    import json

    from flowopt.cli import main

    assert main(["solve", str(PARK_2025), "--json", "--no-explain"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bottlenecks"] and all(b["valid_from"] is None and b["valid_to"] is None for b in doc["bottlenecks"])
    assert doc["why_not"] == [] and doc["max_utilization_rate"] is None


# investment decisions (issue 12): the MILP with candidates, integrality compared too
@pytest.mark.parametrize("seed", range(24))
def test_random_investment_milps_equal_the_pyomo_reference(seed):
    s = validated(random_park([3, 5, 8, 20][seed % 4], seed, candidates=2 + seed % 7))
    assert differences(s, investment=True) == []
    if seed % 6 == 0:
        assert differences(s, investment=True, with_target=False) == []


def test_the_bundled_investment_milp_equals_the_pyomo_reference():
    assert differences(load_scenario(ROOT / "data" / "panzhihua_east_invest"), investment=True) == []

