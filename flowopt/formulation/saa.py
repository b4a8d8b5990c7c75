r"""Robust builds as one MILP: the sample-average approximation over training samples.

Stage: training samples (each a scenario with candidates, assembled with
``assemble(..., investment=True)``) -> :func:`stack_samples` -> one :class:`AssembledLP`.
``models/README.md`` §11 ("Robust builds") writes it out; :func:`flowopt.model.build_saa_model`
is the same MILP in Pyomo and ``tests/test_robust.py`` checks the two are equal.

With training samples s = 1 … N (weight w = 1/N each), shared build decisions b, s, n (the
candidates' ``build``, ``built_t``, ``modules``: one set for every sample) and, per sample, the
LP's own columns x_s (``<s>/flow_t`` …), a shortfall σ_s ∈ [0, 1] and a binary μ_s ("target
met in sample s"):

.. math::
    \min\; \bar A(b, s) + w \sum_s \mathrm{total\_cost}_s(x_s)
    \quad\text{s.t.}\quad
    \begin{cases}
    \text{every row of sample } s \text{'s LP (families } \texttt{<s>/lot\_balance} \dots), \\
    \texttt{<s>/project\_capacity}: F_{p,s} - \sum_{c: p(c) = p} a_{p,s}\, s_c \le \bar C_{p,s}, \\
    \texttt{<s>/target}: N_s - T E_s + T G_s\, σ_s \ge T G_s, \\
    \texttt{shortfall\_link}_s: σ_s + μ_s \le 1, \\
    \texttt{chance}: \sum_s μ_s \ge k = \lceil c N \rceil, \\
    \text{the candidates' rows (sizes, modules, groups, budgets) once, on } b, s, n.
    \end{cases}

σ_s is the share of the target's tonnes T·G_s a sample may fall short by: it relaxes the
target entirely when μ_s = 0 (N − T·E ≥ 0 in every rate mode, since the numerator holds the
prior-year tonnes of the denominator), and not at all when μ_s = 1, so no big-M other than the
row's own right-hand side is needed. a_{p,s} is the sample's availability factor of project p
(``apply: scale`` on ``projects.<p>.capacity_t``; 1 otherwise): a built line is available to the
same share as the existing one. Ā is the expected annualized capital and fixed cost (the
samples' mean of the candidates' column costs: uncertain capital costs are averaged).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from flowopt.formulation.families import (
    COLUMNS,
    INVESTMENT_COLUMNS,
    INVESTMENT_ROWS,
    ROWS,
    SAA_COLUMNS,
    SAA_ROWS,
)
from flowopt.formulation.lp import INF, AssembledLP, blocks_from_keys, csc_from_coo

#: Column and row families of the robust-build MILP's own, after the samples' and the candidates'
#: (defined in the registry: :data:`flowopt.formulation.families.SAA_COLUMNS`, ``SAA_ROWS``).
SAA_COLUMN_NAMES = tuple(f.name for f in SAA_COLUMNS)
SAA_ROW_NAMES = tuple(f.name for f in SAA_ROWS)


class SampleMismatch(ValueError):
    """The samples' candidate families differ (an uncertain candidate size or group): one shared build set cannot serve them."""


def _coo(lp: AssembledLP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cols = np.repeat(np.arange(lp.n_cols, dtype=np.int64), np.diff(lp.a_start))
    return lp.a_index.astype(np.int64), cols, lp.a_value


def stack_samples(samples: Sequence[tuple[Hashable, AssembledLP, Mapping[str, float]]], required: int) -> AssembledLP:
    """Stack the training samples' MILPs into the robust-build MILP (see the module docstring).

    Args:
        samples: ``(key, MILP, availability factors)`` per training sample: the key names its
            families (``<key>/flow_t``), the MILP is ``assemble(network, investment=True)`` of the
            sample's scenario, the factors map project id -> a_{p,s} (projects absent: 1).
        required: k, the samples in which the target must be met (``chance``).

    Returns:
        The MILP (``network`` is ``None``; ``constants["samples"]`` = N, ``["required"]`` = k).

    Raises:
        SampleMismatch: the samples' candidate columns or rows differ.
    """
    if not samples:
        msg = "no training samples to stack"
        raise SampleMismatch(msg)
    lp_names = [f.name for f in COLUMNS]
    inv_names = [f.name for f in INVESTMENT_COLUMNS]
    inv_rows = [f.name for f in INVESTMENT_ROWS]
    row_names = [f.name for f in ROWS]
    first = samples[0][1]
    shared_keys = [(f, list(first.cols[f].keys)) for f in inv_names]
    n_shared = sum(len(k) for _, k in shared_keys)
    weight = 1.0 / len(samples)

    col_families: list[tuple[str, list[Hashable]]] = []
    row_families: list[tuple[str, list[Hashable]]] = []
    costs, col_lo, col_hi = [], [], []
    rr, cc, vv = [], [], []
    row_lo, row_hi = [], []
    n_cols = n_rows = 0
    offset = 0.0
    shared_cost = np.zeros(n_shared)
    target_rows: list[tuple[int, float]] = []
    inv_signature = None
    inv_block: tuple[list[tuple[str, list[Hashable]]], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    for key, lp, factors in samples:
        if [(f, list(lp.cols[f].keys)) for f in inv_names] != shared_keys:
            msg = f"sample {key}: its candidates differ from the first sample's"
            raise SampleMismatch(msg)
        lp_cols = sum(len(lp.cols[f]) for f in lp_names)
        lp_rows = sum(len(lp.rows[f]) for f in row_names)
        col_families += [(f"{key}/{f}", list(lp.cols[f].keys)) for f in lp_names]
        row_families += [(f"{key}/{f}", list(lp.rows[f].keys)) for f in row_names]
        costs.append(weight * lp.col_cost[:lp_cols])
        col_lo.append(lp.col_lower[:lp_cols])
        col_hi.append(lp.col_upper[:lp_cols])
        shared_cost += weight * lp.col_cost[lp_cols:]
        offset += weight * lp.offset
        r, c, v = _coo(lp)
        v = v.copy()
        # a built line is available to the sample's share of its project (availability factor)
        if factors:
            cap = lp.rows["project_capacity"]
            built = lp.cols["built_t"]
            on = (r >= cap.start) & (r < cap.stop) & (c >= built.start) & (c < built.stop)
            for p in np.flatnonzero(on):
                v[p] *= float(factors.get(str(cap.keys[r[p] - cap.start]), 1.0))
        in_lp = r < lp_rows
        shared_pos = c - lp_cols  # the candidates' columns, relative to the shared block
        rr.append(r[in_lp] + n_rows)
        # the sample's own columns at their place; the candidates' as -1 - k (the k-th shared one, placed below)
        cc.append(np.where(c[in_lp] < lp_cols, c[in_lp] + n_cols, -1 - shared_pos[in_lp]))
        vv.append(v[in_lp])
        row_lo.append(lp.row_lower[:lp_rows])
        row_hi.append(lp.row_upper[:lp_rows])
        t = lp.rows.get("target")
        if t is None or not len(t):
            msg = f"sample {key}: no target row"
            raise SampleMismatch(msg)
        target_rows.append((n_rows + t.start, float(lp.row_lower[t.start])))
        # the candidates' own rows: the same in every sample, kept once
        sig_rows = ~in_lp
        signature = (
            [(f, list(lp.rows[f].keys)) for f in inv_rows],
            lp.row_lower[lp_rows:].tobytes(), lp.row_upper[lp_rows:].tobytes(),
            (r[sig_rows] - lp_rows).tobytes(), shared_pos[sig_rows].tobytes(), v[sig_rows].tobytes(),
            lp.col_lower[lp_cols:].tobytes(), lp.col_upper[lp_cols:].tobytes(),
            None if lp.integrality is None else lp.integrality[lp_cols:].tobytes(),
        )
        if inv_signature is None:
            inv_signature = signature
            inv_block = ([(f, list(lp.rows[f].keys)) for f in inv_rows], lp.row_lower[lp_rows:], lp.row_upper[lp_rows:], r[sig_rows] - lp_rows, shared_pos[sig_rows], v[sig_rows])
            shared_lo, shared_hi = lp.col_lower[lp_cols:].copy(), lp.col_upper[lp_cols:].copy()
            shared_int = np.zeros(n_shared, dtype=np.int32) if lp.integrality is None else lp.integrality[lp_cols:].copy()
        elif signature != inv_signature:
            msg = f"sample {key}: the candidates' sizes, groups or budgets differ from the first sample's"
            raise SampleMismatch(msg)
        n_cols += lp_cols
        n_rows += lp_rows

    assert inv_block is not None
    n = len(samples)
    shared_start = n_cols
    shortfall_start = shared_start + n_shared
    met_start = shortfall_start + n
    total_cols = met_start + n
    # shared columns: every negative placeholder -1 - k is the k-th shared column
    cols_all = np.concatenate(cc) if cc else np.zeros(0, dtype=np.int64)
    cols_all = np.where(cols_all < 0, shared_start + (-1 - cols_all), cols_all)
    rows_all = np.concatenate(rr) if rr else np.zeros(0, dtype=np.int64)
    vals_all = np.concatenate(vv) if vv else np.zeros(0)
    fam_rows, inv_lo, inv_hi, inv_r, inv_c, inv_v = inv_block
    inv_start = n_rows
    n_inv_rows = len(inv_lo)
    link_start = inv_start + n_inv_rows
    chance_row = link_start + n
    keys = [key for key, _, _ in samples]
    extra_r = [inv_r + inv_start]
    extra_c = [inv_c + shared_start]
    extra_v = [inv_v]
    # σ_s in its sample's target row (coefficient T·G_s) and in its link row; μ_s in the link and the chance rows
    k = np.arange(n, dtype=np.int64)
    extra_r += [np.array([row for row, _ in target_rows], dtype=np.int64), link_start + k, link_start + k, np.full(n, chance_row, dtype=np.int64)]
    extra_c += [shortfall_start + k, shortfall_start + k, met_start + k, met_start + k]
    extra_v += [np.array([rhs for _, rhs in target_rows]), np.ones(n), np.ones(n), np.ones(n)]
    total_rows = chance_row + 1
    start, index, value = csc_from_coo(np.concatenate([rows_all, *extra_r]), np.concatenate([cols_all, *extra_c]), np.concatenate([vals_all, *extra_v]), total_rows, total_cols)
    integrality = np.zeros(total_cols, dtype=np.int32)
    integrality[shared_start:shortfall_start] = shared_int
    integrality[met_start:] = 1
    col_families += [*shared_keys, ("shortfall", list(keys)), ("met", list(keys))]
    row_families += [*fam_rows, ("shortfall_link", list(keys)), ("chance", [None])]
    return AssembledLP(
        col_cost=np.concatenate([*costs, shared_cost, np.zeros(2 * n)]),
        col_lower=np.concatenate([*col_lo, shared_lo, np.zeros(2 * n)]),
        col_upper=np.concatenate([*col_hi, shared_hi, np.ones(2 * n)]),
        row_lower=np.concatenate([*row_lo, inv_lo, np.full(n, -INF), [float(required)]]),
        row_upper=np.concatenate([*row_hi, inv_hi, np.ones(n), [INF]]),
        a_start=start,
        a_index=index,
        a_value=value,
        cols=blocks_from_keys(col_families),
        rows=blocks_from_keys(row_families),
        constants={"samples": float(n), "required": float(required)},
        offset=offset,
        integrality=integrality,
    )
