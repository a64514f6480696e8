"""`doorstep config`: every setting, its environment variable, default, value and meaning.

``--markdown`` writes the reference table of docs/configuration.md (a test keeps that file in
step with the settings object)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from pydantic_core import PydanticUndefined
from rich import box
from rich.table import Table

from doorstep.cli.common import console
from doorstep.settings import Settings, get_settings

app = typer.Typer(help="The settings doorstep runs with.", no_args_is_help=False)

# Values shown as set or not, never printed.
SECRET_NAMES = frozenset({"operator_token", "secret_key"})


def _shown(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "(set)" if value.get_secret_value() else ""
    if isinstance(value, tuple | list | dict):
        return json.dumps(value, default=str)
    return "" if value is None else str(getattr(value, "value", value))


def rows(settings: Settings | None = None) -> list[tuple[str, str, str, str]]:
    """(variable, default, current value, meaning) of every setting, in declaration order."""
    current = settings or get_settings()
    found = []
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        default_text = "" if default is PydanticUndefined else _shown(default)
        value = getattr(current, name)
        value_text = "(set)" if name in SECRET_NAMES and value != default else _shown(value)
        if name in SECRET_NAMES:
            default_text = "a development value"
        found.append(
            (f"DOORSTEP_{name.upper()}", default_text, value_text, field.description or "")
        )
    return found


def markdown() -> str:
    """The reference table of docs/configuration.md."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for variable, default, _, meaning in rows(Settings(_env_file=None)):
        shown = f"`{default}`" if default else "unset"
        lines.append(f"| `{variable}` | {_cell(shown)} | {_cell(meaning)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


@app.callback(invoke_without_command=True)
def config(
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference table of the docs")
    ] = False,
) -> None:
    """Every setting with its environment variable, its value here and its meaning (secrets
    only say whether they are set)."""
    if as_markdown:
        print(markdown(), end="")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Settings (DOORSTEP_… variables)")
    table.add_column("variable", overflow="fold")
    table.add_column("value", overflow="fold")
    table.add_column("meaning", overflow="fold", ratio=2)
    for variable, default, value, meaning in rows():
        marker = "" if value == default else " [yellow](changed)[/]"
        table.add_row(variable, (value or "—") + marker, meaning)
    console.print(table)
