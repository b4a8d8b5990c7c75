r"""Exact parametric analysis on an optimal basis: where it stops being optimal, and why.

Stage: explanations. Input: the optimal basis of a solved LP (:meth:`flowopt.solve.Session.basis_view`,
HiGHS's factorization) and a parameter that moves; output: the exact value at which the basis
stops being optimal, with the variable that enters or leaves there. No search: two solves with
the basis factorization (one with B, one with Bᵀ) and one product with A per question.

**A limit inside a row's coefficients** (quality limits, feed shares, the target; see
:class:`~flowopt.formulation.families.Parametric`): row i reads Σ_j (a_j − θ b_j) x_j {≤,≥} θ c.
With Δ = θ − θ₀ the basis matrix changes by a rank-one term, B(Δ) = B₀ − Δ e_i vᵀ (v = b on the
basic columns). By the Sherman–Morrison formula, with p = B₀⁻¹ e_i, q = B₀⁻ᵀ v, s = vᵀp and
f(Δ) = Δ / (1 − Δ s):

.. math::
    z_B(Δ) = z_B + p \, w \, f(Δ), \qquad
    d_j(Δ) = d_j + y_i (b_j − qᵀ a_j) \, f(Δ), \qquad
    y_k(Δ) = y_k + y_i q_k \, f(Δ)

where z_B are the basic variables (a row's logical variable is minus its activity), w = c + b·x
when the row binds (c is dropped when it does not) and d, y are the reduced costs and duals.
Each stays feasible over an interval of f; f is monotone in Δ on the branch 1 − Δ s > 0, so the
intersection maps back to an exact interval of θ.

**A cut in the cost of a set of columns** (why-not): lowering the costs of columns P by t keeps
every primal value and moves the reduced costs linearly, d_j(t) = d_j − t (δ_j − πᵀa_j) with
π = B⁻ᵀ 1_{P∩B}; the first t at which one of them changes sign is where the basis changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from flowopt.formulation.families import Parametric
from flowopt.formulation.lp import AssembledLP
from flowopt.solve import BasisView

#: Reduced costs and duals within this of zero count as zero (HiGHS's dual tolerance is 1e-7).
DUAL_TOL = 1e-9
#: Primal slack within this (relative to the bound's size) counts as zero.
PRIMAL_TOL = 1e-9


@dataclass(frozen=True)
class Change:
    """What happens at the edge of a range: a variable enters the basis or leaves it.

    Attributes:
        at: the parameter's value there (``None``: no change within the allowed interval).
        kind: ``enters`` (a nonbasic column or limit becomes basic: an arc starts to carry, a
            limit stops binding) or ``leaves`` (a basic one hits its bound: an arc empties, a
            limit starts binding); ``bound`` when the allowed interval ends first.
        column: the column concerned, or ``None``.
        row: the row concerned (its logical variable), or ``None``.
    """

    at: float | None
    kind: str
    column: int | None = None
    row: int | None = None
    ties: int = 0
    """Other conditions reached at the same value (the change is not unique when above 0)."""

    def describe(self, lp: AssembledLP) -> str:
        """The change in the LP's names (``flow_t['gen:W03',R07] enters``)."""
        if self.column is not None:
            return f"{lp.column_name(self.column)} {self.kind}"
        if self.row is not None:
            what = "stops binding" if self.kind == "enters" else "starts binding"
            return f"{lp.row_name(self.row)} {what}"
        return "the end of the allowed range"


Who = tuple[str, int | None, int | None]


class _Interval:
    """An interval of a scalar t around 0, narrowed by conditions a + b t ≥ 0.

    Each batch of conditions comes with a function naming the variable behind condition k, only
    called for the condition that ends up deciding an edge (so large LPs build no lists).
    """

    def __init__(self) -> None:
        self.lo, self.hi = -math.inf, math.inf
        self.lo_who: Who = ("bound", None, None)
        self.hi_who: Who = ("bound", None, None)
        self.hi_ties = 0

    def at_least(self, a: np.ndarray, b: np.ndarray, who: Callable[[int], Who]) -> None:
        """Keep a + b t ≥ 0 for every element (a ≥ 0 at t = 0, up to tolerance)."""
        a = np.maximum(a, 0.0)  # a slightly negative start is a degenerate zero
        up = np.flatnonzero(b < 0)
        if len(up):
            t = a[up] / -b[up]
            k = int(np.argmin(t))
            if t[k] < self.hi:
                self.hi, self.hi_who = float(t[k]), who(int(up[k]))
                self.hi_ties = int(np.count_nonzero(t <= t[k] * (1 + 1e-12) + 1e-15)) - 1
            elif t[k] <= self.hi * (1 + 1e-12) + 1e-15:
                self.hi_ties += int(np.count_nonzero(t <= self.hi * (1 + 1e-12) + 1e-15))
        down = np.flatnonzero(b > 0)
        if len(down):
            t = -a[down] / b[down]
            k = int(np.argmax(t))
            if t[k] > self.lo:
                self.lo, self.lo_who = float(t[k]), who(int(down[k]))


#: Above this many non-zeros Aᵀq goes through scipy's compiled sparse product (imported then).
SCIPY_ABOVE_NNZ = 20_000


def _matrix_product(lp: AssembledLP, q: np.ndarray) -> np.ndarray:
    """Aᵀ q (one value per column) from the CSC arrays, without expanding column indices."""
    if lp.nnz > SCIPY_ABOVE_NNZ:
        # the CSC arrays of A are the CSR arrays of Aᵀ: a compiled row-by-row product
        transposed = lp.__dict__.get("_transposed")
        if transposed is None or transposed[0] is not lp.a_value:
            from scipy.sparse import csr_matrix

            transposed = (lp.a_value, csr_matrix((lp.a_value, lp.a_index, lp.a_start), shape=(lp.n_cols, lp.n_rows)))
            lp.__dict__["_transposed"] = transposed
        return np.asarray(transposed[1] @ q)
    sums = np.concatenate(([0.0], np.cumsum(lp.a_value * q[lp.a_index])))
    return sums[lp.a_start[1:]] - sums[lp.a_start[:-1]]


def _clean(values: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """Set to 0 what is rounding noise: entries below 1e-11 of their own scale or of the largest."""
    limit = np.maximum(1e-11 * np.abs(scale), 1e-13 * float(np.abs(values).max(initial=0.0)))
    return np.where(np.abs(values) <= limit, 0.0, values)


def _dual_conditions(view: BasisView, lp: AssembledLP, slope_cols: np.ndarray, slope_rows: np.ndarray, iv: _Interval) -> None:
    """Narrow ``iv`` so every nonbasic reduced cost and row dual keeps its optimal sign.

    ``slope_cols[j]`` and ``slope_rows[k]`` are the rates at which d_j and y_k change per unit
    of the interval's variable.
    """
    cs = view.col_status
    nb = np.flatnonzero((cs != 0) & (slope_cols != 0))
    d0 = view.col_dual[nb]
    sl = slope_cols[nb]
    st = cs[nb]
    # at a lower bound d ≥ 0; at an upper bound d ≤ 0 (written −d ≥ 0); a free nonbasic column
    # (status 3) must keep d = 0, so any change ends its range at once
    a = np.where(st == 1, d0, np.where(st == 2, -d0, 0.0))
    b = np.where(st == 1, sl, np.where(st == 2, -sl, -np.abs(sl)))
    iv.at_least(a, b, lambda k: ("enters", int(nb[k]), None))
    free = st == 3
    if free.any():
        idx = np.flatnonzero(free)
        iv.at_least(np.zeros(len(idx)), np.abs(sl[idx]), lambda k: ("enters", int(nb[idx[k]]), None))
    rs = view.row_status
    nbr = np.flatnonzero((rs != 0) & (lp.row_lower != lp.row_upper) & (slope_rows != 0))  # equalities: any sign
    y0 = view.row_dual[nbr]
    sr = slope_rows[nbr]
    at_lower = rs[nbr] == 1
    # a row at its lower bound (a ≥ limit binding) keeps y ≥ 0; at its upper bound y ≤ 0
    iv.at_least(np.where(at_lower, y0, -y0), np.where(at_lower, sr, -sr), lambda k: ("enters", None, int(nbr[k])))


def _basic_bounds(view: BasisView, lp: AssembledLP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values and bounds of the basic variables, in HiGHS's internal convention."""
    basic = view.basic
    is_col = basic >= 0
    cols = np.where(is_col, basic, 0)
    rows = np.where(is_col, 0, -1 - basic)
    value = np.where(is_col, view.x[cols], -view.row_activity[rows])
    lo = np.where(is_col, lp.col_lower[cols], -lp.row_upper[rows])
    hi = np.where(is_col, lp.col_upper[cols], -lp.row_lower[rows])
    return value, lo, hi


def _primal_conditions(view: BasisView, lp: AssembledLP, direction: np.ndarray, iv: _Interval, skip: int | None = None) -> None:
    """Narrow ``iv`` so every basic variable stays within its bounds as it moves by ``direction``·t."""
    value, lo, hi = _basic_bounds(view, lp)
    basic = view.basic

    def who(position: int) -> Who:
        v = int(basic[position])
        return ("leaves", v, None) if v >= 0 else ("leaves", None, -1 - v)

    keep = direction != 0
    if skip is not None:
        keep[skip] = False
    for bound, sign in ((lo, 1.0), (hi, -1.0)):
        idx = np.flatnonzero(np.isfinite(bound) & keep)
        if len(idx):
            iv.at_least(sign * (value[idx] - bound[idx]), sign * direction[idx], lambda k, idx=idx: who(int(idx[k])))


def limit_range(view: BasisView, lp: AssembledLP, row: int, par: Parametric, sense: str, bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[Change, Change]:
    """Exact interval of a coefficient limit θ over which the current basis stays optimal.

    Args:
        view: the optimal basis.
        lp: the LP that was solved (as the session holds it).
        row: the limit's row.
        par: how the row depends on θ (its current value ``par.theta``).
        sense: the row's sense (``<=`` or ``>=``): the side on which θ c is the bound.
        bounds: the values θ may take at all (fractions: 0 to 1).

    Returns:
        The lower and upper edges: each a :class:`Change` at the exact θ where the basis stops
        being optimal (or at the end of ``bounds``, kind ``bound``).
    """
    m = lp.n_rows
    theta0 = par.theta
    basic = view.basic
    b_full = np.zeros(lp.n_cols)
    b_full[par.cols] = par.b
    v = np.where(basic >= 0, b_full[np.maximum(basic, 0)], 0.0)
    e_i = np.zeros(m)
    e_i[row] = 1.0
    p = view.ftran(e_i)
    s = float(v @ p)
    q = view.btran(v) if v.any() else np.zeros(m)
    y_i = float(view.row_dual[row])
    row_basic = view.row_status[row] == 0
    w = float(par.b @ view.x[par.cols]) + (0.0 if row_basic else par.c)
    iv = _Interval()  # in f = Δ / (1 − Δ s)
    if y_i != 0.0:
        alpha = _matrix_product(lp, q)
        # b_j − qᵀa_j cancels to rounding noise for columns parallel to the row's own change
        direction = _clean(b_full - alpha, np.maximum(np.abs(b_full), np.abs(alpha)))
        _dual_conditions(view, lp, y_i * direction, y_i * _clean(q, q), iv)
    skip = None
    if row_basic and par.c:
        # the row does not bind, but its bound θ c moves: its slack shrinks by (w + c) per unit Δ
        # (s = 0 here, so f = Δ); the other basic values do not depend on this row
        k = int(np.flatnonzero(basic == -1 - row)[0])
        skip = k
        slack = (view.row_activity[row] - theta0 * par.c) if sense == ">=" else (theta0 * par.c - view.row_activity[row])
        rate = (w + par.c) if sense == ">=" else -(w + par.c)
        iv.at_least(np.array([slack]), np.array([-rate]), lambda _: ("leaves", None, row))
    if w != 0.0:
        _primal_conditions(view, lp, _clean(p, p) * w, iv, skip)

    def to_theta(f: float) -> float:
        if math.isinf(f):
            if s == 0.0:
                return f
            # f → ±∞ as Δ → 1/s: the basis matrix turns singular there
            return theta0 + 1.0 / s
        denominator = 1.0 + f * s
        if denominator <= 0.0:
            # the end of the branch: Δ runs off to infinity on the side of f
            return theta0 + (math.inf if f > 0 else -math.inf)
        return theta0 + f / denominator

    # f is monotone in Δ only on the branch 1 + f s > 0 (1 − Δ s > 0): stay on it
    lo_f, hi_f = iv.lo, iv.hi
    if s > 0:
        lo_f = max(lo_f, -1.0 / s)
    elif s < 0:
        hi_f = min(hi_f, -1.0 / s)
    lo_t, hi_t = to_theta(lo_f), to_theta(hi_f)
    lo_change = Change(lo_t, iv.lo_who[0], iv.lo_who[1], iv.lo_who[2]) if lo_t > bounds[0] else Change(bounds[0], "bound")
    hi_change = Change(hi_t, iv.hi_who[0], iv.hi_who[1], iv.hi_who[2]) if hi_t < bounds[1] else Change(bounds[1], "bound")
    return lo_change, hi_change


def cost_cut_edge(view: BasisView, lp: AssembledLP, cols: np.ndarray, cost: np.ndarray) -> Change:
    """See :func:`_cost_cut` (this returns only the change)."""
    return _cost_cut(view, lp, cols, cost)[0]


def _cost_cut(view: BasisView, lp: AssembledLP, cols: np.ndarray, cost: np.ndarray) -> tuple[Change, np.ndarray, np.ndarray]:
    """The smallest cut t ≥ 0 of the costs of ``cols`` at which the current basis stops being optimal.

    Args:
        view: the optimal basis (for the costs ``cost``).
        lp: the LP.
        cols: the columns whose costs are all lowered by t.
        cost: the cost vector the basis is optimal for.

    Returns:
        The change: ``at`` = the cut (``None`` when no cut changes the basis).
    """
    in_p = np.zeros(lp.n_cols, dtype=bool)
    in_p[cols] = True
    basic = view.basic
    e = np.where(basic >= 0, in_p[np.maximum(basic, 0)], False).astype(float)
    pi = view.btran(e) if e.any() else np.zeros(lp.n_rows)
    alpha = _matrix_product(lp, pi) if e.any() else np.zeros(lp.n_cols)
    # d_j(t) = d_j − t (δ_j − πᵀ a_j); y_k(t) = y_k − t π_k
    iv = _Interval()
    delta = in_p.astype(float)
    _dual_conditions(view, lp, -_clean(delta - alpha, np.maximum(delta, np.abs(alpha))), -_clean(pi, pi), iv)
    # per unit of cut the reduced costs move by −(δ − α) and the row duals by −π
    moves = (-(delta - alpha), -pi)
    if math.isinf(iv.hi):
        return Change(None, "bound"), *moves
    return Change(iv.hi, iv.hi_who[0], iv.hi_who[1], iv.hi_who[2], iv.hi_ties), *moves


class EtaBasis:
    """A basis walked away from HiGHS's optimal one by our own pivots (product form of the inverse).

    It behaves like a :class:`~flowopt.solve.BasisView` (values, statuses, duals, ``ftran`` and
    ``btran``), so the edge functions above work on it; solves go through HiGHS's factorization
    of the starting basis and the eta matrices of the pivots made since. Used to follow a
    parametric change (a cost cut) across a few breakpoints without re-solving the LP, each of
    which costs HiGHS milliseconds on a large park however small the step.

    Args:
        view: the optimal basis to start from.
        lp: the LP.
        cost: the cost vector (changed by the walk; a copy is kept).
    """

    #: Pivots whose pivot element is smaller than this (relative) are refused as unstable.
    PIVOT_TOL = 1e-9

    def __init__(self, view: BasisView, lp: AssembledLP, cost: np.ndarray) -> None:
        self.base = view
        self.lp = lp
        self.basic = view.basic.copy()
        self.col_status = view.col_status.copy()
        self.row_status = view.row_status.copy()
        self.x = view.x.copy()
        self.row_activity = view.row_activity.copy()
        self.cost = np.asarray(cost, dtype=float).copy()
        self.etas: list[tuple[int, np.ndarray]] = []
        self.col_dual = view.col_dual.copy()
        self.row_dual = view.row_dual.copy()

    def ftran(self, rhs: np.ndarray) -> np.ndarray:
        """B⁻¹ rhs for the current basis."""
        z = self.base.ftran(rhs)
        for r, d in self.etas:
            zr = z[r] / d[r]
            z -= d * zr
            z[r] = zr
        return z

    def btran(self, rhs: np.ndarray) -> np.ndarray:
        """B⁻ᵀ rhs for the current basis."""
        v = np.asarray(rhs, dtype=float).copy()
        for r, d in reversed(self.etas):
            v[r] = (v[r] - (float(d @ v) - d[r] * v[r])) / d[r]
        return self.base.btran(v)

    def refresh_duals(self) -> None:
        """Row duals and reduced costs for the current basis and costs."""
        basic = self.basic
        c_b = np.where(basic >= 0, self.cost[np.maximum(basic, 0)], 0.0)
        self.row_dual = self.btran(c_b)
        self.col_dual = self.cost - _matrix_product(self.lp, self.row_dual)

    def lower_costs(self, cols: np.ndarray, amount: float, col_move: np.ndarray, row_move: np.ndarray) -> None:
        """Lower the costs of ``cols`` by ``amount``; the duals move by ``amount`` × the given rates.

        The rates are those :func:`_cost_cut` computed for this basis (no second solve).
        """
        self.cost[cols] -= amount
        self.col_dual = self.col_dual + amount * col_move
        self.row_dual = self.row_dual + amount * row_move

    def pivot(self, change: Change) -> float | None:
        """Bring the entering variable of ``change`` into the basis (ratio test); return the step.

        Returns ``None`` when the step is unbounded or the pivot would be unstable.
        """
        lp = self.lp
        m = lp.n_rows
        column = np.zeros(m)
        if change.column is not None:
            j = change.column
            column[lp.a_index[lp.a_start[j] : lp.a_start[j + 1]]] = lp.a_value[lp.a_start[j] : lp.a_start[j + 1]]
            delta = 1.0 if self.col_status[j] == 1 else -1.0  # from its lower bound it rises
            room = float(lp.col_upper[j] - lp.col_lower[j])
            code = j
        elif change.row is not None:
            k = change.row
            column[k] = 1.0
            # the row's logical is minus its activity: leaving the lower bound it falls
            delta = -1.0 if self.row_status[k] == 1 else 1.0
            room = float(lp.row_upper[k] - lp.row_lower[k])
            code = -1 - k
        else:
            return None
        alpha = self.ftran(column)
        dz = -delta * alpha
        value, lo, hi = _basic_bounds(self, lp)  # type: ignore[arg-type]
        scale = max(1.0, float(np.abs(alpha).max(initial=0.0)))
        steps = np.full(m, math.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            down = dz < -self.PIVOT_TOL * scale
            up = dz > self.PIVOT_TOL * scale
            steps[down] = np.maximum(value[down] - lo[down], 0.0) / -dz[down]
            steps[up] = np.maximum(hi[up] - value[up], 0.0) / dz[up]
        r = int(np.argmin(steps))
        theta = float(steps[r])
        if not math.isfinite(theta) and not math.isfinite(room):
            return None
        if theta >= room:
            # the entering variable reaches its other bound first: a bound flip, same basis
            theta = room
            r = -1
        else:
            # among ties take the largest pivot element (stability)
            tied = np.flatnonzero(steps <= theta + 1e-12 * max(1.0, theta))
            r = int(tied[np.argmax(np.abs(dz[tied]))])
        # move the values
        basic = self.basic
        structural = basic >= 0
        self.x[basic[structural]] += theta * dz[structural]
        rows = -1 - basic[~structural]
        self.row_activity[rows] -= theta * dz[~structural]
        if code >= 0:
            self.x[code] += delta * theta
        else:
            self.row_activity[-1 - code] -= delta * theta
        if r < 0:
            if code >= 0:
                self.col_status[code] = 2 if delta > 0 else 1
            else:
                self.row_status[-1 - code] = 1 if delta > 0 else 2
            return theta
        if abs(alpha[r]) < self.PIVOT_TOL * scale:
            return None
        leaving = int(basic[r])
        # the leaving variable sits at the bound it reached (no drift from the arithmetic)
        went_down = dz[r] < 0
        if leaving >= 0:
            self.x[leaving] = lp.col_lower[leaving] if went_down else lp.col_upper[leaving]
            self.col_status[leaving] = 1 if went_down else 2
        else:
            k = -1 - leaving
            # the logical fell to its lower bound: the activity rose to the row's upper bound
            self.row_activity[k] = lp.row_upper[k] if went_down else lp.row_lower[k]
            self.row_status[k] = 2 if went_down else 1
        if code >= 0:
            self.col_status[code] = 0
        else:
            self.row_status[-1 - code] = 0
        basic[r] = code
        self.etas.append((r, alpha))
        self.refresh_duals()
        return theta


def cost_cut_walk(view: BasisView, lp: AssembledLP, cols: np.ndarray, current: float, *, max_cut: float, max_pivots: int = 60) -> tuple[float | None, np.ndarray] | None:
    """The exact cost cut at which ``cols`` carry more than ``current`` tonnes in all.

    Walks the parametric path of the cut from the optimal basis, pivot by pivot, without
    re-solving: at each breakpoint (:func:`cost_cut_edge`) the entering variable comes in by a
    ratio test; degenerate pivots (no movement) continue the walk.

    Returns:
        ``(cut, tonnes per column just past it)``; ``(None, empty)`` when no cut up to
        ``max_cut`` makes them carry more; ``None`` when the walk could not decide (too many
        pivots, an unstable pivot): the caller then re-solves.
    """
    walk = EtaBasis(view, lp, lp.col_cost)
    tol = max(1e-6, 1e-9 * current)
    cut = 0.0
    for _ in range(max_pivots):
        edge, col_move, row_move = _cost_cut(walk, lp, cols, walk.cost)  # type: ignore[arg-type]
        if edge.at is None or cut + edge.at > max_cut:
            return None, np.zeros(0)
        cut += edge.at
        walk.lower_costs(cols, edge.at, col_move, row_move)
        step = walk.pivot(edge)
        if step is None:
            return None
        if float(walk.x[cols].sum()) > current + tol:
            return cut, walk.x[cols].copy()
    return None


def pivot_step(view: BasisView, lp: AssembledLP, change: Change) -> tuple[float, np.ndarray] | None:
    """The simplex step the entering variable of ``change`` makes: its length and the new x.

    Just past a cost breakpoint the variable that enters moves the solution to the adjacent
    vertex (unless several conditions tie there). Returns ``(step, x)`` with the column values
    at that vertex, or ``None`` when the step is degenerate, unbounded or not unique (a re-solve
    must decide then).
    """
    if change.ties or (change.column is None and change.row is None):
        return None
    m = lp.n_rows
    if change.column is not None:
        j = change.column
        column = np.zeros(m)
        lo_, hi_ = int(lp.a_start[j]), int(lp.a_start[j + 1])
        column[lp.a_index[lo_:hi_]] = lp.a_value[lo_:hi_]
        sign = 1.0 if view.col_status[j] == 1 else -1.0  # from a lower bound it rises
        room = float(lp.col_upper[j] - lp.col_lower[j])
    else:
        k = int(change.row)  # type: ignore[arg-type]
        column = np.zeros(m)
        column[k] = 1.0  # the row's logical variable (minus its activity)
        # a row leaving its lower bound: activity rises, the logical falls (and vice versa)
        sign = -1.0 if view.row_status[k] == 1 else 1.0
        room = float(lp.row_upper[k] - lp.row_lower[k])
    dz = -sign * view.ftran(column)
    value, lo, hi = _basic_bounds(view, lp)
    step = room
    with np.errstate(divide="ignore", invalid="ignore"):
        down = dz < -1e-12 * np.maximum(1.0, np.abs(dz).max(initial=0.0))
        up = dz > 1e-12 * np.maximum(1.0, np.abs(dz).max(initial=0.0))
        if down.any():
            step = min(step, float(np.min((value[down] - lo[down]) / -dz[down])))
        if up.any():
            step = min(step, float(np.min((hi[up] - value[up]) / dz[up])))
    if not math.isfinite(step) or step <= 1e-9 * max(1.0, float(np.abs(value).max(initial=0.0))):
        return None
    x = view.x.copy()
    basic = view.basic
    structural = basic >= 0
    x[basic[structural]] += step * dz[structural]
    if change.column is not None:
        x[change.column] += sign * step
    return step, x


def describe_basis_change(change: Change, lp: AssembledLP) -> dict[str, Any]:
    """A basis change as data for reports: the family, key and what happened."""
    if change.column is not None:
        family, key = lp.col_family(change.column)
        return {"kind": change.kind, "family": family, "key": key, "name": lp.column_name(change.column)}
    if change.row is not None:
        family, key = lp.row_family(change.row)
        return {"kind": "stops_binding" if change.kind == "enters" else "starts_binding", "family": family, "key": key, "name": lp.row_name(change.row)}
    return {"kind": "bound", "family": None, "key": None, "name": None}
