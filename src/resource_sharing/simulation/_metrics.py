"""What a simulation reports, and the statistics it is computed with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import final

import attrs

__all__ = ["Metrics", "gini", "percentile"]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` in [0, 1]); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient of non-negative values: 0 equal, towards 1 concentrated.

    ``G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n`` over the values sorted
    ascending, ``i`` from 1; 0 when there is nothing to share.
    """
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum(i * x for i, x in enumerate(ordered, start=1))
    return 2 * weighted / (n * total) - (n + 1) / n


@final
@attrs.frozen
class Metrics:
    """The outcome of one simulation run."""

    variant: str
    """The policy variant that ran."""
    requests: int
    """Borrowing requests placed."""
    filled: int
    """Received by the borrowing library."""
    unfilled: int
    """Ended without the item (every lender refused, or none held it)."""
    fill_rate: float
    """filled / requests."""
    turnaround_days: dict[str, float | None]
    """Request to receipt, in days: ``mean``, ``p50``, ``p90``, ``p99``."""
    turnarounds: tuple[float, ...] = attrs.field(repr=False)
    """Every filled request's turnaround in days (for plots)."""
    rota_depth: dict[str, float]
    """Lenders asked per request: ``mean``, ``max``; ``mean_filled`` for filled ones."""
    load: dict[str, int]
    """Lending requests received per member (agency -> count)."""
    load_gini: float
    """Inequality of ``load``."""
    loans_shipped: dict[str, int]
    """Items shipped per member."""
    overdue: int
    """Items returned after the patron's due date."""
    lost: int
    """Items reported lost."""
    renewals: int
    """Renewals granted."""
    messages: dict[str, int]
    """Network: ``delivered``, ``dropped``, ``confirmation_lost``, ``duplicated``."""
    open_at_end: int
    """Requests (either side) that had not ended when the run stopped."""
    invariant_violations: tuple[str, ...]
    """Broken protocol invariants (must be empty)."""
    simulated_days: float
    """From the first request to the last event."""

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (without the raw turnarounds)."""
        data = attrs.asdict(self, recurse=False)
        data.pop("turnarounds")
        data["invariant_violations"] = list(self.invariant_violations)
        data["invariant_violation_count"] = len(self.invariant_violations)
        return data
