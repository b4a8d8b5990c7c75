"""Index arrays of a material graph: what every family's assembly reads.

Stage: :class:`~flowopt.graph.MaterialGraph` -> :class:`Network` (positions and per-arc
arrays, computed once per graph). Column layout of the LP, in this order:

============  ==================  ===========================================================
family        keys                meaning
============  ==================  ===========================================================
flow_t        (lot, outlet)       tonnes of a lot sent to an outlet, one per arc, arc order
unmanaged_t   lot                 tonnes of a current-year lot left unmanaged (only when the
                                  scenario's ``policy.allow_unmanaged`` is true; else no columns)
reclaim_t     stockpile           tonnes reclaimed from a legacy stockpile
sold_t        (project, market,   tonnes of product a project sells in one price tier of a
              tier)               market (only for projects with ``markets``; tiers 1, 2, …)
============  ==================  ===========================================================

The investment model (``assemble(..., investment=True)``, only with ``candidates``) appends
three families after these, so every position above is the same in the LP and the MILP:

============  ==================  ===========================================================
build         candidate           1 when the candidate is built, else 0 (binary)
built_t       candidate           capacity it adds, t/yr
modules       candidate in        modules built (integer; ``sizing`` modules only)
              modules
============  ==================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from flowopt.graph import MaterialGraph


def _groups(codes: np.ndarray, labels: list[Hashable]) -> dict[Hashable, np.ndarray]:
    """Positions of ``codes`` grouped by code, as ``{labels[code]: positions}`` (ascending)."""
    if not len(codes):
        return {}
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    cuts = np.flatnonzero(np.diff(sorted_codes)) + 1
    out: dict[Hashable, np.ndarray] = {}
    for chunk in np.split(order, cuts):
        out[labels[int(codes[chunk[0]])]] = chunk
    return out


class Network:
    """Positions of lots, arcs, outlets and stockpiles of one graph, as arrays.

    Args:
        g: the material graph.

    Attributes:
        g: the graph.
        lots: lot ids in the graph's (sorted) order; the rows of ``lot_balance``.
        arc_keys: ``(lot, outlet)`` per arc, in the graph's arc order; the ``flow_t`` columns.
        arc_lot: position in ``lots`` of each arc's lot.
        arc_outlet: each arc's outlet id.
        arc_stream: each arc's stream id.
        arc_new: True where the arc's lot has origin ``new``.
        arc_transport: transport cost per tonne of each arc (CNY/t).
        into: outlet id -> positions of the arcs that end there.
        into_origin: (project, origin) -> positions of the arcs into the project of that origin.
        unmanaged: lots of origin ``new`` when ``policy.allow_unmanaged`` is true, else none;
            the ``unmanaged_t`` columns.
        stockpiles: reclaimable stockpiles (those with a stock lot); the ``reclaim_t`` columns.
    """

    def __init__(self, g: MaterialGraph) -> None:
        self.g = g
        self.lots: list[str] = list(g.lots)
        lot_pos = {lid: i for i, lid in enumerate(self.lots)}
        self.lot_pos = lot_pos
        arcs = g.arcs
        n = len(arcs)
        self.arc_keys: list[tuple[str, str]] = [a.key for a in arcs]
        self.arc_lot = np.fromiter((lot_pos[a.lot] for a in arcs), dtype=np.int64, count=n)
        self.arc_outlet: list[str] = [a.outlet for a in arcs]
        lot_stream = [g.lots[lid].stream for lid in self.lots]
        lot_new = np.fromiter((g.lots[lid].origin == "new" for lid in self.lots), dtype=bool, count=len(self.lots))
        self.arc_stream: list[str] = [lot_stream[i] for i in self.arc_lot]
        self.arc_new = lot_new[self.arc_lot] if n else np.zeros(0, dtype=bool)
        self.arc_transport = np.fromiter((a.transport_cny_per_t for a in arcs), dtype=float, count=n)
        outlets = sorted(set(self.arc_outlet))
        code = {o: i for i, o in enumerate(outlets)}
        outlet_code = np.fromiter((code[o] for o in self.arc_outlet), dtype=np.int64, count=n)
        self.into: dict[str, np.ndarray] = {str(k): v for k, v in _groups(outlet_code, list(outlets)).items()}
        pairs: list[Hashable] = []
        pair_code: dict[tuple[str, str], int] = {}
        codes = np.empty(n, dtype=np.int64)
        for j, (o, new) in enumerate(zip(self.arc_outlet, self.arc_new, strict=True)):
            key = (o, "new" if new else "legacy")
            c = pair_code.get(key)
            if c is None:
                c = pair_code[key] = len(pairs)
                pairs.append(key)
            codes[j] = c
        self.into_origin: dict[tuple[str, str], np.ndarray] = dict(_groups(codes, pairs).items())  # type: ignore[misc]
        # unmanaged (dumped) tonnes exist only where the scenario allows them explicitly
        allowed = g.scenario.policy.allow_unmanaged
        self.unmanaged: list[str] = [lid for lid, new in zip(self.lots, lot_new, strict=True) if new] if allowed else []
        self.stockpiles: list[str] = sorted(k.id for k in g.scenario.stockpiles if f"stock:{k.id}" in g.lots)
        # investment decisions, by id (columns of the investment model only)
        cands = {c.id: c for c in g.scenario.candidates}
        self.candidates: list[str] = sorted(cands)
        self.candidate: dict[str, Any] = cands
        self.modular: list[str] = [c for c in self.candidates if cands[c].sizing.value == "modules"]
        # product markets: one sold_t column per (project, market, tier), in that order
        self.market_tiers: dict[str, list[tuple[float | None, float]]] = market_tiers(g.scenario)
        self.market_links: list[tuple[str, str]] = [(p, m) for p in sorted(g.projects) for m in g.projects[p].market_yields]
        self.sales: list[tuple[str, str, int]] = [(p, m, k + 1) for p, m in self.market_links for k in range(len(self.market_tiers.get(m, [(None, 0.0)])))]

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute a table derived from the scenario once per network (limits, compositions)."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    @property
    def n_arcs(self) -> int:
        """Number of arcs (``flow_t`` columns)."""
        return len(self.arc_keys)

    @property
    def unmanaged_start(self) -> int:
        """Column of the first ``unmanaged_t``."""
        return self.n_arcs

    @property
    def reclaim_start(self) -> int:
        """Column of the first ``reclaim_t``."""
        return self.n_arcs + len(self.unmanaged)

    @property
    def sold_start(self) -> int:
        """Column of the first ``sold_t``."""
        return self.reclaim_start + len(self.stockpiles)

    @property
    def n_cols(self) -> int:
        """Number of columns of the LP."""
        return self.sold_start + len(self.sales)

    @property
    def build_start(self) -> int:
        """Column of the first ``build`` (investment model; right after the LP's columns)."""
        return self.n_cols

    @property
    def built_start(self) -> int:
        """Column of the first ``built_t`` (investment model)."""
        return self.build_start + len(self.candidates)

    @property
    def modules_start(self) -> int:
        """Column of the first ``modules`` (investment model)."""
        return self.built_start + len(self.candidates)

    @property
    def n_cols_investment(self) -> int:
        """Number of columns of the investment model (the LP's, then the candidates')."""
        return self.modules_start + len(self.modular)

    def arcs_into(self, outlet: str) -> np.ndarray:
        """Positions (= ``flow_t`` columns) of the arcs ending at ``outlet``."""
        return self.into.get(outlet, np.zeros(0, dtype=np.int64))


def market_tiers(s: Any) -> dict[str, list[tuple[float | None, float]]]:
    """Market id -> its price tiers ``(upto_t, price_cny_per_t)`` in selling order.

    Tiers are sorted by ``upto_t``, the open last tier (``upto_t`` empty) at the end; a market
    without tiers has one open tier at 0 CNY/t (it only limits the tonnes). Every market of
    ``s.markets`` has an entry.
    """
    out: dict[str, list[tuple[float | None, float]]] = {m.id: [] for m in s.markets}
    for t in s.market_tiers:
        out.setdefault(t.market, []).append((t.upto_t, float(t.price_cny_per_t)))
    for tiers in out.values():
        tiers.sort(key=lambda t: (t[0] is None, t[0] or 0.0))
        if not tiers:
            tiers.append((None, 0.0))
    return out
