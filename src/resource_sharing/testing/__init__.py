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

__all__ = [
    "FixedClock",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryStore",
    "MemoryTransport",
    "Network",
    "RecordingNotifier",
    "RequestStoreContract",
    "SentMessage",
    "SequentialIds",
]
