"""An in-memory request store: the reference implementation of the storage port.

Each unit of work writes to a staging area that is applied to the shared state only when
the block ends without an exception, so a unit of work is all or nothing here too. It
keeps everything in plain dicts and is meant for tests, examples and simulations; it
passes the same contract suite as the durable stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import final

import attrs

from resource_sharing.effects import TaskList
from resource_sharing.errors import ConcurrencyConflict, InvalidInput
from resource_sharing.lifecycle import evolve
from resource_sharing.messages import Confirmation
from resource_sharing.ports import (
    AnyRequest,
    OutboxMessage,
    OutboxStatus,
    RequestIndex,
    Task,
)
from resource_sharing.records import AgencyId, BorrowingRequest, HistoryEntry, LendingRequest, Side

__all__ = ["MemoryStore"]

_Key = tuple[Side, str]


@attrs.define
class _Row:
    record: AnyRequest
    index: RequestIndex
    updated_at: datetime


@attrs.define
class _State:
    rows: dict[_Key, _Row] = attrs.field(factory=dict)
    by_protocol_id: dict[tuple[Side, str], set[_Key]] = attrs.field(factory=dict)
    by_barcode: dict[str, set[_Key]] = attrs.field(factory=dict)
    by_patron: dict[str, set[_Key]] = attrs.field(factory=dict)
    by_task_list: dict[TaskList, set[_Key]] = attrs.field(factory=dict)
    deadlines: dict[_Key, datetime] = attrs.field(factory=dict)
    pending: dict[str, OutboxMessage] = attrs.field(factory=dict)
    history: dict[_Key, list[HistoryEntry]] = attrs.field(factory=dict)
    outbox: dict[str, OutboxMessage] = attrs.field(factory=dict)
    leases: dict[str, datetime] = attrs.field(factory=dict)
    processed: dict[str, Confirmation] = attrs.field(factory=dict)

    def put(self, key: _Key, row: _Row) -> None:
        """Store a row and keep the look-up indexes in step with it."""
        old = self.rows.get(key)
        if old is not None:
            for protocol_id in old.index.protocol_ids:
                self.by_protocol_id.get((key[0], protocol_id), set()).discard(key)
            for barcode in old.index.barcodes:
                self.by_barcode.get(barcode, set()).discard(key)
            if old.index.patron_id is not None:
                self.by_patron.get(old.index.patron_id, set()).discard(key)
            if old.index.task_list is not None:
                self.by_task_list.get(old.index.task_list, set()).discard(key)
        self.rows[key] = row
        for protocol_id in row.index.protocol_ids:
            self.by_protocol_id.setdefault((key[0], protocol_id), set()).add(key)
        for barcode in row.index.barcodes:
            self.by_barcode.setdefault(barcode, set()).add(key)
        if row.index.patron_id is not None:
            self.by_patron.setdefault(row.index.patron_id, set()).add(key)
        if row.index.task_list is not None:
            self.by_task_list.setdefault(row.index.task_list, set()).add(key)
        if row.index.next_deadline is None:
            self.deadlines.pop(key, None)
        else:
            self.deadlines[key] = row.index.next_deadline

    def post(self, message: OutboxMessage) -> None:
        """Store an outbox message and keep the pending index (and leases) in step."""
        self.outbox[message.id] = message
        if message.status is OutboxStatus.PENDING:
            self.pending[message.id] = message
        else:
            self.pending.pop(message.id, None)
            self.leases.pop(message.id, None)


@final
class MemoryStore:
    """A request store in memory (see :class:`~resource_sharing.ports.RequestStore`)."""

    def __init__(self) -> None:
        self._state = _State()
        self.commits = 0
        """Units of work committed so far (observable in tests)."""

    def transaction(self) -> _Transaction:
        """A unit of work, applied only if the block completes."""
        return _Transaction(self)


@final
class _Transaction:
    """The context manager of one unit of work (a class: cheaper than a generator)."""

    __slots__ = ("_store", "_unit")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._unit = _MemoryUnit(store._state)

    def __enter__(self) -> _MemoryUnit:
        return self._unit

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self._unit.apply()
            self._store.commits += 1


class _MemoryUnit:
    """Reads see the committed state plus this unit's own writes."""

    def __init__(self, state: _State) -> None:
        self._state = state
        self._rows: dict[_Key, _Row] = {}
        self._history: dict[_Key, list[HistoryEntry]] = {}
        self._outbox: dict[str, OutboxMessage] = {}
        self._leases: dict[str, datetime] = {}
        self._processed: dict[str, Confirmation] = {}
        self._base: dict[_Key, int] = {}

    def apply(self) -> None:
        state = self._state
        for key, expected in self._base.items():
            committed = state.rows.get(key)
            actual = committed.record.version if committed else 0
            if actual != expected:
                raise ConcurrencyConflict(key[1], expected, actual)
        for message_key in self._processed:
            if message_key in state.processed:
                raise ConcurrencyConflict(message_key, 0, 1)
        for key, row in self._rows.items():
            state.put(key, row)
        for key, entries in self._history.items():
            state.history.setdefault(key, []).extend(entries)
        state.leases.update(self._leases)
        for message in self._outbox.values():
            state.post(message)
        state.processed.update(self._processed)

    # -- requests ------------------------------------------------------------------------

    def _row(self, key: _Key) -> _Row | None:
        return self._rows.get(key) or self._state.rows.get(key)

    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        row = self._row((side, request_id))
        return row.record if row else None

    def _candidates(self, committed: set[_Key] | None, match: Callable[[_Key], bool]) -> list[_Key]:
        """Keys from a committed index plus staged rows, re-checked against ``match``."""
        keys = set(committed or ())
        keys.update(self._rows)
        return sorted(key for key in keys if match(key))

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        def match(key: _Key) -> bool:
            row = self._row(key)
            if row is None or key[0] is not side or protocol_id not in row.index.protocol_ids:
                return False
            record = row.record
            return side is Side.BORROWING or (
                isinstance(record, LendingRequest) and record.requester == counterpart
            )

        hits = self._candidates(self._state.by_protocol_id.get((side, protocol_id)), match)
        return hits[0][1] if hits else None

    def find_by_barcode(self, barcode: str) -> Sequence[tuple[Side, str]]:
        def match(key: _Key) -> bool:
            row = self._row(key)
            return row is not None and barcode in row.index.barcodes and not row.index.terminal

        return self._candidates(self._state.by_barcode.get(barcode), match)

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        if record.id == "" or index.side is not _side_of(record):
            raise InvalidInput("record", "a stored request needs an id and its own side")
        key = (index.side, record.id)
        current = self._row(key)
        actual = current.record.version if current else 0
        if actual != expected_version:
            raise ConcurrencyConflict(record.id, expected_version, actual)
        if key not in self._base:
            committed = self._state.rows.get(key)
            self._base[key] = committed.record.version if committed else 0
        stored: AnyRequest = evolve(record, {"version": expected_version + 1})
        updated = stored.created_at
        if current is not None:
            updated = current.updated_at
            if current.index.task_list is not index.task_list or current.index.state != index.state:
                updated = _latest(self._history.get(key), self._state.history.get(key), updated)
        self._rows[key] = _Row(stored, index, updated)
        return stored.version

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        for entry in entries:
            self._history.setdefault((entry.side, entry.request_id), []).append(entry)
            row = self._rows.get((entry.side, entry.request_id))
            if row is not None and entry.from_state != entry.to_state:
                row.updated_at = entry.at

    def history(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        key = (side, request_id)
        return (*self._state.history.get(key, ()), *self._history.get(key, ()))

    def tasks(
        self,
        task_list: TaskList,
        *,
        desk: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Task]:
        if limit < 0 or offset < 0:
            raise InvalidInput("limit/offset", "must not be negative")

        def listed(key: _Key) -> bool:
            row = self._row(key)
            return row is not None and row.index.task_list is task_list

        keys = self._candidates(self._state.by_task_list.get(task_list), listed)
        rows = [(key, row) for key in keys if (row := self._row(key)) is not None]
        found = [
            Task(
                task_list,
                key[0],
                key[1],
                row.index.state,
                row.index.instruction,
                row.index.desk,
                row.updated_at,
            )
            for key, row in rows
            if (desk is None or row.index.desk == desk)
            and (state is None or row.index.state == state)
        ]
        found.sort(key=lambda task: (task.updated_at, task.request_id))
        return found[offset : offset + limit]

    def open_requests_of_patron(self, patron_id: str) -> Sequence[BorrowingRequest]:
        def match(key: _Key) -> bool:
            row = self._row(key)
            return (
                row is not None
                and key[0] is Side.BORROWING
                and row.index.patron_id == patron_id
                and not row.index.terminal
            )

        keys = self._candidates(self._state.by_patron.get(patron_id), match)
        found = [self._row(key) for key in keys]
        return [row.record for row in found if row and isinstance(row.record, BorrowingRequest)]

    def due(self, now: datetime, limit: int = 100) -> Sequence[tuple[Side, str]]:
        found = [
            (at, key)
            for key, at in self._state.deadlines.items()
            if at <= now and key not in self._rows
        ]
        for key, row in self._rows.items():
            at = row.index.next_deadline
            if at is not None and at <= now:
                found.append((at, key))
        found.sort()
        return [key for _, key in found[:limit]]

    # -- outbox --------------------------------------------------------------------------

    def _message(self, message_id: str) -> OutboxMessage | None:
        staged = self._outbox.get(message_id)
        return staged if staged is not None else self._state.outbox.get(message_id)

    def _messages(self) -> dict[str, OutboxMessage]:
        return {**self._state.outbox, **self._outbox}

    def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            if self._message(message.id) is not None:
                raise InvalidInput("outbox id", f"{message.id!r} is already queued")
            self._outbox[message.id] = message

    def _pending(self) -> list[OutboxMessage]:
        staged = self._outbox
        found = [m for i, m in self._state.pending.items() if i not in staged]
        found.extend(m for m in staged.values() if m.status is OutboxStatus.PENDING)
        return found

    def _lease(self, message_id: str) -> datetime | None:
        staged = self._leases.get(message_id)
        return staged if staged is not None else self._state.leases.get(message_id)

    def claim(self, now: datetime, limit: int, lease: timedelta) -> Sequence[OutboxMessage]:
        ready = sorted(
            (m for m in self._pending() if m.next_attempt_at <= now),
            key=lambda m: (m.next_attempt_at, m.created_at, m.id),
        )
        claimed: list[OutboxMessage] = []
        for message in ready:
            if len(claimed) >= limit:
                break
            held = self._lease(message.id)
            if held is not None and held > now:
                continue
            self._leases[message.id] = now + lease
            claimed.append(message)
        return claimed

    def _update(self, message_id: str, **changes: object) -> None:
        message = self._message(message_id)
        if message is None:
            raise InvalidInput("outbox id", f"no message {message_id!r}")
        self._outbox[message_id] = attrs.evolve(message, **changes)  # type: ignore[arg-type]

    def mark_sent(self, message_id: str, at: datetime) -> None:
        self._update(message_id, status=OutboxStatus.SENT, attempts=self._attempts(message_id) + 1)

    def mark_failed(
        self, message_id: str, error: str, retry_at: datetime | None, attempts: int
    ) -> None:
        if retry_at is None:
            self._update(
                message_id, status=OutboxStatus.FAILED, last_error=error, attempts=attempts
            )
        else:
            self._update(message_id, last_error=error, attempts=attempts, next_attempt_at=retry_at)
            self._leases[message_id] = retry_at

    def _attempts(self, message_id: str) -> int:
        message = self._message(message_id)
        if message is None:
            raise InvalidInput("outbox id", f"no message {message_id!r}")
        return message.attempts

    def outbox(self, status: OutboxStatus | None = None) -> Sequence[OutboxMessage]:
        if status is OutboxStatus.PENDING:
            chosen: list[OutboxMessage] = self._pending()
        else:
            chosen = [m for m in self._messages().values() if status is None or m.status is status]
        return sorted(chosen, key=lambda m: (m.created_at, m.id))

    # -- idempotency ---------------------------------------------------------------------

    def processed(self, key: str) -> Confirmation | None:
        return self._processed.get(key) or self._state.processed.get(key)

    def remember(self, key: str, confirmation: Confirmation) -> None:
        if self.processed(key) is not None:
            raise ConcurrencyConflict(key, 0, 1)
        self._processed[key] = confirmation


def _side_of(record: AnyRequest) -> Side:
    return Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING


def _latest(
    staged: list[HistoryEntry] | None, committed: list[HistoryEntry] | None, default: datetime
) -> datetime:
    for entries in (staged, committed):
        if entries:
            return entries[-1].at
    return default
