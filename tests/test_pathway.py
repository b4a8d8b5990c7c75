"""The multi-year pathway: a two-year network solved by hand, the bundled 2023–2025 pathway,
years that cannot meet their targets, and located errors in pathway files."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import PARK_2023, PARK_2025

from flowopt.checks import validated
from flowopt.cli import main
from flowopt.diagnosis import max_reachable_rate
from flowopt.errors import InputError
from flowopt.graph import build_graph
from flowopt.io import load_scenario, write_scenario
from flowopt.pathway import (
    Pathway,
    load_pathway,
    parse_pathway,
    run_pathway,
    year_scenario,
)
from flowopt.pipeline import run

#: One site, free transport. Stream s (110 t in 2025) goes to Q (10 CNY/t), N (6 CNY/t, from
#: 2025, 50 t that year) or the landfill L (5 CNY/t). Legacy stock k (60 t, at most 40 t/yr)
#: feeds M, which earns 10 CNY per tonne reclaimed.
TWO_YEARS: dict[str, Any] = {
    "id": "two_years",
    "year": 2025,
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [
        {"id": "s", "site": "A", "category": "tailings", "generation_t": 110},
        {"id": "old", "category": "smelting_slag"},
    ],
    "stockpiles": [{"id": "k", "stream": "old", "site": "A", "stock_t": 60, "max_reclaim_t": 40}],
    "projects": [
        {"id": "M", "site": "A", "capacity_t": 1000, "processing_cost_cny_per_t": 10, "revenue_cny_per_t": 20, "product_fraction": 1},
        {"id": "Q", "site": "A", "capacity_t": 1000, "processing_cost_cny_per_t": 10, "product_fraction": 1},
        {"id": "N", "site": "A", "capacity_t": 80, "processing_cost_cny_per_t": 6, "product_fraction": 1},
    ],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [
        {"outlet": "M", "stream": "old"},
        {"outlet": "Q", "stream": "s"},
        {"outlet": "N", "stream": "s"},
        {"outlet": "L", "stream": "s"},
    ],
}

SPEC: dict[str, Any] = {
    "years": [2024, 2025],
    "targets": {2024: 0.5, 2025: 0.6},
    "growth": {"s": 0.10},
    "commissioning": {"N": 2025},
    "capacity": {"N": {2025: 50}},
    "discount_rate": 0.10,
}


def pathway(**changes: Any) -> Pathway:
    spec = copy.deepcopy(SPEC)
    spec.update(changes)
    return parse_pathway(spec, validated(TWO_YEARS))


def flow(plan, stream, destination):
    return sum(f.tonnes for f in plan.flows if f.stream == stream and f.destination == destination)


def test_two_years_by_hand_stock_carried_and_project_commissioned():
    # 2024: G = 110 / 1.1 = 100. Rate (U + R1) / (100 + R1) >= 0.5, i.e. U + 0.5 R1 >= 50.
    #   A reclaimed tonne earns 10 and spares 0.5 t of Q (5 CNY/t over the landfill): 12.5.
    # 2025: G = 110, N (1 CNY/t over the landfill) has 50 t. U + 0.4 R2 >= 66.
    #   A reclaimed tonne earns 10 and spares 0.4 t of Q: 12, or 12 / 1.1 = 10.91 today.
    # So 2024 reclaims its limit, 40 t, and 2025 only the 20 t left of the 60 t pile.
    #   2024: U = 30 in Q. Cost 300 (Q) + 350 (L, 70 t) - 400 (M) = 250.
    #   2025: U = 66 - 8 = 58: N 50, Q 8. Cost 300 + 80 + 260 (L, 52 t) - 200 = 440.
    #   Objective 250 + 440 / 1.1 = 650.
    r = run_pathway(pathway())
    assert r.ok, r.message
    y24, y25 = r.years
    assert y24.generation_t == pytest.approx(100)
    assert y25.generation_t == pytest.approx(110)
    assert y24.reclaim_t["k"] == pytest.approx(40)
    assert y25.reclaim_t["k"] == pytest.approx(20)
    assert flow(y24.plan, "s", "Q") == pytest.approx(30)
    assert flow(y25.plan, "s", "N") == pytest.approx(50)
    assert flow(y25.plan, "s", "Q") == pytest.approx(8)
    assert y24.objective_cny == pytest.approx(250)
    assert y25.objective_cny == pytest.approx(440)
    assert r.objective_cny == pytest.approx(650)
    assert r.total_cost_cny == pytest.approx(690)
    assert y24.target_rate_value == pytest.approx(0.5)
    assert y25.target_rate_value == pytest.approx(0.6)
    # N is absent in 2024 (not even an outlet), in operation from 2025 at its ramped capacity
    assert "N" not in y24.in_operation and "N" in y25.in_operation
    assert y25.starting == ["N"] and y25.capacity_t == {"N": 50.0}
    assert all(o.outlet != "N" for o in y24.plan.outlet_loads)
    # stock: 60 at the start, 20 carried into 2025, 0 left
    assert [(s.stock_start_t, s.stock_end_t) for y in r.years for s in y.stock] == [pytest.approx((60, 20)), pytest.approx((20, 0))]
    # the pile's total binds: one more tonne would be reclaimed in 2025, worth 12 / 1.1 today
    assert r.stock_value_cny_per_t["k"] == pytest.approx(12 / 1.1)
    # 2024's yearly limit binds too: a tonne moved from 2025 to 2024 gains 12.5 - 12 / 1.1
    card = next(b for b in y24.bottlenecks if b.kind == "stock_reclaim_limit")
    assert card.shadow_price == pytest.approx(12.5 - 12 / 1.1)
    # shadow prices are in the year's own CNY, not discounted: a tonne more of N in 2025
    # replaces a tonne of Q, 10 - 6 = 4 CNY
    card = next(b for b in y25.bottlenecks if b.kind == "project_capacity" and b.subject == "N")
    assert card.shadow_price == pytest.approx(4)
    assert {c.name for c in r.checks} == {"yearly_audits", "stock_total", "stock_carried", "stock_non_negative", "objective"}
    assert all(c.passed for c in r.checks)
    assert all(y.plan.audit.passed for y in r.years)


def test_without_the_pathway_2025_alone_would_reclaim_stock_2024_used():
    # solved alone (the whole pile available), 2025 reclaims its 40 t limit: the pathway's 20 t
    # is the stock that 2024 left
    p = pathway()
    alone = run(year_scenario(p, 2025), explain=False)
    assert alone.reclaim_t["k"] == pytest.approx(40)
    assert year_scenario(p, 2025, stock={"k": 20}).stockpiles[0].stock_t == 20


def test_discount_rate_weights_years():
    r = run_pathway(pathway(discount_rate=0))
    assert r.objective_cny == pytest.approx(690)
    assert [y.reclaim_t["k"] for y in r.years] == [pytest.approx(40), pytest.approx(20)]


def test_stock_too_small_for_both_years_is_a_pathway_answer():
    # Q closed both years. 2024 alone needs R1 / (100 + R1) >= 0.25: R1 >= 33.3; 2025 alone
    # needs (50 + R2) / (110 + R2) >= 0.6: R2 >= 40. Each fits the 60 t pile, both do not.
    r = run_pathway(pathway(targets={2024: 0.25, 2025: 0.6}, capacity={"N": {2025: 50}, "Q": {2024: 0, 2025: 0}}))
    assert r.status == "infeasible" and not r.ok
    assert [y.status for y in r.years] == ["feasible_alone", "feasible_alone"]
    assert "more legacy stock than the stockpiles hold" in r.message


def test_infeasible_year_reports_its_highest_rate():
    # 2024 without Q: at most 40 t reclaimed into M, 40 / 140 = 28.57 %
    r = run_pathway(pathway(targets={2024: 0.3, 2025: 0.6}, capacity={"N": {2025: 50}, "Q": {2024: 0}}))
    assert r.status == "infeasible"
    y24, y25 = r.years
    assert y24.status == "infeasible"
    assert y24.max_rate == pytest.approx(40 / 140)
    assert y24.diagnosis is not None and y24.diagnosis.max_rate == pytest.approx(40 / 140)
    assert y25.status == "feasible_alone"
    assert "2024" in r.message and "28.57%" in r.message


# ---------------------------------------------------------------------------------------------
# The bundled 2023–2025 pathway
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    return run_pathway(PARK_2025)


@pytest.mark.slow
def test_bundled_pathway_meets_every_target_with_consistent_stock(bundled):
    r = bundled
    assert r.ok, r.message
    assert [y.year for y in r.years] == [2023, 2024, 2025]
    for y in r.years:
        assert y.status == "optimal"
        assert y.met and y.target_rate_value >= y.target - 1e-7
        assert y.plan.audit.passed and y.audit_passed
    assert r.years[-1].target == 0.70
    assert all(c.passed for c in r.checks)
    # the stock each year starts with is what the previous year left, reclaim within the piles
    piles = {k.id: k.stock_t for k in load_scenario(PARK_2025).stockpiles}
    for k, held in piles.items():
        rows = [s for y in r.years for s in y.stock if s.stockpile == k]
        assert rows[0].stock_start_t == held
        for a, b in itertools.pairwise(rows):
            assert b.stock_start_t == pytest.approx(a.stock_end_t)
        assert sum(s.reclaim_t for s in rows) <= held
    # the years' audits ran against the carried stock
    assert r.scenario(2025).stockpiles[0].stock_t == pytest.approx(r.years[2].stock[0].stock_start_t)
    # the rates rise year by year
    rates = [y.utilization_rate for y in r.years]
    assert rates == sorted(rates)


@pytest.mark.slow
def test_bundled_2023_is_the_2023_folder_and_2025_the_base(bundled):
    p = load_pathway(PARK_2025)
    y2023 = year_scenario(p, 2023)
    folder = load_scenario(PARK_2023)
    assert {(x.id, x.capacity_t) for x in y2023.projects} == {(x.id, x.capacity_t) for x in folder.projects}
    assert {(a.outlet, a.stream) for a in y2023.accepts} == {(a.outlet, a.stream) for a in folder.accepts}
    # 2023's target 'max' is the 2023 folder's highest rate
    best = max_reachable_rate(build_graph(folder))
    assert bundled.years[0].target_spec == "max"
    assert bundled.years[0].target == pytest.approx(best, abs=2e-6)
    # the legacy stock never runs short by 2025, so 2025 is the single-year plan of the base
    assert bundled.years[2].objective_cny == pytest.approx(run(PARK_2025, explain=False).objective_cny)
    assert all(v == pytest.approx(0) for v in bundled.stock_value_cny_per_t.values())
    # file locations survive the year's filtering (diagnoses cite input rows)
    assert y2023.where("projects", "R08") == load_scenario(PARK_2025).where("projects", "R08")


@pytest.mark.slow
def test_bundled_straight_ramp_is_infeasible_in_2024():
    # a straight line from 2023's 24.5 % to 70 % asks 47.25 % of 2024, whose network reaches
    # 39.44 % (39.90 % before issue 15's retarder market took 83,333 t of utilization from R10:
    # 83,333 / (17.1 Mt + 1.06 Mt of prior-year stock) = 0.46 points)
    p = load_pathway(PARK_2025)
    data = p.spec.model_dump()
    data["targets"] = {2023: 0.245, 2024: 0.4725, 2025: 0.70}
    r = run_pathway(parse_pathway(data, p.base), diagnose_infeasible=False)
    assert r.status == "infeasible"
    assert [y.status for y in r.years] == ["feasible_alone", "infeasible", "feasible_alone"]
    assert r.years[1].max_rate == pytest.approx(0.3944, abs=5e-4)


# ---------------------------------------------------------------------------------------------
# Invalid pathway files: every problem, located
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def base_folder(tmp_path):
    write_scenario(validated(TWO_YEARS), tmp_path / "base")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "pathway.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list:
    with pytest.raises(InputError) as exc:
        load_pathway(path)
    return [p for p in exc.value.problems if p.severity == "error"]


def test_valid_file_loads(base_folder):
    path = write(base_folder, yaml.safe_dump({"base": "base", **SPEC}))
    p = load_pathway(base_folder)  # a folder holding pathway.yaml
    assert p.spec.years == [2024, 2025] and p.base.id == "two_years" and p.source == str(path)


def test_unknown_key_and_bad_values_are_located_by_line(base_folder):
    path = write(base_folder, "base: base\nyears: [2024, 2025]\ntargets:\n  2024: 0.5\n  2025: 1.5\ngrowht: {s: 0.1}\ndiscount_rate: -1\n")
    found = {(p.row, p.column): p for p in problems_of(path)}
    assert (5, "targets.2025") in found  # 1.5 is no fraction, nor 'max'
    assert (6, "growht") in found and "extra" in found[(6, "growht")].message.lower()
    assert (7, "discount_rate") in found
    assert all(p.file == str(path) for p in found.values())


def test_cross_checks_against_the_base(base_folder):
    text = """base: base
years: [2023, 2025]
targets: {2023: 0.5, 2025: max, 2030: 0.9}
growth: {s2: 0.1}
commissioning: {NN: 2025}
capacity: {Q: {2022: 10}, N: {2024: 10}}
"""
    path = write(base_folder, text)
    msgs = {p.column: p.message for p in problems_of(path)}
    assert "not consecutive" in msgs["years"]
    assert "2030" in msgs["targets.2030"]
    assert "unknown stream id 's2'" in msgs["growth.s2"] and "Did you mean 's'" in msgs["growth.s2"]
    assert "unknown project or sink id 'NN'" in msgs["commissioning.NN"] and "'N'" in msgs["commissioning.NN"]
    assert "2022 is not a year" in msgs["capacity.Q.2022"]
    assert "2024 is not a year" in msgs["capacity.N.2024"]


def test_missing_target_capacity_before_commissioning_and_missing_base(base_folder):
    path = write(base_folder, "base: base\nyears: [2024, 2025]\ntargets: {2025: 0.6}\ncommissioning: {N: 2025}\ncapacity: {N: {2024: 10}}\n")
    msgs = {p.column: p.message for p in problems_of(path)}
    assert "no target for 2024" in msgs["targets"]
    assert "not in operation in 2024" in msgs["capacity.N.2024"]
    path = write(base_folder, "base: nowhere\nyears: [2025]\ntargets: {2025: 0.6}\n")
    with pytest.raises(InputError, match="base scenario 'nowhere'"):
        load_pathway(path)
    path = write(base_folder, "base: base\nyears: [2025\n")
    (problem,) = problems_of(path)
    assert problem.row is not None and "not valid YAML" in problem.message


def test_cli_command(base_folder, capsys):
    bad = write(base_folder, "base: base\nyears: [2025]\ntargets: {2025: 2}\n")
    assert main(["pathway", str(bad), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "invalid_input" and doc["problems"][0]["column"] == "targets.2025"
    good = write(base_folder, yaml.safe_dump({"base": "base", **SPEC}))
    out = base_folder / "out"
    assert main(["pathway", str(good), "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "optimal" and doc["objective_cny"] == pytest.approx(650)
    assert {"pathway.json", "pathway.csv", "stock.csv", "2024", "2025"} <= {p.name for p in out.iterdir()}
    assert (out / "2025" / "plan.json").is_file()
    assert main(["pathway", str(good)]) == 0
    assert "stock_carried ok" in capsys.readouterr().out
