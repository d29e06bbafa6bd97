"""Staff StatusRequest, the lender's answer compared with our state, and the sweep.

Two institutions on the in-memory network; the lender's messages can be lost (the
transport says OK and nothing arrives, as with a peer that confirms and then drops
them), so the two sides drift apart the way they do on a hostile network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from resource_sharing.consistency import SweepPolicy
from resource_sharing.directory import Partner
from resource_sharing.effects import SendMessage, TaskList
from resource_sharing.errors import IllegalTransition, InvalidInput
from resource_sharing.iso18626 import Action, MessageStatus, ReasonForMessage, Status
from resource_sharing.memory import MemoryStore
from resource_sharing.messages import (
    Confirmation,
    Header,
    PeerMessage,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import Holding, OutboxStatus, TaskChoice
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    Identifier,
    ItemRef,
    PatronRef,
    Side,
)
from resource_sharing.service import Settings
from resource_sharing.states import BorrowingState
from resource_sharing.testing.consortium import Consortium, Member
from resource_sharing.testing.fakes import Network

A, C, D = AgencyId("US-A"), AgencyId("US-C"), AgencyId("US-D")
T0 = datetime(2026, 9, 7, 9, tzinfo=UTC)
ISBNS = ("9780201896831", "9780201896838", "9780201485417")


def book(n: int = 0) -> Citation:
    return Citation(title=f"TAOCP {n + 1}", item_ids=(Identifier("ISBN", ISBNS[n]),))


class LossyTransport:
    """Sends through the network, except messages ``drop`` picks: confirmed OK, never delivered."""

    def __init__(self, network: Network, sender: AgencyId) -> None:
        self._inner = network.transport_for(sender)
        self.drop: Callable[[PeerMessage], bool] = lambda message: False
        self.dropped: list[PeerMessage] = []

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        if self.drop(message):
            self.dropped.append(message)
            return Confirmation(
                confirms=message.kind,
                status=MessageStatus.OK,
                timestamp=message.header.timestamp,
                timestamp_received=message.header.timestamp,
            )
        return self._inner.send(partner, message, message_id)


@attrs.frozen
class Pair:
    net: Consortium
    a: Member
    c: Member
    lossy: LossyTransport


def pair(policy: SweepPolicy | None = None, store: MemoryStore | None = None) -> Pair:
    net = Consortium(T0)
    lossy = LossyTransport(net.network, C)
    settings = Settings(A, sweep=policy or SweepPolicy())
    a = net.add(settings, partners=[Partner(C), Partner(D)], store=store)
    c = net.add(
        Settings(C),
        partners=[Partner(A)],
        holdings={isbn: Holding(ItemRef(f"C-{isbn}", location="Stacks")) for isbn in ISBNS},
        transport=lossy,
    )
    return Pair(net, a, c, lossy)


def place(p: Pair, n: int = 0) -> BorrowingRequest:
    desk = p.a.institution.borrowing
    request = desk.place_request(PatronRef(f"p-{n}"), book(n), rota=[C])
    p.net.settle()
    return request


def lending_id(p: Pair) -> str:
    (task,) = p.c.institution.tasks(TaskList.PICK_FROM_SHELF)
    return task.request_id


def borrowing(p: Pair, request_id: str) -> BorrowingRequest:
    record = p.a.institution.get(Side.BORROWING, request_id)
    assert isinstance(record, BorrowingRequest)
    return record


def events(p: Pair, request_id: str) -> list[str]:
    return [e.event for e in p.a.institution.history(Side.BORROWING, request_id)]


def answer(p: Pair, request: BorrowingRequest, status: Status | None) -> Confirmation:
    """A status answer from C, as a scripted lender would send it."""
    attempt = request.attempts[-1]
    header = Header(A, C, attempt.request_id, p.net.clock.now())
    message = SupplyingAgencyMessage(
        header, ReasonForMessage.STATUS_REQUEST_RESPONSE, status, p.net.clock.now()
    )
    return p.a.institution.inbox.receive(message, sender=C)


# -- staff StatusRequest -------------------------------------------------------------


def test_staff_ask_the_lender_and_an_answer_in_step_is_recorded_without_a_task() -> None:
    p = pair()
    request = place(p)
    assert borrowing(p, request.id).state is BorrowingState.WILL_SUPPLY

    asked = p.a.institution.borrowing.by("ada").ask_lender_status(request.id, "where is it?")
    assert isinstance(asked, BorrowingRequest)
    assert asked.attempts[-1].status_asked_at == T0
    (entry,) = list(p.a.institution.history(Side.BORROWING, request.id))[-1:]
    assert (entry.event, str(entry.actor)) == ("AskLenderStatus", "staff:ada")
    p.net.settle()

    ram = [s.message for s in p.net.network.log if isinstance(s.message, RequestingAgencyMessage)]
    assert [(m.action, m.note) for m in ram] == [(Action.STATUS_REQUEST, "where is it?")]
    history = p.a.institution.history(Side.BORROWING, request.id)
    compared = history[-1]
    assert compared.event == "StatusCompared"
    assert compared.reason == "consistent"
    assert compared.detail == "in step: ISIL:US-C reports WillSupply; we have will_supply"
    assert p.a.institution.tasks(TaskList.OUT_OF_STEP) == []


def test_a_lost_shipment_is_caught_up_by_the_status_answer() -> None:
    p = pair()
    request = place(p)
    p.lossy.drop = lambda m: isinstance(m, SupplyingAgencyMessage) and m.status is Status.LOANED
    lending, lent = p.c.institution.lending, lending_id(p)
    lending.pick(lent)
    lending.ship(lent)
    p.net.settle()
    assert len(p.lossy.dropped) == 1
    assert borrowing(p, request.id).state is BorrowingState.WILL_SUPPLY  # drifted

    p.lossy.drop = lambda m: False
    p.a.institution.borrowing.by("ada").ask_lender_status(request.id)
    p.net.settle()

    assert borrowing(p, request.id).state is BorrowingState.SHIPPED
    compared = p.a.institution.history(Side.BORROWING, request.id)[-1]
    assert compared.detail == "in step: ISIL:US-C reports Loaned; we have shipped"
    assert p.a.institution.tasks(TaskList.OUT_OF_STEP) == []


def test_an_answer_our_table_cannot_take_becomes_one_out_of_step_task() -> None:
    p = pair()
    request = place(p)
    current = borrowing(p, request.id)

    confirmation = answer(p, current, Status.LOAN_COMPLETED)  # we never received it

    assert confirmation.status is MessageStatus.OK  # a valid answer; our state is off
    assert borrowing(p, request.id).state is BorrowingState.WILL_SUPPLY
    history = p.a.institution.history(Side.BORROWING, request.id)
    assert [e.event for e in history[-2:]] == ["SupplierMessageReceived", "StatusCompared"]
    assert history[-1].reason == "out_of_step"
    assert "ISIL:US-C reports LoanCompleted; we have will_supply" in (history[-1].detail or "")
    (task,) = p.a.institution.tasks_of(Side.BORROWING, request.id)
    assert task.task_list is TaskList.OUT_OF_STEP
    assert task.title == "Out of step with ISIL:US-C: it reports LoanCompleted, we have will_supply"
    assert task.error.startswith("suggested: the lender has closed a loan we never received")
    assert task.choices == (TaskChoice.DONE_BY_HAND, TaskChoice.DROP)
    (line,) = p.a.institution.tasks(TaskList.OUT_OF_STEP)
    assert line.instruction is not None
    assert line.instruction.endswith("Choose: done by hand, drop")

    # the same answer again later: still one open task, and the history says so
    p.net.clock.advance(timedelta(hours=1))
    answer(p, borrowing(p, request.id), Status.LOAN_COMPLETED)
    assert len(p.a.institution.tasks_of(Side.BORROWING, request.id)) == 1
    assert f"(task {task.id} is still open)" in (
        p.a.institution.history(Side.BORROWING, request.id)[-1].detail or ""
    )

    resolved = p.a.institution.task_desk.resolve(
        task.id, TaskChoice.DONE_BY_HAND, by="ada", note="phoned them"
    )
    assert resolved.resolution is not None
    assert str(resolved.resolution.by) == "staff:ada"
    last = p.a.institution.history(Side.BORROWING, request.id)[-1]
    assert (last.event, last.reason) == ("ResolveTask", "phoned them")
    assert p.a.institution.tasks(TaskList.OUT_OF_STEP) == []
    with pytest.raises(InvalidInput):
        p.a.institution.task_desk.retry_now(task.id, by="ada")


def test_an_answer_without_a_status_is_out_of_step() -> None:
    p = pair()
    request = place(p)
    answer(p, borrowing(p, request.id), None)
    (task,) = p.a.institution.tasks_of(Side.BORROWING, request.id)
    assert (
        task.error
        == "suggested: the lender answered without a status: ask again, or contact the lender"
    )


def test_staff_cannot_ask_before_a_lender_has_the_request() -> None:
    p = pair()
    desk = p.a.institution.borrowing.by("ada")
    request = desk.place_request(PatronRef("p-1"), book(), rota=[])
    assert borrowing(p, request.id).state is BorrowingState.LOCATE_FAILED
    with pytest.raises(IllegalTransition):
        desk.ask_lender_status(request.id)


# -- the sweep --------------------------------------------------------------------------


def test_the_sweep_asks_about_idle_requests_only_once_per_period() -> None:
    policy = SweepPolicy(idle_after=timedelta(days=3), interval=timedelta(hours=1))
    p = pair(policy)
    request = place(p)
    sweep = p.a.institution.sweep

    early = sweep.run(T0 + timedelta(days=1))
    assert (early.ran, early.idle, early.asked) == (True, 0, 0)

    later = T0 + timedelta(days=4)
    p.net.clock.set(later)
    report = sweep.run(later)
    assert (report.ran, report.idle, report.asked, report.per_lender) == (
        True,
        1,
        1,
        {"ISIL:US-C": 1},
    )
    assert sweep.run(later + timedelta(minutes=5)).ran is False  # this hour's run is taken
    p.net.settle()
    assert events(p, request.id)[-3:] == [
        "AskLenderStatus",
        "SupplierMessageReceived",
        "StatusCompared",
    ]

    again = sweep.run(later + timedelta(hours=2))
    assert (again.ran, again.asked, again.asked_recently) == (True, 0, 1)
    assert "1 idle, 0 asked (none), 1 asked recently" in again.describe()


def test_the_sweep_asks_each_lender_at_most_per_peer_per_run() -> None:
    policy = SweepPolicy(idle_after=timedelta(days=1), per_peer=2)
    p = pair(policy)
    ids = [place(p, n).id for n in range(3)]
    later = T0 + timedelta(days=2)
    p.net.clock.set(later)

    first = p.a.institution.sweep.run(later)
    assert (first.asked, first.rate_limited) == (2, 1)
    second = p.a.institution.sweep.run(later + policy.interval)
    assert (second.asked, second.asked_recently, second.rate_limited) == (1, 2, 0)
    asked = [borrowing(p, i).attempts[-1].status_asked_at for i in ids]
    assert asked == [later, later, later + policy.interval]


def test_two_processes_on_one_store_run_each_period_once() -> None:
    store = MemoryStore()
    policy = SweepPolicy(idle_after=timedelta(days=1))
    p = pair(policy, store)
    place(p)
    other = p.net.add(Settings(AgencyId("US-A2"), sweep=policy), store=store.sibling(), owner="b")
    later = T0 + timedelta(days=2)
    p.net.clock.set(later)

    reports = [p.a.institution.sweep.run(later), other.institution.sweep.run(later)]
    assert [r.ran for r in reports] == [True, False]
    with store.transaction() as uow:
        pending = uow.outbox.entries(status=OutboxStatus.PENDING)
    questions = [e.effect for e in pending if isinstance(e.effect, SendMessage)]
    assert [q.message.action for q in questions] == [Action.STATUS_REQUEST]  # type: ignore[union-attr]
