"""The request store's contract suite: what every adapter of the storage port must honour.

Subclass :class:`RequestStoreContract` in a test module and implement ``make_store``;
pytest collects the ``test_*`` methods of the subclass::

    class TestMyStore(RequestStoreContract):
        def make_store(self) -> RequestStore:
            return MyStore(...)

Implement ``reopen`` too when the store is durable: the restart tests then check that
what was committed (records, history, outbox, processed message identities) survives a
new store opened on the same data. The suite uses plain ``assert`` and no test framework,
so that it can live in the package; it is deterministic (fixed times and ids).

Guarantees checked (see :class:`~resource_sharing.ports.UnitOfWork` for each method):

- a unit of work is all or nothing: a block that raises leaves no record, history entry,
  outbox message, lease or processed identity behind;
- optimistic concurrency: of two writers that loaded the same version one wins, the other
  gets :class:`~resource_sharing.errors.ConcurrencyConflict`, and nothing is lost;
- idempotent message processing: a processed identity is remembered once, and for good;
- the outbox: claim order, leases, sent, retry with backoff, give up;
- task lists: filters by list, desk and state, oldest first, paging;
- timers (``due``), look-ups by protocol id, barcode and patron, history order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import attrs

from resource_sharing.effects import TaskList
from resource_sharing.errors import ConcurrencyConflict, InvalidInput
from resource_sharing.iso18626 import Action, MessageStatus
from resource_sharing.messages import (
    Confirmation,
    Header,
    MessageKind,
    RequestingAgencyMessage,
)
from resource_sharing.ports import (
    AnyRequest,
    OutboxMessage,
    OutboxStatus,
    RequestIndex,
    RequestStore,
)
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    LendingRequest,
    PatronRef,
    Side,
)
from resource_sharing.states import BorrowingState, LendingState

__all__ = ["RequestStoreContract"]

R = TypeVar("R", BorrowingRequest, LendingRequest)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOME = AgencyId("US-HOME")
LENDER = AgencyId("US-LENDER")
OTHER = AgencyId("US-OTHER")
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
        actor="staff-1",
        detail=f"step {sequence}",
    )


def _message(message_id: str, request_id: str = "b-1", minutes: int = 0) -> OutboxMessage:
    at = T0 + minutes * MINUTE
    return OutboxMessage(
        id=message_id,
        side=Side.BORROWING,
        request_id=request_id,
        to=LENDER,
        message=RequestingAgencyMessage(
            Header(HOME, LENDER, f"{request_id}-1", at), Action.RECEIVED, note="thanks"
        ),
        created_at=at,
        next_attempt_at=at,
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


class RequestStoreContract:
    """The storage port's contract: subclass it and implement :meth:`make_store`."""

    def make_store(self) -> RequestStore:
        """A new, empty store (each test makes its own)."""
        raise NotImplementedError

    def reopen(self, store: RequestStore) -> RequestStore | None:
        """A new store on the same data, as after a restart; None when not durable."""
        return None

    # -- helpers -------------------------------------------------------------------------

    def _insert(self, store: RequestStore, record: R, **index: object) -> R:
        with store.transaction() as unit:
            version = unit.save(record, _index(record, **index), expected_version=0)
        return attrs.evolve(record, version=version)

    @staticmethod
    def _raises(error: type[Exception], action: Callable[[], object]) -> Exception:
        try:
            action()
        except error as exc:
            return exc
        raise AssertionError(f"expected {error.__name__}")

    # -- records and versions ------------------------------------------------------------

    def test_get_of_an_unknown_request_is_none(self) -> None:
        """Get of an unknown request is none."""
        store = self.make_store()
        with store.transaction() as unit:
            assert unit.get(Side.BORROWING, "nope") is None
            assert unit.get(Side.LENDING, "nope") is None

    def test_insert_starts_at_version_one_and_reads_back_equal(self) -> None:
        """Insert starts at version one and reads back equal."""
        store = self.make_store()
        record = _borrowing("b-1")
        with store.transaction() as unit:
            assert unit.save(record, _index(record), expected_version=0) == 1
        lending = _lending("l-1")
        with store.transaction() as unit:
            assert unit.save(lending, _index(lending), expected_version=0) == 1
        with store.transaction() as unit:
            assert unit.get(Side.BORROWING, "b-1") == attrs.evolve(record, version=1)
            assert unit.get(Side.LENDING, "l-1") == attrs.evolve(lending, version=1)
            assert unit.get(Side.LENDING, "b-1") is None

    def test_each_save_increments_the_version(self) -> None:
        """Each save increments the version."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"))
        for expected in (1, 2, 3):
            changed = attrs.evolve(record, note=f"note {expected}")
            with store.transaction() as unit:
                assert unit.save(changed, _index(changed), expected_version=expected) == (
                    expected + 1
                )
        with store.transaction() as unit:
            stored = unit.get(Side.BORROWING, "b-1")
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
                unit.save(record, _index(record), expected_version=0)

        error = self._raises(ConcurrencyConflict, insert_again)
        assert isinstance(error, ConcurrencyConflict)
        assert error.request_id == "b-1"
        with store.transaction() as unit:
            stored = unit.get(Side.BORROWING, "b-1")
        assert isinstance(stored, BorrowingRequest)
        assert stored.patron.id == "p-1"

    def test_of_two_writers_of_one_version_one_wins_and_nothing_is_lost(self) -> None:
        """Of two writers of one version one wins and nothing is lost."""
        store = self.make_store()
        self._insert(store, _borrowing("b-1"))
        with store.transaction() as first:
            mine = first.get(Side.BORROWING, "b-1")
        with store.transaction() as second:
            theirs = second.get(Side.BORROWING, "b-1")
        assert isinstance(mine, BorrowingRequest)
        assert isinstance(theirs, BorrowingRequest)
        assert mine.version == theirs.version == 1
        winner = attrs.evolve(mine, note="first")
        with store.transaction() as unit:
            assert unit.save(winner, _index(winner), expected_version=mine.version) == 2
            unit.append_history([_entry(winner, 1, "created", minutes=1)])
        loser = attrs.evolve(theirs, note="second")

        def save_stale() -> None:
            with store.transaction() as unit:
                unit.append_history([_entry(loser, 2, "created", minutes=2)])
                unit.enqueue([_message("m-lost")])
                unit.save(loser, _index(loser), expected_version=theirs.version)

        error = self._raises(ConcurrencyConflict, save_stale)
        assert isinstance(error, ConcurrencyConflict)
        assert (error.expected, error.actual) == (1, 2)
        with store.transaction() as unit:
            reloaded = unit.get(Side.BORROWING, "b-1")
            assert isinstance(reloaded, BorrowingRequest)
            assert reloaded.note == "first"
            assert [e.sequence for e in unit.history(Side.BORROWING, "b-1")] == [1]
            assert list(unit.outbox()) == []
            # The loser reloads and retries: both changes are kept.
            retried = attrs.evolve(reloaded, note="first, then second")
            assert unit.save(retried, _index(retried), expected_version=2) == 3
        with store.transaction() as unit:
            final = unit.get(Side.BORROWING, "b-1")
        assert final is not None
        assert final.note == "first, then second"

    def test_a_stale_update_of_a_missing_request_is_a_conflict(self) -> None:
        """A stale update of a missing request is a conflict."""
        store = self.make_store()
        record = _borrowing("b-1")

        def save_missing() -> None:
            with store.transaction() as unit:
                unit.save(record, _index(record), expected_version=3)

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
                unit.save(record, _index(record), expected_version=0)

        def wrong_side() -> None:
            with store.transaction() as unit:
                unit.save(lending, _index(_borrowing("l-1")), expected_version=0)

        self._raises(InvalidInput, no_id)
        self._raises(InvalidInput, wrong_side)
        with store.transaction() as unit:
            assert unit.get(Side.LENDING, "l-1") is None
            assert unit.get(Side.BORROWING, "l-1") is None

    # -- all or nothing ------------------------------------------------------------------

    def test_a_unit_that_raises_leaves_nothing_behind(self) -> None:
        """A unit that raises leaves nothing behind."""
        store = self.make_store()
        existing = self._insert(store, _borrowing("b-0"))
        with store.transaction() as unit:
            unit.enqueue([_message("m-0", "b-0")])
        record = _borrowing("b-1")

        def fail_midway() -> None:
            with store.transaction() as unit:
                unit.save(record, _index(record), expected_version=0)
                changed = attrs.evolve(existing, note="changed")
                unit.save(changed, _index(changed), expected_version=1)
                unit.append_history([_entry(record, 1, "pending_review", minutes=1)])
                unit.enqueue([_message("m-1", "b-1")])
                assert len(unit.claim(T0, 10, MINUTE)) == 2
                unit.remember("peer-1", _confirmation())
                assert unit.get(Side.BORROWING, "b-1") is not None
                raise _Boom

        self._raises(_Boom, fail_midway)
        with store.transaction() as unit:
            assert unit.get(Side.BORROWING, "b-1") is None
            assert unit.get(Side.BORROWING, "b-0") == existing
            assert list(unit.history(Side.BORROWING, "b-1")) == []
            assert [m.id for m in unit.outbox()] == ["m-0"]
            assert unit.processed("peer-1") is None
            # The claim made in the failed unit holds no lease.
            assert [m.id for m in unit.claim(T0, 10, MINUTE)] == ["m-0"]

    def test_a_unit_sees_its_own_writes(self) -> None:
        """A unit sees its own writes."""
        store = self.make_store()
        record = _borrowing("b-1")
        with store.transaction() as unit:
            unit.save(record, _index(record), expected_version=0)
            unit.append_history([_entry(record, 1, "created", minutes=0)])
            unit.enqueue([_message("m-1")])
            unit.remember("peer-1", _confirmation())
            assert unit.get(Side.BORROWING, "b-1") == attrs.evolve(record, version=1)
            assert len(unit.history(Side.BORROWING, "b-1")) == 1
            assert [m.id for m in unit.outbox()] == ["m-1"]
            assert unit.processed("peer-1") == _confirmation()
            assert [r.id for r in unit.open_requests_of_patron("p-1")] == ["b-1"]

    def test_units_one_after_another_build_on_each_other(self) -> None:
        """Units one after another build on each other."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"))
        with store.transaction() as unit:
            loaded = unit.get(Side.BORROWING, "b-1")
            assert loaded == record
            changed = attrs.evolve(record, note="two")
            unit.save(changed, _index(changed), expected_version=record.version)
        with store.transaction() as unit:
            again = unit.get(Side.BORROWING, "b-1")
        assert again is not None
        assert (again.version, again.note) == (2, "two")

    # -- history -------------------------------------------------------------------------

    def test_history_is_kept_in_append_order_per_request(self) -> None:
        """History is kept in append order per request."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"))
        other = self._insert(store, _lending("b-1"))
        first = [_entry(record, 1, "pending_review", minutes=1)]
        with store.transaction() as unit:
            unit.append_history(first)
            unit.append_history([_entry(other, 1, "will_supply", minutes=1)])
        later = [
            _entry(record, 2, "locating", minutes=2, from_state="pending_review"),
            _entry(record, 3, "sent", minutes=2, from_state="locating"),
        ]
        with store.transaction() as unit:
            unit.append_history(later)
        with store.transaction() as unit:
            assert list(unit.history(Side.BORROWING, "b-1")) == first + later
            assert [e.to_state for e in unit.history(Side.LENDING, "b-1")] == ["will_supply"]
            assert list(unit.history(Side.BORROWING, "b-2")) == []

    # -- look-ups ------------------------------------------------------------------------

    def test_find_by_protocol_id(self) -> None:
        """Find by protocol id."""
        store = self.make_store()
        borrowing = _borrowing("b-1")
        self._insert(store, borrowing, protocol_ids=("b-1-1", "b-1-2"), counterpart=LENDER)
        self._insert(store, _lending("l-1", requester=HOME))
        self._insert(store, _lending("l-2", requester=OTHER))
        with store.transaction() as unit:
            assert unit.find(Side.BORROWING, "b-1-2", LENDER) == "b-1"
            assert unit.find(Side.BORROWING, "b-1-1", OTHER) == "b-1"
            assert unit.find(Side.BORROWING, "b-1-3", LENDER) is None
            assert unit.find(Side.LENDING, "b-1-1", HOME) is None
            # A lending request is found only from its own requester.
            assert unit.find(Side.LENDING, "l-1-pid", HOME) == "l-1"
            assert unit.find(Side.LENDING, "l-1-pid", OTHER) is None
            assert unit.find(Side.LENDING, "l-2-pid", OTHER) == "l-2"

    def test_find_follows_the_protocol_ids_of_the_latest_save(self) -> None:
        """Find follows the protocol ids of the latest save."""
        store = self.make_store()
        record = self._insert(store, _borrowing("b-1"), protocol_ids=("b-1-1",))
        with store.transaction() as unit:
            unit.save(record, _index(record, protocol_ids=("b-1-2",)), expected_version=1)
            assert unit.find(Side.BORROWING, "b-1-2", LENDER) == "b-1"
        with store.transaction() as unit:
            assert unit.find(Side.BORROWING, "b-1-2", LENDER) == "b-1"
            assert unit.find(Side.BORROWING, "b-1-1", LENDER) is None

    def test_find_by_barcode_lists_open_requests_of_both_sides(self) -> None:
        """Find by barcode lists open requests of both sides."""
        store = self.make_store()
        self._insert(store, _lending("l-1"), barcodes=("C-1",))
        self._insert(store, _borrowing("b-2"), barcodes=("T-9", "C-1"))
        self._insert(store, _borrowing("b-1"), barcodes=("C-1",))
        self._insert(store, _borrowing("b-3"), barcodes=("C-1",), terminal=True)
        with store.transaction() as unit:
            assert list(unit.find_by_barcode("C-1")) == [
                (Side.BORROWING, "b-1"),
                (Side.BORROWING, "b-2"),
                (Side.LENDING, "l-1"),
            ]
            assert list(unit.find_by_barcode("T-9")) == [(Side.BORROWING, "b-2")]
            assert list(unit.find_by_barcode("nothing")) == []

    def test_open_requests_of_a_patron(self) -> None:
        """Open requests of a patron."""
        store = self.make_store()
        self._insert(store, _borrowing("b-2", patron="p-1"))
        self._insert(store, _borrowing("b-1", patron="p-1"))
        self._insert(store, _borrowing("b-3", patron="p-1"), terminal=True)
        self._insert(store, _borrowing("b-4", patron="p-2"))
        with store.transaction() as unit:
            found = unit.open_requests_of_patron("p-1")
            assert [(r.id, r.version) for r in found] == [("b-1", 1), ("b-2", 1)]
            assert all(isinstance(r, BorrowingRequest) for r in found)
            assert list(unit.open_requests_of_patron("p-9")) == []

    def test_due_lists_requests_whose_deadline_has_come_earliest_first(self) -> None:
        """Due lists requests whose deadline has come earliest first."""
        store = self.make_store()
        self._insert(store, _borrowing("b-1"), next_deadline=T0 + 5 * MINUTE)
        self._insert(store, _lending("l-1"), next_deadline=T0 + 2 * MINUTE)
        self._insert(store, _borrowing("b-2"), next_deadline=T0 + 9 * MINUTE)
        self._insert(store, _borrowing("b-3"))
        with store.transaction() as unit:
            assert list(unit.due(T0 + MINUTE)) == []
            assert list(unit.due(T0 + 5 * MINUTE)) == [
                (Side.LENDING, "l-1"),
                (Side.BORROWING, "b-1"),
            ]
            assert list(unit.due(T0 + 10 * MINUTE, limit=1)) == [(Side.LENDING, "l-1")]
            assert len(unit.due(T0 + 10 * MINUTE)) == 3
        record = _borrowing("b-1")
        with store.transaction() as unit:
            unit.save(record, _index(record), expected_version=1)
        with store.transaction() as unit:
            assert list(unit.due(T0 + 10 * MINUTE)) == [
                (Side.LENDING, "l-1"),
                (Side.BORROWING, "b-2"),
            ]

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
            tasks = unit.tasks(pick)
            assert [t.request_id for t in tasks] == ["l-1", "l-2", "l-3"]
            first = tasks[0]
            assert (first.task_list, first.side, first.state) == (pick, Side.LENDING, "new")
            assert (first.desk, first.instruction) == ("Branch", None)
            assert first.updated_at == T0 + MINUTE
            assert tasks[2].instruction == "Fetch it"
            assert [t.request_id for t in unit.tasks(pick, desk="Main")] == ["l-2", "l-3"]
            assert [t.request_id for t in unit.tasks(pick, state="pick_from_shelf")] == ["l-3"]
            assert [
                t.request_id for t in unit.tasks(pick, desk="Main", state="pick_from_shelf")
            ] == ["l-3"]
            assert list(unit.tasks(pick, desk="Nowhere")) == []
            assert [t.request_id for t in unit.tasks(TaskList.SHIPPING)] == ["l-4"]
            assert list(unit.tasks(TaskList.CHECK_IN)) == []

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
                [t.request_id for t in unit.tasks(TaskList.BORROWING_REQUESTS, limit=3, offset=o)]
                for o in (0, 3, 6, 9)
            ]
            assert pages == [["b-0", "b-1", "b-2"], ["b-3", "b-4", "b-5"], ["b-6"], []]
            assert list(unit.tasks(TaskList.BORROWING_REQUESTS, limit=0)) == []
        for limit, offset in ((-1, 0), (10, -1)):

            def negative(limit: int = limit, offset: int = offset) -> None:
                with store.transaction() as unit:
                    unit.tasks(TaskList.BORROWING_REQUESTS, limit=limit, offset=offset)

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
            unit.save(noted, _index(noted, task_list=requests), expected_version=1)
            unit.append_history([_entry(first, 1, "created", minutes=5, from_state="created")])
        with store.transaction() as unit:
            assert [t.request_id for t in unit.tasks(requests)] == ["b-1", "b-2"]
        # A state change (with its history entry) moves it to the time of that step.
        moved = attrs.evolve(first, state=BorrowingState.PENDING_REVIEW)
        with store.transaction() as unit:
            unit.save(
                moved, _index(moved, task_list=requests, state="pending_review"), expected_version=2
            )
            unit.append_history([_entry(first, 2, "pending_review", minutes=7)])
        with store.transaction() as unit:
            tasks = unit.tasks(requests)
            assert [t.request_id for t in tasks] == ["b-2", "b-1"]
            assert tasks[1].updated_at == T0 + 7 * MINUTE
            assert tasks[1].state == "pending_review"
        # Leaving the list removes it.
        done = attrs.evolve(moved, state=BorrowingState.LOCATING)
        with store.transaction() as unit:
            unit.save(done, _index(done), expected_version=3)
        with store.transaction() as unit:
            assert [t.request_id for t in unit.tasks(requests)] == ["b-2"]

    # -- outbox --------------------------------------------------------------------------

    def test_outbox_keeps_messages_equal_and_in_creation_order(self) -> None:
        """Outbox keeps messages equal and in creation order."""
        store = self.make_store()
        messages = [
            _message("m-2", minutes=2),
            _message("m-1", minutes=1),
            _message("m-3", minutes=1),
        ]
        with store.transaction() as unit:
            unit.enqueue(messages[:2])
        with store.transaction() as unit:
            unit.enqueue(messages[2:])
        with store.transaction() as unit:
            assert list(unit.outbox()) == [messages[1], messages[2], messages[0]]
            assert list(unit.outbox(OutboxStatus.PENDING)) == [
                messages[1],
                messages[2],
                messages[0],
            ]
            assert list(unit.outbox(OutboxStatus.SENT)) == []

    def test_enqueueing_a_message_id_twice_is_refused(self) -> None:
        """Enqueueing a message id twice is refused."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.enqueue([_message("m-1")])

        def again() -> None:
            with store.transaction() as unit:
                unit.enqueue([_message("m-1", minutes=3)])

        self._raises(InvalidInput, again)
        with store.transaction() as unit:
            assert [m.created_at for m in unit.outbox()] == [T0]

    def test_claim_takes_due_messages_in_order_up_to_the_limit(self) -> None:
        """Claim takes due messages in order up to the limit."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.enqueue([_message(f"m-{n}", minutes=n) for n in (3, 1, 2, 10)])
        with store.transaction() as unit:
            claimed = unit.claim(T0 + 5 * MINUTE, 2, MINUTE)
            assert [m.id for m in claimed] == ["m-1", "m-2"]
            assert claimed[0] == _message("m-1", minutes=1)
        with store.transaction() as unit:
            assert [m.id for m in unit.claim(T0 + 5 * MINUTE, 10, MINUTE)] == ["m-3"]
        with store.transaction() as unit:
            assert list(unit.claim(T0 + 5 * MINUTE, 10, MINUTE)) == []

    def test_a_claimed_message_is_leased_until_the_lease_ends(self) -> None:
        """A claimed message is leased until the lease ends."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.enqueue([_message("m-1")])
        lease = timedelta(minutes=5)
        with store.transaction() as unit:
            assert [m.id for m in unit.claim(T0, 10, lease)] == ["m-1"]
        with store.transaction() as unit:
            assert list(unit.claim(T0, 10, lease)) == []
            assert list(unit.claim(T0 + 4 * MINUTE, 10, lease)) == []
        # The dispatcher died without marking it: another takes it once the lease ends.
        with store.transaction() as unit:
            assert [m.id for m in unit.claim(T0 + 5 * MINUTE, 10, lease)] == ["m-1"]
        with store.transaction() as unit:
            assert list(unit.claim(T0 + 6 * MINUTE, 10, lease)) == []

    def test_a_sent_message_is_never_claimed_again(self) -> None:
        """A sent message is never claimed again."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.enqueue([_message("m-1"), _message("m-2")])
        with store.transaction() as unit:
            claimed = unit.claim(T0, 1, MINUTE)
            unit.mark_sent(claimed[0].id, T0 + MINUTE)
        with store.transaction() as unit:
            sent = unit.outbox(OutboxStatus.SENT)
            assert [(m.id, m.attempts, m.status) for m in sent] == [("m-1", 1, OutboxStatus.SENT)]
            assert [m.id for m in unit.outbox(OutboxStatus.PENDING)] == ["m-2"]
            assert [m.id for m in unit.claim(T0 + 60 * MINUTE, 10, MINUTE)] == ["m-2"]

    def test_a_failed_attempt_is_retried_at_its_time(self) -> None:
        """A failed attempt is retried at its time."""
        store = self.make_store()
        with store.transaction() as unit:
            unit.enqueue([_message("m-1")])
        with store.transaction() as unit:
            unit.claim(T0, 1, MINUTE)
            unit.mark_failed("m-1", "connection refused", T0 + 10 * MINUTE, 1)
        with store.transaction() as unit:
            (pending,) = unit.outbox(OutboxStatus.PENDING)
            assert pending.attempts == 1
            assert pending.last_error == "connection refused"
            assert pending.next_attempt_at == T0 + 10 * MINUTE
            assert list(unit.claim(T0 + 9 * MINUTE, 10, MINUTE)) == []
        with store.transaction() as unit:
            assert [m.id for m in unit.claim(T0 + 10 * MINUTE, 10, MINUTE)] == ["m-1"]
            unit.mark_failed("m-1", "refused again", None, 2)
        with store.transaction() as unit:
            (failed,) = unit.outbox(OutboxStatus.FAILED)
            assert (failed.attempts, failed.last_error) == (2, "refused again")
            assert list(unit.outbox(OutboxStatus.PENDING)) == []
            assert list(unit.claim(T0 + 1000 * MINUTE, 10, MINUTE)) == []

    def test_marking_an_unknown_message_is_refused(self) -> None:
        """Marking an unknown message is refused."""
        store = self.make_store()

        def sent() -> None:
            with store.transaction() as unit:
                unit.mark_sent("nope", T0)

        def failed() -> None:
            with store.transaction() as unit:
                unit.mark_failed("nope", "x", None, 1)

        self._raises(InvalidInput, sent)
        self._raises(InvalidInput, failed)

    # -- idempotency ---------------------------------------------------------------------

    def test_a_processed_message_is_remembered_once(self) -> None:
        """A processed message is remembered once."""
        store = self.make_store()
        with store.transaction() as unit:
            assert unit.processed("peer-1") is None
            unit.remember("peer-1", _confirmation())
        with store.transaction() as unit:
            assert unit.processed("peer-1") == _confirmation()
            assert unit.processed("peer-2") is None

        def again() -> None:
            with store.transaction() as unit:
                unit.remember("peer-1", _confirmation(minutes=1))

        self._raises(ConcurrencyConflict, again)
        with store.transaction() as unit:
            assert unit.processed("peer-1") == _confirmation()

    # -- restart -------------------------------------------------------------------------

    def test_everything_committed_survives_a_restart(self) -> None:
        """Everything committed survives a restart."""
        store = self.make_store()
        record = _borrowing("b-1")
        entry = _entry(record, 1, "pending_review", minutes=1)
        with store.transaction() as unit:
            unit.save(
                record,
                _index(record, task_list=TaskList.BORROWING_REQUESTS, protocol_ids=("b-1-1",)),
                expected_version=0,
            )
            unit.append_history([entry])
            unit.enqueue([_message("m-1"), _message("m-2")])
            unit.remember("peer-1", _confirmation())
        with store.transaction() as unit:
            unit.claim(T0, 1, timedelta(hours=1))
        reopened = self.reopen(store)
        if reopened is None:
            return
        with reopened.transaction() as unit:
            assert unit.get(Side.BORROWING, "b-1") == attrs.evolve(record, version=1)
            assert list(unit.history(Side.BORROWING, "b-1")) == [entry]
            assert unit.find(Side.BORROWING, "b-1-1", LENDER) == "b-1"
            assert [t.request_id for t in unit.tasks(TaskList.BORROWING_REQUESTS)] == ["b-1"]
            assert unit.processed("peer-1") == _confirmation()
            # The lease survives too: only the unclaimed message is offered.
            assert [m.id for m in unit.claim(T0, 10, MINUTE)] == ["m-2"]

        def remember_again() -> None:
            with reopened.transaction() as unit:
                unit.remember("peer-1", _confirmation())

        self._raises(ConcurrencyConflict, remember_again)

    def test_lending_records_survive_a_restart_equal(self) -> None:
        """Lending records survive a restart equal."""
        store = self.make_store()
        record = attrs.evolve(_lending("l-1"), state=LendingState.WILL_SUPPLY, note="n")
        self._insert(store, record)
        reopened = self.reopen(store) or store
        with reopened.transaction() as unit:
            assert unit.get(Side.LENDING, "l-1") == attrs.evolve(record, version=1)
