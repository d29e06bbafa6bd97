"""A request's ISO 18626 conversation: every message in and out, decoded field by field.

Messages that came in are the request's message log (kept by the inbox as they arrived,
with the wire text when the transport had it); messages that went out are the request's
outbox entries that carry a peer message (with their delivery status). Both are shown
as the same rows: when, which way, with whom, the message's kind and gist, its fields
(every field that has a value, named in words, a nested part after its parent's name)
and the raw XML on demand (the wire text of an incoming message, the v1.2 encoding of an
outgoing one: exactly what the transport posts, less the credentials it adds).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs

from resource_sharing.effects import SendMessage
from resource_sharing.messages import (
    PeerMessage,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.ports import AnyRequest, OutboxEntry, ReceivedMessage
from resource_sharing.records import AgencyId, Identifier, Money
from resource_sharing_adapters.http._app import gist

__all__ = ["conversation", "fields_of"]

_HIDDEN = frozenset({"security_code"})
_NESTED = " \u203a "  # "Header > Requesting agency": a right-pointing quotation mark


def _words(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Money):
        return f"{value.amount} {value.currency}"
    if isinstance(value, Identifier):
        return f"{value.code} {value.value}"
    if isinstance(value, Decimal | AgencyId):
        return str(value)
    return str(value)


def fields_of(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every field of a message that has a value, as (name in words, value) in order."""
    rows: list[tuple[str, str]] = []
    for field in attrs.fields(type(value)):
        if field.name in _HIDDEN:
            continue
        item = getattr(value, field.name)
        name = f"{prefix}{_words(field.name)}"
        if item is None or item == () or item == "":
            continue
        if isinstance(item, tuple):
            for i, part in enumerate(item, 1):
                label = f"{name} {i}" if len(item) > 1 else name
                if attrs.has(type(part)) and not isinstance(part, AgencyId | Money | Identifier):
                    rows.extend(fields_of(part, f"{label}{_NESTED}"))
                else:
                    rows.append((label, _value(part)))
        elif attrs.has(type(item)) and not isinstance(item, AgencyId | Money | Identifier):
            rows.extend(fields_of(item, f"{name}{_NESTED}"))
        else:
            rows.append((name, _value(item)))
    return rows


def _kind(message: PeerMessage) -> str:
    return {
        Request: "Request",
        SupplyingAgencyMessage: "Supplying agency message",
        RequestingAgencyMessage: "Requesting agency message",
    }[type(message)]


def _encoded(message: PeerMessage) -> str:
    from resource_sharing_adapters.iso18626 import encode

    try:
        return encode(message, version="1.2").decode("utf-8")
    except Exception:  # an unencodable message is shown without its XML
        return "(cannot be encoded)"


def _incoming(item: ReceivedMessage) -> dict[str, Any]:
    confirmation = item.confirmation
    answered = confirmation.status.value
    if confirmation.error is not None:
        answered += f": {confirmation.error.type.value} {confirmation.error.value or ''}".rstrip()
    return {
        "at": item.at,
        "incoming": True,
        "direction": "In",
        "with": str(item.sender),
        "kind": _kind(item.message),
        "gist": gist(item.message),
        "fields": fields_of(item.message),
        "status": f"answered {answered}",
        "raw": item.raw or _encoded(item.message),
        "wire": item.raw is not None,
        "message_id": item.message_id,
    }


def _outgoing(entry: OutboxEntry) -> dict[str, Any]:
    effect = entry.effect
    assert isinstance(effect, SendMessage)
    status = entry.status.value
    if entry.attempts:
        status += f" after {entry.attempts} attempt{'s' if entry.attempts != 1 else ''}"
    if entry.last_error:
        status += f"; last error: {entry.last_error}"
    return {
        "at": entry.created_at,
        "incoming": False,
        "direction": "Out",
        "with": str(effect.to),
        "kind": _kind(effect.message),
        "gist": gist(effect.message),
        "fields": fields_of(effect.message),
        "status": status,
        "raw": _encoded(effect.message),
        "wire": True,
        "message_id": entry.key,
    }


def conversation(
    record: AnyRequest, received: Sequence[ReceivedMessage], outbox: Sequence[OutboxEntry]
) -> list[dict[str, Any]]:
    """The request's messages in and out, oldest first (one row each, see the module)."""
    rows = [_incoming(m) for m in received]
    rows.extend(
        _outgoing(e)
        for e in outbox
        if e.request_id == record.id and isinstance(e.effect, SendMessage)
    )
    rows.sort(key=lambda row: (row["at"], not row["incoming"]))
    for number, row in enumerate(rows, 1):
        row["number"] = number
    return rows
