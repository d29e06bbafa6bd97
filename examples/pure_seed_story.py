"""The seed story, driven through the pure core alone.

Three institutions: A borrows for its patron; B is asked first and answers Unfilled;
C supplies. Each institution's messages are handed to the other side's lifecycle by
this script (standing in for the network); every step prints the request's state, the
staff task lists it is on and the operator's instruction.

Run: ``python examples/pure_seed_story.py``. (``make demo`` tells the same story through
the application services: ``examples/seed_story.py``.)
"""

from __future__ import annotations

import sys
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from resource_sharing.borrowing import (
    BORROWING,
    BorrowingContext,
    BorrowingPolicy,
    handle_borrowing,
)
from resource_sharing.effects import (
    AddTask,
    Effect,
    NotifyPatron,
    RemoveTask,
    RouteItem,
    SendMessage,
)
from resource_sharing.events import (
    ArriveAtRsLibrary,
    AssignRota,
    CheckInReturn,
    CheckOutItem,
    LocalHoldPlaced,
    LocateFailed,
    PickItem,
    ReceiveItem,
    RequesterMessageReceived,
    RequestRenewal,
    ReturnByPatron,
    ShipItem,
    ShipReturn,
    SubmitRequest,
    SupplierMessageReceived,
    SupplyItem,
)
from resource_sharing.lending import (
    LENDING,
    LendingContext,
    LendingPolicy,
    handle_lending,
    new_lending_request,
)
from resource_sharing.lifecycle import Outcome
from resource_sharing.messages import Request, RequestingAgencyMessage, SupplyingAgencyMessage
from resource_sharing.policies import PatronLoanRules, PatronRenewalRules
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    Identifier,
    ItemRef,
    LendingRequest,
    PatronRef,
    RotaEntry,
)

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")


class Story:
    """The three institutions' requests and the messages in flight between them."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.borrowing: BorrowingRequest | None = None
        self.lending: dict[AgencyId, LendingRequest] = {}
        # A's patrons may ask to renew two weeks before their due date; C's default
        # terms renew automatically and a local hold recalls (resource_sharing.policies).
        self.borrowing_policy = BorrowingPolicy(
            loan=PatronLoanRules(renewal=PatronRenewalRules(window_days=14))
        )
        self.policies = {
            B: LendingPolicy(auto_reject_not_held=True),
            C: LendingPolicy(rs_library="ILL desk"),
        }
        self.in_flight: deque[tuple[AgencyId, AgencyId, object]] = deque()

    def show(self, who: AgencyId, side: str, request: object, outcome: Outcome[Any]) -> None:
        """Print one step: the state reached, its effects and the operator's instruction."""
        record = outcome.record
        lifecycle = BORROWING if side == "borrowing" else LENDING
        state = record.state.value
        print(f"[{who.value}] {side:9} {state:20} <- {outcome.trigger}")
        for effect in outcome.effects:
            _describe(effect)
        instruction = lifecycle.instruction(record)
        if instruction:
            print(f"          instruction: {instruction}")

    def borrow(self, event: object, *, note: str = "") -> None:
        """Apply an event to A's borrowing request."""
        assert self.borrowing is not None
        ctx = BorrowingContext(self.now, self.borrowing_policy)
        outcome = handle_borrowing(self.borrowing, event, ctx)  # type: ignore[arg-type]
        self.borrowing = outcome.record
        self.show(A, "borrowing", self.borrowing, outcome)
        self._queue(A, outcome.effects)

    def lend(self, at: AgencyId, event: object) -> None:
        """Apply an event to the lending request at ``at``."""
        ctx = LendingContext(self.now, self.policies[at])
        outcome = handle_lending(self.lending[at], event, ctx)  # type: ignore[arg-type]
        self.lending[at] = outcome.record
        self.show(at, "lending", self.lending[at], outcome)
        self._queue(at, outcome.effects)

    def _queue(self, sender: AgencyId, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            if isinstance(effect, SendMessage):
                self.in_flight.append((sender, effect.to, effect.message))

    def deliver_all(self) -> None:
        """Deliver every message in flight, in order (as a reliable network would)."""
        while self.in_flight:
            sender, to, message = self.in_flight.popleft()
            print(f"          ~~ {type(message).__name__} {sender.value} -> {to.value}")
            if isinstance(message, Request):
                self.lending[to] = new_lending_request(
                    message, id=f"{to.value}-L1", agency=to, now=self.now
                )
                print(
                    f"[{to.value}] lending   {self.lending[to].state.value:20} <- request arrives"
                )
                self.on_arrival(to)
            elif isinstance(message, SupplyingAgencyMessage):
                self.borrow(SupplierMessageReceived(message))
            elif isinstance(message, RequestingAgencyMessage):
                self.lend(to, RequesterMessageReceived(message))

    def on_arrival(self, at: AgencyId) -> None:
        """What each lender's automatic locate finds."""
        if at == B:
            self.lend(B, LocateFailed("not in B's catalogue"))
        else:
            item = ItemRef("C-39001", "QA76 .K6", "Stacks level 2", desk="Main desk")
            self.lend(at, SupplyItem(item))

    def advance(self, days: int) -> None:
        """Let ``days`` days pass."""
        self.now += timedelta(days=days)
        print(f"--- {days} days later: {self.now:%Y-%m-%d}")


def _describe(effect: Effect) -> None:
    if isinstance(effect, NotifyPatron):
        detail = f" ({effect.detail})" if effect.detail else ""
        print(f"          notice to patron: {effect.notice.value}{detail}")
    elif isinstance(effect, AddTask):
        desk = f" at {effect.desk}" if effect.desk else ""
        print(f"          task list {effect.task_list.value}{desk}")
    elif isinstance(effect, RouteItem):
        print(f"          route item: {effect.instruction}")
    elif isinstance(effect, RemoveTask):
        print(f"          off task list {effect.task_list.value}")
    elif not isinstance(effect, SendMessage):
        print(f"          {type(effect).__name__}")


def main() -> int:
    """Run the seed story; 0 when it ends as it should."""
    story = Story(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    citation = Citation(
        title="The Art of Computer Programming",
        author="Knuth, Donald",
        item_ids=(Identifier("ISBN", "9780201896831"),),
    )
    patron = PatronRef("p-1", "Ada Lovelace", group="faculty")
    story.borrowing = BorrowingRequest(
        "A-1", A, patron, citation, story.now, pickup_location="Main"
    )
    print("[US-A] borrowing created              <- a patron asks for a book")
    story.borrow(SubmitRequest())
    story.borrow(AssignRota((RotaEntry(B, "tier 1"), RotaEntry(C, "tier 2"))))
    story.deliver_all()
    story.lend(C, PickItem())
    story.lend(C, ArriveAtRsLibrary())
    story.lend(C, ShipItem())
    story.deliver_all()
    story.advance(3)
    story.borrow(ReceiveItem("A-TEMP-1"))
    story.deliver_all()
    story.borrow(CheckOutItem())
    story.advance(20)
    story.borrow(RequestRenewal())
    story.deliver_all()
    story.advance(5)
    story.lend(C, LocalHoldPlaced("c-patron-9"))
    story.deliver_all()
    story.advance(4)
    story.borrow(ReturnByPatron("Branch desk"))
    story.borrow(ShipReturn())
    story.deliver_all()
    story.advance(3)
    story.lend(C, CheckInReturn())
    story.deliver_all()
    assert story.borrowing is not None
    ends = (
        story.borrowing.state.value,
        story.lending[B].state.value,
        story.lending[C].state.value,
    )
    print(f"end: A {ends[0]}, B {ends[1]}, C {ends[2]}")
    return 0 if ends == ("completed", "unfilled", "completed") else 1


if __name__ == "__main__":
    sys.exit(main())
