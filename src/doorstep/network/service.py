"""Applying network records to the database: create what is new, update what changed.

Importing the same file twice changes nothing (codes are the identity; unchanged rows are not
touched, so not even ``updated_at`` moves). References between rows (a mall store's mall, an
area's station) may point into the same file or at what is already in the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from doorstep.models import Node, NodeKind, PartnerStore, PartnerStoreClosedDay, ServiceArea
from doorstep.network.files import (
    FileProblem,
    LocatedRecord,
    NetworkFileInvalid,
    read_network_file,
)
from doorstep.network.schemas import ImportSummary, NodeRecord, ServiceAreaRecord


def import_network_file(session: Session, path: Path) -> ImportSummary:
    """Import ``path`` into the caller's transaction; raise `NetworkFileInvalid` on any problem."""
    located = read_network_file(path)
    nodes = [item for item in located if isinstance(item.record, NodeRecord)]
    areas = [item for item in located if isinstance(item.record, ServiceAreaRecord)]
    existing = {
        node.code: node
        for node in session.scalars(
            select(Node).options(
                selectinload(Node.partner_store).selectinload(PartnerStore.closed_days),
                selectinload(Node.parent),
            )
        )
    }
    _check_references(path, nodes, areas, existing)

    summary = ImportSummary(file=str(path))
    # Malls before their stores, so a store's parent has an id.
    for item in sorted(nodes, key=lambda i: i.record.kind is NodeKind.MALL_STORE):
        assert isinstance(item.record, NodeRecord)
        _count(summary, _upsert_node(session, item.record, existing))
    areas_by_code = {area.code: area for area in session.scalars(select(ServiceArea))}
    for item in areas:
        assert isinstance(item.record, ServiceAreaRecord)
        _count(summary, _upsert_area(session, item.record, existing, areas_by_code))
    session.flush()
    return summary


def _check_references(
    path: Path,
    nodes: list[LocatedRecord],
    areas: list[LocatedRecord],
    existing: dict[str, Node],
) -> None:
    kinds = {code: node.kind for code, node in existing.items()}
    kinds.update(
        {
            item.record.code: item.record.kind
            for item in nodes
            if isinstance(item.record, NodeRecord)
        }
    )
    problems = []
    for item in nodes:
        record = item.record
        assert isinstance(record, NodeRecord)
        if record.parent is not None and kinds.get(record.parent) is not NodeKind.MALL:
            problems.append(
                FileProblem(
                    str(path),
                    item.line,
                    "parent",
                    f"'{record.parent}' is not a mall in this file or the network",
                    item.where,
                )
            )
        current = existing.get(record.code)
        if current is not None and current.kind is not record.kind:
            problems.append(
                FileProblem(
                    str(path),
                    item.line,
                    "kind",
                    f"'{record.code}' is already a {current.kind}; a node cannot change its kind",
                    item.where,
                )
            )
    for item in areas:
        record = item.record
        assert isinstance(record, ServiceAreaRecord)
        if record.station is not None and kinds.get(record.station) is not NodeKind.STATION:
            problems.append(
                FileProblem(
                    str(path),
                    item.line,
                    "station",
                    f"'{record.station}' is not a station in this file or the network",
                    item.where,
                )
            )
    if problems:
        raise NetworkFileInvalid(problems)


def _upsert_node(session: Session, record: NodeRecord, existing: dict[str, Node]) -> str:
    node = existing.get(record.code)
    created = node is None
    if node is None:
        node = Node(code=record.code, kind=record.kind)
        session.add(node)
        existing[record.code] = node
    parent = existing[record.parent] if record.parent else None
    changed = apply_node_record(session, node, record, parent, created=created)
    changed |= _assign(node, {"active": True})
    session.flush()
    return "created" if created else ("updated" if changed else "unchanged")


def apply_node_record(
    session: Session, node: Node, record: NodeRecord, parent: Node | None, *, created: bool
) -> bool:
    """Set ``node`` (and its partner store) to ``record``; True if anything changed.

    The import and the console's edits both write through here, so a node edited by hand
    holds exactly what importing the same values would have written."""
    changed = _assign(
        node,
        {
            "name": record.name,
            "address": record.address,
            "lat": record.lat,
            "lng": record.lng,
            "timezone": record.timezone,
            "parent": parent,
            "same_day_cutoff": record.same_day_cutoff,
            "daily_capacity": record.daily_capacity,
        },
    )
    if record.kind is NodeKind.PARTNER_STORE:
        changed |= _upsert_partner(session, node, record, created)
    return changed


def _upsert_partner(session: Session, node: Node, record: NodeRecord, created: bool) -> bool:
    partner = None if created else node.partner_store
    if partner is None:
        partner = PartnerStore(node=node)
        partner.closed_days = []
        session.add(partner)
    changed = _assign(
        partner,
        {
            "service_radius_m": record.radius_m,
            "pay_per_package_cents": record.pay_per_package_cents or 0,
            "opening_hours": record.opening_hours or {},
        },
    )
    wanted = sorted(set(record.closed_days))
    if [closed.day for closed in partner.closed_days] != wanted:
        partner.closed_days = [PartnerStoreClosedDay(day=day) for day in wanted]
        changed = True
    return changed


def _upsert_area(
    session: Session,
    record: ServiceAreaRecord,
    nodes: dict[str, Node],
    areas: dict[str, ServiceArea],
) -> str:
    area = areas.get(record.code)
    created = area is None
    if area is None:
        area = ServiceArea(code=record.code)
        session.add(area)
        areas[record.code] = area
    min_lng, min_lat, max_lng, max_lat = shape(record.geometry).bounds
    changed = _assign(
        area,
        {
            "name": record.name,
            "station_id": nodes[record.station].id if record.station else None,
            "geometry": record.geometry,
            "min_lat": min_lat,
            "min_lng": min_lng,
            "max_lat": max_lat,
            "max_lng": max_lng,
        },
    )
    return "created" if created else ("updated" if changed else "unchanged")


def _assign(target: Any, values: dict[str, Any]) -> bool:
    """Set only the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name, None) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _count(summary: ImportSummary, outcome: str) -> None:
    setattr(summary, outcome, getattr(summary, outcome) + 1)
