"""The in-memory request store, kept importable here (it lives in :mod:`resource_sharing.memory`)."""

from __future__ import annotations

from resource_sharing.memory import MemoryStore

__all__ = ["MemoryStore"]
