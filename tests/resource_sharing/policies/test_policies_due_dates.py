from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.errors import InvalidInput
from resource_sharing.policies import (
    PatronLoanRules,
    due_at,
    due_date_of,
    lender_due_date,
    patron_due_date,
)
from tests.strategies.policies import WEEKEND, calendars, moments, partner_terms, patron_loan_rules

CPH = Calendar(tz=ZoneInfo("Europe/Copenhagen"), closed_weekdays=WEEKEND)
NYC = Calendar(tz=ZoneInfo("America/New_York"), closed_weekdays=WEEKEND)
SHIPPED = datetime(2025, 3, 3, 10, tzinfo=UTC)  # a Monday
LENDER_DUE = datetime(2025, 4, 7, 23, 59, 59, tzinfo=UTC)  # a Monday


def test_due_dates_are_23_59_59_utc_on_the_wire() -> None:
    assert due_at(date(2025, 4, 7)) == LENDER_DUE
    assert due_date_of(LENDER_DUE) == date(2025, 4, 7)


def test_lender_due_is_delivery_plus_loan_plus_return_moved_off_closed_days() -> None:
    # 3 March + 3 + 28 + 3 = 6 April, a Sunday: due Monday 7 April.
    assert lender_due_date(SHIPPED, terms=PartnerTerms(), calendar=CPH) == LENDER_DUE
    always_open = Calendar(tz=CPH.tz)
    assert lender_due_date(SHIPPED, terms=PartnerTerms(), calendar=always_open) == due_at(
        date(2025, 4, 6)
    )


def test_lender_due_counts_from_the_lenders_local_shipping_date() -> None:
    late = datetime(2025, 3, 2, 23, 30, tzinfo=UTC)  # Monday 00:30 in Copenhagen
    terms = PartnerTerms(delivery_days=0, loan_period_days=1, return_days=0)
    assert lender_due_date(late, terms=terms, calendar=CPH) == due_at(date(2025, 3, 4))
    assert lender_due_date(late, terms=terms, calendar=NYC) == due_at(date(2025, 3, 3))


def test_patron_due_is_lender_due_minus_buffer_at_the_borrowers_end_of_day() -> None:
    due = patron_due_date(LENDER_DUE, policy=PatronLoanRules(return_buffer_days=3), calendar=NYC)
    assert due == NYC.end_of_day(date(2025, 4, 4))
    assert due == datetime(2025, 4, 5, 3, 59, 59, tzinfo=UTC)


def test_patron_due_on_a_closed_day_moves_earlier_not_later() -> None:
    # 7 April - 2 = Saturday 5 April: the patron's loan ends on Friday the 4th.
    due = patron_due_date(LENDER_DUE, policy=PatronLoanRules(return_buffer_days=2), calendar=CPH)
    assert due == CPH.end_of_day(date(2025, 4, 4))


def test_patron_due_never_passes_the_lenders_due_moment() -> None:
    # With no buffer, New York's end of 7 April is 8 April 03:59:59Z: one open day earlier.
    due = patron_due_date(LENDER_DUE, policy=PatronLoanRules(return_buffer_days=0), calendar=NYC)
    assert due == NYC.end_of_day(date(2025, 4, 4))
    cph_due = patron_due_date(
        LENDER_DUE, policy=PatronLoanRules(return_buffer_days=0), calendar=CPH
    )
    assert cph_due == CPH.end_of_day(date(2025, 4, 7))


def test_negative_days_are_refused() -> None:
    with pytest.raises(InvalidInput, match="loan_period_days"):
        lender_due_date(SHIPPED, terms=PartnerTerms(loan_period_days=-1), calendar=CPH)
    with pytest.raises(InvalidInput, match="return_buffer_days"):
        PatronLoanRules(return_buffer_days=-1)
    with pytest.raises(InvalidInput, match="aware"):
        lender_due_date(datetime(2025, 3, 3), terms=PartnerTerms(), calendar=CPH)


@given(moments, partner_terms(), calendars())
def test_lender_due_is_an_open_day_at_least_the_whole_period_later(
    shipped: datetime, terms: PartnerTerms, cal: Calendar
) -> None:
    due = lender_due_date(shipped, terms=terms, calendar=cal)
    assert due == lender_due_date(shipped, terms=terms, calendar=cal)  # deterministic
    assert due.tzinfo is UTC
    assert due.timetz() == time(23, 59, 59, tzinfo=UTC)
    assert cal.is_open(due.date())
    total = terms.delivery_days + terms.loan_period_days + terms.return_days
    assert due.date() >= cal.local_date(shipped) + timedelta(days=total)
    assert not any(
        cal.is_open(cal.local_date(shipped) + timedelta(days=d))
        for d in range(total, (due.date() - cal.local_date(shipped)).days)
    )


@given(moments, patron_loan_rules, calendars())
def test_patron_due_is_an_open_day_before_the_lenders_due(
    moment: datetime, policy: PatronLoanRules, cal: Calendar
) -> None:
    lender_due = due_at(moment.date())
    due = patron_due_date(lender_due, policy=policy, calendar=cal)
    assert due == patron_due_date(lender_due, policy=policy, calendar=cal)  # deterministic
    assert due <= lender_due
    day = cal.local_date(due)
    assert cal.is_open(day)
    assert due == cal.end_of_day(day)
    assert day <= lender_due.date() - timedelta(days=policy.return_buffer_days)
