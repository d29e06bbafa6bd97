"""The node's ASGI application: the ISO 18626 endpoint and the staff API.

ISO 18626 endpoint (``POST`` at the configured path, ``/iso18626`` by default):

- a content type other than ``application/xml`` or ``text/xml``: **415**, plain text;
- a body over ``max_body_bytes``: **413**, plain text (checked on ``Content-Length`` and
  again while reading, so a chunked body cannot get past it);
- a body that is not a well-formed ISO 18626 message (not XML, DTDs and entities, too
  deep, not a message, a confirmation): **400** with an ISO ERROR confirmation of type
  BadlyFormedMessage;
- otherwise **200** with the synchronous confirmation: OK, or ERROR with the ISO error
  type (unknown value, unsupported action or reason, refused authentication, wrong
  counterpart, a step the request's state does not allow);
- **500**, plain text, when the node itself failed (nothing was stored; the sender
  retries).

The synchronous peer inbox runs in the thread pool; the node's store serialises it with
the dispatcher, the timers and the staff API.

Staff API (JSON, under ``/staff``, with ``Authorization: Bearer <staff_token>``; off when
no token is configured): see ``docs/http.md``. ``GET /health`` (the store and the
dispatcher; 503 when unhealthy, ``http/_health.py``) and ``GET /metrics`` (Prometheus,
``http/_metrics.py``) are open.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import attrs
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from resource_sharing.effects import SendMessage, TaskList
from resource_sharing.errors import (
    AmbiguousBarcode,
    ConcurrencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    ResourceSharingError,
    UsageError,
)
from resource_sharing.events import CancelledBy
from resource_sharing.iso18626 import ServiceType
from resource_sharing.messages import (
    Confirmation,
    PeerMessage,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import AnyRequest, OutboxStatus, StaffTask, TaskChoice
from resource_sharing.records import AgencyId, Citation, ItemRef, Money, PatronRef, Side
from resource_sharing.serialization import converter
from resource_sharing.service import ScanResult, index_of, instruction_of
from resource_sharing_adapters.http._auth import (
    AuthenticationFailed,
    Origin,
    StaffAuthenticator,
    Throttled,
    sender_of,
)
from resource_sharing_adapters.http._client import MESSAGE_ID_HEADER
from resource_sharing_adapters.http._config import structure
from resource_sharing_adapters.http._connections import EdgeMiddleware
from resource_sharing_adapters.http._health import check_health
from resource_sharing_adapters.http._logging import CorrelationMiddleware
from resource_sharing_adapters.http._metrics import CONTENT_TYPE, MetricsMiddleware, metrics_of
from resource_sharing_adapters.http._node import Node
from resource_sharing_adapters.http._tls import peer_certificate
from resource_sharing_adapters.http._validation import check_request, json_body
from resource_sharing_adapters.iso18626 import (
    BadlyFormedMessage,
    DecodeError,
    confirm_decode_error,
    decode,
    encode,
)

__all__ = ["XML_MEDIA_TYPES", "create_app"]

log = logging.getLogger("resource_sharing.http")

XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
"""The content types the ISO 18626 endpoint accepts."""

_XML_RESPONSE = 'application/xml; charset="utf-8"'


class _TooLarge(Exception):
    pass


async def _read_body(request: HttpRequest, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def _origin(request: HttpRequest) -> Origin:
    address = request.client.host if request.client else "?"
    return Origin(address, peer_certificate(request.scope))


def _too_many(exc: Throttled) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


def _xml(confirmation: Confirmation, version: str, status: int = 200) -> Response:
    return Response(encode(confirmation, version=version), status, media_type=_XML_RESPONSE)


def _iso_endpoint(node: Node) -> Callable[[HttpRequest], Any]:
    limit = node.config.server.max_body_bytes

    async def endpoint(request: HttpRequest) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in XML_MEDIA_TYPES:
            return PlainTextResponse(
                "415 Unsupported Media Type: send application/xml or text/xml\n", 415
            )
        try:
            body = await _read_body(request, limit)
        except _TooLarge:
            return PlainTextResponse(f"413 Content Too Large: at most {limit} bytes\n", 413)
        now = node.clock.now()
        try:
            decoded = decode(body, max_bytes=limit)
            message = decoded.message
            if isinstance(message, Confirmation):
                error = BadlyFormedMessage(f"{decoded.element}: a confirmation is not a message")
                error.kind = message.confirms
                raise error
        except DecodeError as error:
            confirmation = confirm_decode_error(error, timestamp=now, received=now)
            status = 400 if isinstance(error, BadlyFormedMessage) else 200
            metrics_of(node).received(confirmation, badly_formed=status == 400)
            return _xml(confirmation, "1.2", status)
        try:
            confirmation = await run_in_threadpool(
                node.receive,
                message,
                message_id=request.headers.get(MESSAGE_ID_HEADER),
                authorization=request.headers.get("authorization"),
                origin=_origin(request),
                raw=body,
            )
        except Throttled as exc:
            text = "429 Too Many Requests: try again later\n"
            return PlainTextResponse(text, 429, headers=_too_many(exc))
        except Exception:
            log.exception("the node failed on an inbound message")
            return PlainTextResponse("500 Internal Server Error: try again later\n", 500)
        metrics_of(node).received(confirmation)
        partner = node.config.directory.get(sender_of(message))
        version = partner.protocol.iso18626_version if partner is not None else "1.2"
        return _xml(confirmation, version)

    return endpoint


# -- the staff API ---------------------------------------------------------------------


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(name, "expected a non-empty string")
    return value


def _when(value: Any, name: str) -> datetime:
    return structure(value, datetime, name)


def _money(value: Any, name: str) -> Money:
    return structure(value, Money, name)


def _item(value: Any, name: str) -> ItemRef:
    return structure(value, ItemRef, name)


def _lenders(value: Any, name: str) -> tuple[AgencyId, ...]:
    return structure(value, tuple[AgencyId, ...], name)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(name, "expected true or false")
    return value


def _by(value: Any, name: str) -> CancelledBy:
    return structure(value, CancelledBy, name)


_Conv = Callable[[Any, str], Any]
_NOTE: dict[str, _Conv] = {"note": _text}

ACTIONS: Mapping[tuple[Side, str], tuple[str, Mapping[str, _Conv]]] = {
    (Side.BORROWING, "approve"): ("approve", {"rota": _lenders}),
    (Side.BORROWING, "add-lenders"): ("add_lenders", {"lenders": _lenders}),
    (Side.BORROWING, "cancel"): ("cancel", {"by": _by, "reason": _text}),
    (Side.BORROWING, "accept-conditions"): ("accept_conditions", _NOTE),
    (Side.BORROWING, "reject-conditions"): ("reject_conditions", _NOTE),
    (Side.BORROWING, "accept-retry"): ("accept_retry", {"max_cost": _money}),
    (Side.BORROWING, "decline-retry"): ("decline_retry", {}),
    (Side.BORROWING, "receive"): ("receive", {"barcode": _text}),
    (Side.BORROWING, "check-out"): ("check_out", {}),
    (Side.BORROWING, "deliver-copy"): ("deliver_copy", {}),
    (Side.BORROWING, "renew"): ("renew", {"requested_due": _when, "by_staff": _flag}),
    (Side.BORROWING, "approve-renewal"): ("approve_renewal", {}),
    (Side.BORROWING, "deny-renewal"): ("deny_renewal", {"reason": _text}),
    (Side.BORROWING, "ship-return"): ("ship_return", _NOTE),
    (Side.BORROWING, "report-lost"): ("report_lost", _NOTE),
    (Side.BORROWING, "report-damaged"): ("report_damaged", _NOTE),
    (Side.BORROWING, "status-request"): ("ask_lender_status", _NOTE),
    (Side.LENDING, "supply"): ("supply", {"item": _item}),
    (Side.LENDING, "locate-failed"): ("locate_failed", {"reason": _text}),
    (Side.LENDING, "will-supply"): ("will_supply", _NOTE),
    (Side.LENDING, "reject"): ("reject", {"reason": _text, "note": _text}),
    (Side.LENDING, "offer-retry"): (
        "offer_retry",
        {"reason": _text, "retry_after": _when, "offered_costs": _money, "note": _text},
    ),
    (Side.LENDING, "offer-conditions"): (
        "offer_conditions",
        {"condition": _text, "note": _text},
    ),
    (Side.LENDING, "pick"): ("pick", {}),
    (Side.LENDING, "arrive"): ("arrive", {}),
    (Side.LENDING, "ship"): ("ship", _NOTE),
    (Side.LENDING, "answer-renewal"): ("answer_renewal", {"approve": _flag, "due": _when}),
    (Side.LENDING, "answer-cancel"): ("answer_cancel", {"accept": _flag, "note": _text}),
    (Side.LENDING, "recall"): ("recall", _NOTE),
    (Side.LENDING, "mark-lost"): ("mark_lost", _NOTE),
}
"""Staff actions on one request: (side, URL name) to the desk method and its arguments."""

NOT_IN_ISO18626: Mapping[tuple[Side, str], str] = {
    (Side.LENDING, "status-request"): (
        "ISO 18626 has no message in which a lender asks the borrower for its status"
        " (StatusRequest is an action of the requesting agency): the borrower's side is"
        " known only from its own messages"
    ),
}
"""Actions staff may look for that the protocol does not allow, with the reason."""


def gist(message: PeerMessage) -> str:
    """A peer message in a few words: its status or action, and why (for staff and logs)."""
    if isinstance(message, SupplyingAgencyMessage):
        status = message.status.value if message.status is not None else "no status"
        return f"{status} ({message.reason.value})"
    if isinstance(message, RequestingAgencyMessage):
        return message.action.value
    return message.kind.value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class _Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_jsonable, ensure_ascii=False).encode("utf-8")


def summary(record: AnyRequest) -> dict[str, Any]:
    """A request as the staff API shows it: id, state, task list, instruction, record."""
    index = index_of(record)
    return {
        "side": index.side.value,
        "id": record.id,
        "state": record.state.value,
        "version": record.version,
        "task_list": index.task_list.value if index.task_list else None,
        "desk": index.desk,
        "instruction": index.instruction,
        "counterpart": str(index.counterpart) if index.counterpart else None,
        "protocol_ids": list(index.protocol_ids),
        "barcodes": list(index.barcodes),
        "record": converter.unstructure(record),
    }


_TASK_CHOICES = {
    "retry-now": TaskChoice.RETRY_NOW,
    "mark-done": TaskChoice.DONE_BY_HAND,
    "drop": TaskChoice.DROP,
}
"""The staff choices on a delivery task, by their name in the URL."""


def _task(task: StaffTask) -> dict[str, Any]:
    """A stored task as the staff API shows it: the task and its line's instruction."""
    shown: dict[str, Any] = converter.unstructure(task)
    shown["instruction"] = instruction_of(task)
    shown["open"] = task.resolution is None
    return shown


def _scan(result: ScanResult) -> dict[str, Any]:
    return {
        "side": result.side.value,
        "request": result.request_id,
        "state": result.state,
        "instruction": result.instruction,
    }


def _error(status: int, kind: str, detail: str) -> Response:
    return _Json({"error": kind, "detail": detail}, status)


def _side(value: str) -> Side:
    try:
        return Side(value)
    except ValueError:
        raise InvalidInput("side", "borrowing or lending") from None


def _int(request: HttpRequest, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(name, "expected an integer") from None


FEED_PAGE = 1000
"""How many feed or journal entries one ``GET`` returns unless ``limit`` says fewer."""


def _page(request: HttpRequest) -> int:
    limit = _int(request, "limit", FEED_PAGE)
    if not 1 <= limit <= FEED_PAGE:
        raise InvalidInput("limit", f"expected 1 to {FEED_PAGE}")
    return limit


class _Account(Protocol):
    """What the staff API needs of a staff account (the console extra defines them)."""

    @property
    def username(self) -> str:
        """The name history entries record."""
        ...

    @property
    def roles(self) -> frozenset[str]:
        """The account's roles (``borrowing``, ``lending``, ``admin``)."""
        ...


_RoleOf = str | Callable[[HttpRequest], str | None] | None
"""The staff role a route needs from a user's own token: fixed, read from the path, or none."""


def _personal_token(request: HttpRequest) -> str | None:
    """A staff user's own API token (``Bearer rs_...``) in the request, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token.startswith("rs_") else None


def _may(account: _Account, role: str) -> bool:
    """Whether the account holds ``role`` (an admin holds every role), as the console checks."""
    return role in account.roles or "admin" in account.roles


def _side_role(request: HttpRequest) -> str | None:
    """The role of the side named in the path (an unknown side is refused later with 400)."""
    side = request.path_params.get("side")
    return side if side in ("borrowing", "lending") else None


class _Staff:
    """The staff API's handlers (each runs its synchronous work in the thread pool)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._auth = StaffAuthenticator(node.config.server.staff_token, node.authenticator.guard)

    def guard(
        self, handler: Callable[[HttpRequest], Any], role: _RoleOf = None
    ) -> Callable[[HttpRequest], Any]:
        """``handler`` behind the staff token; a user's own token also needs ``role``."""

        async def guarded(request: HttpRequest) -> Response:
            personal = _personal_token(request)
            account = await self._account_of(personal) if personal else None
            request.state.staff_user = user = account.username if account else None
            if personal and account is None:
                detail = "this API token is not valid: it was replaced, or its user is disabled"
                return _error(401, "Unauthorized", detail)
            if user is None and not self._auth.enabled:
                return _error(404, "StaffApiOff", "no staff token is configured")
            try:
                needed = role(request) if callable(role) else role
                if account is not None and needed is not None and not _may(account, needed):
                    return _error(
                        403,
                        "Forbidden",
                        f"{user} may not do this: it needs the {needed} staff role"
                        " (an administrator can add it with resource-sharing staff)",
                    )
                if user is None:
                    self._auth.check(request.headers.get("authorization"), _origin(request).address)
            except Throttled as exc:
                detail = "too many requests or failed attempts; try again later"
                response = _error(429, "TooManyRequests", detail)
                response.headers.update(_too_many(exc))
                return response
            except AuthenticationFailed:
                return _error(401, "Unauthorized", "a valid staff bearer token is required")
            try:
                await check_request(handler.__name__, request)
                result: Response = await handler(request)
            except NotFound as exc:
                return _error(404, type(exc).__name__, str(exc))
            except AmbiguousBarcode as exc:  # staff choose: the candidates, to scan again
                candidates = [{"request": rid, "state": state} for rid, state in exc.candidates]
                body = {"error": "AmbiguousBarcode", "detail": str(exc), "candidates": candidates}
                return _Json(body, 409)
            except (IllegalTransition, ConcurrencyConflict) as exc:
                return _error(409, type(exc).__name__, str(exc))
            except (UsageError, ValueError, TypeError) as exc:
                return _error(400, type(exc).__name__, str(exc))
            except ResourceSharingError as exc:
                return _error(500, type(exc).__name__, str(exc))
            return result

        return guarded

    async def body(self, request: HttpRequest) -> dict[str, Any]:
        return await json_body(request)

    async def _account_of(self, token: str) -> _Account | None:
        """The enabled staff user whose own API token this is, or None."""
        try:
            from resource_sharing_adapters.console import accounts_of
        except ImportError:  # no console extra: no staff accounts, so no personal tokens
            return None
        account: _Account | None = await run_in_threadpool(accounts_of(self.node).by_token, token)
        return account

    def _desk(self, request: HttpRequest, side: Side) -> Any:
        """The side's desk, acting for the user whose own token the request carries."""
        inst = self.node.institution
        desk: Any = inst.borrowing if side is Side.BORROWING else inst.lending
        user = request.state.staff_user
        return desk.by(user) if user is not None else desk  # the history names the user

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = await run_in_threadpool(fn, *args, **kwargs)
        self.node.wake()
        return result

    # -- reads --

    async def info(self, request: HttpRequest) -> Response:
        node = self.node

        def positions() -> tuple[int, int]:
            return node.feed.last, node.journal.last

        changes, journal = await run_in_threadpool(positions)
        return _Json(
            {
                "agency": str(node.agency),
                "name": node.config.name,
                "now": node.clock.now(),
                "changes": changes,
                "journal": journal,
                "endpoint": node.config.server.url,
            }
        )

    async def changes(self, request: HttpRequest) -> Response:
        since, limit = _int(request, "since", 0), _page(request)
        found = await run_in_threadpool(self.node.feed.since, since, limit)
        return _Json([converter.unstructure(c) for c in found])

    async def journal(self, request: HttpRequest) -> Response:
        since, limit = _int(request, "since", 0), _page(request)
        found = await run_in_threadpool(self.node.journal.since, since, limit)
        return _Json([attrs.asdict(e) for e in found])

    async def tasks(self, request: HttpRequest) -> Response:
        try:
            task_list = TaskList(request.path_params["task_list"])
        except ValueError:
            names = ", ".join(t.value for t in TaskList)
            raise InvalidInput("task_list", f"one of {names}") from None
        tasks = await run_in_threadpool(
            self.node.institution.tasks,
            task_list,
            desk=request.query_params.get("desk"),
            limit=_int(request, "limit", 50),
            offset=_int(request, "offset", 0),
        )
        return _Json([converter.unstructure(t) for t in tasks])

    async def task(self, request: HttpRequest) -> Response:
        """One stored task, with the peer message it is about."""
        task_desk = self.node.institution.task_desk
        task = await run_in_threadpool(task_desk.get, request.path_params["task_id"])
        return _Json(_stored_task(task))

    async def choose_task(self, request: HttpRequest) -> Response:
        """Carry out one of a stored task's choices, recorded with the staff user."""
        data = await self.body(request)
        choice = structure(data.get("choice"), TaskChoice, "choice")
        by = request.state.staff_user or data.get("by")
        if not by:
            raise InvalidInput("by", "name the staff user (or use their own API token)")
        task = await self.run(
            self.node.institution.task_desk.resolve,
            request.path_params["task_id"],
            choice,
            by=by,
            note=data.get("note"),
        )
        return _Json(_stored_task(task))

    async def show(self, request: HttpRequest) -> Response:
        side = _side(request.path_params["side"])
        rid = request.path_params["id"]
        inst = self.node.institution
        record = await run_in_threadpool(inst.get, side, rid)
        history = await run_in_threadpool(inst.history, side, rid)
        shown = summary(record)
        shown["history"] = [converter.unstructure(h) for h in history]
        return _Json(shown)

    async def find(self, request: HttpRequest) -> Response:
        query = request.query_params
        side = _side(query.get("side", ""))
        protocol_id = _text(query.get("protocol_id"), "protocol_id")
        counterpart = AgencyId.parse(_text(query.get("counterpart"), "counterpart"))
        found = await run_in_threadpool(self.node.find, side, protocol_id, counterpart)
        if found is None:
            raise NotFound(f"{side.value} request", f"{protocol_id} with {counterpart}")
        return _Json({"side": side.value, "id": found})

    async def outbox(self, request: HttpRequest) -> Response:
        raw = request.query_params.get("status")
        status = OutboxStatus(raw) if raw else None
        messages = await run_in_threadpool(self.node.outbox, status)
        return _Json(
            [
                {
                    "id": m.id,
                    "port": m.port.value,
                    "to": str(m.effect.to) if isinstance(m.effect, SendMessage) else None,
                    "request": m.request_id,
                    "kind": m.effect.message.kind.value
                    if isinstance(m.effect, SendMessage)
                    else type(m.effect).__name__,
                    "gist": gist(m.effect.message) if isinstance(m.effect, SendMessage) else None,
                    "created_at": m.created_at,
                    "status": m.status.value,
                    "attempts": m.attempts,
                    "next_attempt_at": m.next_attempt_at,
                    "last_error": m.last_error,
                }
                for m in messages
            ]
        )

    # -- actions --

    async def place(self, request: HttpRequest) -> Response:
        data = await self.body(request)
        unknown = set(data) - {
            "patron",
            "citation",
            "service_type",
            "pickup_location",
            "note",
            "max_cost",
            "need_before",
            "rota",
        }
        if unknown:
            raise InvalidInput("body", f"unknown key(s): {', '.join(sorted(unknown))}")
        patron = structure(data.get("patron"), PatronRef, "patron")
        citation = structure(data.get("citation"), Citation, "citation")
        kwargs: dict[str, Any] = {
            "service_type": structure(data.get("service_type", "Loan"), ServiceType, "service"),
            "pickup_location": data.get("pickup_location"),
            "note": data.get("note"),
        }
        if "max_cost" in data:
            kwargs["max_cost"] = _money(data["max_cost"], "max_cost")
        if "need_before" in data:
            kwargs["need_before"] = structure(data["need_before"], date, "need_before")
        if "rota" in data:
            kwargs["rota"] = _lenders(data["rota"], "rota")
        record = await self.run(
            self._desk(request, Side.BORROWING).place_request, patron, citation, **kwargs
        )
        return _Json(summary(record), 201)

    async def act(self, request: HttpRequest) -> Response:
        side = _side(request.path_params["side"])
        name = request.path_params["action"]
        spec = ACTIONS.get((side, name))
        refused = NOT_IN_ISO18626.get((side, name))
        if refused is not None:
            raise InvalidInput(
                "action", f"{name} is not possible on the {side.value} side: {refused}"
            )
        if spec is None:
            known = ", ".join(sorted(n for s, n in ACTIONS if s is side))
            raise NotFound(f"{side.value} action", f"{name} (known: {known})")
        method_name, params = spec
        data = await self.body(request)
        unknown = set(data) - set(params)
        if unknown:
            raise InvalidInput("body", f"unknown key(s): {', '.join(sorted(unknown))}")
        kwargs = {k: params[k](v, k) for k, v in data.items() if v is not None}
        method = getattr(self._desk(request, side), method_name)
        record = await self.run(method, request.path_params["id"], **kwargs)
        return _Json(summary(record))

    async def scan(self, request: HttpRequest) -> Response:
        data = await self.body(request)
        barcode = _text(data.get("barcode"), "barcode")
        results = await run_in_threadpool(self.node.institution.scan, barcode, data.get("desk"))
        return _Json([_scan(r) for r in results])

    async def return_item(self, request: HttpRequest) -> Response:
        data = await self.body(request)
        barcode = _text(data.get("barcode"), "barcode")
        result = await self.run(
            self._desk(request, Side.BORROWING).return_item,
            barcode,
            data.get("desk"),
            request_id=data.get("request_id"),
        )
        return _Json(_scan(result))

    async def check_in(self, request: HttpRequest) -> Response:
        data = await self.body(request)
        barcode = _text(data.get("barcode"), "barcode")
        mark = await run_in_threadpool(lambda: self.node.journal.last)
        result = await self.run(
            self._desk(request, Side.LENDING).check_in, barcode, request_id=data.get("request_id")
        )
        shown = _scan(result)
        entries = await run_in_threadpool(self.node.journal.since, mark)
        routes = [
            e.detail["instruction"]
            for e in entries
            if e.command == "RouteItem" and e.request_id == result.request_id
        ]
        if routes:
            shown["instruction"] = routes[-1]
        return _Json(shown)

    async def local_hold(self, request: HttpRequest) -> Response:
        data = await self.body(request)
        barcode = _text(data.get("barcode"), "barcode")
        patron = data.get("patron_id")
        record = await self.run(
            self._desk(request, Side.LENDING).local_hold,
            barcode,
            patron,
            request_id=data.get("request_id"),
        )
        return _Json(summary(record))

    # -- deliveries that gave up: staff tasks --

    async def delivery_tasks(self, request: HttpRequest) -> Response:
        tasks = await run_in_threadpool(
            self.node.institution.delivery_tasks,
            desk=request.query_params.get("desk"),
            limit=_int(request, "limit", 50),
            offset=_int(request, "offset", 0),
        )
        return _Json([_task(t) for t in tasks])

    async def delivery_task(self, request: HttpRequest) -> Response:
        desk = self.node.institution.task_desk
        task = await run_in_threadpool(desk.get, request.path_params["task_id"])
        return _Json(_task(task))

    async def request_tasks(self, request: HttpRequest) -> Response:
        side = _side(request.path_params["side"])
        inst = self.node.institution
        await run_in_threadpool(inst.get, side, request.path_params["id"])  # 404 if unknown
        tasks = await run_in_threadpool(inst.tasks_of, side, request.path_params["id"])
        return _Json([_task(t) for t in tasks])

    async def resolve_task(self, request: HttpRequest) -> Response:
        data = await self.body(request)
        user = request.state.staff_user or data.get("by")
        if user is None:
            raise InvalidInput("by", "name the staff user (or call with your own API token)")
        if request.state.staff_user is not None and data.get("by") not in (None, user):
            raise InvalidInput("by", f"this token is {user}'s; leave by out")
        choice = _TASK_CHOICES[request.path_params["choice"]]
        task_id = request.path_params["task_id"]
        desk = self.node.institution.task_desk
        delivered = None
        if choice is TaskChoice.RETRY_NOW:
            delivered = await self.run(desk.retry_now, task_id, by=user, note=data.get("note"))
            task = await run_in_threadpool(desk.get, task_id)
        else:
            task = await self.run(desk.resolve, task_id, choice, by=user, note=data.get("note"))
        shown = _task(task)
        if delivered is not None:
            shown["delivered"] = delivered
        return _Json(shown)

    async def dispatch(self, request: HttpRequest) -> Response:
        report = await run_in_threadpool(self.node.dispatch)
        return _Json(attrs.asdict(report))

    async def tick(self, request: HttpRequest) -> Response:
        fired = await run_in_threadpool(self.node.tick)
        return _Json({"fired": fired})

    async def sweep(self, request: HttpRequest) -> Response:
        report = await run_in_threadpool(lambda: self.node.sweep(force=True))
        return _Json(attrs.asdict(report))

    async def clock(self, request: HttpRequest) -> Response:
        if not self.node.config.clock_adjustable:
            return _error(403, "ClockNotAdjustable", "set clock.adjustable = true to allow it")
        data = await self.body(request)
        if "advance_seconds" in data:
            seconds = data["advance_seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise InvalidInput("advance_seconds", "expected a number >= 0")
            now = self.node.clock.advance(timedelta(seconds=seconds))
        elif "to" in data:
            now = self.node.clock.set(_when(data["to"], "to"))
        else:
            now = self.node.clock.now()
        return _Json({"now": now})


def _stored_task(task: StaffTask) -> dict[str, Any]:
    """A stored task as the staff API shows it: its fields, its line, its message's gist."""
    shown: dict[str, Any] = converter.unstructure(task)
    shown["instruction"] = instruction_of(task)
    shown["gist"] = gist(task.message) if task.message is not None else None
    return shown


def _ncip_route(node: Node) -> Route:
    """``[ncip_inbound]``: the ILS posts a local hold on a lent item; the loan is recalled."""
    from resource_sharing_adapters.ncip import inbound_route

    settings = node.config.ncip_inbound
    assert settings is not None
    desk = node.institution.lending.by("ils")

    def on_local_hold(barcode: str, patron_id: str | None) -> object:
        try:
            found = node.institution.shell.retrying(lambda: desk.local_hold(barcode, patron_id))
        except InvalidInput as exc:
            if exc.field == "barcode":  # not an item we lent: the ILS hears "Unknown Item"
                raise NotFound("lent item", barcode) from exc
            raise
        node.wake()  # the Recalled message goes out now
        return found

    log.info("NCIP holds from the ILS taken at %s", settings.path)
    return inbound_route(
        settings.path,
        on_local_hold,
        agency=settings.agency or node.agency.value,
        api_key=settings.api_key,
        api_key_header=settings.api_key_header,
        max_bytes=node.config.server.max_body_bytes,
    )


def create_app(node: Node, *, background: bool = True, console: bool = True) -> Starlette:
    """The node's ASGI app; with ``background`` its lifespan runs the dispatcher and timers.

    With ``console`` the staff console is served at ``/`` (``docs/console.md``).
    """
    staff = _Staff(node)
    g = staff.guard

    async def health(request: HttpRequest) -> Response:
        status, body = await run_in_threadpool(check_health, node)
        return _Json(body, status)

    async def metrics(request: HttpRequest) -> Response:
        text = await run_in_threadpool(metrics_of(node).render)
        return Response(text, media_type=CONTENT_TYPE)

    routes: list[Route | Mount] = [
        Route(node.config.server.path, _iso_endpoint(node), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/staff/info", g(staff.info), methods=["GET"]),
        Route("/staff/changes", g(staff.changes), methods=["GET"]),
        Route("/staff/journal", g(staff.journal), methods=["GET"]),
        Route("/staff/outbox", g(staff.outbox), methods=["GET"]),
        Route("/staff/find", g(staff.find), methods=["GET"]),
        Route("/staff/tasks/{task_list}", g(staff.tasks), methods=["GET"]),
        Route("/staff/scan", g(staff.scan), methods=["POST"]),
        Route("/staff/delivery-tasks", g(staff.delivery_tasks), methods=["GET"]),
        Route("/staff/delivery-tasks/{task_id}", g(staff.delivery_task), methods=["GET"]),
        Route("/staff/delivery-tasks/{task_id}/{choice}", g(staff.resolve_task), methods=["POST"]),
        Route(
            "/staff/requests/{side}/{id}/tasks", g(staff.request_tasks, _side_role), methods=["GET"]
        ),
        Route("/staff/dispatch", g(staff.dispatch, "admin"), methods=["POST"]),
        Route("/staff/tick", g(staff.tick, "admin"), methods=["POST"]),
        Route("/staff/sweep", g(staff.sweep, "admin"), methods=["POST"]),
        Route("/staff/clock", g(staff.clock, "admin"), methods=["POST"]),
        Route("/staff/borrowing/requests", g(staff.place, "borrowing"), methods=["POST"]),
        Route("/staff/borrowing/return", g(staff.return_item, "borrowing"), methods=["POST"]),
        Route("/staff/lending/check-in", g(staff.check_in, "lending"), methods=["POST"]),
        Route("/staff/lending/local-hold", g(staff.local_hold, "lending"), methods=["POST"]),
        Route("/staff/requests/{side}/{id}", g(staff.show, _side_role), methods=["GET"]),
        Route("/staff/task/{task_id}", g(staff.task), methods=["GET"]),
        Route("/staff/task/{task_id}", g(staff.choose_task), methods=["POST"]),
        Route("/staff/{side}/{id}/{action}", g(staff.act, _side_role), methods=["POST"]),
    ]
    if node.config.ncip_inbound is not None:
        routes.append(_ncip_route(node))
    if console:
        try:
            from resource_sharing_adapters.console import create_console
        except ImportError as exc:  # the console extra is not installed
            log.info("staff console off (install resource-sharing[console]): %s", exc)
        else:
            routes.append(Mount("/", app=create_console(node)))  # the staff console's pages

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if background:
            node.start()
        try:
            yield
        finally:
            if background:
                await run_in_threadpool(node.stop)

    edge = Middleware(
        EdgeMiddleware,
        max_body_bytes=node.config.server.max_body_bytes,
        body_timeout=node.config.server.limits.body_timeout_seconds,
        counters=node.authenticator.guard.counters,
    )
    middleware = [
        Middleware(CorrelationMiddleware, message_header=MESSAGE_ID_HEADER),
        Middleware(MetricsMiddleware, node=node),
        edge,
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
