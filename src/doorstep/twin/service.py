"""Run a simulated day: prepare the network (the example one when the database has none),
let the world of `doorstep.sim` play the day against `TwinNetwork`, then measure it."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import create_db_engine, unit_of_work
from doorstep.demo.seed import morning_of, seed_demo_day
from doorstep.migrate import upgrade
from doorstep.models import OperatorRole, OperatorUser
from doorstep.network.service import import_network_file
from doorstep.ops import users
from doorstep.ops.audit import COMMAND_LINE
from doorstep.orders.views import tracking_url
from doorstep.partners import accounts as partner_accounts
from doorstep.sim import SimConfig, SimLog, Simulation
from doorstep.storage.service import BlobStore
from doorstep.twin import repository
from doorstep.twin.kpis import DayKpis, measure
from doorstep.twin.port import PHOTO_KEY, TwinNetwork, TwinSettings

EXAMPLE_NETWORK = (
    Path(__file__).resolve().parents[3] / "examples" / "chandler-az" / "network.geojson"
)


@dataclass
class TwinRun:
    config: SimConfig
    settings: TwinSettings
    log: SimLog
    kpis: DayKpis
    port: TwinNetwork
    runtime_s: float
    phases_s: dict[str, float]
    cpu_s: float = 0.0  # CPU seconds of this process and the cluster's workers (if any)
    phases_cpu_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    imported_network: bool
    created_merchants: int
    merchants: dict[str, dict[str, str]] = field(default_factory=dict)  # name → logins, keys


def prepare(session: Session, *, console_password: str | None = None) -> Prepared:
    """The example network and the demo merchants with their catalogs and stock, unless the
    database has a network and merchants already."""
    imported = False
    if not repository.nodes(session):
        import_network_file(session, EXAMPLE_NETWORK)
        imported = True
    merchants: dict[str, dict[str, str]] = {}
    if not repository.merchant_ids(session):
        summary = seed_demo_day(
            session, orders=0, order_time=morning_of(None), console_password=console_password
        )
        merchants = summary.merchants
    return Prepared(imported, len(merchants), merchants)


#: The demo's own accounts for the store and operator pages (development data only).
DEMO_OPERATOR_EMAIL = "ops@example.com"
DEMO_STORE_EMAIL = "store@example.com"
DEMO_PASSWORD = "doorstep-demo"


@dataclass(frozen=True)
class DemoFaces:
    """Who to be on each page of the demo day."""

    operator_email: str
    operator_password: str
    store_code: str | None
    store_email: str | None
    tracking_url: str | None


def demo_faces(session: Session, *, public_url: str, now: datetime) -> DemoFaces:
    """An operator (admin, a password) and a partner store's clerk for the demo, made once, and
    a delivered parcel's tracking link: the links `make demo` prints open real pages."""
    known = select(OperatorUser.id).where(OperatorUser.email == DEMO_OPERATOR_EMAIL)
    if session.scalar(known) is None:
        users.create_operator(
            session,
            DEMO_OPERATOR_EMAIL,
            OperatorRole.ADMIN,
            name="Demo dispatcher",
            password=DEMO_PASSWORD,
            by=COMMAND_LINE,
            now=now,
        )
    store_code = repository.first_partner_store_code(session)
    store_email = None
    if store_code is not None:
        store_email = DEMO_STORE_EMAIL
        if partner_accounts.staff_by_email(session, DEMO_STORE_EMAIL) is None:
            partner_accounts.invite(
                session, store_code, email=DEMO_STORE_EMAIL, name="Demo clerk", now=now
            )
    token = repository.a_delivered_token(session)
    return DemoFaces(
        DEMO_OPERATOR_EMAIL,
        DEMO_PASSWORD,
        store_code,
        store_email,
        tracking_url(public_url, token) if token else None,
    )


def throwaway_engine(path: Path) -> Engine:
    """A fresh SQLite database for one simulated day that nobody keeps (an arm of a
    comparison, a benchmark's day), migrated: it skips the disk flush at each commit, which
    on a busy machine costs more than the services' own work, and would only matter after
    a power cut."""
    engine = create_db_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_flush(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    upgrade(engine)
    return engine


def already_simulated(sessions: sessionmaker[Session], settings: TwinSettings) -> int:
    """How many packages an earlier run of this day and seed left (0: none)."""
    port_prefix = f"TWIN-{settings.day:%Y%m%d}-S{settings.seed}-"
    with unit_of_work(sessions) as session:
        return len(repository.packages_with_orders(session, port_prefix))


def simulate_day(
    sessions: sessionmaker[Session],
    config: SimConfig,
    settings: TwinSettings,
    *,
    progress: Callable[[float, int], None] | None = None,
    photos: BlobStore | None = None,
) -> TwinRun:
    """Play the day; with ``photos`` (the blob store the pages read) the delivery photo the
    simulated drivers' proofs name is stored there first."""
    if photos is not None and not photos.exists(PHOTO_KEY):
        photo = (Path(__file__).parent / "delivery_photo.jpg").read_bytes()
        photos.put(PHOTO_KEY, photo, "image/jpeg")
    started, cpu = time.perf_counter(), time.process_time()
    if settings.last_dispatch is None and config.dispatch_hours:
        # The twin calls the dispatch moments, so the network knows its last one, as an
        # operator's schedule tells the planner (`DOORSTEP_PLANNING_LAST_DISPATCH`).
        settings = replace(settings, last_dispatch=_clock_of(max(config.dispatch_hours)))
    port = TwinNetwork(sessions, settings)
    try:
        with fewer_collections():
            log = Simulation(port, config, progress=progress).run()
        workers_cpu = port.workers_cpu_s()
    finally:
        port.close()
    measured, measured_cpu = time.perf_counter(), time.process_time()
    with unit_of_work(sessions) as session:
        kpis = measure(session, port, log)
    phases, phases_cpu = dict(port.phase_s), dict(port.phase_cpu_s)
    phases["measuring"] = time.perf_counter() - measured
    phases_cpu["measuring"] = time.process_time() - measured_cpu
    total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
    rest = "the world (SimPy) and the rest"
    phases[rest] = max(0.0, total - sum(phases.values()))
    phases_cpu[rest] = max(0.0, total_cpu - sum(phases_cpu.values()))
    if settings.workers > 1:
        # The solves ran in the cluster's processes: their CPU is not this process's.
        phases_cpu[WORKERS] = workers_cpu
    return TwinRun(
        config, settings, log, kpis, port, total, phases, total_cpu + workers_cpu, phases_cpu
    )


#: Allocations between two young-generation collections while a day plays (Python's default:
#: 700). Every call to the services builds and drops hundreds of ORM objects; at the default
#: the collector ran often enough to cost about a tenth of the twin's CPU (a 2,000-order day,
#: `benchmarks/twin_scale.py`), for garbage that reference counting frees anyway.
YOUNG_COLLECTION_EVERY = 100_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cyclic garbage less often in this block (the twin is a batch job: its memory
    is bounded by the day, not by the uptime), then as before."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


#: The phase of the station plans' solves on the cluster's workers (CPU only).
WORKERS = "planning: solves on the cluster's workers"


def _clock_of(hour: float) -> dt_time:
    """An hour of the day (``14.5``) as a clock time (14:30)."""
    minutes = round(hour * 60)
    return dt_time(minutes // 60, minutes % 60)
