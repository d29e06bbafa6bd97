"""A seeded discrete-event simulation of a resource-sharing consortium.

It runs the real application services on the in-memory adapters: N members with
holdings, calendars and policies; patron demand over days; lending desks with a fill rate
and processing and shipping times; patrons who renew, return late or lose items; a network
that drops, duplicates and loses confirmations. It reports fill rate, turnaround
percentiles, rota depth, load per lender with its Gini coefficient, overdue and lost
counts, and any broken protocol invariant (there must be none). Pure and deterministic:
the only randomness is :class:`SplitMix64`, seeded by the scenario.
"""

from __future__ import annotations

from resource_sharing.simulation._engine import FaultyNetwork, Simulation, simulate
from resource_sharing.simulation._metrics import Metrics, gini, percentile
from resource_sharing.simulation._random import SplitMix64
from resource_sharing.simulation._scenario import (
    DayRange,
    LenderBehaviour,
    NetworkFaults,
    PatronBehaviour,
    Scenario,
    Variant,
)

__all__ = [
    "DayRange",
    "FaultyNetwork",
    "LenderBehaviour",
    "Metrics",
    "NetworkFaults",
    "PatronBehaviour",
    "Scenario",
    "Simulation",
    "SplitMix64",
    "Variant",
    "gini",
    "percentile",
    "simulate",
]
