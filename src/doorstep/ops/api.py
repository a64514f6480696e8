"""Operator API under ``/v1/ops/``: who I am, the people and their tokens, the audit log.

Every endpoint names its action; `doorstep.ops.policy` decides who may take it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from doorstep.api.deps import DbSession, NotAuthenticated, Now, RowId
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.drivers import boost
from doorstep.drivers.policy import OfferPolicy
from doorstep.errors import InvalidInput
from doorstep.models import ExceptionKind, ExceptionStatus
from doorstep.ops import audit, console, numbers, policy, users
from doorstep.ops import exceptions as ops_exceptions
from doorstep.ops.policy import Action, ActionNotAllowed
from doorstep.ops.schemas import (
    AuditEntryOut,
    CreatedOperatorOut,
    DayNumbersOut,
    ExceptionActionIn,
    ExceptionOut,
    IssuedTokenOut,
    MeOut,
    OperatorIn,
    OperatorOut,
    OperatorPatch,
    TokenIn,
    TokenOut,
)
from doorstep.ops.users import Operator

router = APIRouter(
    prefix="/v1/ops",
    tags=["operators"],
    responses=error_responses(NotAuthenticated, ActionNotAllowed),
)


Viewer = Annotated[Operator, Depends(operator_may(Action.CONSOLE_VIEW))]
UsersReader = Annotated[Operator, Depends(operator_may(Action.USERS_READ))]
UsersManager = Annotated[Operator, Depends(operator_may(Action.USERS_MANAGE))]
AuditReader = Annotated[Operator, Depends(operator_may(Action.AUDIT_READ))]
ExceptionsReader = Annotated[Operator, Depends(operator_may(Action.EXCEPTIONS_READ))]
ExceptionsActor = Annotated[Operator, Depends(operator_may(Action.EXCEPTIONS_ACT))]
NumbersReader = Annotated[Operator, Depends(operator_may(Action.NUMBERS_READ))]


@router.get("/me", summary="The operator behind the token, and what their role may do")
def me(operator: Viewer) -> MeOut:
    return MeOut(
        user_id=operator.user_id,
        label=operator.label,
        role=operator.role,
        allowed=sorted(a.value for a in Action if policy.may(operator.role, a)),
    )


@router.get("/users", summary="Every operator account")
def list_users(session: DbSession, _: UsersReader) -> list[OperatorOut]:
    return [OperatorOut.model_validate(u) for u in users.list_operators(session)]


@router.post(
    "/users",
    status_code=201,
    summary="Create an operator account and its first API token",
    responses=error_responses(users.OperatorEmailTaken, InvalidInput),
)
def create_user(
    body: OperatorIn, session: DbSession, now: Now, operator: UsersManager
) -> CreatedOperatorOut:
    made = users.create_operator(
        session,
        body.email,
        body.role,
        name=body.name,
        password=body.password,
        by=operator.actor,
        now=now,
    )
    return CreatedOperatorOut(id=made.user.id, token=made.token)


@router.patch(
    "/users/{user_id}",
    summary="Change an operator's role, name, or close the account",
    responses=error_responses(users.OperatorNotFound),
)
def update_user(
    user_id: RowId,
    body: OperatorPatch,
    session: DbSession,
    now: Now,
    operator: UsersManager,
) -> OperatorOut:
    user = users.update_operator(
        session,
        user_id,
        role=body.role,
        active=body.active,
        name=body.name,
        by=operator.actor,
        now=now,
    )
    return OperatorOut.model_validate(user)


@router.post(
    "/users/{user_id}/tokens",
    status_code=201,
    summary="Another API token for an operator (shown only now)",
    responses=error_responses(users.OperatorNotFound),
)
def issue_token(
    user_id: RowId,
    body: TokenIn,
    session: DbSession,
    now: Now,
    operator: UsersManager,
) -> IssuedTokenOut:
    token = users.issue_token(session, user_id, label=body.label, by=operator.actor, now=now)
    return IssuedTokenOut(token=token)


@router.get("/tokens", summary="Operators' API tokens and page sessions (never the secret)")
def list_tokens(
    session: DbSession,
    _: UsersReader,
    user_id: RowId | None = None,
) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in users.list_tokens(session, user_id)]


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke an operator's token: it stops working at once",
    responses=error_responses(users.TokenNotFound),
)
def revoke_token(token_id: RowId, session: DbSession, now: Now, operator: UsersManager) -> TokenOut:
    return TokenOut.model_validate(
        users.revoke_token(session, token_id, by=operator.actor, now=now)
    )


@router.get("/audit", summary="The audit log, newest first")
def audit_log(
    session: DbSession,
    _: AuditReader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    subject_type: Annotated[str | None, Query(max_length=64)] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AuditEntryOut]:
    return [
        AuditEntryOut.model_validate(e)
        for e in audit.recent(
            session, limit=limit, subject_type=subject_type, subject_id=subject_id
        )
    ]


@router.get("/exceptions", summary="Exceptions to act on, newest first (open ones by default)")
def list_exceptions(
    session: DbSession,
    _: ExceptionsReader,
    status: ExceptionStatus | None = ExceptionStatus.OPEN,
    kind: ExceptionKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ExceptionOut]:
    rows = ops_exceptions.list_exceptions(session, status=status, kind=kind, limit=limit)
    return [ExceptionOut.model_validate(r) for r in rows]


@router.get(
    "/exceptions/{exception_id}",
    summary="One exception and the actions that apply to it now",
    responses=error_responses(ops_exceptions.ExceptionNotFound),
)
def get_exception(exception_id: RowId, session: DbSession, _: ExceptionsReader) -> ExceptionOut:
    return ExceptionOut.model_validate(ops_exceptions.get_exception(session, exception_id))


@router.post(
    "/exceptions/{exception_id}/actions",
    summary="Act on an exception (re-offer, raise the pay, carrier, contact, resolve); it is "
    "resolved",
    responses=error_responses(
        ops_exceptions.ExceptionNotFound,
        ops_exceptions.ExceptionAlreadyResolved,
        ops_exceptions.ActionNotApplicable,
        boost.BlockNotOnOffer,
        boost.PayAtMost,
        InvalidInput,
    ),
)
def act_on_exception(
    exception_id: RowId,
    body: ExceptionActionIn,
    request: Request,
    session: DbSession,
    now: Now,
    operator: ExceptionsActor,
) -> ExceptionOut:
    row = ops_exceptions.act(
        session,
        exception_id,
        ops_exceptions.Act(body.action),
        by=operator.actor,
        now=now,
        note=body.note,
        message=body.message,
        service=body.service,
        percent=body.percent,
        offers=OfferPolicy.from_settings(request.app.state.settings),
    )
    return ExceptionOut.model_validate(row)


@router.get(
    "/numbers",
    summary="The day's numbers, one row per local day (JSON, or CSV with format=csv)",
    responses={200: {"content": {"text/csv": {}}}, **error_responses(InvalidInput)},
    response_model=list[DayNumbersOut],
)
def day_numbers(
    session: DbSession,
    now: Now,
    _: NumbersReader,
    start: Annotated[date | None, Query(alias="from", description="First day (local)")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (local)")] = None,
    format: Literal["json", "csv"] = "json",
) -> Response | list[DayNumbersOut]:
    zone = console.network_zone(session)
    last = end or now.astimezone(zone).date()
    first = start or last - timedelta(days=6)
    rows = numbers.compute(session, first, last, zone=zone, now=now)
    if format == "csv":
        return Response(
            "".join(numbers.csv_lines(rows)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="numbers-{first}-{last}.csv"'},
        )
    return [DayNumbersOut.model_validate(r) for r in rows]
