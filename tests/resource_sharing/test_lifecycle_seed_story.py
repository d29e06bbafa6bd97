"""The seed story, both sides, through the pure core (as ``examples/seed_story.py`` tells it).

A's patron asks for a book. A's rota names B, then C. B does not hold it and answers
Unfilled; A moves on to C. C locates the item away from its resource-sharing library,
picks it, moves it there and ships it. A receives it, puts it on the hold shelf, lends it
to the patron, and renews it through C. A local patron's hold at C recalls it; the patron
returns it, A ships it back, C checks it in and both requests complete.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any

from resource_sharing.borrowing import BORROWING, BorrowingContext, handle_borrowing
from resource_sharing.effects import (
    AddTask,
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    NoticeKind,
    NotifyPatron,
    PlaceOnHoldShelf,
    PrintPickSlip,
    RecallPatronLoan,
    RouteItem,
    SendMessage,
    TaskList,
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
from resource_sharing.iso18626 import Status
from resource_sharing.lending import LENDING, LendingContext, handle_lending, new_lending_request
from resource_sharing.messages import Request, SupplyingAgencyMessage
from resource_sharing.records import ItemRef, RotaEntry
from tests.resource_sharing.builders_lifecycle import (
    BS,
    LS,
    T0,
    B,
    C,
    bctx,
    lctx,
    new_borrowing,
    renewals,
)

ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks level 2", desk="Main desk", home_library=None)


class Seed:
    """Three institutions and a reliable network between them; every step is logged."""

    def __init__(self) -> None:
        self.now = T0
        self.a = new_borrowing()
        self.lenders: dict[Any, Any] = {}
        self.inbox: deque[tuple[Any, Any]] = deque()
        self.log: list[tuple[str, str, tuple[Any, ...]]] = []  # (who, state, effects)

    def borrow(self, event: Any) -> None:
        # A's patrons may ask to renew in the two weeks before their due date
        policy = bctx(loan=renewals(window_days=14)).policy
        outcome = handle_borrowing(self.a, event, BorrowingContext(self.now, policy))
        self.a = outcome.record
        self._post("A", self.a.state.value, outcome.effects)

    def lend(self, at: Any, event: Any) -> None:
        policy = lctx(auto_reject_not_held=at == B).policy
        outcome = handle_lending(self.lenders[at], event, LendingContext(self.now, policy))
        self.lenders[at] = outcome.record
        self._post(at.value[-1], outcome.record.state.value, outcome.effects)

    def _post(self, who: str, state: str, effects: tuple[Any, ...]) -> None:
        self.log.append((who, state, effects))
        for effect in effects:
            if isinstance(effect, SendMessage):
                self.inbox.append((effect.to, effect.message))

    def deliver(self) -> None:
        while self.inbox:
            to, message = self.inbox.popleft()
            if isinstance(message, Request):
                self.lenders[to] = new_lending_request(
                    message, id=f"{to.value}-L1", agency=to, now=self.now
                )
                if to == B:
                    self.lend(B, LocateFailed("not in B's catalogue"))
                else:
                    self.lend(to, SupplyItem(ITEM))
            elif isinstance(message, SupplyingAgencyMessage):
                self.borrow(SupplierMessageReceived(message))
            else:
                self.lend(to, RequesterMessageReceived(message))

    def later(self, days: int) -> None:
        self.now += timedelta(days=days)

    def states(self, who: str) -> list[str]:
        return [state for w, state, _ in self.log if w == who]

    def effects(self, who: str) -> list[Any]:
        return [e for w, _, effects in self.log if w == who for e in effects]


def tell_the_story() -> Seed:
    story = Seed()
    story.borrow(SubmitRequest())
    story.borrow(AssignRota((RotaEntry(B, "tier 1"), RotaEntry(C, "tier 2"))))
    story.deliver()
    story.lend(C, PickItem())
    story.lend(C, ArriveAtRsLibrary())
    story.lend(C, ShipItem())
    story.deliver()
    story.later(3)
    story.borrow(ReceiveItem("A-TEMP-1"))
    story.deliver()
    story.borrow(CheckOutItem())
    story.later(20)
    story.borrow(RequestRenewal())
    story.deliver()
    story.later(5)
    story.lend(C, LocalHoldPlaced("c-patron-9"))
    story.deliver()
    story.later(4)
    story.borrow(ReturnByPatron("Branch desk"))
    story.borrow(ShipReturn())
    story.deliver()
    story.later(3)
    story.lend(C, CheckInReturn())
    story.deliver()
    return story


def test_the_borrowing_side_of_the_seed_story() -> None:
    story = tell_the_story()
    assert story.states("A") == [
        "locating",  # submitted: the patron is told the request was placed
        "sent",  # to B
        "sent",  # B: Unfilled, so on to C
        "will_supply",  # C will supply
        "shipped",  # C: Loaned
        "received",  # on the hold shelf
        "on_loan",  # the patron collected it
        "renew_requested",  # the patron asked to renew
        "on_loan",  # C renewed it
        "recalled",  # C recalled it
        "returned_by_patron",
        "return_shipped",
        "completed",  # C: LoanCompleted
    ]
    assert story.a.state is BS.COMPLETED
    assert [a.lender for a in story.a.attempts] == [B, C]
    assert story.a.renewal_count == 1
    effects = story.effects("A")
    kinds = [e.notice for e in effects if isinstance(e, NotifyPatron)]
    assert kinds[0] is NoticeKind.REQUEST_PLACED
    assert NoticeKind.ITEM_AVAILABLE in kinds
    assert NoticeKind.RENEWED in kinds
    assert NoticeKind.RECALLED in kinds
    for kind in (CreateTemporaryItem, PlaceOnHoldShelf, CheckOutToPatron, RecallPatronLoan):
        assert any(isinstance(e, kind) for e in effects), kind
    tasks = {e.task_list: e.instruction for e in effects if isinstance(e, AddTask)}
    assert (
        tasks[TaskList.HOLD_SHELF] == "Place on hold shelf for Ada Lovelace; the patron is notified"
    )
    assert tasks[TaskList.RETURN_ITEMS] == "Return to lender ISIL:US-C: ship back"
    assert BORROWING.info(story.a.state).terminal


def test_the_lending_side_of_the_seed_story() -> None:
    story = tell_the_story()
    assert story.states("B") == ["unfilled"]  # locate failed: Unfilled (NotHeld) at once
    assert story.lenders[B].state is LS.UNFILLED
    assert story.states("C") == [
        "pick_from_shelf",  # located: pick slip printed, Will supply sent
        "in_transit_to_rs_library",  # picked away from the resource-sharing library
        "ready_to_ship",
        "shipped",  # Loaned with a due date
        "received_by_partner",  # A: Received
        "received_by_partner",  # A: Renew, granted automatically
        "recalled",  # a local hold recalls it
        "returned_by_partner",  # A: ShippedReturn
        "completed",  # checked in: LoanCompleted
    ]
    lent = story.lenders[C]
    assert lent.state is LS.COMPLETED
    assert lent.renewal_count == 1
    effects = story.effects("C")
    (slip,) = [e for e in effects if isinstance(e, PrintPickSlip)]
    assert slip.item == ITEM
    assert any(isinstance(e, CheckOutToPartner) for e in effects)
    assert any(isinstance(e, CheckIn) for e in effects)
    (route,) = [e for e in effects if isinstance(e, RouteItem)]
    assert route.instruction == "Place on the hold shelf for the local patron's hold"
    picks = [
        e for e in effects if isinstance(e, AddTask) and e.task_list is TaskList.PICK_FROM_SHELF
    ]
    assert picks[0].desk == "Main desk"
    assert picks[0].instruction == "Pick C-39001 (QA76 .K6) from Stacks level 2"
    statuses = [
        e.message.status
        for e in effects
        if isinstance(e, SendMessage) and isinstance(e.message, SupplyingAgencyMessage)
    ]
    assert statuses[0] is Status.WILL_SUPPLY
    assert statuses[-1] is Status.LOAN_COMPLETED
    assert LENDING.info(lent.state).terminal
