"""`doorstep bench dynamic`: play the ORTEC dynamic benchmark with a dispatch policy.

Run it directly as ``python -m doorstep.cli.dynamic_dispatch INSTANCE --seed N``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from doorstep.dynamic_dispatch.benchmark_files import ConfigsError, DynamicConfig, locate
from doorstep.dynamic_dispatch.benchmark_files import read_dynamic_configs as read_configs
from doorstep.dynamic_dispatch.environment import epoch_range
from doorstep.dynamic_dispatch.ortec_instance import InstanceFormatError, read_ortec_instance
from doorstep.dynamic_dispatch.runner import (
    POLICY_NAMES,
    RunResult,
    UnknownPolicyError,
    benchmark_policy,
    run_policy,
)

app = typer.Typer(help="Dynamic same-day dispatch benchmark (EURO Meets NeurIPS 2022 rules).")


def _table(result: RunResult) -> Table:
    table = Table(title=f"{result.instance}  seed {result.seed}  policy {result.policy}")
    for column in ("epoch", "new", "open", "must", "dispatched", "routes", "cost", "seconds"):
        table.add_column(column, justify="right")
    for row in result.epochs:
        table.add_row(
            str(row.epoch),
            str(row.new),
            str(row.open),
            str(row.must_dispatch),
            str(row.dispatched),
            str(row.routes),
            f"{row.cost:,}",
            f"{row.seconds:.1f}",
        )
    table.add_section()
    table.add_row("total", str(result.requests), "", "", "", "", f"{result.total_cost:,}", "")
    return table


def _run(config: DynamicConfig, policy_name: str, progress: Progress) -> RunResult:
    instance = read_ortec_instance(config.instance)
    task = progress.add_task(
        f"{instance.name} seed {config.seed} {policy_name}", total=len(epoch_range(instance))
    )
    result = run_policy(
        instance,
        benchmark_policy(policy_name, instance),
        seed=config.seed,
        epoch_time_limit=config.epoch_time_limit,
        on_epoch=lambda _outcome: progress.advance(task),
    )
    return result


@app.command()
def dynamic(
    instance: Annotated[
        Path | None,
        typer.Argument(
            help="ORTEC instance (.txt or .txt.gz); relative paths may be under the"
            " benchmarks folder."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="instance_seed of the request generator.")] = 1,
    epoch_time_limit: Annotated[
        float | None,
        typer.Option(help="Seconds of wall time per epoch (default: configs' epoch_tlim, or 60)."),
    ] = None,
    policy: Annotated[
        str, typer.Option(help=f"One of: {', '.join(POLICY_NAMES)} (ours by default).")
    ] = POLICY_NAMES[0],
    configs: Annotated[
        Path | None,
        typer.Option(help="Run every dynamic entry of this configs.json instead of INSTANCE."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Play every epoch with a dispatch policy; print per-epoch rows and the total cost."""
    try:
        if configs is not None:
            runs = read_configs(configs)
            if epoch_time_limit is not None:
                runs = [DynamicConfig(c.instance, c.seed, epoch_time_limit) for c in runs]
        elif instance is not None:
            runs = [DynamicConfig(locate(instance), seed, epoch_time_limit or 60.0)]
        else:
            raise typer.BadParameter("give an INSTANCE or --configs FILE")
        if policy not in POLICY_NAMES:
            raise UnknownPolicyError(
                f"unknown policy {policy!r}; choose from {', '.join(POLICY_NAMES)}"
            )
        if any(run.epoch_time_limit <= 0 for run in runs):
            raise typer.BadParameter("--epoch-time-limit must be positive")
    except (FileNotFoundError, ConfigsError, UnknownPolicyError) as exc:
        raise typer.BadParameter(str(exc)) from exc

    # Progress goes to stderr so that --json output stays one clean object on stdout.
    console = Console(stderr=True)
    results: list[RunResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as progress:
        for run in runs:
            try:
                results.append(_run(run, policy, progress))
            except (FileNotFoundError, InstanceFormatError) as exc:
                raise typer.BadParameter(str(exc)) from exc

    if as_json:
        if configs is None:
            payload: dict[str, object] = results[0].to_json()
        else:
            payload = {
                "policy": policy,
                "total_cost": sum(r.total_cost for r in results),
                "requests": sum(r.requests for r in results),
                "runs": [r.to_json() for r in results],
            }
        typer.echo(json.dumps(payload))
        return
    out = Console()
    for result in results:
        out.print(_table(result))
    if len(results) > 1:
        out.print(f"total over {len(results)} runs: {sum(r.total_cost for r in results):,}")


if __name__ == "__main__":
    app()
