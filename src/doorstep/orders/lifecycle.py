"""The package state machine: every state a package can be in and every move between them.

This module is the single authority on package states. It is pure (no database): the service
that persists a transition (`doorstep.orders.transitions`) asks it first, and the tables store its
`PackageState` values.

The happy paths::

    created ─► ready_for_pickup ─► assigned ─► picked_up ─► out_for_delivery ─► delivered
                                      │            └─► at_partner_store ─► out_for_delivery
                                      │                       └─► picked_up_at_counter
                                      └─► handed_to_carrier ─► delivered
"""

from __future__ import annotations

from enum import StrEnum

from doorstep.errors import DomainError


class PackageState(StrEnum):
    CREATED = "created"  # order accepted, package not yet packed at its node
    READY_FOR_PICKUP = "ready_for_pickup"  # packed at its node, waiting for a plan
    ASSIGNED = "assigned"  # planned onto a block, a partner manifest or a carrier shipment
    PICKED_UP = "picked_up"  # scanned by a driver (or the middle-mile run) at its node
    OUT_FOR_DELIVERY = "out_for_delivery"  # on the vehicle of the route that delivers it
    DELIVERY_ATTEMPTED = "delivery_attempted"  # the driver could not deliver (reason in event)
    AT_PARTNER_STORE = "at_partner_store"  # scanned in at a partner store
    HANDED_TO_CARRIER = "handed_to_carrier"  # the national carrier has it
    RETURNED = "returned"  # back at a station after a failed or abandoned delivery
    MISSING = "missing"  # not found where it should be (pickup, scan-in): an operator looks
    DELIVERED = "delivered"
    PICKED_UP_AT_COUNTER = "picked_up_at_counter"  # the customer collected it with the code
    RETURNED_TO_MERCHANT = "returned_to_merchant"
    CANCELLED = "cancelled"
    LOST = "lost"  # declared lost by an operator after an investigation


S = PackageState

TRANSITIONS: dict[PackageState, frozenset[PackageState]] = {
    S.CREATED: frozenset({S.READY_FOR_PICKUP, S.CANCELLED, S.LOST}),
    S.READY_FOR_PICKUP: frozenset({S.ASSIGNED, S.CANCELLED, S.LOST}),
    # Back to ready_for_pickup when a plan is redone or a driver forfeits the block.
    S.ASSIGNED: frozenset(
        {S.READY_FOR_PICKUP, S.PICKED_UP, S.HANDED_TO_CARRIER, S.MISSING, S.CANCELLED, S.LOST}
    ),
    S.PICKED_UP: frozenset(
        {
            S.OUT_FOR_DELIVERY,
            S.AT_PARTNER_STORE,
            S.HANDED_TO_CARRIER,
            S.RETURNED,
            S.MISSING,
            S.LOST,
        }
    ),
    S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.DELIVERY_ATTEMPTED, S.LOST}),
    # After a failed attempt: another try the same day, back to the station, or (partner
    # stores) kept at the counter for the customer.
    S.DELIVERY_ATTEMPTED: frozenset({S.OUT_FOR_DELIVERY, S.RETURNED, S.AT_PARTNER_STORE, S.LOST}),
    # Parcels not collected within 14 days go back: the run back picks them up at the store
    # (picked_up), the station receives them (returned).
    S.AT_PARTNER_STORE: frozenset(
        {S.OUT_FOR_DELIVERY, S.PICKED_UP_AT_COUNTER, S.PICKED_UP, S.RETURNED, S.LOST}
    ),
    S.HANDED_TO_CARRIER: frozenset({S.DELIVERED, S.RETURNED, S.LOST}),
    # Found again: planned again; or declared lost after an investigation.
    S.MISSING: frozenset({S.READY_FOR_PICKUP, S.LOST}),
    # A returned package is either planned again or sent back to the merchant.
    S.RETURNED: frozenset({S.READY_FOR_PICKUP, S.RETURNED_TO_MERCHANT, S.LOST}),
    S.DELIVERED: frozenset(),
    S.PICKED_UP_AT_COUNTER: frozenset(),
    S.RETURNED_TO_MERCHANT: frozenset(),
    S.CANCELLED: frozenset(),
    S.LOST: frozenset(),
}

#: The reason of a parcel's move from ``delivery_attempted`` back to ``out_for_delivery``: its
#: door tried again the same day, in the same block (`drivers.road.again`).
TRIED_AGAIN = "tried_again"
#: The reason of a partner store's parcel going out for delivery at its door, in the same
#: moment as it is delivered or attempted there (its staff did not start their route first):
#: "delivered" or "attempted" says it, not an "out for delivery" a second before.
STRAIGHT_TO_THE_DOOR = "straight_to_the_door"

TERMINAL_STATES = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
INITIAL_STATE = S.CREATED


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_package_transition"


def ensure_transition(current: PackageState, target: PackageState) -> None:
    """Raise `IllegalTransition` unless a package in ``current`` may move to ``target``."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise IllegalTransition(
            f"a package cannot go from {current} to {target}; allowed from {current}: {allowed}",
            current=current.value,
            target=target.value,
        )
