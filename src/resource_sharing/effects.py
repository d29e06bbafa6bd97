"""Effects: what a decision asks the outside world to do, as values.

The pure core never sends, prints or writes; it returns these and the application
services carry them out through the ports (peer transport, notifier, circulation...).
Names say the direction: ``Send...``, ``Notify...``, ``Print...``, and circulation
commands in the imperative.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.messages import PeerMessage
from resource_sharing.records import AgencyId, Citation, ItemRef, PatronRef

__all__ = [
    "AddTask",
    "CheckIn",
    "CheckOutToPartner",
    "CheckOutToPatron",
    "CreateTemporaryItem",
    "DeleteTemporaryItem",
    "Effect",
    "LocateInHoldings",
    "LocateLenders",
    "NoticeKind",
    "NotifyPatron",
    "NotifyStaff",
    "OutboundEffect",
    "PlaceOnHoldShelf",
    "PrintHoldShelfSlip",
    "PrintJob",
    "PrintPickSlip",
    "PrintReturnSlip",
    "PrintShippingLabel",
    "RecallPatronLoan",
    "RemoveTask",
    "RenewPatronLoan",
    "RouteItem",
    "SendMessage",
    "TaskList",
]


class TaskList(StrEnum):
    """The staff task lists a request can show on."""

    BORROWING_REQUESTS = "borrowing_requests"
    """Borrowing requests that need staff attention (review, conditions, end of rota)."""
    RECEIVED_ITEMS = "received_items"
    """Borrowing: items to receive or hand to the patron."""
    HOLD_SHELF = "hold_shelf"
    """Borrowing: items waiting on the hold shelf for their patron."""
    RETURN_ITEMS = "return_items"
    """Borrowing: items to ship back to their lender."""
    LENDING_REQUESTS = "lending_requests"
    """Lending: the monitoring list of requests that need an answer or a decision."""
    PICK_FROM_SHELF = "pick_from_shelf"
    """Lending: items to fetch from the shelf (per desk)."""
    SHIPPING = "shipping"
    """Lending: items to ship to the borrower."""
    CHECK_IN = "check_in"
    """Lending: returned items to check in."""
    DELIVERY_PROBLEMS = "delivery_problems"
    """Effects the dispatcher gave up on (a notice, a circulation command, a print job, a
    peer message): retry now, mark as done by hand, or drop."""
    PEER_MESSAGES = "peer_messages"
    """Peer messages that did not fit their request's state (answered with an ERROR):
    apply it where the table allows, ignore it, or ask the lender's status."""
    OUT_OF_STEP = "out_of_step"
    """Out of step with partner: a lender's status answer that does not fit our state,
    with both sides and the suggested step (stored tasks: done by hand, or drop)."""


class NoticeKind(StrEnum):
    """The patron notices a borrowing request can send."""

    REQUEST_PLACED = "request_placed"
    """The request was placed."""
    ITEM_AVAILABLE = "item_available"
    """The item is on the hold shelf for pick-up."""
    COPY_AVAILABLE = "copy_available"
    """The copy has been delivered."""
    DUE_SOON = "due_soon"
    """The loan is due soon."""
    OVERDUE = "overdue"
    """The loan is overdue."""
    RENEWED = "renewed"
    """The renewal was granted: a new due date."""
    RENEWAL_REFUSED = "renewal_refused"
    """The renewal was refused, with the reason."""
    RECALLED = "recalled"
    """The lender recalled the item: a new, earlier due date."""
    CANCELLED = "cancelled"
    """The request was cancelled."""
    UNFILLED = "unfilled"
    """No lender could supply it."""
    HOLD_SHELF_EXPIRED = "hold_shelf_expired"
    """The item was not collected in time and goes back."""
    RETURN_RECEIVED = "return_received"
    """The patron's return was received."""


@final
@attrs.frozen
class SendMessage:
    """Send this protocol message to that partner (through the outbox)."""

    to: AgencyId
    """The partner."""
    message: PeerMessage
    """The message."""


@final
@attrs.frozen
class NotifyPatron:
    """Tell the patron something about their request."""

    patron: PatronRef
    """Who."""
    notice: NoticeKind
    """What kind of notice."""
    request_id: str
    """Which request."""
    due: datetime | None = None
    """A due date the notice mentions."""
    detail: str | None = None
    """A reason or other detail."""


@final
@attrs.frozen
class NotifyStaff:
    """Tell staff something that needs a human (it is also on the request's history)."""

    request_id: str
    """Which request."""
    text: str
    """What happened and what to do."""


@final
@attrs.frozen
class AddTask:
    """Put the request on a staff task list (at a desk, when the list is per desk)."""

    task_list: TaskList
    """Which list."""
    request_id: str
    """Which request."""
    instruction: str
    """What the operator must do."""
    desk: str | None = None
    """The desk, for per-desk lists."""


@final
@attrs.frozen
class RemoveTask:
    """Take the request off a staff task list."""

    task_list: TaskList
    """Which list."""
    request_id: str
    """Which request."""


@final
@attrs.frozen
class PrintPickSlip:
    """Print the slip staff use to fetch the item from the shelf."""

    request_id: str
    """Which request."""
    item: ItemRef
    """The item to fetch."""
    citation: Citation
    """What it is."""
    requester: AgencyId
    """Who it is for."""
    need_before: date | None = None
    """The borrower's need-by date, when it gave one."""


@final
@attrs.frozen
class PrintShippingLabel:
    """Lending: print the label that goes on the parcel to the borrower."""

    request_id: str
    """Which request (ours)."""
    barcode: str | None
    """The item in the parcel (None for a copy sent without one)."""
    citation: Citation
    """What is in it."""
    to: AgencyId
    """The borrowing institution; its address comes from the directory."""
    requester_request_id: str
    """The borrower's id for the request, printed so its staff can receive it."""


@final
@attrs.frozen
class PrintHoldShelfSlip:
    """Borrowing: print the slip that keeps a received item on the hold shelf."""

    request_id: str
    """Which request."""
    barcode: str
    """The item on the shelf."""
    patron: PatronRef
    """Who collects it (printed in the institution's privacy-conscious form)."""
    pickup_location: str | None
    """Where it waits."""
    expires: datetime | None
    """The last day to collect it."""
    citation: Citation
    """What it is."""


@final
@attrs.frozen
class PrintReturnSlip:
    """Borrowing: print the slip that goes back with the item to its lender."""

    request_id: str
    """Which request (ours)."""
    barcode: str
    """The item going back."""
    lender: AgencyId
    """Whose item it is; its address comes from the directory."""
    citation: Citation
    """What it is."""
    lender_request_id: str | None = None
    """The lender's id for the request, when it gave one."""


PrintJob = PrintPickSlip | PrintShippingLabel | PrintHoldShelfSlip | PrintReturnSlip
"""Any document a step asks to print (the printer port takes each of them)."""


@final
@attrs.frozen
class CreateTemporaryItem:
    """Borrowing: create a temporary item for a received loan in the host system."""

    request_id: str
    """Which request."""
    barcode: str
    """The temporary (or network-unique) barcode."""
    citation: Citation
    """What it is (for the brief record)."""
    lender: AgencyId
    """Whose item it is."""
    patron: PatronRef | None = None
    """The patron it is for (an ILS that places the hold with the item needs it)."""
    pickup_location: str | None = None
    """Where the patron collects it."""
    due: datetime | None = None
    """The patron's due date, when it is known at receipt."""


@final
@attrs.frozen
class DeleteTemporaryItem:
    """Borrowing: remove the temporary item once it has gone back (or is lost)."""

    request_id: str
    """Which request."""
    barcode: str
    """The temporary barcode."""


@final
@attrs.frozen
class PlaceOnHoldShelf:
    """Borrowing: put the item on the hold shelf for its patron."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""
    patron: PatronRef
    """Who collects it."""
    pickup_location: str | None
    """Where."""
    expires: datetime | None
    """When it goes back if not collected."""


@final
@attrs.frozen
class CheckOutToPatron:
    """Borrowing: lend the item to the patron until ``due``."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""
    patron: PatronRef
    """Who borrows it."""
    due: datetime
    """The patron's due date."""


@final
@attrs.frozen
class RenewPatronLoan:
    """Borrowing: move the patron loan's due date (after the lender renewed)."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""
    due: datetime
    """The new due date."""
    patron: PatronRef | None = None
    """Whose loan it is (an ILS that renews per patron needs it)."""


@final
@attrs.frozen
class RecallPatronLoan:
    """Borrowing: recall the patron's loan to an earlier due date."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""
    due: datetime
    """The shortened due date."""
    patron: PatronRef | None = None
    """Whose loan it is (an ILS that renews per patron needs it)."""


@final
@attrs.frozen
class CheckOutToPartner:
    """Lending: lend the item to the borrowing institution until ``due``."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""
    borrower: AgencyId
    """The borrowing institution."""
    due: datetime
    """The lender's due date."""


@final
@attrs.frozen
class CheckIn:
    """Check the item in (ends the loan in the host system)."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""


@final
@attrs.frozen
class RouteItem:
    """Tell the operator where the item goes next (shelf, home library, lender)."""

    request_id: str
    """Which request."""
    barcode: str
    """The item."""
    destination: str
    """Where it goes."""
    instruction: str
    """What to do, in words."""


@final
@attrs.frozen
class LocateLenders:
    """Borrowing: build the request's rota now and send it to the first lender.

    An automatic step, not an outbound effect: the shell builds the rota (directory,
    holdings answer, staff rota) in the same unit of work and applies ``AssignRota``.
    """

    request_id: str
    """Which request."""


@final
@attrs.frozen
class LocateInHoldings:
    """Lending: look the request up in our holdings now (auto-locate).

    An automatic step, not an outbound effect: the shell asks the holdings locator in
    the same unit of work and applies ``SupplyItem`` or ``LocateFailed``.
    """

    request_id: str
    """Which request."""
    citation: Citation
    """What to look for."""


OutboundEffect = (
    SendMessage
    | NotifyPatron
    | NotifyStaff
    | PrintPickSlip
    | PrintShippingLabel
    | PrintHoldShelfSlip
    | PrintReturnSlip
    | CreateTemporaryItem
    | DeleteTemporaryItem
    | PlaceOnHoldShelf
    | CheckOutToPatron
    | RenewPatronLoan
    | RecallPatronLoan
    | CheckOutToPartner
    | CheckIn
    | RouteItem
)
"""An effect that leaves the core: saved in the outbox with its step, delivered to a port."""

Effect = LocateLenders | LocateInHoldings | AddTask | RemoveTask | OutboundEffect
"""Any effect a decision can ask for."""
