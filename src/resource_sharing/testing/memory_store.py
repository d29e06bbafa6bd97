"""The in-memory request store, still importable here (see :mod:`resource_sharing.memory`)."""

from __future__ import annotations

from resource_sharing.memory import MemoryStore

__all__ = ["MemoryStore"]
