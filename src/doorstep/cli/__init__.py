"""The ``doorstep`` command line: one module per command group, each imported only when its
command runs (`doorstep.cli.lazy`)."""

from __future__ import annotations

from typing import ClassVar

import typer

from doorstep.cli.lazy import LazyCommand, LazyGroup


class Commands(LazyGroup):
    """Every command of ``doorstep``, in the order ``--help`` lists them."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        "plan": LazyCommand(
            "doorstep.cli.plan",
            "plan_command",
            "Plan the day's waves: the cheapest channel per package, routes cut into blocks, "
            "partner manifests, carrier shipments.",
        ),
        "simulate": LazyCommand(
            "doorstep.cli.simulate",
            "simulate_command",
            "Simulate a day of the network through doorstep's own services: shoppers at the "
            "checkouts, the planner at each cut-off and dispatch moment, drivers taking blocks "
            "and driving them, partner stores, the carrier.",
        ),
        "worker": LazyCommand(
            "doorstep.cli.worker",
            "worker",
            "Run background work: deliver outbox events to merchants' webhook endpoints "
            "(signed, with retries), run queued and periodic jobs (retention among them).",
        ),
        "serve": LazyCommand(
            "doorstep.cli.serve",
            "serve",
            "Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs).",
        ),
        "db": LazyCommand("doorstep.cli.db", "app", "The database schema."),
        "config": LazyCommand("doorstep.cli.config", "app", "The settings doorstep runs with."),
        "merchants": LazyCommand(
            "doorstep.cli.merchants", "app", "Merchant accounts and their keys."
        ),
        "demo": LazyCommand("doorstep.cli.demo", "app", "A demo day on the example network."),
        "carrier": LazyCommand(
            "doorstep.cli.carrier",
            "app",
            "The carrier fallback: labels, handover at the counter, tracking.",
        ),
        "network": LazyCommand(
            "doorstep.cli.network", "app", "Stations, stores, partner stores, service areas."
        ),
        "drivers": LazyCommand("doorstep.cli.drivers", "app", "Gig drivers: onboarding, status."),
        "partners": LazyCommand(
            "doorstep.cli.partners",
            "app",
            "Partner stores: staff, the morning drop, counter locks.",
        ),
        "jobs": LazyCommand("doorstep.cli.jobs", "app", "The job queue: list, retry, prune."),
        "users": LazyCommand(
            "doorstep.cli.users", "app", "Operator accounts: roles, passwords, API tokens."
        ),
        "bench": LazyCommand(
            "doorstep.cli.bench",
            "app",
            "Benchmarks: the route optimizer on public instances, dynamic dispatch on ORTEC.",
        ),
    }


app = typer.Typer(cls=Commands, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def doorstep() -> None:
    """doorstep: run a local same-day / two-day delivery network."""
