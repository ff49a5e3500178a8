"""Typed, frozen models of a scenario file.

These models only describe the shape and the ranges of each value. Checks
that need the whole scenario (routes naming unknown nodes, reachability,
cycles, dates inside the calendar) live in :mod:`flowsim.checks`, so that
each error can be reported with its own key path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date as Date
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from flowsim.contract import Expectation
from flowsim.fields import (
    CalendarDate,
    Flag,
    Frozen,
    Identifier,
    IntervalDays,
    Jurisdiction,
    LegalStatus,
    NodeKind,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    Purity,
    Text,
)
from flowsim.schedules import scheduled

__all__ = [
    "Behaviour",
    "Calendar",
    "ComplianceChange",
    "Customs",
    "Distribution",
    "Expectation",
    "FuelRestriction",
    "Interdiction",
    "Laundering",
    "Meta",
    "Mine",
    "Node",
    "Partner",
    "Policies",
    "Prices",
    "Processor",
    "Raid",
    "Reserve",
    "ReserveSale",
    "Route",
    "Sanction",
    "Scenario",
    "SimulationSettings",
    "StockLot",
]


# --- distributions of durations (days) --------------------------------------


class Fixed(Frozen):
    dist: Literal["fixed"]
    value: NonNegativeFloat

    @property
    def mean(self) -> float:
        return self.value


class Exponential(Frozen):
    dist: Literal["exponential"]
    mean: PositiveFloat


class Uniform(Frozen):
    dist: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


class Triangular(Frozen):
    dist: Literal["triangular"]
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"needs low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


class Lognormal(Frozen):
    dist: Literal["lognormal"]
    mean: PositiveFloat
    cv: Annotated[float, Field(ge=0, le=100, strict=True)]


def _number_means_fixed(value: object) -> object:
    """Let a plain number stand for a fixed duration: ``transit_days = 3``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Distribution = Annotated[
    Union[Fixed, Exponential, Uniform, Triangular, Lognormal],
    Field(discriminator="dist"),
    BeforeValidator(
        _number_means_fixed,
        json_schema_input_type=Union[
            Annotated[float, Field(ge=0)], Fixed, Exponential, Uniform, Triangular, Lognormal
        ],
    ),
]


# --- sections ---------------------------------------------------------------


class Meta(Frozen):
    name: Identifier = Field(
        description="Short name; names the run folder (letters, digits, _ and -)."
    )
    description: Text = ""
    sources: list[Text] = Field([], description="Citations for the figures the scenario uses.")
    baseline: Text | None = Field(
        None,
        description=(
            "Scenario file this one is compared with, relative to the file that names it: "
            "`flowsim run` runs it too (or reads its run folder) and writes the report "
            "against it. Not part of the scenario's content: it changes no figure of a run."
        ),
    )


class Calendar(Frozen):
    start: CalendarDate = Field(description="First simulated day.")
    end: CalendarDate = Field(description="Last simulated day (included).")


_PRICE_KEY = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")


def _price_key(value: object) -> int | str:
    """A year (2018, or '2018' as TOML writes keys) or a month ('2018-03')."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and (match := _PRICE_KEY.match(value)):
        return int(match[1]) if match[2] is None else value
    raise ValueError(f"{value!r} is neither a year (2018) nor a month (2018-03)")


PriceKey = Annotated[
    Union[int, str],
    PlainValidator(
        _price_key,
        json_schema_input_type=Annotated[str, StringConstraints(pattern=_PRICE_KEY.pattern)],
    ),
]


class Prices(Frozen):
    usd_per_oz: dict[PriceKey, PositiveFloat] = Field(
        description=(
            "Gold price, USD per troy ounce of fine gold, by calendar year (2018 = ...) or "
            "by month ('2018-03' = ...); a month's price replaces its year's for that month."
        )
    )
    dore_purity: Purity = Field(
        0.9,
        description="Fine-gold share of unrefined gold (doré) when a mine does not state its own.",
    )
    fuel_usd_per_gal: scheduled(PositiveFloat) | None = Field(
        None,
        description=(
            "Pump price of the fuel mines burn, USD per gallon (a number or a schedule): "
            "their fuel cost in margins, and the price fuel restrictions' premium is on."
        ),
    )


# Keys that earlier versions read, and why they are gone: named in the error instead of
# "unknown key".
REMOVED_KEYS = {
    "hold_retry_days": (
        "hold_retry_days is gone: held lots are now offered again on the days a lever may "
        "open a route, not on a clock (docs/behaviour.md); delete the key"
    ),
}


class SimulationSettings(Frozen):
    lot_interval_days: PositiveFloat = Field(
        1.0, description="Days between two lots of a mine, unless the mine sets its own."
    )
    rents: Flag = Field(
        False,
        description=(
            "Keep the books: what each node pays and earns on every lot, for the rents "
            "table. It values every delivery, so runs take longer."
        ),
    )
    granularity: Literal["lot", "shipment"] = Field(
        "lot",
        description=(
            "lot: follow every lot a mine produces through every queue. shipment: a mine's "
            "production is collected every collection_days, and buyers and refiners "
            "process what they hold as one batch every batch_days and ship it "
            "consolidated, so that events grow with shipments, not with production "
            "(docs/performance.md)."
        ),
    )
    collection_days: IntervalDays = Field(
        7.0,
        description=(
            "In shipment mode, days between two collections at a mine (each mine on its "
            "own day of the cycle); at least an hour (1/24 day)."
        ),
    )
    batch_days: IntervalDays = Field(
        1.0,
        description=(
            "In shipment mode, days between two batches at a buyer or a refiner; at least "
            "an hour (1/24 day)."
        ),
    )
    documents: Flag | None = Field(
        None,
        description=(
            "Papers on every lot, customs records of every declared crossing, and the "
            "trade_statistics and mirror_gaps tables (docs/behaviour.md). Unset: on when a "
            "node launders, a partner checks papers (due_diligence), a route sets "
            "declared, or [customs] is given."
        ),
    )


class Behaviour(Frozen):
    """How actors choose routes and learn about risk (see docs/behaviour.md)."""

    route_choice: Literal["static", "logit"] = Field(
        "static",
        description=(
            "static: split outflow by route weights. logit: choose each lot's route by a "
            "multinomial logit over expected net value, with weights as prior preferences."
        ),
    )
    logit_sensitivity: NonNegativeFloat = Field(
        20.0,
        description=(
            "How sharply actors prefer the best route, per unit of net value measured as a "
            "share of the world price. 0: split by weights alone (evenly if equal)."
        ),
    )
    risk_learning_rate: Probability = Field(
        0.2,
        description="Weight of each observed outcome in a node's perceived seizure risk.",
    )
    risk_memory_days: PositiveFloat = Field(
        60.0,
        description="Days for a perceived risk to relax most of the way (1/e) back to its prior.",
    )


class NodeBase(Frozen):
    name: Text = Field("", description="Display name.")
    jurisdiction: Jurisdiction = Field(
        description="ISO 3166-1 alpha-3 code of the country where the node is."
    )
    entity: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Who operates the node; sanctions can target it by this name."
    )
    legal_status: LegalStatus = Field(
        description="licensed, informal or illegal (illegal and informal count as illegal origin)."
    )
    region: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Region, for raids and fuel restrictions."
    )
    lat: Annotated[float, Field(ge=-90.0, le=90.0)] | None = Field(
        None, description="Latitude in degrees north, for the report's map only (with lon)."
    )
    lon: Annotated[float, Field(ge=-180.0, le=180.0)] | None = Field(
        None, description="Longitude in degrees east, for the report's map only (with lat)."
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> NodeBase:
        if (self.lat is None) != (self.lon is None):
            given, missing = ("lat", "lon") if self.lon is None else ("lon", "lat")
            raise ValueError(f"{given} is given without {missing}: a place needs both")
        return self


class Mine(NodeBase):
    kind: Literal["mine"]
    production_kg_per_day: scheduled(PositiveFloat, NonNegativeFloat) = Field(
        description=(
            "Mean production, kg of doré per day; a schedule's points may be 0 (a site that "
            "stops for a while)."
        )
    )
    production_cv: Annotated[float, Field(ge=0, le=100, strict=True)] = Field(
        0.0, description="Coefficient of variation of each lot's mass (gamma-distributed)."
    )
    lot_interval_days: Distribution | None = Field(
        None,
        description=(
            "Days between two lots: a number, or a distribution (exponential gives Poisson "
            "arrivals). Each lot holds production_kg_per_day x the mean interval."
        ),
    )
    purity: Purity | None = Field(
        None, description="Fine-gold share of this mine's doré; defaults to prices.dore_purity."
    )
    fuel_dependence: Probability = Field(
        0.0, description="Share of production that stops when the mine gets no fuel."
    )
    fuel_gal_per_kg: NonNegativeFloat = Field(
        0.0, description="Gallons of fuel burnt per kg of gold produced."
    )
    fuel_region: str | None = Field(
        None, description="Region whose fuel supply the mine depends on; defaults to its region."
    )
    displacement_to: list[Identifier] = Field(
        [], description="Mines where miners go when raids or enforcement stop this one."
    )
    displacement_share: Probability = Field(
        0.0, description="Share of the production lost to raids that moves to displacement_to."
    )
    displacement_delay_days: NonNegativeFloat = Field(
        30.0, description="Days miners take to start producing at the new sites."
    )
    displacement_split: Literal["production", "margin"] = Field(
        "production",
        description=(
            "How the moved output is split among displacement_to: production, in "
            "proportion to their own output; margin, in proportion to what a kg earns at "
            "each on the day of the raid, times the share of it that raids have left "
            "working (where it pays best after the risk of enforcement)."
        ),
    )
    cost_usd_per_kg: scheduled(NonNegativeFloat) = Field(
        0.0,
        description=(
            "Costs per kg of doré besides fuel (labour, mercury, protection paid to armed "
            "groups), USD; a number or a schedule."
        ),
    )
    supply_elasticity: Annotated[float, Field(ge=0, le=10, strict=True)] = Field(
        0.0,
        description=(
            "How output answers the margin: production x (margin / first-day margin) ^ "
            "elasticity, the margin being the price received less fuel and other costs. "
            "0: output ignores prices."
        ),
    )


class StockLot(Frozen):
    origin: Identifier = Field(description="Id of the mine the gold came from.")
    kg: PositiveFloat = Field(description="Mass of the stock, kg.")
    lot_kg: PositiveFloat = Field(10.0, description="Mass of each lot the stock is cut into, kg.")
    purity: Purity | None = Field(
        None, description="Purity of the stock; defaults to the origin mine's."
    )


class ReserveSale(Frozen):
    """One sale out of a reserve: a charter of ``kg`` on ``date`` to a named buyer."""

    date: CalendarDate = Field(description="Day the gold leaves the reserve.")
    kg: PositiveFloat = Field(
        description="Mass sold, kg (what is left, if the reserve holds less)."
    )
    to: Identifier = Field(
        description="Node it is sold to: one this node has a route to (the sale takes that route)."
    )
    description: Text = ""


class Reserve(Frozen):
    """Gold a node holds from the start that no mine of the run produced, such as a
    central bank's, which leaves only as it is sold (docs/behaviour.md)."""

    kg: PositiveFloat = Field(description="Mass held on the calendar's first day, kg.")
    origin: Identifier = Field(
        description="Id of the mine whose origin category the gold has (its provenance)."
    )
    purity: Purity | None = Field(
        None, description="Purity of the reserve's gold; defaults to the origin mine's."
    )
    sales_kg_per_month: scheduled(NonNegativeFloat) = Field(
        0.0,
        description=(
            "Kg sold a month, spread evenly over the days of the month and sent down the "
            "node's routes as its route choice splits them; a number or a schedule."
        ),
    )
    sales: list[ReserveSale] = Field([], description="Dated one-off sales to named buyers.")
    sell_to_demand: Flag = Field(
        False,
        description=(
            "Each day, also sell to every partner with an appetite that the node has a "
            "route to its share of what is left of that appetite this month (what is left "
            "over the days left), at the reservation price if one is set."
        ),
    )
    min_usd_per_oz: scheduled(PositiveFloat) | None = Field(
        None,
        description=(
            "A reservation price, USD per troy ounce of fine gold: a day's scheduled sale is "
            "made only if the gold fetches at least this from the node's buyers that day "
            "(dated sales are made whatever the price); unset: sold whatever it fetches."
        ),
    )
    sell_before_designation: Probability = Field(
        0.0,
        description=(
            "Share of what is left of the reserve on the day a designation of its node is "
            "announced that it sells, evenly over the days before the designation takes "
            "effect, on top of its other sales; 0: it does not act on the news."
        ),
    )


class Laundering(Frozen):
    """A node that re-papers part of what passes through it as its own."""

    share: Probability = Field(
        description=(
            "Share of the lots leaving the node that it declares as of its own "
            "jurisdiction, entity and legal status (each lot drawn on its own)."
        )
    )
    cost_usd_per_kg: NonNegativeFloat = Field(
        0.0, description="What re-papering a kg costs the node, USD."
    )
    detection: Probability = Field(
        0.0,
        description=(
            "Chance that the authorities find a re-papered lot out as it leaves: the lot "
            "is seized at the node."
        ),
    )
    as_scrap: Probability = Field(
        0.0,
        description=(
            "Share of the re-papered lots declared as scrap (HS 7112) rather than as "
            "mined gold (HS 7108)."
        ),
    )


class Processor(NodeBase):
    """A buyer or a refiner: a queue in front of ``servers`` parallel servers."""

    kind: Literal["buyer", "refiner"]
    capacity_kg_per_day: scheduled(PositiveFloat) = Field(
        description=(
            "A lot of m kg keeps a server busy m / capacity days, plus processing_days "
            "(the capacity of the day its service starts)."
        )
    )
    processing_days: Distribution = Field(
        default_factory=lambda: Fixed(dist="fixed", value=0.0),
        description="Time a server spends on a lot on top of mass / capacity.",
    )
    # Each server is a process: a bound keeps a typo from filling the memory.
    servers: Annotated[int, Field(gt=0, le=100_000, strict=True)] = Field(
        1, description="Lots served at the same time."
    )
    output_purity: Purity | None = Field(
        None,
        description=(
            "Refiners: purity of what they ship (default 0.9999); the impurities removed "
            "are recorded as lost. Buyers pass purity through."
        ),
    )
    loss_fraction: Annotated[float, Field(ge=0, lt=1, strict=True)] = Field(
        0.0, description="Share of each lot's mass lost in processing."
    )
    batch_kg: PositiveFloat | None = Field(
        None,
        description=(
            "Refiners: melt the lots waiting in the queue together, up to this mass, mixing "
            "their provenance. Unset: each lot is processed alone."
        ),
    )
    initial_stock: list[StockLot] = Field(
        [], description="Gold at the node when the run starts, queued to be processed."
    )
    margin: scheduled(Annotated[float, Field(ge=0, lt=1, strict=True)]) = Field(
        0.0,
        description=(
            "Share of what a kg is worth downstream that the node keeps: it pays its "
            "sellers the rest (a number, or a schedule: the buyer's price over time)."
        ),
    )
    reserve: Reserve | None = Field(
        None, description="Gold held outside the queue that leaves only as it is sold."
    )
    laundering: Laundering | None = Field(
        None, description="Re-papers part of what passes through (docs/behaviour.md)."
    )


class Partner(NodeBase):
    kind: Literal["partner"]
    price_factor: scheduled(PositiveFloat) = Field(
        1.0, description="Share of the world price of fine gold that the partner pays."
    )
    appetite_kg_per_month: scheduled(PositiveFloat) | None = Field(
        None,
        description=(
            "Most kg a calendar month that the partner takes at its price, counted as gold "
            "is sent to it (a number, or a schedule read on the first of each month); "
            "unset: no limit."
        ),
    )
    beyond_appetite_price_factor: Annotated[float, Field(ge=0, lt=1, strict=True)] = Field(
        0.0,
        description=(
            "Share of its price that the partner pays for gold beyond its appetite; 0: it "
            "takes none until the next month, so the gold goes elsewhere or waits."
        ),
    )
    re_export_share: Probability = Field(
        0.0,
        description=(
            "Share of each lot it takes that the partner sells on, down its routes to "
            "other partners (a hub); the rest it keeps."
        ),
    )
    due_diligence: Probability = Field(
        0.0,
        description=(
            "Chance, per laundering step a lot went through, that the partner's checks see "
            "through its papers to what it touched; 0: it sees only the papers."
        ),
    )
    laundering: Laundering | None = Field(
        None, description="A hub that re-papers part of what it sells on as its own."
    )


Node = Annotated[Union[Mine, Processor, Partner], Field(discriminator="kind")]


class Route(Frozen):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )

    source: Identifier = Field(alias="from")
    target: Identifier = Field(alias="to")
    transit_days: Distribution = Field(
        default_factory=lambda: Fixed(dist="fixed", value=1.0),
        description="Days a shipment takes on this route, drawn for each shipment.",
    )
    transit_factor: scheduled(PositiveFloat) = Field(
        1.0,
        description=(
            "Multiplies each transit time drawn on this route, on the day it is drawn: a "
            "schedule of it makes the route slower or faster for a while (2.0 doubles it)."
        ),
    )
    cost_usd_per_kg: scheduled(NonNegativeFloat) = Field(
        0.0,
        description=(
            "Cost of moving a kg this way, USD, on the day it is sent; weighed by logit "
            "route choice."
        ),
    )
    capacity_kg_per_day: PositiveFloat | None = Field(
        None,
        description="Most kg a day on this route (a bigger lot may go alone); unset: no limit.",
    )
    seizure_probability: scheduled(Probability) = Field(
        0.0,
        description=(
            "Chance that a shipment is seized on the way, decided on arrival (on the day "
            "of arrival, for a schedule)."
        ),
    )
    weight: scheduled(NonNegativeFloat) = Field(
        1.0, description="Share of the origin's outflow sent this way, relative to its siblings."
    )
    release_share: Probability = Field(
        0.0, description="Share of seizures on this route undone by corruption: the lot goes on."
    )
    declared: Literal["both", "export", "import", "neither"] = Field(
        "both",
        description=(
            "Where a crossing between two jurisdictions is declared to customs: at export, "
            "at import, both, or neither (smuggling). Routes inside one jurisdiction are "
            "never declared."
        ),
    )


# --- policies ---------------------------------------------------------------


class PolicyBase(Frozen):
    enabled: Flag = Field(True, description="Switch the policy off without deleting it.")
    description: Text = ""


class ComplianceChange(Frozen):
    partner: Identifier = Field(description="Partner whose compliance changes.")
    date: CalendarDate = Field(description="From this day on.")
    level: Probability = Field(description="New compliance level: share of tainted lots refused.")


class Sanction(PolicyBase):
    issuer: Jurisdiction = Field(
        description="ISO code of the jurisdiction that issues the sanctions."
    )
    effective: CalendarDate = Field(
        description="Designation date: from this day on, the targets taint the gold they touch."
    )
    until: CalendarDate | None = Field(
        None, description="Last day the regime applies; unset: to the end."
    )
    announced: CalendarDate | None = Field(
        None,
        description=(
            "Day the designation is made known, on or before effective: reserves set to "
            "sell ahead of it (sell_before_designation) do so from this day."
        ),
    )
    wind_down_until: CalendarDate | None = Field(
        None,
        description=(
            "Last day of a wind-down licence: until then partners neither refuse nor "
            "discount gold the targets touched, which still carries the designation."
        ),
    )
    target_entities: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        [], description="Entities designated (nodes' entity names)."
    )
    target_jurisdictions: list[Jurisdiction] = Field(
        [], description="Jurisdictions targeted as a whole (ISO codes)."
    )
    compliance: dict[Identifier, Probability] = Field(
        {}, description="Partner id -> share of tainted lots it refuses (0 ignores, 1 refuses all)."
    )
    default_compliance: Probability = Field(
        0.0, description="Compliance of partners not listed in compliance."
    )
    compliance_changes: list[ComplianceChange] = Field(
        [], description="Dated changes of a partner's compliance, e.g. under pressure."
    )
    discount: Annotated[float, Field(ge=0, lt=1, strict=True)] = Field(
        0.0, description="Price discount on tainted gold at partners that accept it."
    )

    @model_validator(mode="after")
    def _has_targets(self) -> Sanction:
        if not self.target_entities and not self.target_jurisdictions:
            raise ValueError("needs target_entities or target_jurisdictions")
        return self


class Raid(PolicyBase):
    date: CalendarDate | None = Field(None, description="Date of a single raid.")
    rate_per_year: Annotated[float, Field(gt=0, le=36_500, strict=True)] | None = Field(
        None, description="Raids a year, at random times within the window (Poisson)."
    )
    window_start: CalendarDate | None = Field(None, description="First day raids may fall.")
    window_end: CalendarDate | None = Field(None, description="Last day raids may fall.")
    nodes: list[Identifier] = Field([], description="Nodes raided by name.")
    region: str | None = Field(None, description="Region whose nodes (of node_kinds) are raided.")
    node_kinds: list[NodeKind] = Field(
        ["mine"], description="Kinds of node a raid on a region hits."
    )
    pick: Literal["all", "one"] = Field(
        "all", description="Whether each raid hits every target or one drawn at random."
    )
    capacity_loss: Probability = Field(
        0.5, description="Share of the node's capacity (or production) a raid destroys."
    )
    hold_days: NonNegativeFloat = Field(
        0.0, description="Days the full loss lasts (sustained enforcement) before recovery starts."
    )
    recovery_days: NonNegativeFloat = Field(
        90.0, description="Days for capacity to come back, linearly, after hold_days."
    )
    stock_seized: Probability = Field(0.0, description="Share of the stock on site seized.")
    route_seizure_increase: Probability = Field(
        0.0, description="Added to the seizure probability of routes into and out of raided nodes."
    )
    route_seizure_days: NonNegativeFloat = Field(0.0, description="Days the increase lasts.")

    @model_validator(mode="after")
    def _one_timing(self) -> Raid:
        poisson = (self.rate_per_year, self.window_start, self.window_end)
        if self.date is not None and any(v is not None for v in poisson):
            raise ValueError("give either date, or rate_per_year with window_start and window_end")
        if self.date is None and any(v is None for v in poisson):
            raise ValueError("needs a date, or rate_per_year with window_start and window_end")
        if not self.nodes and self.region is None:
            raise ValueError("needs nodes or region")
        return self


class FuelRestriction(PolicyBase):
    region: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="Region whose fuel supply is cut (mines' fuel_region)."
    )
    start: CalendarDate = Field(description="First day of the cut.")
    end: CalendarDate = Field(description="Last day of the cut.")
    supply_cut: Probability = Field(1.0, description="Share of the region's fuel supply cut.")
    black_market_share: Probability = Field(
        0.0, description="Share of the cut fuel that miners buy on the black market instead."
    )
    black_market_premium: NonNegativeFloat = Field(
        0.35, description="Black-market price premium over the pump price (0.35 = 35% dearer)."
    )
    fuel_price_usd_per_gal: PositiveFloat = Field(
        3.65,
        description=(
            "Pump price of fuel, USD per gallon, for the black-market premium, where "
            "prices.fuel_usd_per_gal does not give it."
        ),
    )


class Interdiction(PolicyBase):
    """A window of stronger checks on chosen routes, e.g. a joint border operation."""

    start: CalendarDate = Field(description="First day of the operation.")
    end: CalendarDate = Field(description="Last day of the operation.")
    routes: list[Identifier] = Field([], description="Routes under stronger checks, by id.")
    into_jurisdictions: list[Jurisdiction] = Field(
        [], description="Also every route whose destination lies in one of these."
    )
    from_jurisdictions: list[Jurisdiction] = Field(
        [], description="Also every route whose origin lies in one of these."
    )
    seizure_increase: Probability = Field(
        0.0, description="Added to each route's seizure probability (at most 1 in all)."
    )
    release_share: Probability | None = Field(
        None,
        description="Share of seizures undone by corruption while it lasts (else the route's).",
    )

    @model_validator(mode="after")
    def _has_routes(self) -> Interdiction:
        if not (self.routes or self.into_jurisdictions or self.from_jurisdictions):
            raise ValueError("needs routes, into_jurisdictions or from_jurisdictions")
        return self


class Customs(Frozen):
    """What one jurisdiction's customs statistics record."""

    reporting_share: Probability = Field(
        1.0,
        description=(
            "Share of the declared crossings that reach the jurisdiction's published "
            "statistics (imports and exports alike)."
        ),
    )


class Policies(Frozen):
    sanctions: dict[Identifier, Sanction] = {}
    raids: dict[Identifier, Raid] = {}
    fuel_restrictions: dict[Identifier, FuelRestriction] = {}
    interdictions: dict[Identifier, Interdiction] = {}


class Scenario(Frozen):
    meta: Meta
    calendar: Calendar
    prices: Prices
    simulation: SimulationSettings = SimulationSettings()
    behaviour: Behaviour = Behaviour()
    nodes: dict[Identifier, Node]
    routes: dict[Identifier, Route]
    policies: Policies = Policies()
    customs: dict[Jurisdiction, Customs] = Field(
        {}, description="Customs statistics by jurisdiction code (docs/behaviour.md)."
    )
    expect: list[Expectation] = []
    # The files it was read from, the scenario's own first: not part of its content.
    _files: tuple[str, ...] = PrivateAttr(default=())
    # meta.baseline resolved against the file that names it.
    _baseline_file: str | None = PrivateAttr(default=None)
    # Its assumption lines, read with its files: a worker without the files keeps them.
    _assumptions: tuple[dict[str, str | int], ...] | None = PrivateAttr(default=None)
    # The rows of the sources table its files cite, read with them likewise.
    _citations: tuple[str, ...] | None = PrivateAttr(default=None)

    @property
    def files(self) -> tuple[str, ...]:
        return self._files

    @property
    def baseline_file(self) -> Path | None:
        """The scenario file named by ``meta.baseline``, found from the file that named
        it (from the working folder for a scenario built in code); None without one."""
        if self.meta.baseline is None:
            return None
        return Path(self._baseline_file or self.meta.baseline)

    def assumptions(self) -> list[dict[str, str | int]]:
        """Lines of the scenario's files whose comment marks an assumption."""
        if self._assumptions is not None:  # as read with the files, wherever it runs now
            return [dict(a) for a in self._assumptions]
        return assumptions_in(self._files)

    def citations(self) -> list[str]:
        """Ids of the rows of the sources table (docs/sources.md) that its files cite."""
        from flowsim.sources import citations_in

        if self._citations is not None:
            return list(self._citations)
        return list(citations_in(self._files))

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def days(self) -> int:
        """Length of the run in days, the end date included."""
        return (self.calendar.end - self.calendar.start).days + 1

    def day_of(self, when: Date) -> float:
        return float((when - self.calendar.start).days)


def assumptions_in(files: Iterable[str]) -> list[dict[str, str | int]]:
    """Lines of these files whose comment marks an assumption; a file that cannot be
    read has none."""
    texts = {}
    for file in files:
        try:
            texts[file] = Path(file).read_text(encoding="utf-8")
        except OSError:
            continue
    return assumptions_in_texts(texts)


def assumptions_in_texts(texts: Mapping[str, str]) -> list[dict[str, str | int]]:
    """Lines of these files' texts, by file name, whose comment marks an assumption."""
    found: list[dict[str, str | int]] = []
    for file, text in texts.items():
        lines = text.splitlines()
        taken: set[int] = set()
        for number, line in enumerate(lines, start=1):
            _, hash_sign, comment = line.partition("#")
            if number in taken or not (hash_sign and "assum" in comment.lower()):
                continue
            # A comment block over several lines is one assumption, from its first line.
            first = number
            if line.lstrip().startswith("#"):
                while first > 1 and lines[first - 2].lstrip().startswith("#"):
                    first -= 1
            last = number
            if line.lstrip().startswith("#"):
                while last < len(lines) and lines[last].lstrip().startswith("#"):
                    last += 1
            block = [lines[k - 1].strip() for k in range(first, last + 1)]
            taken.update(range(first, last + 1))
            text = " ".join([block[0], *(b.lstrip("#").strip() for b in block[1:])])
            found.append({"file": Path(file).name, "line": first, "text": text})
    return found
