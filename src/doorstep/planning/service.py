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
from doorstep.planning.core import HOUR, DayInput, DayPlan, PlanProgress, plan_day
from doorstep.planning.core.model import CostModel
from doorstep.planning.core.planner import Runner
from doorstep.planning.core.same_day import (
    OrderHistory,
    SameDayDecision,
    decide_same_day,
    without_held,
)
from doorstep.planning.loading import (
    DriverPlan,
    StationNotFound,
    Trips,
    Wave,
    attach,
    load_order_history,
    load_wave,
    seconds_of_day,
    without_claimed,
)
from doorstep.planning.persist import release_previous, store_plan
from doorstep.planning.schemas import PlanRequest
from doorstep.tracking.returns import DoorCollection


@dataclass(frozen=True)
class DispatchMoment:
    """A same-day dispatch moment, and how its decision runs.

    ``at`` is the moment (a ``time`` is the station's local clock on the service date): only
    orders placed by then are planned, and the dynamic-dispatch policy holds back the
    same-day parcels better sent with a later wave (`planning.core.same_day`). Moments come
    every ``epoch_s``; ``last`` is the station's last of the day
    (`Settings.planning_last_dispatch`): at it, or when the next moment would come after it,
    nothing is held. The decision's routing searches share ``time_limit_s``, each bounded by
    ``max_iterations`` where given (the same seed then decides the same on any machine)."""

    at: datetime | time
    epoch_s: int = HOUR
    time_limit_s: float = 10.0
    max_iterations: int | None = None
    last: time | None = None


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


def plan_requested(
    session: Session,
    body: PlanRequest,
    *,
    travel: TravelModel | None,
    offers: OfferPolicy,
    now: datetime,
    morning_run: str = "block",
    trips: Trips = Trips(),
    doors: DoorCollection = DoorCollection(),
    last_dispatch: time | None = None,
) -> PlanRun:
    """`plan_wave` for what an operator asked (``POST /v1/plans`` and the console's form);
    ``morning_run`` is `Settings.morning_run`, ``trips`` `Trips.from_settings`, ``doors``
    `DoorCollection.from_settings`, ``last_dispatch`` `Settings.planning_last_dispatch`."""
    return plan_wave(
        session,
        body.station,
        body.date,
        drivers=DriverPlan(body.drivers, body.mall_drivers, trips=trips, doors=doors),
        time_limit_s=body.time_limit_s,
        seed=body.seed,
        force=body.force,
        moment=None if body.at is None else DispatchMoment(body.at, last=last_dispatch),
        travel=travel,
        offers=offers,
        now=now,
        morning_run=morning_run,
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
    moment: DispatchMoment | None = None,
    travel: TravelModel | None = None,
    offers: OfferPolicy | None = None,
    now: datetime | None = None,
    morning_run: str = "block",
    costs: CostModel | None = None,
) -> PlanRun:
    """Plan the wave. At a same-day dispatch ``moment`` (`DispatchMoment`) only the orders
    placed by then are planned, less the same-day parcels the policy holds for a later wave.

    The stored blocks go on offer at once (`drivers.publish`, by ``offers``: the network's
    offer mode, or instant offers for a wave planned at a dispatch moment); ``now`` is when
    (by default the dispatch moment, else the clock), and the moment every event the plan
    writes carries. ``morning_run``: ``block`` (the run to
    the partner stores is a block like any other) or ``van`` (`Settings.morning_run`).
    ``costs``: the prices the channel choice uses (driver pay, the van, the carrier; the
    defaults of `CostModel` otherwise).

    The three steps are `prepare_wave` (read the database), `solve_wave` (pure: what a
    worker of a cluster runs) and `store_wave` (write the plan); this runs them in turn."""
    prepared = prepare_wave(
        session,
        station_code,
        service_date,
        drivers=drivers,
        seed=seed,
        force=force,
        moment=moment,
        travel=travel,
        now=now,
        costs=costs,
    )
    task = WaveSolve(
        station=station_code,
        day=prepared.wave.day,
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
        workers=workers,
    )
    return store_wave(
        session, prepared, task, offers=offers, progress=progress, morning_run=morning_run
    )


@dataclass(frozen=True)
class PreparedWave:
    """A station's wave read from the database, ready to solve: nothing is written yet.

    ``wave`` is without the parcels already claimed (a block a driver took, a shipment being
    labelled); ``current_plan_id`` is the stored plan that stands when the wave has not
    changed (``unchanged``)."""

    wave: Wave
    fingerprint: str
    held: list[dict[str, str]] | None
    seed: int
    now: datetime
    instant_offers: bool
    current_plan_id: int | None
    unchanged: bool


@dataclass(frozen=True)
class WaveSolve:
    """Everything a solve needs, as plain picklable data (no session, no rows): a worker
    of a cluster runs `solve_wave` on it. Same task → same plan when ``max_iterations``
    bounds the search before the time limit does."""

    station: str
    day: DayInput
    time_limit_s: float
    seed: int
    max_iterations: int | None = None
    workers: int = 1


def solve_wave(
    task: WaveSolve,
    progress: Callable[[PlanProgress], None] | None = None,
    run: Runner | None = None,
) -> DayPlan:
    """The pure step: plan the day with the planning core (no database); ``run`` routes the
    territories elsewhere (see `plan_day`)."""
    return plan_day(
        task.day,
        time_limit_s=task.time_limit_s,
        seed=task.seed,
        max_iterations=task.max_iterations,
        workers=task.workers,
        progress=progress,
        run=run,
    )


def prepare_wave(
    session: Session,
    station_code: str,
    service_date: date,
    *,
    drivers: DriverPlan = DriverPlan(),
    seed: int = 1,
    force: bool = False,
    moment: DispatchMoment | None = None,
    travel: TravelModel | None = None,
    now: datetime | None = None,
    costs: CostModel | None = None,
) -> PreparedWave:
    """Read the wave (and, at a dispatch ``moment``, decide what is held for a later wave).
    Writes nothing: a caller may prepare every station, solve them elsewhere, and store each
    in a transaction of its own.

    The three steps are `read_wave`, `decide` (pure: what a worker of a cluster runs at a
    dispatch moment) and `finish_wave`; this runs them in turn."""
    read = read_wave(
        session,
        station_code,
        service_date,
        drivers=drivers,
        seed=seed,
        moment=moment,
        travel=travel,
        now=now,
        costs=costs,
    )
    decision = decide(read.decision) if read.decision is not None else None
    return finish_wave(session, read, decision, force=force)


@dataclass(frozen=True)
class DecisionTask:
    """A dispatch moment's same-day decision as plain picklable data (`decide`)."""

    day: DayInput
    at_s: int
    history: OrderHistory
    epoch_s: int
    time_limit_s: float
    seed: int
    max_iterations: int | None
    last_at_s: int | None = None  # the day's last dispatch moment, if the station has one


@dataclass(frozen=True)
class WaveRead:
    """A wave as read, before the same-day decision (``decision``: None outside a dispatch
    moment)."""

    wave: Wave
    service_date: date
    seed: int
    now: datetime
    dispatch: bool
    decision: DecisionTask | None


def read_wave(
    session: Session,
    station_code: str,
    service_date: date,
    *,
    drivers: DriverPlan = DriverPlan(),
    seed: int = 1,
    moment: DispatchMoment | None = None,
    travel: TravelModel | None = None,
    now: datetime | None = None,
    costs: CostModel | None = None,
) -> WaveRead:
    """The wave from the database and, at a dispatch ``moment``, what the decision needs
    (the orders placed so far, for the scenarios of the ones to come)."""
    dispatch_at = None if moment is None else moment.at
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
    task = None
    if moment is not None and dispatch_at is not None:
        task = DecisionTask(
            day=wave.day,
            at_s=_seconds_of_day(dispatch_at, wave),
            history=load_order_history(session, wave, dispatch_at),
            epoch_s=moment.epoch_s,
            time_limit_s=moment.time_limit_s,
            seed=seed,
            max_iterations=moment.max_iterations,
            last_at_s=None if moment.last is None else seconds_of_day(moment.last),
        )
    return WaveRead(wave, service_date, seed, now, dispatch_at is not None, task)


def decide(task: DecisionTask) -> SameDayDecision:
    """The pure step of a dispatch moment: which same-day parcels go now."""
    return decide_same_day(
        task.day,
        at_s=task.at_s,
        history=task.history,
        epoch_s=task.epoch_s,
        time_limit_s=task.time_limit_s,
        seed=task.seed,
        max_iterations=task.max_iterations,
        last_at_s=task.last_at_s,
    )


def finish_wave(
    session: Session, read: WaveRead, decision: SameDayDecision | None, *, force: bool = False
) -> PreparedWave:
    """The wave without the parcels ``decision`` holds back and those claimed since it was
    read, and whether it changed since the stored plan (a read-only transaction)."""
    wave, seed = read.wave, read.seed
    held: list[dict[str, str]] | None = None
    if decision is not None:
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
            Plan.service_date == read.service_date,
            Plan.status == PlanStatus.CURRENT,
        )
        .order_by(Plan.id.desc())
    )
    unchanged = not force and current is not None and current.input_fingerprint == fingerprint
    if not unchanged:
        # What the plan covers is the wave without the parcels claimed since: the next run
        # reads the same wave. (A re-plan releases only open blocks, never a taken one, so
        # reading them before the release finds the same parcels.)
        claimed = without_claimed(session, wave)
        if claimed is not wave:
            wave, fingerprint = claimed, _fingerprint(claimed, seed, held)
    return PreparedWave(
        wave=wave,
        fingerprint=fingerprint,
        held=held,
        seed=seed,
        now=read.now,
        instant_offers=read.dispatch,
        current_plan_id=None if current is None else current.id,
        unchanged=unchanged,
    )


def store_wave(
    session: Session,
    prepared: PreparedWave,
    task: WaveSolve,
    *,
    solved: DayPlan | None = None,
    offers: OfferPolicy | None = None,
    progress: Callable[[PlanProgress], None] | None = None,
    morning_run: str = "block",
) -> PlanRun:
    """Release what the previous plan made, store the new plan and put its blocks on offer.

    ``solved``: the result of ``task`` solved elsewhere (a cluster's worker). It is used when
    the wave is still the one it was solved for; a parcel claimed in the meantime (a driver
    took a block of the previous plan) has the wave solved again here."""
    if prepared.unchanged and prepared.current_plan_id is not None:
        current = session.get_one(Plan, prepared.current_plan_id)
        return PlanRun(plan=current, wave=prepared.wave, result=None, replanned=False)
    wave, fingerprint = prepared.wave, prepared.fingerprint
    if wave.station not in session:
        # Read in another transaction (the solve ran on a cluster meanwhile): the plan changes
        # this transaction's rows.
        wave = attach(session, wave)
    previous = release_previous(session, wave, now=prepared.now)
    claimed = without_claimed(session, wave)
    if claimed is not wave:
        wave, fingerprint = claimed, _fingerprint(claimed, prepared.seed, prepared.held)
    if solved is None or wave.day != task.day:
        solved = solve_wave(replace(task, day=wave.day), progress)
    plan = store_plan(
        session,
        wave,
        solved,
        fingerprint,
        held=prepared.held,
        morning_run=morning_run,
        now=prepared.now,
    )
    publish_plan(
        session,
        plan.id,
        now=prepared.now,
        policy=offers or OfferPolicy(),
        instant=prepared.instant_offers,
    )
    return PlanRun(plan=plan, wave=wave, result=solved, replanned=bool(previous))


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
