"""A scripted, independent ISO 18626 peer on loopback, for the interoperability tests.

:class:`ScriptedPeer` is an ISO 18626 endpoint (a Starlette app under uvicorn in a
thread, on a free 127.0.0.1 port) that is *not* one of our nodes: it keeps no lifecycle,
only what a test tells it to do and what it saw. It stands in for the independent
implementations of issue 14 (peers that refuse, race, or reuse message ids).

- **Answers.** Each message it receives is answered by the first matching entry of
  :meth:`ScriptedPeer.script` (consumed in order), else by :attr:`ScriptedPeer.default`.
  An answer is :func:`ok`, :func:`error` (an ERROR confirmation with errorType and
  errorValue), :func:`http` (a bare HTTP status and text, no ISO body) or
  :func:`unknown_id` (the ERROR a peer gives for a request id it has not stored).
- **Stored requests.** Like a real peer it knows the request ids it has *stored*
  (:attr:`ScriptedPeer.known`): the requests it sent, once it has read our
  confirmation, and the requests it received and answered OK. A supplying or requesting
  agency message about an id it has not stored gets :func:`unknown_id` by default.
  :meth:`ScriptedPeer.store_late` makes it answer "unknown" to the first N messages
  about an id whatever it stored (a peer that stores late).
- **Records.** :attr:`ScriptedPeer.received` lists every message, decoded by the
  project's codec, in arrival order, with its ``X-Message-ID`` and the answer given;
  :meth:`ScriptedPeer.wait_for` waits (bounded) for one that matches.
- **Sending.** :meth:`ScriptedPeer.send` POSTs a message to one of our nodes (a
  :class:`~tests.adapters.nodes_http.Cluster` node or a ``serve`` child) with a chosen
  ``X-Message-ID`` (or none) and extra headers; :meth:`request`, :meth:`supplying` and
  :meth:`requesting` build the messages with our node's credentials filled in
  (:func:`tests.nodes_http.secret`), whichever side the peer plays.

Wire it into a :class:`~tests.adapters.nodes_http.Cluster` with :func:`scripted_peer` before the
node that talks to it is defined, so its partner entry points at the peer's port::

    with cluster(tmp_path) as net, scripted_peer(net, "US-P") as peer:
        net.define("US-A", ["US-P"])
        net.start("US-A")
        peer.script(error(ErrorType.UNRECOGNISED_DATA_VALUE, "no such title"))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast, final

import attrs
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from resource_sharing.iso18626 import Action, ErrorType, ReasonForMessage, Status
from resource_sharing.messages import (
    Authentication,
    Confirmation,
    ErrorData,
    Header,
    PeerMessage,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation
from resource_sharing_adapters.iso18626 import confirm_error, confirm_ok, decode, encode
from tests.adapters.nodes_http import Cluster, free_port, secret, wait_until

__all__ = [
    "Answer",
    "Received",
    "ScriptedPeer",
    "Sent",
    "bearer",
    "error",
    "http",
    "ok",
    "partner_entry",
    "partner_protocol",
    "scripted_peer",
    "unknown_id",
]

MESSAGE_ID_HEADER = "X-Message-ID"
_XML = 'application/xml; charset="utf-8"'


@final
@attrs.frozen
class Answer:
    """How the peer answers one message: an ISO confirmation, or a bare HTTP status."""

    error: ErrorData | None = None
    """For an ERROR confirmation: its errorType and errorValue (None: OK)."""
    status: int = 200
    """The HTTP status."""
    text: str | None = None
    """A plain-text body instead of a confirmation (for a bare 4xx or 5xx)."""

    @property
    def stores(self) -> bool:
        """Whether answering this way means the peer took the message (an OK)."""
        return self.error is None and self.text is None and self.status < 300


def ok() -> Answer:
    """An OK confirmation (HTTP 200)."""
    return Answer()


def error(error_type: ErrorType, value: str | None = None, *, status: int = 200) -> Answer:
    """An ERROR confirmation with this errorType and errorValue."""
    return Answer(ErrorData(error_type, value), status)


def http(status: int, text: str = "scripted failure") -> Answer:
    """A bare HTTP answer (no ISO body), e.g. a 404 or a 503."""
    return Answer(status=status, text=text)


def unknown_id(request_id: str = "") -> Answer:
    """The ERROR a peer gives about a request id it has not stored."""
    value = f"requestingAgencyRequestId: unknown request {request_id!r}".replace(" ''", "")
    return error(ErrorType.UNRECOGNISED_DATA_VALUE, value)


Match = Callable[[PeerMessage], bool]


@final
@attrs.frozen
class Received:
    """One message the peer got, as decoded, and what it answered."""

    message: PeerMessage
    """The decoded message."""
    message_id: str | None
    """Its ``X-Message-ID`` header, if any."""
    headers: Mapping[str, str]
    """Every HTTP header, lower-cased names."""
    answer: Answer
    """What the peer answered."""
    known: bool
    """Whether the peer had stored the request the message is about when it arrived."""

    @property
    def request_id(self) -> str:
        """The requestingAgencyRequestId the message is about."""
        return self.message.header.requesting_agency_request_id

    @property
    def status(self) -> Status | None:
        """A supplying agency message's status (None for anything else)."""
        return self.message.status if isinstance(self.message, SupplyingAgencyMessage) else None

    @property
    def action(self) -> Action | None:
        """A requesting agency message's action (None for anything else)."""
        if isinstance(self.message, RequestingAgencyMessage):
            return self.message.action
        return None


@final
@attrs.frozen
class Sent:
    """What our node answered to a message the peer sent."""

    status: int
    """The HTTP status."""
    confirmation: Confirmation | None
    """The decoded confirmation, when the body was one."""
    text: str
    """The body as text."""
    body: bytes = b""
    """The body as received."""

    @property
    def ok(self) -> bool:
        """An HTTP 200 with an OK confirmation."""
        return self.status == 200 and self.confirmation is not None and self.confirmation.ok

    @property
    def error(self) -> ErrorData | None:
        """The confirmation's error, if it was an ERROR."""
        return self.confirmation.error if self.confirmation is not None else None


class ScriptedPeer:
    """An ISO 18626 peer whose answers a test scripts (see the module docstring)."""

    def __init__(self, agency: str, *, port: int | None = None, version: str = "1.2") -> None:
        self.name = agency
        self.agency = AgencyId(agency)
        self.port = port or free_port()
        self.version = version
        """The ISO 18626 version the peer writes its messages and confirmations in."""
        self.default: Callable[[PeerMessage, bool], Answer] = _default
        """The answer when no scripted entry matches: (message, known) -> Answer."""
        self.received: list[Received] = []
        self.known: set[str] = set()
        """The request ids (requestingAgencyRequestId) the peer has stored."""
        self.headers: dict[str, str] = {}
        """Extra HTTP headers sent with every message (e.g. ``Authorization``)."""
        self._script: list[tuple[Match, Answer]] = []
        self._late: dict[str, int] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=10.0, trust_env=False)
        app = Starlette(routes=[Route("/iso18626", self._endpoint, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", http="h11", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    # -- life --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The peer's ISO 18626 endpoint."""
        return f"http://127.0.0.1:{self.port}/iso18626"

    def start(self) -> None:
        """Start serving (returns once the port listens)."""
        self._thread.start()
        wait_until(lambda: self._server.started, timeout=10, what=f"peer on {self.port}")

    def stop(self) -> None:
        """Stop serving and close the client."""
        self._server.should_exit = True
        self._thread.join(10)
        self._client.close()

    # -- scripting ---------------------------------------------------------------------

    def script(self, *answers: Answer, when: Match | None = None) -> None:
        """Answer the next messages (that match ``when``, if given) with ``answers``, in order."""
        with self._lock:
            self._script.extend((when or _any, answer) for answer in answers)

    def store_late(self, request_id: str, messages: int) -> None:
        """Answer "unknown request id" to the first ``messages`` messages about the id.

        Whether or not it is stored yet: a peer that stores its requests late.
        """
        with self._lock:
            self._late[request_id] = messages

    def forget(self, request_id: str) -> None:
        """Drop a stored request (later messages about it are "unknown")."""
        with self._lock:
            self.known.discard(request_id)

    def _answer(self, message: PeerMessage) -> tuple[Answer, bool]:
        request_id = message.header.requesting_agency_request_id
        with self._lock:
            known = request_id in self.known
            late = self._late.get(request_id, 0)
            if late > 0 and not isinstance(message, Request):
                self._late[request_id] = late - 1
                return unknown_id(request_id), False
            chosen = next((i for i, (match, _) in enumerate(self._script) if match(message)), None)
            answer = self.default(message, known) if chosen is None else self._script.pop(chosen)[1]
            if answer.stores and isinstance(message, Request):
                self.known.add(request_id)
            return answer, known

    async def _endpoint(self, request: HttpRequest) -> Response:
        body = await request.body()
        now = datetime.now(UTC)
        message = decode(body).message
        if isinstance(message, Confirmation):
            return PlainTextResponse("a confirmation is not a message", 400)
        answer, known = self._answer(message)
        headers = {k.lower(): v for k, v in request.headers.items()}
        seen = Received(message, headers.get(MESSAGE_ID_HEADER.lower()), headers, answer, known)
        with self._lock:
            self.received.append(seen)
        if answer.text is not None:
            return PlainTextResponse(answer.text, answer.status)
        if answer.error is None:
            confirmation = confirm_ok(message, timestamp=now, received=now)
        else:
            confirmation = confirm_error(message, answer.error, timestamp=now, received=now)
        return Response(encode(confirmation, version=self.version), answer.status, media_type=_XML)

    # -- what it saw -------------------------------------------------------------------

    def messages(self, match: Match | None = None) -> list[Received]:
        """The messages received so far (those matching ``match``), in order."""
        with self._lock:
            return [r for r in self.received if match is None or match(r.message)]

    def wait_for(self, match: Match, *, count: int = 1, timeout: float = 15.0) -> list[Received]:
        """Wait until ``count`` received messages match; returns them."""

        def enough() -> list[Received] | None:
            found = self.messages(match)
            return found if len(found) >= count else None

        return wait_until(enough, timeout=timeout, what=f"{count} message(s) at {self.name}")

    # -- sending -----------------------------------------------------------------------

    def header(
        self, to: str, request_id: str, *, as_lender: bool, supplier_id: str | None = None
    ) -> Header:
        """A header for a message about ``request_id`` between the peer and node ``to``."""
        node = AgencyId(to)
        borrower, lender = (node, self.agency) if as_lender else (self.agency, node)
        auth = Authentication(self.name, secret(self.name, to))
        return Header(
            borrower,
            lender,
            request_id,
            datetime.now(UTC).replace(microsecond=0),
            supplying_agency_request_id=supplier_id,
            authentication=auth,
        )

    def request(self, to: str, request_id: str, citation: Citation, **fields: Any) -> Request:
        """A request from the peer (as borrower) to node ``to``."""
        return Request(self.header(to, request_id, as_lender=False), citation, **fields)

    def requesting(
        self, to: str, request_id: str, action: Action, note: str | None = None
    ) -> RequestingAgencyMessage:
        """A requesting agency message from the peer (as borrower) about ``request_id``."""
        return RequestingAgencyMessage(self.header(to, request_id, as_lender=False), action, note)

    def supplying(
        self,
        to: str,
        request_id: str,
        status: Status | None,
        reason: ReasonForMessage = ReasonForMessage.STATUS_CHANGE,
        **fields: Any,
    ) -> SupplyingAgencyMessage:
        """A supplying agency message from the peer (as lender) about our ``request_id``."""
        header = self.header(to, request_id, as_lender=True, supplier_id=f"{self.name}-1")
        return SupplyingAgencyMessage(
            header, reason, status, last_change=header.timestamp, **fields
        )

    def send(
        self,
        url: str,
        message: PeerMessage,
        *,
        message_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        store: bool = True,
        version: str | None = None,
    ) -> Sent:
        """POST ``message`` to a node; returns its answer.

        A request the node confirms OK is stored by the peer (its later messages about
        it are known) only now, after the confirmation was read, unless ``store`` is
        False. ``message_id`` goes out as ``X-Message-ID`` when given. ``version``
        writes this one message in another version than the peer's own (a 1.2 peer
        that sends a 2021 action anyway).
        """
        sent_headers = {"Content-Type": _XML, **self.headers}
        if message_id is not None:
            sent_headers[MESSAGE_ID_HEADER] = message_id
        sent_headers.update(headers or {})
        response = self._client.post(
            url, content=encode(message, version=version or self.version), headers=sent_headers
        )
        confirmation: Confirmation | None = None
        if response.content.lstrip().startswith(b"<"):
            decoded = decode(response.content).message
            confirmation = decoded if isinstance(decoded, Confirmation) else None
        answer = Sent(response.status_code, confirmation, response.text, response.content)
        if store and answer.ok and isinstance(message, Request):
            with self._lock:
                self.known.add(message.header.requesting_agency_request_id)
        return answer


def _any(_: PeerMessage) -> bool:
    return True


def _default(message: PeerMessage, known: bool) -> Answer:
    if isinstance(message, Request) or known:
        return ok()
    return unknown_id(message.header.requesting_agency_request_id)


def partner_entry(net: Cluster, node: str, peer: str) -> dict[str, Any]:
    """``node``'s ``[[partners]]`` entry for ``peer``, to change before the node starts."""
    for entry in net.tables[node]["partners"]:
        if entry["agency"] == f"ISIL:{peer}":
            return cast(dict[str, Any], entry)
    raise KeyError(f"{node} has no partner {peer}")


def partner_protocol(net: Cluster, node: str, peer: str, **protocol: Any) -> None:
    """Change how ``node`` reaches ``peer`` (e.g. ``iso18626_version="2021-2"``); before start."""
    entry = partner_entry(net, node, peer)
    entry["protocol"] = {**entry["protocol"], **protocol}


def bearer(net: Cluster, node: str, peer: ScriptedPeer) -> None:
    """Make ``node`` authenticate ``peer`` by an HTTP ``Authorization`` header.

    A 2021-2 supplying agency message has no ``requestingAgencyAuthentication``: a
    lender speaking 2021-2 proves who it is with the header (or a client certificate).
    """
    token = f"Bearer {secret(peer.name, node)}"
    partner_entry(net, node, peer.name)["inbound"] = {"authorization": token}
    peer.headers["Authorization"] = token


@contextmanager
def scripted_peer(
    net: Cluster | None, agency: str, *, version: str = "1.2"
) -> Iterator[ScriptedPeer]:
    """A running peer, registered in ``net`` (so nodes defined after point at it); stopped after."""
    port = net.ports.setdefault(agency, free_port()) if net is not None else None
    peer = ScriptedPeer(agency, port=port, version=version)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
