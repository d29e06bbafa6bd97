"""The in-memory store passes the storage port's contract suite."""

from __future__ import annotations

from resource_sharing.testing import MemoryStore, RequestStoreContract


class TestMemoryStore(RequestStoreContract):
    def make_store(self) -> MemoryStore:
        return MemoryStore()
