"""Rate limits and lock-outs for credentials, and the security counters.

Rules (the ``[security]`` table, :class:`SecurityConfig`):

- **Rate limit per identity.** Every request that authenticated as a peer agency, or
  with the staff token, takes one token from that identity's bucket (``rate`` per
  second, up to ``burst`` saved up). An empty bucket is refused with 429 and a
  ``Retry-After``; nothing is applied. Only authenticated requests are charged, so
  nobody can spend a partner's allowance by claiming to be it.
- **Lock-out per identity and address.** A failed authentication is a strike against
  the identity it claimed (the agency, the staff token; ``?`` for an unknown agency)
  from the client's address. ``max_failures`` strikes within ``failure_window_seconds``
  lock that pair out for ``lockout_seconds``: its requests are refused with 429 before
  any secret is compared, right or wrong, so guessing stops. A success clears the
  strikes. Being per address, a lock-out provoked by an attacker does not shut a
  partner out from its own address.
- Memory is bounded: at most ``max_tracked`` identities and pairs are remembered (the
  least recently seen are forgotten first).

:class:`Limiter` is pure apart from its injected clock (monotonic seconds) and a lock;
:class:`Guard` holds one for peers and one for staff, and the :class:`SecurityCounters`
that make every refusal and lock-out visible (:meth:`SecurityCounters.subscribe` is the
hook for a metrics exporter such as prometheus-client).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, TypeVar, final

import attrs

__all__ = [
    "Guard",
    "Limiter",
    "SecurityConfig",
    "SecurityCounters",
    "Verdict",
]

log = logging.getLogger("resource_sharing.security")

Clock = Callable[[], float]
K = TypeVar("K")
V = TypeVar("V")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a number > 0, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a number >= 0, got {value!r}")


@final
@attrs.frozen(kw_only=True)
class SecurityConfig:
    """The ``[security]`` table: credential rate limits and lock-outs."""

    peer_requests_per_second: float = attrs.field(default=100.0, validator=_not_negative)
    """Sustained rate of one partner's authenticated messages (0: no limit)."""
    peer_burst: int = attrs.field(default=1000, validator=_positive)
    """How many a partner may send at once after a quiet spell."""
    staff_requests_per_second: float = attrs.field(default=50.0, validator=_not_negative)
    """Sustained rate of staff API calls per token (0: no limit)."""
    staff_burst: int = attrs.field(default=500, validator=_positive)
    """How many staff calls may come at once."""
    max_failures: int = attrs.field(default=5, validator=_positive)
    """Failed authentications from one address that lock its identity out."""
    failure_window_seconds: float = attrs.field(default=300.0, validator=_positive)
    """Failures older than this are forgotten."""
    lockout_seconds: float = attrs.field(default=300.0, validator=_positive)
    """How long a lock-out lasts."""
    max_tracked: int = attrs.field(default=10_000, validator=_positive)
    """Identities and (identity, address) pairs remembered at most."""


@final
@attrs.frozen
class Verdict:
    """Whether a request may go on; if not, why and for how long."""

    allowed: bool
    """True: go on."""
    reason: Literal["ok", "rate_limited", "locked_out"] = "ok"
    """Why not."""
    retry_after: float = 0.0
    """Seconds until it may be tried again."""


_OK = Verdict(True)


@attrs.frozen
class _Bucket:
    tokens: float
    at: float


@attrs.frozen
class _Strikes:
    times: tuple[float, ...] = ()
    locked_until: float = 0.0


class _Lru(Generic[K, V]):
    """A dict that forgets its least recently used entries beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._limit:
            self._items.popitem(last=False)

    def drop(self, key: K) -> None:
        self._items.pop(key, None)


class Limiter:
    """Token buckets per identity and strikes per (identity, address), on a given clock.

    ``rate`` 0 turns the rate limit off (lock-outs still apply).
    """

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_failures: int,
        window: float,
        lockout: float,
        max_tracked: int = 10_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._max_failures = max_failures
        self._window = window
        self._lockout = lockout
        self._clock = clock
        self._buckets: _Lru[str, _Bucket] = _Lru(max_tracked)
        self._strikes: _Lru[tuple[str, str], _Strikes] = _Lru(max_tracked)
        self._lock = threading.Lock()

    def locked(self, identity: str, address: str) -> Verdict:
        """Whether (identity, address) is locked out now (check before comparing secrets)."""
        with self._lock:
            strikes = self._strikes.get((identity, address))
            now = self._clock()
            if strikes is not None and strikes.locked_until > now:
                return Verdict(False, "locked_out", strikes.locked_until - now)
            return _OK

    def charge(self, identity: str) -> Verdict:
        """Take one token from an authenticated identity's bucket."""
        if self._rate <= 0:
            return _OK
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(identity) or _Bucket(self._burst, now)
            tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
            if tokens < 1.0:
                self._buckets.put(identity, _Bucket(tokens, now))
                return Verdict(False, "rate_limited", (1.0 - tokens) / self._rate)
            self._buckets.put(identity, _Bucket(tokens - 1.0, now))
            return _OK

    def failed(self, identity: str, address: str) -> bool:
        """Record a failed authentication; True when it locks the pair out."""
        with self._lock:
            now = self._clock()
            old = self._strikes.get((identity, address)) or _Strikes()
            recent = (*(t for t in old.times if now - t < self._window), now)
            if len(recent) >= self._max_failures:
                self._strikes.put((identity, address), _Strikes((), now + self._lockout))
                return True
            self._strikes.put((identity, address), _Strikes(recent, old.locked_until))
            return False

    def succeeded(self, identity: str, address: str) -> None:
        """Forget the pair's strikes after a successful authentication."""
        with self._lock:
            self._strikes.drop((identity, address))


Listener = Callable[[str, Mapping[str, str]], None]


class SecurityCounters:
    """Counts of security events, by name and labels; thread-safe.

    Names: ``auth_failures`` (labels ``kind`` = peer or staff), ``lockouts`` (a pair was
    locked out), ``refused`` (``kind``, ``reason`` = rate_limited or locked_out), and the
    connection events ``connections`` (``event`` = header_timeout, body_timeout,
    too_large, disconnected). :meth:`subscribe` calls a listener on every increment, e.g.
    ``lambda name, labels: counter.labels(**labels).inc()`` with prometheus-client.
    """

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def increment(self, name: str, **labels: str) -> None:
        """Add one to ``name`` with ``labels``."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counts[key] += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(name, labels)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(name, labels)`` on every later increment."""
        with self._lock:
            self._listeners.append(listener)

    def get(self, name: str, **labels: str) -> int:
        """The count of ``name`` with exactly these labels."""
        with self._lock:
            return self._counts[(name, tuple(sorted(labels.items())))]

    def total(self, name: str) -> int:
        """The count of ``name`` whatever its labels."""
        with self._lock:
            return sum(n for (found, _), n in self._counts.items() if found == name)

    def snapshot(self) -> list[tuple[str, dict[str, str], int]]:
        """Every (name, labels, count), sorted."""
        with self._lock:
            items = sorted(self._counts.items())
        return [(name, dict(labels), n) for (name, labels), n in items]


class Guard:
    """The node's limiters for peers and staff, and its counters."""

    def __init__(self, config: SecurityConfig | None = None, *, clock: Clock = time.monotonic):
        self.config = config or SecurityConfig()
        """The limits."""
        self.counters = SecurityCounters()
        """What happened."""
        c = self.config

        def limiter(rate: float, burst: int) -> Limiter:
            return Limiter(
                rate=rate,
                burst=burst,
                max_failures=c.max_failures,
                window=c.failure_window_seconds,
                lockout=c.lockout_seconds,
                max_tracked=c.max_tracked,
                clock=clock,
            )

        self._limiters = {
            "peer": limiter(c.peer_requests_per_second, c.peer_burst),
            "staff": limiter(c.staff_requests_per_second, c.staff_burst),
        }

    def before(self, kind: Literal["peer", "staff"], identity: str, address: str) -> Verdict:
        """Refuse a locked-out (identity, address) before its secret is compared."""
        verdict = self._limiters[kind].locked(identity, address)
        if not verdict.allowed:
            self.counters.increment("refused", kind=kind, reason=verdict.reason)
        return verdict

    def failure(
        self, kind: Literal["peer", "staff"], identity: str, address: str, detail: str
    ) -> None:
        """Record and log a failed authentication (the detail goes to our log only)."""
        self.counters.increment("auth_failures", kind=kind)
        log.warning("%s authentication failed for %s from %s: %s", kind, identity, address, detail)
        if self._limiters[kind].failed(identity, address):
            self.counters.increment("lockouts", kind=kind)
            log.warning(
                "locked out %s %s from %s for %gs after %d failed authentications",
                kind,
                identity,
                address,
                self.config.lockout_seconds,
                self.config.max_failures,
            )

    def success(self, kind: Literal["peer", "staff"], identity: str, address: str) -> Verdict:
        """Clear the strikes and charge the identity's bucket; refused when it is empty."""
        limiter = self._limiters[kind]
        limiter.succeeded(identity, address)
        verdict = limiter.charge(identity)
        if not verdict.allowed:
            self.counters.increment("refused", kind=kind, reason=verdict.reason)
        return verdict
