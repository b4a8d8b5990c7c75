"""Issue-3 behaviour: valid ranges at their edges, why-not break-evens, diagnosis that fixes."""

from __future__ import annotations

import json
import re

import pytest
from support import PARK_2025, make
from test_shadow_prices import relaxed

from flowopt.errors import InfeasibleError
from flowopt.io import load_scenario
from flowopt.pipeline import run
from flowopt.schema import Scenario

TONNAGE = {"project_capacity", "project_min_intake", "sink_capacity", "route_capacity", "stock_reclaim_limit", "market_demand"}


def cost(s: Scenario) -> float:
    return run(s).objective_cny


def basis(s: Scenario):
    """The optimal simplex basis of the scenario's LP (same layout for the same network)."""
    from flowopt.formulation import assemble
    from flowopt.graph import build_graph
    from flowopt.solve import Session

    session = Session(assemble(build_graph(s)))
    session.solve().raise_for_status()
    return session.basis()


def keeps(s: Scenario, base) -> bool:
    """True when ``base`` (a basis of the same network) is still optimal for ``s``: HiGHS,
    started from it, stops without a pivot.

    Asked this way rather than by comparing with a cold solve's basis, because a degenerate
    vertex has several optimal bases and a cold solve may pick another (the two lots of W15
    kept out of backfill R07 by a ``max 0`` limit, with equal cost).
    """
    from flowopt.formulation import assemble
    from flowopt.graph import build_graph
    from flowopt.solve import Session

    session = Session(assemble(build_graph(s)))
    session.set_basis(base)
    outcome = session.solve()
    outcome.raise_for_status()
    return outcome.iterations == 0


def _check_tonnage_edges(s: Scenario, plan) -> int:
    """Inside the range the cost is linear with slope = price; past the edge the slope differs."""
    checked = 0
    for card in plan.bottlenecks:
        if card.kind not in TONNAGE:
            continue
        down = card.kind == "project_min_intake"
        edge = card.valid_from if down else card.valid_to
        if edge is None:
            continue
        move = abs(edge - card.limit)
        if move < 1.0:
            continue
        inside = cost(relaxed(s, card, move * 0.999))
        assert (plan.objective_cny - inside) / (move * 0.999) == pytest.approx(card.shadow_price, rel=1e-6, abs=1e-6), card.constraint
        step = max(1.0, move * 0.01)
        at_edge = cost(relaxed(s, card, move))
        beyond = cost(relaxed(s, card, move + step))
        slope_beyond = (at_edge - beyond) / step
        assert slope_beyond != pytest.approx(card.shadow_price, rel=1e-4, abs=1e-6), (card.constraint, slope_beyond)
        checked += 1
    return checked


def test_tonnage_ranges_hold_inside_and_end_at_the_edge_tiny():
    s = make()
    plan = run(s)
    assert _check_tonnage_edges(s, plan) >= 1


@pytest.mark.slow
def test_tonnage_ranges_hold_inside_and_end_at_the_edge_park(park_plan):
    s = load_scenario(PARK_2025)
    assert _check_tonnage_edges(s, park_plan) >= 5


def to_points(card, value: float) -> float:
    """Percentage points by which ``relaxed`` must move the card's limit to reach ``value``."""
    down = card.kind in ("target", "quality_min", "firm_target")  # these relax downward
    return ((card.limit - value) if down else (value - card.limit)) * 100


@pytest.mark.slow
def test_fraction_and_target_ranges_keep_the_basis_inside_and_change_it_beyond(park_plan):
    s = load_scenario(PARK_2025)
    base = basis(s)
    cards = [b for b in park_plan.bottlenecks if b.kind not in TONNAGE]
    assert any(b.kind == "target" for b in cards)
    for card in cards:
        for edge, sign in ((card.valid_to, +1), (card.valid_from, -1)):
            if edge is None or edge in (0.0, 1.0) or abs(edge - card.limit) < 1e-4:
                continue
            inside = edge - sign * 1e-4
            outside = edge + sign * 1e-3
            assert keeps(relaxed(s, card, to_points(card, inside)), base), (card.constraint, inside)
            assert not keeps(relaxed(s, card, to_points(card, outside)), base), (card.constraint, outside)


def test_target_marginal_cost_matches_the_target_card(park_plan):
    tm = park_plan.target_marginal_cost
    card = next(b for b in park_plan.bottlenecks if b.kind == "target")
    assert tm.cny_per_point == pytest.approx(card.shadow_price)
    assert tm.valid_from_target < park_plan.target < tm.valid_to_target
    assert park_plan.max_utilization_rate >= park_plan.utilization_rate - 1e-9


def _with_cost(s: Scenario, project: str, delta: float) -> Scenario:
    rows = tuple(p.model_copy(update={"processing_cost_cny_per_t": p.processing_cost_cny_per_t + delta}) if p.id == project else p for p in s.projects)
    return s.model_copy(update={"projects": rows})


def _intake(plan, project: str) -> float:
    return next(o.intake_t for o in plan.outlet_loads if o.outlet == project)


@pytest.mark.slow
def test_unused_project_enters_just_past_its_break_even(park_plan):
    s = load_scenario(PARK_2025)
    unused = [w for w in park_plan.why_not if w.status == "unused" and w.break_even_cny_per_t]
    assert unused, "the bundled data has an unused project"
    for w in unused:
        be = w.break_even_cny_per_t
        margin = max(0.01, be * 1e-3)
        assert _intake(run(_with_cost(s, w.subject, -(be - margin))), w.subject) == pytest.approx(0, abs=1e-6)
        assert _intake(run(_with_cost(s, w.subject, -(be + margin))), w.subject) > 1.0


def test_why_not_on_a_hand_network():
    # At a 0 % target nothing needs Q (20 CNY/t). Its cheapest use is reclaimed stock (1 CNY/t
    # to dig, 20 to process, no alternative cost): it enters once its cost falls by more than
    # 21 CNY/t. Via s2 it would need P to run (10 instead of the landfill's 5 per t of s1, for
    # 0.4 t of s2 that would otherwise cost 5): 10 + 0.4 (20 - cut) < 5 + 0.4 * 5, cut > 32.5.
    s = make(policy={"target_rate": 0.0})
    plan = run(s)
    q = next(w for w in plan.why_not if w.subject == "Q")
    assert q.status == "unused"
    assert q.break_even_cny_per_t == pytest.approx(21.0, abs=1e-3)
    assert q.entering_stream == "old"
    assert _intake(run(_with_cost(s, "Q", -21.05)), "Q") > 0
    assert _intake(run(_with_cost(s, "Q", -20.95)), "Q") == pytest.approx(0, abs=1e-9)


def apply_relaxations(s: Scenario, relaxations) -> Scenario:
    """Return the scenario with every proposed relaxation applied."""
    for r in relaxations:
        if r.kind == "project_capacity":
            s = s.model_copy(update={"projects": tuple(p.model_copy(update={"capacity_t": r.proposed}) if p.id == r.subject else p for p in s.projects)})
        elif r.kind == "project_min_intake":
            s = s.model_copy(update={"projects": tuple(p.model_copy(update={"min_intake_t": r.proposed}) if p.id == r.subject else p for p in s.projects)})
        elif r.kind == "sink_capacity":
            s = s.model_copy(update={"sinks": tuple(d.model_copy(update={"capacity_t": r.proposed}) if d.id == r.subject else d for d in s.sinks)})
        elif r.kind == "route_capacity":
            s = s.model_copy(update={"routes": tuple(x.model_copy(update={"capacity_t": r.proposed}) if x.id == r.subject else x for x in s.routes)})
        elif r.kind == "stock_reclaim_limit":
            s = s.model_copy(update={"stockpiles": tuple(k.model_copy(update={"max_reclaim_t": r.proposed, "stock_t": max(k.stock_t, r.proposed)}) if k.id == r.subject else k for k in s.stockpiles)})
        elif r.kind in ("quality_max", "quality_min"):
            project, comp = r.subject.split(":", 1)
            field = "max_fraction" if r.kind == "quality_max" else "min_fraction"
            s = s.model_copy(update={"quality": tuple(q.model_copy(update={field: r.proposed}) if q.project == project and q.component == comp else q for q in s.quality)})
        elif r.kind == "feed_share":
            outlet, stream = r.subject.split(":", 1)
            s = s.model_copy(update={"accepts": tuple(a.model_copy(update={"max_share": r.proposed}) if a.outlet == outlet and a.stream == stream else a for a in s.accepts)})
        elif r.kind == "target":
            s = s.model_copy(update={"policy": s.policy.model_copy(update={"target_rate": r.proposed})})
        elif r.kind == "market_demand":
            s = s.model_copy(update={"markets": tuple(m.model_copy(update={"limit_t": r.proposed}) if m.id == r.subject else m for m in s.markets)})
        elif r.kind == "firm_target":
            s = s.model_copy(update={"firms": tuple(f.model_copy(update={"target_rate": r.proposed}) if f.id == r.subject else f for f in s.firms)})
    return s


@pytest.mark.slow
def test_unreachable_target_names_capacities_and_its_relaxation_makes_it_feasible():
    s = load_scenario(PARK_2025)
    with pytest.raises(InfeasibleError) as info:
        run(s, target_rate=0.95)
    d = info.value.diagnosis
    assert d.max_rate < 0.95
    assert d.relaxations and all(r.kind != "target" for r in d.relaxations)
    assert any(f.kind == "project_capacity" for f in d.conflict)
    assert any(f.kind == "min_cut" and f.where for f in d.min_cut)
    assert all(r.where for r in d.relaxations if r.kind == "project_capacity")
    fixed = apply_relaxations(s, d.relaxations)
    plan = run(fixed, target_rate=0.95)
    assert plan.utilization_rate >= 0.95 - 1e-7 and plan.audit.passed


def test_relaxation_of_a_quality_limit_and_the_target_on_a_hand_network():
    # the cement line needs TiO2 <= 2 %: only slag_b (5 %) ... nothing qualifies; the elastic
    # re-solve must loosen the limit (or expand) to reach a 75 % target
    from support import BLEND

    s = make(BLEND, policy={"target_rate": 0.75}, quality=[{"project": "cement", "component": "TiO2", "max_fraction": 0.02}])
    with pytest.raises(InfeasibleError) as info:
        run(s)
    d = info.value.diagnosis
    assert any(f.kind == "quality_screen" for f in d.screens)
    assert any(r.kind == "quality_max" for r in d.relaxations)
    plan = run(apply_relaxations(s, d.relaxations))
    assert plan.utilization_rate >= 0.75 - 1e-7


def test_no_internal_names_leak_into_explanations(park_plan):
    texts = [b.explanation for b in park_plan.bottlenecks] + [b.explanation_zh for b in park_plan.bottlenecks]
    texts += [w.explanation for w in park_plan.why_not] + [w.explanation_zh for w in park_plan.why_not]
    for t in texts:
        assert not re.search(r"lot_balance|project_capacity|quality_max|feed_share|flow_t|\[|gen:|res:", t), t


@pytest.mark.slow
def test_cli_explain_and_infeasible_json(capsys):
    # in-process: the command line's own code, without a new interpreter per call
    from flowopt.cli import main

    def cli(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = cli("explain", "--json")
    assert code == 0, err
    doc = json.loads(out)
    for key in ("bottlenecks", "why_not", "target_marginal_cost", "max_utilization_rate"):
        assert key in doc
    assert doc["bottlenecks"][0]["cny_at_stake"] is not None
    code, out, err = cli("solve", "--target", "0.95", "--json")
    assert code == 1
    diag = json.loads(out)["diagnosis"]
    assert diag["relaxations"] and diag["conflict"] and diag["max_rate"] < 0.95
    code, out, err = cli("explain", "--target", "0.95", "--lang", "zh")
    assert code == 1 and "目标无法实现" in err and "产能" in err
