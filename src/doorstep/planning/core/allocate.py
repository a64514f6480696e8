"""Where each package ended up, the explanation of each choice, and the plan's totals."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from doorstep.planning.core.model import (
    HOUR,
    MILE_M,
    Block,
    CarrierShipment,
    Channel,
    DayInput,
    Decision,
    PartnerManifest,
    Totals,
    UnassignedPackage,
    UnassignedReason,
)
from doorstep.planning.core.pricing import Option


@dataclass
class Allocation:
    """Each package goes to exactly one place; a second placement is a bug and raises."""

    placed: set[str] = field(default_factory=set)
    block: dict[str, str] = field(default_factory=dict)
    partner: dict[str, list[str]] = field(default_factory=dict)
    carrier: dict[str, Option] = field(default_factory=dict)
    unassigned: dict[str, UnassignedReason] = field(default_factory=dict)

    def _place(self, package: str) -> None:
        if package in self.placed:
            raise AssertionError(f"package {package} placed twice")
        self.placed.add(package)

    def to_block(self, package: str, block: str) -> None:
        self._place(package)
        self.block[package] = block

    def to_partner(self, package: str, store: str) -> None:
        self._place(package)
        self.partner.setdefault(store, []).append(package)

    def to_carrier(self, package: str, option: Option) -> None:
        self._place(package)
        self.carrier[package] = option

    def move_to_carrier(self, package: str, option: Option) -> None:
        """Take a package out of its partner batch and give it to a carrier."""
        for store, ids in list(self.partner.items()):
            if package in ids:
                ids.remove(package)
                if not ids:
                    del self.partner[store]
        self.carrier[package] = option

    def unassign(self, package: str, reason: UnassignedReason) -> None:
        self._place(package)
        self.unassigned[package] = reason

    def carrier_shipments(self) -> tuple[CarrierShipment, ...]:
        return tuple(
            CarrierShipment(pid, o.via, o.cost_cents) for pid, o in sorted(self.carrier.items())
        )

    def unassigned_list(self) -> tuple[UnassignedPackage, ...]:
        return tuple(UnassignedPackage(pid, r) for pid, r in sorted(self.unassigned.items()))


def _route_channel(day: DayInput, origin: str) -> Channel:
    return Channel.STATION_ROUTE if origin == day.station else Channel.STORE_RUN


def _driver_estimates(day: DayInput, blocks: tuple[Block, ...], ids: list[str]) -> dict[str, int]:
    """What a detour from the nearest planned stop would cost, for packages not driven."""
    stops = [(s.lat, s.lng) for b in blocks for s in b.stops]
    if not stops or not ids:
        return {}
    by_id = {p.id: p for p in day.packages}
    travel = day.travel.matrix(
        [(by_id[i].lat, by_id[i].lng) for i in ids], stops, depart_s=day.departure_s()
    )
    # There and back from the nearest stop.
    nearest = travel.distances.argmin(axis=1)
    rows = np.arange(len(ids))
    road = 2 * travel.distances[rows, nearest]
    seconds = 2 * travel.durations[rows, nearest]
    costs = day.costs
    cents = road / MILE_M * costs.driver_pay_per_mile_cents + (
        seconds + np.array([by_id[i].service_s for i in ids])
    ) * (costs.driver_pay_per_hour_cents / HOUR)
    return {pid: round(float(c)) for pid, c in zip(ids, cents, strict=True)}


def decisions(
    day: DayInput,
    blocks: tuple[Block, ...],
    manifests: tuple[PartnerManifest, ...],
    alloc: Allocation,
    marginal: dict[str, int],
    partner_price: dict[str, Option],
    carrier: dict[str, Option],
) -> tuple[Decision, ...]:
    """The chosen channel with its marginal cost and the runner-up's, per package."""
    unit = {m.store: m.cost_cents // max(1, len(m.packages)) for m in manifests}
    partner_of = {pid: store for store, ids in alloc.partner.items() for pid in ids}
    not_driven = [p.id for p in day.packages if p.id in alloc.carrier or p.id in partner_of]
    driving = _driver_estimates(day, blocks, not_driven)
    found = []
    for p in day.packages:
        others: list[tuple[Channel, int]] = []
        if p.id in alloc.block:
            channel: Channel | None = _route_channel(day, p.origin)
            cost = marginal.get(p.id, 0)
            if p.id in partner_price:
                others.append((Channel.PARTNER_STORE, partner_price[p.id].cost_cents))
            if p.id in carrier:
                others.append((Channel.CARRIER, carrier[p.id].cost_cents))
        elif p.id in partner_of:
            channel, cost = Channel.PARTNER_STORE, unit[partner_of[p.id]]
            if p.id in carrier:
                others.append((Channel.CARRIER, carrier[p.id].cost_cents))
            if p.id in driving:
                others.append((_route_channel(day, p.origin), driving[p.id]))
        elif p.id in alloc.carrier:
            channel, cost = Channel.CARRIER, alloc.carrier[p.id].cost_cents
            if p.id in partner_price:
                others.append((Channel.PARTNER_STORE, partner_price[p.id].cost_cents))
            if p.id in driving:
                others.append((_route_channel(day, p.origin), driving[p.id]))
        else:
            channel, cost = None, 0
        runner = min(others, key=lambda o: o[1], default=None)
        found.append(
            Decision(
                package=p.id,
                channel=channel,
                cost_cents=cost,
                runner_up=None if runner is None else runner[0],
                runner_up_cost_cents=None if runner is None else runner[1],
            )
        )
    return tuple(found)


def totals(
    day: DayInput,
    blocks: tuple[Block, ...],
    manifests: tuple[PartnerManifest, ...],
    alloc: Allocation,
) -> Totals:
    origin = {p.id: p.origin for p in day.packages}
    counts = dict.fromkeys(Channel, 0)
    for b in blocks:
        for pid in b.packages():
            counts[_route_channel(day, origin[pid])] += 1
    counts[Channel.PARTNER_STORE] = sum(len(m.packages) for m in manifests)
    counts[Channel.CARRIER] = len(alloc.carrier)
    planned = sum(counts.values())
    cost = (
        sum(b.pay_cents for b in blocks)
        + sum(m.cost_cents for m in manifests)
        + sum(o.cost_cents for o in alloc.carrier.values())
    )
    return Totals(
        cost_cents=cost,
        packages=len(day.packages),
        planned=planned,
        cost_per_package_cents=cost // max(1, planned),
        share=tuple((c, counts[c] / planned if planned else 0.0) for c in Channel),
        distance_m=sum(b.distance_m for b in blocks) + sum(m.route_distance_m for m in manifests),
    )
