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

import attrs

from resource_sharing.effects import SendMessage
from resource_sharing.iso18626 import Action, MessageStatus
from resource_sharing.messages import Confirmation, Header, MessageKind, RequestingAgencyMessage
from resource_sharing.ports import OutboxEntry, OutboxStatus, Port, RequestIndex, RequestStore
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
ROOT = Path(__file__).resolve().parents[3]
SRC, ADAPTERS = str(ROOT / "src"), str(ROOT / "adapters")


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
        unit.requests.save(record, index(record), expected_version=0)
        unit.history.append(
            [HistoryEntry("b-1", Side.BORROWING, 1, T0, "SubmitRequest", "", "created")]
        )
    return record


def message(message_id: str, minutes: int = 0, request_id: str = "b-1") -> OutboxEntry:
    """An outbox entry (a peer message) of ``request_id``."""
    at = T0 + timedelta(minutes=minutes)
    return OutboxEntry(
        id=message_id,
        key=message_id,
        side=Side.BORROWING,
        request_id=request_id,
        port=Port.PEER,
        stream=f"borrowing/{request_id}/peer/{LENDER}",
        effect=SendMessage(
            LENDER,
            RequestingAgencyMessage(Header(HOME, LENDER, f"{request_id}-1", at), Action.RECEIVED),
        ),
        created_at=at,
        next_attempt_at=at,
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
from tests.adapters.storage.storage_scenarios import T0, confirmation, index, message
{opener}
commit_first = sys.argv[1] == "after"

def ready():
    sys.stdout.write("READY\\n")
    sys.stdout.flush()
    time.sleep(120)

with store.transaction() as unit:
    record = unit.requests.get(Side.BORROWING, "b-1")
    changed = attrs.evolve(record, note="changed by the child")
    unit.requests.save(changed, index(changed, "child"), expected_version=record.version)
    unit.history.append([HistoryEntry("b-1", Side.BORROWING, 2, T0, "Note", "created", "created")])
    unit.outbox.enqueue([message("m-child")])
    unit.inbox.remember("peer-child", confirmation())
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
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ADAPTERS, str(ROOT)])}
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
        record = unit.requests.get(Side.BORROWING, "b-1")
        assert record is not None
        history = [e.sequence for e in unit.history.of(Side.BORROWING, "b-1")]
        outbox = [m.id for m in unit.outbox.entries()]
        processed = unit.inbox.processed("peer-child") is not None
        if when == "before":
            assert (record.version, record.note) == (1, None)
            assert (history, outbox, processed) == ([1], [], False)
        else:
            assert (record.version, record.note) == (2, "changed by the child")
            assert (history, outbox, processed) == ([1, 2], ["m-child"], True)
    # The database is usable afterwards (no lock left behind).
    with reopened.transaction() as unit:
        unit.outbox.enqueue([message("m-after")])


def concurrent_claims(stores: Sequence[RequestStore], *, messages: int = 60) -> None:
    """Dispatchers claiming at the same time get disjoint sets that cover the outbox.

    Entries of 20 requests, several per request, each dispatcher delivering what it
    claims: an entry is never claimed before the earlier ones of its stream went.
    """
    with stores[0].transaction() as unit:
        unit.outbox.enqueue(
            [message(f"m-{n:03}", minutes=n % 7, request_id=f"b-{n % 20}") for n in range(messages)]
        )
    start = threading.Barrier(len(stores))
    claimed: list[list[str]] = [[] for _ in stores]
    order: list[str] = []  # every claim, in the order the claims happened
    errors: list[BaseException] = []
    now = T0 + timedelta(hours=1)

    def dispatch(number: int) -> None:
        try:
            start.wait(timeout=30)
            while True:
                with stores[number].transaction() as unit:
                    batch = unit.outbox.claim(
                        Port.PEER, now=now, limit=4, lease=timedelta(hours=1), owner=f"d-{number}"
                    )
                    # Hold the rows a moment, so that the others must skip them.
                    threading.Event().wait(0.005)
                claimed[number].extend(m.id for m in batch)
                order.extend(m.id for m in batch)
                if not batch:
                    return
                # Delivered: the next entries of these streams become claimable.
                with stores[number].transaction() as unit:
                    for entry in batch:
                        done = attrs.evolve(entry, status=OutboxStatus.DELIVERED, attempts=1)
                        unit.outbox.update(done, owner=f"d-{number}")
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
    for request in range(20):
        ids = [f"m-{n:03}" for n in range(messages) if n % 20 == request]
        taken = [m for m in order if m in ids]
        ordered = sorted(ids, key=lambda m: (int(m[2:]) % 7, m))
        assert taken == ordered, f"b-{request}: claimed {taken}, committed {ordered}"
    with stores[0].transaction() as unit:
        assert len(unit.outbox.entries(status=OutboxStatus.DELIVERED)) == messages
        late = unit.outbox.claim(
            Port.PEER, now=now, limit=100, lease=timedelta(hours=1), owner="late"
        )
        assert list(late) == []
