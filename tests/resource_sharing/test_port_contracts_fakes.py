"""The published in-memory fakes pass the port contract suites."""

from __future__ import annotations

from datetime import UTC, datetime

from resource_sharing.directory import Partner
from resource_sharing.iso18626 import MessageStatus
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import Circulation, Holding, Notifier
from resource_sharing.records import AgencyId, ItemRef
from resource_sharing.testing import (
    FixedClock,
    MemoryCirculation,
    MemoryHoldings,
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
    NotifierContract,
    PeerTransportContract,
)

THEM = AgencyId("CONTRACT-THEM")


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


class TestRecordingNotifier(NotifierContract):
    def make_notifier(self) -> RecordingNotifier:
        return RecordingNotifier()

    def sent(self, notifier: Notifier) -> list[object]:
        assert isinstance(notifier, RecordingNotifier)
        return [*notifier.patron_notices, *notifier.staff_notices]


class TestMemoryCirculation(CirculationContract):
    def make_circulation(self) -> MemoryCirculation:
        return MemoryCirculation()

    def on_loan(self, circulation: Circulation, barcode: str) -> datetime | None:
        assert isinstance(circulation, MemoryCirculation)
        return circulation.loans.get(barcode)


class TestMemoryHoldings(HoldingsLocatorContract):
    def make_locator(self, isbn: str, item: ItemRef) -> MemoryHoldings:
        return MemoryHoldings({isbn: Holding(item)})


class TestFixedClock(ClockContract):
    def make_clock(self) -> FixedClock:
        return FixedClock(datetime(2026, 1, 1, tzinfo=UTC))


class TestSequentialIds(IdSourceContract):
    def make_ids(self) -> SequentialIds:
        return SequentialIds("X:")
