"""Airspace and carbon of a plan: flows + the scenario's records -> ``AirspaceRow`` and ``Co2Summary``.

Stage: results. Everything here is recomputed from the plan's flows and the input records
(not from the LP's coefficients), so the audit can check the solver's plan against them:

* **Airspace** (库容): for every sink with ``remaining_volume_t`` V, the year's intake I, what is
  left at the end, V − I, and the years of life left at that intake, (V − I) / I (``None`` when
  the sink takes nothing: it does not fill at this rate).
* **Carbon**: per flow, transport CO2 (a matching route's ``transport_tco2_per_t`` per tonne, else
  ``transport.tco2_per_t_km`` × the flow's km); for flows into a project, its process CO2
  (``process_tco2_per_t``), electricity (``electricity_kwh_per_t`` × ``policy.grid_tco2_per_mwh``
  / 1000) and the CO2 avoided by its product (``product_fraction`` × ``product_avoided_tco2_per_t``),
  all per tonne of feed. Gross = transport + process + electricity; net = gross − avoided.
  By project: what the tonnes delivered to it cause. By firm: what each firm's waste causes
  (the firm the tonnes come from, :attr:`flowopt.results.FlowRow.firm`; a residue fed by
  several firms is split by its ``firm_shares``), so the firms add up to the park.

The JSON keys are ``airspace`` and ``co2_t`` of :class:`flowopt.results.Plan`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from flowopt.graph import matching_routes, route_index
from flowopt.schema import Co2Basis, Scenario

if TYPE_CHECKING:
    from flowopt.results import FlowRow

#: Intake below this (t/yr) counts as none: the sink does not fill.
ZERO_T = 1e-6


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AirspaceRow(_Out):
    """A sink with a remaining volume: airspace at the start of the year, intake, what is left."""

    sink: str
    kind: str
    """``landfill``, ``slag_yard``, ``tailings_dam`` or ``other``."""
    name_zh: str
    name_en: str
    remaining_start_t: float
    """Airspace at the start of the year (``remaining_volume_t``), t."""
    intake_t: float
    """Tonnes placed this year, t/yr."""
    remaining_t: float
    """Airspace left at the end of the year, t."""
    years_left: float | None
    """remaining_t / intake_t: years of life left at this year's intake (``None``: it takes nothing)."""
    capacity_t: float | None
    """Yearly intake cap (``capacity_t``), t/yr; ``None``: no yearly cap."""
    reclaim_as: str | None = None
    """The stockpile its tonnes become reclaimable stock of in a pathway's later years."""


class Co2Row(_Out):
    """CO2 of one project (what its feed causes) or of one firm's waste, tCO2/yr."""

    group: str
    """Project id, or firm id (``(none)`` for streams without a firm)."""
    name_zh: str
    name_en: str
    tonnes: float
    """Feed of the project, or tonnes of the firm's waste moved, t/yr."""
    transport_tco2: float
    process_tco2: float
    electricity_tco2: float
    gross_tco2: float
    avoided_tco2: float
    net_tco2: float


class Co2Summary(_Out):
    """The plan's CO2 (the JSON's ``co2_t``): gross, avoided and net, by project and by firm."""

    transport_tco2: float
    """Hauling (trucks, or a route's own factor), tCO2/yr."""
    process_tco2: float
    """Projects' direct emissions (fuel, reductants), tCO2/yr."""
    electricity_tco2: float
    """Projects' electricity × the grid factor, tCO2/yr."""
    gross_tco2: float
    """transport + process + electricity."""
    avoided_tco2: float
    """Emissions of the virgin products the plan's products displace, tCO2/yr."""
    net_tco2: float
    """gross − avoided."""
    grid_tco2_per_mwh: float
    truck_tco2_per_t_km: float
    cap_t: float | None = None
    """``policy.co2_cap_t`` (tCO2/yr); ``None``: no cap."""
    cap_basis: str = "gross"
    """Which total the cap limits: ``gross`` or ``net``."""
    capped_tco2: float
    """The total the cap applies to (gross or net)."""
    cap_binding: bool = False
    price_cny_per_tco2: float | None = None
    """Shadow price of the cap: CNY/yr saved per extra tCO2/yr allowed (0 when it does not bind;
    ``None`` without a cap)."""
    by_project: list[Co2Row] = []
    """One row per project with feed, largest net first."""
    by_firm: list[Co2Row] = []
    """One row per firm whose waste moves, largest net first."""
    headline: str
    headline_zh: str


def airspace_rows(s: Scenario, flows: Iterable[FlowRow]) -> list[AirspaceRow]:
    """Airspace of every sink with ``remaining_volume_t``, in id order.

    Args:
        s: the scenario (its sinks' ``remaining_volume_t`` is the airspace at the start of the year).
        flows: the plan's flows.

    Returns:
        One row per such sink.
    """
    intake: dict[str, float] = defaultdict(float)
    for f in flows:
        if f.destination_kind == "sink":
            intake[f.destination] += f.tonnes
    out = []
    for d in sorted(s.sinks, key=lambda x: x.id):
        if d.remaining_volume_t is None:
            continue
        took = intake[d.id]
        left = d.remaining_volume_t - took
        out.append(AirspaceRow(sink=d.id, kind=d.kind.value, name_zh=d.name_zh, name_en=d.name_en, remaining_start_t=d.remaining_volume_t, intake_t=took, remaining_t=left,
                               years_left=max(left, 0.0) / took if took > ZERO_T else None, capacity_t=d.capacity_t, reclaim_as=d.reclaim_as))
    return out


def flow_tco2(s: Scenario) -> Any:
    """Return ``f(flow) -> (transport, process, electricity, avoided)`` tCO2 of one flow row.

    Built once per scenario (route index, project factors); the rule is the module docstring's.
    """
    index = route_index(s.routes)
    site = {**{p.id: p.site for p in s.projects}, **{d.id: d.site for d in s.sinks}}
    grid = s.policy.grid_tco2_per_mwh
    per_t = {p.id: (p.process_tco2_per_t, p.electricity_kwh_per_t * grid / 1000.0, p.product_fraction * p.product_avoided_tco2_per_t) for p in s.projects}
    truck = s.transport.tco2_per_t_km

    def of(f: FlowRow) -> tuple[float, float, float, float]:
        if f.destination_kind == "unmanaged":
            return 0.0, 0.0, 0.0, 0.0
        own = next((r.transport_tco2_per_t for r in matching_routes(index, f.from_site, site[f.destination], f.stream) if r.transport_tco2_per_t is not None), None)
        haul = (own if own is not None else truck * f.distance_km) * f.tonnes
        if f.destination_kind != "project":
            return haul, 0.0, 0.0, 0.0
        pr, el, av = per_t[f.destination]
        return haul, pr * f.tonnes, el * f.tonnes, av * f.tonnes

    return of


def _row(group: str, names: tuple[str, str], acc: list[float]) -> Co2Row:
    t, tr, pr, el, av = acc
    gross = tr + pr + el
    return Co2Row(group=group, name_zh=names[0], name_en=names[1], tonnes=t, transport_tco2=tr, process_tco2=pr, electricity_tco2=el, gross_tco2=gross, avoided_tco2=av, net_tco2=gross - av)


def carbon_summary(s: Scenario, flows: list[FlowRow], bottlenecks: Iterable[Any] = ()) -> Co2Summary:
    """The plan's CO2 from its flows and the scenario's factors (see the module docstring).

    Args:
        s: the scenario (factors, cap).
        flows: the plan's flows.
        bottlenecks: the plan's cards; the ``co2_cap`` card, if any, gives the cap's price.

    Returns:
        The summary with its rows by project and by firm and a headline in both languages.
    """
    of = flow_tco2(s)
    names = {r.id: (r.name_zh or r.id, r.name_en or r.id) for r in (*s.projects, *s.firms)}
    totals = [0.0, 0.0, 0.0, 0.0]
    by_project: dict[str, list[float]] = defaultdict(lambda: [0.0] * 5)
    by_firm: dict[str, list[float]] = defaultdict(lambda: [0.0] * 5)
    for f in flows:
        parts = of(f)
        totals = [a + b for a, b in zip(totals, parts, strict=True)]
        if f.destination_kind == "project":
            acc = by_project[f.destination]
            acc[0] += f.tonnes
            for i, v in enumerate(parts):
                acc[i + 1] += v
        shares = f.firm_shares or {f.firm or "(none)": 1.0}
        for firm, share in shares.items():
            acc = by_firm[firm]
            acc[0] += f.tonnes * share
            for i, v in enumerate(parts):
                acc[i + 1] += v * share
    tr, pr, el, av = totals
    gross = tr + pr + el
    net = gross - av
    pol = s.policy
    basis = Co2Basis(pol.co2_cap_basis).value
    capped = gross if basis == "gross" else net
    card = next((b for b in bottlenecks if getattr(b, "kind", None) == "co2_cap"), None)
    price = None if pol.co2_cap_t is None else (float(card.shadow_price) if card is not None else 0.0)
    binding = card is not None
    rows_p = sorted((_row(k, names.get(k, (k, k)), v) for k, v in by_project.items()), key=lambda r: (-r.net_tco2, r.group))
    mixed = {"(mixed)": ("多家企业", "several firms"), "(none)": ("未注明企业", "no firm recorded")}
    rows_f = sorted((_row(k, names.get(k, mixed.get(k, (k, k))), v) for k, v in by_firm.items()), key=lambda r: (-r.net_tco2, r.group))
    en = f"CO2: gross {gross:,.0f} tCO2/yr (transport {tr:,.0f}, processing {pr:,.0f}, electricity {el:,.0f}), avoided by products {av:,.0f}, net {net:,.0f}"
    zh = f"二氧化碳：总排放 {gross:,.0f} 吨/年（运输 {tr:,.0f}，工艺 {pr:,.0f}，用电 {el:,.0f}），产品替代减排 {av:,.0f}，净排放 {net:,.0f}"
    basis_zh = "总排放" if basis == "gross" else "净排放"
    if pol.co2_cap_t is None:
        en += "; no cap."
        zh += "；未设排放上限。"
    elif binding and price is not None:
        en += f"; the cap of {pol.co2_cap_t:,.0f} tCO2/yr on {basis} emissions binds at {price:,.2f} CNY per tCO2."
        zh += f"；{basis_zh}上限 {pol.co2_cap_t:,.0f} 吨/年起约束作用，减排成本 {price:,.2f} 元/吨二氧化碳。"
    else:
        en += f"; the cap of {pol.co2_cap_t:,.0f} tCO2/yr on {basis} emissions does not bind."
        zh += f"；{basis_zh}上限 {pol.co2_cap_t:,.0f} 吨/年未起约束作用。"
    return Co2Summary(transport_tco2=tr, process_tco2=pr, electricity_tco2=el, gross_tco2=gross, avoided_tco2=av, net_tco2=net, grid_tco2_per_mwh=pol.grid_tco2_per_mwh, truck_tco2_per_t_km=s.transport.tco2_per_t_km,
                      cap_t=pol.co2_cap_t, cap_basis=basis, capped_tco2=capped, cap_binding=binding, price_cny_per_tco2=price, by_project=rows_p, by_firm=rows_f, headline=en, headline_zh=zh)
