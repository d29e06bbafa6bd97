"""Effect routing: which port takes each effect that leaves the core, as one table.

:data:`ROUTES` maps every outbound effect type to its :class:`Route`: the port (which
decides the retry policy and the ordering stream) and the call that hands the effect to
that port with its idempotency key. :func:`route_of` refuses an effect the table does
not know with :class:`UnknownEffect`, so a new effect type cannot be dropped silently:
the table check in the tests walks :data:`~resource_sharing.effects.OutboundEffect`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, final

import attrs

from resource_sharing.directory import Directory
from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    NotifyPatron,
    NotifyStaff,
    OutboundEffect,
    PlaceOnHoldShelf,
    PrintHoldShelfSlip,
    PrintPickSlip,
    PrintReturnSlip,
    PrintShippingLabel,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
    SendMessage,
)
from resource_sharing.errors import DeliveryError, UsageError
from resource_sharing.iso18626 import ErrorType
from resource_sharing.messages import ErrorData, PeerMessage, SupplyingAgencyMessage
from resource_sharing.ports import Circulation, Notifier, PeerTransport, Port, Printer

__all__ = [
    "ROUTES",
    "NotYetKnown",
    "Recipients",
    "Route",
    "UnknownEffect",
    "route_of",
    "stream_of",
]


class Recipients(Protocol):
    """The ports effects are delivered to (an institution's :class:`~.Ports` has them)."""

    @property
    def transport(self) -> PeerTransport:
        """Peer messages."""
        ...

    @property
    def notifier(self) -> Notifier:
        """Notices."""
        ...

    @property
    def circulation(self) -> Circulation:
        """Circulation commands."""
        ...

    @property
    def printer(self) -> Printer:
        """Print jobs."""
        ...


Deliver = Callable[[Recipients, Directory, Any, str], str | None]
"""``(ports, directory, effect, key) -> answer``: hands one effect to its port."""


class UnknownEffect(UsageError):
    """An effect no port takes (the routing table does not know its type)."""

    def __init__(self, effect: object) -> None:
        super().__init__(f"no port takes {type(effect).__name__} effects")
        self.effect = effect
        """The effect."""


class NotYetKnown(DeliveryError):
    """The peer answered our lending message with "unknown request id".

    Some peers store a request they sent us only after they have read our confirmation,
    so our first answer can race them. The dispatcher retries this with
    ``DeliveryPolicy.unknown_request`` (short backoff, a bounded window) before giving up.
    """

    def __init__(self, recipient: str, reason: str) -> None:
        super().__init__(recipient, reason, retryable=True)


_REQUEST_ID_WORDS = ("requestingagencyrequestid", "request id", "unknown request", "not found")


def is_unknown_request(message: PeerMessage, error: ErrorData) -> bool:
    """Whether an ERROR about our lending message says the peer does not know the request.

    Peers word it differently; it is UnrecognisedDataValue (or a 2021 peer's
    BadlyFormedMessage) naming the request id field, the id itself, or "unknown request".
    """
    if not isinstance(message, SupplyingAgencyMessage):
        return False
    if error.type not in (ErrorType.UNRECOGNISED_DATA_VALUE, ErrorType.BADLY_FORMED_MESSAGE):
        return False
    value = (error.value or "").casefold()
    request_id = message.header.requesting_agency_request_id.casefold()
    return any(word in value for word in _REQUEST_ID_WORDS) or request_id in value


@final
@attrs.frozen
class Route:
    """Where one effect type goes."""

    port: Port
    """The port."""
    deliver: Deliver
    """The call; returns the port's answer in words (check-in's routing) or None."""
    describe: Callable[[Any], str]
    """The effect in words, for staff tasks (``Create temporary item T-1``)."""


def _send(ports: Recipients, directory: Directory, effect: SendMessage, key: str) -> None:
    partner = directory.get(effect.to)
    if partner is None:
        raise DeliveryError(str(effect.to), "not in the directory", retryable=False)
    confirmation = ports.transport.send(partner, effect.message, key)
    if not confirmation.ok:
        error = confirmation.error
        detail = "ERROR"
        if error is not None:
            detail = f"{error.type.value}: {error.value}" if error.value else error.type.value
        reason = f"ERROR confirmation: {detail}"
        if error is not None and is_unknown_request(effect.message, error):
            raise NotYetKnown(str(effect.to), reason)
        raise DeliveryError(str(effect.to), reason, retryable=False)


def _print(ports: Recipients, directory: Directory, effect: Any, key: str) -> None:
    ports.printer.print_document(effect, key=key)


def _circulation(method: str) -> Deliver:
    def deliver(ports: Recipients, directory: Directory, effect: Any, key: str) -> str | None:
        answer: str | None = getattr(ports.circulation, method)(effect, key=key)
        return answer

    deliver.__name__ = method
    return deliver


def _notify(method: str) -> Deliver:
    def deliver(ports: Recipients, directory: Directory, effect: Any, key: str) -> None:
        getattr(ports.notifier, method)(effect, key=key)

    deliver.__name__ = method
    return deliver


ROUTES: Mapping[type, Route] = {
    SendMessage: Route(
        Port.PEER,
        _send,
        lambda e: f"Message to {e.to}: {type(e.message).__name__}",
    ),
    NotifyPatron: Route(
        Port.NOTIFIER,
        _notify("notify_patron"),
        lambda e: f"Notice to patron {e.patron.id}: {e.notice.value.replace('_', ' ')}",
    ),
    NotifyStaff: Route(
        Port.NOTIFIER, _notify("notify_staff"), lambda e: f"Notice to staff: {e.text}"
    ),
    CreateTemporaryItem: Route(
        Port.CIRCULATION,
        _circulation("create_temporary_item"),
        lambda e: f"Create temporary item {e.barcode}",
    ),
    DeleteTemporaryItem: Route(
        Port.CIRCULATION,
        _circulation("delete_temporary_item"),
        lambda e: f"Delete temporary item {e.barcode}",
    ),
    PlaceOnHoldShelf: Route(
        Port.CIRCULATION,
        _circulation("place_on_hold_shelf"),
        lambda e: f"Put {e.barcode} on the hold shelf for patron {e.patron.id}",
    ),
    CheckOutToPatron: Route(
        Port.CIRCULATION,
        _circulation("check_out_to_patron"),
        lambda e: f"Check {e.barcode} out to patron {e.patron.id}",
    ),
    RenewPatronLoan: Route(
        Port.CIRCULATION,
        _circulation("renew_patron_loan"),
        lambda e: f"Renew the patron loan of {e.barcode}",
    ),
    RecallPatronLoan: Route(
        Port.CIRCULATION,
        _circulation("recall_patron_loan"),
        lambda e: f"Recall the patron loan of {e.barcode}",
    ),
    CheckOutToPartner: Route(
        Port.CIRCULATION,
        _circulation("check_out_to_partner"),
        lambda e: f"Check {e.barcode} out to {e.borrower}",
    ),
    CheckIn: Route(Port.CIRCULATION, _circulation("check_in"), lambda e: f"Check in {e.barcode}"),
    RouteItem: Route(
        Port.CIRCULATION,
        _circulation("route_item"),
        lambda e: f"Route {e.barcode}: {e.instruction}",
    ),
    PrintPickSlip: Route(
        Port.PRINTER, _print, lambda e: f"Print the pick slip of {e.item.barcode}"
    ),
    PrintShippingLabel: Route(
        Port.PRINTER, _print, lambda e: f"Print the shipping label to {e.to}"
    ),
    PrintHoldShelfSlip: Route(
        Port.PRINTER, _print, lambda e: f"Print the hold-shelf slip of {e.barcode}"
    ),
    PrintReturnSlip: Route(Port.PRINTER, _print, lambda e: f"Print the return slip of {e.barcode}"),
}
"""Every outbound effect type and its route."""


def route_of(effect: object) -> Route:
    """The route of an effect; :class:`UnknownEffect` when no port takes it."""
    route = ROUTES.get(type(effect))
    if route is None:
        raise UnknownEffect(effect)
    return route


def stream_of(side: str, request_id: str, effect: OutboundEffect, port: Port) -> str:
    """The ordering stream of an effect: its request and port (and partner, for messages).

    A request's messages to one partner are one ISO 18626 conversation; messages to two
    partners (the cancel to the last lender, the request to the next) need no order.
    """
    if isinstance(effect, SendMessage):
        return f"{side}/{request_id}/{port.value}/{effect.to}"
    return f"{side}/{request_id}/{port.value}"
