"""One cattrs converter for the core's records, built once: plain JSON-ready data.

Stores use it to keep a request (or an outbox entry, a staff task) as JSON and read it
back equal. Datetimes become ISO 8601 strings with their offset, decimals strings, enums
their values, an :class:`~resource_sharing.records.Actor` its ``kind:name`` text (older
documents' bare words are read too); the peer message union and the outbound effect
union are tagged with ``_type``. A malformed document raises
:class:`~resource_sharing.errors.InvalidInput`, never a bare ``KeyError``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter
from cattrs.strategies import configure_tagged_union

from resource_sharing.effects import OutboundEffect
from resource_sharing.errors import InvalidInput
from resource_sharing.messages import (
    Confirmation,
    PeerMessage,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import OutboxEntry, ReceivedMessage, StaffTask
from resource_sharing.records import Actor, BorrowingRequest, HistoryEntry, LendingRequest

__all__ = ["converter", "dumps", "loads"]

T = TypeVar("T")


def _build() -> cattrs.Converter:
    conv = make_converter()
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(date, lambda value, _: date.fromisoformat(value))
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda value, _: Decimal(str(value)))
    conv.register_unstructure_hook(Actor, str)
    conv.register_structure_hook(Actor, _structure_actor)
    for union in (PeerMessage, OutboundEffect):
        configure_tagged_union(
            union,
            conv,
            tag_name="_type",
            tag_generator=lambda cls: cls.__name__,
        )
    # a staff task's message is optional: the tagged union, or None
    optional: Any = PeerMessage | None
    conv.register_structure_hook(
        optional,
        lambda value, _: None if value is None else conv.structure(value, PeerMessage),  # type: ignore[arg-type]
    )
    conv.register_unstructure_hook(
        optional, lambda value: None if value is None else conv.unstructure(value, PeerMessage)
    )
    return conv


def _structure_actor(value: Any, _: object) -> Actor:
    if isinstance(value, str):
        return Actor.parse(value)
    if isinstance(value, dict):
        return Actor.parse(f"{value['kind']}:{value['name']}")
    raise InvalidInput("actor", f"not an actor: {value!r}")


converter = _build()
"""The converter (built once at import)."""

_KNOWN: tuple[type, ...] = (
    BorrowingRequest,
    LendingRequest,
    HistoryEntry,
    OutboxEntry,
    ReceivedMessage,
    StaffTask,
    Confirmation,
    Request,
    SupplyingAgencyMessage,
    RequestingAgencyMessage,
)


def dumps(value: Any) -> str:
    """A record as compact JSON text."""
    return json.dumps(converter.unstructure(value), separators=(",", ":"), sort_keys=True)


def loads(text: str | bytes, cls: type[T]) -> T:
    """A record of type ``cls`` from JSON text; raises InvalidInput when it does not fit."""
    try:
        return converter.structure(json.loads(text), cls)
    except (ValueError, TypeError, KeyError, cattrs.BaseValidationError) as exc:
        raise InvalidInput(cls.__name__, f"stored document does not fit: {exc}") from exc
