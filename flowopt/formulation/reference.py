"""The Pyomo reference model, and the check that it is the LP flowopt solves.

:func:`to_pyomo` returns the readable Pyomo model of a scenario (:mod:`flowopt.model`, the
formulation of record, documented in ``models/README.md``) for users who want to add their
own constraints or use another Pyomo solver. :func:`differences` compiles that model with
Pyomo's standard-form compiler and compares it, entry by entry, with the array-assembled LP
of :func:`flowopt.formulation.assemble`: same rows, columns, coefficients, bounds and costs
after a canonical ordering by (family, key).

Pyomo drops a constraint whose body has no variable left (a project nothing can reach); the
assembled LP keeps such rows so positions never shift. The comparison therefore ignores
empty rows whose bounds admit 0, and reports an empty row whose bounds exclude 0 (Pyomo
raises on those while compiling).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np

from flowopt.formulation.assemble import assemble
from flowopt.formulation.lp import AssembledLP, component_name
from flowopt.graph import MaterialGraph, build_graph
from flowopt.schema import Scenario

Key = tuple[str, Hashable]


def to_pyomo(scenario: Scenario, *, target_rate: float | None = None, with_target: bool = True, investment: bool = False) -> Any:
    """Return the Pyomo ``ConcreteModel`` of ``scenario`` (the readable reference formulation).

    Args:
        scenario: a validated scenario.
        target_rate: overrides ``policy.target_rate``.
        with_target: add the target constraint.
        investment: add the candidates' investment decisions (a mixed-integer program).

    Returns:
        The model, with the component names of ``models/README.md``; solve it with any Pyomo
        solver, or add constraints first.
    """
    from flowopt.model import build_model

    return build_model(build_graph(scenario), target_rate=target_rate, with_target=with_target, investment=investment)


class Canonical:
    """An LP as dictionaries keyed by (family, key): columns (cost, lower, upper, integer 0/1), row bounds, entries."""

    def __init__(self) -> None:
        self.cols: dict[Key, tuple[float, float, float, float]] = {}
        self.rows: dict[Key, tuple[float, float]] = {}
        self.entries: dict[tuple[Key, Key], float] = {}
        self.offset = 0.0


def canonical_assembled(lp: AssembledLP) -> Canonical:
    """The assembled LP in canonical form (empty feasible rows left out)."""
    out = Canonical()
    whole = lp.integrality if lp.integrality is not None else np.zeros(lp.n_cols)
    for fam, block in lp.cols.items():
        for i, k in enumerate(block.keys):
            j = block.start + i
            out.cols[(fam, k)] = (float(lp.col_cost[j]), float(lp.col_lower[j]), float(lp.col_upper[j]), float(whole[j]))
    counts = np.bincount(lp.a_index, minlength=lp.n_rows)
    for fam, block in lp.rows.items():
        for i, k in enumerate(block.keys):
            r = block.start + i
            lo, hi = float(lp.row_lower[r]), float(lp.row_upper[r])
            if counts[r] == 0 and lo <= 0 <= hi:
                continue
            out.rows[(fam, k)] = (lo, hi)
    col_keys = [(f, k) for f, b in lp.cols.items() for k in b.keys]
    row_keys = [(f, k) for f, b in lp.rows.items() for k in b.keys]
    for j in range(lp.n_cols):
        for p in range(int(lp.a_start[j]), int(lp.a_start[j + 1])):
            out.entries[(row_keys[int(lp.a_index[p])], col_keys[j])] = float(lp.a_value[p])
    out.offset = lp.offset
    return out


def _pyomo_key(data: Any, model: Any) -> Key:
    """(family, index) of a variable or constraint; ``<year>/<family>`` inside a year's block."""
    comp = data.parent_component()
    block = comp.parent_block()
    if block is model or block is None:
        return (comp.local_name, data.index())
    return (f"{block.index()}/{comp.local_name}", data.index())


def canonical_pyomo(model: Any) -> Canonical:
    """A Pyomo model compiled by Pyomo's standard-form compiler, in canonical form."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    out = Canonical()
    cost = np.asarray(info.c.toarray()).reshape(-1) if info.c.shape[0] else np.zeros(len(info.columns))
    col_keys: list[Key] = []
    for j, v in enumerate(info.columns):
        key = _pyomo_key(v, model)
        col_keys.append(key)
        lo = -math.inf if v.lb is None else float(v.lb)
        hi = math.inf if v.ub is None else float(v.ub)
        out.cols[key] = (float(cost[j]) if cost.size else 0.0, lo, hi, 1.0 if (v.is_integer() or v.is_binary()) else 0.0)
    row_keys: list[Key] = []
    rhs = np.asarray(info.rhs, dtype=float)
    for i, (con, sense) in enumerate(info.rows):
        key = _pyomo_key(con, model)
        row_keys.append(key)
        lo = rhs[i] if sense in (0, -1) else -math.inf
        hi = rhs[i] if sense in (0, 1) else math.inf
        out.rows[key] = (float(lo), float(hi))
    a = info.A.tocoo()
    for i, j, v in zip(a.row, a.col, a.data, strict=True):
        if v != 0.0:
            k = (row_keys[int(i)], col_keys[int(j)])
            out.entries[k] = out.entries.get(k, 0.0) + float(v)
    out.offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    return out


def _close(a: float, b: float, rel: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def compare(a: Canonical, p: Canonical, *, rel: float = 1e-12, limit: int = 20) -> list[str]:
    """What differs between two canonical LPs (empty when they are the same)."""
    out: list[str] = []

    def name(k: Key) -> str:
        return component_name(k[0], k[1])

    for what, x, y in (("column", a.cols, p.cols), ("row", a.rows, p.rows)):
        for k in sorted(set(x) - set(y), key=str):
            out.append(f"{what} {name(k)} only in the assembled LP")
        for k in sorted(set(y) - set(x), key=str):
            out.append(f"{what} {name(k)} only in the Pyomo model")
        for k in sorted(set(x) & set(y), key=str):
            if not all(_close(u, v, rel) for u, v in zip(x[k], y[k], strict=True)):
                out.append(f"{what} {name(k)}: assembled {x[k]} vs Pyomo {y[k]}")
    for k in sorted(set(a.entries) | set(p.entries), key=str):
        u, v = a.entries.get(k, 0.0), p.entries.get(k, 0.0)
        if not _close(u, v, rel):
            out.append(f"entry ({name(k[0])}, {name(k[1])}): assembled {u} vs Pyomo {v}")
    if not _close(a.offset, p.offset, rel):
        out.append(f"objective offset: assembled {a.offset} vs Pyomo {p.offset}")
    return out[:limit]


def pathway_differences(years: list[tuple[int, MaterialGraph, float]], stock_t: dict[str, float], *, rel: float = 1e-12) -> list[str]:
    """Compare the stacked pathway LP with the Pyomo pathway model (year blocks + stock_total)."""
    from flowopt.formulation.assemble import stack_years
    from flowopt.model import build_pathway_model

    lp = stack_years([(y, assemble(g), w) for y, g, w in years], stock_t)
    return compare(canonical_assembled(lp), canonical_pyomo(build_pathway_model(years, stock_t)), rel=rel)


def pathway_build_differences(years: list[tuple[int, MaterialGraph, float]], stock_t: dict[str, float], *, rel: float = 1e-12) -> list[str]:
    """Compare the pathway MILP with builds (stacked years + :func:`~flowopt.formulation.build_years.link_builds`) with its Pyomo model."""
    from flowopt.formulation.assemble import stack_years
    from flowopt.formulation.build_years import link_builds
    from flowopt.model import add_pathway_builds, build_pathway_model

    lps = [(y, assemble(g, investment=True), w) for y, g, w in years]
    lp = link_builds(stack_years(lps, stock_t), lps)
    m = build_pathway_model(years, stock_t)
    add_pathway_builds(m, years)
    return compare(canonical_assembled(lp), canonical_pyomo(m), rel=rel)


def saa_differences(samples: list[tuple[int, MaterialGraph, dict[str, float]]], required: int, *, rel: float = 1e-12) -> list[str]:
    """Compare the robust-build MILP over training samples with its Pyomo model (sample blocks + shared builds)."""
    from flowopt.formulation.saa import stack_samples
    from flowopt.model import build_saa_model

    lp = stack_samples([(s, assemble(g, investment=True), f) for s, g, f in samples], required)
    return compare(canonical_assembled(lp), canonical_pyomo(build_saa_model(samples, required)), rel=rel)


def differences(g: MaterialGraph | Scenario, *, target_rate: float | None = None, with_target: bool = True, investment: bool = False, rel: float = 1e-12, limit: int = 20) -> list[str]:
    """Compare the assembled LP with the compiled Pyomo reference; return what differs.

    Columns are compared with their integrality too (the investment model's build decisions
    and modules are integer in both).

    Args:
        g: a material graph or a scenario.
        target_rate: overrides ``policy.target_rate`` in both.
        with_target: build both with or without the target row.
        investment: build both with the candidates' investment decisions (the MILP).
        rel: relative tolerance per number.
        limit: most differences reported.

    Returns:
        One line per difference (empty when the two LPs are the same).
    """
    from flowopt.model import build_model

    graph = g if isinstance(g, MaterialGraph) else build_graph(g)
    a = canonical_assembled(assemble(graph, target_rate=target_rate, with_target=with_target, investment=investment))
    p = canonical_pyomo(build_model(graph, target_rate=target_rate, with_target=with_target, investment=investment))
    return compare(a, p, rel=rel, limit=limit)
