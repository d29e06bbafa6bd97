"""A scanned barcode goes to the request that can take the action (issue 14.6).

One item can name several open lending requests (a loan not yet checked in and a new
one; a copy staff promised twice). Check-in, local hold and the patron's return go to
the request whose state can take them; where several can, nothing happens and the
candidates are listed (:class:`AmbiguousBarcode`) so staff choose.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resource_sharing.directory import Partner
from resource_sharing.errors import AmbiguousBarcode, IllegalTransition, InvalidInput
from resource_sharing.lending import LendingPolicy
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
from resource_sharing.testing.consortium import Consortium

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
BOOK = Citation(title="Concrete Mathematics", item_ids=(Identifier("ISBN", "9780201558029"),))
ITEM = ItemRef("C-1", "QA39", "Stacks", desk="Main")
PATRON = PatronRef("p-1", "Ada Lovelace")


def network() -> Consortium:
    """Borrowers A and B; lender C locates by hand (staff supply)."""
    net = Consortium(datetime(2026, 3, 2, 9, tzinfo=UTC))
    partners = [Partner(x) for x in (A, B, C)]
    net.add(Settings(A), partners=partners)
    net.add(Settings(B), partners=partners)
    net.add(Settings(C, lending=LendingPolicy(), auto_locate=False), partners=partners)
    return net


def lending_of(net: Consortium, borrower: AgencyId) -> LendingRequest:
    rows = [
        r.record
        for k, r in net[C].memory._state.rows.items()
        if k[0] is Side.LENDING and r.record.requester == borrower  # type: ignore[union-attr]
    ]
    (record,) = rows
    assert isinstance(record, LendingRequest)
    return record


def borrowed(net: Consortium, agency: AgencyId) -> BorrowingRequest:
    rows = [r.record for k, r in net[agency].memory._state.rows.items() if k[0] is Side.BORROWING]
    (record,) = rows
    assert isinstance(record, BorrowingRequest)
    return record


def supplied(net: Consortium, borrower: AgencyId) -> str:
    """``borrower`` asks C for the book; C's staff supply C-1; returns C's request id."""
    net[borrower].institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    lid = lending_of(net, borrower).id
    net[C].institution.lending.supply(lid, ITEM)
    net.settle()
    return lid


def lent_and_returned(net: Consortium, borrower: AgencyId, lid: str) -> None:
    """C ships; the borrower receives, lends, takes back and ships the item back."""
    c = net[C].institution.lending
    c.pick(lid)
    c.ship(lid)
    net.settle()
    desk = net[borrower].institution.borrowing
    rid = borrowed(net, borrower).id
    desk.receive(rid, f"{borrower.value}-T-1")
    desk.check_out(rid)
    desk.return_item(f"{borrower.value}-T-1")
    desk.ship_return(rid)
    net.settle()
    assert lending_of(net, borrower).state.value == "returned_by_partner"


def test_a_check_in_goes_to_the_returned_loan_not_the_older_request_on_the_shelf() -> None:
    net = network()
    older = supplied(net, A)  # C-1 promised to A: still to be picked
    newer = supplied(net, B)  # and to B (staff gave the same copy twice)
    lent_and_returned(net, B, newer)
    result = net[C].institution.lending.check_in("C-1")
    assert result.request_id == newer
    assert lending_of(net, B).state.value == "completed"
    assert lending_of(net, A).id == older
    assert lending_of(net, A).state.value == "pick_from_shelf"


def test_several_requests_that_can_take_the_scan_are_listed_and_nothing_changes() -> None:
    net = network()
    first, second = supplied(net, A), supplied(net, B)
    lent_and_returned(net, A, first)
    lent_and_returned(net, B, second)
    desk = net[C].institution.lending
    with pytest.raises(AmbiguousBarcode) as refused:
        desk.check_in("C-1")
    assert refused.value.candidates == (
        (first, "returned_by_partner"),
        (second, "returned_by_partner"),
    )
    assert refused.value.event == "check_in"
    assert "choose one" in str(refused.value)
    assert lending_of(net, A).state.value == lending_of(net, B).state.value
    assert desk.check_in("C-1", request_id=second).request_id == second
    assert desk.check_in("C-1").request_id == first  # one left that fits


def test_a_chosen_request_must_be_one_the_barcode_names() -> None:
    net = network()
    supplied(net, A)
    with pytest.raises(InvalidInput, match="request_id"):
        net[C].institution.lending.check_in("C-1", request_id="L-nope")
    with pytest.raises(InvalidInput, match="barcode"):
        net[C].institution.lending.check_in("C-404")


def test_no_request_that_can_take_it_refuses_with_the_oldest_ones_state() -> None:
    net = network()
    supplied(net, A)
    with pytest.raises(IllegalTransition, match="pick_from_shelf"):
        net[C].institution.lending.check_in("C-1")


def test_a_local_hold_goes_to_the_loan_that_is_out() -> None:
    net = network()
    supplied(net, A)  # on the shelf: no loan to recall
    newer = supplied(net, B)
    c = net[C].institution.lending
    c.pick(newer)
    c.ship(newer)
    net.settle()
    recalled = c.local_hold("C-1", "local-9")
    assert recalled.id == newer
    assert lending_of(net, A).state.value == "pick_from_shelf"


def test_an_isbn_10_request_is_a_duplicate_of_the_open_isbn_13_one() -> None:
    net = network()
    a = net[A].institution.borrowing
    first = a.place_request(PATRON, BOOK, rota=[C])
    isbn10 = Citation(title="Concrete maths", item_ids=(Identifier("ISBN", "0-201-55802-5"),))
    second = a.place_request(PATRON, isbn10, rota=[C])
    assert first.state.value == "sent"
    assert second.state.value == "pending_review"
