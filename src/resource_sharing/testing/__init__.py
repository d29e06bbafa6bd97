"""Published test doubles and contract suites: in-memory adapters for every port.

Integrators use these to test their own code against the library, and adapters run the
contract suites to prove they honour a port.
"""

from __future__ import annotations

from resource_sharing.testing.contracts import RequestStoreContract
from resource_sharing.testing.fakes import (
    FixedClock,
    MemoryCirculation,
    MemoryHoldings,
    MemoryTransport,
    Network,
    RecordingNotifier,
    SentMessage,
    SequentialIds,
)
from resource_sharing.testing.memory_store import MemoryStore
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
    "HoldingsLocatorContract",
    "IdSourceContract",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryStore",
    "MemoryTransport",
    "Network",
    "NotifierContract",
    "PeerTransportContract",
    "RecordingNotifier",
    "RequestStoreContract",
    "SentMessage",
    "SequentialIds",
]
