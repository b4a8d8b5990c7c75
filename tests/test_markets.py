"""Product markets (issue 15): demand limits and price tiers shared by the projects that sell in them.

A hand-solved market: 100 t of one stream, one project P (processing 10 CNY/t, no revenue of its
own, 1 t of product per t of feed) selling into market M (at most 80 t/yr: the first 50 t at 30
CNY/t, the rest at 12), and a landfill L at 5 CNY/t. By hand: the first 50 t earn 30 − 10 = 20
CNY/t net, the next 30 t 12 − 10 = 2 (both better than the landfill's −5), the last 20 t cannot be
sold and go to L: cost 50 × (−20) + 30 × (−2) + 20 × 5 = −960 CNY/yr. One more t/yr of demand
moves a tonne from L (5) to P in tier 2 (−2): it saves 7 CNY/yr; that holds from a demand of 50
(below it the marginal tonne is in tier 1, worth 25) to 100 (all the stream).
"""

from __future__ import annotations

import copy
import json

import pytest
from support import PARK_2025

from flowopt.checks import validated
from flowopt.errors import InfeasibleError, InputError
from flowopt.formulation.reference import differences
from flowopt.io import load_scenario
from flowopt.pipeline import run

MARKET: dict = {
    "id": "market_case",
    "policy": {"target_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}],
    "projects": [{"id": "P", "site": "A", "capacity_t": 100, "processing_cost_cny_per_t": 10, "product_fraction": 1, "markets": "M"}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "*"}],
    "markets": [{"id": "M", "name_en": "sand", "name_zh": "砂", "limit_t": 80}],
    "market_tiers": [{"market": "M", "upto_t": 50, "price_cny_per_t": 30}, {"market": "M", "price_cny_per_t": 12}],
}


def scenario(**changes):
    data = copy.deepcopy(MARKET)
    data.update(copy.deepcopy(changes))
    return validated(data)


def with_limit(limit: float | None):
    return scenario(markets=[{"id": "M", "name_en": "sand", "limit_t": limit}])


def test_hand_solved_market_cost_flows_tiers_and_card():
    plan = run(scenario())
    assert plan.objective_cny == pytest.approx(50 * (10 - 30) + 30 * (10 - 12) + 20 * 5)
    flows = {f.destination: f.tonnes for f in plan.flows}
    assert flows == pytest.approx({"P": 80.0, "L": 20.0})
    (m,) = plan.markets
    assert (m.sold_t, m.limit_t, m.tier_reached, m.price_reached_cny_per_t, m.binds) == (80.0, 80.0, 2, 12.0, True)
    assert [t.sold_t for t in m.tiers] == pytest.approx([50.0, 30.0])
    assert m.revenue_cny == pytest.approx(50 * 30 + 30 * 12)
    assert plan.cost_terms["revenue_cny"] == pytest.approx(50 * 30 + 30 * 12)
    card = next(b for b in plan.bottlenecks if b.kind == "market_demand")
    assert card.constraint == "market_demand[M]" and card.subject == "M"
    assert card.shadow_price == pytest.approx(5 + 2)  # by hand: landfill fee avoided + tier-2 margin
    assert (card.valid_from, card.valid_to) == pytest.approx((50.0, 100.0))
    assert card.cny_at_stake == pytest.approx(7 * 20)
    assert "a market, not a capacity, limits P" in card.explanation and "市场需求，而非产能" in card.explanation_zh
    assert m.shadow_price_cny_per_t == pytest.approx(7.0) and (m.valid_from_t, m.valid_to_t) == pytest.approx((50.0, 100.0))
    assert plan.audit.passed and {c.name for c in plan.audit.checks} >= {"market_demand", "market_revenue"}


def test_the_price_and_its_range_match_finite_differences():
    base = run(with_limit(80)).objective_cny
    for step in (1.0, 10.0):
        assert (base - run(with_limit(80 + step)).objective_cny) / step == pytest.approx(7.0)
        assert (run(with_limit(80 - step)).objective_cny - base) / step == pytest.approx(7.0)
    # past the edges the slope changes: below 50 the marginal tonne is worth 25 (tier 1), above
    # 100 there is nothing more to sell
    assert (run(with_limit(49)).objective_cny - run(with_limit(50)).objective_cny) == pytest.approx(25.0)
    assert (run(with_limit(100)).objective_cny - run(with_limit(101)).objective_cny) == pytest.approx(0.0)


def test_without_a_limit_the_tiers_alone_price_the_tonnes():
    # no limit: the 50 t of tier 1 and 50 t of tier 2 (12 − 10 = 2 per t, better than the landfill)
    plan = run(with_limit(None))
    assert plan.objective_cny == pytest.approx(50 * (10 - 30) + 50 * (10 - 12))
    assert not any(b.kind == "market_demand" for b in plan.bottlenecks)
    assert plan.markets[0].binds is False and plan.markets[0].tier_reached == 2


def test_tiers_fill_dearest_first_across_projects_and_yields():
    # two projects share the market; Q makes 2 t of product per t of feed: every plan fills the
    # tiers in order, and the audit recomputes the market revenue from the tiers
    data = copy.deepcopy(MARKET)
    data["streams"].append({"id": "r", "site": "A", "category": "tailings", "generation_t": 40})
    data["projects"].append({"id": "Q", "site": "A", "capacity_t": 40, "processing_cost_cny_per_t": 1, "product_fraction": 1, "markets": "M=2"})
    data["accepts"].append({"outlet": "Q", "stream": "r"})
    plan = run(validated(data))
    (m,) = plan.markets
    assert m.by_project["Q"] == pytest.approx(2 * next(f.tonnes for f in plan.flows if f.destination == "Q"))
    assert m.sold_t == pytest.approx(80.0)
    assert [t.sold_t for t in m.tiers] == pytest.approx([50.0, 30.0])
    assert plan.audit.passed
    # Q's 80 t of product (2 × 40) earn more per tonne of feed than P's: the market is Q's
    assert m.by_project == pytest.approx({"P": 0.0, "Q": 80.0})


def test_a_market_without_tiers_only_limits_the_tonnes():
    data = copy.deepcopy(MARKET)
    data["market_tiers"] = []
    data["projects"][0]["revenue_cny_per_t"] = 20
    plan = run(validated(data))
    assert plan.objective_cny == pytest.approx(80 * (10 - 20) + 20 * 5)
    assert plan.markets[0].tiers == [] and plan.markets[0].revenue_cny == 0.0
    assert next(b for b in plan.bottlenecks if b.kind == "market_demand").shadow_price == pytest.approx(10 + 5)


def test_the_assembled_lp_equals_the_pyomo_model():
    assert differences(scenario()) == []
    assert differences(scenario(), with_target=False) == []


def test_why_not_says_the_market_is_full():
    plan = run(scenario())
    w = next(w for w in plan.why_not if w.subject == "P")
    assert w.break_even_cny_per_t is None
    assert "market sand (M) is full" in w.explanation and "more demand" in w.explanation
    assert "已饱和" in w.explanation_zh


def test_an_unreachable_target_is_fixed_by_finding_buyers():
    s = scenario(policy={"target_rate": 0.9})
    with pytest.raises(InfeasibleError) as info:
        run(s)
    d = info.value.diagnosis
    assert d.max_rate == pytest.approx(0.8)
    (r,) = [r for r in d.relaxations if r.kind == "market_demand"]
    # 10 t/yr more by hand; the diagnosis rounds a relaxation outward to whole tonnes
    assert (r.subject, r.current) == ("M", 80.0) and r.proposed == pytest.approx(90.0, abs=1.0)
    assert "t/yr more sand (M)" in r.explanation and "吨/年销路" in r.explanation_zh
    fixed = s.model_copy(update={"markets": tuple(m.model_copy(update={"limit_t": r.proposed}) for m in s.markets)})
    assert run(fixed).utilization_rate >= 0.9 - 1e-9


def test_a_warm_what_if_on_the_limit_equals_a_cold_solve():
    from flowopt.whatif import WhatIfSession

    session = WhatIfSession(scenario())
    plan = session.solve(with_limit(90))
    assert session.stats is not None and session.stats.warm
    assert plan.objective_cny == pytest.approx(run(with_limit(90)).objective_cny)


# ---------------------------------------------------------------------------------------------
# Bad input: every problem at once, located by file, row and column
# ---------------------------------------------------------------------------------------------


def _write(folder, data: dict) -> None:
    import csv

    import yaml

    folder.mkdir()
    manifest = {k: v for k, v in data.items() if not isinstance(v, list)}
    (folder / "scenario.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    for table, rows in data.items():
        if isinstance(rows, list) and rows:
            fields = list(dict.fromkeys(k for r in rows for k in r))
            with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as f:
                w = csv.DictWriter(f, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)


def test_bad_market_data_is_refused_with_every_problem_located(tmp_path):
    data = copy.deepcopy(MARKET)
    data["projects"][0]["markets"] = "M;X"  # an unknown market, and two markets without yields
    data["projects"].append({"id": "Q", "site": "A", "capacity_t": 1, "product_fraction": 1, "markets": "M=oops"})
    data["market_tiers"] = [
        {"market": "M", "upto_t": 50, "price_cny_per_t": 30},
        {"market": "M", "upto_t": 70, "price_cny_per_t": 40},  # a price that rises
        {"market": "M", "upto_t": 90, "price_cny_per_t": 40},  # ends beyond the limit of 80 (a warning), and the same price
        {"market": "M", "upto_t": 90, "price_cny_per_t": 10},  # twice up to 90
        {"market": "N", "price_cny_per_t": 5},  # an unknown market
    ]
    _write(tmp_path / "bad", data)
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "bad")
    found = {(p.file.rsplit("/", 1)[-1] if p.file else None, p.row, p.column) for p in info.value.problems}
    assert ("projects.csv", 3, "markets") in found  # 'M=oops' (row 3 of the file: the header is row 1)
    assert ("projects.csv", 2, "markets") in found  # unknown market X / several markets without yields
    assert ("market_tiers.csv", 3, "price_cny_per_t") in found  # 40 after 30
    assert ("market_tiers.csv", 5, "upto_t") in found  # a second tier up to 90
    assert ("market_tiers.csv", 6, "market") in found  # N
    text = " ".join(p.message for p in info.value.problems)
    assert "unknown markets id 'X'" in text and "the first tonnes must sell at the highest price" in text
    assert "does not say how much product goes to" in text and "two tiers up to 90" in text
    warned = [p for p in info.value.problems if p.severity == "warning"]
    assert any(p.column == "upto_t" and "never sold" in p.message for p in warned)


def test_a_market_needs_exactly_one_open_last_tier():
    with pytest.raises(InputError) as info:
        scenario(market_tiers=[{"market": "M", "upto_t": 50, "price_cny_per_t": 30}])
    assert any(p.table == "market_tiers" and p.column == "upto_t" and "no open last tier" in p.message for p in info.value.problems)
    with pytest.raises(InputError) as info:
        scenario(market_tiers=[{"market": "M", "price_cny_per_t": 30}, {"market": "M", "price_cny_per_t": 20}])
    assert any("only its last tier may be open" in p.message for p in info.value.problems)


# ---------------------------------------------------------------------------------------------
# The bundled park
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_bundled_json_carries_the_markets_and_the_binding_retarder_market(capsys):
    from flowopt.cli import main

    assert main(["solve", str(PARK_2025), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    markets = {m["market"]: m for m in doc["markets"]}
    assert set(markets) == {"AGG", "SAND", "BLOCKS", "TI_CONC", "RETARDER"}
    for m in markets.values():
        assert {"sold_t", "limit_t", "tier_reached", "price_reached_cny_per_t", "binds", "tiers", "by_project"} <= set(m)
    r = markets["RETARDER"]
    # R10 makes 0.72 t of retarder per t of Ti gypsum, so the 300,000 t market takes 416,667 t of feed
    assert r["binds"] and r["sold_t"] == pytest.approx(300_000) and r["limit_t"] == 300_000
    r10 = next(o for o in doc["outlet_loads"] if o["outlet"] == "R10")
    assert r10["intake_t"] == pytest.approx(300_000 / 0.72)
    card = next(b for b in doc["bottlenecks"] if b["constraint"] == "market_demand[RETARDER]")
    assert card["shadow_price"] > 0 and card["valid_from"] is not None
    # the sand market sells R01's half and all of R06: 4.5 / 2 + 3.0 Mt, into its third tier at 25 CNY/t
    sand = markets["SAND"]
    assert sand["sold_t"] == pytest.approx(2_250_000 + 3_000_000) and sand["tier_reached"] == 3 and sand["price_reached_cny_per_t"] == 25
    assert doc["cost_terms"]["revenue_cny"] > 0 and "incentives_cny" in doc["cost_terms"]


def test_a_bad_price_in_a_workbook_is_located_by_sheet_row_and_column(tmp_path):
    from openpyxl import load_workbook

    from flowopt.io import write_workbook

    path = write_workbook(scenario(), tmp_path / "park.xlsx")
    wb = load_workbook(path)
    ws = wb["market_tiers"]
    col = [c.value for c in ws[1]].index("price_cny_per_t") + 1
    ws.cell(row=3, column=col, value="cheap")
    wb.save(path)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (p,) = [p for p in info.value.problems if p.column == "price_cny_per_t"]
    assert "market_tiers" in (p.file or "") and p.row == 3
    # a round trip keeps the markets and the projects' links
    back = load_scenario(write_workbook(scenario(), tmp_path / "ok.xlsx"))
    assert back.markets == scenario().markets and back.market_tiers == scenario().market_tiers
    assert back.projects[0].markets == "M"


@pytest.mark.parametrize("seed", range(6))
def test_random_investment_parks_with_markets_equal_the_pyomo_milp(seed):
    # the sold_t columns come before the investment columns: the MILP with markets, incentives
    # and duties is the same in both formulations
    from flowopt.synthetic import random_park

    s = validated(random_park([5, 8, 20][seed % 3], seed, candidates=4, markets=True))
    assert differences(s, investment=True) == []
