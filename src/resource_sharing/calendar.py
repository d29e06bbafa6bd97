"""Institution calendars: opening days and time zone, passed in as data.

Theory of operation
-------------------
Every institution has one :class:`Calendar`: the weekdays it is closed, its closed dates
(holidays, closures) and its time zone. A deadline is counted in the calendar its rule
names (the lender's for answer expiry, the borrower's for the hold shelf): the start
moment is turned into *that* institution's local date, days are counted on local dates,
and the result is the end of that local day, converted back to UTC. Two institutions in
different time zones therefore see the same deadline as "the end of my Friday" and "the
end of your Friday" respectively, never as an hour-shifted muddle.

The time zone comes in as a ``tzinfo`` object so the core never reads the time-zone
database itself; callers build it (``ZoneInfo("Europe/Copenhagen")``). Every datetime
that goes in must be aware; every datetime that comes out is aware UTC.

Counting rules:

- *business days* skip closed days: :meth:`Calendar.add_business_days` from a closed day
  starts counting at the next open day (a request arriving on Saturday counts as arriving
  on Monday);
- *calendar days* count every day, and only the final day is moved off a closed day
  (:meth:`Calendar.after_days`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import final

import attrs

from resource_sharing.errors import InvalidInput

__all__ = ["Calendar"]

_ONE_DAY = timedelta(days=1)
_MAX_SCAN_DAYS = 3660  # a calendar closed for ten years is a configuration error


def _aware(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(name, "must be an aware datetime (UTC internally)")
    return moment


def _not_negative(name: str, days: int) -> int:
    if days < 0:
        raise InvalidInput(name, f"must not be negative (got {days})")
    return days


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
        return _aware("moment", moment).astimezone(self.tz).date()

    def next_open_day(self, day: date) -> date:
        """The first open day on or after ``day``."""
        if self.is_open(day):
            return day
        for offset in range(1, _MAX_SCAN_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_open(candidate):
                return candidate
        raise InvalidInput("calendar", "the calendar has no open day within ten years")

    def previous_open_day(self, day: date) -> date:
        """The last open day on or before ``day``."""
        for offset in range(_MAX_SCAN_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_open(candidate):
                return candidate
        raise InvalidInput("calendar", "the calendar has no open day within ten years")

    def add_business_days(self, day: date, days: int) -> date:
        """The open day that is ``days`` open days after ``day`` (0: the next open day)."""
        _not_negative("days", days)
        if not self.closed_weekdays and not self.closed_dates:
            return day + timedelta(days=days)  # always open: every day counts
        current = self.next_open_day(day)
        for _ in range(days):
            current = self.next_open_day(current + _ONE_DAY)
        return current

    def business_days_between(self, start: date, end: date) -> int:
        """How many open days lie after ``start`` up to and including ``end``.

        Zero when ``end`` is not after ``start``. The inverse of
        :meth:`add_business_days` for an open ``start``:
        ``business_days_between(d, add_business_days(d, n)) == n``.
        """
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            if self.is_open(day):
                count += 1
            day += timedelta(days=1)
        return count

    def start_of_day(self, day: date) -> datetime:
        """The first moment of this local date, in UTC."""
        return datetime.combine(day, time(0, 0, 0), tzinfo=self.tz).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """The last second of this local date, in UTC."""
        local = datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)
        return local.astimezone(UTC)

    def after_business_days(self, moment: datetime, days: int) -> datetime:
        """The end of the open day ``days`` open days after this moment's local date (UTC).

        >>> from datetime import UTC, datetime
        >>> cal = Calendar(closed_weekdays=frozenset({5, 6}))
        >>> cal.after_business_days(datetime(2025, 3, 7, 10, tzinfo=UTC), 1).isoformat()
        '2025-03-10T23:59:59+00:00'
        """
        return self.end_of_day(self.add_business_days(self.local_date(moment), days))

    def after_days(self, moment: datetime, days: int) -> datetime:
        """The end of the local day ``days`` calendar days after this moment, moved to an open day.

        The result is in UTC; a final day that is closed moves to the next open day.
        """
        _not_negative("days", days)
        target = self.local_date(moment) + timedelta(days=days)
        return self.end_of_day(self.next_open_day(target))
