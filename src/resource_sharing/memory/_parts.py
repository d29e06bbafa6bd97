"""In-memory parts an institution can run on without a host system behind it.

- :class:`MemoryHoldings`: a catalogue keyed by identifier or title (the holdings
  locator of a node whose configuration lists its holdings).
- :class:`EveryoneEligible`: the patron validator of an institution that does not ask
  its host system (every patron may place a request).
- :class:`SeededRandom`: repeatable randomness for the dispatcher's backoff jitter.
"""

from __future__ import annotations

import random
from typing import final

from resource_sharing.ports import Holding, PatronStanding
from resource_sharing.records import Citation, PatronRef

__all__ = ["EveryoneEligible", "MemoryHoldings", "SeededRandom"]


@final
class MemoryHoldings:
    """Our catalogue: holdings found by identifier value or by title."""

    def __init__(self, holdings: dict[str, Holding] | None = None) -> None:
        self.holdings: dict[str, Holding] = dict(holdings or {})
        """Keys are identifier values (e.g. an ISBN) or casefolded titles."""

    def locate(self, citation: Citation) -> Holding | None:
        """The holding for the first identifier or the title that matches."""
        for ident in (*citation.item_ids, *citation.record_ids):
            found = self.holdings.get(ident.value.replace("-", ""))
            if found is not None:
                return found
        if citation.title:
            return self.holdings.get(citation.title.casefold())
        return None


@final
class EveryoneEligible:
    """A :class:`~resource_sharing.ports.PatronValidator` that accepts every patron."""

    def validate(self, patron: PatronRef) -> PatronStanding:
        """Eligible, as the patron was given."""
        return PatronStanding(True, patron=patron)


@final
class SeededRandom:
    """A :class:`~resource_sharing.ports.RandomSource` that repeats for a seed."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def random(self) -> float:
        """The next number in ``[0, 1)``."""
        return self._random.random()
