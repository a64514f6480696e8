"""How blocks are offered: the network's settings for offers, rounds, check-in and forfeits,
as one value the services take (built from `Settings`, or given by a test or the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from doorstep.models import OfferMode
from doorstep.settings import Settings

#: A driver counts as online when the app reported a position this recently.
ONLINE_WITHIN = timedelta(minutes=10)
#: A block given back this close to its start goes first come: no time for a round.
FIRST_COME_WITHIN = timedelta(hours=2)
#: Blocks starting further ahead than this are not listed yet.
LISTING_HORIZON = timedelta(days=7)
#: The IRS business rate is per mile; distances are stored in metres.
METRES_PER_MILE = 1609.344


@dataclass(frozen=True)
class OfferPolicy:
    """The defaults are `Settings`' defaults (a test keeps them equal)."""

    mode: OfferMode = OfferMode.ROUNDS  # how a planned block goes on offer (not instant)
    round_minutes: int = 30
    rounds: int = 2  # rounds before a block nobody got goes first come
    slot_minutes: int = 5  # staggered check-in
    doors: int = 4  # drivers per arrival slot and start place
    vehicle_cost_cents_per_mile: float = 72.5
    instant_km: float = 15.0
    instant_minutes: int = 10
    forfeit_cutoff_minutes: int = 45
    # A block nobody has taken, on offer this long and starting this soon, pays this much
    # more (`drivers.boost`); 0 never raises it.
    boost_percent: int = 20
    boost_lead_minutes: int = 90
    boost_after_minutes: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> OfferPolicy:
        return cls(
            mode=OfferMode(settings.offer_mode),
            round_minutes=settings.offer_round_minutes,
            rounds=settings.offer_rounds,
            slot_minutes=settings.checkin_slot_minutes,
            doors=settings.checkin_doors,
            vehicle_cost_cents_per_mile=settings.vehicle_cost_cents_per_mile,
            instant_km=settings.instant_offer_km,
            instant_minutes=settings.instant_offer_minutes,
            forfeit_cutoff_minutes=settings.forfeit_cutoff_minutes,
            boost_percent=settings.offer_boost_percent,
            boost_lead_minutes=settings.offer_boost_lead_minutes,
            boost_after_minutes=settings.offer_boost_after_minutes,
        )

    @property
    def round_length(self) -> timedelta:
        return timedelta(minutes=self.round_minutes)

    def round_ends_in_time(self, now: datetime, arrival_opens_at: datetime) -> bool:
        """Whether a round started ``now`` closes by the block's arrival slot: a winner
        known later could not be at the start in time, so such a block goes first come."""
        return now + self.round_length <= arrival_opens_at

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    @property
    def instant_expiry(self) -> timedelta:
        return timedelta(minutes=self.instant_minutes)

    @property
    def forfeit_cutoff(self) -> timedelta:
        return timedelta(minutes=self.forfeit_cutoff_minutes)

    @property
    def boost_lead(self) -> timedelta:
        return timedelta(minutes=self.boost_lead_minutes)

    @property
    def boost_after(self) -> timedelta:
        return timedelta(minutes=self.boost_after_minutes)
