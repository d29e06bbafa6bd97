"""Contract suites for the ports other than storage.

Each is a plain class of ``test_*`` methods with an abstract factory; an adapter's test
module subclasses it (``class TestMyNotifier(NotifierContract): def make_notifier(...)``)
and pytest runs the whole contract. No test framework is imported here, so the core
stays pure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resource_sharing.directory import Partner
from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    NoticeKind,
    NotifyPatron,
    NotifyStaff,
    PlaceOnHoldShelf,
    PrintPickSlip,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError
from resource_sharing.iso18626 import Action
from resource_sharing.messages import Header, RequestingAgencyMessage
from resource_sharing.ports import (
    Circulation,
    Clock,
    HoldingsLocator,
    IdSource,
    Notifier,
    PeerTransport,
)
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef

__all__ = [
    "CirculationContract",
    "ClockContract",
    "HoldingsLocatorContract",
    "IdSourceContract",
    "NotifierContract",
    "PeerTransportContract",
]

_NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
_US, _THEM = AgencyId("CONTRACT-US"), AgencyId("CONTRACT-THEM")


class PeerTransportContract:
    """A transport delivers to a reachable partner and says clearly when it cannot.

    Subclasses provide a transport wired to a partner ``reachable()`` that accepts
    messages, and one ``unreachable()`` that cannot be reached.
    """

    def make_transport(self) -> PeerTransport:
        """The transport under test (sending as ``CONTRACT-US``)."""
        raise NotImplementedError

    def reachable(self) -> Partner:
        """A partner the transport can deliver to (agency ``CONTRACT-THEM``)."""
        raise NotImplementedError

    def unreachable(self) -> Partner:
        """A partner that cannot be reached now."""
        raise NotImplementedError

    def _message(self) -> RequestingAgencyMessage:
        return RequestingAgencyMessage(
            Header(_US, _THEM, "contract-1", _NOW), Action.NOTIFICATION, "hello"
        )

    def test_a_delivered_message_returns_its_confirmation(self) -> None:
        """Delivery returns the partner's confirmation of that message."""
        confirmation = self.make_transport().send(self.reachable(), self._message(), "m-1")
        assert confirmation.confirms.value == "requestingAgencyMessage"
        assert confirmation.requesting_agency_request_id in (None, "contract-1")

    def test_an_unreachable_partner_is_a_retryable_delivery_error(self) -> None:
        """A partner that cannot be reached raises a retryable DeliveryError."""
        try:
            self.make_transport().send(self.unreachable(), self._message(), "m-2")
        except DeliveryError as error:
            assert error.retryable  # noqa: PT017 - the suite cannot import pytest (pure core)
        else:
            raise AssertionError("an unreachable partner must raise DeliveryError")


class NotifierContract:
    """A notifier accepts patron and staff notices; ``sent()`` shows what went out."""

    def make_notifier(self) -> Notifier:
        """The notifier under test."""
        raise NotImplementedError

    def sent(self, notifier: Notifier) -> list[object]:
        """What the notifier delivered, oldest first (notices, or their rendering)."""
        raise NotImplementedError

    def test_patron_and_staff_notices_are_delivered_in_order(self) -> None:
        """Every notice is delivered once, in order."""
        notifier = self.make_notifier()
        patron = PatronRef("p-1", "Ada", email="ada@example.org")
        notifier.notify_patron(NotifyPatron(patron, NoticeKind.ITEM_AVAILABLE, "B-1"))
        notifier.notify_staff(NotifyStaff("B-1", "check the item"))
        notifier.notify_patron(NotifyPatron(patron, NoticeKind.DUE_SOON, "B-1", _NOW))
        assert len(self.sent(notifier)) == 3


class CirculationContract:
    """The host system's circulation follows the commands a loan goes through."""

    def make_circulation(self) -> Circulation:
        """The circulation under test."""
        raise NotImplementedError

    def on_loan(self, circulation: Circulation, barcode: str) -> datetime | None:
        """The due date of the open loan of ``barcode`` (None when not on loan)."""
        raise NotImplementedError

    def test_a_borrowed_item_goes_through_its_loan(self) -> None:
        """Temporary item, hold shelf, loan, renewal, recall, check-in, deletion."""
        circ = self.make_circulation()
        patron = PatronRef("p-1", "Ada")
        due, later, sooner = _NOW + timedelta(days=21), _NOW + timedelta(days=35), _NOW
        circ.create_temporary_item(CreateTemporaryItem("B-1", "T-1", Citation(title="x"), _THEM))
        circ.place_on_hold_shelf(PlaceOnHoldShelf("B-1", "T-1", patron, "Main", None))
        circ.check_out_to_patron(CheckOutToPatron("B-1", "T-1", patron, due))
        assert self.on_loan(circ, "T-1") == due
        circ.renew_patron_loan(RenewPatronLoan("B-1", "T-1", later))
        assert self.on_loan(circ, "T-1") == later
        circ.recall_patron_loan(RecallPatronLoan("B-1", "T-1", sooner))
        assert self.on_loan(circ, "T-1") == sooner
        circ.check_in(CheckIn("B-1", "T-1"))
        assert self.on_loan(circ, "T-1") is None
        circ.delete_temporary_item(DeleteTemporaryItem("B-1", "T-1"))

    def test_a_lent_item_is_checked_out_to_the_partner_and_routed_home(self) -> None:
        """Lending: pick slip, loan to the partner, check-in, routing."""
        circ = self.make_circulation()
        item = ItemRef("C-1", "QA76", "Stacks")
        circ.print_pick_slip(PrintPickSlip("L-1", item, Citation(title="x"), _THEM))
        circ.check_out_to_partner(CheckOutToPartner("L-1", "C-1", _THEM, _NOW))
        assert self.on_loan(circ, "C-1") == _NOW
        circ.check_in(CheckIn("L-1", "C-1"))
        circ.route_item(RouteItem("L-1", "C-1", "Stacks", "Reshelve at Stacks"))
        assert self.on_loan(circ, "C-1") is None


class HoldingsLocatorContract:
    """The locator finds what it holds by identifier and says None for what it does not."""

    def make_locator(self, isbn: str, item: ItemRef) -> HoldingsLocator:
        """A locator that holds ``item`` under ``isbn`` and nothing else."""
        raise NotImplementedError

    def test_a_held_item_is_found_and_an_unknown_one_is_not(self) -> None:
        """Found by ISBN; None for another one."""
        item = ItemRef("C-1", "QA76", "Stacks", desk="Main")
        locator = self.make_locator("9780201896831", item)
        held = Citation(title="TAOCP", item_ids=(Identifier("ISBN", "9780201896831"),))
        found = locator.locate(held)
        assert found is not None
        assert found.item.barcode == "C-1"
        other = Citation(title="Another", item_ids=(Identifier("ISBN", "9780131103627"),))
        assert locator.locate(other) is None


class ClockContract:
    """A clock tells aware UTC time that never goes backwards."""

    def make_clock(self) -> Clock:
        """The clock under test."""
        raise NotImplementedError

    def test_now_is_aware_utc_and_monotonic(self) -> None:
        """Aware, UTC offset zero, never decreasing."""
        clock = self.make_clock()
        first, second = clock.now(), clock.now()
        assert first.tzinfo is not None
        assert first.utcoffset() == timedelta(0)
        assert second >= first


class IdSourceContract:
    """An id source never gives the same id twice and keeps the prefix."""

    def make_ids(self) -> IdSource:
        """The id source under test."""
        raise NotImplementedError

    def test_ids_sort_in_the_order_they_were_made(self) -> None:
        """Outbox messages of the same instant are ordered by id: ids must sort in order."""
        ids = self.make_ids()
        made = [ids.new_id("msg") for _ in range(1200)]
        assert made == sorted(made)

    def test_ids_are_unique_and_prefixed(self) -> None:
        """A thousand ids, all distinct, all containing their prefix."""
        ids = self.make_ids()
        made = [ids.new_id("B") for _ in range(1000)] + [ids.new_id("L") for _ in range(10)]
        assert len(set(made)) == len(made)
        assert all("B" in i for i in made[:1000])
