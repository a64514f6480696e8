"""The simulated world on its own, against a port that records what it is asked: seeded draws,
destinations where the configuration says, a day that ends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from doorstep.geo import haversine_m
from doorstep.sim import SimConfig, Simulation
from doorstep.sim.port import (
    DAY_S,
    Area,
    BlockOffer,
    CarrierParcel,
    Catalog,
    HeldBlock,
    ManifestView,
    NetworkView,
    OrderRequest,
    PartnerRun,
    Placed,
    Returned,
    RouteView,
    Site,
    StopView,
    Ticked,
)

NETWORK = NetworkView(
    sites=(
        Site("S1", "station", 33.30, -111.90),
        Site("P1", "partner_store", 33.10, -111.60, radius_m=16_000),
    ),
    areas=(Area("A1", "S1", 33.25, 33.35, -111.95, -111.85),),
    catalogs=(Catalog("Shop", ("A", "B", "C")),),
)


class RecordingPort:
    """Takes every order, plans nothing: the world's shoppers alone."""

    def __init__(self) -> None:
        self.orders: list[tuple[float, OrderRequest]] = []
        self.plans: list[tuple[int, float, bool]] = []
        self.partner: list[tuple[str, object, float]] = []

    def network(self) -> NetworkView:
        return NETWORK

    def tick(self, at: float) -> Ticked:
        return Ticked()

    def reoffer_no_shows(self, flagged_by: float, at: float) -> tuple[int, ...]:
        return ()

    def place_order(self, request: OrderRequest, at: float) -> Placed:
        self.orders.append((at, request))
        return Placed(f"o{request.number}", request.speeds[0], (request.speeds[0],), ())

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        self.plans.append((day, at, dispatch))
        return 0

    def end_of_day(self, day: int, at: float) -> int:
        return 0

    def add_driver(self, key: str, station: str, at: float) -> None:
        pass

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        return []

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        return False

    def held(self, driver: str, at: float) -> list[HeldBlock]:
        return []

    def forfeit(self, driver: str, block_id: int, at: float) -> bool:
        return False

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView:
        raise AssertionError("no block is ever held")

    def scan(self, driver: str, block_id: int, codes: tuple[str, ...], at: float) -> None:
        pass

    def depart(self, driver: str, block_id: int, at: float) -> None:
        pass

    def deliver(self, driver: str, block_id: int, stop: StopView, at: float) -> None:
        pass

    def attempt(self, driver: str, block_id: int, stop: StopView, reason: str, at: float) -> None:
        pass

    def return_parcels(self, driver: str, block_id: int, at: float) -> Returned:
        return Returned()

    def partner_runs(self, day: int, at: float) -> list[PartnerRun]:
        return []

    def partner_drop(self, store: str, at: float) -> ManifestView:
        return ManifestView(store, 0.0, 0.0, ())

    def partner_scan_in(self, store: str, codes: tuple[str, ...], at: float) -> None:
        self.partner.append(("scan_in", codes, at))

    def counter_hold(self, store: str, code: str, at: float) -> None:
        self.partner.append(("hold", code, at))

    def partner_set_off(self, store: str, at: float) -> None:
        self.partner.append(("set_off", (), at))

    def partner_deliver(self, store: str, code: str, at: float) -> None:
        self.partner.append(("deliver", code, at))

    def partner_keep_at_counter(self, store: str, code: str, reason: str, at: float) -> None:
        self.partner.append(("keep", code, at))

    def counter_pickup(self, store: str, code: str, at: float) -> None:
        self.partner.append(("pickup", code, at))

    def counter_expired(self, store: str, code: str, at: float) -> None:
        self.partner.append(("expired", code, at))

    def carrier_labels(self, day: int, at: float) -> list[CarrierParcel]:
        return []

    def hand_to_carrier(self, numbers: tuple[str, ...], at: float) -> None:
        pass

    def carrier_delivered(self, numbers: tuple[str, ...], at: float) -> None:
        pass

    def open_parcels(self) -> int:
        return 0


def run(config: SimConfig) -> RecordingPort:
    port = RecordingPort()
    Simulation(port, config).run()
    return port


def test_the_same_seed_draws_the_same_day() -> None:
    first, again = run(SimConfig(orders=80, seed=7)), run(SimConfig(orders=80, seed=7))
    assert first.orders == again.orders
    assert first.plans == again.plans
    other = run(SimConfig(orders=80, seed=8))
    assert other.orders != first.orders


def test_shoppers_follow_the_hourly_profile_and_the_destinations_mix() -> None:
    port = run(SimConfig(orders=400, seed=1, beyond_reach_share=0.1, near_partner_share=0.2))
    hours = [at // 3600 for at, _ in port.orders]
    assert len(hours) == 400
    assert min(hours) >= 6
    assert max(hours) <= 22
    assert hours == sorted(hours)
    area, partner = NETWORK.areas[0], NETWORK.sites[1]
    inside = beyond = near = 0
    for _, order in port.orders:
        in_area = area.min_lat <= order.lat <= area.max_lat
        in_area = in_area and area.min_lng <= order.lng <= area.max_lng
        by_partner = haversine_m(order.lat, order.lng, partner.lat, partner.lng) <= 16_000
        inside += in_area
        near += by_partner and not in_area
        beyond += not in_area and not by_partner
    assert 20 <= beyond <= 70  # about 10 %
    assert 50 <= near <= 120  # about 20 %
    # Only a shopper near a partner store may choose its counter.
    assert all(
        haversine_m(o.lat, o.lng, partner.lat, partner.lng) <= 16_000
        for _, o in port.orders
        if o.counter_pickup
    )
    assert any(o.counter_pickup for _, o in port.orders)


def test_the_planner_runs_at_the_morning_plan_and_each_dispatch_moment() -> None:
    config = SimConfig(orders=5, seed=1, dispatch_hours=(9.0, 12.0))
    plans = run(config).plans
    day0 = [(at / 3600, dispatch) for day, at, dispatch in plans if at < 86_400 and day == 0]
    assert day0 == [(6.0, False), (9.0, True), (12.0, True), (15.25, False)]
    assert {day for day, _, _ in plans} >= {0, 1, 2}  # tomorrow's waves planned ahead


def test_a_setting_is_changed_from_text() -> None:
    config = SimConfig()
    assert config.with_value("orders", "50").orders == 50
    assert config.with_value("no_show_rate", "0.1").no_show_rate == pytest.approx(0.1)
    assert config.with_value("dispatch_hours", "9,11").dispatch_hours == (9.0, 11.0)
    assert config.with_value("catchments", "33.1,-111.6,8000").catchments == (
        (33.1, -111.6, 8000.0),
    )
    assert config.with_value("demand_excludes", "P1,P2").demand_excludes == ("P1", "P2")
    assert replace(config, seed=2).seed == 2
    with pytest.raises(KeyError):
        config.with_value("no_such_setting", "1")


class StorePort(RecordingPort):
    """One batch of three parcels for P1 on the first day, the van due at 09:30."""

    def partner_runs(self, day: int, at: float) -> list[PartnerRun]:
        return [PartnerRun("P1", 9.5 * 3600)] if day == 0 and not self.partner else []

    def partner_drop(self, store: str, at: float) -> ManifestView:
        self.partner.append(("drop", store, at))
        parcels = tuple((f"c{i}", 33.10 + 0.01 * i, -111.60) for i in range(3))
        return ManifestView(store, 33.10, -111.60, parcels)

    def open_parcels(self) -> int:
        """The batch's parcels not yet delivered, collected or sent back."""
        ended = {"deliver", "pickup", "expired"}
        return 3 - sum(1 for kind, _, _ in self.partner if kind in ended)


def test_the_van_drops_at_its_time_the_clerk_scans_in_and_the_counter_waits() -> None:
    config = SimConfig(orders=1, seed=1, partner_failure_rate=1.0, counter_days=3)
    port = StorePort()
    Simulation(port, config).run()
    kinds = [kind for kind, _, _ in port.partner]
    assert kinds[:2] == ["drop", "scan_in"]
    drop_at, scan_at = port.partner[0][2], port.partner[1][2]
    assert drop_at == 9.5 * 3600
    assert drop_at < scan_at <= drop_at + config.scan_in_within_s
    assert port.partner[1][1] == ("c0", "c1", "c2")
    # Every door failed: each parcel waits at the counter, then is collected or goes back
    # after the counter's days (never both, never twice).
    assert kinds.count("keep") == 3
    ends = [(kind, code) for kind, code, _ in port.partner if kind in ("pickup", "expired")]
    assert sorted(str(code) for _, code in ends) == ["c0", "c1", "c2"]
    for kind, _, at in port.partner:
        if kind == "expired":
            assert at >= (config.counter_days + 1) * 86_400


def test_shoppers_leave_out_a_store_the_what_if_added() -> None:
    config = SimConfig(orders=300, seed=1, near_partner_share=0.5, beyond_reach_share=0.0)
    partner = NETWORK.sites[1]
    near = [
        o
        for _, o in run(replace(config, demand_excludes=("P1",))).orders
        if haversine_m(o.lat, o.lng, partner.lat, partner.lng) <= 16_000
    ]
    assert near == []
    assert any(
        haversine_m(o.lat, o.lng, partner.lat, partner.lng) <= 16_000 for _, o in run(config).orders
    )


def test_a_catchment_in_a_stores_place_draws_the_same_shoppers_as_the_store() -> None:
    """A what-if's candidate store: its place's shoppers are drawn alike in both arms."""
    config = SimConfig(orders=200, seed=2, near_partner_share=0.5)
    partner = NETWORK.sites[1]
    stand_in = replace(
        config,
        demand_excludes=("P1",),
        catchments=((partner.lat, partner.lng, partner.radius_m),),
    )
    assert run(stand_in).orders == run(config).orders


def _drivers_at_six(count: int) -> SimConfig:
    """One shopper and ``count`` drivers online at 06:xx who always show up on time."""
    hours = tuple(count if hour == 6 else 0 for hour in range(24))
    return SimConfig(
        orders=1, seed=3, drivers_by_hour=hours, forfeit_rate=0, no_show_rate=0, late_rate=0
    )


class RoundPort(RecordingPort):
    """One block on offer from the morning plan; the round closes at 08:00 and gives it to the
    one driver interested. Records each look at the held blocks and the check-in."""

    CLOSES_S = 8 * 3600.0
    STARTS_S = 11 * 3600.0

    def __init__(self) -> None:
        super().__init__()
        self.interested: str | None = None
        self.winner: str | None = None
        self.done = False
        self.ticks = 0
        self.looks: list[tuple[float, int]] = []  # when, blocks held
        self.checked_in: list[float] = []

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        return 1 if day == 0 and at == 6 * 3600 else 0

    def tick(self, at: float) -> Ticked:
        self.ticks += 1
        if self.interested and self.winner is None and at >= self.CLOSES_S:
            self.winner = self.interested
            return Ticked(winners=(self.winner,))
        return Ticked()

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        if self.interested is not None:
            return []
        return [BlockOffer(1, 1, self.STARTS_S, self.STARTS_S + 7200, 100_000, 10_000)]

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        self.interested = driver  # interest only: the round decides
        return True

    def held(self, driver: str, at: float) -> list[HeldBlock]:
        mine = driver == self.winner and not self.done
        self.looks.append((at, int(mine)))
        if not mine:
            return []
        return [HeldBlock(1, self.STARTS_S, self.STARTS_S + 7200, self.STARTS_S, 100_000)]

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView:
        self.checked_in.append(at)
        self.done = True
        return RouteView(block_id, 33.30, -111.90, (), ())


def test_a_driver_looks_at_its_held_blocks_when_a_round_gave_it_one_not_at_every_look() -> None:
    # One driver, online at 06:xx: it states interest, the 08:00 close gives it the block.
    config = _drivers_at_six(1)
    port = RoundPort()
    Simulation(port, config).run()
    assert port.winner is not None
    # It looked after stating interest (nothing yet), at its first look after the close (the
    # block), and once after the block was done: not at each of its ten-minute looks between.
    assert [held for _, held in port.looks] == [0, 1, 0]
    award_look = port.looks[1][0]
    assert RoundPort.CLOSES_S <= award_look < RoundPort.CLOSES_S + 2 * config.look_every_s
    assert port.ticks > 20
    assert len(port.checked_in) == 1
    assert port.checked_in[0] <= RoundPort.STARTS_S


class SecondRoundPort(RecordingPort):
    """One block from the morning plan that nobody is shown in its first round (it went to
    drivers outside the world); the round closes at 08:00 without a winner and the block
    goes to everyone, first come."""

    CLOSES_S = 8 * 3600.0
    STARTS_S = 11 * 3600.0

    def __init__(self) -> None:
        super().__init__()
        self.reopened = False
        self.taken: list[tuple[str, float]] = []

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        return 1 if day == 0 and at == 6 * 3600 else 0

    def tick(self, at: float) -> Ticked:
        if at >= self.CLOSES_S and not self.reopened:
            self.reopened = True
            return Ticked(reopened=True)
        return Ticked()

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        if not self.reopened or self.taken:
            return []
        return [BlockOffer(1, 1, self.STARTS_S, self.STARTS_S + 7200, 100_000, 10_000)]

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        self.taken.append((driver, at))
        return True


def test_a_block_a_round_left_without_a_winner_is_looked_at_again() -> None:
    # Two drivers online at 06:xx look and see nothing; the 08:00 close puts the block on
    # offer to all, and one of them takes it at its next look (a driver's app refreshes).
    config = _drivers_at_six(2)
    port = SecondRoundPort()
    Simulation(port, config).run()
    [(_, at)] = port.taken
    assert SecondRoundPort.CLOSES_S <= at < SecondRoundPort.CLOSES_S + 2 * config.look_every_s


class OneDriverBarredPort(RecordingPort):
    """One block from the morning plan, taken at once, that the first driver to look may
    not take (its hours, its car, an instant offer while it is far): it lists nothing, the
    others the block."""

    STARTS_S = 11 * 3600.0

    def __init__(self) -> None:
        super().__init__()
        self.barred: str | None = None
        self.looked: list[str] = []
        self.taken: list[str] = []

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        return 1 if day == 0 and at == 6 * 3600 else 0

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        self.looked.append(driver)
        self.barred = self.barred or driver
        if driver == self.barred or self.taken:
            return []
        return [BlockOffer(1, 1, self.STARTS_S, self.STARTS_S + 7200, 100_000, 10_000)]

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        self.taken.append(driver)
        return True


def test_one_drivers_empty_listing_does_not_hide_the_block_from_the_others() -> None:
    # Offers are a driver's own: one who may not take the block sees none, which says
    # nothing of what the others see. Both look, and the one who may takes it.
    port = OneDriverBarredPort()
    Simulation(port, _drivers_at_six(2)).run()
    assert len(set(port.looked)) == 2
    assert len(port.taken) == 1
    assert port.taken[0] != port.barred


class NextDayRoundPort(RoundPort):
    """Day 0: an evening block, taken at once, whose check-in is at 07:00 the next morning.
    Day 1: a block in a round that closes at 09:00 (`RoundPort.tick`), which the driver,
    online again at 06:xx, states interest in while the first block is still ahead of it."""

    FIRST_STARTS_S = DAY_S + 7 * 3600.0
    SECOND_STARTS_S = DAY_S + 14 * 3600.0
    CLOSES_S = DAY_S + 9 * 3600.0

    def __init__(self) -> None:
        super().__init__()
        self.taken = False
        self.blocks_checked_in: list[int] = []

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        return 1 if day in (0, 1) and not dispatch else 0

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        if not self.taken:
            first = self.FIRST_STARTS_S
            return [BlockOffer(1, 1, first, first + 3600, 100_000, 10_000)]
        if at >= DAY_S and self.interested is None:
            second = self.SECOND_STARTS_S
            return [BlockOffer(2, 2, second, second + 3600, 100_000, 10_000)]
        return []

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        if offer.block_id == 1:
            self.taken = True  # first come: the driver's at once
        else:
            self.interested = driver  # a round: the close decides
        return True

    def held(self, driver: str, at: float) -> list[HeldBlock]:
        blocks = []
        if self.taken and 1 not in self.blocks_checked_in:
            first = self.FIRST_STARTS_S
            blocks.append(HeldBlock(1, first, first + 3600, first, 100_000))
        if driver == self.winner and 2 not in self.blocks_checked_in:
            second = self.SECOND_STARTS_S
            blocks.append(HeldBlock(2, second, second + 3600, second, 100_000))
        return blocks

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView:
        self.blocks_checked_in.append(block_id)
        return RouteView(block_id, 33.30, -111.90, (), ())


def test_a_driver_online_again_while_a_block_is_ahead_keeps_the_round_it_wins() -> None:
    # A driver's next day starts while yesterday's block is still ahead of it: the world
    # keeps one driver, not two at once (the second's interest was forgotten when the
    # first finished its block, and the block it won was never driven).
    config = _drivers_at_six(1)
    port = NextDayRoundPort()
    Simulation(port, config).run()
    assert port.winner is not None
    assert port.blocks_checked_in == [1, 2]


class RoundRightAfterABlockPort(NextDayRoundPort):
    """Block 1 from the morning plan, taken at once, at 09:00 (its route empty: it ends as
    the driver checks in). At 08:00 a round puts block 2 on offer (a new generation); it
    closes at 09:30 and goes to the driver interested."""

    FIRST_STARTS_S = 9 * 3600.0
    REOPENS_S = 8 * 3600.0
    CLOSES_S = 9.5 * 3600.0
    SECOND_STARTS_S = 14 * 3600.0

    def __init__(self) -> None:
        super().__init__()
        self.reopened = False
        self.interest_at: float | None = None

    plan = RoundPort.plan  # the morning plan of day 0 only (not the next day's too)

    def tick(self, at: float) -> Ticked:
        if at >= self.REOPENS_S and not self.reopened:
            self.reopened = True
            return Ticked(reopened=True)
        return super().tick(at)

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        if not self.taken:
            return super().offers(driver, at, lat, lng)  # block 1
        if self.reopened and self.interested is None:
            second = self.SECOND_STARTS_S
            return [BlockOffer(2, 2, second, second + 3600, 100_000, 10_000)]
        return []

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        if offer.block_id == 2:
            self.interest_at = at
        return super().accept(driver, offer, at)


def test_interest_stated_the_moment_a_block_ends_is_kept_until_the_round_closes() -> None:
    # The driver's block ends and, in the same instant, it states interest in a round: it
    # waits for the close and drives the block it wins (it took "worked since the last
    # interest" for "nothing pending" and never looked again; the block was never driven).
    port = RoundRightAfterABlockPort()
    Simulation(port, _drivers_at_six(1)).run()
    first = RoundRightAfterABlockPort.FIRST_STARTS_S
    assert port.interest_at is not None
    assert port.interest_at >= first - 300
    assert port.interest_at <= first
    assert port.winner is not None
    assert port.blocks_checked_in == [1, 2]


class NoShowPort(RecordingPort):
    """One block, taken at once by the first driver to look, who turns up only after the
    no-show flag (half an hour after its 11:00 slot). The dispatcher re-offers it, 40
    minutes later, to everyone but that driver (the real offers forfeit theirs)."""

    STARTS_S = 11 * 3600.0
    MOVED_S = 12 * 3600.0 + 10 * 60
    FLAGGED_S = STARTS_S + 1800

    def __init__(self) -> None:
        super().__init__()
        self.holder: str | None = None
        self.no_show: str | None = None
        self.reoffered_at: float | None = None
        self.checked_in: list[tuple[str, float]] = []

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        return 1 if day == 0 and at == 6 * 3600 else 0

    def _starts(self) -> float:
        return self.MOVED_S if self.reoffered_at is not None else self.STARTS_S

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        if self.holder is not None or driver == self.no_show:
            return []
        starts = self._starts()
        return [BlockOffer(1, 1, starts, starts + 7200, 100_000, 10_000)]

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        self.holder = driver
        return True

    def held(self, driver: str, at: float) -> list[HeldBlock]:
        if driver != self.holder:
            return []
        starts = self._starts()
        return [HeldBlock(1, starts, starts + 7200, starts, 100_000)]

    def reoffer_no_shows(self, flagged_by: float, at: float) -> tuple[int, ...]:
        if self.reoffered_at is None and self.holder is not None and flagged_by >= self.FLAGGED_S:
            self.reoffered_at = at
            self.no_show, self.holder = self.holder, None
            return (1,)
        return ()

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView:
        assert driver == self.holder, f"{driver} checks in a block it does not hold"
        self.checked_in.append((driver, at))
        return RouteView(block_id, 33.30, -111.90, (), ())


def test_a_no_shows_block_is_re_offered_and_the_late_driver_finds_it_gone() -> None:
    config = replace(
        _drivers_at_six(2), no_show_rate=1.0, no_show_never_share=0.0, online_s=8 * 3600
    )
    port = NoShowPort()
    log = Simulation(port, config).run()
    assert port.reoffered_at == NoShowPort.FLAGGED_S + config.reoffer_no_shows_after_s
    assert log.no_show_blocks_reoffered == 1
    assert log.turned_away == 1  # the first holder came after the re-offer: nothing to drive
    [(driver, _)] = port.checked_in  # the other driver took it again, and drove it
    assert driver != port.no_show


def test_a_block_whose_driver_never_comes_is_driven_by_another() -> None:
    config = replace(
        _drivers_at_six(2), no_show_rate=1.0, no_show_never_share=1.0, online_s=8 * 3600
    )
    port = NoShowPort()
    log = Simulation(port, config).run()
    assert log.no_show_blocks_reoffered == 1
    assert log.turned_away == 0
    assert port.checked_in == []  # the second driver never came either: no more re-offers
    assert port.holder is not None
    assert port.holder != port.no_show


def test_without_a_dispatcher_the_no_show_drives_its_block_late() -> None:
    config = replace(
        _drivers_at_six(2),
        no_show_rate=1.0,
        no_show_never_share=0.0,
        reoffer_no_shows_after_s=-1,
    )
    port = NoShowPort()
    log = Simulation(port, config).run()
    assert port.reoffered_at is None
    assert log.turned_away == 0
    [(driver, at)] = port.checked_in
    assert driver == port.holder
    assert at > NoShowPort.FLAGGED_S


class DoorsPort(NoShowPort):
    """The no-show port's one block, with three doors near the station; records what happens
    at each door and whether the driver drove parcels back."""

    def __init__(self) -> None:
        super().__init__()
        self.doors: list[tuple[str, int, float]] = []
        self.returned = 0

    def check_in(self, driver: str, block_id: int, at: float) -> RouteView:
        super().check_in(driver, block_id, at)
        stops = tuple(
            StopView(n, "delivery", 33.30 + 0.005 * n, -111.90, None, 60, (f"p{n}",))
            for n in (1, 2, 3)
        )
        return RouteView(block_id, 33.30, -111.90, ("p1", "p2", "p3"), stops)

    def deliver(self, driver: str, block_id: int, stop: StopView, at: float) -> None:
        self.doors.append(("delivered", stop.stop_id, at))

    def attempt(self, driver: str, block_id: int, stop: StopView, reason: str, at: float) -> None:
        self.doors.append((reason, stop.stop_id, at))

    def return_parcels(self, driver: str, block_id: int, at: float) -> Returned:
        self.returned += 1
        return Returned()


def _every_door_unanswered(*, home_again_share: float = 0.4, within_m: float = 5000) -> SimConfig:
    return replace(
        _drivers_at_six(1),
        failures=(("recipient_unavailable", 1.0),),
        home_again_share=home_again_share,
        try_again_within_m=within_m,
    )


def test_a_door_nobody_answered_is_tried_again_after_the_last_stop() -> None:
    port = DoorsPort()
    log = Simulation(port, _every_door_unanswered(home_again_share=1.0)).run()
    outcomes = [(what, stop) for what, stop, _ in port.doors]
    assert outcomes == [
        ("recipient_unavailable", 1),
        ("recipient_unavailable", 2),
        ("recipient_unavailable", 3),
        ("delivered", 1),
        ("delivered", 2),
        ("delivered", 3),
    ]
    times = [at for _, _, at in port.doors]
    assert times == sorted(times)
    assert (log.tried_again, log.delivered_on_another_try) == (3, 3)
    assert port.returned == 0  # nothing left in the car: no drive back


def test_nobody_in_the_second_time_either_and_the_parcels_go_back() -> None:
    port = DoorsPort()
    log = Simulation(port, _every_door_unanswered(home_again_share=0.0)).run()
    assert [what for what, _, _ in port.doors] == ["recipient_unavailable"] * 3
    assert (log.tried_again, log.delivered_on_another_try) == (3, 0)
    assert port.returned == 1


def test_a_door_too_far_from_the_last_stop_is_not_tried_again() -> None:
    port = DoorsPort()
    log = Simulation(port, _every_door_unanswered(within_m=0.0)).run()
    assert log.tried_again == 0
    assert port.returned == 1


class TodayOrTomorrowPort(RecordingPort):
    """Two blocks on offer from the morning plan: one this afternoon, first come, and one
    tomorrow that pays more an hour. Records which one each driver takes."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[tuple[str, int]] = []

    def plan(self, day: int, at: float, *, dispatch: bool) -> int:
        return 1 if day == 0 and at == 6 * 3600 else 0

    def offers(self, driver: str, at: float, lat: float, lng: float) -> list[BlockOffer]:
        today = 8 * 3600.0
        tomorrow = DAY_S + 10 * 3600.0
        return [
            BlockOffer(1, 1, today, today + 7200, 5_000, 1_000),
            BlockOffer(2, 2, tomorrow, tomorrow + 7200, 6_000, 1_000),
        ]

    def accept(self, driver: str, offer: BlockOffer, at: float) -> bool:
        self.taken.append((driver, offer.block_id))
        return False  # nobody gets it: each driver chooses once per look, and we count


def test_a_driver_online_for_work_takes_todays_block_before_a_better_paid_one_tomorrow() -> None:
    port = TodayOrTomorrowPort()
    Simulation(port, _drivers_at_six(3)).run()
    assert port.taken
    assert {block for _, block in port.taken} == {1}
