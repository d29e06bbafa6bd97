"""The borrowing lifecycle: a request at the patron's home institution.

Theory of operation
-------------------
One table (``EDGES``) says, for each state and trigger, where a request goes and what it
asks the world to do. A patron or staff member creates the request; it is submitted
(to staff review when a rule says so), given a rota, and sent to the first lender as a
typed :class:`~resource_sharing.records.Attempt` with its own protocol request id. The
lender's supplying agency messages move it on: will supply, conditions (staff accept or
reject), retry offers, shipment. On Unfilled, a declined retry, a cancel accepted after
rejected conditions, an unsolicited cancel, or no answer before the lender's deadline,
the request *advances* to the next lender not yet tried; at the end of the rota the
policy decides: keep it for staff review, close it unfilled (the patron is told), or
hand it to a fallback partner. Received items get a temporary item, go on the hold shelf
and the patron is notified; the loan, renewals (through the lender, mediated when so
configured), recalls, overdues, the patron's return and the shipment back follow, until
the lender's LoanCompleted completes the request.

Peer messages are classified into triggers by :func:`classify` (status, reason, answer,
conditions). A message about an attempt the rota has moved past is answered but never
applied (``Outcome.applied`` is False); a message that repeats the status already known
is a note, not a transition; one that cannot apply in the current state raises
:class:`~resource_sharing.errors.IllegalTransition`, which the inbox answers with an
ISO 18626 error and keeps as a staff task (:mod:`resource_sharing.misfits`). Where a
mature system would follow such a message once a person has looked, the table has a
*staff override* for it (``STAFF_OVERRIDES``: the message's trigger, and the
``confirm_...`` trigger whose edges say what applying it does). Wherever a lender has the
request, staff or the consistency sweep may ask it for its status (``ask_status``: a
StatusRequest, the time noted on the attempt); the answer is compared with our state by
the service (:mod:`resource_sharing.consistency`). Nothing here reads a clock:
``context.now`` is the time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, final

import attrs

from resource_sharing.calendar import Calendar
from resource_sharing.directory import Directory, PartnerTerms
from resource_sharing.effects import (
    CheckIn,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    Effect,
    LocateLenders,
    NoticeKind,
    NotifyPatron,
    NotifyStaff,
    PlaceOnHoldShelf,
    PrintHoldShelfSlip,
    PrintReturnSlip,
    RecallPatronLoan,
    RenewPatronLoan,
    SendMessage,
    TaskList,
)
from resource_sharing.errors import IllegalTransition, PeerError, WrongCounterpart
from resource_sharing.events import (
    AcceptConditions,
    AcceptRetry,
    ApplyLenderMessage,
    ApproveRenewal,
    ApproveRequest,
    AskLenderStatus,
    AssignRota,
    BorrowingEvent,
    CancelRequest,
    CheckOutItem,
    DeclineRetry,
    DeliverCopy,
    DeliveryRefused,
    DenyRenewal,
    ReceiveItem,
    RejectConditions,
    ReportDamaged,
    ReportLost,
    RequestRenewal,
    ReturnByPatron,
    ShipReturn,
    SubmitRequest,
    SupplierMessageReceived,
    TimerFired,
)
from resource_sharing.iso18626 import Action, ErrorType, ReasonForMessage, RequestType, Status
from resource_sharing.lifecycle import Edge, Lifecycle, NotModelled, Outcome, StateInfo, evolve
from resource_sharing.messages import (
    BillingInfo,
    Header,
    PatronInfo,
    Request,
    RequestingAgencyMessage,
    ServiceInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.policies import (
    PatronLoanRules,
    PatronRenewalDecision,
    PatronRenewalRoute,
    RenewalReason,
    RenewalRequester,
    TimerPolicy,
    answer_expiry,
    apply_renewal_answer,
    check_patron_renewal,
    conditional_answer_expiry,
    hold_shelf_expiry,
    not_received_claim,
    patron_due_date,
    patron_loan_deadlines,
    recall_patron_loan,
    return_unconfirmed,
    with_deadlines,
)
from resource_sharing.records import (
    AgencyId,
    Attempt,
    AttemptOutcome,
    BorrowingRequest,
    Deadline,
    RotaEntry,
    TimerKind,
)
from resource_sharing.states import BorrowingState as S

__all__ = [
    "BORROWING",
    "STAFF_OVERRIDES",
    "BorrowingContext",
    "BorrowingPolicy",
    "BorrowingTrigger",
    "EndOfRota",
    "attempt_request_id",
    "classify",
    "handle_borrowing",
    "staff_override",
]


class BorrowingTrigger(StrEnum):
    """The edge labels of the borrowing table."""

    SUBMIT = "submit"
    """Staff or patron submitted the request."""
    APPROVE = "approve"
    """Staff approved a request under review."""
    ASSIGN_ROTA = "assign_rota"
    """The rota was built (or given by staff)."""
    CANCEL = "cancel"
    """Patron or staff cancel."""
    ACCEPT_CONDITIONS = "accept_conditions"
    """Staff accept the lender's conditions."""
    REJECT_CONDITIONS = "reject_conditions"
    """Staff reject the lender's conditions."""
    ACCEPT_RETRY = "accept_retry"
    """Re-send to the lender as a Retry."""
    DECLINE_RETRY = "decline_retry"
    """Decline the retry offer; next lender."""
    RECEIVE_ITEM = "receive_item"
    """The item arrived at the library."""
    CHECK_OUT = "check_out"
    """The patron collected it."""
    DELIVER_COPY = "deliver_copy"
    """The copy was delivered to the patron."""
    REQUEST_RENEWAL = "request_renewal"
    """The patron (or staff) asked to renew."""
    APPROVE_RENEWAL = "approve_renewal"
    """Staff approved a mediated renewal."""
    DENY_RENEWAL = "deny_renewal"
    """Staff refused a mediated renewal."""
    RETURN_BY_PATRON = "return_by_patron"
    """The patron returned it at a desk."""
    SHIP_RETURN = "ship_return"
    """Staff shipped it back."""
    REPORT_LOST = "report_lost"
    """The item is lost."""
    REPORT_DAMAGED = "report_damaged"
    """The item is damaged."""
    LENDER_ACKNOWLEDGED = "lender_acknowledged"
    """RequestReceived."""
    LENDER_WILL_SUPPLY = "lender_will_supply"
    """ExpectToSupply or WillSupply."""
    LENDER_CONDITIONS = "lender_conditions"
    """WillSupply/ExpectToSupply/Notification with a loan condition."""
    LENDER_SHIPPED = "lender_shipped"
    """Loaned."""
    LENDER_COPY_DELIVERED = "lender_copy_delivered"
    """CopyCompleted."""
    LENDER_OVERDUE = "lender_overdue"
    """Overdue."""
    LENDER_RECALLED = "lender_recalled"
    """Recalled."""
    LENDER_RETRY_POSSIBLE = "lender_retry_possible"
    """RetryPossible."""
    LENDER_UNFILLED = "lender_unfilled"
    """Unfilled."""
    LENDER_HOLD_RETURN = "lender_hold_return"
    """HoldReturn (2021): keep the item for now."""
    LENDER_RELEASE_HOLD_RETURN = "lender_release_hold_return"
    """ReleaseHoldReturn (2021): send it back now."""
    LENDER_CHECKED_IN = "lender_checked_in"
    """LoanCompleted."""
    LENDER_CLOSED_WITHOUT_RETURN = "lender_closed_without_return"
    """CompletedWithoutReturn."""
    LENDER_CANCELLED = "lender_cancelled"
    """Cancelled, not in answer to our cancel."""
    CANCEL_ACCEPTED = "cancel_accepted"
    """CancelResponse, yes."""
    CANCEL_REJECTED = "cancel_rejected"
    """CancelResponse, no."""
    RENEW_ACCEPTED = "renew_accepted"
    """RenewResponse, yes."""
    RENEW_REJECTED = "renew_rejected"
    """RenewResponse, no."""
    LATE_SUPPLY = "late_supply"
    """Loaned from a lender the rota had moved past, before anyone else supplied."""
    LATE_COPY = "late_copy"
    """CopyCompleted from a lender the rota had moved past, before anyone else supplied."""
    DELIVERY_REFUSED = "delivery_refused"
    """Our request to the lender was refused for good (ERROR, HTTP refusal, give-up)."""
    ASK_STATUS = "ask_status"
    """Staff or the consistency sweep ask the lender for its status (StatusRequest)."""
    LENDER_NOTE = "lender_note"
    """A notification, or a status we already knew: recorded, no transition."""
    LENDER_ANSWER_EXPIRED = "lender_answer_expired"
    """Timer: the lender did not answer in time."""
    CONDITIONAL_ANSWER_EXPIRED = "conditional_answer_expired"
    """Timer: nobody answered the lender's conditions in time."""
    NOT_RECEIVED_CLAIM = "not_received_claim"
    """Timer: shipped long ago, still not received."""
    DUE_REMINDER = "due_reminder"
    """Timer: remind the patron of the due date."""
    PATRON_OVERDUE = "patron_overdue"
    """Timer: the patron's due date passed."""
    RETURN_UNCONFIRMED = "return_unconfirmed"
    """Timer: shipped back long ago, the lender has not confirmed."""
    HOLD_SHELF_EXPIRED = "hold_shelf_expired"
    """Timer: the patron did not collect the item."""
    CONFIRM_CLOSED = "confirm_closed"
    """Staff confirm a LoanCompleted (or CompletedWithoutReturn) that did not fit: the
    lender closed a request it never supplied, or has its item back another way."""
    CONFIRM_SUPPLY = "confirm_supply"
    """Staff confirm the item is on its way: Loaned after a retry offer, or Overdue or
    Recalled before any Loaned arrived."""
    CONFIRM_COPY = "confirm_copy"
    """Staff confirm a CopyCompleted after a retry offer."""
    CONFIRM_WILL_SUPPLY = "confirm_will_supply"
    """Staff confirm a WillSupply or ExpectToSupply after a retry offer."""
    CONFIRM_UNFILLED = "confirm_unfilled"
    """Staff confirm an Unfilled after Loaned: the item will not come; next lender."""
    CONFIRM_RENEWED = "confirm_renewed"
    """Staff confirm a RenewResponse yes nobody asked for: the loan's new due date."""


T = BorrowingTrigger


LOST_MARKER = "Lost"
"""How a v1.2 Notification says the item is lost (ISO 18626 v1.2 has no Lost action)."""


class EndOfRota(StrEnum):
    """What happens when every lender in the rota has been tried."""

    REVIEW = "review"
    """Keep the request for staff review (they may add lenders or cancel)."""
    CANCEL = "cancel"
    """Close it as unfilled and notify the patron."""
    FALLBACK = "fallback"
    """Send it to the policy's fallback partner (then close it if that fails too)."""


@final
@attrs.frozen
class BorrowingPolicy:
    """The borrowing institution's rules.

    Loan, renewal and recall rules and the timers are the policies' own records
    (:mod:`resource_sharing.policies`); a lender's answer deadline comes from its terms
    in the directory.
    """

    end_of_rota: EndOfRota = EndOfRota.REVIEW
    """What to do at the end of the rota."""
    fallback: AgencyId | None = None
    """The fallback partner for ``EndOfRota.FALLBACK``."""
    loan: PatronLoanRules = attrs.field(factory=PatronLoanRules)
    """Our patrons' loans: return buffer, renewals (window, groups, mediation), recalls."""
    timers: TimerPolicy = attrs.field(factory=TimerPolicy)
    """How long our timers run (conditions, claims, reminders, hold shelf, returns)."""
    default_loan_days: int = 21
    """The patron's loan when the lender gave no due date."""
    use_lender_barcode: bool = False
    """Consortium mode: label the item with the lender's (network-unique) item id."""


@final
@attrs.frozen
class BorrowingContext:
    """Everything a borrowing decision needs besides the request and the event."""

    now: datetime
    """The current time (UTC)."""
    policy: BorrowingPolicy = attrs.field(factory=BorrowingPolicy)
    """Our rules."""
    directory: Directory = attrs.field(factory=Directory)
    """Partners, for their calendars and answer deadlines."""
    calendar: Calendar = attrs.field(factory=Calendar)
    """Our own calendar (hold shelf, patron due dates)."""


Changes = tuple[dict[str, Any], tuple[Effect, ...]]
_NOTHING: Changes = ({}, ())


def attempt_request_id(request_id: str, number: int) -> str:
    """The protocol request id of attempt ``number`` of request ``request_id``.

    It is opaque: nothing ever parses it back; incoming messages are matched against the
    ids stored on the attempts.
    """
    return f"{request_id}-{number}"


# -- classification of incoming supplier messages --------------------------------------

_BY_STATUS: dict[Status, BorrowingTrigger] = {
    Status.REQUEST_RECEIVED: T.LENDER_ACKNOWLEDGED,
    Status.EXPECT_TO_SUPPLY: T.LENDER_WILL_SUPPLY,
    Status.WILL_SUPPLY: T.LENDER_WILL_SUPPLY,
    Status.LOANED: T.LENDER_SHIPPED,
    Status.OVERDUE: T.LENDER_OVERDUE,
    Status.RECALLED: T.LENDER_RECALLED,
    Status.RETRY_POSSIBLE: T.LENDER_RETRY_POSSIBLE,
    Status.UNFILLED: T.LENDER_UNFILLED,
    Status.HOLD_RETURN: T.LENDER_HOLD_RETURN,
    Status.RELEASE_HOLD_RETURN: T.LENDER_RELEASE_HOLD_RETURN,
    Status.COPY_COMPLETED: T.LENDER_COPY_DELIVERED,
    Status.LOAN_COMPLETED: T.LENDER_CHECKED_IN,
    Status.COMPLETED_WITHOUT_RETURN: T.LENDER_CLOSED_WITHOUT_RETURN,
    Status.CANCELLED: T.LENDER_CANCELLED,
}


def classify(message: SupplyingAgencyMessage, known: Status | None = None) -> BorrowingTrigger:
    """The trigger a supplying agency message fires, given the status already known.

    Raises :class:`PeerError` (UnrecognisedDataValue) for a Cancel or Renew response
    without its mandatory answer.
    """
    reason = message.reason
    if reason is ReasonForMessage.CANCEL_RESPONSE:
        if message.answer is None:
            raise PeerError(ErrorType.UNRECOGNISED_DATA_VALUE, "answerYesNo: missing")
        return T.CANCEL_ACCEPTED if message.answer else T.CANCEL_REJECTED
    if reason is ReasonForMessage.RENEW_RESPONSE:
        if message.answer is None:
            raise PeerError(ErrorType.UNRECOGNISED_DATA_VALUE, "answerYesNo: missing")
        return T.RENEW_ACCEPTED if message.answer else T.RENEW_REJECTED
    status = message.status
    if message.loan_condition is not None and status in (
        None,
        Status.REQUEST_RECEIVED,
        Status.EXPECT_TO_SUPPLY,
        Status.WILL_SUPPLY,
    ):
        return T.LENDER_CONDITIONS
    if status is None or status is known:
        return T.LENDER_NOTE
    if status in _PRE_SUPPLY and known in _SUPPLIED:
        # A late or reordered pre-supply status (crosslink's monotone order): the item is
        # already on its way, so it is recorded, never applied and never an error.
        return T.LENDER_NOTE
    return _BY_STATUS[status]


_PRE_SUPPLY = frozenset({Status.REQUEST_RECEIVED, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY})
_SUPPLIED = frozenset(
    {
        Status.LOANED,
        Status.OVERDUE,
        Status.RECALLED,
        Status.HOLD_RETURN,
        Status.RELEASE_HOLD_RETURN,
        Status.COPY_COMPLETED,
        Status.LOAN_COMPLETED,
        Status.COMPLETED_WITHOUT_RETURN,
    }
)


_BY_TIMER: dict[TimerKind, BorrowingTrigger] = {
    TimerKind.LENDER_ANSWER: T.LENDER_ANSWER_EXPIRED,
    TimerKind.CONDITIONAL_ANSWER: T.CONDITIONAL_ANSWER_EXPIRED,
    TimerKind.NOT_RECEIVED_CLAIM: T.NOT_RECEIVED_CLAIM,
    TimerKind.DUE_REMINDER: T.DUE_REMINDER,
    TimerKind.PATRON_OVERDUE: T.PATRON_OVERDUE,
    TimerKind.RETURN_UNCONFIRMED: T.RETURN_UNCONFIRMED,
    TimerKind.HOLD_SHELF_EXPIRY: T.HOLD_SHELF_EXPIRED,
}

_BY_COMMAND: dict[type, BorrowingTrigger] = {
    SubmitRequest: T.SUBMIT,
    ApproveRequest: T.APPROVE,
    AssignRota: T.ASSIGN_ROTA,
    CancelRequest: T.CANCEL,
    AcceptConditions: T.ACCEPT_CONDITIONS,
    RejectConditions: T.REJECT_CONDITIONS,
    AcceptRetry: T.ACCEPT_RETRY,
    DeclineRetry: T.DECLINE_RETRY,
    ReceiveItem: T.RECEIVE_ITEM,
    CheckOutItem: T.CHECK_OUT,
    DeliverCopy: T.DELIVER_COPY,
    RequestRenewal: T.REQUEST_RENEWAL,
    ApproveRenewal: T.APPROVE_RENEWAL,
    DenyRenewal: T.DENY_RENEWAL,
    ReturnByPatron: T.RETURN_BY_PATRON,
    ShipReturn: T.SHIP_RETURN,
    ReportLost: T.REPORT_LOST,
    ReportDamaged: T.REPORT_DAMAGED,
    DeliveryRefused: T.DELIVERY_REFUSED,
    AskLenderStatus: T.ASK_STATUS,
}

STAFF_OVERRIDES: dict[BorrowingTrigger, BorrowingTrigger] = {
    T.LENDER_CHECKED_IN: T.CONFIRM_CLOSED,
    T.LENDER_CLOSED_WITHOUT_RETURN: T.CONFIRM_CLOSED,
    T.LENDER_SHIPPED: T.CONFIRM_SUPPLY,
    T.LENDER_OVERDUE: T.CONFIRM_SUPPLY,
    T.LENDER_RECALLED: T.CONFIRM_SUPPLY,
    T.LENDER_COPY_DELIVERED: T.CONFIRM_COPY,
    T.LENDER_WILL_SUPPLY: T.CONFIRM_WILL_SUPPLY,
    T.LENDER_UNFILLED: T.CONFIRM_UNFILLED,
    T.RENEW_ACCEPTED: T.CONFIRM_RENEWED,
}
"""What a lender's message fires, and the trigger staff fire to apply it after all when
it did not fit; the ``confirm_...`` edges of the table say in which states that is
allowed and what it does (docs/iso18626.md, "A status that does not fit")."""


def staff_override(request: BorrowingRequest, message: SupplyingAgencyMessage) -> BorrowingTrigger:
    """The ``confirm_...`` trigger that applies ``message`` to ``request`` for staff.

    Raises :class:`IllegalTransition` when the message is not about the current attempt
    any more, or the table has no override for it in this state.
    """
    attempt = request.attempt_for(message.header.requesting_agency_request_id)
    current = request.current_attempt
    fired = classify(message, attempt.last_status if attempt is not None else None)
    override = STAFF_OVERRIDES.get(fired)
    problem = None
    if attempt is None or attempt is not current:
        problem = "the message is not about the request's current attempt any more"
    elif override is None or not BORROWING.edges_for(request.state, override):
        problem = "staff may not apply it in this state"
    if problem is not None or override is None:
        raise IllegalTransition(
            "borrowing",
            request.state.value,
            (override or fired).value,
            BORROWING.allowed(request.state),
            reason=problem,
        )
    return override


# -- message builders --------------------------------------------------------------------


def _header(request: BorrowingRequest, attempt: Attempt, now: datetime) -> Header:
    return Header(
        requesting_agency=request.agency,
        supplying_agency=attempt.lender,
        requesting_agency_request_id=attempt.request_id,
        timestamp=now,
        supplying_agency_request_id=attempt.supplier_request_id,
    )


def _tell_lender(
    request: BorrowingRequest, ctx: BorrowingContext, action: Action, note: str | None = None
) -> SendMessage:
    attempt = request.attempts[-1]
    return SendMessage(
        attempt.lender,
        RequestingAgencyMessage(_header(request, attempt, ctx.now), action, note),
    )


def _request_message(
    request: BorrowingRequest, attempt: Attempt, earlier: Attempt | None, ctx: BorrowingContext
) -> Request:
    previous = None
    if attempt.request_type is RequestType.RETRY and earlier is not None:
        previous = earlier.request_id
    need_before = None
    if request.need_before is not None:
        need_before = ctx.calendar.end_of_day(request.need_before)
    return Request(
        header=_header(request, attempt, ctx.now),
        citation=request.citation,
        service=ServiceInfo(
            service_type=request.service_type,
            request_type=attempt.request_type,
            previous_request_id=previous,
            need_before=need_before,
            note=request.note,
        ),
        patron=PatronInfo(patron_id=request.patron.id),
        billing=BillingInfo(maximum_costs=request.max_cost) if request.max_cost else None,
    )


# -- time ------------------------------------------------------------------------------


def _lender_calendar(ctx: BorrowingContext, lender: AgencyId) -> Calendar:
    partner = ctx.directory.get(lender)
    return partner.lending_calendar() if partner is not None else Calendar()


def _answer_deadline(ctx: BorrowingContext, lender: AgencyId) -> Deadline:
    """The lender's answer expiry: its terms' answer days, in its own calendar."""
    partner = ctx.directory.get(lender)
    terms = partner.terms if partner is not None else PartnerTerms()
    return answer_expiry(ctx.now, terms=terms, lender_calendar=_lender_calendar(ctx, lender))


def _fresh(*deadlines: Deadline | None) -> tuple[Deadline, ...]:
    """Only these deadlines (a timer switched off in the policy gives None: skipped)."""
    return with_deadlines((), *deadlines)


def _patron_due(ctx: BorrowingContext, lender_due: datetime | None) -> datetime:
    if lender_due is None:
        day = ctx.calendar.local_date(ctx.now + timedelta(days=ctx.policy.default_loan_days))
        return ctx.calendar.end_of_day(ctx.calendar.next_open_day(day))
    due = patron_due_date(lender_due, policy=ctx.policy.loan, calendar=ctx.calendar)
    return max(due, ctx.now)


def _loan_timers(ctx: BorrowingContext, patron_due: datetime) -> tuple[Deadline, ...]:
    return patron_loan_deadlines(
        patron_due, timers=ctx.policy.timers, borrower_calendar=ctx.calendar, now=ctx.now
    )


def _reasoned(reason: str, text: str) -> str:
    """A "no" for a patron or a peer: the stable reason value, then the words."""
    return f"{reason}: {text}" if text else reason


# -- guards ----------------------------------------------------------------------------


def _needs_review(request: BorrowingRequest, event: SubmitRequest, ctx: BorrowingContext) -> bool:
    return event.review


def _usable_entries(request: BorrowingRequest, event: AssignRota) -> tuple[RotaEntry, ...]:
    """The assigned lenders that may be asked, each once.

    Never ourselves, and never a lender tried before unless staff re-request it.
    """
    tried = request.tried()
    usable: list[RotaEntry] = []
    seen: set[AgencyId] = set()
    for entry in event.entries:
        agency = entry.agency
        if agency == request.agency or agency in seen:
            continue
        if agency in tried:
            if agency not in event.rerequest:
                continue
            entry = attrs.evolve(entry, rerequest=True)
        seen.add(agency)
        usable.append(entry)
    return tuple(usable)


def _rota_given(request: BorrowingRequest, event: AssignRota, ctx: BorrowingContext) -> bool:
    return bool(_usable_entries(request, event))


def _next_entry(request: BorrowingRequest) -> RotaEntry | None:
    tried = request.tried()
    asked_in_this_rota = {a.lender for a in request.attempts[request.rota_start :]}
    for entry in request.rota:
        if entry.agency == request.agency or entry.agency in asked_in_this_rota:
            continue
        if entry.agency not in tried or entry.rerequest:
            return entry
    return None


def _has_next_lender(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> bool:
    return _next_entry(request) is not None


def _end_of_rota_review(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> bool:
    return ctx.policy.end_of_rota is EndOfRota.REVIEW


def _end_of_rota_fallback(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> bool:
    fallback = ctx.policy.fallback
    return (
        ctx.policy.end_of_rota is EndOfRota.FALLBACK
        and fallback is not None
        and fallback not in request.tried()
    )


def _cancelled_by_borrower(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> bool:
    return not request.advance_on_cancel


def _resumes(state: S) -> Callable[[BorrowingRequest, object, BorrowingContext], bool]:
    def guard(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> bool:
        return request.resume_state is state

    guard.__name__ = f"was_{state.value}"
    return guard


def _patron_renewal(
    request: BorrowingRequest, event: RequestRenewal, ctx: BorrowingContext
) -> PatronRenewalDecision:
    """The borrower's own rules on a renewal request: refuse, mediate, or ask the lender.

    The lender's terms say whether a loan it reported Overdue may be renewed.
    """
    lender = request.current_lender
    partner = ctx.directory.get(lender) if lender is not None else None
    return check_patron_renewal(
        request,
        policy=ctx.policy.loan,
        calendar=ctx.calendar,
        now=ctx.now,
        by=RenewalRequester.STAFF if event.by_staff else RenewalRequester.PATRON,
        refused_before=request.renewal_refused,
        lender_terms=partner.terms if partner is not None else None,
    )


def _renewal_refused(
    request: BorrowingRequest, event: RequestRenewal, ctx: BorrowingContext
) -> bool:
    return _patron_renewal(request, event, ctx).route is PatronRenewalRoute.REFUSED


def _renewal_mediated(
    request: BorrowingRequest, event: RequestRenewal, ctx: BorrowingContext
) -> bool:
    return _patron_renewal(request, event, ctx).route is PatronRenewalRoute.MEDIATE


# -- actions ---------------------------------------------------------------------------


def _start_attempt(
    request: BorrowingRequest,
    lender: AgencyId,
    ctx: BorrowingContext,
    request_type: RequestType = RequestType.NEW,
    closing: AttemptOutcome | None = None,
    rota: tuple[RotaEntry, ...] | None = None,
    reason: str | None = None,
) -> Changes:
    attempts = _close_current(request, ctx, closing, reason) if closing else request.attempts
    attempt = Attempt(
        number=len(attempts) + 1,
        lender=lender,
        request_id=attempt_request_id(request.id, len(attempts) + 1),
        sent_at=ctx.now,
        request_type=request_type,
    )
    earlier = attempts[-1] if attempts else None
    changes: dict[str, Any] = {
        "attempts": (*attempts, attempt),
        "conditions": (),
        "resume_state": None,
        "advance_on_cancel": False,
        "deadlines": (_answer_deadline(ctx, lender),),
    }
    if rota is not None:
        changes["rota"] = rota
    message = _request_message(request, attempt, earlier, ctx)
    return changes, (SendMessage(lender, message),)


def _close_current(
    request: BorrowingRequest,
    ctx: BorrowingContext,
    outcome: AttemptOutcome,
    reason: str | None = None,
) -> tuple[Attempt, ...]:
    current = request.current_attempt
    if current is None:
        return request.attempts
    changes: dict[str, Any] = {"outcome": outcome, "ended_at": ctx.now}
    if reason is not None:
        changes["reason"] = reason
    closed = evolve(current, changes)
    return (*request.attempts[:-1], closed)


def _submit(request: BorrowingRequest, event: SubmitRequest, ctx: BorrowingContext) -> Changes:
    return {}, (NotifyPatron(request.patron, NoticeKind.REQUEST_PLACED, request.id),)


def _submit_and_locate(
    request: BorrowingRequest, event: SubmitRequest, ctx: BorrowingContext
) -> Changes:
    notice = NotifyPatron(request.patron, NoticeKind.REQUEST_PLACED, request.id)
    return {}, (notice, LocateLenders(request.id))


def _locate(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
    return {}, (LocateLenders(request.id),)


def _assign_rota(request: BorrowingRequest, event: AssignRota, ctx: BorrowingContext) -> Changes:
    rota = _usable_entries(request, event)
    changes, effects = _start_attempt(request, rota[0].agency, ctx, rota=rota)
    changes["rota_start"] = len(request.attempts)
    return changes, effects


def _record_rota(request: BorrowingRequest, event: AssignRota, ctx: BorrowingContext) -> Changes:
    return {"rota": event.entries}, ()


def _ending_reason(event: object) -> str | None:
    """The words an attempt ends with: a refusal's reason, a lender's unfilled reason."""
    if isinstance(event, DeliveryRefused):
        return event.reason
    if isinstance(event, SupplierMessageReceived):
        message = event.message
        return message.reason_unfilled or message.note
    return None


def _advancing(outcome: AttemptOutcome, *, tell_lender: str | None = None) -> dict[str, Any]:
    """The four advance actions for one way an attempt can end."""

    def closing_effects(request: BorrowingRequest, ctx: BorrowingContext) -> tuple[Effect, ...]:
        if tell_lender is None or request.current_attempt is None:
            return ()
        return (_tell_lender(request, ctx, Action.CANCEL, tell_lender),)

    def to_next(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
        entry = _next_entry(request)
        assert entry is not None  # guarded by has_next_lender
        changes, effects = _start_attempt(
            request, entry.agency, ctx, closing=outcome, reason=_ending_reason(event)
        )
        return changes, closing_effects(request, ctx) + effects

    def to_fallback(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
        fallback = ctx.policy.fallback
        assert fallback is not None  # guarded by end_of_rota_fallback
        rota = (*request.rota, RotaEntry(fallback, "end-of-rota fallback", fallback=True))
        changes, effects = _start_attempt(
            request, fallback, ctx, closing=outcome, rota=rota, reason=_ending_reason(event)
        )
        return changes, closing_effects(request, ctx) + effects

    def to_review(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
        attempts = _close_current(request, ctx, outcome, _ending_reason(event))
        return {"attempts": attempts, "conditions": ()}, closing_effects(request, ctx)

    def to_unfilled(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
        attempts = _close_current(request, ctx, outcome, _ending_reason(event))
        notice = NotifyPatron(request.patron, NoticeKind.UNFILLED, request.id)
        return {"attempts": attempts, "conditions": ()}, (*closing_effects(request, ctx), notice)

    for fn, name in (
        (to_next, "next_lender"),
        (to_fallback, "fallback_lender"),
        (to_review, "end_of_rota"),
        (to_unfilled, "close_unfilled"),
    ):
        fn.__name__ = f"{name}_after_{outcome.value}"
    return {"next": to_next, "fallback": to_fallback, "review": to_review, "unfilled": to_unfilled}


def _advance_edges(source: S, trigger: T, actions: dict[str, Any]) -> list[Edge]:
    return [
        Edge(source, trigger, S.SENT, _has_next_lender, actions["next"]),
        Edge(source, trigger, S.SENT, _end_of_rota_fallback, actions["fallback"]),
        Edge(source, trigger, S.END_OF_ROTA, _end_of_rota_review, actions["review"]),
        Edge(source, trigger, S.UNFILLED, None, actions["unfilled"]),
    ]


def _cancel_unsent(
    request: BorrowingRequest, event: CancelRequest, ctx: BorrowingContext
) -> Changes:
    attempts = _close_current(request, ctx, AttemptOutcome.CANCELLED)
    notice = NotifyPatron(request.patron, NoticeKind.CANCELLED, request.id, detail=event.reason)
    return {"attempts": attempts}, (notice,)


def _ask_cancel(request: BorrowingRequest, event: CancelRequest, ctx: BorrowingContext) -> Changes:
    return (
        {"resume_state": request.state, "advance_on_cancel": False, "deadlines": ()},
        (_tell_lender(request, ctx, Action.CANCEL, event.reason),),
    )


def _cancelled(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
    attempts = _close_current(request, ctx, AttemptOutcome.CANCELLED)
    notice = NotifyPatron(request.patron, NoticeKind.CANCELLED, request.id)
    return {"attempts": attempts, "resume_state": None}, (notice,)


def _cancel_refused(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
    note = "The lender refused the cancellation; the request goes on."
    return (
        {"resume_state": None, "advance_on_cancel": False},
        (NotifyStaff(request.id, note),),
    )


def _cancel_refused_shipped(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    changes, effects = _shipped(request, event, ctx)
    note = "The lender refused the cancellation: the item has been shipped."
    return {**changes, "resume_state": None, "advance_on_cancel": False}, (
        *effects,
        NotifyStaff(request.id, note),
    )


def _reject_conditions(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
    note = getattr(event, "note", None) or "Loan conditions not accepted"
    return (
        {"resume_state": S.CONDITIONAL, "advance_on_cancel": True, "deadlines": ()},
        (_tell_lender(request, ctx, Action.CANCEL, note),),
    )


def _accept_conditions(
    request: BorrowingRequest, event: AcceptConditions, ctx: BorrowingContext
) -> Changes:
    note = f"ACCEPT: loan conditions {', '.join(request.conditions)} accepted"
    if event.note:
        note += f". {event.note}"
    return {}, (_tell_lender(request, ctx, Action.NOTIFICATION, note),)


def _update_attempt(
    request: BorrowingRequest,
    message: SupplyingAgencyMessage,
    ctx: BorrowingContext | None = None,
    closing: AttemptOutcome | None = None,
) -> tuple[Attempt, ...]:
    """The attempts, the current one updated from the lender's message.

    It is also closed with ``closing`` when the message ends it.
    """
    current = request.attempts[-1]
    changes: dict[str, Any] = {
        "last_status": message.status or current.last_status,
        "supplier_request_id": message.header.supplying_agency_request_id
        or current.supplier_request_id,
    }
    if closing is not None and ctx is not None and current.outcome is None:
        changes["outcome"] = closing
        changes["ended_at"] = ctx.now
    return (*request.attempts[:-1], evolve(current, changes))


def _acknowledged(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    return {"attempts": _update_attempt(request, event.message)}, ()


def _will_supply(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    return {"attempts": _update_attempt(request, event.message), "deadlines": ()}, ()


def _conditions(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    message = event.message
    condition = message.loan_condition or "unspecified"
    text = f"The lender {request.attempts[-1].lender} asks for conditions: {condition}"
    if message.note:
        text += f" ({message.note})"
    deadline = conditional_answer_expiry(
        ctx.now, timers=ctx.policy.timers, borrower_calendar=ctx.calendar
    )
    return (
        {
            "attempts": _update_attempt(request, message),
            "conditions": (*request.conditions, condition),
            "deadlines": _fresh(deadline),
        },
        (NotifyStaff(request.id, text),),
    )


def _retry_offered(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    message = event.message
    text = f"The lender offers a retry: {message.reason_retry or 'no reason given'}"
    if message.offered_costs is not None:
        text += f"; it would cost {message.offered_costs.amount} {message.offered_costs.currency}"
    return {"attempts": _update_attempt(request, message)}, (NotifyStaff(request.id, text),)


def _accept_retry(request: BorrowingRequest, event: AcceptRetry, ctx: BorrowingContext) -> Changes:
    lender = request.attempts[-1].lender
    changes, effects = _start_attempt(
        attrs.evolve(
            request, max_cost=event.max_cost or request.max_cost, note=event.note or request.note
        ),
        lender,
        ctx,
        RequestType.RETRY,
        closing=AttemptOutcome.RETRIED,
    )
    if event.max_cost is not None:
        changes["max_cost"] = event.max_cost
    return changes, effects


def _shipped(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    message = event.message
    item_id = message.delivery.item_id if message.delivery else None
    claim = not_received_claim(ctx.now, timers=ctx.policy.timers, borrower_calendar=ctx.calendar)
    return (
        {
            "attempts": _update_attempt(request, message),
            "lender_due": message.due_date or request.lender_due,
            "lender_item_id": item_id or request.lender_item_id,
            "deadlines": _fresh(claim),
        },
        (),
    )


def _late_shipped(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    changes, _ = _shipped(request, event, ctx)
    changes.pop("deadlines")
    return changes, ()


def _copy_delivered(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    return {"attempts": _update_attempt(request, event.message), "deadlines": ()}, ()


def _receive(request: BorrowingRequest, event: ReceiveItem, ctx: BorrowingContext) -> Changes:
    policy = ctx.policy
    barcode = event.barcode
    if policy.use_lender_barcode and request.lender_item_id:
        barcode = request.lender_item_id
    lender = request.attempts[-1].lender
    shelf = hold_shelf_expiry(ctx.now, timers=policy.timers, borrower_calendar=ctx.calendar)
    expires = shelf.at if shelf is not None else None
    due = request.patron_due or (
        _patron_due(ctx, request.lender_due) if request.lender_due is not None else None
    )
    pickup = request.pickup_location
    effects: tuple[Effect, ...] = (
        CreateTemporaryItem(
            request.id, barcode, request.citation, lender, request.patron, pickup, due
        ),
        PlaceOnHoldShelf(request.id, barcode, request.patron, pickup, expires),
        PrintHoldShelfSlip(request.id, barcode, request.patron, pickup, expires, request.citation),
        NotifyPatron(request.patron, NoticeKind.ITEM_AVAILABLE, request.id),
        _tell_lender(request, ctx, Action.RECEIVED),
    )
    return {"item_barcode": barcode, "deadlines": _fresh(shelf)}, effects


def _check_out(request: BorrowingRequest, event: CheckOutItem, ctx: BorrowingContext) -> Changes:
    due = request.patron_due or _patron_due(ctx, request.lender_due)
    barcode = request.item_barcode or ""
    return (
        {"patron_due": due, "deadlines": _loan_timers(ctx, due)},
        (CheckOutToPatron(request.id, barcode, request.patron, due),),
    )


def _deliver_copy(request: BorrowingRequest, event: DeliverCopy, ctx: BorrowingContext) -> Changes:
    attempts = _close_current(request, ctx, AttemptOutcome.SUPPLIED)
    notice = NotifyPatron(request.patron, NoticeKind.COPY_AVAILABLE, request.id)
    return {"attempts": attempts}, (notice,)


def _refuse_renewal(
    request: BorrowingRequest, event: RequestRenewal, ctx: BorrowingContext
) -> Changes:
    decision = _patron_renewal(request, event, ctx)
    assert decision.reason is not None  # guarded by renewal_refused
    text = decision.explain()
    if decision.window_opens is not None:
        opens = ctx.calendar.local_date(decision.window_opens)
        text += f" (renewals open on {opens.isoformat()})"
    notice = NotifyPatron(
        request.patron,
        NoticeKind.RENEWAL_REFUSED,
        request.id,
        request.patron_due,
        _reasoned(decision.reason.value, text),
    )
    return {}, (notice,)


def _hold_renewal(
    request: BorrowingRequest, event: RequestRenewal, ctx: BorrowingContext
) -> Changes:
    wanted = event.requested_due or _patron_renewal(request, event, ctx).requested_due
    return {"requested_due": wanted, "resume_state": request.state}, ()


def _ask_renewal(
    request: BorrowingRequest, event: RequestRenewal, ctx: BorrowingContext
) -> Changes:
    wanted = event.requested_due or _patron_renewal(request, event, ctx).requested_due
    return (
        {"requested_due": wanted, "resume_state": request.state},
        (_tell_lender(request, ctx, Action.RENEW),),
    )


def _send_renewal(
    request: BorrowingRequest, event: ApproveRenewal, ctx: BorrowingContext
) -> Changes:
    return {}, (_tell_lender(request, ctx, Action.RENEW),)


def _deny_renewal(request: BorrowingRequest, event: DenyRenewal, ctx: BorrowingContext) -> Changes:
    reason = _reasoned(RenewalReason.REFUSED_BY_STAFF.value, event.reason)
    notice = NotifyPatron(
        request.patron, NoticeKind.RENEWAL_REFUSED, request.id, request.patron_due, reason
    )
    return {"requested_due": None, "resume_state": None}, (notice,)


def _renewed(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    message = event.message
    lender_due = message.due_date or request.lender_due
    if lender_due is None:
        patron_due = _patron_due(ctx, None)
    else:
        answer = apply_renewal_answer(
            request,
            approved=True,
            new_lender_due=lender_due,
            policy=ctx.policy.loan,
            calendar=ctx.calendar,
        )
        assert answer.patron_due is not None  # a renewed loan has a patron due date
        lender_due, patron_due = answer.lender_due, answer.patron_due
    if request.patron_due is not None:
        patron_due = max(patron_due, request.patron_due)  # a renewal never shortens the loan
    barcode = request.item_barcode or ""
    return (
        {
            "attempts": _update_attempt(request, message),
            "lender_due": lender_due,
            "patron_due": patron_due,
            "renewal_count": request.renewal_count + 1,
            "requested_due": None,
            "resume_state": None,
            "deadlines": _loan_timers(ctx, patron_due),
        },
        (
            RenewPatronLoan(request.id, barcode, patron_due, request.patron),
            NotifyPatron(request.patron, NoticeKind.RENEWED, request.id, patron_due),
        ),
    )


def _not_renewed(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    answer = apply_renewal_answer(
        request,
        approved=False,
        new_lender_due=None,
        policy=ctx.policy.loan,
        calendar=ctx.calendar,
    )
    assert answer.reason is not None  # LENDER_REFUSED
    # The lender's own reason ("max_renewals_reached: ...") follows ours.
    text = event.message.note or "the lender did not renew the loan"
    notice = NotifyPatron(
        request.patron,
        NoticeKind.RENEWAL_REFUSED,
        request.id,
        request.patron_due,
        _reasoned(answer.reason.value, text),
    )
    changes = {
        "attempts": _update_attempt(request, event.message),
        "requested_due": None,
        "resume_state": None,
        "renewal_refused": True,
    }
    return changes, (notice,)


def _recalled(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    message = event.message
    recall = recall_patron_loan(
        request,
        policy=ctx.policy.loan,
        calendar=ctx.calendar,
        now=ctx.now,
        lender_recall_due=message.due_date,
    )
    due, lender_due = recall.patron_due, recall.lender_due
    barcode = request.item_barcode or ""
    effects: list[Effect] = []
    if request.state in (S.ON_LOAN, S.RENEW_REQUESTED, S.RENEW_PENDING_REVIEW):
        effects.append(RecallPatronLoan(request.id, barcode, due, request.patron))
    effects.append(NotifyPatron(request.patron, NoticeKind.RECALLED, request.id, due))
    return (
        {
            "attempts": _update_attempt(request, message),
            "patron_due": due,
            "lender_due": lender_due,
            "requested_due": None,
            # the recalled state keeps the overdue deadline (the recall notice reminds)
            "deadlines": _loan_timers(ctx, due),
        },
        tuple(effects),
    )


def _lender_overdue(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    notice = NotifyPatron(request.patron, NoticeKind.OVERDUE, request.id, request.patron_due)
    return {"attempts": _update_attempt(request, event.message)}, (notice,)


def _patron_overdue(request: BorrowingRequest, event: TimerFired, ctx: BorrowingContext) -> Changes:
    notice = NotifyPatron(request.patron, NoticeKind.OVERDUE, request.id, request.patron_due)
    return {}, (notice,)


def _remind(request: BorrowingRequest, event: TimerFired, ctx: BorrowingContext) -> Changes:
    deadlines = tuple(d for d in request.deadlines if d.kind is not TimerKind.DUE_REMINDER)
    notice = NotifyPatron(request.patron, NoticeKind.DUE_SOON, request.id, request.patron_due)
    return {"deadlines": deadlines}, (notice,)


def _returned_by_patron(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
    effects: tuple[Effect, ...] = ()
    if request.item_barcode:
        attempt = request.current_attempt or (request.attempts[-1] if request.attempts else None)
        effects = (CheckIn(request.id, request.item_barcode),)
        if attempt is not None:
            slip = PrintReturnSlip(
                request.id,
                request.item_barcode,
                attempt.lender,
                request.citation,
                attempt.supplier_request_id,
            )
            effects = (*effects, slip)
    return {"requested_due": None}, effects


def _hold_shelf_expired(request: BorrowingRequest, event: object, ctx: BorrowingContext) -> Changes:
    notice = NotifyPatron(request.patron, NoticeKind.HOLD_SHELF_EXPIRED, request.id)
    return {}, (notice,)


def _ship_return(request: BorrowingRequest, event: ShipReturn, ctx: BorrowingContext) -> Changes:
    effects: list[Effect] = [_tell_lender(request, ctx, Action.SHIPPED_RETURN, event.note)]
    if request.item_barcode:
        effects.append(DeleteTemporaryItem(request.id, request.item_barcode))
    chase = return_unconfirmed(ctx.now, timers=ctx.policy.timers, borrower_calendar=ctx.calendar)
    return {"deadlines": _fresh(chase)}, tuple(effects)


def _checked_in(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    attempts = _update_attempt(request, event.message, ctx, AttemptOutcome.SUPPLIED)
    effects: tuple[Effect, ...] = ()
    if request.state is S.RETURNED_BY_PATRON and request.item_barcode:
        effects = (DeleteTemporaryItem(request.id, request.item_barcode),)
    return {"attempts": attempts}, effects


def _closed_without_return(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    attempts = _update_attempt(request, event.message, ctx, AttemptOutcome.LOST)
    effects: list[Effect] = [
        NotifyStaff(request.id, "The lender closed the request without return.")
    ]
    if request.item_barcode:
        effects.append(DeleteTemporaryItem(request.id, request.item_barcode))
    return {"attempts": attempts}, tuple(effects)


def _report_lost(request: BorrowingRequest, event: ReportLost, ctx: BorrowingContext) -> Changes:
    attempts = _close_current(request, ctx, AttemptOutcome.LOST)
    note = f"{LOST_MARKER}: {event.note}" if event.note else LOST_MARKER
    effects: list[Effect] = [_tell_lender(request, ctx, Action.NOTIFICATION, note)]
    if request.item_barcode:
        effects.append(DeleteTemporaryItem(request.id, request.item_barcode))
    return {"attempts": attempts}, tuple(effects)


def _report_damaged(
    request: BorrowingRequest, event: ReportDamaged, ctx: BorrowingContext
) -> Changes:
    note = f"Damaged: {event.note}" if event.note else "Damaged"
    return {}, (_tell_lender(request, ctx, Action.NOTIFICATION, note),)


def _claim(request: BorrowingRequest, event: TimerFired, ctx: BorrowingContext) -> Changes:
    text = "Shipped by the lender but not received: claim it with the lender."
    return {"deadlines": ()}, (
        NotifyStaff(request.id, text),
        _tell_lender(request, ctx, Action.STATUS_REQUEST),
    )


def _chase_return(request: BorrowingRequest, event: TimerFired, ctx: BorrowingContext) -> Changes:
    text = "Returned to the lender but not confirmed: check with the lender."
    return {"deadlines": ()}, (
        NotifyStaff(request.id, text),
        _tell_lender(request, ctx, Action.STATUS_REQUEST),
    )


def _ask_status(
    request: BorrowingRequest, event: AskLenderStatus, ctx: BorrowingContext
) -> Changes:
    current = request.attempts[-1]
    attempts = (*request.attempts[:-1], attrs.evolve(current, status_asked_at=ctx.now))
    return {"attempts": attempts}, (_tell_lender(request, ctx, Action.STATUS_REQUEST, event.note),)


def _closed_unsupplied(
    request: BorrowingRequest, event: ApplyLenderMessage, ctx: BorrowingContext
) -> Changes:
    """The lender closed a request it never supplied; staff confirmed: it ends here."""
    status = event.message.status
    said = status.value if status is not None else "its request closed"
    reason = f"the lender reported {said} without supplying; closed by staff"
    attempts = _close_current(request, ctx, AttemptOutcome.CANCELLED_BY_LENDER, reason)
    notice = NotifyPatron(request.patron, NoticeKind.CANCELLED, request.id, detail=reason)
    return {"attempts": attempts, "resume_state": None, "deadlines": ()}, (notice,)


def _returned_elsewhere(
    request: BorrowingRequest, event: ApplyLenderMessage, ctx: BorrowingContext
) -> Changes:
    """The lender has its item back without us (a patron returned it there).

    Staff confirmed: what we hold of it is checked in and removed; the loan completes.
    """
    attempts = _update_attempt(request, event.message, ctx, AttemptOutcome.SUPPLIED)
    effects: tuple[Effect, ...] = ()
    if request.item_barcode:
        effects = (
            CheckIn(request.id, request.item_barcode),
            DeleteTemporaryItem(request.id, request.item_barcode),
        )
    return {"attempts": attempts, "requested_due": None, "resume_state": None}, effects


def _note(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    message = event.message
    effects: tuple[Effect, ...] = ()
    if message.note:
        effects = (NotifyStaff(request.id, f"Note from the lender: {message.note}"),)
    if request.current_attempt is None:
        return {}, effects
    return {"attempts": _update_attempt(request, message)}, effects


def _hold_return_note(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    held = event.message.status is Status.HOLD_RETURN
    text = (
        "The lender asks us to keep the item for now; do not return it yet."
        if held
        else "The lender asks for the item back: return it."
    )
    return {"attempts": _update_attempt(request, event.message)}, (NotifyStaff(request.id, text),)


def _adopt_late_supply(
    request: BorrowingRequest, event: SupplierMessageReceived, ctx: BorrowingContext
) -> Changes:
    """Reopen the superseded attempt that supplied, and withdraw the current one."""
    message = event.message
    earlier = request.attempt_for(message.header.requesting_agency_request_id)
    assert earlier is not None  # handle_borrowing found it
    effects: list[Effect] = []
    current = request.current_attempt
    if current is not None:
        effects.append(
            _tell_lender(request, ctx, Action.CANCEL, "The item was supplied by another library")
        )
    attempts = _close_current(request, ctx, AttemptOutcome.WITHDRAWN)
    reopened = Attempt(
        number=len(attempts) + 1,
        lender=earlier.lender,
        request_id=earlier.request_id,
        sent_at=earlier.sent_at,
        request_type=earlier.request_type,
        supplier_request_id=message.header.supplying_agency_request_id
        or earlier.supplier_request_id,
        last_status=message.status,
    )
    withdrawn = f"; {current.lender} was asked to cancel" if current is not None else ""
    text = f"{earlier.lender} supplied after the rota moved on: the request follows the item"
    effects.append(NotifyStaff(request.id, text + withdrawn))
    item_id = message.delivery.item_id if message.delivery else None
    changes: dict[str, Any] = {
        "attempts": (*attempts, reopened),
        "conditions": (),
        "resume_state": None,
        "advance_on_cancel": False,
        "lender_due": message.due_date or request.lender_due,
        "lender_item_id": item_id or request.lender_item_id,
        "deadlines": (),
    }
    if message.status is Status.LOANED:
        claim = not_received_claim(
            ctx.now, timers=ctx.policy.timers, borrower_calendar=ctx.calendar
        )
        changes["deadlines"] = _fresh(claim)
    return changes, tuple(effects)


# -- the table -------------------------------------------------------------------------

_A = TaskList
_TIMERS_LOAN = frozenset({TimerKind.PATRON_OVERDUE, TimerKind.DUE_REMINDER})

STATES: dict[S, StateInfo] = {
    S.CREATED: StateInfo("Created borrowing request"),
    S.PENDING_REVIEW: StateInfo(
        "Pending approval",
        needs_attention=True,
        task_list=_A.BORROWING_REQUESTS,
        instruction="Review the request for {patron} and approve or cancel it",
    ),
    S.LOCATING: StateInfo("Locate in process"),
    S.LOCATE_FAILED: StateInfo(
        "Locate failed",
        needs_attention=True,
        task_list=_A.BORROWING_REQUESTS,
        instruction="No lender found: add lenders to the rota or cancel the request",
    ),
    S.SENT: StateInfo(
        "Request sent to partner",
        iso_status=Status.REQUEST_RECEIVED,
        timers=frozenset({TimerKind.LENDER_ANSWER}),
    ),
    S.WILL_SUPPLY: StateInfo("Will supply", iso_status=Status.WILL_SUPPLY),
    S.CONDITIONAL: StateInfo(
        "Conditional",
        needs_attention=True,
        task_list=_A.BORROWING_REQUESTS,
        instruction="The lender {lender} set conditions ({conditions}): accept or reject them",
        iso_status=Status.WILL_SUPPLY,
        timers=frozenset({TimerKind.CONDITIONAL_ANSWER}),
    ),
    S.RETRY_OFFERED: StateInfo(
        "Retry possible",
        needs_attention=True,
        task_list=_A.BORROWING_REQUESTS,
        instruction="The lender {lender} offers a retry: retry with it or move to the next lender",
        iso_status=Status.RETRY_POSSIBLE,
    ),
    S.CANCEL_PENDING: StateInfo("Waiting for cancel response"),
    S.SHIPPED: StateInfo(
        "Shipped physically",
        task_list=_A.RECEIVED_ITEMS,
        instruction="Expect the item from {lender}: receive it when it arrives",
        iso_status=Status.LOANED,
        timers=frozenset({TimerKind.NOT_RECEIVED_CLAIM}),
    ),
    S.RECEIVED: StateInfo(
        "Physically received by library",
        task_list=_A.HOLD_SHELF,
        instruction="Place on hold shelf for {patron}; the patron is notified",
        iso_status=Status.LOANED,
        timers=frozenset({TimerKind.HOLD_SHELF_EXPIRY}),
    ),
    S.COPY_RECEIVED: StateInfo(
        "Digitally received by library",
        needs_attention=True,
        task_list=_A.RECEIVED_ITEMS,
        instruction="Deliver the copy to {patron}",
        iso_status=Status.COPY_COMPLETED,
    ),
    S.ON_LOAN: StateInfo("Loaned item to patron", iso_status=Status.LOANED, timers=_TIMERS_LOAN),
    S.RENEW_PENDING_REVIEW: StateInfo(
        "Mediated patron renewal",
        needs_attention=True,
        task_list=_A.BORROWING_REQUESTS,
        instruction="{patron} asks to renew: approve (it goes to {lender}) or deny",
        iso_status=Status.LOANED,
        timers=_TIMERS_LOAN,
    ),
    S.RENEW_REQUESTED: StateInfo("Renew requested", iso_status=Status.LOANED, timers=_TIMERS_LOAN),
    S.RECALLED: StateInfo(
        "Recalled by partner",
        iso_status=Status.RECALLED,
        timers=frozenset({TimerKind.PATRON_OVERDUE}),
    ),
    S.OVERDUE: StateInfo("Overdue request", iso_status=Status.OVERDUE),
    S.RETURNED_BY_PATRON: StateInfo(
        "Returned by patron",
        task_list=_A.RETURN_ITEMS,
        instruction="Return to lender {lender}: ship back",
    ),
    S.RETURN_SHIPPED: StateInfo(
        "Returned item to partner",
        timers=frozenset({TimerKind.RETURN_UNCONFIRMED}),
    ),
    S.DAMAGED: StateInfo(
        "Damaged communicated",
        needs_attention=True,
        task_list=_A.RETURN_ITEMS,
        instruction="Damage reported to {lender}: ship it back unless the lender closes the loan",
    ),
    S.END_OF_ROTA: StateInfo(
        "Rejected by partner (end of rota)",
        needs_attention=True,
        task_list=_A.BORROWING_REQUESTS,
        instruction="Every lender was tried ({tried}): add lenders or cancel the request",
        iso_status=Status.UNFILLED,
    ),
    S.COMPLETED: StateInfo("Request completed", terminal=True, iso_status=Status.LOAN_COMPLETED),
    S.CANCELLED: StateInfo("Canceled", terminal=True, iso_status=Status.CANCELLED),
    S.UNFILLED: StateInfo("Rejected by partner", terminal=True, iso_status=Status.UNFILLED),
    S.LOST: StateInfo(
        "Lost communicated", terminal=True, iso_status=Status.COMPLETED_WITHOUT_RETURN
    ),
}

_UNFILLED = _advancing(AttemptOutcome.UNFILLED)
_REFUSED = _advancing(AttemptOutcome.REFUSED)
_LENDER_CANCELLED = _advancing(AttemptOutcome.CANCELLED_BY_LENDER)
_EXPIRED = _advancing(AttemptOutcome.EXPIRED, tell_lender="No answer in time: request withdrawn")
_RETRY_DECLINED = _advancing(AttemptOutcome.RETRY_DECLINED)
_CONDITIONS_REJECTED = _advancing(AttemptOutcome.CONDITIONS_REJECTED)
_WAS_SENT, _WAS_WILL_SUPPLY, _WAS_CONDITIONAL, _WAS_OVERDUE = (
    _resumes(S.SENT),
    _resumes(S.WILL_SUPPLY),
    _resumes(S.CONDITIONAL),
    _resumes(S.OVERDUE),
)
_LOANED = (S.ON_LOAN, S.RENEW_PENDING_REVIEW, S.RENEW_REQUESTED, S.RECALLED, S.OVERDUE)
_BEFORE_SENDING = (S.CREATED, S.PENDING_REVIEW, S.LOCATING, S.LOCATE_FAILED, S.END_OF_ROTA)
_ADOPTABLE = frozenset(
    {
        S.SENT,
        S.WILL_SUPPLY,
        S.CONDITIONAL,
        S.RETRY_OFFERED,
        S.CANCEL_PENDING,
        S.END_OF_ROTA,
    }
)
"""States in which an earlier attempt exists and nobody has supplied yet, so a late
shipment from that attempt's lender can be followed."""
_LATE = {Status.LOANED: T.LATE_SUPPLY, Status.COPY_COMPLETED: T.LATE_COPY}
_FOLLOWED = frozenset({AttemptOutcome.EXPIRED, AttemptOutcome.REFUSED})
"""Attempts that ended without the lender saying no to the request itself (no answer in
time; our message refused or given up on, though it may have arrived): a shipment that
comes from them after all is followed."""

EDGES: list[Edge] = [
    Edge(S.CREATED, T.SUBMIT, S.PENDING_REVIEW, _needs_review, _submit),
    Edge(S.CREATED, T.SUBMIT, S.LOCATING, None, _submit_and_locate),
    Edge(S.PENDING_REVIEW, T.APPROVE, S.LOCATING, None, _locate),
    Edge(S.LOCATING, T.ASSIGN_ROTA, S.SENT, _rota_given, _assign_rota),
    Edge(S.LOCATING, T.ASSIGN_ROTA, S.LOCATE_FAILED, None, _record_rota),
    Edge(S.LOCATE_FAILED, T.ASSIGN_ROTA, S.SENT, _rota_given, _assign_rota),
    Edge(S.END_OF_ROTA, T.ASSIGN_ROTA, S.SENT, _rota_given, _assign_rota),
    *(Edge(state, T.CANCEL, S.CANCELLED, None, _cancel_unsent) for state in _BEFORE_SENDING),
    # with a lender, before it ships
    Edge(S.SENT, T.LENDER_ACKNOWLEDGED, S.SENT, None, _acknowledged),
    Edge(S.SENT, T.LENDER_WILL_SUPPLY, S.WILL_SUPPLY, None, _will_supply),
    Edge(S.WILL_SUPPLY, T.LENDER_ACKNOWLEDGED, S.WILL_SUPPLY, None, _acknowledged),
    *(
        Edge(state, T.LENDER_CONDITIONS, S.CONDITIONAL, None, _conditions)
        for state in (S.SENT, S.WILL_SUPPLY, S.CONDITIONAL)
    ),
    Edge(S.CONDITIONAL, T.LENDER_WILL_SUPPLY, S.WILL_SUPPLY, None, _will_supply),
    Edge(S.CONDITIONAL, T.ACCEPT_CONDITIONS, S.WILL_SUPPLY, None, _accept_conditions),
    Edge(S.CONDITIONAL, T.REJECT_CONDITIONS, S.CANCEL_PENDING, None, _reject_conditions),
    Edge(S.CONDITIONAL, T.CONDITIONAL_ANSWER_EXPIRED, S.CANCEL_PENDING, None, _reject_conditions),
    *(
        Edge(state, T.LENDER_SHIPPED, S.SHIPPED, None, _shipped)
        for state in (S.SENT, S.WILL_SUPPLY, S.CONDITIONAL)
    ),
    *(
        Edge(state, T.LENDER_COPY_DELIVERED, S.COPY_RECEIVED, None, _copy_delivered)
        for state in (S.SENT, S.WILL_SUPPLY, S.CONDITIONAL)
    ),
    *(
        Edge(state, T.LENDER_RETRY_POSSIBLE, S.RETRY_OFFERED, None, _retry_offered)
        for state in (S.SENT, S.WILL_SUPPLY, S.CONDITIONAL)
    ),
    *(
        edge
        for state in (S.SENT, S.WILL_SUPPLY, S.CONDITIONAL)
        for edge in (
            *_advance_edges(state, T.LENDER_UNFILLED, _UNFILLED),
            *_advance_edges(state, T.LENDER_CANCELLED, _LENDER_CANCELLED),
        )
    ),
    *_advance_edges(S.SENT, T.LENDER_ANSWER_EXPIRED, _EXPIRED),
    # our request never reached the lender (refused, or the dispatcher gave up)
    *_advance_edges(S.SENT, T.DELIVERY_REFUSED, _REFUSED),
    *(Edge(state, T.RECEIVE_ITEM, S.RECEIVED, None, _receive) for state in (S.SENT, S.WILL_SUPPLY)),
    *(
        Edge(state, T.CANCEL, S.CANCEL_PENDING, None, _ask_cancel)
        for state in (S.SENT, S.WILL_SUPPLY, S.CONDITIONAL)
    ),
    # a retry offer
    Edge(S.RETRY_OFFERED, T.ACCEPT_RETRY, S.SENT, None, _accept_retry),
    *_advance_edges(S.RETRY_OFFERED, T.DECLINE_RETRY, _RETRY_DECLINED),
    Edge(S.RETRY_OFFERED, T.CANCEL, S.CANCELLED, None, _cancel_unsent),
    # the lender withdraws its offer
    *_advance_edges(S.RETRY_OFFERED, T.LENDER_UNFILLED, _UNFILLED),
    *_advance_edges(S.RETRY_OFFERED, T.LENDER_CANCELLED, _LENDER_CANCELLED),
    # waiting for the lender's answer to our cancel
    *(
        edge
        for trigger in (T.CANCEL_ACCEPTED, T.LENDER_CANCELLED, T.LENDER_UNFILLED)
        for edge in (
            Edge(S.CANCEL_PENDING, trigger, S.CANCELLED, _cancelled_by_borrower, _cancelled),
            *_advance_edges(S.CANCEL_PENDING, trigger, _CONDITIONS_REJECTED),
        )
    ),
    Edge(S.CANCEL_PENDING, T.CANCEL_REJECTED, S.SENT, _WAS_SENT, _cancel_refused),
    Edge(S.CANCEL_PENDING, T.CANCEL_REJECTED, S.WILL_SUPPLY, _WAS_WILL_SUPPLY, _cancel_refused),
    Edge(S.CANCEL_PENDING, T.CANCEL_REJECTED, S.CONDITIONAL, _WAS_CONDITIONAL, _cancel_refused),
    Edge(S.CANCEL_PENDING, T.LENDER_SHIPPED, S.SHIPPED, None, _cancel_refused_shipped),
    Edge(S.CANCEL_PENDING, T.LENDER_ACKNOWLEDGED, S.CANCEL_PENDING, None, _acknowledged),
    Edge(S.CANCEL_PENDING, T.LENDER_WILL_SUPPLY, S.CANCEL_PENDING, None, _acknowledged),
    # a lender the rota moved past supplies after all, before anyone else did
    *(Edge(state, T.LATE_SUPPLY, S.SHIPPED, None, _adopt_late_supply) for state in _ADOPTABLE),
    *(Edge(state, T.LATE_COPY, S.COPY_RECEIVED, None, _adopt_late_supply) for state in _ADOPTABLE),
    # the item travels
    Edge(S.SHIPPED, T.RECEIVE_ITEM, S.RECEIVED, None, _receive),
    Edge(S.SHIPPED, T.CANCEL_REJECTED, S.SHIPPED, None, _acknowledged),
    Edge(S.SHIPPED, T.NOT_RECEIVED_CLAIM, S.SHIPPED, None, _claim),
    Edge(S.SHIPPED, T.REPORT_LOST, S.LOST, None, _report_lost),
    Edge(S.SHIPPED, T.LENDER_RECALLED, S.SHIPPED, None, _acknowledged),
    Edge(S.SHIPPED, T.LENDER_OVERDUE, S.SHIPPED, None, _acknowledged),
    Edge(S.COPY_RECEIVED, T.DELIVER_COPY, S.COMPLETED, None, _deliver_copy),
    Edge(S.RECEIVED, T.CHECK_OUT, S.ON_LOAN, None, _check_out),
    Edge(S.RECEIVED, T.LENDER_SHIPPED, S.RECEIVED, None, _late_shipped),
    Edge(S.RECEIVED, T.HOLD_SHELF_EXPIRED, S.RETURNED_BY_PATRON, None, _hold_shelf_expired),
    Edge(S.RECEIVED, T.CANCEL, S.RETURNED_BY_PATRON, None, _returned_by_patron),
    Edge(S.RECEIVED, T.LENDER_RECALLED, S.RETURNED_BY_PATRON, None, _acknowledged),
    Edge(S.RECEIVED, T.REPORT_DAMAGED, S.DAMAGED, None, _report_damaged),
    Edge(S.RECEIVED, T.REPORT_LOST, S.LOST, None, _report_lost),
    # the loan
    Edge(S.ON_LOAN, T.REQUEST_RENEWAL, S.ON_LOAN, _renewal_refused, _refuse_renewal),
    Edge(S.ON_LOAN, T.REQUEST_RENEWAL, S.RENEW_PENDING_REVIEW, _renewal_mediated, _hold_renewal),
    Edge(S.ON_LOAN, T.REQUEST_RENEWAL, S.RENEW_REQUESTED, None, _ask_renewal),
    # an overdue loan: renewed when the lender reported it Overdue and renews overdue loans
    Edge(S.OVERDUE, T.REQUEST_RENEWAL, S.OVERDUE, _renewal_refused, _refuse_renewal),
    Edge(S.OVERDUE, T.REQUEST_RENEWAL, S.RENEW_PENDING_REVIEW, _renewal_mediated, _hold_renewal),
    Edge(S.OVERDUE, T.REQUEST_RENEWAL, S.RENEW_REQUESTED, None, _ask_renewal),
    Edge(S.RENEW_PENDING_REVIEW, T.APPROVE_RENEWAL, S.RENEW_REQUESTED, None, _send_renewal),
    Edge(S.RENEW_PENDING_REVIEW, T.DENY_RENEWAL, S.OVERDUE, _WAS_OVERDUE, _deny_renewal),
    Edge(S.RENEW_PENDING_REVIEW, T.DENY_RENEWAL, S.ON_LOAN, None, _deny_renewal),
    Edge(S.RENEW_REQUESTED, T.RENEW_ACCEPTED, S.ON_LOAN, None, _renewed),
    Edge(S.RENEW_REQUESTED, T.RENEW_REJECTED, S.OVERDUE, _WAS_OVERDUE, _not_renewed),
    Edge(S.RENEW_REQUESTED, T.RENEW_REJECTED, S.ON_LOAN, None, _not_renewed),
    *(
        Edge(state, T.DUE_REMINDER, state, None, _remind)
        for state in (S.ON_LOAN, S.RENEW_PENDING_REVIEW, S.RENEW_REQUESTED)
    ),
    *(
        Edge(state, T.RENEW_ACCEPTED, state, None, _acknowledged)
        for state in (S.RECALLED, S.OVERDUE, S.RETURNED_BY_PATRON, S.RETURN_SHIPPED)
    ),
    *(
        Edge(state, T.RENEW_REJECTED, state, None, _acknowledged)
        for state in (S.RECALLED, S.OVERDUE, S.RETURNED_BY_PATRON, S.RETURN_SHIPPED)
    ),
    *(
        Edge(state, T.LENDER_RECALLED, S.RECALLED, None, _recalled)
        for state in (S.ON_LOAN, S.RENEW_PENDING_REVIEW, S.RENEW_REQUESTED)
    ),
    Edge(S.OVERDUE, T.LENDER_RECALLED, S.OVERDUE, None, _acknowledged),
    Edge(S.RETURNED_BY_PATRON, T.LENDER_RECALLED, S.RETURNED_BY_PATRON, None, _acknowledged),
    *(
        Edge(state, T.LENDER_OVERDUE, S.OVERDUE, None, _lender_overdue)
        for state in (S.ON_LOAN, S.RENEW_PENDING_REVIEW, S.RENEW_REQUESTED, S.RECALLED)
    ),
    Edge(S.RETURNED_BY_PATRON, T.LENDER_OVERDUE, S.RETURNED_BY_PATRON, None, _acknowledged),
    Edge(S.RETURN_SHIPPED, T.LENDER_OVERDUE, S.RETURN_SHIPPED, None, _acknowledged),
    *(
        Edge(state, T.PATRON_OVERDUE, S.OVERDUE, None, _patron_overdue)
        for state in (S.ON_LOAN, S.RENEW_PENDING_REVIEW, S.RENEW_REQUESTED, S.RECALLED)
    ),
    *(
        Edge(state, trigger, state, None, _hold_return_note)
        for state in (*_LOANED, S.RECEIVED, S.RETURNED_BY_PATRON)
        for trigger in (T.LENDER_HOLD_RETURN, T.LENDER_RELEASE_HOLD_RETURN)
    ),
    *(
        Edge(state, T.RETURN_BY_PATRON, S.RETURNED_BY_PATRON, None, _returned_by_patron)
        for state in _LOANED
    ),
    *(
        Edge(state, T.REPORT_LOST, S.LOST, None, _report_lost)
        for state in (*_LOANED, S.RETURNED_BY_PATRON)
    ),
    *(
        Edge(state, T.REPORT_DAMAGED, S.DAMAGED, None, _report_damaged)
        for state in (*_LOANED, S.RETURNED_BY_PATRON)
    ),
    *(
        Edge(state, T.LENDER_CLOSED_WITHOUT_RETURN, S.LOST, None, _closed_without_return)
        for state in (
            *_LOANED,
            S.SHIPPED,
            S.RECEIVED,
            S.RETURNED_BY_PATRON,
            S.RETURN_SHIPPED,
            S.DAMAGED,
        )
    ),
    # going back
    Edge(S.RETURNED_BY_PATRON, T.SHIP_RETURN, S.RETURN_SHIPPED, None, _ship_return),
    Edge(S.DAMAGED, T.SHIP_RETURN, S.RETURN_SHIPPED, None, _ship_return),
    Edge(S.DAMAGED, T.RETURN_BY_PATRON, S.DAMAGED, None, _returned_by_patron),
    Edge(S.RETURN_SHIPPED, T.RETURN_UNCONFIRMED, S.RETURN_SHIPPED, None, _chase_return),
    *(
        Edge(state, T.LENDER_CHECKED_IN, S.COMPLETED, None, _checked_in)
        for state in (S.RETURN_SHIPPED, S.RETURNED_BY_PATRON, S.DAMAGED)
    ),
    # notes and repeated statuses are recorded in every state, terminal ones included
    *(Edge(state, T.LENDER_NOTE, state, None, _note) for state in S),
    # staff or the sweep ask the lender where it stands, whenever a lender has the request
    Edge(S.SENT, T.ASK_STATUS, S.SENT, None, _ask_status),
    Edge(S.WILL_SUPPLY, T.ASK_STATUS, S.WILL_SUPPLY, None, _ask_status),
    Edge(S.CONDITIONAL, T.ASK_STATUS, S.CONDITIONAL, None, _ask_status),
    Edge(S.RETRY_OFFERED, T.ASK_STATUS, S.RETRY_OFFERED, None, _ask_status),
    Edge(S.CANCEL_PENDING, T.ASK_STATUS, S.CANCEL_PENDING, None, _ask_status),
    Edge(S.SHIPPED, T.ASK_STATUS, S.SHIPPED, None, _ask_status),
    Edge(S.RECEIVED, T.ASK_STATUS, S.RECEIVED, None, _ask_status),
    Edge(S.COPY_RECEIVED, T.ASK_STATUS, S.COPY_RECEIVED, None, _ask_status),
    Edge(S.ON_LOAN, T.ASK_STATUS, S.ON_LOAN, None, _ask_status),
    Edge(S.RENEW_PENDING_REVIEW, T.ASK_STATUS, S.RENEW_PENDING_REVIEW, None, _ask_status),
    Edge(S.RENEW_REQUESTED, T.ASK_STATUS, S.RENEW_REQUESTED, None, _ask_status),
    Edge(S.RECALLED, T.ASK_STATUS, S.RECALLED, None, _ask_status),
    Edge(S.OVERDUE, T.ASK_STATUS, S.OVERDUE, None, _ask_status),
    Edge(S.RETURNED_BY_PATRON, T.ASK_STATUS, S.RETURNED_BY_PATRON, None, _ask_status),
    Edge(S.RETURN_SHIPPED, T.ASK_STATUS, S.RETURN_SHIPPED, None, _ask_status),
    Edge(S.DAMAGED, T.ASK_STATUS, S.DAMAGED, None, _ask_status),
    # staff overrides: a lender's message that did not fit, applied once staff confirm it
    # (STAFF_OVERRIDES; docs/iso18626.md, "A status that does not fit")
    Edge(S.SENT, T.CONFIRM_CLOSED, S.CANCELLED, None, _closed_unsupplied),
    Edge(S.WILL_SUPPLY, T.CONFIRM_CLOSED, S.CANCELLED, None, _closed_unsupplied),
    Edge(S.CONDITIONAL, T.CONFIRM_CLOSED, S.CANCELLED, None, _closed_unsupplied),
    Edge(S.RETRY_OFFERED, T.CONFIRM_CLOSED, S.CANCELLED, None, _closed_unsupplied),
    Edge(S.CANCEL_PENDING, T.CONFIRM_CLOSED, S.CANCELLED, None, _closed_unsupplied),
    Edge(S.SHIPPED, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.RECEIVED, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.ON_LOAN, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.RENEW_PENDING_REVIEW, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.RENEW_REQUESTED, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.RECALLED, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.OVERDUE, T.CONFIRM_CLOSED, S.COMPLETED, None, _returned_elsewhere),
    Edge(S.SENT, T.CONFIRM_SUPPLY, S.SHIPPED, None, _shipped),
    Edge(S.WILL_SUPPLY, T.CONFIRM_SUPPLY, S.SHIPPED, None, _shipped),
    Edge(S.CONDITIONAL, T.CONFIRM_SUPPLY, S.SHIPPED, None, _shipped),
    Edge(S.RETRY_OFFERED, T.CONFIRM_SUPPLY, S.SHIPPED, None, _shipped),
    Edge(S.RETRY_OFFERED, T.CONFIRM_COPY, S.COPY_RECEIVED, None, _copy_delivered),
    Edge(S.RETRY_OFFERED, T.CONFIRM_WILL_SUPPLY, S.WILL_SUPPLY, None, _will_supply),
    Edge(S.SHIPPED, T.CONFIRM_UNFILLED, S.SENT, _has_next_lender, _UNFILLED["next"]),
    Edge(S.SHIPPED, T.CONFIRM_UNFILLED, S.SENT, _end_of_rota_fallback, _UNFILLED["fallback"]),
    Edge(S.SHIPPED, T.CONFIRM_UNFILLED, S.END_OF_ROTA, _end_of_rota_review, _UNFILLED["review"]),
    Edge(S.SHIPPED, T.CONFIRM_UNFILLED, S.UNFILLED, None, _UNFILLED["unfilled"]),
    Edge(S.ON_LOAN, T.CONFIRM_RENEWED, S.ON_LOAN, None, _renewed),
    Edge(S.OVERDUE, T.CONFIRM_RENEWED, S.ON_LOAN, None, _renewed),
]

COVERAGE: list[NotModelled] = [
    # ISO 18626 statuses: each is classified into a trigger (see classify)
    *(
        NotModelled(status.value, "iso18626-status", trigger.value, modelled=True)
        for status, trigger in _BY_STATUS.items()
    ),
    NotModelled("CancelResponse", "iso18626-reason", "cancel_accepted / cancel_rejected", True),
    NotModelled("RenewResponse", "iso18626-reason", "renew_accepted / renew_rejected", True),
    NotModelled("Notification", "iso18626-reason", "lender_note (or lender_conditions)", True),
    NotModelled("StatusRequestResponse", "iso18626-reason", "classified by its status", True),
    NotModelled("StatusChange", "iso18626-reason", "classified by its status", True),
    NotModelled("RequestResponse", "iso18626-reason", "classified by its status", True),
    # Alma borrowing statuses (ILL-SYSTEMS §1.2)
    *(
        NotModelled(label, "alma", state, modelled=True)
        for label, state in (
            ("Created borrowing request", "created"),
            ("Pending approval", "pending_review"),
            ("Ready to be sent", "pending_review"),
            ("Locate in process", "locating"),
            ("Locate failed", "locate_failed"),
            ("Request sent to partner", "sent"),
            ("Request accepted", "sent (lender_acknowledged)"),
            ("Will supply", "will_supply"),
            ("Conditional", "conditional"),
            ("Waiting for cancel response", "cancel_pending"),
            ("Cancel request not accepted", "cancel_pending -> previous state (cancel_rejected)"),
            ("Shipped physically", "shipped"),
            ("Shipped digitally", "copy_received"),
            ("Digitally received by library", "copy_received"),
            ("Physically received by library", "received"),
            ("Loaned item to patron", "on_loan"),
            ("Mediated patron renewal", "renew_pending_review"),
            ("Renew requested", "renew_requested"),
            ("Renewed by partner", "on_loan (renew_accepted)"),
            ("Renew request not accepted", "on_loan (renew_rejected)"),
            ("Automatic renew", "lending policy decides; on_loan (renew_accepted)"),
            ("Manual renew", "lending renew_requested, then on_loan"),
            ("Recalled by partner", "recalled"),
            ("Overdue request", "overdue"),
            ("Returned by patron", "returned_by_patron"),
            ("Returned item to partner", "return_shipped"),
            ("Lender check in", "completed (lender_checked_in)"),
            ("Request completed", "completed"),
            ("Canceled by patron", "cancelled"),
            ("Canceled by staff", "cancelled"),
            ("Canceled by partner", "sent to next lender, or end_of_rota/unfilled"),
            ("Rejected by partner", "sent to next lender, or end_of_rota/unfilled"),
            ("Expired", "sent to next lender (lender_answer_expired)"),
            ("Damaged communicated", "damaged"),
            ("Report damaged item to partner", "damaged"),
            ("Lost communicated", "lost"),
            ("Report lost item to partner", "lost"),
            ("Declared lost by partner", "lost (lender_closed_without_return)"),
            ("Claimed", "shipped (not_received_claim)"),
            ("Delivered", "completed (deliver_copy)"),
        )
    ),
    # the borrowing steps of the seed workflow (DESIGN §1)
    *(
        NotModelled(step, "seed", how, modelled=True)
        for step, how in (
            ("a patron or staff member places a request", "created, submit"),
            ("sent automatically or after staff mediation", "submit -> locating | pending_review"),
            ("through a rota of lenders", "assign_rota -> sent; the advance edges"),
            ("received: temporary item or network-unique barcode", "receive_item -> received"),
            ("on the hold shelf, the patron notified", "received (PlaceOnHoldShelf, notice)"),
            ("due-date reminders", "due_reminder timer"),
            ("renewals through the lender", "request_renewal -> renew_requested"),
            ("recalls from the lender", "lender_recalled -> recalled"),
            ("returned at any desk, told it goes back", "return_by_patron -> returned_by_patron"),
            ("shipped back", "ship_return -> return_shipped"),
        )
    ),
    *(
        NotModelled(label, "alma", why)
        for label, why in (
            ("Exported to third party", "not modelled: hand-off to other systems is an adapter"),
            ("Externally obtained", "not modelled: cancel the request with a reason"),
            ("Received – not for loan", "not modelled: a circulation policy of the host system"),
            ("Bad citation", "not modelled: lender answers RetryPossible NotFoundAsCited"),
            ("Deleted", "not modelled: deletion is a storage operation, history is kept"),
            ("Local holding", "not modelled: the rota drops our own institution"),
            ("Lost and fee paid", "not modelled: fees belong to the host system"),
            ("Reactivated", "not modelled: a completed request stays completed"),
            ("Waiting for receive digitally", "not modelled: copy_received covers it"),
        )
    ),
]


def _render(request: BorrowingRequest, template: str) -> str:
    lender = request.attempts[-1].lender if request.attempts else None
    return template.format(
        patron=request.patron.name or request.patron.id,
        lender=str(lender) if lender else "the lender",
        conditions=", ".join(request.conditions) or "none given",
        pickup=request.pickup_location or "the pick-up desk",
        barcode=request.item_barcode or "",
        tried=_tried_summary(request),
    )


def _tried_summary(request: BorrowingRequest) -> str:
    """How each attempt of the current rota ended, with its reason: why it is over."""
    parts = []
    for attempt in request.attempts[request.rota_start :]:
        outcome = attempt.outcome.value.replace("_", " ") if attempt.outcome else "open"
        reason = f": {attempt.reason}" if attempt.reason else ""
        parts.append(f"{attempt.lender} {outcome}{reason}")
    return "; ".join(parts) or "none asked"


BORROWING: Lifecycle[BorrowingRequest, BorrowingEvent, BorrowingContext] = Lifecycle(
    "borrowing",
    states=STATES,
    initial=S.CREATED,
    edges=EDGES,
    triggers=BorrowingTrigger,
    render=_render,
    coverage=COVERAGE,
    timer_triggers=_BY_TIMER,
)
"""The borrowing lifecycle table, built once at import."""


def handle_borrowing(
    request: BorrowingRequest, event: BorrowingEvent, context: BorrowingContext
) -> Outcome[BorrowingRequest]:
    """Apply one event to a borrowing request: the new request and its effects.

    Raises :class:`IllegalTransition` when the event cannot apply in the request's state,
    :class:`WrongCounterpart` when a supplier message comes from an agency that is not
    the lender of that attempt, and :class:`PeerError` for a message about an unknown
    attempt. A message about an attempt the rota has moved past is answered but not
    applied (``applied=False``). In every error case the request is unchanged.
    """
    if isinstance(event, SupplierMessageReceived):
        header = event.message.header
        attempt = request.attempt_for(header.requesting_agency_request_id)
        if attempt is None:
            raise PeerError(
                ErrorType.UNRECOGNISED_DATA_VALUE,
                "requestingAgencyRequestId: unknown request "
                f"{header.requesting_agency_request_id!r}",
            )
        if header.supplying_agency != attempt.lender:
            raise WrongCounterpart(
                header.requesting_agency_request_id,
                str(header.supplying_agency),
                str(attempt.lender),
            )
        if attempt is not request.attempts[-1] or (
            attempt.outcome is not None and request.state not in (S.COMPLETED, S.LOST)
        ):
            status = event.message.status
            late = None
            if status and attempt.outcome in _FOLLOWED:
                late = _LATE.get(status) if request.state in _ADOPTABLE else None
            if late is None:
                return _superseded(request, event, attempt)
            # The item is on its way from a lender whose answer came after our deadline
            # (it never said no): the request follows the item rather than lose it.
            return BORROWING.step(request, late, event, context)
        trigger = classify(event.message, attempt.last_status)
        status, info = event.message.status, BORROWING.info(request.state)
        if info.terminal and status is not None and status.value == info.iso_status:
            trigger = T.LENDER_NOTE  # the lender confirms the end we already reached
    elif isinstance(event, DeliveryRefused):
        refused = request.attempt_for(event.request_id)
        if refused is None or refused is not request.current_attempt:
            # the rota moved past that attempt already: nothing to end
            return Outcome(request, (), "superseded_attempt", applied=False)
        trigger = T.DELIVERY_REFUSED
    elif isinstance(event, TimerFired):
        request, trigger = BORROWING.take_timer(request, event.kind, _BY_TIMER)
    elif isinstance(event, ApplyLenderMessage):
        trigger = staff_override(request, event.message)
    else:
        trigger = _BY_COMMAND[type(event)]
    return BORROWING.step(request, trigger, event, context)


def _superseded(
    request: BorrowingRequest, event: SupplierMessageReceived, attempt: Attempt
) -> Outcome[BorrowingRequest]:
    status = event.message.status
    effects: tuple[Effect, ...] = ()
    if status in (Status.LOANED, Status.COPY_COMPLETED, Status.WILL_SUPPLY):
        text = (
            f"{attempt.lender} reported {status.value} on attempt {attempt.number}, "
            "which the rota has moved past: contact the lender"
        )
        effects = (NotifyStaff(request.id, text),)
    return Outcome(request, effects, "superseded_attempt", applied=False)
