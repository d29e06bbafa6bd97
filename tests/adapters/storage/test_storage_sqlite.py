"""The SQLite store: the storage port's contract suite and SQLite specifics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from resource_sharing.records import BorrowingRequest, Citation, HistoryEntry, PatronRef, Side
from resource_sharing.testing import RequestStoreContract
from resource_sharing.testing.delivery_contract import EffectDeliveryContract
from resource_sharing_adapters.storage import SchemaTooNew, StorageError
from resource_sharing_adapters.storage._sql import migrations
from resource_sharing_adapters.storage.sqlite import SQLiteStore, SQLiteUnit
from tests.adapters.storage.feeds_scenarios import FeedsContract
from tests.adapters.storage.storage_scenarios import (
    HOME,
    T0,
    concurrent_claims,
    index,
    kill_in_unit_of_work,
    seed,
)

LATEST = migrations("sqlite")[-1][0]


class _SQLiteStores:
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.stores: list[SQLiteStore] = []

    def teardown_method(self) -> None:
        for store in self.stores:
            store.close()

    def make_store(self) -> SQLiteStore:
        store = SQLiteStore(self.folder / f"store-{len(self.stores)}.db")
        self.stores.append(store)
        return store

    def reopen(self, store: object) -> SQLiteStore:
        assert isinstance(store, SQLiteStore)
        store.close()
        reopened = SQLiteStore(store.path)
        self.stores.append(reopened)
        return reopened


class TestSQLiteStore(_SQLiteStores, RequestStoreContract, FeedsContract):
    pass


class TestSQLiteDelivery(_SQLiteStores, EffectDeliveryContract):
    """The dispatcher, retries and staff tasks on SQLite."""


# -- SQLite specifics -----------------------------------------------------------------------


def test_a_new_database_is_migrated_to_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "rs.db") as store:
        assert store.schema_version == LATEST
    connection = sqlite3.connect(tmp_path / "rs.db")
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("SELECT version FROM rs_schema_version").fetchall() == [
        (n,) for n in range(1, LATEST + 1)
    ]
    indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
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
    connection.close()


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "rs.db").close()
    with SQLiteStore(tmp_path / "rs.db") as store:
        assert store.schema_version == LATEST
    connection = sqlite3.connect(tmp_path / "rs.db")
    assert connection.execute("SELECT count(*) FROM rs_schema_version").fetchone() == (LATEST,)
    connection.close()


def _first_release_database(path: Path) -> None:
    """A database as version 1 of the schema left it, holding request b-1."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(
        "CREATE TABLE rs_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
        + migrations("sqlite")[0][1]
    )
    connection.execute("INSERT INTO rs_schema_version VALUES (1, 'the first release')")
    connection.execute("BEGIN")
    unit = SQLiteUnit(connection.cursor())  # its feed is never flushed: v1 had none
    record = BorrowingRequest("b-1", HOME, PatronRef("p-1"), Citation(title="Dune"), created_at=T0)
    unit.save(record, index(record), expected_version=0)
    unit.append_history(
        [HistoryEntry("b-1", Side.BORROWING, 1, T0, "SubmitRequest", "", "created")]
    )
    connection.execute("COMMIT")
    connection.close()


def test_a_database_of_the_first_schema_migrates_forward_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rs.db"
    _first_release_database(path)
    with SQLiteStore(path) as store:
        assert store.schema_version == LATEST
        with store.transaction() as unit:
            record = unit.get(Side.BORROWING, "b-1")
            assert record is not None
            assert record.version == 1
            assert [e.sequence for e in unit.history.of(Side.BORROWING, "b-1")] == [1]
        assert store.last_change() == 0  # no feed was kept before version 2
        assert store.record_journal("circulation", "CheckIn", "b-1", {}, "k") is not None
        assert store.last_journal() == 1


def test_a_database_with_a_newer_schema_is_refused(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "rs.db").close()
    connection = sqlite3.connect(tmp_path / "rs.db")
    with connection:
        connection.execute("INSERT INTO rs_schema_version VALUES (99, 'the future')")
    connection.close()
    with pytest.raises(SchemaTooNew) as refused:
        SQLiteStore(tmp_path / "rs.db")
    assert (refused.value.found, refused.value.supported) == (99, LATEST)


def test_the_query_plans_of_task_lists_use_an_index(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "rs.db").close()
    connection = sqlite3.connect(tmp_path / "rs.db")
    for where in ("", " AND desk = 'd'", " AND state = 's'", " AND desk = 'd' AND state = 's'"):
        plan = " ".join(
            row[3]
            for row in connection.execute(
                "EXPLAIN QUERY PLAN SELECT side, id, state, instruction, desk, updated_at"
                " FROM rs_requests WHERE task_list = 'x'"
                f"{where} ORDER BY updated_at, id, side LIMIT 50"
            )
        )
        assert plan.startswith("SEARCH rs_requests USING INDEX rs_requests_tasks"), plan
        assert "TEMP B-TREE" not in plan, plan  # pages come in index order, unsorted
    connection.close()


def test_history_rows_cannot_be_changed(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "rs.db") as store:
        seed(store)
    connection = sqlite3.connect(tmp_path / "rs.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE rs_history SET sequence = 7")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM rs_history")
    connection.close()


def test_a_writer_blocked_past_its_timeout_gets_a_storage_error(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "rs.db", timeout=0.05) as store:
        other = sqlite3.connect(tmp_path / "rs.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError), store.transaction():
            pass
        other.execute("ROLLBACK")
        other.close()
        with store.transaction() as unit:
            assert unit.processed("x") is None


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_process_killed_in_a_unit_of_work_leaves_old_or_new_state(
    tmp_path: Path, when: str
) -> None:
    path = tmp_path / "rs.db"
    opener = (
        "from resource_sharing_adapters.storage.sqlite import SQLiteStore\n"
        f"store = SQLiteStore({str(path)!r})"
    )
    kill_in_unit_of_work(lambda: SQLiteStore(path), opener, when=when)


def test_concurrent_dispatchers_never_claim_the_same_message(tmp_path: Path) -> None:
    stores = [SQLiteStore(tmp_path / "rs.db") for _ in range(4)]
    try:
        concurrent_claims(stores)
    finally:
        for store in stores:
            store.close()


def test_a_unit_closes_its_cursor_before_its_connection_is_reused(tmp_path: Path) -> None:
    # A cursor left to the garbage collector resets its last statement when it is freed,
    # possibly while another thread runs that (cached, shared) statement on the connection.
    with SQLiteStore(tmp_path / "rs.db") as store:
        with store.transaction() as unit:
            unit.get(Side.BORROWING, "B-1")
            cursor = unit._cur
        with store.transaction() as unit:
            unit.get(Side.BORROWING, "B-1")
        with pytest.raises(sqlite3.ProgrammingError, match="closed cursor"):
            cursor.execute("SELECT 1")
