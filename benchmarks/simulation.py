"""Service-layer speed: whole loans per second through the services, against the pure core.

One loan, both sides, request to completed: A places a request for its patron with C as
its rota; C locates the item automatically, picks and ships it; A receives it, lends it to
the patron, takes it back and ships it back; C checks it in, which completes both sides.

- ``simulation.service_lifecycles``: the loan through two real ``Institution`` objects
  on the in-memory adapters (``Consortium``: store, outbox, dispatcher, peer inbox with
  idempotency, notifier, circulation), a fresh consortium per loan;
- ``simulation.core_lifecycles`` (the baseline, measured here in the same run): the same
  loan driven through ``handle_borrowing`` / ``handle_lending`` alone, messages handed
  from one side to the other in memory;
- ``simulation.requests``: simulator throughput, requests per second of a small scenario
  (faults on), for sizing ``resource-sharing simulate`` runs.

Prints one JSON object per figure: ``name``, ``value``, ``unit``, and for the service
figure ``baseline``, ``baseline_value`` and ``ratio`` (the service layer's time per loan
/ the pure core's: its overhead).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from resource_sharing.borrowing import BorrowingContext, handle_borrowing
from resource_sharing.directory import Partner
from resource_sharing.effects import SendMessage, TaskList
from resource_sharing.events import (
    AssignRota,
    CheckInReturn,
    CheckOutItem,
    PickItem,
    ReceiveItem,
    RequesterMessageReceived,
    ReturnByPatron,
    ShipItem,
    ShipReturn,
    SubmitRequest,
    SupplierMessageReceived,
    SupplyItem,
)
from resource_sharing.lending import LendingContext, handle_lending, new_lending_request
from resource_sharing.messages import Request, RequestingAgencyMessage
from resource_sharing.ports import Holding
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    ItemRef,
    PatronRef,
    RotaEntry,
    Side,
)
from resource_sharing.service import Settings
from resource_sharing.simulation import NetworkFaults, Scenario, Simulation
from resource_sharing.testing.consortium import Consortium

A, C = AgencyId("US-A"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="The Art of Computer Programming")
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks", desk="Main desk")
PATRON = PatronRef("p-1", "Ada Lovelace")


def service_loan() -> None:
    """One loan through the services."""
    net = Consortium(START)
    partners = [Partner(A, "A"), Partner(C, "C")]
    net.add(Settings(A), partners=partners)
    net.add(
        Settings(C), partners=partners, holdings={"the art of computer programming": Holding(ITEM)}
    )
    a, c = net[A].institution, net[C].institution
    request = a.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[C])
    net.settle()
    lending_id = c.tasks(TaskList.PICK_FROM_SHELF)[0].request_id  # C's only request
    c.lending.pick(lending_id)
    c.lending.ship(lending_id)
    net.settle()
    net.clock.advance(timedelta(days=3))
    a.borrowing.receive(request.id, "A-TEMP-1")
    a.borrowing.check_out(request.id)
    net.settle()
    net.clock.advance(timedelta(days=10))
    a.borrowing.return_item("A-TEMP-1")
    a.borrowing.ship_return(request.id)
    net.settle()
    c.lending.check_in(ITEM.barcode)
    net.settle()
    assert a.get(Side.BORROWING, request.id).state.value == "completed"


def core_loan() -> None:
    """The same loan through the pure lifecycles, messages passed by hand."""
    now = START
    state: dict[str, Any] = {
        "b": BorrowingRequest("A-1", A, PATRON, BOOK, now, pickup_location="Main"),
        "l": None,
    }
    inbox: list[Any] = []

    def post(effects: tuple[Any, ...]) -> None:
        inbox.extend(e.message for e in effects if isinstance(e, SendMessage))

    def borrow(event: Any) -> None:
        outcome = handle_borrowing(state["b"], event, BorrowingContext(now))
        state["b"] = outcome.record
        post(outcome.effects)

    def lend(event: Any) -> None:
        outcome = handle_lending(state["l"], event, LendingContext(now))
        state["l"] = outcome.record
        post(outcome.effects)

    def deliver() -> None:
        while inbox:
            message = inbox.pop(0)
            if isinstance(message, Request):
                state["l"] = new_lending_request(message, id="C-L1", agency=C, now=now)
                lend(SupplyItem(ITEM))
            elif isinstance(message, RequestingAgencyMessage):
                lend(RequesterMessageReceived(message))
            else:
                borrow(SupplierMessageReceived(message))

    borrow(SubmitRequest())
    borrow(AssignRota((RotaEntry(C, "staff"),)))
    deliver()
    lend(PickItem())
    lend(ShipItem())
    deliver()
    now += timedelta(days=3)
    borrow(ReceiveItem("A-TEMP-1"))
    borrow(CheckOutItem())
    deliver()
    now += timedelta(days=10)
    borrow(ReturnByPatron(None))
    borrow(ShipReturn(None))
    deliver()
    lend(CheckInReturn())
    deliver()
    assert state["b"].state.value == "completed", state["b"].state


def rate(action: Callable[[], None], seconds: float = 3.0) -> float:
    """Calls per second, over about ``seconds`` (best of three rounds)."""
    action()
    count = 1
    start = time.perf_counter()
    while time.perf_counter() - start < 0.2:
        action()
        count += 1
    per_round = max(1, int(count * seconds / 3 / 0.2))
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(per_round):
            action()
        best = max(best, per_round / (time.perf_counter() - start))
    return best


def main() -> None:
    core = rate(core_loan)
    service = rate(service_loan)
    scenario = Scenario(
        institutions=20,
        requests=3000,
        days=60,
        faults=NetworkFaults(drop=0.01, lose_confirmation=0.01, duplicate=0.01),
    )
    start = time.perf_counter()
    metrics = Simulation(scenario).run()
    elapsed = time.perf_counter() - start
    assert not metrics.invariant_violations
    figures = [
        {"name": "simulation.core_lifecycles", "value": round(core, 1), "unit": "loans/s"},
        {
            "name": "simulation.service_lifecycles",
            "value": round(service, 1),
            "unit": "loans/s",
            "baseline": "simulation.core_lifecycles",
            "baseline_value": round(core, 1),
            "ratio": round(core / service, 2),
        },
        {
            "name": "simulation.requests",
            "value": round(scenario.requests / elapsed, 1),
            "unit": "requests/s",
        },
    ]
    for figure in figures:
        print(json.dumps(figure))


if __name__ == "__main__":
    main()
