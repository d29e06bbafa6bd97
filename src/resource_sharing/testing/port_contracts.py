"""Contract suites for the ports other than storage.

Each is a plain class of ``test_*`` methods with an abstract factory; an adapter's test
module subclasses it (``class TestMyNotifier(NotifierContract): def make_notifier(...)``)
and pytest runs the whole contract. No test framework is imported here, so the core
stays pure.

The notifier, circulation and printer suites check *what* was delivered, not only how
many: the subclass reads back what went out (the notices as their readers got them, the
host system's items, hold shelf and loans, the printed pages' text), and each assertion
compares it with what was asked, key, recipient, request and content included. A fake
that records junk fails.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import final

import attrs

from resource_sharing.directory import Directory, Partner
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
    PrintHoldShelfSlip,
    PrintJob,
    PrintPickSlip,
    PrintReturnSlip,
    PrintShippingLabel,
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
    PartnerHoldingsLocator,
    PatronValidator,
    PeerTransport,
    Printer,
)
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef

__all__ = [
    "CirculationContract",
    "ClockContract",
    "HoldingsLocatorContract",
    "IdSourceContract",
    "ItemSeen",
    "NoticeSeen",
    "NotifierContract",
    "PartnerHoldingsLocatorContract",
    "PatronValidatorContract",
    "PeerTransportContract",
    "PrintSeen",
    "PrinterContract",
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


@final
@attrs.frozen
class NoticeSeen:
    """A notice as its reader got it, read back by the suite's subclass."""

    key: str
    """The idempotency key it carried (an e-mail's Message-ID...)."""
    recipient: str
    """The patron's id or e-mail address; ``staff`` for a staff notice."""
    request_id: str
    """The request it is about."""
    kind: str
    """The :class:`~resource_sharing.effects.NoticeKind` value; ``staff`` for staff."""
    text: str
    """What the reader reads (the body)."""


class NotifierContract:
    """A notifier delivers each notice once, in order, to its reader, saying what it was.

    Subclasses provide the notifier and ``delivered()``, which reads back what went out
    (from the SMTP server, the message queue, the recording fake) as :class:`NoticeSeen`.
    """

    def make_notifier(self) -> Notifier:
        """The notifier under test."""
        raise NotImplementedError

    def delivered(self, notifier: Notifier) -> list[NoticeSeen]:
        """What the notifier delivered, oldest first."""
        raise NotImplementedError

    _PATRON = PatronRef("p-1", "Ada Lovelace", email="ada@example.org")

    def _check_patron(self, seen: NoticeSeen, notice: NotifyPatron, key: str) -> None:
        assert seen.key == key, f"{seen.key!r} carries the wrong key (expected {key!r})"
        assert seen.recipient in (notice.patron.id, notice.patron.email), seen.recipient
        assert seen.request_id == notice.request_id, seen.request_id
        assert seen.kind == notice.notice.value, seen.kind
        if notice.detail:
            assert notice.detail in seen.text, f"the reason is missing from {seen.text!r}"

    def _check_staff(self, seen: NoticeSeen, notice: NotifyStaff, key: str) -> None:
        assert seen.key == key, f"{seen.key!r} carries the wrong key (expected {key!r})"
        assert seen.recipient == "staff", seen.recipient
        assert seen.request_id == notice.request_id, seen.request_id
        assert seen.kind == "staff", seen.kind
        assert notice.text in seen.text, f"the staff text is missing from {seen.text!r}"

    def test_patron_and_staff_notices_are_delivered_in_order_with_their_content(self) -> None:
        """Every notice arrives once, in order, to its reader, with its key and content."""
        notifier = self.make_notifier()
        available = NotifyPatron(self._PATRON, NoticeKind.ITEM_AVAILABLE, "B-1")
        staff = NotifyStaff("B-2", "Check the returned item for damage")
        refused = NotifyPatron(
            self._PATRON, NoticeKind.RENEWAL_REFUSED, "B-3", _NOW, "a local hold"
        )
        notifier.notify_patron(available, key="n-1")
        notifier.notify_staff(staff, key="n-2")
        notifier.notify_patron(refused, key="n-3")
        seen = self.delivered(notifier)
        assert len(seen) == 3, seen
        self._check_patron(seen[0], available, "n-1")
        self._check_staff(seen[1], staff, "n-2")
        self._check_patron(seen[2], refused, "n-3")

    def test_a_repeated_key_reaches_the_reader_as_the_same_notice(self) -> None:
        """A retry with the same key is dropped, or carries the same key and content."""
        notifier = self.make_notifier()
        notice = NotifyPatron(self._PATRON, NoticeKind.DUE_SOON, "B-1", _NOW)
        notifier.notify_patron(notice, key="n-1")
        notifier.notify_patron(notice, key="n-1")
        notifier.notify_staff(NotifyStaff("B-1", "renewal refused"), key="n-2")
        seen = self.delivered(notifier)
        first = [s for s in seen if s.key == "n-1"]
        assert first, seen
        assert all(s == first[0] for s in first)
        self._check_patron(first[0], notice, "n-1")
        assert [s.key for s in seen if s.key != "n-1"] == ["n-2"]


@final
@attrs.frozen
class ItemSeen:
    """A temporary item as the host system keeps it, read back by the suite's subclass."""

    barcode: str
    """Its barcode."""
    title: str | None
    """The title of its brief record."""
    patron_id: str | None
    """The patron it is for (when the host keeps it with the item)."""


class CirculationContract:
    """The host system's circulation follows the commands a loan goes through.

    Subclasses provide the circulation and read its state back: the temporary item, the
    hold shelf and the open loans, so that the suite checks what each command did.
    """

    def make_circulation(self) -> Circulation:
        """The circulation under test."""
        raise NotImplementedError

    def on_loan(self, circulation: Circulation, barcode: str) -> datetime | None:
        """The due date of the open loan of ``barcode`` (None when not on loan)."""
        raise NotImplementedError

    def item(self, circulation: Circulation, barcode: str) -> ItemSeen | None:
        """The temporary item with this barcode (None when there is none)."""
        raise NotImplementedError

    def on_hold_shelf(self, circulation: Circulation, barcode: str) -> str | None:
        """The id of the patron the item waits for on the hold shelf (None: not there)."""
        raise NotImplementedError

    def test_a_borrowed_item_goes_through_its_loan(self) -> None:
        """Temporary item, hold shelf, loan, renewal, recall, check-in, deletion."""
        circ = self.make_circulation()
        patron = PatronRef("p-1", "Ada")
        due, later, sooner = _NOW + timedelta(days=21), _NOW + timedelta(days=35), _NOW
        citation = Citation(title="The Art of Computer Programming")
        circ.create_temporary_item(
            CreateTemporaryItem("B-1", "T-1", citation, _THEM, patron, "Main", due), key="c-1"
        )
        made = self.item(circ, "T-1")
        assert made is not None, "the temporary item was not created"
        assert made.barcode == "T-1"
        assert made.title == citation.title, made.title
        assert made.patron_id in (None, "p-1"), made.patron_id
        assert self.on_hold_shelf(circ, "T-1") in (None, "p-1")
        circ.place_on_hold_shelf(PlaceOnHoldShelf("B-1", "T-1", patron, "Main", None), key="c-2")
        assert self.on_hold_shelf(circ, "T-1") == "p-1"
        circ.check_out_to_patron(CheckOutToPatron("B-1", "T-1", patron, due), key="c-3")
        assert self.on_loan(circ, "T-1") == due
        assert self.on_hold_shelf(circ, "T-1") is None
        circ.renew_patron_loan(RenewPatronLoan("B-1", "T-1", later), key="c-4")
        assert self.on_loan(circ, "T-1") == later
        circ.recall_patron_loan(RecallPatronLoan("B-1", "T-1", sooner), key="c-5")
        assert self.on_loan(circ, "T-1") == sooner
        answer = circ.check_in(CheckIn("B-1", "T-1"), key="c-6")
        assert answer is None or (isinstance(answer, str) and answer.strip()), answer
        assert self.on_loan(circ, "T-1") is None
        circ.delete_temporary_item(DeleteTemporaryItem("B-1", "T-1"), key="c-7")
        assert self.item(circ, "T-1") is None

    def test_a_lent_item_is_checked_out_to_the_partner_and_routed_home(self) -> None:
        """Lending: loan to the partner with its due date, check-in, routing."""
        circ = self.make_circulation()
        due = _NOW + timedelta(days=28)
        circ.check_out_to_partner(CheckOutToPartner("L-1", "C-1", _THEM, due), key="c-1")
        assert self.on_loan(circ, "C-1") == due
        answer = circ.check_in(CheckIn("L-1", "C-1"), key="c-2")
        assert answer is None or (isinstance(answer, str) and answer.strip()), answer
        circ.route_item(RouteItem("L-1", "C-1", "Stacks", "Reshelve at Stacks"), key="c-3")
        assert self.on_loan(circ, "C-1") is None

    def test_a_repeated_key_changes_nothing(self) -> None:
        """A retry of an earlier command (same key) does not undo what came after it."""
        circ = self.make_circulation()
        patron = PatronRef("p-1", "Ada")
        due = _NOW + timedelta(days=21)
        later, latest = due + timedelta(days=14), due + timedelta(days=28)
        circ.create_temporary_item(
            CreateTemporaryItem("B-1", "T-1", Citation(title="x"), _THEM, patron), key="c-1"
        )
        circ.check_out_to_patron(CheckOutToPatron("B-1", "T-1", patron, due), key="c-2")
        circ.renew_patron_loan(RenewPatronLoan("B-1", "T-1", later), key="c-3")
        circ.renew_patron_loan(RenewPatronLoan("B-1", "T-1", latest), key="c-4")
        circ.renew_patron_loan(RenewPatronLoan("B-1", "T-1", later), key="c-3")
        circ.create_temporary_item(
            CreateTemporaryItem("B-1", "T-1", Citation(title="x"), _THEM, patron), key="c-1"
        )
        assert self.on_loan(circ, "T-1") == latest


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


@final
@attrs.frozen
class PrintSeen:
    """A printed document as the suite's subclass reads it back."""

    key: str
    """The idempotency key it was printed under (a file name, a CUPS job title...)."""
    text: str
    """What the document says: its text, and each barcode's value, in any order."""


class PrinterContract:
    """A printer prints each job once per key, and the page says what the job says.

    Subclasses provide the printer (given a directory whose partner ``CONTRACT-THEM`` has
    a postal address, for labels and return slips) and ``printed()``, which reads back
    every document printed (the PDF's text and barcodes, the spooled job, the journal).
    """

    PARTNERS = Directory.of(
        [Partner(_THEM, name="Contract Partner Library", address="1 Contract Way\nTestville")]
    )
    """The directory the printer is made with."""

    def make_printer(self, directory: Directory) -> Printer:
        """The printer under test, printing for ``CONTRACT-US`` with ``directory``."""
        raise NotImplementedError

    def printed(self, printer: Printer) -> list[PrintSeen]:
        """Every document the printer printed, in any order."""
        raise NotImplementedError

    _BOOK = Citation(title="Contract Title", author="Ann Author")
    _ITEM = ItemRef("CT39001", "QA76 C7", "Contract stacks", desk="circ")
    _PATRON = PatronRef("p-1", "Ada Lovelace")

    def _jobs(self) -> dict[str, tuple[PrintJob, tuple[str, ...]]]:
        """Each kind of job, and what its page must say."""
        book, item = self._BOOK, self._ITEM
        shelf_until = datetime(2026, 5, 18, 18, tzinfo=UTC)
        return {
            "print-1": (
                PrintPickSlip("L-CT1", item, book, _THEM, need_before=date(2026, 6, 1)),
                ("CT39001", "QA76 C7", "Contract stacks", "Contract Title"),
            ),
            "print-2": (
                PrintShippingLabel("L-CT1", "CT39001", book, _THEM, "B-CT9"),
                ("CT39001", "L-CT1", "B-CT9", "Contract Title"),
            ),
            "print-3": (
                PrintHoldShelfSlip(
                    "B-CT2", "CTTEMP2", self._PATRON, "West desk", shelf_until, book
                ),
                ("CTTEMP2", "West desk", "Contract Title"),
            ),
            "print-4": (
                PrintReturnSlip("B-CT2", "CTTEMP2", _THEM, book, lender_request_id="L-CT7"),
                ("CTTEMP2", "L-CT7", "Contract Title"),
            ),
        }

    def test_every_document_is_printed_once_saying_what_its_job_says(self) -> None:
        """Pick slip, shipping label, hold-shelf and return slip: each under its key."""
        printer = self.make_printer(self.PARTNERS)
        jobs = self._jobs()
        for key, (job, _) in jobs.items():
            printer.print_document(job, key=key)
        seen = self.printed(printer)
        assert sorted(s.key for s in seen) == sorted(jobs), [s.key for s in seen]
        for page in seen:
            job, says = jobs[page.key]
            missing = [word for word in says if word not in page.text]
            assert not missing, f"{type(job).__name__} {page.key} lacks {missing}: {page.text!r}"

    def test_a_repeated_key_prints_nothing_new(self) -> None:
        """A retry of a job under its key is dropped, or prints the same document again."""
        printer = self.make_printer(self.PARTNERS)
        jobs = self._jobs()
        slip, says = jobs["print-3"]
        printer.print_document(slip, key="k-1")
        printer.print_document(slip, key="k-1")
        printer.print_document(jobs["print-1"][0], key="k-2")
        seen = self.printed(printer)
        again = [s for s in seen if s.key == "k-1"]
        assert again, seen
        assert all(s.text == again[0].text for s in again)
        assert all(word in again[0].text for word in says), again[0].text
        assert [s.key for s in seen if s.key != "k-1"] == ["k-2"]


class PatronValidatorContract:
    """A patron check says who may place a request, and why not in words staff read.

    Subclasses provide a validator whose host system knows :attr:`ELIGIBLE` (in good
    standing) and :attr:`REFUSED` (blocked), and nobody else. A validator without a host
    system (it accepts everyone) sets :attr:`refuses` to False.
    """

    ELIGIBLE = PatronRef("contract-ok", "Ada Lovelace")
    """A patron in good standing."""
    REFUSED = PatronRef("contract-blocked", "Barred Reader")
    """A patron the host system blocks."""
    refuses = True
    """False for a validator that accepts every patron."""

    def make_validator(self) -> PatronValidator:
        """The validator under test."""
        raise NotImplementedError

    def test_a_patron_in_good_standing_is_eligible(self) -> None:
        """Eligible, no reason, and the patron (as the host knows them) is the one asked."""
        standing = self.make_validator().validate(self.ELIGIBLE)
        assert standing.eligible, standing
        assert standing.reason is None, standing.reason
        assert (standing.patron or self.ELIGIBLE).id == self.ELIGIBLE.id

    def test_a_blocked_or_unknown_patron_is_refused_with_a_reason(self) -> None:
        """Refused with a reason in words (an accepting validator accepts them as given)."""
        validator = self.make_validator()
        for patron in (self.REFUSED, PatronRef("contract-nobody")):
            standing = validator.validate(patron)
            if not self.refuses:
                assert standing.eligible, standing
                continue
            assert not standing.eligible, f"{patron.id} is eligible: {standing}"
            assert standing.reason, f"{patron.id} refused without a reason"
            assert " " in standing.reason.strip(), f"not a reason in words: {standing.reason!r}"


class PartnerHoldingsLocatorContract:
    """Partners' catalogues at intake: holders kept, non-holders left out, outages kept.

    Subclasses provide a locator over the catalogues of :attr:`HOLDER` (it holds
    :attr:`ISBN`), :attr:`NON_HOLDER` (it answers, without it) and :attr:`DOWN` (it cannot be
    asked); :attr:`NO_CATALOGUE` has none.
    """

    HOLDER, NON_HOLDER = AgencyId("CONTRACT-HOLDER"), AgencyId("CONTRACT-NONHOLDER")
    DOWN, NO_CATALOGUE = AgencyId("CONTRACT-DOWN"), AgencyId("CONTRACT-NONE")
    ISBN = "9780201896831"
    """What the holder holds."""

    def make_locator(self) -> PartnerHoldingsLocator:
        """The look-up under test."""
        raise NotImplementedError

    def _citation(self) -> Citation:
        return Citation(title="Contract Title", item_ids=(Identifier("ISBN", "0-201-89683-4"),))

    def test_only_a_real_not_held_answer_leaves_a_partner_out(self) -> None:
        """The holder and the partners that could not be asked stay; the non-holder goes."""
        citation = self._citation()
        partners = [self.HOLDER, self.NON_HOLDER, self.DOWN, self.NO_CATALOGUE]
        answer = self.make_locator().answer(citation, partners)
        holders = answer.holders(citation)
        assert set(holders) == {self.HOLDER, self.DOWN, self.NO_CATALOGUE}, holders
        unknown = {h.agency: h.unknown for h in answer.holdings}
        assert unknown[self.DOWN], "the outage must say why the holdings are unknown"
        assert unknown[self.HOLDER] is None
        assert all(not h.identifiers for h in answer.holdings if h.agency == self.DOWN)

    def test_only_the_partners_named_are_answered_for(self) -> None:
        """Partners not named are not in the answer."""
        citation = self._citation()
        answer = self.make_locator().answer(citation, [self.HOLDER])
        assert {h.agency for h in answer.holdings} == {self.HOLDER}
        assert set(answer.holders(citation)) == {self.HOLDER}


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
        """Outbox entries of the same instant are ordered by id: ids must sort in order."""
        ids = self.make_ids()
        made = [ids.new_id("msg") for _ in range(1200)]
        assert made == sorted(made)

    def test_ids_are_unique_and_prefixed(self) -> None:
        """A thousand ids, all distinct, all containing their prefix."""
        ids = self.make_ids()
        made = [ids.new_id("B") for _ in range(1000)] + [ids.new_id("L") for _ in range(10)]
        assert len(set(made)) == len(made)
        assert all("B" in i for i in made[:1000])
