"""Planning a station's wave: load it, plan it with the pure core, store the plan.

The caller owns the transaction (a CLI command, an API request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.models import Plan, PlanStatus
from doorstep.planning.core import DayPlan, PlanProgress, plan_day
from doorstep.planning.loading import DriverPlan, Wave, load_wave
from doorstep.planning.persist import release_previous, store_plan


@dataclass(frozen=True)
class PlanRun:
    plan: Plan
    wave: Wave
    result: DayPlan | None  # None when the wave had not changed and the stored plan stands
    replanned: bool


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
) -> PlanRun:
    wave = load_wave(session, station_code, service_date, drivers)
    fingerprint = wave.fingerprint(seed)
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
    previous = release_previous(session, wave)
    result = plan_day(
        wave.day,
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
        workers=workers,
        progress=progress,
    )
    plan = store_plan(session, wave, result, fingerprint)
    return PlanRun(plan=plan, wave=wave, result=result, replanned=bool(previous))
