"""Ports: what the application services need from the host system, as Protocols.

The core depends on these and never on an implementation. Reference adapters live in
``resource_sharing_adapters`` (SQLite, PostgreSQL, ISO 18626 over HTTP, SMTP); in-memory
ones with observable state are published in :mod:`resource_sharing.testing`, together
with a contract suite per port that any adapter runs to prove it honours the port.

The request store is the heart: everything one service call changes (the request, its
history entries, its outgoing messages, the identity of the peer message it processed)
is written through one :class:`UnitOfWork` and committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, final

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
    PrintJob,
    PrintPickSlip,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
    TaskList,
)
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    ItemRef,
    LendingRequest,
    PatronRef,
    Side,
)

__all__ = [
    "AnyRequest",
    "Circulation",
    "Clock",
    "Holding",
    "HoldingsLocator",
    "IdSource",
    "Notifier",
    "OutboxMessage",
    "OutboxStatus",
    "PartnerDirectory",
    "PatronStanding",
    "PatronValidator",
    "PeerTransport",
    "Printer",
    "RequestIndex",
    "RequestStore",
    "Task",
    "UnitOfWork",
]

AnyRequest = BorrowingRequest | LendingRequest
"""A request of either side."""


class OutboxStatus(StrEnum):
    """Where an outgoing message is in its delivery."""

    PENDING = "pending"
    """Waiting to be sent (or to be retried at ``next_attempt_at``)."""
    SENT = "sent"
    """Delivered and confirmed."""
    FAILED = "failed"
    """Given up on after too many attempts (a staff task was raised)."""


@final
@attrs.frozen
class OutboxMessage:
    """A peer message saved with the step that produced it, delivered later."""

    id: str
    """Unique id (also the message's identity for the receiver's idempotency)."""
    side: Side
    """The side of the request that sent it."""
    request_id: str
    """The request that sent it."""
    to: AgencyId
    """The partner it is for."""
    message: PeerMessage
    """The message."""
    created_at: datetime
    """When the step that produced it was committed."""
    next_attempt_at: datetime
    """Not to be sent before this (backoff)."""
    attempts: int = 0
    """Delivery attempts so far."""
    status: OutboxStatus = OutboxStatus.PENDING
    """Pending, sent or failed."""
    last_error: str | None = None
    """Why the last attempt failed."""


@final
@attrs.frozen
class RequestIndex:
    """The queried fields of a stored request, computed by the service on every save.

    Stores keep them as columns (so task lists and look-ups are indexed) next to the
    record itself; they never need to understand the record.
    """

    side: Side
    """Borrowing or lending."""
    state: str
    """The canonical state name."""
    task_list: TaskList | None
    """The staff list that shows it now."""
    desk: str | None
    """The desk whose list shows it (per-desk lists)."""
    instruction: str | None
    """What the operator must do now."""
    needs_attention: bool
    """A person must act."""
    terminal: bool
    """The request has ended."""
    patron_id: str | None = None
    """Borrowing: the patron (for limits and duplicates)."""
    counterpart: AgencyId | None = None
    """The lender (borrowing) or borrower (lending) it is with now."""
    protocol_ids: tuple[str, ...] = ()
    """requestingAgencyRequestIds that name it (every attempt on the borrowing side)."""
    barcodes: tuple[str, ...] = ()
    """Item barcodes that name it (for scanning)."""
    next_deadline: datetime | None = None
    """Its earliest timer."""


@final
@attrs.frozen
class Task:
    """One line of a staff task list."""

    task_list: TaskList
    """Which list."""
    side: Side
    """Borrowing or lending."""
    request_id: str
    """The request."""
    state: str
    """Its state."""
    instruction: str | None
    """What to do."""
    desk: str | None
    """At which desk."""
    updated_at: datetime
    """When it got onto the list."""


class UnitOfWork(Protocol):
    """Everything one service call reads and writes, committed together or not at all."""

    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        """The stored request, or None."""
        ...

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        """The id of the request a peer names by ``protocol_id`` (None if none)."""
        ...

    def find_by_barcode(self, barcode: str) -> Sequence[tuple[Side, str]]:
        """Open requests whose item has this barcode."""
        ...

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        """Insert (expected version 0) or update the request; returns the new version.

        Raises :class:`~resource_sharing.errors.ConcurrencyConflict` when the stored
        version is not ``expected_version``.
        """
        ...

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Append history entries (never changed afterwards)."""
        ...

    def history(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        """A request's history, in order."""
        ...

    def tasks(
        self,
        task_list: TaskList,
        *,
        desk: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Task]:
        """A page of a task list, oldest first."""
        ...

    def open_requests_of_patron(self, patron_id: str) -> Sequence[BorrowingRequest]:
        """The patron's borrowing requests that have not ended."""
        ...

    def due(self, now: datetime, limit: int = 100) -> Sequence[tuple[Side, str]]:
        """Requests with a deadline at or before ``now``."""
        ...

    def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        """Add messages to the outbox."""
        ...

    def claim(self, now: datetime, limit: int, lease: timedelta) -> Sequence[OutboxMessage]:
        """Take up to ``limit`` pending messages due at ``now`` for delivery.

        A claimed message is not claimed again until ``now + lease`` (so concurrent
        dispatchers never send it at the same time).
        """
        ...

    def mark_sent(self, message_id: str, at: datetime) -> None:
        """Record a delivered message."""
        ...

    def mark_failed(
        self, message_id: str, error: str, retry_at: datetime | None, attempts: int
    ) -> None:
        """Record a failed attempt: retry at ``retry_at``, or give up when None."""
        ...

    def outbox(self, status: OutboxStatus | None = None) -> Sequence[OutboxMessage]:
        """Outbox messages (all, or with this status), oldest first."""
        ...

    def processed(self, key: str) -> Confirmation | None:
        """The confirmation given for an already processed peer message, if any."""
        ...

    def remember(self, key: str, confirmation: Confirmation) -> None:
        """Record that the peer message ``key`` was processed, with its confirmation."""
        ...


class RequestStore(Protocol):
    """Durable storage of requests; every change goes through a unit of work."""

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        ...


class PeerTransport(Protocol):
    """Delivers protocol messages to partners."""

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        """Deliver the message; return the partner's confirmation.

        Raises :class:`~resource_sharing.errors.DeliveryError` when it could not be
        delivered (retryable) or was refused (not retryable).
        """
        ...


class Notifier(Protocol):
    """Patron and staff notices (e-mail, SMS, the host system's notices...)."""

    def notify_patron(self, notice: NotifyPatron) -> None:
        """Send a notice to a patron."""
        ...

    def notify_staff(self, notice: NotifyStaff) -> None:
        """Tell staff something that needs a person."""
        ...


class Circulation(Protocol):
    """The host system's circulation (an ILS through NCIP, an API, a test double)."""

    def create_temporary_item(self, command: CreateTemporaryItem) -> None:
        """Create a temporary item for a borrowed loan."""
        ...

    def delete_temporary_item(self, command: DeleteTemporaryItem) -> None:
        """Remove the temporary item."""
        ...

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf) -> None:
        """Put the item on the hold shelf for the patron."""
        ...

    def check_out_to_patron(self, command: CheckOutToPatron) -> None:
        """Lend the item to the patron."""
        ...

    def renew_patron_loan(self, command: RenewPatronLoan) -> None:
        """Move the patron loan's due date."""
        ...

    def recall_patron_loan(self, command: RecallPatronLoan) -> None:
        """Recall the patron loan to an earlier due date."""
        ...

    def check_out_to_partner(self, command: CheckOutToPartner) -> None:
        """Lend our item to the borrowing institution."""
        ...

    def check_in(self, command: CheckIn) -> None:
        """Check the item in."""
        ...

    def route_item(self, command: RouteItem) -> None:
        """Record where the item goes next (reshelve, home library, lender)."""
        ...

    def print_pick_slip(self, command: PrintPickSlip) -> None:
        """Print the pick slip."""
        ...


class Printer(Protocol):
    """Prints the documents staff handle (pick slips, labels, hold-shelf and return slips)."""

    def print_document(self, job: PrintJob, *, key: str) -> None:
        """Print one document; ``key`` is the same on every retry of the same job.

        Raises :class:`~resource_sharing.errors.DeliveryError` when it could not print.
        """
        ...


@final
@attrs.frozen
class PatronStanding:
    """What the host system says of a patron asked about at intake."""

    eligible: bool
    """The patron may place a request."""
    reason: str | None = None
    """Why not, in words staff read (blocked, expired, unknown), when not eligible."""
    patron: PatronRef | None = None
    """The patron as the host system knows them (name, group, e-mail), when found."""


class PatronValidator(Protocol):
    """Checks a patron with the host system before a borrowing request is taken."""

    def validate(self, patron: PatronRef) -> PatronStanding:
        """The patron's standing; raises ``DeliveryError`` when the host cannot be asked."""
        ...


@final
@attrs.frozen
class Holding:
    """What the holdings locator found for a citation at this institution."""

    item: ItemRef
    """The item that could supply it."""
    available: bool = True
    """Whether it is on the shelf now."""


class HoldingsLocator(Protocol):
    """Looks our own holdings up (the lending side's automatic locate)."""

    def locate(self, citation: Citation) -> Holding | None:
        """The best item for this citation, or None when we do not hold it."""
        ...


class PartnerDirectory(Protocol):
    """The partners we know."""

    def partner(self, agency: AgencyId) -> Partner | None:
        """The partner with this agency id."""
        ...

    def partners(self) -> Sequence[Partner]:
        """Every partner."""
        ...


class Clock(Protocol):
    """The time, from outside the core."""

    def now(self) -> datetime:
        """The current time, aware, UTC."""
        ...


class IdSource(Protocol):
    """New identifiers, from outside the core (randomness is I/O too)."""

    def new_id(self, prefix: str) -> str:
        """A new id, unique in this store, starting with ``prefix``.

        Ids of one prefix must sort (as strings) in the order they were made: stores
        order outbox messages committed at the same instant by id, and the dispatcher
        keeps each conversation's messages in that order.
        """
        ...
