r"""Builds in the multi-year pathway: the years' investment MILPs linked through what is built.

Stage: the pathway's stacked MILP (:func:`flowopt.formulation.assemble.stack_years` of each
year's ``assemble(..., investment=True)``) -> :func:`link_builds` -> the pathway MILP with builds.
``models/README.md`` §11 ("Builds in the pathway") writes it out; the Pyomo twin is
:func:`flowopt.model.add_pathway_builds` and ``tests/test_pathway_builds.py`` checks the two
are equal.

In year y the candidates' columns ``<y>/build``, ``<y>/built_t``, ``<y>/modules`` are the builds
**commissioned in y** (b_{c,y}, s_{c,y}, n_{c,y}; b_{c,y} = 0 before the candidate's
``earliest_year``). A build gives capacity from its year on, is made at most once, and its
annualized capital and fixed cost are paid in every operating year of the pathway:

.. math::
    \texttt{<y>/project\_capacity}: F_{p,y} - \sum_{y' \le y} \sum_{c: p(c) = p} s_{c,y'} \le \bar C_{p,y}

    \texttt{build\_once}_c: \sum_y b_{c,y} \le 1, \qquad
    \texttt{group\_once}_g: \sum_y \sum_{c \in g} b_{c,y} \le 1, \qquad
    \texttt{pathway\_capital\_budget}: \sum_y \sum_c (K_c b_{c,y} + k_c s_{c,y}) \le B

    \min\; \sum_y w_y \mathrm{total\_cost}_y + \sum_y W_y \sum_c \big(\mathrm{CRF}_c (K_c b_{c,y} + k_c s_{c,y}) + O_c b_{c,y}\big),
    \qquad W_y = \sum_{y' \ge y} w_{y'}

Each year's own rows stay as they are: its ``capital_budget[per_year]`` bounds the capital of
the builds commissioned that year (``policy.capital_budget_cny_per_yr``), and the total budget
``policy.capital_budget_cny`` bounds them over the pathway (``pathway_capital_budget``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowopt.formulation.families import PATHWAY_BUILD_ROWS, capital_form
from flowopt.formulation.lp import INF, AssembledLP, blocks_from_keys, csc_from_coo

#: The pathway-with-builds row families, after the stacked years' own (defined in the registry:
#: :data:`flowopt.formulation.families.PATHWAY_BUILD_ROWS`).
BUILD_ROWS = tuple(f.name for f in PATHWAY_BUILD_ROWS)


def carried_weights(weights: Sequence[float]) -> list[float]:
    """W_y = Σ_{y' ≥ y} w_{y'}: the discounted years in which a build of year y operates."""
    w = [float(x) for x in weights]
    return [sum(w[i:]) for i in range(len(w))]


def link_builds(joint: AssembledLP, years: Sequence[tuple[int, AssembledLP, float]]) -> AssembledLP:
    """Add the builds' links to the stacked pathway MILP (see the module docstring).

    Args:
        joint: ``stack_years(years, stock)`` of the years' investment MILPs.
        years: the same ``(year, MILP, weight)`` list, each MILP with its ``network``.

    Returns:
        A new MILP: capacity carried to later years, ``build_once``, ``group_once`` and
        ``pathway_capital_budget`` rows, and each build's cost weighted by W_y.
    """
    cost = joint.col_cost.copy()
    carried = carried_weights([w for _, _, w in years])
    rr = [joint.a_index.astype(np.int64)]
    cc = [np.repeat(np.arange(joint.n_cols, dtype=np.int64), np.diff(joint.a_start))]
    vv = [joint.a_value]

    def col(year: int, family: str, key: str) -> int | None:
        block = joint.cols.get(f"{year}/{family}")
        if block is None:
            return None
        return block.get(key)  # absolute position, or None

    projects: dict[str, str] = {}
    groups: dict[str, str] = {}
    budget = None
    capital: dict[str, tuple[float, float]] = {}
    for i, (year, lp, _) in enumerate(years):
        n = lp.network
        if n is None or "build" not in lp.cols:
            continue
        for f in ("build", "built_t", "modules"):
            block = joint.cols[f"{year}/{f}"]
            cost[block.slice] = carried[i] * lp.col_cost[lp.cols[f].slice]
        for c in n.candidates:
            rec = n.candidate[c]
            projects.setdefault(c, rec.project)
            if rec.group is not None:
                groups.setdefault(c, rec.group)
        form = capital_form(n)
        half = len(form.index) // 2
        for j, c in enumerate(n.candidates):
            capital.setdefault(c, (float(form.coef[j]), float(form.coef[half + j])))
        if budget is None:
            budget = n.g.scenario.policy.capital_budget_cny
    # capacity built in a year serves its project in every later year of the pathway
    for i, (year, _, _) in enumerate(years):
        cap = joint.rows.get(f"{year}/project_capacity")
        if cap is None:
            continue
        for earlier, _, _ in years[:i]:
            for c, p in projects.items():
                j, r = col(earlier, "built_t", c), cap.get(p)
                if j is not None and r is not None:
                    rr.append(np.array([r], dtype=np.int64))
                    cc.append(np.array([j], dtype=np.int64))
                    vv.append(np.array([-1.0]))
    row = joint.n_rows
    families: list[tuple[str, list]] = []
    lower: list[float] = []
    upper: list[float] = []
    once = sorted(projects)
    for i, c in enumerate(once):
        cols = [j for y, _, _ in years if (j := col(y, "build", c)) is not None]
        rr.append(np.full(len(cols), row + i, dtype=np.int64))
        cc.append(np.array(cols, dtype=np.int64))
        vv.append(np.ones(len(cols)))
    families.append(("build_once", list(once)))
    lower += [-INF] * len(once)
    upper += [1.0] * len(once)
    row += len(once)
    names = sorted(set(groups.values()))
    for i, g in enumerate(names):
        cols = [j for y, _, _ in years for c, gg in groups.items() if gg == g and (j := col(y, "build", c)) is not None]
        rr.append(np.full(len(cols), row + i, dtype=np.int64))
        cc.append(np.array(cols, dtype=np.int64))
        vv.append(np.ones(len(cols)))
    families.append(("group_once", list(names)))
    lower += [-INF] * len(names)
    upper += [1.0] * len(names)
    row += len(names)
    budgets = ["total"] if budget is not None else []
    if budgets:
        for y, _, _ in years:
            for c, (fixed, per_t) in capital.items():
                for family, coef in (("build", fixed), ("built_t", per_t)):
                    j = col(y, family, c)
                    if j is not None:
                        rr.append(np.array([row], dtype=np.int64))
                        cc.append(np.array([j], dtype=np.int64))
                        vv.append(np.array([coef]))
        lower.append(-INF)
        upper.append(float(budget))  # type: ignore[arg-type]
        row += 1
    families.append(("pathway_capital_budget", budgets))
    start, index, value = csc_from_coo(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv), row, joint.n_cols)
    row_families = [(name, list(block.keys)) for name, block in joint.rows.items()] + families
    return AssembledLP(
        col_cost=cost,
        col_lower=joint.col_lower.copy(),
        col_upper=joint.col_upper.copy(),
        row_lower=np.concatenate([joint.row_lower, np.array(lower, dtype=float)]),
        row_upper=np.concatenate([joint.row_upper, np.array(upper, dtype=float)]),
        a_start=start,
        a_index=index,
        a_value=value,
        cols=joint.cols,
        rows=blocks_from_keys(row_families),
        offset=joint.offset,
        integrality=None if joint.integrality is None else joint.integrality.copy(),
    )
