"""The console's sign-in throttle under real concurrency: counting comes before checking."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from doorstep.api.app import create_app
from doorstep.db import session_factory, unit_of_work
from doorstep.settings import Settings
from tests.web.conftest import CONSOLE_EMAIL, open_shop_with_console

GUESSES = 64


def test_parallel_wrong_passwords_get_exactly_the_limit_of_checks(
    committed_engine: Engine, settings: Settings
) -> None:
    with unit_of_work(session_factory(committed_engine)) as session:
        open_shop_with_console(session)
    app = create_app(
        settings.model_copy(update={"console_login_limit": "10/15 minutes"}),
        engine=committed_engine,
    )
    client = TestClient(app, raise_server_exceptions=False)
    start = Barrier(GUESSES)

    def guess(number: int) -> int:
        start.wait()
        data = {"email": CONSOLE_EMAIL, "password": f"guess-{number}"}
        status: int = client.post("/console/login", data=data).status_code
        return status

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        answers = Counter(pool.map(guess, range(GUESSES)))

    # 401: the password was checked and wrong; 429: refused without a check.
    assert answers == {401: 10, 429: GUESSES - 10}
