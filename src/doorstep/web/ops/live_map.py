"""The live map of the day: the network drawn as vectors (Web Mercator, fitted to the network),
map tiles under it only when ``DOORSTEP_OPS_MAP_TILE_URL`` is set, and today's blocks updated
by server-sent events (``/ops/map/events``) without a reload.

The page draws the still network in SVG on the server; the stream sends today's blocks with
their positions already projected into the same frame, and ``/assets/ops/map.js`` redraws
them. Every ``DOORSTEP_OPS_MAP_REFRESH_S`` the stream reads the blocks again in a short
read-only transaction of its own and sends them when something changed (a comment every 15 s
otherwise, so proxies keep the connection); it ends after 30 s and the browser's
EventSource reconnects by itself (a server stopping waits for open requests: a map holds it up
for 30 s at most).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.db import READ_ONLY_BEGIN, unit_of_work
from doorstep.ops import console, live
from doorstep.ops.policy import Action
from doorstep.settings import Settings
from doorstep.web.ops.auth import page_operator, render

router = APIRouter(prefix="/ops", include_in_schema=False)
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

WIDTH, HEIGHT, PAD = 1000, 700, 0.08
# A stream ends after this and the browser reconnects (about a second): a server that stops
# waits for open requests, so a map holds a restart up for this long at most.
STREAM_S = 30
KEEP_ALIVE_S = 15
MAX_TILES = 64
FULL_READ_EVERY = 5


@dataclass(frozen=True)
class Frame:
    """Web Mercator world coordinates (0..1) to the SVG's pixels: x = (mx - left) * scale."""

    left: float
    top: float
    scale: float

    @lru_cache(maxsize=65_536)  # noqa: B019 (frames are few and live as long as a stream)
    def xy(self, lat: float, lng: float) -> tuple[float, float]:
        mx, my = _mercator(lat, lng)
        return round((mx - self.left) * self.scale, 1), round((my - self.top) * self.scale, 1)


def _mercator(lat: float, lng: float) -> tuple[float, float]:
    lat = max(-85.0, min(85.0, lat))
    return (lng + 180) / 360, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2


def fit(points: list[tuple[float, float]]) -> Frame:
    """The frame that shows every point, centred, with a margin."""
    if not points:
        points = [(0.0, 0.0)]
    world = [_mercator(lat, lng) for lat, lng in points]
    xs, ys = [p[0] for p in world], [p[1] for p in world]
    wide = max(max(xs) - min(xs), 1e-6) * (1 + 2 * PAD)
    tall = max(max(ys) - min(ys), 1e-6) * (1 + 2 * PAD)
    scale = min(WIDTH / wide, HEIGHT / tall)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return Frame(cx - WIDTH / 2 / scale, cy - HEIGHT / 2 / scale, scale)


def tiles(frame: Frame, url: str) -> list[dict[str, Any]]:
    """The tiles that cover the frame at the zoom whose tiles are closest to 256 px."""
    zoom = max(0, min(19, round(math.log2(frame.scale / 256))))
    n = 2**zoom
    size = frame.scale / n
    first_x, first_y = math.floor(frame.left * n), math.floor(frame.top * n)
    last_x = math.floor((frame.left + WIDTH / frame.scale) * n)
    last_y = math.floor((frame.top + HEIGHT / frame.scale) * n)
    found = []
    for tx in range(first_x, last_x + 1):
        for ty in range(max(0, first_y), min(n - 1, last_y) + 1):
            found.append(
                {
                    "href": url.replace("{z}", str(zoom))
                    .replace("{x}", str(tx % n))
                    .replace("{y}", str(ty)),
                    "x": round((tx / n - frame.left) * frame.scale, 1),
                    "y": round((ty / n - frame.top) * frame.scale, 1),
                    "size": round(size, 1) + 0.5,  # a hair of overlap: no seams
                }
            )
    return found[:MAX_TILES]


def _ring_points(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The outer and inner rings of a Polygon or MultiPolygon, as [lng, lat] lists."""
    if geometry.get("type") == "Polygon":
        return list(geometry.get("coordinates", []))
    if geometry.get("type") == "MultiPolygon":
        return [ring for polygon in geometry.get("coordinates", []) for ring in polygon]
    return []


def _network(session: DbSession) -> tuple[Frame, dict[str, Any]]:
    places, areas = live.network_layer(session)
    rings = {a.code: _ring_points(a.geometry) for a in areas}
    points = [(p.lat, p.lng) for p in places]
    points += [(lat, lng) for rs in rings.values() for ring in rs for lng, lat in ring]
    frame = fit(points)
    drawn_areas = [
        {
            "code": a.code,
            "name": a.name,
            "d": " ".join(
                "M" + " L".join("{},{}".format(*frame.xy(lat, lng)) for lng, lat in ring) + " Z"
                for ring in rings[a.code]
                if ring
            ),
        }
        for a in areas
    ]
    drawn_places = []
    for p in places:
        x, y = frame.xy(p.lat, p.lng)
        radius = None
        if p.radius_m:
            # The radius in pixels at the store's latitude (a Mercator metre grows with it).
            east = frame.xy(p.lat, p.lng + p.radius_m / (111_320 * math.cos(math.radians(p.lat))))
            radius = round(east[0] - x, 1)
        drawn_places.append({**p.__dict__, "x": x, "y": y, "r": radius})
    return frame, {"areas": drawn_areas, "places": drawn_places}


def network_frame(session: Session) -> Frame:
    """The frame the page draws in and the stream projects into."""
    return _network(session)[0]


def _day(session: DbSession, now: datetime) -> tuple[datetime, datetime]:
    zone = console.network_zone(session)
    local = now.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    return start, start + timedelta(days=1)


def _block_json(b: live.LiveBlock, frame: Frame, zone: ZoneInfo) -> dict[str, Any]:
    position = frame.xy(b.lat, b.lng) if b.lat is not None and b.lng is not None else None
    return {
        "id": b.id,
        "status": b.status,
        "start": b.start,
        "hours": f"{b.starts_at.astimezone(zone):%H:%M}–{b.ends_at.astimezone(zone):%H:%M}",
        "driver": b.driver,
        "at": position,
        "seen": b.seen_at.astimezone(zone).strftime("%H:%M:%S") if b.seen_at else None,
        "done": b.done,
        "to_do": b.to_do,
        "late": b.late,
        "stops": [[*frame.xy(s.lat, s.lng), s.status, s.late] for s in b.stops],
    }


def snapshot(session: DbSession, frame: Frame, now: datetime) -> dict[str, Any]:
    """Today's blocks, projected into ``frame``: what one update of the stream carries."""
    start, end = _day(session, now)
    zone = console.network_zone(session)
    return {
        "blocks": [_block_json(b, frame, zone) for b in live.blocks_layer(session, start, end, now)]
    }


class LiveFeed:
    """One reading of today's blocks for every open map of this process.

    However many maps are open, the blocks are read once per refresh: a stream asking within
    half a refresh of the last reading gets that reading. The reading goes through one
    `live.DayReader` (a block's stops are read again only when the block or its driver
    changed), and each block's JSON is kept while the block is unchanged, so an update
    encodes only the blocks that moved. The drawn network is kept too, until a node, a
    partner store or an area changes (`live.network_version`).
    """

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._lock = threading.Lock()
        # Everything again every five updates: a stop changed with neither its block nor its
        # driver (an operator's fix in the database) shows within five refreshes.
        self._reader = live.DayReader(full_every_s=FULL_READ_EVERY * every_s)
        self._read_at = -math.inf
        self._key: tuple[Frame, str] | None = None
        self._payload = ""
        # Each block's JSON in the reading's order (what `changes` compares against).
        self.texts: dict[int, str] = {}
        self._encoded: dict[int, tuple[live.LiveBlock, str]] = {}
        self._network: tuple[tuple[Any, ...], Frame, dict[str, Any]] | None = None
        self._network_lock = threading.Lock()
        self.readings = 0

    def network(self, session: Session) -> tuple[Frame, dict[str, Any]]:
        version = live.network_version(session)
        with self._network_lock:
            if self._network is None or self._network[0] != version:
                frame, drawn = _network(session)
                self._network = (version, frame, drawn)
            return self._network[1], self._network[2]

    def payload(self, sessions: sessionmaker[Session], frame: Frame, now: datetime) -> str:
        """The latest reading as one ``blocks`` event's data (every block)."""
        return self.reading(sessions, frame, now)[0]

    def reading(
        self, sessions: sessionmaker[Session], frame: Frame, now: datetime
    ) -> tuple[str, dict[int, str]]:
        """The latest reading: the whole of it, and each block's JSON by id, in order."""
        with self._lock:
            return self._read(sessions, frame, now), self.texts

    def _read(self, sessions: sessionmaker[Session], frame: Frame, now: datetime) -> str:
        # Under self._lock (`reading` holds it).
        fresh = time.monotonic() - self._read_at < self.every_s / 2
        if fresh and self._key is not None and self._key[0] == frame:
            return self._payload
        with unit_of_work(sessions) as session:
            session.connection(execution_options={"sqlite_begin": READ_ONLY_BEGIN})
            start, end = _day(session, now)
            zone = console.network_zone(session)
            blocks = self._reader.read(session, start, end, now)
        key = (frame, str(zone))
        if key != self._key:
            self._encoded = {}
        encoded: dict[int, tuple[live.LiveBlock, str]] = {}
        for b in blocks:
            kept = self._encoded.get(b.id)
            text = (
                kept[1]
                if kept is not None and kept[0] == b
                else json.dumps(_block_json(b, frame, zone))
            )
            encoded[b.id] = (b, text)
        self._encoded, self._key = encoded, key
        self.texts = {block_id: text for block_id, (_, text) in encoded.items()}
        self._payload = '{"blocks": [' + ", ".join(self.texts.values()) + "]}"
        self._read_at = time.monotonic()
        self.readings += 1
        return self._payload


_FEED_LOCK = threading.Lock()


def live_feed(request: Request, settings: Settings) -> LiveFeed:
    """The process's feed (one per app), made on first use."""
    with _FEED_LOCK:
        feed = getattr(request.app.state, "ops_live_feed", None)
        if feed is None or feed.every_s != settings.ops_map_refresh_s:
            feed = LiveFeed(settings.ops_map_refresh_s)
            request.app.state.ops_live_feed = feed
        return feed


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, session: DbSession, settings: SettingsDep, now: Now) -> Response:
    operator = page_operator(request, session, settings, Action.MAP_VIEW)
    if isinstance(operator, Response):
        return operator
    # No first frame inline: the stream sends it as soon as the page connects, so the page
    # itself reads no block and no stop.
    frame, network = live_feed(request, settings).network(session)
    url = settings.ops_map_tile_url
    img = "'self' data:"
    if url:
        parts = urlsplit(url)
        img += f" {parts.scheme}://{parts.netloc}"
    return render(
        "ops/map.html",
        operator,
        csp=(
            "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            f"img-src {img}; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'"
        ),
        width=WIDTH,
        height=HEIGHT,
        tiles=tiles(frame, url) if url else [],
        **network,
    )


@router.get("/map/events")
def map_events(request: Request, session: DbSession, settings: SettingsDep) -> Response:
    operator = page_operator(request, session, settings, Action.MAP_VIEW)
    if isinstance(operator, Response):
        return Response("sign in first", status_code=401, media_type="text/plain")
    feed = live_feed(request, settings)
    frame, _ = feed.network(session)
    return StreamingResponse(
        _stream(request, feed, frame, settings.ops_map_refresh_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def changes(sent: dict[int, str], texts: dict[int, str]) -> str | None:
    """A ``changes`` event's data: the blocks whose JSON differs from what this stream sent,
    the ids gone, and the order when it moved; None when nothing did."""
    changed = [text for block_id, text in texts.items() if sent.get(block_id) != text]
    gone = [block_id for block_id in sent if block_id not in texts]
    order = list(texts) if list(sent) != list(texts) else None
    if not changed and not gone and order is None:
        return None
    return (
        '{"blocks": ['
        + ", ".join(changed)
        + f'], "gone": {json.dumps(gone)}, "order": {json.dumps(order)}}}'
    )


async def _stream(
    request: Request, feed: LiveFeed, frame: Frame, every_s: float
) -> AsyncIterator[str]:
    """The whole day first (``blocks``), then only what changed (``changes``): at 300
    blocks an update is a few blocks, not 200 KB for the browser to parse every second."""
    sessions, clock = request.app.state.session_factory, request.app.state.clock

    def read() -> tuple[str, dict[int, str]]:
        return feed.reading(sessions, frame, clock())

    sent: dict[int, str] | None = None
    quiet = 0.0
    yield "retry: 1000\n\n"
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_S
    tick = loop.time()
    while loop.time() < ends and not await request.is_disconnected():
        whole, texts = await run_in_threadpool(read)
        update = None if sent is None else changes(sent, texts)
        if sent is None:
            yield f"event: blocks\ndata: {whole}\n\n"
            sent, quiet = texts, 0.0
        elif update is not None:
            yield f"event: changes\ndata: {update}\n\n"
            sent, quiet = texts, 0.0
        elif quiet >= KEEP_ALIVE_S:
            yield ": still here\n\n"
            quiet = 0.0
        # On a steady beat: the time a reading took comes off the wait for the next one.
        tick = max(tick + every_s, loop.time())
        await asyncio.sleep(tick - loop.time())
        quiet += every_s
