"""What-ifs: overrides, warm re-solves, comparison and the target-cost curve."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import PARK_2025, make

from flowopt.compare import compare_plans
from flowopt.errors import InputError
from flowopt.formulation import assemble
from flowopt.graph import build_graph
from flowopt.io import load_scenario, write_scenario
from flowopt.overrides import apply_overrides, load_whatif, parse_overrides
from flowopt.pipeline import run
from flowopt.sweep import target_cost_curve
from flowopt.whatif import WhatIfSession, run_whatif

THREE = """
id: three_changes
changes:
  - set: projects.R05.capacity_t
    value: 1000000
  - scale: projects.R01.revenue_cny_per_t
    factor: 0.7
  - set: policy.target_rate
    value: 0.68
"""


def _edit(path: Path, key: str, value: str, field: str, new) -> None:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for r in rows:
        if r[key] == value:
            r[field] = new(r[field])
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.mark.slow
def test_override_file_equals_editing_the_files_by_hand(tmp_path):
    over = tmp_path / "whatif.yaml"
    over.write_text(THREE, encoding="utf-8")
    via_overrides = run(load_whatif(over, PARK_2025))
    # the same three edits made in a copy of the files
    folder = write_scenario(load_scenario(PARK_2025), tmp_path / "edited")
    _edit(folder / "projects.csv", "id", "R05", "capacity_t", lambda _: "1000000")
    _edit(folder / "projects.csv", "id", "R01", "revenue_cny_per_t", lambda v: str(float(v) * 0.7))
    text = (folder / "scenario.yaml").read_text(encoding="utf-8").replace("target_rate: 0.7", "target_rate: 0.68")
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    by_hand = run(folder)
    assert via_overrides.objective_cny == pytest.approx(by_hand.objective_cny, rel=1e-12)
    assert [(f.stream, f.source, f.destination, round(f.tonnes, 6)) for f in via_overrides.flows] == [(f.stream, f.source, f.destination, round(f.tonnes, 6)) for f in by_hand.flows]


def test_invalid_overrides_list_every_problem():
    base = make()
    bad = parse_overrides({"changes": [
        {"set": "projects.PX.capacity_t", "value": 5},
        {"set": "projects.P.colour", "value": "red"},
        {"scale": "projects.P.name_en", "factor": 2},
        {"set": "policy.targt", "value": 0.5},
        {"set": "projects.Q.capacity_t", "value": -1},
        {"remove": "nowhere.X"},
    ]})
    with pytest.raises(InputError) as info:
        apply_overrides(base, bad, "w.yaml")
    text = str(info.value)
    assert "w.yaml, change 1, column set: no projects record has id 'PX'" in text
    assert "projects has no field 'colour'" in text
    assert "'scale' needs a numeric field" in text
    assert "unknown setting 'policy.targt'" in text
    assert "greater than or equal to 0" in text
    assert "does not start with a table name" in text
    with pytest.raises(InputError, match="exactly one of set, scale, add, remove, disable"):
        parse_overrides({"changes": [{"set": "projects.P.capacity_t", "scale": "x", "value": 1}]})
    with pytest.raises(InputError, match="Extra inputs"):
        parse_overrides({"changes": [{"frob": 1}]})


def test_add_remove_disable():
    base = make()
    ov = parse_overrides({"changes": [
        {"add": "projects", "record": {"id": "R", "site": "A", "capacity_t": 30, "processing_cost_cny_per_t": 1, "product_fraction": 1}},
        {"add": "accepts", "record": {"outlet": "R", "stream": "s1"}},
        {"remove": "projects.Q"},
        {"disable": "stockpiles.k"},
    ]})
    s = apply_overrides(base, ov)
    assert {p.id for p in s.projects} == {"P", "R"}
    assert all(a.outlet != "Q" for a in s.accepts)  # rows naming Q went with it
    assert next(k for k in s.stockpiles if k.id == "k").max_reclaim_t == 0


def _lp_arrays(lp):
    """Costs, row bounds and the dense matrix of a HiGHS LP (what HiGHS holds, read back)."""
    import scipy.sparse as sp

    a = lp.a_matrix_
    return np.asarray(lp.col_cost_), np.asarray(lp.row_lower_), np.asarray(lp.row_upper_), sp.csc_matrix((a.value_, a.index_, a.start_), shape=(lp.num_row_, lp.num_col_)).toarray()


def _assembled_arrays(lp):
    import scipy.sparse as sp

    return lp.col_cost, lp.row_lower, lp.row_upper, sp.csc_matrix((lp.a_value, lp.a_index, lp.a_start), shape=(lp.n_rows, lp.n_cols)).toarray()


@pytest.mark.slow
def test_warm_whatif_updates_the_lp_exactly_and_matches_a_cold_solve():
    base = load_scenario(PARK_2025)
    session = WhatIfSession(base)
    ov = parse_overrides({"changes": [
        {"set": "projects.R05.capacity_t", "value": 1000000},
        {"scale": "projects.R01.revenue_cny_per_t", "factor": 0.7},
        {"set": "policy.target_rate", "value": 0.68},
        {"set": "accepts[outlet=R02,stream=W03].max_share", "value": 0.4},
        {"scale": "streams.W03.generation_t", "factor": 1.05},
        {"set": "quality[project=R06,component=SO3].max_fraction", "value": 0.006},
        {"scale": "transport.variable_cny_per_t_km", "factor": 1.3},
        {"scale": "sinks.D01.fee_cny_per_t", "factor": 2},
        {"scale": "stockpiles.SP_W02.max_reclaim_t", "factor": 0.5},
    ]})
    whatif = apply_overrides(base, ov)
    warm = session.solve(whatif)
    assert session.stats.warm and session.stats.changed_costs > 0 and session.stats.changed_coefficients > 0
    fresh = assemble(build_graph(whatif))
    # what HiGHS holds after the in-place update, and the session's own copy, equal a fresh build
    for got, want in zip(_lp_arrays(session.session.h.getLp()), _assembled_arrays(fresh), strict=True):
        assert np.allclose(got, want, rtol=0, atol=1e-12)
    for got, want in zip(_assembled_arrays(session.session.lp), _assembled_arrays(fresh), strict=True):
        assert np.allclose(got, want, rtol=0, atol=1e-12)
    cold = run(whatif)
    assert warm.objective_cny == pytest.approx(cold.objective_cny, rel=1e-12)
    assert warm.audit.passed
    # the same limits bind at the same prices; the ranking by money at stake may differ when
    # the optimum is degenerate (warm and cold solves may end on different optimal bases,
    # whose valid ranges differ)
    assert sorted((b.constraint, round(b.shadow_price, 6)) for b in warm.bottlenecks) == sorted((b.constraint, round(b.shadow_price, 6)) for b in cold.bottlenecks)


def test_the_highest_reachable_rate_is_kept_only_while_it_cannot_change(monkeypatch):
    # a what-if that moves only the target or costs keeps the session's highest reachable
    # rate; one that moves a capacity computes it again; each equals a fresh run's
    import flowopt.whatif as whatif_module

    calls = []
    real = whatif_module.max_reachable_rate
    monkeypatch.setattr(whatif_module, "max_reachable_rate", lambda *a, **k: calls.append(1) or real(*a, **k))
    base = load_scenario(PARK_2025)
    session = WhatIfSession(base)

    def at(target: float, r06_t: float | None = None, cost_factor: float = 1.0):
        changes = [{"set": "policy.target_rate", "value": target}, {"scale": "projects.R01.processing_cost_cny_per_t", "factor": cost_factor}]
        if r06_t is not None:
            changes.append({"set": "projects.R06.capacity_t", "value": r06_t})
        return apply_overrides(base, parse_overrides({"changes": changes}))

    cases = [at(0.66), at(0.69), at(0.70, cost_factor=1.3), at(0.68, r06_t=2_500_000), at(0.67, r06_t=2_500_000), at(0.66)]
    got = [session.solve(w).max_utilization_rate for w in cases]
    assert len(calls) == 2  # the bundled base's network, then the smaller R06
    for w, rate in zip(cases, got, strict=True):
        assert rate == pytest.approx(run(w).max_utilization_rate, abs=1e-9)
    assert got[3] < got[0] - 1e-4  # the capacity change did lower it


def test_structural_change_rebuilds():
    base = make()
    session = WhatIfSession(base)
    s = apply_overrides(base, parse_overrides({"changes": [{"remove": "projects.Q"}, {"set": "policy.target_rate", "value": 0.3}]}))
    plan = session.solve(s)
    assert not session.stats.warm
    assert plan.objective_cny == pytest.approx(run(s).objective_cny)


def test_comparing_a_plan_with_itself_shows_no_change():
    result = run_whatif(make(), make())
    assert result.comparison.unchanged
    assert result.comparison.flows == [] and result.comparison.bottlenecks == []
    assert result.stats.warm and result.stats.simplex_iterations == 0


def test_comparison_explains_the_cost_difference():
    base = make()
    w = apply_overrides(base, parse_overrides({"changes": [{"set": "sinks.L.fee_cny_per_t", "value": 7}]}))
    c = compare_plans(run(base), run(w))
    fees = next(r for r in c.cost_terms if r.metric == "disposal_fees_cny")
    # 50 t go to the landfill in the base plan: +2 CNY/t
    assert c.cost_delta_cny == pytest.approx(sum(r.delta for r in c.cost_terms))
    assert fees.delta == pytest.approx(c.cost_delta_cny)
    assert "disposal fees" in c.explanation


@pytest.mark.slow
def test_target_cost_curve_breakpoints_and_slopes_agree_with_independent_solves():
    s = load_scenario(PARK_2025)
    curve = target_cost_curve(s, 0.55, 0.9, step=0.01)
    costs = [p.objective_cny for p in curve.points]
    assert all(b >= a - 1e-6 * max(1.0, abs(a)) for a, b in itertools.pairwise(costs))  # non-decreasing
    assert curve.max_rate == pytest.approx(run(s).max_utilization_rate)
    assert curve.breakpoints and curve.points[-1].target == pytest.approx(curve.max_rate)

    def binding(t: float) -> list[str]:
        return sorted(b.constraint for b in run(s, target_rate=t, explain=False).bottlenecks)

    # a fine grid of independent solves: the binding set inside each segment is the segment's
    for seg in curve.segments:
        width = seg.end_target - seg.start_target
        for frac in (0.1, 0.5, 0.9):
            t = seg.start_target + frac * width
            if width > 2e-4:
                assert binding(t) == seg.binding, (seg.index, t)
        # the slope at the middle of the segment is the target's shadow price there
        mid = (seg.start_target + seg.end_target) / 2
        h = min(1e-5, width / 10)
        if width > 1e-4:
            slope = (run(s, target_rate=mid + h, explain=False).objective_cny - run(s, target_rate=mid - h, explain=False).objective_cny) / (2 * h) / 100
            card = next((b for b in run(s, target_rate=mid, explain=False).bottlenecks if b.kind == "target"), None)
            assert slope == pytest.approx(card.shadow_price if card else 0.0, rel=1e-3, abs=1.0)
    # and the slope jumps across each breakpoint (a kink; the binding limits need not change:
    # an arc that starts or stops carrying bends the curve too)
    for b in curve.breakpoints:
        h = 2e-6
        left = (run(s, target_rate=b - h, explain=False).objective_cny - run(s, target_rate=b - 2 * h, explain=False).objective_cny) / (h * 100)
        right = (run(s, target_rate=b + 2 * h, explain=False).objective_cny - run(s, target_rate=b + h, explain=False).objective_cny) / (h * 100)
        assert abs(right - left) > 1e-3 * max(1.0, abs(left)), (b, left, right)


@pytest.mark.slow
def test_cli_compare_and_sweep(tmp_path):
    over = tmp_path / "whatif.yaml"
    over.write_text(THREE, encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "flowopt.cli", "compare", str(PARK_2025), str(over), "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["solve"]["warm"] is True and doc["comparison"]["flows"]
    out = tmp_path / "curve"
    res = subprocess.run([sys.executable, "-m", "flowopt.cli", "sweep", "--from", "0.6", "--to", "0.8", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "Breakpoints:" in res.stdout
    assert {p.name for p in out.iterdir()} == {"curve.csv", "segments.csv", "curve.svg", "curve.png", ".flowopt-outputs.json"}
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cmp = tmp_path / "cmp"
    res = subprocess.run([sys.executable, "-m", "flowopt.cli", "compare", str(PARK_2025), str(over), "--out", str(cmp)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (cmp / "comparison.png").stat().st_size > 10_000 and (cmp / "comparison.json").is_file()


def test_bundled_whatif_files_apply_cleanly():
    from flowopt.batch import load_batch

    items, base_path = load_batch(PARK_2025 / "whatifs" / "batch.yaml")
    base = load_scenario(base_path)
    assert [i.id for i in items] == ["haorun_slips", "slag_prices_down", "second_tailings_line", "target_72"]
    for item in items:
        s = apply_overrides(base, item.overrides)
        assert s.id == item.id


def test_removing_a_site_removes_what_stands_there_and_what_names_that():
    from flowopt.pipeline import default_data_dir

    base = load_scenario(default_data_dir())
    s = apply_overrides(base, parse_overrides({"changes": [{"remove": "sites.N08"}]}))
    gone = {p.id for p in base.projects if p.site == "N08"}
    assert gone and not gone & {p.id for p in s.projects}
    assert not gone & {a.outlet for a in s.accepts}
