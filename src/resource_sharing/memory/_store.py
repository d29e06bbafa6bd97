"""An in-memory request store: the reference implementation of the storage port.

Each unit of work writes to a staging area that is applied to the shared state only when
the block ends without an exception, so a unit of work is all or nothing here too. At
commit it checks that nothing it read to decide has changed since (a request's version,
an outbox entry or a task it rewrote, a processed message identity): the loser of two
interleaved units gets :class:`~resource_sharing.errors.ConcurrencyConflict`. It keeps
everything in plain dicts, with the look-up indexes the queries need (protocol ids,
barcodes, patrons, task lists, deadlines, the pending outbox entries of each port by
stream), and passes the same contract suites as the durable stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import final

import attrs

from resource_sharing.effects import TaskList
from resource_sharing.errors import ConcurrencyConflict, InvalidInput, LeaseLost, NotFound
from resource_sharing.lifecycle import evolve
from resource_sharing.messages import Confirmation
from resource_sharing.ports import (
    AnyRequest,
    OutboxEntry,
    OutboxStatus,
    Port,
    ReceivedMessage,
    RequestIndex,
    RequestKey,
    StaffTask,
    Task,
    TaskResolution,
)
from resource_sharing.records import AgencyId, BorrowingRequest, HistoryEntry, LendingRequest, Side

__all__ = ["MemoryStore"]

_Key = RequestKey
_PENDING = OutboxStatus.PENDING
_PORTS = tuple(Port)


@attrs.define
class _Row:
    record: AnyRequest
    index: RequestIndex
    updated_at: datetime


@attrs.frozen
class _Job:
    next_run_at: datetime
    owner: str


@attrs.define
class _State:
    rows: dict[_Key, _Row] = attrs.field(factory=dict)
    by_protocol_id: dict[tuple[Side, str], set[_Key]] = attrs.field(factory=dict)
    by_barcode: dict[str, set[_Key]] = attrs.field(factory=dict)
    by_patron: dict[str, set[_Key]] = attrs.field(factory=dict)
    by_task_list: dict[TaskList, set[_Key]] = attrs.field(factory=dict)
    deadlines: dict[_Key, datetime] = attrs.field(factory=dict)
    history: dict[_Key, list[HistoryEntry]] = attrs.field(factory=dict)
    outbox: dict[str, OutboxEntry] = attrs.field(factory=dict)
    # port -> stream -> the ids of its pending entries, oldest first
    pending: dict[Port, dict[str, list[str]]] = attrs.field(factory=dict)
    claimed: dict[str, set[str]] = attrs.field(factory=dict)  # owner -> entry ids
    processed: dict[str, Confirmation] = attrs.field(factory=dict)
    names: dict[str, str] = attrs.field(factory=dict)  # message name -> its key
    received: dict[_Key, list[ReceivedMessage]] = attrs.field(factory=dict)
    tasks: dict[str, StaffTask] = attrs.field(factory=dict)
    tasks_of: dict[_Key, list[str]] = attrs.field(factory=dict)
    jobs: dict[str, _Job] = attrs.field(factory=dict)

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
        if not row.index.terminal:  # scans and patron limits look at open requests only
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

    def post(self, entry: OutboxEntry) -> None:
        """Store an outbox entry; keep the pending streams and the claims in step."""
        old = self.outbox.get(entry.id)
        self.outbox[entry.id] = entry
        streams = self.pending.setdefault(entry.port, {})
        was_pending = old is not None and old.status is _PENDING
        if entry.status is _PENDING and not was_pending:
            queue = streams.setdefault(entry.stream, [])
            queue.append(entry.id)
            if len(queue) > 1 and _order(self.outbox[queue[-2]]) > _order(entry):
                queue.sort(key=lambda i: _order(self.outbox[i]))
        elif entry.status is not _PENDING and was_pending:
            queue = streams.get(entry.stream, [])
            if entry.id in queue:
                queue.remove(entry.id)
            if not queue:
                streams.pop(entry.stream, None)
        if old is not None and old.claimed_by is not None:
            self.claimed.get(old.claimed_by, set()).discard(entry.id)
        if entry.claimed_by is not None:
            self.claimed.setdefault(entry.claimed_by, set()).add(entry.id)

    def keep_task(self, task: StaffTask) -> None:
        """Store a staff task and index it by request."""
        if task.id not in self.tasks:
            self.tasks_of.setdefault((task.side, task.request_id), []).append(task.id)
        self.tasks[task.id] = task


def _order(entry: OutboxEntry) -> tuple[datetime, str]:
    return (entry.created_at, entry.id)


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

    def sibling(self) -> MemoryStore:
        """Another store on the same data, as a second process (or a restarted one) sees it."""
        other = MemoryStore()
        other._state = self._state
        return other


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
    """The unit of work: its repositories share one staging area."""

    __slots__ = (
        "_base_entries",
        "_base_jobs",
        "_base_rows",
        "_base_tasks",
        "_history",
        "_jobs",
        "_names",
        "_outbox",
        "_processed",
        "_received",
        "_rows",
        "_state",
        "_tasks",
        "history",
        "inbox",
        "outbox",
        "patrons",
        "requests",
        "sweep",
        "tasks",
        "timers",
    )

    def __init__(self, state: _State) -> None:
        self._state = state
        self._rows: dict[_Key, _Row] = {}
        self._base_rows: dict[_Key, int] = {}
        self._history: dict[_Key, list[HistoryEntry]] = {}
        self._outbox: dict[str, OutboxEntry] = {}
        self._base_entries: dict[str, OutboxEntry | None] = {}
        self._processed: dict[str, Confirmation] = {}
        self._names: dict[str, str] = {}
        self._received: list[ReceivedMessage] = []
        self._tasks: dict[str, StaffTask] = {}
        self._base_tasks: dict[str, StaffTask | None] = {}
        self._jobs: dict[str, _Job] = {}
        self._base_jobs: dict[str, _Job | None] = {}
        self.requests = _Requests(self)
        """Stored requests."""
        self.history = _History(self)
        """Their histories."""
        self.outbox = _Outbox(self)
        """The outbox."""
        self.inbox = _Inbox(self)
        """Processed peer messages."""
        self.tasks = _Tasks(self)
        """Task lists and staff tasks."""
        self.patrons = _Patrons(self)
        """Patron queries."""
        self.timers = _Timers(self)
        """Due timers."""
        self.sweep = _Sweep(self)
        """The sweep's run claims and idle requests."""

    def apply(self) -> None:
        """Commit: check what this unit's writes were based on, then apply them."""
        state = self._state
        for key, expected in self._base_rows.items():
            committed = state.rows.get(key)
            actual = committed.record.version if committed else 0
            if actual != expected:
                raise ConcurrencyConflict(key[1], expected, actual)
        for entry_id, seen in self._base_entries.items():
            if state.outbox.get(entry_id) is not seen:
                raise ConcurrencyConflict(entry_id, 0, 1)
        for task_id, seen_task in self._base_tasks.items():
            if state.tasks.get(task_id) is not seen_task:
                raise ConcurrencyConflict(task_id, 0, 1)
        for message_key in self._processed:
            if message_key in state.processed:
                raise ConcurrencyConflict(message_key, 0, 1)
        for job, seen_job in self._base_jobs.items():
            if state.jobs.get(job) is not seen_job:
                raise ConcurrencyConflict(job, 0, 1)
        for key, row in self._rows.items():
            state.put(key, row)
        for key, entries in self._history.items():
            state.history.setdefault(key, []).extend(entries)
        for entry in self._outbox.values():
            state.post(entry)
        state.processed.update(self._processed)
        for name, message_key in self._names.items():
            state.names.setdefault(name, message_key)
        for message in self._received:
            state.received.setdefault((message.side, message.request_id), []).append(message)
        for task in self._tasks.values():
            state.keep_task(task)
        state.jobs.update(self._jobs)

    # -- shared reads ------------------------------------------------------------------

    def row(self, key: _Key) -> _Row | None:
        """A request's row as this unit sees it."""
        return self._rows.get(key) or self._state.rows.get(key)

    def candidates(self, committed: set[_Key] | None, match: Callable[[_Key], bool]) -> list[_Key]:
        """Keys from a committed index plus staged rows, re-checked against ``match``."""
        keys = set(committed or ())
        keys.update(self._rows)
        return sorted(key for key in keys if match(key))

    def entry(self, entry_id: str) -> OutboxEntry | None:
        """An outbox entry as this unit sees it."""
        staged = self._outbox.get(entry_id)
        return staged if staged is not None else self._state.outbox.get(entry_id)

    def stage_entry(self, entry: OutboxEntry) -> None:
        """Write an outbox entry in this unit, remembering what it replaced."""
        if entry.id not in self._base_entries and entry.id not in self._outbox:
            self._base_entries[entry.id] = self._state.outbox.get(entry.id)
        self._outbox[entry.id] = entry

    def task(self, task_id: str) -> StaffTask | None:
        """A staff task as this unit sees it."""
        staged = self._tasks.get(task_id)
        return staged if staged is not None else self._state.tasks.get(task_id)

    def stage_task(self, task: StaffTask) -> None:
        """Write a staff task in this unit, remembering what it replaced."""
        if task.id not in self._base_tasks and task.id not in self._tasks:
            self._base_tasks[task.id] = self._state.tasks.get(task.id)
        self._tasks[task.id] = task


class _Requests:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        row = self._u.row((side, request_id))
        return row.record if row else None

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        u = self._u

        def match(key: _Key) -> bool:
            row = u.row(key)
            if row is None or key[0] is not side or protocol_id not in row.index.protocol_ids:
                return False
            record = row.record
            return side is Side.BORROWING or (
                isinstance(record, LendingRequest) and record.requester == counterpart
            )

        hits = u.candidates(u._state.by_protocol_id.get((side, protocol_id)), match)
        return hits[0][1] if hits else None

    def find_by_barcode(self, barcode: str) -> Sequence[_Key]:
        u = self._u

        def match(key: _Key) -> bool:
            row = u.row(key)
            return row is not None and barcode in row.index.barcodes and not row.index.terminal

        return u.candidates(u._state.by_barcode.get(barcode), match)

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        u = self._u
        if record.id == "" or index.side is not _side_of(record):
            raise InvalidInput("record", "a stored request needs an id and its own side")
        key = (index.side, record.id)
        current = u.row(key)
        actual = current.record.version if current else 0
        if actual != expected_version:
            raise ConcurrencyConflict(record.id, expected_version, actual)
        if key not in u._base_rows:
            committed = u._state.rows.get(key)
            u._base_rows[key] = committed.record.version if committed else 0
        stored: AnyRequest = evolve(record, {"version": expected_version + 1})
        updated = stored.created_at
        if current is not None:
            updated = current.updated_at
            if current.index.task_list is not index.task_list or current.index.state != index.state:
                updated = _latest(u._history.get(key), u._state.history.get(key), updated)
        u._rows[key] = _Row(stored, index, updated)
        return stored.version


class _History:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def append(self, entries: Sequence[HistoryEntry]) -> None:
        u = self._u
        for entry in entries:
            key = (entry.side, entry.request_id)
            u._history.setdefault(key, []).append(entry)
            row = u._rows.get(key)
            if row is not None and entry.from_state != entry.to_state:
                row.updated_at = entry.at

    def of(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        key = (side, request_id)
        u = self._u
        return (*u._state.history.get(key, ()), *u._history.get(key, ()))

    def count(self, side: Side, request_id: str) -> int:
        key = (side, request_id)
        u = self._u
        return len(u._state.history.get(key, ())) + len(u._history.get(key, ()))


class _Outbox:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def enqueue(self, entries: Sequence[OutboxEntry]) -> None:
        u = self._u
        for entry in entries:
            if u.entry(entry.id) is not None:
                raise InvalidInput("outbox id", f"{entry.id!r} is already queued")
            u._base_entries[entry.id] = None
            u._outbox[entry.id] = entry

    def _streams(self, port: Port, request: _Key | None) -> dict[str, list[OutboxEntry]]:
        """The pending entries of a port as this unit sees them, by stream, oldest first."""
        u = self._u
        staged = u._outbox
        streams: dict[str, list[OutboxEntry]] = {}
        for stream, ids in u._state.pending.get(port, {}).items():
            found = [
                e for i in ids if (e := staged.get(i) or u._state.outbox[i]).status is _PENDING
            ]
            if found:
                streams[stream] = found
        for entry in staged.values():
            if entry.port is port and entry.status is _PENDING:
                committed = u._state.outbox.get(entry.id)
                if committed is None or committed.status is not _PENDING:
                    streams.setdefault(entry.stream, []).append(entry)
        if request is not None:
            streams = {
                s: es for s, es in streams.items() if (es[0].side, es[0].request_id) == request
            }
        for entries in streams.values():
            entries.sort(key=_order)
        return streams

    def claim(
        self,
        port: Port | None,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        owner: str,
        request: _Key | None = None,
    ) -> Sequence[OutboxEntry]:
        if limit < 0:
            raise InvalidInput("limit", "must not be negative")
        u = self._u
        asked = (port,) if port is not None else _PORTS
        if not u._outbox and not any(u._state.pending.get(p) for p in asked):
            return []  # nothing waits (the common case of a quiet round)
        ready: list[OutboxEntry] = []
        for each in asked:
            for entries in self._streams(each, request).values():
                for entry in entries:
                    leased = entry.lease_until is not None and entry.lease_until > now
                    if entry.next_attempt_at > now or leased:
                        break
                    ready.append(entry)
        ready.sort(key=_order)
        until = now + lease
        claim = {"claimed_by": owner, "lease_until": until}
        claimed = [evolve(e, claim) for e in ready[:limit]]
        for entry in claimed:
            self._u.stage_entry(entry)
        return claimed

    def update(self, entry: OutboxEntry, *, owner: str | None = None) -> None:
        u = self._u
        stored = u.entry(entry.id)
        if stored is None:
            raise InvalidInput("outbox id", f"no entry {entry.id!r}")
        if owner is not None and stored.claimed_by != owner:
            raise LeaseLost(entry.id, owner, stored.claimed_by)
        u.stage_entry(
            evolve(
                stored,
                {
                    "status": entry.status,
                    "attempts": entry.attempts,
                    "next_attempt_at": entry.next_attempt_at,
                    "last_error": entry.last_error,
                    "finished_at": entry.finished_at,
                    "claimed_by": None,
                    "lease_until": None,
                },
            )
        )

    def release(self, owner: str) -> int:
        u = self._u
        ids = set(u._state.claimed.get(owner, ()))
        ids.update(i for i, e in u._outbox.items() if e.claimed_by == owner)
        released = 0
        for entry_id in sorted(ids):
            entry = u.entry(entry_id)
            if entry is not None and entry.claimed_by == owner:
                u.stage_entry(attrs.evolve(entry, claimed_by=None, lease_until=None))
                released += 1
        return released

    def get(self, entry_id: str) -> OutboxEntry | None:
        return self._u.entry(entry_id)

    def entries(
        self,
        *,
        status: OutboxStatus | None = None,
        port: Port | None = None,
        request: _Key | None = None,
    ) -> Sequence[OutboxEntry]:
        u = self._u
        found: Iterable[OutboxEntry]
        if status is _PENDING:
            ports = [port] if port is not None else list(Port)
            found = [e for p in ports for es in self._streams(p, request).values() for e in es]
        else:
            found = {**u._state.outbox, **u._outbox}.values()
        chosen = [
            e
            for e in found
            if (status is None or e.status is status)
            and (port is None or e.port is port)
            and (request is None or (e.side, e.request_id) == request)
        ]
        return sorted(chosen, key=_order)


class _Inbox:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def processed(self, key: str) -> Confirmation | None:
        return self._u._processed.get(key) or self._u._state.processed.get(key)

    def remember(self, key: str, confirmation: Confirmation, *, name: str | None = None) -> None:
        if self.processed(key) is not None:
            raise ConcurrencyConflict(key, 0, 1)
        self._u._processed[key] = confirmation
        if name is not None and self.named(name) is None:
            self._u._names[name] = key

    def named(self, name: str) -> str | None:
        return self._u._names.get(name) or self._u._state.names.get(name)

    def log(self, message: ReceivedMessage) -> None:
        self._u._received.append(message)

    def received(self, side: Side, request_id: str) -> Sequence[ReceivedMessage]:
        u = self._u
        staged = [m for m in u._received if (m.side, m.request_id) == (side, request_id)]
        return [*u._state.received.get((side, request_id), ()), *staged]


class _Tasks:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def listed(
        self,
        task_list: TaskList,
        *,
        desk: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Task]:
        _check_page(limit, offset)
        u = self._u

        def listed(key: _Key) -> bool:
            row = u.row(key)
            return row is not None and row.index.task_list is task_list

        keys = u.candidates(u._state.by_task_list.get(task_list), listed)
        rows = [(key, row) for key in keys if (row := u.row(key)) is not None]
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

    def add(self, task: StaffTask) -> None:
        if self._u.task(task.id) is not None:
            raise InvalidInput("task id", f"{task.id!r} is already stored")
        self._u.stage_task(task)

    def get(self, task_id: str) -> StaffTask | None:
        return self._u.task(task_id)

    def resolve(self, task_id: str, resolution: TaskResolution) -> None:
        task = self._u.task(task_id)
        if task is None:
            raise NotFound("task", task_id)
        if task.resolution is not None:
            raise ConcurrencyConflict(task_id, 0, 1)
        self._u.stage_task(attrs.evolve(task, resolution=resolution))

    def _all(self) -> list[StaffTask]:
        u = self._u
        return [*(t for i, t in u._state.tasks.items() if i not in u._tasks), *u._tasks.values()]

    def open(
        self,
        *,
        task_list: TaskList | None = None,
        desk: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[StaffTask]:
        _check_page(limit, offset)
        found = [
            t
            for t in self._all()
            if t.resolution is None
            and (task_list is None or t.task_list is task_list)
            and (desk is None or t.desk == desk)
        ]
        found.sort(key=lambda t: (t.created_at, t.id))
        return found[offset : offset + limit]

    def of_request(self, side: Side, request_id: str) -> Sequence[StaffTask]:
        u = self._u
        key = (side, request_id)
        ids = list(u._state.tasks_of.get(key, ()))
        ids += [i for i, t in u._tasks.items() if (t.side, t.request_id) == key and i not in ids]
        found = [t for i in ids if (t := u.task(i)) is not None]
        return sorted(found, key=lambda t: (t.created_at, t.id))


class _Patrons:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def open_requests(self, patron_id: str) -> Sequence[BorrowingRequest]:
        u = self._u

        def match(key: _Key) -> bool:
            row = u.row(key)
            return (
                row is not None
                and key[0] is Side.BORROWING
                and row.index.patron_id == patron_id
                and not row.index.terminal
            )

        keys = u.candidates(u._state.by_patron.get(patron_id), match)
        found = [u.row(key) for key in keys]
        return [row.record for row in found if row and isinstance(row.record, BorrowingRequest)]


class _Timers:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def due(self, now: datetime, limit: int = 100) -> Sequence[_Key]:
        u = self._u
        found = [
            (at, key) for key, at in u._state.deadlines.items() if at <= now and key not in u._rows
        ]
        for key, row in u._rows.items():
            at = row.index.next_deadline
            if at is not None and at <= now:
                found.append((at, key))
        found.sort()
        return [key for _, key in found[:limit]]


class _Sweep:
    __slots__ = ("_u",)

    def __init__(self, unit: _MemoryUnit) -> None:
        self._u = unit

    def claim(
        self, job: str, *, now: datetime, every: timedelta, owner: str, force: bool = False
    ) -> bool:
        u = self._u
        if job not in u._base_jobs and job not in u._jobs:
            u._base_jobs[job] = u._state.jobs.get(job)
        current = u._jobs.get(job) or u._state.jobs.get(job)
        if current is not None and current.next_run_at > now and not force:
            return False
        u._jobs[job] = _Job(now + every, owner)
        return True

    def idle(self, side: Side, *, before: datetime, limit: int = 1000) -> Sequence[_Key]:
        u = self._u
        keys = {key for key in u._state.rows if key[0] is side} | {
            key for key in u._rows if key[0] is side
        }
        found = []
        for key in keys:
            row = u.row(key)
            if row is not None and not row.index.terminal and row.updated_at <= before:
                found.append((row.updated_at, key[1], key))
        found.sort()
        return [key for _, _, key in found[:limit]]


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise InvalidInput("limit/offset", "must not be negative")


def _side_of(record: AnyRequest) -> Side:
    return Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING


def _latest(
    staged: list[HistoryEntry] | None, committed: list[HistoryEntry] | None, default: datetime
) -> datetime:
    for entries in (staged, committed):
        if entries:
            return entries[-1].at
    return default
