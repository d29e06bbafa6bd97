"""A node's log lines: an id on every line, JSON on request, no patron's name or e-mail.

- **Ids.** :data:`request_id` and :data:`message_id` are context variables: the
  :class:`CorrelationMiddleware` sets the first for every HTTP request (from
  ``X-Request-Id`` when the caller sent one, else a new one, echoed in the response) and
  the second from the sender's message id header on the ISO 18626 endpoint; the
  delivery of an outbox message sets the second to the message's id (a journalled
  notice or command names its outbox entry's key itself). The thread pool
  and the background threads copy them, so each line says which request or message it
  belongs to; a line outside both names its thread (``US-A-dispatch``).
- **Format.** :func:`configure_logging` installs one handler on the root logger: text
  (``time level logger [id] message``) or JSON lines (``--log-format json``): ``time``,
  ``level``, ``logger``, ``message``, ``request_id``, ``message_id``, ``thread`` and, on
  an error, ``exception``. :func:`uvicorn_log_config` makes uvicorn's own lines the same.
- **Privacy.** Nothing logged at INFO or above names a patron or shows an e-mail
  address: :func:`redact` reduces a patron to its id (and drops names, e-mail addresses
  and phone numbers anywhere in a logged structure), and the handler's filter masks any
  e-mail address left in a line at INFO and above.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ContextFilter",
    "CorrelationMiddleware",
    "JsonFormatter",
    "configure_logging",
    "message_id",
    "new_id",
    "redact",
    "request_id",
    "uvicorn_log_config",
]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
"""The HTTP request being served (None outside one)."""

message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("message_id", default=None)
"""The ISO 18626 message being received or delivered (None outside one)."""

REQUEST_ID_HEADER = "x-request-id"
"""The header a caller may name its request with; the response always carries it."""

_PRIVATE_KEYS = frozenset({"name", "email", "e_mail", "phone", "address", "surname"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def new_id() -> str:
    """A short random id for a request that came without one."""
    return secrets.token_hex(8)


def redact(value: Any) -> Any:
    """``value`` with every patron reduced to its id and personal fields dropped."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "patron" and isinstance(item, dict):
                out[key] = item.get("id")
            elif key in _PRIVATE_KEYS:
                continue
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _EMAIL.sub("<email>", value)
    return value


class ContextFilter(logging.Filter):
    """Adds the ids to every record, and masks e-mail addresses at INFO and above."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        if not getattr(record, "message_id", None):  # a line may name its entry itself
            record.message_id = message_id.get()
        if record.levelno >= logging.INFO:
            text = record.getMessage()
            masked = _EMAIL.sub("<email>", text)
            if masked != text:
                record.msg, record.args = masked, None
        return True


def _ids(record: logging.LogRecord) -> str:
    found = [
        f"{name}={value}"
        for name in ("request_id", "message_id")
        if (value := getattr(record, name, None))
    ]
    return " ".join(found) or f"thread={record.threadName}"


class TextFormatter(logging.Formatter):
    """``time level logger [ids] message`` (the ids, or the thread when there are none)."""

    def format(self, record: logging.LogRecord) -> str:
        record.ids = _ids(record)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, thread, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "message_id": getattr(record, "message_id", None),
            "thread": record.threadName,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(ids)s] %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``text`` or ``json``."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return TextFormatter(_TEXT_FORMAT)
    raise ValueError(f"log format: text or json, not {log_format!r}")


def configure_logging(level: str = "info", log_format: str = "text") -> logging.Handler:
    """One stderr handler on the root logger with the ids, the filter and the format."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_resource_sharing", False)]:
        root.removeHandler(old)
    handler._resource_sharing = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    return handler


def uvicorn_log_config(level: str = "info", log_format: str = "text") -> dict[str, Any]:
    """A ``log_config`` for uvicorn that sends its lines through the same format."""
    factory = f"{__name__}.formatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"node": {"()": factory, "log_format": log_format}},
        "handlers": {
            "node": {
                "class": "logging.StreamHandler",
                "formatter": "node",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["node"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class CorrelationMiddleware:
    """ASGI middleware: sets :data:`request_id` (and :data:`message_id`) per HTTP request."""

    def __init__(
        self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]], *, message_header: str
    ) -> None:
        self.app = app
        self._message_header = message_header.lower().encode("latin-1")

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(REQUEST_ID_HEADER.encode("latin-1"))
        rid = given.decode("latin-1")[:64] if given else new_id()
        sent = headers.get(self._message_header)
        tokens = (
            request_id.set(rid),
            message_id.set(sent.decode("latin-1")[:128] if sent else None),
        )

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), rid.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            message_id.reset(tokens[1])
            request_id.reset(tokens[0])
