"""How the dispatcher retries: one policy per port, exponential backoff with jitter.

Theory of operation. An attempt that fails with a retryable
:class:`~resource_sharing.errors.DeliveryError` is tried again after a delay that
doubles with every failure, from ``base_delay`` up to ``max_delay``, spread by
``jitter`` (a delay ``d`` becomes a draw from ``[d * (1 - jitter), d * (1 + jitter)]``,
so the entries of many requests that failed together do not all come back at once).
The draw comes from the institution's :class:`~resource_sharing.ports.RandomSource`
port, never from a module-level generator. After ``max_attempts`` failures, or at the
first refusal that retrying cannot fix (``retryable=False``), the entry gives up and
becomes a staff task.

``timeout`` is the most one attempt may take: the dispatcher abandons an attempt that
overruns it (a failed attempt, "timed out after N s", retried as any other) when its
``attempts`` port can (:class:`~resource_sharing.ports.AttemptRunner`), never starts one
whose end could fall after its claim's lease (it stops the round and releases the rest),
and the composition root gives the adapters that can enforce it themselves (an HTTP or
NCIP client) the same figure. ``lease`` is how long a claim holds, so that a dispatcher
that died leaves its entries to the others after it; a restarted dispatcher releases its
own at once (see :class:`~resource_sharing.ports.OutboxRepository`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import final

import attrs

from resource_sharing.errors import InvalidInput
from resource_sharing.ports import Port

__all__ = ["DeliveryPolicy", "RetryPolicy"]


def _positive(instance: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if value <= timedelta(0):
        raise InvalidInput(attribute.name, "must be positive")


@final
@attrs.frozen
class RetryPolicy:
    """How one port's deliveries are retried."""

    max_attempts: int = attrs.field(default=8)
    """Attempts before giving up (the first one included)."""
    base_delay: timedelta = attrs.field(default=timedelta(seconds=30), validator=_positive)
    """The delay after the first failure; it doubles with every further one."""
    max_delay: timedelta = attrs.field(default=timedelta(hours=6), validator=_positive)
    """The longest delay (before jitter)."""
    jitter: float = attrs.field(default=0.2)
    """How far a delay is spread either way, as a fraction of it (0: not at all)."""
    timeout: timedelta = attrs.field(default=timedelta(seconds=30), validator=_positive)
    """The most one attempt may take; one that overruns it is a failed attempt."""
    window: timedelta | None = None
    """The longest time from the effect's creation in which it is retried (None: only
    ``max_attempts`` bounds it); the first failure past it gives up."""

    @max_attempts.validator
    def _check_attempts(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < 1:
            raise InvalidInput("max_attempts", "must be at least 1")

    @jitter.validator
    def _check_jitter(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not 0.0 <= value < 1.0:
            raise InvalidInput("jitter", "must be in [0, 1)")

    def delay(self, failures: int, draw: float) -> timedelta:
        """The wait after ``failures`` failed attempts (1 or more), for a ``draw`` in [0, 1)."""
        if failures < 1:
            raise InvalidInput("failures", "must be at least 1")
        if not 0.0 <= draw < 1.0:
            raise InvalidInput("draw", "must be in [0, 1)")
        base, cap = self.base_delay.total_seconds(), self.max_delay.total_seconds()
        exponent = failures - 1
        raw = cap if exponent >= 64 else min(base * (1 << exponent), cap)
        return timedelta(seconds=raw * (1.0 - self.jitter + 2.0 * self.jitter * draw))

    def next_attempt(
        self,
        now: datetime,
        failures: int,
        draw: float,
        *,
        retryable: bool = True,
        since: datetime | None = None,
    ) -> datetime | None:
        """When to try again after ``failures`` failed attempts, or None to give up.

        With ``since`` (when the effect was created) and a ``window``, a next attempt
        that would fall past the window's end gives up instead.
        """
        if not retryable or failures >= self.max_attempts:
            return None
        at = now + self.delay(failures, draw)
        if self.window is not None and since is not None and at > since + self.window:
            return None
        return at


@final
@attrs.frozen
class DeliveryPolicy:
    """An institution's delivery settings: a retry policy per port, the lease, batches."""

    peer: RetryPolicy = RetryPolicy()
    """ISO 18626 messages to partners (5xx, timeouts and network errors are retried)."""
    unknown_request: RetryPolicy = RetryPolicy(
        max_attempts=10,
        base_delay=timedelta(seconds=5),
        max_delay=timedelta(minutes=2),
        window=timedelta(minutes=15),
    )
    """Our lending answers the borrower refused as "unknown request id" (it may store its
    request only after reading our confirmation): retried quickly, for a short window."""
    circulation: RetryPolicy = RetryPolicy(base_delay=timedelta(seconds=15))
    """Commands to the host system's circulation."""
    notifier: RetryPolicy = RetryPolicy(base_delay=timedelta(minutes=1))
    """Patron and staff notices."""
    printer: RetryPolicy = RetryPolicy(max_attempts=5, base_delay=timedelta(seconds=10))
    """Print jobs."""
    lease: timedelta = attrs.field(default=timedelta(minutes=5), validator=_positive)
    """How long a dispatcher's claim holds before others may take the entries."""
    batch: int = 100
    """Entries claimed per round (every port together)."""
    conflict_retries: int = 3
    """How often an inbound message or a timer is tried again after a concurrency
    conflict (another process changed the request meanwhile) before it fails."""

    def for_port(self, port: Port) -> RetryPolicy:
        """The retry policy of one port."""
        if port is Port.PEER:
            return self.peer
        if port is Port.CIRCULATION:
            return self.circulation
        if port is Port.NOTIFIER:
            return self.notifier
        return self.printer

    def with_all(self, **changes: object) -> DeliveryPolicy:
        """The same changes (``max_attempts=3``...) made to every port's retry policy."""
        return attrs.evolve(
            self,
            peer=attrs.evolve(self.peer, **changes),  # type: ignore[arg-type]
            unknown_request=attrs.evolve(self.unknown_request, **changes),  # type: ignore[arg-type]
            circulation=attrs.evolve(self.circulation, **changes),  # type: ignore[arg-type]
            notifier=attrs.evolve(self.notifier, **changes),  # type: ignore[arg-type]
            printer=attrs.evolve(self.printer, **changes),  # type: ignore[arg-type]
        )
