"""Assembly: ``MaterialGraph`` -> :class:`~flowopt.formulation.lp.AssembledLP`, from arrays.

Every family of :mod:`flowopt.formulation.families` contributes its block of rows; the
blocks are stacked in registry order, duplicate entries summed and zeros dropped, and the
matrix is stored column-wise for HiGHS. Every row of every family is kept, even one without
non-zeros (a project nothing can reach), so positions depend only on the family's keys.
"""

from __future__ import annotations

import numpy as np

from flowopt.formulation.families import (
    COLUMNS,
    INVESTMENT_COLUMNS,
    INVESTMENT_ROWS,
    INVESTMENT_TERMS,
    ROWS,
    TERMS,
    Build,
    capital_form,
    generation_t,
    rate_forms,
    statistic_forms,
)
from flowopt.formulation.lp import INF, AssembledLP, SparseVector, blocks_from_keys, csc_from_coo
from flowopt.formulation.network import Network
from flowopt.graph import MaterialGraph


def assemble(g: MaterialGraph | Network, *, target_rate: float | None = None, with_target: bool = True, investment: bool = False) -> AssembledLP:
    """Assemble the least-cost allocation LP of a material graph.

    Args:
        g: the material graph (or its :class:`Network`, to reuse the index arrays).
        target_rate: overrides the scenario's ``policy.target_rate``.
        with_target: add the target row (``False``: the LP used for the highest reachable rate
            and the diagnosis).
        investment: add the candidates' investment decisions (columns ``build``, ``built_t``,
            ``modules``; rows ``candidate_*``, ``exclusive_group``, ``capital_budget``; terms
            ``capital_annualized_cny``, ``fixed_opex_cny``): a mixed-integer program. ``False`` (default):
            the LP of the network as it stands, candidates unbuilt; a scenario without
            candidates gives the same LP either way but for the (empty) investment families.

    Returns:
        The LP (or MILP), minimised, with its family layout, cost terms and rate forms.
    """
    n = g if isinstance(g, Network) else Network(g)
    s = n.g.scenario
    b = Build(s.policy.target_rate if target_rate is None else float(target_rate), with_target, investment)
    col_families = COLUMNS + (INVESTMENT_COLUMNS if investment else ())
    cols = blocks_from_keys([(f.name, f.keys(n)) for f in col_families])
    n_cols = n.n_cols_investment if investment else n.n_cols
    blocks = [(f.name, f.build(n, b)) for f in ROWS + (INVESTMENT_ROWS if investment else ())]
    rows = blocks_from_keys([(name, blk.keys) for name, blk in blocks])
    n_rows = sum(len(blk.keys) for _, blk in blocks)
    lower = np.concatenate([blk.lower for _, blk in blocks]) if blocks else np.zeros(0)
    upper = np.concatenate([blk.upper for _, blk in blocks]) if blocks else np.zeros(0)
    r = np.concatenate([blk.row + rows[name].start for name, blk in blocks])
    c = np.concatenate([blk.col for _, blk in blocks])
    v = np.concatenate([blk.value for _, blk in blocks])
    start, index, value = csc_from_coo(r, c, v, n_rows, n_cols)
    all_terms = TERMS + (INVESTMENT_TERMS if investment else ())
    terms = {t.name: t.form(n) for t in all_terms}
    cost = np.zeros(n_cols)
    for t in all_terms:
        form = terms[t.name]
        np.add.at(cost, form.index, t.sign * form.coef)
    forms: dict[str, SparseVector] = dict(statistic_forms(n))
    forms["rate_numerator"], forms["rate_extra_denominator"] = rate_forms(n)
    col_upper = np.full(n_cols, INF)
    integrality = None
    if investment:
        integrality = np.zeros(n_cols, dtype=np.int32)
        for f in INVESTMENT_COLUMNS:
            block = cols[f.name]
            if f.upper is not None and len(block):
                col_upper[block.slice] = f.upper(n)
            if f.integer:
                integrality[block.slice] = 1
        forms["capital_cny_total"] = capital_form(n)
    return AssembledLP(
        col_cost=cost,
        col_lower=np.zeros(n_cols),
        col_upper=col_upper,
        row_lower=lower,
        row_upper=upper,
        a_start=start,
        a_index=index,
        a_value=value,
        cols=cols,
        rows=rows,
        terms=terms,
        forms=forms,
        constants={"generation_t": generation_t(n), "target_rate": b.target_rate},
        network=n,
        integrality=integrality,
    )


def stack_years(years: list[tuple[int, AssembledLP, float]], stock_t: dict[str, float]) -> AssembledLP:
    """Stack yearly LPs block-diagonally and add the ``stock_total`` family (the pathway's LP).

    Column and row families of year y are named ``<y>/<family>`` (``2024/flow_t``) with the
    year's own keys; the objective is Σ_y w_y · cost_y; each ``stock_total[k]`` row reads
    Σ_y r_{k,y} ≤ H_k (see :data:`flowopt.formulation.families.STOCK_TOTAL`). Sinks with a
    ``remaining_volume_t`` get an ``airspace_total[d]`` row, Σ_y I_{d,y} ≤ V_d
    (:data:`~flowopt.formulation.families.AIRSPACE_TOTAL`); a pile fed by reclaimable storage
    (``sinks.reclaim_as``) gets ``storage_stock[k, y]`` rows for every year instead of
    ``stock_total[k]`` (:data:`~flowopt.formulation.families.STORAGE_STOCK`): tonnes stored in
    year y are reclaimable from y + 1 on. Both are read from the years' networks.

    Args:
        years: ``(year, LP, weight)`` in year order.
        stock_t: H_k, the tonnes each stockpile holds at the start of the first year.

    Returns:
        The pathway's LP (``network`` is ``None``: each year keeps its own).
    """
    col_families: list[tuple[str, list]] = []
    row_families: list[tuple[str, list]] = []
    costs, col_lo, col_hi, row_lo, row_hi, rr, cc, vv, whole = [], [], [], [], [], [], [], [], []
    n_cols = n_rows = 0
    offset = 0.0
    reclaim_cols: dict[str, list[int]] = {}
    starts: list[int] = []  # first column of each year
    for year, lp, weight in years:
        starts.append(n_cols)
        col_families += [(f"{year}/{f}", b.keys) for f, b in lp.cols.items()]
        row_families += [(f"{year}/{f}", b.keys) for f, b in lp.rows.items()]
        costs.append(weight * lp.col_cost)
        col_lo.append(lp.col_lower)
        col_hi.append(lp.col_upper)
        whole.append(lp.integrality if lp.integrality is not None else np.zeros(lp.n_cols, dtype=np.int32))
        row_lo.append(lp.row_lower)
        row_hi.append(lp.row_upper)
        cols = np.repeat(np.arange(lp.n_cols, dtype=np.int64), np.diff(lp.a_start))
        rr.append(lp.a_index.astype(np.int64) + n_rows)
        cc.append(cols + n_cols)
        vv.append(lp.a_value)
        block = lp.cols["reclaim_t"]
        for i, k in enumerate(block.keys):
            reclaim_cols.setdefault(str(k), []).append(n_cols + block.start + i)
        offset += weight * lp.offset
        n_cols += lp.n_cols
        n_rows += lp.n_rows
    volume, feeds = _storage_links(years)
    fed = {k for piles in feeds.values() for k in piles}
    links = sorted(k for k in stock_t if k in reclaim_cols and k not in fed)
    for i, k in enumerate(links):
        rr.append(np.full(len(reclaim_cols[k]), n_rows + i, dtype=np.int64))
        cc.append(np.asarray(reclaim_cols[k], dtype=np.int64))
        vv.append(np.ones(len(reclaim_cols[k])))
    row_families.append(("stock_total", list(links)))
    row_lo.append(np.full(len(links), -INF))
    row_hi.append(np.array([stock_t[k] for k in links], dtype=float))
    total_rows = n_rows + len(links)
    # airspace_total[d]: Σ_y I_{d,y} ≤ V_d, for sinks with a remaining volume that receive arcs
    inflow = {d: [(i, _inflow_cols(lp, d, starts[i])) for i, (_, lp, _) in enumerate(years)] for d in sorted(set(volume) | set(feeds))}
    spaced = [d for d in sorted(volume) if any(len(c) for _, c in inflow[d])]
    for i, d in enumerate(spaced):
        cols = np.concatenate([c for _, c in inflow[d]])
        rr.append(np.full(len(cols), total_rows + i, dtype=np.int64))
        cc.append(cols)
        vv.append(np.ones(len(cols)))
    row_families.append(("airspace_total", list(spaced)))
    row_lo.append(np.full(len(spaced), -INF))
    row_hi.append(np.array([volume[d] for d in spaced], dtype=float))
    total_rows += len(spaced)
    # storage_stock[k, y_i]: Σ_{j≤i} r_{k,y_j} − Σ_{j<i} Σ_{d→k} I_{d,y_j} ≤ H_k, for piles fed by
    # reclaimable storage that are reclaimed in some year
    keys: list[tuple[str, int]] = []
    by_year = [{str(k): starts[i] + lp.cols["reclaim_t"].start + j for j, k in enumerate(lp.cols["reclaim_t"].keys)} for i, (_, lp, _) in enumerate(years)]
    for k in sorted(k for k in fed if k in stock_t and k in reclaim_cols):
        sinks = sorted(d for d, piles in feeds.items() if k in piles)
        for i, (year, _, _) in enumerate(years):
            row = total_rows + len(keys)
            keys.append((k, year))
            taken = [by_year[j][k] for j in range(i + 1) if k in by_year[j]]
            rr.append(np.full(len(taken), row, dtype=np.int64))
            cc.append(np.asarray(taken, dtype=np.int64))
            vv.append(np.ones(len(taken)))
            for d in sinks:
                placed = [c for j, c in inflow[d] if j < i]
                if placed:
                    cols = np.concatenate(placed)
                    rr.append(np.full(len(cols), row, dtype=np.int64))
                    cc.append(cols)
                    vv.append(-np.ones(len(cols)))
    row_families.append(("storage_stock", list(keys)))
    row_lo.append(np.full(len(keys), -INF))
    row_hi.append(np.array([stock_t[k] for k, _ in keys], dtype=float))
    total_rows += len(keys)
    start, index, value = csc_from_coo(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv), total_rows, n_cols)
    return AssembledLP(
        col_cost=np.concatenate(costs) if costs else np.zeros(0),
        col_lower=np.concatenate(col_lo) if col_lo else np.zeros(0),
        col_upper=np.concatenate(col_hi) if col_hi else np.zeros(0),
        row_lower=np.concatenate(row_lo),
        row_upper=np.concatenate(row_hi),
        a_start=start,
        a_index=index,
        a_value=value,
        cols=blocks_from_keys(col_families),
        rows=blocks_from_keys(row_families),
        offset=offset,
        integrality=np.concatenate(whole) if whole and any(np.any(w) for w in whole) else None,
    )


def _storage_links(years: list[tuple[int, AssembledLP, float]]) -> tuple[dict[str, float], dict[str, list[str]]]:
    """What links the years through sinks: ``({sink: V_d}, {sink: [stockpile]})``.

    V_d is the ``remaining_volume_t`` of the sink in the first year it operates (the airspace
    at the start of the pathway's years); a sink's ``reclaim_as`` names the pile its tonnes
    feed. Read from each year's network (an LP without one adds nothing).
    """
    volume: dict[str, float] = {}
    feeds: dict[str, list[str]] = {}
    for _, lp, _ in years:
        n = lp.network
        if n is None:
            continue
        for d, x in n.g.sinks.items():
            if x.remaining_volume_t is not None:
                volume.setdefault(d, float(x.remaining_volume_t))
            if x.reclaim_as is not None:
                feeds.setdefault(d, [x.reclaim_as])
    return volume, feeds


def _inflow_cols(lp: AssembledLP, sink: str, start: int) -> np.ndarray:
    """Joint columns of the year's arcs into ``sink`` (none when the sink is absent that year)."""
    if lp.network is None:
        return np.zeros(0, dtype=np.int64)
    return start + lp.cols["flow_t"].start + lp.network.arcs_into(sink)
