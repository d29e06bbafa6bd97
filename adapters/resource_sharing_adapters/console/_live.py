"""The live task lists: the change feed's position, as JSON (polling) and as events.

``GET /events`` is a server-sent event stream: an ``id`` and ``data`` line with the feed's
position each time it moves (every process of the institution writes to the same feed,
so a change made anywhere shows), a comment line as a keep-alive, and ``retry`` so the
browser reconnects by itself; a stream ends after :data:`STREAM_SECONDS` (the browser
reconnects with ``Last-Event-ID``, and a change in between is sent at once), which
bounds what a forgotten tab holds. ``GET /live`` answers the position once, for the
polling fallback. Neither counts as use of the session (see ``idle_minutes``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

if TYPE_CHECKING:
    from resource_sharing_adapters.console._app import Console

__all__ = ["STREAM_SECONDS", "events", "feed_events", "live"]

STREAM_SECONDS = 55.0
"""How long one event stream lasts before the browser reconnects."""
_INTERVAL = 1.0
_KEEP_ALIVE = 15.0


async def live(console: Console, request: Request) -> Response:
    """GET /live: the change feed's position, which the page polls."""
    last = await run_in_threadpool(lambda: console.node.feed.last)
    return JSONResponse({"changes": last})


async def feed_events(
    position: Callable[[], Awaitable[int]],
    start: int | None,
    *,
    seconds: float = STREAM_SECONDS,
    interval: float = _INTERVAL,
    gone: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[str]:
    """The event stream's text: the position now, then each time it moves.

    ``start`` is the position the browser saw last (its ``Last-Event-ID``): when the feed
    moved past it, the first event says so at once.
    """
    last = await position()
    kind = "change" if start is not None and start != last else "hello"
    yield f"retry: 2000\nid: {last}\nevent: {kind}\ndata: {last}\n\n"
    waited = quiet = 0.0
    while waited < seconds:
        await asyncio.sleep(interval)
        waited += interval
        quiet += interval
        if gone is not None and await gone():
            return
        now = await position()
        if now != last:
            last, quiet = now, 0.0
            yield f"id: {now}\nevent: change\ndata: {now}\n\n"
        elif quiet >= _KEEP_ALIVE:
            quiet = 0.0
            yield ": still here\n\n"


async def events(console: Console, request: Request) -> Response:
    """GET /events: the change feed's position as server-sent events."""
    given = request.headers.get("last-event-id", "")
    start = int(given) if given.isdigit() else None

    async def position() -> int:
        return int(await run_in_threadpool(lambda: console.node.feed.last))

    return StreamingResponse(
        feed_events(position, start, gone=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
