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
from resource_sharing.records import BorrowingRequest, Side
from resource_sharing.testing import RequestStoreContract
from resource_sharing_adapters.storage import SchemaTooNew
from resource_sharing_adapters.storage.postgres import PostgresStore
from storage_scenarios import concurrent_claims, index, kill_in_unit_of_work, seed

URL = os.environ.get("RS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

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


class TestPostgresStore(RequestStoreContract):
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


# -- PostgreSQL specifics -------------------------------------------------------------------


def test_a_new_database_is_migrated_once(schema: str) -> None:
    PostgresStore(URL, schema=schema).close()
    with PostgresStore(URL, schema=schema) as store:
        assert store.schema_version == 1
    with psycopg.connect(URL) as connection:
        rows = connection.execute(
            sql.SQL("SELECT version FROM {}.rs_schema_version").format(sql.Identifier(schema))
        ).fetchall()
        assert rows == [(1,)]
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
    assert (refused.value.found, refused.value.supported) == (99, 1)


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
