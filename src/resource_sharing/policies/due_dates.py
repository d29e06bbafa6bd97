"""Due dates: the lender's, given when it ships, and the patron's, derived from it.

Theory of operation
-------------------
**The lender's due date** counts from the lender's local date of shipping: delivery days +
loan period + return days (all calendar days, from the lender's
:class:`~resource_sharing.directory.PartnerTerms`), then moved forward to the next day the
lender is open, so an item is never due back on a day nobody can check it in.

**A due date is a date, stamped 23:59:59 UTC.** ISO 18626 carries due dates as
``...T23:59:59Z`` and both sides display the date. Stamping the *lender's local* end of
day instead would make a New York lender's "due 10 March" travel as ``2025-03-11T03:59:59Z``,
which the borrower reads as 11 March. So the date is counted in the lender's calendar and
the moment is that date at 23:59:59Z; :func:`due_at` builds it, and every due date these
policies return for the lender's side is of that form.

**The patron's due date** is the borrower's business: the lender's due date minus the
borrower's return buffer (:attr:`PatronLoanRules.return_buffer_days`), moved *back* to the
borrower's previous open day (moving forward would eat into the buffer), at the end of
the borrower's local day, and never after the lender's due moment. The patron sees their
own local end of day; the lender never sees this date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.policies._checks import not_negative, utc, wire_date, wire_due
from resource_sharing.policies.config import PatronLoanRules

__all__ = ["due_at", "due_date_of", "lender_due_date", "patron_due_date"]


def due_at(day: date) -> datetime:
    """The due moment for a due date: 23:59:59 UTC of that date (the wire form).

    >>> due_at(date(2025, 3, 10)).isoformat()
    '2025-03-10T23:59:59+00:00'
    """
    return wire_due(day)


def due_date_of(due: datetime) -> date:
    """The due date a lender's due moment stands for (its UTC date)."""
    return wire_date(due)


def lender_due_date(shipped_at: datetime, *, terms: PartnerTerms, calendar: Calendar) -> datetime:
    """The lender's due date for an item shipped at ``shipped_at``.

    ``calendar`` is the lender's; ``terms`` are the terms it lends to this borrower on.
    The result is the first open day (lender's calendar) on or after the local shipping
    date + delivery + loan period + return days, at 23:59:59 UTC.
    """
    shipped = utc("shipped_at", shipped_at)
    total = (
        not_negative("delivery_days", terms.delivery_days)
        + not_negative("loan_period_days", terms.loan_period_days)
        + not_negative("return_days", terms.return_days)
    )
    target = calendar.local_date(shipped) + timedelta(days=total)
    return due_at(calendar.next_open_day(target))


def patron_due_date(
    lender_due: datetime, *, policy: PatronLoanRules, calendar: Calendar
) -> datetime:
    """The patron's due date on the borrowing side for a loan the lender wants back by then.

    ``calendar`` is the borrower's. The result is the end of the borrower's local day on
    the last open day on or before (lender's due date - return buffer), and never later
    than ``lender_due`` itself.
    """
    lender = utc("lender_due", lender_due)
    day = calendar.previous_open_day(wire_date(lender) - timedelta(days=policy.return_buffer_days))
    while calendar.end_of_day(day) > lender:
        # A borrower west of UTC ends its day after 23:59:59Z: step back one open day.
        day = calendar.previous_open_day(day - timedelta(days=1))
    return calendar.end_of_day(day)
