from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.errors import InvalidInput
from resource_sharing.policies import (
    TIMER_CALENDARS,
    CalendarOf,
    TimerPolicy,
    answer_expiry,
    conditional_answer_expiry,
    due_at,
    due_reminder,
    hold_shelf_expiry,
    lender_overdue,
    not_received_claim,
    patron_loan_deadlines,
    patron_overdue,
    return_unconfirmed,
    supply_expiry,
    with_deadlines,
    without_deadlines,
)
from resource_sharing.records import Deadline, TimerKind
from tests.strategies.policies import (
    EPOCH,
    WEEKEND,
    calendars,
    moments,
    timer_policies,
)

CPH = Calendar(tz=ZoneInfo("Europe/Copenhagen"), closed_weekdays=WEEKEND)
NYC = Calendar(tz=ZoneInfo("America/New_York"), closed_weekdays=WEEKEND)
FRIDAY_EVENING = datetime(2025, 3, 7, 23, 30, tzinfo=UTC)  # Saturday in Copenhagen
TIMERS = TimerPolicy()
OFF = TimerPolicy(
    conditional_answer_days=None,
    not_received_days=None,
    due_reminder_days=None,
    return_unconfirmed_days=None,
    hold_shelf_days=None,
    supply_expiry_days=None,
)


def test_every_timer_kind_names_its_calendar() -> None:
    assert set(TIMER_CALENDARS) == set(TimerKind)
    assert TIMER_CALENDARS[TimerKind.LENDER_ANSWER] is CalendarOf.LENDER
    assert TIMER_CALENDARS[TimerKind.HOLD_SHELF_EXPIRY] is CalendarOf.BORROWER


def test_answer_expiry_is_counted_in_the_lenders_calendar() -> None:
    terms = PartnerTerms(answer_days=4)
    cph = answer_expiry(FRIDAY_EVENING, terms=terms, lender_calendar=CPH)
    nyc = answer_expiry(FRIDAY_EVENING, terms=terms, lender_calendar=NYC)
    assert cph == Deadline(CPH.end_of_day(date(2025, 3, 14)), TimerKind.LENDER_ANSWER)
    assert nyc == Deadline(NYC.end_of_day(date(2025, 3, 13)), TimerKind.LENDER_ANSWER)


def test_supply_expiry_is_counted_in_the_lenders_business_days() -> None:
    deadline = supply_expiry(FRIDAY_EVENING, timers=TIMERS, lender_calendar=CPH)
    assert deadline == Deadline(CPH.end_of_day(date(2025, 3, 14)), TimerKind.SUPPLY_EXPIRY)


def test_borrower_timers_use_the_borrowers_calendar() -> None:
    start = datetime(2025, 3, 3, 15, tzinfo=UTC)  # Monday
    assert conditional_answer_expiry(start, timers=TIMERS, borrower_calendar=NYC) == Deadline(
        NYC.end_of_day(date(2025, 3, 12)), TimerKind.CONDITIONAL_ANSWER
    )
    assert hold_shelf_expiry(start, timers=TIMERS, borrower_calendar=NYC) == Deadline(
        NYC.end_of_day(date(2025, 3, 12)), TimerKind.HOLD_SHELF_EXPIRY
    )
    # 14 calendar days: Monday 17 March (open).
    assert not_received_claim(start, timers=TIMERS, borrower_calendar=NYC) == Deadline(
        NYC.end_of_day(date(2025, 3, 17)), TimerKind.NOT_RECEIVED_CLAIM
    )
    short = attrs.evolve(TIMERS, return_unconfirmed_days=5)  # Saturday -> Monday 10th
    assert return_unconfirmed(start, timers=short, borrower_calendar=NYC) == Deadline(
        NYC.end_of_day(date(2025, 3, 10)), TimerKind.RETURN_UNCONFIRMED
    )


def test_due_reminder_is_the_start_of_the_day_n_days_before() -> None:
    patron_due = CPH.end_of_day(date(2025, 4, 4))
    assert due_reminder(patron_due, timers=TIMERS, borrower_calendar=CPH) == Deadline(
        CPH.start_of_day(date(2025, 4, 1)), TimerKind.DUE_REMINDER
    )


def test_overdue_fires_one_second_after_the_due_date() -> None:
    due = due_at(date(2025, 4, 7))
    assert patron_overdue(due) == Deadline(
        datetime(2025, 4, 8, tzinfo=UTC), TimerKind.PATRON_OVERDUE
    )
    assert lender_overdue(due).kind is TimerKind.LENDER_OVERDUE
    assert lender_overdue(due).at == datetime(2025, 4, 8, tzinfo=UTC)


def test_switched_off_timers_compute_nothing() -> None:
    start = datetime(2025, 3, 3, tzinfo=UTC)
    assert supply_expiry(start, timers=OFF, lender_calendar=CPH) is None
    assert conditional_answer_expiry(start, timers=OFF, borrower_calendar=CPH) is None
    assert not_received_claim(start, timers=OFF, borrower_calendar=CPH) is None
    assert hold_shelf_expiry(start, timers=OFF, borrower_calendar=CPH) is None
    assert return_unconfirmed(start, timers=OFF, borrower_calendar=CPH) is None
    assert due_reminder(start, timers=OFF, borrower_calendar=CPH) is None


def test_patron_loan_deadlines_skip_a_reminder_already_past() -> None:
    due = CPH.end_of_day(date(2025, 4, 4))
    early = patron_loan_deadlines(
        due, timers=TIMERS, borrower_calendar=CPH, now=datetime(2025, 3, 10, tzinfo=UTC)
    )
    assert [d.kind for d in early] == [TimerKind.DUE_REMINDER, TimerKind.PATRON_OVERDUE]
    late = patron_loan_deadlines(
        due, timers=TIMERS, borrower_calendar=CPH, now=datetime(2025, 4, 3, tzinfo=UTC)
    )
    assert [d.kind for d in late] == [TimerKind.PATRON_OVERDUE]


def test_with_and_without_deadlines_replace_and_clear_by_kind() -> None:
    first = Deadline(EPOCH + timedelta(days=2), TimerKind.LENDER_ANSWER)
    other = Deadline(EPOCH + timedelta(days=1), TimerKind.HOLD_SHELF_EXPIRY)
    moved = Deadline(EPOCH + timedelta(days=5), TimerKind.LENDER_ANSWER)
    stored = with_deadlines((), first, None, other)
    assert stored == (other, first)
    assert with_deadlines(stored, moved) == (other, moved)
    assert without_deadlines(stored, TimerKind.LENDER_ANSWER) == (other,)


def test_naive_moments_are_refused() -> None:
    with pytest.raises(InvalidInput, match="sent_at"):
        answer_expiry(datetime(2025, 1, 1), terms=PartnerTerms(), lender_calendar=CPH)


@given(moments, timer_policies, calendars(), calendars(), st.integers(0, 10))
def test_deadline_functions_are_deterministic_and_in_the_future(
    start: datetime, timers: TimerPolicy, lender: Calendar, borrower: Calendar, answer: int
) -> None:
    computed = [
        answer_expiry(start, terms=PartnerTerms(answer_days=answer), lender_calendar=lender),
        supply_expiry(start, timers=timers, lender_calendar=lender),
        conditional_answer_expiry(start, timers=timers, borrower_calendar=borrower),
        not_received_claim(start, timers=timers, borrower_calendar=borrower),
        hold_shelf_expiry(start, timers=timers, borrower_calendar=borrower),
        return_unconfirmed(start, timers=timers, borrower_calendar=borrower),
    ]
    again = [
        answer_expiry(start, terms=PartnerTerms(answer_days=answer), lender_calendar=lender),
        supply_expiry(start, timers=timers, lender_calendar=lender),
        conditional_answer_expiry(start, timers=timers, borrower_calendar=borrower),
        not_received_claim(start, timers=timers, borrower_calendar=borrower),
        hold_shelf_expiry(start, timers=timers, borrower_calendar=borrower),
        return_unconfirmed(start, timers=timers, borrower_calendar=borrower),
    ]
    assert computed == again
    for deadline in computed:
        if deadline is None:
            continue
        assert deadline.at > start
        cal = lender if TIMER_CALENDARS[deadline.kind] is CalendarOf.LENDER else borrower
        assert cal.is_open(cal.local_date(deadline.at))
    loan = patron_loan_deadlines(
        due_at(start.date()) + timedelta(days=30),
        timers=timers,
        borrower_calendar=borrower,
        now=start,
    )
    assert all(d.at > start for d in loan)
