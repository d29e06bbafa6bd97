"""Published test doubles and contract suites: for every port, every repository, delivery.

Integrators use these to test their own code against the library, and adapters run the
contract suites to prove they honour a port.
"""

from __future__ import annotations

from resource_sharing.memory import MemoryHoldings, MemoryPrinter, MemoryStore
from resource_sharing.testing.contracts import (
    HistoryRepositoryContract,
    InboxRepositoryContract,
    OutboxRepositoryContract,
    PatronRepositoryContract,
    RequestRepositoryContract,
    RequestStoreContract,
    SweepRepositoryContract,
    TaskRepositoryContract,
    TimerRepositoryContract,
    UnitOfWorkContract,
)
from resource_sharing.testing.delivery_contract import EffectDeliveryContract
from resource_sharing.testing.fakes import (
    FixedClock,
    FlakyCirculation,
    FlakyNotifier,
    MemoryCirculation,
    MemoryPartnerHoldings,
    MemoryTransport,
    Network,
    RecordingNotifier,
    SentMessage,
    SequenceRandom,
    SequentialIds,
)
from resource_sharing.testing.port_contracts import (
    CirculationContract,
    ClockContract,
    HoldingsLocatorContract,
    IdSourceContract,
    NotifierContract,
    PartnerHoldingsLocatorContract,
    PatronValidatorContract,
    PeerTransportContract,
    PrinterContract,
    PrintSeen,
)

__all__ = [
    "CirculationContract",
    "ClockContract",
    "EffectDeliveryContract",
    "FixedClock",
    "FlakyCirculation",
    "FlakyNotifier",
    "HistoryRepositoryContract",
    "HoldingsLocatorContract",
    "IdSourceContract",
    "InboxRepositoryContract",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryPartnerHoldings",
    "MemoryPrinter",
    "MemoryStore",
    "MemoryTransport",
    "Network",
    "NotifierContract",
    "OutboxRepositoryContract",
    "PartnerHoldingsLocatorContract",
    "PatronRepositoryContract",
    "PatronValidatorContract",
    "PeerTransportContract",
    "PrintSeen",
    "PrinterContract",
    "RecordingNotifier",
    "RequestRepositoryContract",
    "RequestStoreContract",
    "SentMessage",
    "SequenceRandom",
    "SequentialIds",
    "SweepRepositoryContract",
    "TaskRepositoryContract",
    "TimerRepositoryContract",
    "UnitOfWorkContract",
]
