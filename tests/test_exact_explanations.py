"""Exact explanations, checked against HiGHS and against independent re-solves.

* Valid ranges of limits that sit in coefficients (quality, shares, the target) come from the
  basis factorization (flowopt.sensitivity). HiGHS itself confirms them: re-solved from the
  optimal basis just inside an edge it needs no pivot, just outside it does.
* Why-not break-evens come from a parametric walk in the cost: a cold solve with the project's
  costs cut by slightly less than the break-even leaves its intake as it was, slightly more
  raises it.
* The target–cost curve's breakpoints are exactly the kinks: inside each segment the slope of
  the least cost (finite differences of cold solves) equals the target's price, and across
  each breakpoint it jumps.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace

import numpy as np
import pytest
from support import PARK_2025, TINY, make

from flowopt.checks import validated
from flowopt.errors import FlowoptError, InfeasibleError
from flowopt.formulation import FAMILIES, assemble
from flowopt.graph import build_graph
from flowopt.io import load_scenario
from flowopt.pipeline import run
from flowopt.sensitivity import limit_range
from flowopt.solve import Session
from flowopt.sweep import target_cost_curve
from flowopt.synthetic import random_park


def _random(seed: int):
    data = random_park([4, 6, 10, 16][seed % 4], seed)
    try:
        s = validated(data)
        build_graph(s)
    except FlowoptError:
        return None
    return s


def _coefficient_edges(s):
    """(family, key, edge, side, base session) for every interior edge of every binding coefficient limit."""
    g = build_graph(s)
    lp = assemble(g)
    session = Session(lp)
    out = session.solve()
    if not out.ok:
        return []
    view = session.basis_view()
    edges = []
    for name in ("quality_max", "quality_min", "feed_share", "target"):
        fam = FAMILIES[name]
        block = lp.rows[name]
        for i, key in enumerate(block.keys):
            row = block.start + i
            if abs(out.row_dual[row]) < 1e-6:
                continue
            par = fam.parametric(lp.network, key)
            lo, hi = limit_range(view, session.lp, row, par, fam.sense)
            for change, side in ((lo, -1), (hi, +1)):
                if change.kind != "bound" and change.at is not None and abs(change.at - par.theta) > 1e-6:
                    edges.append((fam, key, row, par, change.at, side))
    return [(session, *e) for e in edges]


def _pivots_from_base(session, fam, row, par, theta) -> tuple[bool, int]:
    """Re-solve a copy at limit value ``theta`` from the original optimal basis."""
    from flowopt.bottlenecks import parametric_apply

    copy_ = session.clone()
    parametric_apply(copy_, row, replace(par), fam.sense)(theta)
    copy_.set_basis(session.basis())
    out = copy_.solve()
    return out.ok, out.iterations


@pytest.mark.parametrize("seed", range(200))
def test_coefficient_ranges_are_confirmed_by_highs_at_their_edges(seed):
    s = _random(seed)
    if s is None:
        pytest.skip("this seed gives a network the checks refuse")
    for session, fam, _key, row, par, edge, side in _coefficient_edges(s):
        ok_in, pivots_in = _pivots_from_base(session, fam, row, par, edge - side * 1e-7)
        assert ok_in and pivots_in == 0, (fam.name, edge, "a pivot was needed inside the range")
        ok_out, pivots_out = _pivots_from_base(session, fam, row, par, edge + side * 1e-5)
        assert (not ok_out) or pivots_out > 0, (fam.name, edge, "the basis was still optimal beyond the edge")


def _with_project_cut(s, project: str, cut: float):
    rows = tuple(p.model_copy(update={"processing_cost_cny_per_t": p.processing_cost_cny_per_t - cut}) if p.id == project else p for p in s.projects)
    return s.model_copy(update={"projects": rows})


def _intake(plan, project: str) -> float:
    return next(o.intake_t for o in plan.outlet_loads if o.outlet == project)


@pytest.mark.parametrize("seed", range(0, 200, 4))
def test_why_not_break_evens_are_exact_for_idle_and_partly_used_projects(seed):
    s = _random(seed)
    if s is None:
        pytest.skip("this seed gives a network the checks refuse")
    try:
        plan = run(s)
    except InfeasibleError:
        pytest.skip("target out of reach for this seed")
    for w in plan.why_not:
        if w.kind != "project" or w.break_even_cny_per_t is None:
            continue
        be = w.break_even_cny_per_t
        margin = max(1e-4, 1e-6 * be)
        before = _intake(run(_with_project_cut(s, w.subject, be - margin), explain=False), w.subject)
        after = _intake(run(_with_project_cut(s, w.subject, be + margin), explain=False), w.subject)
        tol = max(1e-3, 1e-7 * w.capacity_t)
        assert before <= w.intake_t + tol, (w.subject, be, before, w.intake_t)
        assert after > w.intake_t + tol, (w.subject, be, after, w.intake_t)


def test_a_partly_used_project_gets_its_true_break_even():
    # the reported break-even used to be the smallest reduced cost of the project's unused arcs,
    # which overstates it when a smaller cut already moves more of a stream it takes
    plan = run(PARK_2025)
    r07 = next(w for w in plan.why_not if w.subject == "R07")
    assert r07.status == "below_capacity"
    s = load_scenario(PARK_2025)
    be = r07.break_even_cny_per_t
    assert _intake(run(_with_project_cut(s, "R07", be - 1e-4), explain=False), "R07") == pytest.approx(r07.intake_t, abs=1e-3)
    assert _intake(run(_with_project_cut(s, "R07", be + 1e-4), explain=False), "R07") > r07.intake_t + 1.0


def _cost(s, t: float) -> float:
    return run(s, target_rate=t, explain=False).objective_cny


def test_the_bundled_curve_finds_every_kink():
    s = load_scenario(PARK_2025)
    curve = target_cost_curve(s, 0.5, 0.74, step=0.01)
    # before issue 15 also 0.63945 and 0.72548; GB 18599's class-II limit on backfill R07 changed
    # which limits bind from 63.8 % to 72.9 % (kinks 0.63786, 0.72867, 0.72887, 0.73570). The
    # cement-retarder market (issue 15: at most 300,000 t/yr of retarder, so R10 takes at most
    # 416,667 instead of 500,000 t/yr of Ti gypsum) takes 83,333 t of utilization out of every plan
    # on the curve and moves every kink down by the same 0.4583 points (and the highest rate from
    # 73.68 % to 73.22 %). The four found again independently by a slope scan of cold re-solves
    # (grids of 0.25, 0.005 and 0.01 points, central differences, bisection on the slope change)
    expected = [0.633278, 0.724087, 0.724287, 0.731117]
    for b in expected:
        assert min(abs(b - x) for x in curve.breakpoints) < 1e-4, (b, curve.breakpoints)
    assert curve.max_rate == pytest.approx(0.732216, abs=1e-6)
    # the highest rate, checked without Dinkelbach: just below it a plan exists, just above none
    run(s, target_rate=curve.max_rate - 1e-6, explain=False)
    with pytest.raises(InfeasibleError):
        run(s, target_rate=curve.max_rate + 1e-5, explain=False)
    # every breakpoint is a kink: the slope of the least cost jumps across it
    h = 2e-6
    for b in curve.breakpoints:
        left = (_cost(s, b - h) - _cost(s, b - 2 * h)) / (h * 100)
        right = (_cost(s, b + 2 * h) - _cost(s, b + h)) / (h * 100)
        assert abs(right - left) > 1e-3 * max(1.0, abs(left)), (b, left, right)


def test_no_segment_of_the_curve_hides_a_kink():
    s = load_scenario(PARK_2025)
    curve = target_cost_curve(s, 0.5, 0.74, step=0.01)
    for seg in curve.segments:
        width = seg.end_target - seg.start_target
        if width < 1e-4:
            continue
        for frac in (0.2, 0.5, 0.8):
            t = seg.start_target + frac * width
            h = min(1e-6, width / 50)
            slope = (_cost(s, t + h) - _cost(s, t - h)) / (2 * h * 100)
            card = next((b for b in run(s, target_rate=t, explain=False).bottlenecks if b.kind == "target"), None)
            assert slope == pytest.approx(card.shadow_price if card else 0.0, rel=1e-4, abs=1.0), (seg.index, t)


@pytest.mark.parametrize("seed", range(0, 200, 10))
def test_random_curves_have_a_breakpoint_at_every_kink(seed):
    s = _random(seed)
    if s is None:
        pytest.skip("this seed gives a network the checks refuse")
    curve = target_cost_curve(s, 0.0, 1.0, step=0.05)
    if not curve.points:
        pytest.skip("no reachable target")
    top = min(curve.max_rate or 1.0, 1.0)  # a disposal-only rate can exceed 1; targets cannot
    # dense independent solves: between breakpoints the slope is continuous (no jump larger
    # than the grid's second-order change), across a breakpoint it jumps
    grid = np.linspace(0.0, top, 41)[1:-1]
    for a, b in itertools.pairwise(grid):
        inside = [x for x in curve.breakpoints if a - 1e-9 <= x <= b + 1e-9]
        if inside:
            continue
        mid = (a + b) / 2
        h = (b - a) / 4
        left = (_cost(s, mid) - _cost(s, mid - h)) / h
        right = (_cost(s, mid + h) - _cost(s, mid)) / h
        scale = max(1.0, abs(left), abs(right))
        # a kink inside [a, b] would show as a jump of the one-sided slopes; smooth curvature
        # (the target in the rate's denominator) changes them only a little over h
        assert abs(right - left) <= 0.05 * scale + 1e-3, (a, b, left, right, curve.breakpoints)


def test_no_utilizing_outlet_reachable_gives_a_plan_at_0_and_a_diagnosis_above():
    data = copy.deepcopy(TINY)
    data["accepts"] = [{"outlet": "L", "stream": "*"}]
    s = make(data)
    plan = run(s, target_rate=0.0)
    assert plan.utilization_rate == 0.0 and plan.audit.passed
    assert plan.target_marginal_cost is not None
    with pytest.raises(InfeasibleError) as info:
        run(s, target_rate=0.5)
    assert info.value.diagnosis.max_rate == 0.0


def test_a_hard_time_limit_bounds_the_diagnosis_including_the_conflict_search():
    # on this park HiGHS's irreducible-infeasible-subset search takes seconds (and grows fast
    # with the park): with a 0.5 s limit the diagnosis still answers, saying it stopped
    import time

    from flowopt.diagnosis import diagnose, max_reachable_rate
    from flowopt.solve import SolveOptions

    s = validated(random_park(400, 3, rich=False))
    g = build_graph(s)
    best = max_reachable_rate(g)
    options = SolveOptions(time_limit_s=0.5)
    start = time.monotonic()
    d = diagnose(g, min(best + 1e-4, 1.0), options)
    elapsed = time.monotonic() - start
    assert elapsed < 20, elapsed
    assert [f.kind for f in d.conflict] == ["conflict_timeout"]
    assert "0.5 s" in d.conflict[0].message and d.conflict[0].message_zh
    assert d.max_rate == pytest.approx(best)


def test_cards_default_to_the_twenty_most_valuable_and_all_on_request(capsys):
    import json

    from flowopt.cli import main

    # a park with more than 20 binding limits: a random park with many projects
    s = validated(random_park(160, 5, rich=False))
    plan = run(s)
    n = len(plan.bottlenecks)
    assert n > 20
    import tempfile
    from pathlib import Path

    from flowopt.io import write_scenario

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_scenario(s, Path(tmp) / "park")
        assert main(["solve", str(folder), "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert [b["constraint"] for b in doc["bottlenecks"]] == [b.constraint for b in plan.bottlenecks[:20]]
        assert any("--cards all" in w for w in doc["warnings"])
        assert main(["solve", str(folder), "--json", "--cards", "all"]) == 0
        assert len(json.loads(capsys.readouterr().out)["bottlenecks"]) == n
