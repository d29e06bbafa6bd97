"""The change feed and the journal: numbered lists that readers follow with a cursor.

Theory of operation. The **change feed** has one entry per committed step of a request
(a history entry of a request saved in the same unit of work), with what a desk shows of
it afterwards; the **journal** has one entry per notice or circulation command the node
handed to the host system. Both are numbered 1, 2, ... by the store, one sequence per
store (so per institution, shared by every process on it), and a reader asks for the
entries after the last number it saw (``since``).

The rule a store keeps: **numbers are given in commit order**. A reader that has seen
entry ``n`` never later finds a committed entry below ``n`` it did not see, so a cursor
never skips anything, across restarts of the reader or of the node. The SQL stores write
feed entries in the unit of work that made the change (nothing is in the feed that was
rolled back, nothing committed is missing) and number them as it commits (see
``docs/storage.md``). A journal entry carries the effect's idempotency key: recording the
same key again adds nothing, so a delivery that is retried after a crash is journalled
once.

:class:`MemoryFeeds` keeps both in the process, for the memory store (numbers restart at
1 with the process).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, final, runtime_checkable

import attrs

from resource_sharing.ports import RequestIndex
from resource_sharing.records import HistoryEntry, Side

__all__ = ["Change", "Feeds", "JournalEntry", "MemoryFeeds", "change_of"]


@final
@attrs.frozen
class Change:
    """One committed step of one request, as a desk following the feed sees it."""

    seq: int
    """Position in the feed (1, 2, ...; in commit order)."""
    side: Side
    """Borrowing or lending."""
    request_id: str
    """The request."""
    version: int
    """Its version after the step."""
    state: str
    """Its state after the step."""
    event: str
    """What happened (the history entry's detail, or its event)."""
    actor: str | None
    """Who did it (staff, patron, peer:..., timer), when the step says."""
    at: datetime
    """When (the institution's clock)."""
    task_list: str | None
    """The task list that shows it now."""
    desk: str | None
    """The desk whose list shows it."""
    instruction: str | None
    """What the operator must do now."""
    counterpart: str | None
    """The partner on the other side now."""
    protocol_ids: tuple[str, ...]
    """The requestingAgencyRequestIds that name it."""


def change_of(entry: HistoryEntry, index: RequestIndex, version: int, seq: int = 0) -> Change:
    """The feed entry of one history entry of a request saved as ``version`` with ``index``."""
    return Change(
        seq=seq,
        side=entry.side,
        request_id=entry.request_id,
        version=version,
        state=entry.to_state,
        event=entry.detail or entry.event,
        actor=None if entry.actor is None else str(entry.actor),
        at=entry.at,
        task_list=index.task_list.value if index.task_list else None,
        desk=index.desk,
        instruction=index.instruction,
        counterpart=index.counterpart.value if index.counterpart else None,
        protocol_ids=tuple(index.protocol_ids),
    )


@final
@attrs.frozen
class JournalEntry:
    """A notice or a circulation command the node gave the host system."""

    seq: int
    """Position in the journal (1, 2, ...; in commit order)."""
    kind: str
    """``patron_notice``, ``staff_notice``, ``circulation`` or ``print``."""
    command: str
    """The effect's class name (``NotifyPatron``, ``RouteItem``...)."""
    request_id: str | None
    """The request it is about."""
    detail: dict[str, Any]
    """The effect as JSON-ready data."""
    key: str | None = None
    """The effect's idempotency key (a second entry with the same key is not made)."""


@runtime_checkable
class Feeds(Protocol):
    """Where a node's change feed and journal are kept and read.

    Checkable at run time: a node uses its store's own feeds when the store has them.
    """

    def changes_since(self, since: int, limit: int = 1000) -> Sequence[Change]:
        """Up to ``limit`` changes numbered above ``since``, in order."""
        ...

    def last_change(self) -> int:
        """The number of the latest change (0 when none)."""
        ...

    def record_journal(
        self,
        kind: str,
        command: str,
        request_id: str | None,
        detail: Mapping[str, Any],
        key: str | None = None,
    ) -> JournalEntry | None:
        """Append a journal entry; None when ``key`` was journalled already."""
        ...

    def journal_since(self, since: int, limit: int = 1000) -> Sequence[JournalEntry]:
        """Up to ``limit`` journal entries numbered above ``since``, in order."""
        ...

    def last_journal(self) -> int:
        """The number of the latest journal entry (0 when none)."""
        ...


def _after(items: Sequence[Any], since: int, limit: int) -> list[Any]:
    # Entries are numbered consecutively, so the first one after ``since`` is found by
    # arithmetic, not a scan (the deque may have dropped the oldest).
    if not items:
        return []
    start = max(since - items[0].seq + 1, 0)
    return [items[i] for i in range(start, min(start + max(limit, 0), len(items)))]


@final
class MemoryFeeds:
    """:class:`Feeds` in the process: numbers restart at 1 with it (the memory store's).

    The newest ``limit`` entries of each are kept. Thread-safe.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._changes: deque[Change] = deque(maxlen=limit)
        self._journal: deque[JournalEntry] = deque(maxlen=limit)
        self._keys: set[str] = set()
        self._last_change = 0
        self._last_journal = 0

    def append_changes(self, changes: Sequence[Change]) -> None:
        """Number and append the changes of one committed unit of work."""
        with self._lock:
            for change in changes:
                self._last_change += 1
                self._changes.append(attrs.evolve(change, seq=self._last_change))

    def changes_since(self, since: int, limit: int = 1000) -> Sequence[Change]:
        """Up to ``limit`` changes numbered above ``since``, in order."""
        with self._lock:
            return _after(self._changes, since, limit)

    def last_change(self) -> int:
        """The number of the latest change (0 when none)."""
        return self._last_change

    def record_journal(
        self,
        kind: str,
        command: str,
        request_id: str | None,
        detail: Mapping[str, Any],
        key: str | None = None,
    ) -> JournalEntry | None:
        """Append a journal entry; None when ``key`` was journalled already."""
        with self._lock:
            if key is not None:
                if key in self._keys:
                    return None
                self._keys.add(key)
            self._last_journal += 1
            entry = JournalEntry(self._last_journal, kind, command, request_id, dict(detail), key)
            self._journal.append(entry)
            return entry

    def journal_since(self, since: int, limit: int = 1000) -> Sequence[JournalEntry]:
        """Up to ``limit`` journal entries numbered above ``since``, in order."""
        with self._lock:
            return _after(self._journal, since, limit)

    def last_journal(self) -> int:
        """The number of the latest journal entry (0 when none)."""
        return self._last_journal
