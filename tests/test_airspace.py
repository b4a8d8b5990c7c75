"""Airspace of sinks and reclaimable storage (issue 15, item 3): hand-solved single-year and
two-year cases, the pathway's linking rows against the Pyomo reference, located input errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from support import PARK_2025

from flowopt.checks import validated
from flowopt.cli import main
from flowopt.errors import InputError
from flowopt.formulation.reference import differences, pathway_differences
from flowopt.graph import build_graph
from flowopt.io import load_scenario, write_scenario
from flowopt.pathway import parse_pathway, run_pathway
from flowopt.pipeline import run
from flowopt.synthetic import random_park

#: One site, free transport: stream s (100 t) goes to the landfill L (5 CNY/t, airspace 30 t
#: left) or the dam M (8 CNY/t, no airspace given). P exists only because a park needs a project.
DUMP: dict[str, Any] = {
    "id": "dump",
    "year": 2025,
    "policy": {"target_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}, {"id": "old", "category": "tailings"}],
    "projects": [{"id": "P", "site": "A", "capacity_t": 0, "product_fraction": 1}],
    "sinks": [
        {"id": "L", "site": "A", "kind": "landfill", "counts_as": "disposal", "fee_cny_per_t": 5, "remaining_volume_t": 30},
        {"id": "M", "site": "A", "kind": "tailings_dam", "counts_as": "disposal", "fee_cny_per_t": 8},
    ],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}, {"outlet": "M", "stream": "s"}],
}


def scenario(**changes: Any) -> Any:
    data = copy.deepcopy(DUMP)
    data.update(copy.deepcopy(changes))
    return validated(data)


def tonnes_to(plan: Any, outlet: str) -> float:
    return sum(f.tonnes for f in plan.flows if f.destination == outlet)


# ---------------------------------------------------------------------------------------------
# One year
# ---------------------------------------------------------------------------------------------


def test_single_year_intake_stops_at_the_remaining_airspace():
    # L is 3 CNY/t cheaper than M but has 30 t of airspace: 30 t to L, 70 t to M.
    # Cost 30 × 5 + 70 × 8 = 710; one more tonne of airspace saves 8 − 5 = 3 CNY.
    plan = run(scenario())
    assert plan.audit.passed
    assert tonnes_to(plan, "L") == pytest.approx(30)
    assert tonnes_to(plan, "M") == pytest.approx(70)
    assert plan.objective_cny == pytest.approx(710)
    card = next(b for b in plan.bottlenecks if b.kind == "sink_airspace")
    assert (card.subject, card.constraint) == ("L", "sink_airspace[L]")
    assert card.shadow_price == pytest.approx(3)
    assert card.limit == pytest.approx(30)
    # the price holds while L's airspace stays below the 100 t that could go there
    assert card.valid_to == pytest.approx(100)
    # finite difference: one more tonne of airspace
    more = copy.deepcopy(DUMP)
    more["sinks"][0]["remaining_volume_t"] = 31
    assert run(validated(more)).objective_cny == pytest.approx(710 - 3)
    # the JSON's airspace rows: only sinks with a remaining volume
    (row,) = plan.airspace
    assert (row.sink, row.remaining_start_t, row.intake_t, row.remaining_t) == ("L", 30, pytest.approx(30), pytest.approx(0, abs=1e-9))
    assert row.years_left == pytest.approx(0, abs=1e-9)
    assert next(c for c in plan.audit.checks if c.name == "sink_airspace").passed


def test_years_left_is_what_is_left_over_this_years_intake():
    plan = run(scenario(sinks=[dict(DUMP["sinks"][0], remaining_volume_t=450, capacity_t=60), DUMP["sinks"][1]]))
    (row,) = plan.airspace
    # the yearly cap binds first: 60 t in, 390 t left, 6.5 years at 60 t a year
    assert row.intake_t == pytest.approx(60)
    assert row.remaining_t == pytest.approx(390)
    assert row.years_left == pytest.approx(6.5)
    assert row.capacity_t == 60
    assert not any(b.kind == "sink_airspace" for b in plan.bottlenecks)


def test_a_sink_that_takes_nothing_never_fills():
    plan = run(scenario(sinks=[dict(DUMP["sinks"][0], fee_cny_per_t=9), dict(DUMP["sinks"][1], remaining_volume_t=1000)]))
    rows = {r.sink: r for r in plan.airspace}
    assert rows["L"].intake_t == pytest.approx(0) and rows["L"].years_left is None
    assert rows["M"].intake_t == pytest.approx(100) and rows["M"].years_left == pytest.approx(9)


def test_an_exhausted_site_leaves_no_plan_and_the_diagnosis_names_its_airspace():
    # without M, 70 t have no room anywhere: the screen and the conflict set name L's airspace,
    # and with P gone the cheapest fix is 70 t more airspace at L
    from flowopt.errors import InfeasibleError

    data = copy.deepcopy(DUMP)
    data["sinks"] = [DUMP["sinks"][0]]
    data["accepts"] = [a for a in DUMP["accepts"] if a["outlet"] == "L"]
    data["projects"] = [{"id": "P", "site": "A", "capacity_t": 0, "product_fraction": 1}]
    data["accepts"].append({"outlet": "P", "stream": "old"})
    with pytest.raises(InfeasibleError) as exc:
        run(validated(data))
    diag = exc.value.diagnosis
    screen = next(f for f in diag.screens if f.kind == "placement_screen")
    assert "30 t of airspace left" in screen.message and "剩余库容 30 吨" in screen.message_zh
    assert any(f.kind == "sink_airspace" and f.subject == "L" for f in diag.conflict)
    relax = [r for r in diag.relaxations if r.kind == "sink_airspace"]
    assert relax and relax[0].subject == "L"
    assert relax[0].proposed == pytest.approx(100, abs=1)
    assert "airspace" in relax[0].explanation and "库容" in relax[0].explanation_zh


def test_the_bundled_dam_and_landfills_carry_airspace_and_report_years_left():
    plan = run(PARK_2025, explain=False)
    rows = {r.sink: r for r in plan.airspace}
    assert set(rows) == {"D01", "D02", "D03"}
    assert rows["D03"].remaining_start_t == 50_000_000  # brief §6.4 [E]
    for r in rows.values():
        assert r.remaining_t == pytest.approx(r.remaining_start_t - r.intake_t)
        assert r.years_left == pytest.approx(r.remaining_t / r.intake_t)
    # the airspace does not bind in 2025: the answer is the one without the family
    assert not any(b.kind == "sink_airspace" for b in plan.bottlenecks)
    s = load_scenario(PARK_2025)
    off = s.model_copy(update={"sinks": tuple(d.model_copy(update={"remaining_volume_t": None}) for d in s.sinks)})
    assert plan.objective_cny == pytest.approx(run(off, explain=False).objective_cny, rel=1e-12)
    # every sink's source says where its airspace comes from (or that it is an estimate)
    for d in load_scenario(PARK_2025).sinks:
        assert "airspace" in d.source and ("brief §6.4" in d.source)


def test_solve_json_carries_airspace(capsys):
    assert main(["solve", "--json", "--no-explain"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["sink"]: r for r in doc["airspace"]}
    assert set(rows) == {"D01", "D02", "D03"}
    for r in rows.values():
        assert {"remaining_start_t", "intake_t", "remaining_t", "years_left"} <= set(r)


def test_text_report_shows_airspace_in_both_languages(capsys):
    assert main(["solve", "--no-explain", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "处置/贮存设施剩余库容" in out and "尚可使用" in out
    assert main(["solve", "--no-explain"]) == 0
    out = capsys.readouterr().out
    assert "Airspace of the disposal and storage sites" in out and "years left" in out


# ---------------------------------------------------------------------------------------------
# Over the years: airspace runs out, storage becomes stock
# ---------------------------------------------------------------------------------------------


def test_two_years_airspace_runs_out_by_hand():
    # L holds 150 t for two years of 100 t. Year y costs 5 I_y + 8 (100 − I_y) = 800 − 3 I_y;
    # with a discount rate of 10 % the first year weighs more: I_2024 = 100, I_2025 = 50.
    # Costs 500 and 650; present value 500 + 650 / 1.1. One more tonne of airspace at the start
    # would go to L in 2025: 3 / 1.1 today.
    base = scenario(sinks=[dict(DUMP["sinks"][0], remaining_volume_t=150), DUMP["sinks"][1]])
    r = run_pathway(parse_pathway({"years": [2024, 2025], "targets": {2024: 0.0, 2025: 0.0}, "discount_rate": 0.10}, base))
    assert r.ok, r.message
    y24, y25 = r.years
    assert tonnes_to(y24.plan, "L") == pytest.approx(100)
    assert tonnes_to(y25.plan, "L") == pytest.approx(50)
    assert y24.objective_cny == pytest.approx(500)
    assert y25.objective_cny == pytest.approx(650)
    assert r.objective_cny == pytest.approx(500 + 650 / 1.1)
    assert [(a.remaining_start_t, a.intake_t, a.remaining_end_t) for y in r.years for a in y.airspace] == [pytest.approx((150, 100, 50)), pytest.approx((50, 50, 0), abs=1e-6)]
    assert r.airspace_left_t["L"] == pytest.approx(0, abs=1e-6)
    assert r.airspace_years_left["L"] == pytest.approx(0, abs=1e-6)
    assert r.airspace_value_cny_per_t["L"] == pytest.approx(3 / 1.1)
    # each year is audited against the airspace the earlier years left
    assert y25.plan.airspace[0].remaining_start_t == pytest.approx(50)
    assert {c.name for c in r.checks} >= {"airspace_total", "airspace_carried"}
    assert all(c.passed for c in r.checks)


STORE: dict[str, Any] = {
    "id": "store",
    "year": 2025,
    "policy": {"target_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "smelting_slag", "generation_t": 100}, {"id": "old", "category": "smelting_slag"}],
    "stockpiles": [{"id": "ky", "stream": "old", "site": "A", "stock_t": 0, "max_reclaim_t": 1000}],
    "projects": [{"id": "P", "site": "A", "capacity_t": 1000, "processing_cost_cny_per_t": 10, "revenue_cny_per_t": 20, "product_fraction": 1}],
    "sinks": [
        {"id": "Y", "site": "A", "kind": "slag_yard", "counts_as": "storage", "fee_cny_per_t": 1, "remaining_volume_t": 150, "reclaim_as": "ky"},
        {"id": "L", "site": "A", "kind": "landfill", "counts_as": "disposal", "fee_cny_per_t": 5},
    ],
    "accepts": [{"outlet": "Y", "stream": "s"}, {"outlet": "L", "stream": "s"}, {"outlet": "P", "stream": "old"}],
}


def test_stored_tonnes_become_reclaimable_stock_the_next_year_by_hand():
    # Slag s (100 t a year) goes to the yard Y (1 CNY/t, 150 t of airspace) or the landfill L
    # (5 CNY/t). Tonnes stored in 2024 are stock of ky from 2025, and P earns 20 − 10 = 10 CNY
    # per tonne reclaimed. 2024: all 100 t to Y (cost 100), nothing to reclaim yet. 2025: the
    # 100 t stored are reclaimed into P (−1,000); 50 t fill Y, 50 t go to L (50 + 250).
    # Costs 100 and −700; no discounting: −600.
    r = run_pathway(parse_pathway({"years": [2024, 2025], "targets": {2024: 0.0, 2025: 0.0}, "discount_rate": 0.0}, validated(STORE)))
    assert r.ok, r.message
    y24, y25 = r.years
    assert y24.reclaim_t.get("ky", 0.0) == pytest.approx(0)
    assert y25.reclaim_t["ky"] == pytest.approx(100)
    assert tonnes_to(y24.plan, "Y") == pytest.approx(100)
    assert tonnes_to(y25.plan, "Y") == pytest.approx(50)
    assert tonnes_to(y25.plan, "L") == pytest.approx(50)
    assert (y24.objective_cny, y25.objective_cny, r.objective_cny) == (pytest.approx(100), pytest.approx(-700), pytest.approx(-600))
    # the pile: 0 at the start, +100 stored in 2024; 100 reclaimed and +50 stored in 2025
    stock = [(s.stock_start_t, s.reclaim_t, s.added_t, s.stock_end_t) for y in r.years for s in y.stock]
    assert stock == [pytest.approx((0, 0, 100, 100)), pytest.approx((100, 100, 50, 50))]
    # one more tonne in the pile at the start is reclaimed in 2024: 10 CNY; one more tonne of
    # airspace in Y takes a tonne off L in 2025: 5 − 1 = 4 CNY
    assert r.stock_value_cny_per_t["ky"] == pytest.approx(10)
    assert r.airspace_value_cny_per_t["Y"] == pytest.approx(4)
    assert r.airspace_years_left["Y"] == pytest.approx(0, abs=1e-6)
    assert all(c.passed for c in r.checks), [c for c in r.checks if not c.passed]
    # the 2025 plan was audited against a pile holding what 2024 stored
    assert r.scenario(2025).stockpiles[0].stock_t == pytest.approx(100)


def test_without_reclaim_as_the_stored_tonnes_stay():
    data = copy.deepcopy(STORE)
    data["sinks"][0].pop("reclaim_as")
    r = run_pathway(parse_pathway({"years": [2024, 2025], "targets": {2024: 0.0, 2025: 0.0}, "discount_rate": 0.0}, validated(data)))
    assert r.ok
    assert all(not y.reclaim_t.get("ky") for y in r.years)


def _stacked_years(seed: int) -> tuple[list, dict[str, float]]:
    """Three years of a random park with airspace, reclaimable storage and carbon, as the pathway
    builds them (a pile fed by storage holds max(stock, yearly limit) in every year's LP)."""
    base = random_park([5, 8, 20][seed % 3], seed, airspace_carbon=True)
    stock = {k["id"]: float(k["stock_t"]) for k in base["stockpiles"]}
    years = []
    for i, year in enumerate((2023, 2024, 2025)):
        data = copy.deepcopy(base)
        data["policy"]["target_rate"] = round(0.1 * i, 3)
        for k in data["stockpiles"]:
            if k["id"] == "SPY":
                k["stock_t"] = max(k["stock_t"], k["max_reclaim_t"])
        years.append((year, build_graph(validated(data)), 0.95**i))
    return years, stock


@pytest.mark.parametrize("seed", range(12))
def test_random_pathways_with_airspace_and_storage_equal_the_pyomo_pathway_model(seed):
    years, stock = _stacked_years(seed)
    assert pathway_differences(years, stock) == []


def test_the_stacked_pathway_has_the_linking_rows():
    from flowopt.formulation import assemble
    from flowopt.formulation.assemble import stack_years

    years, stock = _stacked_years(1)
    lp = stack_years([(y, assemble(g), w) for y, g, w in years], stock)
    assert list(lp.rows["airspace_total"].keys) == ["dam", "landfill", "yard"]
    assert list(lp.rows["storage_stock"].keys) == [("SPY", 2023), ("SPY", 2024), ("SPY", 2025)]
    assert "SPY" not in lp.rows["stock_total"].keys


@pytest.mark.parametrize("seed", range(40))
def test_random_parks_with_airspace_equal_the_pyomo_reference(seed):
    s = validated(random_park([3, 5, 8, 20, 40][seed % 5], seed, airspace_carbon=True))
    assert differences(s) == []
    if seed % 10 == 0:
        assert differences(s, with_target=False) == []


def test_random_parks_stay_the_same_without_the_option():
    plain = random_park(8, 3)
    extended = random_park(8, 3, airspace_carbon=True)
    assert [s["generation_t"] for s in plain["streams"] if "generation_t" in s] == [s["generation_t"] for s in extended["streams"] if "generation_t" in s]
    assert [p["capacity_t"] for p in plain["projects"]] == [p["capacity_t"] for p in extended["projects"]]
    assert all("remaining_volume_t" not in d for d in plain["sinks"])


# ---------------------------------------------------------------------------------------------
# Bad input: every problem located
# ---------------------------------------------------------------------------------------------


def _edit(path: Path, row_id: str, **values: str) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    fields = list(rows[0])
    for k in values:
        if k not in fields:
            fields.append(k)
    for r in rows:
        if r.get("id") == row_id:
            r.update(values)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_bad_airspace_values_are_located_all_at_once(tmp_path):
    folder = write_scenario(validated(STORE), tmp_path / "s")
    _edit(folder / "sinks.csv", "Y", remaining_volume_t="-5", reclaim_as="nope")
    _edit(folder / "sinks.csv", "L", remaining_volume_t="lots")
    with pytest.raises(InputError) as exc:
        load_scenario(folder)
    where = {(p.file and Path(p.file).name, p.row, p.column) for p in exc.value.problems}
    assert ("sinks.csv", 2, "remaining_volume_t") in where
    assert ("sinks.csv", 3, "remaining_volume_t") in where
    text = str(exc.value.problems)
    assert "-5" in text or "greater than or equal to 0" in text


def test_reclaim_as_must_name_a_pile_and_a_storage_sink(tmp_path):
    data = copy.deepcopy(STORE)
    data["sinks"][0]["reclaim_as"] = "kz"
    data["sinks"][1]["reclaim_as"] = "ky"
    with pytest.raises(InputError) as exc:
        validated(data)
    problems = {(p.table, p.row, p.column): p.message for p in exc.value.problems if p.severity == "error"}
    assert "unknown stockpiles id 'kz'" in problems[("sinks", 1, "reclaim_as")]
    assert "only stored tonnes" in problems[("sinks", 2, "reclaim_as")]


def test_reclaim_as_of_another_category_is_a_warning():
    from flowopt.checks import check_scenario

    data = copy.deepcopy(STORE)
    data["streams"][0]["category"] = "tailings"
    found = [p for p in check_scenario(validated(data)) if p.column == "reclaim_as"]
    assert found and found[0].severity == "warning" and "composition and category" in found[0].message


def test_airspace_reads_from_a_workbook(tmp_path):
    out = tmp_path / "store.xlsx"
    assert main(["convert", str(write_scenario(validated(STORE), tmp_path / "s")), str(out)]) == 0
    s = load_scenario(out)
    y = next(d for d in s.sinks if d.id == "Y")
    assert (y.remaining_volume_t, y.reclaim_as) == (150, "ky")


def test_the_bundled_pathway_reports_airspace_years_left(capsys):
    r = run_pathway(PARK_2025 / "pathway.yaml", diagnose_infeasible=False)
    assert r.ok
    # what each year leaves is the next year's start, and the end over the last intake
    for d in ("D01", "D02", "D03"):
        rows = [a for y in r.years for a in y.airspace if a.sink == d]
        assert [a.remaining_start_t for a in rows[1:]] == pytest.approx([a.remaining_end_t for a in rows[:-1]])
        assert r.airspace_years_left[d] == pytest.approx(rows[-1].remaining_end_t / rows[-1].intake_t)
    assert all(v == pytest.approx(0) for v in r.airspace_value_cny_per_t.values())
