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
