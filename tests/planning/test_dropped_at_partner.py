"""A batch the van has left at a partner store: a parcel of it still at the station (a later
plan added it) is freed by the next plan of any station and planned again, never assigned
twice, and ends on exactly one manifest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.demo.seed import seed_demo_day
from doorstep.models import (
    ManifestItem,
    ManifestStatus,
    Package,
    PartnerManifest,
    Plan,
    PlanStatus,
)
from doorstep.network.service import import_network_file
from doorstep.orders.lifecycle import PackageState
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from tests.conftest import EXAMPLES
from tests.shop import local


def test_a_dropped_off_batch_stays_out_of_the_next_plan(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=120, order_time=local(9), console_password=None)
    kwargs = {
        "drivers": DriverPlan(8, 2),
        "time_limit_s": 1,
        "seed": 1,
        "max_iterations": 100,
        "workers": 1,
        "now": local(7),
    }
    days = sorted({d for d in session.scalars(select(Package.service_date)) if d is not None})
    for day in days:
        for station in ("DCH1", "DGB1"):
            plan_wave(session, station, day, **kwargs)  # type: ignore[arg-type]
    manifest = session.scalars(select(PartnerManifest).order_by(PartnerManifest.id)).first()
    assert manifest is not None, "the seeded day has a partner store's batch"
    manifest.status = ManifestStatus.DROPPED_OFF
    session.flush()
    batch = set(
        session.scalars(
            select(ManifestItem.package_id).where(ManifestItem.manifest_id == manifest.id)
        )
    )
    for station in ("DCH1", "DGB1"):
        day = manifest.service_date
        plan_wave(session, station, day, force=True, **kwargs)  # type: ignore[arg-type]
    # Planned again or left for the next plan with its reason; never on two manifests.
    current = session.scalars(
        select(Plan).where(Plan.service_date == day, Plan.status == PlanStatus.CURRENT)
    ).all()
    unassigned = {u["package"] for plan in current for u in plan.unassigned}
    for package in session.scalars(select(Package).where(Package.id.in_(batch))):
        items = session.scalars(
            select(ManifestItem).where(ManifestItem.package_id == package.id)
        ).all()
        assert len(items) <= 1
        if package.state is PackageState.READY_FOR_PICKUP:
            assert package.tracking_code in unassigned
        else:
            assert package.state is PackageState.ASSIGNED
