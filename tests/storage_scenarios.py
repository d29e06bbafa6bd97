"""Scenarios the durable stores share beyond the contract suite: crashes and concurrency.

Each takes the pieces of one engine (a factory of stores on one database, and the Python
source that opens the same database in a child process) and asserts the guarantee.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from resource_sharing.iso18626 import Action, MessageStatus
from resource_sharing.messages import Confirmation, Header, MessageKind, RequestingAgencyMessage
from resource_sharing.ports import OutboxMessage, OutboxStatus, RequestIndex, RequestStore
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    HistoryEntry,
    PatronRef,
    Side,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOME, LENDER = AgencyId("US-HOME"), AgencyId("US-LENDER")
SRC = str(Path(__file__).resolve().parents[1] / "src")
ADAPTERS = str(Path(__file__).resolve().parents[1] / "adapters")


def index(record: BorrowingRequest, note: str | None = None) -> RequestIndex:
    """The index the service would compute (enough for these scenarios)."""
    return RequestIndex(
        side=Side.BORROWING,
        state=record.state.value,
        task_list=None,
        desk=None,
        instruction=note,
        needs_attention=False,
        terminal=False,
        patron_id=record.patron.id,
    )


def seed(store: RequestStore) -> BorrowingRequest:
    """A committed request b-1 at version 1 with one history entry and no outbox."""
    record = BorrowingRequest("b-1", HOME, PatronRef("p-1"), Citation(title="Dune"), created_at=T0)
    with store.transaction() as unit:
        unit.save(record, index(record), expected_version=0)
        unit.append_history(
            [HistoryEntry("b-1", Side.BORROWING, 1, T0, "SubmitRequest", "", "created")]
        )
    return record


def message(message_id: str, minutes: int = 0) -> OutboxMessage:
    """An outbox message for b-1."""
    at = T0 + timedelta(minutes=minutes)
    return OutboxMessage(
        message_id,
        Side.BORROWING,
        "b-1",
        LENDER,
        RequestingAgencyMessage(Header(HOME, LENDER, "b-1-1", at), Action.RECEIVED),
        at,
        at,
    )


def confirmation() -> Confirmation:
    """The confirmation the child remembers."""
    return Confirmation(MessageKind.SUPPLYING_AGENCY_MESSAGE, MessageStatus.OK, T0, T0)


# The child: opens the store, writes record + history + outbox + processed identity in one
# unit, says READY (before or after COMMIT) and sleeps until it is killed.
_CHILD = """
import sys, time
import attrs
from resource_sharing.records import HistoryEntry, Side
from storage_scenarios import T0, confirmation, index, message
{opener}
commit_first = sys.argv[1] == "after"

def ready():
    sys.stdout.write("READY\\n")
    sys.stdout.flush()
    time.sleep(120)

with store.transaction() as unit:
    record = unit.get(Side.BORROWING, "b-1")
    changed = attrs.evolve(record, note="changed by the child")
    unit.save(changed, index(changed, "child"), expected_version=record.version)
    unit.append_history([HistoryEntry("b-1", Side.BORROWING, 2, T0, "Note", "created", "created")])
    unit.enqueue([message("m-child")])
    unit.remember("peer-child", confirmation())
    if not commit_first:
        ready()
ready()
"""


def kill_in_unit_of_work(make_store: Callable[[], RequestStore], opener: str, *, when: str) -> None:
    """SIGKILL a child inside (``when="before"`` commit) or after its unit; check the state.

    ``opener`` is Python source that binds ``store`` to a store on the same database.
    """
    store = make_store()
    seed(store)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ADAPTERS, str(Path(__file__).parent)])}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(opener=opener), when],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "READY\n", child.stderr.read() if child.stderr else line
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL
    reopened = make_store()
    with reopened.transaction() as unit:
        record = unit.get(Side.BORROWING, "b-1")
        assert record is not None
        history = [e.sequence for e in unit.history(Side.BORROWING, "b-1")]
        outbox = [m.id for m in unit.outbox()]
        processed = unit.processed("peer-child") is not None
        if when == "before":
            assert (record.version, record.note) == (1, None)
            assert (history, outbox, processed) == ([1], [], False)
        else:
            assert (record.version, record.note) == (2, "changed by the child")
            assert (history, outbox, processed) == ([1, 2], ["m-child"], True)
    # The database is usable afterwards (no lock left behind).
    with reopened.transaction() as unit:
        unit.enqueue([message("m-after")])


def concurrent_claims(stores: Sequence[RequestStore], *, messages: int = 60) -> None:
    """Dispatchers claiming at the same time get disjoint sets that cover the outbox."""
    with stores[0].transaction() as unit:
        unit.enqueue([message(f"m-{n:03}", minutes=n % 7) for n in range(messages)])
    start = threading.Barrier(len(stores))
    claimed: list[list[str]] = [[] for _ in stores]
    errors: list[BaseException] = []
    now = T0 + timedelta(hours=1)

    def dispatch(number: int) -> None:
        try:
            start.wait(timeout=30)
            while True:
                with stores[number].transaction() as unit:
                    batch = unit.claim(now, 4, timedelta(hours=1))
                    # Hold the rows a moment, so that the others must skip them.
                    threading.Event().wait(0.005)
                claimed[number].extend(m.id for m in batch)
                if not batch:
                    return
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=dispatch, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    everything = [m for batch in claimed for m in batch]
    assert len(everything) == len(set(everything)) == messages
    with stores[0].transaction() as unit:
        assert len(unit.outbox(OutboxStatus.PENDING)) == messages
        assert list(unit.claim(now, 100, timedelta(hours=1))) == []
