"""Material graph: ``Scenario`` -> ``MaterialGraph`` (lots, arcs, residue links) + structural checks.

A *lot* is one source of one stream with one origin:

* ``gen:<stream>``: current-year generation at the stream's site (origin ``new``);
* ``stock:<stockpile>``: tonnes reclaimed from a legacy stockpile (origin ``legacy``);
* ``res:<project>:<stream>:<origin>``: a residue of a project, produced from that project's
  feed of the same origin.

Origins are tracked so that prior-year stock keeps its statistical identity through residue
chains: a residue of reclaimed slag that reaches a utilizing outlet is "prior-year stock
utilized", never current-year utilization.

An *arc* is a permitted movement of a lot to an outlet (project or sink) that accepts the lot's
stream, with its transport cost per tonne. Everything is sorted, so models and results are
deterministic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal

from flowopt.errors import GraphError, Problem
from flowopt.schema import Project, Route, Scenario, Sink

Origin = Literal["new", "legacy"]
ORIGINS: tuple[Origin, ...] = ("new", "legacy")
#: A residue cycle whose mass gain reaches this is treated as creating mass.
CYCLE_GAIN_LIMIT = 1 - 1e-9


@dataclass(frozen=True)
class Lot:
    """One source of one stream (see the module docstring)."""

    id: str
    stream: str
    origin: Origin
    kind: Literal["generation", "stock", "residue"]
    source: str
    """Stream id (generation), stockpile id (stock) or project id (residue)."""
    site: str


@dataclass(frozen=True)
class Arc:
    """A permitted movement of a lot to an outlet."""

    lot: str
    outlet: str
    distance_km: float
    transport_cny_per_t: float
    routes: tuple[str, ...] = ()
    """Ids of capacity-limited routes this arc counts toward."""

    @property
    def key(self) -> tuple[str, str]:
        """Index of the arc in the model: ``(lot, outlet)``."""
        return (self.lot, self.outlet)


@dataclass
class MaterialGraph:
    """The network a model is built from; derived from a scenario, never edited by hand."""

    scenario: Scenario
    lots: dict[str, Lot]
    arcs: list[Arc]
    projects: dict[str, Project]
    sinks: dict[str, Sink]
    project_origins: list[tuple[str, Origin]]
    """(project, origin) pairs for which the project can receive feed of that origin."""
    warnings: list[Problem] = field(default_factory=list)

    def arcs_into(self, outlet: str) -> list[Arc]:
        """Return the arcs ending at ``outlet``."""
        return self._into.get(outlet, [])

    def arcs_from(self, lot: str) -> list[Arc]:
        """Return the arcs leaving ``lot``."""
        return self._from.get(lot, [])

    def __post_init__(self) -> None:
        self._into: dict[str, list[Arc]] = defaultdict(list)
        self._from: dict[str, list[Arc]] = defaultdict(list)
        for a in self.arcs:
            self._into[a.outlet].append(a)
            self._from[a.lot].append(a)


def stream_site(s: Scenario, stream_id: str) -> str | None:
    """Return the site where ``stream_id`` is generated (its own site, else its firm's)."""
    return _stream_sites(s).get(stream_id)


def _stream_sites(s: Scenario) -> dict[str, str | None]:
    firm_site = {f.id: f.site for f in s.firms}
    return {x.id: x.site or firm_site.get(x.firm or "") for x in s.streams}


class Distances:
    """Distance and tariff lookup between sites (used by the graph and, independently of it, the audit)."""

    def __init__(self, s: Scenario) -> None:
        self.s = s
        self.table = {}
        for d in s.distances:
            self.table[(d.from_site, d.to_site)] = d.distance_km
            self.table[(d.to_site, d.from_site)] = d.distance_km
        self.coords = {x.id: (x.x_km, x.y_km) for x in s.sites if x.x_km is not None and x.y_km is not None}

    def km(self, a: str, b: str) -> float | None:
        """Road distance between two sites, or ``None`` when neither table nor coordinates give it."""
        if a == b:
            return 0.0
        if (a, b) in self.table:
            return self.table[(a, b)]
        if a in self.coords and b in self.coords:
            (x1, y1), (x2, y2) = self.coords[a], self.coords[b]
            return round(math.hypot(x1 - x2, y1 - y2) * self.s.transport.road_winding_factor, 3)
        return None

    def cost(self, a: str, b: str, km: float) -> float:
        """Transport tariff per tonne over ``km`` between two sites."""
        t = self.s.transport
        if a == b and not t.same_site_fixed:
            return 0.0
        return t.fixed_cny_per_t + t.variable_cny_per_t_km * km


def route_index(routes: Iterable[Route]) -> dict[tuple[str, str], list[Route]]:
    """Routes by (from site, to site), stream-specific rules first (they override general ones)."""
    index: dict[tuple[str, str], list[Route]] = defaultdict(list)
    for r in routes:
        index[(r.from_site, r.to_site)].append(r)
    return {k: sorted(v, key=lambda r: (r.stream is None, r.id)) for k, v in index.items()}


def matching_routes(index: dict[tuple[str, str], list[Route]], a: str, b: str, stream: str) -> list[Route]:
    """The route rules from site ``a`` to site ``b`` that apply to ``stream`` (specific ones first)."""
    return [r for r in index.get((a, b), ()) if r.stream in (None, stream)]


def build_graph(s: Scenario, *, strict: bool = True) -> MaterialGraph:
    """Build the material graph of a validated scenario and check its structure.

    Args:
        s: a scenario that passed :func:`flowopt.checks.check_scenario`.
        strict: raise :class:`GraphError` on structural errors (default). With ``False`` the
            errors are kept in ``warnings`` instead (for diagnostics only).

    Returns:
        The graph with its lots, arcs and warnings.

    Raises:
        GraphError: missing distances, streams whose every outlet is prohibited, residue cycles
            that create mass, or projects with a minimum intake that nothing can supply.
    """
    problems: list[Problem] = []
    projects = {p.id: p for p in sorted(s.projects, key=lambda x: x.id)}
    sinks = {d.id: d for d in sorted(s.sinks, key=lambda x: x.id)}
    outlet_site = {**{k: v.site for k, v in projects.items()}, **{k: v.site for k, v in sinks.items()}}
    all_streams = sorted(x.id for x in s.streams)
    accepts: dict[str, list[str]] = defaultdict(list)  # stream -> outlets
    for a in s.accepts:
        for sid in all_streams if a.stream == "*" else [a.stream]:
            if a.outlet not in accepts[sid]:
                accepts[sid].append(a.outlet)
    residues: dict[str, list[tuple[str, float]]] = defaultdict(list)  # project -> (stream, frac)
    for r in s.residues:
        if r.fraction > 0:
            residues[r.project].append((r.stream, r.fraction))

    lots: dict[str, Lot] = {}
    sites_of = _stream_sites(s)
    for st in sorted(s.streams, key=lambda x: x.id):
        site = sites_of[st.id]
        if st.generation_t > 0 and site is not None:
            lots[f"gen:{st.id}"] = Lot(f"gen:{st.id}", st.id, "new", "generation", st.id, site)
    for k in sorted(s.stockpiles, key=lambda x: x.id):
        if min(k.max_reclaim_t, k.stock_t) > 0:
            lots[f"stock:{k.id}"] = Lot(f"stock:{k.id}", k.stream, "legacy", "stock", k.id, k.site)

    # residue lots: propagate origins until no new (project, origin) pair appears
    project_origins: set[tuple[str, Origin]] = set()
    changed = True
    while changed:
        changed = False
        for lot in list(lots.values()):
            for outlet in accepts.get(lot.stream, []):
                if outlet in projects and (outlet, lot.origin) not in project_origins:
                    project_origins.add((outlet, lot.origin))
                    changed = True
                    for stream_id, _ in residues.get(outlet, []):
                        lid = f"res:{outlet}:{stream_id}:{lot.origin}"
                        lots.setdefault(lid, Lot(lid, stream_id, lot.origin, "residue", outlet, projects[outlet].site))
    lots = dict(sorted(lots.items()))

    dist = Distances(s)
    routes_by_sites = route_index(s.routes)
    # distance and tariff per site pair without route rules, computed once per pair
    plain: dict[tuple[str, str], tuple[float | None, float | None]] = {}
    sorted_accepts = {k: sorted(v) for k, v in accepts.items()}
    arcs: list[Arc] = []
    missing: set[tuple[str, str]] = set()
    for lot in lots.values():
        for outlet in sorted_accepts.get(lot.stream, ()):
            to_site = outlet_site[outlet]
            pair = (lot.site, to_site)
            if pair not in routes_by_sites:
                known = plain.get(pair)
                if known is None:
                    km0 = dist.km(*pair)
                    known = plain[pair] = (km0, None if km0 is None else dist.cost(lot.site, to_site, km0))
                if known[0] is None:
                    missing.add(tuple(sorted(pair)))  # type: ignore[arg-type]
                    continue
                arcs.append(Arc(lot.id, outlet, known[0], known[1], ()))  # type: ignore[arg-type]
                continue
            rules = matching_routes(routes_by_sites, lot.site, to_site, lot.stream)
            if any(r.prohibited for r in rules):
                continue
            override_km = next((r.distance_km for r in rules if r.distance_km is not None), None)
            explicit = next((r.cost_cny_per_t for r in rules if r.cost_cny_per_t is not None), None)
            km = override_km if override_km is not None else dist.km(lot.site, to_site)
            if km is None and explicit is None:
                missing.add(tuple(sorted(pair)))  # type: ignore[arg-type]
                continue
            km = km if km is not None else 0.0
            cost = explicit if explicit is not None else dist.cost(lot.site, to_site, km)
            capped = tuple(r.id for r in rules if r.capacity_t is not None)
            arcs.append(Arc(lot.id, outlet, km, cost, capped))

    for a, b in sorted(missing):
        problems.append(
            Problem("distances", None, None, f"no distance between sites '{a}' and '{b}', which a stream may travel.", f"add a distances row ({a}, {b}, km), give both sites x_km/y_km, or add a route with cost_cny_per_t or prohibited=true.")
        )

    # streams with supply whose every arc is prohibited (or unreachable)
    has_arc = {a.lot for a in arcs}
    for lot in lots.values():
        if lot.id not in has_arc and not any(p.table == "distances" for p in problems):
            problems.append(
                Problem("routes", None, None, f"stream '{lot.stream}' from {lot.kind} source '{lot.source}' at site '{lot.site}' has no permitted outlet: every route from it is prohibited.", "lift a prohibition in routes or add an outlet for it at a reachable site.")
            )

    fed = {a.outlet for a in arcs}
    for pid, p in projects.items():
        if p.min_intake_t > 0 and pid not in fed:
            problems.append(Problem("projects", None, "min_intake_t", f"project '{pid}' needs at least {p.min_intake_t:g} t but no supplied stream can reach it.", "set min_intake_t to 0, or add accepts rows for streams that are supplied."))
    for oid in [*projects, *sinks]:
        if oid not in fed:
            problems.append(Problem("accepts", None, "outlet", f"outlet '{oid}' can receive nothing: it accepts no stream that is supplied and reachable.", "add accepts rows for it, or remove it if it is not meant to be used.", severity="warning"))

    problems.extend(_cycle_problems(s, accepts, residues, projects))

    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if errors and strict:
        n = len(errors)
        msg = f"The material network is not usable: {n} problem{'s' if n != 1 else ''} found."
        raise GraphError(msg, problems)
    return MaterialGraph(s, lots, sorted(arcs, key=attrgetter("lot", "outlet")), projects, sinks, sorted(project_origins), warnings + (errors if not strict else []))


def _cycle_problems(s: Scenario, accepts: dict[str, list[str]], residues: dict[str, list[tuple[str, float]]], projects: dict[str, Project]) -> list[Problem]:
    """Find residue cycles (stream -> project -> residue stream -> …) that create mass.

    Every step of a cycle passes at most what it receives (a residue fraction is at most 1), so
    a cycle returns a whole tonne per tonne fed only if every residue on it has a fraction of
    (almost) 1. Those steps form a graph; each of its strongly connected components holds such
    a cycle, found in linear time (Tarjan), however large the network.
    """
    if not any(frac >= CYCLE_GAIN_LIMIT for outs in residues.values() for _, frac in outs):
        return []  # no residue passes a whole tonne on: no cycle can create mass
    edges: dict[tuple[str, str], list[tuple[tuple[str, str], float]]] = defaultdict(list)
    for sid, outs in sorted(accepts.items()):
        for o in outs:
            if o in projects:
                edges[("s", sid)].append((("p", o), 1.0))
    for pid, outs in sorted(residues.items()):
        for sid, frac in outs:
            if frac >= CYCLE_GAIN_LIMIT:
                edges[("p", pid)].append((("s", sid), frac))
    out: list[Problem] = []
    for component in _strongly_connected(edges):
        cycle = _cycle_in(component, edges)
        if not cycle:
            continue
        gain = 1.0
        for u, v in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            gain *= next(f for w, f in edges[u] if w == v)
        names = " -> ".join(n for _, n in cycle)
        out.append(Problem("residues", None, "fraction", f"residue cycle {names} returns {gain:.3f} t per t fed: material could circulate for ever.", "lower a residue fraction in the cycle below 1, or stop a project from accepting its own residue."))
    return out


Node = tuple[str, str]


def _strongly_connected(edges: dict[Node, list[tuple[Node, float]]]) -> list[set[Node]]:
    """Strongly connected components with a cycle (iterative Tarjan), in a stable order."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    found: list[set[Node]] = []
    counter = 0
    nodes = sorted({*edges, *(w for outs in edges.values() for w, _ in outs)})
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            outs = edges.get(v, [])
            if i < len(outs):
                work.append((v, i + 1))
                w = outs[i][0]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp: set[Node] = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1 or any(w == v for w, _ in edges.get(v, [])):
                    found.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return sorted(found, key=lambda c: min(c))


def _cycle_in(component: set[Node], edges: dict[Node, list[tuple[Node, float]]]) -> list[Node]:
    """One cycle through the smallest node of a strongly connected component (breadth-first)."""
    start = min(component)
    parent: dict[Node, Node] = {}
    queue = [start]
    seen = {start}
    while queue:
        v = queue.pop(0)
        for w, _ in edges.get(v, []):
            if w not in component:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if w not in seen:
                seen.add(w)
                parent[w] = v
                queue.append(w)
    return []
