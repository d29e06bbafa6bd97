"""Property: the two sides converge, or a task exists.

Whatever a lender's messages do (arrive, vanish, come late and out of order),
interleaved with staff work on both sides, time and sweep runs, the two sides end in step
or the borrowing request has an open task.

Borrower A and lender C run the real services on the in-memory network with one fake
clock. A's messages to C always arrive (C's state is the truth of what C was told); C's
messages to A are, as the network's drawn mode says at the time, delivered, lost after
an OK (a peer that confirms and drops), or held and delivered later in reverse order. At the end the
network heals, time passes beyond ``idle_after`` and the sweep runs: then A's state fits
C's status (``resource_sharing.consistency.compare``) or A's request has an open task.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from resource_sharing.consistency import SweepPolicy, compare
from resource_sharing.directory import Partner
from resource_sharing.errors import ResourceSharingError
from resource_sharing.iso18626 import MessageStatus, Status
from resource_sharing.lending import LENDING
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import Holding
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    Identifier,
    ItemRef,
    LendingRequest,
    PatronRef,
    Side,
)
from resource_sharing.service import Settings
from resource_sharing.states import BorrowingState, LendingState
from resource_sharing.testing.consortium import Consortium
from resource_sharing.testing.fakes import Network

A, C = AgencyId("US-A"), AgencyId("US-C")
T0 = datetime(2026, 9, 7, 9, tzinfo=UTC)
ISBN = "9780201896831"
POLICY = SweepPolicy(idle_after=timedelta(days=3), interval=timedelta(hours=1), per_peer=5)


class FatefulTransport:
    """C's transport: its messages are delivered, lost or held, as the drawn mode says."""

    def __init__(self, network: Network, sender: AgencyId) -> None:
        self._network = network
        self._sender = sender
        self.mode = "deliver"
        self.held: list[tuple[AgencyId, PeerMessage, str]] = []

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        fate = self.mode
        if fate == "deliver":
            return self._network.deliver(self._sender, partner.agency, message, message_id)
        if fate == "hold":
            self.held.append((partner.agency, message, message_id))
        return Confirmation(
            confirms=message.kind,
            status=MessageStatus.OK,
            timestamp=message.header.timestamp,
            timestamp_received=message.header.timestamp,
        )

    def release(self) -> None:
        """Deliver the held messages, newest first (out of order)."""
        held, self.held = self.held, []
        for to, message, message_id in reversed(held):
            self._network.deliver(self._sender, to, message, message_id)


class World:
    def __init__(self) -> None:
        self.net = Consortium(T0)
        self.c_transport = FatefulTransport(self.net.network, C)
        self.a = self.net.add(Settings(A, sweep=POLICY), partners=[Partner(C)])
        self.c = self.net.add(
            Settings(C),
            partners=[Partner(A)],
            holdings={ISBN: Holding(ItemRef("C-1", location="Stacks"))},
            transport=self.c_transport,
        )
        book = Citation(title="TAOCP", item_ids=(Identifier("ISBN", ISBN),))
        placed = self.a.institution.borrowing.place_request(PatronRef("p-1"), book, rota=[C])
        self.request_id = placed.id
        self.net.settle()

    def borrowing(self) -> BorrowingRequest:
        record = self.a.institution.get(Side.BORROWING, self.request_id)
        assert isinstance(record, BorrowingRequest)
        return record

    def lending(self) -> LendingRequest | None:
        attempt = self.borrowing().attempts[-1]
        with self.c.store.transaction() as uow:
            found = uow.requests.find(Side.LENDING, attempt.request_id, A)
            record = uow.requests.get(Side.LENDING, found) if found else None
        return record if isinstance(record, LendingRequest) else None

    def step(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        a, c = self.a.institution, self.c.institution
        lent = self.lending()
        try:
            if kind == "network":
                self.c_transport.mode = step[1]
            elif kind == "release":
                self.c_transport.release()
            elif kind == "settle":
                self.net.settle()
            elif kind == "time":
                self.net.clock.advance(timedelta(days=step[1]))
                a.tick()
                c.tick()
            elif kind == "sweep":
                a.sweep.run()
            elif kind == "lender" and lent is not None:
                action = step[1]
                if action == "next":
                    action = _LENDER_NEXT.get(lent.state, "none")
                if action == "check_in":
                    c.lending.check_in("C-1")
                elif action == "reject":
                    c.lending.reject(lent.id, "NotAvailableForILL")
                elif action != "none":
                    getattr(c.lending, action)(lent.id)
            elif kind == "borrower":
                action = step[1]
                if action == "next":
                    action = _BORROWER_NEXT.get(self.borrowing().state, "none")
                if action == "receive" and (lent is None or lent.state in _NOT_SHIPPED):
                    action = "none"  # an item arrives only once the lender shipped it
                if action == "receive":
                    a.borrowing.receive(self.request_id, "A-TEMP-1")
                elif action == "return":
                    a.borrowing.return_item("A-TEMP-1")
                elif action != "none":
                    getattr(a.borrowing, action)(self.request_id)
        except ResourceSharingError:
            pass  # not possible in this state: nothing changed

    def heal(self) -> None:
        """The network heals, time passes, the sweep runs (twice, an interval apart)."""
        self.c_transport.mode = "deliver"
        self.c_transport.release()
        self.net.settle()
        healed = self.borrowing().state
        for _ in range(2):
            self.net.clock.advance(2 * POLICY.idle_after)
            self.a.institution.sweep.run()
            self.net.settle()
        event(f"the sweep's answers moved us on: {self.borrowing().state is not healed}")


_LENDER_NEXT = {
    LendingState.PICK_FROM_SHELF: "pick",
    LendingState.IN_TRANSIT_TO_RS_LIBRARY: "arrive",
    LendingState.READY_TO_SHIP: "ship",
    LendingState.RETURNED_BY_PARTNER: "check_in",
}
"""The lender's next step in the ordinary flow, by its state."""

_BORROWER_NEXT = {
    BorrowingState.SHIPPED: "receive",
    BorrowingState.WILL_SUPPLY: "receive",  # the item came though its Loaned did not
    BorrowingState.RECEIVED: "check_out",
    BorrowingState.ON_LOAN: "return",
    BorrowingState.RECALLED: "return",
    BorrowingState.OVERDUE: "return",
    BorrowingState.RETURNED_BY_PATRON: "ship_return",
}
"""The borrower's next step in the ordinary flow, by its state."""

_NOT_SHIPPED = frozenset(
    {
        LendingState.NEW,
        LendingState.LOCATE_FAILED,
        LendingState.CONDITIONAL,
        LendingState.WILL_SUPPLY,
        LendingState.PICK_FROM_SHELF,
        LendingState.IN_TRANSIT_TO_RS_LIBRARY,
        LendingState.READY_TO_SHIP,
        LendingState.UNFILLED,
        LendingState.CANCELLED,
        LendingState.EXPIRED,
    }
)


def lender_status(record: LendingRequest) -> Status:
    """What C answers a StatusRequest with (the lending table's status for its state)."""
    state = record.state
    if state is LendingState.CANCEL_REQUESTED and record.resume_state is not None:
        state = record.resume_state
    iso = LENDING.info(state).iso_status
    return Status(iso) if iso is not None else Status.REQUEST_RECEIVED


STEPS = st.sampled_from(
    [
        *[("lender", "next")] * 4,  # the ordinary flow, mostly
        *[("borrower", "next")] * 4,
        ("lender", "recall"),
        ("lender", "mark_lost"),
        ("lender", "reject"),
        ("borrower", "renew"),
        ("network", "deliver"),
        ("network", "lose"),
        ("network", "hold"),
        ("release",),
        *[("settle",)] * 3,
        ("time", 1),
        ("time", 4),
        ("time", 10),
        ("sweep",),
    ]
)
"""One step: a lender or borrower action, the network's mode, delivery, time, a sweep run."""


@given(st.lists(STEPS, min_size=8, max_size=40))
def test_the_two_sides_converge_or_a_task_exists(steps: list[tuple[Any, ...]]) -> None:
    world = World()
    for step in steps:
        world.step(step)
    before = world.lending()
    drifted = (
        before is not None
        and not compare(world.borrowing().state, lender_status(before)).consistent
    )
    event(f"drifted before healing: {drifted}")
    world.heal()

    ours = world.borrowing()
    lent = world.lending()
    assert lent is not None  # A's messages always arrive: C has the request
    theirs = lender_status(lent)
    in_step = compare(ours.state, theirs).consistent
    tasks = [t for t in world.a.institution.tasks_of(Side.BORROWING, ours.id) if not t.resolution]
    event(f"in step: {in_step}; open tasks: {len(tasks)}")
    event(f"ends: {ours.state.value}")
    assert in_step or tasks, (ours.state, lent.state, theirs, steps)
