"""The ``doorstep`` command line: one module per command group, assembled here."""

from __future__ import annotations

import inspect

import typer

from doorstep.cli import (
    bench,
    carrier,
    config,
    db,
    demo,
    drivers,
    dynamic_dispatch,
    jobs,
    merchants,
    network,
    partners,
    plan,
    simulate,
    users,
    worker,
)
from doorstep.cli.serve import serve

app = typer.Typer(
    help="doorstep: run a local same-day / two-day delivery network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(config.app, name="config")
app.add_typer(merchants.app, name="merchants")
app.add_typer(demo.app, name="demo")
app.add_typer(carrier.app, name="carrier")
app.add_typer(network.app, name="network")
app.add_typer(drivers.app, name="drivers")
app.add_typer(partners.app, name="partners")
app.add_typer(jobs.app, name="jobs")
app.add_typer(users.app, name="users")
app.command("plan")(plan.plan_command)
app.command("simulate")(simulate.simulate_command)
app.command("worker")(worker.worker)
app.command("serve")(serve)
# `doorstep bench` holds the optimizer's static benchmarks and the dynamic dispatch benchmark.
bench.app.command("dynamic")(dynamic_dispatch.dynamic)
app.add_typer(
    bench.app,
    name="bench",
    help="Benchmarks: the route optimizer on public instances, dynamic dispatch on ORTEC.",
)


def _one_line_summaries(group: typer.Typer) -> None:
    """Give each command the first sentence of its docstring, on one line, for the command
    lists: in its rich mode Typer keeps a docstring's line breaks there, so a summary broke
    mid-sentence where the source wrapped it. ``--help`` of the command shows it all."""
    for command in group.registered_commands:
        doc = command.help or inspect.getdoc(command.callback) or ""
        paragraph = " ".join(doc.split("\n\n")[0].split())
        first, stop, _ = paragraph.partition(". ")
        command.short_help = command.short_help or first + stop.strip()
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _one_line_summaries(sub.typer_instance)


_one_line_summaries(app)
