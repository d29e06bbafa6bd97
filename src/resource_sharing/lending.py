"""The lending lifecycle: a request at the institution that owns the item.

Theory of operation
-------------------
A request arrives as an ISO 18626 request (:func:`new_lending_request`) and lands on the
lending monitoring list. Locating it in our holdings (automatically or by staff) puts it
on the pick-from-shelf list of the desk holding the item, prints a pick slip and tells
the borrower we will supply; staff pick the item, move it to the resource-sharing
library when it lives elsewhere, and ship it (Loaned with the due date, or CopyCompleted
for a copy). The borrower's requesting agency messages then drive the loan: Received,
Renew (decided by the renewal policy automatically, or left to staff), ShippedReturn,
Cancel (answered automatically before shipping when so configured, otherwise by staff;
always no once shipped), Lost. A local patron's hold recalls the item automatically when
configured, otherwise it is a staff task. Checking the returned item in completes the
request, sends LoanCompleted and tells the operator where the item goes next.

We may also refuse (Unfilled), offer a retry (RetryPossible) or set conditions the
borrower must accept. A request nobody answers in time expires, and the borrower is told.
StatusRequest and notifications are answered in every state, terminal ones included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, final

import attrs

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    Effect,
    NotifyStaff,
    PrintPickSlip,
    PrintShippingLabel,
    RouteItem,
    SendMessage,
    TaskList,
)
from resource_sharing.errors import PeerError, WrongCounterpart
from resource_sharing.events import (
    AnswerCancel,
    AnswerRenewal,
    ArriveAtRsLibrary,
    CheckInReturn,
    LendingEvent,
    LocalHoldPlaced,
    LocateFailed,
    MarkLost,
    OfferConditions,
    OfferRetry,
    PickItem,
    RecallItem,
    RejectRequest,
    RequesterMessageReceived,
    ShipItem,
    SupplyItem,
    TimerFired,
    WillSupply,
)
from resource_sharing.iso18626 import (
    Action,
    ErrorType,
    ReasonForMessage,
    ReasonUnfilled,
    RequestType,
    ServiceType,
    Status,
)
from resource_sharing.lifecycle import Edge, Lifecycle, NotModelled, Outcome, StateInfo
from resource_sharing.messages import (
    DeliveryInfo,
    Header,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.policies import (
    LenderRecallDecision,
    LenderRenewalDecision,
    RecallAction,
    RecallRules,
    RenewalReason,
    RenewalVerdict,
    TimerPolicy,
    decide_renewal,
    lender_due_date,
    lender_overdue,
    recall_for_local_hold,
    staff_refuse_renewal,
    staff_renewal,
    supply_expiry,
    with_deadlines,
)
from resource_sharing.records import AgencyId, LendingRequest, TimerKind
from resource_sharing.states import LendingState as S

__all__ = [
    "LENDING",
    "LendingContext",
    "LendingPolicy",
    "LendingTrigger",
    "handle_lending",
    "new_lending_request",
]


class LendingTrigger(StrEnum):
    """The edge labels of the lending table."""

    SUPPLY_ITEM = "supply_item"
    """The item was located: fetch it."""
    LOCATE_FAILED = "locate_failed"
    """Not in our holdings."""
    WILL_SUPPLY = "will_supply"
    """Staff announce we will supply."""
    REJECT = "reject"
    """Staff refuse (Unfilled)."""
    OFFER_RETRY = "offer_retry"
    """Staff refuse but offer a retry (RetryPossible)."""
    OFFER_CONDITIONS = "offer_conditions"
    """Staff set loan conditions."""
    PICK_ITEM = "pick_item"
    """The item was picked from the shelf."""
    ARRIVE_AT_RS_LIBRARY = "arrive_at_rs_library"
    """The picked item reached the resource-sharing library."""
    SHIP = "ship"
    """Staff shipped the item or sent the copy."""
    ANSWER_RENEWAL = "answer_renewal"
    """Staff decide a renewal."""
    ANSWER_CANCEL = "answer_cancel"
    """Staff answer a cancel request."""
    LOCAL_HOLD = "local_hold"
    """A local patron placed a hold on the lent item."""
    RECALL = "recall"
    """Staff recall the item."""
    CHECK_IN = "check_in"
    """The returned item was checked in."""
    MARK_LOST = "mark_lost"
    """Staff declare the item lost."""
    BORROWER_STATUS_REQUEST = "borrower_status_request"
    """Action StatusRequest."""
    BORROWER_RECEIVED = "borrower_received"
    """Action Received."""
    BORROWER_CANCEL = "borrower_cancel"
    """Action Cancel."""
    BORROWER_RENEW = "borrower_renew"
    """Action Renew."""
    BORROWER_SHIPPED_RETURN = "borrower_shipped_return"
    """Action ShippedReturn (or ShippedForward)."""
    BORROWER_ACCEPTS_CONDITIONS = "borrower_accepts_conditions"
    """A Notification accepting our conditions."""
    BORROWER_HOLD_RETURN = "borrower_hold_return"
    """Action HoldReturn (2021): the borrower cannot return it for now."""
    BORROWER_LOST = "borrower_lost"
    """Action Lost (2021)."""
    BORROWER_NOTE = "borrower_note"
    """Action Notification: recorded, no transition."""
    SUPPLY_EXPIRED = "supply_expired"
    """Timer: we did not answer in time."""
    LOAN_OVERDUE = "loan_overdue"
    """Timer: the loan's due date passed."""


T = LendingTrigger

CONDITIONS_ACCEPTED_MARKERS = ("ACCEPT", "#ReShareLoanConditionAgreeResponse#")
"""Notes that accept a lender's conditions (ours, crosslink/Alma, ReShare)."""


@final
@attrs.frozen
class LendingPolicy:
    """The lending institution's rules."""

    terms: PartnerTerms = attrs.field(factory=PartnerTerms)
    """The terms we lend on, unless ``terms_by_borrower`` names the borrower."""
    terms_by_borrower: dict[AgencyId, PartnerTerms] = attrs.field(factory=dict)
    """Terms agreed with particular borrowers."""
    rs_library: str | None = None
    """The desk of the resource-sharing library: items held elsewhere travel there first."""
    auto_cancel: bool = True
    """Answer a cancel before shipping automatically (else a staff task)."""
    auto_reject_not_held: bool = False
    """Answer Unfilled (NotHeld) at once when locate fails (else a staff task)."""
    recall: RecallRules = attrs.field(factory=RecallRules)
    """What a local patron's hold on a lent item does: recall it, or a staff task."""
    timers: TimerPolicy = attrs.field(factory=TimerPolicy)
    """How long our timers run (``supply_expiry_days`` for new requests)."""

    def terms_for(self, borrower: AgencyId) -> PartnerTerms:
        """The terms that apply to this borrower."""
        return self.terms_by_borrower.get(borrower, self.terms)


@final
@attrs.frozen
class LendingContext:
    """Everything a lending decision needs besides the request and the event."""

    now: datetime
    """The current time (UTC)."""
    policy: LendingPolicy = attrs.field(factory=LendingPolicy)
    """Our rules."""
    calendar: Calendar = attrs.field(factory=Calendar)
    """Our calendar (due dates, expiry)."""


Changes = tuple[dict[str, Any], tuple[Effect, ...]]

_BY_ACTION: dict[Action, LendingTrigger] = {
    Action.STATUS_REQUEST: T.BORROWER_STATUS_REQUEST,
    Action.RECEIVED: T.BORROWER_RECEIVED,
    Action.CANCEL: T.BORROWER_CANCEL,
    Action.RENEW: T.BORROWER_RENEW,
    Action.SHIPPED_RETURN: T.BORROWER_SHIPPED_RETURN,
    Action.SHIPPED_FORWARD: T.BORROWER_SHIPPED_RETURN,
    Action.NOTIFICATION: T.BORROWER_NOTE,
    Action.HOLD_RETURN: T.BORROWER_HOLD_RETURN,
    Action.LOST: T.BORROWER_LOST,
}

_BY_COMMAND: dict[type, LendingTrigger] = {
    SupplyItem: T.SUPPLY_ITEM,
    LocateFailed: T.LOCATE_FAILED,
    WillSupply: T.WILL_SUPPLY,
    RejectRequest: T.REJECT,
    OfferRetry: T.OFFER_RETRY,
    OfferConditions: T.OFFER_CONDITIONS,
    PickItem: T.PICK_ITEM,
    ArriveAtRsLibrary: T.ARRIVE_AT_RS_LIBRARY,
    ShipItem: T.SHIP,
    AnswerRenewal: T.ANSWER_RENEWAL,
    AnswerCancel: T.ANSWER_CANCEL,
    LocalHoldPlaced: T.LOCAL_HOLD,
    RecallItem: T.RECALL,
    CheckInReturn: T.CHECK_IN,
    MarkLost: T.MARK_LOST,
}

_BY_TIMER: dict[TimerKind, LendingTrigger] = {
    TimerKind.SUPPLY_EXPIRY: T.SUPPLY_EXPIRED,
    TimerKind.LENDER_OVERDUE: T.LOAN_OVERDUE,
}


def _message_trigger(request: LendingRequest, message: RequestingAgencyMessage) -> LendingTrigger:
    """The trigger a requesting agency's message fires on this request."""
    if (
        message.action is Action.NOTIFICATION
        and request.state is S.CONDITIONAL
        and message.note is not None
        and message.note.lstrip().startswith(CONDITIONS_ACCEPTED_MARKERS)
    ):
        return T.BORROWER_ACCEPTS_CONDITIONS
    if (
        message.action is Action.NOTIFICATION
        and request.state in _LENT
        and message.note is not None
        and _says_lost(message.note)
    ):
        return T.BORROWER_LOST  # a v1.2 peer's way of sending the 2021 Lost action
    return _BY_ACTION[message.action]


def _says_lost(note: str) -> bool:
    head = note.lstrip().split(":", 1)[0].strip().casefold()
    return head == "lost"


def new_lending_request(
    message: Request,
    *,
    id: str,
    agency: AgencyId,
    now: datetime,
    calendar: Calendar | None = None,
    timers: TimerPolicy | None = None,
) -> LendingRequest:
    """A new lending request from an incoming ISO 18626 request addressed to ``agency``.

    Its supply expiry is ``timers.supply_expiry_days`` business days in our ``calendar``
    (defaults: :class:`~resource_sharing.policies.TimerPolicy`, an always-open calendar).
    Raises :class:`PeerError` when the request is addressed to someone else.
    """
    header = message.header
    if header.supplying_agency != agency:
        raise PeerError(
            ErrorType.UNRECOGNISED_DATA_VALUE,
            f"supplyingAgencyId: {header.supplying_agency} is not this institution",
        )
    service = message.service
    expiry = supply_expiry(
        now, timers=timers or TimerPolicy(), lender_calendar=calendar or Calendar()
    )
    return LendingRequest(
        id=id,
        agency=agency,
        requester=header.requesting_agency,
        requester_request_id=header.requesting_agency_request_id,
        citation=message.citation,
        created_at=now,
        service_type=service.service_type,
        request_type=service.request_type or RequestType.NEW,
        previous_request_id=service.previous_request_id,
        patron_id=message.patron.patron_id if message.patron else None,
        need_before=service.need_before.date() if service.need_before else None,
        max_cost=message.billing.maximum_costs if message.billing else None,
        note=service.note,
        deadlines=with_deadlines((), expiry),
    )


# -- messages --------------------------------------------------------------------------


def _tell_borrower(
    request: LendingRequest,
    ctx: LendingContext,
    reason: ReasonForMessage,
    status: Status | None,
    **fields: Any,
) -> SendMessage:
    header = Header(
        requesting_agency=request.requester,
        supplying_agency=request.agency,
        requesting_agency_request_id=request.requester_request_id,
        timestamp=ctx.now,
        supplying_agency_request_id=request.id,
    )
    message = SupplyingAgencyMessage(header, reason, status, last_change=ctx.now, **fields)
    return SendMessage(request.requester, message)


def _first_answer(request: LendingRequest) -> ReasonForMessage:
    """RequestResponse for the first answer to a request, StatusChange afterwards."""
    if request.state in (S.NEW, S.LOCATE_FAILED):
        return ReasonForMessage.REQUEST_RESPONSE
    return ReasonForMessage.STATUS_CHANGE


def _status(request: LendingRequest) -> Status:
    """The ISO status a StatusRequest is answered with, in every state.

    The table gives each state one; a cancel we have not answered yet reports the state
    it interrupted (nothing has changed for the borrower until we answer), and a state
    with none of its own reports RequestReceived: we have the request and not yet
    decided.
    """
    state = request.state
    if state is S.CANCEL_REQUESTED and request.resume_state is not None:
        state = request.resume_state
    iso = LENDING.info(state).iso_status
    return Status(iso) if iso is not None else Status.REQUEST_RECEIVED


# -- time ------------------------------------------------------------------------------


def _due_date(request: LendingRequest, ctx: LendingContext) -> datetime:
    terms = ctx.policy.terms_for(request.requester)
    return lender_due_date(ctx.now, terms=terms, calendar=ctx.calendar)


def _renewal(request: LendingRequest, ctx: LendingContext) -> LenderRenewalDecision:
    """The renewal policy's decision on the borrower's Renew (our terms for it)."""
    return decide_renewal(
        request,
        terms=ctx.policy.terms_for(request.requester),
        calendar=ctx.calendar,
        now=ctx.now,
        local_hold=request.local_hold,
    )


def _staff_renewal(
    request: LendingRequest, event: AnswerRenewal, ctx: LendingContext
) -> LenderRenewalDecision:
    """Staff's answer, checked against the limits (no date: the policy's proposal)."""
    if not event.approve:
        return staff_refuse_renewal()
    terms = ctx.policy.terms_for(request.requester)
    due = event.due
    if due is None:
        # Staff have seen any local hold: propose as if there were none.
        proposal = decide_renewal(
            request, terms=terms, calendar=ctx.calendar, now=ctx.now, local_hold=False
        )
        if proposal.due is None:
            return proposal
        due = proposal.due
    day = ctx.calendar.local_date(due)
    return staff_renewal(request, due=day, terms=terms, calendar=ctx.calendar, now=ctx.now)


def _renewal_note(decision: LenderRenewalDecision, note: str | None = None) -> str | None:
    """The RenewResponse note of a no: the stable reason value, then the words."""
    if decision.reason is None or decision.verdict is not RenewalVerdict.REFUSED:
        return note
    text = f"{decision.reason.value}: {decision.explain()}"
    return f"{text} ({note})" if note else text


def _recall_decision(request: LendingRequest, ctx: LendingContext) -> LenderRecallDecision:
    return recall_for_local_hold(
        request, policy=ctx.policy.recall, calendar=ctx.calendar, now=ctx.now
    )


# -- guards ----------------------------------------------------------------------------


def _auto_reject(request: LendingRequest, event: LocateFailed, ctx: LendingContext) -> bool:
    return ctx.policy.auto_reject_not_held and not event.catalogue_failed


def _item_located(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    return request.item is not None


def _needs_transit(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    rs_library = ctx.policy.rs_library
    item = request.item
    return rs_library is not None and item is not None and item.desk not in (None, rs_library)


def _is_copy(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    return request.service_type is ServiceType.COPY


def _renewal_is_manual(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    return _renewal(request, ctx).verdict is RenewalVerdict.STAFF_DECIDES


def _renewal_approved(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    return _renewal(request, ctx).verdict is RenewalVerdict.APPROVED


def _staff_approves(request: LendingRequest, event: AnswerRenewal, ctx: LendingContext) -> bool:
    return _staff_renewal(request, event, ctx).verdict is RenewalVerdict.APPROVED


def _auto_cancel(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    return ctx.policy.auto_cancel


def _auto_recall(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
    return _recall_decision(request, ctx).action is RecallAction.RECALL


def _accepts(request: LendingRequest, event: AnswerCancel, ctx: LendingContext) -> bool:
    return event.accept


def _resumes(state: S) -> Callable[[LendingRequest, object, LendingContext], bool]:
    def guard(request: LendingRequest, event: object, ctx: LendingContext) -> bool:
        return request.resume_state is state

    guard.__name__ = f"was_{state.value}"
    return guard


# -- actions ---------------------------------------------------------------------------


def _supply(request: LendingRequest, event: SupplyItem, ctx: LendingContext) -> Changes:
    effects: list[Effect] = []
    if request.state in (S.NEW, S.LOCATE_FAILED):
        effects.append(_tell_borrower(request, ctx, _first_answer(request), Status.WILL_SUPPLY))
    effects.append(
        PrintPickSlip(
            request.id, event.item, request.citation, request.requester, request.need_before
        )
    )
    return {"item": event.item, "deadlines": ()}, tuple(effects)


def _pick_slip(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    assert request.item is not None  # guarded by item_located
    slip = PrintPickSlip(
        request.id, request.item, request.citation, request.requester, request.need_before
    )
    return {}, (slip,)


def _will_supply(request: LendingRequest, event: WillSupply, ctx: LendingContext) -> Changes:
    message = _tell_borrower(
        request, ctx, _first_answer(request), Status.WILL_SUPPLY, note=event.note
    )
    return {"deadlines": ()}, (message,)


def _locate_failed(request: LendingRequest, event: LocateFailed, ctx: LendingContext) -> Changes:
    return {}, ()


def _not_held(request: LendingRequest, event: LocateFailed, ctx: LendingContext) -> Changes:
    message = _tell_borrower(
        request,
        ctx,
        _first_answer(request),
        Status.UNFILLED,
        reason_unfilled=ReasonUnfilled.NOT_HELD.value,
        note=event.reason,
    )
    return {"deadlines": ()}, (message,)


def _reject(request: LendingRequest, event: RejectRequest, ctx: LendingContext) -> Changes:
    message = _tell_borrower(
        request,
        ctx,
        _first_answer(request),
        Status.UNFILLED,
        reason_unfilled=event.reason,
        note=event.note,
    )
    return {"deadlines": ()}, (message,)


def _offer_retry(request: LendingRequest, event: OfferRetry, ctx: LendingContext) -> Changes:
    message = _tell_borrower(
        request,
        ctx,
        _first_answer(request),
        Status.RETRY_POSSIBLE,
        reason_retry=event.reason,
        retry_after=event.retry_after,
        offered_costs=event.offered_costs,
        note=event.note,
    )
    return {"deadlines": ()}, (message,)


def _offer_conditions(
    request: LendingRequest, event: OfferConditions, ctx: LendingContext
) -> Changes:
    message = _tell_borrower(
        request,
        ctx,
        _first_answer(request),
        Status.WILL_SUPPLY,
        note=event.note,
        offered_costs=event.offered_costs,
        delivery=DeliveryInfo(date_sent=ctx.now, loan_condition=event.condition),
    )
    return {"conditions": (*request.conditions, event.condition)}, (message,)


def _ship(request: LendingRequest, event: ShipItem, ctx: LendingContext) -> Changes:
    assert request.item is not None  # only located requests reach ready_to_ship
    due = _due_date(request, ctx)
    delivery = DeliveryInfo(
        date_sent=ctx.now,
        item_id=request.item.barcode,
        loan_condition=request.conditions[0] if request.conditions else None,
    )
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.STATUS_CHANGE,
        Status.LOANED,
        due_date=due,
        delivery=delivery,
        note=event.note,
    )
    return (
        {
            "lender_due": due,
            "shipped_at": ctx.now,
            "deadlines": (lender_overdue(due),),
        },
        (
            CheckOutToPartner(request.id, request.item.barcode, request.requester, due),
            PrintShippingLabel(
                request.id,
                request.item.barcode,
                request.citation,
                request.requester,
                request.requester_request_id,
            ),
            message,
        ),
    )


def _send_copy(request: LendingRequest, event: ShipItem, ctx: LendingContext) -> Changes:
    barcode = request.item.barcode if request.item else None
    delivery = DeliveryInfo(date_sent=ctx.now, item_id=barcode)
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.STATUS_CHANGE,
        Status.COPY_COMPLETED,
        delivery=delivery,
        note=event.note,
    )
    return {"shipped_at": ctx.now}, (message,)


def _renew_yes(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    if isinstance(event, AnswerRenewal):
        decision, note = _staff_renewal(request, event, ctx), event.note
    else:
        decision, note = _renewal(request, ctx), None
    due = decision.due
    assert due is not None  # guarded: approved
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.RENEW_RESPONSE,
        Status.LOANED,
        answer=True,
        due_date=due,
        note=note,
    )
    return (
        {
            "lender_due": due,
            "renewal_count": request.renewal_count + 1,
            "resume_state": None,
            "deadlines": (lender_overdue(due),),
        },
        (message,),
    )


def _renew_no(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    if isinstance(event, AnswerRenewal):
        reason = _renewal_note(_staff_renewal(request, event, ctx), event.note)
    else:
        reason = _renewal_note(_renewal(request, ctx))
    status = Status.RECALLED if request.state is S.RECALLED else Status.LOANED
    if request.resume_state is S.OVERDUE or request.state is S.OVERDUE:
        status = Status.OVERDUE
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.RENEW_RESPONSE,
        status,
        answer=False,
        due_date=request.lender_due,
        note=reason,
    )
    return {"resume_state": None}, (message,)


def _hold_for_renewal_decision(
    request: LendingRequest, event: object, ctx: LendingContext
) -> Changes:
    return {"resume_state": request.state}, ()


def _cancel_yes(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    note = event.note if isinstance(event, AnswerCancel) else None
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.CANCEL_RESPONSE,
        Status.CANCELLED,
        answer=True,
        note=note,
    )
    return {"resume_state": None, "deadlines": ()}, (message,)


def _cancel_no(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    note = event.note if isinstance(event, AnswerCancel) else None
    if note is None and request.shipped_at is not None:
        note = "The item has already been shipped"
    resume = request.resume_state or request.state
    iso = LENDING.info(resume).iso_status
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.CANCEL_RESPONSE,
        Status(iso) if iso else None,
        answer=False,
        note=note,
    )
    return {"resume_state": None}, (message,)


def _hold_for_cancel_decision(
    request: LendingRequest, event: object, ctx: LendingContext
) -> Changes:
    return {"resume_state": request.state}, ()


def _recall(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    # A local hold recalls when the policy says RECALL; staff recall (RecallItem) whatever
    # it says: with its recall date, or the current due date when that is sooner.
    due = _recall_decision(request, ctx).recall_due or request.lender_due
    assert due is not None  # only loans are recalled
    effects: list[Effect] = []
    if request.state is S.RENEW_REQUESTED:
        effects.append(
            _tell_borrower(
                request,
                ctx,
                ReasonForMessage.RENEW_RESPONSE,
                Status.RECALLED,
                answer=False,
                due_date=due,
                note=_renewal_note(
                    LenderRenewalDecision(RenewalVerdict.REFUSED, None, RenewalReason.LOCAL_HOLD)
                ),
            )
        )
    note = getattr(event, "note", None) or "A local patron needs the item: please return it"
    effects.append(
        _tell_borrower(
            request, ctx, ReasonForMessage.STATUS_CHANGE, Status.RECALLED, due_date=due, note=note
        )
    )
    return (
        {
            "lender_due": due,
            "local_hold": True,
            "resume_state": None,
            "deadlines": (lender_overdue(due),),
        },
        tuple(effects),
    )


def _recall_task(request: LendingRequest, event: LocalHoldPlaced, ctx: LendingContext) -> Changes:
    decision = _recall_decision(request, ctx)
    if decision.action is RecallAction.STAFF_TASK and decision.recall_due is not None:
        day = decision.recall_due.date().isoformat()
        text = (
            "A local patron placed a hold on this lent item: recall it from the borrower? "
            f"(recall due date {day})"
        )
    else:
        skip = decision.skip.value if decision.skip is not None else "none"
        text = f"A local patron placed a hold on this lent item; no recall ({skip})"
    return {"local_hold": True}, (NotifyStaff(request.id, text),)


def _overdue(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    message = _tell_borrower(
        request, ctx, ReasonForMessage.STATUS_CHANGE, Status.OVERDUE, due_date=request.lender_due
    )
    return {}, (message,)


def _check_in(request: LendingRequest, event: CheckInReturn, ctx: LendingContext) -> Changes:
    item = request.item
    effects: list[Effect] = []
    if item is not None:
        effects.append(CheckIn(request.id, item.barcode))
        if item.home_library and item.home_library != ctx.policy.rs_library:
            where = item.home_library
            text = f"Send to home location {item.home_library}"
        else:
            where = item.location or "its shelf"
            text = f"Reshelve at {where}"
        if request.local_hold:
            where, text = "hold shelf", "Place on the hold shelf for the local patron's hold"
        effects.append(RouteItem(request.id, item.barcode, where, text))
    effects.append(
        _tell_borrower(request, ctx, ReasonForMessage.STATUS_CHANGE, Status.LOAN_COMPLETED)
    )
    return {"deadlines": ()}, tuple(effects)


def _lost(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    note = getattr(event, "note", None)
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.STATUS_CHANGE,
        Status.COMPLETED_WITHOUT_RETURN,
        note=note,
    )
    return {"deadlines": ()}, (message,)


def _borrower_lost(
    request: LendingRequest, event: RequesterMessageReceived, ctx: LendingContext
) -> Changes:
    changes, effects = _lost(request, event, ctx)
    text = f"The borrower reports the item lost: {event.message.note or 'no details'}"
    return changes, (*effects, NotifyStaff(request.id, text))


def _expired(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    message = _tell_borrower(
        request,
        ctx,
        _first_answer(request),
        Status.UNFILLED,
        note="Not answered in time: the request expired",
    )
    return {}, (message,)


def _status_report(
    request: LendingRequest, event: RequesterMessageReceived, ctx: LendingContext
) -> Changes:
    message = _tell_borrower(
        request,
        ctx,
        ReasonForMessage.STATUS_REQUEST_RESPONSE,
        _status(request),
        due_date=request.lender_due,
    )
    return {}, (message,)


def _note(request: LendingRequest, event: RequesterMessageReceived, ctx: LendingContext) -> Changes:
    note = event.message.note
    if not note:
        return {}, ()
    return {}, (NotifyStaff(request.id, f"Note from the borrower: {note}"),)


def _received(request: LendingRequest, event: object, ctx: LendingContext) -> Changes:
    return {}, ()


def _returned(
    request: LendingRequest, event: RequesterMessageReceived, ctx: LendingContext
) -> Changes:
    if event.message.action is Action.SHIPPED_FORWARD:
        text = "The borrower forwarded the item to another library (see its returnInfo)"
        return {"resume_state": None}, (NotifyStaff(request.id, text),)
    return {"resume_state": None}, ()


# -- the table -------------------------------------------------------------------------

_L = TaskList
_BEFORE_SHIPPING = (
    S.NEW,
    S.LOCATE_FAILED,
    S.WILL_SUPPLY,
    S.CONDITIONAL,
    S.PICK_FROM_SHELF,
    S.IN_TRANSIT_TO_RS_LIBRARY,
    S.READY_TO_SHIP,
)
_ON_LOAN = (S.SHIPPED, S.RECEIVED_BY_PARTNER, S.RENEW_REQUESTED, S.RECALLED, S.OVERDUE)
_LENT = frozenset({*_ON_LOAN, S.RETURNED_BY_PARTNER})
_OVERDUE_TIMER = frozenset({TimerKind.LENDER_OVERDUE})

STATES: dict[S, StateInfo] = {
    S.NEW: StateInfo(
        "Created lending request",
        iso_status=Status.REQUEST_RECEIVED,
        needs_attention=True,
        task_list=_L.LENDING_REQUESTS,
        instruction="New request from {requester}: locate the item, or answer",
        timers=frozenset({TimerKind.SUPPLY_EXPIRY}),
    ),
    S.LOCATE_FAILED: StateInfo(
        "Locate failed",
        iso_status=Status.REQUEST_RECEIVED,
        needs_attention=True,
        task_list=_L.LENDING_REQUESTS,
        instruction="Not found in our holdings: locate it by hand or reject it",
        timers=frozenset({TimerKind.SUPPLY_EXPIRY}),
    ),
    S.CONDITIONAL: StateInfo(
        "Conditional",
        task_list=_L.LENDING_REQUESTS,
        instruction="Waiting for {requester} to accept the conditions ({conditions})",
        iso_status=Status.WILL_SUPPLY,
        timers=frozenset({TimerKind.SUPPLY_EXPIRY}),
    ),
    S.WILL_SUPPLY: StateInfo(
        "Will supply",
        needs_attention=True,
        task_list=_L.LENDING_REQUESTS,
        instruction="We will supply {requester}: locate the item",
        iso_status=Status.WILL_SUPPLY,
    ),
    S.PICK_FROM_SHELF: StateInfo(
        "Being processed",
        task_list=_L.PICK_FROM_SHELF,
        instruction="Pick {barcode} ({call_number}) from {location}",
        iso_status=Status.WILL_SUPPLY,
    ),
    S.IN_TRANSIT_TO_RS_LIBRARY: StateInfo(
        "In transit to the resource sharing library",
        task_list=_L.SHIPPING,
        instruction="In transit to {rs_library}: scan it there on arrival",
        iso_status=Status.WILL_SUPPLY,
    ),
    S.READY_TO_SHIP: StateInfo(
        "Ready to ship",
        task_list=_L.SHIPPING,
        instruction="Ship {barcode} to {requester}",
        iso_status=Status.WILL_SUPPLY,
    ),
    S.SHIPPED: StateInfo("Shipped physically", iso_status=Status.LOANED, timers=_OVERDUE_TIMER),
    S.RECEIVED_BY_PARTNER: StateInfo(
        "Received by partner", iso_status=Status.LOANED, timers=_OVERDUE_TIMER
    ),
    S.RENEW_REQUESTED: StateInfo(
        "Renew requested",
        needs_attention=True,
        task_list=_L.LENDING_REQUESTS,
        instruction="{requester} asks to renew: approve with a due date or refuse",
        iso_status=Status.LOANED,
        timers=_OVERDUE_TIMER,
    ),
    S.RECALLED: StateInfo("Recalled", iso_status=Status.RECALLED, timers=_OVERDUE_TIMER),
    S.OVERDUE: StateInfo("Overdue request", iso_status=Status.OVERDUE),
    S.RETURNED_BY_PARTNER: StateInfo(
        "Returned by partner",
        task_list=_L.CHECK_IN,
        instruction="Check in {barcode} returned by {requester}",
        iso_status=Status.LOANED,
    ),
    S.CANCEL_REQUESTED: StateInfo(
        "Cancel requested",
        needs_attention=True,
        task_list=_L.LENDING_REQUESTS,
        instruction="{requester} asks to cancel: accept or refuse",
    ),
    S.COMPLETED: StateInfo("Request completed", terminal=True, iso_status=Status.LOAN_COMPLETED),
    S.CANCELLED: StateInfo("Cancelled", terminal=True, iso_status=Status.CANCELLED),
    S.UNFILLED: StateInfo(
        "Rejected the borrower request", terminal=True, iso_status=Status.UNFILLED
    ),
    S.EXPIRED: StateInfo("Expired", terminal=True, iso_status=Status.UNFILLED),
    S.LOST: StateInfo("Lost", terminal=True, iso_status=Status.COMPLETED_WITHOUT_RETURN),
}

_CANCEL_RESUMES = _BEFORE_SHIPPING
_REFUSED_RENEWAL_RESUMES = (S.SHIPPED, S.OVERDUE)

EDGES: list[Edge] = [
    *(
        Edge(s, T.SUPPLY_ITEM, S.PICK_FROM_SHELF, None, _supply)
        for s in (S.NEW, S.LOCATE_FAILED, S.WILL_SUPPLY)
    ),
    Edge(S.NEW, T.LOCATE_FAILED, S.UNFILLED, _auto_reject, _not_held),
    Edge(S.NEW, T.LOCATE_FAILED, S.LOCATE_FAILED, None, _locate_failed),
    Edge(S.WILL_SUPPLY, T.LOCATE_FAILED, S.LOCATE_FAILED, None, _locate_failed),
    *(Edge(s, T.WILL_SUPPLY, S.WILL_SUPPLY, None, _will_supply) for s in (S.NEW, S.LOCATE_FAILED)),
    *(
        Edge(s, T.REJECT, S.UNFILLED, None, _reject)
        for s in (
            S.NEW,
            S.LOCATE_FAILED,
            S.WILL_SUPPLY,
            S.PICK_FROM_SHELF,
            S.IN_TRANSIT_TO_RS_LIBRARY,
            S.READY_TO_SHIP,
        )
    ),
    *(
        Edge(s, T.OFFER_RETRY, S.UNFILLED, None, _offer_retry)
        for s in (S.NEW, S.LOCATE_FAILED, S.WILL_SUPPLY, S.PICK_FROM_SHELF)
    ),
    *(
        Edge(s, T.OFFER_CONDITIONS, S.CONDITIONAL, None, _offer_conditions)
        for s in (S.NEW, S.LOCATE_FAILED, S.WILL_SUPPLY, S.PICK_FROM_SHELF, S.READY_TO_SHIP)
    ),
    Edge(
        S.CONDITIONAL, T.BORROWER_ACCEPTS_CONDITIONS, S.PICK_FROM_SHELF, _item_located, _pick_slip
    ),
    Edge(S.CONDITIONAL, T.BORROWER_ACCEPTS_CONDITIONS, S.WILL_SUPPLY),
    Edge(S.CONDITIONAL, T.REJECT, S.UNFILLED, None, _reject),
    Edge(S.PICK_FROM_SHELF, T.PICK_ITEM, S.IN_TRANSIT_TO_RS_LIBRARY, _needs_transit),
    Edge(S.PICK_FROM_SHELF, T.PICK_ITEM, S.READY_TO_SHIP),
    Edge(S.IN_TRANSIT_TO_RS_LIBRARY, T.ARRIVE_AT_RS_LIBRARY, S.READY_TO_SHIP),
    Edge(S.READY_TO_SHIP, T.SHIP, S.COMPLETED, _is_copy, _send_copy),
    Edge(S.READY_TO_SHIP, T.SHIP, S.SHIPPED, None, _ship),
    # the loan
    Edge(S.SHIPPED, T.BORROWER_RECEIVED, S.RECEIVED_BY_PARTNER, None, _received),
    *(
        Edge(s, T.BORROWER_RECEIVED, s, None, _received)
        for s in (
            S.RECEIVED_BY_PARTNER,
            S.RENEW_REQUESTED,
            S.RECALLED,
            S.OVERDUE,
            S.RETURNED_BY_PARTNER,
        )
    ),
    *(
        edge
        for s in (S.SHIPPED, S.RECEIVED_BY_PARTNER, S.OVERDUE)
        for edge in (
            Edge(
                s,
                T.BORROWER_RENEW,
                S.RENEW_REQUESTED,
                _renewal_is_manual,
                _hold_for_renewal_decision,
            ),
            Edge(s, T.BORROWER_RENEW, S.RECEIVED_BY_PARTNER, _renewal_approved, _renew_yes),
            Edge(s, T.BORROWER_RENEW, s, None, _renew_no),
        )
    ),
    Edge(S.RECALLED, T.BORROWER_RENEW, S.RECALLED, None, _renew_no),
    Edge(S.RENEW_REQUESTED, T.ANSWER_RENEWAL, S.RECEIVED_BY_PARTNER, _staff_approves, _renew_yes),
    *(
        Edge(S.RENEW_REQUESTED, T.ANSWER_RENEWAL, s, _resumes(s), _renew_no)
        for s in _REFUSED_RENEWAL_RESUMES
    ),
    Edge(S.RENEW_REQUESTED, T.ANSWER_RENEWAL, S.RECEIVED_BY_PARTNER, None, _renew_no),
    *(
        edge
        for s in (S.SHIPPED, S.RECEIVED_BY_PARTNER, S.RENEW_REQUESTED, S.OVERDUE)
        for edge in (
            Edge(s, T.LOCAL_HOLD, S.RECALLED, _auto_recall, _recall),
            Edge(s, T.LOCAL_HOLD, s, None, _recall_task),
            Edge(s, T.RECALL, S.RECALLED, None, _recall),
        )
    ),
    Edge(S.RECALLED, T.LOCAL_HOLD, S.RECALLED, None, _recall_task),
    *(
        Edge(s, T.LOAN_OVERDUE, S.OVERDUE, None, _overdue)
        for s in (S.SHIPPED, S.RECEIVED_BY_PARTNER, S.RECALLED, S.RENEW_REQUESTED)
    ),
    *(Edge(s, T.BORROWER_SHIPPED_RETURN, S.RETURNED_BY_PARTNER, None, _returned) for s in _ON_LOAN),
    Edge(S.RETURNED_BY_PARTNER, T.BORROWER_SHIPPED_RETURN, S.RETURNED_BY_PARTNER, None, _returned),
    *(
        Edge(s, T.CHECK_IN, S.COMPLETED, None, _check_in)
        for s in (*_ON_LOAN, S.RETURNED_BY_PARTNER)
    ),
    *(Edge(s, T.MARK_LOST, S.LOST, None, _lost) for s in (*_ON_LOAN, S.RETURNED_BY_PARTNER)),
    *(
        Edge(s, T.BORROWER_LOST, S.LOST, None, _borrower_lost)
        for s in (*_ON_LOAN, S.RETURNED_BY_PARTNER)
    ),
    *(Edge(s, T.BORROWER_HOLD_RETURN, s, None, _note) for s in _ON_LOAN),
    # cancellation
    *(
        edge
        for s in _BEFORE_SHIPPING
        for edge in (
            Edge(s, T.BORROWER_CANCEL, S.CANCELLED, _auto_cancel, _cancel_yes),
            Edge(s, T.BORROWER_CANCEL, S.CANCEL_REQUESTED, None, _hold_for_cancel_decision),
        )
    ),
    *(Edge(s, T.BORROWER_CANCEL, s, None, _cancel_no) for s in (*_ON_LOAN, S.RETURNED_BY_PARTNER)),
    Edge(S.CANCEL_REQUESTED, T.ANSWER_CANCEL, S.CANCELLED, _accepts, _cancel_yes),
    *(
        Edge(S.CANCEL_REQUESTED, T.ANSWER_CANCEL, s, _resumes(s), _cancel_no)
        for s in _CANCEL_RESUMES
    ),
    # expiry
    *(
        Edge(s, T.SUPPLY_EXPIRED, S.EXPIRED, None, _expired)
        for s in (S.NEW, S.LOCATE_FAILED, S.CONDITIONAL)
    ),
    # status requests and notes, in every state
    *(Edge(s, T.BORROWER_STATUS_REQUEST, s, None, _status_report) for s in S),
    *(Edge(s, T.BORROWER_NOTE, s, None, _note) for s in S),
]

COVERAGE: list[NotModelled] = [
    *(
        NotModelled(action.value, "iso18626-action", trigger.value, modelled=True)
        for action, trigger in _BY_ACTION.items()
    ),
    *(
        NotModelled(label, "alma", state, modelled=True)
        for label, state in (
            ("Created lending request", "new"),
            ("Being processed", "pick_from_shelf"),
            ("Will supply", "will_supply"),
            ("Conditional", "conditional"),
            ("Locate failed", "locate_failed"),
            ("Expired", "expired"),
            ("Shipped physically", "shipped"),
            ("Shipped digitally", "completed (ship, copy)"),
            ("Received by partner", "received_by_partner"),
            ("Renew requested", "renew_requested"),
            ("Recalled", "recalled"),
            ("Overdue request", "overdue"),
            ("Returned by partner", "returned_by_partner"),
            ("Lost", "lost"),
            ("Lost communicated", "lost (borrower_lost)"),
            ("Cancelled", "cancelled"),
            ("Rejected the borrower request", "unfilled"),
            ("Request completed", "completed"),
        )
    ),
    # the lending steps of the seed workflow (DESIGN §1)
    *(
        NotModelled(step, "seed", how, modelled=True)
        for step, how in (
            ("the request arrives on the monitoring list", "new (lending_requests)"),
            ("on the task list of the desk holding the item", "supply_item -> pick_from_shelf"),
            ("a pick slip is printed", "supply_item (PrintPickSlip)"),
            ("picked from the shelf and scanned", "pick_item"),
            ("in transit to the resource-sharing library", "in_transit_to_rs_library"),
            ("shipped", "ship -> shipped"),
            ("renewals decided automatically or by staff", "borrower_renew, answer_renewal"),
            ("a local patron's hold recalls the item", "local_hold -> recalled"),
            ("the return is announced", "borrower_shipped_return -> returned_by_partner"),
            ("checked in; reshelve or send home", "check_in (RouteItem)"),
            ("the borrower is told it was checked in", "check_in (LoanCompleted)"),
            ("the request is completed", "completed"),
        )
    ),
    NotModelled(
        "Damaged communicated",
        "alma",
        "not modelled as a state: the borrower's note reaches staff, who check the item in "
        "or mark it lost",
    ),
]


def _render(request: LendingRequest, template: str) -> str:
    item = request.item
    return template.format(
        requester=str(request.requester),
        barcode=item.barcode if item else "the item",
        call_number=(item.call_number if item else None) or "no call number",
        location=(item.location if item else None) or "the shelf",
        rs_library="the resource sharing library",
        conditions=", ".join(request.conditions) or "none",
    )


def _desk(request: LendingRequest) -> str | None:
    return request.item.desk if request.item is not None else None


LENDING: Lifecycle[LendingRequest, LendingEvent, LendingContext] = Lifecycle(
    "lending",
    states=STATES,
    initial=S.NEW,
    edges=EDGES,
    triggers=LendingTrigger,
    render=_render,
    desk=_desk,
    coverage=COVERAGE,
    timer_triggers=_BY_TIMER,
)
"""The lending lifecycle table, built once at import."""


def handle_lending(
    request: LendingRequest, event: LendingEvent, context: LendingContext
) -> Outcome[LendingRequest]:
    """Apply one event to a lending request: the new request and its effects.

    Raises :class:`IllegalTransition` when the event cannot apply in the request's state
    and :class:`WrongCounterpart` when a requesting agency message comes from an agency
    other than the request's borrower. In every error case the request is unchanged.
    """
    if isinstance(event, RequesterMessageReceived):
        header = event.message.header
        if header.requesting_agency != request.requester:
            raise WrongCounterpart(
                header.requesting_agency_request_id,
                str(header.requesting_agency),
                str(request.requester),
            )
        trigger = _message_trigger(request, event.message)
    elif isinstance(event, TimerFired):
        request, trigger = LENDING.take_timer(request, event.kind, _BY_TIMER)
    else:
        trigger = _BY_COMMAND[type(event)]
    return LENDING.step(request, trigger, event, context)
