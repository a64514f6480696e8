"""Who may do what: the one table every operator endpoint and page asks.

An operator endpoint or page names one `Action`; the request's operator may take it when
their role is in ``ALLOWED[action]``. Nothing else decides: the API's dependency
(`doorstep.api.operators`) and the console's pages both call `may`. Merchants, drivers and
partner-store staff hold no operator role, so they never reach these actions at all.

Pure: no web, no database.
"""

from __future__ import annotations

from enum import StrEnum

from doorstep.errors import DomainError
from doorstep.models.operators import OperatorRole

ADMIN, DISPATCHER, VIEWER = OperatorRole.ADMIN, OperatorRole.DISPATCHER, OperatorRole.VIEWER
EVERYONE = frozenset(OperatorRole)
RUNS_THE_DAY = frozenset({ADMIN, DISPATCHER})
ADMINS = frozenset({ADMIN})


class Action(StrEnum):
    """Everything an operator can do, each read or change named once."""

    CONSOLE_VIEW = "console.view"
    MAP_VIEW = "map.view"
    NETWORK_READ = "network.read"
    NETWORK_EDIT = "network.edit"
    PLANS_READ = "plans.read"
    PLANS_CREATE = "plans.create"
    CARRIER_HANDOVER = "carrier.handover"
    STATION_RETURN = "station.return"
    PARTNER_DROP = "partner.drop"
    RETURN_RECEIVE = "return.receive"
    EXCEPTIONS_READ = "exceptions.read"
    EXCEPTIONS_ACT = "exceptions.act"
    NUMBERS_READ = "numbers.read"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"


ALLOWED: dict[Action, frozenset[OperatorRole]] = {
    Action.CONSOLE_VIEW: EVERYONE,
    Action.MAP_VIEW: EVERYONE,
    Action.NETWORK_READ: EVERYONE,
    # Running the day includes a store's closed day or a station's capacity for tomorrow;
    # every edit is in the audit log with its before and after.
    Action.NETWORK_EDIT: RUNS_THE_DAY,
    Action.PLANS_READ: EVERYONE,
    Action.PLANS_CREATE: RUNS_THE_DAY,
    Action.CARRIER_HANDOVER: RUNS_THE_DAY,
    Action.STATION_RETURN: RUNS_THE_DAY,
    Action.PARTNER_DROP: RUNS_THE_DAY,
    Action.RETURN_RECEIVE: RUNS_THE_DAY,
    Action.EXCEPTIONS_READ: EVERYONE,
    Action.EXCEPTIONS_ACT: RUNS_THE_DAY,
    Action.NUMBERS_READ: EVERYONE,
    Action.USERS_READ: ADMINS,
    Action.USERS_MANAGE: ADMINS,
    Action.AUDIT_READ: ADMINS,
}

#: Actions that only read: a viewer may take every one of them and nothing else.
READS = frozenset(a for a in Action if a.value.endswith((".read", ".view")))


class ActionNotAllowed(DomainError):
    status = 403
    code = "role_not_allowed"


def may(role: OperatorRole, action: Action) -> bool:
    return role in ALLOWED[action]


def check(role: OperatorRole, action: Action) -> None:
    """Raise `ActionNotAllowed` unless ``role`` may take ``action``."""
    if not may(role, action):
        allowed = ", ".join(sorted(ALLOWED[action]))
        raise ActionNotAllowed(
            f"a {role} may not do this ({action}); it needs the role {allowed}",
            action=action.value,
            role=role.value,
        )
