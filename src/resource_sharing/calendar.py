"""Institution calendars: opening days and time zone, passed in as data.

A deadline is counted in the calendar its rule names (the lender's for answer expiry,
the borrower's for the hold shelf). The time zone comes in as a ``tzinfo`` object so the
core never reads the time-zone database itself; callers build it (``ZoneInfo("...")``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import final

import attrs

__all__ = ["Calendar"]

_MAX_SCAN_DAYS = 3660  # a calendar closed for ten years is a configuration error


@final
@attrs.frozen
class Calendar:
    """When an institution is open: closed weekdays, closed dates, and its time zone."""

    tz: tzinfo = UTC
    """The institution's time zone (a ``zoneinfo.ZoneInfo`` in practice)."""
    closed_weekdays: frozenset[int] = frozenset()
    """Weekdays it is closed, ``date.weekday()`` numbering (5 = Saturday, 6 = Sunday)."""
    closed_dates: frozenset[date] = frozenset()
    """Holidays and other closed dates."""

    def is_open(self, day: date) -> bool:
        """True when the institution is open on this local date."""
        return day.weekday() not in self.closed_weekdays and day not in self.closed_dates

    def local_date(self, moment: datetime) -> date:
        """The institution's local date at this moment."""
        return moment.astimezone(self.tz).date()

    def next_open_day(self, day: date) -> date:
        """The first open day on or after ``day``."""
        for offset in range(_MAX_SCAN_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_open(candidate):
                return candidate
        raise ValueError("the calendar has no open day within ten years")

    def add_business_days(self, day: date, days: int) -> date:
        """The open day that is ``days`` open days after ``day`` (0: the next open day)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = self.next_open_day(day)
        for _ in range(days):
            current = self.next_open_day(current + timedelta(days=1))
        return current

    def end_of_day(self, day: date) -> datetime:
        """The last second of this local date, in UTC."""
        local = datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)
        return local.astimezone(UTC)
