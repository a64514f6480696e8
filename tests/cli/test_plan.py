"""The summary `doorstep plan` prints: every header whole in an 80-column terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rich.console import Console

from doorstep.cli.plan import summary_table


def _station(code: str, held: int) -> dict[str, Any]:
    return {
        "station": code,
        "packages": 1_240,
        "unassigned": [{"package": "p", "reason": "no_capacity"}] * 3,
        "held": [{"package": "h", "reason": "held_for_next_wave"}] * held,
        "share": {"station_route": 0.62, "store_run": 0.2, "partner_store": 0.1, "carrier": 0.08},
        "cost_cents": 1_234_567,
        "cost_per_package_cents": 999,
    }


@pytest.mark.parametrize("held", [0, 12])
def test_the_summary_fits_80_columns_with_whole_headers(held: int) -> None:
    console = Console(width=80, record=True, color_system=None)
    console.print(summary_table(date(2026, 11, 24), [_station("DCH1", held), _station("DGB1", 0)]))
    text = console.export_text()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    header = next(line for line in text.splitlines() if "station" in line and "pkgs" in line)
    columns = ["station", "pkgs", "route", "store", "partner", "carrier", "left", "cost", "per pkg"]
    for column in columns + (["held"] if held else []):
        assert column in header
    assert "$12,345.67" in text
    assert "767" in text  # 62 % of the 1,237 packages planned
