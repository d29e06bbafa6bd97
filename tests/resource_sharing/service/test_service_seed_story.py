"""The seed story end to end through the application services and the in-memory adapters.

A borrows for its patron; the rota is B then C; B does not hold the book (Unfilled);
C supplies. Every message goes through the receiving institution's real peer inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from resource_sharing.directory import Partner
from resource_sharing.effects import NoticeKind, PrintPickSlip, TaskList
from resource_sharing.errors import ConcurrencyConflict
from resource_sharing.iso18626 import Action
from resource_sharing.lending import LendingPolicy
from resource_sharing.messages import Header, RequestingAgencyMessage
from resource_sharing.ports import Holding, OutboxStatus, Port
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
from resource_sharing.service import Settings, index_of
from resource_sharing.testing.consortium import Consortium

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
BOOK = Citation(title="A Pattern Language", item_ids=(Identifier("ISBN", "9780195019193"),))
ITEM = ItemRef("C-0042", "NA2500 .P3", "Stacks 3", desk="Main desk")


def consortium() -> Consortium:
    net = Consortium(datetime(2026, 2, 2, 9, tzinfo=UTC))
    partners = [Partner(a, name) for a, name in ((A, "Alpha"), (B, "Beta"), (C, "Gamma"))]
    net.add(Settings(A), partners=partners)
    net.add(Settings(B, lending=LendingPolicy(auto_reject_not_held=True)), partners=partners)
    net.add(Settings(C), partners=partners, holdings={"9780195019193": Holding(ITEM)})
    return net


def place(net: Consortium) -> BorrowingRequest:
    patron = PatronRef("p-7", "Grace Hopper", group="staff")
    return net[A].institution.borrowing.place_request(
        patron, BOOK, pickup_location="Main", rota=[B, C]
    )


def lending_request_at(net: Consortium, agency: AgencyId) -> str:
    tasks = net[agency].memory._state.rows  # the only lending request there
    ((_side, request_id),) = [key for key in tasks if key[0] is Side.LENDING]
    return request_id


def test_seed_story_end_to_end() -> None:
    net = consortium()
    a, c = net[A].institution, net[C].institution
    request = place(net)
    assert request.state.value == "sent"
    net.settle()
    assert a.get(Side.BORROWING, request.id).state.value == "will_supply"
    b_id, c_id = lending_request_at(net, B), lending_request_at(net, C)
    assert net[B].institution.get(Side.LENDING, b_id).state.value == "unfilled"
    pick = c.tasks(TaskList.PICK_FROM_SHELF, desk="Main desk")
    assert [t.request_id for t in pick] == [c_id]
    (slip,) = net[C].printer.jobs.values()
    assert isinstance(slip, PrintPickSlip)
    assert slip.item == ITEM
    c.lending.pick(c_id)
    c.lending.ship(c_id)
    net.settle()
    assert a.get(Side.BORROWING, request.id).state.value == "shipped"
    net.clock.advance(timedelta(days=3))
    a.borrowing.receive(request.id, "A-TEMP-9")
    net.settle()
    assert "A-TEMP-9" in net[A].circulation.hold_shelf
    assert net[A].notifier.patron_notices[-1].notice is NoticeKind.ITEM_AVAILABLE
    a.borrowing.check_out(request.id)
    net.settle()
    assert c.get(Side.LENDING, c_id).state.value == "received_by_partner"
    net.clock.advance(timedelta(days=27))
    a.borrowing.renew(request.id)
    net.settle()
    renewed = a.get(Side.BORROWING, request.id)
    assert isinstance(renewed, BorrowingRequest)
    assert renewed.state.value == "on_loan"
    assert renewed.renewal_count == 1
    assert net[A].notifier.patron_notices[-1].notice is NoticeKind.RENEWED
    net.clock.advance(timedelta(days=2))
    c.lending.local_hold("C-0042", "c-patron")
    net.settle()
    recalled = a.get(Side.BORROWING, request.id)
    assert recalled.state.value == "recalled"
    assert net[A].notifier.patron_notices[-1].notice is NoticeKind.RECALLED
    scan = a.borrowing.return_item("A-TEMP-9", desk="Branch")
    assert scan.state == "returned_by_patron"
    assert "ship back" in scan.instruction
    a.borrowing.ship_return(request.id)
    net.settle()
    result = c.lending.check_in("C-0042")
    assert result.state == "completed"
    assert result.instruction == "Place on the hold shelf for the local patron's hold"
    assert net[C].circulation.routes[-1].destination == "hold shelf"
    net.settle()
    assert a.get(Side.BORROWING, request.id).state.value == "completed"
    assert net.settle() == 0


def test_duplicate_delivery_changes_nothing() -> None:
    net = consortium()
    request = place(net)
    net.settle()
    sent = net.network.log[-1]  # C's WillSupply to A
    before = net[A].institution.get(Side.BORROWING, request.id)
    again = net.network.deliver(sent.sender, sent.to, sent.message, sent.message_id)
    assert again.ok
    assert net[A].institution.get(Side.BORROWING, request.id) == before


def test_message_from_the_wrong_agency_is_refused_and_changes_nothing() -> None:
    net = consortium()
    request = place(net)
    net.settle()
    c_id = lending_request_at(net, C)
    stored = net[C].institution.get(Side.LENDING, c_id)
    assert isinstance(stored, LendingRequest)
    forged = RequestingAgencyMessage(
        Header(B, C, stored.requester_request_id, net.clock.now()), Action.CANCEL
    )
    answer = net[C].institution.inbox.receive(forged, message_id="forged-1", sender=B)
    assert not answer.ok
    assert net[C].institution.get(Side.LENDING, c_id) == stored
    assert request.id


def test_stale_version_on_save_is_a_typed_conflict_and_loses_nothing() -> None:
    net = consortium()
    request = place(net)
    store = net[A].store
    with store.transaction() as uow:
        current = uow.requests.get(Side.BORROWING, request.id)
        assert current is not None
        uow.requests.save(current, index_of(current), expected_version=current.version)
    stale = attrs.evolve(current, note="lost update")
    with pytest.raises(ConcurrencyConflict), store.transaction() as uow:
        uow.requests.save(stale, index_of(stale), expected_version=current.version)
    assert net[A].institution.get(Side.BORROWING, request.id).note is None


def test_transport_failure_keeps_the_message_and_a_later_dispatch_delivers_it() -> None:
    net = consortium()
    net.network.down.add(B)
    place(net)
    report = net[A].institution.dispatch()
    assert report.retried == 1  # the Request to B; the patron's notice went
    assert report.sent == 1
    assert net[A].institution.pending_messages() == 1
    net.network.down.clear()
    net.clock.advance(timedelta(minutes=10))
    assert net.settle() >= 1
    with net[A].store.transaction() as uow:
        first, *later = uow.outbox.entries(port=Port.PEER)
        assert first.status is OutboxStatus.DELIVERED
        assert first.attempts == 2  # the Request to B, after its retry
        assert later  # and what followed once it went


def test_reordered_messages_end_in_the_same_state() -> None:
    in_order, reordered = consortium(), consortium()
    for net in (in_order, reordered):
        place(net)
        net.settle()
        c_id = lending_request_at(net, C)
        net[C].institution.lending.pick(c_id)
        net[C].institution.lending.ship(c_id)
    # deliver C's WillSupply again after its Loaned (a late duplicate with a new id)
    will_supply = next(
        m
        for m in reordered.network.log
        if m.sender == C and m.message.kind.value == "supplyingAgencyMessage"
    )
    reordered.settle()
    in_order.settle()
    late = reordered.network.deliver(C, A, will_supply.message, "late-copy")
    assert late.ok  # a stale status is recorded, not an error

    def state_at_a(net: Consortium) -> str:
        return next(iter(net[A].memory._state.rows.values())).record.state.value

    assert state_at_a(in_order) == state_at_a(reordered) == "shipped"
