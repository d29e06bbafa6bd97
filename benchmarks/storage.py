"""Request store speed: service-level units of work, and task-list queries as data grows.

``uow``: one service step per unit of work, as the application services do it: load a
borrowing request, decide with :func:`resource_sharing.borrowing.handle_borrowing`
(``SubmitRequest``), save the record, append a history entry and enqueue an outbox
entry; the SQL stores also write the step to the change feed. Compared with a raw
baseline doing the same by hand on the same engine and schema in one transaction (the
same decision and JSON, hand-written SQL; dict updates for the in-memory store).
``ratio`` = store time per unit / baseline time per unit; target <= 2 per engine.

``tasks``: the first page (50) of one desk's pick-from-shelf list with 10,000 and
1,000,000 stored requests (``--quick``: 100,000), rows bulk-loaded (executemany / COPY).
Indexed, so the growth ratio stays far below the 100x growth of the data. The in-memory
store scans (10,000 only).

Prints one JSON object per figure: ``name``, ``value``, ``unit`` and, where compared,
``baseline``, ``baseline_value``, ``ratio``. PostgreSQL (``RS_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``) is skipped with a note when unreachable,
unless ``CI`` is set.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "adapters")]

import attrs  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from resource_sharing.borrowing import BorrowingContext, handle_borrowing  # noqa: E402
from resource_sharing.effects import SendMessage, TaskList  # noqa: E402
from resource_sharing.events import SubmitRequest  # noqa: E402
from resource_sharing.iso18626 import Action  # noqa: E402
from resource_sharing.memory import MemoryStore  # noqa: E402
from resource_sharing.messages import Header, RequestingAgencyMessage  # noqa: E402
from resource_sharing.ports import OutboxEntry, Port, RequestIndex, RequestStore  # noqa: E402
from resource_sharing.records import (  # noqa: E402
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    PatronRef,
    Side,
)
from resource_sharing.serialization import converter, dumps  # noqa: E402
from resource_sharing_adapters.storage import change_of  # noqa: E402
from resource_sharing_adapters.storage.postgres import PostgresStore  # noqa: E402
from resource_sharing_adapters.storage.sqlite import SQLiteStore  # noqa: E402

QUICK = "--quick" in sys.argv
URL = os.environ.get("RS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOME, LENDER = AgencyId("US-HOME"), AgencyId("US-LENDER")
CTX = BorrowingContext(T0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def emit(name: str, value: float, unit: str, **extra: Any) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def compare(name: str, value: float, baseline: str, baseline_value: float) -> None:
    emit(
        name,
        value,
        "units/s",
        baseline=baseline,
        baseline_value=round(baseline_value, 3),
        ratio=round(baseline_value / value, 3),
    )


# -- the service step ------------------------------------------------------------------------


def request(n: int) -> BorrowingRequest:
    return BorrowingRequest(
        f"b-{n:07}",
        HOME,
        PatronRef(f"p-{n % 500}", "A patron"),
        Citation(title=f"Title {n}", author="Author"),
        created_at=T0,
    )


def index(record: BorrowingRequest) -> RequestIndex:
    return RequestIndex(
        side=Side.BORROWING,
        state=record.state.value,
        task_list=None,
        desk=None,
        instruction=None,
        needs_attention=False,
        terminal=False,
        patron_id=record.patron.id,
        protocol_ids=tuple(a.request_id for a in record.attempts),
        next_deadline=record.deadlines[0].at if record.deadlines else None,
    )


def step(record: BorrowingRequest) -> tuple[BorrowingRequest, HistoryEntry, OutboxEntry]:
    """Decide and build what one unit of work writes."""
    outcome = handle_borrowing(record, SubmitRequest(), CTX)
    new = outcome.record
    entry = HistoryEntry(
        new.id, Side.BORROWING, 1, T0, "SubmitRequest", record.state.value, new.state.value
    )
    message = OutboxEntry(
        id=f"m-{new.id}",
        key=f"m-{new.id}",
        side=Side.BORROWING,
        request_id=new.id,
        port=Port.PEER,
        stream=f"borrowing/{new.id}/peer/{LENDER}",
        effect=SendMessage(
            LENDER,
            RequestingAgencyMessage(Header(HOME, LENDER, f"{new.id}-1", T0), Action.STATUS_REQUEST),
        ),
        created_at=T0,
        next_attempt_at=T0,
    )
    return new, entry, message


def seed(store: RequestStore, count: int) -> None:
    with store.transaction() as unit:
        for n in range(count):
            record = request(n)
            unit.requests.save(record, index(record), expected_version=0)


def service_units(store: RequestStore, count: int) -> float:
    """Units of work per second through the store."""
    seed(store, count)
    started = time.perf_counter()
    for n in range(count):
        with store.transaction() as unit:
            loaded = unit.requests.get(Side.BORROWING, f"b-{n:07}")
            assert isinstance(loaded, BorrowingRequest)
            new, entry, message = step(loaded)
            unit.requests.save(new, index(new), expected_version=loaded.version)
            unit.history.append([entry])
            unit.outbox.enqueue([message])
    return count / (time.perf_counter() - started)


def raw_memory(count: int) -> float:
    rows: dict[tuple[str, str], tuple[BorrowingRequest, RequestIndex]] = {}
    history: dict[tuple[str, str], list[HistoryEntry]] = {}
    outbox: dict[str, OutboxEntry] = {}
    for n in range(count):
        record = attrs.evolve(request(n), version=1)
        rows[("borrowing", record.id)] = (record, index(record))
    started = time.perf_counter()
    for n in range(count):
        key = ("borrowing", f"b-{n:07}")
        loaded = rows[key][0]
        new, entry, message = step(loaded)
        rows[key] = (attrs.evolve(new, version=loaded.version + 1), index(new))
        history.setdefault(key, []).append(entry)
        outbox[message.id] = message
    return count / (time.perf_counter() - started)


def _micros(value: datetime) -> int:
    return (value - EPOCH) // timedelta(microseconds=1)


def raw_units(
    execute: Callable[[str, tuple[Any, ...]], Any],
    transaction: Callable[[], AbstractContextManager[Any]],
    count: int,
    ts: Callable[[datetime], Any],
    p: str,
    doc: str,
    feed: Callable[[], int | None],
) -> float:
    """The same step by hand: select, decide, update + 3 inserts in one transaction.

    The inserts: the history entry, the outbox entry and the change-feed entry (numbered
    by ``feed``: None lets the table number it).
    """
    started = time.perf_counter()
    for n in range(count):
        with transaction():
            row = execute(
                f"SELECT document, version FROM rs_requests WHERE side = {p} AND id = {p}",
                ("borrowing", f"b-{n:07}"),
            ).fetchone()
            data = json.loads(row[0]) if isinstance(row[0], str) else row[0]
            loaded = converter.structure(data, BorrowingRequest)
            new, entry, message = step(loaded)
            stored = attrs.evolve(new, version=row[1] + 1)
            deadline = index(new).next_deadline
            execute(
                f"UPDATE rs_requests SET version = {p}, state = {p}, next_deadline = {p},"
                f" updated_at = {p}, document = {doc} WHERE side = {p} AND id = {p}"
                f" AND version = {p}",
                (
                    stored.version,
                    new.state.value,
                    None if deadline is None else ts(deadline),
                    ts(entry.at),
                    dumps(stored),
                    "borrowing",
                    new.id,
                    row[1],
                ),
            )
            execute(
                "INSERT INTO rs_history (side, request_id, sequence, at, document)"
                f" VALUES ({p}, {p}, {p}, {p}, {doc})",
                ("borrowing", new.id, 1, ts(entry.at), dumps(entry)),
            )
            execute(
                "INSERT INTO rs_effects (id, side, request_id, port, stream, status,"
                " created_at, next_attempt_at, document)"
                f" VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {doc})",
                (
                    message.id,
                    "borrowing",
                    new.id,
                    "peer",
                    message.stream,
                    "pending",
                    ts(T0),
                    ts(T0),
                    dumps(message),
                ),
            )
            change = dumps(change_of(entry, index(new), stored.version))
            seq = feed()
            if seq is None:
                execute(
                    f"INSERT INTO rs_changes (side, request_id, document) VALUES ({p}, {p}, {doc})",
                    ("borrowing", new.id, change),
                )
            else:
                execute(
                    "INSERT INTO rs_changes (seq, side, request_id, document)"
                    f" VALUES ({p}, {p}, {p}, {doc})",
                    (seq, "borrowing", new.id, change),
                )
    return count / (time.perf_counter() - started)


def raw_sqlite(path: Path, count: int) -> float:
    SQLiteStore(path).close()  # the same schema
    seed_store = SQLiteStore(path)
    seed(seed_store, count)
    seed_store.close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")

    class Tx:
        def __enter__(self) -> None:
            connection.execute("BEGIN IMMEDIATE")

        def __exit__(self, *exc: object) -> None:
            connection.execute("COMMIT")

    rate = raw_units(connection.execute, Tx, count, _micros, "?", "?", lambda: None)
    connection.close()
    return rate


def raw_postgres(schema: str, count: int) -> float:
    store = PostgresStore(URL, schema=schema)
    seed(store, count)
    store.close()
    with psycopg.connect(URL) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        connection.commit()

        def number() -> int:
            row = connection.execute(
                "UPDATE rs_counters SET last = last + 1 WHERE name = 'changes' RETURNING last"
            ).fetchone()
            assert row is not None
            return int(row[0])

        return raw_units(
            connection.execute,
            connection.transaction,
            count,
            lambda value: value,
            "%s",
            "%s::jsonb",
            number,
        )


# -- task lists -----------------------------------------------------------------------------

LISTS = [t.value for t in TaskList]


def task_rows(count: int, ts: Callable[[datetime], Any]) -> Iterator[tuple[Any, ...]]:
    for n in range(count):
        listed = n % 10 != 0  # a tenth have ended and are on no list
        yield (
            "lending",
            f"l-{n:08}",
            1,
            f"state-{n % 7}",
            LISTS[n % len(LISTS)] if listed else None,
            f"desk-{n % 20}",
            "Fetch it",
            False,
            not listed,
            None,
            None,
            "[]",
            "[]",
            None,
            ts(T0 + timedelta(seconds=n)),
            "{}",
        )


def time_tasks(store: RequestStore, rounds: int) -> float:
    """Median milliseconds of the first page of one desk's pick list."""
    samples = []
    for r in range(rounds):
        started = time.perf_counter()
        with store.transaction() as unit:
            desk = f"desk-{(4 * r + 1) % 20}"  # the desks whose pick lists the rows fill
            page = unit.tasks.listed(TaskList.PICK_FROM_SHELF, desk=desk, limit=50)
        samples.append((time.perf_counter() - started) * 1000)
        assert len(page) == 50
    return statistics.median(samples)


def load_sqlite(path: Path, count: int) -> None:
    SQLiteStore(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO rs_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        task_rows(count, _micros),
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()


def load_postgres(schema: str, count: int) -> None:
    PostgresStore(URL, schema=schema).close()
    with psycopg.connect(URL) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        with connection.cursor().copy("COPY rs_requests FROM STDIN") as copy:
            for row in task_rows(count, lambda value: value):
                copy.write_row(row)
        connection.commit()
        connection.execute("ANALYZE rs_requests")
        connection.commit()


# -- engines --------------------------------------------------------------------------------


def postgres_ok() -> bool:
    try:
        psycopg.connect(URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("CI"):
            raise SystemExit(f"CI needs PostgreSQL at {URL}: {exc}") from exc
        print(f"# PostgreSQL at {URL} unreachable ({exc}): its figures are skipped", flush=True)
        return False
    return True


class Schemas:
    """Fresh PostgreSQL schemas, dropped at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def new(self) -> str:
        """A new schema name (created by the store that opens it)."""
        self.names.append(f"rs_bench_{uuid.uuid4().hex[:10]}")
        return self.names[-1]

    def drop(self) -> None:
        """Drop every schema handed out."""
        with psycopg.connect(URL, autocommit=True) as connection:
            for name in self.names:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )


def main() -> None:
    units = 300 if QUICK else 1000
    big = 100_000 if QUICK else 1_000_000
    rounds = 60 if QUICK else 200
    postgres = postgres_ok()
    schemas = Schemas()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        try:
            # Units of work.
            compare(
                "uow.memory",
                service_units(MemoryStore(), units * 5),
                "raw dicts",
                raw_memory(units * 5),
            )
            with SQLiteStore(tmp / "uow.db") as store:
                rate = service_units(store, units)
            compare("uow.sqlite", rate, "raw sqlite3", raw_sqlite(tmp / "raw.db", units))
            if postgres:
                with PostgresStore(URL, schema=schemas.new()) as pg:
                    rate = service_units(pg, units)
                compare("uow.postgres", rate, "raw psycopg", raw_postgres(schemas.new(), units))

            # Task lists.
            memory = MemoryStore()
            with memory.transaction() as unit:
                for n, row in enumerate(task_rows(10_000, lambda value: value)):
                    record = BorrowingRequest(
                        f"b-{n:08}", HOME, PatronRef("p"), Citation(), created_at=row[14]
                    )
                    listed = None if row[4] is None else TaskList(row[4])
                    unit.requests.save(
                        record,
                        RequestIndex(Side.BORROWING, row[3], listed, row[5], row[6], False, row[8]),
                        expected_version=0,
                    )
            emit("tasks.memory.10000", time_tasks(memory, rounds), "ms")
            engines: list[tuple[str, Callable[[int], SQLiteStore | PostgresStore]]] = []

            def sqlite_at(count: int) -> SQLiteStore:
                path = tmp / f"tasks-{count}.db"
                load_sqlite(path, count)
                return SQLiteStore(path)

            engines.append(("sqlite", sqlite_at))
            if postgres:

                def postgres_at(count: int) -> PostgresStore:
                    schema = schemas.new()
                    load_postgres(schema, count)
                    return PostgresStore(URL, schema=schema)

                engines.append(("postgres", postgres_at))
            for name, open_at in engines:
                figures = []
                for count in (10_000, big):
                    opened = open_at(count)
                    figures.append(time_tasks(opened, rounds))
                    opened.close()
                    emit(f"tasks.{name}.{count}", figures[-1], "ms")
                emit(
                    f"tasks.{name}.growth",
                    figures[1] / figures[0],
                    "x",
                    data_growth=big // 10_000,
                )
        finally:
            if postgres:
                schemas.drop()


if __name__ == "__main__":
    main()
