"""`doorstep config` and the configuration reference it writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from doorstep.cli import app
from doorstep.cli.config import markdown
from doorstep.settings import Settings, get_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_says_what_it_is_for() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert missing == []


def test_the_reference_in_the_docs_is_the_settings_objects() -> None:
    assert DOCS.read_text().endswith(markdown()), "run: doorstep config --markdown"


def test_config_shows_values_and_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_OPERATOR_TOKEN", "a-very-particular-operator-token-value")
    monkeypatch.setenv("DOORSTEP_TRAVEL_CIRCUITY", "1.4")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["config"], env={"COLUMNS": "200"}, terminal_width=200)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "a-very-particular" not in result.output
    assert "DOORSTEP_TRAVEL_CIRCUITY" in result.output
    assert "1.4 (changed)" in result.output
