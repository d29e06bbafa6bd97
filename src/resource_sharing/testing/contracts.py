"""The storage port's contract suites: what every store (and every repository) must honour.

Subclass :class:`RequestStoreContract` in a test module and implement ``make_store``;
pytest collects the ``test_*`` methods of the subclass::

    class TestMyStore(RequestStoreContract):
        def make_store(self) -> RequestStore:
            return MyStore(...)

A store that implements only some repositories subclasses their suites alone
(:class:`RequestRepositoryContract`, :class:`HistoryRepositoryContract`,
:class:`OutboxRepositoryContract`, :class:`InboxRepositoryContract`,
:class:`TaskRepositoryContract`, :class:`PatronRepositoryContract`,
:class:`TimerRepositoryContract`, :class:`SweepRepositoryContract`, and
:class:`UnitOfWorkContract` for all-or-nothing).
Implement ``reopen`` too when the store is durable: the restart tests then check that
what was committed (records, history, outbox entries and their claims, processed message
identities, staff tasks) survives a new store opened on the same data, and that an owner
releases its claims at once. The suites use plain ``assert`` and no test framework, so
that they can live in the package; they are deterministic (fixed times and ids).

Guarantees checked (see :mod:`resource_sharing.ports` for each method):

- a unit of work is all or nothing: a block that raises leaves no record, history entry,
  outbox entry, claim, processed identity or task behind;
- optimistic concurrency: of two writers that loaded the same version one wins, the other
  gets :class:`~resource_sharing.errors.ConcurrencyConflict`, and nothing is lost;
- idempotent message processing: a processed identity is remembered once, and for good;
- the outbox: claims per port, oldest first, streams kept whole and in order, leases,
  release by owner, retries, give-up, staff outcomes, lost leases refused;
- task lists: filters by list, desk and state, oldest first, paging; stored staff tasks
  added once, listed, resolved once with their actor;
- timers (``due``), look-ups by protocol id, barcode and patron, history order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import attrs

from resource_sharing.effects import (
    CreateTemporaryItem,
    NoticeKind,
    NotifyPatron,
    OutboundEffect,
    PrintPickSlip,
    SendMessage,
    TaskList,
)
from resource_sharing.errors import ConcurrencyConflict, InvalidInput, LeaseLost, NotFound
from resource_sharing.iso18626 import Action, MessageStatus, ReasonForMessage, Status
from resource_sharing.messages import (
    Confirmation,
    DeliveryInfo,
    Header,
    MessageKind,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import (
    AnyRequest,
    OutboxEntry,
    OutboxStatus,
    Port,
    ReceivedMessage,
    RequestIndex,
    RequestKey,
    RequestStore,
    StaffTask,
    TaskChoice,
    TaskResolution,
    UnitOfWork,
)
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
from resource_sharing.states import BorrowingState, LendingState

__all__ = [
    "HistoryRepositoryContract",
    "InboxRepositoryContract",
    "OutboxRepositoryContract",
    "PatronRepositoryContract",
    "RequestRepositoryContract",
    "RequestStoreContract",
    "StoreSuite",
    "SweepRepositoryContract",
    "TaskRepositoryContract",
    "TimerRepositoryContract",
    "UnitOfWorkContract",
]

R = TypeVar("R", BorrowingRequest, LendingRequest)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOME = AgencyId("US-HOME")
LENDER = AgencyId("US-LENDER")
OTHER = AgencyId("US-OTHER")
OWNER = "dispatcher-1"
MINUTE = timedelta(minutes=1)


class _Boom(Exception):
    """Raised inside a unit of work to make it roll back."""


def _borrowing(request_id: str, patron: str = "p-1", minutes: int = 0) -> BorrowingRequest:
    return BorrowingRequest(
        id=request_id,
        agency=HOME,
        patron=PatronRef(patron, "Ada Lovelace"),
        citation=Citation(title="The Art of Computer Programming", author="Knuth"),
        created_at=T0 + minutes * MINUTE,
    )


def _lending(request_id: str, requester: AgencyId = HOME, minutes: int = 0) -> LendingRequest:
    return LendingRequest(
        id=request_id,
        agency=LENDER,
        requester=requester,
        requester_request_id=f"{request_id}-pid",
        citation=Citation(title="Gödel, Escher, Bach"),
        created_at=T0 + minutes * MINUTE,
    )


def _index(record: AnyRequest, **changes: object) -> RequestIndex:
    if isinstance(record, BorrowingRequest):
        index = RequestIndex(
            side=Side.BORROWING,
            state=record.state.value,
            task_list=None,
            desk=None,
            instruction=None,
            needs_attention=False,
            terminal=False,
            patron_id=record.patron.id,
        )
    else:
        index = RequestIndex(
            side=Side.LENDING,
            state=record.state.value,
            task_list=None,
            desk=None,
            instruction=None,
            needs_attention=False,
            terminal=False,
            counterpart=record.requester,
            protocol_ids=(record.requester_request_id,),
        )
    return attrs.evolve(index, **changes)  # type: ignore[arg-type]


def _entry(
    record: AnyRequest, sequence: int, to_state: str, *, minutes: int, from_state: str = ""
) -> HistoryEntry:
    side = Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING
    return HistoryEntry(
        request_id=record.id,
        side=side,
        sequence=sequence,
        at=T0 + minutes * MINUTE,
        event=f"Event{sequence}",
        from_state=from_state or record.state.value,
        to_state=to_state,
        actor=Actor.staff("staff-1") if sequence % 2 else Actor.peer(LENDER),
        detail=f"step {sequence}",
        reason="a reason" if sequence % 2 else None,
        message_id=None if sequence % 2 else f"{LENDER}|msg-{sequence}",
    )


def _message(
    message_id: str,
    request_id: str = "b-1",
    minutes: int = 0,
    *,
    port: Port = Port.PEER,
    side: Side = Side.BORROWING,
) -> OutboxEntry:
    """An outbox entry of ``port`` for ``request_id`` (the stream is the request's)."""
    at = T0 + minutes * MINUTE
    effect: OutboundEffect
    if port is Port.PEER:
        effect = SendMessage(
            LENDER,
            RequestingAgencyMessage(
                Header(HOME, LENDER, f"{request_id}-1", at), Action.RECEIVED, note="thanks"
            ),
        )
    elif port is Port.CIRCULATION:
        effect = CreateTemporaryItem(
            request_id, "T-1", Citation(title="x"), LENDER, PatronRef("p-1", "Ada"), "Main", at
        )
    elif port is Port.NOTIFIER:
        effect = NotifyPatron(PatronRef("p-1", "Ada"), NoticeKind.ITEM_AVAILABLE, request_id, at)
    else:
        effect = PrintPickSlip(
            request_id, ItemRef("C-1", "QA76", "Stacks"), Citation(title="x"), HOME
        )
    return OutboxEntry(
        id=message_id,
        key=f"key-{message_id}",
        side=side,
        request_id=request_id,
        port=port,
        stream=f"{side.value}/{request_id}/{port.value}",
        effect=effect,
        created_at=at,
        next_attempt_at=at,
    )


def _claim(
    unit: UnitOfWork,
    now: datetime,
    limit: int = 10,
    lease: timedelta = MINUTE,
    *,
    owner: str = OWNER,
    port: Port = Port.PEER,
    request: RequestKey | None = None,
) -> list[str]:
    """Claim and return the ids claimed."""
    taken = unit.outbox.claim(port, now=now, limit=limit, lease=lease, owner=owner, request=request)
    return [entry.id for entry in taken]


def _ids(entries: Sequence[OutboxEntry]) -> list[str]:
    return [entry.id for entry in entries]


def _task(
    task_id: str, request_id: str = "b-1", minutes: int = 0, desk: str | None = None
) -> StaffTask:
    return StaffTask(
        id=task_id,
        side=Side.BORROWING,
        request_id=request_id,
        task_list=TaskList.DELIVERY_PROBLEMS,
        title="Circulation: create temporary item T-1",
        error="NCIP: the ILS is down",
        created_at=T0 + minutes * MINUTE,
        entry_id=f"fx-{task_id}",
        port=Port.CIRCULATION,
        attempts=8,
        desk=desk,
    )


def _received(request_id: str, note: str, minutes: int = 0) -> ReceivedMessage:
    """A borrower's message applied to the lending request ``request_id``."""
    at = T0 + minutes * MINUTE
    return ReceivedMessage(
        side=Side.LENDING,
        request_id=request_id,
        at=at,
        sender=HOME,
        message=RequestingAgencyMessage(
            Header(HOME, LENDER, f"{request_id}-1", at), Action.RECEIVED, note=note
        ),
        confirmation=_confirmation(minutes),
        message_id=f"m-{note}",
        raw=f"<ISO18626Message><note>{note}</note></ISO18626Message>",
    )


def _confirmation(minutes: int = 0) -> Confirmation:
    at = T0 + minutes * MINUTE
    return Confirmation(
        confirms=MessageKind.SUPPLYING_AGENCY_MESSAGE,
        status=MessageStatus.OK,
        timestamp=at,
        timestamp_received=at,
        supplying_agency=LENDER,
        requesting_agency=HOME,
        requesting_agency_request_id="b-1-1",
    )


class StoreSuite:
    """What every repository suite needs: a store to test, and helpers."""

    def make_store(self) -> RequestStore:
        """A new, empty store (each test makes its own)."""
        raise NotImplementedError

    def reopen(self, store: RequestStore) -> RequestStore | None:
        """A new store on the same data, as after a restart; None when not durable."""
        return None

    # -- helpers -------------------------------------------------------------------------

    def _insert(self, store: RequestStore, record: R, **index: object) -> R:
        with store.transaction() as unit:
            version = unit.requests.save(record, _index(record, **index), expected_version=0)
        return attrs.evolve(record, version=version)

    @staticmethod
    def _raises(error: type[Exception], action: Callable[[], object]) -> Exception:
        try:
            action()
        except error as exc:
            return exc
        raise AssertionError(f"expected {error.__name__}")


class RequestRepositoryContract(StoreSuite):
    """Requests: versions, optimistic concurrency, look-ups by protocol id and barcode."""

    # -- records and versions ------------------------------------------------------------

    def test_get_of_an_unknown_request_is_none(self) -> None:
        """Get of an unknown request is none."""
        store = self.make_store()
        with store.transaction() as unit:
            assert unit.requests.get(Side.BORROWING, "nope") is None
            assert unit.requests.get(Side.LENDING, "nope") is None

    def test_insert_starts_at_version_one_and_reads_back_equal(self) -> None:
        """Insert starts at version one and reads back equal."""
        store = self.make_store()
        record = _borrowing("b-1")
        with store.transaction() as unit:
            assert unit.requests.save(record, _index(record), expected_version=0) == 1
        lending = _lending("l-1")
        with store.transaction() as unit:
            assert unit.requests.save(lending, _index(lending), expected_version=0) == 1
        with store.transaction() as unit:
            assert unit.requests.get(Side.BORROWING, "b-1") == attrs.evolve(record, version=1)
            assert unit.requests.get(Side.LENDING, "l-1") == attrs.evolve(lending, version=1)
            assert unit.requests.get(Side.LENDING, "b-1") is None

    def test_each_save_increments_the_version(self) -> None:
        """Each save increments the version."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"))
        for expected in (1, 2, 3):
            changed = attrs.evolve(record, note=f"note {expected}")
            with store.transaction() as unit:
                assert unit.requests.save(changed, _index(changed), expected_version=expected) == (
                    expected + 1
                )
        with store.transaction() as unit:
            stored = unit.requests.get(Side.BORROWING, "b-1")
        assert stored is not None
        assert stored.version == 4
        assert stored.note == "note 3"

    def test_inserting_an_existing_request_is_a_conflict(self) -> None:
        """Inserting an existing request is a conflict."""
        store = self.make_store()
        self._insert(store, _borrowing("b-1"))
        record = _borrowing("b-1", patron="p-2")

        def insert_again() -> None:
            with store.transaction() as unit:
                unit.requests.save(record, _index(record), expected_version=0)

        error = self._raises(ConcurrencyConflict, insert_again)
        assert isinstance(error, ConcurrencyConflict)
        assert error.request_id == "b-1"
        with store.transaction() as unit:
            stored = unit.requests.get(Side.BORROWING, "b-1")
        assert isinstance(stored, BorrowingRequest)
        assert stored.patron.id == "p-1"

    def test_of_two_writers_of_one_version_one_wins_and_nothing_is_lost(self) -> None:
        """Of two writers of one version one wins and nothing is lost."""
        store = self.make_store()
        self._insert(store, _borrowing("b-1"))
        with store.transaction() as first:
            mine = first.requests.get(Side.BORROWING, "b-1")
        with store.transaction() as second:
            theirs = second.requests.get(Side.BORROWING, "b-1")
        assert isinstance(mine, BorrowingRequest)
        assert isinstance(theirs, BorrowingRequest)
        assert mine.version == theirs.version == 1
        winner = attrs.evolve(mine, note="first")
        with store.transaction() as unit:
            assert unit.requests.save(winner, _index(winner), expected_version=mine.version) == 2
            unit.history.append([_entry(winner, 1, "created", minutes=1)])
        loser = attrs.evolve(theirs, note="second")

        def save_stale() -> None:
            with store.transaction() as unit:
                unit.history.append([_entry(loser, 2, "created", minutes=2)])
                unit.outbox.enqueue([_message("m-lost")])
                unit.requests.save(loser, _index(loser), expected_version=theirs.version)

        error = self._raises(ConcurrencyConflict, save_stale)
        assert isinstance(error, ConcurrencyConflict)
        assert (error.expected, error.actual) == (1, 2)
        with store.transaction() as unit:
            reloaded = unit.requests.get(Side.BORROWING, "b-1")
            assert isinstance(reloaded, BorrowingRequest)
            assert reloaded.note == "first"
            assert [e.sequence for e in unit.history.of(Side.BORROWING, "b-1")] == [1]
            assert list(unit.outbox.entries()) == []
            # The loser reloads and retries: both changes are kept.
            retried = attrs.evolve(reloaded, note="first, then second")
            assert unit.requests.save(retried, _index(retried), expected_version=2) == 3
        with store.transaction() as unit:
            final = unit.requests.get(Side.BORROWING, "b-1")
        assert final is not None
        assert final.note == "first, then second"

    def test_a_stale_update_of_a_missing_request_is_a_conflict(self) -> None:
        """A stale update of a missing request is a conflict."""
        store = self.make_store()
        record = _borrowing("b-1")

        def save_missing() -> None:
            with store.transaction() as unit:
                unit.requests.save(record, _index(record), expected_version=3)

        error = self._raises(ConcurrencyConflict, save_missing)
        assert isinstance(error, ConcurrencyConflict)
        assert error.expected == 3
        assert not error.actual

    def test_save_refuses_a_record_without_id_or_of_the_other_side(self) -> None:
        """Save refuses a record without id or of the other side."""
        store = self.make_store()
        record = _borrowing("")
        lending = _lending("l-1")

        def no_id() -> None:
            with store.transaction() as unit:
                unit.requests.save(record, _index(record), expected_version=0)

        def wrong_side() -> None:
            with store.transaction() as unit:
                unit.requests.save(lending, _index(_borrowing("l-1")), expected_version=0)

        self._raises(InvalidInput, no_id)
        self._raises(InvalidInput, wrong_side)
        with store.transaction() as unit:
            assert unit.requests.get(Side.LENDING, "l-1") is None
            assert unit.requests.get(Side.BORROWING, "l-1") is None

    # -- look-ups ------------------------------------------------------------------------

    def test_find_by_protocol_id(self) -> None:
        """Find by protocol id."""
        store = self.make_store()
        borrowing = _borrowing("b-1")
        self._insert(store, borrowing, protocol_ids=("b-1-1", "b-1-2"), counterpart=LENDER)
        self._insert(store, _lending("l-1", requester=HOME))
        self._insert(store, _lending("l-2", requester=OTHER))
        with store.transaction() as unit:
            assert unit.requests.find(Side.BORROWING, "b-1-2", LENDER) == "b-1"
            assert unit.requests.find(Side.BORROWING, "b-1-1", OTHER) == "b-1"
            assert unit.requests.find(Side.BORROWING, "b-1-3", LENDER) is None
            assert unit.requests.find(Side.LENDING, "b-1-1", HOME) is None
            # A lending request is found only from its own requester.
            assert unit.requests.find(Side.LENDING, "l-1-pid", HOME) == "l-1"
            assert unit.requests.find(Side.LENDING, "l-1-pid", OTHER) is None
            assert unit.requests.find(Side.LENDING, "l-2-pid", OTHER) == "l-2"

    def test_find_follows_the_protocol_ids_of_the_latest_save(self) -> None:
        """Find follows the protocol ids of the latest save."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"), protocol_ids=("b-1-1",))
        with store.transaction() as unit:
            unit.requests.save(record, _index(record, protocol_ids=("b-1-2",)), expected_version=1)
            assert unit.requests.find(Side.BORROWING, "b-1-2", LENDER) == "b-1"
        with store.transaction() as unit:
            assert unit.requests.find(Side.BORROWING, "b-1-2", LENDER) == "b-1"
            assert unit.requests.find(Side.BORROWING, "b-1-1", LENDER) is None

    def test_find_by_barcode_lists_open_requests_of_both_sides(self) -> None:
        """Find by barcode lists open requests of both sides."""
        store = self.make_store()
        self._insert(store, _lending("l-1"), barcodes=("C-1",))
        self._insert(store, _borrowing("b-2"), barcodes=("T-9", "C-1"))
        self._insert(store, _borrowing("b-1"), barcodes=("C-1",))
        self._insert(store, _borrowing("b-3"), barcodes=("C-1",), terminal=True)
        with store.transaction() as unit:
            assert list(unit.requests.find_by_barcode("C-1")) == [
                (Side.BORROWING, "b-1"),
                (Side.BORROWING, "b-2"),
                (Side.LENDING, "l-1"),
            ]
            assert list(unit.requests.find_by_barcode("T-9")) == [(Side.BORROWING, "b-2")]
            assert list(unit.requests.find_by_barcode("nothing")) == []


class HistoryRepositoryContract(StoreSuite):
    """History: append-only, in append order per request."""

    # -- history -------------------------------------------------------------------------

    def test_history_is_kept_in_append_order_per_request(self) -> None:
        """History is kept in append order per request."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"))
        other = self._insert(store, _lending("b-1"))
        first = [_entry(record, 1, "pending_review", minutes=1)]
        with store.transaction() as unit:
            unit.history.append(first)
            unit.history.append([_entry(other, 1, "will_supply", minutes=1)])
        later = [
            _entry(record, 2, "locating", minutes=2, from_state="pending_review"),
            _entry(record, 3, "sent", minutes=2, from_state="locating"),
        ]
        with store.transaction() as unit:
            unit.history.append(later)
        with store.transaction() as unit:
            assert list(unit.history.of(Side.BORROWING, "b-1")) == first + later
            assert [e.to_state for e in unit.history.of(Side.LENDING, "b-1")] == ["will_supply"]
            assert list(unit.history.of(Side.BORROWING, "b-2")) == []
            assert unit.history.count(Side.BORROWING, "b-1") == 3
            assert unit.history.count(Side.LENDING, "b-1") == 1
            assert unit.history.count(Side.BORROWING, "b-2") == 0
            unit.history.append([_entry(record, 4, "sent", minutes=3, from_state="sent")])
            assert unit.history.count(Side.BORROWING, "b-1") == 4


class PatronRepositoryContract(StoreSuite):
    """Patron queries: a patron's open borrowing requests."""

    def test_open_requests_of_a_patron(self) -> None:
        """Open requests of a patron."""
        store = self.make_store()
        self._insert(store, _borrowing("b-2", patron="p-1"))
        self._insert(store, _borrowing("b-1", patron="p-1"))
        self._insert(store, _borrowing("b-3", patron="p-1"), terminal=True)
        self._insert(store, _borrowing("b-4", patron="p-2"))
        with store.transaction() as unit:
            found = unit.patrons.open_requests("p-1")
            assert [(r.id, r.version) for r in found] == [("b-1", 1), ("b-2", 1)]
            assert all(isinstance(r, BorrowingRequest) for r in found)
            assert list(unit.patrons.open_requests("p-9")) == []


class TimerRepositoryContract(StoreSuite):
    """Timers: requests whose deadline has come, earliest first."""

    def test_due_lists_requests_whose_deadline_has_come_earliest_first(self) -> None:
        """Due lists requests whose deadline has come earliest first."""
        store = self.make_store()
        self._insert(store, _borrowing("b-1"), next_deadline=T0 + 5 * MINUTE)
        self._insert(store, _lending("l-1"), next_deadline=T0 + 2 * MINUTE)
        self._insert(store, _borrowing("b-2"), next_deadline=T0 + 9 * MINUTE)
        self._insert(store, _borrowing("b-3"))
        with store.transaction() as unit:
            assert list(unit.timers.due(T0 + MINUTE)) == []
            assert list(unit.timers.due(T0 + 5 * MINUTE)) == [
                (Side.LENDING, "l-1"),
                (Side.BORROWING, "b-1"),
            ]
            assert list(unit.timers.due(T0 + 10 * MINUTE, limit=1)) == [(Side.LENDING, "l-1")]
            assert len(unit.timers.due(T0 + 10 * MINUTE)) == 3
        record = _borrowing("b-1")
        with store.transaction() as unit:
            unit.requests.save(record, _index(record), expected_version=1)
        with store.transaction() as unit:
            assert list(unit.timers.due(T0 + 10 * MINUTE)) == [
                (Side.LENDING, "l-1"),
                (Side.BORROWING, "b-2"),
            ]


class SweepRepositoryContract(StoreSuite):
    """The sweep's queries: one run claim per period, and the idle open requests."""

    def test_a_run_is_claimed_once_per_period(self) -> None:
        """A run is claimed once per period; a rolled-back claim does not count."""
        store = self.make_store()
        hour = 60 * MINUTE
        with contextlib.suppress(_Boom), store.transaction() as unit:
            assert unit.sweep.claim("job", now=T0, every=hour, owner="a")
            raise _Boom
        with store.transaction() as unit:
            assert unit.sweep.claim("job", now=T0, every=hour, owner="a")
        with store.transaction() as unit:
            assert not unit.sweep.claim("job", now=T0 + MINUTE, every=hour, owner="b")
            assert unit.sweep.claim("other", now=T0 + MINUTE, every=hour, owner="b")
        with store.transaction() as unit:
            assert not unit.sweep.claim("job", now=T0 + 59 * MINUTE, every=hour, owner="b")
            assert unit.sweep.claim("job", now=T0 + 59 * MINUTE, every=hour, owner="b", force=True)
        with store.transaction() as unit:  # forced at 0:59, so the next run is due at 1:59
            assert not unit.sweep.claim("job", now=T0 + 90 * MINUTE, every=hour, owner="a")
            assert unit.sweep.claim("job", now=T0 + 2 * hour, every=hour, owner="a")
        reopened = self.reopen(store)
        if reopened is not None:
            with reopened.transaction() as unit:
                assert not unit.sweep.claim("job", now=T0 + 150 * MINUTE, every=hour, owner="c")

    def test_idle_lists_open_requests_of_a_side_unchanged_since_oldest_first(self) -> None:
        """Idle lists open requests of a side unchanged since a time, oldest first."""
        store = self.make_store()
        self._insert(store, _borrowing("b-2", minutes=2))
        self._insert(store, _borrowing("b-1", minutes=1))
        self._insert(store, _borrowing("b-5", minutes=5))
        self._insert(store, _borrowing("b-0", minutes=0), terminal=True)
        self._insert(store, _lending("l-1", minutes=1))
        with store.transaction() as unit:
            assert list(unit.sweep.idle(Side.BORROWING, before=T0 + 3 * MINUTE)) == [
                (Side.BORROWING, "b-1"),
                (Side.BORROWING, "b-2"),
            ]
            found = unit.sweep.idle(Side.BORROWING, before=T0 + 9 * MINUTE, limit=1)
            assert list(found) == [(Side.BORROWING, "b-1")]
            assert list(unit.sweep.idle(Side.LENDING, before=T0 + 9 * MINUTE)) == [
                (Side.LENDING, "l-1")
            ]
            assert list(unit.sweep.idle(Side.BORROWING, before=T0)) == []


class TaskRepositoryContract(StoreSuite):
    """Task lists from the request index, and stored staff tasks."""

    # -- task lists ----------------------------------------------------------------------

    def test_task_lists_filter_by_list_desk_and_state_oldest_first(self) -> None:
        """Task lists filter by list desk and state oldest first."""
        store = self.make_store()
        pick = TaskList.PICK_FROM_SHELF
        self._insert(
            store,
            _lending("l-3", minutes=3),
            task_list=pick,
            desk="Main",
            state="pick_from_shelf",
            instruction="Fetch it",
        )
        self._insert(store, _lending("l-1", minutes=1), task_list=pick, desk="Branch")
        self._insert(store, _lending("l-2", minutes=1), task_list=pick, desk="Main")
        self._insert(store, _lending("l-4", minutes=0), task_list=TaskList.SHIPPING, desk="Main")
        self._insert(store, _lending("l-5", minutes=0))
        with store.transaction() as unit:
            tasks = unit.tasks.listed(pick)
            assert [t.request_id for t in tasks] == ["l-1", "l-2", "l-3"]
            first = tasks[0]
            assert (first.task_list, first.side, first.state) == (pick, Side.LENDING, "new")
            assert (first.desk, first.instruction) == ("Branch", None)
            assert first.updated_at == T0 + MINUTE
            assert tasks[2].instruction == "Fetch it"
            assert [t.request_id for t in unit.tasks.listed(pick, desk="Main")] == ["l-2", "l-3"]
            assert [t.request_id for t in unit.tasks.listed(pick, state="pick_from_shelf")] == [
                "l-3"
            ]
            assert [
                t.request_id for t in unit.tasks.listed(pick, desk="Main", state="pick_from_shelf")
            ] == ["l-3"]
            assert list(unit.tasks.listed(pick, desk="Nowhere")) == []
            assert [t.request_id for t in unit.tasks.listed(TaskList.SHIPPING)] == ["l-4"]
            assert list(unit.tasks.listed(TaskList.CHECK_IN)) == []

    def test_task_lists_page(self) -> None:
        """Task lists page."""
        store = self.make_store()
        for n in range(7):
            self._insert(
                store,
                _borrowing(f"b-{n}", minutes=n),
                task_list=TaskList.BORROWING_REQUESTS,
                state="pending_review",
            )
        with store.transaction() as unit:
            pages = [
                [
                    t.request_id
                    for t in unit.tasks.listed(TaskList.BORROWING_REQUESTS, limit=3, offset=o)
                ]
                for o in (0, 3, 6, 9)
            ]
            assert pages == [["b-0", "b-1", "b-2"], ["b-3", "b-4", "b-5"], ["b-6"], []]
            assert list(unit.tasks.listed(TaskList.BORROWING_REQUESTS, limit=0)) == []
        for limit, offset in ((-1, 0), (10, -1)):

            def negative(limit: int = limit, offset: int = offset) -> None:
                with store.transaction() as unit:
                    unit.tasks.listed(TaskList.BORROWING_REQUESTS, limit=limit, offset=offset)

            self._raises(InvalidInput, negative)

    def test_a_request_moves_to_the_end_of_a_list_when_its_state_changes(self) -> None:
        """A request moves to the end of a list when its state changes."""
        store = self.make_store()
        requests = TaskList.BORROWING_REQUESTS
        first = self._insert(store, _borrowing("b-1", minutes=0), task_list=requests)
        self._insert(store, _borrowing("b-2", minutes=1), task_list=requests)
        # A save that changes nothing the list shows keeps the request's place.
        with store.transaction() as unit:
            noted = attrs.evolve(first, note="looked at")
            unit.requests.save(noted, _index(noted, task_list=requests), expected_version=1)
            unit.history.append([_entry(first, 1, "created", minutes=5, from_state="created")])
        with store.transaction() as unit:
            assert [t.request_id for t in unit.tasks.listed(requests)] == ["b-1", "b-2"]
        # A state change (with its history entry) moves it to the time of that step.
        moved = attrs.evolve(first, state=BorrowingState.PENDING_REVIEW)
        with store.transaction() as unit:
            unit.requests.save(
                moved, _index(moved, task_list=requests, state="pending_review"), expected_version=2
            )
            unit.history.append([_entry(first, 2, "pending_review", minutes=7)])
        with store.transaction() as unit:
            tasks = unit.tasks.listed(requests)
            assert [t.request_id for t in tasks] == ["b-2", "b-1"]
            assert tasks[1].updated_at == T0 + 7 * MINUTE
            assert tasks[1].state == "pending_review"
        # Leaving the list removes it.
        done = attrs.evolve(moved, state=BorrowingState.LOCATING)
        with store.transaction() as unit:
            unit.requests.save(done, _index(done), expected_version=3)
        with store.transaction() as unit:
            assert [t.request_id for t in unit.tasks.listed(requests)] == ["b-2"]

    # -- stored staff tasks --------------------------------------------------------------

    def test_stored_tasks_read_back_equal_and_list_oldest_first(self) -> None:
        """Stored tasks read back equal; open ones list by list and desk, oldest first."""
        store = self.make_store()
        tasks = [
            _task("t-2", "b-1", minutes=2, desk="Main"),
            _task("t-1", "b-2", minutes=1),
            _task("t-3", "b-1", minutes=2, desk="Branch"),
        ]
        with store.transaction() as unit:
            unit.tasks.add(tasks[0])
            unit.tasks.add(tasks[1])
            assert unit.tasks.get("t-2") == tasks[0]
        with store.transaction() as unit:
            unit.tasks.add(tasks[2])
        with store.transaction() as unit:
            assert unit.tasks.get("t-1") == tasks[1]
            assert unit.tasks.get("nope") is None
            assert list(unit.tasks.open()) == [tasks[1], tasks[0], tasks[2]]
            problems = TaskList.DELIVERY_PROBLEMS
            assert [t.id for t in unit.tasks.open(task_list=problems)] == ["t-1", "t-2", "t-3"]
            assert list(unit.tasks.open(task_list=TaskList.SHIPPING)) == []
            assert [t.id for t in unit.tasks.open(desk="Main")] == ["t-2"]
            assert [t.id for t in unit.tasks.open(limit=1, offset=1)] == ["t-2"]
            assert list(unit.tasks.of_request(Side.BORROWING, "b-1")) == [tasks[0], tasks[2]]
            assert list(unit.tasks.of_request(Side.LENDING, "b-1")) == []

    def test_a_task_keeps_the_peer_message_it_is_about(self) -> None:
        """A task about a peer message that did not fit reads back with that message."""
        store = self.make_store()
        header = Header(HOME, LENDER, "b-1-1", T0, "L-9")
        sam = SupplyingAgencyMessage(
            header,
            ReasonForMessage.STATUS_CHANGE,
            Status.LOAN_COMPLETED,
            last_change=T0,
            note="closed here",
            delivery=DeliveryInfo(T0, loan_condition="NoReproduction"),
        )
        ram = RequestingAgencyMessage(header, Action.RENEW, "please")
        messages: tuple[SupplyingAgencyMessage | RequestingAgencyMessage, ...] = (sam, ram)
        kept = [
            attrs.evolve(
                _task(f"t-{n}", minutes=n),
                task_list=TaskList.PEER_MESSAGES,
                entry_id=None,
                port=None,
                attempts=0,
                message=message,
                choices=(TaskChoice.APPLY, TaskChoice.IGNORE, TaskChoice.ASK_STATUS),
            )
            for n, message in enumerate(messages)
        ]
        with store.transaction() as unit:
            for task in kept:
                unit.tasks.add(task)
        with store.transaction() as unit:
            assert [unit.tasks.get(t.id) for t in kept] == kept
            assert list(unit.tasks.open(task_list=TaskList.PEER_MESSAGES)) == kept
            assert list(unit.tasks.open(task_list=TaskList.DELIVERY_PROBLEMS)) == []

    def test_a_task_id_is_stored_once(self) -> None:
        """Adding a task id twice is refused."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.tasks.add(_task("t-1"))

        def again() -> None:
            with store.transaction() as unit:
                unit.tasks.add(_task("t-1", minutes=5))

        self._raises(InvalidInput, again)
        with store.transaction() as unit:
            assert unit.tasks.get("t-1") == _task("t-1")

    def test_a_resolved_task_leaves_the_open_list_and_keeps_its_resolution(self) -> None:
        """A resolution is kept with its actor; resolving twice is a conflict."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.tasks.add(_task("t-1"))
            unit.tasks.add(_task("t-2", minutes=1))
        resolution = TaskResolution(
            TaskChoice.DONE_BY_HAND, Actor.staff("alice"), T0 + 5 * MINUTE, "made it in the ILS"
        )
        with store.transaction() as unit:
            unit.tasks.resolve("t-1", resolution)
        with store.transaction() as unit:
            assert [t.id for t in unit.tasks.open()] == ["t-2"]
            assert unit.tasks.get("t-1") == attrs.evolve(_task("t-1"), resolution=resolution)
            assert [t.id for t in unit.tasks.of_request(Side.BORROWING, "b-1")] == ["t-1", "t-2"]

        def twice() -> None:
            with store.transaction() as unit:
                unit.tasks.resolve("t-1", attrs.evolve(resolution, choice=TaskChoice.DROP))

        def unknown() -> None:
            with store.transaction() as unit:
                unit.tasks.resolve("nope", resolution)

        self._raises(ConcurrencyConflict, twice)
        self._raises(NotFound, unknown)
        with store.transaction() as unit:
            stored = unit.tasks.get("t-1")
            assert stored is not None
            assert stored.resolution == resolution

    def test_stored_task_pages_refuse_negative_bounds(self) -> None:
        """A negative limit or offset is refused."""
        store = self.make_store()
        for limit, offset in ((-1, 0), (10, -1)):

            def negative(limit: int = limit, offset: int = offset) -> None:
                with store.transaction() as unit:
                    unit.tasks.open(limit=limit, offset=offset)

            self._raises(InvalidInput, negative)


class OutboxRepositoryContract(StoreSuite):
    """The outbox: claim per port and stream, leases, owners, updates."""

    # -- outbox: entries -----------------------------------------------------------------

    def test_entries_read_back_equal_in_creation_order(self) -> None:
        """Entries of every port read back equal, oldest first by (created_at, id)."""
        store = self.make_store()
        entries = [
            _message("m-2", minutes=2),
            _message("m-1", minutes=1, port=Port.CIRCULATION),
            _message("m-3", minutes=1, port=Port.NOTIFIER),
            _message("m-0", minutes=5, port=Port.PRINTER, side=Side.LENDING),
        ]
        with store.transaction() as unit:
            unit.outbox.enqueue(entries[:2])
        with store.transaction() as unit:
            unit.outbox.enqueue(entries[2:])
        with store.transaction() as unit:
            assert list(unit.outbox.entries()) == [entries[1], entries[2], entries[0], entries[3]]
            assert list(unit.outbox.entries(status=OutboxStatus.PENDING)) == [
                entries[1],
                entries[2],
                entries[0],
                entries[3],
            ]
            assert _ids(unit.outbox.entries(port=Port.NOTIFIER)) == ["m-3"]
            assert _ids(unit.outbox.entries(request=(Side.LENDING, "b-1"))) == ["m-0"]
            assert list(unit.outbox.entries(status=OutboxStatus.DELIVERED)) == []
            assert unit.outbox.get("m-1") == entries[1]
            assert unit.outbox.get("nope") is None

    def test_enqueueing_an_entry_id_twice_is_refused(self) -> None:
        """Enqueueing an entry id twice is refused."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1")])

        def again() -> None:
            with store.transaction() as unit:
                unit.outbox.enqueue([_message("m-1", minutes=3)])

        self._raises(InvalidInput, again)
        with store.transaction() as unit:
            assert [m.created_at for m in unit.outbox.entries()] == [T0]

    # -- outbox: claims ------------------------------------------------------------------

    def test_claim_takes_due_entries_of_its_port_in_order_up_to_the_limit(self) -> None:
        """Claim takes due entries of one port, oldest first, up to the limit."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue(
                [_message(f"m-{n}", f"b-{n}", minutes=n) for n in (3, 1, 2, 10)]
                + [_message("c-1", "b-1", port=Port.CIRCULATION)]
            )
        with store.transaction() as unit:
            claimed = unit.outbox.claim(
                Port.PEER, now=T0 + 5 * MINUTE, limit=2, lease=MINUTE, owner=OWNER
            )
            assert _ids(claimed) == ["m-1", "m-2"]
            leased = attrs.evolve(
                _message("m-1", "b-1", minutes=1),
                claimed_by=OWNER,
                lease_until=T0 + 6 * MINUTE,
            )
            assert claimed[0] == leased
        with store.transaction() as unit:
            assert unit.outbox.get("m-1") == leased
            assert _claim(unit, T0 + 5 * MINUTE) == ["m-3"]
        with store.transaction() as unit:
            assert _claim(unit, T0 + 5 * MINUTE) == []
            assert _claim(unit, T0 + 5 * MINUTE, port=Port.CIRCULATION) == ["c-1"]
            assert _claim(unit, T0 + 5 * MINUTE, port=Port.NOTIFIER) == []

    def test_a_claim_of_every_port_takes_them_together_oldest_first(self) -> None:
        """``port=None`` claims the due entries of every port in one go, in commit order."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue(
                [
                    _message("p-1", "b-1", minutes=2),
                    _message("c-1", "b-1", minutes=0, port=Port.CIRCULATION),
                    _message("n-1", "b-2", minutes=1, port=Port.NOTIFIER),
                    _message("x-1", "b-3", minutes=3, port=Port.PRINTER),
                    _message("p-2", "b-4", minutes=9),
                ]
            )
        with store.transaction() as unit:
            claimed = unit.outbox.claim(
                None, now=T0 + 5 * MINUTE, limit=3, lease=MINUTE, owner=OWNER
            )
            assert [(e.id, e.port, e.claimed_by) for e in claimed] == [
                ("c-1", Port.CIRCULATION, OWNER),
                ("n-1", Port.NOTIFIER, OWNER),
                ("p-1", Port.PEER, OWNER),
            ]
        with store.transaction() as unit:
            assert _ids(
                unit.outbox.claim(None, now=T0 + 5 * MINUTE, limit=9, lease=MINUTE, owner="b")
            ) == ["x-1"]

    def test_claim_keeps_a_stream_whole_and_in_order(self) -> None:
        """A stream's entries come in order and are never split by the limit or a claim."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue(
                [
                    _message("a-1", "b-1", minutes=0),
                    _message("z-1", "b-2", minutes=1),
                    _message("a-2", "b-1", minutes=1),
                    _message("a-3", "b-1", minutes=2),
                ]
            )
        with store.transaction() as unit:
            # Oldest first across streams: a-1, then a-2 (same minute as z-1, earlier id).
            assert _claim(unit, T0 + 5 * MINUTE, limit=2) == ["a-1", "a-2"]
        with store.transaction() as unit:
            # a-3 waits behind its stream's claimed entries; z-1 is free.
            assert _claim(unit, T0 + 5 * MINUTE, owner="other") == ["z-1"]

    def test_an_entry_waiting_for_its_retry_holds_back_its_stream(self) -> None:
        """A later entry of a stream is not delivered before an earlier one that waits."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1"), _message("m-2", minutes=1)])
        with store.transaction() as unit:
            (first,) = unit.outbox.claim(Port.PEER, now=T0, limit=10, lease=MINUTE, owner=OWNER)
            retry = attrs.evolve(
                first, attempts=1, last_error="down", next_attempt_at=T0 + 10 * MINUTE
            )
            unit.outbox.update(retry, owner=OWNER)
        with store.transaction() as unit:
            assert _claim(unit, T0 + 5 * MINUTE) == []
        with store.transaction() as unit:
            assert _claim(unit, T0 + 10 * MINUTE) == ["m-1", "m-2"]

    def test_a_claim_for_one_request_takes_only_its_entries(self) -> None:
        """A claim for one request takes that request's deliverable entries only."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue(
                [
                    _message("c-1", "b-1", port=Port.CIRCULATION),
                    _message("c-2", "b-2", port=Port.CIRCULATION),
                    _message("c-3", "b-2", minutes=1, port=Port.CIRCULATION),
                ]
            )
        with store.transaction() as unit:
            taken = _claim(
                unit, T0 + MINUTE, port=Port.CIRCULATION, request=(Side.BORROWING, "b-2")
            )
            assert taken == ["c-2", "c-3"]
            assert _claim(unit, T0, port=Port.CIRCULATION, request=(Side.LENDING, "b-1")) == []

    def test_a_claimed_entry_is_leased_until_the_lease_ends(self) -> None:
        """A claimed entry is leased until the lease ends, then anyone may take it."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1")])
        lease = timedelta(minutes=5)
        with store.transaction() as unit:
            assert _claim(unit, T0, lease=lease) == ["m-1"]
        with store.transaction() as unit:
            assert _claim(unit, T0, lease=lease, owner="other") == []
            assert _claim(unit, T0 + 4 * MINUTE, lease=lease) == []
        # The dispatcher died without marking it: another takes it once the lease ends.
        with store.transaction() as unit:
            assert _claim(unit, T0 + 5 * MINUTE, lease=lease, owner="other") == ["m-1"]
            assert unit.outbox.get("m-1") is not None
        with store.transaction() as unit:
            entry = unit.outbox.get("m-1")
            assert entry is not None
            assert (entry.claimed_by, entry.lease_until) == ("other", T0 + 10 * MINUTE)
            assert _claim(unit, T0 + 6 * MINUTE, lease=lease) == []

    def test_release_frees_an_owners_claims_at_once(self) -> None:
        """A restarted owner releases its claims at once; others' claims stay."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue(
                [_message("m-1", "b-1"), _message("m-2", "b-2"), _message("m-3", "b-3")]
            )
        hour = timedelta(hours=1)
        with store.transaction() as unit:
            assert _claim(unit, T0, 2, hour) == ["m-1", "m-2"]
        with store.transaction() as unit:
            assert _claim(unit, T0, 2, hour, owner="other") == ["m-3"]
        with store.transaction() as unit:
            assert unit.outbox.release(OWNER) == 2
            assert unit.outbox.release("nobody") == 0
        with store.transaction() as unit:
            released = unit.outbox.get("m-1")
            assert released is not None
            assert (released.claimed_by, released.lease_until) == (None, None)
            assert _claim(unit, T0 + MINUTE, owner="third") == ["m-1", "m-2"]

    # -- outbox: updates -----------------------------------------------------------------

    def test_a_delivered_entry_is_never_claimed_again(self) -> None:
        """A delivered entry keeps its fields and is never claimed again."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1"), _message("m-2", "b-2")])
        with store.transaction() as unit:
            (claimed,) = unit.outbox.claim(Port.PEER, now=T0, limit=1, lease=MINUTE, owner=OWNER)
            done = attrs.evolve(
                claimed, status=OutboxStatus.DELIVERED, attempts=1, finished_at=T0 + MINUTE
            )
            unit.outbox.update(done, owner=OWNER)
        with store.transaction() as unit:
            (delivered,) = unit.outbox.entries(status=OutboxStatus.DELIVERED)
            assert delivered == attrs.evolve(
                _message("m-1"),
                status=OutboxStatus.DELIVERED,
                attempts=1,
                finished_at=T0 + MINUTE,
            )
            assert _ids(unit.outbox.entries(status=OutboxStatus.PENDING)) == ["m-2"]
            assert _claim(unit, T0 + 60 * MINUTE) == ["m-2"]

    def test_a_failed_attempt_is_retried_at_its_time_then_given_up(self) -> None:
        """A failed attempt waits for its retry time; a given-up entry is never claimed."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1")])
        with store.transaction() as unit:
            (entry,) = unit.outbox.claim(Port.PEER, now=T0, limit=1, lease=MINUTE, owner=OWNER)
            unit.outbox.update(
                attrs.evolve(
                    entry,
                    attempts=1,
                    last_error="connection refused",
                    next_attempt_at=T0 + 10 * MINUTE,
                ),
                owner=OWNER,
            )
        with store.transaction() as unit:
            (pending,) = unit.outbox.entries(status=OutboxStatus.PENDING)
            assert (pending.attempts, pending.last_error) == (1, "connection refused")
            assert pending.next_attempt_at == T0 + 10 * MINUTE
            assert (pending.claimed_by, pending.lease_until) == (None, None)
            assert _claim(unit, T0 + 9 * MINUTE) == []
        with store.transaction() as unit:
            (entry,) = unit.outbox.claim(
                Port.PEER, now=T0 + 10 * MINUTE, limit=10, lease=MINUTE, owner=OWNER
            )
            unit.outbox.update(
                attrs.evolve(
                    entry,
                    status=OutboxStatus.GIVEN_UP,
                    attempts=2,
                    last_error="refused again",
                    finished_at=T0 + 10 * MINUTE,
                ),
                owner=OWNER,
            )
        with store.transaction() as unit:
            (failed,) = unit.outbox.entries(status=OutboxStatus.GIVEN_UP)
            assert (failed.attempts, failed.last_error) == (2, "refused again")
            assert failed.finished_at == T0 + 10 * MINUTE
            assert list(unit.outbox.entries(status=OutboxStatus.PENDING)) == []
            assert _claim(unit, T0 + 1000 * MINUTE) == []

    def test_a_given_up_entry_does_not_hold_back_its_stream(self) -> None:
        """After a give-up the stream's next entry goes; retried, the old one goes first."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1"), _message("m-2", minutes=1)])
        with store.transaction() as unit:
            (entry,) = unit.outbox.claim(Port.PEER, now=T0, limit=1, lease=MINUTE, owner=OWNER)
            unit.outbox.update(
                attrs.evolve(entry, status=OutboxStatus.GIVEN_UP, attempts=1, finished_at=T0),
                owner=OWNER,
            )
        with store.transaction() as unit:
            assert _claim(unit, T0 + MINUTE, lease=timedelta(0)) == ["m-2"]
        with store.transaction() as unit:
            given_up = unit.outbox.get("m-1")
            assert given_up is not None
            requeued = attrs.evolve(
                given_up,
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=T0 + 2 * MINUTE,
                finished_at=None,
            )
            unit.outbox.update(requeued)
        with store.transaction() as unit:
            assert _claim(unit, T0 + 2 * MINUTE) == ["m-1", "m-2"]

    def test_staff_outcomes_are_final(self) -> None:
        """Done by hand and dropped entries stay so, and are listed by their status."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1", "b-1"), _message("m-2", "b-2")])
        with store.transaction() as unit:
            for entry_id, status in (
                ("m-1", OutboxStatus.DONE_BY_HAND),
                ("m-2", OutboxStatus.DROPPED),
            ):
                entry = unit.outbox.get(entry_id)
                assert entry is not None
                unit.outbox.update(attrs.evolve(entry, status=status, finished_at=T0))
        with store.transaction() as unit:
            assert _ids(unit.outbox.entries(status=OutboxStatus.DONE_BY_HAND)) == ["m-1"]
            assert _ids(unit.outbox.entries(status=OutboxStatus.DROPPED)) == ["m-2"]
            assert _claim(unit, T0 + MINUTE) == []

    def test_an_update_by_an_owner_that_lost_its_lease_is_refused(self) -> None:
        """An owner whose lease ended and was taken over cannot write its result."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-1")])
        with store.transaction() as unit:
            (slow,) = unit.outbox.claim(Port.PEER, now=T0, limit=1, lease=MINUTE, owner=OWNER)
        with store.transaction() as unit:
            (fast,) = unit.outbox.claim(
                Port.PEER, now=T0 + MINUTE, limit=1, lease=MINUTE, owner="other"
            )
            unit.outbox.update(
                attrs.evolve(fast, status=OutboxStatus.DELIVERED, attempts=1), owner="other"
            )

        def late() -> None:
            with store.transaction() as unit:
                unit.outbox.update(
                    attrs.evolve(slow, status=OutboxStatus.DELIVERED, attempts=1), owner=OWNER
                )

        error = self._raises(LeaseLost, late)
        assert isinstance(error, LeaseLost)
        assert (error.entry_id, error.owner) == ("m-1", OWNER)
        with store.transaction() as unit:
            stored = unit.outbox.get("m-1")
            assert stored is not None
            assert (stored.status, stored.attempts) == (OutboxStatus.DELIVERED, 1)

    def test_updating_an_unknown_entry_is_refused(self) -> None:
        """Updating an unknown entry is refused."""
        store = self.make_store()

        def update() -> None:
            with store.transaction() as unit:
                unit.outbox.update(_message("nope"))

        self._raises(InvalidInput, update)


class InboxRepositoryContract(StoreSuite):
    """Processed peer message identities: remembered once, and for good."""

    # -- idempotency ---------------------------------------------------------------------

    def test_a_processed_message_is_remembered_once(self) -> None:
        """A processed message is remembered once."""
        store = self.make_store()
        with store.transaction() as unit:
            assert unit.inbox.processed("peer-1") is None
            unit.inbox.remember("peer-1", _confirmation())
        with store.transaction() as unit:
            assert unit.inbox.processed("peer-1") == _confirmation()
            assert unit.inbox.processed("peer-2") is None

        def again() -> None:
            with store.transaction() as unit:
                unit.inbox.remember("peer-1", _confirmation(minutes=1))

        self._raises(ConcurrencyConflict, again)
        with store.transaction() as unit:
            assert unit.inbox.processed("peer-1") == _confirmation()

    def test_a_name_keeps_the_message_it_was_first_given_to(self) -> None:
        """A name keeps the message it was first given to."""
        store = self.make_store()
        with store.transaction() as unit:
            assert unit.inbox.named("A|m-1") is None
            unit.inbox.remember("A|content-1", _confirmation(), name="A|m-1")
            assert unit.inbox.named("A|m-1") == "A|content-1"  # seen in its own unit
        with store.transaction() as unit:
            unit.inbox.remember("A|content-2", _confirmation(minutes=1), name="A|m-1")
            unit.inbox.remember("A|content-3", _confirmation(minutes=2))
        with store.transaction() as unit:
            assert unit.inbox.named("A|m-1") == "A|content-1"
            assert unit.inbox.named("B|m-1") is None
            assert unit.inbox.processed("A|content-2") == _confirmation(minutes=1)

    def test_a_name_given_in_a_failed_unit_is_not_kept(self) -> None:
        """A name given in a failed unit is not kept."""
        store = self.make_store()

        def fail() -> None:
            with store.transaction() as unit:
                unit.inbox.remember("A|content-1", _confirmation(), name="A|m-1")
                raise _Boom

        self._raises(_Boom, fail)
        with store.transaction() as unit:
            assert unit.inbox.named("A|m-1") is None
            assert unit.inbox.processed("A|content-1") is None

    # -- the message log -----------------------------------------------------------------

    def test_a_requests_message_log_keeps_its_messages_in_order_and_equal(self) -> None:
        """A request's message log keeps its messages in order and reads them back equal."""
        store = self.make_store()
        first, second = _received("l-1", "one"), _received("l-1", "two", 1)
        other = _received("l-2", "x")
        with store.transaction() as unit:
            assert unit.inbox.received(Side.LENDING, "l-1") == []
            unit.inbox.log(first)
            assert unit.inbox.received(Side.LENDING, "l-1") == [first]  # its own writes
            unit.inbox.log(other)
        with store.transaction() as unit:
            unit.inbox.log(second)
        with store.transaction() as unit:
            assert list(unit.inbox.received(Side.LENDING, "l-1")) == [first, second]
            assert list(unit.inbox.received(Side.LENDING, "l-2")) == [other]
            assert list(unit.inbox.received(Side.BORROWING, "l-1")) == []
        again = self.reopen(store)
        if again is not None:
            with again.transaction() as unit:
                assert list(unit.inbox.received(Side.LENDING, "l-1")) == [first, second]

    def test_a_message_logged_in_a_unit_that_fails_is_not_kept(self) -> None:
        """A message logged in a unit that fails is not kept."""
        store = self.make_store()

        def fail() -> None:
            with store.transaction() as unit:
                unit.inbox.log(_received("l-1", "lost"))
                raise InvalidInput("test", "the unit fails after the log")

        self._raises(InvalidInput, fail)
        with store.transaction() as unit:
            assert list(unit.inbox.received(Side.LENDING, "l-1")) == []


class UnitOfWorkContract(StoreSuite):
    """A unit of work is all or nothing, sees its own writes, survives a restart."""

    # -- all or nothing ------------------------------------------------------------------

    def test_a_unit_that_raises_leaves_nothing_behind(self) -> None:
        """A unit that raises leaves nothing behind."""
        store = self.make_store()
        existing = self._insert(store, _borrowing("b-0"))
        with store.transaction() as unit:
            unit.outbox.enqueue([_message("m-0", "b-0")])
        record = _borrowing("b-1")

        def fail_midway() -> None:
            with store.transaction() as unit:
                unit.requests.save(record, _index(record), expected_version=0)
                changed = attrs.evolve(existing, note="changed")
                unit.requests.save(changed, _index(changed), expected_version=1)
                unit.history.append([_entry(record, 1, "pending_review", minutes=1)])
                unit.outbox.enqueue([_message("m-1", "b-1")])
                assert len(_claim(unit, T0)) == 2
                unit.inbox.remember("peer-1", _confirmation())
                assert unit.requests.get(Side.BORROWING, "b-1") is not None
                raise _Boom

        self._raises(_Boom, fail_midway)
        with store.transaction() as unit:
            assert unit.requests.get(Side.BORROWING, "b-1") is None
            assert unit.requests.get(Side.BORROWING, "b-0") == existing
            assert list(unit.history.of(Side.BORROWING, "b-1")) == []
            assert _ids(unit.outbox.entries()) == ["m-0"]
            assert unit.inbox.processed("peer-1") is None
            # The claim made in the failed unit holds no lease.
            assert _claim(unit, T0) == ["m-0"]

    def test_a_unit_sees_its_own_writes(self) -> None:
        """A unit sees its own writes."""
        store = self.make_store()
        record = _borrowing("b-1")
        with store.transaction() as unit:
            unit.requests.save(record, _index(record), expected_version=0)
            unit.history.append([_entry(record, 1, "created", minutes=0)])
            unit.outbox.enqueue([_message("m-1")])
            unit.inbox.remember("peer-1", _confirmation())
            assert unit.requests.get(Side.BORROWING, "b-1") == attrs.evolve(record, version=1)
            assert len(unit.history.of(Side.BORROWING, "b-1")) == 1
            assert _ids(unit.outbox.entries()) == ["m-1"]
            assert unit.inbox.processed("peer-1") == _confirmation()
            assert [r.id for r in unit.patrons.open_requests("p-1")] == ["b-1"]

    def test_units_one_after_another_build_on_each_other(self) -> None:
        """Units one after another build on each other."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"))
        with store.transaction() as unit:
            loaded = unit.requests.get(Side.BORROWING, "b-1")
            assert loaded == record
            changed = attrs.evolve(record, note="two")
            unit.requests.save(changed, _index(changed), expected_version=record.version)
        with store.transaction() as unit:
            again = unit.requests.get(Side.BORROWING, "b-1")
        assert again is not None
        assert (again.version, again.note) == (2, "two")

    # -- restart -------------------------------------------------------------------------

    def test_everything_committed_survives_a_restart(self) -> None:
        """Everything committed survives a restart."""
        store = self.make_store()
        record = _borrowing("b-1")
        entry = _entry(record, 1, "pending_review", minutes=1)
        with store.transaction() as unit:
            unit.requests.save(
                record,
                _index(record, task_list=TaskList.BORROWING_REQUESTS, protocol_ids=("b-1-1",)),
                expected_version=0,
            )
            unit.history.append([entry])
            unit.outbox.enqueue([_message("m-1"), _message("m-2")])
            unit.inbox.remember("peer-1", _confirmation())
            unit.tasks.add(_task("t-1"))
        with store.transaction() as unit:
            _claim(unit, T0, 1, timedelta(hours=1))
        reopened = self.reopen(store)
        if reopened is None:
            return
        with reopened.transaction() as unit:
            assert unit.requests.get(Side.BORROWING, "b-1") == attrs.evolve(record, version=1)
            assert list(unit.history.of(Side.BORROWING, "b-1")) == [entry]
            assert unit.requests.find(Side.BORROWING, "b-1-1", LENDER) == "b-1"
            assert [t.request_id for t in unit.tasks.listed(TaskList.BORROWING_REQUESTS)] == ["b-1"]
            assert unit.inbox.processed("peer-1") == _confirmation()
            assert [t.id for t in unit.tasks.open()] == ["t-1"]
            # The lease survives too: m-1 is held, and m-2 waits behind it in its stream...
            assert _claim(unit, T0, owner="another") == []
            # ...until its owner restarts and releases its claims at once.
            assert unit.outbox.release(OWNER) == 1
            assert _claim(unit, T0, owner="another") == ["m-1", "m-2"]

        def remember_again() -> None:
            with reopened.transaction() as unit:
                unit.inbox.remember("peer-1", _confirmation())

        self._raises(ConcurrencyConflict, remember_again)

    def test_lending_records_survive_a_restart_equal(self) -> None:
        """Lending records survive a restart equal."""
        store = self.make_store()
        record = attrs.evolve(_lending("l-1"), state=LendingState.WILL_SUPPLY, note="n")
        self._insert(store, record)
        reopened = self.reopen(store) or store
        with reopened.transaction() as unit:
            assert unit.requests.get(Side.LENDING, "l-1") == attrs.evolve(record, version=1)


class RequestStoreContract(
    RequestRepositoryContract,
    HistoryRepositoryContract,
    PatronRepositoryContract,
    TimerRepositoryContract,
    SweepRepositoryContract,
    TaskRepositoryContract,
    OutboxRepositoryContract,
    InboxRepositoryContract,
    UnitOfWorkContract,
):
    """The whole storage port: every repository's suite and the unit of work's."""
