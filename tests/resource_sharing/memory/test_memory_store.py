"""The in-memory store passes the storage port's contract suite (every repository)."""

from __future__ import annotations

from resource_sharing.memory import MemoryStore
from resource_sharing.ports import RequestStore
from resource_sharing.testing.contracts import RequestStoreContract


class TestMemoryStore(RequestStoreContract):
    def make_store(self) -> MemoryStore:
        return MemoryStore()

    def reopen(self, store: RequestStore) -> RequestStore | None:
        assert isinstance(store, MemoryStore)
        return store.sibling()
