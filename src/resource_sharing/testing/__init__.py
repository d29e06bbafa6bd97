"""Published test doubles and contract suites: in-memory adapters for every port.

Integrators use these to test their own code against the library, and adapters run the
contract suites to prove they honour a port.
"""

from __future__ import annotations

from resource_sharing.memory import MemoryHoldings, MemoryPrinter, MemoryStore
from resource_sharing.testing.contracts import RequestStoreContract
from resource_sharing.testing.fakes import (
    FixedClock,
    FlakyCirculation,
    FlakyNotifier,
    MemoryCirculation,
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
    PeerTransportContract,
)

__all__ = [
    "CirculationContract",
    "ClockContract",
    "FixedClock",
    "FlakyCirculation",
    "FlakyNotifier",
    "HoldingsLocatorContract",
    "IdSourceContract",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryPrinter",
    "MemoryStore",
    "MemoryTransport",
    "Network",
    "NotifierContract",
    "PeerTransportContract",
    "RecordingNotifier",
    "RequestStoreContract",
    "SentMessage",
    "SequenceRandom",
    "SequentialIds",
]
