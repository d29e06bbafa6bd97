"""Holdings look-ups in the service: partners' catalogues at intake, ours at the auto-locate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from resource_sharing.directory import Partner
from resource_sharing.errors import InfrastructureError
from resource_sharing.lending import LendingPolicy
from resource_sharing.memory import MemoryHoldings, MemoryStore
from resource_sharing.ports import Holding, UnitOfWork
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
from resource_sharing.testing import MemoryPartnerHoldings
from resource_sharing.testing.consortium import Consortium

A, B, C, D = (AgencyId(f"US-{x}") for x in "ABCD")
ISBN = "9780262033848"
BOOK = Citation(title="Introduction to Algorithms", item_ids=(Identifier("ISBN", ISBN),))
PATRON = PatronRef("p-1", "Ada Lovelace")


def _catalogues() -> MemoryPartnerHoldings:
    """B holds it, C does not (left out), D could not be asked."""
    return MemoryPartnerHoldings(
        {B: [Identifier("ISBN", ISBN)], C: [], D: []},
        down={D: "SRU https://d.example/sru: no answer within 4 s"},
    )


def _net(catalogues: MemoryPartnerHoldings, **settings: object) -> Consortium:
    net = Consortium(datetime(2026, 3, 2, 9, tzinfo=UTC))
    partners = [Partner(x) for x in (A, B, C, D)]
    net.add(Settings(A, **settings), partners=partners, partner_holdings=catalogues)  # type: ignore[arg-type]
    for agency in (B, C, D):
        net.add(Settings(agency), partners=partners)
    return net


def test_intake_asks_the_catalogues_once_and_the_rota_keeps_unknown_holders() -> None:
    catalogues = _catalogues()
    net = _net(catalogues)
    placed = net[A].institution.borrowing.place_request(PATRON, BOOK)
    assert catalogues.asked == [(BOOK, (B, C, D))]  # every partner but us, once
    rota = {entry.agency: entry.reason for entry in placed.rota}
    assert set(rota) == {B, D}  # C's catalogue answered "not held"
    assert rota[D].endswith("holdings unknown: SRU https://d.example/sru: no answer within 4 s")
    assert "holdings unknown" not in rota[B]
    assert placed.current_lender == B


def test_a_staff_rota_is_not_looked_up() -> None:
    catalogues = _catalogues()
    net = _net(catalogues)
    placed = net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    assert catalogues.asked == []
    assert [e.agency for e in placed.rota] == [C]


def test_approval_after_review_asks_the_catalogues() -> None:
    catalogues = _catalogues()
    net = _net(catalogues, mediated_borrowing=True)
    desk = net[A].institution.borrowing
    placed = desk.place_request(PATRON, BOOK)
    assert placed.state.value == "pending_review"
    approved = desk.approve(placed.id)
    assert isinstance(approved, BorrowingRequest)
    assert [e.agency for e in approved.rota] == [B, D]
    assert len(catalogues.asked) == 2  # at intake, and again for the rota at approval


class DownCatalogue:
    def locate(self, citation: Citation) -> Holding | None:
        raise InfrastructureError("SRU http://127.0.0.1:9/sru: cannot reach it")


def test_an_outage_of_our_catalogue_is_locate_failed_even_with_auto_reject() -> None:
    net = Consortium(datetime(2026, 3, 2, 9, tzinfo=UTC))
    partners = [Partner(A), Partner(C)]
    net.add(Settings(A), partners=partners)
    lender = Settings(C, lending=LendingPolicy(auto_reject_not_held=True))
    net.add(lender, partners=partners, holdings_locator=DownCatalogue())
    placed = net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    rows = [r.record for k, r in net[C].memory._state.rows.items() if k[0] is Side.LENDING]
    (record,) = rows
    assert isinstance(record, LendingRequest)
    assert record.state.value == "locate_failed"
    last = net[C].institution.history(Side.LENDING, record.id)[-1]
    assert (
        last.reason
        == "our catalogue could not be asked: SRU http://127.0.0.1:9/sru: cannot reach it"
    )
    assert net[A].institution.get(Side.BORROWING, placed.id).state.value == "sent"


class WatchedStore:
    """A memory store that knows whether a unit of work is open."""

    def __init__(self) -> None:
        self.memory = MemoryStore()
        self.open = 0

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        self.open += 1
        try:
            with self.memory.transaction() as unit:
                yield unit
        finally:
            self.open -= 1


class WatchingCatalogue:
    """Our catalogue, holding the book; it notes whether the store was held when asked."""

    def __init__(self, store: WatchedStore) -> None:
        self.store = store
        self.asked_while_open: list[bool] = []

    def locate(self, citation: Citation) -> Holding | None:
        self.asked_while_open.append(self.store.open > 0)
        return MemoryHoldings({ISBN: Holding(ItemRef("C-1", "QA76 .C67", "Stacks"))}).locate(
            citation
        )


def test_our_catalogue_is_asked_before_the_unit_of_work_not_inside_it() -> None:
    net = Consortium(datetime(2026, 3, 2, 9, tzinfo=UTC))
    partners = [Partner(A), Partner(C)]
    net.add(Settings(A), partners=partners)
    store = WatchedStore()
    catalogue = WatchingCatalogue(store)
    net.add(Settings(C), partners=partners, store=store, holdings_locator=catalogue)
    net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    assert catalogue.asked_while_open == [False]  # asked once, with the store free
    (record,) = [r.record for k, r in store.memory._state.rows.items() if k[0] is Side.LENDING]
    assert isinstance(record, LendingRequest)
    assert record.state.value == "pick_from_shelf"  # the item it found is to be picked
    assert record.item is not None
    assert record.item.barcode == "C-1"


def test_our_memory_catalogue_matches_identifiers_in_canonical_form() -> None:
    algorithms = Holding(ItemRef("C-1"))
    concrete = Holding(ItemRef("C-2"))
    catalogue = MemoryHoldings({ISBN: algorithms, "(OCoLC)ocm00012345": concrete})
    isbn10 = Citation(item_ids=(Identifier("ISBN", "0-262-03384-4 (hbk.)"),))
    assert catalogue.locate(isbn10) is algorithms  # the ISBN-10 of the ISBN-13 key
    assert catalogue.locate(Citation(record_ids=(Identifier("OCLC", "12345"),))) is concrete
    assert catalogue.locate(Citation(item_ids=(Identifier("ISBN", "0-262-03385-2"),))) is None


def test_an_isbn_10_request_is_auto_located_in_isbn_13_holdings() -> None:
    net = Consortium(datetime(2026, 3, 2, 9, tzinfo=UTC))
    partners = [Partner(A), Partner(C)]
    net.add(Settings(A), partners=partners)
    net.add(Settings(C), partners=partners, holdings={ISBN: Holding(ItemRef("C-1"))})
    isbn10 = Citation(title="CLRS", item_ids=(Identifier("ISBN", "0262033844"),))
    net[A].institution.borrowing.place_request(PATRON, isbn10, rota=[C])
    net.settle()
    rows = [r.record for k, r in net[C].memory._state.rows.items() if k[0] is Side.LENDING]
    (record,) = rows
    assert isinstance(record, LendingRequest)
    assert record.state.value == "pick_from_shelf"
    assert record.item is not None
    assert record.item.barcode == "C-1"
