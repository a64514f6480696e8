"""The command line's help reads whole at 80 columns, and lists the commands without
importing them."""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.testing import CliRunner

from doorstep.cli import Commands, app
from doorstep.cli.lazy import summary_of


def _groups(group: typer.Typer, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [path]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None
        assert sub.name is not None
        found += _groups(sub.typer_instance, (*path, sub.name))
    return found


def _every_group() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [()]
    for name, entry in Commands.lazy.items():
        target = entry.target()
        if isinstance(target, typer.Typer):
            found += _groups(target, (name,))
    return found


def test_every_command_list_has_one_sentence_summaries_that_fit_80_columns() -> None:
    runner = CliRunner()
    for path in _every_group():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, path
        assert max(len(line) for line in result.output.splitlines()) <= 80, path
    for name, entry in Commands.lazy.items():
        summary = entry.summary
        assert "\n" not in summary, name
        assert summary.endswith((".", ")")), (name, summary)


def test_each_listed_summary_is_its_commands_own() -> None:
    # The list is drawn without importing the commands: its lines must not drift from them.
    for name, entry in Commands.lazy.items():
        target = entry.target()
        own = target.info.help if isinstance(target, typer.Typer) else target.__doc__
        assert isinstance(own, str), name
        assert entry.summary == summary_of(own), name


def test_a_summary_that_wrapped_in_the_source_reads_as_one_line() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}, terminal_width=80)
    rows = [line.strip("│ ").strip() for line in result.output.splitlines()]
    text = " ".join(rows)
    # "plan"'s docstring wraps between "partner" and "manifests" in the source.
    assert "cut into blocks, partner manifests, carrier shipments." in text


def test_the_list_of_commands_imports_none_of_them() -> None:
    # Importing every command module took about four seconds before `doorstep --help`
    # printed a line; a command imports its own module only.
    script = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from doorstep.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('doorstep'))))\n"
        "assert CliRunner().invoke(app, ['db', '--help']).exit_code == 0\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('doorstep'))))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    after_list, after_db = (json.loads(line) for line in run.stdout.splitlines())
    assert after_list == ["doorstep", "doorstep.cli", "doorstep.cli.lazy"]
    commands = {entry.module for entry in Commands.lazy.values()}
    assert commands & set(after_db) == {"doorstep.cli.db"}


def test_a_mistyped_command_is_told_the_one_it_is_near() -> None:
    result = CliRunner().invoke(app, ["benc"])
    assert result.exit_code == 2
    assert "Did you mean 'bench'?" in result.output
