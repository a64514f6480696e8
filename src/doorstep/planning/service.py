"""Planning a station's wave: load it, plan it with the pure core, store the plan.

The caller owns the transaction (a CLI command, an API request).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.publish import publish_plan
from doorstep.errors import InvalidInput
from doorstep.geo import TravelModel
from doorstep.models import Node, NodeKind, Plan, PlanStatus, utcnow
from doorstep.planning.core import HOUR, DayPlan, PlanProgress, plan_day
from doorstep.planning.core.model import CostModel
from doorstep.planning.core.same_day import decide_same_day, without_held
from doorstep.planning.loading import (
    DriverPlan,
    StationNotFound,
    Wave,
    load_order_history,
    load_wave,
    seconds_of_day,
    without_claimed,
)
from doorstep.planning.persist import release_previous, store_plan


@dataclass(frozen=True)
class PlanRun:
    plan: Plan
    wave: Wave
    result: DayPlan | None  # None when the wave had not changed and the stored plan stands
    replanned: bool


def station_codes(session: Session) -> list[str]:
    """Every active station, by code: the waves a day has."""
    return list(
        session.scalars(
            select(Node.code)
            .where(Node.kind == NodeKind.STATION, Node.active.is_(True))
            .order_by(Node.code)
        )
    )


def plan_wave(
    session: Session,
    station_code: str,
    service_date: date,
    *,
    drivers: DriverPlan = DriverPlan(),
    time_limit_s: float = 20.0,
    seed: int = 1,
    max_iterations: int | None = None,
    workers: int = 2,
    force: bool = False,
    progress: Callable[[PlanProgress], None] | None = None,
    dispatch_at: datetime | time | None = None,
    epoch_s: int = HOUR,
    dispatch_time_limit_s: float = 10.0,
    travel: TravelModel | None = None,
    offers: OfferPolicy | None = None,
    now: datetime | None = None,
    costs: CostModel | None = None,
) -> PlanRun:
    """Plan the wave. With ``dispatch_at`` (a same-day dispatch moment, every ``epoch_s``):
    only orders placed by then are planned, and the dynamic-dispatch policy holds back the
    same-day parcels better sent with a later wave (`planning.core.same_day`). A ``time`` is
    the station's local clock on the service date.

    The stored blocks go on offer at once (`drivers.publish`, by ``offers``: the network's
    offer mode, or instant offers for a wave planned at a dispatch moment); ``now`` is when
    (by default the dispatch moment, else the clock). ``costs``: the prices the channel
    choice uses (driver pay, the van, the carrier; the defaults of `CostModel` otherwise)."""
    if isinstance(dispatch_at, time):
        dispatch_at = station_moment(session, station_code, service_date, dispatch_at)
    now = now or dispatch_at or utcnow()
    wave = load_wave(
        session,
        station_code,
        service_date,
        drivers,
        costs=costs,
        known_at=dispatch_at,
        travel=travel,
    )
    wave = _from_now(wave, now)
    held: list[dict[str, str]] | None = None
    if dispatch_at is not None:
        at_s = _seconds_of_day(dispatch_at, wave)
        decision = decide_same_day(
            wave.day,
            at_s=at_s,
            history=load_order_history(session, wave, dispatch_at),
            epoch_s=epoch_s,
            time_limit_s=dispatch_time_limit_s,
            seed=seed,
        )
        wave = replace(wave, day=replace(wave.day, packages=without_held(wave.day, decision)))
        held = [
            {"package": code, "reason": HELD_REASON, "policy": decision.policy}
            for code in sorted(decision.held)
        ]
    fingerprint = _fingerprint(wave, seed, held)
    current = session.scalar(
        select(Plan)
        .where(
            Plan.station_id == wave.station.id,
            Plan.service_date == service_date,
            Plan.status == PlanStatus.CURRENT,
        )
        .order_by(Plan.id.desc())
    )
    if not force and current is not None and current.input_fingerprint == fingerprint:
        return PlanRun(plan=current, wave=wave, result=None, replanned=False)
    previous = release_previous(session, wave, now=now)
    claimed = without_claimed(session, wave)
    if claimed is not wave:
        # What the plan covers is the wave without them: the next run reads the same wave.
        wave, fingerprint = claimed, _fingerprint(claimed, seed, held)
    result = plan_day(
        wave.day,
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
        workers=workers,
        progress=progress,
    )
    plan = store_plan(session, wave, result, fingerprint, held=held)
    publish_plan(
        session, plan.id, now=now, policy=offers or OfferPolicy(), instant=dispatch_at is not None
    )
    return PlanRun(plan=plan, wave=wave, result=result, replanned=bool(previous))


#: How long after the plan a block may start: drivers read the offer and drive to the station.
START_LEAD_S = 30 * 60


def _from_now(wave: Wave, now: datetime) -> Wave:
    """A wave planned on its own day, after its drivers' hours have begun (a dispatch moment,
    a plan run in the afternoon), starts its blocks after ``now``: a block that started in
    the past could be taken by nobody."""
    local = now.astimezone(wave.tz)
    if local.date() != wave.service_date:
        return wave
    earliest = seconds_of_day(local) + START_LEAD_S
    drivers = tuple(
        replace(d, available=(max(d.available[0], earliest), d.available[1]))
        if d.available[0] < earliest < d.available[1]
        else d
        for d in wave.day.drivers
    )
    if drivers == wave.day.drivers:
        return wave
    return replace(wave, day=replace(wave.day, drivers=drivers))


def _fingerprint(wave: Wave, seed: int, held: list[dict[str, str]] | None) -> str:
    fingerprint = wave.fingerprint(seed)
    if held is None:
        return fingerprint
    # What was held is part of the plan: the same wave holding other parcels is another plan.
    held_codes = ",".join(h["package"] for h in held)
    return hashlib.sha256(f"{fingerprint}|held:{held_codes}".encode()).hexdigest()


#: Why a same-day parcel is not in this wave's plan.
HELD_REASON = "held_for_next_wave"


def station_moment(session: Session, station_code: str, day: date, clock: time) -> datetime:
    """``clock`` on ``day`` at the station, as an aware datetime in its time zone."""
    zone = session.scalar(select(Node.timezone).where(Node.code == station_code))
    if zone is None:
        raise StationNotFound(f"no station with code '{station_code}'", station=station_code)
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone))


def _seconds_of_day(moment: datetime, wave: Wave) -> int:
    local = moment.astimezone(wave.tz)
    if local.date() != wave.service_date:
        raise InvalidInput(
            f"the dispatch moment {local:%Y-%m-%d %H:%M} is not on the service date "
            f"{wave.service_date}",
            field="at",
        )
    return seconds_of_day(local)
