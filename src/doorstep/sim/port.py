"""The one port between the simulated world and doorstep: what the world can do to the network.

Everything here is a plain value: the model in `doorstep.sim.model` imports nothing of the
services, the database or the web. The implementation (`doorstep.twin.port`) calls the same
service functions the API calls, with the simulated clock as their ``now``.

Times are seconds since midnight (station time) of the simulated day, day 0; day 1 starts at
86 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

DAY_S = 86_400


@dataclass(frozen=True)
class Ticked:
    """What the periodic jobs of a tick did that the world's drivers would notice."""

    # The drivers a closing round gave a block (each learns of it as a driver's phone does,
    # and looks at its held blocks then).
    winners: tuple[str, ...] = ()
    # A round closed with a block nobody won: it is on offer again (a next round or first
    # come), and drivers who looked at the first round and were not shown it look again. Or
    # a block nobody took had its pay raised: new terms, which drivers look at again.
    reopened: bool = False


@dataclass(frozen=True)
class Area:
    """A station's service area, as the box that holds it (orders are drawn inside it)."""

    code: str
    station: str
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float


@dataclass(frozen=True)
class Site:
    """A station, a store or a partner store: where parcels start or wait."""

    code: str
    kind: str  # station, mall, mall_store, local_store, partner_store, warehouse
    lat: float
    lng: float
    radius_m: float = 0.0  # partner stores: how far their staff delivers
    opens_s: int = 8 * 3600  # partner stores: today's opening hours
    closes_s: int = 18 * 3600


@dataclass(frozen=True)
class Catalog:
    """A merchant and what it sells (the SKUs a basket is drawn from)."""

    merchant: str
    skus: tuple[str, ...]


@dataclass(frozen=True)
class NetworkView:
    sites: tuple[Site, ...]
    areas: tuple[Area, ...]
    catalogs: tuple[Catalog, ...]

    def of_kind(self, *kinds: str) -> list[Site]:
        return [s for s in self.sites if s.kind in kinds]


@dataclass(frozen=True)
class OrderRequest:
    """A shopper at a merchant's checkout."""

    number: int
    merchant: str
    items: tuple[tuple[str, int], ...]  # sku, quantity
    lat: float
    lng: float
    speeds: tuple[str, ...]  # the speed wanted first, then the slower ones the shopper accepts
    counter_pickup: bool  # would collect at a partner store's counter


@dataclass(frozen=True)
class Placed:
    """The checkout's answer: the order and its parcels, or why no speed was offered."""

    order: str | None
    speed: str | None
    offered: tuple[str, ...]  # the speeds the checkout offered this shopper
    parcels: tuple[str, ...] = ()
    refused: str | None = None


@dataclass(frozen=True)
class BlockOffer:
    offer_id: int
    block_id: int
    starts_s: float
    ends_s: float
    pay_cents: int
    distance_m: int


@dataclass(frozen=True)
class HeldBlock:
    block_id: int
    starts_s: float
    ends_s: float
    slot_closes_s: float  # the end of its arrival slot (its start without one)
    pay_cents: int


@dataclass(frozen=True)
class StopView:
    stop_id: int
    kind: str  # pickup or delivery
    lat: float
    lng: float
    planned_s: float | None
    service_s: int
    parcels: tuple[str, ...]


@dataclass(frozen=True)
class RouteView:
    """A checked-in block: where it starts, what to scan there, the stops in order."""

    block_id: int
    start_lat: float
    start_lng: float
    at_start: tuple[str, ...]
    stops: tuple[StopView, ...]


@dataclass(frozen=True)
class ManifestView:
    """A partner store's batch for a day (what the plan dropped off for its staff)."""

    store: str
    lat: float
    lng: float
    parcels: tuple[tuple[str, float, float], ...]  # code, lat, lng in the staff's order


@dataclass(frozen=True)
class PartnerRun:
    """A store's batch waiting at the station, and when the van is due at the store."""

    store: str
    due_s: float | None  # None: the plan has no run there (the van goes at once)


@dataclass(frozen=True)
class CarrierParcel:
    tracking_number: str
    code: str
    transit_days: int


@dataclass
class Returned:
    """What a driver's return scans ended in."""

    back_to_merchant: int = 0
    another_try: int = 0
    codes: list[str] = field(default_factory=list)


class Network(Protocol):
    """What the simulated world does to doorstep. ``at`` is the simulated clock (see the
    module); every call is one transaction of the real services at that moment."""

    def network(self) -> NetworkView: ...

    def tick(self, at: float) -> Ticked:
        """The periodic jobs at ``at``: rounds closing, no-shows and late returns flagged."""
        ...

    def reoffer_no_shows(self, flagged_by: float, at: float) -> tuple[int, ...]:
        """The dispatcher re-offers the block of every no-show flagged by ``flagged_by`` and
        still open, as the console does; the blocks on offer again."""
        ...

    def place_order(self, request: OrderRequest, at: float) -> Placed: ...

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        """Plan every station's wave of ``day`` (a same-day dispatch moment when
        ``dispatch``), as `doorstep plan` does; the number of blocks on offer."""
        ...

    def end_of_day(self, day: int, at: float) -> int:
        """What nobody took or could plan today moves to tomorrow; how many parcels."""
        ...

    def add_driver(self, key: str, station: str, at: float) -> None: ...

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]: ...

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool: ...

    def held(self, driver: str, at: float) -> list[HeldBlock]: ...

    def forfeit(self, driver: str, block_id: int, at: float) -> bool: ...

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView: ...

    def scan(self, driver: str, block_id: int, codes: tuple[str, ...], at: float) -> None: ...

    def depart(self, driver: str, block_id: int, at: float) -> None: ...

    def deliver(self, driver: str, block_id: int, stop: StopView, at: float) -> None: ...

    def attempt(
        self, driver: str, block_id: int, stop: StopView, reason: str, at: float
    ) -> None: ...

    def return_parcels(self, driver: str, block_id: int, at: float) -> Returned: ...

    def partner_runs(self, day: int, at: float) -> list[PartnerRun]:
        """The stores whose batch of ``day`` has parcels still at the station, and when the
        van's run is due there (the plan's drop time)."""
        ...

    def partner_drop(self, store: str, at: float) -> ManifestView:
        """The van leaves the store's batch: what it dropped, in the staff route's order."""
        ...

    def partner_scan_in(self, store: str, codes: tuple[str, ...], at: float) -> None: ...

    def counter_hold(self, store: str, code: str, at: float) -> None:
        """A shopper who chose the counter: the parcel waits there, the shopper gets the code."""

    def partner_set_off(self, store: str, at: float) -> None:
        """The store's staff leave on their route: its shoppers are told when."""

    def partner_deliver(self, store: str, code: str, at: float) -> None: ...

    def partner_keep_at_counter(self, store: str, code: str, reason: str, at: float) -> None: ...

    def counter_pickup(self, store: str, code: str, at: float) -> None: ...

    def counter_expired(self, store: str, code: str, at: float) -> None: ...

    def carrier_labels(self, day: int, at: float) -> list[CarrierParcel]: ...

    def hand_to_carrier(self, numbers: tuple[str, ...], at: float) -> None: ...

    def carrier_delivered(self, numbers: tuple[str, ...], at: float) -> None: ...

    def open_parcels(self) -> int:
        """Parcels not yet in a terminal state."""
        ...
