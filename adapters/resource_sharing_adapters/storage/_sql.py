"""The unit of work both SQL stores share: one SQL text, two dialects.

Theory of operation. A unit of work is one database transaction. Requests are stored as
cattrs JSON documents with the queried fields of their
:class:`~resource_sharing.ports.RequestIndex` as columns (task lists, look-ups and timers
are indexed queries that never decode a record they do not return). Optimistic
concurrency is an ``UPDATE ... WHERE version = expected`` whose row count says who won,
or an ``INSERT ... ON CONFLICT DO NOTHING`` for a new request: the loser gets
:class:`~resource_sharing.errors.ConcurrencyConflict` and its transaction is rolled back
by the store. History is a separate, append-only table ordered by insertion. Outbox
messages keep their document (status, attempts, next attempt) next to the columns the
dispatcher's claim query uses; a claim writes a lease, so a second dispatcher skips the
message until the lease ends.

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
from resource_sharing.errors import ConcurrencyConflict, InfrastructureError, InvalidInput
from resource_sharing.messages import Confirmation
from resource_sharing.ports import AnyRequest, OutboxMessage, OutboxStatus, RequestIndex, Task
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
            self._replace_protocol_ids(side, record, index)
        if old_barcodes != barcodes:
            self._run(
                "DELETE FROM rs_barcodes WHERE side = ? AND request_id = ?", (side, record.id)
            )
            self._cur.executemany(
                self._sql("INSERT INTO rs_barcodes (barcode, side, request_id) VALUES (?, ?, ?)"),
                [(barcode, side, record.id) for barcode in sorted(set(index.barcodes))],
            )
        self._saved[(side, record.id)] = (index, version)
        return version

    def _replace_protocol_ids(self, side: str, record: AnyRequest, index: RequestIndex) -> None:
        agency = str(record.requester) if isinstance(record, LendingRequest) else None
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

    def history(self, side: Side, request_id: str) -> Sequence[HistoryEntry]:
        """A request's history, in order."""
        rows = self._all(
            "SELECT document FROM rs_history WHERE side = ? AND request_id = ? ORDER BY position",
            (side.value, request_id),
        )
        return [self._load(row[0], HistoryEntry) for row in rows]

    def tasks(
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

    # -- outbox ----------------------------------------------------------------------------

    def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        """Add messages to the outbox."""
        for message in messages:
            added = self._run(
                "INSERT INTO rs_outbox (id, side, request_id, status, created_at,"
                f" next_attempt_at, lease_until, document) VALUES (?, ?, ?, ?, ?, ?, NULL,"
                f" {self.doc_param}) ON CONFLICT DO NOTHING",
                (
                    message.id,
                    message.side.value,
                    message.request_id,
                    message.status.value,
                    self._ts(message.created_at),
                    self._ts(message.next_attempt_at),
                    dumps(message),
                ),
            ).rowcount
            if added != 1:
                raise InvalidInput("outbox id", f"{message.id!r} is already queued")

    def claim(self, now: datetime, limit: int, lease: timedelta) -> Sequence[OutboxMessage]:
        """Take up to ``limit`` pending messages due at ``now`` for delivery."""
        at = self._ts(now)
        rows = self._all(
            "SELECT id, document FROM rs_outbox WHERE status = 'pending'"
            " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
            f" ORDER BY next_attempt_at, created_at, id LIMIT ?{self.claim_lock}",
            (at, at, limit),
        )
        if rows:
            until = self._ts(now + lease)
            self._cur.executemany(
                self._sql("UPDATE rs_outbox SET lease_until = ? WHERE id = ?"),
                [(until, row[0]) for row in rows],
            )
        return [self._load(row[1], OutboxMessage) for row in rows]

    def _message(self, message_id: str) -> OutboxMessage:
        row = self._one("SELECT document FROM rs_outbox WHERE id = ?", (message_id,))
        if row is None:
            raise InvalidInput("outbox id", f"no message {message_id!r}")
        return self._load(row[0], OutboxMessage)

    def _rewrite(self, message: OutboxMessage, lease_until: datetime | None) -> None:
        self._run(
            "UPDATE rs_outbox SET status = ?, next_attempt_at = ?, lease_until = ?,"
            f" document = {self.doc_param} WHERE id = ?",
            (
                message.status.value,
                self._ts(message.next_attempt_at),
                None if lease_until is None else self._ts(lease_until),
                dumps(message),
                message.id,
            ),
        )

    def mark_sent(self, message_id: str, at: datetime) -> None:
        """Record a delivered message."""
        message = self._message(message_id)
        sent = attrs.evolve(message, status=OutboxStatus.SENT, attempts=message.attempts + 1)
        self._rewrite(sent, at)

    def mark_failed(
        self, message_id: str, error: str, retry_at: datetime | None, attempts: int
    ) -> None:
        """Record a failed attempt: retry at ``retry_at``, or give up when None."""
        message = self._message(message_id)
        if retry_at is None:
            failed = attrs.evolve(
                message, status=OutboxStatus.FAILED, last_error=error, attempts=attempts
            )
            self._rewrite(failed, None)
        else:
            retry = attrs.evolve(
                message, last_error=error, attempts=attempts, next_attempt_at=retry_at
            )
            self._rewrite(retry, retry_at)

    def outbox(self, status: OutboxStatus | None = None) -> Sequence[OutboxMessage]:
        """Outbox messages (all, or with this status), oldest first."""
        if status is None:
            rows = self._all("SELECT document FROM rs_outbox ORDER BY created_at, id")
        else:
            rows = self._all(
                "SELECT document FROM rs_outbox WHERE status = ? ORDER BY created_at, id",
                (status.value,),
            )
        return [self._load(row[0], OutboxMessage) for row in rows]

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

    def remember(self, key: str, confirmation: Confirmation) -> None:
        """Record that the peer message ``key`` was processed, with its confirmation."""
        added = self._run(
            f"INSERT INTO rs_processed (key, confirmation) VALUES (?, {self.doc_param})"
            " ON CONFLICT DO NOTHING",
            (key, dumps(confirmation)),
        ).rowcount
        if added != 1:
            raise ConcurrencyConflict(key, 0, 1)


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
