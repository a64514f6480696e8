"""The network pages: every node by kind, and one node with its edit form.

The form posts the node's cut-off, capacity and, for a partner store, its weekly hours, closed
days and radius (in miles) to `network.editing.edit_node`, the API's own service: the same
validation as an import, the same audit entry. A refused edit shows the form again (422) with
what was typed and the field marked; nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.models import Node, NodeKind
from doorstep.network import editing, repository
from doorstep.network.editing import NodeEditInvalid
from doorstep.network.schemas import METRES_PER_MILE, WEEKDAYS
from doorstep.ops.policy import Action
from doorstep.settings import Settings
from doorstep.web.checkout import zone_of
from doorstep.web.ops.auth import page_operator, render

router = APIRouter(prefix="/ops", include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

KIND_LABELS = {
    NodeKind.STATION: "Stations",
    NodeKind.WAREHOUSE: "Warehouses",
    NodeKind.MALL: "Malls",
    NodeKind.MALL_STORE: "Mall stores",
    NodeKind.LOCAL_STORE: "Local stores",
    NodeKind.PARTNER_STORE: "Partner stores",
}


def hours_text(hours: dict[str, list[str]] | None) -> str:
    """``{"mon": ["08:00", "18:00"], …}`` → ``"mon-fri 08:00-18:00; sat 09:00-13:00"``: the
    import's own text form, which the form reads back through the same parser."""
    hours = hours or {}
    runs: list[list[str]] = []  # consecutive weekdays with the same hours
    for day in WEEKDAYS:
        if day not in hours:
            continue
        previous = runs[-1][-1] if runs else None
        if (
            previous is not None
            and WEEKDAYS.index(previous) == WEEKDAYS.index(day) - 1
            and hours[previous] == hours[day]
        ):
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        days = run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}"
        opens, closes = hours[run[0]]
        parts.append(f"{days} {opens}-{closes}")
    return "; ".join(parts)


def miles(radius_m: int | None) -> str:
    return "" if radius_m is None else f"{radius_m / METRES_PER_MILE:.2f}".rstrip("0").rstrip(".")


def form_values(node: Node) -> dict[str, str]:
    """The edit form's fields as the node holds them now."""
    partner = node.partner_store
    return {
        "same_day_cutoff": node.same_day_cutoff.strftime("%H:%M") if node.same_day_cutoff else "",
        "daily_capacity": "" if node.daily_capacity is None else str(node.daily_capacity),
        "opening_hours": hours_text(partner.opening_hours) if partner else "",
        "closed_days": ", ".join(d.day.isoformat() for d in partner.closed_days) if partner else "",
        "service_radius_mi": miles(partner.service_radius_m) if partner else "",
    }


@router.get("/network", response_class=HTMLResponse)
def network_page(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    kind: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    operator = page_operator(request, session, settings, Action.NETWORK_READ)
    if isinstance(operator, Response):
        return operator
    chosen = NodeKind(kind) if kind in {k.value for k in NodeKind} else None
    nodes = repository.list_nodes(session, chosen)
    groups: dict[NodeKind, list[Node]] = {}
    for node in nodes:
        groups.setdefault(node.kind, []).append(node)
    return render(
        "ops/network.html",
        operator,
        groups=[(KIND_LABELS[k], k.value, groups[k]) for k in NodeKind if k in groups],
        kinds=[(k.value, KIND_LABELS[k]) for k in NodeKind],
        kind=chosen.value if chosen else "",
        hours_text=hours_text,
        miles=miles,
        done=done,
    )


@router.get("/network/{code}", response_class=HTMLResponse)
def node_page(
    code: Annotated[str, Path(max_length=64)],
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    done: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    operator = page_operator(request, session, settings, Action.NETWORK_READ)
    if isinstance(operator, Response):
        return operator
    node = repository.get_node(session, code)
    if node is None:
        return render("ops/denied.html", operator, status_code=404, problem=f"No node '{code}'.")
    return _node_page(session, operator, node, form_values(node), done=done)


@router.post("/network/{code}", response_class=HTMLResponse)
def edit_node(
    code: Annotated[str, Path(max_length=64)],
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    same_day_cutoff: Annotated[str, Form(max_length=10)] = "",
    daily_capacity: Annotated[str, Form(max_length=12)] = "",
    opening_hours: Annotated[str, Form(max_length=400)] = "",
    closed_days: Annotated[str, Form(max_length=4000)] = "",
    service_radius_mi: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    operator = page_operator(request, session, settings, Action.NETWORK_EDIT)
    if isinstance(operator, Response):
        return operator
    node = repository.get_node(session, code)
    if node is None:
        return render("ops/denied.html", operator, status_code=404, problem=f"No node '{code}'.")
    typed = {
        "same_day_cutoff": same_day_cutoff.strip(),
        "daily_capacity": daily_capacity.strip(),
        "opening_hours": opening_hours.strip(),
        "closed_days": closed_days.strip(),
        "service_radius_mi": service_radius_mi.strip(),
    }
    shown = form_values(node)
    changes: dict[str, Any] = {
        # Blank clears a cut-off or a capacity (the import's "not set").
        "same_day_cutoff": typed["same_day_cutoff"] or None,
        "daily_capacity": typed["daily_capacity"] or None,
    }
    if node.kind is NodeKind.PARTNER_STORE:
        changes["opening_hours"] = typed["opening_hours"]
        changes["closed_days"] = typed["closed_days"]
        # The radius is shown rounded to a hundredth of a mile: unchanged text keeps the metres.
        if typed["service_radius_mi"] != shown["service_radius_mi"]:
            changes["service_radius_mi"] = typed["service_radius_mi"]
    try:
        # A savepoint: a refused edit keeps nothing of what it began.
        with session.begin_nested():
            editing.edit_node(session, code, changes, by=operator.actor, now=now)
    except NodeEditInvalid as exc:
        return _node_page(
            session,
            operator,
            node,
            typed,
            problem=exc.detail,
            field=str(exc.context.get("field", "")),
            status_code=422,
        )
    return RedirectResponse(f"/ops/network/{quote(code)}?done={quote('Saved.')}", status_code=303)


def _node_page(
    session: DbSession,
    operator: Any,
    node: Node,
    values: dict[str, str],
    *,
    done: str = "",
    problem: str = "",
    field: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    # The API's message names the field; the form marks the field instead.
    problem = problem.removeprefix(f"{field}: ")
    if field == "service_radius_m":
        field = "service_radius_mi"  # the form asks for miles
    return render(
        "ops/node.html",
        operator,
        status_code=status_code,
        node=node,
        kind_label=KIND_LABELS[node.kind],
        values=values,
        done=done,
        problem=problem,
        field=field,
        max_radius_mi=miles(editing.MAX_PARTNER_RADIUS_M),
        zone=zone_of(session, []),
    )
