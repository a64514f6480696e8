"""The command line's help reads whole at 80 columns."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from doorstep.cli import app


def _groups(group: typer.Typer, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        assert sub.name is not None
        found += _groups(sub.typer_instance, (*path, sub.name))
    return found


def test_every_command_list_has_one_sentence_summaries_that_fit_80_columns() -> None:
    runner = CliRunner()
    for path in _groups(app):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, path
        assert max(len(line) for line in result.output.splitlines()) <= 80, path
    for command in app.registered_commands:
        summary = command.short_help or ""
        assert summary, command.name
        assert "\n" not in summary, command.name
        assert summary.endswith((".", ")")), (command.name, summary)


def test_a_summary_that_wrapped_in_the_source_reads_as_one_line() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}, terminal_width=80)
    rows = [line.strip("│ ").strip() for line in result.output.splitlines()]
    text = " ".join(rows)
    # "plan"'s docstring wraps between "partner" and "manifests" in the source.
    assert "cut into blocks, partner manifests, carrier shipments." in text
