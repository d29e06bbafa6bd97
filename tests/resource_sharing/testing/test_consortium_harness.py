"""The Consortium harness runs members on adapters of their own, not only its fakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resource_sharing.directory import Partner
from resource_sharing.effects import NotifyPatron, NotifyStaff
from resource_sharing.errors import InvalidInput
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef, Side
from resource_sharing.service import Settings
from resource_sharing.testing.consortium import Consortium

A, C = AgencyId("US-A"), AgencyId("US-C")
ISBN = "9780201896831"
BOOK = Citation(title="TAOCP", item_ids=(Identifier("ISBN", ISBN),))


class Postcards:
    """A notifier of the integrator's own: keeps (patron id, notice) pairs, keyed."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[str, str]] = {}

    def notify_patron(self, notice: NotifyPatron, *, key: str) -> None:
        self.sent[key] = (notice.patron.id, notice.notice.value)

    def notify_staff(self, notice: NotifyStaff, *, key: str) -> None:
        self.sent[key] = ("staff", notice.text)


class Catalogue:
    """A holdings locator of the integrator's own."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def locate(self, citation: Citation) -> Holding | None:
        self.asked.append(citation.title or "")
        return Holding(ItemRef("C-77", location="Annex"))


def test_a_member_runs_on_the_ports_it_is_given() -> None:
    net = Consortium(datetime(2026, 9, 7, 9, tzinfo=UTC))
    postcards, catalogue = Postcards(), Catalogue()
    a = net.add(Settings(A), partners=[Partner(C)], notifier=postcards)
    c = net.add(Settings(C), partners=[Partner(A)], holdings_locator=catalogue)
    request = a.institution.borrowing.place_request(PatronRef("p-1"), BOOK, rota=[C])
    net.settle()
    assert a.institution.get(Side.BORROWING, request.id).state.value == "will_supply"
    assert catalogue.asked == ["TAOCP"]
    assert ("p-1", "request_placed") in postcards.sent.values()
    with pytest.raises(InvalidInput, match="notifier"):
        _ = a.notifier
    with pytest.raises(InvalidInput, match="holdings"):
        _ = c.holdings
    assert c.notifier.patron_notices == []  # the fakes it still has stay inspectable
