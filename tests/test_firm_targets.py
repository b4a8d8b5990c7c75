"""Firms' duties (issue 15, 主体责任): a firm's own minimum rate, counted as its ledger counts it.

A hand-solved case: firm F1 generates 100 t of ``a`` at site A, firm F2 100 t of ``b`` at site B,
10 km apart (1 CNY/t·km). Project P at B (processing 20 CNY/t, no revenue) and a landfill L at A
(5 CNY/t) take both. The park needs 50 % utilized: by hand, utilizing a tonne of ``b`` costs
20 − (10 + 5) = 5 CNY more than landfilling it, a tonne of ``a`` (10 + 20) − 5 = 25 more, so
the park utilizes 100 t of ``b`` (2,500 CNY/yr) and its target costs 5 × 2 = 10 CNY/yr per point
(1 point = 2 t of G = 200 t). F1's duty of 30 % forces 30 t of ``a`` into P, each displacing a
tonne of ``b``: 25 − 5 = 20 CNY/t, 20 CNY/yr per point (1 point = 1 t of F1's 100 t); the plan
costs 2,500 + 30 × 20 = 3,100 CNY/yr, and the price holds for every duty from 0 to 100 %.
"""

from __future__ import annotations

import copy
import json

import pytest
from support import BLEND, PARK_2025, make

from flowopt.checks import check_scenario, validated
from flowopt.errors import InfeasibleError, InputError
from flowopt.formulation.reference import differences
from flowopt.io import load_scenario
from flowopt.pipeline import run

CASE: dict = {
    "id": "duty_case",
    "policy": {"target_rate": 0.5},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 1},
    "sites": [{"id": "A"}, {"id": "B"}],
    "distances": [{"from_site": "A", "to_site": "B", "distance_km": 10}],
    "firms": [{"id": "F1", "site": "A", "target_rate": 0.3, "name_en": "Mine", "name_zh": "矿业"}, {"id": "F2", "site": "B"}],
    "streams": [{"id": "a", "firm": "F1", "category": "tailings", "generation_t": 100}, {"id": "b", "firm": "F2", "category": "tailings", "generation_t": 100}],
    "projects": [{"id": "P", "site": "B", "capacity_t": 120, "processing_cost_cny_per_t": 20, "product_fraction": 1}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "P", "stream": "*"}, {"outlet": "L", "stream": "*"}],
}


def scenario(duty: float | None = 0.3, **changes):
    data = copy.deepcopy(CASE)
    data["firms"][0]["target_rate"] = duty
    data.update(copy.deepcopy(changes))
    return validated(data)


def test_hand_solved_duty_cost_flows_and_price():
    plan = run(scenario())
    assert plan.objective_cny == pytest.approx(2500 + 30 * 20)
    into_p = {f.stream: f.tonnes for f in plan.flows if f.destination == "P"}
    assert into_p == pytest.approx({"a": 30.0, "b": 70.0})
    card = next(b for b in plan.bottlenecks if b.kind == "firm_target")
    assert card.constraint == "firm_target[F1]" and card.subject == "F1"
    assert card.shadow_price == pytest.approx(25 - 5)
    assert (card.valid_from, card.valid_to) == pytest.approx((0.0, 1.0))
    assert "Mine (F1) must reach its own duty of 30%" in card.explanation and "costs the park 20 CNY/yr" in card.explanation
    assert "矿业（F1）的主体责任目标" in card.explanation_zh and "综合利用率" in card.explanation_zh
    target = next(b for b in plan.bottlenecks if b.kind == "target")
    assert target.shadow_price == pytest.approx(5 * 2)
    (row,) = plan.firm_targets
    assert (row.firm, row.target_rate, row.rate, row.delivered_t, row.generated_t, row.binds) == ("F1", 0.3, pytest.approx(0.3), pytest.approx(30.0), 100.0, True)
    assert row.cny_per_point == pytest.approx(20.0)
    assert plan.audit.passed and any(c.name == "firm_targets" for c in plan.audit.checks)


def test_the_price_holds_over_its_range_by_finite_differences():
    base = run(scenario()).objective_cny
    for step in (0.01, 0.05):
        assert (run(scenario(0.3 + step)).objective_cny - base) / (step * 100) == pytest.approx(20.0)
        assert (base - run(scenario(0.3 - step)).objective_cny) / (step * 100) == pytest.approx(20.0)
    # the same slope from 0 to 100 %: cost 2,500 + 2,000 × duty (by hand)
    for duty in (0.0, 0.5, 0.95, 1.0):
        assert run(scenario(duty)).objective_cny == pytest.approx(2500 + 2000 * duty)


def test_the_assembled_lp_equals_the_pyomo_model():
    assert differences(scenario()) == []
    assert differences(scenario(), with_target=False) == []
    for mode in ("utilization_plus_disposal", "disposal_only"):
        assert differences(scenario(policy={"target_rate": 0.2, "rate_mode": mode})) == []


def test_the_ledger_counts_disposal_when_the_rate_does():
    # read as utilization plus disposal, the landfill counts: F1 meets 90 % for free
    plan = run(scenario(0.9, policy={"target_rate": 0.5, "rate_mode": "utilization_plus_disposal"}))
    assert plan.objective_cny == pytest.approx(100 * 5 + 100 * 15)  # both to the landfill, b hauled 10 km
    assert plan.firm_targets[0].rate == pytest.approx(1.0) and not plan.firm_targets[0].binds


def test_the_ledger_counts_prior_year_stock_in_both_parts():
    # F1 also holds a stockpile of ``a`` that pays to reclaim into P: delivered and prior both count it
    data = copy.deepcopy(CASE)
    data["stockpiles"] = [{"id": "k", "stream": "a", "site": "B", "stock_t": 100, "max_reclaim_t": 10, "reclaim_cost_cny_per_t": 0}]
    data["projects"][0].update(revenue_cny_per_t=25, capacity_t=300)
    plan = run(validated(data))
    (row,) = plan.firm_targets
    stock_in_p = sum(f.tonnes for f in plan.flows if f.source_kind == "stock" and f.destination == "P")
    assert stock_in_p == pytest.approx(10.0)
    gen_in_p = sum(f.tonnes for f in plan.flows if f.source_kind == "generation" and f.stream == "a" and f.destination == "P")
    assert row.prior_t == pytest.approx(10.0) and row.delivered_t == pytest.approx(gen_in_p + 10.0)
    assert row.rate == pytest.approx((gen_in_p + 10.0) / (100.0 + 10.0))


def test_a_duty_no_outlet_can_meet_is_lowered_by_the_diagnosis():
    s = scenario(accepts=[{"outlet": "P", "stream": "b"}, {"outlet": "L", "stream": "*"}])
    with pytest.raises(InfeasibleError) as info:
        run(s)
    d = info.value.diagnosis
    assert d.max_rate is None
    assert "firms' duties (firms.target_rate)" in d.statement and "企业主体责任目标" in d.statement_zh
    (r,) = d.relaxations
    assert (r.kind, r.subject, r.current, r.proposed) == ("firm_target", "F1", 0.3, 0.0)
    assert "Lower the duty of Mine (F1) from 30.0% to 0.00%" in r.explanation
    assert any(f.kind == "firm_target" for f in d.conflict)


def test_capacity_is_expanded_before_a_duty_is_lowered():
    # P too small for the duty: expanding it (at the assumed 50 CNY per t/yr) comes first; the
    # duty moves only at 10⁴ times that price, like the park's target
    s = scenario(0.9, projects=[dict(CASE["projects"][0], capacity_t=80)], policy={"target_rate": 0.0})
    with pytest.raises(InfeasibleError) as info:
        run(s)
    kinds = {r.kind: r for r in info.value.diagnosis.relaxations}
    assert set(kinds) == {"project_capacity"} and kinds["project_capacity"].proposed == pytest.approx(90.0, abs=1.0)


def test_bad_duties_are_located_and_a_duty_on_nothing_is_warned_about():
    with pytest.raises(InputError) as info:
        scenario(1.2)
    assert any((p.table, p.row, p.column) == ("firms", 1, "target_rate") for p in info.value.problems)
    data = copy.deepcopy(CASE)
    data["firms"][1]["target_rate"] = 0.5
    data["streams"][1]["firm"] = "F1"
    warned = [p for p in check_scenario(validated(data)) if p.severity == "warning" and p.column == "target_rate"]
    assert warned and warned[0].row == 2 and "binds nothing" in warned[0].message


# ---------------------------------------------------------------------------------------------
# Wording follow-ups: the target card names the rate in Chinese; a quality relaxation its standard
# ---------------------------------------------------------------------------------------------


def test_the_target_card_names_the_rate_in_chinese_in_the_registry():
    from flowopt.formulation.families import FAMILIES
    from flowopt.labels import Labels

    for mode, name in (("utilization", "综合利用率"), ("utilization_plus_disposal", "综合利用处置率"), ("disposal_only", "处置率")):
        s = make(policy={"target_rate": 0.5, "rate_mode": mode})
        _, zh = FAMILIES["target"].card(Labels(s), None, 0.5, 1234.0)
        assert f"50% 的{name}目标起约束作用" in zh and mode not in zh


def test_a_quality_relaxation_names_its_standard_and_clause():
    s = make(BLEND, policy={"target_rate": 0.75}, quality=[{"project": "cement", "component": "TiO2", "max_fraction": 0.02, "standard": "GB/T 203-2008", "clause": "3.1"}])
    with pytest.raises(InfeasibleError) as info:
        run(s)
    (r,) = [r for r in info.value.diagnosis.relaxations if r.kind == "quality_max"]
    assert "(a limit set by GB/T 203-2008, clause 3.1)" in r.explanation
    assert "该限值依据 GB/T 203-2008 第 3.1 条" in r.explanation_zh
    conflict = [f for f in info.value.diagnosis.conflict if f.kind == "quality_max"]
    assert all("GB/T 203-2008" in f.message for f in conflict)


# ---------------------------------------------------------------------------------------------
# The bundled park: Pangang Mining's duty
# ---------------------------------------------------------------------------------------------


def _with_duty(s, firm: str, duty: float):
    return s.model_copy(update={"firms": tuple(f.model_copy(update={"target_rate": duty}) if f.id == firm else f for f in s.firms)})


@pytest.mark.slow
def test_what_pangang_minings_duty_costs_the_park(capsys):
    from flowopt.cli import main

    s = load_scenario(PARK_2025)
    assert all(f.target_rate is None for f in s.firms)  # off by default
    plan = run(_with_duty(s, "F01", 0.6))
    card = next(b for b in plan.bottlenecks if b.kind == "firm_target")
    assert card.subject == "F01" and "Pangang Group Mining" in card.explanation and "攀钢集团矿业有限公司" in card.explanation_zh
    # the price agrees with re-solves half a point either side
    up = run(_with_duty(s, "F01", 0.605), explain=False).objective_cny
    down = run(_with_duty(s, "F01", 0.595), explain=False).objective_cny
    assert (up - plan.objective_cny) / 0.5 == pytest.approx(card.shadow_price, rel=1e-6)
    assert (plan.objective_cny - down) / 0.5 == pytest.approx(card.shadow_price, rel=1e-6)
    # the what-if file of the bundled data gives the same plan, with the duty in the JSON
    assert main(["compare", str(PARK_2025), str(PARK_2025 / "whatifs" / "pangang_mining_duty.yaml"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["whatif"]["firm_targets"]
    assert row["firm"] == "F01" and row["binds"] and row["cny_per_point"] == pytest.approx(card.shadow_price)
    assert doc["whatif"]["objective_cny"] == pytest.approx(plan.objective_cny)


def test_markets_incentives_and_duties_render_in_one_language_each(tmp_path):
    # a plan with all three families (the duty case, with a market and an incentive added):
    # the text report, the Markdown report and the workbook speak Chinese or English throughout
    from openpyxl import load_workbook
    from test_i18n import CJK, english_words

    from flowopt.report import report_markdown
    from flowopt.textreport import format_plan
    from flowopt.workbook import write_plan_workbook

    data = copy.deepcopy(CASE)
    data["projects"][0].update(markets="M", vat_refund_rate=0.7, taxable_revenue_share=0.9)
    data["markets"] = [{"id": "M", "name_en": "sand", "name_zh": "砂", "limit_t": 105}]
    data["market_tiers"] = [{"market": "M", "upto_t": 40, "price_cny_per_t": 8}, {"market": "M", "price_cny_per_t": 4}]
    plan = run(validated(data))
    assert plan.markets and plan.incentives_cny is not None and plan.firm_targets
    for lang in ("zh", "en"):
        book = write_plan_workbook(plan, tmp_path / f"plan_{lang}.xlsx", lang=lang)
        cells = [str(v) for ws in load_workbook(book) for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
        texts = [format_plan(plan, lang=lang), report_markdown(plan, None, lang=lang), "\n".join(cells)]
        for text in texts:
            if lang == "zh":
                # constraint names in the workbook are ids a tool reads, not words
                assert not english_words(text, codes={b.constraint for b in plan.bottlenecks}), english_words(text)
                assert "产品市场" in text or "市场" in text
            else:
                # the Chinese names of the data (矿业, 砂) are allowed where they are the only name
                assert not CJK.search(text.replace("矿业", "").replace("砂", ""))
