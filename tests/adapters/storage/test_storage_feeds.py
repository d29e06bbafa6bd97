"""The in-process feeds of the memory store: the same numbering and paging as the SQL ones."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.records import Side
from resource_sharing_adapters.storage import Change, Feeds, MemoryFeeds


def _change(n: int) -> Change:
    at = datetime(2026, 9, 7, tzinfo=UTC)
    return Change(0, Side.LENDING, f"l-{n}", 1, "new", "e", None, at, None, None, None, None, ())


def test_memory_feeds_are_feeds_and_journal_one_entry_per_key() -> None:
    feeds = MemoryFeeds()
    assert isinstance(feeds, Feeds)
    assert feeds.record_journal("print", "PrintPickSlip", "l-1", {}, "k") is not None
    assert feeds.record_journal("print", "PrintPickSlip", "l-1", {}, "k") is None
    assert [e.seq for e in feeds.journal_since(0)] == [1]


@given(
    kept=st.integers(1, 8),
    made=st.integers(0, 20),
    since=st.integers(0, 25),
    limit=st.integers(0, 10),
)
def test_a_page_holds_the_kept_entries_after_the_cursor(
    kept: int, made: int, since: int, limit: int
) -> None:
    feeds = MemoryFeeds(limit=kept)
    feeds.append_changes([_change(n) for n in range(made)])
    expected = [n for n in range(max(made - kept, 0) + 1, made + 1) if n > since][:limit]
    assert [c.seq for c in feeds.changes_since(since, limit)] == expected
    assert feeds.last_change() == made
