"""Editing one node by hand (the operator's console): its cut-off, daily capacity and, for a
partner store, its calendar and radius.

An edit is validated exactly as an import is: the node's current values, with the edit laid
over them, must make a valid `NodeRecord` (the import's record, its validators), and it is
written through the import's own `apply_node_record`. On top of that a partner store's radius
obeys the product's rule: 10 miles at most (what the store's own onboarding allows). Any
problem raises `NodeEditInvalid` naming the field before anything is written; a change is
written to the audit log in the same transaction, with the fields before and after.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from doorstep.errors import InvalidInput, NotFound
from doorstep.models import DEFAULT_PARTNER_RADIUS_M, Node, NodeKind
from doorstep.network import repository
from doorstep.network.schemas import NodeRecord
from doorstep.network.service import apply_node_record
from doorstep.ops import audit
from doorstep.ops.audit import Actor

#: What the console may change; everything else about a node comes from the import.
EDITABLE = (
    "same_day_cutoff",
    "daily_capacity",
    "opening_hours",
    "closed_days",
    "service_radius_m",
    "service_radius_mi",
)
#: A partner store's staff deliver within 10 miles at most (the default radius).
MAX_PARTNER_RADIUS_M = DEFAULT_PARTNER_RADIUS_M


class NodeNotFound(NotFound):
    code = "node_not_found"


class NodeEditInvalid(InvalidInput):
    code = "node_edit_invalid"


def record_of(node: Node) -> dict[str, Any]:
    """The node as an import record would give it (a partner store with its calendar)."""
    values: dict[str, Any] = {
        "kind": node.kind,
        "code": node.code,
        "name": node.name,
        "lat": node.lat,
        "lng": node.lng,
        "address": node.address,
        "timezone": node.timezone,
        "parent": node.parent.code if node.parent else None,
        "same_day_cutoff": node.same_day_cutoff,
        "daily_capacity": node.daily_capacity,
    }
    partner = node.partner_store
    if node.kind is NodeKind.PARTNER_STORE and partner is not None:
        values |= {
            "service_radius_m": partner.service_radius_m,
            "pay_per_package_cents": partner.pay_per_package_cents,
            "opening_hours": partner.opening_hours,
            "closed_days": [closed.day for closed in partner.closed_days],
        }
    return values


def picture(node: Node) -> dict[str, Any]:
    """What an edit can change, as JSON (for the audit log)."""
    values = record_of(node)
    values.pop("service_radius_mi", None)
    shown = {name: values.get(name) for name in EDITABLE if name in values}
    return dict(to_jsonable_python(shown))


def edit_node(
    session: Session, code: str, changes: Mapping[str, Any], *, by: Actor, now: datetime
) -> Node:
    """Apply ``changes`` (a subset of `EDITABLE`) to the node ``code``, or raise
    `NodeEditInvalid` (nothing written) naming the first field that is wrong."""
    node = repository.get_node(session, code)
    if node is None:
        raise NodeNotFound(f"no node with code '{code}'", code=code)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise NodeEditInvalid(f"{unknown[0]}: not editable here", field=unknown[0])
    values = record_of(node)
    if "service_radius_mi" in changes:
        values.pop("service_radius_m", None)  # the new radius, in miles, replaces the old one
    values |= changes
    try:
        record = NodeRecord.model_validate(values)
    except ValidationError as exc:
        raise _invalid(exc, changes) from None
    radius_given = "service_radius_m" in changes or "service_radius_mi" in changes
    if radius_given and record.radius_m > MAX_PARTNER_RADIUS_M:
        field = "service_radius_mi" if "service_radius_mi" in changes else "service_radius_m"
        raise NodeEditInvalid(
            f"{field}: a partner store delivers within 10 miles ({MAX_PARTNER_RADIUS_M} m) at most",
            field=field,
        )
    before = picture(node)
    apply_node_record(session, node, record, node.parent, created=False)
    session.flush()
    after = picture(node)
    changed = [name for name in after if before.get(name) != after[name]]
    if changed:
        audit.record(
            session,
            by,
            "network.edit",
            "node",
            node.code,
            at=now,
            before={name: before.get(name) for name in changed},
            after={name: after[name] for name in changed},
        )
    return node


def _invalid(exc: ValidationError, changes: Mapping[str, Any]) -> NodeEditInvalid:
    """The first problem, named by its field (a check across fields names the first field of
    the edit its message mentions)."""
    error = exc.errors()[0]
    message = error["msg"].removeprefix("Value error, ")
    if error["loc"]:
        field = str(error["loc"][0])
    else:
        named = [word for word in re.findall(r"\w+", message) if word in EDITABLE]
        field = named[0] if named else next(iter(changes), "node")
    if not message.startswith(f"{field}:"):
        message = f"{field}: {message}"
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or field, "message": e["msg"]}
        for e in exc.errors()
    ]
    return NodeEditInvalid(message, field=field, problems=problems)
