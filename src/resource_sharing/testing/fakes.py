"""In-memory adapters of the non-storage ports, with observable state.

- :class:`Network` and the :class:`MemoryTransport` it hands each institution: delivers
  every message through the receiving institution's real peer inbox, can take a node
  down, and records what was sent.
- :class:`RecordingNotifier`, :class:`MemoryCirculation`: record every notice and every
  circulation command, and keep the host system's view (items, loans, hold shelf).
- :class:`MemoryHoldings`: a catalogue keyed by identifier or title.
- :class:`FixedClock`, :class:`SequentialIds`: time and identifiers you control.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, final

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
    PrintPickSlip,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, Citation

__all__ = [
    "FixedClock",
    "MemoryCirculation",
    "MemoryHoldings",
    "MemoryTransport",
    "Network",
    "RecordingNotifier",
    "SentMessage",
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


@final
class RecordingNotifier:
    """Keeps every notice."""

    def __init__(self) -> None:
        self.patron_notices: list[NotifyPatron] = []
        """Patron notices, in order."""
        self.staff_notices: list[NotifyStaff] = []
        """Staff notices, in order."""

    def notify_patron(self, notice: NotifyPatron) -> None:
        """Record a patron notice."""
        self.patron_notices.append(notice)

    def notify_staff(self, notice: NotifyStaff) -> None:
        """Record a staff notice."""
        self.staff_notices.append(notice)


@final
class MemoryCirculation:
    """A host system's circulation in memory: items, loans, the hold shelf, a command log."""

    def __init__(self) -> None:
        self.commands: list[Any] = []
        """Every command received, in order."""
        self.temporary_items: dict[str, CreateTemporaryItem] = {}
        """Temporary items that exist now, by barcode."""
        self.hold_shelf: dict[str, PlaceOnHoldShelf] = {}
        """Items on the hold shelf, by barcode."""
        self.loans: dict[str, datetime] = {}
        """Open loans (to patrons or partners), barcode to due date."""
        self.slips: list[PrintPickSlip] = []
        """Pick slips printed."""
        self.routes: list[RouteItem] = []
        """Routing instructions given."""

    def create_temporary_item(self, command: CreateTemporaryItem) -> None:
        """Create a temporary item (an existing barcode is an error)."""
        if command.barcode in self.temporary_items:
            raise InvalidInput("barcode", f"{command.barcode!r} already exists")
        self.commands.append(command)
        self.temporary_items[command.barcode] = command

    def delete_temporary_item(self, command: DeleteTemporaryItem) -> None:
        """Delete a temporary item."""
        self.commands.append(command)
        self.temporary_items.pop(command.barcode, None)
        self.hold_shelf.pop(command.barcode, None)

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf) -> None:
        """Put an item on the hold shelf."""
        self.commands.append(command)
        self.hold_shelf[command.barcode] = command

    def check_out_to_patron(self, command: CheckOutToPatron) -> None:
        """Lend an item to a patron."""
        self.commands.append(command)
        self.hold_shelf.pop(command.barcode, None)
        self.loans[command.barcode] = command.due

    def renew_patron_loan(self, command: RenewPatronLoan) -> None:
        """Move a loan's due date."""
        self.commands.append(command)
        self.loans[command.barcode] = command.due

    def recall_patron_loan(self, command: RecallPatronLoan) -> None:
        """Recall a loan to an earlier due date."""
        self.commands.append(command)
        self.loans[command.barcode] = command.due

    def check_out_to_partner(self, command: CheckOutToPartner) -> None:
        """Lend our item to a partner institution."""
        self.commands.append(command)
        self.loans[command.barcode] = command.due

    def check_in(self, command: CheckIn) -> None:
        """End the loan of an item."""
        self.commands.append(command)
        self.loans.pop(command.barcode, None)

    def route_item(self, command: RouteItem) -> None:
        """Record where an item goes next."""
        self.commands.append(command)
        self.routes.append(command)

    def print_pick_slip(self, command: PrintPickSlip) -> None:
        """Print a pick slip."""
        self.commands.append(command)
        self.slips.append(command)


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
class FixedClock:
    """A clock that only moves when told."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise InvalidInput("now", "must be timezone-aware")
        self._now = now

    def now(self) -> datetime:
        """The current (fixed) time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward."""
        if delta < timedelta(0):
            raise InvalidInput("delta", "time does not go backwards")
        self._now += delta
        return self._now

    def set(self, now: datetime) -> None:
        """Set the clock (forward only)."""
        self.advance(now - self._now)


@final
class SequentialIds:
    """Identifiers ``<namespace><prefix>-<n>``, counted per prefix.

    The number is zero-padded so that ids sort in the order they were made, as
    :class:`~resource_sharing.ports.IdSource` asks.
    """

    def __init__(self, namespace: str = "") -> None:
        self._namespace = namespace
        self._counters: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        """The next id for this prefix."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{self._namespace}{prefix}-{n:09d}"
