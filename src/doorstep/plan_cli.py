"""`doorstep plan`'s work: plan each station with a progress bar, and the summary table.

The command itself lives in ``cli.py`` (it opens the database like every command there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress_bar import ProgressBar
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.models import Node, NodeKind
from doorstep.planning.core import PlanProgress
from doorstep.planning.loading import DriverPlan
from doorstep.planning.page import render_plan_page
from doorstep.planning.service import plan_wave

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
) -> list[dict[str, Any]]:
    """Plan each station's wave in its own transaction; write its page when it changed.
    ``progress_to``: the console that shows a progress bar (None: none)."""
    with unit_of_work(factory) as session:
        codes = stations or list(
            session.scalars(
                select(Node.code)
                .where(Node.kind == NodeKind.STATION, Node.active.is_(True))
                .order_by(Node.code)
            )
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
                force=force,
                progress=show,
                dispatch_at=dispatch_at,
            )
            page = pages / f"plan-{code}-{day}.html"
            if run.result is not None:
                page.write_text(
                    render_plan_page(run.wave, run.result, held=len(run.plan.held or [])),
                    encoding="utf-8",
                )
            totals = run.plan.totals
            results.append(
                {
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
            )
    return results


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
