"""The audit catches plans that break the input's constraints (it is not a rubber stamp)."""

from __future__ import annotations

import pytest
from support import make

from flowopt.audit import audit_plan
from flowopt.pipeline import run


@pytest.fixture
def solved():
    s = make()
    plan = run(s, target_rate=0.65)
    return s, plan


def failed(report):
    return {c.name for c in report.checks if not c.passed}


def test_clean_plan_passes(solved):
    s, plan = solved
    report = audit_plan(s, plan.flows, plan.reclaim_t, plan.objective_cny, 0.65)
    assert report.passed and failed(report) == set()


def test_overfull_project_and_broken_mass_balance_are_caught(solved):
    s, plan = solved
    flows = [f.model_copy(update={"tonnes": f.tonnes * 1.5}) if f.destination == "P" else f for f in plan.flows]
    report = audit_plan(s, flows, plan.reclaim_t, plan.objective_cny, 0.65)
    assert not report.passed
    assert {"project_capacity", "mass_balance"} <= failed(report)


def test_wrong_objective_and_missed_target_are_caught(solved):
    s, plan = solved
    report = audit_plan(s, plan.flows, plan.reclaim_t, plan.objective_cny + 50, 0.70)
    assert {"objective", "target"} <= failed(report)


def test_reclaim_beyond_limit_and_dumped_stock_are_caught(solved):
    s, plan = solved
    stock_flow = next(f for f in plan.flows if f.source_kind == "stock")
    dumped = stock_flow.model_copy(update={"destination": "unmanaged", "destination_kind": "unmanaged", "kind": "unmanaged", "tonnes": 40.0, "transport_cny": 0.0, "handling_cny": 0.0, "cost_cny": 0.0})
    flows = [*plan.flows, dumped]
    report = audit_plan(s, flows, {"k": plan.reclaim_t["k"] + 40.0}, plan.objective_cny, 0.65)
    assert {"stock_reclaim", "no_unmanaged_stock"} <= failed(report)


def test_flow_to_an_outlet_that_does_not_accept_the_stream_is_caught(solved):
    s, plan = solved
    f = next(f for f in plan.flows if f.stream == "s1" and f.destination == "L")
    wrong = f.model_copy(update={"destination": "Q", "destination_kind": "project", "kind": "reuse"})
    flows = [wrong if x is f else x for x in plan.flows]
    assert "permitted" in failed(audit_plan(s, flows, plan.reclaim_t, plan.objective_cny, 0.65))


def test_flow_over_a_prohibited_route_or_at_a_wrong_tariff_is_caught():
    # two sites 10 km apart at 1 + 0.5 CNY/t/km: a flow A -> B costs 6 CNY/t
    data = {
        "id": "routes",
        "policy": {"target_rate": 0.0},
        "transport": {"fixed_cny_per_t": 1, "variable_cny_per_t_km": 0.5},
        "sites": [{"id": "A"}, {"id": "B"}],
        "distances": [{"from_site": "A", "to_site": "B", "distance_km": 10}],
        "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}],
        "projects": [{"id": "P", "site": "B", "capacity_t": 100, "product_fraction": 1, "revenue_cny_per_t": 20}],
        "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 50}],
        "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}],
    }
    s = make(data)
    plan = run(s)
    f = next(f for f in plan.flows if f.destination == "P")
    assert f.transport_cny == pytest.approx(600)
    assert audit_plan(s, plan.flows, plan.reclaim_t, plan.objective_cny, 0.0).passed
    cheap = [f.model_copy(update={"transport_cny": 500.0}) if x is f else x for x in plan.flows for f in [x]]
    assert "permitted" in failed(audit_plan(s, cheap, plan.reclaim_t, plan.objective_cny - 100, 0.0))
    closed = make({**data, "routes": [{"id": "r", "from_site": "A", "to_site": "B", "prohibited": True}]})
    assert "permitted" in failed(audit_plan(closed, plan.flows, plan.reclaim_t, plan.objective_cny, 0.0))
