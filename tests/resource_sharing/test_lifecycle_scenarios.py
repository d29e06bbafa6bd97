"""Scenarios: the paths staff meet, told event by event, with what each one asks of the world."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest

from resource_sharing.borrowing import EndOfRota, handle_borrowing
from resource_sharing.effects import (
    NoticeKind,
    NotifyPatron,
    NotifyStaff,
    RecallPatronLoan,
    SendMessage,
)
from resource_sharing.errors import IllegalTransition, PeerError, WrongCounterpart
from resource_sharing.events import (
    AcceptConditions,
    AcceptRetry,
    ApproveRenewal,
    AssignRota,
    CancelRequest,
    CheckOutItem,
    DeclineRetry,
    DeliverCopy,
    MarkLost,
    OfferConditions,
    ReceiveItem,
    RejectConditions,
    ReportDamaged,
    ReportLost,
    RequestRenewal,
    ShipItem,
    ShipReturn,
    TimerFired,
)
from resource_sharing.iso18626 import (
    Action,
    ErrorType,
    ReasonForMessage,
    RequestType,
    ServiceType,
    Status,
)
from resource_sharing.lending import handle_lending
from resource_sharing.messages import Request, RequestingAgencyMessage, SupplyingAgencyMessage
from resource_sharing.records import AttemptOutcome, RotaEntry, TimerKind
from tests.resource_sharing.builders_lifecycle import (
    BS,
    FALLBACK,
    LAST_ONLY,
    LS,
    T0,
    B,
    C,
    bctx,
    borrowing_in,
    const,
    from_borrower,
    from_lender,
    lctx,
    lending_in,
    loaned,
    renewals,
    walk_borrowing,
)


def sent(effects: tuple[Any, ...]) -> list[Any]:
    """The peer messages among the effects."""
    return [e.message for e in effects if isinstance(e, SendMessage)]


def notices(effects: tuple[Any, ...]) -> list[NoticeKind]:
    """The patron notices among the effects."""
    return [e.notice for e in effects if isinstance(e, NotifyPatron)]


# -- the rota ---------------------------------------------------------------------------


def test_unfilled_moves_to_the_next_lender() -> None:
    request = borrowing_in(BS.SENT)
    outcome = handle_borrowing(request, from_lender(Status.UNFILLED)(request), bctx())
    new = outcome.record
    assert new.state is BS.SENT
    assert [a.lender for a in new.attempts] == [B, C]
    assert new.attempts[0].outcome is AttemptOutcome.UNFILLED
    (message,) = sent(outcome.effects)
    assert isinstance(message, Request)
    assert message.header.supplying_agency == C
    assert message.header.requesting_agency_request_id == new.attempts[1].request_id
    assert new.attempts[1].request_id != new.attempts[0].request_id


@pytest.mark.parametrize(
    ("policy", "state", "notice"),
    [
        ({"end_of_rota": EndOfRota.REVIEW}, BS.END_OF_ROTA, []),
        ({"end_of_rota": EndOfRota.CANCEL}, BS.UNFILLED, [NoticeKind.UNFILLED]),
        ({"end_of_rota": EndOfRota.FALLBACK, "fallback": FALLBACK}, BS.SENT, []),
        ({"end_of_rota": EndOfRota.FALLBACK, "fallback": B}, BS.UNFILLED, [NoticeKind.UNFILLED]),
        ({"end_of_rota": EndOfRota.FALLBACK}, BS.UNFILLED, [NoticeKind.UNFILLED]),
    ],
    ids=["review", "cancel", "fallback", "fallback-already-tried", "fallback-not-set"],
)
def test_end_of_rota(policy: dict[str, Any], state: BS, notice: list[NoticeKind]) -> None:
    request = borrowing_in(BS.SENT, rota=LAST_ONLY)
    outcome = handle_borrowing(request, from_lender(Status.UNFILLED)(request), bctx(**policy))
    new = outcome.record
    assert new.state is state
    assert notices(outcome.effects) == notice
    assert new.attempts[0].outcome is AttemptOutcome.UNFILLED
    if state is BS.SENT:
        assert new.attempts[-1].lender == FALLBACK
        assert new.rota[-1].fallback
    if state is BS.END_OF_ROTA:  # staff give it more lenders
        again = handle_borrowing(new, AssignRota((RotaEntry(C),)), bctx()).record
        assert again.state is BS.SENT
        assert again.current_lender == C


def test_a_rota_of_only_ourselves_is_a_failed_locate() -> None:
    request = borrowing_in(BS.LOCATING)
    home = RotaEntry(request.agency)
    outcome = handle_borrowing(request, AssignRota((home,)), bctx())
    assert outcome.record.state is BS.LOCATE_FAILED
    assert sent(outcome.effects) == []
    with pytest.raises(IllegalTransition):
        handle_borrowing(outcome.record, AssignRota((home,)), bctx())


def test_a_superseded_attempt_is_answered_not_applied() -> None:
    request = borrowing_in(BS.SENT)
    moved = handle_borrowing(request, from_lender(Status.UNFILLED)(request), bctx()).record
    late = from_lender(Status.LOANED, attempt=0)(moved)
    outcome = handle_borrowing(moved, late, bctx())
    assert outcome.applied is False
    assert outcome.record is moved
    assert any(isinstance(e, NotifyStaff) for e in outcome.effects)


def test_a_message_from_the_wrong_agency_is_refused() -> None:
    request = borrowing_in(BS.SENT)
    with pytest.raises(WrongCounterpart) as error:
        handle_borrowing(request, from_lender(Status.LOANED, sender=C)(request), bctx())
    assert error.value.error_type is ErrorType.UNRECOGNISED_DATA_VALUE
    lending = lending_in(LS.SHIPPED)
    with pytest.raises(WrongCounterpart):
        handle_lending(lending, from_borrower(Action.RECEIVED, sender=B)(lending), lctx())


def test_a_cancel_response_without_answer_is_a_peer_error() -> None:
    request = borrowing_in(BS.CANCEL_PENDING)
    message = from_lender(None, ReasonForMessage.CANCEL_RESPONSE)(request)
    with pytest.raises(PeerError) as error:
        handle_borrowing(request, message, bctx())
    assert error.value.error_type is ErrorType.UNRECOGNISED_DATA_VALUE
    assert "answerYesNo" in error.value.error_value


def test_a_timer_that_is_not_set_is_refused() -> None:
    request = borrowing_in(BS.ON_LOAN)
    with pytest.raises(IllegalTransition) as error:
        handle_borrowing(request, TimerFired(TimerKind.SUPPLY_EXPIRY), bctx())
    assert error.value.state == "on_loan"
    with pytest.raises(IllegalTransition):
        handle_lending(lending_in(LS.NEW), TimerFired(TimerKind.LENDER_ANSWER), lctx())


# -- conditions, cancel, retry ------------------------------------------------------------


def test_conditions_accepted() -> None:
    request = borrowing_in(BS.CONDITIONAL)
    assert request.conditions == ("LibraryUseOnly",)
    outcome = handle_borrowing(request, AcceptConditions(), bctx())
    assert outcome.record.state is BS.WILL_SUPPLY
    (message,) = sent(outcome.effects)
    assert isinstance(message, RequestingAgencyMessage)
    assert message.action is Action.NOTIFICATION
    assert message.note is not None
    # the lender recognises the acceptance and goes on to pick the item
    lending = lending_in(LS.PICK_FROM_SHELF)
    lending = handle_lending(lending, OfferConditions("LibraryUseOnly"), lctx()).record
    assert lending.state is LS.CONDITIONAL
    accepted = from_borrower(Action.NOTIFICATION, message.note)(lending)
    assert handle_lending(lending, accepted, lctx()).record.state is LS.PICK_FROM_SHELF


def test_conditions_rejected_move_on_after_the_cancel_is_accepted() -> None:
    request = borrowing_in(BS.CONDITIONAL)
    outcome = handle_borrowing(request, RejectConditions("no"), bctx())
    pending = outcome.record
    assert pending.state is BS.CANCEL_PENDING
    assert [m.action for m in sent(outcome.effects)] == [Action.CANCEL]
    yes = from_lender(Status.CANCELLED, ReasonForMessage.CANCEL_RESPONSE, answer=True)
    moved = handle_borrowing(pending, yes(pending), bctx()).record
    assert moved.state is BS.SENT
    assert moved.current_lender == C
    assert moved.attempts[0].outcome is AttemptOutcome.CONDITIONS_REJECTED


@pytest.mark.parametrize("before", [BS.SENT, BS.WILL_SUPPLY, BS.CONDITIONAL])
def test_cancel_answered_yes_and_no(before: BS) -> None:
    request = borrowing_in(before)
    outcome = handle_borrowing(request, CancelRequest(reason="not needed"), bctx())
    pending = outcome.record
    assert pending.state is BS.CANCEL_PENDING
    assert [m.action for m in sent(outcome.effects)] == [Action.CANCEL]
    yes = from_lender(Status.CANCELLED, ReasonForMessage.CANCEL_RESPONSE, answer=True)
    done = handle_borrowing(pending, yes(pending), bctx())
    assert done.record.state is BS.CANCELLED
    assert notices(done.effects) == [NoticeKind.CANCELLED]
    no = from_lender(None, ReasonForMessage.CANCEL_RESPONSE, answer=False)
    assert handle_borrowing(pending, no(pending), bctx()).record.state is before


def test_lending_cancel_yes_before_shipping_no_after() -> None:
    new = lending_in(LS.NEW)
    yes = handle_lending(new, from_borrower(Action.CANCEL)(new), lctx())
    assert yes.record.state is LS.CANCELLED
    (answer,) = sent(yes.effects)
    assert isinstance(answer, SupplyingAgencyMessage)
    assert (answer.reason, answer.answer) == (ReasonForMessage.CANCEL_RESPONSE, True)
    shipped = lending_in(LS.SHIPPED)
    no = handle_lending(shipped, from_borrower(Action.CANCEL)(shipped), lctx())
    assert no.record.state is LS.SHIPPED
    (answer,) = sent(no.effects)
    assert isinstance(answer, SupplyingAgencyMessage)
    assert answer.answer is False


def test_retry_accepted_and_declined() -> None:
    request = borrowing_in(BS.RETRY_OFFERED)
    retried = handle_borrowing(request, AcceptRetry(note="any edition"), bctx())
    assert retried.record.state is BS.SENT
    assert [a.lender for a in retried.record.attempts] == [B, B]
    assert retried.record.attempts[-1].request_type is RequestType.RETRY
    (message,) = sent(retried.effects)
    assert isinstance(message, Request)
    assert message.service.request_type is RequestType.RETRY
    assert message.service.previous_request_id == request.attempts[0].request_id
    declined = handle_borrowing(request, DeclineRetry(), bctx()).record
    assert declined.state is BS.SENT
    assert declined.current_lender == C
    assert declined.attempts[0].outcome is AttemptOutcome.RETRY_DECLINED


# -- the loan -----------------------------------------------------------------------------


def test_renewal_accepted() -> None:
    request = borrowing_in(BS.RENEW_REQUESTED)
    yes = from_lender(
        Status.LOANED,
        ReasonForMessage.RENEW_RESPONSE,
        answer=True,
        due_date=T0 + timedelta(days=40),
    )
    outcome = handle_borrowing(request, yes(request), bctx())
    new = outcome.record
    assert new.state is BS.ON_LOAN
    assert new.renewal_count == 1
    assert new.lender_due == T0 + timedelta(days=40)
    assert request.patron_due is not None
    assert new.patron_due is not None
    assert new.patron_due > request.patron_due
    assert NoticeKind.RENEWED in notices(outcome.effects)


def test_renewal_refused_by_the_lender() -> None:
    request = borrowing_in(BS.RENEW_REQUESTED)
    no = from_lender(Status.LOANED, ReasonForMessage.RENEW_RESPONSE, answer=False)
    outcome = handle_borrowing(request, no(request), bctx())
    assert outcome.record.state is BS.ON_LOAN
    assert outcome.record.renewal_count == 0
    assert outcome.record.patron_due == request.patron_due
    assert notices(outcome.effects) == [NoticeKind.RENEWAL_REFUSED]


def test_renewal_mediated_by_staff() -> None:
    request = borrowing_in(BS.ON_LOAN)
    ctx = bctx(loan=renewals(mediated=True))
    held = handle_borrowing(request, RequestRenewal(), ctx)
    assert held.record.state is BS.RENEW_PENDING_REVIEW
    assert sent(held.effects) == []
    approved = handle_borrowing(held.record, ApproveRenewal(), ctx)
    assert approved.record.state is BS.RENEW_REQUESTED
    assert [m.action for m in sent(approved.effects)] == [Action.RENEW]


def test_renewal_refused_outside_the_borrowers_window() -> None:
    request = walk_borrowing(
        [loaned(T0 + timedelta(days=60)), const(ReceiveItem("T-1")), const(CheckOutItem())],
        bctx(),
        borrowing_in(BS.SENT),
    )
    outcome = handle_borrowing(request, RequestRenewal(), bctx(loan=renewals(window_days=7)))
    assert outcome.record.state is BS.ON_LOAN
    assert sent(outcome.effects) == []
    assert notices(outcome.effects) == [NoticeKind.RENEWAL_REFUSED]
    no_window = bctx(loan=renewals(window_days=None))
    asked = handle_borrowing(request, RequestRenewal(), no_window)
    assert asked.record.state is BS.RENEW_REQUESTED
    assert [m.action for m in sent(asked.effects)] == [Action.RENEW]


def test_recall_shortens_the_patron_loan() -> None:
    request = borrowing_in(BS.ON_LOAN)
    outcome = handle_borrowing(request, from_lender(Status.RECALLED)(request), bctx())
    new = outcome.record
    assert new.state is BS.RECALLED
    (recall,) = [e for e in outcome.effects if isinstance(e, RecallPatronLoan)]
    assert request.patron_due is not None
    assert recall.due <= request.patron_due
    assert new.patron_due == recall.due
    assert NoticeKind.RECALLED in notices(outcome.effects)


def test_overdue_by_timers_on_both_sides() -> None:
    request = borrowing_in(BS.ON_LOAN)
    outcome = handle_borrowing(request, TimerFired(TimerKind.PATRON_OVERDUE), bctx())
    assert outcome.record.state is BS.OVERDUE
    assert notices(outcome.effects) == [NoticeKind.OVERDUE]
    lending = lending_in(LS.RECEIVED_BY_PARTNER)
    lent = handle_lending(lending, TimerFired(TimerKind.LENDER_OVERDUE), lctx())
    assert lent.record.state is LS.OVERDUE
    assert [m.status for m in sent(lent.effects)] == [Status.OVERDUE]
    with pytest.raises(IllegalTransition):  # each deadline fires once
        handle_lending(lent.record, TimerFired(TimerKind.LENDER_OVERDUE), lctx())


def test_lost_on_both_sides() -> None:
    request = borrowing_in(BS.ON_LOAN)
    outcome = handle_borrowing(request, ReportLost("patron lost it"), bctx())
    assert outcome.record.state is BS.LOST
    assert [m.action for m in sent(outcome.effects)] == [Action.NOTIFICATION]
    lending = lending_in(LS.RECEIVED_BY_PARTNER)
    lent = handle_lending(lending, MarkLost("never returned"), lctx())
    assert lent.record.state is LS.LOST
    assert [m.status for m in sent(lent.effects)] == [Status.COMPLETED_WITHOUT_RETURN]
    closed = from_lender(Status.COMPLETED_WITHOUT_RETURN)(request)
    assert handle_borrowing(request, closed, bctx()).record.state is BS.LOST


def test_damaged_goes_back_and_completes() -> None:
    request = borrowing_in(BS.ON_LOAN)
    damaged = handle_borrowing(request, ReportDamaged("water"), bctx())
    assert damaged.record.state is BS.DAMAGED
    assert [m.note for m in sent(damaged.effects)] == ["Damaged: water"]
    shipped = walk_borrowing([const(ShipReturn())], bctx(), damaged.record)
    assert shipped.state is BS.RETURN_SHIPPED
    done = walk_borrowing([from_lender(Status.LOAN_COMPLETED)], bctx(), shipped)
    assert done.state is BS.COMPLETED


def test_copy_delivery_on_both_sides() -> None:
    lending = lending_in(LS.READY_TO_SHIP, service_type=ServiceType.COPY)
    lent = handle_lending(lending, ShipItem(), lctx())
    assert lent.record.state is LS.COMPLETED
    (message,) = sent(lent.effects)
    assert isinstance(message, SupplyingAgencyMessage)
    assert message.status is Status.COPY_COMPLETED
    request = borrowing_in(BS.SENT)
    copy = handle_borrowing(request, from_lender(Status.COPY_COMPLETED)(request), bctx())
    assert copy.record.state is BS.COPY_RECEIVED
    done = handle_borrowing(copy.record, DeliverCopy(), bctx())
    assert done.record.state is BS.COMPLETED
    assert notices(done.effects) == [NoticeKind.COPY_AVAILABLE]
    assert done.record.attempts[-1].outcome is AttemptOutcome.SUPPLIED


def test_a_refused_event_names_what_is_allowed() -> None:
    request = borrowing_in(BS.COMPLETED)
    with pytest.raises(IllegalTransition) as error:
        handle_borrowing(request, CancelRequest(), bctx())
    assert (error.value.state, error.value.event) == ("completed", "cancel")
    assert error.value.allowed == ("lender_note",)
    assert error.value.error_type is ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE
    assert attrs.evolve(request) == request
