"""What a simulation runs: the consortium, its demand, its people and its network.

Every field has a default, so ``Scenario()`` is a small, working consortium; the JSON
scenario format (``docs/simulation.md``, parsed by
``resource_sharing_adapters.simulation_json``) names the same fields. Ranges are inclusive
``(low, high)`` pairs of whole days drawn uniformly.
"""

from __future__ import annotations

from typing import Any, final

import attrs

from resource_sharing.errors import InvalidInput

__all__ = [
    "DayRange",
    "LenderBehaviour",
    "NetworkFaults",
    "PatronBehaviour",
    "Scenario",
    "Variant",
]

DayRange = tuple[int, int]
"""Inclusive (low, high) whole days, drawn uniformly."""


def _range(_instance: Any, attribute: attrs.Attribute[Any], value: DayRange) -> None:
    low, high = value
    if low < 0 or high < low:
        raise InvalidInput(attribute.name, f"{value} is not a range of days (0 <= low <= high)")


def _probability(_instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(attribute.name, f"{value} is not a probability")


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise InvalidInput(attribute.name, f"{value} must be at least 1")


@final
@attrs.frozen
class LenderBehaviour:
    """How a lending desk behaves."""

    fill_rate: float = attrs.field(default=0.8, validator=_probability)
    """Of the requests it holds, the share it supplies (the rest it refuses)."""
    processing_days: DayRange = attrs.field(default=(0, 2), validator=_range)
    """From the request's arrival to shipment (or refusal)."""
    shipping_days: DayRange = attrs.field(default=(1, 4), validator=_range)
    """Transit time, either way."""
    closed_weekends: bool = False
    """Closed on Saturdays and Sundays (its calendar; answer deadlines skip them)."""


@final
@attrs.frozen
class PatronBehaviour:
    """How patrons behave."""

    pickup_days: DayRange = attrs.field(default=(0, 3), validator=_range)
    """From receipt to collecting the item at the desk."""
    use_days: DayRange = attrs.field(default=(7, 28), validator=_range)
    """How long the patron keeps the item when on time."""
    renew_probability: float = attrs.field(default=0.2, validator=_probability)
    """Asks to renew (a few days before the due date)."""
    late_probability: float = attrs.field(default=0.1, validator=_probability)
    """Returns late."""
    late_days: DayRange = attrs.field(default=(1, 21), validator=_range)
    """How late."""
    lost_probability: float = attrs.field(default=0.005, validator=_probability)
    """Loses the item (reported lost instead of returned)."""


@final
@attrs.frozen
class NetworkFaults:
    """What the network does to each delivery attempt (the outbox retries what fails)."""

    drop: float = attrs.field(default=0.0, validator=_probability)
    """Lost before it arrives (the sender retries)."""
    lose_confirmation: float = attrs.field(default=0.0, validator=_probability)
    """Arrives, but the confirmation is lost (the sender sends it again: a duplicate)."""
    duplicate: float = attrs.field(default=0.0, validator=_probability)
    """Arrives twice."""


@final
@attrs.frozen
class Variant:
    """One policy to compare on the same demand: a name and its rota scorer weights."""

    name: str
    """Shown in the comparison."""
    scorers: tuple[tuple[str, float], ...] = ()
    """(scorer name, weight): ``load``, ``fill_rate``, ``turnaround``; empty: holders in
    directory order (no scoring)."""


@final
@attrs.frozen
class Scenario:
    """A whole simulation: consortium, demand, behaviour, faults, policies."""

    institutions: int = attrs.field(default=10, validator=_positive)
    """Members of the consortium."""
    requests: int = attrs.field(default=1000, validator=_positive)
    """Borrowing requests placed over the period."""
    days: int = attrs.field(default=365, validator=_positive)
    """The period demand is spread over (the run goes on until every request ends)."""
    seed: int = 1
    """The seed of every draw."""
    titles: int = attrs.field(default=2000, validator=_positive)
    """Distinct works in the union catalogue."""
    holders_per_title: DayRange = attrs.field(default=(1, 4), validator=_range)
    """How many members hold each work (drawn per work; a count, not days)."""
    demand_skew: float = attrs.field(default=1.0)
    """Zipf-like exponent of which members borrow (0: all alike; 1: a few borrow most)."""
    lender: LenderBehaviour = attrs.field(factory=LenderBehaviour)
    """Every member's lending desk, unless ``lenders`` overrides it."""
    lenders: dict[int, LenderBehaviour] = attrs.field(factory=dict)
    """Per-member overrides, by member index (0-based)."""
    patron: PatronBehaviour = attrs.field(factory=PatronBehaviour)
    """Patrons."""
    faults: NetworkFaults = attrs.field(factory=NetworkFaults)
    """The network."""
    scorers: tuple[tuple[str, float], ...] = (("load", 1.0), ("fill_rate", 1.0))
    """The rota scorers (name, weight) when no variants are given."""
    variants: tuple[Variant, ...] = ()
    """Policies to compare on the same demand (each is a whole run)."""
    max_rota: int | None = 5
    """The longest rota (None: every holder)."""

    def behaviour(self, index: int) -> LenderBehaviour:
        """The lending behaviour of member ``index``."""
        return self.lenders.get(index, self.lender)

    def runs(self) -> tuple[Variant, ...]:
        """The variants to run: the given ones, or one from ``scorers``."""
        return self.variants or (Variant("default", self.scorers),)
