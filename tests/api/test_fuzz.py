"""schemathesis over the whole OpenAPI document: no 5xx, and every answer as documented.

Every operation gets a fixed budget of generated cases (``DOORSTEP_FUZZ_EXAMPLES``, 15 by
default: under a minute on SQLite, about a minute on PostgreSQL), the same on every run,
each sent by merchant A's secret key, its publishable key, the operator token, a driver's
token and a partner store's staff token, against an app on a database of its own whose
commits are real. Each answer is checked by schemathesis' own checks: not a server error, a
documented status code and content type, a body that matches the documented schema. Every
failure is collected, so one run lists all of them; the summary is printed (``pytest -s``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from doorstep.api.app import create_app
from doorstep.db import session_factory, unit_of_work
from doorstep.settings import Environment, Settings
from tests.api.world import OPERATOR_TOKEN, World, build_world
from tests.shop import local

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("DOORSTEP_FUZZ_EXAMPLES", "15"))
CALLERS = ("secret_a", "publishable_a", "operator", "driver", "staff_a")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed(committed_engine: Engine) -> tuple[FastAPI, World]:
    with unit_of_work(session_factory(committed_engine)) as session:
        world = build_world(session)
    settings_ = Settings(
        environment=Environment.TEST,
        database_url=str(committed_engine.url),
        operator_token=OPERATOR_TOKEN,
        rate_limit="",  # the budget would run out; rate limits have tests of their own
        auth_failure_limit="",
    )
    app = create_app(settings_, engine=committed_engine)
    app.state.clock = lambda: local(10)
    return app, world


def fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    world: World,
    statuses: Counter[int],
    failures: dict[str, set[str]],
) -> int:
    """Run the operation's budget of cases; returns how many were generated."""
    label = f"{operation.method.upper()} {operation.path}"
    cases = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: CI is reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case: schemathesis.Case[Any]) -> None:
        nonlocal cases
        cases += 1
        for caller in CALLERS:
            response = case.call(headers=world.headers[caller])
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as failure:
                first = " ".join(str(failure).split())[:300]
                failures.setdefault(label, set()).add(
                    f"{caller} -> {response.status_code}: {first}"
                )

    fuzz()
    return cases


def test_every_operation_answers_as_documented(fuzzed: tuple[FastAPI, World]) -> None:
    app, world = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started = time.perf_counter()
    operations = 0
    cases = 0
    statuses: Counter[int] = Counter()
    failures: dict[str, set[str]] = {}
    # Sign-outs last: one revokes the token its caller uses for every other operation.
    every = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    for operation in sorted(every, key=lambda o: o.path.endswith("/sign-out")):
        operations += 1
        cases += fuzz_operation(operation, world, statuses, failures)
    elapsed = time.perf_counter() - started
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    print(
        f"\nfuzz: {operations} operations, {cases} cases, {sum(statuses.values())} requests "
        f"({len(CALLERS)} callers each), {server_errors} x 5xx, "
        f"{sum(len(v) for v in failures.values())} distinct failures, {elapsed:.1f} s; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    for label, found in sorted(failures.items()):
        for line in sorted(found):
            print(f"  {label}: {line}")
    assert operations > 50
    assert server_errors == 0
    assert failures == {}
