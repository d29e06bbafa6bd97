"""The table of messages that do not fit (issue 14.3), for every state and every message.

For every borrowing state a request can be in with a current attempt, and any supplying
agency message about that attempt: the message either applies, or raises
IllegalTransition (never anything else); then the answer has the right ISO errorType and
encodes in every version, ignore is always offered, apply is offered exactly when the
table has a staff override there and then it applies, and ask status exactly while the
request has a lender. The lending side: any action in any state applies or is a task to
ignore.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from resource_sharing.borrowing import BORROWING, STAFF_OVERRIDES, classify, handle_borrowing
from resource_sharing.errors import IllegalTransition
from resource_sharing.events import ApplyLenderMessage, SupplierMessageReceived
from resource_sharing.iso18626 import Action, ErrorType, MessageStatus, ReasonForMessage, Status
from resource_sharing.lending import handle_lending
from resource_sharing.messages import Confirmation, DeliveryInfo, MessageKind
from resource_sharing.misfits import misfit_choices, misfit_error
from resource_sharing.ports import TaskChoice
from resource_sharing.states import BorrowingState, LendingState
from tests.resource_sharing.builders_lifecycle import (
    LENDER_DUE,
    LENDING_PATHS,
    T0,
    bctx,
    borrowing_in,
    from_borrower,
    from_lender,
    lctx,
    lending_in,
)

BS = BorrowingState

WITH_LENDER = [
    BS.SENT,
    BS.WILL_SUPPLY,
    BS.CONDITIONAL,
    BS.RETRY_OFFERED,
    BS.CANCEL_PENDING,
    BS.SHIPPED,
    BS.RECEIVED,
    BS.COPY_RECEIVED,
    BS.ON_LOAN,
    BS.RENEW_PENDING_REVIEW,
    BS.RENEW_REQUESTED,
    BS.RECALLED,
    BS.OVERDUE,
    BS.RETURNED_BY_PATRON,
    BS.RETURN_SHIPPED,
    BS.DAMAGED,
]
"""The states whose request has a current attempt: a lender's message reaches the table."""

REQUESTS = {state: borrowing_in(state) for state in WITH_LENDER}

_answers = st.sampled_from([True, False])


@st.composite
def lender_messages(draw: st.DrawFn) -> dict[str, object]:
    reason = draw(st.sampled_from(list(ReasonForMessage)))
    fields: dict[str, object] = {}
    if reason in (ReasonForMessage.CANCEL_RESPONSE, ReasonForMessage.RENEW_RESPONSE):
        fields["answer"] = draw(_answers)
    if draw(st.booleans()):
        fields["due_date"] = LENDER_DUE + timedelta(days=draw(st.integers(1, 60)))
    if draw(st.integers(0, 5)) == 0:
        fields["delivery"] = DeliveryInfo(T0, loan_condition="NoReproduction")
    status = draw(st.none() | st.sampled_from(list(Status)))
    return {"status": status, "reason": reason, **fields}


def _encodes(confirmation: Confirmation) -> None:
    iso = pytest.importorskip("resource_sharing_adapters.iso18626")
    for version in ("1.2", "2021-2"):
        iso.validate(iso.encode(confirmation, version=version), version=version)


@given(st.sampled_from(WITH_LENDER), lender_messages())
def test_a_lender_message_applies_or_is_a_task_with_the_choices_that_fit(
    state: BorrowingState, spec: dict[str, object]
) -> None:
    request = REQUESTS[state]
    status = spec.pop("status")
    reason = spec.pop("reason")
    message = from_lender(status, reason, **spec)(request)  # type: ignore[arg-type]
    assert isinstance(message, SupplierMessageReceived)
    ctx = bctx()
    try:
        handle_borrowing(request, message, ctx)
    except IllegalTransition as error:
        event(f"misfit in {state.value}")
        sam = message.message
        answer = misfit_error(request, sam, error)
        fired = classify(sam, request.attempts[-1].last_status)
        if fired.value in (
            "cancel_accepted",
            "cancel_rejected",
            "renew_accepted",
            "renew_rejected",
        ):
            assert answer.type is ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE
        else:
            assert answer.type is ErrorType.UNRECOGNISED_DATA_VALUE
        assert answer.value
        assert BORROWING.info(state).label in answer.value
        choices = misfit_choices(request, sam)
        assert TaskChoice.IGNORE in choices
        assert TaskChoice.ASK_STATUS in choices  # every state here has a lender
        override = STAFF_OVERRIDES.get(fired)
        can_apply = override is not None and bool(BORROWING.edges_for(state, override))
        assert (TaskChoice.APPLY in choices) == can_apply
        if can_apply:
            outcome = handle_borrowing(request, ApplyLenderMessage(sam), ctx)
            event(f"applied {override} in {state.value} -> {outcome.record.state.value}")
            assert outcome.applied
        else:
            with pytest.raises(IllegalTransition):
                handle_borrowing(request, ApplyLenderMessage(sam), ctx)
        header = sam.header
        _encodes(
            Confirmation(
                confirms=MessageKind.SUPPLYING_AGENCY_MESSAGE,
                status=MessageStatus.ERROR,
                timestamp=T0,
                timestamp_received=T0,
                supplying_agency=header.supplying_agency,
                requesting_agency=header.requesting_agency,
                requesting_agency_request_id=header.requesting_agency_request_id,
                error=answer,
                reason=sam.reason,
            )
        )
    else:
        event(f"applies in {state.value}")


@pytest.mark.parametrize(
    ("state", "status", "after"),
    [
        (BS.SENT, Status.LOAN_COMPLETED, BS.CANCELLED),
        (BS.WILL_SUPPLY, Status.COMPLETED_WITHOUT_RETURN, BS.CANCELLED),
        (BS.RETRY_OFFERED, Status.LOAN_COMPLETED, BS.CANCELLED),
        (BS.ON_LOAN, Status.LOAN_COMPLETED, BS.COMPLETED),
        (BS.RECEIVED, Status.LOAN_COMPLETED, BS.COMPLETED),
        (BS.SENT, Status.OVERDUE, BS.SHIPPED),
        (BS.WILL_SUPPLY, Status.RECALLED, BS.SHIPPED),
        (BS.RETRY_OFFERED, Status.LOANED, BS.SHIPPED),
        (BS.RETRY_OFFERED, Status.COPY_COMPLETED, BS.COPY_RECEIVED),
        (BS.RETRY_OFFERED, Status.WILL_SUPPLY, BS.WILL_SUPPLY),
        (BS.SHIPPED, Status.UNFILLED, BS.SENT),
    ],
)
def test_what_applying_does_per_status(
    state: BorrowingState, status: Status, after: BorrowingState
) -> None:
    request = REQUESTS[state]
    message = from_lender(status)(request)
    assert isinstance(message, SupplierMessageReceived)
    with pytest.raises(IllegalTransition):
        handle_borrowing(request, message, bctx())
    outcome = handle_borrowing(request, ApplyLenderMessage(message.message), bctx())
    assert outcome.record.state is after


def test_an_unasked_renewal_is_applied_as_a_renewal() -> None:
    request = REQUESTS[BS.ON_LOAN]
    due = LENDER_DUE + timedelta(days=28)
    message = from_lender(
        Status.LOANED, ReasonForMessage.RENEW_RESPONSE, answer=True, due_date=due
    )(request)
    assert isinstance(message, SupplierMessageReceived)
    with pytest.raises(IllegalTransition) as refused:
        handle_borrowing(request, message, bctx())
    answer = misfit_error(request, message.message, refused.value)
    assert answer.type is ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE
    outcome = handle_borrowing(request, ApplyLenderMessage(message.message), bctx())
    assert outcome.record.lender_due == due
    assert outcome.record.renewal_count == 1


def test_a_message_about_an_attempt_that_is_over_cannot_be_applied() -> None:
    request = REQUESTS[BS.SENT]
    message = from_lender(Status.LOAN_COMPLETED)(request)
    assert isinstance(message, SupplierMessageReceived)
    moved = handle_borrowing(
        request, from_lender(Status.UNFILLED, reason_unfilled="NotHeld")(request), bctx()
    ).record
    assert moved.state is BS.SENT
    assert len(moved.attempts) == 2
    assert misfit_choices(moved, message.message) == (TaskChoice.IGNORE, TaskChoice.ASK_STATUS)
    with pytest.raises(IllegalTransition, match="current attempt"):
        handle_borrowing(moved, ApplyLenderMessage(message.message), bctx())


@given(st.sampled_from(sorted(LENDING_PATHS)), st.sampled_from(list(Action)))
def test_a_borrower_message_applies_or_is_a_task_to_ignore(
    state: LendingState, action: Action
) -> None:
    request = lending_in(state)
    message = from_borrower(action, "a note")(request)
    try:
        handle_lending(request, message, lctx())
    except IllegalTransition as error:
        event(f"misfit {action.value} in {state.value}")
        answer = misfit_error(request, message.message, error)  # type: ignore[union-attr]
        assert answer.type is ErrorType.UNSUPPORTED_ACTION_TYPE
        assert answer.value is not None
        assert answer.value.startswith(action.value)
        choices = misfit_choices(request, message.message)  # type: ignore[union-attr]
        assert choices == (TaskChoice.IGNORE,)
