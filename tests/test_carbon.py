"""Carbon (issue 15, item 6): CO2 by hand, the cap and its price, the cost–CO2 curve against
dense re-solves, the bundled factors, located input errors."""

from __future__ import annotations

import copy
import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from support import PARK_2025

from flowopt.checks import validated
from flowopt.cli import main
from flowopt.errors import InputError
from flowopt.formulation import assemble
from flowopt.graph import Distances, build_graph, matching_routes, route_index
from flowopt.io import load_scenario, write_scenario
from flowopt.pipeline import run
from flowopt.solve import Session
from flowopt.sweep import co2_cost_curve

#: Stream s (100 t, firm F at site A) goes 10 km to project P at B (80 % product, 20 % residue
#: r that P's own site landfill L2 takes) or stays at A in the landfill L (fee 5). Trucks emit
#: 0.0001 tCO2 per t·km, the grid 0.5 tCO2/MWh; P uses 20 kWh/t, burns 0.01 tCO2/t and its
#: product displaces 0.05 tCO2 per tonne.
HAUL: dict[str, Any] = {
    "id": "haul",
    "policy": {"target_rate": 0.0, "grid_tco2_per_mwh": 0.5},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0.1, "tco2_per_t_km": 0.0001},
    "sites": [{"id": "A"}, {"id": "B"}],
    "distances": [{"from_site": "A", "to_site": "B", "distance_km": 10}],
    "firms": [{"id": "F", "site": "A"}],
    "streams": [{"id": "s", "firm": "F", "category": "smelting_slag", "generation_t": 100}, {"id": "r", "category": "smelting_slag"}],
    "projects": [{"id": "P", "site": "B", "capacity_t": 1000, "processing_cost_cny_per_t": 10, "revenue_cny_per_t": 30, "product_fraction": 0.8, "process_tco2_per_t": 0.01, "electricity_kwh_per_t": 20, "product_avoided_tco2_per_t": 0.05}],
    "residues": [{"project": "P", "stream": "r", "fraction": 0.2}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}, {"id": "L2", "site": "B", "counts_as": "disposal", "fee_cny_per_t": 1}],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}, {"outlet": "L2", "stream": "r"}],
}


def test_co2_of_a_plan_by_hand():
    # all 100 t go to P (revenue 30 − 10 processing − 1 haul > −5 landfill); r (20 t) to L2 on site.
    # transport 100 × 10 km × 0.0001 = 0.1; process 100 × 0.01 = 1; electricity 100 × 20 × 0.5 /
    # 1000 = 1; avoided 100 × 0.8 × 0.05 = 4. Gross 2.1, net −1.9.
    plan = run(validated(HAUL))
    c = plan.co2_t
    assert (c.transport_tco2, c.process_tco2, c.electricity_tco2, c.avoided_tco2) == (pytest.approx(0.1), pytest.approx(1.0), pytest.approx(1.0), pytest.approx(4.0))
    assert c.gross_tco2 == pytest.approx(2.1) and c.net_tco2 == pytest.approx(-1.9)
    assert c.cap_t is None and c.price_cny_per_tco2 is None and not c.cap_binding
    (p,) = c.by_project
    assert (p.group, p.tonnes, p.gross_tco2, p.net_tco2) == ("P", pytest.approx(100), pytest.approx(2.1), pytest.approx(-1.9))
    # the residue r has no firm of its own: it is F's (the firm that fed P), so F carries it all
    (f,) = c.by_firm
    assert (f.group, f.gross_tco2, f.avoided_tco2) == ("F", pytest.approx(2.1), pytest.approx(4.0))
    assert "gross 2 tCO2/yr" in c.headline and "总排放 2 吨/年" in c.headline_zh


def test_a_route_of_its_own_replaces_the_trucking_factor():
    data = copy.deepcopy(HAUL)
    data["routes"] = [{"id": "pipe", "from_site": "A", "to_site": "B", "stream": "s", "transport_tco2_per_t": 0.002}]
    c = run(validated(data)).co2_t
    assert c.transport_tco2 == pytest.approx(100 * 0.002)


#: Stream s (100 t) to project P (earns 20 CNY/t net; 100 kWh/t at 0.5 tCO2/MWh = 0.05 tCO2/t;
#: its product avoids 0.02 tCO2/t) or the landfill L (5 CNY/t, no CO2). One site, free transport.
CAPPED: dict[str, Any] = {
    "id": "capped",
    "policy": {"target_rate": 0.0, "grid_tco2_per_mwh": 0.5, "co2_cap_t": 3.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "s", "site": "A", "category": "tailings", "generation_t": 100}],
    "projects": [{"id": "P", "site": "A", "capacity_t": 1000, "processing_cost_cny_per_t": 10, "revenue_cny_per_t": 30, "product_fraction": 1, "electricity_kwh_per_t": 100, "product_avoided_tco2_per_t": 0.02}],
    "sinks": [{"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "P", "stream": "s"}, {"outlet": "L", "stream": "s"}],
}


def capped(cap: float, basis: str = "gross") -> Any:
    data = copy.deepcopy(CAPPED)
    data["policy"] |= {"co2_cap_t": cap, "co2_cap_basis": basis}
    return validated(data)


def test_the_cap_binds_by_hand_with_its_price():
    # 3 tCO2 allow 60 t in P: cost −20 × 60 + 5 × 40 = −1,000. Each tCO2 more lets 20 t more
    # into P instead of L: 20 × 25 = 500 CNY per tCO2.
    plan = run(capped(3.0))
    assert plan.objective_cny == pytest.approx(-1000)
    c = plan.co2_t
    assert c.gross_tco2 == pytest.approx(3.0) and c.cap_binding
    assert c.price_cny_per_tco2 == pytest.approx(500)
    card = next(b for b in plan.bottlenecks if b.kind == "co2_cap")
    assert card.constraint == "co2_cap[gross]" and card.shadow_price == pytest.approx(500)
    # the price holds from no CO2 at all up to 5 t (all 100 t in P)
    assert (card.valid_from, card.valid_to) == (pytest.approx(0), pytest.approx(5))
    assert card.cny_at_stake == pytest.approx(500 * 2)
    assert "CO2" in card.explanation and "二氧化碳" in card.explanation_zh
    assert next(x for x in plan.audit.checks if x.name == "co2_cap").passed
    # net: P emits 0.05 − 0.02 = 0.03 net per tonne, so 3 t allow all 100 t (3.0 exactly)
    assert run(capped(3.0, "net")).objective_cny == pytest.approx(-2000)
    net = run(capped(1.5, "net"))
    assert net.objective_cny == pytest.approx(-20 * 50 + 5 * 50)
    assert net.co2_t.price_cny_per_tco2 == pytest.approx(25 / 0.03)


def test_a_loose_cap_costs_nothing():
    plan = run(capped(50.0))
    assert plan.objective_cny == pytest.approx(-2000)
    assert plan.co2_t.price_cny_per_tco2 == 0 and not plan.co2_t.cap_binding
    assert "does not bind" in plan.co2_t.headline


def test_bundled_cap_price_equals_a_finite_difference():
    base = load_scenario(PARK_2025)
    free = run(base, explain=False).co2_t.gross_tco2
    cap = round(0.8 * free)
    s = base.model_copy(update={"policy": base.policy.model_copy(update={"co2_cap_t": float(cap)})})
    plan = run(s)
    card = next(b for b in plan.bottlenecks if b.kind == "co2_cap")
    assert card.valid_from < cap < card.valid_to
    step = 0.25 * min(cap - card.valid_from, card.valid_to - cap)

    def cost(c: float) -> float:
        return run(s.model_copy(update={"policy": s.policy.model_copy(update={"co2_cap_t": c})}), explain=False).objective_cny

    # inside the valid range the cost is linear in the cap: both one-sided differences agree
    assert (cost(cap - step) - plan.objective_cny) / step == pytest.approx(card.shadow_price, rel=1e-6)
    assert (plan.objective_cny - cost(cap + step)) / step == pytest.approx(card.shadow_price, rel=1e-6)
    assert plan.co2_t.gross_tco2 == pytest.approx(cap, rel=1e-9)
    assert plan.audit.passed


def _by_hand(s: Any, flows: list[Any]) -> dict[str, float]:
    """CO2 of a plan from its flows and the records, written out once more."""
    site = {**{p.id: p.site for p in s.projects}, **{d.id: d.site for d in s.sinks}}
    projects = {p.id: p for p in s.projects}
    index = route_index(s.routes)
    dist = Distances(s)
    out = dict.fromkeys(("transport", "process", "electricity", "avoided"), 0.0)
    for f in flows:
        if f.destination_kind == "unmanaged":
            continue
        rules = matching_routes(index, f.from_site, site[f.destination], f.stream)
        own = [r.transport_tco2_per_t for r in rules if r.transport_tco2_per_t is not None]
        km = next((r.distance_km for r in rules if r.distance_km is not None), None)
        km = dist.km(f.from_site, site[f.destination]) if km is None else km
        out["transport"] += (own[0] if own else s.transport.tco2_per_t_km * km) * f.tonnes
        p = projects.get(f.destination)
        if p is not None:
            out["process"] += p.process_tco2_per_t * f.tonnes
            out["electricity"] += p.electricity_kwh_per_t / 1000 * s.policy.grid_tco2_per_mwh * f.tonnes
            out["avoided"] += p.product_avoided_tco2_per_t * p.product_fraction * f.tonnes
    return out


def test_bundled_co2_equals_flows_times_factors():
    s = load_scenario(PARK_2025)
    plan = run(s, explain=False)
    hand = _by_hand(s, plan.flows)
    c = plan.co2_t
    assert c.transport_tco2 == pytest.approx(hand["transport"], rel=1e-12)
    assert c.process_tco2 == pytest.approx(hand["process"], rel=1e-12)
    assert c.electricity_tco2 == pytest.approx(hand["electricity"], rel=1e-12)
    assert c.avoided_tco2 == pytest.approx(hand["avoided"], rel=1e-12)
    # by project and by firm add up to the park
    for rows in (c.by_project, c.by_firm):
        for part in ("process_tco2", "electricity_tco2", "avoided_tco2"):
            assert sum(getattr(r, part) for r in rows) == pytest.approx(getattr(c, part), rel=1e-9)
    assert sum(r.transport_tco2 for r in c.by_firm) == pytest.approx(c.transport_tco2, rel=1e-9)
    # and the LP's own linear form gives the same gross CO2
    from flowopt.formulation.families import co2_forms

    lp = assemble(build_graph(s))
    out = Session(lp).solve()
    assert co2_forms(lp.network)["co2_gross_tco2"].dot(out.x) == pytest.approx(c.gross_tco2, rel=1e-9)
    # the titanium line's electricity: 1,700 kWh/t × 0.57 tCO2/MWh on 100,000 t
    r03 = next(r for r in c.by_project if r.group == "R03")
    assert r03.electricity_tco2 == pytest.approx(1700 * 0.57 / 1000 * r03.tonnes)
    for p in s.projects:
        assert "co2" in p.source


def test_solve_json_carries_co2(capsys):
    assert main(["solve", "--json", "--no-explain"]) == 0
    doc = json.loads(capsys.readouterr().out)
    c = doc["co2_t"]
    for key in ("gross_tco2", "avoided_tco2", "net_tco2", "by_project", "by_firm", "cap_t", "price_cny_per_tco2"):
        assert key in c
    assert c["net_tco2"] == pytest.approx(c["gross_tco2"] - c["avoided_tco2"])
    assert {r["group"] for r in c["by_project"]} >= {"R01", "R03"}


def test_text_report_shows_co2_in_both_languages(capsys):
    assert main(["solve", "--no-explain", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "二氧化碳：总排放" in out and "净排放（吨二氧化碳/年）" in out
    assert main(["solve", "--no-explain"]) == 0
    assert "CO2: gross" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# flowopt sweep --co2: the cost–CO2 curve with exact breakpoints
# ---------------------------------------------------------------------------------------------


def _cold_cost(s: Any, cap: float) -> float | None:
    capped_s = s.model_copy(update={"policy": s.policy.model_copy(update={"co2_cap_t": float(cap)})})
    out = Session(assemble(build_graph(capped_s))).solve()
    return out.objective if out.ok else None


def _check_against_dense_resolves(s: Any, curve: Any, grid: int) -> None:
    """Every cold re-solve on a dense grid lies on the curve interpolated between its breakpoints,
    and the slope really changes at each breakpoint."""
    knots = [curve.from_cap_tco2, *curve.breakpoints, curve.to_cap_tco2]
    values = {k: _cold_cost(s, k) for k in knots}
    scale = max(1.0, max(abs(v) for v in values.values() if v is not None))
    for x in np.linspace(curve.from_cap_tco2, curve.to_cap_tco2, grid):
        i = max(j for j in range(len(knots) - 1) if knots[j] <= x + 1e-9) if x > knots[0] else 0
        a, b = knots[i], knots[min(i + 1, len(knots) - 1)]
        expect = values[a] if b == a else values[a] + (values[b] - values[a]) * (x - a) / (b - a)
        got = _cold_cost(s, float(x))
        assert got is not None
        assert got == pytest.approx(expect, abs=1e-7 * scale), f"cap {x}: {got} vs {expect}"
    # a kink at each breakpoint: the slopes on both sides differ
    for left, mid, right in zip(knots, knots[1:], knots[2:], strict=False):
        slope_l = (values[mid] - values[left]) / (mid - left)
        slope_r = (values[right] - values[mid]) / (right - mid)
        assert not math.isclose(slope_l, slope_r, rel_tol=1e-6, abs_tol=1e-6), mid


def test_sweep_co2_by_hand():
    # cost(E) = −20 × min(100, 20 E) + 5 × (100 − 20 E) for E in [0, 5]: slope 500 CNY per tCO2,
    # one kink at E = 5 (all 100 t in P), flat above
    s = capped(3.0)
    curve = co2_cost_curve(s, 0.0, 8.0, step=0.5)
    assert curve.least_tco2 == pytest.approx(0) and curve.free_tco2 == pytest.approx(5)
    assert curve.breakpoints == [pytest.approx(5)]
    assert [round(g.cny_per_tco2, 6) for g in curve.segments] == [500, 0]
    assert [(g.start_cap_tco2, g.end_cap_tco2) for g in curve.segments] == [pytest.approx((0, 5)), pytest.approx((5, 8))]
    for p in curve.points:
        assert p.objective_cny == pytest.approx(-20 * min(100, 20 * p.cap_tco2) + 5 * max(0, 100 - 20 * p.cap_tco2))


def test_sweep_co2_breakpoints_against_a_dense_grid_on_the_bundled_park():
    s = load_scenario(PARK_2025)
    curve = co2_cost_curve(s)
    assert curve.status == "ok" and len(curve.breakpoints) >= 3
    assert curve.least_tco2 < curve.free_tco2
    # the curve falls as the cap rises, and its slopes shrink (convex)
    slopes = [g.cny_per_tco2 for g in curve.segments]
    assert all(a >= b - 1e-6 for a, b in itertools.pairwise(slopes))
    _check_against_dense_resolves(s, curve, grid=120)


@pytest.mark.parametrize("seed", [1, 2, 7, 9])
def test_sweep_co2_breakpoints_against_a_dense_grid_on_random_parks(seed):
    from flowopt.synthetic import random_park

    data = random_park(8, seed, airspace_carbon=True)
    data["policy"].pop("co2_cap_t", None)
    s = validated(data)
    curve = co2_cost_curve(s)
    assert curve.status == "ok" and curve.breakpoints
    _check_against_dense_resolves(s, curve, grid=60)


def test_sweep_co2_cli_json_text_and_files(capsys, tmp_path):
    assert main(["sweep", "--co2", "--json", "--cap-from", "150000", "--cap-to", "300000"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["basis"] == "gross" and doc["breakpoints"] and doc["points"][0]["cap_tco2"] == pytest.approx(150000)
    out = tmp_path / "co2"
    assert main(["sweep", "--co2", "--lang", "zh", "--out", str(out), "--cap-step", "10000"]) == 0
    text = capsys.readouterr().out
    assert "成本—碳排放曲线" in text and "断点" in text and "元/吨二氧化碳" in text
    assert {p.name for p in out.iterdir()} >= {"co2_curve.csv", "co2_segments.csv", "co2_curve.svg"}
    assert "<svg" in (out / "co2_curve.svg").read_text(encoding="utf-8")


def test_sweep_co2_bad_caps_are_located(capsys):
    assert main(["sweep", "--co2", "--cap-from", "nan", "--cap-to", "inf", "--cap-step", "0", "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "invalid_input"
    assert {p["column"] for p in doc["problems"]} == {"cap_from", "cap_to", "cap_step"}


def test_sweep_co2_below_the_least_co2_starts_at_it():
    curve = co2_cost_curve(capped(3.0), 0.0, 2.0)
    assert curve.points[0].cap_tco2 == pytest.approx(0)
    with pytest.raises(InputError):
        co2_cost_curve(capped(3.0), 5.0, 2.0)


# ---------------------------------------------------------------------------------------------
# Bad input: every problem located
# ---------------------------------------------------------------------------------------------


def test_bad_factors_are_located_all_at_once(tmp_path):
    import csv
    import io

    folder = write_scenario(validated(HAUL), tmp_path / "s")
    path = folder / "projects.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    rows[0].update(electricity_kwh_per_t="-3", product_avoided_tco2_per_t="500", process_tco2_per_t="abc")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    manifest = folder / "scenario.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("grid_tco2_per_mwh: 0.5", "grid_tco2_per_mwh: 7"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(folder)
    cols = {(p.table, p.row, p.column) for p in exc.value.problems}
    assert {("projects", 2, "electricity_kwh_per_t"), ("projects", 2, "product_avoided_tco2_per_t"), ("projects", 2, "process_tco2_per_t")} <= {(t, r, c) for t, r, c in cols}
    assert any(c and "grid_tco2_per_mwh" in c for _, _, c in cols)


def test_a_cap_without_factors_is_a_warning():
    from flowopt.checks import check_scenario

    data = copy.deepcopy(CAPPED)
    data["policy"]["grid_tco2_per_mwh"] = 0.0
    data["projects"][0]["product_avoided_tco2_per_t"] = 0.0
    found = {p.column: p for p in check_scenario(validated(data))}
    assert found["co2_cap_t"].severity == "warning" and "limits nothing" in found["co2_cap_t"].message
    # with a factor it is no warning
    assert not [p for p in check_scenario(validated(CAPPED)) if p.column == "co2_cap_t"]


def test_factors_read_from_a_workbook(tmp_path):
    out = tmp_path / "capped.xlsx"
    assert main(["convert", str(write_scenario(capped(3.0, "net"), tmp_path / "s")), str(out)]) == 0
    s = load_scenario(out)
    assert (s.policy.co2_cap_t, s.policy.co2_cap_basis.value, s.policy.grid_tco2_per_mwh) == (3.0, "net", 0.5)
    assert s.projects[0].electricity_kwh_per_t == 100
    assert run(s).objective_cny == pytest.approx(run(capped(3.0, "net")).objective_cny)


def test_template_documents_the_new_fields_with_units():
    from flowopt.workbook import dictionary_rows

    rows = {(r[0], r[2]): r for r in dictionary_rows("en")}
    assert rows[("projects", "electricity_kwh_per_t")][5] == "kWh/t"
    assert rows[("projects", "product_avoided_tco2_per_t")][5] == "tCO2/t"
    assert rows[("sinks", "remaining_volume_t")][5] == "t"
    assert rows[("scenario", "policy.co2_cap_t")][5] == "tCO2/yr"
    assert rows[("scenario", "transport.tco2_per_t_km")][5] == "tCO2/(t·km)"


def test_the_bundled_cap_what_if_binds():
    from flowopt.overrides import load_whatif

    base = load_scenario(PARK_2025)
    whatif = load_whatif(PARK_2025 / "whatifs" / "co2_cap_250kt.yaml")
    plan = run(whatif, explain=False)
    assert plan.co2_t.cap_t == 250_000 and plan.co2_t.cap_binding
    assert plan.co2_t.gross_tco2 == pytest.approx(250_000, rel=1e-9)
    assert plan.objective_cny > run(base, explain=False).objective_cny


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_and_workbook_carry_airspace_and_co2(lang, tmp_path):
    from openpyxl import load_workbook

    from flowopt.report import report_html, report_markdown
    from flowopt.workbook import plan_sheets, write_plan_workbook

    plan = run(PARK_2025, explain=False)
    md = report_markdown(plan, load_scenario(PARK_2025), lang=lang)
    heads = ("## CO2 emissions", "## Airspace of the disposal and storage sites") if lang == "en" else ("## 二氧化碳排放", "## 处置/贮存设施剩余库容")
    assert all(h in md for h in heads)
    assert "R03" in report_html(plan, load_scenario(PARK_2025), lang=lang)
    book = load_workbook(write_plan_workbook(plan, tmp_path / "plan.xlsx", lang=lang))
    names = plan_sheets(lang)
    co2 = list(book[names["co2"]].iter_rows(min_row=2, values_only=True))
    assert co2[0][-1] == pytest.approx(plan.co2_t.net_tco2, rel=1e-6)
    air = {r[0]: r for r in book[names["airspace"]].iter_rows(min_row=2, values_only=True)}
    assert set(air) == {"D01", "D02", "D03"} and air["D03"][5] == pytest.approx(plan.airspace[2].remaining_t, rel=1e-6)
