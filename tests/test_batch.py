"""Batches of what-ifs: parallel results equal one-by-one solves; clear errors."""

from __future__ import annotations

import importlib.util

import pytest
from support import make

from flowopt.batch import BatchItem, load_batch, run_batch
from flowopt.errors import InputError
from flowopt.overrides import apply_overrides, parse_overrides
from flowopt.pipeline import run

ITEMS = [
    {"id": "t40", "changes": [{"set": "policy.target_rate", "value": 0.4}]},
    {"id": "cheap_q", "changes": [{"set": "projects.Q.processing_cost_cny_per_t", "value": 2}]},
    {"id": "no_q", "changes": [{"remove": "projects.Q"}, {"set": "policy.target_rate", "value": 0.3}]},
    {"id": "too_high", "changes": [{"set": "policy.target_rate", "value": 0.95}]},
]


def items() -> list[BatchItem]:
    return [BatchItem(id=d["id"], overrides=parse_overrides(d)) for d in ITEMS]


@pytest.mark.parametrize("workers", [1, 2])
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
    f.write_text("whatifs:\n  - id: a\n    changes: [{set: policy.target_rate, value: 0.5}]\n  - id: a\n    changes: []\n  - changes: [{frob: 1}]\n  - file: missing.yaml\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_batch(f)
    text = str(info.value)
    assert "duplicate what-if id 'a'" in text
    assert "what-if 3" in text and "Extra inputs" in text
    assert "No overrides file" in text
    f.write_text("whatif: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="'whatifs' list"):
        load_batch(f)


@pytest.mark.skipif(importlib.util.find_spec("dask") is not None, reason="dask is installed here")
def test_distributed_engine_without_its_package_is_a_clear_error():
    with pytest.raises(InputError, match="engine 'dask' needs the dask"):
        run_batch(make(), items(), engine="dask")
