"""The unit of work both SQL stores share: one SQL text, two dialects.

Theory of operation. A unit of work is one database transaction. Requests are stored as
cattrs JSON documents with the queried fields of their
:class:`~resource_sharing.ports.RequestIndex` as columns (task lists, look-ups and timers
are indexed queries that never decode a record they do not return). Optimistic
concurrency is an ``UPDATE ... WHERE version = expected`` whose row count says who won,
or an ``INSERT ... ON CONFLICT DO NOTHING`` for a new request: the loser gets
:class:`~resource_sharing.errors.ConcurrencyConflict` and its transaction is rolled back
by the store. History is a separate, append-only table ordered by insertion. Outbox
entries (every effect that leaves the core) keep their document next to the columns the
dispatcher's claim query uses (port, stream, status, times); a claim writes its owner and
lease into columns, so a second dispatcher skips the entry until the lease ends or the
owner releases it, and an entry is claimed only with the earlier pending entries of its
stream. Stored staff tasks are documents with the columns their lists query.

The unit of work's repositories (:class:`~resource_sharing.ports.UnitOfWork`) are thin
views over :class:`SqlUnit`'s methods (:class:`_Repositories`).

Every history entry of a request saved in the unit is also a step of the change feed
(:mod:`resource_sharing_adapters.storage._feeds`): the unit collects them and
:meth:`SqlUnit.flush` writes them as the last thing before the store commits, numbered in
commit order (SQLite: AUTOINCREMENT under ``BEGIN IMMEDIATE``; PostgreSQL: a counter row
locked until the commit). Journal entries are written the same way, one per idempotency
key.

The statements are written once with ``?`` placeholders; the dialect subclasses say how
times and documents are passed and read back, how a claim locks its rows and how numbers
are handed out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, ClassVar, TypeVar

import attrs
import cattrs

from resource_sharing.effects import TaskList
from resource_sharing.errors import (
    ConcurrencyConflict,
    InfrastructureError,
    InvalidInput,
    LeaseLost,
    NotFound,
)
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
from resource_sharing.serialization import converter, dumps
from resource_sharing_adapters.storage._feeds import Change, JournalEntry, change_of

__all__ = ["SchemaTooNew", "SqlUnit", "StorageError", "StoreFeeds"]

T = TypeVar("T")


class StorageError(InfrastructureError):
    """The database failed in a way the store does not expect; the unit was not applied."""


class SchemaTooNew(StorageError):
    """The database was migrated by a newer version of the library; it is not opened."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"database schema version {found} is newer than this code supports ({supported}); "
            "upgrade resource-sharing"
        )
        self.found = found
        """The schema version in the database."""
        self.supported = supported
        """The newest schema version this code knows."""


def migrations(engine: str) -> list[tuple[int, str]]:
    """The shipped migrations of an engine, as (version, SQL text), oldest first."""
    folder = resources.files("resource_sharing_adapters.storage") / "migrations" / engine
    found = []
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


def _side_of(record: AnyRequest) -> Side:
    return Side.BORROWING if isinstance(record, BorrowingRequest) else Side.LENDING


_RECORD_TYPES: dict[str, type[BorrowingRequest] | type[LendingRequest]] = {
    Side.BORROWING.value: BorrowingRequest,
    Side.LENDING.value: LendingRequest,
}


class SqlUnit:
    """A unit of work over one open transaction (the store commits or rolls it back)."""

    placeholder: ClassVar[str] = "?"
    claim_lock: ClassVar[str] = ""
    doc_param: ClassVar[str] = "?"

    def __init__(self, cursor: Any) -> None:
        self._cur = cursor
        self._saved: dict[tuple[str, str], tuple[RequestIndex, int]] = {}
        self._changes: list[Change] = []
        self.requests = _Requests(self)
        """Stored requests."""
        self.history = _History(self)
        """Their histories."""
        self.outbox = _Outbox(self)
        """The outbox."""
        self.inbox = _Inbox(self)
        """Processed peer messages."""
        self.tasks = _Tasks(self)
        """Task lists and stored staff tasks."""
        self.patrons = _Patrons(self)
        """Patron queries."""
        self.timers = _Timers(self)
        """Due timers."""
        self.sweep = _Sweep(self)
        """The sweep's run claims and idle requests."""

    # -- dialect ---------------------------------------------------------------------------

    def _ts(self, value: datetime) -> Any:
        return value

    def _dt(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]

    def _load(self, value: Any, cls: type[T]) -> T:
        try:
            data = json.loads(value) if isinstance(value, str | bytes) else value
            return converter.structure(data, cls)
        except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
            raise StorageError(f"stored {cls.__name__} does not fit: {exc}") from exc

    def _sql(self, text: str) -> str:
        return text

    def _numbers(self, counter: str, count: int) -> int | None:
        """The first of ``count`` new numbers of ``counter``; None: the table numbers rows."""
        return None

    def _give_back(self, counter: str, count: int) -> None:
        """Return the last ``count`` numbers taken from ``counter`` (in this transaction)."""

    def _run(self, text: str, params: Sequence[Any] = ()) -> Any:
        self._cur.execute(self._sql(text), params)
        return self._cur

    def _all(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._run(text, params).fetchall()  # type: ignore[no-any-return]

    def _one(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self._run(text, params).fetchone()

    # -- requests --------------------------------------------------------------------------

    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        """The stored request, or None."""
        row = self._one(
            "SELECT document FROM rs_requests WHERE side = ? AND id = ?", (side.value, request_id)
        )
        if row is None:
            return None
        return self._load(row[0], _RECORD_TYPES[side.value])

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        """The id of the request a peer names by ``protocol_id`` (None if none)."""
        row = self._one(
            "SELECT request_id FROM rs_protocol_ids WHERE side = ? AND protocol_id = ?"
            " AND (agency IS NULL OR agency = ?) ORDER BY request_id LIMIT 1",
            (side.value, protocol_id, str(counterpart)),
        )
        return None if row is None else str(row[0])

    def find_by_barcode(self, barcode: str) -> Sequence[tuple[Side, str]]:
        """Open requests whose item has this barcode."""
        rows = self._all(
            "SELECT b.side, b.request_id FROM rs_barcodes b JOIN rs_requests r"
            " ON r.side = b.side AND r.id = b.request_id"
            " WHERE b.barcode = ? AND r.terminal = ? ORDER BY b.side, b.request_id",
            (barcode, False),
        )
        return [(Side(side), request_id) for side, request_id in rows]

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        """Insert (expected version 0) or update the request; returns the new version."""
        if record.id == "" or index.side is not _side_of(record):
            raise InvalidInput("record", "a stored request needs an id and its own side")
        side = index.side.value
        # a new request needs no look-up first: its INSERT fails on a twin (one round trip less)
        current = None
        if expected_version != 0:
            current = self._one(
                "SELECT version, state, task_list, updated_at, protocol_ids, barcodes"
                " FROM rs_requests WHERE side = ? AND id = ?",
                (side, record.id),
            )
            actual = 0 if current is None else int(current[0])
            if actual != expected_version:
                raise ConcurrencyConflict(record.id, expected_version, actual)
        version = expected_version + 1
        stored = attrs.evolve(record, version=version)
        protocol_ids = json.dumps(sorted(set(index.protocol_ids)))
        barcodes = json.dumps(sorted(set(index.barcodes)))
        task_list = None if index.task_list is None else index.task_list.value
        deadline = None if index.next_deadline is None else self._ts(index.next_deadline)
        counterpart = None if index.counterpart is None else str(index.counterpart)
        columns = (
            index.state,
            task_list,
            index.desk,
            index.instruction,
            index.needs_attention,
            index.terminal,
            index.patron_id,
            counterpart,
            protocol_ids,
            barcodes,
            deadline,
        )
        if current is None:
            updated: Any = self._ts(record.created_at)
            inserted = self._run(
                "INSERT INTO rs_requests (side, id, version, state, task_list, desk,"
                " instruction, needs_attention, terminal, patron_id, counterpart, protocol_ids,"
                " barcodes, next_deadline, updated_at, document) VALUES (?, ?, ?, ?, ?, ?, ?,"
                f" ?, ?, ?, ?, ?, ?, ?, ?, {self.doc_param}) ON CONFLICT DO NOTHING",
                (side, record.id, version, *columns, updated, dumps(stored)),
            ).rowcount
            if inserted != 1:
                raise ConcurrencyConflict(record.id, expected_version, self._version(side, record))
            old_ids, old_barcodes = "[]", "[]"
        else:
            updated = current[3]
            if current[1] != index.state or current[2] != task_list:
                last = self._one(
                    "SELECT at FROM rs_history WHERE side = ? AND request_id = ?"
                    " ORDER BY position DESC LIMIT 1",
                    (side, record.id),
                )
                if last is not None:
                    updated = last[0]
            changed = self._run(
                "UPDATE rs_requests SET version = ?, state = ?, task_list = ?, desk = ?,"
                " instruction = ?, needs_attention = ?, terminal = ?, patron_id = ?,"
                " counterpart = ?, protocol_ids = ?, barcodes = ?, next_deadline = ?,"
                f" updated_at = ?, document = {self.doc_param}"
                " WHERE side = ? AND id = ? AND version = ?",
                (version, *columns, updated, dumps(stored), side, record.id, expected_version),
            ).rowcount
            if changed != 1:
                raise ConcurrencyConflict(record.id, expected_version, self._version(side, record))
            old_ids, old_barcodes = current[4], current[5]
        if old_ids != protocol_ids:
            self._replace_protocol_ids(side, record, index, fresh=current is None)
        if old_barcodes != barcodes:
            if current is not None:
                self._run(
                    "DELETE FROM rs_barcodes WHERE side = ? AND request_id = ?", (side, record.id)
                )
            self._cur.executemany(
                self._sql("INSERT INTO rs_barcodes (barcode, side, request_id) VALUES (?, ?, ?)"),
                [(barcode, side, record.id) for barcode in sorted(set(index.barcodes))],
            )
        self._saved[(side, record.id)] = (index, version)
        return version

    def _replace_protocol_ids(
        self, side: str, record: AnyRequest, index: RequestIndex, *, fresh: bool = False
    ) -> None:
        agency = str(record.requester) if isinstance(record, LendingRequest) else None
        if not fresh:  # a request just inserted has none to delete
            self._run(
                "DELETE FROM rs_protocol_ids WHERE side = ? AND request_id = ?", (side, record.id)
            )
        self._cur.executemany(
            self._sql(
                "INSERT INTO rs_protocol_ids (side, protocol_id, request_id, agency)"
                " VALUES (?, ?, ?, ?)"
            ),
            [(side, pid, record.id, agency) for pid in sorted(set(index.protocol_ids))],
        )

    def _version(self, side: str, record: AnyRequest) -> int | None:
        row = self._one(
            "SELECT version FROM rs_requests WHERE side = ? AND id = ?", (side, record.id)
        )
        return None if row is None else int(row[0])

    def append_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Append history entries (never changed afterwards)."""
        for entry in entries:
            side = entry.side.value
            at = self._ts(entry.at)
            self._run(
                "INSERT INTO rs_history (side, request_id, sequence, at, document)"
                f" VALUES (?, ?, ?, ?, {self.doc_param})",
                (side, entry.request_id, entry.sequence, at, dumps(entry)),
            )
            saved = self._saved.get((side, entry.request_id))
            if saved is None:
                continue
            self._changes.append(change_of(entry, *saved))
            if entry.from_state != entry.to_state:
                self._run(
                    "UPDATE rs_requests SET updated_at = ? WHERE side = ? AND id = ?",
                    (at, side, entry.request_id),
                )

    def history_count(self, side: Side, request_id: str) -> int:
        """How many history entries a request has."""
        row = self._one(
            "SELECT count(*) FROM rs_history WHERE side = ? AND request_id = ?",
            (side.value, request_id),
        )
        return int(row[0])

    def history_of(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        """A request's history, in order."""
        rows = self._all(
            "SELECT document FROM rs_history WHERE side = ? AND request_id = ? ORDER BY position",
            (side.value, request_id),
        )
        return [self._load(row[0], HistoryEntry) for row in rows]

    def listed(
        self,
        task_list: TaskList,
        *,
        desk: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Task]:
        """A page of a task list, oldest first."""
        if limit < 0 or offset < 0:
            raise InvalidInput("limit/offset", "must not be negative")
        where = ["task_list = ?"]
        params: list[Any] = [task_list.value]
        if desk is not None:
            where.append("desk = ?")
            params.append(desk)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        rows = self._all(
            "SELECT side, id, state, instruction, desk, updated_at FROM rs_requests"
            f" WHERE {' AND '.join(where)} ORDER BY updated_at, id, side LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [
            Task(task_list, Side(row[0]), row[1], row[2], row[3], row[4], self._dt(row[5]))
            for row in rows
        ]

    def open_requests_of_patron(self, patron_id: str) -> Sequence[BorrowingRequest]:
        """The patron's borrowing requests that have not ended."""
        rows = self._all(
            "SELECT document FROM rs_requests WHERE patron_id = ? AND side = ? AND terminal = ?"
            " ORDER BY id",
            (patron_id, Side.BORROWING.value, False),
        )
        return [self._load(row[0], BorrowingRequest) for row in rows]

    def due(self, now: datetime, limit: int = 100) -> Sequence[tuple[Side, str]]:
        """Requests with a deadline at or before ``now``."""
        rows = self._all(
            "SELECT side, id FROM rs_requests WHERE next_deadline IS NOT NULL"
            " AND next_deadline <= ? ORDER BY next_deadline, side, id LIMIT ?",
            (self._ts(now), limit),
        )
        return [(Side(side), request_id) for side, request_id in rows]

    def claim_job(
        self, job: str, *, now: datetime, every: timedelta, owner: str, force: bool = False
    ) -> bool:
        """Take this period's run of ``job`` (one caller per period, see the port)."""
        due = self._ts(now + every)
        taken = self._one(
            "INSERT INTO rs_jobs (job, next_run_at, owner, claimed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (job) DO UPDATE SET next_run_at = excluded.next_run_at,"
            " owner = excluded.owner, claimed_at = excluded.claimed_at"
            " WHERE rs_jobs.next_run_at <= ? OR ? RETURNING job",
            (job, due, owner, self._ts(now), self._ts(now), force),
        )
        return taken is not None

    def idle(self, side: Side, *, before: datetime, limit: int = 1000) -> Sequence[RequestKey]:
        """Open requests of a side whose state has not changed since ``before``."""
        rows = self._all(
            "SELECT side, id FROM rs_requests WHERE side = ? AND terminal = ?"
            " AND updated_at <= ? ORDER BY updated_at, id LIMIT ?",
            (side.value, False, self._ts(before), limit),
        )
        return [(Side(row[0]), row[1]) for row in rows]

    # -- outbox ----------------------------------------------------------------------------

    def _lock_port(self, port: Port) -> None:
        """Serialise claims of one port until the transaction ends (SQLite: already so)."""

    def _entry(self, row: Sequence[Any]) -> OutboxEntry:
        """An entry from (claimed_by, lease_until, document): the claim lives in columns."""
        entry = self._load(row[2], OutboxEntry)
        lease = None if row[1] is None else self._dt(row[1])
        return attrs.evolve(entry, claimed_by=row[0], lease_until=lease)

    def enqueue(self, entries: Sequence[OutboxEntry]) -> None:
        """Add entries to the outbox (one statement for all of them)."""
        if not entries:
            return
        rows = [
            (
                entry.id,
                entry.side.value,
                entry.request_id,
                entry.port.value,
                entry.stream,
                entry.status.value,
                self._ts(entry.created_at),
                self._ts(entry.next_attempt_at),
                entry.claimed_by,
                None if entry.lease_until is None else self._ts(entry.lease_until),
                dumps(attrs.evolve(entry, claimed_by=None, lease_until=None)),
            )
            for entry in entries
        ]
        self._cur.executemany(
            self._sql(
                "INSERT INTO rs_effects (id, side, request_id, port, stream, status, created_at,"
                " next_attempt_at, claimed_by, lease_until, document) VALUES (?, ?, ?, ?, ?, ?,"
                f" ?, ?, ?, ?, {self.doc_param}) ON CONFLICT DO NOTHING"
            ),
            rows,
        )
        if self._cur.rowcount != len(rows):
            ids = ", ".join(repr(entry.id) for entry in entries)
            raise InvalidInput("outbox id", f"one of {ids} is already queued")

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
        """Up to ``limit`` deliverable entries of a port (or all), oldest first, streams whole."""
        if limit < 0:
            raise InvalidInput("limit", "must not be negative")
        for each in (port,) if port is not None else Port:
            self._lock_port(each)
        at = self._ts(now)
        where = ""
        params: list[Any] = [at, at]
        if port is not None:
            where += " AND o.port = ?"
            params.append(port.value)
        if request is not None:
            where += " AND o.side = ? AND o.request_id = ?"
            params += [request[0].value, request[1]]
        rows = self._all(
            "SELECT o.id, o.document FROM rs_effects o WHERE o.status = 'pending'"
            " AND o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until <= ?)"
            f"{where} AND NOT EXISTS (SELECT 1 FROM rs_effects e WHERE e.stream = o.stream"
            " AND e.status = 'pending' AND (e.created_at < o.created_at OR"
            " (e.created_at = o.created_at AND e.id < o.id)) AND (e.next_attempt_at > ?"
            " OR (e.lease_until IS NOT NULL AND e.lease_until > ?)))"
            " ORDER BY o.created_at, o.id LIMIT ?",
            (*params, at, at, limit),
        )
        if not rows:
            return []
        until = now + lease
        # Still pending: on PostgreSQL an entry's owner may be writing its result right
        # now (its lease ran out); that write wins, and the entry is not taken again.
        marks = ", ".join("?" for _ in rows)
        taken = {
            row[0]
            for row in self._all(
                f"UPDATE rs_effects SET claimed_by = ?, lease_until = ? WHERE id IN ({marks})"
                " AND status = 'pending' RETURNING id",
                (owner, self._ts(until), *(row[0] for row in rows)),
            )
        }
        return [
            attrs.evolve(self._load(row[1], OutboxEntry), claimed_by=owner, lease_until=until)
            for row in rows
            if row[0] in taken
        ]

    def update(self, entry: OutboxEntry, *, owner: str | None = None) -> None:
        """Store an entry's new delivery fields and clear its claim.

        One ``UPDATE`` guarded by the owner's claim; only when it writes nothing is the
        entry read, to say why (an unknown id, or a lease another dispatcher took).
        """
        changed = attrs.evolve(entry, claimed_by=None, lease_until=None)
        guard, params = ("", ()) if owner is None else (" AND claimed_by = ?", (owner,))
        written = self._run(
            "UPDATE rs_effects SET status = ?, next_attempt_at = ?, claimed_by = NULL,"
            f" lease_until = NULL, document = {self.doc_param} WHERE id = ?{guard}",
            (
                changed.status.value,
                self._ts(changed.next_attempt_at),
                dumps(changed),
                entry.id,
                *params,
            ),
        ).rowcount
        if written == 1:
            return
        row = self._one("SELECT claimed_by FROM rs_effects WHERE id = ?", (entry.id,))
        if row is None:
            raise InvalidInput("outbox id", f"no entry {entry.id!r}")
        raise LeaseLost(entry.id, owner or "", row[0])

    def release(self, owner: str) -> int:
        """Clear every claim held by ``owner``."""
        return int(
            self._run(
                "UPDATE rs_effects SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
                (owner,),
            ).rowcount
        )

    def entry(self, entry_id: str) -> OutboxEntry | None:
        """One outbox entry, or None."""
        row = self._one(
            "SELECT claimed_by, lease_until, document FROM rs_effects WHERE id = ?", (entry_id,)
        )
        return None if row is None else self._entry(row)

    def entries(
        self,
        *,
        status: OutboxStatus | None = None,
        port: Port | None = None,
        request: RequestKey | None = None,
    ) -> Sequence[OutboxEntry]:
        """Entries (all, or of this status, port, request), oldest first."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if port is not None:
            where.append("port = ?")
            params.append(port.value)
        if request is not None:
            where += ["side = ?", "request_id = ?"]
            params += [request[0].value, request[1]]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._all(
            f"SELECT claimed_by, lease_until, document FROM rs_effects{clause}"
            " ORDER BY created_at, id",
            params,
        )
        return [self._entry(row) for row in rows]

    # -- stored staff tasks ------------------------------------------------------------------

    def add_task(self, task: StaffTask) -> None:
        """Store a new staff task."""
        added = self._run(
            "INSERT INTO rs_tasks (id, side, request_id, task_list, desk, created_at, resolved,"
            f" document) VALUES (?, ?, ?, ?, ?, ?, ?, {self.doc_param}) ON CONFLICT DO NOTHING",
            (
                task.id,
                task.side.value,
                task.request_id,
                task.task_list.value,
                task.desk,
                self._ts(task.created_at),
                task.resolution is not None,
                dumps(task),
            ),
        ).rowcount
        if added != 1:
            raise InvalidInput("task id", f"{task.id!r} is already stored")

    def task(self, task_id: str) -> StaffTask | None:
        """One stored task, or None."""
        row = self._one("SELECT document FROM rs_tasks WHERE id = ?", (task_id,))
        return None if row is None else self._load(row[0], StaffTask)

    def resolve_task(self, task_id: str, resolution: TaskResolution) -> None:
        """Record how an open task was resolved (once)."""
        task = self.task(task_id)
        if task is None:
            raise NotFound("task", task_id)
        resolved = attrs.evolve(task, resolution=resolution)
        written = self._run(
            f"UPDATE rs_tasks SET resolved = ?, document = {self.doc_param}"
            " WHERE id = ? AND resolved = ?",
            (True, dumps(resolved), task_id, False),
        ).rowcount
        if written != 1:
            raise ConcurrencyConflict(task_id, 0, 1)

    def open_tasks(
        self,
        *,
        task_list: TaskList | None = None,
        desk: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[StaffTask]:
        """A page of the unresolved stored tasks, oldest first."""
        if limit < 0 or offset < 0:
            raise InvalidInput("limit/offset", "must not be negative")
        where, params = ["resolved = ?"], [False]
        if task_list is not None:
            where.append("task_list = ?")
            params.append(task_list.value)  # type: ignore[arg-type]
        if desk is not None:
            where.append("desk = ?")
            params.append(desk)  # type: ignore[arg-type]
        rows = self._all(
            f"SELECT document FROM rs_tasks WHERE {' AND '.join(where)}"
            " ORDER BY created_at, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [self._load(row[0], StaffTask) for row in rows]

    def tasks_of(self, side: Side, request_id: str) -> Sequence[StaffTask]:
        """Every stored task of a request, oldest first."""
        rows = self._all(
            "SELECT document FROM rs_tasks WHERE side = ? AND request_id = ?"
            " ORDER BY created_at, id",
            (side.value, request_id),
        )
        return [self._load(row[0], StaffTask) for row in rows]

    # -- change feed and journal -------------------------------------------------------------

    def flush(self) -> None:
        """Write the unit's steps to the change feed (the store calls it just before COMMIT)."""
        changes, self._changes = self._changes, []
        if not changes:
            return
        first = self._numbers("changes", len(changes))
        if first is None:
            self._cur.executemany(
                self._sql(
                    "INSERT INTO rs_changes (side, request_id, document)"
                    f" VALUES (?, ?, {self.doc_param})"
                ),
                [(c.side.value, c.request_id, dumps(c)) for c in changes],
            )
        else:
            self._cur.executemany(
                self._sql(
                    "INSERT INTO rs_changes (seq, side, request_id, document)"
                    f" VALUES (?, ?, ?, {self.doc_param})"
                ),
                [(first + n, c.side.value, c.request_id, dumps(c)) for n, c in enumerate(changes)],
            )

    def changes_since(self, since: int, limit: int = 1000) -> Sequence[Change]:
        """Up to ``limit`` changes numbered above ``since``, in order."""
        rows = self._all(
            "SELECT seq, document FROM rs_changes WHERE seq > ? ORDER BY seq LIMIT ?",
            (since, max(limit, 0)),
        )
        return [attrs.evolve(self._load(row[1], Change), seq=int(row[0])) for row in rows]

    def last_change(self) -> int:
        """The number of the latest change (0 when none)."""
        return int(self._one("SELECT coalesce(max(seq), 0) FROM rs_changes")[0])

    def record_journal(
        self,
        kind: str,
        command: str,
        request_id: str | None,
        detail: Mapping[str, Any],
        key: str | None = None,
    ) -> JournalEntry | None:
        """Append a journal entry; None when ``key`` was journalled already."""
        # Taking the number first serialises journal writers (PostgreSQL: the counter row
        # lock; SQLite: BEGIN IMMEDIATE did), so the look-up below cannot race a twin.
        seq = self._numbers("journal", 1)
        if key is not None and self._one("SELECT 1 FROM rs_journal WHERE key = ?", (key,)):
            self._give_back("journal", 1)
            return None
        document = json.dumps(dict(detail), separators=(",", ":"))
        if seq is None:
            seq = self._run(
                "INSERT INTO rs_journal (kind, command, request_id, key, detail)"
                f" VALUES (?, ?, ?, ?, {self.doc_param})",
                (kind, command, request_id, key, document),
            ).lastrowid
        else:
            self._run(
                "INSERT INTO rs_journal (seq, kind, command, request_id, key, detail)"
                f" VALUES (?, ?, ?, ?, ?, {self.doc_param})",
                (seq, kind, command, request_id, key, document),
            )
        return JournalEntry(int(seq), kind, command, request_id, dict(detail), key)

    def journal_since(self, since: int, limit: int = 1000) -> Sequence[JournalEntry]:
        """Up to ``limit`` journal entries numbered above ``since``, in order."""
        rows = self._all(
            "SELECT seq, kind, command, request_id, detail, key FROM rs_journal"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            (since, max(limit, 0)),
        )
        return [
            JournalEntry(
                int(row[0]),
                row[1],
                row[2],
                row[3],
                json.loads(row[4]) if isinstance(row[4], str | bytes) else row[4],
                row[5],
            )
            for row in rows
        ]

    def last_journal(self) -> int:
        """The number of the latest journal entry (0 when none)."""
        return int(self._one("SELECT coalesce(max(seq), 0) FROM rs_journal")[0])

    # -- idempotency -----------------------------------------------------------------------

    def processed(self, key: str) -> Confirmation | None:
        """The confirmation given for an already processed peer message, if any."""
        row = self._one("SELECT confirmation FROM rs_processed WHERE key = ?", (key,))
        return None if row is None else self._load(row[0], Confirmation)

    def remember(self, key: str, confirmation: Confirmation, name: str | None = None) -> None:
        """Record that the peer message ``key`` was processed, with its confirmation."""
        added = self._run(
            f"INSERT INTO rs_processed (key, confirmation) VALUES (?, {self.doc_param})"
            " ON CONFLICT DO NOTHING",
            (key, dumps(confirmation)),
        ).rowcount
        if added != 1:
            raise ConcurrencyConflict(key, 0, 1)
        if name is not None:  # the first message given a name keeps it
            self._run(
                "INSERT INTO rs_message_names (name, key) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (name, key),
            )

    def named(self, name: str) -> str | None:
        """The key of the processed message first given ``name``, if any."""
        row = self._one("SELECT key FROM rs_message_names WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    def log_received(self, message: ReceivedMessage) -> None:
        """Keep a message applied to a request in its message log."""
        self._run(
            "INSERT INTO rs_received (side, request_id, at, document)"
            f" VALUES (?, ?, ?, {self.doc_param})",
            (message.side.value, message.request_id, self._ts(message.at), dumps(message)),
        )

    def received_of(self, side: Side, request_id: str) -> Sequence[ReceivedMessage]:
        """A request's message log, in the order the messages were applied."""
        rows = self._all(
            "SELECT document FROM rs_received WHERE side = ? AND request_id = ? ORDER BY position",
            (side.value, request_id),
        )
        return [self._load(row[0], ReceivedMessage) for row in rows]


class StoreFeeds:
    """The :class:`~resource_sharing_adapters.storage.Feeds` of an SQL store.

    Reads run in a read transaction (:meth:`_reading`); a journal entry is a unit of work
    of its own.
    """

    def _reading(self) -> AbstractContextManager[SqlUnit]:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[SqlUnit]:
        raise NotImplementedError

    def changes_since(self, since: int, limit: int = 1000) -> Sequence[Change]:
        """Up to ``limit`` changes numbered above ``since``, in order."""
        with self._reading() as unit:
            return unit.changes_since(since, limit)

    def last_change(self) -> int:
        """The number of the latest change (0 when none)."""
        with self._reading() as unit:
            return unit.last_change()

    def record_journal(
        self,
        kind: str,
        command: str,
        request_id: str | None,
        detail: Mapping[str, Any],
        key: str | None = None,
    ) -> JournalEntry | None:
        """Append a journal entry; None when ``key`` was journalled already."""
        with self._writing() as unit:
            return unit.record_journal(kind, command, request_id, detail, key)

    def journal_since(self, since: int, limit: int = 1000) -> Sequence[JournalEntry]:
        """Up to ``limit`` journal entries numbered above ``since``, in order."""
        with self._reading() as unit:
            return unit.journal_since(since, limit)

    def last_journal(self) -> int:
        """The number of the latest journal entry (0 when none)."""
        with self._reading() as unit:
            return unit.last_journal()


class _View:
    __slots__ = ("_u",)

    def __init__(self, unit: SqlUnit) -> None:
        self._u = unit


class _Requests(_View):
    def get(self, side: Side, request_id: str) -> AnyRequest | None:
        return self._u.get(side, request_id)

    def save(self, record: AnyRequest, index: RequestIndex, *, expected_version: int) -> int:
        return self._u.save(record, index, expected_version=expected_version)

    def find(self, side: Side, protocol_id: str, counterpart: AgencyId) -> str | None:
        return self._u.find(side, protocol_id, counterpart)

    def find_by_barcode(self, barcode: str) -> Sequence[tuple[Side, str]]:
        return self._u.find_by_barcode(barcode)


class _History(_View):
    def append(self, entries: Sequence[HistoryEntry]) -> None:
        self._u.append_history(entries)

    def of(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        return self._u.history_of(side, request_id)

    def count(self, side: Side, request_id: str) -> int:
        return self._u.history_count(side, request_id)


class _Outbox(_View):
    def enqueue(self, entries: Sequence[OutboxEntry]) -> None:
        self._u.enqueue(entries)

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
        return self._u.claim(port, now=now, limit=limit, lease=lease, owner=owner, request=request)

    def update(self, entry: OutboxEntry, *, owner: str | None = None) -> None:
        self._u.update(entry, owner=owner)

    def release(self, owner: str) -> int:
        return self._u.release(owner)

    def get(self, entry_id: str) -> OutboxEntry | None:
        return self._u.entry(entry_id)

    def entries(
        self,
        *,
        status: OutboxStatus | None = None,
        port: Port | None = None,
        request: RequestKey | None = None,
    ) -> Sequence[OutboxEntry]:
        return self._u.entries(status=status, port=port, request=request)


class _Inbox(_View):
    def processed(self, key: str) -> Confirmation | None:
        return self._u.processed(key)

    def remember(self, key: str, confirmation: Confirmation, *, name: str | None = None) -> None:
        self._u.remember(key, confirmation, name)

    def named(self, name: str) -> str | None:
        return self._u.named(name)

    def log(self, message: ReceivedMessage) -> None:
        self._u.log_received(message)

    def received(self, side: Side, request_id: str) -> Sequence[ReceivedMessage]:
        return self._u.received_of(side, request_id)


class _Tasks(_View):
    def listed(
        self,
        task_list: TaskList,
        *,
        desk: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Task]:
        return self._u.listed(task_list, desk=desk, state=state, limit=limit, offset=offset)

    def add(self, task: StaffTask) -> None:
        self._u.add_task(task)

    def get(self, task_id: str) -> StaffTask | None:
        return self._u.task(task_id)

    def resolve(self, task_id: str, resolution: TaskResolution) -> None:
        self._u.resolve_task(task_id, resolution)

    def open(
        self,
        *,
        task_list: TaskList | None = None,
        desk: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[StaffTask]:
        return self._u.open_tasks(task_list=task_list, desk=desk, limit=limit, offset=offset)

    def of_request(self, side: Side, request_id: str) -> Sequence[StaffTask]:
        return self._u.tasks_of(side, request_id)


class _Patrons(_View):
    def open_requests(self, patron_id: str) -> Sequence[BorrowingRequest]:
        return self._u.open_requests_of_patron(patron_id)


class _Timers(_View):
    def due(self, now: datetime, limit: int = 100) -> Sequence[tuple[Side, str]]:
        return self._u.due(now, limit)


class _Sweep(_View):
    def claim(
        self, job: str, *, now: datetime, every: timedelta, owner: str, force: bool = False
    ) -> bool:
        return self._u.claim_job(job, now=now, every=every, owner=owner, force=force)

    def idle(self, side: Side, *, before: datetime, limit: int = 1000) -> Sequence[RequestKey]:
        return self._u.idle(side, before=before, limit=limit)


def statements(script: str, complete: Any) -> Iterator[str]:
    """Split a migration script into statements (``complete`` says when one ends)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if complete(pending):
            if pending.strip():
                yield pending
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        yield pending
