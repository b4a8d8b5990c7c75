"""Tax incentives (issue 15): the VAT refund and the income-tax reduction as their own cost term.

A hand-solved case: 100 t of slag, one project P (processing 26 CNY/t, revenue 20 CNY/t, the
catalogue's 70 % VAT refund on 13 % VAT, revenue counted at 90 % for a 25 % income tax) and a
landfill at 5 CNY/t. By hand, φ = 0.7 × 0.13 + (1 − 0.9) × 0.25 = 0.116 CNY per CNY of revenue:
without incentives P nets 26 − 20 = 6 CNY/t, dearer than the landfill's 5, so the slag is
landfilled (500 CNY/yr); with them P nets 6 − 0.116 × 20 = 3.68 CNY/t and takes it all:
368 CNY/yr, incentives 232 (VAT refund 182, income tax 50); the same plan without them would
cost 600.
"""

from __future__ import annotations

import copy
import json

import pytest
from support import PARK_2025

from flowopt.checks import validated
from flowopt.errors import InputError
from flowopt.formulation.reference import differences
from flowopt.pipeline import run

CASE: dict = {
    "id": "incentive_case",
    "policy": {"target_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "smelting_slag", "generation_t": 100}],
    "projects": [{"id": "P", "site": "A", "capacity_t": 100, "processing_cost_cny_per_t": 26, "revenue_cny_per_t": 20, "product_fraction": 1,
                  "vat_refund_rate": 0.7, "vat_rate": 0.13, "taxable_revenue_share": 0.9, "income_tax_rate": 0.25, "incentive_item": "2.1"}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "*"}],
}

PHI = 0.7 * 0.13 + (1 - 0.9) * 0.25


def scenario(apply: bool = True, **project):
    data = copy.deepcopy(CASE)
    data["policy"]["apply_incentives"] = apply
    data["projects"][0].update(project)
    return validated(data)


def test_hand_solved_incentives_flip_the_plan_and_are_their_own_cost_term():
    plan = run(scenario())
    assert pytest.approx(0.116) == PHI
    assert plan.objective_cny == pytest.approx(100 * (26 - 20 - PHI * 20))
    assert {f.destination: f.tonnes for f in plan.flows} == {"P": pytest.approx(100.0)}
    assert plan.cost_terms["incentives_cny"] == pytest.approx(PHI * 2000)
    inc = plan.incentives_cny
    assert inc.applied and inc.total_cny == pytest.approx(232.0)
    assert (inc.vat_refund_cny, inc.income_tax_cny) == pytest.approx((0.7 * 0.13 * 2000, 0.1 * 0.25 * 2000))
    assert inc.objective_without_cny == pytest.approx(600.0)
    (row,) = inc.by_project
    assert (row.project, row.incentive_item, row.revenue_cny, row.total_cny) == ("P", "2.1", pytest.approx(2000.0), pytest.approx(232.0))
    assert sum(f.incentive_cny for f in plan.flows) == pytest.approx(232.0)
    assert plan.audit.passed and any(c.name == "incentives" for c in plan.audit.checks)


def test_without_incentives_the_least_cost_plan_is_the_landfill():
    off = run(scenario(apply=False))
    assert off.objective_cny == pytest.approx(500.0)
    assert off.cost_terms["incentives_cny"] == 0.0 and off.incentives_cny is not None and not off.incentives_cny.applied
    # re-solved without incentives the least cost is never above the same plan's cost without them
    assert off.objective_cny <= run(scenario()).incentives_cny.objective_without_cny


def test_the_break_even_of_the_refund_rate_matches_a_re_solve():
    # P takes the slag once φ × 20 > 1 CNY/t (its 6 against the landfill's 5): φ > 0.05; with
    # no income-tax part, the VAT refund rate above 0.05 / 0.13 = 0.3846
    lo = run(scenario(taxable_revenue_share=1.0, vat_refund_rate=0.38))
    hi = run(scenario(taxable_revenue_share=1.0, vat_refund_rate=0.39))
    assert {f.destination for f in lo.flows} == {"L"} and {f.destination for f in hi.flows} == {"P"}


def test_incentives_apply_to_market_revenue_too():
    # P sells into a market (first 60 t at 25 CNY/t, the rest at 15) on top of its own 20
    data = copy.deepcopy(CASE)
    data["projects"][0].update(markets="M", processing_cost_cny_per_t=30)
    data["markets"] = [{"id": "M"}]
    data["market_tiers"] = [{"market": "M", "upto_t": 60, "price_cny_per_t": 25}, {"market": "M", "price_cny_per_t": 15}]
    plan = run(validated(data))
    revenue = 100 * 20 + 60 * 25 + 40 * 15
    assert plan.cost_terms["revenue_cny"] == pytest.approx(revenue)
    assert plan.cost_terms["incentives_cny"] == pytest.approx(PHI * revenue)
    assert plan.objective_cny == pytest.approx(100 * 30 - revenue * (1 + PHI))
    assert differences(validated(data)) == []


def test_the_assembled_lp_equals_the_pyomo_model_with_and_without_incentives():
    for apply in (True, False):
        assert differences(scenario(apply)) == []


def test_bad_incentive_values_are_located():
    with pytest.raises(InputError) as info:
        scenario(vat_refund_rate=1.5, taxable_revenue_share=-0.1)
    found = {(p.table, p.row, p.column) for p in info.value.problems}
    assert ("projects", 1, "vat_refund_rate") in found and ("projects", 1, "taxable_revenue_share") in found


def test_a_refund_without_vat_is_warned_about():
    from flowopt.checks import check_scenario

    s = scenario(vat_rate=0.0)
    warned = [p for p in check_scenario(s) if p.severity == "warning" and p.column == "vat_rate"]
    assert warned and "nothing is refunded" in warned[0].message


def test_the_text_report_shows_the_incentives_in_both_languages():
    from flowopt.textreport import format_plan

    plan = run(scenario())
    en, zh = format_plan(plan, lang="en"), format_plan(plan, lang="zh")
    assert "- tax incentives" in en and "the same plan without them would cost 600 CNY/yr" in en
    assert "- 税收优惠" in zh and "同一方案若无优惠，年总成本为 600 元" in zh


@pytest.mark.slow
def test_bundled_json_carries_the_incentives(capsys):
    from flowopt.cli import main

    assert main(["solve", str(PARK_2025), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    inc = doc["incentives_cny"]
    assert {"total_cny", "vat_refund_cny", "income_tax_cny", "objective_without_cny", "by_project", "applied"} <= set(inc)
    (r02,) = [r for r in inc["by_project"] if r["project"] == "R02"]
    # R02 sells 1 Mt of blocks: 0.6 Mt at 130 and 0.4 Mt at 115 CNY/t = 124 M CNY; φ = 0.7 × 0.13 + 0.1 × 0.25
    assert r02["revenue_cny"] == pytest.approx(0.6e6 * 130 + 0.4e6 * 115)
    assert r02["total_cny"] == pytest.approx(PHI * 124e6)
    assert inc["objective_without_cny"] == pytest.approx(doc["objective_cny"] + inc["total_cny"])
    assert doc["cost_terms"]["incentives_cny"] == pytest.approx(inc["total_cny"])
