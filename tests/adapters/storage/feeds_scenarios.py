"""The change feed and journal guarantees every durable store keeps (``docs/storage.md``).

:class:`FeedsContract` is mixed into an engine's test class, which gives ``make_store``
(a fresh database) and ``reopen`` (the same database, opened again as after a restart).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from resource_sharing.records import HistoryEntry, Side
from resource_sharing_adapters.storage import Feeds
from tests.adapters.storage.storage_scenarios import T0, index, seed

_Store = Any  # a RequestStore that is also Feeds


def _step(store: _Store, sequence: int, *, note: str, fail: bool = False) -> None:
    """One unit: b-1 moves on (version + 1) with one history entry; raises when ``fail``."""
    with store.transaction() as unit:
        record = unit.get(Side.BORROWING, "b-1")
        changed = attrs.evolve(record, note=note)
        unit.save(changed, index(changed, note), expected_version=record.version)
        unit.append_history(
            [HistoryEntry("b-1", Side.BORROWING, sequence, T0, "Note", "created", "created")]
        )
        if fail:
            raise RuntimeError("the unit fails after writing")


class FeedsContract:
    """What the change feed and the journal of a store must do."""

    def make_store(self) -> _Store:
        raise NotImplementedError

    def reopen(self, store: _Store) -> _Store:
        raise NotImplementedError

    def test_a_store_keeps_its_own_feeds(self) -> None:
        store = self.make_store()
        assert isinstance(store, Feeds)
        assert (store.last_change(), store.last_journal()) == (0, 0)
        assert list(store.changes_since(0)) == []
        assert list(store.journal_since(0)) == []

    def test_every_step_of_a_saved_request_is_a_change_numbered_in_commit_order(self) -> None:
        store = self.make_store()
        seed(store)
        _step(store, 2, note="second")
        changes = list(store.changes_since(0))
        assert [(c.seq, c.version, c.instruction) for c in changes] == [
            (1, 1, None),
            (2, 2, "second"),
        ]
        assert changes[1].request_id == "b-1"
        assert changes[1].side is Side.BORROWING
        assert [c.seq for c in store.changes_since(1)] == [2]
        assert [c.seq for c in store.changes_since(0, limit=1)] == [1]
        assert store.last_change() == 2

    def test_a_rolled_back_unit_leaves_no_change_and_no_gap(self) -> None:
        store = self.make_store()
        seed(store)
        with pytest.raises(RuntimeError):
            _step(store, 2, note="rolled back", fail=True)
        assert store.last_change() == 1
        _step(store, 2, note="kept")
        assert [(c.seq, c.instruction) for c in store.changes_since(0)] == [
            (1, None),
            (2, "kept"),
        ]

    def test_history_of_a_request_not_saved_in_the_unit_is_not_a_change(self) -> None:
        store = self.make_store()
        seed(store)
        with store.transaction() as unit:
            unit.append_history(
                [HistoryEntry("b-1", Side.BORROWING, 2, T0, "Note", "created", "created")]
            )
        assert store.last_change() == 1

    def test_the_journal_keeps_one_entry_per_key(self) -> None:
        store = self.make_store()
        first = store.record_journal("circulation", "CheckIn", "l-1", {"barcode": "X"}, "k-1")
        again = store.record_journal("circulation", "CheckIn", "l-1", {"barcode": "X"}, "k-1")
        other = store.record_journal("patron_notice", "NotifyPatron", "b-1", {"n": 1}, "k-2")
        keyless = [store.record_journal("staff_notice", "NotifyStaff", None, {}) for _ in "ab"]
        assert first is not None
        assert first.seq == 1
        assert again is None
        assert other is not None
        assert other.seq == 2
        assert [e.seq for e in keyless if e is not None] == [3, 4]
        entries = list(store.journal_since(0))
        assert [(e.seq, e.command, e.key) for e in entries] == [
            (1, "CheckIn", "k-1"),
            (2, "NotifyPatron", "k-2"),
            (3, "NotifyStaff", None),
            (4, "NotifyStaff", None),
        ]
        assert entries[0].detail == {"barcode": "X"}
        assert entries[0].request_id == "l-1"
        assert [e.seq for e in store.journal_since(2, limit=1)] == [3]
        assert store.last_journal() == 4

    def test_numbers_continue_after_a_restart_and_a_cursor_stays_valid(self) -> None:
        store = self.make_store()
        seed(store)
        store.record_journal("circulation", "CheckIn", "l-1", {}, "k-1")
        cursor = (store.last_change(), store.last_journal())
        store = self.reopen(store)
        _step(store, 2, note="after the restart")
        assert store.record_journal("circulation", "CheckIn", "l-1", {}, "k-1") is None
        store.record_journal("circulation", "RouteItem", "l-1", {}, "k-2")
        assert [c.seq for c in store.changes_since(cursor[0])] == [2]
        assert [(e.seq, e.key) for e in store.journal_since(cursor[1])] == [(2, "k-2")]
