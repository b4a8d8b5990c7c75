r"""The family registry: every column family, constraint family and cost term, defined once.

Each :class:`RowFamily` holds what any consumer needs to know about one constraint family:
its rows and coefficients (``build``, assembled from the :class:`~flowopt.formulation.network.Network`
as arrays), its sense and unit, the input field a user changes to move it (``parameter``),
the sign with which an elastic column relaxes it (``relax``, for the infeasibility diagnosis),
and its labels in English and Chinese. The explanation cards read the same entries.

The formulation of record is written out in ``models/README.md`` and, as a readable Pyomo
model, in :mod:`flowopt.model`; a test assembles both and checks they are the same LP.

Symbols (t = tonnes per year): x_{l,o} ``flow_t``, u_l ``unmanaged_t``, r_k ``reclaim_t``,
F_p = Σ_l x_{l,p} the feed of project p, F_{p,g} its part of origin g.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from flowopt.formulation.lp import INF, SparseVector
from flowopt.formulation.network import Network
from flowopt.labels import Labels
from flowopt.schema import Co2Basis, ProjectBooking, RateMode, SinkBooking

Sense = Literal["==", "<=", ">="]


@dataclass
class RowBlock:
    """The rows of one family as arrays: keys, bounds and COO entries (local row numbers)."""

    keys: list[Hashable]
    lower: np.ndarray
    upper: np.ndarray
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray

    @classmethod
    def build(cls, keys: list[Hashable], lower: list[float] | np.ndarray, upper: list[float] | np.ndarray, entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> RowBlock:
        """Concatenate ``(row, col, value)`` chunks into one block."""
        if entries:
            r = np.concatenate([np.asarray(e[0], dtype=np.int64) for e in entries])
            c = np.concatenate([np.asarray(e[1], dtype=np.int64) for e in entries])
            v = np.concatenate([np.asarray(e[2], dtype=float) for e in entries])
        else:
            r = c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        return cls(keys, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), r, c, v)


@dataclass(frozen=True)
class Build:
    """What a build may vary: the target, and which rows and columns exist.

    ``with_target``: the target row; ``investment``: the candidates' decisions (the MILP), else
    the LP of the network as it stands.
    """

    target_rate: float
    with_target: bool = True
    investment: bool = False


@dataclass(frozen=True)
class Parametric:
    r"""A row whose limit θ sits in its coefficients: Σ_j (a_j − θ b_j) x_j  {≤,≥}  θ c.

    The derivative of the optimal cost with respect to θ is ``y (c + b·x*)`` (y the row's
    dual), which is how a quality limit, a feed share or the target gets its price.
    """

    cols: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: float
    theta: float


@dataclass(frozen=True)
class RowFamily:
    """One constraint family (see the module docstring).

    Attributes:
        name: the family's name; also the Pyomo component name in :mod:`flowopt.model`.
        sense: ``==``, ``<=`` or ``>=``.
        unit: unit of the row (of its activity and right-hand side).
        index: what one row stands for.
        math: the row's formula.
        parameter: the input field whose value moves the limit (``None`` for balances).
        relax: +1 when the row is relaxed by lowering its limit (``>=`` rows), -1 when by
            raising it (``<=`` rows), 0 for balances that are never relaxed. It is the
            coefficient of an elastic column in the diagnosis, and the sign that turns the row's
            dual into the price of relaxing it.
        label_en: short English label.
        label_zh: short Chinese label.
        build: assembles the rows from the network.
        subject: ``key -> (kind, id)`` of the record the row is about (``("project", "R04")``).
        parametric: for limits inside the coefficients, the row's dependence on its limit.
        card: ``(labels, key, limit, price) -> (en, zh)``: the bottleneck card's sentence.
        relaxation: ``(labels, key, current, proposed) -> (en, zh)``: the diagnosis's advice.
        conflict: ``(labels, network, key) -> (en, zh, where)``: the row in a conflict set.
    """

    name: str
    sense: Sense
    unit: str
    index: str
    math: str
    parameter: str | None
    relax: int
    label_en: str
    label_zh: str
    build: Callable[[Network, Build], RowBlock] = field(repr=False)
    subject: Callable[[Hashable], tuple[str, str]] = field(repr=False, default=lambda k: ("park", "park"))
    parametric: Callable[[Network, Hashable], Parametric] | None = field(repr=False, default=None)
    card: Callable[[Labels, Hashable, float, float], tuple[str, str]] | None = field(repr=False, default=None)
    relaxation: Callable[[Labels, Hashable, float, float], tuple[str, str]] | None = field(repr=False, default=None)
    conflict: Callable[[Labels, Network, Hashable], tuple[str, str, str | None]] | None = field(repr=False, default=None)

    @property
    def tonnage(self) -> bool:
        """True when the limit is the row's right-hand side in t/yr (capacities, minimums)."""
        return self.parametric is None and self.relax != 0


@dataclass(frozen=True)
class ColumnFamily:
    """One family of variables (all >= 0).

    Attributes:
        integer: the columns take whole values (a binary build decision has ``upper`` 1).
        upper: ``network -> upper bounds`` in key order (``None``: no upper bound).
    """

    name: str
    unit: str
    index: str
    label_en: str
    label_zh: str
    keys: Callable[[Network], list[Hashable]] = field(repr=False)
    integer: bool = False
    upper: Callable[[Network], np.ndarray] | None = field(repr=False, default=None)


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------

COLUMNS: tuple[ColumnFamily, ...] = (
    ColumnFamily("flow_t", "t/yr", "(lot, outlet) arc", "tonnes of a lot sent to an outlet", "运往去向的吨数", lambda n: list(n.arc_keys)),
    # one column per current-year lot when policy.allow_unmanaged is true, none otherwise
    ColumnFamily("unmanaged_t", "t/yr", "current-year lot (only when policy.allow_unmanaged)", "tonnes left unmanaged", "未妥善处置吨数", lambda n: list(n.unmanaged)),
    ColumnFamily("reclaim_t", "t/yr", "stockpile", "tonnes reclaimed from a stockpile", "回采吨数", lambda n: list(n.stockpiles)),
    # one column per (project, market, price tier) for projects that sell into markets
    ColumnFamily("sold_t", "t/yr", "(project, market, tier)", "tonnes of product sold in a price tier of a market", "市场分档销量", lambda n: list(n.sales)),
)


# ---------------------------------------------------------------------------------------------
# Helpers shared by the row families
# ---------------------------------------------------------------------------------------------


def _feed_entries(n: Network, outlets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(local row, column)`` of the arcs into each of ``outlets`` (row i = outlets[i])."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for i, o in enumerate(outlets):
        arcs = n.arcs_into(o)
        rows.append(np.full(len(arcs), i, dtype=np.int64))
        cols.append(arcs)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def booked_factor(n: Network, project: str) -> float:
    """Tonnes booked (as utilized or disposed) per tonne of a project's feed: π_p + λ_p."""
    p = n.g.projects[project]
    losses = p.loss_fraction if n.g.scenario.policy.count_losses_as_utilized else 0.0
    return p.product_fraction + losses


def generation_t(n: Network) -> float:
    """G: tonnes generated in the year (residues and reclaim excluded)."""
    return float(sum(x.generation_t for x in n.g.scenario.streams))


def statistic_forms(n: Network) -> dict[str, SparseVector]:
    """The official rates' statistics as linear forms (computed once per network; see :func:`_statistic_forms`)."""
    return n.memo("statistic_forms", lambda: _statistic_forms(n))  # type: ignore[no-any-return]


def _statistic_forms(n: Network) -> dict[str, SparseVector]:
    r"""The statistical quantities of the official rates as linear forms over the columns.

    .. math::
        U_g = \sum_{p \in P^U} (\pi_p + \lambda_p) F_{p,g}, \quad
        D_g = \sum_{p \in P^D} (\pi_p + \lambda_p) F_{p,g} + \sum_{d \in D^D} \sum_{l: g(l)=g} x_{l,d}

    Returns:
        ``utilized_new_t``, ``utilized_prior_t``, ``disposed_new_t``, ``disposed_prior_t``.
    """
    g = n.g
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in ("utilized_new_t", "utilized_prior_t", "disposed_new_t", "disposed_prior_t")}
    for (outlet, origin), arcs in sorted(n.into_origin.items()):
        suffix = "new_t" if origin == "new" else "prior_t"
        if outlet in g.projects:
            booked = "utilized" if g.projects[outlet].counts_as == ProjectBooking.utilization else "disposed"
            parts[f"{booked}_{suffix}"].append((arcs, np.full(len(arcs), booked_factor(n, outlet))))
        elif g.sinks[outlet].counts_as == SinkBooking.disposal:
            parts[f"disposed_{suffix}"].append((arcs, np.ones(len(arcs))))
    out = {}
    for k, chunks in parts.items():
        if chunks:
            out[k] = SparseVector(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]))
        else:
            out[k] = SparseVector.empty()
    return out


def rate_forms(n: Network) -> tuple[SparseVector, SparseVector]:
    """The chosen rate's numerator N and the prior-year part E of its denominator (G + E)."""
    f = statistic_forms(n)
    mode = n.g.scenario.policy.rate_mode
    if mode == RateMode.utilization:
        return f["utilized_new_t"] + f["utilized_prior_t"], f["utilized_prior_t"]
    if mode == RateMode.utilization_plus_disposal:
        return f["utilized_new_t"] + f["utilized_prior_t"] + f["disposed_new_t"] + f["disposed_prior_t"], f["utilized_prior_t"] + f["disposed_prior_t"]
    return f["disposed_new_t"] + f["disposed_prior_t"], SparseVector.empty()


# ---------------------------------------------------------------------------------------------
# Row families
# ---------------------------------------------------------------------------------------------


def _lot_balance(n: Network, _: Build) -> RowBlock:
    g = n.g
    s = g.scenario
    gen = {x.id: x.generation_t for x in s.streams}
    frac = {(r.project, r.stream): r.fraction for r in s.residues}
    n_lots = len(n.lots)
    bound = np.zeros(n_lots)
    entries = [(n.arc_lot, np.arange(n.n_arcs, dtype=np.int64), np.ones(n.n_arcs))]
    u_rows = np.fromiter((n.lot_pos[lid] for lid in n.unmanaged), dtype=np.int64, count=len(n.unmanaged))
    entries.append((u_rows, n.unmanaged_start + np.arange(len(n.unmanaged), dtype=np.int64), np.ones(len(n.unmanaged))))
    stock_col = {k: n.reclaim_start + i for i, k in enumerate(n.stockpiles)}
    for i, lid in enumerate(n.lots):
        lot = g.lots[lid]
        if lot.kind == "generation":
            bound[i] = gen[lot.stream]
        elif lot.kind == "stock":
            entries.append((np.array([i]), np.array([stock_col[lot.source]]), np.array([-1.0])))
        else:
            arcs = n.into_origin.get((lot.source, lot.origin), np.zeros(0, dtype=np.int64))
            entries.append((np.full(len(arcs), i, dtype=np.int64), arcs, np.full(len(arcs), -frac[(lot.source, lot.stream)])))
    return RowBlock.build(list(n.lots), bound, bound.copy(), entries)


def _project_capacity(n: Network, b: Build) -> RowBlock:
    keys = list(n.g.projects)
    r, c = _feed_entries(n, keys)
    cap = [n.g.projects[p].capacity_t for p in keys]
    entries = [(r, c, np.ones(len(r)))]
    if b.investment:
        # F_p − Σ_{c builds p} s_c ≤ C̄_p: the capacity is what exists plus what is built
        row = {p: i for i, p in enumerate(keys)}
        built = [(row[n.candidate[cid].project], n.built_start + j) for j, cid in enumerate(n.candidates) if n.candidate[cid].project in row]
        if built:
            rows_, cols_ = zip(*built, strict=True)
            entries.append((np.array(rows_, dtype=np.int64), np.array(cols_, dtype=np.int64), -np.ones(len(built))))
    return RowBlock.build(keys, np.full(len(keys), -INF), cap, entries)


def _project_min_intake(n: Network, _: Build) -> RowBlock:
    keys = [p for p, x in n.g.projects.items() if x.min_intake_t > 0]
    r, c = _feed_entries(n, keys)
    low = [n.g.projects[p].min_intake_t for p in keys]
    return RowBlock.build(keys, low, np.full(len(keys), INF), [(r, c, np.ones(len(r)))])


def share_limits(n: Network) -> dict[tuple[str, str], float]:
    """(outlet, stream) -> share cap σ < 1, for outlets that receive arcs (later rows win)."""

    def compute() -> dict[tuple[str, str], float]:
        limits = {(a.outlet, a.stream): a.max_share for a in n.g.scenario.accepts if a.max_share < 1 and a.stream != "*"}
        return {k: limits[k] for k in sorted(limits) if len(n.arcs_into(k[0]))}

    return n.memo("share_limits", compute)  # type: ignore[no-any-return]


def compositions(n: Network) -> dict[tuple[str, str], float]:
    """(stream, component) -> mass fraction."""
    return n.memo("composition", lambda: {(c.stream, c.component): c.fraction for c in n.g.scenario.composition})  # type: ignore[no-any-return]


def _feed_share(n: Network, _: Build) -> RowBlock:
    limits = share_limits(n)
    keys: list[Hashable] = list(limits)
    entries = []
    for i, (o, st) in enumerate(limits):
        arcs = n.arcs_into(o)
        same = np.fromiter((n.arc_stream[j] == st for j in arcs), dtype=bool, count=len(arcs))
        entries.append((np.full(len(arcs), i, dtype=np.int64), arcs, same.astype(float) - limits[(o, st)]))
    return RowBlock.build(keys, np.full(len(keys), -INF), np.zeros(len(keys)), entries)


def quality_limits(n: Network, side: Literal["max", "min"]) -> dict[tuple[str, str], float]:
    """(project, component) -> the blended feed's max (or min) fraction, for fed projects."""
    attr = f"{side}_fraction"

    def compute() -> dict[tuple[str, str], float]:
        limits = {(q.project, q.component): getattr(q, attr) for q in n.g.scenario.quality if getattr(q, attr) is not None and len(n.arcs_into(q.project))}
        return {k: float(limits[k]) for k in sorted(limits)}

    return n.memo(f"quality_{side}", compute)  # type: ignore[no-any-return]


def _quality(side: Literal["max", "min"]) -> Callable[[Network, Build], RowBlock]:
    def build(n: Network, _: Build) -> RowBlock:
        comp = compositions(n)
        limits = quality_limits(n, side)
        entries = []
        for i, ((p, k), q) in enumerate(limits.items()):
            arcs = n.arcs_into(p)
            coef = np.fromiter((comp[(n.arc_stream[j], k)] - q for j in arcs), dtype=float, count=len(arcs))
            entries.append((np.full(len(arcs), i, dtype=np.int64), arcs, coef))
        m = len(limits)
        if side == "max":
            return RowBlock.build(list(limits), np.full(m, -INF), np.zeros(m), entries)
        return RowBlock.build(list(limits), np.zeros(m), np.full(m, INF), entries)

    return build


def _sink_capacity(n: Network, _: Build) -> RowBlock:
    caps = {d: x.capacity_t for d, x in n.g.sinks.items() if x.capacity_t is not None}
    keys = sorted(caps)
    r, c = _feed_entries(n, keys)
    return RowBlock.build(list(keys), np.full(len(keys), -INF), [float(caps[d]) for d in keys], [(r, c, np.ones(len(r)))])


def route_members(n: Network) -> dict[str, np.ndarray]:
    """Capacity-limited route id -> positions of the arcs it carries (routes with arcs only)."""
    caps = {r.id for r in n.g.scenario.routes if r.capacity_t is not None and not r.prohibited}
    members: dict[str, list[int]] = {}
    for j, a in enumerate(n.g.arcs):
        for rid in a.routes:
            if rid in caps:
                members.setdefault(rid, []).append(j)
    return {r: np.array(members[r], dtype=np.int64) for r in sorted(members)}


def _route_capacity(n: Network, _: Build) -> RowBlock:
    members = route_members(n)
    caps = {r.id: r.capacity_t for r in n.g.scenario.routes}
    keys: list[Hashable] = list(members)
    entries = [(np.full(len(arcs), i, dtype=np.int64), arcs, np.ones(len(arcs))) for i, arcs in enumerate(members.values())]
    return RowBlock.build(keys, np.full(len(keys), -INF), [float(caps[str(r)] or 0.0) for r in keys], entries)


def reclaim_limits(n: Network) -> dict[str, float]:
    """Stockpile -> min(yearly reclaim limit, tonnes held), for reclaimable stockpiles."""
    limit = {k.id: min(k.max_reclaim_t, k.stock_t) for k in n.g.scenario.stockpiles}
    return {k: limit[k] for k in n.stockpiles}


def _stock_reclaim_limit(n: Network, _: Build) -> RowBlock:
    limits = reclaim_limits(n)
    m = len(limits)
    cols = n.reclaim_start + np.arange(m, dtype=np.int64)
    return RowBlock.build(list(limits), np.full(m, -INF), list(limits.values()), [(np.arange(m, dtype=np.int64), cols, np.ones(m))])


def _target(n: Network, b: Build) -> RowBlock:
    if not b.with_target:
        return RowBlock.build([], [], [], [])
    num, extra = rate_forms(n)
    t = b.target_rate
    index = np.concatenate([num.index, extra.index])
    coef = np.concatenate([num.coef, -t * extra.coef])
    return RowBlock.build([None], [t * generation_t(n)], [INF], [(np.zeros(len(index), dtype=np.int64), index, coef)])


# ---------------------------------------------------------------------------------------------
# Investment decisions (the MILP: only with candidates and ``Build.investment``)
# ---------------------------------------------------------------------------------------------


def capital_recovery_factor(rate: float, years: int) -> float:
    r"""The capital recovery factor: the yearly payment that repays 1 CNY over ``years`` at ``rate``.

    .. math:: \mathrm{CRF}(r, L) = \frac{r (1+r)^L}{(1+r)^L - 1}, \qquad \mathrm{CRF}(0, L) = 1/L
    """
    if rate <= 0:
        return 1.0 / years
    grow = (1.0 + rate) ** years
    return rate * grow / (grow - 1.0)


def candidate_sizes(c: Any) -> tuple[float, float]:
    """``(m_c, M_c)``: the least and most capacity a candidate adds when built (t/yr).

    ``build``: both ``size_t``; ``size``: ``min_size_t`` and ``max_size_t``; ``modules``: one
    module and ``max_modules`` modules.
    """
    mode = c.sizing.value
    if mode == "build":
        return float(c.size_t or 0.0), float(c.size_t or 0.0)
    if mode == "size":
        return float(c.min_size_t), float(c.max_size_t or 0.0)
    return float(c.module_t or 0.0), float(c.module_t or 0.0) * float(c.max_modules or 0)


def candidate_available(n: Network, cid: str) -> bool:
    """False when the candidate cannot be in operation in the scenario's year (``earliest_year``)."""
    c, year = n.candidate[cid], n.g.scenario.year
    return c.earliest_year is None or year is None or c.earliest_year <= year


def annualized(n: Network, cid: str) -> float:
    """CRF of a candidate: CNY/yr per CNY of its capital (``policy.discount_rate``, ``lifetime_yr``)."""
    return capital_recovery_factor(n.g.scenario.policy.discount_rate, n.candidate[cid].lifetime_yr)


def _build_upper(n: Network) -> np.ndarray:
    return np.array([1.0 if candidate_available(n, c) else 0.0 for c in n.candidates])


def _modules_upper(n: Network) -> np.ndarray:
    return np.array([float(n.candidate[c].max_modules or 0) for c in n.modular])


def _candidate_min_size(n: Network, _: Build) -> RowBlock:
    keys: list[Hashable] = [c for c in n.candidates if candidate_sizes(n.candidate[c])[0] > 0]
    pos = {c: j for j, c in enumerate(n.candidates)}
    i = np.arange(len(keys), dtype=np.int64)
    j = np.array([pos[str(c)] for c in keys], dtype=np.int64)
    m = np.array([candidate_sizes(n.candidate[str(c)])[0] for c in keys])
    entries = [(i, n.built_start + j, np.ones(len(keys))), (i, n.build_start + j, -m)]
    return RowBlock.build(keys, np.zeros(len(keys)), np.full(len(keys), INF), entries)


def _candidate_max_size(n: Network, _: Build) -> RowBlock:
    keys: list[Hashable] = list(n.candidates)
    i = np.arange(len(keys), dtype=np.int64)
    big = np.array([candidate_sizes(n.candidate[str(c)])[1] for c in keys])
    entries = [(i, n.built_start + i, np.ones(len(keys))), (i, n.build_start + i, -big)]
    return RowBlock.build(keys, np.full(len(keys), -INF), np.zeros(len(keys)), entries)


def _candidate_modules(n: Network, _: Build) -> RowBlock:
    keys: list[Hashable] = list(n.modular)
    pos = {c: j for j, c in enumerate(n.candidates)}
    i = np.arange(len(keys), dtype=np.int64)
    j = np.array([pos[str(c)] for c in keys], dtype=np.int64)
    u = np.array([float(n.candidate[str(c)].module_t or 0.0) for c in keys])
    entries = [(i, n.built_start + j, np.ones(len(keys))), (i, n.modules_start + i, -u)]
    return RowBlock.build(keys, np.zeros(len(keys)), np.zeros(len(keys)), entries)


def exclusive_groups(n: Network) -> dict[str, list[str]]:
    """Group -> its candidates (sorted), for every group named in ``candidates``."""
    groups: dict[str, list[str]] = {}
    for c in n.candidates:
        g = n.candidate[c].group
        if g is not None:
            groups.setdefault(g, []).append(c)
    return {g: groups[g] for g in sorted(groups)}


def _exclusive_group(n: Network, _: Build) -> RowBlock:
    groups = exclusive_groups(n)
    pos = {c: j for j, c in enumerate(n.candidates)}
    entries = [(np.full(len(cs), i, dtype=np.int64), n.build_start + np.array([pos[c] for c in cs], dtype=np.int64), np.ones(len(cs))) for i, cs in enumerate(groups.values())]
    return RowBlock.build(list(groups), np.full(len(groups), -INF), np.ones(len(groups)), entries)


def capital_budgets(n: Network) -> dict[str, float]:
    """Budget row key -> CNY, for the budgets given.

    ``total`` is ``policy.capital_budget_cny``; ``per_year`` is ``policy.capital_budget_cny_per_yr``
    (one year in the single-year model: the same builds).
    """
    pol = n.g.scenario.policy
    out = {}
    if pol.capital_budget_cny is not None:
        out["total"] = float(pol.capital_budget_cny)
    if pol.capital_budget_cny_per_yr is not None:
        out["per_year"] = float(pol.capital_budget_cny_per_yr)
    return out


def capital_form(n: Network) -> SparseVector:
    """Capital of the builds, CNY (not annualized): Σ_c (K_c b_c + k_c s_c)."""
    j = np.arange(len(n.candidates), dtype=np.int64)
    fixed = np.array([n.candidate[c].capital_cny for c in n.candidates], dtype=float)
    per_t = np.array([n.candidate[c].capital_cny_per_t for c in n.candidates], dtype=float)
    return SparseVector(np.concatenate([n.build_start + j, n.built_start + j]), np.concatenate([fixed, per_t]))


def _capital_budget(n: Network, _: Build) -> RowBlock:
    budgets = capital_budgets(n)
    form = capital_form(n)
    entries = [(np.full(len(form.index), i, dtype=np.int64), form.index, form.coef) for i in range(len(budgets))]
    return RowBlock.build(list(budgets), np.full(len(budgets), -INF), list(budgets.values()), entries)


def _capital_term(n: Network) -> SparseVector:
    crf = np.array([annualized(n, c) for c in n.candidates], dtype=float)
    form = capital_form(n)
    return SparseVector(form.index, form.coef * np.concatenate([crf, crf]))


def _fixed_opex_term(n: Network) -> SparseVector:
    j = np.arange(len(n.candidates), dtype=np.int64)
    return SparseVector(n.build_start + j, np.array([n.candidate[c].fixed_opex_cny_per_yr for c in n.candidates], dtype=float))


# ---------------------------------------------------------------------------------------------
# Limits in the coefficients (quality, shares, the target)
# ---------------------------------------------------------------------------------------------


def _quality_parametric(side: Literal["max", "min"]) -> Callable[[Network, Hashable], Parametric]:
    def param(n: Network, key: Hashable) -> Parametric:
        p, k = key  # type: ignore[misc]
        comp = compositions(n)
        arcs = n.arcs_into(p)
        a = np.fromiter((comp[(n.arc_stream[j], k)] for j in arcs), dtype=float, count=len(arcs))
        return Parametric(arcs, a, np.ones(len(arcs)), 0.0, quality_limits(n, side)[(p, k)])

    return param


def _share_parametric(n: Network, key: Hashable) -> Parametric:
    o, st = key  # type: ignore[misc]
    arcs = n.arcs_into(o)
    a = np.fromiter((n.arc_stream[j] == st for j in arcs), dtype=float, count=len(arcs))
    return Parametric(arcs, a, np.ones(len(arcs)), 0.0, share_limits(n)[(o, st)])


def _target_parametric(n: Network, _: Hashable) -> Parametric:
    num, extra = rate_forms(n)
    size = n.n_cols
    a, b = num.dense(size), extra.dense(size)
    cols = np.flatnonzero((a != 0) | (b != 0))
    return Parametric(cols, a[cols], b[cols], generation_t(n), n.g.scenario.policy.target_rate)


# ---------------------------------------------------------------------------------------------
# Sentences: bottleneck cards, relaxations, conflict sets
# ---------------------------------------------------------------------------------------------


def _capacity_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("project", str(key))
    firm = lb.firm_of(str(key))
    run_en = f" (run by {firm[1]})" if firm else ""
    run_zh = f"（{firm[0]}）" if firm else ""
    return (f"{nm[1]}{run_en} is full at {limit:,.0f} t/yr: each extra t/yr of capacity would save {price:,.2f} CNY/yr.",
            f"{nm[0]}{run_zh}产能已满（{limit:,.0f} 吨/年）：每增加 1 吨/年产能可节约 {price:,.2f} 元/年。")


def _min_intake_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("project", str(key))
    return (f"{nm[1]} must take at least {limit:,.0f} t/yr: each t/yr less of that minimum would save {price:,.2f} CNY/yr.",
            f"{nm[0]}最低进料 {limit:,.0f} 吨/年：最低进料每减少 1 吨/年可节约 {price:,.2f} 元/年。")


def _sink_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("sink", str(key))
    return (f"{nm[1]} is full at {limit:,.0f} t/yr: each extra t/yr it could take would save {price:,.2f} CNY/yr.",
            f"{nm[0]}已满（{limit:,.0f} 吨/年）：每增加 1 吨/年容量可节约 {price:,.2f} 元/年。")


def _route_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("route", str(key))
    return (f"The transport route {nm[1]} is full at {limit:,.0f} t/yr: each extra t/yr would save {price:,.2f} CNY/yr.",
            f"运输线路 {nm[0]} 运力已满（{limit:,.0f} 吨/年）：每增加 1 吨/年运力可节约 {price:,.2f} 元/年。")


def _reclaim_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("stockpile", str(key))
    return (f"Reclaim from {nm[1]} is at its limit of {limit:,.0f} t/yr: each extra t/yr would save {price:,.2f} CNY/yr.",
            f"{nm[0]}年回采量已达上限 {limit:,.0f} 吨：每多回采 1 吨/年可节约 {price:,.2f} 元/年。")


def _quality_card(side: Literal["max", "min"]) -> Callable[[Labels, Hashable, float, float], tuple[str, str]]:
    def card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
        p, c = key  # type: ignore[misc]
        nm = lb.name("project", p)
        if side == "max":
            return (f"The {c} limit of {nm[1]} binds at {limit:.2%} of the blended feed: allowing one percentage point more would save {price:,.0f} CNY/yr.",
                    f"{nm[0]}进料 {c} 上限 {limit:.2%} 起约束作用：上限每放宽 1 个百分点可节约 {price:,.0f} 元/年。")
        return (f"The {c} minimum of {nm[1]} binds at {limit:.2%} of the blended feed: lowering it by one percentage point would save {price:,.0f} CNY/yr.",
                f"{nm[0]}进料 {c} 下限 {limit:.2%} 起约束作用：下限每降低 1 个百分点可节约 {price:,.0f} 元/年。")

    return card


def _share_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    o, st = key  # type: ignore[misc]
    nm = lb.outlet(o)
    sn = lb.name("stream", st)
    return (f"{sn[1]} ({st}) may form at most {limit:.0%} of the intake of {nm[1]}: one percentage point more would save {price:,.0f} CNY/yr.",
            f"{sn[0]}（{st}）在{nm[0]}进料中的占比上限 {limit:.0%} 起约束作用：每放宽 1 个百分点可节约 {price:,.0f} 元/年。")


def _target_card(lb: Labels, _: Hashable, limit: float, price: float) -> tuple[str, str]:
    mode = lb.scenario.policy.rate_mode.value
    from flowopt.i18n import value  # labels only; imported late (i18n reads this registry)

    rate_zh = value("rate_mode", mode, "zh")  # 综合利用率, 综合利用处置率 or 处置率, never the code
    return (f"The {limit:.0%} {mode.replace('_', ' ')} target binds: each extra percentage point costs the park {price:,.0f} CNY/yr, and each point less saves about as much.",
            f"{limit:.0%} 的{rate_zh}目标起约束作用：目标每提高 1 个百分点，园区年成本增加约 {price:,.0f} 元。")


_TONNAGE_WHAT = {
    "project_capacity": ("capacity", "产能", "project"),
    "project_min_intake": ("minimum intake", "最低进料", "project"),
    "sink_capacity": ("capacity", "产能", "sink"),
    "route_capacity": ("route capacity", "运力", "route"),
    "stock_reclaim_limit": ("yearly reclaim limit", "年回采上限", "stockpile"),
}


def _tonnage_relaxation(family: str) -> Callable[[Labels, Hashable, float, float], tuple[str, str]]:
    what, what_zh, kind = _TONNAGE_WHAT[family]
    down = family == "project_min_intake"

    def text(lb: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
        nm = lb.name(kind, str(key))
        verb, verb_zh = ("lower the minimum intake of", "将最低进料降低") if down else ("expand", "扩大")
        step = abs(proposed - current)
        return (f"{verb.capitalize()} {nm[1]} ({key}) {what} from {current:,.0f} to {proposed:,.0f} t/yr ({'-' if down else '+'}{step:,.0f}).",
                f"{verb_zh}{nm[0]}（{key}）的{what_zh}：由 {current:,.0f} 调整为 {proposed:,.0f} 吨/年。")

    return text


def _quality_relaxation(side: Literal["max", "min"]) -> Callable[[Labels, Hashable, float, float], tuple[str, str]]:
    def text(lb: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
        project, comp = key  # type: ignore[misc]
        nm = lb.name("project", project)
        bound, bound_zh = ("maximum", "上限") if side == "max" else ("minimum", "下限")
        en, zh = _standard_of(lb, project, comp)
        return (f"Move the {comp} {bound} of {nm[1]} ({project}) from {current:.2%} to {proposed:.2%} of the blended feed{en}.",
                f"将{nm[0]}（{project}）进料 {comp} {bound_zh}由 {current:.2%} 调整为 {proposed:.2%}{zh}。")

    return text


def _standard_of(lb: Labels, project: str, component: str) -> tuple[str, str]:
    """`` (set by GB/T 14684-2022, clause 6.4)`` and its Chinese, when the quality row names a standard; else empty."""
    row = next((q for q in lb.scenario.quality if q.project == project and q.component == component), None)
    if row is None or not row.standard:
        return "", ""
    if row.clause:
        return f" (a limit set by {row.standard}, clause {row.clause})", f"（该限值依据 {row.standard} 第 {row.clause} 条）"
    return f" (a limit set by {row.standard})", f"（该限值依据 {row.standard}）"


def _share_relaxation(lb: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
    outlet, stream = key  # type: ignore[misc]
    nm = lb.outlet(outlet)
    return (f"Let {stream} form up to {proposed:.1%} (now {current:.0%}) of the intake of {nm[1]} ({outlet}).",
            f"将 {stream} 在{nm[0]}（{outlet}）进料中的占比上限由 {current:.0%} 放宽至 {proposed:.1%}。")


def _target_relaxation(_: Labels, __: Hashable, current: float, proposed: float) -> tuple[str, str]:
    return (f"Even with the relaxations above, lower the target from {current:.1%} to {proposed:.2%}.",
            f"即使采取上述放宽措施，仍需将目标由 {current:.1%} 降至 {proposed:.2%}。")


def _conflict_record(family: str) -> Callable[[Labels, Network, Hashable], tuple[str, str, str | None]]:
    def text(lb: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
        k = str(key)
        if family == "project_capacity":
            nm, p = lb.name("project", k), n.g.projects[k]
            return f"the capacity of {nm[1]} ({k}), {p.capacity_t:,.0f} t/yr", f"{nm[0]}（{k}）的产能 {p.capacity_t:,.0f} 吨/年", lb.where("project", k)
        if family == "project_min_intake":
            nm, p = lb.name("project", k), n.g.projects[k]
            return f"the minimum intake of {nm[1]} ({k}), {p.min_intake_t:,.0f} t/yr", f"{nm[0]}（{k}）的最低进料 {p.min_intake_t:,.0f} 吨/年", lb.where("project", k)
        if family == "sink_capacity":
            nm = lb.name("sink", k)
            return f"the capacity of {nm[1]} ({k})", f"{nm[0]}（{k}）的容量", lb.where("sink", k)
        if family == "route_capacity":
            nm = lb.name("route", k)
            return f"the capacity of route {nm[1]} ({k})", f"运输线路 {nm[0]}（{k}）的运力", lb.where("route", k)
        nm = lb.name("stockpile", k)
        return f"the yearly reclaim limit of {nm[1]} ({k})", f"{nm[0]}（{k}）的年回采上限", lb.where("stockpile", k)

    return text


def _quality_conflict(side: Literal["max", "min"]) -> Callable[[Labels, Network, Hashable], tuple[str, str, str | None]]:
    def text(lb: Labels, _: Network, key: Hashable) -> tuple[str, str, str | None]:
        project, comp = key  # type: ignore[misc]
        nm = lb.name("project", project)
        bound = "maximum" if side == "max" else "minimum"
        en, zh = _standard_of(lb, project, comp)
        return f"the {comp} {bound} of {nm[1]} ({project}){en}", f"{nm[0]}（{project}）的 {comp} {'上限' if side == 'max' else '下限'}{zh}", lb.where("project", project)

    return text


def _share_conflict(_: Labels, __: Network, key: Hashable) -> tuple[str, str, str | None]:
    outlet, stream = key  # type: ignore[misc]
    return f"the share cap of {stream} at {outlet}", f"{stream} 在 {outlet} 的占比上限", None


def _balance_conflict(_: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
    lot = n.g.lots.get(str(key))
    what = lot.stream if lot else str(key)
    if not n.g.scenario.policy.allow_unmanaged:
        return (f"the mass balance of {what} (every tonne must reach a project or a sink: unmanaged tonnes are not allowed)",
                f"{what} 的物料平衡（每吨都须进入利用项目或处置/贮存设施：不允许未妥善处置）", None)
    return f"the mass balance of {what} (every tonne must go somewhere)", f"{what} 的物料平衡（每吨都须有去向）", None


def _target_conflict(lb: Labels, _: Network, __: Hashable) -> tuple[str, str, str | None]:
    return "the target itself", "目标本身", "scenario.yaml policy.target_rate"


# ---------------------------------------------------------------------------------------------
# Airspace and carbon (issue 15): sink_airspace, co2_cap; the pathway's airspace_total and
# storage_stock (rows built by flowopt.formulation.assemble.stack_years)
# ---------------------------------------------------------------------------------------------


def airspace_limits(n: Network) -> dict[str, float]:
    """Sink -> V_d, its remaining airspace (t), for every sink with ``remaining_volume_t``."""
    return {d: float(x.remaining_volume_t) for d, x in sorted(n.g.sinks.items()) if x.remaining_volume_t is not None}


def _sink_airspace(n: Network, _: Build) -> RowBlock:
    limits = airspace_limits(n)
    keys = list(limits)
    r, c = _feed_entries(n, keys)
    return RowBlock.build(list(keys), np.full(len(keys), -INF), [limits[d] for d in keys], [(r, c, np.ones(len(r)))])


def arc_transport_tco2(n: Network) -> np.ndarray:
    """tCO2 per tonne on each arc (in arc order).

    A matching route's ``transport_tco2_per_t`` where one applies, else
    ``transport.tco2_per_t_km`` × the arc's km (0 on the same site).
    """

    def compute() -> np.ndarray:
        from flowopt.graph import matching_routes, route_index

        g = n.g
        factor = g.scenario.transport.tco2_per_t_km
        km = np.fromiter((a.distance_km for a in g.arcs), dtype=float, count=n.n_arcs)
        out = factor * km
        if any(r.transport_tco2_per_t is not None for r in g.scenario.routes):
            index = route_index(g.scenario.routes)
            site = {**{k: v.site for k, v in g.projects.items()}, **{k: v.site for k, v in g.sinks.items()}}
            for j, a in enumerate(g.arcs):
                lot = g.lots[a.lot]
                own = next((r.transport_tco2_per_t for r in matching_routes(index, lot.site, site[a.outlet], lot.stream) if r.transport_tco2_per_t is not None), None)
                if own is not None:
                    out[j] = float(own)
        return out

    return n.memo("arc_transport_tco2", compute)  # type: ignore[no-any-return]


def project_tco2(n: Network, project: str) -> tuple[float, float, float]:
    """``(process, electricity, avoided)`` tCO2 per tonne of a project's feed.

    Electricity is ``electricity_kwh_per_t`` × ``policy.grid_tco2_per_mwh`` / 1000; avoided is
    ``product_fraction`` × ``product_avoided_tco2_per_t`` (avoided per tonne of product).
    """
    p = n.g.projects[project]
    grid = n.g.scenario.policy.grid_tco2_per_mwh
    return float(p.process_tco2_per_t), float(p.electricity_kwh_per_t * grid / 1000.0), float(p.product_fraction * p.product_avoided_tco2_per_t)


def co2_forms(n: Network) -> dict[str, SparseVector]:
    r"""The plan's CO2 (tCO2/yr) as linear forms over the columns.

    .. math::
        E^{tr} = \sum_{(l,o)} e_{l,o} x_{l,o}, \quad
        E^{pr} = \sum_p \epsilon_p F_p, \quad
        E^{el} = \sum_p k_p \gamma F_p / 1000, \quad
        A = \sum_p \pi_p a_p F_p

    Returns:
        ``co2_transport_tco2``, ``co2_process_tco2``, ``co2_electricity_tco2``,
        ``co2_avoided_tco2``, ``co2_gross_tco2`` (the first three) and ``co2_net_tco2``
        (gross − avoided).
    """

    def compute() -> dict[str, SparseVector]:
        arcs = np.arange(n.n_arcs, dtype=np.int64)
        out = {"co2_transport_tco2": SparseVector(arcs, arc_transport_tco2(n).copy())}
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"co2_process_tco2": [], "co2_electricity_tco2": [], "co2_avoided_tco2": []}
        for o, cols in sorted(n.into.items()):
            if o not in n.g.projects:
                continue
            for name, v in zip(parts, project_tco2(n, o), strict=True):
                if v:
                    parts[name].append((cols, np.full(len(cols), v)))
        for name, chunks in parts.items():
            out[name] = SparseVector(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])) if chunks else SparseVector.empty()
        out["co2_gross_tco2"] = out["co2_transport_tco2"] + out["co2_process_tco2"] + out["co2_electricity_tco2"]
        out["co2_net_tco2"] = out["co2_gross_tco2"] + out["co2_avoided_tco2"].scaled(-1.0)
        return out

    return n.memo("co2_forms", compute)  # type: ignore[no-any-return]


def co2_caps(n: Network) -> dict[str, float]:
    """``{basis: cap}`` (tCO2/yr) when ``policy.co2_cap_t`` is given (``gross`` or ``net``), else empty."""
    pol = n.g.scenario.policy
    return {} if pol.co2_cap_t is None else {Co2Basis(pol.co2_cap_basis).value: float(pol.co2_cap_t)}


def _co2_cap(n: Network, _: Build) -> RowBlock:
    caps = co2_caps(n)
    entries = []
    for i, basis in enumerate(caps):
        form = co2_forms(n)[f"co2_{basis}_tco2"]
        entries.append((np.full(len(form.index), i, dtype=np.int64), form.index, form.coef))
    return RowBlock.build(list(caps), np.full(len(caps), -INF), list(caps.values()), entries)


def _airspace_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("sink", str(key))
    return (f"{nm[1]} ({key}) takes all of its remaining airspace, {limit:,.0f} t: each extra tonne of airspace would save {price:,.2f} CNY/yr.",
            f"{nm[0]}（{key}）剩余库容 {limit:,.0f} 吨已用尽：每增加 1 吨库容可节约 {price:,.2f} 元/年。")


def _co2_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    basis, basis_zh = ("gross", "总") if key == "gross" else ("net", "净")
    return (f"The CO2 cap of {limit:,.0f} tCO2/yr ({basis} emissions) binds: each extra tonne of CO2 allowed would save {price:,.2f} CNY/yr, the cap's price of {price:,.2f} CNY per tCO2.",
            f"二氧化碳排放上限 {limit:,.0f} 吨/年（{basis_zh}排放）起约束作用：每多允许排放 1 吨二氧化碳可节约 {price:,.2f} 元/年，即减排成本 {price:,.2f} 元/吨二氧化碳。")


def _airspace_relaxation(lb: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
    nm = lb.name("sink", str(key))
    return (f"Add airspace to {nm[1]} ({key}): from {current:,.0f} to {proposed:,.0f} t remaining (+{proposed - current:,.0f}).",
            f"增加{nm[0]}（{key}）的剩余库容：由 {current:,.0f} 吨增至 {proposed:,.0f} 吨。")


def _co2_relaxation(_: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
    return (f"Raise the CO2 cap ({key} emissions) from {current:,.0f} to {proposed:,.0f} tCO2/yr (+{proposed - current:,.0f}).",
            f"将二氧化碳排放上限（{'总' if key == 'gross' else '净'}排放）由 {current:,.0f} 吨/年提高至 {proposed:,.0f} 吨/年。")


def _airspace_conflict(lb: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
    k = str(key)
    nm, v = lb.name("sink", k), n.g.sinks[k].remaining_volume_t or 0.0
    return f"the remaining airspace of {nm[1]} ({k}), {v:,.0f} t", f"{nm[0]}（{k}）的剩余库容 {v:,.0f} 吨", lb.where("sink", k)


def _co2_conflict(_: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
    cap = n.g.scenario.policy.co2_cap_t or 0.0
    return f"the CO2 cap of {cap:,.0f} tCO2/yr ({key} emissions)", f"二氧化碳排放上限 {cap:,.0f} 吨/年（{'总' if key == 'gross' else '净'}排放）", "scenario.yaml policy.co2_cap_t"


# ---------------------------------------------------------------------------------------------
# Product markets, tax incentives and firms' duties (issue 15): market_sales, market_tier,
# market_demand, firm_target; the terms' market revenue and incentives_cny
# ---------------------------------------------------------------------------------------------


def sold_columns(n: Network) -> dict[tuple[str, str], np.ndarray]:
    """(project, market) -> positions of its ``sold_t`` columns, one per tier in selling order."""

    def compute() -> dict[tuple[str, str], np.ndarray]:
        out: dict[tuple[str, str], list[int]] = {link: [] for link in n.market_links}
        for j, (p, m, _) in enumerate(n.sales):
            out[(p, m)].append(n.sold_start + j)
        return {k: np.array(v, dtype=np.int64) for k, v in out.items()}

    return n.memo("sold_columns", compute)  # type: ignore[no-any-return]


def sold_prices(n: Network) -> np.ndarray:
    """Price (CNY/t of product) of each ``sold_t`` column: its market's tier price."""
    return np.array([n.market_tiers[m][k - 1][1] for _, m, k in n.sales], dtype=float)


def market_sellers(n: Network) -> dict[str, list[str]]:
    """Market -> projects of the network that sell into it (sorted); markets without sellers left out."""
    out: dict[str, list[str]] = {}
    for p, m in n.market_links:
        out.setdefault(m, []).append(p)
    return {m: out[m] for m in sorted(out)}


def tier_widths(n: Network) -> dict[tuple[str, int], float]:
    """(market, tier) -> tonnes the tier holds (upto_t minus the previous tier's), for closed tiers of sold markets.

    A tier that ends at or beyond the market's demand limit gets no row: the demand bounds it
    (a row of its own would bind together with the demand's, and split its price).
    """
    limit = {x.id: x.limit_t for x in n.g.scenario.markets}
    out: dict[tuple[str, int], float] = {}
    for m in market_sellers(n):
        low = 0.0
        for k, (upto, _) in enumerate(n.market_tiers[m], start=1):
            if upto is not None and (limit.get(m) is None or upto < limit[m]):  # type: ignore[operator]
                out[(m, k)] = float(upto) - low
                low = float(upto)
    return out


def market_limits(n: Network) -> dict[str, float]:
    """Market -> its demand limit D_m (t/yr of product), for markets with a limit and sellers."""
    limit = {x.id: x.limit_t for x in n.g.scenario.markets}
    return {m: float(limit[m]) for m in market_sellers(n) if limit.get(m) is not None}  # type: ignore[arg-type]


def _market_sales(n: Network, _: Build) -> RowBlock:
    cols = sold_columns(n)
    keys: list[Hashable] = list(n.market_links)
    entries = []
    for i, (p, m) in enumerate(n.market_links):
        sold = cols[(p, m)]
        arcs = n.arcs_into(p)
        y = n.g.projects[p].market_yields[m]
        entries.append((np.full(len(sold), i, dtype=np.int64), sold, np.ones(len(sold))))
        entries.append((np.full(len(arcs), i, dtype=np.int64), arcs, np.full(len(arcs), -y)))
    return RowBlock.build(keys, np.zeros(len(keys)), np.zeros(len(keys)), entries)


def _market_tier(n: Network, _: Build) -> RowBlock:
    widths = tier_widths(n)
    keys: list[Hashable] = list(widths)
    by_tier: dict[tuple[str, int], list[int]] = {k: [] for k in widths}  # type: ignore[misc]
    for j, (_, m, k) in enumerate(n.sales):
        if (m, k) in by_tier:
            by_tier[(m, k)].append(n.sold_start + j)
    entries = [(np.full(len(c), i, dtype=np.int64), np.array(c, dtype=np.int64), np.ones(len(c))) for i, c in enumerate(by_tier.values())]
    return RowBlock.build(keys, np.full(len(keys), -INF), list(widths.values()), entries)


def _market_demand(n: Network, _: Build) -> RowBlock:
    limits = market_limits(n)
    keys: list[Hashable] = list(limits)
    by_market: dict[str, list[int]] = {m: [] for m in limits}
    for j, (_, m, _k) in enumerate(n.sales):
        if m in by_market:
            by_market[m].append(n.sold_start + j)
    entries = [(np.full(len(c), i, dtype=np.int64), np.array(c, dtype=np.int64), np.ones(len(c))) for i, c in enumerate(by_market.values())]
    return RowBlock.build(keys, np.full(len(keys), -INF), list(limits.values()), entries)


def firm_targets(n: Network) -> dict[str, float]:
    """Firm -> its duty T_f (``firms.target_rate``), for every firm with one (sorted by id)."""
    return {f.id: float(f.target_rate) for f in sorted(n.g.scenario.firms, key=lambda f: f.id) if f.target_rate is not None}


def firm_forms(n: Network, firm: str) -> tuple[SparseVector, SparseVector, float]:
    r"""A firm's duty as linear forms: its ledger numerator N_f, the prior-year part E_f, and G_f.

    The firm's ledger counts the tonnes of its own lots (generation of its streams, reclaim of
    its stockpiles) delivered to the outlets the chosen rate counts, whole tonnes, whoever runs
    them (自行利用 + 委托利用): projects booked as utilization (``utilization``), and also
    projects and sinks booked as disposal (``utilization_plus_disposal``), or these alone
    (``disposal_only``). E_f is the part from its stockpiles (prior-year stock), except for
    ``disposal_only``; G_f the generation of its streams. Residues are the waste of the project
    that makes them and count for no generator.

    .. math:: N_f - T_f E_f \ge T_f G_f

    Returns:
        ``(N_f, E_f, G_f)``.
    """

    def compute() -> dict[str, tuple[SparseVector, SparseVector, float]]:
        g = n.g
        s = g.scenario
        mode = s.policy.rate_mode
        stream_firm = {x.id: x.firm for x in s.streams}
        util = {o for o, p in g.projects.items() if p.counts_as == ProjectBooking.utilization}
        disp = {o for o, p in g.projects.items() if p.counts_as == ProjectBooking.disposal} | {o for o, d in g.sinks.items() if d.counts_as == SinkBooking.disposal}
        counted = util if mode == RateMode.utilization else util | disp if mode == RateMode.utilization_plus_disposal else disp
        num: dict[str, list[int]] = defaultdict(list)
        prior: dict[str, list[int]] = defaultdict(list)
        for j in range(n.n_arcs):
            if n.arc_outlet[j] not in counted:
                continue
            lot = g.lots[n.lots[int(n.arc_lot[j])]]
            if lot.kind == "residue":
                continue
            owner = stream_firm.get(lot.stream)
            if owner is None:
                continue
            num[owner].append(j)
            if lot.kind == "stock" and mode != RateMode.disposal_only:
                prior[owner].append(j)
        gen: dict[str, float] = defaultdict(float)
        for x in s.streams:
            if x.firm is not None:
                gen[x.firm] += x.generation_t
        out = {}
        for f in firm_targets(n):
            a = np.array(num.get(f, []), dtype=np.int64)
            b = np.array(prior.get(f, []), dtype=np.int64)
            out[f] = (SparseVector(a, np.ones(len(a))), SparseVector(b, np.ones(len(b))), float(gen.get(f, 0.0)))
        return out

    return n.memo("firm_forms", compute)[firm]  # type: ignore[no-any-return]


def _firm_target(n: Network, _: Build) -> RowBlock:
    duties = firm_targets(n)
    keys: list[Hashable] = list(duties)
    lower, entries = [], []
    for i, (f, t) in enumerate(duties.items()):
        num, prior, gen = firm_forms(n, f)
        idx = np.concatenate([num.index, prior.index])
        entries.append((np.full(len(idx), i, dtype=np.int64), idx, np.concatenate([num.coef, -t * prior.coef])))
        lower.append(t * gen)
    return RowBlock.build(keys, lower, np.full(len(keys), INF), entries)


def _firm_parametric(n: Network, key: Hashable) -> Parametric:
    num, prior, gen = firm_forms(n, str(key))
    a, b = num.dense(n.n_cols), prior.dense(n.n_cols)
    cols = np.flatnonzero((a != 0) | (b != 0))
    return Parametric(cols, a[cols], b[cols], gen, firm_targets(n)[str(key)])


def incentive_factor(n: Network, project: str) -> float:
    """CNY of incentives per CNY of a project's product revenue (0 unless ``policy.apply_incentives``)."""
    return n.g.projects[project].incentive_factor if n.g.scenario.policy.apply_incentives else 0.0


def _revenue(n: Network, factor: Callable[[str], float] = lambda _: 1.0) -> SparseVector:
    """Product revenue (× ``factor`` per project): β_p on the arcs into p and the tier prices on its ``sold_t``."""
    flows = _per_outlet(n, lambda o: n.g.projects[o].revenue_cny_per_t * factor(o) if o in n.g.projects else None)
    if not n.sales:
        return flows
    scale = np.array([factor(p) for p, _, _ in n.sales], dtype=float)
    return flows + SparseVector(n.sold_start + np.arange(len(n.sales), dtype=np.int64), sold_prices(n) * scale)


def _incentives(n: Network) -> SparseVector:
    """Incentives: f_p × product revenue of p (VAT refunded plus income tax saved)."""
    if not n.g.scenario.policy.apply_incentives or not any(p.incentive_factor for p in n.g.projects.values()):
        return SparseVector.empty()
    return _revenue(n, lambda p: incentive_factor(n, p))


def _sellers_text(lb: Labels, market: str) -> tuple[str, str]:
    ids = sorted(p.id for p in lb.scenario.projects if market in p.market_yields)
    return ", ".join(ids) or "its projects", "、".join(ids) or "相关项目"


def _market_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("market", str(key))
    who, who_zh = _sellers_text(lb, str(key))
    return (f"The market for {nm[1]} ({key}) is full at {limit:,.0f} t/yr of product: a market, not a capacity, limits {who}. Each extra t/yr of demand would save {price:,.2f} CNY/yr.",
            f"{nm[0]}（{key}）市场已饱和（{limit:,.0f} 吨/年产品）：限制 {who_zh} 的是市场需求，而非产能。需求每增加 1 吨/年可节约 {price:,.2f} 元/年。")


def _firm_card(lb: Labels, key: Hashable, limit: float, price: float) -> tuple[str, str]:
    nm = lb.name("firm", str(key))
    mode = lb.scenario.policy.rate_mode.value
    from flowopt.i18n import value  # labels only; imported late (i18n reads this registry)

    return (f"{nm[1]} ({key}) must reach its own duty of {limit:.0%} ({value('rate_mode', mode, 'en')} of its own waste, as its ledger counts it): the duty binds, and each percentage point of it costs the park {price:,.0f} CNY/yr.",
            f"{nm[0]}（{key}）的主体责任目标（自身固废{value('rate_mode', mode, 'zh')}不低于 {limit:.0%}，按企业台账口径）起约束作用：该目标每提高 1 个百分点，园区年成本增加约 {price:,.0f} 元。")


def _market_relaxation(lb: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
    nm = lb.name("market", str(key))
    return (f"Find buyers for {proposed - current:,.0f} t/yr more {nm[1]} ({key}): demand from {current:,.0f} to {proposed:,.0f} t/yr.",
            f"为{nm[0]}（{key}）新增 {proposed - current:,.0f} 吨/年销路：市场需求由 {current:,.0f} 吨/年提高至 {proposed:,.0f} 吨/年。")


def _firm_relaxation(lb: Labels, key: Hashable, current: float, proposed: float) -> tuple[str, str]:
    nm = lb.name("firm", str(key))
    return (f"Lower the duty of {nm[1]} ({key}) from {current:.1%} to {proposed:.2%}.",
            f"将{nm[0]}（{key}）的主体责任目标由 {current:.1%} 降至 {proposed:.2%}。")


def _market_conflict(lb: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
    k = str(key)
    nm, limit = lb.name("market", k), market_limits(n).get(k, 0.0)
    return f"the demand of market {nm[1]} ({k}), {limit:,.0f} t/yr", f"{nm[0]}（{k}）市场需求 {limit:,.0f} 吨/年", lb.where("market", k)


def _sales_conflict(lb: Labels, _: Network, key: Hashable) -> tuple[str, str, str | None]:
    p, m = key  # type: ignore[misc]
    return f"every tonne of product {p} makes for market {m} must be sold there", f"{p} 供给 {m} 市场的产品须全部售出", lb.where("project", p)


def _tier_conflict(lb: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
    m, k = key  # type: ignore[misc]
    width = tier_widths(n).get((m, k), 0.0)
    return f"price tier {k} of market {m} ({width:,.0f} t/yr)", f"{m} 市场第 {k} 价格档（{width:,.0f} 吨/年）", lb.where("market", m)


def _firm_conflict(lb: Labels, n: Network, key: Hashable) -> tuple[str, str, str | None]:
    k = str(key)
    nm, t = lb.name("firm", k), firm_targets(n).get(k, 0.0)
    return f"the duty of {nm[1]} ({k}), {t:.0%} of its own waste", f"{nm[0]}（{k}）的主体责任目标 {t:.0%}", lb.where("firm", k)


def _project_subject(key: Hashable) -> tuple[str, str]:
    return ("project", str(key[0] if isinstance(key, tuple) else key))


#: Every constraint family, in row order.
ROWS: tuple[RowFamily, ...] = (
    RowFamily("lot_balance", "==", "t/yr", "lot", "Σ_o x_{l,o} + u_l = S_l (S_l = G_s, r_k or ρ_{p,s} F_{p,g}; u_l only when unmanaged tonnes are allowed)", None, 0, "mass balance of a lot", "批次物料平衡", _lot_balance,
              subject=lambda k: ("lot", str(k)), conflict=_balance_conflict),
    RowFamily("project_capacity", "<=", "t/yr", "project", "F_p ≤ C̄_p", "projects.capacity_t", -1, "project capacity", "项目产能", _project_capacity,
              subject=_project_subject, card=_capacity_card, relaxation=_tonnage_relaxation("project_capacity"), conflict=_conflict_record("project_capacity")),
    RowFamily("project_min_intake", ">=", "t/yr", "project with a minimum intake", "F_p ≥ C_p", "projects.min_intake_t", 1, "project minimum intake", "项目最低进料", _project_min_intake,
              subject=_project_subject, card=_min_intake_card, relaxation=_tonnage_relaxation("project_min_intake"), conflict=_conflict_record("project_min_intake")),
    RowFamily("feed_share", "<=", "t/yr", "(outlet, stream) with a share cap below 1", "Σ_{l: s(l)=s} x_{l,o} − σ_{o,s} Σ_l x_{l,o} ≤ 0", "accepts.max_share", -1, "feed share", "进料占比", _feed_share,
              subject=lambda k: ("outlet", str(k[0])), parametric=_share_parametric, card=_share_card, relaxation=_share_relaxation, conflict=_share_conflict),  # type: ignore[index]
    RowFamily("quality_max", "<=", "t/yr", "(project, component) with a maximum", "Σ_l (c_{s(l),k} − q̄_{p,k}) x_{l,p} ≤ 0", "quality.max_fraction", -1, "quality maximum", "成分上限", _quality("max"),
              subject=_project_subject, parametric=_quality_parametric("max"), card=_quality_card("max"), relaxation=_quality_relaxation("max"), conflict=_quality_conflict("max")),
    RowFamily("quality_min", ">=", "t/yr", "(project, component) with a minimum", "Σ_l (c_{s(l),k} − q_{p,k}) x_{l,p} ≥ 0", "quality.min_fraction", 1, "quality minimum", "成分下限", _quality("min"),
              subject=_project_subject, parametric=_quality_parametric("min"), card=_quality_card("min"), relaxation=_quality_relaxation("min"), conflict=_quality_conflict("min")),
    RowFamily("sink_capacity", "<=", "t/yr", "sink with an annual capacity", "Σ_l x_{l,d} ≤ K̄_d", "sinks.capacity_t", -1, "sink capacity", "处置/贮存设施容量", _sink_capacity,
              subject=lambda k: ("sink", str(k)), card=_sink_card, relaxation=_tonnage_relaxation("sink_capacity"), conflict=_conflict_record("sink_capacity")),
    RowFamily("sink_airspace", "<=", "t", "sink with a remaining volume", "Σ_l x_{l,d} ≤ V_d", "sinks.remaining_volume_t", -1, "sink airspace", "剩余库容", _sink_airspace,
              subject=lambda k: ("sink", str(k)), card=_airspace_card, relaxation=_airspace_relaxation, conflict=_airspace_conflict),
    RowFamily("route_capacity", "<=", "t/yr", "route with a capacity that carries an arc", "Σ_{(l,o) ∈ A_r} x_{l,o} ≤ R̄_r", "routes.capacity_t", -1, "route capacity", "运输线路运力", _route_capacity,
              subject=lambda k: ("route", str(k)), card=_route_card, relaxation=_tonnage_relaxation("route_capacity"), conflict=_conflict_record("route_capacity")),
    RowFamily("stock_reclaim_limit", "<=", "t/yr", "reclaimable stockpile", "r_k ≤ min(r̄_k, H_k)", "stockpiles.max_reclaim_t", -1, "reclaim limit", "回采上限", _stock_reclaim_limit,
              subject=lambda k: ("stockpile", str(k)), card=_reclaim_card, relaxation=_tonnage_relaxation("stock_reclaim_limit"), conflict=_conflict_record("stock_reclaim_limit")),
    RowFamily("target", ">=", "t/yr", "the park (one row)", "N − T·E ≥ T·G", "policy.target_rate", 1, "utilization target", "综合利用率目标", _target,
              parametric=_target_parametric, card=_target_card, relaxation=_target_relaxation, conflict=_target_conflict),
    RowFamily("co2_cap", "<=", "tCO2/yr", "CO2 basis (one row, only with policy.co2_cap_t)", "Σ_j e_j x_j ≤ C̄ (e_j: gross or net tCO2 per tonne)", "policy.co2_cap_t", -1, "CO2 cap", "二氧化碳排放上限", _co2_cap,
              card=_co2_card, relaxation=_co2_relaxation, conflict=_co2_conflict),
    RowFamily("market_sales", "==", "t/yr", "(project, market) the project sells into", "Σ_k s_{p,m,k} − y_{p,m} F_p = 0", "projects.markets", 0, "product sold in a market", "产品售出", _market_sales,
              subject=_project_subject, conflict=_sales_conflict),
    RowFamily("market_tier", "<=", "t/yr", "(market, price tier) with an upto_t", "Σ_p s_{p,m,k} ≤ W_{m,k}", "market_tiers.upto_t", 0, "market price tier", "市场价格档", _market_tier,
              subject=lambda k: ("market", str(k[0])), conflict=_tier_conflict),  # type: ignore[index]
    RowFamily("market_demand", "<=", "t/yr", "market with a demand limit", "Σ_{p,k} s_{p,m,k} ≤ D_m", "markets.limit_t", -1, "market demand", "市场需求", _market_demand,
              subject=lambda k: ("market", str(k)), card=_market_card, relaxation=_market_relaxation, conflict=_market_conflict),
    RowFamily("firm_target", ">=", "t/yr", "firm with a duty (firms.target_rate)", "N_f − T_f·E_f ≥ T_f·G_f", "firms.target_rate", 1, "firm's duty", "企业主体责任目标", _firm_target,
              subject=lambda k: ("firm", str(k)), parametric=_firm_parametric, card=_firm_card, relaxation=_firm_relaxation, conflict=_firm_conflict),
)

FAMILIES: dict[str, RowFamily] = {f.name: f for f in ROWS}

#: The investment model's own column families, after the LP's (only with ``Build.investment``).
INVESTMENT_COLUMNS: tuple[ColumnFamily, ...] = (
    ColumnFamily("build", "-", "candidate", "candidate built (1) or not (0)", "是否建设（1 建，0 不建）", lambda n: list(n.candidates), integer=True, upper=_build_upper),
    ColumnFamily("built_t", "t/yr", "candidate", "capacity a candidate adds", "新增能力", lambda n: list(n.candidates)),
    ColumnFamily("modules", "-", "candidate built in modules", "modules built", "建设模块数", lambda n: list(n.modular), integer=True, upper=_modules_upper),
)

#: The investment model's own row families, after the LP's (only with ``Build.investment``);
#: the candidates also enter ``project_capacity``: F_p − Σ_c s_c ≤ C̄_p.
INVESTMENT_ROWS: tuple[RowFamily, ...] = (
    RowFamily("candidate_min_size", ">=", "t/yr", "candidate with a least size above 0", "s_c − m_c b_c ≥ 0", "candidates.min_size_t", 1, "least size if built", "建设最小规模", _candidate_min_size,
              subject=lambda k: ("candidate", str(k))),
    RowFamily("candidate_max_size", "<=", "t/yr", "candidate", "s_c − M_c b_c ≤ 0", "candidates.max_size_t", -1, "most size (0 unless built)", "建设最大规模（不建为 0）", _candidate_max_size,
              subject=lambda k: ("candidate", str(k))),
    RowFamily("candidate_modules", "==", "t/yr", "candidate built in modules", "s_c − u_c n_c = 0", "candidates.module_t", 0, "size in whole modules", "按整模块建设", _candidate_modules,
              subject=lambda k: ("candidate", str(k))),
    RowFamily("exclusive_group", "<=", "-", "exclusive group of candidates", "Σ_{c ∈ g} b_c ≤ 1", "candidates.group", 0, "at most one of a group", "互斥组至多建一个", _exclusive_group),
    RowFamily("capital_budget", "<=", "CNY", "budget (total, per year)", "Σ_c (K_c b_c + k_c s_c) ≤ B", "policy.capital_budget_cny", -1, "capital budget", "投资预算", _capital_budget),
)

#: Every row family of the investment model by name (the LP's and its own).
INVESTMENT_FAMILIES: dict[str, RowFamily] = {f.name: f for f in INVESTMENT_ROWS}

#: The pathway's one family of its own: the stock a pile holds at the start bounds its reclaim
#: over all years (rows built by :func:`flowopt.formulation.assemble.stack_years`).
STOCK_TOTAL = RowFamily("stock_total", "<=", "t", "stockpile, over the pathway's years", "Σ_y r_{k,y} ≤ H_k", "stockpiles.stock_t", -1, "stock over the years", "多年回采总量", lambda n, b: RowBlock.build([], [], [], []),
                        subject=lambda k: ("stockpile", str(k)))

#: Builds in the pathway (rows added by :func:`flowopt.formulation.build_years.link_builds`; a
#: build of year y also enters the capacity rows of every later year).
PATHWAY_BUILD_ROWS: tuple[RowFamily, ...] = (
    RowFamily("build_once", "<=", "-", "candidate, over the pathway's years", "Σ_y b_{c,y} ≤ 1", None, 0, "built at most once", "至多建设一次", lambda n, b: RowBlock.build([], [], [], []),
              subject=lambda k: ("candidate", str(k))),
    RowFamily("group_once", "<=", "-", "exclusive group, over the pathway's years", "Σ_y Σ_{c ∈ g} b_{c,y} ≤ 1", "candidates.group", 0, "one of a group over the years", "多年内互斥组至多建一个", lambda n, b: RowBlock.build([], [], [], [])),
    RowFamily("pathway_capital_budget", "<=", "CNY", "the total budget, over the pathway's years", "Σ_y Σ_c (K_c b_{c,y} + k_c s_{c,y}) ≤ B", "policy.capital_budget_cny", -1, "capital budget over the years", "多年投资预算", lambda n, b: RowBlock.build([], [], [], [])),
)

#: Robust builds (rows added by :func:`flowopt.formulation.saa.stack_samples`): per training
#: sample s, no shortfall σ_s where the target is counted as met (μ_s = 1); μ met in k samples.
SAA_ROWS: tuple[RowFamily, ...] = (
    RowFamily("shortfall_link", "<=", "-", "training sample", "σ_s + μ_s ≤ 1", None, 0, "no shortfall where met", "达标样本无缺口", lambda n, b: RowBlock.build([], [], [], [])),
    RowFamily("chance", ">=", "-", "the training samples (one row)", "Σ_s μ_s ≥ ⌈c N⌉", "--confidence", 1, "target met in enough samples", "达标样本数下限", lambda n, b: RowBlock.build([], [], [], [])),
)
#: Robust builds' own columns: σ_s (share of the target's tonnes sample s falls short by) and μ_s.
SAA_COLUMNS: tuple[ColumnFamily, ...] = (
    ColumnFamily("shortfall", "-", "training sample", "share of the target's tonnes not reached", "未达目标的比例", lambda n: []),
    ColumnFamily("met", "-", "training sample", "target met (1) or not (0)", "是否达标（1 达标，0 未达标）", lambda n: [], integer=True),
)

#: The pathway's airspace row: a sink's intake over all years stays within the airspace it has
#: at the start (rows built by :func:`flowopt.formulation.assemble.stack_years`).
AIRSPACE_TOTAL = RowFamily("airspace_total", "<=", "t", "sink with a remaining volume, over the pathway's years", "Σ_y I_{d,y} ≤ V_d", "sinks.remaining_volume_t", -1, "airspace over the years", "多年库容", lambda n, b: RowBlock.build([], [], [], []),
                           subject=lambda k: ("sink", str(k)))

#: The pathway's stock of a pile fed by reclaimable storage (``sinks.reclaim_as``): by the end of
#: each year y_i, reclaim from the start on stays within the stock at the start plus what the
#: storage sinks took in the years before: Σ_{j≤i} r_{k,y_j} − Σ_{j<i} Σ_d I_{d,y_j} ≤ H_k.
STORAGE_STOCK = RowFamily("storage_stock", "<=", "t", "(stockpile fed by reclaimable storage, year)", "Σ_{j≤i} r_{k,y_j} − Σ_{j<i} Σ_{d→k} I_{d,y_j} ≤ H_k", "stockpiles.stock_t", -1, "stock with reclaimable storage", "含可回采贮存的堆存量", lambda n, b: RowBlock.build([], [], [], []),
                          subject=lambda k: ("stockpile", str(k[0] if isinstance(k, tuple) else k)))


# ---------------------------------------------------------------------------------------------
# Cost terms
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostTerm:
    """One term of the objective: a linear form over the columns and the sign it enters with."""

    name: str
    sign: int
    label_en: str
    label_zh: str
    form: Callable[[Network], SparseVector] = field(repr=False)


def _per_outlet(n: Network, price: Callable[[str], float | None]) -> SparseVector:
    idx: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for o, arcs in sorted(n.into.items()):
        p = price(o)
        if p is not None:
            idx.append(arcs)
            val.append(np.full(len(arcs), float(p)))
    if not idx:
        return SparseVector.empty()
    return SparseVector(np.concatenate(idx), np.concatenate(val))


def _sink_fee(n: Network, booking: SinkBooking) -> SparseVector:
    return _per_outlet(n, lambda o: n.g.sinks[o].fee_cny_per_t if o in n.g.sinks and n.g.sinks[o].counts_as == booking else None)


def _unmanaged_form(n: Network, price: Callable[[str], float]) -> SparseVector:
    idx = n.unmanaged_start + np.arange(len(n.unmanaged), dtype=np.int64)
    return SparseVector(idx, np.array([price(lid) for lid in n.unmanaged], dtype=float))


def _tax(n: Network) -> SparseVector:
    s = n.g.scenario
    category = {x.id: x.category for x in s.streams}
    tax = s.policy.environmental_tax_cny_per_t
    return _unmanaged_form(n, lambda lid: tax.rate(category[n.g.lots[lid].stream]))


def _reclaim(n: Network) -> SparseVector:
    rc = {k.id: k.reclaim_cost_cny_per_t for k in n.g.scenario.stockpiles}
    return SparseVector(n.reclaim_start + np.arange(len(n.stockpiles), dtype=np.int64), np.array([rc[k] for k in n.stockpiles], dtype=float))


#: The objective's terms in the order results report them (revenue and incentives enter with a minus sign).
TERMS: tuple[CostTerm, ...] = (
    CostTerm("transport_cny", 1, "transport", "运输", lambda n: SparseVector(np.arange(n.n_arcs, dtype=np.int64), n.arc_transport.copy())),
    CostTerm("processing_cny", 1, "processing", "加工", lambda n: _per_outlet(n, lambda o: n.g.projects[o].processing_cost_cny_per_t if o in n.g.projects else None)),
    CostTerm("revenue_cny", -1, "product revenue", "产品收入", _revenue),
    CostTerm("incentives_cny", -1, "tax incentives", "税收优惠", _incentives),
    CostTerm("disposal_fees_cny", 1, "disposal fees", "处置费", lambda n: _sink_fee(n, SinkBooking.disposal)),
    CostTerm("storage_fees_cny", 1, "storage fees", "贮存费", lambda n: _sink_fee(n, SinkBooking.storage)),
    CostTerm("reclaim_cny", 1, "stock reclaim", "回采", _reclaim),
    CostTerm("environmental_tax_cny", 1, "environmental tax", "环境保护税", _tax),
    CostTerm("unmanaged_penalty_cny", 1, "unmanaged penalty", "未妥善处置罚金", lambda n: _unmanaged_form(n, lambda _: n.g.scenario.policy.penalty_cny_per_t)),
)

#: Names of the cost terms, in report order.
COST_TERMS: tuple[str, ...] = tuple(t.name for t in TERMS)

#: The investment model's cost terms, after the LP's: annualized capital and fixed operating cost.
INVESTMENT_TERMS: tuple[CostTerm, ...] = (
    CostTerm("capital_annualized_cny", 1, "capital (annualized)", "投资（年值）", _capital_term),
    CostTerm("fixed_opex_cny", 1, "fixed operating cost of builds", "新建项目固定运营费", _fixed_opex_term),
)
