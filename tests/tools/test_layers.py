"""The contract that keeps queries out of faces, and the build's contracts as a whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.layers import violations_in

REPO = Path(__file__).resolve().parents[2]


def test_a_query_builder_or_a_session_query_in_a_face_is_reported() -> None:
    source = (
        "from sqlalchemy import select, Engine\n"
        "from sqlalchemy.orm import Session\n"
        "def page(session: Session) -> None:\n"
        "    session.scalars(select(1))\n"
        "    request.state.session.get(Thing, 1)\n"
        "    service.list_things(session)\n"
    )
    found = [(v.line, v.what) for v in violations_in("doorstep.web.page", source)]
    assert found == [
        (1, "imports select from sqlalchemy"),
        (4, "calls session.scalars()"),
        (5, "calls session.get()"),
    ]


def test_handing_the_session_to_a_service_is_allowed() -> None:
    source = "from sqlalchemy.orm import Session\ndef page(session: Session):\n    f(session)\n"
    assert violations_in("doorstep.web.page", source) == []


def test_the_project_keeps_its_import_contracts() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
