"""Issue 15, the park as it really is: both rate readings side by side, standards as named limits.

* ``--rate-mode`` switches which official rate the target applies to; the three rates are
  recomputed here from the flows and the input records, not read from flowopt's KPIs.
* Quality limits name their standard and clause; the cards say which standard binds; a limit
  can hold for every stream on its own (``applies_to: each_stream``); properties that are not
  mass fractions (``…_share``, ``…_index``) stay out of the composition's mass balance.
* The bundled data carry the new fields and quote the plan's own wording of the target.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from support import BLEND, PARK_2023, PARK_2025, ROOT, make

from flowopt.checks import check_scenario, validated
from flowopt.errors import InfeasibleError, InputError
from flowopt.io import load_scenario
from flowopt.pipeline import run, with_policy
from flowopt.schema import LimitScope, Scenario
from flowopt.yamlload import parse_yaml

PLAN_QUOTE = "工业固废处置率达到 70%，工业废水处置率达到 100%"
SEED = ROOT.parent / "shared" / "seed"


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from flowopt.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------------------------------
# A park where the three readings give three different answers (all by hand)
# ---------------------------------------------------------------------------------------------

#: 100 t of tailings; a reuse project P (capacity 30 t, 6 CNY/t), a landfill L (disposal, 8 CNY/t)
#: and a yard Y (storage, 1 CNY/t). Target 60 %, transport free.
#: * utilization: U/G >= 0.6 needs 60 t in P, which holds 30: out of reach, at most 30 %.
#: * utilization plus disposal: (U + D)/G >= 0.6: P 30 (180) + L 30 (240) + Y 40 (40) = 460.
#: * disposal only: D/G >= 0.6: L 60 (480) + Y 40 (40) = 520 (P at 6 costs more than Y at 1).
READINGS: dict[str, Any] = {
    "id": "readings",
    "policy": {"target_rate": 0.6},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [{"id": "t", "site": "A", "category": "tailings", "generation_t": 100}],
    "projects": [{"id": "P", "site": "A", "capacity_t": 30, "processing_cost_cny_per_t": 6, "product_fraction": 1}],
    "sinks": [
        {"id": "L", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 8},
        {"id": "Y", "site": "A", "counts_as": "storage", "fee_cny_per_t": 1},
    ],
    "accepts": [{"outlet": "P", "stream": "t"}, {"outlet": "L", "stream": "t"}, {"outlet": "Y", "stream": "t"}],
}


def _rates_from_flows(s: Scenario, flows: list[dict[str, Any]]) -> dict[str, float]:
    """The three official rates from a plan's flows and the input records alone."""
    projects = {p.id: p for p in s.projects}
    sinks = {d.id: d for d in s.sinks}
    u: dict[str, float] = defaultdict(float)
    d: dict[str, float] = defaultdict(float)
    for f in flows:
        if f["destination"] in projects:
            p = projects[f["destination"]]
            (u if p.counts_as.value == "utilization" else d)[f["origin"]] += f["tonnes"] * (p.product_fraction + p.loss_fraction)
        elif f["destination"] in sinks and sinks[f["destination"]].counts_as.value == "disposal":
            d[f["origin"]] += f["tonnes"]
    g = sum(x.generation_t for x in s.streams)
    return {
        "utilization": (u["new"] + u["legacy"]) / (g + u["legacy"]),
        "utilization_plus_disposal": (u["new"] + u["legacy"] + d["new"] + d["legacy"]) / (g + u["legacy"] + d["legacy"]),
        "disposal_only": (d["new"] + d["legacy"]) / g,
    }


@pytest.fixture
def readings_folder(tmp_path: Path) -> Path:
    from flowopt.io import write_scenario

    folder = tmp_path / "readings"
    write_scenario(make(READINGS), folder)
    return folder


@pytest.mark.parametrize(("mode", "cost", "by_hand"), [
    ("utilization_plus_disposal", 460.0, {"P": 30, "L": 30, "Y": 40}),
    ("disposal_only", 520.0, {"L": 60, "Y": 40}),
])  # fmt: skip
def test_rate_mode_switches_the_rate_and_the_three_rates_follow_the_flows(capsys, readings_folder, mode, cost, by_hand):
    code, out, err = _cli(capsys, "solve", str(readings_folder), "--rate-mode", mode, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rate_mode"] == mode and doc["objective_cny"] == pytest.approx(cost)
    placed = defaultdict(float)
    for f in doc["flows"]:
        placed[f["destination"]] += f["tonnes"]
    assert {k: v for k, v in placed.items() if v > 1e-9} == pytest.approx(by_hand)
    # the three rates of the JSON equal the ones recomputed from the flows, side by side
    want = _rates_from_flows(make(READINGS), doc["flows"])
    assert [r["mode"] for r in doc["rates"]] == list(want)
    for r in doc["rates"]:
        assert r["value"] == pytest.approx(want[r["mode"]], abs=1e-12)
        assert r["target_applies"] == (r["mode"] == mode)
        assert r["formula"] and r["formula_zh"]
    assert doc["kpis"]["target_rate_value"] == pytest.approx(want[mode]) == pytest.approx(0.6)
    # the target card speaks of the chosen rate, in both languages
    card = next(b for b in doc["bottlenecks"] if b["kind"] == "target")
    name = {"utilization_plus_disposal": ("utilization plus disposal", "综合利用处置率"), "disposal_only": ("disposal only", "处置率")}[mode]
    assert name[0] in card["explanation"] and name[1] in card["explanation_zh"] and mode not in card["explanation_zh"]
    # one more point of the target costs: utilization plus disposal moves 1 t from Y (1) to L (8);
    # disposal only moves 1 t from Y to L as well
    assert card["shadow_price"] == pytest.approx(7.0)


def test_rate_mode_in_the_text_report_explain_and_report(capsys, readings_folder, tmp_path):
    code, out, _ = _cli(capsys, "solve", str(readings_folder), "--rate-mode", "utilization_plus_disposal")
    assert code == 0
    assert "Target: 60.0% (utilization plus disposal rate)" in out
    # all three rates side by side with their formulas, naming the target's
    line = next(x for x in out.splitlines() if x.startswith("Official rates"))
    for piece in ("utilization 30.00% (U/(G+U_prior))", "utilization plus disposal 60.00% ((U+D)/(G+U_prior+D_prior))", "disposal 30.00% (D/G)", "the target applies to the utilization plus disposal rate"):
        assert piece in line, line
    code, out, _ = _cli(capsys, "solve", str(readings_folder), "--rate-mode", "utilization_plus_disposal", "--lang", "zh")
    assert "目标适用于综合利用处置率" in out and "综合利用处置率 60.00%" in out
    code, out, _ = _cli(capsys, "explain", str(readings_folder), "--rate-mode", "disposal_only")
    assert code == 0 and "Target 60.0% (disposal rate)" in out
    report = tmp_path / "r.md"
    code, _, _ = _cli(capsys, "report", str(readings_folder), "--rate-mode", "disposal_only", "--out", str(report))
    assert code == 0
    text = report.read_text(encoding="utf-8")
    # the headline leads with the rate the target applies to, then the official utilization rate
    assert "the disposal rate is 60.00% against a target of 60.0% (the official utilization rate U/(G+U_prior) is 0.00%)" in text


def test_rate_mode_diagnosis_names_the_rate_and_where_it_came_from(capsys, readings_folder):
    # utilization: P holds 30 t of 100, so 60 % is out of reach
    code, out, err = _cli(capsys, "solve", str(readings_folder), "--rate-mode", "utilization", "--json")
    assert code == 1
    diag = json.loads(out)["diagnosis"]
    assert diag["rate_mode"] == "utilization" and diag["max_rate"] == pytest.approx(0.3)
    target = next(r for r in diag["conflict"] + diag["relaxations"] if r["kind"] == "target")
    assert "--rate-mode utilization (command line)" in target["where"]
    # with the landfill capped at 50 t, D/G reaches 50 % at most
    sinks = [dict(READINGS["sinks"][0], capacity_t=50), READINGS["sinks"][1]]
    folder = readings_folder.parent / "capped"
    from flowopt.io import write_scenario

    write_scenario(make(READINGS, sinks=sinks), folder)
    code, out, err = _cli(capsys, "solve", str(folder), "--rate-mode", "disposal_only", "--json")
    assert code == 1 and json.loads(out)["diagnosis"]["max_rate"] == pytest.approx(0.5)
    code, _, err = _cli(capsys, "solve", str(folder), "--rate-mode", "disposal_only")
    assert "The 60.0% disposal only target cannot be met" in err
    # a reading other than utilization says that the screens and min cut count utilization only
    assert "Screens" in err and "The target applies to the disposal rate. The screens and the minimum cut below count utilization capacity only." in err
    code, _, err = _cli(capsys, "solve", str(folder), "--rate-mode", "disposal_only", "--lang", "zh")
    assert "处置率目标无法实现" in err


def test_rate_mode_reaches_compare_sweep_export_and_pathway(capsys, readings_folder, tmp_path):
    whatif = tmp_path / "cheap_landfill.yaml"
    whatif.write_text(f"base: {readings_folder}\nchanges:\n  - set: sinks.L.fee_cny_per_t\n    value: 4\n", encoding="utf-8")
    code, out, err = _cli(capsys, "compare", str(readings_folder), str(whatif), "--rate-mode", "disposal_only", "--json")
    assert code == 0, err
    doc = json.loads(out)
    # both sides under disposal only: 520 -> L 60 at 4 + Y 40 = 280
    assert doc["base"]["rate_mode"] == doc["whatif"]["rate_mode"] == "disposal_only"
    assert doc["base"]["objective_cny"] == pytest.approx(520) and doc["whatif"]["objective_cny"] == pytest.approx(280)
    code, out, err = _cli(capsys, "sweep", str(readings_folder), "--from", "0.2", "--to", "0.9", "--rate-mode", "utilization_plus_disposal", "--json")
    assert code == 0, err
    curve = json.loads(out)
    assert curve["rate_mode"] == "utilization_plus_disposal"
    # (U + D)/G can reach 100 % (everything into P and L), utilization alone only 30 %
    assert curve["max_rate"] == pytest.approx(1.0)
    lp = tmp_path / "m.lp"
    code, _, err = _cli(capsys, "export", str(readings_folder), str(lp), "--rate-mode", "disposal_only")
    assert code == 0, err
    row = next(x for x in lp.read_text(encoding="utf-8").split("\n\n") if "target" in x)
    assert "flow_t" in row


def test_the_workbook_and_the_report_show_the_three_rates_with_formulas(tmp_path):
    import pandas as pd

    from flowopt.report import report_markdown
    from flowopt.workbook import PLAN_SHEETS, write_plan_workbook

    plan = run(make(READINGS), rate_mode="utilization_plus_disposal")
    path = write_plan_workbook(plan, tmp_path / "plan.xlsx")
    summary = pd.read_excel(path, sheet_name=PLAN_SHEETS["summary"].en).astype(str)
    rows = {r.iloc[0]: (float(r.iloc[1]), r.iloc[2]) for _, r in summary.iterrows() if "(official)" in r.iloc[0]}
    assert rows == {
        "utilization rate (official)": (pytest.approx(0.3), "U/(G+U_prior)"),
        "utilization plus disposal rate (official)": (pytest.approx(0.6), "(U+D)/(G+U_prior+D_prior) (the target's rate)"),
        "disposal rate (official)": (pytest.approx(0.3), "D/G"),
    }
    md = report_markdown(plan, make(READINGS))
    table = md[md.index("## Official rates"):]
    for name in ("utilization rate", "utilization plus disposal rate (target)", "disposal rate"):
        assert name in table
    assert "(U + D) / (G + U_prior + D_prior)" in table


@pytest.mark.slow
def test_pathway_follows_the_rate_mode(capsys):
    code, out, err = _cli(capsys, "pathway", "--rate-mode", "utilization_plus_disposal", "--json", "--no-diagnosis")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rate_mode"] == "utilization_plus_disposal"
    assert all(y["rate_mode"] == "utilization_plus_disposal" for y in doc["years"])


def test_with_policy_rejects_an_unknown_rate_mode_and_keeps_the_scenario_otherwise():
    s = make(READINGS)
    assert with_policy(s) is s
    assert with_policy(s, rate_mode="disposal_only").policy.rate_mode.value == "disposal_only"
    with pytest.raises(InputError) as info:
        with_policy(s, target_rate=1.5, rate_mode="disposal")
    assert {(p.table, p.column) for p in info.value.problems} == {("policy", "target_rate"), ("policy", "rate_mode")}
    with pytest.raises(InputError):
        run(s, rate_mode="recycling")


@pytest.mark.slow
def test_the_plans_other_reading_does_not_bind_in_2023_and_the_default_does():
    """The README's measured table: read as utilization + disposal, 2023 already meets 70 %."""
    plan = run(PARK_2023, rate_mode="utilization_plus_disposal", explain=False)
    flows = [f.model_dump() for f in plan.flows]
    rates = _rates_from_flows(load_scenario(PARK_2023), flows)
    assert rates["utilization_plus_disposal"] == pytest.approx(plan.kpis.target_rate_value)
    # 25.07 % before issue 15's retarder market: R10 may sell 300,000 t of retarder, so 83,333 t
    # of its Ti gypsum go to the landfill instead (disposal: U + D unchanged), −0.48 points of U
    assert f"{rates['utilization_plus_disposal']:.2%}" == "92.43%" and f"{rates['utilization']:.2%}" == "24.58%"
    assert plan.target_marginal_cost is None or plan.target_marginal_cost.cny_per_point == 0
    with pytest.raises(InfeasibleError):
        run(PARK_2023, explain=False)
    # D/G cannot reach 70 %: every tailings tonne to the dam D03 and the landfill D01 full (1 Mt)
    with pytest.raises(InfeasibleError) as info:
        run(PARK_2025, rate_mode="disposal_only", explain=False)
    s = load_scenario(PARK_2025)
    tailings = sum(x.generation_t for x in s.streams if x.category.value == "tailings")
    d01 = next(d for d in s.sinks if d.id == "D01").capacity_t
    assert info.value.diagnosis.max_rate == pytest.approx((tailings + d01) / sum(x.generation_t for x in s.streams), rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Standards as named composition limits
# ---------------------------------------------------------------------------------------------

#: A sand line takes raw tailings (SO3 1.25 %) and desulphurized secondary tailings (SO3 0.25 %)
#: under GB/T 14684's SO3 <= 0.5 %: x_raw (1.25 - 0.5) <= x_sec (0.5 - 0.25), x_raw <= x_sec / 3.
#: 100 t each, sand sells at 10 CNY/t, the landfill costs 5 CNY/t: the line takes all 100 t of
#: secondary and 33.33 t of raw; 66.67 t of raw go to the landfill. Cost -1333.33 + 333.33 = -1000.
SAND: dict[str, Any] = {
    "id": "sand",
    "policy": {"target_rate": 0.0},
    "transport": {"fixed_cny_per_t": 0, "variable_cny_per_t_km": 0},
    "sites": [{"id": "A"}],
    "streams": [
        {"id": "raw", "site": "A", "category": "tailings", "generation_t": 100},
        {"id": "sec", "site": "A", "category": "tailings", "generation_t": 100},
    ],
    "composition": [
        {"stream": "raw", "component": "SO3", "fraction": 0.0125},
        {"stream": "sec", "component": "SO3", "fraction": 0.0025},
    ],
    "projects": [{"id": "sand", "site": "A", "capacity_t": 1000, "revenue_cny_per_t": 10, "product_fraction": 1}],
    "quality": [{"project": "sand", "component": "SO3", "max_fraction": 0.005, "standard": "GB/T 14684-2022", "clause": "6.4"}],
    "sinks": [{"id": "landfill", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}],
    "accepts": [{"outlet": "sand", "stream": "*"}, {"outlet": "landfill", "stream": "*"}],
}


def _to(plan, stream: str, destination: str) -> float:
    return sum(f.tonnes for f in plan.flows if f.stream == stream and f.destination == destination)


def test_a_standard_limited_blend_by_hand_and_the_card_names_the_standard():
    plan = run(make(SAND))
    assert plan.objective_cny == pytest.approx(-1000)
    assert _to(plan, "sec", "sand") == pytest.approx(100)
    assert _to(plan, "raw", "sand") == pytest.approx(100 / 3)
    assert _to(plan, "raw", "landfill") == pytest.approx(200 / 3)
    card = next(b for b in plan.bottlenecks if b.kind == "quality_max")
    assert card.subject == "sand" and card.limit == pytest.approx(0.005)
    # one point more (q = 0.005 -> 0.015): d x_raw / dq = 100 (0.0125 - 0.0025) / (0.0125 - q)^2,
    # each tonne moved from the landfill to sand saves 10 + 5
    assert card.shadow_price == pytest.approx(15 * 100 * 0.01 / 0.0075**2 * 0.01)
    assert "The limit is set by GB/T 14684-2022, clause 6.4." in card.explanation
    assert "该限值依据 GB/T 14684-2022 第 6.4 条。" in card.explanation_zh
    assert "binds at 0.50% of the blended feed" in card.explanation
    # a limit without a standard says nothing of one
    data = copy.deepcopy(SAND)
    data["quality"][0].pop("standard")
    data["quality"][0].pop("clause")
    assert "set by" not in next(b for b in run(make(data)).bottlenecks if b.kind == "quality_max").explanation


def test_an_index_is_shown_as_a_number_and_stays_out_of_the_mass_balance():
    # GB 6566: fly ash I_r 0.8 and slag I_r 0.2 under I_r <= 0.6: x_ash (0.8 - 0.6) <= x_slag (0.6 - 0.2),
    # x_ash <= 2 x_slag: 100 t slag + 200 t of the 300 t ash in blocks (10 CNY/t), 100 t ash landfilled (5).
    data = copy.deepcopy(BLEND)
    data["streams"] = [{"id": "ash", "site": "A", "category": "fly_ash", "generation_t": 300}, {"id": "slag", "site": "A", "category": "smelting_slag", "generation_t": 100}]
    # SiO2 0.5 + I_r_index 0.8 add up to 1.3: an index is not a mass fraction, so no error
    data["composition"] = [{"stream": "ash", "component": "SiO2", "fraction": 0.5}, {"stream": "ash", "component": "I_r_index", "fraction": 0.8}, {"stream": "slag", "component": "I_r_index", "fraction": 0.2}]
    data["projects"] = [{"id": "blocks", "site": "A", "capacity_t": 1000, "revenue_cny_per_t": 10, "product_fraction": 1}]
    data["quality"] = [{"project": "blocks", "component": "I_r_index", "max_fraction": 0.6, "standard": "GB 6566-2010", "clause": "3"}]
    data["sinks"] = [{"id": "landfill", "site": "A", "counts_as": "disposal", "fee_cny_per_t": 5}]
    data["accepts"] = [{"outlet": "blocks", "stream": "*"}, {"outlet": "landfill", "stream": "*"}]
    plan = run(make(data))
    assert plan.objective_cny == pytest.approx(-3000 + 500)
    assert _to(plan, "ash", "blocks") == pytest.approx(200)
    card = next(b for b in plan.bottlenecks if b.kind == "quality_max")
    assert "binds at 0.60 (an index, blended by tonnes)" in card.explanation and "100.00%" not in card.explanation
    assert "0.60（指数，按吨数加权）" in card.explanation_zh and "GB 6566-2010" in card.explanation_zh
    # the same numbers under a name without the suffix are mass fractions: 1.3 is an error
    for row in data["composition"]:
        row["component"] = row["component"].replace("_index", "")
    data["quality"][0]["component"] = "I_r"
    with pytest.raises(InputError) as info:
        make(data)
    p = next(p for p in info.value.problems if p.table == "composition")
    assert "sum to 1.3000" in p.message and "_share or _index" in p.hint


def test_a_limit_on_each_stream_refuses_an_accepted_stream_that_breaks_it():
    # free CaO of a steel-slag aggregate: 5 % raw slag may not be diluted into a 3 % limit
    data = copy.deepcopy(SAND)
    data["composition"] = [{"stream": "raw", "component": "fCaO", "fraction": 0.05}, {"stream": "sec", "component": "fCaO", "fraction": 0.02}]
    data["quality"] = [{"project": "sand", "component": "fCaO", "max_fraction": 0.03, "applies_to": "each_stream", "standard": "GB/T 25824-2010"}]
    with pytest.raises(InputError) as info:
        make(data)
    [p] = [p for p in info.value.problems if p.column == "applies_to"]
    assert p.table == "quality" and p.row == 1
    assert "'raw'" in p.message and "0.05" in p.message and "GB/T 25824-2010" in p.message and "(sand, raw)" in p.hint
    # as a blend limit the same data solve: dilution is allowed (x_raw (0.05 - 0.03) <= x_sec (0.03 - 0.02))
    data["quality"][0]["applies_to"] = "blend"
    plan = run(make(data))
    assert _to(plan, "raw", "sand") == pytest.approx(50)
    # and with the raw slag no longer accepted, the per-stream limit is met and never binds
    data["quality"][0]["applies_to"] = "each_stream"
    data["accepts"] = [{"outlet": "sand", "stream": "sec"}, {"outlet": "landfill", "stream": "*"}]
    plan = run(make(data))
    assert _to(plan, "sec", "sand") == pytest.approx(100) and not [b for b in plan.bottlenecks if b.kind.startswith("quality")]


def test_a_clause_without_a_standard_is_a_warning():
    data = copy.deepcopy(SAND)
    data["quality"][0]["standard"] = ""
    problems = check_scenario(make(SAND).model_copy(update={"quality": tuple(q.model_copy(update={"standard": ""}) for q in make(SAND).quality)}))
    assert [(p.column, p.severity) for p in problems] == [("clause", "warning")]
    make(data)  # a warning does not stop a run


def test_the_limit_fields_come_through_csv_and_a_workbook(tmp_path):
    from flowopt.io import write_scenario, write_workbook

    s = make(SAND)
    write_scenario(s, tmp_path / "f")
    header = (tmp_path / "f" / "quality.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == ["project", "component", "min_fraction", "max_fraction", "standard", "clause", "applies_to", "source"]
    write_workbook(s, tmp_path / "s.xlsx")
    for back in (load_scenario(tmp_path / "f"), load_scenario(tmp_path / "s.xlsx")):
        q = back.quality[0]
        assert (q.standard, q.clause, q.applies_to) == ("GB/T 14684-2022", "6.4", LimitScope.blend)
    # the report's sources name the standard ahead of the limit's source
    from flowopt.report import sources_table

    [(_, _key, text, _)] = [r for r in sources_table(make(SAND)) if r[0] == "quality"]
    assert text == "GB/T 14684-2022 §6.4"
    # a bad scope is a located input error
    bad = copy.deepcopy(SAND)
    bad["quality"][0]["applies_to"] = "each"
    with pytest.raises(InputError) as info:
        validated(bad)
    assert any(p.table == "quality" and p.column == "applies_to" for p in info.value.problems)


# ---------------------------------------------------------------------------------------------
# The bundled data
# ---------------------------------------------------------------------------------------------


def test_the_bundled_limits_name_their_standards_and_say_how_they_were_checked():
    s = load_scenario(PARK_2025)
    q = {(x.project, x.component): x for x in s.quality}
    assert (q["R06", "SO3"].standard, q["R06", "SO3"].clause, q["R06", "SO3"].max_fraction) == ("GB/T 14684-2022", "6.4", 0.005)
    assert q["R07", "leach_class_II_share"].standard == "GB 18599-2020" and q["R07", "leach_class_II_share"].max_fraction == 0
    for project in ("R02", "R06"):
        assert q[project, "I_Ra_index"].standard == q[project, "I_r_index"].standard == "GB 6566-2010"
        assert q[project, "I_Ra_index"].max_fraction == q[project, "I_r_index"].max_fraction == 1.0
        assert q[project, "fCaO"].applies_to == LimitScope.each_stream and not q[project, "fCaO"].standard
        assert "estimate" in q[project, "fCaO"].source
    # GB/T 203 governs slag as a cement admixture, not kiln raw meal: no TiO2 limit on R12
    assert ("R12", "TiO2") not in q
    # every limit with a standard says where its number was read or that it was not
    for x in s.quality:
        if x.standard:
            assert re.search(r"verif|not (read|seen|retrieved)|estimate", x.source), (x.project, x.component)
    # W03's sulphur is stated once, as SO3 (2.497 × the brief's 0.5 % S)
    comp = {(c.stream, c.component): c.fraction for c in s.composition}
    assert ("W03", "S") not in comp and comp["W03", "SO3"] == pytest.approx(0.005 * 80.06 / 32.06, abs=1e-4)
    # the 2023 park has the same streams and compositions
    assert load_scenario(PARK_2023).composition == s.composition


@pytest.mark.slow
def test_the_bundled_2025_plan_says_gb18599_binds(park_plan):
    card = next(b for b in park_plan.bottlenecks if b.constraint == "quality_max[R07,leach_class_II_share]")
    assert "GB 18599-2020, clause 8" in card.explanation and "GB 18599-2020 第 8 条" in card.explanation_zh
    assert card.shadow_price > 0
    # what the class-II limit costs, by a second solve without it: 128,000 CNY/yr (by hand in
    # test_firms_and_tables: W15 to the yard saves 64,000, W03 from the dam to R07 costs 192,000)
    s = load_scenario(PARK_2025)
    without = s.model_copy(update={"quality": tuple(x for x in s.quality if x.component != "leach_class_II_share")})
    assert run(without, explain=False).objective_cny - park_plan.objective_cny == pytest.approx(-128_000, abs=1)
    assert park_plan.max_utilization_rate == pytest.approx(run(without).max_utilization_rate, abs=1e-9)


def test_the_scenario_and_its_readme_quote_the_plans_wording():
    for folder in (PARK_2025, PARK_2023):
        manifest = parse_yaml((folder / "scenario.yaml").read_text(encoding="utf-8"))
        wording = manifest["sources"]["plan.target_wording"]
        assert PLAN_QUOTE in wording and "攀东府办〔2023〕4号" in wording
        assert manifest["policy"]["rate_mode"] == "utilization"
        assert "utilization_plus_disposal" in (folder / "scenario.yaml").read_text(encoding="utf-8")
    readme = (PARK_2025 / "README.md").read_text(encoding="utf-8")
    assert PLAN_QUOTE in readme and "--rate-mode" in readme
    # the quote is the plan's own sentence (when the plan's text is at hand)
    seeds = sorted(SEED.glob("*.txt")) if SEED.is_dir() else []
    if not seeds:
        pytest.skip("the park plan's text (../shared/seed) is not in this checkout")
    plan_text = "".join(p.read_text(encoding="utf-8") for p in seeds)
    quoted = wording.split(" (攀东府办")[0]
    assert quoted in plan_text
