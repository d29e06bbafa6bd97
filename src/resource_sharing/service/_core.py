"""The shell around the pure core: one unit of work per call.

Every public call of the desks, the inbox and the timers goes through :meth:`Shell.apply`:
load the request, let the pure lifecycle decide, then save the new request (with its
expected version), its history entry and its outgoing messages together. Only after the
unit of work has committed are the local effects (notices, circulation commands, pick
slips) carried out; peer messages wait in the outbox for the dispatcher, so none is lost
when a peer is down and none is sent for a step that did not commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, final

import attrs

from resource_sharing.borrowing import (
    BORROWING,
    BorrowingContext,
    BorrowingPolicy,
    handle_borrowing,
)
from resource_sharing.calendar import Calendar
from resource_sharing.directory import Directory
from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    Effect,
    NotifyPatron,
    NotifyStaff,
    PlaceOnHoldShelf,
    PrintPickSlip,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
    SendMessage,
)
from resource_sharing.errors import NotFound
from resource_sharing.lending import LENDING, LendingContext, LendingPolicy, handle_lending
from resource_sharing.lifecycle import Lifecycle, Outcome
from resource_sharing.ports import (
    AnyRequest,
    Circulation,
    Clock,
    HoldingsLocator,
    IdSource,
    Notifier,
    OutboxMessage,
    PeerTransport,
    RequestIndex,
    RequestStore,
    UnitOfWork,
)
from resource_sharing.records import AgencyId, BorrowingRequest, HistoryEntry, Side
from resource_sharing.rota import RotaPolicy

__all__ = ["Ports", "Settings", "Shell", "index_of", "lifecycle_of", "side_of"]


@final
@attrs.frozen
class Ports:
    """The host system's parts an institution is wired to."""

    store: RequestStore
    """Durable requests, history, outbox, processed messages."""
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
    max_delivery_attempts: int = 8
    """After this many failed deliveries a message becomes a staff task."""
    retry_base_seconds: float = 30.0
    """First retry delay; it doubles with every failure (exponential backoff)."""
    retry_max_seconds: float = 6 * 3600.0
    """The longest retry delay."""


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


class Shell:
    """Applies events to stored requests in units of work, then carries out effects."""

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
        record = uow.get(side, request_id)
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
        actor: str,
    ) -> tuple[AnyRequest, list[Effect]]:
        """Save an outcome (record, history, outbox); returns it saved, and the local effects."""
        record: AnyRequest = outcome.record
        side = side_of(record)
        from_state = before.state.value if before is not None else "-"
        expected = before.version if before is not None else 0
        version = uow.save(record, index_of(record), expected_version=expected)
        saved: AnyRequest = attrs.evolve(record, version=version)
        sequence = len(uow.history(side, record.id)) + 1
        uow.append_history(
            [
                HistoryEntry(
                    request_id=record.id,
                    side=side,
                    sequence=sequence,
                    at=now,
                    event=type(event).__name__,
                    from_state=from_state,
                    to_state=record.state.value,
                    actor=actor,
                    detail=outcome.trigger
                    if outcome.applied
                    else f"not applied: {outcome.trigger}",
                )
            ]
        )
        outgoing = [
            OutboxMessage(
                id=self.ports.ids.new_id("msg"),
                side=side,
                request_id=record.id,
                to=effect.to,
                message=effect.message,
                created_at=now,
                next_attempt_at=now,
            )
            for effect in outcome.effects
            if isinstance(effect, SendMessage)
        ]
        if outgoing:
            uow.enqueue(outgoing)
        return saved, [e for e in outcome.effects if not isinstance(e, SendMessage)]

    def apply(self, side: Side, request_id: str, event: Any, *, actor: str = "staff") -> AnyRequest:
        """Apply one event to a stored request as one unit of work; returns the new request."""
        return self.run(side, request_id, event, actor=actor)[0]

    def run(
        self, side: Side, request_id: str, event: Any, *, actor: str = "staff"
    ) -> tuple[AnyRequest, tuple[Effect, ...]]:
        """Like :meth:`apply`, also returning the local effects it carried out."""
        now = self.ports.clock.now()
        with self.ports.store.transaction() as uow:
            before = self.load(uow, side, request_id)
            outcome = self.decide(before, event, now)
            saved, local = self.persist(uow, before, outcome, event, now, actor)
        self.carry_out(local)
        return saved, tuple(local)

    # -- local effects -----------------------------------------------------------------

    def carry_out(self, effects: Sequence[Effect]) -> None:
        """Run local effects (after the commit) through the notifier and circulation."""
        notifier, circ = self.ports.notifier, self.ports.circulation
        for effect in effects:
            if isinstance(effect, NotifyPatron):
                notifier.notify_patron(effect)
            elif isinstance(effect, NotifyStaff):
                notifier.notify_staff(effect)
            elif isinstance(effect, CreateTemporaryItem):
                circ.create_temporary_item(effect)
            elif isinstance(effect, DeleteTemporaryItem):
                circ.delete_temporary_item(effect)
            elif isinstance(effect, PlaceOnHoldShelf):
                circ.place_on_hold_shelf(effect)
            elif isinstance(effect, CheckOutToPatron):
                circ.check_out_to_patron(effect)
            elif isinstance(effect, RenewPatronLoan):
                circ.renew_patron_loan(effect)
            elif isinstance(effect, RecallPatronLoan):
                circ.recall_patron_loan(effect)
            elif isinstance(effect, CheckOutToPartner):
                circ.check_out_to_partner(effect)
            elif isinstance(effect, CheckIn):
                circ.check_in(effect)
            elif isinstance(effect, RouteItem):
                circ.route_item(effect)
            elif isinstance(effect, PrintPickSlip):
                circ.print_pick_slip(effect)
            # AddTask/RemoveTask: task lists are queried from the store's index.
