"""The report of a simulated day: one self-contained HTML file that opens offline.

KPI cards, charts drawn by plotly.js (embedded whole: the ``plotly`` Python package ships it),
the map of the day's routes as vector SVG, and the hour-by-hour timeline. No request leaves the
file: no CDN, no fonts, no tiles.
"""

from __future__ import annotations

import html
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

from doorstep.twin.service import TwinRun

PALETTE = {
    "station_routes": "#2563eb",
    "store_and_mall_runs": "#ea580c",
    "partner_stores": "#16a34a",
    "carrier": "#7c3aed",
    "middle_mile": "#64748b",
}
TIMELINE = ("orders", "blocks started", "delivered", "failed doors", "partner scan-ins")


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs())


def write_report(run: TwinRun, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(run), encoding="utf-8")
    return path


def render(run: TwinRun) -> str:
    k = run.kpis
    day = run.settings.day
    charts = _charts(run)
    ok = k.invariants.get("ok")
    cards = [
        ("Packages", f"{k.packages:,}", f"{k.orders.get('placed', 0):,} orders placed"),
        ("On time", f"{k.on_time_rate:.1%}", _pairs(k.on_time_by_speed, pct=True)),
        (
            "Cost per package",
            _usd(k.cost_per_package_cents),
            f"total {_usd(k.cost_cents['total'])}",
        ),
        (
            "Driver pay / h net",
            _usd(k.drivers.get("net_pay_per_hour_cents", 0)),
            f"gross {_usd(k.drivers.get('pay_per_hour_cents', 0))}, "
            f"utilisation {k.drivers.get('utilisation', 0):.0%}",
        ),
        (
            "Blocks driven",
            f"{k.drivers.get('blocks_driven', 0):,}",
            f"{k.drivers.get('no_shows', 0)} no-shows "
            f"({k.drivers.get('no_show_blocks_reoffered', 0)} re-offered), "
            f"{k.drivers.get('forfeits', 0)} given back, "
            f"{k.drivers.get('late_check_ins', 0)} late check-ins; "
            f"{k.drivers.get('delivered_on_another_try', 0)} of "
            f"{k.drivers.get('doors_tried_again', 0)} doors tried again delivered",
        ),
        ("Carrier share", f"{k.carrier_share:.1%}", f"{k.by_channel.get('carrier', 0)} packages"),
        (
            "Miles",
            f"{k.miles.get('drivers', 0):,.0f}",
            f"drivers; partner staff {k.miles.get('partner_staff', 0):,.0f}",
        ),
        (
            "Same day",
            f"{k.same_day.get('kept', 0)} kept",
            f"asked {k.same_day.get('asked', 0)}, offered {k.same_day.get('offered', 0)}, "
            f"taken {k.same_day.get('taken', 0)}",
        ),
        (
            "Invariants",
            "hold" if ok else "BROKEN",
            f"{k.unresolved} unresolved; {k.invariants.get('routes_checked', 0)} plans checked",
        ),
    ]
    card_html = "".join(
        f'<div class="card{" bad" if title == "Invariants" and not ok else ""}">'
        f"<h3>{html.escape(title)}</h3><b>{html.escape(value)}</b>"
        f"<small>{html.escape(note)}</small></div>"
        for title, value, note in cards
    )
    chart_divs = "".join(
        f'<section class="chart"><h2>{html.escape(title)}</h2><div id="c{n}"></div></section>'
        for n, (title, _) in enumerate(charts)
    )
    chart_js = "\n".join(
        f"Plotly.newPlot('c{n}', {json.dumps(spec['data'])}, {json.dumps(spec['layout'])}, "
        "{displayModeBar: false, responsive: true});"
        for n, (_, spec) in enumerate(charts)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>doorstep twin: {day} (seed {run.config.seed})</title>
<style>{CSS}</style>
<script>{plotly_js()}</script>
</head><body>
<header><h1>A day on the network: {day:%A %d %B %Y}</h1>
<p>{run.config.orders:,} shoppers, seed {run.config.seed}, simulated through doorstep's own
services over {run.log.days} days (follow-up days, counters, carrier transit);
ran in {run.runtime_s:,.0f} s.</p></header>
<main>
<div class="cards">{card_html}</div>
<section><h2>The day's routes</h2>{_map(run)}
<p class="legend">{_legend()}</p></section>
{chart_divs}
<section><h2>Hour by hour</h2>{_timeline_table(run)}</section>
<section><h2>Invariants</h2>{_invariants(run)}</section>
</main>
<script>{chart_js}</script>
</body></html>
"""


def _charts(run: TwinRun) -> list[tuple[str, dict[str, Any]]]:
    k = run.kpis
    margin = {"l": 60, "r": 20, "t": 10, "b": 40}
    layout = {"margin": margin, "height": 300}
    channels = list(k.by_channel)
    charts: list[tuple[str, dict[str, Any]]] = [
        (
            "Packages and on-time rate by channel",
            {
                "data": [
                    {
                        "type": "bar",
                        "name": "packages",
                        "x": channels,
                        "y": [k.by_channel[c] for c in channels],
                        "marker": {"color": [PALETTE.get(c, "#999") for c in channels]},
                    },
                    {
                        "type": "scatter",
                        "mode": "markers+text",
                        "name": "on time",
                        "x": channels,
                        "y": [k.on_time_by_channel.get(c, 0) for c in channels],
                        "yaxis": "y2",
                        "text": [f"{k.on_time_by_channel.get(c, 0):.0%}" for c in channels],
                        "textposition": "top center",
                        # A channel at 100 % keeps its label above the plot's edge.
                        "cliponaxis": False,
                        "marker": {"size": 12, "color": "#111"},
                    },
                ],
                "layout": layout
                | {
                    # Room on the right for the on-time axis's labels.
                    "margin": margin | {"r": 50, "t": 24},
                    "yaxis": {"title": "packages"},
                    "yaxis2": {
                        "overlaying": "y",
                        "side": "right",
                        "range": [0, 1.12],
                        "tickvals": [0, 0.25, 0.5, 0.75, 1],
                        "tickformat": ".0%",
                        "showgrid": False,
                    },
                    "showlegend": False,
                },
            },
        ),
        (
            "Cost by channel",
            {
                "data": [
                    {
                        "type": "bar",
                        "x": [c for c in k.cost_cents if c != "total"],
                        "y": [v / 100 for c, v in k.cost_cents.items() if c != "total"],
                        "marker": {
                            "color": [PALETTE.get(c, "#999") for c in k.cost_cents if c != "total"]
                        },
                    }
                ],
                "layout": layout | {"yaxis": {"title": "US$", "tickprefix": "$"}},
            },
        ),
        ("Hour by hour", _timeline_chart(run, layout)),
    ]
    if k.late_reasons:
        reasons = list(k.late_reasons)
        charts.append(
            (
                "Why packages were late",
                {
                    "data": [
                        {
                            "type": "bar",
                            "orientation": "h",
                            "y": reasons,
                            "x": [k.late_reasons[r] for r in reasons],
                            "marker": {"color": "#dc2626"},
                        }
                    ],
                    "layout": layout | {"margin": {"l": 220, "r": 20, "t": 10, "b": 40}},
                },
            )
        )
    return charts


def _timeline_chart(run: TwinRun, layout: dict[str, Any]) -> dict[str, Any]:
    hours = _hours(run)
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": what,
            "x": [_clock(run, h) for h in hours],
            "y": [run.log.timeline[what][h] for h in hours],
            "line": {"shape": "hv"},
        }
        for what in TIMELINE
    ]
    axis = {"type": "category", "nticks": 18, "tickangle": -45}
    layout = layout | {"margin": {"l": 60, "r": 20, "t": 40, "b": 90}}
    return {
        "data": data,
        "layout": layout | {"legend": {"orientation": "h", "y": 1.15}, "xaxis": axis},
    }


def _hours(run: TwinRun) -> list[int]:
    seen = sorted({h for counts in run.log.timeline.values() for h in counts})
    if not seen:
        return []
    last_busy = min(seen[-1], 3 * 24 - 1)  # the first three days: the rest is counters
    return list(range(seen[0], last_busy + 1))


def _clock(run: TwinRun, hour: int) -> str:
    moment = run.settings.day + timedelta(days=hour // 24)
    return f"{moment:%a} {hour % 24:02d}:00"


def _timeline_table(run: TwinRun) -> str:
    hours = [h for h in _hours(run) if any(run.log.timeline[w].get(h) for w in TIMELINE)]
    head = "".join(f"<th>{html.escape(w)}</th>" for w in TIMELINE)
    rows = "".join(
        f"<tr><td>{_clock(run, h)}</td>"
        + "".join(f"<td>{run.log.timeline[w][h] or ''}</td>" for w in TIMELINE)
        + "</tr>"
        for h in hours
    )
    return f'<table class="timeline"><tr><th>hour</th>{head}</tr>{rows}</table>'


def _map(run: TwinRun) -> str:
    """The network and every route driven, projected on a plain SVG canvas (no tiles)."""
    net = run.port.network()
    points = [(s.lat, s.lng) for s in net.sites if s.kind != "warehouse"]
    for trip in run.log.trips:
        points.extend(trip.path)
    for staff in run.log.staff_runs:
        points.extend(staff.path)
    if not points:
        return "<p>No routes.</p>"
    for site in net.sites:  # the whole of each partner store's radius is on the map
        if site.kind == "partner_store" and site.radius_m:
            reach = site.radius_m / 111_320
            points += [(site.lat - reach, site.lng), (site.lat + reach, site.lng)]
            across = reach / math.cos(math.radians(site.lat))
            points += [(site.lat, site.lng - across), (site.lat, site.lng + across)]
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    south, north, west, east = min(lats), max(lats), min(lngs), max(lngs)
    aspect = math.cos(math.radians((south + north) / 2))
    width = 960
    scale = width / max((east - west) * aspect, 1e-6)
    height = round((north - south) * scale)

    def xy(lat: float, lng: float) -> tuple[float, float]:
        x = (lng - west) * aspect * scale + 20
        y = (north - lat) * scale + 20
        return round(x, 1), round(y, 1)

    parts = []
    for area in net.areas:
        x1, y1 = xy(area.max_lat, area.min_lng)
        x2, y2 = xy(area.min_lat, area.max_lng)
        parts.append(
            f'<rect x="{x1}" y="{y1}" width="{x2 - x1}" height="{y2 - y1}" class="area">'
            f"<title>{html.escape(area.code)}</title></rect>"
        )
    for site in net.sites:
        if site.kind == "partner_store":
            x, y = xy(site.lat, site.lng)
            r = site.radius_m / 111_320 * scale
            parts.append(f'<circle cx="{x}" cy="{y}" r="{r:.1f}" class="radius"/>')
    for staff in run.log.staff_runs:
        line = " ".join(f"{x},{y}" for x, y in (xy(*p) for p in staff.path))
        parts.append(f'<polyline points="{line}" class="route partner"/>')
    for trip in run.log.trips:
        line = " ".join(f"{x},{y}" for x, y in (xy(*p) for p in trip.path))
        kind = "store" if trip.kind == "store" else "station"
        parts.append(
            f'<polyline points="{line}" class="route {kind}">'
            f"<title>block {trip.block_id}: {trip.doors} doors</title></polyline>"
        )
    for site in net.sites:
        if site.kind == "warehouse":
            continue
        x, y = xy(site.lat, site.lng)
        label = html.escape(site.code)
        if site.kind == "station":
            parts.append(
                f'<rect x="{x - 7}" y="{y - 7}" width="14" height="14" class="station-site"/>'
            )
            parts.append(f'<text x="{x + 10}" y="{y + 4}">{label}</text>')
        elif site.kind == "partner_store":
            parts.append(f'<circle cx="{x}" cy="{y}" r="6" class="partner-site"/>')
            parts.append(f'<text x="{x + 8}" y="{y + 4}">{label}</text>')
        elif site.kind in ("mall", "local_store"):
            parts.append(f'<circle cx="{x}" cy="{y}" r="5" class="store-site"/>')
            parts.append(f'<text x="{x + 8}" y="{y + 4}">{label}</text>')
    return (
        f'<svg viewBox="0 0 {width + 40} {height + 40}" class="map" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def _legend() -> str:
    return (
        '<span class="key station"></span> station route '
        '<span class="key store"></span> store or mall run '
        '<span class="key partner"></span> partner store staff '
        "· squares: stations · green circles: partner stores and their radius · "
        "boxes: service areas"
    )


def _invariants(run: TwinRun) -> str:
    inv = run.kpis.invariants
    rows = [
        ("every package in exactly one terminal state", inv.get("one_terminal_state")),
        ("the counts add up", inv.get("counts_add_up")),
        (
            f"every route passed the optimization core's checker ({inv.get('routes_checked')} "
            "plans)",
            not inv.get("checker_failures"),
        ),
        ("every late package has its reason", inv.get("late_without_reason") == 0),
    ]
    items = "".join(
        f'<li class="{"ok" if good else "bad"}">{"✔" if good else "✘"} {html.escape(text)}</li>'
        for text, good in rows
    )
    terminal = ", ".join(f"{k}: {v}" for k, v in run.kpis.terminal.items())
    return f"<ul class='invariants'>{items}</ul><p>Terminal states: {html.escape(terminal)}</p>"


def _pairs(values: dict[str, float], *, pct: bool) -> str:
    return ", ".join(
        f"{k.replace('_', ' ')} {v:.0%}" if pct else f"{k} {v}" for k, v in values.items()
    )


def _usd(cents: float) -> str:
    return f"${cents / 100:,.2f}"


CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111;
background:#f8fafc}
header{background:#0f172a;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#cbd5e1}main{padding:20px 28px;max-width:1100px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}
.card h3{margin:0;font-size:13px;color:#475569;font-weight:600;text-transform:uppercase}
.card b{display:block;font-size:26px;margin:4px 0}.card small{color:#475569}
.card.bad{border-color:#dc2626;background:#fef2f2}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px;
margin:16px 0}section h2{font-size:16px;margin:0 0 8px}
.map{width:100%;height:auto;background:#f1f5f9;border-radius:6px}
.map text{font-size:12px;fill:#0f172a}.area{fill:#dbeafe;fill-opacity:.5;stroke:#93c5fd}
.radius{fill:#dcfce7;fill-opacity:.35;stroke:#86efac;stroke-dasharray:4 3}
.route{fill:none;stroke-width:1.6;stroke-opacity:.8}.route.station{stroke:#2563eb}
.route.store{stroke:#ea580c}.route.partner{stroke:#16a34a;stroke-dasharray:5 3}
.station-site{fill:#0f172a}.partner-site{fill:#16a34a}.store-site{fill:#ea580c}
.legend{color:#475569;font-size:13px}.key{display:inline-block;width:18px;height:3px;
vertical-align:middle;margin-left:8px}.key.station{background:#2563eb}
.key.store{background:#ea580c}.key.partner{background:#16a34a}
table.timeline{border-collapse:collapse;font-size:13px}.timeline td,.timeline th{
padding:2px 10px;border-bottom:1px solid #e2e8f0;text-align:right}
.invariants{list-style:none;padding:0}.invariants .ok{color:#15803d}
.invariants .bad{color:#b91c1c;font-weight:600}
"""

__all__ = ["render", "write_report"]
