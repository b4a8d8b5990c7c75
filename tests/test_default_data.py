"""The bundled park data: 2025 reaches the target with an audited plan; 2023 answers honestly."""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest
from support import PARK_2023, PARK_2025

from flowopt.errors import InfeasibleError
from flowopt.io import load_scenario
from flowopt.pipeline import run

pytestmark = pytest.mark.slow


class _Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _cli(capsys, *argv: str) -> _Result:
    """Run the command line in-process (``flowopt.cli.main``) and capture what it prints."""
    from flowopt.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return _Result(code, captured.out, captured.err)


def test_park_2025_meets_the_target_with_a_passed_audit(park_plan):
    plan = park_plan
    assert plan.status == "optimal"
    assert plan.target == pytest.approx(0.70)
    assert plan.utilization_rate >= 0.70 - 1e-7
    assert plan.audit.passed
    assert all(c.passed for c in plan.audit.checks)
    nonzero = [b for b in plan.bottlenecks if abs(b.shadow_price) > 1e-6]
    assert len(nonzero) >= 3


def test_objective_equals_flow_costs_plus_other_terms(park_plan):
    plan = park_plan
    flows = sum(f.cost_cny for f in plan.flows)
    assert flows + plan.cost_terms["reclaim_cny"] == pytest.approx(plan.objective_cny, rel=1e-9, abs=1.0)
    terms = plan.cost_terms
    # revenue and the tax incentives (issue 15) enter the cost with a minus sign (models/README.md §7)
    subtracted = ("revenue_cny", "incentives_cny")
    total = sum(v for k, v in terms.items() if k not in subtracted) - sum(terms.get(k, 0.0) for k in subtracted)
    assert total == pytest.approx(plan.objective_cny, rel=1e-9, abs=1.0)


def test_every_generated_tonne_has_a_fate(park_plan):
    scenario = load_scenario(PARK_2025)
    fates = {f.root: f for f in park_plan.stream_fates}
    for st in scenario.streams:
        if st.generation_t > 0:
            f = fates[st.id]
            total = f.utilized_t + f.disposed_t + f.stored_t + f.unmanaged_t + f.lost_t
            assert total == pytest.approx(st.generation_t, rel=1e-7)
    # per-category rates add up to the park's numerator
    assert sum(r.utilized_t for r in park_plan.rates_by_category) == pytest.approx(park_plan.kpis.utilized_t, rel=1e-9)


def test_every_number_in_the_data_has_a_source():
    scenario = load_scenario(PARK_2025)
    for table in ("streams", "composition", "stockpiles", "projects", "sinks", "distances", "residues", "quality", "accepts", "sites", "firms"):
        for i, record in enumerate(getattr(scenario, table)):
            assert record.source.strip(), f"{table} record {i + 1} has no source"


def test_park_2023_answers_honestly():
    """With 2023 capacity the run is either a plan meeting 70 % or an explained infeasibility."""
    try:
        plan = run(PARK_2023)
    except InfeasibleError as exc:
        diag = exc.diagnosis
        assert diag.max_rate is not None and diag.max_rate < 0.70
        assert "cannot be met" in diag.statement
    else:
        assert plan.utilization_rate >= 0.70 - 1e-7 and plan.audit.passed


def test_cli_json_contract(capsys):
    res = _cli(capsys, "solve", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    for key in ("status", "target", "utilization_rate", "objective_cny", "flows", "bottlenecks", "audit"):
        assert key in doc
    assert doc["status"] == "optimal" and doc["audit"]["passed"] is True
    f = doc["flows"][0]
    assert {"stream", "destination", "kind", "tonnes", "cost_cny"} <= set(f)
    assert {f["kind"] for f in doc["flows"]} <= {"reuse", "disposal", "storage", "unmanaged"}
    b = doc["bottlenecks"][0]
    assert {"constraint", "kind", "subject", "shadow_price", "unit", "explanation"} <= set(b)


def test_cli_infeasible_target_exits_1_with_a_statement(capsys):
    res = _cli(capsys, "solve", "--target", "0.99", "--json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["status"] == "infeasible"
    assert doc["diagnosis"]["max_rate"] < 0.99
    assert "cannot be met" in doc["diagnosis"]["statement"]


def test_cli_out_writes_plan_and_tables(tmp_path, capsys):
    out = tmp_path / "plan"
    res = _cli(capsys, "solve", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "Bottlenecks" in res.stdout
    names = sorted(p.name for p in out.iterdir())
    assert "plan.json" in names and "flows.csv" in names and "bottlenecks.csv" in names
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert doc["audit"]["passed"]


def test_park_workbook_round_trip_and_cli_convert_validate(tmp_path, capsys):
    book = tmp_path / "park.xlsx"
    res = _cli(capsys, "convert", str(PARK_2025), str(book))
    assert res.returncode == 0, res.stderr
    assert load_scenario(book) == load_scenario(PARK_2025)
    res = _cli(capsys, "validate", str(book), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["status"] == "valid" and doc["projects"] == 12
