"""Input contract: the validated, immutable ``Scenario`` and its records.

Stage: records (dicts from CSV/XLSX/JSON) -> ``Scenario``. Field-level rules (types, units,
ranges, finiteness) live here; cross-record rules (unknown ids, fractions that must sum to 1,
quality limits on components a stream does not declare) live in :mod:`flowopt.checks`, so that
every problem can be reported with its file, row and column at once.

Every table of a scenario folder maps to one tuple field of :class:`Scenario`, and every CSV
header equals a field name of the record type. Units ride in the names: ``_t`` is tonnes per
year, ``_cny_per_t`` yuan per tonne, ``_km`` kilometres; fractions are mass fractions in [0, 1].
"""

from __future__ import annotations

import functools
import math
import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

#: Largest tonnage accepted anywhere (10 Gt/yr). Larger values are typing errors, and HiGHS
#: treats bounds from 1e20 as infinite and drops rows with coefficients from 1e15.
MAX_TONNES = 1e10
#: Largest absolute unit price accepted (CNY per tonne).
MAX_CNY_PER_T = 1e6
#: Longest distance accepted (km).
MAX_KM = 2e4

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64, strip_whitespace=True),
]
"""Stable id: a letter, then letters, digits or underscores (``W01``, ``west_slag_yard``)."""

Tonnes = Annotated[float, Field(ge=0, le=MAX_TONNES, allow_inf_nan=False)]
"""Tonnes per year, finite, between 0 and 1e10."""

CnyPerTonne = Annotated[float, Field(ge=-MAX_CNY_PER_T, le=MAX_CNY_PER_T, allow_inf_nan=False)]
"""Yuan per tonne, finite, between -1e6 and 1e6."""

NonNegCnyPerTonne = Annotated[float, Field(ge=0, le=MAX_CNY_PER_T, allow_inf_nan=False)]
"""Yuan per tonne, finite, between 0 and 1e6."""

Km = Annotated[float, Field(ge=0, le=MAX_KM, allow_inf_nan=False)]
"""Kilometres, finite, between 0 and 20,000."""

#: Largest amount of money accepted for one capital cost or budget (1e12 CNY).
MAX_CNY = 1e12

Cny = Annotated[float, Field(ge=0, le=MAX_CNY, allow_inf_nan=False)]
"""Yuan (a capital cost, a budget or a yearly fixed cost), finite, between 0 and 1e12."""

#: Largest emission factor accepted per tonne (tCO2/t): far above any process (a tonne of
#: carbon burnt gives 3.7 tCO2); larger values are typing errors.
MAX_TCO2_PER_T = 100.0

TCo2PerTonne = Annotated[float, Field(ge=0, le=MAX_TCO2_PER_T, allow_inf_nan=False)]
"""Tonnes of CO2 per tonne (``_tco2_per_t``), finite, between 0 and 100."""

KwhPerTonne = Annotated[float, Field(ge=0, le=1e5, allow_inf_nan=False)]
"""Kilowatt-hours per tonne (``_kwh_per_t``), finite, between 0 and 100,000."""

Coordinate = Annotated[float, Field(ge=-MAX_KM, le=MAX_KM, allow_inf_nan=False)]
"""Planar coordinate in km, finite."""

Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""Mass fraction in [0, 1]."""

Label = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
"""Free-text label (a name in Chinese or English)."""

Source = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
"""Where the numbers of a row come from: a cited reference or ``estimate``."""

MarketLinks = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
"""Markets a project sells into: ``AGG=0.6;SAND=0.4`` (see :func:`parse_market_links`)."""

#: Most tonnes of product per tonne of feed a market link may give (a block line adds binder
#: and water to its waste; larger values are typing errors).
MAX_PRODUCT_T_PER_T = 100.0
_MARKET_ID = r"[A-Za-z][A-Za-z0-9_]*"


@functools.lru_cache(maxsize=4096)  # read on every plan (market_yields), and the text is immutable
def parse_market_links(text: str) -> tuple[tuple[str, float | None], ...]:
    """Read a project's ``markets`` field: ``AGG=0.6;SAND=0.4`` -> ``(("AGG", 0.6), ("SAND", 0.4))``.

    Parts are separated by ``;`` (or the Chinese ``；``); each is a market id, optionally with
    ``=`` and the tonnes of product sold there per tonne of feed (above 0, at most 100). A lone
    id gives ``None``: the project's ``product_fraction``.

    Raises:
        PydanticCustomError: ``market_links`` naming the part that cannot be read.
    """
    out: list[tuple[str, float | None]] = []
    for part in (x.strip() for x in re.split(r"[;；]", text or "")):
        if not part:
            continue
        name, _, amount = (x.strip() for x in part.partition("="))
        if not re.fullmatch(_MARKET_ID, name):
            kind = "market_links"
            raise PydanticCustomError(kind, "'{part}' is not a market id (a letter, then letters, digits or underscores), optionally with '=' and tonnes of product per tonne of feed", {"part": part[:60]})
        value: float | None = None
        if "=" in part:
            try:
                value = float(amount)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or not 0 < value <= MAX_PRODUCT_T_PER_T:
                kind = "market_links"
                raise PydanticCustomError(kind, "'{part}': the tonnes of product per tonne of feed must be a number above 0 and at most {most}", {"part": part[:60], "most": f"{MAX_PRODUCT_T_PER_T:g}"})
        if any(name == m for m, _ in out):
            kind = "market_links"
            raise PydanticCustomError(kind, "market '{name}' is named twice", {"name": name})
        out.append((name, value))
    return tuple(out)


class Record(BaseModel):
    """Base for every input record: immutable, unknown keys rejected, fields documented."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, str_strip_whitespace=True
    )


class Category(StrEnum):
    """Waste category; decides the environmental-protection-tax rate on unmanaged tonnes."""

    smelting_slag = "smelting_slag"
    tailings = "tailings"
    fly_ash = "fly_ash"
    coal_gangue = "coal_gangue"
    byproduct_gypsum = "byproduct_gypsum"
    other = "other"


class RateMode(StrEnum):
    """Which rate the target applies to (see ``models/README.md``, section "Target")."""

    utilization = "utilization"
    """Official 综合利用率: U / (G + U_prior)."""
    utilization_plus_disposal = "utilization_plus_disposal"
    """(U + D) / (G + U_prior + D_prior)."""
    disposal_only = "disposal_only"
    """D / G, D including prior-year stock disposed."""


class ProjectBooking(StrEnum):
    """How the product tonnes of a project are booked in the statistics."""

    utilization = "utilization"
    disposal = "disposal"


class SinkBooking(StrEnum):
    """How tonnes placed in a sink are booked: 处置 (disposal) or 贮存 (storage)."""

    disposal = "disposal"
    storage = "storage"


class SinkKind(StrEnum):
    """Kind of disposal or storage facility."""

    landfill = "landfill"
    slag_yard = "slag_yard"
    tailings_dam = "tailings_dam"
    other = "other"


# ---------------------------------------------------------------------------------------------
# Records, one class per table
# ---------------------------------------------------------------------------------------------


class Site(Record):
    """A place where waste arises or is handled; transport distances are between sites."""

    id: Identifier
    """Unique site id."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    x_km: Coordinate | None = None
    """Optional planar x coordinate (km); used for distances missing from ``distances``."""
    y_km: Coordinate | None = None
    """Optional planar y coordinate (km)."""
    source: Source = ""
    """Source of the coordinates."""


class Firm(Record):
    """A company that generates waste or runs a project."""

    id: Identifier
    """Unique firm id."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    site: Identifier
    """Main site of the firm (id in ``sites``)."""
    target_rate: Fraction | None = None
    """The firm's own duty: the least value, for its own waste, of the rate the park's target
    applies to (``policy.rate_mode``), counted as the firm's ledger counts it: the tonnes of its
    streams (and of its stockpiles' reclaim) it delivers to projects booked as utilization, its
    own or another firm's, over its generation plus its prior-year stock delivered (see
    ``models/README.md``, "Firms' duties"). Empty (default): no duty."""
    source: Source = ""
    """Source of the record."""


class Stream(Record):
    """A waste stream: a material with one composition and one tax category.

    A stream is supplied by current generation (``generation_t`` at the firm's site), by
    reclaiming a legacy stockpile (``stockpiles``), or as the residue of a project
    (``residues``). Streams that only arise as residues have ``generation_t`` 0.
    """

    id: Identifier
    """Unique stream id."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    firm: Identifier | None = None
    """Generating firm (id in ``firms``); empty for residue-only streams."""
    site: Identifier | None = None
    """Site where the stream is generated; defaults to the firm's site."""
    category: Category
    """Waste category (decides the environmental tax on unmanaged tonnes)."""
    generation_t: Tonnes = 0.0
    """Tonnes generated per year (current year)."""
    source: Source = ""
    """Source of the tonnage."""


class Component(Record):
    """The mass fraction of one named component (TiO2, TFe, V2O5, H2O, …) in a stream."""

    stream: Identifier
    """Stream id."""
    component: Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
    """Component name, as used in ``quality`` (case-sensitive)."""
    fraction: Fraction
    """Mass fraction of the component in the stream, 0 to 1."""
    source: Source = ""
    """Source of the value."""


class Stockpile(Record):
    """A legacy stockpile (e.g. the West slag yard) that can be reclaimed.

    Reclaimed tonnes are "prior-year stock utilized" when they reach a utilizing outlet: they
    enter both the numerator and the denominator of the official utilization rate.
    """

    id: Identifier
    """Unique stockpile id."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    stream: Identifier
    """Stream id giving the reclaimed material's composition and category."""
    site: Identifier
    """Site of the stockpile."""
    stock_t: Tonnes
    """Tonnes held in the stockpile."""
    max_reclaim_t: Tonnes
    """Most tonnes that can be reclaimed per year (the bound used is min(stock, this))."""
    reclaim_cost_cny_per_t: NonNegCnyPerTonne = 0.0
    """Excavation and loading cost per tonne reclaimed."""
    source: Source = ""
    """Source of the numbers."""


class Project(Record):
    """A reuse project: takes accepted streams as feed, sells products, passes on residues.

    Per tonne of feed, ``product_fraction`` leaves as product (utilized), ``loss_fraction``
    is lost (e.g. moisture driven off) and each ``residues`` row gives a fraction that leaves
    as another stream to be routed again. The three must add up to 1.
    """

    id: Identifier
    """Unique outlet id (projects and sinks share one id space)."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    firm: Identifier | None = None
    """Operating firm (id in ``firms``), if known."""
    site: Identifier
    """Site of the plant."""
    capacity_t: Tonnes
    """Most feed tonnes per year."""
    min_intake_t: Tonnes = 0.0
    """Least feed tonnes per year (contracted or technical minimum); 0 for none."""
    processing_cost_cny_per_t: CnyPerTonne = 0.0
    """Processing cost per tonne of feed."""
    revenue_cny_per_t: CnyPerTonne = 0.0
    """Product revenue per tonne of feed."""
    product_fraction: Fraction
    """Fraction of the feed that leaves as product (counted as utilized or disposed)."""
    loss_fraction: Fraction = 0.0
    """Fraction of the feed lost in processing (moisture, ignition loss)."""
    counts_as: ProjectBooking = ProjectBooking.utilization
    """How the product tonnes are booked: ``utilization`` (default) or ``disposal`` (e.g.
    backfill that is reported as 处置)."""
    markets: MarketLinks = ""
    """Markets its products are sold in (ids in ``markets``), each with the tonnes of product
    sold there per tonne of feed: ``AGG=0.6;SAND=0.4``; a lone id (``SAND``) sells
    ``product_fraction`` t per t of feed. Every tonne made must be sold: the market's demand limit
    and price tiers apply, its prices on top of ``revenue_cny_per_t`` (set that to what the
    project sells outside its markets, often 0). Empty (default): no market, ``revenue_cny_per_t``
    alone."""
    vat_refund_rate: Fraction = 0.0
    """Share of the VAT paid on its product revenue that is refunded at collection under the
    resource-comprehensive-utilization VAT catalogue (0.3, 0.5, 0.7, 0.9 or 1 by the item its
    product falls under); 0 for none. Counted only when ``policy.apply_incentives`` is true."""
    vat_rate: Fraction = 0.13
    """VAT paid per CNY of product revenue, the base of the refund (default 0.13, brief §5 item 4
    [E]; 0.03 for a seller on the 3 % simplified levy)."""
    taxable_revenue_share: Fraction = 1.0
    """Share of its product revenue counted as taxable income under the income-tax catalogue
    (0.9 when such revenue counts at 90 %); 1 (default) for no reduction."""
    income_tax_rate: Fraction = 0.25
    """Corporate income-tax rate the reduction saves at (0.25 standard; 0.15 for firms under
    the Western Development policy)."""
    incentive_item: Label = ""
    """The VAT catalogue item that grants the refund (``2.1``), for the reader; empty if none."""
    process_tco2_per_t: TCo2PerTonne = 0.0
    """Direct CO2 per tonne of feed, tCO2/t: fuel burnt, reductants, process CO2 (electricity
    excluded: see ``electricity_kwh_per_t``)."""
    electricity_kwh_per_t: KwhPerTonne = 0.0
    """Electricity per tonne of feed, kWh/t; counted as CO2 with ``policy.grid_tco2_per_mwh``."""
    product_avoided_tco2_per_t: TCo2PerTonne = 0.0
    """CO2 avoided per tonne of product (feed × ``product_fraction``), tCO2/t: the emissions of
    the virgin product it displaces (quarried aggregate, mined ore, natural gypsum)."""
    source: Source = ""
    """Source of the numbers."""

    @field_validator("markets")
    @classmethod
    def _market_links(cls, value: str) -> str:
        parse_market_links(value)  # a located error for a link that cannot be read
        return value

    @property
    def market_yields(self) -> dict[str, float]:
        """Market id -> tonnes of product sold there per tonne of feed (``markets``, in order)."""
        return {m: self.product_fraction if y is None else y for m, y in parse_market_links(self.markets)}

    @property
    def incentive_factor(self) -> float:
        """CNY of incentives per CNY of product revenue: VAT refunded plus income tax saved.

        ``vat_refund_rate × vat_rate + (1 − taxable_revenue_share) × income_tax_rate``.
        """
        return self.vat_refund_rate * self.vat_rate + (1.0 - self.taxable_revenue_share) * self.income_tax_rate


class Sink(Record):
    """A disposal or storage facility: landfill, slag yard, tailings dam."""

    id: Identifier
    """Unique outlet id (projects and sinks share one id space)."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    site: Identifier
    """Site of the facility."""
    kind: SinkKind = SinkKind.other
    """Kind of facility."""
    counts_as: SinkBooking
    """``disposal`` (处置) or ``storage`` (贮存, counts as neither utilization nor disposal)."""
    capacity_t: Tonnes | None = None
    """Most tonnes accepted per year (the yearly intake cap); empty for no limit."""
    fee_cny_per_t: CnyPerTonne = 0.0
    """Gate fee or operating cost per tonne placed."""
    remaining_volume_t: Tonnes | None = None
    """Airspace left at the start of the scenario's year, in tonnes placed: the most the
    sink can still take in all. A year's intake cannot exceed it; the multi-year pathway
    depletes it year by year and reports the years of life left. Empty: not limited."""
    reclaim_as: Identifier | None = None
    """For a storage sink (``counts_as`` storage): the stockpile (id in ``stockpiles``) whose
    reclaimable stock the tonnes placed here become from the next year of a pathway on, with
    that pile's stream, reclaim cost and yearly limit. Empty: tonnes placed stay."""
    source: Source = ""
    """Source of the numbers."""


class Accept(Record):
    """An outlet (project or sink) accepts a stream, optionally up to a share of its feed."""

    outlet: Identifier
    """Project or sink id."""
    stream: Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z][A-Za-z0-9_]*)$")]
    """Stream id, or ``*`` for every stream."""
    max_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    """Largest share of the outlet's total intake this stream may form (1 = no limit)."""
    source: Source = ""
    """Source of the rule."""


class Residue(Record):
    """A project passes a fraction of its feed on as another stream."""

    project: Identifier
    """Project id."""
    stream: Identifier
    """Residue stream id (must be routed onward like any stream)."""
    fraction: Fraction
    """Tonnes of residue per tonne of feed."""
    source: Source = ""
    """Source of the yield."""


class LimitScope(StrEnum):
    """What a quality limit applies to: the project's blended feed, or every stream it takes."""

    blend = "blend"
    """The blended feed (mass-weighted mean of the accepted streams' values): dilution counts."""
    each_stream = "each_stream"
    """Every accepted stream on its own (e.g. free CaO of a steel-slag aggregate, where dilution
    does not help); a stream that breaks it may not be accepted (an input error)."""


#: Component-name endings of properties that are not part of a stream's chemical mass balance:
#: ``_share`` (a share of the tonnes with a property: a size fraction, or a class indicator,
#: 1 for a stream of that class) and ``_index`` (a dimensionless index blended by mass, such as
#: the radioactivity indices of GB 6566). Their values are not added up with the components.
PROPERTY_SUFFIXES = ("_share", "_index")


class QualityLimit(Record):
    """A limit on the feed of a project: min and/or max value of a component, with its standard.

    Values are mass fractions (0.005 = 0.5 % SO3 of the feed) unless the component's name ends
    in ``_share`` (a share of the tonnes, e.g. ``leach_class_II_share``: 1 for a stream of GB
    18599 class II) or ``_index`` (a dimensionless index, e.g. ``I_r_index``, the external
    radioactivity index of GB 6566); all blend in proportion to tonnes. Values and limits lie
    in [0, 1]: scale an index and its limit alike when it can exceed 1.
    """

    project: Identifier
    """Project id."""
    component: Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
    """Component name (as in ``composition``); ``…_share`` and ``…_index`` are properties, see above."""
    min_fraction: Fraction | None = None
    """Least value of the component in the feed (mass fraction, share or index); empty for none."""
    max_fraction: Fraction | None = None
    """Largest value of the component in the feed (mass fraction, share or index); empty for none."""
    standard: Annotated[str, StringConstraints(max_length=80, strip_whitespace=True)] = ""
    """The standard that sets the limit, with its year (``GB/T 14684-2022``); empty for a process
    requirement or an estimate. Shown in the bottleneck cards and reports."""
    clause: Annotated[str, StringConstraints(max_length=40, strip_whitespace=True)] = ""
    """The clause or table of ``standard`` that sets the number (``6.4``, ``3.1.1``); empty if none."""
    applies_to: LimitScope = LimitScope.blend
    """``blend`` (default): the limit holds for the blended feed; ``each_stream``: every accepted
    stream must meet it on its own (checked against the composition when the data are read)."""
    source: Source = ""
    """Source of the limit (a standard, a process requirement), and whether it was verified."""


class Distance(Record):
    """Road distance between two sites (either direction)."""

    from_site: Identifier
    """Site id."""
    to_site: Identifier
    """Site id."""
    distance_km: Km
    """Road distance in km."""
    source: Source = ""
    """Source of the distance."""


class Route(Record):
    """A rule for transport from one site to another, optionally for one stream only.

    A route can override the distance, set an explicit cost per tonne (replacing the tariff),
    cap the tonnes carried per year, or prohibit the transport altogether.
    """

    id: Identifier
    """Unique route id."""
    from_site: Identifier
    """Origin site id."""
    to_site: Identifier
    """Destination site id."""
    stream: Identifier | None = None
    """Stream id the rule applies to; empty for every stream."""
    distance_km: Km | None = None
    """Distance override in km."""
    cost_cny_per_t: NonNegCnyPerTonne | None = None
    """Explicit transport cost per tonne (replaces the tariff)."""
    capacity_t: Tonnes | None = None
    """Most tonnes carried per year on this route (all matching streams together)."""
    prohibited: bool = False
    """True forbids the transport."""
    transport_tco2_per_t: TCo2PerTonne | None = None
    """CO2 per tonne carried on this route, tCO2/t, replacing the trucking factor
    (``transport.tco2_per_t_km`` × km): a slurry pipeline or a conveyor; empty for trucks."""
    source: Source = ""
    """Source of the rule."""


class Market(Record):
    """A product market shared by every project that sells into it (``projects.markets``).

    ``limit_t`` caps the tonnes of product those projects sell in all per year (the demand the
    park's products can find); ``market_tiers`` give its prices: the first tonnes sell at the
    highest price, later ones at lower prices (a concave, piecewise-linear revenue). A market
    without tiers only limits the tonnes, and the projects' ``revenue_cny_per_t`` pays.
    """

    id: Identifier
    """Unique market id."""
    name_zh: Label = ""
    """Chinese name of the product."""
    name_en: Label = ""
    """English name of the product."""
    limit_t: Tonnes | None = None
    """Most tonnes of product sold per year by all projects together; empty for no limit."""
    source: Source = ""
    """Source of the limit."""


class MarketTier(Record):
    """One price tier of a market: the tonnes sold in the year up to ``upto_t`` fetch ``price_cny_per_t``.

    A tier starts where the previous one (next lower ``upto_t``) ends; the last tier has no
    ``upto_t`` and runs to the market's ``limit_t`` (or without end). Prices may not rise from
    tier to tier.
    """

    market: Identifier
    """Market id."""
    upto_t: Tonnes | None = None
    """Tonnes of product sold in the market (all projects, counted from 0) up to which this price
    holds; empty for the last tier."""
    price_cny_per_t: CnyPerTonne
    """Price per tonne of product sold in this tier (CNY/t, VAT excluded)."""
    source: Source = ""
    """Source of the price."""


class EnvironmentalTax(Record):
    """Environmental-protection-tax rates per waste category (环境保护税法, 税目税额表).

    The tax applies only to unmanaged tonnes; compliant storage, disposal and utilization are
    not taxed.
    """

    smelting_slag: NonNegCnyPerTonne = 25.0
    """冶炼渣, 25 CNY/t."""
    tailings: NonNegCnyPerTonne = 15.0
    """尾矿, 15 CNY/t."""
    fly_ash: NonNegCnyPerTonne = 25.0
    """粉煤灰, 25 CNY/t."""
    coal_gangue: NonNegCnyPerTonne = 5.0
    """煤矸石, 5 CNY/t."""
    byproduct_gypsum: NonNegCnyPerTonne = 25.0
    """Byproduct gypsum (其他固体废物), 25 CNY/t."""
    other: NonNegCnyPerTonne = 25.0
    """其他固体废物, 25 CNY/t."""

    def rate(self, category: Category) -> float:
        """Return the tax in CNY/t for ``category``."""
        return float(getattr(self, category.value))


class Co2Basis(StrEnum):
    """Which CO2 total a cap (``policy.co2_cap_t``) limits."""

    gross = "gross"
    """Emitted: trucking (or a route's own factor), projects' process CO2 and electricity."""
    net = "net"
    """Gross minus the emissions avoided by the products (virgin products displaced)."""


class Policy(Record):
    """The target, and whether (and at what price) waste may be left unmanaged.

    Unmanaged tonnes (未妥善处置: dumped, with no compliant outlet) are prohibited unless
    ``allow_unmanaged`` is true: then every tonne must reach a project or a sink, and a park
    that cannot place a stream has no plan (the diagnosis names the stream and its tonnes).
    A scenario that allows them must say at what price, ``unmanaged_penalty_cny_per_t``
    (CNY per tonne, on top of the environmental tax of the stream's category; 0 charges the
    tax alone).
    """

    target_rate: Fraction = 0.70
    """Target for the rate chosen by ``rate_mode`` (0.70 = 70 %)."""
    rate_mode: RateMode = RateMode.utilization
    """Which rate the target applies to; default the official utilization rate."""
    count_losses_as_utilized: bool = True
    """Book process losses (moisture driven off) of a project's feed like its product."""
    environmental_tax_cny_per_t: EnvironmentalTax = EnvironmentalTax()
    """Tax per unmanaged tonne, by category (CNY/t; charged only when ``allow_unmanaged``)."""
    allow_unmanaged: bool = False
    """Allow current-year tonnes to be left unmanaged (dumped) at the tax plus
    ``unmanaged_penalty_cny_per_t``. False (default): prohibited, every tonne needs an outlet."""
    unmanaged_penalty_cny_per_t: NonNegCnyPerTonne | None = Field(default=None, validate_default=True)
    """Extra cost per unmanaged tonne on top of the tax (fines, remediation), CNY/t; required
    when ``allow_unmanaged`` is true (0 for the tax alone), ignored otherwise."""

    apply_incentives: bool = True
    """Count the projects' tax incentives (``vat_refund_rate``, ``taxable_revenue_share``) as a
    revenue adjustment, the cost term ``incentives_cny``; false plans as if there were none."""

    discount_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.08
    """Discount rate per year for investment decisions (``candidates``): a candidate's capital
    is annualized with the capital recovery factor r(1+r)^L / ((1+r)^L − 1) over its
    ``lifetime_yr`` L (1/L when r is 0). Default 0.08, the social discount rate of China's
    Methods and Parameters for the Economic Evaluation of Construction Projects (3rd edition,
    2006). Used only when the scenario has candidates."""
    capital_budget_cny: Cny | None = None
    """Most capital (CNY, not annualized) the built candidates may cost in all; empty for no limit."""
    capital_budget_cny_per_yr: Cny | None = None
    """Most capital (CNY) committed to candidates commissioned in any one year; empty for no
    limit. In the single-year model every build is commissioned in the scenario's year."""
    grid_tco2_per_mwh: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] = 0.0
    """Grid emission factor, tCO2/MWh: turns the projects' ``electricity_kwh_per_t`` into CO2."""
    co2_cap_t: Annotated[float, Field(ge=0, le=MAX_TONNES, allow_inf_nan=False)] | None = None
    """Most CO2 the plan may emit, tonnes of CO2 per year (``co2_cap_basis`` says which total);
    empty for no cap. A constraint with a shadow price in CNY per tCO2."""
    co2_cap_basis: Co2Basis = Co2Basis.gross
    """What the cap limits: ``gross`` (default: emitted by hauling and processing) or ``net``
    (gross minus the emissions avoided by the products)."""

    @field_validator("unmanaged_penalty_cny_per_t")
    @classmethod
    def _penalty_when_allowed(cls, value: float | None, info: ValidationInfo) -> float | None:
        # a scenario that allows dumping must price it explicitly: a forgotten penalty of 0
        # makes dumping cheaper than any landfill
        if value is None and info.data.get("allow_unmanaged"):
            kind = "unmanaged_penalty_missing"
            msg = "policy.allow_unmanaged is true, so policy.unmanaged_penalty_cny_per_t must be given: the CNY per unmanaged tonne charged on top of the environmental tax (0 to charge the tax alone), or set allow_unmanaged to false"
            raise PydanticCustomError(kind, msg)
        return value

    @property
    def penalty_cny_per_t(self) -> float:
        """The penalty per unmanaged tonne in CNY/t (0 when none is given)."""
        return float(self.unmanaged_penalty_cny_per_t or 0.0)


class Sizing(StrEnum):
    """How a candidate's size is chosen."""

    build = "build"
    """Build or not, at ``size_t``."""
    size = "size"
    """Build or not; if built, any size from ``min_size_t`` to ``max_size_t`` (semi-continuous)."""
    modules = "modules"
    """Build 1 to ``max_modules`` identical modules of ``module_t`` each (or none)."""


class Candidate(Record):
    """An investment decision: a project that may be built, or an existing project that may be expanded.

    A candidate names a record of ``projects``; that record's ``capacity_t`` is what exists
    today (0 for a project that does not exist yet) and its costs, revenue, yields, accepted
    streams and quality limits apply to the built capacity too. Built, the candidate adds its
    size to the project's capacity. Its capital, ``capital_cny`` once plus
    ``capital_cny_per_t`` per t/yr of capacity added, is annualized with the capital recovery
    factor of ``policy.discount_rate`` over ``lifetime_yr``; ``fixed_opex_cny_per_yr`` is paid
    every year it exists. Candidates of one ``group`` are alternatives: at most one of them is
    built. With candidates the model becomes a mixed-integer program (``flowopt invest``).
    """

    id: Identifier
    """Unique candidate id."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    project: Identifier
    """The project it builds or expands (id in ``projects``)."""
    sizing: Sizing = Sizing.build
    """``build`` (at ``size_t``), ``size`` (from ``min_size_t`` to ``max_size_t``) or ``modules``
    (1 to ``max_modules`` modules of ``module_t``)."""
    size_t: Tonnes | None = None
    """Capacity added when built, t/yr (``sizing`` build)."""
    min_size_t: Tonnes = 0.0
    """Least capacity added when built, t/yr (``sizing`` size)."""
    max_size_t: Tonnes | None = None
    """Most capacity added, t/yr (``sizing`` size)."""
    module_t: Tonnes | None = None
    """Capacity of one module, t/yr (``sizing`` modules)."""
    max_modules: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Most modules (``sizing`` modules)."""
    capital_cny: Cny = 0.0
    """Capital cost paid once when built, whatever the size (CNY)."""
    capital_cny_per_t: NonNegCnyPerTonne = 0.0
    """Capital cost per t/yr of capacity added (CNY per t/yr)."""
    lifetime_yr: Annotated[int, Field(ge=1, le=100)]
    """Economic lifetime over which the capital is annualized (years)."""
    fixed_opex_cny_per_yr: Cny = 0.0
    """Fixed operating cost per year when built, whatever is fed (CNY/yr)."""
    group: Identifier | None = None
    """Exclusive group: at most one candidate of a group is built (alternatives for one site)."""
    earliest_year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    """First year it can be in operation; a candidate whose year is after the scenario's
    ``year`` cannot be built."""
    source: Source = ""
    """Source of the numbers."""


class Tariff(Record):
    """Road transport tariff: cost per tonne = fixed + variable × distance."""

    fixed_cny_per_t: NonNegCnyPerTonne = 5.0
    """Handling and loading per tonne moved between sites."""
    variable_cny_per_t_km: Annotated[float, Field(ge=0, le=1e4, allow_inf_nan=False)] = 0.8
    """Haulage per tonne-kilometre."""
    road_winding_factor: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)] = 1.4
    """Road km per straight-line km, used when a distance comes from coordinates."""
    same_site_fixed: bool = True
    """Charge the fixed handling cost also when source and outlet share a site."""
    tco2_per_t_km: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    """CO2 of road haulage per tonne-kilometre, tCO2/(t·km) (diesel trucks); a route's
    ``transport_tco2_per_t`` replaces it."""


class Distribution(StrEnum):
    """Distribution of an uncertain input (``uncertainty.distribution``)."""

    uniform = "uniform"
    """Every value from ``low`` to ``high`` equally likely."""
    triangular = "triangular"
    """From ``low`` to ``high``, most likely ``mode``."""
    normal = "normal"
    """Normal with ``mean`` and ``sd``, truncated to [``low``, ``high``] where they are given."""
    lognormal = "lognormal"
    """Lognormal whose value has ``mean`` and ``sd`` (not of its logarithm), truncated to
    [``low``, ``high``] where they are given."""
    discrete = "discrete"
    """One of the numbers in ``values``, with ``probabilities`` (equal when empty)."""
    alternatives = "alternatives"
    """One of the named settings in ``values`` (``utilization;disposal``), with ``probabilities``."""


class UncertainApply(StrEnum):
    """How a drawn value changes the field: it replaces it, or multiplies it."""

    set = "set"
    """The drawn value replaces the field's value."""
    scale = "scale"
    """The field's value is multiplied by the drawn value (a factor, e.g. 0.8 to 1.0)."""


UncertainNumber = Annotated[float, Field(ge=-MAX_TONNES, le=MAX_TONNES, allow_inf_nan=False)]
"""A parameter of a distribution: finite, magnitude at most 1e10."""

_ListText = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)]


class UncertainInput(Record):
    """An uncertain input of ``flowopt risk``: a field of a record and the distribution of its value.

    Only ``flowopt risk`` reads this table: plans use the values written in the other tables.
    ``path`` names the field in the syntax of what-ifs; each sample of the risk analysis draws
    a value from the distribution and sets (or scales) the field with it. Inputs of one
    ``group`` move together: one draw per group per sample, mapped through each member's own
    distribution (rank correlation 1). A yield (``product_fraction``, ``loss_fraction`` of a
    project, or a ``residues`` fraction) keeps the project's yields adding up to 1: the yield
    named by ``balance`` takes up the difference (by default the loss fraction for a product
    fraction, the product fraction otherwise; a stream id names the project's residue of that
    stream, added when the base has none).
    """

    id: Identifier
    """Unique id of the uncertain input."""
    name_zh: Label = ""
    """Chinese name."""
    name_en: Label = ""
    """English name."""
    path: Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
    """Field whose value is uncertain, in the path syntax of what-ifs: ``streams.W03.generation_t``,
    ``projects.R07.counts_as``, ``accepts[outlet=R02,stream=W03].max_share``,
    ``projects[*].revenue_cny_per_t`` (every record) or ``transport.variable_cny_per_t_km``."""
    apply: UncertainApply = UncertainApply.set
    """``set``: the drawn value replaces the field's; ``scale``: it multiplies it (a factor)."""
    distribution: Distribution
    """``uniform``, ``triangular``, ``normal``, ``lognormal``, ``discrete`` or ``alternatives``."""
    low: UncertainNumber | None = None
    """Lowest value (uniform, triangular; truncation of normal and lognormal)."""
    mode: UncertainNumber | None = None
    """Most likely value (triangular)."""
    high: UncertainNumber | None = None
    """Highest value (uniform, triangular; truncation of normal and lognormal)."""
    mean: UncertainNumber | None = None
    """Mean (normal, lognormal)."""
    sd: UncertainNumber | None = None
    """Standard deviation (normal, lognormal), above 0."""
    values: _ListText = ""
    """The possible values, separated by semicolons: numbers (discrete) or settings such as
    ``utilization;disposal`` (alternatives)."""
    probabilities: _ListText = ""
    """Probability of each of ``values``, separated by semicolons, adding up to 1; empty for
    equal probabilities."""
    balance: Annotated[str, StringConstraints(max_length=64, strip_whitespace=True)] = ""
    """For a yield: which yield takes up the difference, ``loss``, ``product`` or the id of a
    residue stream of the project; empty for the default."""
    group: Identifier | None = None
    """Correlation group: inputs of one group move together (one draw per group)."""
    source: Source = ""
    """Source of the range, or the reasoning behind it."""

    @field_validator("values", "probabilities", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # a workbook cell holding one number (a one-value list) arrives as a number
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{value:g}"
        return value


class Scenario(Record):
    """The complete input for one optimization: the park's material network and its policy.

    Tables are tuples in a deterministic order (as read). Build one with
    :func:`flowopt.io.load_scenario` (files) or :func:`flowopt.checks.validated` (dicts), which
    also run the cross-record checks.
    """

    id: Identifier = "scenario"
    """Scenario id."""
    name_zh: Label = ""
    """Chinese title."""
    name_en: Label = ""
    """English title."""
    year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    """Year the scenario describes."""
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    """Free text."""
    sources: dict[str, Annotated[str, StringConstraints(max_length=500)]] = {}
    """Sources of the scalar values in the manifest, keyed by a dotted field path
    (``policy.unmanaged_penalty_cny_per_t``) or a free key."""
    policy: Policy = Policy()
    """Target, rate definition, and the unmanaged-waste policy (prohibited unless allowed)."""
    transport: Tariff = Tariff()
    """Road transport tariff."""
    sites: tuple[Site, ...] = ()
    """Sites."""
    firms: tuple[Firm, ...] = ()
    """Firms."""
    streams: tuple[Stream, ...] = ()
    """Waste streams."""
    composition: tuple[Component, ...] = ()
    """Stream compositions (long format: stream, component, fraction)."""
    stockpiles: tuple[Stockpile, ...] = ()
    """Legacy stockpiles."""
    projects: tuple[Project, ...] = ()
    """Reuse projects."""
    sinks: tuple[Sink, ...] = ()
    """Disposal and storage facilities."""
    accepts: tuple[Accept, ...] = ()
    """Which outlet accepts which stream."""
    residues: tuple[Residue, ...] = ()
    """Residue streams produced by projects."""
    quality: tuple[QualityLimit, ...] = ()
    """Quality limits on project feeds."""
    distances: tuple[Distance, ...] = ()
    """Road distances between sites."""
    routes: tuple[Route, ...] = ()
    """Route overrides, capacities and prohibitions."""
    markets: tuple[Market, ...] = ()
    """Product markets: demand limits (``projects.markets`` links projects to them)."""
    market_tiers: tuple[MarketTier, ...] = ()
    """Price tiers of the markets (long format: market, upto_t, price_cny_per_t)."""
    candidates: tuple[Candidate, ...] = ()
    """Investment decisions: projects that may be built or expanded (``flowopt invest``)."""
    uncertainty: tuple[UncertainInput, ...] = ()
    """Uncertain inputs of ``flowopt risk`` (ranges of estimates); plans do not read them."""

    # where each record was read from: table -> [(file, line)], set by flowopt.io; not data
    _locations: dict[str, list[tuple[str, int]]] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # two scenarios are equal when their data are, wherever they were read from
        return isinstance(other, Scenario) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # holds dicts; never a dict key

    def where(self, table: str, record_id: str) -> str | None:
        """Return where the record ``record_id`` of ``table`` was read (``projects.csv row 5``).

        Args:
            table: table name (``projects``, ``sinks`` …).
            record_id: the record's ``id``.

        Returns:
            A location text, or ``None`` when the scenario did not come from files.
        """
        rows = getattr(self, table, ())
        index = next((i for i, r in enumerate(rows) if getattr(r, "id", None) == record_id), None)
        locs = self._locations.get(table)
        if index is None or not locs or index >= len(locs):
            return None
        file, line = locs[index]
        return f"{file.rsplit('/', 1)[-1]} row {line}"


#: Table name -> record type, in the order tables are read and reported.
TABLES: dict[str, type[Record]] = {
    "sites": Site,
    "firms": Firm,
    "streams": Stream,
    "composition": Component,
    "stockpiles": Stockpile,
    "projects": Project,
    "sinks": Sink,
    "accepts": Accept,
    "residues": Residue,
    "quality": QualityLimit,
    "distances": Distance,
    "routes": Route,
    "markets": Market,
    "market_tiers": MarketTier,
    "candidates": Candidate,
    "uncertainty": UncertainInput,
}

#: Tables a scenario must have at least one row in.
REQUIRED_TABLES = ("sites", "streams", "projects", "accepts")
