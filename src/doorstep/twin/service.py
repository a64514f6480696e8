"""Run a simulated day: prepare the network (the example one when the database has none),
let the world of `doorstep.sim` play the day against `TwinNetwork`, then measure it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.demo.seed import morning_of, seed_demo_day
from doorstep.network.service import import_network_file
from doorstep.sim import SimConfig, SimLog, Simulation
from doorstep.twin import repository
from doorstep.twin.kpis import DayKpis, measure
from doorstep.twin.port import TwinNetwork, TwinSettings

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
) -> TwinRun:
    started = time.perf_counter()
    port = TwinNetwork(sessions, settings)
    log = Simulation(port, config, progress=progress).run()
    measured = time.perf_counter()
    with unit_of_work(sessions) as session:
        kpis = measure(session, port, log)
    phases = dict(port.phase_s)
    phases["measuring"] = time.perf_counter() - measured
    total = time.perf_counter() - started
    phases["the world (SimPy) and the rest"] = max(0.0, total - sum(phases.values()))
    return TwinRun(config, settings, log, kpis, port, total, phases)
