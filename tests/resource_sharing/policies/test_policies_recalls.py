from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.calendar import Calendar
from resource_sharing.policies import (
    PatronLoanRules,
    RecallAction,
    RecallRules,
    RecallSkip,
    due_at,
    patron_due_date,
    recall_for_local_hold,
    recall_patron_loan,
)
from resource_sharing.states import BorrowingState, LendingState
from tests.strategies.policies import (
    WEEKEND,
    borrowing_request,
    calendars,
    days_in_range,
    lending_request,
    patron_loan_rules,
    recall_rules,
)

CAL = Calendar(closed_weekdays=WEEKEND)
NYC = Calendar(tz=ZoneInfo("America/New_York"), closed_weekdays=WEEKEND)
NOW = datetime(2025, 3, 10, 14, tzinfo=UTC)  # Monday; the loan is due 7 April 2025


# --- lending side -------------------------------------------------------------------------


def test_a_local_hold_recalls_the_item_automatically() -> None:
    decision = recall_for_local_hold(
        lending_request(), policy=RecallRules(recall_period_days=14), calendar=CAL, now=NOW
    )
    assert decision.action is RecallAction.RECALL
    assert decision.recall_due == due_at(date(2025, 3, 24))
    assert decision.skip is None


def test_manual_recalls_become_a_staff_task_with_the_same_date() -> None:
    policy = RecallRules(recall_on_local_hold=False, recall_period_days=12)
    decision = recall_for_local_hold(lending_request(), policy=policy, calendar=CAL, now=NOW)
    assert decision.action is RecallAction.STAFF_TASK
    assert decision.recall_due == due_at(date(2025, 3, 24))  # Saturday 22nd -> Monday


@pytest.mark.parametrize(
    ("state", "skip"),
    [
        (LendingState.RECALLED, RecallSkip.ALREADY_RECALLED),
        (LendingState.PICK_FROM_SHELF, RecallSkip.NOT_ON_LOAN),
        (LendingState.RETURNED_BY_PARTNER, RecallSkip.NOT_ON_LOAN),
        (LendingState.OVERDUE, RecallSkip.DUE_SOONER),
    ],
)
def test_each_reason_not_to_recall(state: LendingState, skip: RecallSkip) -> None:
    late = datetime(2025, 4, 10, tzinfo=UTC)
    decision = recall_for_local_hold(
        lending_request(state=state), policy=RecallRules(), calendar=CAL, now=late
    )
    assert decision.action is RecallAction.NONE
    assert decision.skip is skip
    assert decision.recall_due is None


def test_an_item_due_back_before_the_recall_date_is_not_recalled() -> None:
    soon = datetime(2025, 3, 31, tzinfo=UTC)
    decision = recall_for_local_hold(
        lending_request(), policy=RecallRules(), calendar=CAL, now=soon
    )
    assert decision.skip is RecallSkip.DUE_SOONER


@given(
    st.sampled_from(list(LendingState)),
    days_in_range,
    st.integers(0, 90),
    recall_rules,
    calendars(),
)
def test_a_recall_due_date_is_never_later_than_the_original(
    state: LendingState,
    due_day: date,
    days_before: int,
    policy: RecallRules,
    cal: Calendar,
) -> None:
    request = lending_request(state=state, lender_due=due_at(due_day))
    now = due_at(due_day) - timedelta(days=days_before)
    decision = recall_for_local_hold(request, policy=policy, calendar=cal, now=now)
    assert decision == recall_for_local_hold(request, policy=policy, calendar=cal, now=now)
    if decision.action is RecallAction.NONE:
        assert decision.skip is not None
        return
    assert decision.recall_due is not None
    assert decision.recall_due < due_at(due_day)
    assert cal.is_open(decision.recall_due.date())
    assert decision.recall_due.date() >= cal.local_date(now) + timedelta(
        days=policy.recall_period_days
    )
    auto = decision.action is RecallAction.RECALL
    assert auto == policy.recall_on_local_hold


# --- borrowing side -----------------------------------------------------------------------


def test_a_recall_shortens_the_patrons_loan_to_the_recall_period() -> None:
    request = borrowing_request(state=BorrowingState.ON_LOAN)
    recall = recall_patron_loan(
        request, policy=PatronLoanRules(recall_period_days=7), calendar=NYC, now=NOW
    )
    assert recall.patron_due == NYC.end_of_day(date(2025, 3, 17))
    assert recall.lender_due == request.lender_due


def test_the_lenders_recall_date_minus_the_buffer_wins_when_sooner() -> None:
    policy = PatronLoanRules(recall_period_days=10, return_buffer_days=3)
    lender = due_at(date(2025, 3, 17))
    recall = recall_patron_loan(
        borrowing_request(), policy=policy, calendar=CAL, now=NOW, lender_recall_due=lender
    )
    assert recall.patron_due == CAL.end_of_day(date(2025, 3, 14))
    assert recall.patron_due == patron_due_date(lender, policy=policy, calendar=CAL)
    assert recall.lender_due == lender


def test_a_recall_never_lengthens_a_loan_and_gives_at_least_today() -> None:
    soon = borrowing_request(patron_due=CAL.end_of_day(date(2025, 3, 12)))
    recall = recall_patron_loan(soon, policy=PatronLoanRules(), calendar=CAL, now=NOW)
    assert recall.patron_due == CAL.end_of_day(date(2025, 3, 12))
    past = due_at(date(2025, 3, 5))
    urgent = recall_patron_loan(
        borrowing_request(), policy=PatronLoanRules(), calendar=CAL, now=NOW, lender_recall_due=past
    )
    assert urgent.patron_due == CAL.end_of_day(date(2025, 3, 10))


@given(
    days_in_range,
    st.integers(-30, 90),
    st.none() | st.integers(-10, 60),
    patron_loan_rules,
    calendars(),
)
def test_a_recalled_patron_due_date_is_never_later_than_the_current_one(
    due_day: date,
    days_before: int,
    lender_offset: int | None,
    policy: PatronLoanRules,
    cal: Calendar,
) -> None:
    current = cal.end_of_day(due_day)
    request = borrowing_request(patron_due=current, lender_due=due_at(due_day))
    now = current - timedelta(days=days_before)
    lender_recall = None if lender_offset is None else now + timedelta(days=lender_offset)
    kwargs: dict[str, Any] = {
        "policy": policy,
        "calendar": cal,
        "now": now,
        "lender_recall_due": lender_recall,
    }
    recall = recall_patron_loan(request, **kwargs)
    assert recall == recall_patron_loan(request, **kwargs)
    assert recall.patron_due <= current
    assert recall.patron_due <= cal.after_days(now, policy.recall_period_days)
    if recall.patron_due < current:
        assert recall.patron_due >= cal.end_of_day(cal.local_date(now))
