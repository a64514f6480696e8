"""Commands whose modules are imported only when they run.

Imported together, the command modules (the twin, the carrier, the web models) took
about four seconds before any command started, `doorstep --help` included. A `LazyGroup`
knows each command by its module and a one-line summary: the list in `doorstep --help` is
drawn from the summaries, and a command's module is imported when that command (or its own
``--help``) runs. `tests/cli/test_help.py` holds each summary to its command's own.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """A command (a function) or a group of them (a ``typer.Typer``) at ``module:attribute``;
    ``summary`` is its line in the list of commands."""

    module: str
    attribute: str
    summary: str

    def target(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attribute)

    def load(self, name: str) -> TyperCommand | TyperGroup:
        """The command itself, its module imported."""
        target = self.target()
        command: TyperCommand | TyperGroup
        if isinstance(target, typer.Typer):
            one_line_summaries(target)
            command = typer.main.get_group(target)
        else:
            single = typer.Typer()
            single.command(name)(target)
            one_line_summaries(single)
            command = typer.main.get_command_from_info(
                single.registered_commands[0],
                pretty_exceptions_short=True,
                rich_markup_mode=single.rich_markup_mode,
            )  # type: ignore[assignment]  # Typer types it as the base command
        command.name = name
        return command


class _Placeholder(TyperCommand):
    """A lazy command before its module is imported: its name and summary alone."""


class LazyGroup(TyperGroup):
    """A Typer group whose commands are `LazyCommand` s (``lazy`` of a subclass). Until it
    runs, each stands in the group as a placeholder that holds its summary (so the list of
    commands and the "Did you mean" of a mistyped one know it)."""

    lazy: ClassVar[dict[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        for name, entry in self.lazy.items():
            self.commands.setdefault(
                name, _Placeholder(name=name, help=entry.summary, short_help=entry.summary)
            )

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if not self._listing and isinstance(self.commands.get(cmd_name), _Placeholder):
            self.commands[cmd_name] = self.lazy[cmd_name].load(cmd_name)
        return super().get_command(ctx, cmd_name)

    @contextmanager
    def _names_only(self) -> Iterator[None]:
        """Within it, a lazy command is its placeholder: its module is not imported."""
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # Only each command's line in the list is wanted.
        with self._names_only():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        # Completing a command's name needs its name and summary alone.
        with self._names_only():
            return super().shell_complete(ctx, incomplete)


def one_line_summaries(group: typer.Typer) -> None:
    """Give each command the first sentence of its docstring, on one line, for the command
    lists: in its rich mode Typer keeps a docstring's line breaks there, so a summary broke
    mid-sentence where the source wrapped it. ``--help`` of the command shows it all."""
    for command in group.registered_commands:
        command.short_help = command.short_help or summary_of(
            command.help or inspect.getdoc(command.callback) or ""
        )
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            one_line_summaries(sub.typer_instance)


def summary_of(doc: str) -> str:
    """The first sentence of ``doc``'s first paragraph, on one line."""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    first, stop, _ = paragraph.partition(". ")
    return first + stop.strip()
