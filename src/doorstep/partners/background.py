"""The partner stores' background work: parcels not collected in time ride back."""

from __future__ import annotations

from datetime import timedelta

from doorstep.jobs.registry import Registry
from doorstep.partners import counter

OVERDUE = "partners.counter_overdue"
EVERY = timedelta(minutes=15)


def register(registry: Registry) -> None:
    registry.every(OVERDUE, EVERY, counter.send_back_overdue)
