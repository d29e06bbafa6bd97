"""Durable request stores: SQLite (the embedded default) and PostgreSQL.

Import the adapter you use from its module (``resource_sharing_adapters.storage.sqlite``
or ``.postgres``); this package imports neither database driver, and nothing here opens a
connection until a store is constructed. Both stores also keep a node's change feed and
journal (:class:`Feeds`); :class:`MemoryFeeds` keeps them in the process.
"""

from __future__ import annotations

from resource_sharing_adapters.storage._feeds import (
    Change,
    Feeds,
    JournalEntry,
    MemoryFeeds,
    change_of,
)
from resource_sharing_adapters.storage._sql import SchemaTooNew, StorageError

__all__ = [
    "Change",
    "Feeds",
    "JournalEntry",
    "MemoryFeeds",
    "SchemaTooNew",
    "StorageError",
    "change_of",
]
