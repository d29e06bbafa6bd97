"""In-memory implementations of the storage and lookup ports, for running without a host.

They are part of the core (pure Python, no I/O), so a node, an example or a simulation
can use them without importing the test doubles of :mod:`resource_sharing.testing`:
:class:`MemoryStore` (the reference request store, all or nothing per unit of work),
:class:`MemoryHoldings` (a catalogue), :class:`EveryoneEligible` (a patron validator
that accepts everyone), :class:`MemoryPrinter`, :class:`RecordingNotifier` and
:class:`MemoryCirculation` (keep what they are given), :class:`SeededRandom`
(repeatable jitter), :class:`InlineAttempts` (adapter calls in the dispatcher's thread),
:class:`FixedClock` and :class:`SequentialIds`.
"""

from __future__ import annotations

from resource_sharing.memory._parts import (
    EveryoneEligible,
    FixedClock,
    InlineAttempts,
    MemoryCirculation,
    MemoryHoldings,
    MemoryPrinter,
    RecordingNotifier,
    SeededRandom,
    SequentialIds,
)
from resource_sharing.memory._store import MemoryStore

__all__ = [
    "EveryoneEligible",
    "FixedClock",
    "InlineAttempts",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryPrinter",
    "MemoryStore",
    "RecordingNotifier",
    "SeededRandom",
    "SequentialIds",
]
