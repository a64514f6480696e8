"""`doorstep demo`: the demo merchants and a day of orders on the example network."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from doorstep.cli.common import console, database
from doorstep.db import session_factory, unit_of_work
from doorstep.models import utcnow

if TYPE_CHECKING:
    from doorstep.twin.service import DemoFaces

app = typer.Typer(help="A demo day on the example network.", no_args_is_help=True)


@app.command("seed")
def demo_seed(
    orders: Annotated[int, typer.Option(help="How many orders to place", min=0)] = 300,
    date: Annotated[
        str | None, typer.Option(help="Service date YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
) -> None:
    """Create the demo merchants (once) and place a morning's orders through the real API
    services: promises, stock reservations, packages, events."""
    from datetime import datetime as _datetime
    from zoneinfo import ZoneInfo

    from doorstep.demo.seed import morning_of, seed_demo_day
    from doorstep.promise.rules import PromisePolicy
    from doorstep.settings import get_settings

    day = (
        _datetime.fromisoformat(date).replace(tzinfo=ZoneInfo("America/Phoenix")) if date else None
    )
    order_time = morning_of(day)
    status = console.status(f"Placing {orders} orders at {order_time:%Y-%m-%d %H:%M %Z}…")
    with status, database() as engine, unit_of_work(session_factory(engine)) as session:
        summary = seed_demo_day(
            session,
            orders=orders,
            order_time=order_time,
            seed=seed,
            policy=PromisePolicy(travel=get_settings().travel_model()),
        )
    again = f" ({summary.replayed} already placed by an earlier run)" if summary.replayed else ""
    table = Table(title=f"Demo day {order_time:%a %d %b %Y}: {summary.orders} orders placed{again}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for speed, count in sorted(summary.orders_by_speed.items()):
        table.add_row(f"orders {speed}", str(count))
    for channel, count in sorted(summary.packages_by_channel.items()):
        table.add_row(f"packages by {channel} (all in the database)", str(count))
    for reason, count in sorted(summary.refused.items()):
        table.add_row(f"refused: {reason}", str(count))
    console.print(table)
    for name, access in summary.merchants.items():
        console.print(
            f"[bold]{name}[/]: console {access['console_email']} / doorstep-demo, "
            f"secret key {access['secret_key']}, "
            f"publishable key {access['publishable_key']}"
        )


@app.command("day")
def demo_day(
    orders: Annotated[int, typer.Option(help="Shoppers during the day", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    date: Annotated[
        str | None, typer.Option(help="The day YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    time_limit: Annotated[
        float, typer.Option(help="Routing seconds per station plan: a safety net")
    ] = 300.0,
) -> None:
    """The demo day: the demo merchants (once), then today simulated through the real
    services (shoppers, planner, drivers, partner stores, carrier), its KPIs and where to
    click through it. Safe to run again: a day already simulated is shown, not redone."""
    from doorstep.cli.common import service_date
    from doorstep.cli.simulate import print_summary, run_once, scale_for, twin_settings
    from doorstep.logs import configure_logging
    from doorstep.migrate import upgrade
    from doorstep.settings import get_settings
    from doorstep.sim import SimConfig
    from doorstep.twin.service import demo_faces

    settings = get_settings()
    configure_logging(level="WARNING", json=settings.log_json)
    day = service_date(date)
    out = settings.data_dir / "twin"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"day-{day}-seed{seed}"
    config = SimConfig(orders=orders, seed=seed, driver_scale=scale_for(orders))
    with database() as engine:
        upgrade(engine)
        summary = run_once(
            session_factory(engine),
            config,
            twin_settings(day, seed, time_limit),
            out / f"{stem}.html",
            out / f"{stem}.json",
            quiet=False,
        )
        with unit_of_work(session_factory(engine)) as session:
            faces = demo_faces(session, public_url=settings.public_url, now=utcnow())
    print_summary(summary)
    prepared = summary.get("prepared", {})
    if summary.get("replayed"):
        console.print("Nothing was changed: the database already holds this day.")
    elif prepared.get("imported_example_network"):
        console.print("Imported the example network (Chandler, AZ).")
    for name, access in prepared.get("merchants", {}).items():
        console.print(
            f"[bold]{name}[/]: console {access['console_email']} / doorstep-demo, "
            f"secret key {access['secret_key']}"
        )
    print_links(summary, faces)


def print_links(summary: dict[str, object], faces: DemoFaces) -> None:
    """Where to click through the day once `doorstep serve` runs (one link a line, so a
    narrow terminal does not cut them)."""
    from pathlib import Path

    base = "http://127.0.0.1:8000"
    report = Path(str(summary["report"])).resolve()
    driver = summary.get("driver")
    console.print("[bold]Click through the day[/] (the server starts next):")
    links = [("The day's report (opens offline)", report.as_uri())]
    if isinstance(driver, dict):
        links.append(
            (
                f"A driver's view of block {driver['block_id']} ({driver['doors']} doors)",
                f"{base}/driver/ — sign in as {driver['email']}; the code arrives in "
                f"{base}/dev/outbox",
            )
        )
    if faces.store_email is not None:
        links.append(
            (
                f"Partner store {faces.store_code}'s manifest and counter",
                f"{base}/store/ — sign in as {faces.store_email}; the code arrives in "
                f"{base}/dev/outbox",
            )
        )
    if faces.tracking_url is not None:
        links.append(("A shopper's tracking page", faces.tracking_url))
    links += [
        ("The merchant console", f"{base}/console/login — copper@example.com / doorstep-demo"),
        (
            "The operator console",
            f"{base}/ops/sign-in — {faces.operator_email} / {faces.operator_password}",
        ),
        ("The API", f"{base}/docs"),
    ]
    for what, where in links:
        console.print(f"  {what}: {where}", soft_wrap=True)
