"""Strategies and the in-test network double for the stateful protocol tests.

The network double (:class:`HeldNetwork`) *holds* every message in flight instead of
delivering it: the test decides when (and whether, and how often) each one arrives.
Its transport keeps the sender's outbox message pending until the receiver's
confirmation has travelled back: ``send`` puts a copy of the message in flight and raises
a retryable :class:`~resource_sharing.errors.DeliveryError` ("awaiting confirmation");
once the test delivers a copy, the confirmation is remembered and the sender's next
dispatch of that message returns it, so the outbox marks it sent. Every retry before
that puts another copy in flight, with the same message id, as a real sender that timed
out would. A dropped copy is therefore retried, a lost confirmation makes the sender
send the message again (a duplicate the receiver must recognise), and the network never
invents messages.

Randomness comes only from hypothesis: the strategies below, and the order in which the
state machine draws messages from its bundle.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, final

import attrs
from hypothesis import strategies as st

from resource_sharing.directory import Partner
from resource_sharing.errors import DeliveryError
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import AnyRequest, Holding, ReceivedMessage, RequestIndex, RequestStore
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, Side
from resource_sharing.testing import MemoryStore

__all__ = [
    "TITLES",
    "HeldNetwork",
    "HeldTransport",
    "InFlight",
    "ShelfHoldings",
    "TrackingStore",
    "citations",
    "long_waits",
    "short_waits",
]

TITLES: tuple[str, ...] = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
"""The works of the simulated consortium; who holds which is set per machine."""


def citation_of(title: str) -> Citation:
    """The citation of a work, by title and a made-up ISBN."""
    isbn = f"97800000000{TITLES.index(title):02d}"
    return Citation(title=title, item_ids=(Identifier("ISBN", isbn),))


citations = st.sampled_from(TITLES).map(citation_of)
"""A citation of one of the works."""

short_waits = st.sampled_from((timedelta(minutes=5), timedelta(hours=1), timedelta(hours=8)))
"""Time that passes while messages are in flight (far less than any answer deadline)."""

long_waits = st.sampled_from(
    (timedelta(days=1), timedelta(days=3), timedelta(days=8), timedelta(days=20))
)
"""Time that passes on a quiet network (timers: answer expiry, due dates, overdue)."""


@final
@attrs.frozen(eq=False)
class InFlight:
    """One copy of a message on the network (identity matters: copies are distinct)."""

    sender: AgencyId
    """Who sent it."""
    to: AgencyId
    """Who it is for."""
    message_id: str
    """The sender's identity of the message (the receiver's idempotency key)."""
    message: PeerMessage
    """The message."""

    def __repr__(self) -> str:
        return f"InFlight({self.sender}->{self.to} {self.message_id} {self.message.kind.value})"


class HeldNetwork:
    """Messages in flight, and the confirmations that have travelled back."""

    def __init__(self) -> None:
        self.flying: list[InFlight] = []
        """Copies sent and not yet delivered or dropped, oldest first."""
        self.confirmed: dict[tuple[AgencyId, str], Confirmation] = {}
        """(sender, message id) -> the receiver's confirmation, once it came back."""

    def transport_for(self, sender: AgencyId) -> HeldTransport:
        """The transport ``sender`` sends through."""
        return HeldTransport(self, sender)

    def take(self, copy: InFlight) -> None:
        """Remove a copy from the network (delivered or dropped)."""
        for index, flying in enumerate(self.flying):
            if flying is copy:
                del self.flying[index]
                return


@final
class HeldTransport:
    """A peer transport that queues instead of delivering (see the module docstring)."""

    def __init__(self, network: HeldNetwork, sender: AgencyId) -> None:
        self._network = network
        self._sender = sender
        self.sent: list[InFlight] = []
        """Copies put in flight by this institution since the last :meth:`drain_sent`."""

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        """The confirmation once it came back; until then a copy flies and this fails."""
        answer = self._network.confirmed.get((self._sender, message_id))
        if answer is not None:
            return answer
        copy = InFlight(self._sender, partner.agency, message_id, message)
        self._network.flying.append(copy)
        self.sent.append(copy)
        raise DeliveryError(str(partner.agency), "awaiting confirmation", retryable=True)

    def drain_sent(self) -> list[InFlight]:
        """The copies sent since the last call."""
        sent, self.sent = self.sent, []
        return sent


class _Counted:
    """What one unit saved, and how many writes (saves and history entries) it made."""

    def __init__(self) -> None:
        self.saved: dict[tuple[Side, str], AnyRequest] = {}
        self.writes = 0


class _TrackingRequests:
    def __init__(self, inner: Any, counted: _Counted) -> None:
        self._inner = inner
        self._counted = counted

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        version: int = self._inner.save(record, index, expected_version=expected_version)
        self._counted.saved[(index.side, record.id)] = attrs.evolve(record, version=version)
        self._counted.writes += 1
        return version


class _TrackingHistory:
    def __init__(self, inner: Any, counted: _Counted) -> None:
        self._inner = inner
        self._counted = counted

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def append(self, entries: Sequence[Any]) -> None:
        self._inner.append(entries)
        self._counted.writes += len(entries)


class _ForgetfulInbox:
    """The seeded fault: nothing processed is ever remembered."""

    def processed(self, key: str) -> Confirmation | None:
        return None

    def remember(self, key: str, confirmation: Confirmation, *, name: str | None = None) -> None:
        return None

    def named(self, name: str) -> str | None:
        return None

    def log(self, message: ReceivedMessage) -> None:
        return None

    def received(self, side: Side, request_id: str) -> Sequence[ReceivedMessage]:
        return ()


class _TrackingUnit:
    """A unit of work that wraps the repositories it watches; the others are the real ones."""

    def __init__(self, unit: Any, forgetful: bool) -> None:
        self.counted = _Counted()
        self.requests = _TrackingRequests(unit.requests, self.counted)
        self.history = _TrackingHistory(unit.history, self.counted)
        self.inbox = _ForgetfulInbox() if forgetful else unit.inbox
        self.outbox = unit.outbox
        self.tasks = unit.tasks
        self.patrons = unit.patrons
        self.timers = unit.timers
        self.sweep = unit.sweep


class TrackingStore:
    """A :class:`MemoryStore` that keeps a committed copy of every request it saved.

    ``writes`` counts committed saves and history entries, so a test can tell whether a
    call changed anything. ``forgetful=True`` is the seeded fault: the store never
    remembers a processed peer message, so a duplicate is applied again.
    """

    def __init__(self, *, forgetful: bool = False) -> None:
        self.inner: RequestStore = MemoryStore()
        """The real store."""
        self.forgetful = forgetful
        """Seeded fault: processed messages are forgotten."""
        self.records: dict[tuple[Side, str], AnyRequest] = {}
        """Every request, as last committed."""
        self.writes = 0
        """Committed saves and history entries so far."""

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A unit of work of the inner store; what it saved is noted when it commits."""
        with self.inner.transaction() as unit:
            tracking = _TrackingUnit(unit, self.forgetful)
            yield tracking
        self.records.update(tracking.counted.saved)
        self.writes += tracking.counted.writes


@final
class ShelfHoldings:
    """Holdings whose items are unavailable while an open lending request has them."""

    def __init__(self, store: TrackingStore, items: dict[str, ItemRef]) -> None:
        self._store = store
        self._items = items

    def locate(self, citation: Citation) -> Holding | None:
        """The item for the title, available unless it is out on another request."""
        item = self._items.get(citation.title or "")
        if item is None:
            return None
        with self._store.inner.transaction() as unit:
            hits = unit.requests.find_by_barcode(item.barcode)
            busy = any(side is Side.LENDING for side, _ in hits)
        return Holding(item, available=not busy)
