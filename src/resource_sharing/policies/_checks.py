"""Argument checks shared by the policy modules (private).

Every policy takes its moments and day counts as arguments; these helpers turn a bad one
into :class:`~resource_sharing.errors.InvalidInput` naming the argument, before anything is
computed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from resource_sharing.errors import InvalidInput


def utc(name: str, moment: datetime) -> datetime:
    """The moment in UTC; an InvalidInput when it is naive."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(name, "must be an aware datetime (UTC internally)")
    return moment.astimezone(UTC)


def not_negative(name: str, days: int) -> int:
    """The day count itself; an InvalidInput when it is negative."""
    if days < 0:
        raise InvalidInput(name, f"must not be negative (got {days})")
    return days


def wire_due(day: date) -> datetime:
    """The due moment for a due *date*: 23:59:59 UTC of that date."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def wire_date(due: datetime) -> date:
    """The due date a due moment stands for (its UTC date)."""
    return utc("due", due).date()
