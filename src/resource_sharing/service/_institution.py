"""An institution: its borrowing and lending desks, its peer inbox, timers and outbox.

Each method is one unit of work (see :mod:`resource_sharing.service._core`). Staff and
patron actions are methods of the desks; messages from peers go through
:meth:`PeerInbox.receive`, which is idempotent by message identity, accepts a message only
from the agency on the other side of its request, and answers every message with a
confirmation (ERROR with the ISO 18626 error type when it cannot apply; nothing is stored
then). :meth:`Institution.tick` fires the timers that are due and
:meth:`Institution.dispatch` delivers the outbox with retries and exponential backoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, final

import attrs

from resource_sharing.effects import NotifyStaff, RouteItem, TaskList
from resource_sharing.errors import (
    DeliveryError,
    IllegalTransition,
    InvalidInput,
    PeerError,
    ResourceSharingError,
)
from resource_sharing.events import (
    AcceptConditions,
    AcceptRetry,
    AnswerCancel,
    AnswerRenewal,
    ApproveRenewal,
    ApproveRequest,
    ArriveAtRsLibrary,
    AssignRota,
    CancelledBy,
    CancelRequest,
    CheckInReturn,
    CheckOutItem,
    DeclineRetry,
    DeliverCopy,
    DenyRenewal,
    LocalHoldPlaced,
    LocateFailed,
    MarkLost,
    OfferConditions,
    OfferRetry,
    PickItem,
    RecallItem,
    ReceiveItem,
    RejectConditions,
    RejectRequest,
    ReportDamaged,
    ReportLost,
    RequesterMessageReceived,
    RequestRenewal,
    ReturnByPatron,
    ShipItem,
    ShipReturn,
    SubmitRequest,
    SupplierMessageReceived,
    SupplyItem,
    TimerFired,
    WillSupply,
)
from resource_sharing.iso18626 import ErrorType, MessageStatus, ServiceType
from resource_sharing.lending import new_lending_request
from resource_sharing.lifecycle import Outcome
from resource_sharing.messages import (
    Confirmation,
    ErrorData,
    PeerMessage,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import AnyRequest, OutboxStatus, Task
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    ItemRef,
    Money,
    PatronRef,
    RotaEntry,
    Side,
)
from resource_sharing.rota import HoldingsAnswer, RotaContext, build_rota
from resource_sharing.service._core import Ports, Settings, Shell, lifecycle_of

__all__ = [
    "BorrowingDesk",
    "DispatchReport",
    "Institution",
    "LendingDesk",
    "PeerInbox",
    "ScanResult",
]


@final
@attrs.frozen
class ScanResult:
    """What the operator must do with a scanned item."""

    side: Side
    """Whose request the item belongs to."""
    request_id: str
    """The request."""
    state: str
    """Its state."""
    instruction: str
    """What to do now."""


@final
@attrs.frozen
class DispatchReport:
    """What one dispatch round did."""

    sent: int = 0
    """Messages delivered."""
    retried: int = 0
    """Messages that failed and will be retried."""
    given_up: int = 0
    """Messages that failed too often and became staff tasks."""


class BorrowingDesk:
    """Staff and patron actions on borrowing requests."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def place_request(
        self,
        patron: PatronRef,
        citation: Citation,
        *,
        service_type: ServiceType = ServiceType.LOAN,
        pickup_location: str | None = None,
        note: str | None = None,
        max_cost: Money | None = None,
        need_before: date | None = None,
        rota: Sequence[AgencyId] | None = None,
        holdings: HoldingsAnswer | None = None,
    ) -> BorrowingRequest:
        """Create a request for a patron and submit it (to review, or on to its rota).

        Over the patron's limit of open requests, or a duplicate of an open one, it goes
        to staff review, as it does when mediation is configured. ``rota`` is a
        staff-given list of lenders; ``holdings`` an optional locate answer for the rota.
        """
        if not citation.title and not citation.item_ids and not citation.record_ids:
            raise InvalidInput("citation", "needs a title or an identifier")
        shell = self._shell
        settings = shell.settings
        now = shell.ports.clock.now()
        request = BorrowingRequest(
            id=shell.ports.ids.new_id("B"),
            agency=settings.agency,
            patron=patron,
            citation=citation,
            created_at=now,
            service_type=service_type,
            pickup_location=pickup_location,
            note=note,
            max_cost=max_cost,
            need_before=need_before,
        )
        local: list[Any] = []
        with shell.ports.store.transaction() as uow:
            review = _review_reason(uow.open_requests_of_patron(patron.id), request, settings)
            if settings.mediated_borrowing and review is None:
                review = "mediated borrowing: staff approve every request"
            created = Outcome(request, (), "create")
            current, _ = shell.persist(uow, None, created, request, now, "patron")
            event: Any = SubmitRequest(review=review is not None, reason=review)
            current, local = self._step(uow, current, event, now)
            if current.state.value == "locating":
                current, more = self._locate(uow, current, now, rota, holdings)
                local += more
        shell.carry_out(local)
        assert isinstance(current, BorrowingRequest)
        return current

    def _step(
        self, uow: Any, record: AnyRequest, event: Any, now: datetime, actor: str = "staff"
    ) -> tuple[AnyRequest, list[Any]]:
        outcome = self._shell.decide(record, event, now)
        return self._shell.persist(uow, record, outcome, event, now, actor)

    def _locate(
        self,
        uow: Any,
        record: AnyRequest,
        now: datetime,
        staff_rota: Sequence[AgencyId] | None,
        holdings: HoldingsAnswer | None,
    ) -> tuple[AnyRequest, list[Any]]:
        assert isinstance(record, BorrowingRequest)
        settings = self._shell.settings
        context = RotaContext(
            today=settings.calendar.local_date(now),
            holdings=holdings,
            staff_rota=tuple(staff_rota) if staff_rota is not None else None,
            own_agencies=frozenset({settings.agency}),
        )
        rota = build_rota(record, settings.directory, context, settings.rota)
        return self._step(uow, record, AssignRota(rota.entries), now)

    def approve(self, request_id: str, *, rota: Sequence[AgencyId] | None = None) -> AnyRequest:
        """Approve a request under review and send it on to its rota."""
        shell = self._shell
        now = shell.ports.clock.now()
        with shell.ports.store.transaction() as uow:
            record = shell.load(uow, Side.BORROWING, request_id)
            record, local = self._step(uow, record, ApproveRequest(), now)
            record, more = self._locate(uow, record, now, rota, None)
        shell.carry_out(local + more)
        return record

    def add_lenders(
        self,
        request_id: str,
        lenders: Sequence[AgencyId],
        *,
        rerequest: Sequence[AgencyId] = (),
    ) -> AnyRequest:
        """Give a request at the end of its rota (or whose locate failed) new lenders.

        A lender tried before is skipped unless it is also named in ``rerequest``.
        """
        entries = tuple(RotaEntry(agency, "added by staff") for agency in lenders)
        return self._act(request_id, AssignRota(entries, frozenset(rerequest)))

    def _act(self, request_id: str, event: Any, actor: str = "staff") -> AnyRequest:
        return self._shell.apply(Side.BORROWING, request_id, event, actor=actor)

    def cancel(
        self, request_id: str, *, by: CancelledBy = CancelledBy.STAFF, reason: str | None = None
    ) -> AnyRequest:
        """Cancel the request (asking the lender first when it has it)."""
        return self._act(request_id, CancelRequest(by, reason), by.value)

    def accept_conditions(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Accept the lender's conditions."""
        return self._act(request_id, AcceptConditions(note))

    def reject_conditions(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Reject the lender's conditions (the rota moves on once it confirms)."""
        return self._act(request_id, RejectConditions(note))

    def accept_retry(self, request_id: str, *, max_cost: Money | None = None) -> AnyRequest:
        """Re-send to the same lender as a Retry."""
        return self._act(request_id, AcceptRetry(max_cost))

    def decline_retry(self, request_id: str) -> AnyRequest:
        """Decline the lender's retry offer; the rota moves on."""
        return self._act(request_id, DeclineRetry())

    def receive(self, request_id: str, barcode: str) -> AnyRequest:
        """The item arrived: label it, put it on the hold shelf, tell the patron."""
        if not barcode.strip():
            raise InvalidInput("barcode", "must not be empty")
        return self._act(request_id, ReceiveItem(barcode))

    def check_out(self, request_id: str) -> AnyRequest:
        """The patron collects the item."""
        return self._act(request_id, CheckOutItem())

    def deliver_copy(self, request_id: str) -> AnyRequest:
        """The copy was delivered to the patron."""
        return self._act(request_id, DeliverCopy())

    def renew(
        self, request_id: str, *, requested_due: datetime | None = None, by_staff: bool = False
    ) -> AnyRequest:
        """The patron (or staff for them) asks to renew."""
        actor = "staff" if by_staff else "patron"
        return self._act(request_id, RequestRenewal(requested_due, by_staff), actor)

    def approve_renewal(self, request_id: str) -> AnyRequest:
        """Send a mediated renewal request on to the lender."""
        return self._act(request_id, ApproveRenewal())

    def deny_renewal(self, request_id: str, reason: str) -> AnyRequest:
        """Refuse a mediated renewal request."""
        return self._act(request_id, DenyRenewal(reason))

    def return_item(self, barcode: str, desk: str | None = None) -> ScanResult:
        """The patron returned the item at any desk: says where it must go now."""
        shell = self._shell
        with shell.ports.store.transaction() as uow:
            hits = [h for h in uow.find_by_barcode(barcode) if h[0] is Side.BORROWING]
        if not hits:
            raise InvalidInput("barcode", f"{barcode!r} is not a borrowed item")
        record = self._act(hits[0][1], ReturnByPatron(desk), "patron")
        return _scan_result(record)

    def ship_return(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Ship the item back to the lender."""
        return self._act(request_id, ShipReturn(note))

    def report_lost(self, request_id: str, note: str | None = None) -> AnyRequest:
        """The item is lost."""
        return self._act(request_id, ReportLost(note))

    def report_damaged(self, request_id: str, note: str | None = None) -> AnyRequest:
        """The item is damaged."""
        return self._act(request_id, ReportDamaged(note))


def _review_reason(
    open_requests: Sequence[BorrowingRequest], request: BorrowingRequest, settings: Settings
) -> str | None:
    limit = settings.max_open_requests_per_patron
    if limit is not None and len(open_requests) >= limit:
        return f"the patron has {len(open_requests)} open requests (limit {limit})"
    for other in open_requests:
        if _same_work(other.citation, request.citation):
            return f"possible duplicate of {other.id}"
    return None


def _same_work(a: Citation, b: Citation) -> bool:
    ids_a = {(i.code.casefold(), i.value.replace("-", "")) for i in (*a.item_ids, *a.record_ids)}
    ids_b = {(i.code.casefold(), i.value.replace("-", "")) for i in (*b.item_ids, *b.record_ids)}
    if ids_a & ids_b:
        return True
    return bool(a.title and b.title and a.title.casefold() == b.title.casefold()) and (
        (a.volume, a.title_of_component) == (b.volume, b.title_of_component)
    )


class LendingDesk:
    """Staff actions on lending requests."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def _act(self, request_id: str, event: Any) -> AnyRequest:
        return self._shell.apply(Side.LENDING, request_id, event)

    def supply(self, request_id: str, item: ItemRef) -> AnyRequest:
        """Supply from this item: pick slip, pick-from-shelf list of its desk."""
        return self._act(request_id, SupplyItem(item))

    def locate_failed(self, request_id: str, reason: str | None = None) -> AnyRequest:
        """Our holdings do not have it."""
        return self._act(request_id, LocateFailed(reason))

    def will_supply(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Tell the borrower we will supply."""
        return self._act(request_id, WillSupply(note))

    def reject(self, request_id: str, reason: str, note: str | None = None) -> AnyRequest:
        """Refuse the request (Unfilled)."""
        return self._act(request_id, RejectRequest(reason, note))

    def offer_retry(
        self,
        request_id: str,
        reason: str,
        *,
        retry_after: datetime | None = None,
        offered_costs: Money | None = None,
        note: str | None = None,
    ) -> AnyRequest:
        """Refuse as asked but offer a retry."""
        return self._act(request_id, OfferRetry(reason, retry_after, offered_costs, note))

    def offer_conditions(
        self, request_id: str, condition: str, note: str | None = None
    ) -> AnyRequest:
        """Offer to supply under a loan condition."""
        return self._act(request_id, OfferConditions(condition, note))

    def pick(self, request_id: str) -> AnyRequest:
        """The item was picked from the shelf."""
        return self._act(request_id, PickItem())

    def arrive(self, request_id: str) -> AnyRequest:
        """The picked item reached the resource-sharing library."""
        return self._act(request_id, ArriveAtRsLibrary())

    def ship(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Ship the item (or send the copy)."""
        return self._act(request_id, ShipItem(note))

    def answer_renewal(
        self, request_id: str, approve: bool, *, due: datetime | None = None
    ) -> AnyRequest:
        """Decide a renewal the policy left to staff."""
        return self._act(request_id, AnswerRenewal(approve, due))

    def answer_cancel(self, request_id: str, accept: bool, note: str | None = None) -> AnyRequest:
        """Answer the borrower's cancel request."""
        return self._act(request_id, AnswerCancel(accept, note))

    def local_hold(self, barcode: str, patron_id: str | None = None) -> AnyRequest:
        """A local patron placed a hold on an item that is lent out."""
        return self._act(self._by_barcode(barcode), LocalHoldPlaced(patron_id))

    def recall(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Recall the lent item."""
        return self._act(request_id, RecallItem(note))

    def check_in(self, barcode: str) -> ScanResult:
        """Check a returned item in: completes the request, says where it goes."""
        record, effects = self._shell.run(Side.LENDING, self._by_barcode(barcode), CheckInReturn())
        routes = [e.instruction for e in effects if isinstance(e, RouteItem)]
        instruction = routes[0] if routes else "Checked in"
        return ScanResult(Side.LENDING, record.id, record.state.value, instruction)

    def mark_lost(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Declare the lent item lost."""
        return self._act(request_id, MarkLost(note))

    def _by_barcode(self, barcode: str) -> str:
        with self._shell.ports.store.transaction() as uow:
            hits = [h for h in uow.find_by_barcode(barcode) if h[0] is Side.LENDING]
        if not hits:
            raise InvalidInput("barcode", f"{barcode!r} is not an item we lent")
        return hits[0][1]


class PeerInbox:
    """Applies messages from peers; answers each with a confirmation."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def receive(
        self, message: PeerMessage, *, message_id: str | None = None, sender: AgencyId | None = None
    ) -> Confirmation:
        """Apply one incoming message; idempotent by ``message_id`` (or its content).

        ``sender`` is the authenticated agency (from the transport); a message about a
        request is accepted only from that request's counterpart.
        """
        shell = self._shell
        now = shell.ports.clock.now()
        key = message_id or _content_key(message)
        local: list[Any] = []
        try:
            with shell.ports.store.transaction() as uow:
                earlier = uow.processed(key)
                if earlier is not None:
                    return earlier
                claimed = _claimed_sender(message)
                if sender is not None and claimed != sender:
                    raise PeerError(
                        ErrorType.UNRECOGNISED_DATA_VALUE,
                        f"agency {claimed} does not match the authenticated sender {sender}",
                    )
                local = self._apply(uow, message, now)
                confirmation = _confirm(message, now, None)
                uow.remember(key, confirmation)
        except (PeerError, IllegalTransition) as error:
            return _confirm(message, now, _error_data(error))
        shell.carry_out(local)
        return confirmation

    def _apply(self, uow: Any, message: PeerMessage, now: datetime) -> list[Any]:
        shell = self._shell
        settings = shell.settings
        header = message.header
        if isinstance(message, Request):
            if uow.find(
                Side.LENDING, header.requesting_agency_request_id, header.requesting_agency
            ):
                return []  # the same request again: confirmed, nothing new
            record = new_lending_request(
                message,
                id=shell.ports.ids.new_id("L"),
                agency=settings.agency,
                now=now,
                calendar=settings.calendar,
                timers=settings.lending.timers,
            )
            saved, local = shell.persist(
                uow, None, Outcome(record, (), "request_received"), message, now, _actor(message)
            )
            if settings.auto_locate:
                holding = shell.ports.holdings.locate(record.citation)
                event: Any = (
                    SupplyItem(holding.item)
                    if holding is not None and holding.available
                    else LocateFailed("not found in our holdings")
                )
                outcome = shell.decide(saved, event, now)
                _, more = shell.persist(uow, saved, outcome, event, now, "auto-locate")
                local += more
            return local
        if isinstance(message, SupplyingAgencyMessage):
            if header.requesting_agency != settings.agency:
                raise PeerError(
                    ErrorType.UNRECOGNISED_DATA_VALUE,
                    f"requestingAgencyId: {header.requesting_agency} is not this institution",
                )
            request_id = uow.find(
                Side.BORROWING, header.requesting_agency_request_id, header.supplying_agency
            )
            side, event = Side.BORROWING, SupplierMessageReceived(message)
        else:
            if header.supplying_agency != settings.agency:
                raise PeerError(
                    ErrorType.UNRECOGNISED_DATA_VALUE,
                    f"supplyingAgencyId: {header.supplying_agency} is not this institution",
                )
            request_id = uow.find(
                Side.LENDING, header.requesting_agency_request_id, header.requesting_agency
            )
            side, event = Side.LENDING, RequesterMessageReceived(message)
        if request_id is None:
            raise PeerError(
                ErrorType.UNRECOGNISED_DATA_VALUE,
                "requestingAgencyRequestId: no request "
                f"{header.requesting_agency_request_id!r} with {_claimed_sender(message)}",
            )
        stored = shell.load(uow, side, request_id)
        outcome = shell.decide(stored, event, now)
        _, local = shell.persist(uow, stored, outcome, event, now, _actor(message))
        return local


def _claimed_sender(message: PeerMessage) -> AgencyId:
    if isinstance(message, SupplyingAgencyMessage):
        return message.header.supplying_agency
    return message.header.requesting_agency


def _actor(message: PeerMessage) -> str:
    return f"peer:{_claimed_sender(message)}"


def _content_key(message: PeerMessage) -> str:
    header = message.header
    detail: object
    if isinstance(message, SupplyingAgencyMessage):
        detail = (message.reason.value, message.status, message.answer, message.note)
    elif isinstance(message, RequestingAgencyMessage):
        detail = (message.action.value, message.note)
    else:
        detail = "request"
    return "|".join(
        str(part)
        for part in (
            message.kind.value,
            header.requesting_agency,
            header.supplying_agency,
            header.requesting_agency_request_id,
            header.timestamp.isoformat(),
            detail,
        )
    )


def _error_data(error: PeerError | IllegalTransition) -> ErrorData:
    if isinstance(error, PeerError):
        return ErrorData(error.error_type, error.error_value)
    return ErrorData(error.error_type, f"{error.event} is not possible in state {error.state}")


def _confirm(message: PeerMessage, now: datetime, error: ErrorData | None) -> Confirmation:
    header = message.header
    return Confirmation(
        confirms=message.kind,
        status=MessageStatus.OK if error is None else MessageStatus.ERROR,
        timestamp=now,
        timestamp_received=now,
        supplying_agency=header.supplying_agency,
        requesting_agency=header.requesting_agency,
        requesting_agency_request_id=header.requesting_agency_request_id,
        multiple_item_request_id=header.multiple_item_request_id,
        error=error,
        reason=message.reason if isinstance(message, SupplyingAgencyMessage) else None,
        action=message.action if isinstance(message, RequestingAgencyMessage) else None,
    )


def _scan_result(record: AnyRequest) -> ScanResult:
    side = Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING
    lifecycle = lifecycle_of(side)
    instruction = lifecycle.instruction(record) or lifecycle.info(record.state).label
    return ScanResult(side, record.id, record.state.value, instruction)


class Institution:
    """One library in a resource-sharing network: desks, inbox, timers, dispatcher."""

    def __init__(self, settings: Settings, ports: Ports) -> None:
        self.shell = Shell(settings, ports)
        """The unit-of-work shell (for integrators who add their own events)."""
        self.borrowing = BorrowingDesk(self.shell)
        """Borrowing staff and patron actions."""
        self.lending = LendingDesk(self.shell)
        """Lending staff actions."""
        self.inbox = PeerInbox(self.shell)
        """Where peer messages arrive."""

    @property
    def agency(self) -> AgencyId:
        """Who this institution is."""
        return self.shell.settings.agency

    def get(self, side: Side, request_id: str) -> AnyRequest:
        """A stored request."""
        with self.shell.ports.store.transaction() as uow:
            return self.shell.load(uow, side, request_id)

    def history(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        """A request's history."""
        with self.shell.ports.store.transaction() as uow:
            return uow.history(side, request_id)

    def tasks(
        self, task_list: TaskList, *, desk: str | None = None, limit: int = 50, offset: int = 0
    ) -> Sequence[Task]:
        """A page of a staff task list."""
        with self.shell.ports.store.transaction() as uow:
            return uow.tasks(task_list, desk=desk, limit=limit, offset=offset)

    def scan(self, barcode: str, desk: str | None = None) -> list[ScanResult]:
        """What the operator at ``desk`` must do with this item now."""
        with self.shell.ports.store.transaction() as uow:
            records = [
                self.shell.load(uow, side, rid) for side, rid in uow.find_by_barcode(barcode)
            ]
        return [_scan_result(record) for record in records]

    def tick(self, now: datetime | None = None) -> int:
        """Fire every timer that is due; returns how many fired."""
        shell = self.shell
        now = now or shell.ports.clock.now()
        with shell.ports.store.transaction() as uow:
            due = list(uow.due(now, limit=10_000))
        fired = 0
        for side, request_id in due:
            record = self.get(side, request_id)
            for deadline in sorted(d for d in record.deadlines if d.at <= now):
                try:
                    shell.apply(side, request_id, TimerFired(deadline.kind), actor="timer")
                    fired += 1
                except ResourceSharingError as error:
                    shell.ports.notifier.notify_staff(
                        NotifyStaff(request_id, f"Timer {deadline.kind.value} failed: {error}")
                    )
        return fired

    def dispatch(self, limit: int = 100) -> DispatchReport:
        """Deliver the outbox: retries with exponential backoff, then a staff task."""
        shell = self.shell
        settings, ports = shell.settings, shell.ports
        now = ports.clock.now()
        with ports.store.transaction() as uow:
            claimed = list(uow.claim(now, limit, timedelta(minutes=5)))
            # Messages of one conversation (request and partner) go in the order they were
            # committed: one never overtakes an earlier one that waits for a retry.
            waiting: dict[tuple[Side, str, AgencyId], list[str]] = {}
            if claimed:
                for pending in uow.outbox(OutboxStatus.PENDING):
                    key = (pending.side, pending.request_id, pending.to)
                    waiting.setdefault(key, []).append(pending.id)
        claimed.sort(key=lambda m: (m.created_at, m.id))
        sent = retried = given_up = 0
        for message in claimed:
            queue = waiting.get((message.side, message.request_id, message.to), [])
            if queue and queue[0] != message.id:
                with ports.store.transaction() as uow:
                    uow.mark_failed(message.id, "after an earlier message", now, message.attempts)
                continue
            partner = settings.directory.get(message.to)
            attempts = message.attempts + 1
            try:
                if partner is None:
                    raise DeliveryError(str(message.to), "not in the directory", retryable=False)
                confirmation = ports.transport.send(partner, message.message, message.id)
                if not confirmation.ok:
                    detail = confirmation.error.value if confirmation.error else "ERROR"
                    raise DeliveryError(str(message.to), f"refused: {detail}", retryable=False)
            except DeliveryError as error:
                give_up = not error.retryable or attempts >= settings.max_delivery_attempts
                delay = min(
                    settings.retry_base_seconds * 2 ** (attempts - 1), settings.retry_max_seconds
                )
                retry_at = None if give_up else now + timedelta(seconds=delay)
                with ports.store.transaction() as uow:
                    uow.mark_failed(message.id, error.reason, retry_at, attempts)
                if give_up:
                    if queue:
                        queue.pop(0)
                    given_up += 1
                    text = (
                        f"Message to {message.to} could not be delivered after {attempts} "
                        f"attempt(s): {error.reason}"
                    )
                    ports.notifier.notify_staff(NotifyStaff(message.request_id, text))
                else:
                    retried += 1
                continue
            with ports.store.transaction() as uow:
                uow.mark_sent(message.id, now)
            if queue:
                queue.pop(0)
            sent += 1
        return DispatchReport(sent, retried, given_up)

    def pending_messages(self) -> int:
        """Messages waiting in the outbox."""
        with self.shell.ports.store.transaction() as uow:
            return len(uow.outbox(OutboxStatus.PENDING))
