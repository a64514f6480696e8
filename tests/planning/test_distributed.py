"""Planning several stations on a Dask cluster: a killed worker changes nothing in the plan."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
from contextlib import nullcontext
from datetime import UTC, date, datetime
from typing import Any

import pytest
from distributed import Client, LocalCluster, get_task_stream
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.cluster import (
    ClusterUnavailable,
    open_client,
    pool,
    runner_here,
    runner_on,
    worker_pids,
)
from doorstep.db import unit_of_work
from doorstep.demo.seed import seed_demo_day
from doorstep.models import CarrierShipment, Node, Package, Plan, Route, Stop, StopPackage
from doorstep.network.service import import_network_file
from doorstep.planning.distributed import plan_waves
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import DispatchMoment
from tests.conftest import EXAMPLES
from tests.shop import local

DAY = date(2026, 11, 24)
STATIONS = ["DCH1", "DGB1"]
# The day before: no block is moved to start after the clock (the plan depends on no clock).
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
# Iterations bound the search long before the time limit: the same plan on any machine.
EFFORT: dict[str, Any] = {"time_limit_s": 120.0, "seed": 7, "max_iterations": 400}


def _stored_plan(session: Session, plan_id: int) -> dict[str, Any]:
    """What a plan stored: its totals and decisions, every route's parcels in stop order,
    the carrier shipments."""
    plan = session.get_one(Plan, plan_id)
    routes = []
    for route_id, start in session.execute(
        select(Route.id, Node.code)
        .join(Node, Node.id == Route.start_node_id)
        .where(Route.plan_id == plan_id)
        .order_by(Route.id)
    ):
        codes = session.scalars(
            select(Package.tracking_code)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .join(Stop, Stop.id == StopPackage.stop_id)
            .where(Stop.route_id == route_id)
            .order_by(Stop.sequence, Package.tracking_code)
        ).all()
        routes.append((start, tuple(codes)))
    carrier = session.execute(
        select(Package.tracking_code, CarrierShipment.service)
        .join(Package, Package.id == CarrierShipment.package_id)
        .where(CarrierShipment.plan_id == plan_id)
        .order_by(Package.tracking_code)
    ).all()
    return {
        "station": plan.station_id,
        "fingerprint": plan.input_fingerprint,
        "totals": plan.totals,
        "decisions": plan.decisions,
        "held": plan.held,
        "unassigned": plan.unassigned,
        "routes": routes,
        "carrier": [tuple(row) for row in carrier],
    }


def _plan(factory: sessionmaker[Session], client: Client) -> list[dict[str, Any]]:
    plan_ids = plan_waves(
        factory,
        STATIONS,
        DAY,
        cluster=lambda: nullcontext(client),
        stored=lambda run: run.plan.id,
        drivers=DriverPlan(6, 2),
        force=True,
        now=NOW,
        **EFFORT,
    )
    with unit_of_work(factory) as session:
        return [_stored_plan(session, plan_id) for plan_id in plan_ids]


def _kill_a_solving_worker(client: Client, killed: list[int]) -> None:
    """Wait until a worker is running a station's solve, then SIGKILL its process."""
    pids = worker_pids(client)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = client.run(
            lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing]
        )
        for address, keys in running.items():
            if any(key.startswith(tuple(STATIONS)) for key in keys):
                os.kill(pids[address], signal.SIGKILL)
                killed.append(pids[address])
                return
        time.sleep(0.05)


def test_a_worker_killed_mid_plan_changes_nothing_in_the_stored_plan(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory) as session:
        import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
        seed_demo_day(session, orders=80, order_time=local(9), console_password=None)
    with open_client(workers=2) as client:
        undisturbed = _plan(session_factory, client)
        before = worker_pids(client)
        killed: list[int] = []
        killer = threading.Thread(target=_kill_a_solving_worker, args=(client, killed))
        killer.start()
        disturbed = _plan(session_factory, client)
        killer.join()
        assert killed, "no worker was caught solving a station"
        [pid] = killed
        assert pid in before.values()
        # The worker died, so its solve was run again on another worker.
        client.wait_for_workers(2, timeout=60)
        assert pid not in worker_pids(client).values()
    assert [p["routes"] for p in undisturbed] == [p["routes"] for p in disturbed]
    assert undisturbed == disturbed
    assert all(p["routes"] for p in undisturbed)  # the stations did route parcels


def _square(n: int) -> int:
    return n * n


def _spread_squares(count: int) -> list[int] | None:
    """A task that spreads its parts over the cluster it runs on."""
    run = runner_here()
    return None if run is None else run(_square, list(range(count)))


def test_a_task_on_a_worker_spreads_its_parts_over_the_cluster_in_order() -> None:
    assert runner_here() is None  # not on a worker: the caller solves its parts itself
    with open_client(workers=2) as client:
        # Two tasks that each wait for their parts: with one slot per worker they would
        # deadlock unless a waiting task leaves its slot to the parts.
        futures = client.map(_spread_squares, [6, 7], pure=False)
        results = [future.result() for future in futures]
    assert results == [[n * n for n in range(6)], [n * n for n in range(7)]]


def _imported(module: str) -> bool:
    return module in sys.modules


def test_local_workers_have_the_optimizer_imported_before_the_first_task() -> None:
    # Regression: a solve's first parts imported it inside their time limit (10,000 stops
    # at 3 s: the first part ran 0.98 s of its 0.63 s).
    with open_client(workers=2) as client:
        loaded = client.run(_imported, "doorstep.optimize.decomposition")
    assert list(loaded.values()) == [True, True]


def _existing_cluster(workers: int) -> LocalCluster:
    """A cluster doorstep did not start (no preload): what ``--scheduler`` connects to."""
    return LocalCluster(  # type: ignore[no-untyped-call]  # Dask's, unannotated
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def test_an_existing_clusters_workers_have_the_optimizer_imported_before_the_first_task() -> None:
    # Regression: only the local cluster's workers imported it; an existing scheduler's
    # (started without --preload) imported it inside a solve's first parts.
    bare = _existing_cluster(workers=2)
    try:
        with open_client(bare.scheduler_address) as client:
            loaded = client.run(_imported, "doorstep.optimize.decomposition")
            assert list(loaded.values()) == [True, True]
            # A worker that joins later imports it too.
            bare.scale(3)  # type: ignore[no-untyped-call]
            client.wait_for_workers(3, timeout=30)
            later = client.run(_imported, "doorstep.optimize.decomposition")
        assert list(later.values()) == [True, True, True]
    finally:
        bare.close()


def test_an_existing_cluster_whose_workers_lack_doorstep_is_refused_with_its_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool, "PRELOAD", ("doorstep_not_installed_here",))
    bare = _existing_cluster(workers=1)
    try:
        with pytest.raises(ClusterUnavailable) as refused, open_client(bare.scheduler_address):
            pass
    finally:
        bare.close()
    assert bare.scheduler_address in str(refused.value)
    assert "doorstep_not_installed_here" in str(refused.value)


def _size(task: bytes) -> int:
    return len(task)


def test_tasks_that_carry_their_matrices_go_without_a_warning() -> None:
    # A sector of 1,250 stops carries 12 MB of matrices; Dask warned about every such task
    # on the user's terminal ("Sending large graph"), and suggested scattering, which
    # would lose the data with a killed worker.
    large = b"m" * 20_000_000
    with open_client(workers=2) as client, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sizes = runner_on(client)(_size, [large, large[:10]])
    assert sizes == [20_000_000, 10]
    assert not [w for w in caught if "large graph" in str(w.message)]


def test_a_dispatch_moment_decides_on_the_cluster_as_it_does_here(
    session_factory: sessionmaker[Session],
) -> None:
    """The same-day decisions run on the workers (one task per station): the same parcels
    held, the same plans as when the planner decides them itself."""
    with unit_of_work(session_factory) as session:
        import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
        seed_demo_day(session, orders=80, order_time=local(9), console_password=None)
    moment = DispatchMoment(local(10), max_iterations=20)

    def plan(cluster: Any) -> list[dict[str, Any]]:
        plan_ids = plan_waves(
            session_factory,
            STATIONS,
            local(10).date(),
            cluster=cluster,
            stored=lambda run: run.plan.id,
            drivers=DriverPlan(6, 2),
            force=True,
            **EFFORT,
            moment=moment,
            now=local(10),
        )
        with unit_of_work(session_factory) as session:
            return [_stored_plan(session, plan_id) for plan_id in plan_ids]

    here = plan(None)
    with open_client(workers=2) as client, get_task_stream(client) as stream:
        on_cluster = plan(lambda: nullcontext(client))
    keys = [str(task["key"]) for task in stream.data]
    assert sorted(k.split("-decision")[0] for k in keys if "-decision" in k) == STATIONS
    assert here == on_cluster
    # The decision held parcels back: the equality above covers what it decided.
    assert any(p["held"] for p in here)
