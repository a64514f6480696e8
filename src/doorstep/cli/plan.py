"""`doorstep plan`: plan each station's wave with a progress bar, then the summary table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress_bar import ProgressBar
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from doorstep.cli.common import console, database, errors, service_date
from doorstep.db import session_factory, unit_of_work
from doorstep.drivers.policy import OfferPolicy
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.planning.core import PlanProgress
from doorstep.planning.loading import DriverPlan, Trips
from doorstep.planning.service import DispatchMoment, PlanRun, plan_wave, station_codes
from doorstep.settings import get_settings
from doorstep.tracking.returns import DoorCollection
from doorstep.web.plan_page import render_plan_page

if TYPE_CHECKING:
    from distributed import Client

# What the planner is doing, in the words of the progress bar (PlanProgress.phase).
PHASES = {
    "pricing": "pricing partners, carriers",
    "routing": "routing its territories",
    "sweep": "sweeping up leftovers",
    "improving": "improving blocks",
    "finishing": "partner tours, decisions",
    "done": "storing the plan",
}


def plan_stations(
    factory: sessionmaker[Session],
    stations: list[str] | None,
    day: date,
    pages: Path,
    drivers: DriverPlan,
    time_limit: float,
    seed: int,
    force: bool,
    progress_to: Console | None,
    dispatch_at: time | None = None,
    travel: TravelModel | None = None,
    offers: OfferPolicy | None = None,
    morning_run: str = "block",
    *,
    max_iterations: int | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    last_dispatch: time | None = None,
) -> list[dict[str, Any]]:
    """Plan each station's wave in its own transaction; write its page when it changed.
    ``progress_to``: the console that shows a progress bar (None: none). ``last_dispatch``:
    the day's last dispatch moment (`Settings.planning_last_dispatch`).

    More than one station (or a ``scheduler`` address) goes to a Dask cluster: the waves'
    solves run on ``workers`` local worker processes, or on the scheduler's workers."""
    with unit_of_work(factory) as session:
        codes = stations or station_codes(session)
    moment = None if dispatch_at is None else DispatchMoment(dispatch_at, last=last_dispatch)

    def row(run: PlanRun) -> dict[str, Any]:
        return _stored(run, day, pages)

    if len(codes) > 1 or scheduler:
        return _plan_on_cluster(
            factory,
            codes,
            day,
            row,
            progress_to,
            scheduler=scheduler,
            workers=workers,
            drivers=drivers,
            time_limit_s=time_limit,
            seed=seed,
            max_iterations=max_iterations,
            force=force,
            moment=moment,
            travel=travel,
            offers=offers,
            morning_run=morning_run,
        )
    results: list[dict[str, Any]] = []
    for code in codes:
        bar = _progress(code, time_limit, progress_to)
        with bar as show, unit_of_work(factory) as session:
            run = plan_wave(
                session,
                code,
                day,
                drivers=drivers,
                time_limit_s=time_limit,
                seed=seed,
                max_iterations=max_iterations,
                workers=workers,
                force=force,
                progress=show,
                moment=moment,
                travel=travel,
                offers=offers,
                morning_run=morning_run,
            )
            results.append(row(run))
    return results


def _plan_on_cluster(
    factory: sessionmaker[Session],
    codes: list[str],
    day: date,
    row: Callable[[PlanRun], dict[str, Any]],
    console: Console | None,
    *,
    scheduler: str | None,
    workers: int,
    **options: Any,
) -> list[dict[str, Any]]:
    """The stations' solves on a Dask cluster with one progress bar over them."""
    # Imported here: Dask takes a moment to import, and most commands never need it.
    from doorstep.cluster import open_client
    from doorstep.planning.distributed import plan_waves

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    where = scheduler or f"{workers} local workers"
    with Progress(*columns, console=console, transient=True, disable=console is None) as bar:
        task = bar.add_task(f"reading {len(codes)} waves", total=len(codes))

        @contextmanager
        def cluster() -> Iterator[Client]:
            bar.update(task, description=f"starting the cluster ({where})")
            with open_client(scheduler, workers=workers) as client:
                bar.update(task, description=f"solving on {where}")
                yield client
            bar.update(task, description="storing the plans")

        return plan_waves(
            factory,
            codes,
            day,
            cluster=cluster,
            stored=row,
            solved=lambda code: bar.update(task, advance=1),
            **options,
        )


def _stored(run: PlanRun, day: date, pages: Path) -> dict[str, Any]:
    """A station's line of the summary; its plan page written when the plan is new."""
    code = run.wave.station.code
    page = pages / f"plan-{code}-{day}.html"
    if run.result is not None:
        page.write_text(
            render_plan_page(run.wave, run.result, held=len(run.plan.held or [])),
            encoding="utf-8",
        )
    totals = run.plan.totals
    return {
        "station": code,
        "date": str(day),
        "plan_id": run.plan.id,
        "new_plan": run.result is not None,
        "packages": totals["packages"],
        "cost_cents": totals["cost_cents"],
        "cost_per_package_cents": totals["cost_per_package_cents"],
        "share": totals["share"],
        "unassigned": run.plan.unassigned,
        "held": run.plan.held or [],
        "page": str(page),
    }


class _BudgetBar(ProgressColumn):
    """Time spent against the routing budget: it moves while a territory is routed, when no
    step ends for many seconds."""

    def __init__(self, budget_s: float) -> None:
        super().__init__()
        self.budget_s = max(budget_s, 0.1)

    def render(self, task: Task) -> ProgressBar:
        spent = self.budget_s if task.finished else min(task.elapsed or 0.0, self.budget_s)
        return ProgressBar(total=self.budget_s, completed=spent, width=20)


@contextmanager
def _progress(
    station: str, time_limit: float, console: Console | None
) -> Iterator[Callable[[PlanProgress], None]]:
    """A progress bar over one station's plan: its phase, time against the routing budget,
    steps done (one per territory, then sweep, improvement, finish)."""
    columns = (
        TextColumn("{task.description}"),
        _BudgetBar(time_limit),
        TimeElapsedColumn(),
        TextColumn(f"of {time_limit:g} s, step"),
        MofNCompleteColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=console is None) as bar:
        task = bar.add_task(f"{station}: loading the wave", total=None)

        def show(step: PlanProgress) -> None:
            description = f"{station}: {PHASES.get(step.phase, step.phase)}"
            bar.update(task, description=description, completed=step.done, total=step.total or None)

        yield show


def summary_table(day: date, results: list[dict[str, Any]]) -> Table:
    """One row per station: packages per channel, what is left, the cost. Fits 80 columns
    with every header whole (a dispatcher reads it in whatever terminal is at hand)."""
    # "held": same-day parcels kept for a later wave, shown only for a dispatch moment's plan.
    held = any(r.get("held") for r in results)
    table = Table(
        title=f"Plan for {day}",
        caption="packages by channel: station route, store run, partner store, carrier",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in (
        "station",
        "pkgs",
        "route",
        "store",
        "partner",
        "carrier",
        "left",
        *(("held",) if held else ()),
        "cost",
        "per pkg",
    ):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for r in results:
        share = r["share"]
        planned = r["packages"] - len(r["unassigned"])
        table.add_row(
            r["station"],
            str(r["packages"]),
            *(
                f"{round(share.get(k, 0) * planned)}"
                for k in ("station_route", "store_run", "partner_store", "carrier")
            ),
            str(len(r["unassigned"])),
            *((str(len(r.get("held", []))),) if held else ()),
            f"${r['cost_cents'] / 100:,.2f}",
            f"${r['cost_per_package_cents'] / 100:,.2f}",
        )
    return table


def plan_command(
    date: Annotated[
        str | None, typer.Option(help="Service date YYYY-MM-DD (default: today in Chandler)")
    ] = None,
    station: Annotated[
        list[str] | None, typer.Option(help="Station code (repeat; default: every station)")
    ] = None,
    drivers: Annotated[int, typer.Option(help="Drivers expected at each station", min=0)] = 30,
    mall_drivers: Annotated[int, typer.Option(help="Drivers expected at the mall", min=0)] = 6,
    time_limit: Annotated[float, typer.Option(help="Routing seconds per station")] = 20.0,
    seed: Annotated[int, typer.Option(help="Random seed (same wave + seed → same plan)")] = 1,
    force: Annotated[
        bool, typer.Option(help="Plan again even if the wave has not changed")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            help="A same-day dispatch moment HH:MM (station time): plan the orders placed by "
            "then, and hold back the same-day parcels better sent with a later wave"
        ),
    ] = None,
    last_dispatch: Annotated[
        str | None,
        typer.Option(
            help="The day's last dispatch moment HH:MM (station time): at it nothing is held "
            "(default: the setting DOORSTEP_PLANNING_LAST_DISPATCH)"
        ),
    ] = None,
    max_iterations: Annotated[
        int | None,
        typer.Option(
            help="Search iterations per territory as well as the time limit: a plan that is "
            "the same on every machine (same wave + seed)",
            min=1,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes planning stations at once (default: the setting "
            "DOORSTEP_DASK_WORKERS)",
            min=1,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A Dask scheduler's address (tcp://HOST:8786) to solve on (default: the "
            "setting DOORSTEP_DASK_SCHEDULER; unset: a local cluster)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Plan the day's waves: the cheapest channel per package, routes cut into blocks, partner
    manifests, carrier shipments. Stores the plan and writes an HTML page per station."""
    from datetime import time as _time

    settings = get_settings()
    day = service_date(date)
    try:
        dispatch_at = _time.fromisoformat(at) if at else None
    except ValueError:
        errors.print(f"[red]--at must be a clock time HH:MM, not '{at}'[/]")
        raise typer.Exit(2) from None
    try:
        last = _time.fromisoformat(last_dispatch) if last_dispatch else None
    except ValueError:
        errors.print(f"[red]--last-dispatch must be a clock time HH:MM, not '{last_dispatch}'[/]")
        raise typer.Exit(2) from None
    pages = settings.data_dir / "plans"
    pages.mkdir(parents=True, exist_ok=True)
    try:
        with database() as engine:
            results = plan_stations(
                session_factory(engine),
                station,
                day,
                pages,
                DriverPlan(
                    drivers,
                    mall_drivers,
                    trips=Trips.from_settings(settings),
                    doors=DoorCollection.from_settings(settings),
                ),
                time_limit,
                seed,
                force,
                progress_to=None if as_json else console,
                dispatch_at=dispatch_at,
                travel=settings.travel_model(),
                offers=OfferPolicy.from_settings(settings),
                morning_run=settings.morning_run,
                max_iterations=max_iterations,
                workers=workers or settings.dask_workers,
                scheduler=scheduler or settings.dask_scheduler,
                last_dispatch=last or settings.planning_last_dispatch,
            )
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(results))
        return
    console.print(summary_table(day, results))
    for r in results:
        unchanged = "" if r["new_plan"] else " (wave unchanged: the stored plan stands)"
        console.print(f"{r['station']}: {r['page']}{unchanged}")
        for item in r["unassigned"]:
            console.print(f"  unassigned {item['package']}: {item['reason']}")
        if r["held"]:
            console.print(
                f"  held for the next wave: {len(r['held'])} same-day parcels "
                "(the dispatch policy expects orders they can share a block with)"
            )
