"""The operator behind an API request, and the one check every operator endpoint makes.

``Depends(operator_may(Action.PLANS_CREATE))`` on an endpoint (or its router): the request must
carry an operator's ``opr_…`` token (or, in development and tests, the shared
``DOORSTEP_OPERATOR_TOKEN``, which acts as an admin), and the operator's role must be allowed
the action by `doorstep.ops.policy`. Every other token (a merchant's key, a driver's, partner
staff's) is not an operator's: 401. A change is written to the audit log in the request's own
transaction, so it is kept exactly when the change is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doorstep.api.deps import DbSession, NotAuthenticated, Now, SettingsDep
from doorstep.models import OperatorRole
from doorstep.ops import audit, policy, users
from doorstep.ops.policy import Action
from doorstep.ops.users import Operator
from doorstep.settings import Environment, Settings

_bearer = HTTPBearer(auto_error=False, description="An operator's token (opr_…)")

#: Who the shared development token is, in the audit log.
SHARED_TOKEN = Operator(None, "shared operator token", OperatorRole.ADMIN)


def shared_token_works(settings: Settings) -> bool:
    """The shared token is a development convenience: refused in production."""
    return settings.environment is not Environment.PRODUCTION


def identify_operator(
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Operator:
    if credentials is None:
        raise NotAuthenticated("missing 'Authorization: Bearer <operator token>' header")
    token = credentials.credentials
    if shared_token_works(settings) and secrets.compare_digest(
        token.encode(), settings.operator_token.encode()
    ):
        return SHARED_TOKEN
    if not token.startswith("opr_"):
        raise NotAuthenticated("not an operator token")
    return users.authenticate(session, token, now=now)


CurrentOperator = Annotated[Operator, Depends(identify_operator)]


def operator_may(action: Action) -> Callable[..., Operator]:
    """A dependency: the request's operator, allowed ``action`` (else 401 or 403)."""

    def check(
        request: Request, session: DbSession, now: Now, operator: CurrentOperator
    ) -> Operator:
        policy.check(operator.role, action)
        if action not in policy.READS:
            audit.record(
                session,
                operator.actor,
                action.value,
                "request",
                None,
                at=now,
                after={"method": request.method, "path": request.url.path},
            )
        return operator

    check.action = action  # type: ignore[attr-defined]  # read by the authorization test
    return check
