"""The records the lifecycles decide over: frozen ``attrs`` values, never mutated.

A record is changed only by building a new one (``attrs.evolve``). Every datetime is an
aware UTC ``datetime``; every identifier of another institution is an :class:`AgencyId`.
Records carry no JSON, XML or SQL knowledge: serialisation lives at the edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.iso18626 import RequestType, ServiceType, Status
from resource_sharing.states import BorrowingState, LendingState

__all__ = [
    "Actor",
    "ActorKind",
    "AgencyId",
    "Attempt",
    "AttemptOutcome",
    "BorrowingRequest",
    "Citation",
    "Deadline",
    "HistoryEntry",
    "Identifier",
    "ItemRef",
    "LendingRequest",
    "Money",
    "PatronRef",
    "RotaEntry",
    "Side",
    "TimerKind",
]


class Side(StrEnum):
    """Which side of a resource-sharing transaction a request belongs to."""

    BORROWING = "borrowing"
    """The patron's home institution, asking."""
    LENDING = "lending"
    """The owning institution, supplying."""


@final
@attrs.frozen(order=True, cache_hash=True)
class AgencyId:
    """An institution's identifier: a type from the AgencyIdType list and a value.

    >>> str(AgencyId("US-NYC"))
    'ISIL:US-NYC'
    """

    value: str
    """The identifier itself, e.g. an ISIL ``DK-820010``."""
    type: str = "ISIL"
    """The identifier scheme (``ISIL`` by default; peers also use ``OCLC``, ``RESHARE``)."""

    def __attrs_post_init__(self) -> None:
        if not self.value or not self.type:
            raise ValueError("an agency id needs a type and a value")

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"

    @classmethod
    def parse(cls, text: str) -> AgencyId:
        """Read ``TYPE:VALUE`` (or a bare value, taken as an ISIL)."""
        kind, sep, value = text.partition(":")
        return cls(value, kind) if sep else cls(kind)


@final
@attrs.frozen
class Money:
    """An amount in major units of an ISO 4217 currency."""

    amount: Decimal
    """The amount, e.g. ``Decimal("12.50")``."""
    currency: str
    """The ISO 4217 code, e.g. ``EUR``."""


@final
@attrs.frozen
class PatronRef:
    """The least a request needs to know of a patron (kept minimal on purpose)."""

    id: str
    """The patron's identifier in the host system."""
    name: str | None = None
    """A display name for notices and slips."""
    group: str | None = None
    """The patron group (user group) that rules apply to."""
    email: str | None = None
    """Where notices go, when the notifier uses e-mail."""


@final
@attrs.frozen
class Identifier:
    """A bibliographic identifier: a code from an ISO open list and its value."""

    code: str
    """``ISBN``, ``ISSN``, ``ISMN`` (item ids) or ``OCLC``, ``LCCN``... (record ids)."""
    value: str
    """The identifier as given (normalise with :mod:`resource_sharing.identifiers`)."""


@final
@attrs.frozen
class Citation:
    """What is wanted: the bibliographic and publication description of the item."""

    title: str | None = None
    """Title of the work."""
    author: str | None = None
    """Author of the work."""
    subtitle: str | None = None
    """Subtitle."""
    series_title: str | None = None
    """Series title."""
    edition: str | None = None
    """Edition statement."""
    title_of_component: str | None = None
    """Article or chapter title, for copies."""
    author_of_component: str | None = None
    """Article or chapter author."""
    volume: str | None = None
    """Volume."""
    issue: str | None = None
    """Issue."""
    pages_requested: str | None = None
    """Pages wanted, for copies."""
    item_ids: tuple[Identifier, ...] = ()
    """Identifiers of the manifestation (ISBN, ISSN, ISMN)."""
    record_ids: tuple[Identifier, ...] = ()
    """Identifiers of a catalogue record (OCLC, LCCN, ...)."""
    supplier_unique_record_id: str | None = None
    """The supplier's own record id, when the requester knows it."""
    publisher: str | None = None
    """Publisher."""
    publication_type: str | None = None
    """A value of the PublicationType list (``Book``, ``Article``, ...)."""
    publication_date: str | None = None
    """Publication date as given (often just a year)."""
    place_of_publication: str | None = None
    """Place of publication."""

    def identifier(self, code: str) -> str | None:
        """The first item or record identifier with this code (case-insensitive)."""
        wanted = code.casefold()
        for ident in (*self.item_ids, *self.record_ids):
            if ident.code.casefold() == wanted:
                return ident.value
        return None


@final
@attrs.frozen
class ItemRef:
    """A physical item on the lending side, as the holdings locator found it."""

    barcode: str
    """The item's barcode."""
    call_number: str | None = None
    """Shelf mark, for the pick slip."""
    location: str | None = None
    """Shelving location, for the pick slip."""
    desk: str | None = None
    """The circulation desk whose task list shows work on this item."""
    home_library: str | None = None
    """The library it belongs to, when that is not the resource-sharing library."""


class AttemptOutcome(StrEnum):
    """How one rota attempt ended."""

    UNFILLED = "unfilled"
    """The lender answered Unfilled."""
    RETRY_DECLINED = "retry_declined"
    """The lender offered a retry and the borrower declined it."""
    RETRIED = "retried"
    """The lender offered a retry and the borrower re-sent to it (a new attempt)."""
    CONDITIONS_REJECTED = "conditions_rejected"
    """The borrower rejected the lender's conditions; the lender accepted the cancel."""
    CANCELLED_BY_LENDER = "cancelled_by_lender"
    """The lender cancelled without being asked."""
    EXPIRED = "expired"
    """The lender did not answer in time."""
    CANCELLED = "cancelled"
    """The borrower cancelled the whole request."""
    SUPPLIED = "supplied"
    """The lender supplied the item and the request ended."""
    LOST = "lost"
    """The request ended with the item lost."""
    WITHDRAWN = "withdrawn"
    """Withdrawn because an earlier lender supplied the item after the rota moved on."""
    REFUSED = "refused"
    """The lender refused our request (ERROR confirmation, HTTP refusal, or no delivery)."""


@final
@attrs.frozen
class RotaEntry:
    """One planned lender in a request's rota, in the order it will be asked."""

    agency: AgencyId
    """The lender."""
    reason: str = ""
    """Why it is in the rota (the template or rule that put it there)."""
    fallback: bool = False
    """True for the end-of-rota fallback partner."""
    rerequest: bool = False
    """Staff asked this lender again although an earlier rota already tried it."""


@final
@attrs.frozen
class Attempt:
    """One request sent to one lender: a typed rota attempt with its own protocol id.

    The codec decides how ``request_id`` looks on the wire; the core only guarantees that
    every attempt of a request has a distinct one.
    """

    number: int
    """1 for the first attempt, 2 for the second..."""
    lender: AgencyId
    """Who was asked."""
    request_id: str
    """The requestingAgencyRequestId sent for this attempt."""
    sent_at: datetime
    """When the request was sent."""
    request_type: RequestType = RequestType.NEW
    """New, or Retry when re-sent after RetryPossible."""
    supplier_request_id: str | None = None
    """The lender's own id, once it has told us."""
    last_status: Status | None = None
    """The last ISO status the lender reported."""
    outcome: AttemptOutcome | None = None
    """How it ended; ``None`` while it is the current one."""
    ended_at: datetime | None = None
    """When it ended."""
    reason: str | None = None
    """Why it ended, when the ending has words (a refusal's errorType and errorValue)."""
    status_asked_at: datetime | None = None
    """When we last asked the lender for its status (a StatusRequest by staff or the sweep)."""


class TimerKind(StrEnum):
    """The deadlines a request can carry (each one fires an event once)."""

    LENDER_ANSWER = "lender_answer"
    """The current lender must answer by then, or the rota moves on."""
    CONDITIONAL_ANSWER = "conditional_answer"
    """The borrower must accept or reject the lender's conditions by then."""
    NOT_RECEIVED_CLAIM = "not_received_claim"
    """Shipped but not received by then: claim it."""
    DUE_REMINDER = "due_reminder"
    """Remind the patron that the loan is due soon."""
    PATRON_OVERDUE = "patron_overdue"
    """The patron's loan becomes overdue."""
    LENDER_OVERDUE = "lender_overdue"
    """The lender's due date has passed (lending side)."""
    RETURN_UNCONFIRMED = "return_unconfirmed"
    """Shipped back but the lender has not confirmed the return by then."""
    HOLD_SHELF_EXPIRY = "hold_shelf_expiry"
    """The patron has not collected the item from the hold shelf by then."""
    SUPPLY_EXPIRY = "supply_expiry"
    """Lending side: the request must be answered by then or it expires."""


@final
@attrs.frozen(order=True)
class Deadline:
    """A timer stored on a record: when it fires, and what it is."""

    at: datetime
    """When it is due (UTC)."""
    kind: TimerKind
    """What fires then."""


@final
@attrs.frozen
class BorrowingRequest:
    """A request at the patron's home institution, from creation to completion."""

    id: str
    """Our identifier for the request."""
    agency: AgencyId
    """Our institution."""
    patron: PatronRef
    """Who asked."""
    citation: Citation
    """What was asked for."""
    created_at: datetime
    """When it was created."""
    state: BorrowingState = BorrowingState.CREATED
    """Where it is in the borrowing lifecycle."""
    service_type: ServiceType = ServiceType.LOAN
    """Loan, copy, or either."""
    pickup_location: str | None = None
    """The desk where the patron collects the item."""
    max_cost: Money | None = None
    """The most the borrower will pay."""
    need_before: date | None = None
    """The date after which the patron no longer needs it."""
    note: str | None = None
    """A note from the patron or staff."""
    rota: tuple[RotaEntry, ...] = ()
    """The planned lenders, in order."""
    rota_start: int = 0
    """How many attempts were made before the current rota was assigned."""
    attempts: tuple[Attempt, ...] = ()
    """Every attempt so far; the last one is the current one while it has no outcome."""
    lender_due: datetime | None = None
    """When the lender wants the item back."""
    patron_due: datetime | None = None
    """When the patron must return it (before the lender's due date)."""
    renewal_count: int = 0
    """Renewals granted so far."""
    requested_due: datetime | None = None
    """The due date asked for in a pending renewal."""
    renewal_refused: bool = False
    """The lender has refused a renewal of this loan (the patron may not ask again
    unless the borrower's rules allow it)."""
    conditions: tuple[str, ...] = ()
    """Loan conditions the current lender set."""
    item_barcode: str | None = None
    """The temporary (or network-unique) barcode of the received item."""
    lender_item_id: str | None = None
    """The lender's item id, as it told us when it shipped."""
    resume_state: BorrowingState | None = None
    """Where to go back to when a pending cancel is refused."""
    advance_on_cancel: bool = False
    """True when the pending cancel only leaves this lender (conditions rejected)."""
    deadlines: tuple[Deadline, ...] = ()
    """Timers on this request, earliest first."""
    version: int = 0
    """The stored version (optimistic concurrency); the store sets it."""

    @property
    def current_attempt(self) -> Attempt | None:
        """The attempt in progress, if any."""
        if self.attempts and self.attempts[-1].outcome is None:
            return self.attempts[-1]
        return None

    @property
    def current_lender(self) -> AgencyId | None:
        """The lender the request is with now, if any."""
        attempt = self.current_attempt
        return attempt.lender if attempt is not None else None

    def tried(self) -> frozenset[AgencyId]:
        """Every lender asked so far."""
        return frozenset(a.lender for a in self.attempts)

    def attempt_for(self, request_id: str) -> Attempt | None:
        """The latest attempt that used this protocol request id.

        An attempt is reopened under its own id when its lender supplies after the rota
        moved on, so the latest one is the live one.
        """
        for attempt in reversed(self.attempts):
            if attempt.request_id == request_id:
                return attempt
        return None


@final
@attrs.frozen
class LendingRequest:
    """A request at the owning institution, from arrival to completion."""

    id: str
    """Our identifier for the request."""
    agency: AgencyId
    """Our institution (the supplier)."""
    requester: AgencyId
    """The borrowing institution."""
    requester_request_id: str
    """The requestingAgencyRequestId of the borrower's attempt."""
    citation: Citation
    """What is asked for."""
    created_at: datetime
    """When it arrived."""
    state: LendingState = LendingState.NEW
    """Where it is in the lending lifecycle."""
    service_type: ServiceType = ServiceType.LOAN
    """Loan, copy, or either."""
    request_type: RequestType = RequestType.NEW
    """New, Retry or Reminder."""
    previous_request_id: str | None = None
    """For a Retry: the borrower's earlier request id."""
    patron_id: str | None = None
    """The borrower's patron id, if it was sent (for the slip only)."""
    need_before: date | None = None
    """The date after which the borrower no longer needs it."""
    max_cost: Money | None = None
    """The most the borrower will pay."""
    note: str | None = None
    """The borrower's note."""
    item: ItemRef | None = None
    """The item chosen to supply it, once located."""
    lender_due: datetime | None = None
    """The due date given to the borrower."""
    renewal_count: int = 0
    """Renewals granted so far."""
    requested_due: datetime | None = None
    """The due date asked for in a pending renewal."""
    conditions: tuple[str, ...] = ()
    """Conditions we set on the loan."""
    shipped_at: datetime | None = None
    """When we shipped it."""
    local_hold: bool = False
    """A local patron has a hold on the lent item (renewals are refused)."""
    resume_state: LendingState | None = None
    """Where to go back to when we refuse a cancel."""
    deadlines: tuple[Deadline, ...] = ()
    """Timers on this request, earliest first."""
    version: int = 0
    """The stored version (optimistic concurrency); the store sets it."""


class ActorKind(StrEnum):
    """Who can move a request."""

    STAFF = "staff"
    """A named staff user."""
    PATRON = "patron"
    """The patron the request is for."""
    SYSTEM = "system"
    """The institution's own automation (timers, auto-locate, the dispatcher)."""
    PEER = "peer"
    """The partner agency on the other side, through a peer message."""


@final
@attrs.frozen
class Actor:
    """Who did a step: a kind and a name (the staff user, the patron id, the part, the agency).

    ``str(actor)`` is ``kind:name`` (``staff:alice``, ``peer:ISIL:US-B``), the form that
    :meth:`parse` reads back; older histories that kept a bare word (``staff``,
    ``patron``, ``timer``, ``peer:X``) are read with it too.
    """

    kind: ActorKind
    """Staff, patron, system or peer."""
    name: str
    """The staff user, the patron id, the system part (``timer``...), or the agency."""

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def staff(cls, user: str) -> Actor:
        """A named staff user."""
        return cls(ActorKind.STAFF, user)

    @classmethod
    def patron(cls, patron_id: str) -> Actor:
        """The patron with this id."""
        return cls(ActorKind.PATRON, patron_id)

    @classmethod
    def system(cls, part: str) -> Actor:
        """A part of the institution's automation (``timer``, ``auto-locate``...)."""
        return cls(ActorKind.SYSTEM, part)

    @classmethod
    def peer(cls, agency: AgencyId) -> Actor:
        """The partner agency that sent the message."""
        return cls(ActorKind.PEER, str(agency))

    @classmethod
    def parse(cls, text: str) -> Actor:
        """An actor from ``kind:name``, or from the bare words older histories kept."""
        kind, sep, name = text.partition(":")
        if sep and kind in _ACTOR_KINDS:
            return cls(ActorKind(kind), name)
        if text in ("timer", "auto-locate", "dispatcher"):
            return cls.system(text)
        if text == "patron":
            return cls(ActorKind.PATRON, "")
        return cls.staff(text)


_ACTOR_KINDS = frozenset(kind.value for kind in ActorKind)


@final
@attrs.frozen
class HistoryEntry:
    """One applied step of a request, appended to its history and never changed.

    Replaying the events of a request's history through the lifecycle rebuilds it.
    """

    request_id: str
    """The request it belongs to."""
    side: Side
    """Borrowing or lending."""
    sequence: int
    """1, 2, 3... within the request."""
    at: datetime
    """When it was applied."""
    event: str
    """The event's name (``ReceiveItem``, ``SupplierMessageReceived``...)."""
    from_state: str
    """The state before."""
    to_state: str
    """The state after."""
    actor: Actor | None = None
    """Who did it: a named staff user, the patron, the system (which part), or a peer."""
    detail: str | None = None
    """A human-readable summary of the event."""
    reason: str | None = None
    """The reason code or note the step had (a refusal's reason, a review reason...)."""
    message_id: str | None = None
    """The id of the peer message that caused the step (as the sender's outbox named it)."""


def sorted_deadlines(deadlines: Iterable[Deadline]) -> tuple[Deadline, ...]:
    """Deadlines in firing order, one per kind (a later setting of a kind replaces it)."""
    by_kind: dict[TimerKind, Deadline] = {}
    for deadline in deadlines:
        by_kind[deadline.kind] = deadline
    return tuple(sorted(by_kind.values()))
