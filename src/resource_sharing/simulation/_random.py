"""A small seeded pseudo-random generator for the simulator (the core imports no ``random``).

SplitMix64 (Steele, Lea and Flood, 2014; the seeding generator of Java's
``SplittableRandom`` and of xoshiro): a 64-bit counter advanced by the golden gamma and
scrambled by two xor-shift-multiply rounds. It passes BigCrush, needs one integer of
state, and gives the same sequence on every platform and Python version, which is what a
reproducible simulation needs; it is not for cryptography.
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence
from typing import TypeVar, final

__all__ = ["SplitMix64"]

T = TypeVar("T")

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15


@final
class SplitMix64:
    """A deterministic generator: the same seed gives the same draws, everywhere."""

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def next_u64(self) -> int:
        """The next 64-bit unsigned integer."""
        self._state = (self._state + _GAMMA) & _MASK
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0, 1) with 53 random bits."""
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high] (modulo bias below 2**-40 for simulation ranges)."""
        if high < low:
            raise ValueError(f"empty range [{low}, {high}]")
        return low + self.next_u64() % (high - low + 1)

    def chance(self, probability: float) -> bool:
        """True with this probability."""
        return probability > 0 and self.random() < probability

    def choice(self, items: Sequence[T]) -> T:
        """One item, uniformly."""
        return items[self.randint(0, len(items) - 1)]

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Shuffle in place (Fisher-Yates)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randint(0, i)
            items[i], items[j] = items[j], items[i]

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """``k`` distinct items (all of them, shuffled, when ``k`` is at least their number)."""
        pool = list(items)
        self.shuffle(pool)
        return pool[:k]

    def split(self) -> SplitMix64:
        """An independent generator seeded from this one (one stream per concern)."""
        return SplitMix64(self.next_u64())
