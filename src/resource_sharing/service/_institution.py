"""An institution: its borrowing and lending desks, its peer inbox, timers and dispatcher.

This is orchestration only. Each desk method is one unit of work through the
:class:`~resource_sharing.service._core.Shell` (load, decide, persist; the effects go to
the outbox); the :class:`~resource_sharing.service._dispatcher.Dispatcher` delivers them,
the :class:`~resource_sharing.service._timers.TimerScheduler` fires the timers, and the
:class:`~resource_sharing.service._tasks.TaskDesk` carries out the staff choices on
deliveries that gave up. Messages from peers go through :meth:`PeerInbox.receive`, which
is idempotent by message identity, accepts a message only from the agency on the other
side of its request, retries a concurrency conflict a few times, and answers every
message with a confirmation (ERROR with the ISO 18626 error type when it cannot apply;
nothing is stored then).

Every step's history entry names its actor: the staff user a desk acts for
(:meth:`BorrowingDesk.by`, :meth:`LendingDesk.by`), the patron, the system, or the peer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Self, final

import attrs

from resource_sharing.effects import CheckIn, LocateInHoldings, RouteItem, TaskList
from resource_sharing.errors import (
    AmbiguousBarcode,
    IllegalTransition,
    InvalidInput,
    PatronNotEligible,
    PeerError,
)
from resource_sharing.events import (
    AcceptConditions,
    AcceptRetry,
    AnswerCancel,
    AnswerRenewal,
    ApproveRenewal,
    ApproveRequest,
    ArriveAtRsLibrary,
    AskLenderStatus,
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
    WillSupply,
)
from resource_sharing.identifiers import match_keys
from resource_sharing.iso18626 import ErrorType, MessageStatus, ReasonForMessage, ServiceType
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
from resource_sharing.ports import (
    AnyRequest,
    OutboxStatus,
    Port,
    ReceivedMessage,
    RequestKey,
    StaffTask,
    Task,
    UnitOfWork,
)
from resource_sharing.records import (
    Actor,
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
from resource_sharing.rota import HoldingsAnswer
from resource_sharing.serialization import dumps
from resource_sharing.service._consistency import ConsistencySweep, answer_status
from resource_sharing.service._core import Hints, Ports, Settings, Shell, effects_of, lifecycle_of
from resource_sharing.service._dispatcher import Dispatcher, DispatchReport
from resource_sharing.service._misfits import keep_misfit
from resource_sharing.service._tasks import TaskDesk, instruction_of
from resource_sharing.service._timers import TimerScheduler

__all__ = [
    "BorrowingDesk",
    "Institution",
    "LendingDesk",
    "PeerInbox",
    "ScanResult",
]

STORED_TASK_LISTS = frozenset(
    {TaskList.DELIVERY_PROBLEMS, TaskList.OUT_OF_STEP, TaskList.PEER_MESSAGES}
)
"""The task lists of stored staff tasks (the others show requests by their state)."""

STAFF = Actor.staff("staff")
"""The actor of a desk that was not told which staff user it acts for."""


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


class _Desk:
    """What both desks share: the shell and the staff user they act for."""

    side: Side

    def __init__(self, shell: Shell, dispatcher: Dispatcher, actor: Actor = STAFF) -> None:
        self._shell = shell
        self._dispatcher = dispatcher
        self.actor = actor
        """Who this desk's actions are recorded as."""

    def by(self, user: str) -> Self:
        """The same desk acting for the named staff user (recorded in every history entry)."""
        if not user.strip():
            raise InvalidInput("user", "a staff user needs a name")
        return type(self)(self._shell, self._dispatcher, Actor.staff(user.strip()))

    def _act(
        self, request_id: str, event: Any, actor: Actor | None = None, hints: Hints | None = None
    ) -> AnyRequest:
        return self._shell.apply(
            self.side, request_id, event, actor=actor or self.actor, hints=hints
        )

    def _by_barcode(
        self, barcode: str, event: Any, action: str, request_id: str | None, missing: str
    ) -> str:
        """The one open request of this side with ``barcode`` whose state can take ``event``.

        An item can name several open requests (an old loan not yet checked in, a new
        one; a copy promised twice): the scan goes to the one the table lets take the
        action. ``request_id`` is the staff's choice among them. None fits: the oldest
        one's :class:`IllegalTransition`; several fit: :class:`AmbiguousBarcode` listing
        them. Nothing changes either way.
        """
        shell = self._shell
        now = shell.ports.clock.now()
        with shell.ports.store.transaction() as uow:
            hits = [rid for side, rid in uow.requests.find_by_barcode(barcode) if side is self.side]
            if request_id is not None:
                if request_id not in hits:
                    raise InvalidInput(
                        "request_id",
                        f"{request_id!r} is not an open {self.side.value} request "
                        f"for barcode {barcode!r}",
                    )
                return request_id
            if not hits:
                raise InvalidInput("barcode", f"{barcode!r} is not {missing}")
            records = [shell.load(uow, self.side, rid) for rid in hits]
        fits: list[AnyRequest] = []
        refused: list[IllegalTransition] = []
        for record in records:
            try:
                shell.decide(record, event, now)
            except IllegalTransition as error:
                refused.append(error)
            else:
                fits.append(record)
        if len(fits) == 1:
            return fits[0].id
        if not fits:
            raise refused[0]
        candidates = [(r.id, r.state.value) for r in fits]
        raise AmbiguousBarcode(barcode, self.side.value, action, candidates)


class BorrowingDesk(_Desk):
    """Staff and patron actions on borrowing requests."""

    side = Side.BORROWING

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

        The host system is asked first (the ``patrons`` port): a patron it says is not
        eligible is refused with :class:`~resource_sharing.errors.PatronNotEligible`,
        carrying its reason, and nothing is stored. Over the patron's limit of open
        requests, or a duplicate of an open one, the request goes to staff review, as it
        does when mediation is configured. ``rota`` is a staff-given list of lenders;
        ``holdings`` an optional locate answer for the rota; without it (and without a
        staff rota) the ``partner_holdings`` port, when there is one, is asked once, before
        the request is stored.
        """
        if not citation.title and not citation.item_ids and not citation.record_ids:
            raise InvalidInput("citation", "needs a title or an identifier")
        shell = self._shell
        settings = shell.settings
        standing = shell.ports.patrons.validate(patron)
        if not standing.eligible:
            raise PatronNotEligible(patron.id, standing.reason or "not eligible")
        now = shell.ports.clock.now()
        request = BorrowingRequest(
            id=shell.ports.ids.new_id("B"),
            agency=settings.agency,
            patron=standing.patron or patron,
            citation=citation,
            created_at=now,
            service_type=service_type,
            pickup_location=pickup_location,
            note=note,
            max_cost=max_cost,
            need_before=need_before,
        )
        actor = self.actor if self.actor is not STAFF else Actor.patron(patron.id)
        if holdings is None and rota is None:
            holdings = shell.partner_holdings(citation)
        hints = Hints(tuple(rota) if rota is not None else None, holdings)
        with shell.ports.store.transaction() as uow:
            review = _review_reason(uow.patrons.open_requests(patron.id), request, settings)
            if settings.mediated_borrowing and review is None:
                review = "mediated borrowing: staff approve every request"
            created = Outcome(request, (), "create")
            current, _ = shell.persist(uow, None, created, request, now, actor)
            event = SubmitRequest(review=review is not None, reason=review)
            current, _ = shell.step(uow, current, event, now, actor, hints=hints)
        assert isinstance(current, BorrowingRequest)
        return current

    def approve(self, request_id: str, *, rota: Sequence[AgencyId] | None = None) -> AnyRequest:
        """Approve a request under review and send it on to its rota.

        Without a staff ``rota``, the partners' catalogues are asked for it, as at intake.
        """
        holdings = None
        if rota is None and self._shell.ports.partner_holdings is not None:
            with self._shell.ports.store.transaction() as uow:
                record = self._shell.load(uow, Side.BORROWING, request_id)
            holdings = self._shell.partner_holdings(record.citation)
        hints = Hints(tuple(rota) if rota is not None else None, holdings)
        return self._act(request_id, ApproveRequest(), hints=hints)

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

    def cancel(
        self, request_id: str, *, by: CancelledBy = CancelledBy.STAFF, reason: str | None = None
    ) -> AnyRequest:
        """Cancel the request (asking the lender first when it has it)."""
        actor = self._patron_of(request_id) if by is CancelledBy.PATRON else self.actor
        return self._act(request_id, CancelRequest(by, reason), actor)

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
        actor = self.actor if by_staff else self._patron_of(request_id)
        return self._act(request_id, RequestRenewal(requested_due, by_staff), actor)

    def approve_renewal(self, request_id: str) -> AnyRequest:
        """Send a mediated renewal request on to the lender."""
        return self._act(request_id, ApproveRenewal())

    def deny_renewal(self, request_id: str, reason: str) -> AnyRequest:
        """Refuse a mediated renewal request."""
        return self._act(request_id, DenyRenewal(reason))

    def return_item(
        self, barcode: str, desk: str | None = None, *, request_id: str | None = None
    ) -> ScanResult:
        """The patron returned the item at any desk: says where it must go now.

        The barcode goes to the request that can take the return (``request_id`` when
        several can: see :class:`~resource_sharing.errors.AmbiguousBarcode`).
        """
        shell = self._shell
        now = shell.ports.clock.now()
        event = ReturnByPatron(desk)
        chosen = self._by_barcode(barcode, event, "return", request_id, "a borrowed item")
        with shell.ports.store.transaction() as uow:
            record = shell.load(uow, Side.BORROWING, chosen)
            assert isinstance(record, BorrowingRequest)
            actor = Actor.patron(record.patron.id)
            record, _ = shell.step(uow, record, event, now, actor)
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

    def ask_lender_status(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Ask the lender for its status now (ISO 18626 StatusRequest), as this desk's staff user.

        Any open request a lender holds (from ``sent`` until the lender checks the item
        in); :class:`~resource_sharing.errors.IllegalTransition` before a lender has it or
        once it is closed. The history records the question with the staff user; the
        lender's answer (StatusRequestResponse) is recorded when it comes and compared
        with our state: a mismatch is a task on the ``out_of_step`` list. There is no
        lending-side counterpart: ISO 18626 gives a lender no message that asks the
        borrower for its status.
        """
        return self._act(request_id, AskLenderStatus(note))

    def _patron_of(self, request_id: str) -> Actor:
        with self._shell.ports.store.transaction() as uow:
            record = self._shell.load(uow, Side.BORROWING, request_id)
        assert isinstance(record, BorrowingRequest)
        return Actor.patron(record.patron.id)


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
    # identifiers in canonical form: an ISBN-10 is the ISBN-13's duplicate, OCLC prefixes go
    if match_keys(a) & match_keys(b):
        return True
    return bool(a.title and b.title and a.title.casefold() == b.title.casefold()) and (
        (a.volume, a.title_of_component) == (b.volume, b.title_of_component)
    )


class LendingDesk(_Desk):
    """Staff actions on lending requests."""

    side = Side.LENDING

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

    def local_hold(
        self, barcode: str, patron_id: str | None = None, *, request_id: str | None = None
    ) -> AnyRequest:
        """A local patron placed a hold on an item that is lent out.

        The barcode goes to the loan that can take the hold (``request_id`` when several
        can: see :class:`~resource_sharing.errors.AmbiguousBarcode`).
        """
        event = LocalHoldPlaced(patron_id)
        chosen = self._by_barcode(barcode, event, "local_hold", request_id, "an item we lent")
        return self._act(chosen, event)

    def recall(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Recall the lent item."""
        return self._act(request_id, RecallItem(note))

    def check_in(self, barcode: str, *, request_id: str | None = None) -> ScanResult:
        """Check a returned item in: completes the request, says where the item goes.

        The barcode goes to the request that can take the check-in (``request_id`` when
        several can: see :class:`~resource_sharing.errors.AmbiguousBarcode`).

        The check-in is delivered to circulation at once, inside this call (after the
        commit), so the host system's routing answer is what the operator reads; when
        that first attempt fails the table's own instruction is shown and the command
        waits in the outbox for its retry.
        """
        shell = self._shell
        event = CheckInReturn()
        chosen = self._by_barcode(barcode, event, "check_in", request_id, "an item we lent")
        record, entries = shell.run(Side.LENDING, chosen, event, actor=self.actor)
        delivered = self._dispatcher.deliver_now(Port.CIRCULATION, (Side.LENDING, record.id))
        answers = [d.answer for d in delivered if isinstance(d.entry.effect, CheckIn) and d.answer]
        routes = [route.instruction for route in effects_of(entries, RouteItem)]
        instruction = answers[0] if answers else routes[0] if routes else "Checked in"
        return ScanResult(Side.LENDING, record.id, record.state.value, instruction)

    def mark_lost(self, request_id: str, note: str | None = None) -> AnyRequest:
        """Declare the lent item lost."""
        return self._act(request_id, MarkLost(note))


class PeerInbox:
    """Applies messages from peers; answers each with a confirmation."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def receive(
        self,
        message: PeerMessage,
        *,
        message_id: str | None = None,
        sender: AgencyId | None = None,
        raw: str | None = None,
    ) -> Confirmation:
        """Apply one incoming message once; answer each delivery with its confirmation.

        A message's identity is its sender plus its content (every field, the header's
        timestamp included, its credentials left out): the same content is applied once,
        whatever ``message_id`` it comes with, and a re-delivery gets the confirmation
        the first one got. ``message_id`` (the sender's name for the message, its
        ``X-Message-ID``) is remembered beside it: a name reused for different content
        is refused with an ERROR (UnrecognisedDataValue), never applied or dropped.

        ``sender`` is the authenticated agency (from the transport); a message about a
        request is accepted only from that request's counterpart. A concurrency conflict
        (another process changed the request meanwhile) is retried from the start a few
        times, so the peer gets an answer, not a server error. An applied message is kept
        in its request's message log (:class:`~resource_sharing.ports.ReceivedMessage`),
        with ``raw``, the text that came over the wire, when the transport has it.
        """
        shell = self._shell
        scope = sender or _claimed_sender(message)
        key = f"{scope}|{content_digest(message)}"
        name = f"{scope}|{message_id}" if message_id else None

        # our catalogue is asked before the unit of work opens, never while it holds the store
        located = (
            shell.locate_own(message.citation)
            if isinstance(message, Request) and shell.settings.auto_locate
            else None
        )

        def receive_once() -> Confirmation:
            now = shell.ports.clock.now()
            try:
                with shell.ports.store.transaction() as uow:
                    earlier = uow.inbox.processed(key)
                    if earlier is not None:
                        return earlier
                    if name is not None and uow.inbox.named(name) is not None:
                        raise PeerError(
                            ErrorType.UNRECOGNISED_DATA_VALUE,
                            f"X-Message-ID: {message_id!r} already names another message "
                            f"from {scope}; a different message needs a new id",
                        )
                    claimed = _claimed_sender(message)
                    if sender is not None and claimed != sender:
                        raise PeerError(
                            ErrorType.UNRECOGNISED_DATA_VALUE,
                            f"agency {claimed} does not match the authenticated sender {sender}",
                        )
                    applied_to = self._apply(uow, message, now, name, located)
                    confirmation = _confirm(message, now, None)
                    uow.inbox.remember(key, confirmation, name=name)
                    uow.inbox.log(
                        ReceivedMessage(
                            side=applied_to[0],
                            request_id=applied_to[1],
                            at=now,
                            sender=claimed,
                            message=_without_credentials(message),
                            confirmation=confirmation,
                            message_id=name,
                            raw=raw,
                        )
                    )
            except IllegalTransition as error:
                if isinstance(message, Request):
                    return _confirm(message, now, _error_data(error))
                return self._not_applied(message, error, key, name, now)
            except PeerError as error:
                return _confirm(message, now, _error_data(error))
            return confirmation

        return shell.retrying(receive_once)

    def _not_applied(
        self,
        message: SupplyingAgencyMessage | RequestingAgencyMessage,
        error: IllegalTransition,
        key: str,
        name: str | None,
        now: datetime,
    ) -> Confirmation:
        """Answer a message that does not fit its request's state, and keep it as a task."""
        with self._shell.ports.store.transaction() as uow:
            confirmation = _confirm(
                message, now, keep_misfit(self._shell, uow, message, error, now, name)
            )
            uow.inbox.remember(key, confirmation, name=name)
        return confirmation

    def _apply(
        self,
        uow: UnitOfWork,
        message: PeerMessage,
        now: datetime,
        message_id: str | None,
        located: tuple[Any, Actor] | None = None,
    ) -> RequestKey:
        """Apply the message to its request; returns that request's key."""
        shell = self._shell
        settings = shell.settings
        header = message.header
        actor = Actor.peer(_claimed_sender(message))
        if isinstance(message, Request):
            known = uow.requests.find(
                Side.LENDING, header.requesting_agency_request_id, header.requesting_agency
            )
            if known:
                return (Side.LENDING, known)  # the same request again: confirmed, nothing new
            record = new_lending_request(
                message,
                id=shell.ports.ids.new_id("L"),
                agency=settings.agency,
                now=now,
                calendar=settings.calendar,
                timers=settings.lending.timers,
            )
            locate = (LocateInHoldings(record.id, record.citation),) if settings.auto_locate else ()
            arrived = Outcome(record, locate, "request_received")
            hints = Hints(located=located)
            shell.persist(
                uow, None, arrived, message, now, actor, message_id=message_id, hints=hints
            )
            return (Side.LENDING, record.id)
        if isinstance(message, SupplyingAgencyMessage):
            if header.requesting_agency != settings.agency:
                raise PeerError(
                    ErrorType.UNRECOGNISED_DATA_VALUE,
                    f"requestingAgencyId: {header.requesting_agency} is not this institution",
                )
            request_id = uow.requests.find(
                Side.BORROWING, header.requesting_agency_request_id, header.supplying_agency
            )
            event: Any = SupplierMessageReceived(message)
            side = Side.BORROWING
        else:
            if header.supplying_agency != settings.agency:
                raise PeerError(
                    ErrorType.UNRECOGNISED_DATA_VALUE,
                    f"supplyingAgencyId: {header.supplying_agency} is not this institution",
                )
            request_id = uow.requests.find(
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
        if (
            isinstance(stored, BorrowingRequest)
            and isinstance(message, SupplyingAgencyMessage)
            and message.reason is ReasonForMessage.STATUS_REQUEST_RESPONSE
        ):
            answer_status(shell, uow, stored, event, now, actor, message_id=message_id)
            return (side, request_id)
        shell.step(uow, stored, event, now, actor, message_id=message_id)
        return (side, request_id)


def _without_credentials(message: PeerMessage) -> PeerMessage:
    """The message as its log keeps it: the sender's security code is not stored."""
    header = message.header
    if header.authentication is None:
        return message
    kept = attrs.evolve(header.authentication, security_code=None)
    return attrs.evolve(message, header=attrs.evolve(header, authentication=kept))


def _claimed_sender(message: PeerMessage) -> AgencyId:
    if isinstance(message, SupplyingAgencyMessage):
        return message.header.supplying_agency
    return message.header.requesting_agency


def content_digest(message: PeerMessage) -> str:
    """A message's content as a SHA-256 hex digest: every field but its credentials.

    Two deliveries of one message (a retry, a duplicate under another id) have the same
    digest; two messages differ in some field, if only the header's timestamp.
    """
    header = attrs.evolve(message.header, authentication=None)
    content = dumps(attrs.evolve(message, header=header))
    return f"{message.kind.value}:{hashlib.sha256(content.encode()).hexdigest()}"


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
    """One library in a resource-sharing network: the composition of its services.

    ``owner`` names this process's dispatcher in the outbox's claims: give each process
    of one institution its own, stable across restarts (a restarted process releases its
    own claims at once; those of a process that died wait for the lease).
    """

    def __init__(self, settings: Settings, ports: Ports, *, owner: str = "local") -> None:
        self.shell = Shell(settings, ports)
        """The unit-of-work shell (for integrators who add their own events)."""
        self.dispatcher = Dispatcher(self.shell, owner=owner)
        """Delivers the outbox."""
        self.timers = TimerScheduler(self.shell)
        """Fires the timers."""
        self.borrowing = BorrowingDesk(self.shell, self.dispatcher)
        """Borrowing staff and patron actions."""
        self.lending = LendingDesk(self.shell, self.dispatcher)
        """Lending staff actions."""
        self.inbox = PeerInbox(self.shell)
        """Where peer messages arrive."""
        self.task_desk = TaskDesk(self.shell, self.dispatcher)
        """Staff choices on deliveries that gave up."""
        self.sweep = ConsistencySweep(self.shell, settings.sweep, owner=owner)
        """The consistency sweep (:meth:`ConsistencySweep.run` once per ``interval``)."""

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
            return uow.history.of(side, request_id)

    def received(self, side: Side, request_id: str) -> Sequence[ReceivedMessage]:
        """The peer messages applied to a request, as they arrived, oldest first."""
        with self.shell.ports.store.transaction() as uow:
            return uow.inbox.received(side, request_id)

    def tasks(
        self, task_list: TaskList, *, desk: str | None = None, limit: int = 50, offset: int = 0
    ) -> Sequence[Task]:
        """A page of a staff task list.

        ``delivery_problems``, ``out_of_step`` and ``peer_messages`` show stored tasks.
        """
        with self.shell.ports.store.transaction() as uow:
            if task_list in STORED_TASK_LISTS:
                stored = uow.tasks.open(task_list=task_list, desk=desk, limit=limit, offset=offset)
                return [_task_line(task, uow) for task in stored]
            return uow.tasks.listed(task_list, desk=desk, limit=limit, offset=offset)

    def delivery_tasks(
        self, *, desk: str | None = None, limit: int = 50, offset: int = 0
    ) -> Sequence[StaffTask]:
        """A page of the open stored tasks (deliveries that gave up), oldest first."""
        with self.shell.ports.store.transaction() as uow:
            return uow.tasks.open(
                task_list=TaskList.DELIVERY_PROBLEMS, desk=desk, limit=limit, offset=offset
            )

    def tasks_of(self, side: Side, request_id: str) -> Sequence[StaffTask]:
        """Every stored task of a request, open and resolved."""
        with self.shell.ports.store.transaction() as uow:
            return uow.tasks.of_request(side, request_id)

    def scan(self, barcode: str, desk: str | None = None) -> list[ScanResult]:
        """What the operator at ``desk`` must do with this item now."""
        with self.shell.ports.store.transaction() as uow:
            records = [
                self.shell.load(uow, side, rid)
                for side, rid in uow.requests.find_by_barcode(barcode)
            ]
        return [_scan_result(record) for record in records]

    def tick(self, now: datetime | None = None) -> int:
        """Fire every timer that is due; returns how many fired."""
        return self.timers.tick(now)

    def dispatch(self, limit: int | None = None) -> DispatchReport:
        """One delivery round over every port (see :class:`Dispatcher`)."""
        return self.dispatcher.run(limit)

    def pending_messages(self) -> int:
        """Outbox entries waiting to be delivered (every port)."""
        with self.shell.ports.store.transaction() as uow:
            return len(uow.outbox.entries(status=OutboxStatus.PENDING))


def _task_line(task: StaffTask, uow: UnitOfWork) -> Task:
    record = uow.requests.get(task.side, task.request_id)
    return Task(
        task.task_list,
        task.side,
        task.request_id,
        record.state.value if record is not None else "-",
        instruction_of(task),
        task.desk,
        task.created_at,
        task.id,
    )
