"""A plan as one self-contained HTML page: a map of the routes coloured by channel (inline
SVG, so it opens offline) and the table of blocks a driver would be offered."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable

from doorstep.planning.core import Block, DayPlan
from doorstep.planning.core import Channel as PlanChannel
from doorstep.planning.loading import Wave

COLOURS = {
    PlanChannel.STATION_ROUTE: "#2563eb",
    PlanChannel.STORE_RUN: "#d97706",
    PlanChannel.PARTNER_STORE: "#059669",
    PlanChannel.CARRIER: "#7c3aed",
}
LABELS = {
    PlanChannel.STATION_ROUTE: "Station route",
    PlanChannel.STORE_RUN: "Store / mall pickup run",
    PlanChannel.PARTNER_STORE: "Partner store",
    PlanChannel.CARRIER: "Carrier",
}
WIDTH, HEIGHT, MARGIN = 900, 640, 24


def projection(points: list[tuple[float, float]]) -> Callable[[float, float], tuple[float, float]]:
    """(lat, lng) → (x, y) in the map's frame: every point inside the margins, the drawing
    centred and as large as the frame allows, with one scale for both axes."""
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    south, north, west, east = _padded(min(lats), max(lats)) + _padded(min(lngs), max(lngs))
    # A degree of longitude is shorter than one of latitude by cos(latitude): scaling by it
    # keeps shapes true.
    shrink = math.cos(math.radians((north + south) / 2))
    wide, tall = (east - west) * shrink, north - south
    scale = min((WIDTH - 2 * MARGIN) / wide, (HEIGHT - 2 * MARGIN) / tall)
    left, bottom = (WIDTH - wide * scale) / 2, (HEIGHT - tall * scale) / 2

    def xy(lat: float, lng: float) -> tuple[float, float]:
        x = left + (lng - west) * shrink * scale
        y = HEIGHT - bottom - (lat - south) * scale
        return round(x, 1), round(y, 1)

    return xy


def _padded(low: float, high: float, least: float = 0.01) -> tuple[float, float]:
    """The range widened evenly to at least ``least`` degrees (about a kilometre), so one
    stop, or stops on one street, still make a map."""
    short = max(0.0, least - (high - low)) / 2
    return low - short, high + short


def render_plan_page(wave: Wave, plan: DayPlan, held: int = 0) -> str:
    """The plan as a self-contained page; ``held``: same-day parcels kept for a later wave."""
    points = [(s.lat, s.lng) for b in plan.blocks for s in b.stops]
    points += [(p.lat, p.lng) for p in wave.day.packages]
    points += [(s.lat, s.lng) for s in wave.day.sites]
    if not points:
        points = [(wave.station.lat, wave.station.lng)]
    xy = projection(points)

    by_code = {p.id: p for p in wave.day.packages}
    shapes: list[str] = []
    sites = {s.id: s for s in wave.day.sites}
    for block in plan.blocks:
        start = sites.get(block.start_site)
        path = ([xy(start.lat, start.lng)] if start else []) + [
            xy(s.lat, s.lng) for s in block.stops
        ]
        colour = COLOURS[block.channel]
        shapes.append(
            f'<polyline points="{" ".join(f"{x},{y}" for x, y in path)}" fill="none" '
            f'stroke="{colour}" stroke-width="1.4" stroke-opacity="0.75"/>'
        )
        shapes += [f'<circle cx="{x}" cy="{y}" r="2.6" fill="{colour}"/>' for x, y in path[1:]]
    for manifest in plan.manifests:
        store = next((p for p in wave.day.partner_stores if p.id == manifest.store), None)
        if store is None:
            continue
        sx, sy = xy(store.lat, store.lng)
        for code in manifest.packages:
            x, y = xy(by_code[code].lat, by_code[code].lng)
            shapes.append(
                f'<line x1="{sx}" y1="{sy}" x2="{x}" y2="{y}" stroke="#059669" '
                'stroke-width="0.8" stroke-opacity="0.6"/>'
            )
            shapes.append(f'<circle cx="{x}" cy="{y}" r="2.6" fill="#059669"/>')
        shapes.append(
            f'<rect x="{sx - 5}" y="{sy - 5}" width="10" height="10" fill="#059669">'
            f"<title>{html.escape(store.name or store.id)}</title></rect>"
        )
    for shipment in plan.carrier:
        x, y = xy(by_code[shipment.package].lat, by_code[shipment.package].lng)
        shapes.append(
            f'<circle cx="{x}" cy="{y}" r="3" fill="none" stroke="#7c3aed" stroke-width="1.5"/>'
        )
    for unassigned in plan.unassigned:
        x, y = xy(by_code[unassigned.package].lat, by_code[unassigned.package].lng)
        shapes.append(
            f'<text x="{x}" y="{y}" font-size="12" fill="#dc2626" '
            f'text-anchor="middle">×<title>{html.escape(unassigned.reason.value)}'
            "</title></text>"
        )
    for site in wave.day.sites:
        x, y = xy(site.lat, site.lng)
        shapes.append(
            f'<rect x="{x - 4}" y="{y - 4}" width="8" height="8" fill="#111827">'
            f"<title>{html.escape(site.name or site.id)}</title></rect>"
        )
    totals = plan.totals
    share = ", ".join(f"{LABELS[c]} {v:.0%}" for c, v in totals.share if v)
    legend = "".join(
        f'<span class="key"><i style="background:{COLOURS[c]}"></i>{LABELS[c]}</span>'
        for c in COLOURS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plan {html.escape(wave.station.code)} {wave.service_date}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #111827; background: #f9fafb; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 24px; }}
h1 {{ font-size: 1.5rem; margin: 0 0 4px; }} .muted {{ color: #4b5563; }}
.cards {{ display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }}
.card {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px; }}
.card b {{ display: block; font-size: 1.3rem; }}
svg {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; width: 100%;
  height: auto; }}
.key {{ margin-right: 14px; white-space: nowrap; }} .key i {{ display: inline-block; width: 12px;
  height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }}
table {{ border-collapse: collapse; width: 100%; background: #fff; margin-top: 16px; }}
th, td {{ text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb;
  vertical-align: top; }}
th {{ font-size: .8rem; text-transform: uppercase; color: #4b5563; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
details {{ margin: 4px 0; }} summary {{ cursor: pointer; }}
</style></head><body><main>
<h1>Plan for {html.escape(wave.station.name)} · {wave.service_date:%a %d %b %Y}</h1>
<p class="muted">{len(wave.day.packages)} packages · seed {plan.seed} ·
planned in {plan.runtime_s:.1f} s</p>
<div class="cards">
<div class="card"><b>${totals.cost_cents / 100:,.2f}</b>total cost</div>
<div class="card"><b>${totals.cost_per_package_cents / 100:,.2f}</b>per package</div>
<div class="card"><b>{len(plan.blocks)}</b>blocks</div>
<div class="card"><b>{len(plan.manifests)}</b>partner manifests</div>
<div class="card"><b>{len(plan.carrier)}</b>to the carrier</div>
<div class="card"><b>{len(plan.unassigned)}</b>unassigned</div>
{f'<div class="card"><b>{held}</b>held for the next wave</div>' if held else ""}
</div>
<p>{html.escape(share)}</p>
<p>{legend}<span class="key">■ pickup site</span><span class="key" style="color:#dc2626">×
unassigned</span></p>
<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="Map of the planned routes">
{"".join(shapes)}
</svg>
<h2>Blocks on offer</h2>
{_blocks(wave, plan.blocks)}
{_manifests(wave, plan)}
{_carrier(plan)}
{_unassigned(plan)}
</main></body></html>
"""


def _blocks(wave: Wave, blocks: tuple[Block, ...]) -> str:
    if not blocks:
        return '<p class="muted">No blocks: this plan sends nothing with our drivers.</p>'
    return (
        "<table><thead><tr><th>#</th><th>starts at</th><th>from</th><th>length</th>"
        "<th>stops</th><th>packages</th><th>miles</th><th>pay</th><th>pay / hour</th>"
        f"<th>channel</th></tr></thead><tbody>{''.join(_block_rows(wave, blocks))}</tbody></table>"
    )


def _block_rows(wave: Wave, blocks: Iterable[Block]) -> Iterable[str]:
    for number, block in enumerate(blocks, start=1):
        start = wave.at(block.start_s).astimezone(wave.tz)
        hours = block.length_s / 3600
        yield (
            f"<tr><td>{number}</td><td>{start:%H:%M}</td>"
            f"<td>{html.escape(block.start_site)}</td><td>{hours:g} h</td>"
            f'<td class="n">{len(block.stops)}</td><td class="n">{len(block.packages())}</td>'
            f'<td class="n">{block.distance_m / 1609.344:.1f}</td>'
            f'<td class="n">${block.pay_cents / 100:,.2f}</td>'
            f'<td class="n">${block.pay_cents / 100 / hours:,.2f}</td>'
            f"<td>{LABELS[block.channel]}</td></tr>"
        )


def _manifests(wave: Wave, plan: DayPlan) -> str:
    """Per partner store: its batch (for the middle-mile van and the store) and what it costs."""
    if not plan.manifests:
        return ""
    names = {p.id: p.name or p.id for p in wave.day.partner_stores}
    rows = []
    for m in plan.manifests:
        people = "".join(
            f"<li>{html.escape(recipient)} · <code>{html.escape(code)}</code></li>"
            for code, recipient in zip(m.packages, m.recipients, strict=True)
        )
        rows.append(
            f"<tr><td>{html.escape(names.get(m.store, m.store))}"
            f"<details><summary>staff route order</summary><ol>{people}</ol></details></td>"
            f'<td class="n">{len(m.packages)}</td>'
            f'<td class="n">{m.route_distance_m / 1609.344:.1f}</td>'
            f'<td class="n">${m.cost_cents / 100:,.2f}</td></tr>'
        )
    return (
        "<h2>Partner store manifests</h2><table><thead><tr><th>store</th><th>packages</th>"
        "<th>staff route miles</th><th>cost</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _carrier(plan: DayPlan) -> str:
    """Each package for the carrier, and what its best own channel would have cost instead."""
    if not plan.carrier:
        return ""
    why = {d.package: d for d in plan.decisions}
    rows = []
    for c in plan.carrier:
        d = why.get(c.package)
        instead = (
            f"{LABELS[d.runner_up]} ${d.runner_up_cost_cents / 100:,.2f}"
            if d is not None and d.runner_up is not None and d.runner_up_cost_cents is not None
            else "no other channel keeps the promise"
        )
        rows.append(
            f"<tr><td><code>{html.escape(c.package)}</code></td>"
            f"<td>{html.escape(c.service.replace('_', ' '))}</td>"
            f'<td class="n">${c.rate_cents / 100:,.2f}</td><td>{html.escape(instead)}</td></tr>'
        )
    return (
        "<h2>To the carrier</h2><table><thead><tr><th>package</th><th>service</th>"
        "<th>rate</th><th>runner-up</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _unassigned(plan: DayPlan) -> str:
    if not plan.unassigned:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(u.package)}</td><td>{html.escape(u.reason.value)}</td></tr>"
        for u in plan.unassigned
    )
    return (
        f"<h2>Unassigned</h2><table><thead><tr><th>package</th><th>reason</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )
