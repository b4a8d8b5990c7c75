"""Audit: (``Scenario``, flows, reclaim, reported objective) -> ``AuditReport``.

Every plan is checked against the *original* input records, not against the solver's matrix,
before anyone sees it: HiGHS can drop rows with extreme coefficients and still report
"optimal", so a status is not proof. The checks:

* ``non_negative``: no negative tonnes;
* ``permitted``: every flow goes to an outlet that accepts its stream, over a permitted route,
  and carries the transport cost the tariff gives;
* ``mass_balance``: each lot's outflow equals its supply (generation, reclaim, or residue
  fraction × project feed of the same origin);
* ``project_capacity``, ``project_min_intake``, ``sink_capacity``, ``route_capacity``,
  ``stock_reclaim``: limits hold;
* ``quality``: blended component fractions within limits; ``feed_share``: stream shares;
* ``no_unmanaged_stock``: reclaimed material is never left unmanaged;
* ``unmanaged_allowed``: no tonne is left unmanaged unless ``policy.allow_unmanaged`` is true;
* ``target``: the chosen rate reaches the target;
* ``objective``: the reported objective equals the sum of the cost terms recomputed here.

Tolerances: tonnes ``TOL_REL × scale`` where scale is the largest tonnage in the plan (at least
1 t); money ``TOL_REL × max(1, |objective|, gross cost)``; rates ``1e-7``.
"""

from __future__ import annotations

from collections import defaultdict

from flowopt.graph import Distances, matching_routes, route_index
from flowopt.results import (
    AuditCheck,
    AuditReport,
    FlowRow,
    cost_terms,
    kpis,
    lot_id,
    stream_fates,
    total_cost,
)
from flowopt.schema import Scenario

#: Relative tolerance of the audit (HiGHS's feasibility tolerance is 1e-7 on scaled data).
TOL_REL = 1e-6
#: Tolerance on the rate (fraction).
TOL_RATE = 1e-7


class _Check:
    def __init__(self, name: str, tol: float) -> None:
        self.name, self.tol = name, tol
        self.worst = 0.0
        self.where = ""
        self.count = 0

    def violation(self, amount: float, where: str) -> None:
        self.count += 1
        if amount > self.worst:
            self.worst, self.where = amount, where

    def result(self) -> AuditCheck:
        passed = self.worst <= self.tol
        detail = "ok" if passed else f"worst at {self.where}: {self.worst:.6g} beyond the limit"
        return AuditCheck(name=self.name, passed=passed, worst_violation=self.worst, detail=detail)


def audit_plan(s: Scenario, flows: list[FlowRow], reclaim: dict[str, float], objective_cny: float, target_rate: float) -> AuditReport:
    """Check a plan against the scenario's own records.

    Args:
        s: the scenario the plan was made for.
        flows: the plan's flows (including unmanaged rows).
        reclaim: tonnes reclaimed per stockpile.
        objective_cny: the objective the solver reported.
        target_rate: the target the plan had to reach.

    Returns:
        The report; ``passed`` is true only if every check holds within tolerance.
    """
    scale = max([1.0, *(f.tonnes for f in flows), *(x.generation_t for x in s.streams), *reclaim.values()])
    tol_t = TOL_REL * scale
    gross = sum(abs(f.transport_cny) + abs(f.handling_cny) + abs(f.revenue_cny) + f.tax_cny + f.penalty_cny for f in flows)
    tol_cny = TOL_REL * max(1.0, abs(objective_cny), gross)
    checks: list[AuditCheck] = []

    c = _Check("non_negative", tol_t)
    for f in flows:
        c.violation(-f.tonnes, f"{f.stream} -> {f.destination}")
    for k, t in reclaim.items():
        c.violation(-t, f"reclaim {k}")
    checks.append(c.result())

    # permitted movements and their tariffs, read from the records (not from the graph the
    # model was built from, so a wrong arc in the graph cannot pass unnoticed)
    accepts: dict[str, set[str]] = defaultdict(set)
    for a in s.accepts:
        accepts[a.outlet].add(a.stream)
    site_of = {**{p.id: p.site for p in s.projects}, **{d.id: d.site for d in s.sinks}}
    dist = Distances(s)
    rules_by_sites = route_index(s.routes)
    c = _Check("permitted", tol_cny)
    for f in flows:
        if f.destination_kind == "unmanaged":
            continue
        where = f"{f.stream} from {f.source} -> {f.destination}"
        to_site = site_of.get(f.destination)
        if to_site is None or not accepts[f.destination] & {f.stream, "*"}:
            c.violation(float("inf"), f"{where} is not accepted there")
            continue
        rules = matching_routes(rules_by_sites, f.from_site, to_site, f.stream)
        if any(r.prohibited for r in rules):
            c.violation(float("inf"), f"{where} uses a prohibited route")
            continue
        override = next((r.distance_km for r in rules if r.distance_km is not None), None)
        explicit = next((r.cost_cny_per_t for r in rules if r.cost_cny_per_t is not None), None)
        km = override if override is not None else dist.km(f.from_site, to_site)
        if km is None and explicit is None:
            c.violation(float("inf"), f"{where} has no distance")
            continue
        tariff = explicit if explicit is not None else dist.cost(f.from_site, to_site, km or 0.0)
        c.violation(abs(tariff * f.tonnes - f.transport_cny), f"transport cost {where}")
    checks.append(c.result())

    outflow: dict[str, float] = defaultdict(float)
    feed_origin: dict[tuple[str, str], float] = defaultdict(float)
    feed: dict[str, float] = defaultdict(float)
    intake: dict[str, float] = defaultdict(float)
    for f in flows:
        outflow[lot_id(f)] += f.tonnes
        if f.destination_kind == "project":
            feed_origin[(f.destination, f.origin)] += f.tonnes
            feed[f.destination] += f.tonnes
        if f.destination_kind != "unmanaged":
            intake[f.destination] += f.tonnes
    supply: dict[str, float] = {}
    for st in s.streams:
        if st.generation_t > 0:
            supply[f"gen:{st.id}"] = st.generation_t
    for k in s.stockpiles:
        supply[f"stock:{k.id}"] = reclaim.get(k.id, 0.0)
    for r in s.residues:
        for origin in ("new", "legacy"):
            lid = f"res:{r.project}:{r.stream}:{origin}"
            supply[lid] = supply.get(lid, 0.0) + r.fraction * feed_origin[(r.project, origin)]
    c = _Check("mass_balance", tol_t)
    for lid in sorted(set(supply) | set(outflow)):
        c.violation(abs(supply.get(lid, 0.0) - outflow.get(lid, 0.0)), lid)
    checks.append(c.result())

    c = _Check("project_capacity", tol_t)
    cm = _Check("project_min_intake", tol_t)
    for p in s.projects:
        c.violation(feed[p.id] - p.capacity_t, p.id)
        cm.violation(p.min_intake_t - feed[p.id], p.id)
    checks += [c.result(), cm.result()]

    c = _Check("sink_capacity", tol_t)
    for d in s.sinks:
        if d.capacity_t is not None:
            c.violation(intake[d.id] - d.capacity_t, d.id)
    checks.append(c.result())

    c = _Check("route_capacity", tol_t)
    by_sites: dict[tuple[str, str], list[FlowRow]] = defaultdict(list)
    for f in flows:
        if f.destination_kind != "unmanaged":
            by_sites[(f.from_site, site_of[f.destination])].append(f)
    for r in s.routes:
        if r.capacity_t is None:
            continue
        carried = sum(f.tonnes for f in by_sites[(r.from_site, r.to_site)] if r.stream in (None, f.stream))
        c.violation(carried - r.capacity_t, r.id)
    checks.append(c.result())

    c = _Check("stock_reclaim", tol_t)
    for k in s.stockpiles:
        c.violation(reclaim.get(k.id, 0.0) - min(k.max_reclaim_t, k.stock_t), k.id)
    checks.append(c.result())

    comp = {(x.stream, x.component): x.fraction for x in s.composition}
    by_outlet: dict[str, list[FlowRow]] = defaultdict(list)
    for f in flows:
        by_outlet[f.destination].append(f)
    c = _Check("quality", tol_t)
    for q in s.quality:
        into = by_outlet[q.project]
        mass = sum(comp.get((f.stream, q.component), 0.0) * f.tonnes for f in into)
        total = sum(f.tonnes for f in into)
        if q.max_fraction is not None:
            c.violation(mass - q.max_fraction * total, f"{q.project} {q.component} max")
        if q.min_fraction is not None:
            c.violation(q.min_fraction * total - mass, f"{q.project} {q.component} min")
    checks.append(c.result())

    c = _Check("feed_share", tol_t)
    for a in s.accepts:
        if a.max_share < 1 and a.stream != "*":
            part = sum(f.tonnes for f in by_outlet[a.outlet] if f.stream == a.stream)
            c.violation(part - a.max_share * intake[a.outlet], f"{a.outlet} {a.stream}")
    checks.append(c.result())

    c = _Check("no_unmanaged_stock", tol_t)
    for f in flows:
        if f.destination_kind == "unmanaged" and f.origin == "legacy":
            c.violation(f.tonnes, f"{f.stream} from {f.source}")
    checks.append(c.result())

    # dumping is prohibited unless the scenario allows it explicitly
    c = _Check("unmanaged_allowed", tol_t)
    if not s.policy.allow_unmanaged:
        for f in flows:
            if f.destination_kind == "unmanaged":
                c.violation(f.tonnes, f"{f.stream} from {f.source} left unmanaged, but policy.allow_unmanaged is false")
    checks.append(c.result())

    k = kpis(s, stream_fates(s, flows, reclaim))
    c = _Check("target", TOL_RATE)
    c.violation(target_rate - k.target_rate_value, f"{s.policy.rate_mode.value} rate {k.target_rate_value:.6f} vs target {target_rate:.6f}")
    checks.append(c.result())

    c = _Check("objective", tol_cny)
    c.violation(abs(total_cost(cost_terms(s, flows, reclaim)) - objective_cny), "reported objective vs sum of cost terms")
    checks.append(c.result())

    return AuditReport(passed=all(x.passed for x in checks), tolerance_t=tol_t, tolerance_cny=tol_cny, checks=checks)
