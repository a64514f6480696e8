"""How the shopper's page and messages name states, reasons and times (pure)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from doorstep.orders.lifecycle import PackageState

S = PackageState

STEP_LABELS: dict[PackageState, str] = {
    S.CREATED: "Order confirmed",
    S.READY_FOR_PICKUP: "Packed",
    S.ASSIGNED: "Planned for delivery",
    S.PICKED_UP: "On its way",
    S.OUT_FOR_DELIVERY: "Out for delivery",
    S.DELIVERY_ATTEMPTED: "Delivery attempted",
    S.AT_PARTNER_STORE: "At the store",
    S.HANDED_TO_CARRIER: "With the carrier",
    S.RETURNED: "Back at the station",
    S.MISSING: "Held up: we are looking into it",
    S.DELIVERED: "Delivered",
    S.PICKED_UP_AT_COUNTER: "Collected at the counter",
    S.RETURNED_TO_MERCHANT: "Returned to the seller",
    S.CANCELLED: "Cancelled",
    S.LOST: "Lost: the seller has been told",
}

HEADLINES: dict[PackageState, str] = {
    S.CREATED: "Order confirmed",
    S.READY_FOR_PICKUP: "Packed and waiting for its driver",
    S.ASSIGNED: "Planned for delivery",
    S.PICKED_UP: "On its way",
    S.OUT_FOR_DELIVERY: "Out for delivery",
    S.DELIVERY_ATTEMPTED: "We could not deliver it",
    S.AT_PARTNER_STORE: "Ready to collect at the store",
    S.HANDED_TO_CARRIER: "With the carrier",
    S.RETURNED: "Back at the station",
    S.MISSING: "Held up",
    S.DELIVERED: "Delivered",
    S.PICKED_UP_AT_COUNTER: "Collected",
    S.RETURNED_TO_MERCHANT: "Returned to the seller",
    S.CANCELLED: "Cancelled",
    S.LOST: "Lost",
}

ATTEMPT_REASONS: dict[str, str] = {
    "no_access": "the driver could not get to the door",
    "recipient_unavailable": "nobody was there to take it",
    "unsafe_location": "there was no safe place to leave it",
    "damaged": "it was damaged on the way",
    "wrong_address": "the address could not be found",
    "business_closed": "the business was closed",
}

# Steps whose repeats say nothing new to a shopper (a re-plan goes back through them).
ONCE = frozenset({S.CREATED, S.READY_FOR_PICKUP, S.ASSIGNED, S.PICKED_UP})
# Where the instructions can still reach the driver's stop list before the doors begin.
INSTRUCTIONS_OPEN = frozenset({S.CREATED, S.READY_FOR_PICKUP, S.ASSIGNED, S.PICKED_UP})


def instructions_open(state: PackageState, *, at_counter: bool) -> bool:
    """Whether a change of the delivery instructions still reaches whoever takes the parcel
    to the door: the driver's stop list before the doors begin, or a partner store's staff
    route (it reads them when it delivers) for a parcel at the store that is not held at its
    counter for the shopper to collect."""
    return state in INSTRUCTIONS_OPEN or (state is S.AT_PARTNER_STORE and not at_counter)


def attempt_reason(reason: str | None) -> str:
    return ATTEMPT_REASONS.get(reason or "", "the driver could not deliver it")


def attempt_next_step(attempts: int, max_attempts: int) -> str:
    if attempts >= max_attempts:
        return "It goes back to the seller, who will be in touch."
    return "We will try again on the next delivery day; you will hear from us when it sets off."


def clock(moment: datetime, tz: ZoneInfo) -> str:
    """``2:10 pm``."""
    local = moment.astimezone(tz)
    return f"{local.strftime('%I').lstrip('0')}:{local:%M} {local.strftime('%p').lower()}"


def moment_text(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 24 Nov, 2:10 pm``."""
    return f"{moment.astimezone(tz):%a %d %b}, {clock(moment, tz)}"


def day_text(day: date) -> str:
    """``Thu 26 Nov``."""
    return f"{day:%a %d %b}"


def window_text(earliest: datetime, latest: datetime, tz: ZoneInfo) -> str:
    """``11:05-11:35 am`` (ASCII, so it fits an SMS)."""
    start, end = clock(earliest, tz), clock(latest, tz)
    if start[-2:] == end[-2:]:
        start = start[:-3]
    return f"{start}-{end}"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def hours_text(from_hour: int, until_hour: int) -> str:
    """ "between 9 am and 9 pm" (whole hours of the day; 24 is midnight)."""
    return f"between {_hour(from_hour)} and {_hour(until_hour)}"


def _hour(hour: int) -> str:
    if hour % 24 == 0:
        return "midnight"
    if hour == 12:
        return "noon"
    return f"{hour % 12} {'am' if hour < 12 else 'pm'}"
