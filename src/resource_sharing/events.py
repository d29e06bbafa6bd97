"""Events: everything that can happen to a request, as frozen values.

Named by direction: staff and patron commands are imperative (``SubmitRequest``,
``ShipItem``); what arrives from a peer is ``...Received``; timers are ``TimerFired``.
Each lifecycle maps an event to one of its *triggers* (the edge labels of its table):
for a command that is fixed by its class, for a peer message it depends on the message's
content (status, reasonForMessage, answer, action).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.messages import RequestingAgencyMessage, SupplyingAgencyMessage
from resource_sharing.records import AgencyId, ItemRef, Money, RotaEntry, TimerKind

__all__ = [
    "AcceptConditions",
    "AcceptRetry",
    "AnswerCancel",
    "AnswerRenewal",
    "ApplyLenderMessage",
    "ApproveRenewal",
    "ApproveRequest",
    "ArriveAtRsLibrary",
    "AskLenderStatus",
    "AssignRota",
    "BorrowingEvent",
    "CancelRequest",
    "CancelledBy",
    "CheckInReturn",
    "CheckOutItem",
    "DeclineRetry",
    "DeliverCopy",
    "DeliveryRefused",
    "DenyRenewal",
    "LendingEvent",
    "LocalHoldPlaced",
    "LocateFailed",
    "MarkLost",
    "OfferConditions",
    "OfferRetry",
    "PickItem",
    "RecallItem",
    "ReceiveItem",
    "RejectConditions",
    "RejectRequest",
    "ReportDamaged",
    "ReportLost",
    "RequestRenewal",
    "RequesterMessageReceived",
    "ReturnByPatron",
    "ShipItem",
    "ShipReturn",
    "SubmitRequest",
    "SupplierMessageReceived",
    "SupplyItem",
    "TimerFired",
    "WillSupply",
]


class CancelledBy(StrEnum):
    """Who cancelled a borrowing request."""

    PATRON = "patron"
    """The patron withdrew it."""
    STAFF = "staff"
    """Staff cancelled it."""


# -- borrowing: staff and patron commands ------------------------------------------------


@final
@attrs.frozen
class SubmitRequest:
    """Submit a created request: to review, or straight on to locate."""

    review: bool = False
    """Send it to staff review (a duplicate, a limit, a mediation rule matched)."""
    reason: str | None = None
    """Why it needs review, for the task list."""


@final
@attrs.frozen
class ApproveRequest:
    """Staff approve a request waiting for review."""


@final
@attrs.frozen
class AssignRota:
    """Give the request its rota (built by the rota pipeline, or by staff) and send it.

    An empty rota means locate failed. On a request at the end of its rota, this is
    staff re-requesting with new (or the same) lenders.
    """

    entries: tuple[RotaEntry, ...]
    """The lenders to try, in order."""
    rerequest: frozenset[AgencyId] = frozenset()
    """Lenders tried before that staff explicitly ask again (a partner is otherwise
    never tried twice for one request)."""


@final
@attrs.frozen
class CancelRequest:
    """Cancel the request (asks the lender first when one has it)."""

    by: CancelledBy = CancelledBy.STAFF
    """Who cancels."""
    reason: str | None = None
    """Why, for the patron notice and the lender."""


@final
@attrs.frozen
class AcceptConditions:
    """Accept the lender's loan conditions."""

    note: str | None = None
    """A note to the lender."""


@final
@attrs.frozen
class RejectConditions:
    """Reject the lender's conditions: cancel with it and move to the next lender."""

    note: str | None = None
    """A note to the lender."""


@final
@attrs.frozen
class AcceptRetry:
    """Re-send to the same lender as a Retry (after RetryPossible), as a new attempt."""

    max_cost: Money | None = None
    """A raised maximum cost, when the retry was about cost."""
    note: str | None = None
    """A note to the lender."""


@final
@attrs.frozen
class DeclineRetry:
    """Decline the lender's retry offer and move to the next lender."""


@final
@attrs.frozen
class ReceiveItem:
    """The item arrived at the borrowing library (scanned in at receiving)."""

    barcode: str
    """The temporary barcode to give it (or its network-unique barcode)."""


@final
@attrs.frozen
class CheckOutItem:
    """The patron collects the item from the hold shelf (lent to them)."""


@final
@attrs.frozen
class DeliverCopy:
    """A received copy was delivered to the patron."""


@final
@attrs.frozen
class RequestRenewal:
    """The patron (or staff for them) asks to renew the loan."""

    requested_due: datetime | None = None
    """The due date wanted (None: one renewal period)."""
    by_staff: bool = False
    """Staff asked on the patron's behalf (skips mediation)."""


@final
@attrs.frozen
class AskLenderStatus:
    """Staff (or the consistency sweep) ask the lender for its status: a StatusRequest.

    The lender's answer (reason StatusRequestResponse) arrives later as its own message;
    the service compares it with our state (:mod:`resource_sharing.consistency`).
    """

    note: str | None = None
    """A note for the lender."""


@final
@attrs.frozen
class ApproveRenewal:
    """Staff approve a mediated renewal request: it goes to the lender."""


@final
@attrs.frozen
class DenyRenewal:
    """Staff refuse a mediated renewal request."""

    reason: str
    """Why, for the patron notice."""


@final
@attrs.frozen
class ReturnByPatron:
    """The patron returned the item at a desk."""

    desk: str | None = None
    """Where it was returned."""


@final
@attrs.frozen
class ShipReturn:
    """Ship the item back to the lender."""

    note: str | None = None
    """A note to the lender (e.g. a tracking number)."""


@final
@attrs.frozen
class ReportLost:
    """The item is lost (by the patron or in transit); tell the lender."""

    note: str | None = None
    """What happened."""


@final
@attrs.frozen
class ReportDamaged:
    """The item was damaged; tell the lender and wait for its decision."""

    note: str | None = None
    """What happened."""


# -- lending: staff commands -------------------------------------------------------------


@final
@attrs.frozen
class SupplyItem:
    """The item was located in our holdings (automatically or by staff): fetch it."""

    item: ItemRef
    """The item that will supply the request."""


@final
@attrs.frozen
class LocateFailed:
    """Our holdings do not have it (or none is available), or could not be asked."""

    reason: str | None = None
    """Why, for staff."""
    catalogue_failed: bool = False
    """Our catalogue could not be asked (an outage): never an automatic "not held"."""


@final
@attrs.frozen
class WillSupply:
    """Tell the borrower we will supply, before the item is located."""

    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class RejectRequest:
    """Refuse the request (Unfilled)."""

    reason: str
    """A ReasonUnfilled value."""
    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class OfferRetry:
    """Refuse as asked but offer a retry (RetryPossible)."""

    reason: str
    """A ReasonRetry value."""
    retry_after: datetime | None = None
    """Not before this."""
    offered_costs: Money | None = None
    """What it would cost."""
    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class OfferConditions:
    """Offer to supply under a loan condition the borrower must accept."""

    condition: str
    """A LoanCondition value."""
    note: str | None = None
    """A note to the borrower."""
    offered_costs: Money | None = None
    """A cost, when the condition is a charge."""


@final
@attrs.frozen
class PickItem:
    """Staff picked the item from the shelf (scanned it)."""


@final
@attrs.frozen
class ArriveAtRsLibrary:
    """The picked item arrived at the resource-sharing library."""


@final
@attrs.frozen
class ShipItem:
    """Ship the item (or send the copy) to the borrower."""

    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class AnswerRenewal:
    """Staff decide a renewal the policy left to them."""

    approve: bool
    """Grant it or not."""
    due: datetime | None = None
    """The new due date (None: one renewal period); still checked against the limits."""
    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class AnswerCancel:
    """Staff answer the borrower's cancel request."""

    accept: bool
    """Cancel or refuse."""
    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class LocalHoldPlaced:
    """A local patron placed a hold on the lent item."""

    patron_id: str | None = None
    """Who, for staff."""


@final
@attrs.frozen
class RecallItem:
    """Staff recall the lent item."""

    note: str | None = None
    """A note to the borrower."""


@final
@attrs.frozen
class CheckInReturn:
    """The returned item was checked in at our library."""


@final
@attrs.frozen
class MarkLost:
    """Staff declare the lent item lost (closes without return)."""

    note: str | None = None
    """What happened."""


@final
@attrs.frozen
class ApplyLenderMessage:
    """Staff apply a lender's message that did not fit the request's state when it came.

    Only where the borrowing table has a staff override for what the message says (its
    ``confirm_...`` triggers, :data:`resource_sharing.borrowing.STAFF_OVERRIDES`); the
    message must still be about the request's current attempt.
    """

    message: SupplyingAgencyMessage
    """The stored message (from the task)."""


# -- from peers, and from time -----------------------------------------------------------


@final
@attrs.frozen
class SupplierMessageReceived:
    """Borrowing: a supplying agency message arrived from the lender."""

    message: SupplyingAgencyMessage
    """The message."""


@final
@attrs.frozen
class RequesterMessageReceived:
    """Lending: a requesting agency message arrived from the borrower."""

    message: RequestingAgencyMessage
    """The message."""


@final
@attrs.frozen
class TimerFired:
    """A deadline stored on the request has passed."""

    kind: TimerKind
    """Which deadline."""


@final
@attrs.frozen
class DeliveryRefused:
    """Our message to the lender was refused for good, so the attempt it opened is dead.

    Fed back by the dispatcher when a Request (new or retry) gives up: the peer's ERROR
    confirmation, an HTTP refusal, or the last retry. ``reason`` is the peer's
    errorType and errorValue, or the HTTP status and an excerpt of the body.
    """

    request_id: str
    """The attempt's requestingAgencyRequestId (a later attempt is never ended by it)."""
    reason: str
    """Why, in the peer's words or the transport's."""


BorrowingEvent = (
    SubmitRequest
    | ApproveRequest
    | AssignRota
    | CancelRequest
    | AcceptConditions
    | RejectConditions
    | AcceptRetry
    | DeclineRetry
    | ReceiveItem
    | CheckOutItem
    | DeliverCopy
    | RequestRenewal
    | ApproveRenewal
    | DenyRenewal
    | ReturnByPatron
    | ShipReturn
    | ReportLost
    | ReportDamaged
    | ApplyLenderMessage
    | SupplierMessageReceived
    | TimerFired
    | DeliveryRefused
    | AskLenderStatus
)
"""Any event of the borrowing lifecycle."""

LendingEvent = (
    SupplyItem
    | LocateFailed
    | WillSupply
    | RejectRequest
    | OfferRetry
    | OfferConditions
    | PickItem
    | ArriveAtRsLibrary
    | ShipItem
    | AnswerRenewal
    | AnswerCancel
    | LocalHoldPlaced
    | RecallItem
    | CheckInReturn
    | MarkLost
    | RequesterMessageReceived
    | TimerFired
)
"""Any event of the lending lifecycle."""
