"""The shell around the pure core: load, decide, persist, in one unit of work.

Every public call of the desks, the inbox and the timers goes through :class:`Shell`:
load the request, let the pure lifecycle decide, then save the new request (with its
expected version), its history entry (who did it, why, and which peer message caused it)
and one :class:`~resource_sharing.ports.OutboxEntry` per effect that leaves the core
(peer messages, circulation commands, notices, print jobs), all in the same unit of
work. Nothing is carried out here: the dispatcher (:mod:`._dispatcher`) delivers the
outbox after the commit, so no effect is lost when a port is down and none goes out for a
step that did not commit.

Two effects are automatic steps rather than deliveries: :class:`~.LocateLenders` (the
borrowing request's rota is built and assigned) and :class:`~.LocateInHoldings` (our
holdings are asked for an incoming lending request). The shell follows them in the same
unit of work, as the table asked (a table, :data:`Shell.FOLLOW_UPS`, not state checks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar, final

import attrs

from resource_sharing.borrowing import (
    BORROWING,
    BorrowingContext,
    BorrowingPolicy,
    handle_borrowing,
)
from resource_sharing.calendar import Calendar
from resource_sharing.consistency import SweepPolicy
from resource_sharing.directory import Directory
from resource_sharing.effects import AddTask, LocateInHoldings, LocateLenders, RemoveTask
from resource_sharing.errors import ConcurrencyConflict, InfrastructureError, NotFound
from resource_sharing.events import AssignRota, LocateFailed, SupplyItem
from resource_sharing.lending import LENDING, LendingContext, LendingPolicy, handle_lending
from resource_sharing.lifecycle import Lifecycle, Outcome, evolve
from resource_sharing.memory import EveryoneEligible, InlineAttempts, MemoryPrinter, SeededRandom
from resource_sharing.ports import (
    AnyRequest,
    AttemptRunner,
    Circulation,
    Clock,
    HoldingsLocator,
    IdSource,
    Notifier,
    OutboxEntry,
    PartnerHoldingsLocator,
    PatronValidator,
    PeerTransport,
    Printer,
    RandomSource,
    RequestIndex,
    RequestStore,
    UnitOfWork,
)
from resource_sharing.records import (
    Actor,
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    RotaEntry,
    Side,
)
from resource_sharing.rota import HoldingsAnswer, RotaContext, RotaPolicy, build_rota
from resource_sharing.service._retry import DeliveryPolicy
from resource_sharing.service._routing import route_of, stream_of

__all__ = [
    "Hints",
    "Ports",
    "Settings",
    "Shell",
    "index_of",
    "lifecycle_of",
    "side_of",
]

T = TypeVar("T")

_NOT_DELIVERED = (AddTask, RemoveTask)  # task lists are queried from the request index


@final
@attrs.frozen
class Ports:
    """The host system's parts an institution is wired to."""

    store: RequestStore
    """Durable requests, history, outbox, processed messages, staff tasks."""
    transport: PeerTransport
    """Delivers peer messages."""
    notifier: Notifier
    """Patron and staff notices."""
    circulation: Circulation
    """The host system's circulation."""
    holdings: HoldingsLocator
    """Our own holdings (lending locate)."""
    clock: Clock
    """The time."""
    ids: IdSource
    """New identifiers."""
    printer: Printer = attrs.field(factory=MemoryPrinter)
    """Pick slips, labels and slips (default: kept in memory, for a node without one)."""
    patrons: PatronValidator = attrs.field(factory=EveryoneEligible)
    """Asked about a patron before a borrowing request is taken (default: everyone)."""
    random: RandomSource = attrs.field(factory=SeededRandom)
    """The dispatcher's backoff jitter (default: seeded, repeatable)."""
    attempts: AttemptRunner = attrs.field(factory=InlineAttempts)
    """How each adapter call is made (default: in the dispatcher's thread, bounded only by
    the adapter's own timeouts; a node bounds every call by the port's ``timeout``)."""
    partner_holdings: PartnerHoldingsLocator | None = None
    """Partners' catalogues, asked once per new request for its rota (None: not asked)."""


@final
@attrs.frozen
class Settings:
    """An institution's configuration."""

    agency: AgencyId
    """Who we are."""
    directory: Directory = attrs.field(factory=Directory)
    """Our partners."""
    calendar: Calendar = attrs.field(factory=Calendar)
    """Our opening days and time zone."""
    borrowing: BorrowingPolicy = attrs.field(factory=BorrowingPolicy)
    """Borrowing rules."""
    lending: LendingPolicy = attrs.field(factory=LendingPolicy)
    """Lending rules."""
    rota: RotaPolicy = attrs.field(factory=RotaPolicy)
    """How rotas are built."""
    max_open_requests_per_patron: int | None = 25
    """More open requests than this send a new one to review (None: no limit)."""
    auto_locate: bool = True
    """Lending: look an incoming request up in our holdings at once."""
    mediated_borrowing: bool = False
    """Borrowing: every new request goes to staff review first."""
    delivery: DeliveryPolicy = attrs.field(factory=DeliveryPolicy)
    """Retries per port, the claim lease, conflict retries."""
    sweep: SweepPolicy = attrs.field(factory=SweepPolicy)
    """The consistency sweep: which requests count as idle, how often, how many per lender."""


@final
@attrs.frozen
class Hints:
    """What the caller adds to an automatic step, found before its unit of work opened.

    A staff call's rota or partners' holdings answer; the inbox's auto-locate answer.
    """

    rota: tuple[AgencyId, ...] | None = None
    """A staff-given list of lenders."""
    holdings: HoldingsAnswer | None = None
    """A locate answer for building the rota."""
    located: tuple[Any, Actor] | None = None
    """The lending auto-locate's event, our catalogue asked before the unit of work
    opened (so the store is not held while a slow catalogue answers)."""


def lifecycle_of(side: Side) -> Lifecycle[Any, Any, Any]:
    """The lifecycle table of a side."""
    return BORROWING if side is Side.BORROWING else LENDING


def side_of(record: AnyRequest) -> Side:
    """The side a request belongs to."""
    return Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING


def index_of(record: AnyRequest) -> RequestIndex:
    """The queried fields of a request, as stores keep them."""
    side = side_of(record)
    lifecycle = lifecycle_of(side)
    info = lifecycle.info(record.state)
    next_deadline = min((d.at for d in record.deadlines), default=None)
    if isinstance(record, BorrowingRequest):
        barcodes = tuple(b for b in (record.item_barcode, record.lender_item_id) if b)
        return RequestIndex(
            side=side,
            state=record.state.value,
            task_list=info.task_list,
            desk=record.pickup_location if info.task_list is not None else None,
            instruction=lifecycle.instruction(record),
            needs_attention=info.needs_attention,
            terminal=info.terminal,
            patron_id=record.patron.id,
            counterpart=record.current_lender,
            protocol_ids=tuple(a.request_id for a in record.attempts),
            barcodes=barcodes,
            next_deadline=next_deadline,
        )
    return RequestIndex(
        side=side,
        state=record.state.value,
        task_list=info.task_list,
        desk=record.item.desk if record.item is not None and info.task_list else None,
        instruction=lifecycle.instruction(record),
        needs_attention=info.needs_attention,
        terminal=info.terminal,
        counterpart=record.requester,
        protocol_ids=(record.requester_request_id,),
        barcodes=(record.item.barcode,) if record.item is not None else (),
        next_deadline=next_deadline,
    )


def desk_of(record: AnyRequest) -> str | None:
    """The desk that handles a request (its pickup location, or its item's desk)."""
    if isinstance(record, BorrowingRequest):
        return record.pickup_location
    return record.item.desk if record.item is not None else None


def reason_of(event: object) -> str | None:
    """The reason code or note a step carried (a refusal's reason, a review reason...)."""
    message = getattr(event, "message", None)
    # a peer message's ``reason`` is its reasonForMessage (RequestResponse...), not a why
    for source, names in ((event, _EVENT_REASONS), (message, _MESSAGE_REASONS)):
        if source is None:
            continue
        for name in names:
            value = getattr(source, name, None)
            if isinstance(value, str) and value:
                return value
    return None


def append_note(
    uow: UnitOfWork,
    side: Side,
    request_id: str,
    now: datetime,
    actor: Actor,
    state: str,
    *,
    event: str,
    detail: str,
    reason: str | None,
    message_id: str | None = None,
) -> None:
    """Append a history entry that records a decision without a transition."""
    uow.history.append(
        [
            HistoryEntry(
                request_id=request_id,
                side=side,
                sequence=uow.history.count(side, request_id) + 1,
                at=now,
                event=event,
                from_state=state,
                to_state=state,
                actor=actor,
                detail=detail,
                reason=reason,
                message_id=message_id,
            )
        ]
    )


_EVENT_REASONS = ("reason", "reason_unfilled", "reason_retry", "note")
_MESSAGE_REASONS = ("reason_unfilled", "reason_retry", "note")


class Shell:
    """Applies events to stored requests in units of work; saves their effects to the outbox."""

    FOLLOW_UPS: ClassVar[dict[type, str]] = {
        LocateLenders: "_locate_lenders",
        LocateInHoldings: "_locate_in_holdings",
    }
    """Automatic steps: the effect type and the method that turns it into the next event."""

    def __init__(self, settings: Settings, ports: Ports) -> None:
        self.settings = settings
        """The institution's configuration."""
        self.ports = ports
        """Its ports."""

    # -- contexts ----------------------------------------------------------------------

    def borrowing_context(self, now: datetime) -> BorrowingContext:
        """The context borrowing decisions are made in."""
        s = self.settings
        return BorrowingContext(now, s.borrowing, s.directory, s.calendar)

    def lending_context(self, now: datetime) -> LendingContext:
        """The context lending decisions are made in."""
        return LendingContext(now, self.settings.lending, self.settings.calendar)

    # -- the unit of work --------------------------------------------------------------

    def load(self, uow: UnitOfWork, side: Side, request_id: str) -> AnyRequest:
        """A stored request, or :class:`NotFound`."""
        record = uow.requests.get(side, request_id)
        if record is None:
            raise NotFound(f"{side.value} request", request_id)
        return record

    def decide(self, record: AnyRequest, event: Any, now: datetime) -> Outcome[Any]:
        """The pure decision for one event."""
        if isinstance(record, BorrowingRequest):
            return handle_borrowing(record, event, self.borrowing_context(now))
        return handle_lending(record, event, self.lending_context(now))

    def persist(
        self,
        uow: UnitOfWork,
        before: AnyRequest | None,
        outcome: Outcome[Any],
        event: Any,
        now: datetime,
        actor: Actor,
        *,
        message_id: str | None = None,
        hints: Hints | None = None,
    ) -> tuple[AnyRequest, list[OutboxEntry]]:
        """Save an outcome (record, history, outbox), then follow its automatic steps.

        Returns the request as saved last and every outbox entry written.
        """
        record: AnyRequest = outcome.record
        side = side_of(record)
        expected = before.version if before is not None else 0
        version = uow.requests.save(record, index_of(record), expected_version=expected)
        saved: AnyRequest = evolve(record, {"version": version})
        uow.history.append(
            [
                HistoryEntry(
                    request_id=record.id,
                    side=side,
                    sequence=uow.history.count(side, record.id) + 1,
                    at=now,
                    event=type(event).__name__,
                    from_state=before.state.value if before is not None else "-",
                    to_state=record.state.value,
                    actor=actor,
                    detail=outcome.trigger
                    if outcome.applied
                    else f"not applied: {outcome.trigger}",
                    reason=reason_of(event),
                    message_id=message_id,
                )
            ]
        )
        entries: list[OutboxEntry] = []
        follow_ups: list[Any] = []
        new_id = self.ports.ids.new_id
        for effect in outcome.effects:
            if isinstance(effect, _NOT_DELIVERED):
                continue
            if isinstance(effect, LocateLenders | LocateInHoldings):
                follow_ups.append(effect)
                continue
            port = route_of(effect).port
            entry_id = new_id("fx")
            entries.append(
                OutboxEntry(
                    id=entry_id,
                    key=entry_id,
                    side=side,
                    request_id=record.id,
                    port=port,
                    stream=stream_of(side.value, record.id, effect, port),
                    effect=effect,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        if entries:
            uow.outbox.enqueue(entries)
        for follow_up in follow_ups:
            event, follower = getattr(self, self.FOLLOW_UPS[type(follow_up)])(
                saved, follow_up, now, hints
            )
            outcome = self.decide(saved, event, now)
            saved, more = self.persist(uow, saved, outcome, event, now, follower, hints=hints)
            entries += more
        return saved, entries

    def _locate_lenders(
        self, record: AnyRequest, effect: LocateLenders, now: datetime, hints: Hints | None
    ) -> tuple[Any, Actor]:
        assert isinstance(record, BorrowingRequest)
        settings = self.settings
        context = RotaContext(
            today=settings.calendar.local_date(now),
            holdings=hints.holdings if hints else None,
            staff_rota=hints.rota if hints else None,
            own_agencies=frozenset({settings.agency}),
        )
        rota = build_rota(record, settings.directory, context, settings.rota)
        return AssignRota(_with_unknown(rota.entries, context.holdings)), Actor.system("rota")

    def _locate_in_holdings(
        self, record: AnyRequest, effect: LocateInHoldings, now: datetime, hints: Hints | None
    ) -> tuple[Any, Actor]:
        if hints is not None and hints.located is not None:
            return hints.located
        return self.locate_own(effect.citation)

    def locate_own(self, citation: Citation) -> tuple[Any, Actor]:
        """The auto-locate's event for a lending request: our catalogue's item, or why not.

        An outage of the catalogue is a locate failure for staff to see, never an error.
        """
        actor = Actor.system("auto-locate")
        try:
            holding = self.ports.holdings.locate(citation)
        except ConcurrencyConflict:
            raise
        except InfrastructureError as error:  # an outage is a task for staff, not a failure
            reason = f"our catalogue could not be asked: {error}"
            return LocateFailed(reason, catalogue_failed=True), actor
        event: Any = (
            SupplyItem(holding.item)
            if holding is not None and holding.available
            else LocateFailed("not found in our holdings")
        )
        return event, actor

    def partner_holdings(self, citation: Citation) -> HoldingsAnswer | None:
        """The partners' catalogues' answer for a new request's rota (None: none asked).

        Every active partner but ourselves is named; the locator asks those it has a
        catalogue for, once each.
        """
        locator = self.ports.partner_holdings
        if locator is None:
            return None
        settings = self.settings
        partners = [
            p.agency for p in settings.directory if p.active and p.agency != settings.agency
        ]
        return locator.answer(citation, partners)

    def step(
        self,
        uow: UnitOfWork,
        record: AnyRequest,
        event: Any,
        now: datetime,
        actor: Actor,
        *,
        message_id: str | None = None,
        hints: Hints | None = None,
    ) -> tuple[AnyRequest, list[OutboxEntry]]:
        """Decide one event for a loaded request and persist it (within ``uow``)."""
        outcome = self.decide(record, event, now)
        return self.persist(
            uow, record, outcome, event, now, actor, message_id=message_id, hints=hints
        )

    def apply(
        self,
        side: Side,
        request_id: str,
        event: Any,
        *,
        actor: Actor,
        hints: Hints | None = None,
    ) -> AnyRequest:
        """Apply one event to a stored request as one unit of work; returns the new request."""
        return self.run(side, request_id, event, actor=actor, hints=hints)[0]

    def run(
        self,
        side: Side,
        request_id: str,
        event: Any,
        *,
        actor: Actor,
        hints: Hints | None = None,
    ) -> tuple[AnyRequest, list[OutboxEntry]]:
        """Like :meth:`apply`, also returning the outbox entries the step wrote."""
        now = self.ports.clock.now()
        with self.ports.store.transaction() as uow:
            before = self.load(uow, side, request_id)
            return self.step(uow, before, event, now, actor, hints=hints)

    def retrying(self, work: Callable[[], T]) -> T:
        """Run ``work`` (one unit of work), again after a concurrency conflict.

        Another process may change the request between our load and our save; the
        conflict rolls our unit back, so running it again from the load is safe. After
        ``delivery.conflict_retries`` further conflicts the last one is raised.
        """
        retries = self.settings.delivery.conflict_retries
        for _ in range(retries):
            try:
                return work()
            except ConcurrencyConflict:
                continue
        return work()


def _with_unknown(
    entries: tuple[RotaEntry, ...], holdings: HoldingsAnswer | None
) -> tuple[RotaEntry, ...]:
    """The rota's entries, each lender whose holdings are unknown saying why."""
    unknown = {h.agency: h.unknown for h in holdings.holdings if h.unknown} if holdings else {}
    if not unknown:
        return entries
    return tuple(
        attrs.evolve(e, reason=f"{e.reason}; holdings unknown: {unknown[e.agency]}")
        if e.agency in unknown
        else e
        for e in entries
    )


def effects_of(entries: Sequence[OutboxEntry], kind: type[T]) -> list[T]:
    """The effects of one type among outbox entries."""
    return [entry.effect for entry in entries if isinstance(entry.effect, kind)]
