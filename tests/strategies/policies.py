"""Hypothesis strategies and record builders for the policy and calendar tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.policies import PatronLoanRules, RecallRules, TimerPolicy
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    LendingRequest,
    PatronRef,
)
from resource_sharing.states import BorrowingState, LendingState

ZONES = (
    UTC,
    ZoneInfo("Europe/Copenhagen"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Pacific/Auckland"),
    ZoneInfo("Asia/Kolkata"),
)
WEEKEND = frozenset({5, 6})
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
LENDER = AgencyId("DK-820010")
BORROWER = AgencyId("US-NYC")

time_zones = st.sampled_from(ZONES)
days_in_range = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
moments = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(UTC),
)
small_days = st.integers(min_value=0, max_value=60)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """A calendar open at least three weekdays, with a few holidays, in some time zone."""
    closed = draw(st.frozensets(st.integers(0, 6), max_size=4))
    holidays = draw(st.frozensets(days_in_range, max_size=30))
    return Calendar(tz=draw(time_zones), closed_weekdays=closed, closed_dates=holidays)


@st.composite
def partner_terms(draw: st.DrawFn) -> PartnerTerms:
    """Lending terms with every limit optionally set."""
    return PartnerTerms(
        loan_period_days=draw(small_days),
        delivery_days=draw(st.integers(0, 10)),
        return_days=draw(st.integers(0, 10)),
        renewals_allowed=draw(st.booleans()),
        max_renewals=draw(st.integers(0, 5)),
        renewal_period_days=draw(st.integers(1, 90)),
        auto_renew=draw(st.booleans()),
        max_loan_days=draw(st.none() | st.integers(0, 365)),
        max_renewal_date=draw(st.none() | days_in_range),
        truncate_renewals=draw(st.booleans()),
        answer_days=draw(st.integers(0, 10)),
        renew_overdue=draw(st.booleans()),
    )


patron_loan_rules = st.builds(
    PatronLoanRules,
    return_buffer_days=st.integers(0, 10),
    recall_period_days=st.integers(0, 30),
)
recall_rules = st.builds(
    RecallRules,
    recall_on_local_hold=st.booleans(),
    recall_period_days=st.integers(0, 30),
)
timer_policies = st.builds(
    TimerPolicy,
    conditional_answer_days=st.none() | st.integers(0, 20),
    not_received_days=st.none() | st.integers(0, 30),
    due_reminder_days=st.none() | st.integers(0, 10),
    return_unconfirmed_days=st.none() | st.integers(0, 30),
    hold_shelf_days=st.none() | st.integers(0, 20),
    supply_expiry_days=st.none() | st.integers(0, 10),
)


def lending_request(
    *,
    state: LendingState = LendingState.RECEIVED_BY_PARTNER,
    shipped_at: datetime | None = datetime(2025, 3, 3, 10, tzinfo=UTC),
    lender_due: datetime | None = datetime(2025, 4, 7, 23, 59, 59, tzinfo=UTC),
    renewal_count: int = 0,
    requested_due: datetime | None = None,
) -> LendingRequest:
    """A lending request out on loan (by default shipped 3 March 2025, due 7 April)."""
    return LendingRequest(
        id="L-1",
        agency=LENDER,
        requester=BORROWER,
        requester_request_id="B-1#1",
        citation=Citation(title="Hamlet"),
        created_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
        state=state,
        shipped_at=shipped_at,
        lender_due=lender_due,
        renewal_count=renewal_count,
        requested_due=requested_due,
    )


def borrowing_request(
    *,
    state: BorrowingState = BorrowingState.ON_LOAN,
    lender_due: datetime | None = datetime(2025, 4, 7, 23, 59, 59, tzinfo=UTC),
    patron_due: datetime | None = datetime(2025, 4, 4, 23, 59, 59, tzinfo=UTC),
    renewal_count: int = 0,
    group: str | None = "staff",
) -> BorrowingRequest:
    """A borrowing request on loan to a patron (by default due 4 April 2025, lender's 7th)."""
    return BorrowingRequest(
        id="B-1",
        agency=BORROWER,
        patron=PatronRef("p1", group=group),
        citation=Citation(title="Hamlet"),
        created_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
        state=state,
        lender_due=lender_due,
        patron_due=patron_due,
        renewal_count=renewal_count,
    )
