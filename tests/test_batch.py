"""Batches of what-ifs: parallel results equal one-by-one solves; every item ends as a row."""

from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from support import PARK_2025, make

from flowopt import batch
from flowopt.batch import BatchItem, load_batch, run_batch
from flowopt.errors import InputError
from flowopt.io import load_scenario
from flowopt.overrides import apply_overrides, parse_overrides
from flowopt.pipeline import run
from flowopt.schema import Scenario
from flowopt.solve import SolveOptions

ITEMS = [
    {"id": "t40", "changes": [{"set": "policy.target_rate", "value": 0.4}]},
    {"id": "cheap_q", "changes": [{"set": "projects.Q.processing_cost_cny_per_t", "value": 2}]},
    {"id": "no_q", "changes": [{"remove": "projects.Q"}, {"set": "policy.target_rate", "value": 0.3}]},
    {"id": "too_high", "changes": [{"set": "policy.target_rate", "value": 0.95}]},
]


def items() -> list[BatchItem]:
    return [BatchItem(id=d["id"], overrides=parse_overrides(d)) for d in ITEMS]


def with_item(item_id: str) -> list[BatchItem]:
    """The test items with one more (no changes) called ``item_id`` in the middle."""
    its = items()
    return [*its[:2], BatchItem(id=item_id, overrides=parse_overrides({})), *its[2:]]


# module-level, so that spawned workers can unpickle them by name
def failing_scenario(base: Scenario, item: BatchItem) -> Scenario:
    """Build the what-if as usual, except that item 'boom' hits a bug and 'die' kills its worker."""
    if item.id == "boom":
        msg = "injected failure " + "x" * 500
        raise RuntimeError(msg)
    if item.id == "die":
        os._exit(1)
    return apply_overrides(base, item.overrides, item.id)


def slow_scenario(base: Scenario, item: BatchItem) -> Scenario:
    """Build the what-if as usual, a little slowly (so that a test can stop the cluster midway)."""
    time.sleep(0.3)
    return apply_overrides(base, item.overrides, item.id)


def park_items(copies: int) -> tuple[Scenario, list[BatchItem]]:
    """The bundled park and its what-ifs, repeated ``copies`` times under distinct ids."""
    its, base_path = load_batch(PARK_2025 / "whatifs" / "batch.yaml")
    assert base_path is not None
    return load_scenario(base_path), [BatchItem(id=f"{it.id}_{k}", overrides=it.overrides) for k in range(copies) for it in its]


def assert_same_rows(table, reference) -> None:
    assert list(table["id"]) == list(reference["id"])
    for got, want in zip(table.to_dict("records"), reference.to_dict("records"), strict=True):
        assert got["status"] == want["status"], (got["id"], got["message"])
        for col in ("utilization_rate", "objective_cny"):
            assert got[col] == pytest.approx(want[col], rel=1e-6, abs=1e-9), (got["id"], col)


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=[pytest.mark.slow, pytest.mark.heavy])])
def test_batch_rows_equal_individual_solves(workers):
    base = make()
    seen = []
    table = run_batch(base, items(), workers=workers, progress=lambda done, total, row: seen.append((done, total, row["id"])))
    assert list(table["id"]) == ["base", "t40", "cheap_q", "no_q", "too_high"]
    assert len(seen) == 5 and seen[-1][0] == 5
    for row in table.to_dict("records"):
        if row["id"] == "base":
            assert row["objective_cny"] == pytest.approx(run(base).objective_cny)
            assert row["delta_cost_cny"] == pytest.approx(0)
            continue
        ov = next(i for i in items() if i.id == row["id"]).overrides
        s = apply_overrides(base, ov)
        if row["id"] == "too_high":
            assert row["status"] == "infeasible" and "cannot be met" in row["message"]
            continue
        assert row["status"] == "optimal"
        assert row["objective_cny"] == pytest.approx(run(s).objective_cny)


def test_batch_file_errors_are_listed(tmp_path):
    f = tmp_path / "batch.yaml"
    f.write_text(
        "whatifs:\n  - id: a\n    changes: [{set: policy.target_rate, value: 0.5}]\n  - id: a\n    changes: []\n  - changes: [{frob: 1}]\n  - file: missing.yaml\n"
        "  - id: b\n    changes: [{set: policy.target_rate, value: 0.5}, {scale: projects.R06.capacity_t, factor: lots}]\n  - id: base\n    changes: []\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_batch(f)
    text = str(info.value)
    assert "duplicate what-if id 'a'" in text
    assert "what-if 3, change 1: Extra inputs" in text
    assert "No overrides file" in text
    # the non-numeric factor: which what-if, which change, which field
    assert any(p.row == 5 and p.column == "factor" and p.message.startswith("what-if 5, change 2: Input should be a valid number") for p in info.value.problems)
    assert "the what-if id 'base' is taken" in text
    f.write_text("whatif: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="'whatifs' list"):
        load_batch(f)


@pytest.mark.parametrize("package", ["dask", "ray"])
def test_distributed_engine_without_its_package_is_a_clear_error(monkeypatch, package):
    # None in sys.modules makes the import fail, whether or not the package is installed
    for name in (package, f"{package}.distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InputError, match=f"engine '{package}' needs the {package}"):
        run_batch(make(), items(), engine=package)


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=[pytest.mark.slow, pytest.mark.heavy])])
def test_an_unexpected_error_becomes_its_own_row(workers):
    table = run_batch(make(), with_item("boom"), workers=workers, scenario_of=failing_scenario)
    rows = {r["id"]: r for r in table.to_dict("records")}
    assert list(table["id"]) == ["base", "t40", "cheap_q", "boom", "no_q", "too_high"]
    boom = rows["boom"]
    assert boom["status"] == "error"
    assert "RuntimeError: injected failure" in boom["message"] and "Traceback" not in boom["message"]
    assert len(boom["message"]) <= 300
    assert [rows[i]["status"] for i in ("base", "t40", "cheap_q", "no_q", "too_high")] == ["optimal"] * 4 + ["infeasible"]


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
@pytest.mark.slow
def test_a_worker_that_dies_fails_only_its_item():
    seen = []
    table = run_batch(make(), with_item("die"), workers=2, scenario_of=failing_scenario, progress=lambda done, total, row: seen.append(row["id"]))
    rows = {r["id"]: r for r in table.to_dict("records")}
    assert list(table["id"]) == ["base", "t40", "cheap_q", "die", "no_q", "too_high"]
    assert sorted(seen) == sorted(rows)  # every row reported once
    assert rows["die"]["status"] == "error" and "worker process died twice" in rows["die"]["message"], table[["id", "status", "message"]].to_string()
    assert [rows[i]["status"] for i in ("base", "t40", "cheap_q", "no_q", "too_high")] == ["optimal"] * 4 + ["infeasible"], table[["id", "status", "message"]].to_string()
    base_cost = rows["base"]["objective_cny"]
    assert rows["t40"]["delta_cost_cny"] == pytest.approx(rows["t40"]["objective_cny"] - base_cost)


def test_an_engine_that_fails_midway_keeps_the_finished_rows(monkeypatch):
    def engine(fn, tasks, ids, workers):
        yield 2, fn(*tasks[2])
        yield 0, fn(*tasks[0])
        msg = "lost connection to the scheduler"
        raise OSError(msg)

    monkeypatch.setattr(batch, "_local", engine)
    seen = []
    table = run_batch(make(), items(), progress=lambda done, total, row: seen.append((done, total)))
    assert list(table["id"]) == ["base", "t40", "cheap_q", "no_q", "too_high"]
    assert list(table["status"]) == ["optimal", "error", "optimal", "error", "error"]
    assert table["objective_cny"][2] == pytest.approx(run(apply_overrides(make(), items()[1].overrides)).objective_cny)
    assert "the local engine stopped before this what-if finished: OSError: lost connection to the scheduler" in table["message"][1]
    assert seen[-1] == (5, 5)


def test_invalid_whatif_rows_name_the_change_field_and_value():
    bad = [
        {"id": "negative", "changes": [{"set": "policy.target_rate", "value": 0.4}, {"set": "projects.Q.capacity_t", "value": -5}]},
        {"id": "two_caps", "changes": [{"set": "projects.Q.capacity_t", "value": 10}, {"set": "projects.P.capacity_t", "value": -7}]},
        {"id": "unknown_id", "changes": [{"set": "projects.NOPE.capacity_t", "value": 5}]},
        {"id": "not_a_number", "changes": [{"scale": "projects.P.site", "factor": 2}]},
        {"id": "bad_target", "changes": [{"set": "policy.target_rate", "value": "high"}]},
        {"id": "bad_record", "changes": [{"add": "projects", "record": {"id": "R9", "site": "A", "capacity_t": -1, "product_fraction": 1}}]},
    ]
    table = run_batch(make(), [BatchItem(id=d["id"], overrides=parse_overrides(d)) for d in bad], workers=1)
    msg = dict(zip(table["id"], table["message"], strict=True))
    assert set(table["status"][1:]) == {"input_invalid"}
    assert msg["negative"].startswith("change 2 (set projects.Q.capacity_t): Input should be greater than or equal to 0 (got -5)")
    assert msg["two_caps"].startswith("change 2 (set projects.P.capacity_t): Input should be greater than or equal to 0 (got -7)")
    assert msg["unknown_id"].startswith("change 1 (set projects.NOPE.capacity_t): no projects record has id 'NOPE'")
    assert msg["not_a_number"].startswith("change 1 (scale projects.P.site): 'projects.P.site' is not a number ('A')")
    assert msg["bad_target"].startswith("change 1 (set policy.target_rate): Input should be a valid number") and "high" in msg["bad_target"]
    assert msg["bad_record"].startswith("change 1 (add projects), field capacity_t: Input should be greater than or equal to 0 (got -1)")
    assert all(len(m) <= 300 for m in msg.values())


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
@pytest.mark.slow
def test_threads_of_one_process_give_the_serial_rows():
    # four threads of this process solve at once, as in Dask's threaded workers; before the
    # fix this crashed (Pyomo's PauseGC, a segfault in the shared HiGHS) or failed the audit
    base, its = park_items(3)
    serial = run_batch(base, its, workers=1)
    assert set(serial["status"]) == {"optimal"}
    every = [BatchItem(id="base", overrides=parse_overrides({})), *its]
    for attempt in range(3):
        key = f"threads-test-{attempt}"  # each round starts without a warm session
        with ThreadPoolExecutor(4) as pool:
            rows = list(pool.map(lambda it, key=key: batch._solve_item(base, key, it, SolveOptions()), every))
        batch._sessions.pop(key, None)
        assert_same_rows(pd.DataFrame(rows), serial)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        yield cluster


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
@pytest.mark.slow
def test_dask_workers_with_threads_give_the_serial_rows(dask_cluster):
    base, its = park_items(4)
    serial = run_batch(base, its, workers=1)
    table = run_batch(base, its, engine="dask", address=dask_cluster.scheduler_address)
    assert len(table) == 17
    assert set(table["status"]) == {"optimal"}, table[table["status"] != "optimal"][["id", "message"]].to_string()
    assert_same_rows(table, serial)
    assert all(not math.isnan(x) for x in table["delta_cost_cny"])


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
@pytest.mark.slow
def test_dask_an_unexpected_error_is_its_own_row(dask_cluster):
    table = run_batch(make(), with_item("boom"), engine="dask", address=dask_cluster.scheduler_address, scenario_of=failing_scenario)
    rows = {r["id"]: r for r in table.to_dict("records")}
    assert rows["boom"]["status"] == "error" and "RuntimeError: injected failure" in rows["boom"]["message"]
    assert [rows[i]["status"] for i in ("base", "t40", "cheap_q", "no_q", "too_high")] == ["optimal"] * 4 + ["infeasible"]


@pytest.mark.heavy  # several seconds: .ci/run runs it, the README's command does not
def test_dask_scheduler_that_goes_away_keeps_the_finished_rows():
    distributed = pytest.importorskip("dask.distributed")
    # workers in threads of this process start in a second; losing the scheduler is the same
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0")
    its = [BatchItem(id=f"i{k}", overrides=parse_overrides({})) for k in range(8)]

    def progress(done, total, row):
        if done == 3:
            cluster.close()

    try:
        table = run_batch(make(), its, engine="dask", address=cluster.scheduler_address, scenario_of=slow_scenario, progress=progress)
    finally:
        cluster.close()
    assert list(table["id"]) == ["base", *(it.id for it in its)]
    finished = table[table["status"] == "optimal"]
    lost = table[table["status"] != "optimal"]
    assert len(finished) >= 3 and len(lost) >= 1
    assert set(lost["status"]) == {"error"}
    assert all("the Dask cluster could not solve it" in m and "_solve_item-" not in m for m in lost["message"])


class WorkerCrashedError(Exception):
    pass


class Ref:
    """An object reference: hashable, holds a task's result or its error."""

    def __init__(self, value) -> None:
        self.value = value


class FakeRay:
    """Ray's task API in this process: ``die``'s worker crashes, every other task runs."""

    def __init__(self) -> None:
        self.retries = None

    def init(self, address=None, ignore_reinit_error=False):
        pass

    def remote(self, max_retries=3):
        self.retries = max_retries

        def wrap(fn):
            class Remote:
                @staticmethod
                def remote(*args):
                    if args[2].id == "die":
                        return Ref(WorkerCrashedError("The worker died unexpectedly while executing this task."))
                    return Ref(fn(*args))

            return Remote

        return wrap

    def wait(self, pending, num_returns=1):
        return pending[:1], pending[1:]

    def get(self, ref):
        if isinstance(ref.value, Exception):
            raise ref.value
        return ref.value


def test_ray_a_crashed_worker_fails_only_its_item(monkeypatch):
    ray = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", ray)
    table = run_batch(make(), with_item("die"), engine="ray")
    rows = {r["id"]: r for r in table.to_dict("records")}
    assert ray.retries == 1
    assert rows["die"]["status"] == "error"
    assert rows["die"]["message"] == "the Ray cluster could not solve it: WorkerCrashedError: The worker died unexpectedly while executing this task."
    assert [rows[i]["status"] for i in ("base", "t40", "cheap_q", "no_q", "too_high")] == ["optimal"] * 4 + ["infeasible"]
