"""flowopt risk (issue 13): uncertain inputs, sampling, the probability of the target, engines.

The analytic case: one stream whose generation G is uniform on [A, B], one project of fixed
capacity C (all product, booked as utilization) and a landfill. The highest reachable rate is
min(C, G) / G, so the target T is reachable exactly when G ≤ C / T:
P = (C/T − A) / (B − A), computed here by hand, never by flowopt.
"""

from __future__ import annotations

import copy
import json
import math
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from support import PARK_2025

from flowopt.checks import validated
from flowopt.errors import InputError
from flowopt.io import load_scenario
from flowopt.overrides import parse_overrides
from flowopt.risk import (
    BLOCK,
    DEFAULT_TOLERANCE,
    MAX_SAMPLES,
    MIN_SAMPLES,
    _Job,
    run_risk,
    solve_block,
    spearman,
    wilson,
)
from flowopt.uncertainty import draws, resolve, uncertainty_problems

A, B, C, T = 80.0, 130.0, 70.0, 0.7
TRUTH = (C / T - A) / (B - A)  # 0.4

ANALYTIC = {
    "id": "analytic",
    "policy": {"target_rate": T},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}],
    "projects": [{"id": "P", "site": "A", "capacity_t": C, "processing_cost_cny_per_t": 10, "product_fraction": 1}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}],
    "uncertainty": [{"id": "G", "path": "streams.s.generation_t", "distribution": "uniform", "low": A, "high": B, "source": "the analytic case"}],
}


def analytic(**changes):
    data = copy.deepcopy(ANALYTIC)
    data.update(copy.deepcopy(changes))
    return validated(data)


def rows_key(result):
    return [(r.index, r.status, r.reachable, r.max_rate, r.objective_cny, r.binding, r.limiting, r.values, r.draws) for r in result.rows]


# ---------------------------------------------------------------------------------------------
# The analytic case
# ---------------------------------------------------------------------------------------------


def test_analytic_estimate_lies_in_its_interval_and_near_the_truth():
    r = run_risk(analytic(), samples=128, seed=7, tolerance=0, workers=1)
    p = r.probability
    assert p.n == 128 and r.failed == 0
    assert p.low <= p.estimate <= p.high
    assert p.low <= TRUTH <= p.high
    # every sample's highest rate is min(C, G) / G for the G drawn
    for row in r.rows:
        g = row.values[0]
        assert A <= g <= B
        assert row.max_rate == pytest.approx(min(C, g) / g, rel=1e-9)
        assert row.reachable == (g <= C / T)
    # a Latin hypercube in one dimension puts 64 × 0.4 = 25.6 draws per block below C/T
    assert abs(p.estimate - TRUTH) <= 2 / 128


def test_analytic_interval_covers_the_truth_in_90_percent_of_50_seeds():
    # independent draws (with a Latin hypercube in one dimension the estimate is nearly exact,
    # which would make the coverage trivially 100 %)
    covered = []
    for seed in range(50):
        p = run_risk(analytic(), samples=32, seed=seed, method="random", tolerance=0, workers=1, tornado=False).probability
        assert p.low <= p.estimate <= p.high
        covered.append(p.low <= TRUTH <= p.high)
    assert sum(covered) >= 45, f"covered in {sum(covered)} of 50 seeds"


@pytest.mark.heavy  # 50 runs of up to 640 samples: about 20 s
def test_stopping_early_keeps_the_coverage_near_nominal():
    # stopping when the interval is narrow enough depends on the data; measure what it does
    stops, covered = [], []
    for seed in range(50):
        r = run_risk(analytic(), samples=640, seed=seed, method="random", tolerance=0.2, min_samples=64, workers=1, tornado=False)
        p = r.probability
        stops.append(r.samples)
        covered.append(p.low <= TRUTH <= p.high)
        if r.stopped_early:
            assert p.high - p.low < 0.2 and r.samples % BLOCK == 0 and r.samples >= 64
    assert min(stops) < 640  # it does stop early
    assert sum(covered) >= 45, f"covered in {sum(covered)} of 50 seeds"


def test_stopping_early_is_decided_on_whole_blocks_in_order():
    r = run_risk(analytic(), samples=2000, seed=3, tolerance=0.25, min_samples=64, workers=1, tornado=False)
    assert r.stopped_early and r.samples % BLOCK == 0 and r.samples < 2000
    assert r.probability.high - r.probability.low < 0.25
    # one block less would not have been narrow enough (or below the minimum)
    fewer = wilson(sum(1 for x in r.rows[: r.samples - BLOCK] if x.reachable), r.samples - BLOCK)
    assert r.samples - BLOCK < 64 or fewer.high - fewer.low >= 0.25
    again = run_risk(analytic(), samples=2000, seed=3, tolerance=0.25, min_samples=64, workers=1, tornado=False)
    assert rows_key(again) == rows_key(r)


def test_tornado_of_the_analytic_case():
    r = run_risk(analytic(), samples=64, seed=0, tolerance=0, workers=1)
    (bar,) = r.tornado
    lo, hi = A + 0.05 * (B - A), A + 0.95 * (B - A)
    assert float(bar.low_value) == pytest.approx(lo) and float(bar.high_value) == pytest.approx(hi)
    assert bar.low_rate == pytest.approx(C / lo) and bar.high_rate == pytest.approx(C / hi)
    assert bar.swing == pytest.approx(C / lo - C / hi)
    assert bar.spearman == pytest.approx(-1.0)  # the rate falls as generation rises
    assert r.deterministic_max_rate == pytest.approx(C / 100)


def test_a_build_set_adds_its_probability():
    builds = parse_overrides({"id": "bigger_P", "changes": [{"set": "projects.P.capacity_t", "value": 80}]})
    r = run_risk(analytic(), samples=128, seed=2, tolerance=0, workers=1, builds=builds)
    p, q = r.probability, r.probability_with_builds
    assert r.builds == "bigger_P" and q is not None and q.n == p.n
    truth = (80 / T - A) / (B - A)
    assert q.low <= truth <= q.high and q.estimate > p.estimate
    for row in r.rows:
        assert row.max_rate_with_builds == pytest.approx(min(80, row.values[0]) / row.values[0], rel=1e-9)


def test_the_least_cost_at_the_target_matches_a_hand_count():
    # reachable samples send G·T to P (10 CNY/t) and the rest to the landfill (5 CNY/t):
    # at least cost exactly the target's tonnes go to P
    r = run_risk(analytic(), samples=64, seed=4, tolerance=0, workers=1, tornado=False)
    for row in r.rows:
        g = row.values[0]
        if row.reachable:
            assert row.objective_cny == pytest.approx(10 * T * g + 5 * (1 - T) * g, rel=1e-9)
            assert "target" in row.binding
        else:
            assert row.objective_cny is None
    costs = [x.objective_cny for x in r.rows if x.objective_cny is not None]
    assert r.cost.n == len(costs) and r.cost.p50 == pytest.approx(float(np.percentile(costs, 50)))


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (3, 10), (40, 100), (1, 1)])
def test_wilson_interval_solves_its_defining_quadratic(k, n):
    # the interval's ends are the p with (k/n − p)² = z² p (1 − p) / n
    iv = wilson(k, n)
    z2, ph = 1.959963984540054**2, k / n
    roots = sorted(np.roots([1 + z2 / n, -(2 * ph + z2 / n), ph * ph]).real)
    assert iv.low == pytest.approx(max(0.0, roots[0]), abs=1e-12)
    assert iv.high == pytest.approx(min(1.0, roots[1]), abs=1e-12)
    assert wilson(0, 0).estimate is None


def test_spearman_against_a_hand_computation():
    x, y = [1, 2, 3, 4, 5], [5, 6, 7, 8, 7]
    rx, ry = [1, 2, 3, 4, 5], [1, 2, 3.5, 5, 3.5]
    expected = float(np.corrcoef(rx, ry)[0, 1])
    assert spearman(x, y) == pytest.approx(expected)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_draws_are_reproducible_and_blocks_differ():
    for method in ("lhs", "sobol", "random"):
        a, b = draws(64, 3, 11, 0, method), draws(64, 3, 11, 0, method)
        assert np.array_equal(a, b) and a.shape == (64, 3) and ((a > 0) & (a < 1)).all()
        assert not np.array_equal(a, draws(64, 3, 11, 1, method))
        assert not np.array_equal(a, draws(64, 3, 12, 0, method))
    lhs = draws(64, 2, 5, 0, "lhs")
    for col in lhs.T:  # one point in each of the 64 strata
        assert sorted(np.floor(col * 64).astype(int)) == list(range(64))


# ---------------------------------------------------------------------------------------------
# Engines: the same seed gives the same rows everywhere; failures are rows
# ---------------------------------------------------------------------------------------------


def _park_jobs(samples=40, seed=5):
    s = load_scenario(PARK_2025)
    inputs = resolve(s).with_target(0.7)
    from flowopt.options import SolveOptions
    from flowopt.risk import _run_key

    key = _run_key(inputs, SolveOptions(), None)
    jobs = []
    for b in range(math.ceil(samples / 10)):
        u = draws(10, len(inputs.drivers), seed, b)
        jobs.append(_Job(key, inputs, SolveOptions(), None, b, b * 10, u.tolist(), inputs.values(u)))
    return jobs


@pytest.mark.slow
def test_blocks_in_threads_and_in_any_order_give_the_serial_rows():
    jobs = _park_jobs()
    serial = [solve_block(j) for j in jobs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(solve_block, reversed(jobs)))[::-1]

    def strip(out):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in out["rows"]]

    assert [strip(o) for o in threaded] == [strip(o) for o in serial]
    assert all(r["status"] == "ok" and r["warm"] for o in serial for r in o["rows"])


@pytest.mark.slow
def test_same_seed_same_result_and_another_seed_differs():
    s = load_scenario(PARK_2025)
    a = run_risk(s, samples=40, seed=9, workers=1, tornado=False)
    b = run_risk(s, samples=40, seed=9, workers=1, tornado=False)
    c = run_risk(s, samples=40, seed=10, workers=1, tornado=False)
    assert rows_key(a) == rows_key(b) and a.probability == b.probability
    assert rows_key(a) != rows_key(c)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        yield cluster


@pytest.mark.heavy  # a Dask cluster of two processes: several seconds
@pytest.mark.slow
def test_dask_two_workers_two_threads_give_the_local_rows(dask_cluster):
    s = load_scenario(PARK_2025)
    local = run_risk(s, samples=200, seed=21, workers=1, tolerance=0, tornado=False)
    dask = run_risk(s, samples=200, seed=21, engine="dask", address=dask_cluster.scheduler_address, tolerance=0, tornado=False)
    assert rows_key(dask) == rows_key(local)
    assert dask.probability == local.probability and dask.engine == "dask"


@pytest.mark.heavy  # a local Ray instance (its own processes): several seconds to start
@pytest.mark.slow
def test_a_local_ray_instance_gives_the_local_rows():
    # the real Ray (pip install "flowopt[ray]"; CI installs it), not the stand-in above
    ray = pytest.importorskip("ray")
    s = load_scenario(PARK_2025)
    local = run_risk(s, samples=128, seed=21, workers=1, tolerance=0, tornado=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        remote = run_risk(s, samples=128, seed=21, engine="ray", tolerance=0, tornado=False)
    finally:
        ray.shutdown()
    assert rows_key(remote) == rows_key(local)
    assert remote.probability == local.probability and remote.engine == "ray" and not remote.failed


@pytest.mark.heavy  # two spawned worker processes: several seconds
@pytest.mark.slow
def test_local_worker_processes_give_the_serial_rows():
    s = load_scenario(PARK_2025)
    serial = run_risk(s, samples=192, seed=4, workers=1, tolerance=0, tornado=False)
    pooled = run_risk(s, samples=192, seed=4, workers=2, tolerance=0, tornado=False)
    assert rows_key(pooled) == rows_key(serial)


class FakeRay:
    """Ray's task API in this process, tasks run in two threads (no cluster needed: the failure paths)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(2)

    def init(self, address=None, ignore_reinit_error=False):
        self.address = address

    def remote(self, max_retries=3):
        def wrap(fn):
            pool = self.pool

            class Remote:
                @staticmethod
                def remote(*args):
                    return pool.submit(fn, *args)

            return Remote

        return wrap

    def wait(self, pending, num_returns=1):
        return pending[:1], pending[1:]

    def get(self, ref):
        return ref.result()


def test_ray_engine_code_path_gives_the_local_rows(monkeypatch):
    # a stand-in with Ray's task API runs the same engine code (batch._ray) without starting Ray
    monkeypatch.setitem(sys.modules, "ray", FakeRay())
    local = run_risk(analytic(), samples=128, seed=1, workers=1, tolerance=0, tornado=False)
    ray = run_risk(analytic(), samples=128, seed=1, engine="ray", address="ray://nowhere:10001", tolerance=0, tornado=False)
    assert rows_key(ray) == rows_key(local) and ray.engine == "ray"


@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_a_missing_engine_package_is_an_input_error(monkeypatch, engine):
    monkeypatch.setitem(sys.modules, engine, None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(InputError) as err:
        run_risk(analytic(), samples=10, engine=engine, tornado=False)
    assert err.value.problems[0].table == "risk" and err.value.problems[0].column == "engine"
    assert "pip install" in err.value.problems[0].hint


def test_a_sample_with_invalid_values_is_a_failed_row_and_the_run_goes_on():
    # capacity uniform 40–100 below a minimum intake of 50: those samples make invalid scenarios
    s = analytic(projects=[{"id": "P", "site": "A", "capacity_t": C, "min_intake_t": 50, "processing_cost_cny_per_t": 10, "product_fraction": 1}],
                 uncertainty=[{"id": "cap", "path": "projects.P.capacity_t", "distribution": "uniform", "low": 40, "high": 100, "source": "test"}])
    r = run_risk(s, samples=64, seed=0, tolerance=0, workers=1, tornado=False)
    bad = [x for x in r.rows if x.values[0] < 50]
    assert bad and all(x.status == "input_invalid" and not x.solved for x in bad)
    assert "cap=" in bad[0].message and "min_intake_t" in bad[0].message
    assert r.failed == len(bad) and r.probability.n == 64 - len(bad)
    # the others are solved: generation 100, target 0.7 needs capacity ≥ 70
    good = [x for x in r.rows if x.values[0] >= 50]
    assert all(x.solved and x.reachable == (x.values[0] >= 70 - 1e-9) for x in good)


def test_an_engine_that_fails_midway_keeps_the_finished_blocks(monkeypatch):
    import flowopt.risk as risk

    def broken(engine, tasks, ids, address, workers):
        yield 0, solve_block(tasks[0][0])
        raise OSError("scheduler went away")

    monkeypatch.setattr(risk, "_engine_results", broken)
    r = run_risk(analytic(), samples=3 * BLOCK, seed=0, tolerance=0, tornado=False)
    assert [x.status for x in r.rows[:BLOCK]] == ["ok"] * BLOCK
    assert all(x.status == "error" and "scheduler went away" in x.message for x in r.rows[BLOCK:])
    assert r.probability.n == BLOCK and r.failed == 2 * BLOCK


def test_a_block_the_worker_lost_becomes_failed_rows(monkeypatch):
    import flowopt.risk as risk

    def lossy(engine, tasks, ids, address, workers):
        yield 0, {"id": "block 0", "status": "error", "message": "its worker process died twice"}
        yield 1, solve_block(tasks[1][0])

    monkeypatch.setattr(risk, "_engine_results", lossy)
    r = run_risk(analytic(), samples=2 * BLOCK, seed=0, tolerance=0, tornado=False)
    assert all(x.status == "error" and "died twice" in x.message for x in r.rows[:BLOCK])
    assert all(x.solved for x in r.rows[BLOCK:])


# ---------------------------------------------------------------------------------------------
# The uncertainty table: semantics and validation
# ---------------------------------------------------------------------------------------------


def test_a_yield_keeps_the_project_yields_adding_up_to_one():
    s = load_scenario(PARK_2025)
    inputs = resolve(s)
    spec = next(x for x in inputs.specs if x.record.path == "projects.R06.product_fraction")
    assert spec.balance == "W13"
    values = inputs.quantile_values(0.5)
    k = inputs.specs.index(spec)
    values[k] = 0.7
    sample = inputs.scenario_of(values)
    r06 = next(p for p in sample.projects if p.id == "R06")
    residue = [r.fraction for r in sample.residues if r.project == "R06"]
    assert r06.product_fraction == 0.7 and residue == [pytest.approx(0.3)]
    assert r06.product_fraction + r06.loss_fraction + sum(residue) == pytest.approx(1)
    # the default balance is the loss fraction
    t = analytic(projects=[{"id": "P", "site": "A", "capacity_t": C, "product_fraction": 0.9, "loss_fraction": 0.1}],
                 uncertainty=[{"id": "y", "path": "projects.P.product_fraction", "distribution": "uniform", "low": 0.5, "high": 1, "source": "test"}])
    ti = resolve(t)
    p = ti.scenario_of([0.6]).projects[0]
    assert (p.product_fraction, p.loss_fraction) == (0.6, pytest.approx(0.4))


def test_groups_move_together_and_scale_multiplies():
    s = load_scenario(PARK_2025)
    inputs = resolve(s)
    ids = inputs.ids
    u = draws(64, len(inputs.drivers), 3, 0)
    vals = np.array([[v[ids.index("U01")], v[ids.index("U02")]] for v in inputs.values(u)])
    order1, order2 = np.argsort(vals[:, 0]), np.argsort(vals[:, 1])
    assert np.array_equal(order1, order2)  # rank correlation 1 within the group
    k5 = ids.index("U05")
    values = inputs.quantile_values(0.5)
    values[k5] = 0.8
    sample = inputs.scenario_of(values)
    assert next(p for p in sample.projects if p.id == "R06").capacity_t == pytest.approx(0.8 * 3_000_000)


def _bad_table(tmp_path, rows: list[str]) -> Path:
    folder = tmp_path / "park"
    import shutil

    shutil.copytree(PARK_2025, folder, ignore=shutil.ignore_patterns("whatifs"))
    header = (PARK_2025 / "uncertainty.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "uncertainty.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


def test_invalid_rows_are_located_at_load(tmp_path):
    rows = [
        "X1,,,streams.W03.tonnage,set,uniform,1,,2,,,,,,,src",  # unknown field
        "X2,,,streams.W03.generation_t,set,uniform,2,,1,,,,,,,src",  # low above high
        "X3,,,projects.R07.counts_as,set,alternatives,,,,,,utilization;recycled,,,,src",  # not a setting
        "X4,,,projects.R06.product_fraction,set,uniform,0.6,,1.2,,,,,W13,,src",  # beyond 1
        "X5,,,projects.R07.counts_as,set,alternatives,,,,,,utilization;disposal,0.5;0.4,,,src",  # sum 0.9
        "X6,,,streams.W03.site,set,discrete,,,,,,1;2,,,,src",  # an id
        "X7,,,policy.target_rate,set,uniform,0.6,,0.8,,,,,,,src",  # the target
        "X8,,,streams.W05.generation_t,set,normal,,,,1000,,,,,,src",  # sd missing
    ]
    with pytest.raises(InputError) as err:
        load_scenario(_bad_table(tmp_path, rows))
    found = {(p.row, p.column) for p in err.value.problems if p.severity == "error"}
    assert all(str(p.file).endswith("uncertainty.csv") for p in err.value.problems if p.table == "uncertainty")
    assert {(2, "path"), (3, "low"), (4, "values"), (5, "high"), (6, "probabilities"), (7, "path"), (8, "path"), (9, "sd")} <= found
    text = str(err.value)
    assert "no field 'tonnage'" in text and "adding up" not in text and "add up to 0.9" in text


def test_rows_that_name_missing_records_warn_at_load_and_fail_in_risk(tmp_path):
    rows = ["X1,,,streams.W99.generation_t,set,uniform,1,,2,,,,,,,src", "X2,,,projects.R06.product_fraction,set,uniform,0.6,,1,,,,,,,src"]
    folder = _bad_table(tmp_path, rows)
    s = load_scenario(folder)  # loads: a what-if that removes W99's project must still solve
    warnings = uncertainty_problems(s)
    assert [(p.row, p.column, p.severity) for p in warnings] == [(1, "path", "warning")]
    with pytest.raises(InputError) as err:
        run_risk(s, samples=10)
    probs = err.value.problems
    assert [(p.row, p.column, p.severity) for p in probs] == [(2, "path", "error")]
    assert probs[0].file.endswith("uncertainty.csv") and "W99" in probs[0].message


def test_a_yield_that_would_go_negative_and_a_field_named_twice_are_refused():
    # product 0.7 + loss 0.1 + residue 0.2: a product of 0.95 leaves the loss at 0.1 + 0.7 − 0.95 < 0
    s = analytic(streams=[*ANALYTIC["streams"], {"id": "s2", "category": "tailings"}],
                 projects=[{"id": "P", "site": "A", "capacity_t": C, "product_fraction": 0.7, "loss_fraction": 0.1}],
                 residues=[{"project": "P", "stream": "s2", "fraction": 0.2}],
                 accepts=[*ANALYTIC["accepts"], {"outlet": "L", "stream": "s2"}],
                 uncertainty=[
                     {"id": "y", "path": "projects.P.product_fraction", "distribution": "uniform", "low": 0.5, "high": 0.95, "balance": "loss", "source": "t"},
                     {"id": "z", "path": "projects[*].product_fraction", "distribution": "uniform", "low": 0.5, "high": 0.6, "source": "t"},
                 ])
    with pytest.raises(InputError) as err:
        run_risk(s, samples=10)
    text = " ".join(p.message for p in err.value.problems)
    assert "the loss fraction of 'P' would be -0.15" in text
    assert "already made uncertain by row 'y'" in text


def test_every_distribution_samples_within_its_support():
    rows = [
        {"id": "u", "path": "streams.s.generation_t", "distribution": "triangular", "low": 80, "mode": 90, "high": 130, "source": "t"},
        {"id": "n", "path": "projects.P.capacity_t", "distribution": "normal", "mean": 70, "sd": 10, "low": 50, "high": 90, "source": "t"},
        {"id": "l", "path": "projects.P.processing_cost_cny_per_t", "distribution": "lognormal", "mean": 10, "sd": 3, "source": "t"},
        {"id": "d", "path": "sinks.L.fee_cny_per_t", "distribution": "discrete", "values": "4;5;8", "probabilities": "0.2;0.5;0.3", "source": "t"},
    ]
    inputs = resolve(analytic(uncertainty=rows))
    vals = np.array(inputs.values(draws(4096, len(inputs.drivers), 1, 0, "random")), dtype=float)
    assert ((vals[:, 0] >= 80) & (vals[:, 0] <= 130)).all() and abs(np.median(vals[:, 0]) - (130 - math.sqrt(0.5 * 50 * 40))) < 1.5
    assert ((vals[:, 1] >= 50) & (vals[:, 1] <= 90)).all() and abs(vals[:, 1].mean() - 70) < 0.6
    assert (vals[:, 2] > 0).all() and abs(vals[:, 2].mean() - 10) < 0.3 and abs(vals[:, 2].std() - 3) < 0.3
    counts = {v: int((vals[:, 3] == v).sum()) for v in (4, 5, 8)}
    assert abs(counts[4] / 4096 - 0.2) < 0.03 and abs(counts[5] / 4096 - 0.5) < 0.03 and sum(counts.values()) == 4096


def test_arguments_are_checked_with_the_field_they_belong_to():
    with pytest.raises(InputError) as err:
        run_risk(analytic(), samples=0, seed=-1, tolerance=2, method="halton")
    assert {p.column for p in err.value.problems} == {"samples", "seed", "tolerance", "method"}
    with pytest.raises(InputError):
        run_risk(load_scenario(PARK_2025.parent / "panzhihua_east_2023"), samples=10)  # no table


# ---------------------------------------------------------------------------------------------
# The bundled data and the command line
# ---------------------------------------------------------------------------------------------


def test_the_default_data_has_sourced_ranges_and_its_plan_is_unchanged():
    s = load_scenario(PARK_2025)
    assert len(s.uncertainty) >= 3 and all(r.source for r in s.uncertainty)
    assert uncertainty_problems(s, strict=True) == []
    paths = {r.path for r in s.uncertainty}
    assert {"streams.W03.generation_t", "projects.R06.product_fraction", "projects.R07.counts_as"} <= paths
    # the plan reads none of it: the same LP with and without the table
    from flowopt.formulation import assemble
    from flowopt.graph import build_graph

    lp1 = assemble(build_graph(s))
    lp2 = assemble(build_graph(s.model_copy(update={"uncertainty": ()})))
    for a in ("col_cost", "row_lower", "row_upper", "a_value", "a_index"):
        assert np.array_equal(getattr(lp1, a), getattr(lp2, a))


def test_cli_defaults_agree_with_the_library():
    from flowopt.cli import _parser

    args = _parser().parse_args(["risk"])
    assert args.tolerance == DEFAULT_TOLERANCE and args.samples == 1000
    help_text = _parser()._subparsers._group_actions[0].choices["risk"].format_help()  # type: ignore[union-attr]
    assert f"{MAX_SAMPLES:,}" in help_text and f"{MIN_SAMPLES}" in help_text and f"blocks of {BLOCK}" in help_text


@pytest.mark.slow
def test_flowopt_risk_samples_50_runs(capsys):
    from flowopt.cli import main

    assert main(["risk", "--samples", "50", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "flowopt risk: panzhihua_east_2025" in out and "of 50 samples" in out and "95 % interval" in out
    assert "What moves the highest rate most" in out


@pytest.mark.slow
def test_flowopt_risk_json_and_out_in_chinese(capsys, tmp_path):
    from flowopt.cli import main

    out_dir = tmp_path / "risk"
    assert main(["risk", "--samples", "64", "--seed", "3", "--json", "--out", str(out_dir), "--lang", "zh", "--workers", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "done" and doc["samples"] == 64 and len(doc["rows"]) == 64
    p = doc["probability"]
    assert p["low"] <= p["estimate"] <= p["high"] and p["n"] == 64
    written = sorted(x.name for x in out_dir.iterdir())
    assert written == sorted(["risk.json", "samples.csv", "limits.csv", "tornado.csv", "histogram.svg", "histogram.png", "tornado.svg", "tornado.png", ".flowopt-outputs.json"])
    svg = (out_dir / "tornado.svg").read_text(encoding="utf-8")
    assert "影响最高可达利用率的输入" in svg and "<svg" in svg
    import pandas as pd

    table = pd.read_csv(out_dir / "samples.csv", encoding="utf-8-sig")
    assert len(table) == 64 and {"sample", "status", "max_rate", "U01", "U04"} <= set(table.columns)
    assert (out_dir / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_flowopt_risk_with_a_build_set_file(capsys, tmp_path):
    from flowopt.cli import main

    builds = tmp_path / "more_backfill.yaml"
    builds.write_text("id: more_backfill\nchanges:\n  - set: projects.R07.capacity_t\n    value: 4500000\n", encoding="utf-8")
    assert main(["risk", "--samples", "64", "--builds", str(builds), "--json", "--workers", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    p, q = doc["probability"], doc["probability_with_builds"]
    assert doc["builds"] == "more_backfill.yaml" and q["n"] == p["n"] == 64
    assert q["successes"] >= p["successes"]  # more backfill capacity can only help
    assert all(r["max_rate_with_builds"] >= r["max_rate"] - 1e-9 for r in doc["rows"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("changes:\n  - set: projects.R99.capacity_t\n    value: 1\n", encoding="utf-8")
    assert main(["risk", "--samples", "10", "--builds", str(bad)]) == 2
    assert "R99" in capsys.readouterr().err

def test_flowopt_risk_bad_input_exits_2_with_located_problems(capsys, tmp_path):
    from flowopt.cli import main

    folder = _bad_table(tmp_path, ["X1,,,streams.W03.generation_t,set,uniform,2,,1,,,,,,,src"])
    assert main(["risk", str(folder), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "invalid_input"
    assert [(p["table"], p["row"], p["column"]) for p in doc["problems"]] == [("uncertainty", 2, "low")]
    assert main(["risk", "--seed", "-3"]) == 2


def test_risk_charts_are_deterministic_svg():
    from flowopt.charts import risk_histogram_svg, tornado_svg

    r = run_risk(analytic(), samples=64, seed=0, tolerance=0, workers=1)
    for lang in ("en", "zh"):
        h1, h2 = risk_histogram_svg(r, lang=lang), risk_histogram_svg(r, lang=lang)
        assert h1 == h2 and h1.startswith("<svg") and 'class="bar reaches"' in h1 and 'class="bar misses"' in h1
        t = tornado_svg(r, lang=lang)
        assert t.count('class="bar low"') == 1 and t.count('class="bar high"') == 1
