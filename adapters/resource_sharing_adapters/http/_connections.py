"""Bounded connections: read timeouts, sizes, a connection limit, quiet disconnects.

Rules (the ``[server.limits]`` table, :class:`ConnectionLimits`), applied by ``serve``:

- **Headers** must arrive within ``header_timeout_seconds`` of the connection being made
  (or of the first byte of the next request on a kept-alive connection), and be at most
  ``max_header_bytes``; otherwise the connection is closed (too large: a 400 first).
  uvicorn has no such timeout, so :func:`protocol_class` adds it to its h11 protocol.
- **The body** must arrive within ``body_timeout_seconds`` of the headers: otherwise
  408 and the connection is closed. It may be at most ``server.max_body_bytes``, by
  ``Content-Length`` (refused before reading) and while reading, so a chunked body
  cannot get past it: 413, connection closed. :class:`EdgeMiddleware` (ASGI) does both
  for every route, the ISO 18626 endpoint and the staff API alike.
- **Idle kept-alive connections** close after ``keep_alive_seconds``.
- **At most ``max_connections``** are served at once; beyond that uvicorn answers 503.
- **A client that goes away** in the middle of its request is one DEBUG line, never a
  traceback (nobody can flood the log by hanging up).

Each of these events is counted in :class:`~resource_sharing_adapters.http._limits.
SecurityCounters` as ``connections`` with ``event`` = header_timeout, body_timeout,
too_large or disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, final

import attrs
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from resource_sharing_adapters.http._limits import SecurityCounters
from resource_sharing_adapters.http._tls import tls_scope

__all__ = ["ConnectionLimits", "EdgeMiddleware", "protocol_class"]

log = logging.getLogger("resource_sharing.http.connections")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def _seconds(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a number of seconds > 0, got {value!r}")


def _count(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be an integer >= 1, got {value!r}")


@final
@attrs.frozen(kw_only=True)
class ConnectionLimits:
    """The ``[server.limits]`` table: how long and how much a client may take."""

    header_timeout_seconds: float = attrs.field(default=10.0, validator=_seconds)
    """From connecting (or the next request's first byte) to the end of the headers."""
    body_timeout_seconds: float = attrs.field(default=30.0, validator=_seconds)
    """From the end of the headers to the end of the body."""
    keep_alive_seconds: float = attrs.field(default=5.0, validator=_seconds)
    """An idle kept-alive connection is closed after this."""
    max_connections: int = attrs.field(default=1000, validator=_count)
    """Connections served at once (more get 503)."""
    max_header_bytes: int = attrs.field(default=16384, validator=_count)
    """The request line and headers, at most."""


class _TooLarge(Exception):
    pass


class _BodyTimeout(Exception):
    pass


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "?"


@final
class EdgeMiddleware:
    """ASGI middleware bounding each request's body in size and time.

    ``counters`` (optional) counts the refusals and disconnects.
    """

    def __init__(
        self,
        app: App,
        *,
        max_body_bytes: int,
        body_timeout: float,
        counters: SecurityCounters | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.counters = counters

    def _note(self, event: str, scope: Scope) -> None:
        if self.counters is not None:
            self.counters.increment("connections", event=event)
        log.debug("%s %s %s: %s", _client(scope), scope.get("method"), scope.get("path"), event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with a bounded ``receive``; answer 408 or 413 when it overruns."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.strip().isdigit() and int(value) > limit:
                self._note("too_large", scope)
                await _refuse(send, 413, f"413 Content Too Large: at most {limit} bytes\n")
                return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        state = {"read": 0, "done": False, "started": False}

        async def bounded_receive() -> Message:
            if state["done"]:
                return await receive()
            if loop.time() >= deadline:
                raise _BodyTimeout
            try:
                async with asyncio.timeout_at(deadline):  # no task per chunk, unlike wait_for
                    message = await receive()
            except TimeoutError:
                raise _BodyTimeout from None
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    raise _TooLarge
                if not message.get("more_body", False):
                    state["done"] = True
            return message

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except _BodyTimeout:
            self._note("body_timeout", scope)
            if not state["started"]:
                await _refuse(send, 408, "408 Request Timeout: the body came too slowly\n")
        except _TooLarge:
            self._note("too_large", scope)
            if not state["started"]:
                await _refuse(send, 413, f"413 Content Too Large: at most {limit} bytes\n")
        except ClientDisconnect:
            self._note("disconnected", scope)


async def _refuse(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def protocol_class(
    limits: ConnectionLimits, counters: SecurityCounters | None = None
) -> type[asyncio.Protocol]:
    """Uvicorn's h11 protocol with a header read timeout, and TLS details in the scope.

    Pass it as ``uvicorn.Config(http=...)``. The TLS details (``scope["extensions"]
    ["tls"]``, see :func:`~resource_sharing_adapters.http._tls.tls_scope`) carry the
    verified client certificate, for mutual TLS.
    """
    timeout = limits.header_timeout_seconds

    class BoundedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _tls: dict[str, Any] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._tls = tls_scope(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()
            super().data_received(data)

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's headers are in
                self._disarm()
                if self._tls is not None and self.cycle is not None:
                    scope: dict[str, Any] = self.cycle.scope  # type: ignore[assignment]
                    scope.setdefault("extensions", {})["tls"] = self._tls

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                if counters is not None:
                    counters.increment("connections", event="header_timeout")
                client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
                log.debug("%s: header_timeout", client)
                self.transport.close()

    return BoundedH11Protocol
