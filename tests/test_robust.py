"""Robust builds (issue 13, item 3): the sample-average MILP, checked by hand, by brute force and out of sample.

The analytic case: one stream whose generation G is uniform on [A, B], a project P of existing
capacity C0 (all product, processing 10 CNY/t), a landfill (5 CNY/t) and one candidate X that
adds any capacity s to P at 20 CNY per t/yr of capital (lifetime 10 yr, discount rate 0: 2 CNY
per t/yr and year). The target T is met in a sample exactly when C0 + s ≥ T·G, so the least-cost
build set that meets it in k of the N training samples adds s = T·G_(k) − C0 (G_(k) the k-th
smallest training value), and its out-of-sample probability is (G_(k) − A) / (B − A). Every
expected answer below is computed here by hand or by enumerating build sets, never by flowopt's MILP.
"""

from __future__ import annotations

import copy
import itertools
import json
import math

import numpy as np
import pytest

from flowopt.checks import validated
from flowopt.cli import main
from flowopt.errors import InputError
from flowopt.formulation import assemble
from flowopt.formulation.reference import saa_differences
from flowopt.graph import build_graph
from flowopt.risk import run_risk, with_candidates_built
from flowopt.robust import (
    DEFAULT_CONFIDENCE,
    DEFAULT_GAP,
    DEFAULT_TRAIN,
    robust_builds,
    training_draws,
)
from flowopt.solve import Session, SolveOptions, SolveStatus
from flowopt.synthetic import random_park
from flowopt.uncertainty import resolve

A, B, C0, T = 80.0, 130.0, 40.0, 0.7
ANNUAL_PER_T = 20.0 / 10  # capital per t/yr over 10 years at a discount rate of 0

ANALYTIC = {
    "id": "robust_analytic",
    "year": 2025,
    "policy": {"target_rate": T, "discount_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}],
    "projects": [{"id": "P", "site": "A", "capacity_t": C0, "processing_cost_cny_per_t": 10, "product_fraction": 1}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}],
    "candidates": [{"id": "X", "project": "P", "sizing": "size", "max_size_t": 100, "capital_cny_per_t": 20, "lifetime_yr": 10, "source": "the analytic case"}],
    "uncertainty": [{"id": "G", "path": "streams.s.generation_t", "distribution": "uniform", "low": A, "high": B, "source": "the analytic case"}],
}


def analytic(**changes):
    data = copy.deepcopy(ANALYTIC)
    data.update(copy.deepcopy(changes))
    return validated(data)


def training_values(s, train: int, seed: int) -> list[float]:
    inputs = resolve(s)
    return [v[0] for v in inputs.values(training_draws(train, len(inputs.drivers), seed, "lhs"))]


# ---------------------------------------------------------------------------------------------
# The analytic case, by hand
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("confidence", "train"), [(0.8, 64), (0.5, 20), (1.0, 10)])
def test_the_robust_size_covers_the_kth_training_sample_at_least_cost(confidence, train):
    s = analytic()
    r = robust_builds(s, confidence=confidence, train=train, samples=64, seed=3, workers=1, gap=1e-9)
    g = sorted(training_values(s, train, 3))
    k = math.ceil(confidence * train - 1e-9)
    size = T * g[k - 1] - C0
    assert r.status == "optimal" and r.required == k and r.met == k
    (x,) = r.robust.builds
    assert x.id == "X" and x.size_t == pytest.approx(size, rel=1e-7)
    # expected cost: capital per year + mean operating cost, every sample at 5 CNY/t to the
    # landfill and, in the k met ones (the k smallest: the cheapest to meet), T·G more at +5 CNY/t
    hand = ANNUAL_PER_T * size + (sum(5 * x for x in g) + sum(5 * T * x for x in g[:k])) / train
    assert r.objective_cny == pytest.approx(hand, rel=1e-7)
    assert r.robust.train_reached == k  # G_(k+1) > G_(k): the next sample is just out of reach
    assert r.robust.expected_cost_cny == pytest.approx(hand, rel=1e-7)


def test_the_robust_set_holds_out_of_sample_and_the_deterministic_one_does_not():
    s = analytic()
    c = 0.8
    r = robust_builds(s, confidence=c, train=64, samples=256, seed=1, workers=1)
    p, q = r.robust.probability, r.deterministic.probability
    se = math.sqrt(c * (1 - c) / p.n)
    assert p.n == 256 and p.estimate >= c - 3 * se, (p, se)
    # the truth for the size chosen, by hand, lies in the interval
    truth = ((r.robust.builds[0].size_t + C0) / T - A) / (B - A)
    assert p.low <= truth <= p.high
    # flowopt invest builds for G = 100 only: s = 30, reaching the target when G <= 100, P = 0.4
    assert [b.size_t for b in r.deterministic.builds] == [pytest.approx(T * 100 - C0)]
    assert q.low <= 0.4 <= q.high and q.estimate < p.estimate
    assert r.deterministic.expected_cost_cny is None  # it meets the target in fewer than k training samples


def test_same_seed_same_answer_another_seed_other_training_samples():
    s = analytic()
    a = robust_builds(s, confidence=0.7, train=32, samples=64, seed=5, workers=1)
    b = robust_builds(s, confidence=0.7, train=32, samples=64, seed=5, workers=1)
    keep = lambda r: r.model_dump(exclude={"seconds", "solver"})  # noqa: E731
    assert keep(a) == keep(b)
    c = robust_builds(s, confidence=0.7, train=32, samples=64, seed=6, workers=1)
    assert c.robust.builds[0].size_t != a.robust.builds[0].size_t
    # the training samples are not the fresh ones: another draw stream for the same seed
    fresh = [r.values[0] for r in run_risk(s, samples=32, seed=5, tolerance=0, workers=1, tornado=False).rows]
    assert set(training_values(s, 32, 5)).isdisjoint(fresh)


def test_an_unreachable_confidence_gives_the_set_meeting_the_most_samples():
    # X adds at most 30 t: C0 + 30 = 70 covers T·G only for G <= 100, 40 % of the samples
    s = analytic(candidates=[{**ANALYTIC["candidates"][0], "max_size_t": 30}])
    r = robust_builds(s, confidence=0.9, train=40, samples=64, seed=2, workers=1)
    g = training_values(s, 40, 2)
    reachable = sum(1 for x in g if T * x <= C0 + 30 + 1e-9)
    assert r.status == "infeasible" and r.met == reachable < r.required
    # the least-cost set meeting that many: just enough for the reachable ones
    assert r.robust.builds[0].size_t == pytest.approx(T * max(x for x in g if T * x <= C0 + 30 + 1e-9) - C0, rel=1e-7)
    assert "No build set meets" in r.statement and "没有任何建设方案" in r.statement_zh


def test_availability_factor_scales_what_is_built():
    # P's capacity available to a share f of nameplate (scale), G fixed at 100: C0·f + s·f ≥ 70
    unc = [{"id": "F", "path": "projects.P.capacity_t", "apply": "scale", "distribution": "uniform", "low": 0.6, "high": 1.0, "source": "the analytic case"}]
    s = analytic(uncertainty=unc)
    r = robust_builds(s, confidence=1.0, train=16, samples=32, seed=0, workers=1, gap=1e-9)
    inputs = resolve(s)
    f = [v[0] for v in inputs.values(training_draws(16, 1, 0, "lhs"))]
    assert r.robust.builds[0].size_t == pytest.approx(T * 100 / min(f) - C0, rel=1e-7)
    # the out-of-sample check applies the same rule
    sample = inputs.scenario_of([0.8])
    built = with_candidates_built(inputs, sample, [0.8], {"X": 50.0})
    assert {p.id: p.capacity_t for p in built.projects}["P"] == pytest.approx(0.8 * C0 + 0.8 * 50)


# ---------------------------------------------------------------------------------------------
# Brute force: every build subset × every training sample, each an LP
# ---------------------------------------------------------------------------------------------


def _tiny(seed: int):
    """A random park of 3-5 streams with 3 build-only candidates and uncertain generation and availability."""
    data = random_park((3, 5)[seed % 2], seed, candidates=3)
    for c in data["candidates"]:
        if c["sizing"] != "build":
            size = c.get("max_size_t") or c["module_t"] * c["max_modules"]
            for f in ("min_size_t", "max_size_t", "module_t", "max_modules"):
                c.pop(f, None)
            c["sizing"], c["size_t"] = "build", size
        c.pop("earliest_year", None)
    data["year"] = 2025
    gen = [st for st in data["streams"] if st.get("generation_t")]
    data["uncertainty"] = [{"id": f"G{i}", "path": f"streams.{st['id']}.generation_t", "apply": "scale", "distribution": "triangular", "low": 0.7, "mode": 1.0, "high": 1.3, "group": "gen", "source": "test"} for i, st in enumerate(gen[:2])]
    p0 = data["candidates"][0]["project"]
    data["uncertainty"].append({"id": "F", "path": f"projects.{p0}.capacity_t", "apply": "scale", "distribution": "uniform", "low": 0.7, "high": 1.0, "source": "test"})
    # a target between the rate without builds and with every candidate built
    s = validated(data)
    from flowopt.invest import fixed_scenario, max_rate_with_candidates

    top = max_rate_with_candidates(s)
    base = max_rate_with_candidates(fixed_scenario(s, {}))
    if top is None or base is None or top - base < 0.01:
        return None
    data["policy"]["target_rate"] = round(base + 0.6 * (top - base), 4)
    return validated(data)


def _lp_cost(s, with_target: bool) -> float | None:
    out = Session(assemble(build_graph(s), with_target=with_target)).solve()
    return out.objective if out.ok else None


def _brute_force(s, confidence: float, train: int, seed: int) -> float | None:
    from flowopt.formulation.families import capital_recovery_factor

    inputs = resolve(s)
    values = inputs.values(training_draws(train, len(inputs.drivers), seed, "lhs"))
    samples = [inputs.scenario_of(v) for v in values]
    k = math.ceil(confidence * train - 1e-9)
    cands = {c.id: c for c in s.candidates}
    best = None
    for mask in itertools.product((0, 1), repeat=len(cands)):
        chosen = [c for c, m in zip(sorted(cands), mask, strict=True) if m]
        groups = [cands[c].group for c in chosen if cands[c].group]
        capital = sum(cands[c].capital_cny + cands[c].capital_cny_per_t * cands[c].size_t for c in chosen)
        if len(groups) != len(set(groups)) or (s.policy.capital_budget_cny is not None and capital > s.policy.capital_budget_cny):
            continue
        annual = sum(capital_recovery_factor(s.policy.discount_rate, cands[c].lifetime_yr) * (cands[c].capital_cny + cands[c].capital_cny_per_t * cands[c].size_t) + cands[c].fixed_opex_cny_per_yr for c in chosen)
        free, extra = [], []
        for v, sample in zip(values, samples, strict=True):
            built = with_candidates_built(inputs, sample, v, {c: cands[c].size_t for c in chosen})
            f, m = _lp_cost(built, False), _lp_cost(built, True)
            assert f is not None
            free.append(f)
            if m is not None:
                extra.append(m - f)
        if len(extra) < k:
            continue
        cost = annual + (sum(free) + sum(sorted(extra)[:k])) / train
        best = cost if best is None else min(best, cost)
    return best


def test_the_saa_optimum_equals_brute_force_over_build_subsets_and_samples():
    checked = trivial = 0
    for seed in range(14):
        s = _tiny(seed)
        if s is None:
            continue
        train, confidence = 6, 0.5
        best = _brute_force(s, confidence, train, seed)
        r = robust_builds(s, confidence=confidence, train=train, samples=8, seed=seed, workers=1, gap=1e-9)
        if best is None:
            assert r.status == "infeasible", seed
            continue
        assert r.status == "optimal", seed
        assert r.objective_cny == pytest.approx(best, rel=1e-6, abs=1e-3), seed
        checked += 1
        trivial += not r.robust.builds
    assert checked >= 6 and trivial < checked


# ---------------------------------------------------------------------------------------------
# The formulation: the assembled MILP equals the Pyomo model
# ---------------------------------------------------------------------------------------------


def _samples(seed: int, n: int = 3):
    base = random_park((5, 8)[seed % 2], seed, candidates=2 + seed % 4)
    out = []
    for i in range(n):
        d = copy.deepcopy(base)
        for st in d["streams"]:
            if st.get("generation_t"):
                st["generation_t"] = round(st["generation_t"] * (0.85 + 0.15 * i))
        s = validated(d)
        out.append((i, build_graph(s), {s.candidates[0].project: 0.7 + 0.1 * i}))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_the_robust_build_milp_equals_the_pyomo_model(seed):
    assert saa_differences(_samples(seed), 2) == []


def test_a_wrong_availability_factor_is_found():
    samples = _samples(1)
    other = [(i, g, {p: f + 0.05 for p, f in factors.items()}) for i, g, factors in samples]
    from flowopt.formulation.reference import canonical_assembled, canonical_pyomo, compare
    from flowopt.formulation.saa import stack_samples
    from flowopt.model import build_saa_model

    lp = stack_samples([(i, assemble(g, investment=True), f) for i, g, f in samples], 2)
    diff = compare(canonical_assembled(lp), canonical_pyomo(build_saa_model(other, 2)))
    assert diff and all("project_capacity" in d for d in diff)


def test_the_stacked_milp_solves_to_the_same_optimum_as_pyomo_compiled_by_highs():
    # one more independent check: the Pyomo model written by Pyomo's LP writer and read by HiGHS
    import highspy

    from flowopt.formulation.saa import stack_samples
    from flowopt.model import build_saa_model

    samples = _samples(2)
    lp = stack_samples([(i, assemble(g, investment=True), f) for i, g, f in samples], 2)
    ours = Session(lp, SolveOptions(), mip_rel_gap=1e-9).solve()
    m = build_saa_model(samples, 2)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "saa.lp")
        m.write(path, io_options={"symbolic_solver_labels": False})
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.readModel(path)
        h.run()
    assert ours.status == SolveStatus.optimal
    assert h.getInfo().objective_function_value == pytest.approx(ours.objective, rel=1e-7)


# ---------------------------------------------------------------------------------------------
# Bounds, bad requests, the command line
# ---------------------------------------------------------------------------------------------


def test_the_size_bound_is_checked_before_any_sample_is_solved(monkeypatch):
    import flowopt.robust as robust

    monkeypatch.setattr(robust, "MAX_SAA_COLUMNS", 50)
    with pytest.raises(InputError) as err:
        robust_builds(analytic(), train=20, samples=8, workers=1)
    (p,) = err.value.problems
    assert p.column == "train" and "above the limit of 50" in p.message and "--train" in p.hint


def test_bad_requests_are_reported_all_at_once():
    with pytest.raises(InputError) as err:
        robust_builds(analytic(candidates=[]), confidence=1.5, train=0, samples=8)
    cols = {p.column for p in err.value.problems}
    assert {"confidence", "train"} <= cols and any(p.table == "candidates" for p in err.value.problems)


def test_cli_defaults_agree_with_the_library():
    from flowopt.cli import _parser

    args = _parser().parse_args(["risk", "--robust"])
    assert (args.confidence, args.train, args.gap) == (DEFAULT_CONFIDENCE, DEFAULT_TRAIN, DEFAULT_GAP)


@pytest.fixture
def analytic_dir(tmp_path):
    from flowopt.io import write_scenario

    folder = tmp_path / "analytic"
    write_scenario(analytic(), folder)
    return folder


def test_cli_risk_robust_json_text_and_out(analytic_dir, tmp_path, capsys):
    assert main(["risk", str(analytic_dir), "--robust", "--confidence", "0.8", "--train", "20", "--samples", "64", "--workers", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "optimal" and doc["required"] == 16 and doc["robust"]["probability"]["n"] == 64
    assert {"robust", "deterministic", "objective_cny", "met", "train"} <= set(doc)
    out = tmp_path / "out"
    assert main(["risk", str(analytic_dir), "--robust", "--confidence", "0.8", "--train", "20", "--samples", "64", "--workers", "1", "--lang", "zh", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "稳健建设方案" in text and "新样本达标概率" in text
    assert json.loads((out / "robust.json").read_text(encoding="utf-8"))["robust"]["builds"][0]["id"] == "X"
    assert (out / "robust_builds.csv").read_text(encoding="utf-8-sig").startswith("set,id,project,size_t")


def test_cli_risk_robust_refuses_builds_and_bad_values(analytic_dir, tmp_path, capsys):
    whatif = tmp_path / "w.yaml"
    whatif.write_text("id: w\nchanges:\n  - set: projects.P.capacity_t\n    value: 80\n", encoding="utf-8")
    assert main(["risk", str(analytic_dir), "--robust", "--builds", str(whatif)]) == 2
    assert "do not go together" in capsys.readouterr().err
    assert main(["risk", str(analytic_dir), "--robust", "--train", "5000", "--samples", "8"]) == 2
    assert "training samples must be" in capsys.readouterr().err


def test_flowopt_risk_reports_the_probability_with_the_plans_build_set():
    # issue 13 item 2: a scenario with candidates -> the probability with flowopt invest's builds
    r = run_risk(analytic(), samples=128, seed=4, tolerance=0, workers=1, tornado=False)
    (bs,) = r.build_sets
    assert bs.label == "invest" and bs.sizes_t == {"X": pytest.approx(T * 100 - C0)}
    assert r.probability_with_builds == bs.probability and "flowopt invest" in (r.builds or "")
    truth = (100 - A) / (B - A)  # reachable when G <= (C0 + 30) / T = 100
    assert bs.probability.low <= truth <= bs.probability.high
    for row in r.rows:
        g = row.values[0]
        assert row.max_rate_with_sets[0] == pytest.approx(min(C0 + 30, g) / g, rel=1e-9)
        assert row.max_rate == pytest.approx(min(C0, g) / g, rel=1e-9)
    assert np.isclose(r.probability.estimate, 0.0)  # C0 = 40 never reaches 70 % of at least 80


def test_flowopt_risk_says_why_without_a_plan_build_set():
    s = analytic(candidates=[{**ANALYTIC["candidates"][0], "max_size_t": 10}])  # 50 t < 70 % of 100
    r = run_risk(s, samples=64, seed=0, tolerance=0, workers=1, tornado=False)
    assert r.build_sets == [] and r.probability_with_builds is None
    assert r.notes and "no build set meets" in r.notes[0] and "任何建设方案都无法达到" in r.notes_zh[0]
    from flowopt.textreport import format_risk

    assert r.notes_zh[0] in format_risk(r, lang="zh") and r.notes[0] in format_risk(r)


def test_the_robust_build_model_components_are_documented():
    from support import ROOT

    from flowopt.model import build_saa_model

    doc = (ROOT / "models" / "README.md").read_text(encoding="utf-8")
    part = doc[doc.index("## 11. Investment decisions") : doc.index("## 12.")]
    m = build_saa_model(_samples(0, 2), 1)
    names = {c.local_name for c in m.component_objects(descend_into=False)}
    missing = sorted(n for n in names if f"`{n}" not in part)
    assert missing == [], missing


def test_stopping_early_waits_for_the_build_sets_interval_too():
    # the current network never reaches the target (its interval narrows at once); the plan's
    # build set reaches it with probability 0.4, whose interval needs about 400 samples to be 0.1 wide
    r = run_risk(analytic(), samples=4000, seed=1, tolerance=0.1, min_samples=64, workers=1, tornado=False)
    iv = r.build_sets[0].probability
    assert r.stopped_early and r.samples > 64 and iv.high - iv.low < 0.1
    fewer = r.rows[: r.samples - 64]
    k = sum(1 for x in fewer if x.max_rate_with_sets[0] >= T - 1e-9)
    from flowopt.risk import wilson

    less = wilson(k, len(fewer))
    assert less.high - less.low >= 0.1  # one block less was not narrow enough for the build set
