"""The PostgreSQL store: the storage port's contract suite and PostgreSQL specifics.

The server is ``RS_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Every store gets a fresh schema, dropped afterwards. When the server is unreachable the
tests skip, except under ``CI``, where they fail.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import attrs
import psycopg
import pytest
from psycopg import sql

from resource_sharing.errors import ConcurrencyConflict
from resource_sharing.records import BorrowingRequest, Citation, HistoryEntry, PatronRef, Side
from resource_sharing.testing import RequestStoreContract
from resource_sharing.testing.delivery_contract import EffectDeliveryContract
from resource_sharing_adapters.storage import SchemaTooNew
from resource_sharing_adapters.storage._sql import migrations
from resource_sharing_adapters.storage.postgres import PostgresStore, PostgresUnit
from tests.adapters.storage.feeds_scenarios import FeedsContract
from tests.adapters.storage.storage_scenarios import (
    HOME,
    T0,
    concurrent_claims,
    index,
    kill_in_unit_of_work,
    seed,
)

URL = os.environ.get("RS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

LATEST = migrations("postgres")[-1][0]

pytestmark = pytest.mark.postgres


def _reachable() -> str | None:
    try:
        psycopg.connect(URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {URL} is unreachable ({exc}); set RS_POSTGRES_URL"
    return None


@pytest.fixture(scope="module")
def server() -> str:
    problem = _reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {problem}")
        pytest.skip(problem)
    return URL


def _drop(schema: str) -> None:
    with psycopg.connect(URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@pytest.fixture
def schema(server: str) -> Iterator[str]:
    name = f"rs_test_{uuid.uuid4().hex[:12]}"
    yield name
    _drop(name)


class _PostgresStores:
    @pytest.fixture(autouse=True)
    def _server(self, server: str) -> Iterator[None]:
        self.stores: list[PostgresStore] = []
        self.schemas: list[str] = []
        yield
        for store in self.stores:
            store.close()
        for name in self.schemas:
            _drop(name)

    def make_store(self) -> PostgresStore:
        name = f"rs_test_{uuid.uuid4().hex[:12]}"
        self.schemas.append(name)
        store = PostgresStore(URL, schema=name, max_size=2)
        self.stores.append(store)
        return store

    def reopen(self, store: object) -> PostgresStore:
        assert isinstance(store, PostgresStore)
        store.close()
        reopened = PostgresStore(URL, schema=store.schema, max_size=2)
        self.stores.append(reopened)
        return reopened


class TestPostgresStore(_PostgresStores, RequestStoreContract, FeedsContract):
    pass


class TestPostgresDelivery(_PostgresStores, EffectDeliveryContract):
    """The dispatcher, retries and staff tasks on PostgreSQL."""


# -- PostgreSQL specifics -------------------------------------------------------------------


def test_a_new_database_is_migrated_once(schema: str) -> None:
    PostgresStore(URL, schema=schema).close()
    with PostgresStore(URL, schema=schema) as store:
        assert store.schema_version == LATEST
    with psycopg.connect(URL) as connection:
        rows = connection.execute(
            sql.SQL("SELECT version FROM {}.rs_schema_version").format(sql.Identifier(schema))
        ).fetchall()
        assert rows == [(n,) for n in range(1, LATEST + 1)]
        indexes = {
            row[0]
            for row in connection.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
            )
        }
    assert {
        "rs_requests_tasks",
        "rs_requests_tasks_desk",
        "rs_requests_tasks_state",
        "rs_requests_tasks_desk_state",
        "rs_requests_patron",
        "rs_requests_deadline",
        "rs_protocol_ids_request",
        "rs_barcodes_request",
        "rs_outbox_ready",
    } <= indexes


def test_a_database_with_a_newer_schema_is_refused(schema: str) -> None:
    PostgresStore(URL, schema=schema).close()
    with psycopg.connect(URL) as connection:
        connection.execute(
            sql.SQL("INSERT INTO {}.rs_schema_version VALUES (99, now())").format(
                sql.Identifier(schema)
            )
        )
    with pytest.raises(SchemaTooNew) as refused:
        PostgresStore(URL, schema=schema)
    assert (refused.value.found, refused.value.supported) == (99, LATEST)


def test_a_database_of_the_first_schema_migrates_forward_and_keeps_its_data(schema: str) -> None:
    with psycopg.connect(URL) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        connection.execute(
            "CREATE TABLE rs_schema_version (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL)"
        )
        connection.execute(migrations("postgres")[0][1].encode())
        connection.execute("INSERT INTO rs_schema_version VALUES (1, now())")
        with connection.cursor() as cursor:
            unit = PostgresUnit(cursor)  # its feed is never flushed: version 1 had none
            record = BorrowingRequest(
                "b-1", HOME, PatronRef("p-1"), Citation(title="Dune"), created_at=T0
            )
            unit.save(record, index(record), expected_version=0)
            unit.append_history(
                [HistoryEntry("b-1", Side.BORROWING, 1, T0, "SubmitRequest", "", "created")]
            )
    with PostgresStore(URL, schema=schema) as store:
        assert store.schema_version == LATEST
        with store.transaction() as unit:
            found = unit.get(Side.BORROWING, "b-1")
            assert found is not None
            assert found.version == 1
        assert store.last_change() == 0
        assert store.record_journal("circulation", "CheckIn", "b-1", {}, "k") is not None
        assert store.last_journal() == 1


def test_a_change_committed_later_is_numbered_later_so_no_cursor_skips_one(schema: str) -> None:
    # A writer that took its number holds the counter until it commits: a second writer
    # waits, and is numbered after it, so a reader never sees 2 while 1 is in flight.
    with PostgresStore(URL, schema=schema, max_size=3) as store:
        seed(store)  # change 1
        first_took = threading.Event()
        release_first = threading.Event()
        second_done = threading.Event()

        def first() -> None:
            with store.transaction() as unit:
                record = unit.get(Side.BORROWING, "b-1")
                assert isinstance(record, BorrowingRequest)
                changed = attrs.evolve(record, note="first")
                unit.save(changed, index(changed, "first"), expected_version=record.version)
                unit.append_history(
                    [HistoryEntry("b-1", Side.BORROWING, 2, T0, "Note", "created", "created")]
                )
                unit.flush()  # takes number 2 now, commits only when released
                first_took.set()
                release_first.wait(timeout=60)

        def second() -> None:
            with store.transaction() as unit:
                record = BorrowingRequest(
                    "b-2", HOME, PatronRef("p-2"), Citation(title="Emma"), created_at=T0
                )
                unit.save(record, index(record, "second"), expected_version=0)
                unit.append_history(
                    [HistoryEntry("b-2", Side.BORROWING, 1, T0, "SubmitRequest", "", "created")]
                )
            second_done.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        threads[0].start()
        assert first_took.wait(timeout=60)
        threads[1].start()
        _wait_for_a_lock_wait(schema)  # the second writer is waiting for the counter
        assert not second_done.is_set()
        assert [c.seq for c in store.changes_since(0)] == [1]  # 2 is not committed yet
        release_first.set()
        for thread in threads:
            thread.join(timeout=60)
        assert [(c.seq, c.request_id, c.instruction) for c in store.changes_since(1)] == [
            (2, "b-1", "first"),
            (3, "b-2", "second"),
        ]


def _wait_for_a_lock_wait(schema: str) -> None:
    with psycopg.connect(URL, autocommit=True) as connection:
        for _ in range(600):
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE %s",
                ("UPDATE rs_counters%",),
            ).fetchone()
            if row and row[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError(f"no writer of {schema} waited for the counter")


def test_history_rows_cannot_be_changed(schema: str) -> None:
    with PostgresStore(URL, schema=schema) as store:
        seed(store)
    with psycopg.connect(URL) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            connection.execute("UPDATE rs_history SET sequence = 7")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_process_killed_in_a_unit_of_work_leaves_old_or_new_state(schema: str, when: str) -> None:
    stores: list[PostgresStore] = []

    def make() -> PostgresStore:
        stores.append(PostgresStore(URL, schema=schema))
        return stores[-1]

    opener = (
        "from resource_sharing_adapters.storage.postgres import PostgresStore\n"
        f"store = PostgresStore({URL!r}, schema={schema!r})"
    )
    try:
        kill_in_unit_of_work(make, opener, when=when)
    finally:
        for store in stores:
            store.close()


def test_concurrent_dispatchers_never_claim_the_same_message(schema: str) -> None:
    stores = [PostgresStore(URL, schema=schema, max_size=1) for _ in range(4)]
    try:
        concurrent_claims(stores)
    finally:
        for store in stores:
            store.close()


def test_of_two_concurrent_writers_one_wins_and_the_other_gets_a_conflict(schema: str) -> None:
    with PostgresStore(URL, schema=schema, max_size=2) as store:
        seed(store)
        loaded = threading.Barrier(2)
        outcomes: list[str] = []

        def write(note: str) -> None:
            try:
                with store.transaction() as unit:
                    record = unit.get(Side.BORROWING, "b-1")
                    assert isinstance(record, BorrowingRequest)
                    loaded.wait(timeout=30)
                    changed = attrs.evolve(record, note=note)
                    unit.save(changed, index(changed), expected_version=record.version)
                outcomes.append(f"saved {note}")
            except ConcurrencyConflict as conflict:
                outcomes.append(f"conflict {conflict.expected}->{conflict.actual}")

        threads = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(o.split()[0] for o in outcomes) == ["conflict", "saved"]
        assert "conflict 1->2" in outcomes
        with store.transaction() as unit:
            final = unit.get(Side.BORROWING, "b-1")
        assert final is not None
        assert final.version == 2
        assert f"saved {final.note}" in outcomes
