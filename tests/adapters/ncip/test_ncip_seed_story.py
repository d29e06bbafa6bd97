"""The seed story through the services, each institution's circulation an ILS over NCIP.

A borrows for its patron from C; both run the real application services (in-memory
stores, the in-memory peer network), and each has its own loopback ILS reached by
NcipCirculation and NcipPatronValidator through the outbox dispatcher. The ILSs' state
is asserted after every step: the patron validated, the temporary item created (with the
hold) and later deleted, the loans checked out and in, the routing answer shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from resource_sharing.directory import Directory, Partner
from resource_sharing.effects import TaskList
from resource_sharing.errors import PatronNotEligible
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef, Side
from resource_sharing.service import Institution, Ports, Settings
from resource_sharing.testing import (
    FixedClock,
    MemoryHoldings,
    MemoryStore,
    Network,
    RecordingNotifier,
    SequentialIds,
)
from resource_sharing_adapters.ncip import NcipCirculation, NcipClient, NcipPatronValidator
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import Hold, Item, LoopbackIls, User, config_for

A, C = AgencyId("US-A"), AgencyId("US-C")
ISBN = "9780195019193"
BOOK = Citation(title="A Pattern Language", item_ids=(Identifier("ISBN", ISBN),))
ITEM = ItemRef("C-0042", "NA2500 .P3", "Stacks 3", desk="Main desk")


@pytest.fixture
def ilss() -> Iterator[dict[AgencyId, LoopbackIls]]:
    xsd = require_ncip() / "ncip_v2_02.xsd"
    servers = {A: LoopbackIls(xsd, agency="ILS-A"), C: LoopbackIls(xsd, agency="ILS-C")}
    for server in servers.values():
        server.start()
    servers[A].state.users["p-7"] = User("p-7", "Grace Hopper", "grace@example.org", "staff")
    servers[A].state.users["p-8"] = User("p-8", "Barred", blocked=True)
    servers[C].state.users["INST-US-A"] = User("INST-US-A", "Alpha libraries", group="ILL")
    servers[C].state.items["C-0042"] = Item("C-0042", BOOK.title or "", home="Main Library")
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def _institution(
    net: Network,
    clock: FixedClock,
    agency: AgencyId,
    ils: LoopbackIls,
    holdings: dict[str, Holding],
) -> Institution:
    client = NcipClient(config_for(ils, from_agency=agency.value))
    ports = Ports(
        store=MemoryStore(),
        transport=net.transport_for(agency),
        notifier=RecordingNotifier(),
        circulation=NcipCirculation(client),
        holdings=MemoryHoldings(holdings),
        clock=clock,
        ids=SequentialIds(f"{agency.value}:"),
        patrons=NcipPatronValidator(client, clock=clock.now),
    )
    directory = Directory({A: Partner(A), C: Partner(C)})
    institution = Institution(Settings(agency, directory=directory), ports)
    net.attach(agency, institution.inbox.receive)
    return institution


def _settle(*institutions: Institution) -> None:
    for _ in range(50):
        if sum(i.dispatch().sent for i in institutions) == 0:
            return


def test_the_seed_story_drives_both_ilss(ilss: dict[AgencyId, LoopbackIls]) -> None:
    net, clock = Network(), FixedClock(datetime(2026, 2, 2, 9, tzinfo=UTC))
    a = _institution(net, clock, A, ilss[A], {})
    c = _institution(net, clock, C, ilss[C], {ISBN: Holding(ITEM)})
    ils_a, ils_c = ilss[A].state, ilss[C].state

    with pytest.raises(PatronNotEligible, match="blocked in the ILS: Fines"):
        a.borrowing.place_request(PatronRef("p-8"), BOOK, rota=[C])
    request = a.borrowing.place_request(
        PatronRef("p-7"), BOOK, pickup_location="Main desk", rota=[C]
    )
    assert request.patron == PatronRef("p-7", "Grace Hopper", "staff", "grace@example.org")
    _settle(a, c)
    (task,) = c.tasks(TaskList.PICK_FROM_SHELF, desk="Main desk")
    c.lending.pick(task.request_id)
    c.lending.ship(task.request_id)
    _settle(a, c)
    assert ils_c.loans["C-0042"].user == "INST-US-A"

    clock.advance(timedelta(days=3))
    a.borrowing.receive(request.id, "A-TEMP-9")
    _settle(a, c)
    temporary = ils_a.items["A-TEMP-9"]
    assert (temporary.temporary, temporary.title, temporary.pickup) == (True, BOOK.title, "MAIN")
    assert ils_a.holds == [Hold("A-TEMP-9", "p-7", "MAIN")]
    a.borrowing.check_out(request.id)
    _settle(a, c)
    assert ils_a.loans["A-TEMP-9"].user == "p-7"
    assert ils_a.holds == []

    clock.advance(timedelta(days=20))
    a.borrowing.return_item("A-TEMP-9", desk="Main desk")
    _settle(a, c)
    assert "A-TEMP-9" not in ils_a.loans
    a.borrowing.ship_return(request.id)
    _settle(a, c)
    scan = c.lending.check_in("C-0042")
    assert scan.instruction == "Send to home location: Main Library"  # the ILS's routing
    _settle(a, c)
    assert "C-0042" not in ils_c.loans
    lent = c.get(Side.LENDING, task.request_id)
    assert lent.state.value == "completed"
    _settle(a, c)
    assert a.get(Side.BORROWING, request.id).state.value == "completed"
    assert "A-TEMP-9" not in ils_a.items
    assert ils_a.deleted == ["A-TEMP-9"]
    assert ils_a.invalid == ils_c.invalid == []
    assert [s for s, _ in ils_a.received] == [
        "LookupUser",
        "LookupUser",
        "AcceptItem",
        "CheckOutItem",
        "CheckInItem",
        "DeleteItem",
    ]
    assert [s for s, _ in ils_c.received] == ["CheckOutItem", "CheckInItem"]
