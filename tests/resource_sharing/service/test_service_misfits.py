"""A status that does not fit (issue 14.3): answered per ISO 18626 and kept as a staff task.

A scripted lender B on the in-memory network confirms what we send and speaks when the
test makes it; the inbox answers a message the request's state cannot take with an
ERROR confirmation and stores a task on the request that shows the message and offers
the choices that fit (apply where the table allows, ignore, ask the lender's status).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from resource_sharing.directory import Partner
from resource_sharing.effects import NoticeKind, TaskList
from resource_sharing.errors import IllegalTransition, InvalidInput
from resource_sharing.iso18626 import Action, ErrorType, MessageStatus, ReasonForMessage, Status
from resource_sharing.messages import (
    Confirmation,
    Header,
    PeerMessage,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import Holding, TaskChoice
from resource_sharing.records import (
    Actor,
    AgencyId,
    AttemptOutcome,
    BorrowingRequest,
    Citation,
    ItemRef,
    PatronRef,
    Side,
)
from resource_sharing.service import Settings
from resource_sharing.states import BorrowingState, LendingState
from resource_sharing.testing.consortium import Consortium, Member

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="Hamlet")
PATRON = PatronRef("p-1", "Ada Lovelace")


class Lender:
    """A scripted lender: confirms everything we send it and keeps what it saw."""

    def __init__(self) -> None:
        self.seen: list[PeerMessage] = []

    def __call__(self, message: PeerMessage, **_: Any) -> Confirmation:
        self.seen.append(message)
        header = message.header
        return Confirmation(
            confirms=message.kind,
            status=MessageStatus.OK,
            timestamp=START,
            timestamp_received=START,
            supplying_agency=header.supplying_agency,
            requesting_agency=header.requesting_agency,
            requesting_agency_request_id=header.requesting_agency_request_id,
        )


def _sent() -> tuple[Consortium, Member, Lender, BorrowingRequest]:
    net = Consortium(START)
    a = net.add(Settings(A), partners=[Partner(B, "Beta")])
    lender = Lender()
    net.network.attach(B, lender)
    placed = a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[B])
    net.settle()
    record = a.institution.get(Side.BORROWING, placed.id)
    assert isinstance(record, BorrowingRequest)
    assert record.state is BorrowingState.SENT
    return net, a, lender, record


def _from_b(
    record: BorrowingRequest,
    status: Status | None,
    reason: ReasonForMessage = ReasonForMessage.STATUS_CHANGE,
    minutes: int = 1,
    **fields: Any,
) -> SupplyingAgencyMessage:
    attempt = record.attempts[-1]
    header = Header(A, B, attempt.request_id, START + timedelta(minutes=minutes), "B-L1")
    return SupplyingAgencyMessage(
        header, reason, status, last_change=START + timedelta(minutes=minutes), **fields
    )


def test_a_loan_completed_first_is_answered_with_an_error_and_becomes_a_task() -> None:
    _, a, _, record = _sent()
    confirmation = a.institution.inbox.receive(_from_b(record, Status.LOAN_COMPLETED))
    assert confirmation.status is MessageStatus.ERROR
    assert confirmation.error is not None
    assert confirmation.error.type is ErrorType.UNRECOGNISED_DATA_VALUE
    assert confirmation.error.value is not None
    assert "statusInfo/status: 'LoanCompleted'" in confirmation.error.value
    assert "Request sent to partner" in confirmation.error.value
    assert a.institution.get(Side.BORROWING, record.id).state is BorrowingState.SENT
    (task,) = a.institution.tasks_of(Side.BORROWING, record.id)
    assert task.task_list is TaskList.PEER_MESSAGES
    assert task.choices == (TaskChoice.APPLY, TaskChoice.IGNORE, TaskChoice.ASK_STATUS)
    assert isinstance(task.message, SupplyingAgencyMessage)
    assert task.message.status is Status.LOAN_COMPLETED
    assert task.title == "Not applied: LoanCompleted (StatusChange) from ISIL:US-B"
    (line,) = a.institution.tasks(TaskList.PEER_MESSAGES)
    assert line.task_id == task.id
    assert line.instruction is not None
    assert "Choose: apply, ignore, ask status" in line.instruction
    history = a.institution.history(Side.BORROWING, record.id)
    noted = [h for h in history if h.event == "PeerMessageNotApplied"]
    assert len(noted) == 1
    assert noted[0].actor == Actor.peer(B)
    assert noted[0].reason is not None
    assert noted[0].reason.startswith("UnrecognisedDataValue")


def test_the_same_message_again_gets_the_same_answer_and_no_second_task() -> None:
    _, a, _, record = _sent()
    message = _from_b(record, Status.LOAN_COMPLETED)
    first = a.institution.inbox.receive(message, message_id="m-1")
    again = a.institution.inbox.receive(message, message_id="m-1")
    assert again == first
    assert len(a.institution.tasks_of(Side.BORROWING, record.id)) == 1


def test_applying_a_loan_completed_for_a_request_that_never_shipped_closes_it() -> None:
    net, a, _, record = _sent()
    a.institution.inbox.receive(_from_b(record, Status.LOAN_COMPLETED))
    (task,) = a.institution.tasks_of(Side.BORROWING, record.id)
    resolved = a.institution.task_desk.resolve(task.id, TaskChoice.APPLY, by="maria", note="ok")
    assert resolved.resolution is not None
    assert resolved.resolution.by == Actor.staff("maria")
    closed = a.institution.get(Side.BORROWING, record.id)
    assert isinstance(closed, BorrowingRequest)
    assert closed.state is BorrowingState.CANCELLED
    attempt = closed.attempts[-1]
    assert attempt.outcome is AttemptOutcome.CANCELLED_BY_LENDER
    assert attempt.reason is not None
    assert "LoanCompleted" in attempt.reason
    net.settle()
    assert a.notifier.patron_notices[-1].notice is NoticeKind.CANCELLED
    applied = list(a.institution.history(Side.BORROWING, record.id))[-1]
    assert applied.event == "ApplyLenderMessage"
    assert applied.actor == Actor.staff("maria")
    assert (applied.from_state, applied.to_state) == ("sent", "cancelled")
    assert a.institution.tasks(TaskList.PEER_MESSAGES) == []
    with pytest.raises(InvalidInput, match="resolved already"):
        a.institution.task_desk.resolve(task.id, TaskChoice.IGNORE, by="maria")


def test_asking_the_status_sends_a_status_request_and_ignoring_changes_nothing() -> None:
    net, a, lender, record = _sent()
    a.institution.inbox.receive(_from_b(record, Status.OVERDUE))
    (task,) = a.institution.tasks_of(Side.BORROWING, record.id)
    a.institution.task_desk.resolve(task.id, TaskChoice.ASK_STATUS, by="maria")
    net.settle()
    asked = [m for m in lender.seen if isinstance(m, RequestingAgencyMessage)]
    assert [m.action for m in asked] == [Action.STATUS_REQUEST]
    assert a.institution.get(Side.BORROWING, record.id).state is BorrowingState.SENT
    a.institution.inbox.receive(_from_b(record, Status.RECALLED, minutes=2))
    second = [t for t in a.institution.tasks_of(Side.BORROWING, record.id) if t.id != task.id]
    (other,) = second
    a.institution.task_desk.resolve(other.id, TaskChoice.IGNORE, by="li", note="odd")
    assert a.institution.get(Side.BORROWING, record.id).state is BorrowingState.SENT
    last = a.institution.history(Side.BORROWING, record.id)[-1]
    assert (last.event, last.actor, last.reason) == ("ResolveTask", Actor.staff("li"), "odd")


def test_a_choice_that_no_longer_applies_is_refused_and_changes_nothing() -> None:
    _, a, _, record = _sent()
    a.institution.inbox.receive(_from_b(record, Status.LOAN_COMPLETED))
    (task,) = a.institution.tasks_of(Side.BORROWING, record.id)
    a.institution.borrowing.cancel(record.id)  # now waiting for the cancel response
    a.institution.inbox.receive(
        _from_b(record, Status.CANCELLED, ReasonForMessage.CANCEL_RESPONSE, minutes=3, answer=True)
    )
    assert a.institution.get(Side.BORROWING, record.id).state is BorrowingState.CANCELLED
    with pytest.raises((IllegalTransition, InvalidInput)):
        a.institution.task_desk.resolve(task.id, TaskChoice.APPLY, by="maria")
    assert a.institution.tasks_of(Side.BORROWING, record.id)[0].resolution is None
    with pytest.raises(InvalidInput, match="not offered"):
        a.institution.task_desk.resolve(task.id, TaskChoice.DROP, by="maria")
    with pytest.raises(InvalidInput, match="name"):
        a.institution.task_desk.resolve(task.id, TaskChoice.IGNORE, by=" ")


def test_a_loan_completed_while_the_patron_has_the_item_completes_it_once_staff_confirm() -> None:
    net, a, _, record = _sent()
    a.institution.inbox.receive(_from_b(record, Status.LOANED))
    a.institution.borrowing.receive(record.id, barcode="A-T1")
    a.institution.borrowing.check_out(record.id)
    net.settle()
    a.institution.inbox.receive(_from_b(record, Status.LOAN_COMPLETED, minutes=5))
    (task,) = a.institution.tasks_of(Side.BORROWING, record.id)
    assert task.choices[0] is TaskChoice.APPLY
    a.institution.task_desk.resolve(task.id, TaskChoice.APPLY, by="maria")
    assert a.institution.get(Side.BORROWING, record.id).state is BorrowingState.COMPLETED
    assert "A-T1" in a.circulation.temporary_items
    net.settle()
    assert "A-T1" not in a.circulation.temporary_items  # checked in and removed


def test_a_message_our_lending_side_cannot_take_is_a_task_to_ignore() -> None:
    net = Consortium(START)
    c = net.add(
        Settings(C),
        partners=[Partner(A, "Alpha")],
        holdings={"hamlet": Holding(ItemRef("C-1", location="Stacks"))},
    )
    a = net.add(Settings(A), partners=[Partner(C, "Gamma")])
    placed = a.institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    borrowed = a.institution.get(Side.BORROWING, placed.id)
    assert isinstance(borrowed, BorrowingRequest)
    attempt = borrowed.attempts[-1]
    header = Header(A, C, attempt.request_id, START + timedelta(minutes=9))
    answer = c.institution.inbox.receive(
        RequestingAgencyMessage(header, Action.SHIPPED_RETURN, "sent back")
    )
    assert answer.error is not None
    assert answer.error.type is ErrorType.UNSUPPORTED_ACTION_TYPE
    (task,) = c.institution.tasks(TaskList.PEER_MESSAGES)
    (stored,) = c.institution.tasks_of(Side.LENDING, task.request_id)
    assert stored.choices == (TaskChoice.IGNORE,)
    assert c.institution.get(Side.LENDING, task.request_id).state is LendingState.PICK_FROM_SHELF
