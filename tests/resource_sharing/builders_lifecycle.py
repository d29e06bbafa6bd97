"""Builders for the lifecycle tests: a small world, message makers, and requests in a state.

Every request is built by *driving* it from its initial state with real events (never by
setting ``state`` by hand), so a request "in state X" is one the lifecycle can produce.
Events that depend on the request (peer messages carry its attempt's request id) are
*makers*: functions from the request to the event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from resource_sharing.borrowing import (
    BorrowingContext,
    BorrowingPolicy,
    EndOfRota,
    handle_borrowing,
)
from resource_sharing.directory import PartnerTerms
from resource_sharing.events import (
    AcceptConditions,
    AcceptRetry,
    AnswerCancel,
    AnswerRenewal,
    ApplyLenderMessage,
    ApproveRenewal,
    ApproveRequest,
    ArriveAtRsLibrary,
    AskLenderStatus,
    AssignRota,
    BorrowingEvent,
    CancelRequest,
    CheckInReturn,
    CheckOutItem,
    DeclineRetry,
    DeliverCopy,
    DeliveryRefused,
    DenyRenewal,
    LendingEvent,
    LocalHoldPlaced,
    LocateFailed,
    MarkLost,
    OfferConditions,
    OfferRetry,
    PickItem,
    RecallItem,
    ReceiveItem,
    RejectConditions,
    RejectRequest,
    ReportDamaged,
    ReportLost,
    RequesterMessageReceived,
    RequestRenewal,
    ReturnByPatron,
    ShipItem,
    ShipReturn,
    SubmitRequest,
    SupplierMessageReceived,
    SupplyItem,
    TimerFired,
    WillSupply,
)
from resource_sharing.iso18626 import Action, ReasonForMessage, ServiceType, Status
from resource_sharing.lending import (
    LendingContext,
    LendingPolicy,
    handle_lending,
    new_lending_request,
)
from resource_sharing.messages import (
    DeliveryInfo,
    Header,
    Request,
    RequestingAgencyMessage,
    ServiceInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.policies import PatronLoanRules, PatronRenewalRules, RecallRules
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    ItemRef,
    LendingRequest,
    PatronRef,
    RotaEntry,
    TimerKind,
)
from resource_sharing.states import BorrowingState, LendingState

BS = BorrowingState
LS = LendingState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The time every walk happens at (a Monday)."""

HOME = AgencyId("US-HOME")
"""The borrowing institution."""
B, C, D = AgencyId("US-B"), AgencyId("US-C"), AgencyId("US-D")
"""Lenders of the default rota, in order."""
FALLBACK = AgencyId("US-FALLBACK")
"""The end-of-rota fallback partner."""
ROTA = (RotaEntry(B, "tier 1"), RotaEntry(C, "tier 2"), RotaEntry(D, "tier 3"))
"""The default rota: three lenders."""
LAST_ONLY = (RotaEntry(B, "only one"),)
"""A rota whose first lender is also its last."""

PATRON = PatronRef("p-1", "Ada Lovelace", group="faculty")
CITATION = Citation(title="The Art of Computer Programming", author="Knuth, Donald")
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks level 2", desk="Main desk")
"""An item shelved away from the resource-sharing library (it travels there first)."""
LOCAL_ITEM = ItemRef("C-39002", "QA76 .K7", "ILL shelf", desk="ILL desk")
"""An item shelved at the resource-sharing library."""
LENDER_DUE = T0 + timedelta(days=7)
"""The due date lenders give in these tests (the patron's renewal window is then open)."""

BorrowingMaker = Callable[[BorrowingRequest], BorrowingEvent]
LendingMaker = Callable[[LendingRequest], LendingEvent]


# -- contexts ---------------------------------------------------------------------------


def bctx(**policy: Any) -> BorrowingContext:
    """A borrowing context at T0 with these policy settings."""
    return BorrowingContext(T0, BorrowingPolicy(**policy))


def renewals(**rules: Any) -> PatronLoanRules:
    """Patron loan rules with these renewal rules (for ``bctx(loan=...)``)."""
    return PatronLoanRules(renewal=PatronRenewalRules(**rules))


def lctx(terms: PartnerTerms | None = None, **policy: Any) -> LendingContext:
    """A lending context at T0 (resource-sharing library "ILL desk") with these settings."""
    policy.setdefault("rs_library", "ILL desk")
    if terms is not None:
        policy["terms"] = terms
    return LendingContext(T0, LendingPolicy(**policy))


# -- peer messages ----------------------------------------------------------------------


def from_lender(
    status: Status | None,
    reason: ReasonForMessage = ReasonForMessage.STATUS_CHANGE,
    *,
    sender: AgencyId | None = None,
    attempt: int = -1,
    **fields: Any,
) -> BorrowingMaker:
    """A maker of a supplying agency message about the request's current attempt."""

    def make(request: BorrowingRequest) -> BorrowingEvent:
        if request.attempts:
            current = request.attempts[attempt]
            lender, request_id = current.lender, current.request_id
        else:  # no attempt yet: a message about a request we never sent
            lender, request_id = B, f"{request.id}-unknown"
        header = Header(
            requesting_agency=request.agency,
            supplying_agency=sender or lender,
            requesting_agency_request_id=request_id,
            timestamp=T0,
            supplying_agency_request_id=f"{lender.value}-L",
        )
        return SupplierMessageReceived(SupplyingAgencyMessage(header, reason, status, **fields))

    return make


def loaned(due: datetime = LENDER_DUE) -> BorrowingMaker:
    """Loaned, with a due date and the lender's item id."""
    return from_lender(Status.LOANED, due_date=due, delivery=DeliveryInfo(T0, item_id="L-ITEM"))


def with_conditions(status: Status | None = Status.WILL_SUPPLY) -> BorrowingMaker:
    """A message setting a loan condition."""
    return from_lender(status, delivery=DeliveryInfo(T0, loan_condition="LibraryUseOnly"))


def applied(maker: BorrowingMaker) -> BorrowingMaker:
    """Staff apply the lender's message ``maker`` makes (a staff override)."""

    def make(request: BorrowingRequest) -> BorrowingEvent:
        event = maker(request)
        assert isinstance(event, SupplierMessageReceived)
        return ApplyLenderMessage(event.message)

    return make


def fresh_status(*choices: Status) -> BorrowingMaker:
    """A message with the first status in ``choices`` the lender has not reported already."""

    def make(request: BorrowingRequest) -> BorrowingEvent:
        known = request.attempts[-1].last_status if request.attempts else None
        status = next(s for s in choices if s is not known)
        return from_lender(status)(request)

    return make


def from_borrower(
    action: Action, note: str | None = None, *, sender: AgencyId | None = None
) -> LendingMaker:
    """A maker of a requesting agency message about the lending request."""

    def make(request: LendingRequest) -> LendingEvent:
        header = Header(
            requesting_agency=sender or request.requester,
            supplying_agency=request.agency,
            requesting_agency_request_id=request.requester_request_id,
            timestamp=T0,
            supplying_agency_request_id=request.id,
        )
        return RequesterMessageReceived(RequestingAgencyMessage(header, action, note))

    return make


def const(event: Any) -> Callable[[Any], Any]:
    """A maker that ignores the request."""
    return lambda request: event


# -- borrowing: walks -------------------------------------------------------------------


def new_borrowing(**fields: Any) -> BorrowingRequest:
    """A created borrowing request."""
    return BorrowingRequest("A-1", HOME, PATRON, CITATION, T0, pickup_location="Main", **fields)


def walk_borrowing(
    makers: Sequence[BorrowingMaker],
    ctx: BorrowingContext | None = None,
    request: BorrowingRequest | None = None,
) -> BorrowingRequest:
    """Apply each event in turn (each must apply) and return the request."""
    ctx = ctx or bctx()
    request = request or new_borrowing()
    for make in makers:
        outcome = handle_borrowing(request, make(request), ctx)
        assert outcome.applied
        request = outcome.record
    return request


def _b(*makers: BorrowingMaker) -> tuple[BorrowingMaker, ...]:
    return makers


SUBMITTED = _b(const(SubmitRequest()))


def borrowing_paths(rota: tuple[RotaEntry, ...] = ROTA) -> dict[BS, tuple[BorrowingMaker, ...]]:
    """A walk from ``created`` to each state, with this rota."""
    sent = (*SUBMITTED, const(AssignRota(rota)))
    shipped = (*sent, loaned())
    received = (*shipped, const(ReceiveItem("TEMP-1")))
    on_loan = (*received, const(CheckOutItem()))
    returned = (*on_loan, const(ReturnByPatron("Main")))
    return {
        BS.CREATED: (),
        BS.PENDING_REVIEW: _b(const(SubmitRequest(review=True, reason="over the limit"))),
        BS.LOCATING: SUBMITTED,
        BS.LOCATE_FAILED: (*SUBMITTED, const(AssignRota(()))),
        BS.SENT: sent,
        BS.WILL_SUPPLY: (*sent, from_lender(Status.WILL_SUPPLY)),
        BS.CONDITIONAL: (*sent, with_conditions()),
        BS.RETRY_OFFERED: (*sent, from_lender(Status.RETRY_POSSIBLE, reason_retry="OnLoan")),
        BS.CANCEL_PENDING: (*sent, const(CancelRequest())),
        BS.SHIPPED: shipped,
        BS.RECEIVED: received,
        BS.COPY_RECEIVED: (*sent, from_lender(Status.COPY_COMPLETED)),
        BS.ON_LOAN: on_loan,
        BS.RENEW_PENDING_REVIEW: on_loan,  # + RequestRenewal under a mediated policy
        BS.RENEW_REQUESTED: (*on_loan, const(RequestRenewal())),
        BS.RECALLED: (*on_loan, from_lender(Status.RECALLED)),
        BS.OVERDUE: (*on_loan, from_lender(Status.OVERDUE)),
        BS.RETURNED_BY_PATRON: returned,
        BS.RETURN_SHIPPED: (*returned, const(ShipReturn())),
        BS.DAMAGED: (*on_loan, const(ReportDamaged("water"))),
        BS.END_OF_ROTA: (*SUBMITTED, const(AssignRota(LAST_ONLY)), from_lender(Status.UNFILLED)),
        BS.COMPLETED: (*returned, const(ShipReturn()), from_lender(Status.LOAN_COMPLETED)),
        BS.CANCELLED: (*SUBMITTED, const(CancelRequest())),
        BS.UNFILLED: (*SUBMITTED, const(AssignRota(LAST_ONLY)), from_lender(Status.UNFILLED)),
        BS.LOST: (*shipped, const(ReportLost("in the post"))),
    }


BORROWING_PATHS = borrowing_paths()
"""A walk from ``created`` to each state, with the default three-lender rota."""
_PATHS_BY_ROTA = {ROTA: BORROWING_PATHS, LAST_ONLY: borrowing_paths(LAST_ONLY)}


def borrowing_in(
    state: BS, ctx: BorrowingContext | None = None, rota: tuple[RotaEntry, ...] = ROTA
) -> BorrowingRequest:
    """A borrowing request driven to ``state`` (walking under ``ctx``)."""
    ctx = ctx or bctx()
    paths = _PATHS_BY_ROTA.get(rota) or borrowing_paths(rota)
    if state is BS.RENEW_PENDING_REVIEW:
        on_loan = walk_borrowing(paths[BS.ON_LOAN], ctx)
        request = walk_borrowing(
            [const(RequestRenewal())], bctx(loan=renewals(mediated=True)), on_loan
        )
    elif state is BS.UNFILLED:
        request = walk_borrowing(paths[state], bctx(end_of_rota=EndOfRota.CANCEL))
    else:
        request = walk_borrowing(paths[state], ctx)
    assert request.state is state, (state, request.state)
    return request


# default borrowing events per trigger name
BORROWING_EVENTS: dict[str, BorrowingMaker] = {
    "submit": const(SubmitRequest()),
    "approve": const(ApproveRequest()),
    "assign_rota": const(AssignRota((RotaEntry(C), RotaEntry(D)))),
    "cancel": const(CancelRequest(reason="no longer needed")),
    "accept_conditions": const(AcceptConditions("fine")),
    "reject_conditions": const(RejectConditions("no thanks")),
    "accept_retry": const(AcceptRetry()),
    "decline_retry": const(DeclineRetry()),
    "receive_item": const(ReceiveItem("TEMP-1")),
    "check_out": const(CheckOutItem()),
    "deliver_copy": const(DeliverCopy()),
    "request_renewal": const(RequestRenewal()),
    "approve_renewal": const(ApproveRenewal()),
    "deny_renewal": const(DenyRenewal("only one renewal")),
    "return_by_patron": const(ReturnByPatron("Main")),
    "ship_return": const(ShipReturn("tracking 123")),
    "report_lost": const(ReportLost("in the post")),
    "report_damaged": const(ReportDamaged("water")),
    "ask_status": const(AskLenderStatus("where is it?")),
    "lender_acknowledged": from_lender(Status.REQUEST_RECEIVED, ReasonForMessage.REQUEST_RESPONSE),
    "lender_will_supply": fresh_status(Status.WILL_SUPPLY, Status.EXPECT_TO_SUPPLY),
    "lender_conditions": with_conditions(),
    "lender_shipped": loaned(),
    "lender_copy_delivered": from_lender(Status.COPY_COMPLETED),
    "lender_overdue": from_lender(Status.OVERDUE),
    "lender_recalled": from_lender(Status.RECALLED),
    "lender_retry_possible": from_lender(Status.RETRY_POSSIBLE, reason_retry="OnLoan"),
    "lender_unfilled": from_lender(Status.UNFILLED, reason_unfilled="NotHeld"),
    "lender_hold_return": from_lender(Status.HOLD_RETURN),
    "lender_release_hold_return": from_lender(Status.RELEASE_HOLD_RETURN),
    "lender_checked_in": from_lender(Status.LOAN_COMPLETED),
    "lender_closed_without_return": from_lender(Status.COMPLETED_WITHOUT_RETURN),
    "lender_cancelled": from_lender(Status.CANCELLED),
    "cancel_accepted": from_lender(Status.CANCELLED, ReasonForMessage.CANCEL_RESPONSE, answer=True),
    "cancel_rejected": from_lender(None, ReasonForMessage.CANCEL_RESPONSE, answer=False),
    "renew_accepted": from_lender(
        Status.LOANED,
        ReasonForMessage.RENEW_RESPONSE,
        answer=True,
        due_date=LENDER_DUE + timedelta(days=28),
    ),
    "renew_rejected": from_lender(Status.LOANED, ReasonForMessage.RENEW_RESPONSE, answer=False),
    "confirm_closed": applied(from_lender(Status.LOAN_COMPLETED)),
    "confirm_supply": applied(loaned()),
    "confirm_copy": applied(from_lender(Status.COPY_COMPLETED)),
    "confirm_will_supply": applied(from_lender(Status.WILL_SUPPLY)),
    "confirm_unfilled": applied(from_lender(Status.UNFILLED, reason_unfilled="NotHeld")),
    "confirm_renewed": applied(
        from_lender(
            Status.LOANED,
            ReasonForMessage.RENEW_RESPONSE,
            answer=True,
            due_date=LENDER_DUE + timedelta(days=28),
        )
    ),
    "lender_note": from_lender(None, ReasonForMessage.NOTIFICATION, note="a word from the lender"),
    # the first attempt's lender, after the rota moved past it
    "late_supply": from_lender(
        Status.LOANED, attempt=0, due_date=LENDER_DUE, delivery=DeliveryInfo(T0, item_id="L-ITEM")
    ),
    "late_copy": from_lender(Status.COPY_COMPLETED, attempt=0),
    "lender_answer_expired": const(TimerFired(TimerKind.LENDER_ANSWER)),
    "conditional_answer_expired": const(TimerFired(TimerKind.CONDITIONAL_ANSWER)),
    "not_received_claim": const(TimerFired(TimerKind.NOT_RECEIVED_CLAIM)),
    "due_reminder": const(TimerFired(TimerKind.DUE_REMINDER)),
    "patron_overdue": const(TimerFired(TimerKind.PATRON_OVERDUE)),
    "return_unconfirmed": const(TimerFired(TimerKind.RETURN_UNCONFIRMED)),
    "hold_shelf_expired": const(TimerFired(TimerKind.HOLD_SHELF_EXPIRY)),
    "delivery_refused": lambda request: DeliveryRefused(
        request.attempts[-1].request_id if request.attempts else "none",
        "ERROR confirmation: UnrecognisedDataValue: not served here",
    ),
}


# -- lending: walks ---------------------------------------------------------------------


def incoming_request(
    service_type: ServiceType = ServiceType.LOAN, *, to: AgencyId = C, request_id: str = "A-1-2"
) -> Request:
    """An ISO 18626 request from HOME to ``to``."""
    header = Header(
        requesting_agency=HOME,
        supplying_agency=to,
        requesting_agency_request_id=request_id,
        timestamp=T0,
    )
    return Request(header, CITATION, ServiceInfo(service_type=service_type))


def new_lending(service_type: ServiceType = ServiceType.LOAN) -> LendingRequest:
    """A new lending request at C."""
    return new_lending_request(incoming_request(service_type), id="C-L1", agency=C, now=T0)


def walk_lending(
    makers: Sequence[LendingMaker],
    ctx: LendingContext | None = None,
    request: LendingRequest | None = None,
) -> LendingRequest:
    """Apply each event in turn (each must apply) and return the request."""
    ctx = ctx or lctx()
    request = request or new_lending()
    for make in makers:
        request = handle_lending(request, make(request), ctx).record
    return request


def _l(*makers: LendingMaker) -> tuple[LendingMaker, ...]:
    return makers


PICKING = _l(const(SupplyItem(ITEM)))
READY = (*PICKING, const(PickItem()), const(ArriveAtRsLibrary()))
L_SHIPPED = (*READY, const(ShipItem()))
L_RECEIVED = (*L_SHIPPED, from_borrower(Action.RECEIVED))
L_RETURNED = (*L_RECEIVED, from_borrower(Action.SHIPPED_RETURN))

LENDING_PATHS: dict[LS, tuple[LendingMaker, ...]] = {
    LS.NEW: (),
    LS.LOCATE_FAILED: _l(const(LocateFailed("not on the shelf"))),
    LS.WILL_SUPPLY: _l(const(WillSupply())),
    LS.CONDITIONAL: _l(const(OfferConditions("LibraryUseOnly"))),
    LS.PICK_FROM_SHELF: PICKING,
    LS.IN_TRANSIT_TO_RS_LIBRARY: (*PICKING, const(PickItem())),
    LS.READY_TO_SHIP: READY,
    LS.SHIPPED: L_SHIPPED,
    LS.RECEIVED_BY_PARTNER: L_RECEIVED,
    LS.RENEW_REQUESTED: L_RECEIVED,  # + Renew under manual renewal terms
    LS.RECALLED: (*L_RECEIVED, const(RecallItem())),
    LS.OVERDUE: (*L_RECEIVED, const(TimerFired(TimerKind.LENDER_OVERDUE))),
    LS.RETURNED_BY_PARTNER: L_RETURNED,
    LS.CANCEL_REQUESTED: (),  # + Cancel with auto_cancel off
    LS.COMPLETED: (*L_RETURNED, const(CheckInReturn())),
    LS.CANCELLED: _l(from_borrower(Action.CANCEL)),
    LS.UNFILLED: _l(const(RejectRequest("NotHeld"))),
    LS.EXPIRED: _l(const(TimerFired(TimerKind.SUPPLY_EXPIRY))),
    LS.LOST: (*L_SHIPPED, const(MarkLost("never came back"))),
}
"""A walk from ``new`` to each state."""

MANUAL_RENEWALS = PartnerTerms(auto_renew=False)
NO_AUTO_RECALL = RecallRules(recall_on_local_hold=False)


def lending_in(
    state: LS,
    ctx: LendingContext | None = None,
    service_type: ServiceType = ServiceType.LOAN,
) -> LendingRequest:
    """A lending request driven to ``state``."""
    ctx = ctx or lctx()
    request = walk_lending(LENDING_PATHS[state], ctx, new_lending(service_type))
    if state is LS.RENEW_REQUESTED:
        request = walk_lending([from_borrower(Action.RENEW)], lctx(MANUAL_RENEWALS), request)
    elif state is LS.CANCEL_REQUESTED:
        request = walk_lending([from_borrower(Action.CANCEL)], lctx(auto_cancel=False), request)
    assert request.state is state, (state, request.state)
    return request


LENDING_EVENTS: dict[str, LendingMaker] = {
    "supply_item": const(SupplyItem(ITEM)),
    "locate_failed": const(LocateFailed("not held")),
    "will_supply": const(WillSupply("soon")),
    "reject": const(RejectRequest("NotAvailableForILL", "sorry")),
    "offer_retry": const(OfferRetry("OnLoan", T0 + timedelta(days=30))),
    "offer_conditions": const(OfferConditions("LibraryUseOnly", "reading room only")),
    "pick_item": const(PickItem()),
    "arrive_at_rs_library": const(ArriveAtRsLibrary()),
    "ship": const(ShipItem("by courier")),
    "answer_renewal": const(AnswerRenewal(approve=True)),
    "answer_cancel": const(AnswerCancel(accept=True)),
    "local_hold": const(LocalHoldPlaced("c-patron-9")),
    "recall": const(RecallItem("needed here")),
    "check_in": const(CheckInReturn()),
    "mark_lost": const(MarkLost("gone")),
    "borrower_status_request": from_borrower(Action.STATUS_REQUEST),
    "borrower_received": from_borrower(Action.RECEIVED),
    "borrower_cancel": from_borrower(Action.CANCEL, "no longer needed"),
    "borrower_renew": from_borrower(Action.RENEW),
    "borrower_shipped_return": from_borrower(Action.SHIPPED_RETURN),
    "borrower_accepts_conditions": from_borrower(Action.NOTIFICATION, "ACCEPT: fine"),
    "borrower_hold_return": from_borrower(Action.HOLD_RETURN, "snowed in"),
    "borrower_lost": from_borrower(Action.LOST, "lost by the patron"),
    "borrower_note": from_borrower(Action.NOTIFICATION, "a word from the borrower"),
    "supply_expired": const(TimerFired(TimerKind.SUPPLY_EXPIRY)),
    "loan_overdue": const(TimerFired(TimerKind.LENDER_OVERDUE)),
}
