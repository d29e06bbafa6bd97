"""In-memory adapters of the non-storage ports, with observable state.

- :class:`Network` and the :class:`MemoryTransport` it hands each institution: delivers
  every message through the receiving institution's real peer inbox, can take a node
  down, and records what was sent.
- :class:`RecordingNotifier`, :class:`MemoryCirculation`: record every notice and every
  circulation command once per idempotency key, and keep the host system's view (items,
  loans, hold shelf).
- :class:`FlakyCirculation`, :class:`FlakyNotifier`: fail the first N attempts of each
  effect, then pass it on (for testing the dispatcher's retries and staff tasks).
- :class:`MemoryPartnerHoldings`: partners' catalogues at intake (who holds what, whose
  catalogue is down), counting the look-ups.
- :class:`FixedClock`, :class:`SequentialIds`, :class:`SequenceRandom`: time,
  identifiers and randomness you control.
- :class:`RecordingNotifier`, :class:`MemoryCirculation`, :class:`FixedClock`,
  :class:`SequentialIds`, :class:`MemoryHoldings` and :class:`MemoryPrinter` are
  re-exported from :mod:`resource_sharing.memory`, where production code imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import final

import attrs

from resource_sharing.directory import Partner
from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    NotifyPatron,
    NotifyStaff,
    PlaceOnHoldShelf,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing.identifiers import match_keys
from resource_sharing.memory import (
    FixedClock,
    MemoryCirculation,
    MemoryHoldings,
    MemoryPrinter,
    RecordingNotifier,
    SequentialIds,
)
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import Circulation, Notifier
from resource_sharing.records import AgencyId, Citation, Identifier
from resource_sharing.rota import Holding as PartnerHolding
from resource_sharing.rota import HoldingsAnswer

__all__ = [
    "FixedClock",
    "FlakyCirculation",
    "FlakyNotifier",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryPartnerHoldings",
    "MemoryPrinter",
    "MemoryTransport",
    "Network",
    "RecordingNotifier",
    "SentMessage",
    "SequenceRandom",
    "SequentialIds",
]

Inbox = Callable[..., Confirmation]


@final
@attrs.frozen
class SentMessage:
    """One delivery attempt the network saw."""

    sender: AgencyId
    """Who sent it."""
    to: AgencyId
    """Who it was for."""
    message_id: str
    """Its identity."""
    message: PeerMessage
    """The message."""
    confirmation: Confirmation | None
    """The answer (None when the receiver was down)."""


class Network:
    """Connects institutions in one process; every message goes through a real inbox."""

    def __init__(self) -> None:
        self._inboxes: dict[AgencyId, Inbox] = {}
        self.down: set[AgencyId] = set()
        """Agencies that are unreachable now (deliveries to them fail, retryably)."""
        self.log: list[SentMessage] = []
        """Every delivery attempt, in order."""

    def attach(self, agency: AgencyId, inbox: Inbox) -> None:
        """Route messages for ``agency`` to ``inbox`` (an ``Institution.inbox.receive``)."""
        self._inboxes[agency] = inbox

    def transport_for(self, sender: AgencyId) -> MemoryTransport:
        """The transport ``sender`` sends through."""
        return MemoryTransport(self, sender)

    def deliver(
        self, sender: AgencyId, to: AgencyId, message: PeerMessage, message_id: str
    ) -> Confirmation:
        """Hand the message to the receiver's inbox; raise DeliveryError when it is down."""
        inbox = self._inboxes.get(to)
        if inbox is None or to in self.down:
            self.log.append(SentMessage(sender, to, message_id, message, None))
            raise DeliveryError(str(to), "unreachable")
        confirmation = inbox(message, message_id=message_id, sender=sender)
        self.log.append(SentMessage(sender, to, message_id, message, confirmation))
        return confirmation


@final
class MemoryTransport:
    """The peer transport of one institution on a :class:`Network`."""

    def __init__(self, network: Network, sender: AgencyId) -> None:
        self._network = network
        self._sender = sender
        self.sent: list[SentMessage] = []
        """Messages this institution sent, with their confirmations."""

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        """Deliver through the network (see :meth:`Network.deliver`)."""
        confirmation = self._network.deliver(self._sender, partner.agency, message, message_id)
        self.sent.append(self._network.log[-1])
        return confirmation


class _FailFirst:
    """Fails the first ``failures`` attempts of each key, then lets them through."""

    def __init__(self, failures: int, retryable: bool) -> None:
        self.failures = failures
        """Failed attempts per key before it goes through."""
        self.retryable = retryable
        """Whether the failures say that retrying can help."""
        self.attempts: dict[str, int] = {}
        """Attempts seen per key."""
        self.down = False
        """While True, every attempt fails (the port is down)."""

    def attempt(self, port: str, key: str) -> None:
        """Count an attempt; raise DeliveryError while it should fail."""
        seen = self.attempts.get(key, 0) + 1
        self.attempts[key] = seen
        if self.down or seen <= self.failures:
            raise DeliveryError(port, f"attempt {seen} refused (test)", retryable=self.retryable)


@final
class FlakyCirculation:
    """Circulation that fails the first ``failures`` attempts of each command, then works."""

    def __init__(self, inner: Circulation, failures: int = 1, *, retryable: bool = True) -> None:
        self.inner = inner
        """The circulation that gets the commands once they go through."""
        self.faults = _FailFirst(failures, retryable)
        """The failure count (``faults.down = True`` takes the port down)."""

    def create_temporary_item(self, command: CreateTemporaryItem, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.create_temporary_item(command, key=key)

    def delete_temporary_item(self, command: DeleteTemporaryItem, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.delete_temporary_item(command, key=key)

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.place_on_hold_shelf(command, key=key)

    def check_out_to_patron(self, command: CheckOutToPatron, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.check_out_to_patron(command, key=key)

    def renew_patron_loan(self, command: RenewPatronLoan, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.renew_patron_loan(command, key=key)

    def recall_patron_loan(self, command: RecallPatronLoan, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.recall_patron_loan(command, key=key)

    def check_out_to_partner(self, command: CheckOutToPartner, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.check_out_to_partner(command, key=key)

    def check_in(self, command: CheckIn, *, key: str) -> str | None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        return self.inner.check_in(command, key=key)

    def route_item(self, command: RouteItem, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("circulation", key)
        self.inner.route_item(command, key=key)


@final
class FlakyNotifier:
    """A notifier that fails the first ``failures`` attempts of each notice, then works."""

    def __init__(self, inner: Notifier, failures: int = 1, *, retryable: bool = True) -> None:
        self.inner = inner
        """The notifier that gets the notices once they go through."""
        self.faults = _FailFirst(failures, retryable)
        """The failure count (``faults.down = True`` takes the port down)."""

    def notify_patron(self, notice: NotifyPatron, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("notifier", key)
        self.inner.notify_patron(notice, key=key)

    def notify_staff(self, notice: NotifyStaff, *, key: str) -> None:
        """Fail, or pass on."""
        self.faults.attempt("notifier", key)
        self.inner.notify_staff(notice, key=key)


@final
class SequenceRandom:
    """A :class:`~resource_sharing.ports.RandomSource` that repeats the numbers it is given."""

    def __init__(self, *numbers: float) -> None:
        if not numbers or not all(0.0 <= n < 1.0 for n in numbers):
            raise InvalidInput("numbers", "give at least one number in [0, 1)")
        self._numbers = numbers
        self._next = 0

    def random(self) -> float:
        """The next number (round and round)."""
        number = self._numbers[self._next % len(self._numbers)]
        self._next += 1
        return number


@final
class MemoryPartnerHoldings:
    """A :class:`~resource_sharing.ports.PartnerHoldingsLocator` over partners' catalogues.

    ``catalogues`` gives each partner that has one the identifiers it holds (any written
    form: compared normalised); ``down`` the partners whose catalogue cannot be asked,
    with why. Every look-up is kept in :attr:`asked`.
    """

    def __init__(
        self,
        catalogues: Mapping[AgencyId, Iterable[Identifier]],
        *,
        down: Mapping[AgencyId, str] | None = None,
    ) -> None:
        self.catalogues = {agency: match_keys(tuple(ids)) for agency, ids in catalogues.items()}
        """Each partner's holdings, as normalised identifier keys."""
        self.down = dict(down or {})
        """The partners whose catalogue cannot be asked, and why."""
        self.asked: list[tuple[Citation, tuple[AgencyId, ...]]] = []
        """Every look-up: the citation and the partners named, in order."""

    def answer(self, citation: Citation, partners: Sequence[AgencyId]) -> HoldingsAnswer:
        """Holders with the citation's identifiers; down partners kept with why."""
        self.asked.append((citation, tuple(partners)))
        wanted = match_keys(citation)
        keys = tuple(sorted(wanted, key=lambda k: (k.code, k.value)))
        found: list[PartnerHolding] = []
        for agency in dict.fromkeys(partners):
            if agency in self.down:
                found.append(PartnerHolding(agency, unknown=self.down[agency]))
            elif agency not in self.catalogues:
                found.append(PartnerHolding(agency))  # no catalogue: not asked, kept
            elif self.catalogues[agency] & wanted:
                found.append(PartnerHolding(agency, identifiers=keys))
        return HoldingsAnswer(tuple(found))
