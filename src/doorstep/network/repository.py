"""Queries over the network tables."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from doorstep.models import Node, NodeKind, PartnerStore, ServiceArea


def list_nodes(session: Session, kind: NodeKind | None = None) -> Sequence[Node]:
    query = (
        select(Node)
        .options(
            selectinload(Node.parent),
            selectinload(Node.partner_store).selectinload(PartnerStore.closed_days),
        )
        .order_by(Node.kind, Node.code)
    )
    if kind is not None:
        query = query.where(Node.kind == kind)
    return session.scalars(query).all()


def get_node(session: Session, code: str) -> Node | None:
    return session.scalar(
        select(Node)
        .where(Node.code == code)
        .options(
            selectinload(Node.parent),
            selectinload(Node.partner_store).selectinload(PartnerStore.closed_days),
        )
    )


def timezone_of(session: Session, node_ids: Sequence[int]) -> str | None:
    """The time zone of the first of ``node_ids`` (any node's, without ids)."""
    query = select(Node.timezone).limit(1)
    if node_ids:
        query = query.where(Node.id.in_(node_ids))
    return session.scalar(query)


def list_service_areas(session: Session) -> Sequence[ServiceArea]:
    return session.scalars(
        select(ServiceArea).options(selectinload(ServiceArea.station)).order_by(ServiceArea.code)
    ).all()


def count_by_kind(session: Session) -> dict[str, int]:
    counts = {
        kind.value: count
        for kind, count in session.execute(select(Node.kind, func.count()).group_by(Node.kind))
    }
    counts["service_area"] = session.scalar(select(func.count()).select_from(ServiceArea)) or 0
    return counts
