"""Ports: what the application services need from the host system, as Protocols.

The core depends on these and never on an implementation. Reference adapters live in
``resource_sharing_adapters`` (SQLite, PostgreSQL, ISO 18626 over HTTP, SMTP); in-memory
ones live in :mod:`resource_sharing.memory`, and :mod:`resource_sharing.testing` has a
contract suite per port that any adapter runs to prove it honours the port.

The request store is the heart: everything one service call changes (the request, its
history entries, the effects it sends out, the identity of the peer message it
processed, the staff tasks it raises) is written through one :class:`UnitOfWork` and
committed together or not at all. A unit of work hands out small repositories
(:class:`RequestRepository`, :class:`HistoryRepository`, :class:`OutboxRepository`,
:class:`InboxRepository`, :class:`TaskRepository`, :class:`PatronRepository`,
:class:`TimerRepository`, :class:`SweepRepository`), so a store or a wrapper implements
only what it needs.

Every effect that leaves the core (peer messages, circulation commands, notices, print
jobs) is an :class:`OutboxEntry` written in the same unit of work as its step, then
delivered by the dispatcher to one :class:`Port` with an idempotency ``key`` that is the
same on every retry. A delivery that gives up becomes a :class:`StaffTask`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar, final

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
    OutboundEffect,
    PlaceOnHoldShelf,
    PrintJob,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
    TaskList,
)
from resource_sharing.messages import Confirmation, PeerMessage
from resource_sharing.records import (
    Actor,
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    ItemRef,
    LendingRequest,
    PatronRef,
    Side,
)
from resource_sharing.rota import HoldingsAnswer

__all__ = [
    "DELIVERY_CHOICES",
    "AnyRequest",
    "AttemptRunner",
    "Circulation",
    "Clock",
    "HistoryRepository",
    "Holding",
    "HoldingsLocator",
    "IdSource",
    "InboxRepository",
    "Notifier",
    "OutboxEntry",
    "OutboxRepository",
    "OutboxStatus",
    "PartnerHoldingsLocator",
    "PatronRepository",
    "PatronStanding",
    "PatronValidator",
    "PeerTransport",
    "Port",
    "Printer",
    "RandomSource",
    "ReceivedMessage",
    "RequestIndex",
    "RequestKey",
    "RequestRepository",
    "RequestStore",
    "StaffTask",
    "SweepRepository",
    "Task",
    "TaskChoice",
    "TaskRepository",
    "TaskResolution",
    "TimerRepository",
    "UnitOfWork",
]

AnyRequest = BorrowingRequest | LendingRequest
"""A request of either side."""

T = TypeVar("T")

RequestKey = tuple[Side, str]
"""A stored request's identity: its side and its id."""


class Port(StrEnum):
    """The ports an outbox entry is delivered to (each with its own retry policy)."""

    PEER = "peer"
    """The peer transport (ISO 18626 messages to partners)."""
    CIRCULATION = "circulation"
    """The host system's circulation (temporary items, hold shelf, loans, check-in)."""
    NOTIFIER = "notifier"
    """Patron and staff notices."""
    PRINTER = "printer"
    """Pick slips, shipping labels, hold-shelf and return slips."""


class OutboxStatus(StrEnum):
    """Where an outbox entry is in its delivery."""

    PENDING = "pending"
    """Waiting to be delivered (or retried at ``next_attempt_at``)."""
    DELIVERED = "delivered"
    """The port took it."""
    GIVEN_UP = "given_up"
    """Too many failed attempts, or refused for good: a staff task says what to do."""
    DONE_BY_HAND = "done_by_hand"
    """Staff carried it out themselves after it had given up."""
    DROPPED = "dropped"
    """Staff decided it is not needed any more after it had given up."""


@final
@attrs.frozen
class OutboxEntry:
    """One effect saved with the step that produced it, delivered later to its port.

    Entries of one ``stream`` are delivered in the order they were committed
    (``created_at``, then ``id``): one never overtakes an earlier pending one.
    """

    id: str
    """Unique id of the entry in the store (ids of one store sort in creation order)."""
    key: str
    """The idempotency key the port gets: the same on every retry, unique per effect
    (a peer message's id for the receiver's idempotency, an SMTP Message-ID, an NCIP
    RequestId, a printed file's name)."""
    side: Side
    """The side of the request whose step produced it."""
    request_id: str
    """That request."""
    port: Port
    """Where it goes."""
    stream: str
    """The ordering stream (``side/request/port``, and the partner for peer messages)."""
    effect: OutboundEffect
    """The effect itself (stores keep it with :mod:`resource_sharing.serialization`)."""
    created_at: datetime
    """When the step that produced it was committed."""
    next_attempt_at: datetime
    """Not to be delivered before this (backoff)."""
    attempts: int = 0
    """Delivery attempts so far."""
    status: OutboxStatus = OutboxStatus.PENDING
    """Pending, delivered, given up, done by hand or dropped."""
    last_error: str | None = None
    """Why the last attempt failed, in words."""
    claimed_by: str | None = None
    """The dispatcher (owner id) that holds it now, while ``lease_until`` lasts."""
    lease_until: datetime | None = None
    """Until when that claim holds; after it any dispatcher may claim the entry."""
    finished_at: datetime | None = None
    """When it left ``pending`` (delivered, given up, done by hand, dropped)."""


@final
@attrs.frozen
class ReceivedMessage:
    """One peer message applied to a request, kept as it arrived (the request's message log).

    The inbox writes it in the unit of work that applied the message, so a request's
    page can show every message that came in, decoded, beside the ones that went out.
    """

    side: Side
    """The side of the request it was applied to."""
    request_id: str
    """That request."""
    at: datetime
    """When it was applied (the node's clock)."""
    sender: AgencyId
    """The agency that sent it (as the message names it, checked against the transport)."""
    message: PeerMessage
    """The message, decoded."""
    confirmation: Confirmation
    """What the node answered."""
    message_id: str | None = None
    """The sender's id of the message (its outbox id), when the transport gave one."""
    raw: str | None = None
    """The message as it came over the wire (ISO 18626 XML), when the transport had it."""


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
    task_id: str | None = None
    """The stored :class:`StaffTask` this line shows (None for a request's state)."""


class TaskChoice(StrEnum):
    """What staff can do with a stored task.

    A delivery that gave up: retry now, done by hand, drop; a peer message that did not
    fit its request's state: apply, ignore, ask status.
    """

    RETRY_NOW = "retry_now"
    """Deliver it again now (with the port's full retry policy)."""
    DONE_BY_HAND = "done_by_hand"
    """Staff did it themselves (created the item in the ILS, phoned the patron...)."""
    DROP = "drop"
    """It is not needed any more; nothing is delivered."""
    APPLY = "apply"
    """Apply the peer's message after all, where the table allows staff to (its
    ``confirm_...`` edges: a LoanCompleted for a request that never shipped closes it)."""
    IGNORE = "ignore"
    """Leave the request as it is; the message stays in its history."""
    ASK_STATUS = "ask_status"
    """Ask the lender for its status (a StatusRequest); its answer comes as a message."""


DELIVERY_CHOICES = (TaskChoice.RETRY_NOW, TaskChoice.DONE_BY_HAND, TaskChoice.DROP)
"""The choices of a delivery that gave up."""


@final
@attrs.frozen
class TaskResolution:
    """How a staff task was dealt with, and by whom."""

    choice: TaskChoice
    """The choice taken."""
    by: Actor
    """The named staff user who took it."""
    at: datetime
    """When."""
    note: str | None = None
    """What they said about it."""


@final
@attrs.frozen
class StaffTask:
    """A task stored on a request until staff resolve it.

    A delivery that gave up (``entry_id``), or a peer message that did not fit the
    request's state (``message``).
    """

    id: str
    """Unique id."""
    side: Side
    """The request's side."""
    request_id: str
    """The request it is on."""
    task_list: TaskList
    """The list that shows it (``delivery_problems``, ``peer_messages``)."""
    title: str
    """What failed, in words (``Circulation: create temporary item T-1``)."""
    error: str
    """The last error (or why the message did not apply), in words."""
    created_at: datetime
    """When it was raised."""
    entry_id: str | None = None
    """The outbox entry it is about."""
    port: Port | None = None
    """The port that failed."""
    attempts: int = 0
    """How many attempts were made before giving up."""
    desk: str | None = None
    """The desk whose list shows it, when the request has one."""
    choices: tuple[TaskChoice, ...] = DELIVERY_CHOICES
    """What staff may do."""
    resolution: TaskResolution | None = None
    """How it was resolved (None while open)."""
    message: PeerMessage | None = None
    """The peer message that did not fit (answered with an ERROR confirmation)."""


class RequestRepository(Protocol):
    """Stored requests with optimistic versioning, and the look-ups peers and scans need."""

    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        """The stored request, or None."""
        ...

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        """Insert (expected version 0) or update the request; returns the new version.

        Raises :class:`~resource_sharing.errors.ConcurrencyConflict` when the stored
        version is not ``expected_version``; :class:`~resource_sharing.errors.InvalidInput`
        for a record without id or whose index is of the other side.
        """
        ...

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        """The id of the request a peer names by ``protocol_id`` (None if none)."""
        ...

    def find_by_barcode(self, barcode: str) -> Sequence[RequestKey]:
        """Open requests whose item has this barcode, by side then id."""
        ...


class HistoryRepository(Protocol):
    """Append-only history of every request."""

    def append(self, entries: Sequence[HistoryEntry]) -> None:
        """Append history entries (never changed afterwards)."""
        ...

    def of(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        """A request's history, in the order it was appended."""
        ...

    def count(self, side: Side, request_id: str) -> int:
        """How many entries a request's history has (the next entry's sequence is one more)."""
        ...


class OutboxRepository(Protocol):
    """The durable outbox: every effect that leaves the core, until it is delivered.

    Rules every store keeps:

    - ``claim`` takes entries of one port (of every port when ``port`` is None) that are
      pending, due (``next_attempt_at <= now``) and not leased (``lease_until`` None or
      ``<= now``), oldest first by ``(created_at, id)``; it takes an entry only when
      every earlier pending entry of its ``stream`` is taken in the same claim (so a
      stream is never split, and one entry waiting for its retry holds back the later
      ones of its stream). Taken entries get
      ``claimed_by = owner`` and ``lease_until = now + lease``, in the store and in the
      returned values. Two concurrent claims must never both take an entry, nor split a
      stream between them.
    - ``update`` writes the entry's new delivery fields (status, attempts,
      next_attempt_at, last_error, finished_at) and clears its claim (the entry is one
      read from the store, its other fields unchanged); given an
      ``owner``, it refuses with :class:`~resource_sharing.errors.LeaseLost` when the
      stored entry is not claimed by that owner any more (its lease ended and another
      dispatcher took it).
    - ``release`` clears every claim of an owner (a restarted process releases its own
      at once; others wait for the lease).
    """

    def enqueue(self, entries: Sequence[OutboxEntry]) -> None:
        """Add entries; an id already stored is refused with ``InvalidInput``."""
        ...

    def claim(
        self,
        port: Port | None,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        owner: str,
        request: RequestKey | None = None,
    ) -> Sequence[OutboxEntry]:
        """Take up to ``limit`` deliverable entries of ``port`` (None: any port).

        With ``request``, only that request's entries.
        """
        ...

    def update(self, entry: OutboxEntry, *, owner: str | None = None) -> None:
        """Store the entry's new delivery fields and clear its claim (see the rules above).

        Raises ``InvalidInput`` for an unknown id.
        """
        ...

    def release(self, owner: str) -> int:
        """Clear every claim held by ``owner``; returns how many were released."""
        ...

    def get(self, entry_id: str) -> OutboxEntry | None:
        """One entry, or None."""
        ...

    def entries(
        self,
        *,
        status: OutboxStatus | None = None,
        port: Port | None = None,
        request: RequestKey | None = None,
    ) -> Sequence[OutboxEntry]:
        """Entries (all, or of this status, port, request), oldest first by (created_at, id)."""
        ...


class InboxRepository(Protocol):
    """Processed peer messages: their identities (idempotent receipt) and each request's log.

    A message's identity (``key``) is its sender plus its content; the name the sender
    gave it (its ``X-Message-ID``, scoped by sender) is remembered beside it, so that a
    name reused for different content can be told apart from a re-delivery.
    """

    def processed(self, key: str) -> Confirmation | None:
        """The confirmation given for an already processed peer message, if any."""
        ...

    def remember(self, key: str, confirmation: Confirmation, *, name: str | None = None) -> None:
        """Record that the peer message ``key`` was processed, with its confirmation.

        ``name``, when given, is recorded as naming ``key`` (the first message given a
        name keeps it). Raises :class:`~resource_sharing.errors.ConcurrencyConflict`
        when ``key`` already was processed.
        """
        ...

    def named(self, name: str) -> str | None:
        """The key of the processed message first given ``name``, if any."""
        ...

    def log(self, message: ReceivedMessage) -> None:
        """Keep a message applied to a request in the request's message log."""
        ...

    def received(self, side: Side, request_id: str) -> Sequence[ReceivedMessage]:
        """The messages applied to a request, in the order they were applied."""
        ...


class TaskRepository(Protocol):
    """Staff task lists: requests on a list (from their index) and stored staff tasks."""

    def listed(
        self,
        task_list: TaskList,
        *,
        desk: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Task]:
        """A page of the requests a task list shows, oldest first.

        Raises ``InvalidInput`` for a negative limit or offset.
        """
        ...

    def add(self, task: StaffTask) -> None:
        """Store a new task (an id already stored is refused with ``InvalidInput``)."""
        ...

    def get(self, task_id: str) -> StaffTask | None:
        """One stored task, or None."""
        ...

    def resolve(self, task_id: str, resolution: TaskResolution) -> None:
        """Record how an open task was resolved.

        Raises :class:`~resource_sharing.errors.NotFound` for an unknown id and
        :class:`~resource_sharing.errors.ConcurrencyConflict` when it is resolved already.
        """
        ...

    def open(
        self,
        *,
        task_list: TaskList | None = None,
        desk: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[StaffTask]:
        """A page of the unresolved stored tasks (of a list, a desk).

        Oldest first by (created_at, id); ``InvalidInput`` for a negative limit or offset.
        """
        ...

    def of_request(self, side: Side, request_id: str) -> Sequence[StaffTask]:
        """Every stored task of a request (open and resolved), oldest first."""
        ...


class PatronRepository(Protocol):
    """What a patron has open (limits and duplicate checks at intake)."""

    def open_requests(self, patron_id: str) -> Sequence[BorrowingRequest]:
        """The patron's borrowing requests that have not ended, by id."""
        ...


class TimerRepository(Protocol):
    """Requests whose timers have come."""

    def due(self, now: datetime, limit: int = 100) -> Sequence[RequestKey]:
        """Requests with a deadline at or before ``now``, earliest deadline first."""
        ...


class SweepRepository(Protocol):
    """What the consistency sweep needs: a run claim per job, and the idle requests."""

    def claim(
        self, job: str, *, now: datetime, every: timedelta, owner: str, force: bool = False
    ) -> bool:
        """Take this period's run of ``job``: True for one caller per ``every``.

        True when the job has no run yet, or its next run is due (``<= now``), or
        ``force``; the next run is then due at ``now + every`` and ``owner`` is noted.
        Two units claiming at once: one wins, the other gets False (or
        :class:`~resource_sharing.errors.ConcurrencyConflict` from the store's commit).
        """
        ...

    def idle(self, side: Side, *, before: datetime, limit: int = 1000) -> Sequence[RequestKey]:
        """Open requests of ``side`` whose state has not changed since ``before``.

        Oldest change first (the time a task list shows, ``Task.updated_at``).
        """
        ...


class UnitOfWork(Protocol):
    """Everything one service call reads and writes, committed together or not at all.

    Reads see the committed state plus this unit's own writes.
    """

    @property
    def requests(self) -> RequestRepository:
        """The requests."""
        ...

    @property
    def history(self) -> HistoryRepository:
        """Their histories."""
        ...

    @property
    def outbox(self) -> OutboxRepository:
        """The effects on their way out."""
        ...

    @property
    def inbox(self) -> InboxRepository:
        """The peer messages already processed."""
        ...

    @property
    def tasks(self) -> TaskRepository:
        """Task lists and stored staff tasks."""
        ...

    @property
    def patrons(self) -> PatronRepository:
        """Patron queries."""
        ...

    @property
    def timers(self) -> TimerRepository:
        """Due timers."""
        ...

    @property
    def sweep(self) -> SweepRepository:
        """The consistency sweep's run claims and idle requests."""
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
    """Patron and staff notices (e-mail, SMS, the host system's notices...).

    ``key`` is the same on every retry of one notice (an SMTP adapter makes it the
    Message-ID); raise :class:`~resource_sharing.errors.DeliveryError` when a notice
    could not go out (``retryable=False`` for a refused recipient).
    """

    def notify_patron(self, notice: NotifyPatron, *, key: str) -> None:
        """Send a notice to a patron."""
        ...

    def notify_staff(self, notice: NotifyStaff, *, key: str) -> None:
        """Tell staff something that needs a person."""
        ...


class Circulation(Protocol):
    """The host system's circulation (an ILS through NCIP, an API, a test double).

    ``key`` is the same on every retry of one command (an NCIP adapter passes it as the
    RequestId, or uses it to drop a repeat); raise
    :class:`~resource_sharing.errors.DeliveryError` on failure (``retryable=False`` for a
    refusal that retrying cannot fix).
    """

    def create_temporary_item(self, command: CreateTemporaryItem, *, key: str) -> None:
        """Create a temporary item for a borrowed loan."""
        ...

    def delete_temporary_item(self, command: DeleteTemporaryItem, *, key: str) -> None:
        """Remove the temporary item."""
        ...

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf, *, key: str) -> None:
        """Put the item on the hold shelf for the patron."""
        ...

    def check_out_to_patron(self, command: CheckOutToPatron, *, key: str) -> None:
        """Lend the item to the patron."""
        ...

    def renew_patron_loan(self, command: RenewPatronLoan, *, key: str) -> None:
        """Move the patron loan's due date."""
        ...

    def recall_patron_loan(self, command: RecallPatronLoan, *, key: str) -> None:
        """Recall the patron loan to an earlier due date."""
        ...

    def check_out_to_partner(self, command: CheckOutToPartner, *, key: str) -> None:
        """Lend our item to the borrowing institution."""
        ...

    def check_in(self, command: CheckIn, *, key: str) -> str | None:
        """Check the item in; returns the host system's routing instruction, or None.

        The instruction is in words ("Send to home location Main Library", "Hold shelf
        for a local patron", "In transit to Branch"); the lending desk shows it to the
        operator instead of the table's own.
        """
        ...

    def route_item(self, command: RouteItem, *, key: str) -> None:
        """Record where the item goes next (reshelve, home library, lender)."""
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


class PartnerHoldingsLocator(Protocol):
    """Asks partners' catalogues who holds a citation (the borrowing rota's locate).

    Asked once per request, before its rota is built. A partner whose catalogue answered
    without a matching record is left out of the answer (the rota drops it as not
    holding); one that could not be asked is listed with ``unknown`` set to why (it stays
    in the rota). It must not raise for a partner's outage.
    """

    def answer(self, citation: Citation, partners: Sequence[AgencyId]) -> HoldingsAnswer:
        """Who of ``partners`` holds ``citation``."""
        ...


class AttemptRunner(Protocol):
    """How the dispatcher makes each adapter call: bounded by the port's timeout, or not.

    The core cannot interrupt a call (that needs a thread), so this comes from outside:
    ``resource_sharing_adapters.attempts.ThreadedAttempts`` (what a node runs) bounds
    every call; :class:`~resource_sharing.memory.InlineAttempts` (the default) makes the
    call in the caller's thread and leaves the bound to the adapter's own timeouts.
    """

    def run(self, call: Callable[[], T], *, timeout: timedelta, port: str) -> T:
        """``call()``'s answer, or its exception.

        Past ``timeout``: a retryable :class:`~resource_sharing.errors.DeliveryError`
        "timed out after N s" (a runner that cannot stop a call waits for it).
        """
        ...


class RandomSource(Protocol):
    """Randomness, from outside the core (the dispatcher's backoff jitter)."""

    def random(self) -> float:
        """A number in ``[0, 1)``."""
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
        order outbox entries committed at the same instant by id, and the dispatcher
        keeps each stream's entries in that order.
        """
        ...
