"""The PostgreSQL request store: for consortium hubs and hosted services.

Through psycopg 3 with a :mod:`psycopg_pool` connection pool. Every unit of work is one
``READ COMMITTED`` transaction on a pooled connection. Optimistic concurrency needs no
stronger isolation: a save is ``UPDATE ... WHERE version = expected`` and a second writer
of the same version waits for the first's row lock, then finds the version moved on and
gets :class:`~resource_sharing.errors.ConcurrencyConflict`. The outbox claim selects with
``FOR UPDATE SKIP LOCKED`` and writes a lease, so dispatchers running side by side never
take the same message. Records, history entries, outbox messages and confirmations are
JSONB documents.

Migrations are applied on open under an advisory lock (several processes may open the
same database at once). Nothing connects before a store is constructed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any, final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from resource_sharing.ports import Port
from resource_sharing_adapters.storage._sql import (
    SchemaTooNew,
    SqlUnit,
    StorageError,
    StoreFeeds,
    migrations,
)

__all__ = ["PostgresStore", "PostgresUnit"]

_MIGRATION_LOCK = 0x52535F7374  # pg_advisory_xact_lock key: "RS_st"


@cache
def _translate(text: str) -> str:
    return text.replace("?", "%s")


@final
class PostgresUnit(SqlUnit):
    """A unit of work on one PostgreSQL transaction."""

    doc_param = "%s::jsonb"
    claim_lock = " FOR UPDATE SKIP LOCKED"

    def _sql(self, text: str) -> str:
        return _translate(text)

    def _lock_port(self, port: Port) -> None:
        # Claims of one port take turns until the commit, so that two dispatchers never
        # split a stream (SKIP LOCKED alone would let the second take a later entry whose
        # earlier one the first is claiming).
        self._run("SELECT pg_advisory_xact_lock(hashtext(?))", (f"rs_effects:{port.value}",))

    def _numbers(self, counter: str, count: int) -> int | None:
        # The counter row stays locked until this transaction ends: the next writer's
        # numbers come after our commit (see migrations/postgres/0002_feeds.sql).
        row = self._one(
            "UPDATE rs_counters SET last = last + ? WHERE name = ? RETURNING last",
            (count, counter),
        )
        return int(row[0]) - count + 1

    def _give_back(self, counter: str, count: int) -> None:
        self._run("UPDATE rs_counters SET last = last - ? WHERE name = ?", (count, counter))


@final
class PostgresStore(StoreFeeds):
    """A :class:`~resource_sharing.ports.RequestStore` in a PostgreSQL database.

    It also keeps the change feed and the journal
    (:class:`~resource_sharing_adapters.storage.Feeds`), one sequence each for every
    process on the schema, numbered in commit order.

    ``conninfo`` is a libpq connection string or URL (``postgresql://user@host/db``).
    ``schema``, when given, is created if missing and used as the ``search_path`` of every
    connection (one database can then hold several stores). ``min_size``/``max_size``
    size the connection pool; ``timeout`` is how long a unit of work waits for a pooled
    connection. A database whose schema is newer than this code raises
    :class:`~resource_sharing_adapters.storage.SchemaTooNew`.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 30.0,
    ) -> None:
        self.schema = schema
        """The schema the store lives in (None: the server's default search path)."""
        self.schema_version = self._migrate(conninfo)
        """The schema version of the database (after migrating)."""
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            configure=self._configure,
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except psycopg.Error as exc:
            self._pool.close()
            raise StorageError(f"cannot open the connection pool: {exc}") from exc

    def _session(self, connection: psycopg.Connection[Any]) -> None:
        connection.execute("SET TIME ZONE 'UTC'")
        if self.schema is not None:
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))

    def _configure(self, connection: psycopg.Connection[Any]) -> None:
        connection.autocommit = True
        self._session(connection)
        connection.autocommit = False

    def _migrate(self, conninfo: str) -> int:
        known = migrations("postgres")
        supported = known[-1][0]
        try:
            with psycopg.connect(conninfo, connect_timeout=10) as connection:
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                if self.schema is not None:
                    connection.execute(
                        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                            sql.Identifier(self.schema)
                        )
                    )
                self._session(connection)
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS rs_schema_version"
                    " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"
                )
                row = connection.execute("SELECT max(version) FROM rs_schema_version").fetchone()
                current = int(row[0] or 0) if row else 0
                if current > supported:
                    raise SchemaTooNew(current, supported)
                for version, script in known:
                    if version <= current:
                        continue
                    connection.execute(script.encode())
                    connection.execute(
                        "INSERT INTO rs_schema_version (version, applied_at) VALUES (%s, %s)",
                        (version, datetime.now(UTC)),
                    )
                    current = version
        except psycopg.Error as exc:
            raise StorageError(f"cannot open the PostgreSQL store: {exc}") from exc
        return current

    @contextmanager
    def transaction(self) -> Iterator[PostgresUnit]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        try:
            with (
                self._pool.connection() as connection,
                connection.transaction(),
                connection.cursor() as cursor,
            ):
                unit = PostgresUnit(cursor)
                yield unit
                unit.flush()
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL failed: {exc}") from exc

    def _reading(self) -> AbstractContextManager[SqlUnit]:
        return self.transaction()

    def _writing(self) -> AbstractContextManager[SqlUnit]:
        return self.transaction()

    def close(self) -> None:
        """Close the pool (waits for the connections in use to come back)."""
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
