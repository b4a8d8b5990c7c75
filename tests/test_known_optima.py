"""Small networks whose optimum is known by hand, and Dantzig's transportation problem."""

from __future__ import annotations

import pytest
from support import BLEND, ROOT, TINY, make

from flowopt.errors import InfeasibleError
from flowopt.pipeline import run


def flow(plan, stream, destination, source_kind=None):
    return sum(
        f.tonnes
        for f in plan.flows
        if f.stream == stream and f.destination == destination and (source_kind is None or f.source_kind == source_kind)
    )


def test_residue_stream_is_routed_and_counted_once():
    # P takes 60 t of s1 (cost 600) and passes 24 t residue s2 on. To reach 50 % the park needs
    # U >= 50: P books 36 t, so 14 t of s2 must go through Q (20 CNY/t); the rest goes to the
    # landfill at 5 CNY/t: 40 t of s1 and 10 t of s2. Total 600 + 280 + 250 = 1130.
    plan = run(make())
    assert plan.objective_cny == pytest.approx(1130)
    assert flow(plan, "s1", "P") == pytest.approx(60)
    assert flow(plan, "s2", "Q") == pytest.approx(14)
    assert flow(plan, "s2", "L") == pytest.approx(10)
    assert flow(plan, "s1", "L") == pytest.approx(40)
    assert plan.kpis.utilized_t == pytest.approx(50)
    assert plan.utilization_rate == pytest.approx(0.5)
    fates = {f.root: f for f in plan.stream_fates}
    # all of s1's fate, residues included, adds up to its 100 t
    s1 = fates["s1"]
    assert s1.utilized_t + s1.disposed_t == pytest.approx(100)
    assert plan.audit.passed


def test_legacy_stock_enters_numerator_and_denominator():
    # At 65 % current-year material alone cannot do it (Q has room for 50, P+Q give at most
    # 36 + 24 = 60 of 100). Reclaiming R t of old slag into Q: (60 + R) / (100 + R) >= 0.65
    # needs R >= 14.2857 when all 24 t of s2 go to Q, leaving Q room for 26 t.
    plan = run(make(), target_rate=0.65)
    r = plan.reclaim_t["k"]
    assert r == pytest.approx(5 / 0.35, rel=1e-9)
    assert plan.kpis.utilized_prior_t == pytest.approx(r)
    assert plan.utilization_rate == pytest.approx(0.65)
    assert plan.utilization_rate == pytest.approx((plan.kpis.utilized_new_t + r) / (100 + r))
    # cost: P 600, Q (24 + R) * 20, reclaim R * 1, landfill 40 t of s1 * 5
    assert plan.objective_cny == pytest.approx(600 + (24 + r) * 20 + r * 1 + 40 * 5)


def test_quality_limit_caps_the_blend():
    # Cement line takes A (TiO2 20 %) and B (TiO2 5 %) with TiO2 <= 10 %: x_A <= 0.5 x_B, so
    # 100 t B + 50 t A, the other 50 t of A are landfilled (20 CNY/t, cheaper than the 25 CNY/t
    # tax on unmanaged slag). Revenue 30 CNY/t: -150 * 30 + 50 * 20 = -3500.
    plan = run(make(BLEND))
    assert plan.objective_cny == pytest.approx(-3500)
    assert flow(plan, "slag_a", "cement") == pytest.approx(50)
    assert flow(plan, "slag_b", "cement") == pytest.approx(100)
    card = next(b for b in plan.bottlenecks if b.kind == "quality_max")
    # one more point of TiO2 allows 150 * 0.01 / (0.2 - 0.11) ... checked by finite difference
    # in test_shadow_prices; here only that it is reported with a positive saving
    assert card.subject == "cement" and card.shadow_price > 0


def test_unmanaged_slack_is_taxed_by_category():
    # A landfill of 30 t for 100 t of tailings: 70 t stay unmanaged at 15 (tax) + 100 (penalty).
    data = {
        "id": "slack",
        "policy": {"target_rate": 0.0, "allow_unmanaged": True, "unmanaged_penalty_cny_per_t": 100},
        "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
        "sites": [{"id": "A"}],
        "streams": [{"id": "t", "site": "A", "category": "tailings", "generation_t": 100}],
        "projects": [{"id": "unused", "site": "A", "capacity_t": 10, "processing_cost_cny_per_t": 1000, "product_fraction": 1}],
        "sinks": [{"id": "dam", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 10, "capacity_t": 30}],
        "accepts": [{"outlet": "dam", "stream": "t"}, {"outlet": "unused", "stream": "t"}],
    }
    plan = run(make(data))
    assert plan.kpis.unmanaged_t == pytest.approx(70)
    assert plan.cost_terms["environmental_tax_cny"] == pytest.approx(70 * 15)
    assert plan.cost_terms["unmanaged_penalty_cny"] == pytest.approx(70 * 100)
    assert plan.objective_cny == pytest.approx(300 + 70 * 115)
    # a headline of the plan, not only a warning
    assert plan.unmanaged.allowed and plan.unmanaged.tonnes == pytest.approx(70)
    assert "70 t/yr" in plan.unmanaged.headline and "70 吨/年" in plan.unmanaged.headline_zh
    dam = next(b for b in plan.bottlenecks if b.kind == "sink_capacity")
    assert dam.shadow_price == pytest.approx(115 - 10)


def test_infeasible_target_is_an_answer_with_the_reachable_maximum():
    # Max: P books 36, Q takes 24 t of s2 and 26 t of stock: (36 + 24 + 26) / (100 + 26).
    with pytest.raises(InfeasibleError) as info:
        run(make(), target_rate=0.9)
    diag = info.value.diagnosis
    assert diag.max_rate == pytest.approx(86 / 126, rel=1e-7)
    assert "90.0%" in diag.statement and "68.25%" in diag.statement


def test_disposal_projects_and_storage_are_booked_as_such():
    # the same network with Q booked as disposal: utilization only from P
    data = dict(TINY)
    data["projects"] = [dict(TINY["projects"][0]), dict(TINY["projects"][1], counts_as="disposal")]
    plan = run(make(data), target_rate=0.36)
    assert plan.kpis.utilized_t == pytest.approx(36)
    assert plan.kpis.disposed_t == pytest.approx(64)


def test_dantzig_transportation_problem_published_optimum():
    plan = run(ROOT / "tests" / "data" / "trnsport")
    # published optimum z = 153.675 thousand dollars
    assert plan.objective_cny == pytest.approx(153_675, rel=1e-9)
    # published demand marginals (GAMS trnsport): 0.225, 0.153, 0.126 thousand dollars per case
    price = {b.subject: b.shadow_price for b in plan.bottlenecks if b.kind == "project_min_intake"}
    assert price == pytest.approx({"market_new_york": 225.0, "market_chicago": 153.0, "market_topeka": 126.0})
