"""`doorstep demo`: the demo merchants and a day of orders on the example network."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from doorstep.cli.common import console, database
from doorstep.db import session_factory, unit_of_work

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
