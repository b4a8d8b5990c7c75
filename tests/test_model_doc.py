"""models/README.md documents exactly the components the code builds."""

from __future__ import annotations

import re

import pyomo.environ as pyo
from support import ROOT, make

from flowopt.graph import build_graph
from flowopt.model import build_model

DOC = (ROOT / "models" / "README.md").read_text(encoding="utf-8")


def documented_names() -> set[str]:
    # first column of the component tables (sections 2-6, before the rate-mode table)
    part = DOC[DOC.index("## 2. Sets") : DOC.index("### The target")]
    # names may hold digits (co2_cap, CO2_CAPS)
    return set(re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", part, flags=re.MULTILINE)) | {"total_cost"}


def model_names() -> set[str]:
    data = {
        **make().model_dump(mode="json"),
    }
    # a network that exercises every family: add a quality limit, a share cap, a route cap
    data["composition"] = [{"stream": s, "component": "TiO2", "fraction": 0.1} for s in ("s1", "s2", "old")]
    data["quality"] = [{"project": "Q", "component": "TiO2", "max_fraction": 0.2, "min_fraction": 0.01}]
    data["accepts"] = [dict(a, max_share=0.9) if a["outlet"] == "Q" and a["stream"] == "s2" else a for a in data["accepts"]]
    data["sinks"] = [dict(data["sinks"][0], capacity_t=1000)]
    data["projects"] = [dict(data["projects"][0], min_intake_t=1), data["projects"][1]]
    data["routes"] = [{"id": "r1", "from_site": "A", "to_site": "A", "capacity_t": 1e6}]
    m = build_model(build_graph(make(data)))
    kinds = (pyo.Set, pyo.Param, pyo.Var, pyo.Expression, pyo.Constraint, pyo.Objective)
    names = set()
    for kind in kinds:
        for c in m.component_objects(kind, descend_into=False):
            names.add(c.local_name)
    return names


def test_every_model_component_is_documented_and_vice_versa():
    code = model_names()
    doc = documented_names()
    assert "`total_cost`" in DOC
    assert code - doc == set(), f"undocumented components: {sorted(code - doc)}"
    assert doc - code == set(), f"documented but not in the model: {sorted(doc - code)}"


def test_every_constraint_builder_has_its_formula_in_the_docstring():
    import flowopt.model as mod

    for name in dir(mod):
        if name.startswith("add_") and name != "add_objective":
            fn = getattr(mod, name)
            assert ".. math::" in (fn.__doc__ or ""), name


def test_every_registry_family_and_term_is_documented_with_both_labels():
    from flowopt.formulation import COLUMNS, ROWS, TERMS
    from flowopt.formulation.families import STOCK_TOTAL

    part = DOC[DOC.index("## 10. The family registry") :]
    for fam in (*ROWS, STOCK_TOTAL):
        assert f"| `{fam.name}`" in part, fam.name
        assert fam.label_en and fam.label_zh and fam.unit
    for col in COLUMNS:
        assert f"`{col.name}`" in DOC and col.label_zh
    for term in TERMS:
        assert f"`{term.name}`" in part and term.label_zh


def test_the_pathway_model_components_are_documented():
    from flowopt.model import build_pathway_model

    g = build_graph(make())
    m = build_pathway_model([(2024, g, 1.0), (2025, g, 0.9)], {"k": 1000.0})
    names = {c.local_name for c in m.component_objects(descend_into=False)}
    part = DOC[DOC.index("## 9. The multi-year pathway") : DOC.index("## 10. The family registry")]
    for name in names:
        assert f"`{name}`" in part, name
