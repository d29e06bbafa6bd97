"""Every adapter call of a node's dispatcher lasts at most its port's timeout.

The dispatcher runs on :class:`ThreadedAttempts`, as a node's does. A printer that hangs
(it never answers until the test lets it go) stands for any port that takes a call and
stalls. Each test lets the hung calls go at its end, so no worker thread outlives it; the
timeouts are a fifth of a second, so the suite waits a second at most.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from resource_sharing.directory import Partner
from resource_sharing.effects import PrintJob, PrintPickSlip, TaskList
from resource_sharing.errors import DeliveryError
from resource_sharing.memory import MemoryPrinter
from resource_sharing.ports import Holding, OutboxStatus, Port
from resource_sharing.records import AgencyId, Citation, ItemRef, PatronRef, Side
from resource_sharing.service import DeliveryPolicy, RetryPolicy, Settings
from resource_sharing.testing.consortium import Consortium, Member
from resource_sharing_adapters.attempts import ThreadedAttempts

A, C = AgencyId("US-A"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="The Art of Computer Programming")
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks", desk="Main desk")
TIMEOUT = timedelta(seconds=0.2)


class HangingPrinter:
    """Hangs on the first ``hangs`` calls of each key until released, then prints."""

    def __init__(self, hangs: int) -> None:
        self.hangs = hangs
        self.inner = MemoryPrinter()
        self.calls: list[str] = []
        self.released = threading.Event()

    def print_document(self, job: PrintJob, *, key: str) -> None:
        self.calls.append(key)
        if self.calls.count(key) <= self.hangs:
            self.released.wait(10)  # bounded, in case a test forgets to release it
            raise DeliveryError("printer", "the connection dropped at last")
        self.inner.print_document(job, key=key)


@pytest.fixture
def hanging() -> Iterator[list[HangingPrinter]]:
    made: list[HangingPrinter] = []
    yield made
    for printer in made:
        printer.released.set()


def lender(printer: HangingPrinter, max_attempts: int) -> tuple[Consortium, Member, str]:
    """A asks C, whose printer is ``printer`` (timeout 0.2 s); returns A's request id."""
    net = Consortium(START)
    partners = [Partner(A, "A"), Partner(C, "C")]
    policy = RetryPolicy(
        max_attempts=max_attempts, base_delay=timedelta(minutes=1), timeout=TIMEOUT
    )
    net.add(Settings(A), partners=partners)
    c = net.add(
        Settings(C, delivery=DeliveryPolicy(printer=policy)),
        partners=partners,
        holdings={"the art of computer programming": Holding(ITEM)},
        printer=printer,
        attempts=ThreadedAttempts(),
    )
    a = net.members[A].institution
    placed = a.borrowing.place_request(PatronRef("p-1", "Ada"), BOOK, rota=[C])
    return net, c, placed.id


def pick_slip_entry(c: Member) -> tuple[OutboxStatus, int, str | None]:
    with c.store.transaction() as uow:
        (entry,) = uow.outbox.entries(port=Port.PRINTER)
    assert isinstance(entry.effect, PrintPickSlip)
    return entry.status, entry.attempts, entry.last_error


def test_a_hung_attempt_times_out_is_retried_and_delivered_once(
    hanging: list[HangingPrinter],
) -> None:
    printer = HangingPrinter(hangs=1)
    hanging.append(printer)
    net, c, request_id = lender(printer, max_attempts=3)
    net.settle()
    assert pick_slip_entry(c) == (OutboxStatus.PENDING, 1, "timed out after 0.2 s")
    assert not c.institution.tasks(TaskList.DELIVERY_PROBLEMS)
    # The other ports went on meanwhile: the borrower heard that C will supply.
    a = net.members[A].institution
    assert a.get(Side.BORROWING, request_id).state.value == "will_supply"
    printer.released.set()  # the hung call returns at last (and fails): nobody reads it
    net.clock.advance(timedelta(minutes=5))
    net.settle()
    assert pick_slip_entry(c) == (OutboxStatus.DELIVERED, 2, "timed out after 0.2 s")
    assert len(printer.inner.jobs) == 1
    assert len(set(printer.calls)) == 1  # the same idempotency key both times


def test_a_port_that_keeps_hanging_gives_up_into_a_task(hanging: list[HangingPrinter]) -> None:
    printer = HangingPrinter(hangs=2)
    hanging.append(printer)
    net, c, _ = lender(printer, max_attempts=2)
    net.settle()
    net.clock.advance(timedelta(minutes=5))
    net.settle()
    assert pick_slip_entry(c) == (OutboxStatus.GIVEN_UP, 2, "timed out after 0.2 s")
    (task,) = c.institution.tasks(TaskList.DELIVERY_PROBLEMS)
    assert "timed out after 0.2 s" in (task.instruction or "")
    printer.released.set()
    assert c.institution.task_desk.retry_now(task.task_id or "", by="alice")  # third call: works
    assert len(printer.inner.jobs) == 1


def test_an_attempt_returns_the_answer_or_raises_the_ports_error_in_the_caller() -> None:
    attempts = ThreadedAttempts()
    assert attempts.run(lambda: "Reshelve", timeout=TIMEOUT, port="circulation") == "Reshelve"

    def refuse() -> None:
        raise DeliveryError("circulation", "no such item", retryable=False)

    with pytest.raises(DeliveryError, match="no such item") as raised:
        attempts.run(refuse, timeout=TIMEOUT, port="circulation")
    assert raised.value.retryable is False
