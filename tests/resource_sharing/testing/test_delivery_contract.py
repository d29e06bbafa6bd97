"""The effect delivery contract on the in-memory store (restarts: a sibling store)."""

from __future__ import annotations

from resource_sharing.memory import MemoryStore
from resource_sharing.ports import RequestStore
from resource_sharing.testing.delivery_contract import EffectDeliveryContract


class TestMemoryDelivery(EffectDeliveryContract):
    def make_store(self) -> MemoryStore:
        return MemoryStore()

    def reopen(self, store: RequestStore) -> RequestStore | None:
        assert isinstance(store, MemoryStore)
        return store.sibling()
