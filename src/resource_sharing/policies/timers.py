"""Timers as data: every deadline is a value stored on the record, computed by a pure function.

Theory of operation
-------------------
Nothing waits for a nightly job. When a lifecycle edge starts a clock (a request is sent,
an item ships, a patron due date is set), it computes the
:class:`~resource_sharing.records.Deadline` with one of the functions here and stores it
on the record (:func:`with_deadlines`
replaces any earlier deadline of the same kind; :func:`without_deadlines` clears kinds
when the clock stops). The service's timer scheduler fires each due deadline as a
:class:`~resource_sharing.events.TimerFired` event; the edge that handles it clears or
the lifecycle removes the fired deadline from the record (and refuses a timer whose
deadline is not set), so firing again never fires it twice.

Each deadline is counted in the calendar its rule names (:data:`TIMER_CALENDARS`):

==================  ===========  ========================================================
kind                calendar     rule
==================  ===========  ========================================================
lender_answer       lender       ``PartnerTerms.answer_days`` business days after sending
supply_expiry       lender       ``supply_expiry_days`` business days after arrival
conditional_answer  borrower     ``conditional_answer_days`` business days after the offer
not_received_claim  borrower     ``not_received_days`` days after the lender shipped
hold_shelf_expiry   borrower     ``hold_shelf_days`` business days after it is shelved
due_reminder        borrower     the start of the day ``due_reminder_days`` before due
patron_overdue      (none)       one second after the patron's due date
lender_overdue      (none)       one second after the lender's due date
return_unconfirmed  borrower     ``return_unconfirmed_days`` days after shipping back
==================  ===========  ========================================================

A deadline counted in days ends at the end of that local day (UTC inside). A timer whose
setting is ``None`` is off: its function returns ``None`` and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.policies._checks import not_negative, utc
from resource_sharing.policies.config import TimerPolicy
from resource_sharing.records import (
    Deadline,
    TimerKind,
    sorted_deadlines,
)

__all__ = [
    "TIMER_CALENDARS",
    "CalendarOf",
    "answer_expiry",
    "conditional_answer_expiry",
    "due_reminder",
    "hold_shelf_expiry",
    "lender_overdue",
    "not_received_claim",
    "patron_loan_deadlines",
    "patron_overdue",
    "return_unconfirmed",
    "supply_expiry",
    "with_deadlines",
    "without_deadlines",
]

_ONE_SECOND = timedelta(seconds=1)


class CalendarOf(StrEnum):
    """Whose calendar a deadline is counted in."""

    LENDER = "lender"
    """The supplying institution's."""
    BORROWER = "borrower"
    """The patron's home institution's."""
    NONE = "none"
    """No calendar: the deadline is a fixed moment (a due date passing)."""


TIMER_CALENDARS: Mapping[TimerKind, CalendarOf] = MappingProxyType(
    {
        TimerKind.LENDER_ANSWER: CalendarOf.LENDER,
        TimerKind.SUPPLY_EXPIRY: CalendarOf.LENDER,
        TimerKind.CONDITIONAL_ANSWER: CalendarOf.BORROWER,
        TimerKind.NOT_RECEIVED_CLAIM: CalendarOf.BORROWER,
        TimerKind.HOLD_SHELF_EXPIRY: CalendarOf.BORROWER,
        TimerKind.DUE_REMINDER: CalendarOf.BORROWER,
        TimerKind.PATRON_OVERDUE: CalendarOf.NONE,
        TimerKind.LENDER_OVERDUE: CalendarOf.NONE,
        TimerKind.RETURN_UNCONFIRMED: CalendarOf.BORROWER,
    }
)
"""The calendar each kind of deadline is counted in."""


# --- computing deadlines ------------------------------------------------------------------


def answer_expiry(sent_at: datetime, *, terms: PartnerTerms, lender_calendar: Calendar) -> Deadline:
    """The lender must answer by the end of its ``answer_days``-th business day after sending."""
    days = not_negative("answer_days", terms.answer_days)
    at = lender_calendar.after_business_days(utc("sent_at", sent_at), days)
    return Deadline(at, TimerKind.LENDER_ANSWER)


def supply_expiry(
    received_at: datetime, *, timers: TimerPolicy, lender_calendar: Calendar
) -> Deadline | None:
    """Lending side: the request expires unanswered at the end of this business day."""
    if timers.supply_expiry_days is None:
        return None
    at = lender_calendar.after_business_days(
        utc("received_at", received_at), timers.supply_expiry_days
    )
    return Deadline(at, TimerKind.SUPPLY_EXPIRY)


def conditional_answer_expiry(
    offered_at: datetime, *, timers: TimerPolicy, borrower_calendar: Calendar
) -> Deadline | None:
    """The borrower must accept or reject the lender's conditions by then."""
    if timers.conditional_answer_days is None:
        return None
    at = borrower_calendar.after_business_days(
        utc("offered_at", offered_at), timers.conditional_answer_days
    )
    return Deadline(at, TimerKind.CONDITIONAL_ANSWER)


def not_received_claim(
    shipped_at: datetime, *, timers: TimerPolicy, borrower_calendar: Calendar
) -> Deadline | None:
    """Shipped but not received by then: claim it from the lender."""
    if timers.not_received_days is None:
        return None
    at = borrower_calendar.after_days(utc("shipped_at", shipped_at), timers.not_received_days)
    return Deadline(at, TimerKind.NOT_RECEIVED_CLAIM)


def hold_shelf_expiry(
    shelved_at: datetime, *, timers: TimerPolicy, borrower_calendar: Calendar
) -> Deadline | None:
    """The patron has not collected the item from the hold shelf by then."""
    if timers.hold_shelf_days is None:
        return None
    at = borrower_calendar.after_business_days(
        utc("shelved_at", shelved_at), timers.hold_shelf_days
    )
    return Deadline(at, TimerKind.HOLD_SHELF_EXPIRY)


def return_unconfirmed(
    shipped_back_at: datetime, *, timers: TimerPolicy, borrower_calendar: Calendar
) -> Deadline | None:
    """Shipped back but the lender has not confirmed the check-in by then."""
    if timers.return_unconfirmed_days is None:
        return None
    at = borrower_calendar.after_days(
        utc("shipped_back_at", shipped_back_at), timers.return_unconfirmed_days
    )
    return Deadline(at, TimerKind.RETURN_UNCONFIRMED)


def due_reminder(
    patron_due: datetime, *, timers: TimerPolicy, borrower_calendar: Calendar
) -> Deadline | None:
    """Remind the patron at the start of the local day ``due_reminder_days`` before due."""
    if timers.due_reminder_days is None:
        return None
    due = utc("patron_due", patron_due)
    day = borrower_calendar.local_date(due) - timedelta(days=timers.due_reminder_days)
    return Deadline(borrower_calendar.start_of_day(day), TimerKind.DUE_REMINDER)


def patron_overdue(patron_due: datetime) -> Deadline:
    """The patron's loan is overdue one second after its due date."""
    return Deadline(utc("patron_due", patron_due) + _ONE_SECOND, TimerKind.PATRON_OVERDUE)


def lender_overdue(lender_due: datetime) -> Deadline:
    """Lending side: the loan is overdue one second after the lender's due date."""
    return Deadline(utc("lender_due", lender_due) + _ONE_SECOND, TimerKind.LENDER_OVERDUE)


def patron_loan_deadlines(
    patron_due: datetime, *, timers: TimerPolicy, borrower_calendar: Calendar, now: datetime
) -> tuple[Deadline, ...]:
    """The deadlines of a patron loan with this due date: the reminder and overdue.

    Call it whenever the patron due date is set or changes (loan, renewal, recall) and
    store the result with :func:`with_deadlines`. The reminder is left out when its moment
    is not after ``now`` (a loan shorter than the reminder lead, or a recall).
    """
    moment = utc("now", now)
    deadlines = [patron_overdue(patron_due)]
    reminder = due_reminder(patron_due, timers=timers, borrower_calendar=borrower_calendar)
    if reminder is not None and reminder.at > moment:
        deadlines.append(reminder)
    return tuple(sorted(deadlines))


# --- storing and firing them --------------------------------------------------------------


def with_deadlines(deadlines: Iterable[Deadline], *new: Deadline | None) -> tuple[Deadline, ...]:
    """The stored deadlines with these set (replacing any of the same kind; None skipped)."""
    return sorted_deadlines([*deadlines, *(d for d in new if d is not None)])


def without_deadlines(deadlines: Iterable[Deadline], *kinds: TimerKind) -> tuple[Deadline, ...]:
    """The stored deadlines without any of these kinds (the clock stopped)."""
    drop = frozenset(kinds)
    return tuple(sorted(d for d in deadlines if d.kind not in drop))
