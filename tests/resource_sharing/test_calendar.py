from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.calendar import Calendar
from resource_sharing.errors import InvalidInput
from tests.strategies.policies import WEEKEND, calendars, days_in_range, moments

CPH = ZoneInfo("Europe/Copenhagen")
NYC = ZoneInfo("America/New_York")
WEEKDAYS = Calendar(closed_weekdays=WEEKEND)
EASTER_MONDAY = date(2025, 4, 21)


def test_is_open_honours_weekdays_and_holidays() -> None:
    cal = Calendar(closed_weekdays=WEEKEND, closed_dates=frozenset({EASTER_MONDAY}))
    assert cal.is_open(date(2025, 4, 22))
    assert not cal.is_open(date(2025, 4, 19))  # Saturday
    assert not cal.is_open(EASTER_MONDAY)


def test_next_and_previous_open_day_skip_closed_days() -> None:
    cal = Calendar(closed_weekdays=WEEKEND, closed_dates=frozenset({EASTER_MONDAY}))
    assert cal.next_open_day(date(2025, 4, 19)) == date(2025, 4, 22)
    assert cal.previous_open_day(EASTER_MONDAY) == date(2025, 4, 18)
    assert cal.next_open_day(date(2025, 4, 22)) == date(2025, 4, 22)
    assert cal.previous_open_day(date(2025, 4, 22)) == date(2025, 4, 22)


def test_add_business_days_skips_weekends() -> None:
    assert WEEKDAYS.add_business_days(date(2025, 3, 7), 1) == date(2025, 3, 10)  # Fri -> Mon
    assert WEEKDAYS.add_business_days(date(2025, 3, 8), 0) == date(2025, 3, 10)  # Sat -> Mon
    assert WEEKDAYS.add_business_days(date(2025, 3, 8), 4) == date(2025, 3, 14)  # from Mon


def test_business_days_between_counts_open_days_after_start() -> None:
    assert WEEKDAYS.business_days_between(date(2025, 3, 7), date(2025, 3, 10)) == 1
    assert WEEKDAYS.business_days_between(date(2025, 3, 3), date(2025, 3, 14)) == 9
    assert WEEKDAYS.business_days_between(date(2025, 3, 10), date(2025, 3, 3)) == 0


def test_end_and_start_of_day_follow_the_local_offset_across_dst() -> None:
    cal = Calendar(tz=CPH)
    assert cal.end_of_day(date(2025, 1, 15)) == datetime(2025, 1, 15, 22, 59, 59, tzinfo=UTC)
    assert cal.end_of_day(date(2025, 7, 15)) == datetime(2025, 7, 15, 21, 59, 59, tzinfo=UTC)
    assert cal.start_of_day(date(2025, 7, 15)) == datetime(2025, 7, 14, 22, tzinfo=UTC)
    assert Calendar(tz=NYC).end_of_day(date(2025, 1, 15)) == datetime(
        2025, 1, 16, 4, 59, 59, tzinfo=UTC
    )


def test_business_days_are_counted_from_the_institutions_local_date() -> None:
    # Friday 23:30 UTC is already Saturday in Copenhagen but still Friday in New York.
    moment = datetime(2025, 3, 7, 23, 30, tzinfo=UTC)
    cph = Calendar(tz=CPH, closed_weekdays=WEEKEND)
    nyc = Calendar(tz=NYC, closed_weekdays=WEEKEND)
    assert cph.after_business_days(moment, 1) == cph.end_of_day(date(2025, 3, 11))
    assert nyc.after_business_days(moment, 1) == nyc.end_of_day(date(2025, 3, 10))


def test_after_days_moves_the_last_day_off_a_closed_day() -> None:
    moment = datetime(2025, 3, 3, 12, tzinfo=UTC)  # Monday
    assert WEEKDAYS.after_days(moment, 5) == WEEKDAYS.end_of_day(date(2025, 3, 10))
    assert WEEKDAYS.after_days(moment, 4) == WEEKDAYS.end_of_day(date(2025, 3, 7))


def test_bad_arguments_are_typed_errors() -> None:
    with pytest.raises(InvalidInput, match="days"):
        WEEKDAYS.add_business_days(date(2025, 3, 3), -1)
    with pytest.raises(ValueError, match="days"):  # InvalidInput is still a ValueError
        WEEKDAYS.after_days(datetime(2025, 3, 3, tzinfo=UTC), -2)
    with pytest.raises(InvalidInput, match="aware"):
        WEEKDAYS.local_date(datetime(2025, 3, 3))
    with pytest.raises(InvalidInput, match="no open day"):
        Calendar(closed_weekdays=frozenset(range(7))).next_open_day(date(2025, 3, 3))


@given(calendars(), days_in_range, st.integers(0, 40))
def test_business_days_between_inverts_add_business_days(cal: Calendar, day: date, n: int) -> None:
    start = cal.next_open_day(day)
    end = cal.add_business_days(start, n)
    assert cal.is_open(end)
    assert cal.business_days_between(start, end) == n


@given(calendars(), moments, st.integers(0, 40))
def test_deadlines_end_an_open_local_day_after_the_moment(
    cal: Calendar, moment: datetime, n: int
) -> None:
    for at in (cal.after_business_days(moment, n), cal.after_days(moment, n)):
        assert at.tzinfo is UTC
        assert at > moment
        local = at.astimezone(cal.tz)
        assert cal.is_open(local.date())
        assert (local.hour, local.minute, local.second) == (23, 59, 59)
    plain = cal.after_days(moment, n).astimezone(cal.tz).date()
    assert plain >= cal.local_date(moment) + timedelta(days=n)


@given(calendars(), days_in_range)
def test_open_day_searches_land_on_open_days_around_the_day(cal: Calendar, day: date) -> None:
    assert cal.previous_open_day(day) <= day <= cal.next_open_day(day)
    assert cal.is_open(cal.previous_open_day(day))
    assert cal.is_open(cal.next_open_day(day))
