"""``doorstep bench``: solve benchmark instances and whole benchmark folders.

doorstep bench solve ../shared/benchmarks/solomon/C101.vrp --time-limit 5 --json
doorstep bench suite ../shared/benchmarks/solomon --time-limit 10 --engines pyvrp,vroom --jobs 2
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from doorstep.cli.dynamic_dispatch import dynamic
from doorstep.optimize.engines import ENGINES
from doorstep.optimize.engines.pyvrp_search import default_workers
from doorstep.optimize.errors import InstanceFormatError, ProblemError, UnsupportedFeatureError
from doorstep.optimize.suite import (
    InstanceResult,
    find_instances,
    run_instance,
    summarise,
    write_csv,
)

app = typer.Typer(
    help="Benchmarks: the route optimizer on public instances, dynamic dispatch on ORTEC.",
    no_args_is_help=True,
)
# Wide output when logging to a file, so the side-by-side table stays readable.
console = Console(width=None if sys.stdout.isatty() else 200)


def _engines(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINES]
    if unknown or not names:
        raise typer.BadParameter(f"unknown engine(s) {unknown}; choose from {sorted(ENGINES)}")
    return names


@app.command("solve")
def solve_command(
    instance: Annotated[
        Path, typer.Argument(help="Solomon/GH .vrp, Li & Lim .txt, ORTEC .txt[.gz]")
    ],
    engine: Annotated[str, typer.Option(help="pyvrp or vroom")] = "pyvrp",
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds")] = 10.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    solution_out: Annotated[
        Path | None, typer.Option("--solution-out", help="write 'Route #k: …' / 'Cost X'")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Solve sub-problems of a large instance on N workers at once (a local "
            "Dask cluster for N > 1; default: the engine alone on the whole instance, or "
            "PyVRP's sub-problems one at a time above 1,000 stops)",
            min=1,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler's address (tcp://HOST:8786) for the sub-problems"),
    ] = None,
    cores: Annotated[
        int | None,
        typer.Option(help="Cores the search runs on (default: the machine's, capped)", min=1),
    ] = None,
    whole: Annotated[
        bool,
        typer.Option("--whole", help="The engine on the whole instance even above 1,000 stops"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Solve one instance and check the result with the independent checker."""
    _engines(engine)
    if whole and (workers is not None or scheduler):
        raise typer.BadParameter(
            "--whole solves the instance whole: leave out --workers and --scheduler"
        )
    out = str(solution_out) if solution_out else None
    try:
        if scheduler or (workers or 1) > 1:
            # Imported here: Dask takes a moment to import, and a plain solve never needs it.
            from doorstep.cluster import open_client, runner_on

            with open_client(scheduler, workers=workers or 2) as client:
                count = len(client.scheduler_info()["workers"])
                result = run_instance(
                    str(instance), engine, time_limit, seed, out, workers=count,
                    run=runner_on(client),
                )  # fmt: skip
        else:
            result = run_instance(
                str(instance), engine, time_limit, seed, out, workers=workers, cores=cores,
                whole=whole,
            )  # fmt: skip
    except (InstanceFormatError, ProblemError, UnsupportedFeatureError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from error
    if as_json:
        typer.echo(json.dumps(asdict(result)))
        return
    table = Table(title=f"{result.instance} ({result.engine}, {time_limit:g} s)")
    for key, value in asdict(result).items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _results_table(results: list[InstanceResult], engines: list[str]) -> Table:
    table = Table(title="per instance")
    table.add_column("instance")
    table.add_column("bks veh/dist", justify="right")
    for engine in engines:
        table.add_column(f"{engine} veh", justify="right")
        table.add_column(f"{engine} distance", justify="right")
        table.add_column(f"{engine} gap %", justify="right")
    by_key = {(r.instance, r.engine): r for r in results}
    for name in sorted({r.instance for r in results}):
        first = next(r for r in results if r.instance == name)
        row = [name, f"{first.bks_vehicles or '-'}/{_fmt(first.bks_distance, 1)}"]
        for engine in engines:
            r = by_key.get((name, engine))
            if r is None:
                row += ["", "", ""]
                continue
            flag = "" if r.feasible and r.complete else " ✗"
            row += [str(r.vehicles), f"{r.distance:.1f}{flag}", _fmt(r.gap_pct)]
        table.add_row(*row)
    return table


def _summary_table(results: list[InstanceResult], engines: list[str]) -> Table:
    table = Table(title="means")
    for column in (
        "engine",
        "instances",
        "feasible",
        "complete",
        "vehicles",
        "veh = bks",
        "distance",
        "gap %",
        "gap n",
        "runtime s",
        "max over limit s",
    ):
        table.add_column(column, justify="right")
    for engine in engines:
        s = summarise(results, engine)
        table.add_row(
            engine, str(s.instances), str(s.feasible), str(s.complete),
            _fmt(s.mean_vehicles), str(s.vehicles_equal_bks), _fmt(s.mean_distance, 1),
            _fmt(s.mean_gap_pct, 3), str(s.gap_count), _fmt(s.mean_runtime_s, 1),
            _fmt(s.max_over_limit_s),
        )  # fmt: skip
    return table


@app.command("suite")
def suite_command(
    folder: Annotated[Path, typer.Argument(help="folder of instance files")],
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds per run")] = 10.0,
    engines: Annotated[str, typer.Option(help="comma-separated engines")] = "pyvrp,vroom",
    jobs: Annotated[int, typer.Option("--jobs", help="parallel processes")] = 1,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="CSV path")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N instances")] = None,
    cores: Annotated[
        int | None,
        typer.Option(help="Cores each search runs on (default: the machine's over --jobs)", min=1),
    ] = None,
) -> None:
    """Run every instance of FOLDER with each engine and compare with the best-known."""
    names = _engines(engines)
    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder")
    paths = find_instances(folder)[:limit]
    if not paths:
        raise typer.BadParameter(f"no instance files in {folder}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = csv_out or Path("benchmarks/results") / f"suite-{folder.name}-{time_limit:g}s-{stamp}.csv"
    results: list[InstanceResult] = []
    failures: list[str] = []
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip
    # Runs at once share the machine's cores rather than each taking them all.
    per_run = cores or max(1, default_workers() // max(1, jobs))
    with progress, ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        task = progress.add_task(
            f"{folder.name} x {','.join(names)}", total=len(paths) * len(names)
        )
        futures: dict[Future[InstanceResult], str] = {
            pool.submit(
                run_instance, str(path), engine, time_limit, seed, cores=per_run
            ): f"{path.name}/{engine}"
            for path in paths
            for engine in names
        }
        for future in as_completed(futures):
            try:
                results.append(future.result())
            except Exception as error:  # one broken instance must not lose the others
                failures.append(f"{futures[future]}: {error}")
            progress.advance(task)
            write_csv(out, sorted(results, key=lambda r: (r.instance, r.engine)))
    results.sort(key=lambda r: (r.instance, r.engine))
    console.print(_results_table(results, names))
    console.print(_summary_table(results, names))
    for failure in failures:
        console.print(f"[red]failed:[/red] {failure}")
    console.print(f"CSV: {out}")


# The dynamic dispatch benchmark sits beside the static ones.
app.command("dynamic")(dynamic)

if __name__ == "__main__":
    app()
