"""The published in-memory fakes pass the port contract suites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from resource_sharing.directory import Directory, Partner
from resource_sharing.effects import NotifyPatron, NotifyStaff, PrintJob
from resource_sharing.errors import DeliveryError
from resource_sharing.iso18626 import MessageStatus
from resource_sharing.memory import EveryoneEligible
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import (
    Circulation,
    Holding,
    Notifier,
    PartnerHoldingsLocator,
    PatronStanding,
    PatronValidator,
    Printer,
)
from resource_sharing.records import AgencyId, Identifier, ItemRef, PatronRef
from resource_sharing.testing import (
    FixedClock,
    MemoryCirculation,
    MemoryHoldings,
    MemoryPartnerHoldings,
    MemoryPrinter,
    MemoryTransport,
    Network,
    RecordingNotifier,
    SequentialIds,
)
from resource_sharing.testing.port_contracts import (
    CirculationContract,
    ClockContract,
    HoldingsLocatorContract,
    IdSourceContract,
    ItemSeen,
    NoticeSeen,
    NotifierContract,
    PartnerHoldingsLocatorContract,
    PatronValidatorContract,
    PeerTransportContract,
    PrinterContract,
    PrintSeen,
)

THEM = AgencyId("CONTRACT-THEM")
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _echo(message: PeerMessage, *, message_id: str, sender: AgencyId) -> Confirmation:
    now = datetime.now(UTC)
    return Confirmation(
        message.kind,
        MessageStatus.OK,
        now,
        now,
        requesting_agency_request_id=message.header.requesting_agency_request_id,
    )


class TestMemoryTransport(PeerTransportContract):
    def make_transport(self) -> MemoryTransport:
        network = Network()
        network.attach(THEM, _echo)
        return network.transport_for(AgencyId("CONTRACT-US"))

    def reachable(self) -> Partner:
        return Partner(THEM)

    def unreachable(self) -> Partner:
        return Partner(AgencyId("NOWHERE"))


def _seen(key: str, notice: NotifyPatron | NotifyStaff) -> NoticeSeen:
    if isinstance(notice, NotifyStaff):
        return NoticeSeen(key, "staff", notice.request_id, "staff", notice.text)
    return NoticeSeen(
        key, notice.patron.id, notice.request_id, notice.notice.value, notice.detail or ""
    )


class TestRecordingNotifier(NotifierContract):
    def make_notifier(self) -> RecordingNotifier:
        return RecordingNotifier()

    def delivered(self, notifier: Notifier) -> list[NoticeSeen]:
        assert isinstance(notifier, RecordingNotifier)
        return [_seen(key, notice) for key, notice in notifier.log]


class TestMemoryCirculation(CirculationContract):
    def make_circulation(self) -> MemoryCirculation:
        return MemoryCirculation()

    def on_loan(self, circulation: Circulation, barcode: str) -> datetime | None:
        assert isinstance(circulation, MemoryCirculation)
        return circulation.loans.get(barcode)

    def item(self, circulation: Circulation, barcode: str) -> ItemSeen | None:
        assert isinstance(circulation, MemoryCirculation)
        made = circulation.temporary_items.get(barcode)
        if made is None:
            return None
        return ItemSeen(made.barcode, made.citation.title, made.patron.id if made.patron else None)

    def on_hold_shelf(self, circulation: Circulation, barcode: str) -> str | None:
        assert isinstance(circulation, MemoryCirculation)
        held = circulation.hold_shelf.get(barcode)
        return held.patron.id if held is not None else None


# -- the kits catch fakes that record junk -----------------------------------------------


class JunkNotifier:
    """Records one notice per call, but not the one it was given (a wrong request id)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, NotifyPatron | NotifyStaff]] = []

    def notify_patron(self, notice: NotifyPatron, *, key: str) -> None:
        self.log.append((key, attrs.evolve(notice, request_id="junk")))

    def notify_staff(self, notice: NotifyStaff, *, key: str) -> None:
        self.log.append((key, NotifyStaff(notice.request_id, "something happened")))


class KeylessNotifier:
    """Records the right notices under keys of its own (a retry would arrive twice)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, NotifyPatron | NotifyStaff]] = []

    def notify_patron(self, notice: NotifyPatron, *, key: str) -> None:
        self.log.append((f"own-{len(self.log)}", notice))

    def notify_staff(self, notice: NotifyStaff, *, key: str) -> None:
        self.log.append((f"own-{len(self.log)}", notice))


class _JunkNotifierKit(NotifierContract):
    fake: type[JunkNotifier] | type[KeylessNotifier] = JunkNotifier

    def make_notifier(self) -> Notifier:
        return self.fake()

    def delivered(self, notifier: Notifier) -> list[NoticeSeen]:
        assert isinstance(notifier, JunkNotifier | KeylessNotifier)
        return [_seen(key, notice) for key, notice in notifier.log]


@pytest.mark.parametrize("fake", [JunkNotifier, KeylessNotifier])
@pytest.mark.parametrize(
    "check",
    [
        "test_patron_and_staff_notices_are_delivered_in_order_with_their_content",
        "test_a_repeated_key_reaches_the_reader_as_the_same_notice",
    ],
)
def test_the_notifier_kit_fails_a_notifier_that_records_junk(
    fake: type[JunkNotifier] | type[KeylessNotifier], check: str
) -> None:
    kit = _JunkNotifierKit()
    kit.fake = fake
    with pytest.raises(AssertionError):
        getattr(kit, check)()


class CarelessCirculation:
    """Keeps items and loans, but every loan is due now and repeats are applied again."""

    def __init__(self) -> None:
        self.inner = MemoryCirculation()
        self._n = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(command: Any, *, key: str) -> Any:
            self._n += 1
            if hasattr(command, "due"):
                command = attrs.evolve(command, due=NOW)
            return method(command, key=f"{key}-{self._n}")

        return call


class _CarelessKit(TestMemoryCirculation):
    def make_circulation(self) -> MemoryCirculation:
        return CarelessCirculation()  # type: ignore[return-value]

    def _inner(self, circulation: Circulation) -> MemoryCirculation:
        assert isinstance(circulation, CarelessCirculation)
        return circulation.inner

    def on_loan(self, circulation: Circulation, barcode: str) -> datetime | None:
        return super().on_loan(self._inner(circulation), barcode)

    def item(self, circulation: Circulation, barcode: str) -> ItemSeen | None:
        return super().item(self._inner(circulation), barcode)

    def on_hold_shelf(self, circulation: Circulation, barcode: str) -> str | None:
        return super().on_hold_shelf(self._inner(circulation), barcode)


@pytest.mark.parametrize(
    "check",
    [
        "test_a_borrowed_item_goes_through_its_loan",
        "test_a_lent_item_is_checked_out_to_the_partner_and_routed_home",
        "test_a_repeated_key_changes_nothing",
    ],
)
def test_the_circulation_kit_fails_a_circulation_that_gets_the_content_wrong(check: str) -> None:
    with pytest.raises((AssertionError, DeliveryError)):
        getattr(_CarelessKit(), check)()


class TestMemoryHoldings(HoldingsLocatorContract):
    def make_locator(self, isbn: str, item: ItemRef) -> MemoryHoldings:
        return MemoryHoldings({isbn: Holding(item)})


class TestFixedClock(ClockContract):
    def make_clock(self) -> FixedClock:
        return FixedClock(datetime(2026, 1, 1, tzinfo=UTC))


class TestSequentialIds(IdSourceContract):
    def make_ids(self) -> SequentialIds:
        return SequentialIds("X:")


class TestMemoryPrinter(PrinterContract):
    def make_printer(self, directory: Directory) -> MemoryPrinter:
        return MemoryPrinter()

    def printed(self, printer: Printer) -> list[PrintSeen]:
        assert isinstance(printer, MemoryPrinter)
        return [PrintSeen(key, repr(job)) for key, job in printer.jobs.items()]


class BlankPrinter:
    """Prints a page per job under its key, but a blank one (a broken layout)."""

    def __init__(self) -> None:
        self.pages: list[PrintSeen] = []

    def print_document(self, job: PrintJob, *, key: str) -> None:
        self.pages.append(PrintSeen(key, type(job).__name__))


class _BlankKit(PrinterContract):
    def make_printer(self, directory: Directory) -> Printer:
        return BlankPrinter()

    def printed(self, printer: Printer) -> list[PrintSeen]:
        assert isinstance(printer, BlankPrinter)
        return printer.pages


@pytest.mark.parametrize(
    "check",
    [
        "test_every_document_is_printed_once_saying_what_its_job_says",
        "test_a_repeated_key_prints_nothing_new",
    ],
)
def test_the_printer_kit_fails_a_printer_that_prints_blank_pages(check: str) -> None:
    with pytest.raises(AssertionError):
        getattr(_BlankKit(), check)()


class TestEveryoneEligible(PatronValidatorContract):
    refuses = False

    def make_validator(self) -> PatronValidator:
        return EveryoneEligible()


class ReasonlessValidator:
    """Refuses the blocked patron, but says nothing staff could act on."""

    def validate(self, patron: PatronRef) -> PatronStanding:
        return PatronStanding(patron.id == PatronValidatorContract.ELIGIBLE.id, patron=patron)


class _ReasonlessKit(PatronValidatorContract):
    def make_validator(self) -> PatronValidator:
        return ReasonlessValidator()


def test_the_patron_kit_fails_a_refusal_without_a_reason() -> None:
    with pytest.raises(AssertionError, match="refused without a reason"):
        _ReasonlessKit().test_a_blocked_or_unknown_patron_is_refused_with_a_reason()


class TestMemoryPartnerHoldings(PartnerHoldingsLocatorContract):
    def make_locator(self) -> PartnerHoldingsLocator:
        return MemoryPartnerHoldings(
            {
                self.HOLDER: [Identifier("ISBN", "978-0-201-89683-1")],
                self.NON_HOLDER: [Identifier("ISBN", "9780262033848")],
                self.DOWN: [],
            },
            down={self.DOWN: "the catalogue did not answer within 4 s"},
        )


class DroppingOutages(PartnerHoldingsLocatorContract):
    """Leaves out a partner whose catalogue is down (an outage would remove a lender)."""

    def make_locator(self) -> PartnerHoldingsLocator:
        return MemoryPartnerHoldings(
            {
                self.HOLDER: [Identifier("ISBN", self.ISBN)],
                self.NON_HOLDER: [],
                self.DOWN: [],  # "answered" with nothing
            }
        )


def test_the_partner_holdings_kit_fails_a_look_up_that_drops_an_outage() -> None:
    with pytest.raises(AssertionError):
        DroppingOutages().test_only_a_real_not_held_answer_leaves_a_partner_out()
