"""The SQLite request store: the embedded default, for one institution and the demo.

Through the standard library's :mod:`sqlite3`. The database runs in WAL mode (readers
never block the writer) with ``synchronous=NORMAL`` by default: a committed unit survives
the process being killed at any point (SIGKILL, a crash), and only an operating-system
crash or a power cut can roll back the last few commits (never corrupt the file);
``synchronous="full"`` also survives those, at the cost of an fsync per commit (about
7 ms on this project's CI disk against 20 µs). Every unit of work is a
``BEGIN IMMEDIATE`` transaction, so units are serialised on the database's write lock,
within one process and across several (a busy unit waits up to ``timeout`` seconds). A
process killed in the middle of a unit leaves nothing of it: SQLite discards an
uncommitted transaction when the database is next opened.

Connections are opened when the store is constructed (never at import) and reused from a
small pool, one per concurrent unit of work.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from os import PathLike
from typing import Any, Literal, final

from resource_sharing_adapters.storage._sql import (
    SchemaTooNew,
    SqlUnit,
    StorageError,
    StoreFeeds,
    migrations,
    statements,
)

__all__ = ["SQLiteStore", "SQLiteUnit"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(value: datetime) -> int:
    if value.tzinfo is None:
        raise StorageError(f"naive datetime {value.isoformat()} cannot be stored (use UTC)")
    return (value - _EPOCH) // _MICRO


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            connection.close()


@final
class SQLiteUnit(SqlUnit):
    """A unit of work on one SQLite transaction (times stored as UTC microseconds)."""

    def _ts(self, value: datetime) -> Any:
        return _micros(value)

    def _dt(self, value: Any) -> datetime:
        return _EPOCH + int(value) * _MICRO


@final
class SQLiteStore(StoreFeeds):
    """A :class:`~resource_sharing.ports.RequestStore` in an SQLite database file.

    It also keeps the change feed and the journal
    (:class:`~resource_sharing_adapters.storage.Feeds`), numbered by rowid.

    ``path`` is the database file (created when missing). Migrations are applied on open;
    a database whose schema is newer than this code raises
    :class:`~resource_sharing_adapters.storage.SchemaTooNew`. ``timeout`` is how long a
    unit of work waits for another writer (thread or process) before failing with
    :class:`~resource_sharing_adapters.storage.StorageError`. ``synchronous`` is
    ``"normal"`` (survives a killed process) or ``"full"`` (also survives a power cut).
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        timeout: float = 30.0,
        synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        if synchronous not in ("normal", "full"):
            raise StorageError(f"synchronous must be 'normal' or 'full', not {synchronous!r}")
        self.path = str(path)
        """The database file."""
        self._timeout = timeout
        self._synchronous = synchronous.upper()
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        connection = self._connect()
        try:
            self.schema_version = self._migrate(connection)
            """The schema version of the database (after migrating)."""
        except BaseException:
            connection.close()
            raise
        self._idle.append(connection)

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        return connection

    def _migrate(self, connection: sqlite3.Connection) -> int:
        known = migrations("sqlite")
        supported = known[-1][0]
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS rs_schema_version"
                    " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                row = connection.execute("SELECT max(version) FROM rs_schema_version").fetchone()
                current = int(row[0] or 0)
                if current > supported:
                    raise SchemaTooNew(current, supported)
                for version, script in known:
                    if version <= current:
                        continue
                    for statement in statements(script, sqlite3.complete_statement):
                        connection.execute(statement)
                    connection.execute(
                        "INSERT INTO rs_schema_version (version, applied_at) VALUES (?, ?)",
                        (version, datetime.now(UTC).isoformat()),
                    )
                    current = version
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"cannot migrate SQLite database {self.path!r}: {exc}") from exc
        return current

    @contextmanager
    def transaction(self) -> Iterator[SQLiteUnit]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        with self._begin("BEGIN IMMEDIATE") as unit:
            yield unit

    @contextmanager
    def _begin(self, begin: str) -> Iterator[SQLiteUnit]:
        connection = self._take()
        cursor = connection.cursor()
        try:
            try:
                connection.execute(begin)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot start a unit of work: {exc}") from exc
            try:
                unit = SQLiteUnit(cursor)
                yield unit
                unit.flush()
                connection.execute("COMMIT")
            except BaseException as exc:
                _rollback(connection)
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"SQLite failed: {exc}") from exc
                raise
        finally:
            # Closed here, in this thread: a cursor left to the garbage collector resets its
            # last statement whenever it is freed, and that statement is shared through the
            # connection's statement cache with the next unit on this connection, perhaps in
            # another thread in the middle of it (SQLITE_MISUSE, "bad parameter or other API
            # misuse", seen under concurrent inbound load).
            cursor.close()
            self._give_back(connection, not connection.in_transaction)

    def _reading(self) -> AbstractContextManager[SqlUnit]:
        # A deferred transaction: one consistent snapshot, without the write lock (WAL).
        return self._begin("BEGIN")

    def _writing(self) -> AbstractContextManager[SqlUnit]:
        return self.transaction()

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise StorageError("the store is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _give_back(self, connection: sqlite3.Connection, healthy: bool) -> None:
        with self._lock:
            if healthy and not self._closed and len(self._idle) < 8:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close the idle connections; units of work in progress close theirs at the end."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
