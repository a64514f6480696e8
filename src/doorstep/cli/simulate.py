"""`doorstep simulate`: a day of the network played through its own services (the digital
twin), its KPIs and its report; `--compare` measures a change over several seeded days."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from doorstep.cli.common import console, database, errors, service_date
from doorstep.db import session_factory, unit_of_work
from doorstep.drivers.policy import OfferPolicy
from doorstep.logs import configure_logging
from doorstep.migrate import upgrade
from doorstep.network.service import import_network_file
from doorstep.planning.core.model import CostModel
from doorstep.planning.loading import Trips
from doorstep.settings import get_settings
from doorstep.sim import SimConfig
from doorstep.sim.port import DAY_S
from doorstep.storage.service import blob_store_from_settings
from doorstep.tracking.returns import DoorCollection
from doorstep.twin.port import (
    DISPATCH_MAX_ITERATIONS,
    MAX_ITERATIONS,
    TIME_LIMIT_S,
    TwinSettings,
)
from doorstep.twin.report import write_report
from doorstep.twin.service import (
    TwinRun,
    already_simulated,
    prepare,
    simulate_day,
    throwaway_engine,
)

#: The KPIs a comparison reports, as (label, how to read it from the JSON summary).
COMPARED = (
    ("on-time rate", "on_time_rate"),
    ("cost per package (¢)", "cost_per_package_cents"),
    ("carrier share", "carrier_share"),
    ("partner-store parcels", "by_channel.partner_stores"),
    ("driver net pay/h (¢)", "drivers.net_pay_per_hour_cents"),
    ("driver utilisation", "drivers.utilisation"),
    ("driver miles", "miles.drivers"),
    ("same-day kept", "same_day.kept"),
    ("packages", "packages"),
    ("unresolved", "unresolved"),
)
#: Two-sided 95 % Student t quantiles by degrees of freedom (beyond 30: 1.96).
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
       2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
       2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
#: Settings of the network (not of the world) a comparison may change.
NETWORK_KEYS = (
    "offer_mode",
    "time_limit_s",
    "max_attempts",
    "same_day_cutoff",
    "add_partner_store",
    "driver_pay_per_hour_cents",
)


def simulate_command(
    orders: Annotated[int, typer.Option(help="Shoppers during the day", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed → same day)")] = 1,
    date: Annotated[
        str | None, typer.Option(help="The day YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    report: Annotated[Path | None, typer.Option(help="Where to write the HTML report")] = None,
    time_limit: Annotated[
        float, typer.Option(help="Routing seconds per station plan: a safety net")
    ] = TIME_LIMIT_S,
    iterations: Annotated[
        int,
        typer.Option(
            help="Search iterations per territory of a station plan (the effort: the same "
            "seed plans the same however busy the machine); 0: by the clock alone",
            min=0,
        ),
    ] = MAX_ITERATIONS,
    driver_scale: Annotated[
        float | None, typer.Option(help="Multiply the drivers coming online (default: by size)")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            help="KEY=VALUE: run each seed with and without this change, and compare. KEY is "
            "a SimConfig field or offer_mode, offer_boost_percent, same_day_cutoff, "
            "max_attempts, time_limit_s, add_partner_store (LAT,LNG[,RADIUS_MILES]), "
            "driver_pay_per_hour_cents"
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Seeds a comparison runs", min=2)] = 5,
    world: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="KEY=VALUE: a SimConfig field set in both arms of a comparison (repeatable), "
            "e.g. --set no_show_rate=0.15 --compare reoffer_no_shows_after_s=-1",
        ),
    ] = None,
) -> None:
    """Simulate a day of the network through doorstep's own services: shoppers at the
    checkouts, the planner at each cut-off and dispatch moment, drivers taking blocks and
    driving them, partner stores, the carrier. Prints the KPIs and writes the report."""
    settings = get_settings()
    # The services log each label and hand-over: to stderr, and only what needs a look.
    configure_logging(level="WARNING", json=settings.log_json)
    day = service_date(date)
    config = SimConfig(
        orders=orders,
        seed=seed,
        driver_scale=driver_scale if driver_scale is not None else scale_for(orders),
    )
    twin = twin_settings(day, seed, time_limit, iterations)
    if world and not compare:
        # A single day is stored by its date and seed, and replayed as stored: a changed world
        # under the same seed would read the other's summary.
        errors.print("[red]--set changes the world of a comparison: use it with --compare[/]")
        raise typer.Exit(2)
    for change in world or ():
        config = _with_world(config, change)
    if compare:
        _compare(config, twin, compare, seeds, as_json)
        return
    out = settings.data_dir / "twin"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"day-{day}-seed{seed}"
    report_path = report or out / f"{stem}.html"
    with database() as engine:
        upgrade(engine)
        sessions = session_factory(engine)
        summary = run_once(sessions, config, twin, report_path, out / f"{stem}.json", as_json)
    if as_json:
        print(json.dumps(summary))
        return
    print_summary(summary)


def _with_world(config: SimConfig, change: str) -> SimConfig:
    key, _, value = change.partition("=")
    try:
        return config.with_value(key.strip(), value.strip())
    except (KeyError, ValueError) as exc:
        errors.print(f"[red]--set: cannot set {key.strip()!r} to {value.strip()!r} ({exc})[/]")
        raise typer.Exit(2) from None


def scale_for(orders: int) -> float:
    """Drivers in proportion to the day: the defaults staff about 300 orders."""
    return max(1.0, orders / 300)


def twin_settings(
    day: date, seed: int, time_limit: float, iterations: int = MAX_ITERATIONS
) -> TwinSettings:
    """The network's side of a simulated day, from the settings (as `doorstep plan` reads
    them). ``iterations``: the solver's effort (0: the time limit alone decides)."""
    settings = get_settings()
    twin = TwinSettings(
        day=day,
        seed=seed,
        time_limit_s=time_limit,
        max_iterations=iterations or None,
        dispatch_max_iterations=DISPATCH_MAX_ITERATIONS if iterations else None,
        offers=OfferPolicy.from_settings(settings),
        travel=settings.travel_model(),
        checkin_radius_m=settings.checkin_radius_m,
        far_m=settings.delivery_far_m,
        max_attempts=settings.max_delivery_attempts,
        data_dir=str(settings.data_dir),
        scan_in_minutes=settings.store_scan_in_minutes,
        counter_days=settings.store_counter_days,
        wrong_codes_per_hour=settings.store_wrong_codes_per_hour,
        public_url=settings.public_url,
        last_dispatch=settings.planning_last_dispatch,
    )
    # The twin's own driver counts, with the settings' trips per block and door hours.
    drivers = replace(
        twin.drivers,
        trips=Trips.from_settings(settings),
        doors=DoorCollection.from_settings(settings),
    )
    return replace(twin, drivers=drivers)


def run_once(
    sessions: sessionmaker[Session],
    config: SimConfig,
    twin: TwinSettings,
    report_path: Path,
    summary_path: Path,
    quiet: bool,
) -> dict[str, Any]:
    """Simulate the day (unless done before: then say so and give the stored summary)."""
    with unit_of_work(sessions) as session:
        prepared = prepare(session, console_password="doorstep-demo")
    if already_simulated(sessions, twin) and summary_path.exists():
        stored: dict[str, Any] = json.loads(summary_path.read_text(encoding="utf-8"))
        stored["replayed"] = True
        return stored
    if already_simulated(sessions, twin):
        errors.print(
            f"[red]{twin.day} with seed {config.seed} was simulated in this database but its "
            "summary is gone; use another --seed or --date[/]"
        )
        raise typer.Exit(1)
    run = _simulate(sessions, config, twin, quiet)
    write_report(run, report_path)
    summary = summarize(run, report_path)
    summary["prepared"] = {
        "imported_example_network": prepared.imported_network,
        "created_merchants": prepared.created_merchants,
        "merchants": prepared.merchants,
    }
    summary["driver"] = first_driver(run)
    summary_path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary


def _simulate(
    sessions: sessionmaker[Session], config: SimConfig, twin: TwinSettings, quiet: bool
) -> TwinRun:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[clock]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task(
            f"Simulating {twin.day}: {config.orders:,} shoppers", total=3 * DAY_S, clock=""
        )

        def show(at: float, placed: int) -> None:
            day, clock = divmod(int(at), DAY_S)
            bar.update(
                task,
                completed=min(at, 3 * DAY_S),
                clock=f"day {day + 1} {clock // 3600:02d}:{clock % 3600 // 60:02d}, "
                f"{placed:,} orders",
            )

        photos = blob_store_from_settings(get_settings())
        return simulate_day(sessions, config, twin, progress=show, photos=photos)


def first_driver(run: TwinRun) -> dict[str, Any] | None:
    """A driver who drove a block that day (the demo links to the driver's view of it)."""
    for trip in sorted(run.log.trips, key=lambda t: t.block_id):
        return {
            "email": run.port.driver_email(trip.driver),
            "block_id": trip.block_id,
            "doors": trip.doors,
        }
    return None


def summarize(run: TwinRun, report_path: Path | None) -> dict[str, Any]:
    k = run.kpis
    summary = {
        "date": str(run.settings.day),
        "seed": run.config.seed,
        "orders": run.config.orders,
        **k.as_json(),
        "days_simulated": run.log.days,
        "runtime_s": round(run.runtime_s, 1),
        "cpu_s": round(run.cpu_s, 1),
        "phases_s": {name: round(s, 1) for name, s in sorted(run.phases_s.items())},
        "phases_cpu_s": {name: round(s, 1) for name, s in sorted(run.phases_cpu_s.items())},
        "calls": run.port.counts.calls,
        "refused_calls": run.port.counts.refused,
        "report": str(report_path) if report_path else None,
    }
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    if summary.get("replayed"):
        console.print(
            f"[bold]{summary['date']}[/] with seed {summary['seed']} was simulated before: "
            "here is what it measured (another --seed or --date plays another day)."
        )
    table = Table(title=f"A simulated day on the network: {summary['date']}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    rows = [
        ("packages", f"{summary['packages']:,}"),
        ("unresolved", str(summary["unresolved"])),
        ("on time", f"{summary['on_time_rate']:.1%}"),
        *(
            (f"  on time, {k.replace('_', ' ')}", f"{v:.1%}")
            for k, v in summary["on_time_by_speed"].items()
        ),
        ("cost per package", f"${summary['cost_per_package_cents'] / 100:,.2f}"),
        *(
            (f"  packages by {k.replace('_', ' ')}", f"{v:,}")
            for k, v in summary["by_channel"].items()
        ),
        ("carrier share", f"{summary['carrier_share']:.1%}"),
        ("driver net pay per hour", f"${summary['drivers']['net_pay_per_hour_cents'] / 100:,.2f}"),
        ("driver utilisation", f"{summary['drivers']['utilisation']:.0%}"),
        ("miles driven", f"{summary['miles']['drivers']:,.0f}"),
        (
            "same day: asked / offered / taken / kept",
            "{asked} / {offered} / {taken} / {kept}".format(**summary["same_day"]),
        ),
        ("invariants", "hold" if summary["invariants"]["ok"] else "BROKEN"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"Report: {summary['report']}")


# What-if ----------------------------------------------------------------------------------


def _compare(config: SimConfig, twin: TwinSettings, change: str, seeds: int, as_json: bool) -> None:
    key, _, value = change.partition("=")
    key = key.strip()
    try:
        changed_config, changed_twin = apply_change(config, twin, key, value.strip())
        config = baseline_of(config, key, value.strip())
    except (KeyError, ValueError) as exc:
        errors.print(f"[red]--compare: cannot set {key!r} to {value!r} ({exc})[/]")
        raise typer.Exit(2) from None
    results: dict[str, list[dict[str, Any]]] = {"baseline": [], "changed": []}
    with tempfile.TemporaryDirectory(prefix="doorstep-compare-") as folder:
        for seed in range(1, seeds + 1):
            for name, (c, t) in (
                ("baseline", (config, twin)),
                ("changed", (changed_config, changed_twin)),
            ):
                if not as_json:
                    console.print(f"seed {seed}: {name} …")
                engine = throwaway_engine(Path(folder) / f"{name}-{seed}.sqlite3")
                try:
                    sessions = session_factory(engine)
                    with unit_of_work(sessions) as session:
                        prepare(session)
                        _network_change(
                            session, t, key if name == "changed" else None, value, Path(folder)
                        )
                    run = simulate_day(
                        sessions, replace(c, seed=seed), replace(t, seed=seed, data_dir=folder)
                    )
                    results[name].append(summarize(run, None))
                finally:
                    engine.dispose()
    rows = compare_rows(results["baseline"], results["changed"])
    if as_json:
        print(json.dumps({"change": change, "seeds": seeds, "kpis": rows}))
        return
    table = Table(title=f"{change} against the baseline, {seeds} seeded days each")
    for column in ("KPI", "baseline", "changed", "difference", "95% CI"):
        table.add_column(column, justify="right" if column != "KPI" else "left")
    for row in rows:
        table.add_row(
            row["kpi"],
            _fmt(row["baseline"]),
            _fmt(row["changed"]),
            _fmt(row["difference"], signed=True),
            f"[{_fmt(row['ci'][0], signed=True)}, {_fmt(row['ci'][1], signed=True)}]",
        )
    console.print(table)


def apply_change(
    config: SimConfig, twin: TwinSettings, key: str, value: str
) -> tuple[SimConfig, TwinSettings]:
    """The configuration with one change: a field of the world (`SimConfig`), or one of the
    network's (`NETWORK_KEYS`)."""
    if key == "offer_mode":
        from doorstep.models import OfferMode

        return config, replace(twin, offers=replace(twin.offers, mode=OfferMode(value)))
    if key == "offer_boost_percent":
        return config, replace(twin, offers=replace(twin.offers, boost_percent=int(value)))
    if key == "time_limit_s":
        return config, replace(twin, time_limit_s=float(value))
    if key == "max_attempts":
        return config, replace(twin, max_attempts=int(value))
    if key == "same_day_cutoff":
        from datetime import time

        time.fromisoformat(value)  # checked now; set on the stations of each fresh network
        return config, twin
    if key == "driver_pay_per_hour_cents":
        return config, replace(twin, costs=driver_pay(int(value)))
    if key == "add_partner_store":
        # Checked now; imported into each fresh network of the changed arm.
        store = candidate_store(value)
        return (
            replace(
                with_catchment(config, store),
                demand_excludes=(*config.demand_excludes, WHAT_IF_STORE),
            ),
            twin,
        )
    return config.with_value(key, value), twin


def baseline_of(config: SimConfig, key: str, value: str) -> SimConfig:
    """The baseline arm's world: as configured, but with the shoppers a candidate store's
    place has (they live there whether the store opens or not)."""
    if key == "add_partner_store":
        return with_catchment(config, candidate_store(value))
    return config


def with_catchment(config: SimConfig, store: dict[str, Any]) -> SimConfig:
    lng, lat = store["geometry"]["coordinates"]
    radius_m = store["properties"]["service_radius_mi"] * METRES_PER_MILE
    return replace(config, catchments=(*config.catchments, (lat, lng, radius_m)))


METRES_PER_MILE = 1609.344


#: The code of the partner store `add_partner_store` adds.
WHAT_IF_STORE = "PS-WHAT-IF"


def driver_pay(per_hour_cents: int) -> CostModel:
    """The planner's prices with another driver pay per hour (the shortest block paid for two
    hours of it, as by default); what blocks pay follows, so do the offers."""
    if per_hour_cents <= 0:
        raise ValueError("driver pay per hour must be positive")
    return CostModel(
        driver_pay_per_hour_cents=per_hour_cents, min_block_pay_cents=2 * per_hour_cents
    )


def candidate_store(value: str) -> dict[str, Any]:
    """``LAT,LNG[,RADIUS_MILES]`` as a partner store of the network file format (the
    example's usual terms: 100 parcels a day, $2.50 a parcel, Mon–Sat 08:00–18:00)."""
    parts = [float(v) for v in value.split(",")]
    if len(parts) not in (2, 3):
        raise ValueError("give LAT,LNG or LAT,LNG,RADIUS_MILES")
    lat, lng = parts[0], parts[1]
    radius = parts[2] if len(parts) == 3 else 5.0
    if not (-90 <= lat <= 90 and -180 <= lng <= 180 and 0 < radius <= 10):
        raise ValueError("a position on Earth and a radius up to 10 miles")
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": {
            "kind": "partner_store",
            "code": WHAT_IF_STORE,
            "name": "Candidate partner store",
            "address": f"{lat:.5f}, {lng:.5f}",
            "daily_capacity": 100,
            "service_radius_mi": radius,
            "pay_per_package_cents": 250,
            "opening_hours": "mon-sat 08:00-18:00",
            "timezone": "America/Phoenix",
        },
    }


def _network_change(
    session: Session, twin: TwinSettings, key: str | None, value: str, folder: Path
) -> None:
    if key == "same_day_cutoff":
        from datetime import time

        from doorstep.twin.repository import set_station_cutoffs

        set_station_cutoffs(session, time.fromisoformat(value))
    if key == "add_partner_store":
        # A real node, imported as the operator imports one (`doorstep network import`).
        path = folder / "candidate-store.geojson"
        path.write_text(
            json.dumps({"type": "FeatureCollection", "features": [candidate_store(value)]}),
            encoding="utf-8",
        )
        import_network_file(session, path)


def compare_rows(
    baseline: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each KPI's mean under both settings and the mean paired difference (same seed) with
    its 95 % confidence interval (Student's t over the seeds)."""
    rows = []
    for label, path in COMPARED:
        a = [_read(s, path) for s in baseline]
        b = [_read(s, path) for s in changed]
        diffs = [y - x for x, y in zip(a, b, strict=True)]
        n = len(diffs)
        mean = sum(diffs) / n
        sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1)) if n > 1 else 0.0
        t = T95[n - 2] if 0 < n - 1 <= len(T95) else 1.96
        half = t * sd / math.sqrt(n)
        rows.append(
            {
                "kpi": label,
                "baseline": sum(a) / n,
                "changed": sum(b) / n,
                "difference": mean,
                "ci": [mean - half, mean + half],
            }
        )
    return rows


def _read(summary: dict[str, Any], path: str) -> float:
    value: Any = summary
    for part in path.split("."):
        value = value[part]
    return float(value)


def _fmt(value: float, *, signed: bool = False) -> str:
    text = f"{value:+,.3f}" if signed else f"{value:,.3f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
