"""What an ILS posts to us: a local patron's hold on an item we have lent recalls the loan.

An ILS tells an ILL system about a hold in one of three NCIP shapes: a RequestItem for
the item (the ILS forwards the local patron's request), an ItemRequested notification,
or an ItemRecalled notification (the ILS recalled it from the borrowing institution's
account). :func:`handle_inbound` reads any of them leniently, calls
``on_local_hold(barcode, patron_id)`` (for a node: ``institution.lending.local_hold``)
and answers with the schema-valid response of that service, or with a Problem:

- bytes that are not NCIP, or a request lacking ItemId: a message-level Problem
  (``Invalid Message Syntax Error``, ``Needed Data Missing``);
- another service: a message-level ``Unsupported Service``;
- no lent item with that barcode (``NotFound``): ``Unknown Item`` in the response;
- a loan that cannot be recalled now (any other usage error): ``Resource Cannot Be
  Provided`` with the reason;
- a failure of ours (storage): a message-level ``Temporary Processing Failure``, so the
  ILS may try again.

:func:`inbound_app` wraps it as a small Starlette application a node can mount.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import final

from lxml import etree
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as HttpRequest
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from resource_sharing.errors import InfrastructureError, NotFound, UsageError
from resource_sharing_adapters.ncip._decode import decode
from resource_sharing_adapters.ncip._errors import MalformedNcip, Problem
from resource_sharing_adapters.ncip._message import NcipMessage
from resource_sharing_adapters.ncip._parse import DEFAULT_MAX_BYTES
from resource_sharing_adapters.ncip._services import element, envelope, to_bytes

__all__ = ["LocalHold", "handle_inbound", "inbound_app", "inbound_route"]

LocalHold = Callable[[str, str | None], object]
"""Called with the lent item's barcode and the local patron (None when not given)."""

_SERVICES = ("RequestItem", "ItemRequested", "ItemRecalled")


def _problem(problem: Problem) -> etree._Element:
    return element(
        "Problem",
        element("ProblemType", problem.type or "Problem"),
        None if problem.detail is None else element("ProblemDetail", problem.detail),
        None if problem.element is None else element("ProblemElement", problem.element),
        None if problem.value is None else element("ProblemValue", problem.value),
    )


def _message_problem(problem: Problem) -> bytes:
    root = envelope(_problem(problem))
    return to_bytes(root)


def _response_header(message: NcipMessage, agency: str) -> etree._Element | None:
    if message.header is None:
        return None
    return element(
        "ResponseHeader",
        element("FromAgencyId", element("AgencyId", agency or message.header.to_agency or "-")),
        element("ToAgencyId", element("AgencyId", message.header.from_agency or "-")),
    )


def _id(kind: str, value: str) -> etree._Element:
    return element(f"{kind}Id", element(f"{kind}IdentifierValue", value))


def _answer(message: NcipMessage, agency: str, problem: Problem | None) -> bytes:
    service, body = message.service, message.body
    header = _response_header(message, agency)
    barcode = body.text_of("ItemId", "ItemIdentifierValue") or ""
    if problem is not None:
        return to_bytes(envelope(element(f"{service}Response", header, _problem(problem))))
    if service != "RequestItem":
        return to_bytes(envelope(element(f"{service}Response", header)))
    request_id = body.text_of("RequestId", "RequestIdentifierValue")
    return to_bytes(
        envelope(
            element(
                "RequestItemResponse",
                header,
                None if request_id is None else _id("Request", request_id),
                _id("Item", barcode),
                _id("User", body.text_of("UserId", "UserIdentifierValue") or ""),
                element("RequestType", body.text_of("RequestType") or "Hold"),
                element("RequestScopeType", body.text_of("RequestScopeType") or "Item"),
            )
        )
    )


def handle_inbound(
    data: bytes,
    on_local_hold: LocalHold,
    *,
    agency: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """Answer one NCIP message an ILS posted; a hold on a lent item calls ``on_local_hold``.

    Always returns a schema-valid NCIP answer (never raises for what the ILS sent).
    ``agency`` is our FromAgencyId in the ResponseHeader.
    """
    try:
        message = decode(data, max_bytes=max_bytes)
    except MalformedNcip as exc:
        return _message_problem(exc.problem)
    if message.service not in _SERVICES:
        return _message_problem(
            Problem(
                "Unsupported Service",
                f"only {', '.join(_SERVICES)} are taken here",
                "NCIPMessage",
                message.service,
            )
        )
    barcode = message.body.text_of("ItemId", "ItemIdentifierValue")
    if barcode is None:
        where = f"{message.service}/ItemId"
        return _message_problem(
            Problem("Needed Data Missing", "the lent item's barcode is needed", where)
        )
    patron = message.body.text_of("UserId", "UserIdentifierValue")
    try:
        on_local_hold(barcode, patron)
    except NotFound as exc:
        return _answer(message, agency, Problem("Unknown Item", str(exc), "ItemId", barcode))
    except UsageError as exc:
        return _answer(
            message, agency, Problem("Resource Cannot Be Provided", str(exc), "ItemId", barcode)
        )
    except InfrastructureError as exc:
        return _message_problem(Problem("Temporary Processing Failure", str(exc)))
    return _answer(message, agency, None)


@final
class _Endpoint:
    def __init__(
        self,
        on_local_hold: LocalHold,
        agency: str,
        api_key: str | None,
        api_key_header: str,
        max_bytes: int,
    ) -> None:
        self._on_local_hold = on_local_hold
        self._agency = agency
        self._api_key = api_key
        self._api_key_header = api_key_header
        self._max_bytes = max_bytes

    async def respond(self, request: HttpRequest) -> Response:
        """Check the key and the size, then answer the posted message."""
        if self._api_key is not None and not hmac.compare_digest(
            request.headers.get(self._api_key_header, "").encode(), self._api_key.encode()
        ):
            return PlainTextResponse(f"a valid {self._api_key_header} header is needed", 403)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
            return PlainTextResponse(f"larger than {self._max_bytes} bytes", 413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > self._max_bytes:
                return PlainTextResponse(f"larger than {self._max_bytes} bytes", 413)
        answer = await run_in_threadpool(
            handle_inbound,
            body,
            self._on_local_hold,
            agency=self._agency,
            max_bytes=self._max_bytes,
        )
        return Response(answer, media_type="application/xml")


def inbound_app(
    on_local_hold: LocalHold,
    *,
    agency: str = "",
    api_key: str | None = None,
    api_key_header: str = "X-Api-Key",
    path: str = "/",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Starlette:
    """A Starlette app taking NCIP POSTs at ``path`` (GET gets 405, as crosslink's mock).

    With ``api_key``, a POST without that value in ``api_key_header`` gets 403. NCIP
    answers, Problems included, go out with HTTP 200.
    """
    return Starlette(
        routes=[
            inbound_route(
                path,
                on_local_hold,
                agency=agency,
                api_key=api_key,
                api_key_header=api_key_header,
                max_bytes=max_bytes,
            )
        ]
    )


def inbound_route(
    path: str,
    on_local_hold: LocalHold,
    *,
    agency: str = "",
    api_key: str | None = None,
    api_key_header: str = "X-Api-Key",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Route:
    """The same endpoint as one Starlette route at ``path`` (a node adds it to its own)."""
    endpoint = _Endpoint(on_local_hold, agency, api_key, api_key_header, max_bytes)
    return Route(path, endpoint.respond, methods=["POST"])
