"""A running institution: the service wired to durable storage, HTTP and background loops.

:class:`Node` builds an :class:`~resource_sharing.service.Institution` from a
:class:`~resource_sharing_adapters.http.NodeConfig`: the store (SQLite, PostgreSQL or
memory) behind a lock that serialises units of work within the process, the HTTP
transport, a journal that records patron and staff notices and the commands for the
host system's circulation (this node has no ILS of its own: the journal is what an
integrator would forward), the holdings from the configuration, a clock and unique ids.

It authenticates inbound messages before the peer inbox sees them, and runs two
background threads: the dispatcher (woken at once after every change, and at the
configured interval for retries) and the timer tick, which also runs the consistency
sweep when its run is due (``[sweep]``; claimed in the store, so once per institution).
Every committed step is in the change feed, which the staff API serves so that desks and
the demo can follow what happened. The SQL stores keep the feed and the journal
themselves, numbered in commit order and shared by every process on the same database;
with the memory store they live in the process
(:class:`~resource_sharing_adapters.storage.MemoryFeeds`).

The host-system ports (circulation, notices, holdings, printing, patron checks) are made
by the factories ``[ports]`` names, the journal versions by default
(:mod:`resource_sharing_adapters.http._ports`).
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, final

import attrs

from resource_sharing.errors import PeerError
from resource_sharing.memory import MemoryStore
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import (
    AnyRequest,
    HistoryRepository,
    OutboxEntry,
    OutboxStatus,
    Port,
    RequestIndex,
    RequestRepository,
    RequestStore,
    UnitOfWork,
)
from resource_sharing.records import AgencyId, HistoryEntry, Side
from resource_sharing.service import (
    ConsistencySweep,
    DeliveryPolicy,
    DispatchReport,
    Institution,
    Ports,
    RetryPolicy,
    Settings,
    SweepReport,
)
from resource_sharing_adapters.attempts import ThreadedAttempts
from resource_sharing_adapters.http._auth import Authenticator, Origin
from resource_sharing_adapters.http._client import HttpTransport
from resource_sharing_adapters.http._config import DeliveryConfig, NodeConfig
from resource_sharing_adapters.http._limits import Guard
from resource_sharing_adapters.http._metrics import ObservedTransport, metrics_of
from resource_sharing_adapters.http._ports import Journal, build_ports
from resource_sharing_adapters.iso18626 import DecodeError, Version, check_version, confirm_error
from resource_sharing_adapters.storage import Change, Feeds, MemoryFeeds, change_of

if TYPE_CHECKING:
    from resource_sharing_adapters.sru import PartnerHoldings

__all__ = [
    "ChangeFeed",
    "Node",
    "SerialStore",
    "ShiftedClock",
    "UniqueIds",
    "open_store",
]

log = logging.getLogger("resource_sharing.node")

_SECURITY_CODE = re.compile(
    r"(<(?:[A-Za-z_][\w.-]*:)?securityCode\s*>)[^<]*(</(?:[A-Za-z_][\w.-]*:)?securityCode\s*>)"
)


def _without_security_code(raw: bytes) -> str:
    """The body as a message log keeps it: text, the sender's security code blanked."""
    return _SECURITY_CODE.sub(r"\1(not kept)\2", raw.decode("utf-8", errors="replace"))


# -- the change feed ------------------------------------------------------------------


@final
class ChangeFeed:
    """The node's change feed as the staff API reads it, kept in ``feeds``."""

    def __init__(self, feeds: Feeds) -> None:
        self._feeds = feeds

    def since(self, seq: int, limit: int = 1000) -> list[Change]:
        """Up to ``limit`` changes after ``seq``."""
        return list(self._feeds.changes_since(seq, limit))

    @property
    def last(self) -> int:
        """The number of the latest change (0 when none)."""
        return self._feeds.last_change()


# -- the store wrapper -----------------------------------------------------------------


class _RecordingRequests:
    """The requests repository, noting each saved request's index for the change feed."""

    def __init__(self, inner: RequestRepository) -> None:
        self._inner = inner
        self.saved: dict[tuple[Side, str], tuple[RequestIndex, int]] = {}

    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        return self._inner.get(side, request_id)

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        version = self._inner.save(record, index, expected_version=expected_version)
        self.saved[(index.side, record.id)] = (index, version)
        return version

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        return self._inner.find(side, protocol_id, counterpart)

    def find_by_barcode(self, barcode: str) -> Sequence[tuple[Side, str]]:
        return self._inner.find_by_barcode(barcode)


class _RecordingHistory:
    """The history repository, noting each appended step of a saved request."""

    def __init__(self, inner: HistoryRepository, requests: _RecordingRequests) -> None:
        self._inner = inner
        self._requests = requests
        self.steps: list[Change] = []

    def append(self, entries: Sequence[HistoryEntry]) -> None:
        self._inner.append(entries)
        for entry in entries:
            found = self._requests.saved.get((entry.side, entry.request_id))
            if found is not None:
                self.steps.append(change_of(entry, *found))

    def of(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        return self._inner.of(side, request_id)

    def count(self, side: Side, request_id: str) -> int:
        return self._inner.count(side, request_id)


class _RecordingUnit:
    """A unit of work that notes each saved step for an in-process change feed.

    It wraps only the two repositories it needs (requests and history).
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.requests = _RecordingRequests(uow.requests)
        self.history = _RecordingHistory(uow.history, self.requests)
        self.outbox = uow.outbox
        self.inbox = uow.inbox
        self.tasks = uow.tasks
        self.patrons = uow.patrons
        self.timers = uow.timers
        self.sweep = uow.sweep

    @property
    def steps(self) -> list[Change]:
        """The committed steps, once the unit commits."""
        return self.history.steps


@final
class SerialStore:
    """A :class:`~resource_sharing.ports.RequestStore` whose units of work run one at a time.

    The HTTP server, the staff API, the dispatcher and the timer thread all use one
    institution; this wrapper serialises their units of work with a lock (so a store that
    is not thread-safe, like the in-memory one, is safe, and SQLite never waits on its
    busy timeout). The lock is held only for a unit of work, never while a message is on
    the wire.

    A store that keeps its own change feed (the SQL stores) writes it in the unit of
    work; for one that does not, give ``feed``: every committed step is appended to it.
    """

    def __init__(self, store: RequestStore, feed: MemoryFeeds | None = None) -> None:
        self.inner = store
        """The wrapped store."""
        self.feed = feed
        """Where committed steps are appended (None: the store keeps its own feed)."""
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """A unit of work on the wrapped store, under the lock."""
        with self._lock:
            if self.feed is None:
                with self.inner.transaction() as uow:
                    yield uow
                return
            with self.inner.transaction() as uow:
                unit = _RecordingUnit(uow)
                yield unit
            if unit.steps:
                self.feed.append_changes(unit.steps)


def open_store(config: NodeConfig) -> RequestStore:
    """The store the configuration names (imports the database driver it needs)."""
    kind, target = config.store.kind, config.store.target
    if kind == "sqlite":
        from resource_sharing_adapters.storage.sqlite import SQLiteStore

        assert target is not None
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        return SQLiteStore(target)
    if kind == "postgres":
        from resource_sharing_adapters.storage.postgres import PostgresStore

        assert target is not None
        store: RequestStore = PostgresStore(
            target,
            schema=config.store.schema,
            min_size=config.store.pool_min_size,
            max_size=config.store.pool_max_size,
        )
        return store
    return MemoryStore()


_T = TypeVar("_T")


def delivery_policy(delivery: DeliveryConfig) -> DeliveryPolicy:
    """The service's delivery policy from ``[delivery]``.

    The peer port takes the retry keys of ``[delivery]`` (with their defaults); the other
    ports, and the "unknown request id" retries (``unknown_request``), keep the library's
    own defaults unless ``[delivery]`` gives a key (then it applies to every one of them);
    ``[delivery.PORT]`` (or ``[delivery.unknown_request]``) overrides for one.
    """
    defaults = DeliveryPolicy()
    common: dict[str, float] = {
        "max_attempts": delivery.max_attempts,
        "retry_base_seconds": delivery.retry_base_seconds,
        "retry_max_seconds": delivery.retry_max_seconds,
        "timeout_seconds": delivery.timeout_seconds,
    }
    if delivery.window_seconds is not None:
        common["window_seconds"] = delivery.window_seconds
    policies: dict[str, RetryPolicy] = {}
    for name, base in (
        *((port.value, defaults.for_port(port)) for port in Port),
        ("unknown_request", defaults.unknown_request),
    ):
        keys = (
            common
            if name == Port.PEER.value
            else {k: common[k] for k in delivery.given if k in common}
        )
        keys = {**keys, **delivery.per_port.get(name, {})}
        policies[name] = attrs.evolve(
            base,
            max_attempts=int(keys.get("max_attempts", base.max_attempts)),
            base_delay=_seconds(keys, "retry_base_seconds", base.base_delay),
            max_delay=_seconds(keys, "retry_max_seconds", base.max_delay),
            timeout=_seconds(keys, "timeout_seconds", base.timeout),
            window=_seconds(keys, "window_seconds", base.window),
        )
    return DeliveryPolicy(
        peer=policies["peer"],
        unknown_request=policies["unknown_request"],
        circulation=policies["circulation"],
        notifier=policies["notifier"],
        printer=policies["printer"],
        lease=timedelta(seconds=delivery.lease_seconds),
    )


def _seconds(keys: Mapping[str, float], key: str, default: _T) -> timedelta | _T:
    return timedelta(seconds=keys[key]) if key in keys else default


def owner_of(config: NodeConfig) -> str:
    """The process's owner id: ``[delivery] owner``, else ``agency@host:port``.

    Host and listening port tell the processes of one institution apart and stay the same
    when one restarts, so that it releases its own claims at once.
    """
    if config.delivery.owner:
        return config.delivery.owner
    return f"{config.agency}@{socket.gethostname()}:{config.server.port}"


def _announce(config: NodeConfig, external: bool) -> None:
    if external:
        log.info("store: given by the caller")
        return
    where = config.store.describe()
    if config.store.kind == "memory":
        log.warning(
            "store: %s; the requests, outbox, change feed and journal are lost when the"
            " node stops (configure [store] sqlite or postgres to keep them)",
            where,
        )
    elif config.store.implicit:
        log.info("store: %s (the configuration has no [store]; this is the default)", where)
    else:
        log.info("store: %s", where)


# -- time and ids ----------------------------------------------------------------------


@final
class ShiftedClock:
    """Real time, shifted by an offset that only grows (a demo can skip days)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = (start - datetime.now(UTC)) if start is not None else timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current (shifted) time, UTC."""
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; returns the new time."""
        if delta < timedelta(0):
            raise ValueError("time does not go backwards")
        with self._lock:
            self._offset += delta
        return self.now()

    def set(self, moment: datetime) -> datetime:
        """Move the clock forward to ``moment`` (never back)."""
        return self.advance(max(moment - self.now(), timedelta(0)))


@final
class UniqueIds:
    """Ids ``<namespace><prefix>-<run>-<n>-<salt>`` that sort in the order they were made.

    ``run`` is the process start in microseconds (fixed width, so a later run sorts after
    an earlier one), ``n`` a zero-padded counter, and ``salt`` a few random characters
    that keep two processes started in the same microsecond apart without changing the
    order. Stores order outbox messages of the same instant by id, so this keeps each
    conversation's messages in commit order (see ``IdSource``).
    """

    def __init__(self, namespace: str = "") -> None:
        self._namespace = namespace
        self._run = f"{time.time_ns() // 1000:016x}"
        self._salt = secrets.token_hex(2)
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        """The next id for this prefix."""
        with self._lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
        return f"{self._namespace}{prefix}-{self._run}-{n:09d}-{self._salt}"


def _partner_holdings(config: NodeConfig) -> PartnerHoldings | None:
    """The look-up of the partners' catalogues, when any partner has ``[partners.sru]``."""
    if not config.partner_sru:
        return None
    from resource_sharing_adapters.sru import partner_holdings

    log.info("partners' catalogues asked at intake: %s", ", ".join(map(str, config.partner_sru)))
    return partner_holdings(config.partner_sru)


# -- the node --------------------------------------------------------------------------


class Node:
    """The node's composition root: one institution, ready to serve.

    It builds and wires the parts (store, transport, host-system ports, institution,
    authenticator, background loops, feeds) and nothing else decides here.

    Build it from a configuration; ``store`` overrides the configured one (tests pass a
    store they own). The background threads start with :meth:`start` and stop with
    :meth:`stop` (the ASGI app's lifespan does both).
    """

    def __init__(self, config: NodeConfig, *, store: RequestStore | None = None) -> None:
        self.config = config
        """The configuration."""
        self.clock = ShiftedClock(config.clock_start)
        """The node's clock."""
        self.raw_store = store if store is not None else open_store(config)
        """The store itself (closed by :meth:`close` when it has ``close``)."""
        _announce(config, store is not None)
        own = self.raw_store if isinstance(self.raw_store, Feeds) else None
        memory = MemoryFeeds() if own is None else None
        self.feeds: Feeds = own if own is not None else memory  # type: ignore[assignment]
        """Where the change feed and the journal are kept (the store's own, if it has)."""
        self.feed = ChangeFeed(self.feeds)
        """Every committed step, numbered in commit order."""
        self.journal = Journal(self.feeds)
        """Every notice, circulation command and print job, one per idempotency key."""
        self.store = SerialStore(self.raw_store, memory)
        """The store as the institution uses it."""
        self.transport = HttpTransport(
            credentials={a: c.outbound for a, c in config.credentials.items()},
            timeout=config.delivery.timeout_seconds,
        )
        """The HTTP peer transport."""
        self.authenticator = Authenticator(
            config.agency,
            {a: c.inbound for a, c in config.credentials.items()},
            guard=Guard(config.security),
        )
        """Checks inbound messages."""
        settings = Settings(
            agency=config.agency,
            directory=config.directory,
            calendar=config.calendar,
            borrowing=config.borrowing,
            lending=config.lending,
            rota=config.rota,
            max_open_requests_per_patron=config.max_open_requests_per_patron,
            auto_locate=config.auto_locate,
            mediated_borrowing=config.mediated_borrowing,
            delivery=delivery_policy(config.delivery),
            sweep=config.sweep,
        )
        try:
            self.ports = build_ports(config, self.journal, self.clock, self._request)
            """The host-system ports, by name (the journal versions unless configured)."""
        except BaseException:
            self._close_store()
            raise
        self.partner_holdings = _partner_holdings(config)
        """The partners' SRU catalogues asked at intake (None: no partner has one)."""
        ports = Ports(
            store=self.store,
            transport=ObservedTransport(self.transport, self),
            notifier=self.ports["notifier"],  # type: ignore[arg-type]
            circulation=self.ports["circulation"],  # type: ignore[arg-type]
            holdings=self.ports["holdings"],  # type: ignore[arg-type]
            clock=self.clock,
            ids=UniqueIds(f"{config.agency.value}:"),
            printer=self.ports["printer"],  # type: ignore[arg-type]
            patrons=self.ports["patron_validator"],  # type: ignore[arg-type]
            partner_holdings=self.partner_holdings,
            attempts=ThreadedAttempts(),
        )
        self.owner = owner_of(config)
        """This process's name in the outbox's claims (stable across its restarts)."""
        self.institution = Institution(settings, ports, owner=self.owner)
        """The institution (desks, inbox, tick, dispatch)."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._dispatch_lock = threading.Lock()

    @property
    def agency(self) -> AgencyId:
        """Who this node is."""
        return self.config.agency

    # -- inbound ----------------------------------------------------------------------

    def receive(
        self,
        message: PeerMessage,
        *,
        message_id: str | None = None,
        authorization: str | None = None,
        origin: Origin | None = None,
        raw: bytes | None = None,
    ) -> Confirmation:
        """Authenticate and apply one inbound message; returns its confirmation.

        A refused message (not for us, unknown sender, bad credentials, an action, status
        or reason the sender's configured ISO 18626 version lacks) gets an ERROR
        confirmation and nothing is stored. ``message_id`` (the sender's ``X-Message-ID``)
        names the message, scoped by the authenticated sender; its identity is its
        content (:meth:`~resource_sharing.service.PeerInbox.receive`). ``origin`` (the
        client's address and TLS certificate) feeds the lock-out and mutual TLS; a sender
        locked out or over its rate raises :class:`~resource_sharing_adapters.http.Throttled`.
        ``raw`` (the body as received) is kept in the request's message log, its
        ``securityCode`` blanked.
        """
        now = self.clock.now()
        try:
            sender = self.authenticator.check(message, authorization, origin=origin)
        except PeerError as error:
            log.warning("refused a message: %s", getattr(error, "detail", error))
            return confirm_error(message, error, timestamp=now, received=now)
        partner = self.config.directory.get(sender)
        version = partner.protocol.iso18626_version if partner is not None else Version.V1_2
        try:
            check_version(message, version)
        except DecodeError as error:  # before anything is applied: nothing to undo
            log.warning("refused a message from %s: version %s %s", sender, version, error)
            return confirm_error(message, error, timestamp=now, received=now)
        text = _without_security_code(raw) if raw is not None else None
        confirmation = self.institution.inbox.receive(
            message, message_id=message_id, sender=sender, raw=text
        )
        if confirmation.error is not None:
            # not applied (nothing stored, or kept as a staff task when it did not fit)
            refusal = confirmation.error
            log.warning(
                "answered %s %s from %s with ERROR %s: %s",
                message.kind.value,
                message.header.requesting_agency_request_id,
                sender,
                refusal.type.value,
                refusal.value,
            )
        self.wake()
        return confirmation

    # -- background -------------------------------------------------------------------

    def wake(self) -> None:
        """Make the dispatcher look at the outbox now."""
        self._wake.set()

    def dispatch(self, rounds: int = 20) -> DispatchReport:
        """Deliver what is due now (several rounds while messages keep going out)."""
        total = DispatchReport()
        with self._dispatch_lock:
            for _ in range(rounds):
                report = self.institution.dispatch()
                total += report
                if report.sent + report.retried + report.given_up == 0:
                    break
        return total

    def tick(self) -> int:
        """Fire the timers that are due; returns how many fired."""
        fired = self.institution.tick()
        if fired:
            self.wake()
        return fired

    def sweep(self, *, force: bool = False) -> SweepReport:
        """Run the consistency sweep if its run is due (``force``: now); log and count it.

        Each run is claimed in the store, so with several processes on one database only
        one of them runs each ``[sweep] interval``.
        """
        sweep: ConsistencySweep = self.institution.sweep
        report = sweep.run(force=force)
        if report.ran:
            log.info(report.describe())
            metrics_of(self).swept(report)
            if report.asked:
                self.wake()
        return report

    def _dispatch_loop(self) -> None:
        interval = self.config.delivery.dispatch_interval_seconds
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.dispatch()
            except Exception:
                log.exception("dispatch failed")

    def _tick_loop(self) -> None:
        interval = self.config.delivery.tick_interval_seconds
        while not self._stop.wait(interval):
            try:
                self.tick()
            except Exception:
                log.exception("timer tick failed")
            try:
                self.sweep()  # a claim per tick: only a due run does anything
            except Exception:
                log.exception("consistency sweep failed")

    def start(self) -> None:
        """Start the dispatcher and timer threads."""
        if self._threads:
            return
        self._stop.clear()
        for target, name in ((self._dispatch_loop, "dispatch"), (self._tick_loop, "tick")):
            thread = threading.Thread(
                target=target, name=f"{self.agency.value}-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self.wake()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the background threads (waits for a dispatch in progress)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def close(self) -> None:
        """Stop, and close the transport, the partners' catalogues and the store."""
        self.stop()
        self.transport.close()
        if self.partner_holdings is not None:
            self.partner_holdings.close()
        self._close_store()

    def _request(self, request_id: str) -> AnyRequest | None:
        """A stored request by id, on whichever side it is (for the ports' look-ups)."""
        with self.store.transaction() as uow:
            for side in Side:
                found = uow.requests.get(side, request_id)
                if found is not None:
                    return found
        return None

    def _close_store(self) -> None:
        closer = getattr(self.raw_store, "close", None)
        if callable(closer):
            closer()

    # -- queries for the staff API ----------------------------------------------------

    def requests_of(self, changes: Sequence[Change]) -> list[AnyRequest]:
        """The current records of the requests named in ``changes`` (first seen first)."""
        seen: dict[tuple[Side, str], None] = {}
        for change in changes:
            seen.setdefault((change.side, change.request_id), None)
        return [self.institution.get(side, rid) for side, rid in seen]

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        """The request a partner names by ``protocol_id``."""
        with self.store.transaction() as uow:
            return uow.requests.find(side, protocol_id, counterpart)

    def outbox(self, status: OutboxStatus | None = None) -> list[OutboxEntry]:
        """Outbox entries (every port)."""
        with self.store.transaction() as uow:
            return list(uow.outbox.entries(status=status))
