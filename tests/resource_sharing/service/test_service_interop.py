"""Working with other implementations: refusals end an attempt and the rota moves on.

Scripted peers on the in-memory network (``Network.attach`` with a handler of our own)
refuse our messages the way independent ISO 18626 implementations do: an ERROR
confirmation, or no delivery at all until the dispatcher gives up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from resource_sharing.borrowing import (
    BorrowingContext,
    BorrowingPolicy,
    EndOfRota,
    handle_borrowing,
)
from resource_sharing.directory import Partner
from resource_sharing.effects import TaskList
from resource_sharing.events import DeliveryRefused
from resource_sharing.iso18626 import ErrorType, MessageStatus
from resource_sharing.messages import (
    Confirmation,
    ErrorData,
    PeerMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import Holding
from resource_sharing.records import (
    AgencyId,
    AttemptOutcome,
    BorrowingRequest,
    Citation,
    ItemRef,
    PatronRef,
    Side,
)
from resource_sharing.service import DeliveryPolicy, RetryPolicy, Settings
from resource_sharing.testing.consortium import Consortium, Member

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="The Art of Computer Programming")
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks", desk="Main desk")
PATRON = PatronRef("p-1", "Ada Lovelace")
PARTNERS = [Partner(A, "A"), Partner(B, "B"), Partner(C, "C")]


class Refuser:
    """A peer that answers every message with an ERROR confirmation."""

    def __init__(self, error: ErrorData) -> None:
        self.error = error
        self.seen: list[PeerMessage] = []

    def __call__(self, message: PeerMessage, **_: Any) -> Confirmation:
        self.seen.append(message)
        header = message.header
        return Confirmation(
            confirms=message.kind,
            status=MessageStatus.ERROR,
            timestamp=START,
            timestamp_received=START,
            supplying_agency=header.supplying_agency,
            requesting_agency=header.requesting_agency,
            requesting_agency_request_id=header.requesting_agency_request_id,
            error=self.error,
        )


UNKNOWN = ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, "supplyingAgencyId: not served here")


def network(
    policy: BorrowingPolicy | None = None, delivery: DeliveryPolicy | None = None
) -> tuple[Consortium, Member, Member]:
    net = Consortium(START)
    settings = Settings(A, borrowing=policy or BorrowingPolicy())
    if delivery is not None:
        settings = attrs.evolve(settings, delivery=delivery)
    a = net.add(settings, partners=PARTNERS)
    c = net.add(
        Settings(C),
        partners=PARTNERS,
        holdings={BOOK.title.casefold(): Holding(ITEM)},  # type: ignore[union-attr]
    )
    return net, a, c


def borrowing(member: Member, request_id: str) -> BorrowingRequest:
    record = member.institution.get(Side.BORROWING, request_id)
    assert isinstance(record, BorrowingRequest)
    return record


def test_an_error_confirmation_ends_the_attempt_and_the_rota_moves_on() -> None:
    net, a, _ = network()
    refuser = Refuser(UNKNOWN)
    net.network.attach(B, refuser)
    placed = a.institution.borrowing.place_request(
        PATRON, BOOK, pickup_location="Main", rota=[B, C]
    )
    net.settle()
    record = borrowing(a, placed.id)
    first, second = record.attempts
    assert (first.lender, first.outcome) == (B, AttemptOutcome.REFUSED)
    assert first.reason is not None
    assert "UnrecognisedDataValue" in first.reason
    assert "not served here" in first.reason
    assert second.lender == C
    assert record.state.value in ("sent", "will_supply", "shipped")
    history = a.institution.history(Side.BORROWING, placed.id)
    refused = [h for h in history if h.event == "DeliveryRefused"]
    assert len(refused) == 1
    assert refused[0].from_state == "sent"
    assert refused[0].reason == first.reason
    assert any(h.event == "DeliveryGaveUp" for h in history)
    assert a.institution.tasks_of(Side.BORROWING, placed.id) == []


def test_at_the_end_of_the_rota_the_task_says_why() -> None:
    net, a, _ = network(BorrowingPolicy(end_of_rota=EndOfRota.REVIEW))
    net.network.attach(B, Refuser(UNKNOWN))
    placed = a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[B])
    net.settle()
    record = borrowing(a, placed.id)
    assert record.state.value == "end_of_rota"
    (line,) = [
        t for t in a.institution.tasks(TaskList.BORROWING_REQUESTS) if t.request_id == placed.id
    ]
    assert line.instruction is not None
    assert "US-B refused" in line.instruction
    assert "not served here" in line.instruction


def test_end_of_rota_cancel_closes_a_refused_request_unfilled() -> None:
    net, a, _ = network(BorrowingPolicy(end_of_rota=EndOfRota.CANCEL))
    net.network.attach(B, Refuser(UNKNOWN))
    placed = a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[B])
    net.settle()
    assert borrowing(a, placed.id).state.value == "unfilled"


def test_a_request_that_runs_out_of_retries_is_a_task_not_a_refusal() -> None:
    # it may have arrived (only its confirmation was lost): staff decide, the rota waits
    delivery = DeliveryPolicy().with_all(max_attempts=2, base_delay=timedelta(seconds=1))
    net, a, _ = network(delivery=delivery)
    net.network.down.add(B)
    placed = a.institution.borrowing.place_request(
        PATRON, BOOK, pickup_location="Main", rota=[B, C]
    )
    net.settle()
    assert borrowing(a, placed.id).current_lender == B  # still retrying
    net.clock.advance(timedelta(minutes=1))
    net.settle()
    record = borrowing(a, placed.id)
    assert record.current_lender == B
    (task,) = a.institution.tasks_of(Side.BORROWING, placed.id)
    assert "unreachable" in task.error


def test_a_refusal_of_an_attempt_the_rota_moved_past_changes_nothing() -> None:
    _, a, _ = network()
    placed = a.institution.borrowing.place_request(
        PATRON, BOOK, pickup_location="Main", rota=[B, C]
    )
    record = borrowing(a, placed.id)
    stale = DeliveryRefused("no-such-attempt", "ERROR")
    result = handle_borrowing(record, stale, BorrowingContext(START))
    assert not result.applied
    assert result.record == record


def test_an_answer_the_borrower_refuses_is_a_task_with_the_peers_words() -> None:
    net, a, c = network()
    a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[C])
    # the borrower's node stops recognising the request before the lender answers
    a.institution.dispatch()
    net.network.attach(A, Refuser(UNKNOWN))
    net.settle()
    (incoming,) = c.institution.tasks(TaskList.DELIVERY_PROBLEMS)
    (task,) = c.institution.tasks_of(Side.LENDING, incoming.request_id)
    assert "UnrecognisedDataValue" in task.error
    assert "not served here" in task.error


# -- item 2: our first answer races the peer ---------------------------------------------


class StoresLate:
    """A borrower that knows its request only after it read our confirmation (a while).

    It answers the first ``races`` supplying agency messages with "unknown request id",
    then hands every message to the real inbox.
    """

    def __init__(self, inbox: Any, races: int) -> None:
        self.inbox = inbox
        self.races = races
        self.refused = 0

    def __call__(self, message: PeerMessage, **kwargs: Any) -> Confirmation:
        if isinstance(message, SupplyingAgencyMessage) and self.refused < self.races:
            self.refused += 1
            value = f"requestingAgencyRequestId: {message.header.requesting_agency_request_id}"
            return Refuser(ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, value))(message)
        confirmation: Confirmation = self.inbox(message, **kwargs)
        return confirmation


def test_an_unknown_request_answer_to_our_first_answer_is_retried_until_it_goes_through() -> None:
    net, a, c = network()
    racer = StoresLate(a.institution.inbox.receive, races=2)
    net.network.attach(A, racer)
    placed = a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[C])
    net.settle()
    assert racer.refused == 1
    for _ in range(3):
        net.clock.advance(timedelta(seconds=30))
        net.settle()
    assert racer.refused == 2
    assert borrowing(a, placed.id).state.value == "will_supply"
    assert c.institution.tasks(TaskList.DELIVERY_PROBLEMS) == []


def test_an_unknown_request_answer_gives_up_after_its_window_with_a_task() -> None:
    net, a, c = network()
    net.network.attach(A, StoresLate(a.institution.inbox.receive, races=10_000))
    a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[C])
    net.settle()
    window = DeliveryPolicy().unknown_request.window
    assert window is not None
    for _ in range(40):
        net.clock.advance(timedelta(minutes=1))
        net.settle()
    (line,) = c.institution.tasks(TaskList.DELIVERY_PROBLEMS)
    (task,) = c.institution.tasks_of(Side.LENDING, line.request_id)
    assert "requestingAgencyRequestId" in task.error
    assert task.attempts <= DeliveryPolicy().unknown_request.max_attempts


def test_a_retry_window_bounds_the_retries_whatever_the_attempts() -> None:
    policy = RetryPolicy(
        max_attempts=100, base_delay=timedelta(minutes=1), jitter=0.0, window=timedelta(minutes=10)
    )
    created = START
    assert policy.next_attempt(START, 1, 0.5, since=created) == START + timedelta(minutes=1)
    late = START + timedelta(minutes=9)
    assert policy.next_attempt(late, 2, 0.5, since=created) is None
    assert policy.next_attempt(late, 2, 0.5) == late + timedelta(minutes=2)
