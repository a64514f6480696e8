"""Operator endpoints to read the network, and to edit a node (a second router: its own
action, ``network.edit``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from doorstep.api.deps import DbSession, NotAuthenticated, Now
from doorstep.api.errors import error_responses
from doorstep.api.operators import operator_may
from doorstep.models import Node, NodeKind
from doorstep.network import editing, repository
from doorstep.network.editing import NodeEditInvalid, NodeNotFound
from doorstep.network.schemas import NodeEditIn, NodeOut, PartnerStoreOut, ServiceAreaOut
from doorstep.ops.policy import Action, ActionNotAllowed
from doorstep.ops.users import Operator

router = APIRouter(
    prefix="/v1/network",
    tags=["network"],
    dependencies=[Depends(operator_may(Action.NETWORK_READ))],
    responses=error_responses(NotAuthenticated, ActionNotAllowed),
)

edits = APIRouter(
    prefix="/v1/network",
    tags=["network"],
    responses=error_responses(NotAuthenticated, ActionNotAllowed),
)
Editor = Annotated[Operator, Depends(operator_may(Action.NETWORK_EDIT))]


def node_view(node: Node) -> NodeOut | PartnerStoreOut:
    base = NodeOut.model_validate(node).model_dump()
    base["parent_code"] = node.parent.code if node.parent else None
    partner = node.partner_store
    if partner is None:
        return NodeOut(**base)
    return PartnerStoreOut(
        **base,
        service_radius_m=partner.service_radius_m,
        pay_per_package_cents=partner.pay_per_package_cents,
        opening_hours=partner.opening_hours,
        closed_days=[closed.day for closed in partner.closed_days],
    )


@router.get("/nodes", summary="Every node, optionally of one kind")
def list_nodes(session: DbSession, kind: NodeKind | None = None) -> list[NodeOut | PartnerStoreOut]:
    return [node_view(node) for node in repository.list_nodes(session, kind)]


@router.get(
    "/nodes/{code}", summary="One node by its code", responses=error_responses(NodeNotFound)
)
def get_node(code: str, session: DbSession) -> NodeOut | PartnerStoreOut:
    node = repository.get_node(session, code)
    if node is None:
        raise NodeNotFound(f"no node with code '{code}'", code=code)
    return node_view(node)


@router.get("/service-areas", summary="Every service area with its polygon")
def list_service_areas(session: DbSession) -> list[ServiceAreaOut]:
    return [
        ServiceAreaOut(
            code=area.code,
            name=area.name,
            station_code=area.station.code if area.station else None,
            geometry=area.geometry,
        )
        for area in repository.list_service_areas(session)
    ]


@edits.patch(
    "/nodes/{code}",
    summary="Change a node's cut-off, capacity and (a partner store) calendar and radius",
    responses=error_responses(NodeNotFound, NodeEditInvalid),
)
def edit_node(
    code: str, body: NodeEditIn, session: DbSession, now: Now, operator: Editor
) -> NodeOut | PartnerStoreOut:
    changes = body.model_dump(exclude_unset=True)
    return node_view(editing.edit_node(session, code, changes, by=operator.actor, now=now))
