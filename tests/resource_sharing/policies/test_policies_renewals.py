from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.errors import InvalidInput
from resource_sharing.iso18626 import Status
from resource_sharing.policies import (
    LenderRenewalDecision,
    PatronLoanRules,
    PatronRenewalReason,
    PatronRenewalRoute,
    PatronRenewalRules,
    RenewalReason,
    RenewalRequester,
    RenewalVerdict,
    apply_renewal_answer,
    check_patron_renewal,
    decide_renewal,
    due_at,
    staff_refuse_renewal,
    staff_renewal,
)
from resource_sharing.records import AgencyId, Attempt
from resource_sharing.states import BorrowingState, LendingState
from tests.strategies.policies import (
    WEEKEND,
    borrowing_request,
    calendars,
    days_in_range,
    lending_request,
    partner_terms,
)

CAL = Calendar(closed_weekdays=WEEKEND)
NOW = datetime(2025, 4, 1, 12, tzinfo=UTC)  # the loan is due 7 April 2025
TERMS = PartnerTerms(renewal_period_days=28, max_renewals=1)


def decide(terms: PartnerTerms = TERMS, **overrides: Any) -> LenderRenewalDecision:
    hold = overrides.pop("local_hold", False)
    requested = overrides.pop("requested_due", None)
    return decide_renewal(
        lending_request(**overrides),
        terms=terms,
        calendar=CAL,
        now=NOW,
        local_hold=hold,
        requested_due=requested,
    )


# --- the lender ---------------------------------------------------------------------------


def test_an_automatic_renewal_adds_the_renewal_period_to_the_due_date() -> None:
    decision = decide()
    assert decision.verdict is RenewalVerdict.APPROVED
    assert decision.approved
    assert decision.due == due_at(date(2025, 5, 5))
    assert decision.reason is None
    assert decision.explain() == "renewed until 2025-05-05"


def test_manual_renewals_go_to_staff_with_the_proposed_date() -> None:
    decision = decide(attrs.evolve(TERMS, auto_renew=False))
    assert decision.verdict is RenewalVerdict.STAFF_DECIDES
    assert not decision.approved
    assert decision.due == due_at(date(2025, 5, 5))
    assert "staff to decide" in decision.explain()


@pytest.mark.parametrize(
    ("terms", "overrides", "reason"),
    [
        (attrs.evolve(TERMS, renewals_allowed=False), {}, RenewalReason.RENEWALS_NOT_ALLOWED),
        (TERMS, {"local_hold": True}, RenewalReason.LOCAL_HOLD),
        (TERMS, {"renewal_count": 1}, RenewalReason.MAX_RENEWALS_REACHED),
        (
            attrs.evolve(TERMS, max_renewal_date=date(2025, 4, 30)),
            {},
            RenewalReason.BEYOND_MAX_RENEWAL_DATE,
        ),
        (
            TERMS,
            {"requested_due": due_at(date(2025, 5, 1))},
            RenewalReason.BEYOND_MAX_RENEWAL_DATE,
        ),
        (attrs.evolve(TERMS, max_loan_days=40), {}, RenewalReason.BEYOND_MAX_LOAN_DURATION),
        (
            attrs.evolve(TERMS, renew_overdue=False),
            {"state": LendingState.OVERDUE},
            RenewalReason.OVERDUE_NOT_RENEWED,
        ),
    ],
    ids=[
        "not-allowed",
        "local-hold",
        "max-renewals",
        "max-date",
        "requested-date",
        "duration",
        "overdue",
    ],
)
def test_each_refusal_reason(
    terms: PartnerTerms, overrides: dict[str, Any], reason: RenewalReason
) -> None:
    if "requested_due" in overrides:
        terms = attrs.evolve(terms, max_renewal_date=date(2025, 4, 25))
    decision = decide(terms, **overrides)
    assert decision.verdict is RenewalVerdict.REFUSED
    assert decision.reason is reason
    assert decision.due is None
    assert decision.explain().startswith("renewal refused: ")


def test_refusals_apply_in_manual_mode_too() -> None:
    decision = decide(attrs.evolve(TERMS, auto_renew=False), local_hold=True)
    assert decision.reason is RenewalReason.LOCAL_HOLD


def test_first_reason_wins_when_several_apply() -> None:
    terms = attrs.evolve(TERMS, renewals_allowed=False, max_loan_days=1)
    assert decide(terms, local_hold=True).reason is RenewalReason.RENEWALS_NOT_ALLOWED
    both = attrs.evolve(TERMS, max_loan_days=1, max_renewal_date=date(2025, 4, 10))
    assert decide(both).reason is RenewalReason.BEYOND_MAX_RENEWAL_DATE


def test_a_requested_date_is_granted_up_to_the_renewal_period() -> None:
    sooner = decide(requested_due=due_at(date(2025, 4, 22)))
    assert sooner.due == due_at(date(2025, 4, 22))
    later = decide(requested_due=due_at(date(2025, 9, 1)))
    assert later.due == due_at(date(2025, 5, 5))
    closed = decide(requested_due=due_at(date(2025, 4, 20)))  # a Sunday: the Friday before
    assert closed.due == due_at(date(2025, 4, 18))
    stale = decide(requested_due=due_at(date(2025, 4, 1)))  # not a renewal: the standard
    assert stale.due == due_at(date(2025, 5, 5))
    stored = decide(requested_due=None, lender_due=due_at(date(2025, 4, 7)))
    assert stored.due == due_at(date(2025, 5, 5))
    from_record = decide_renewal(
        lending_request(requested_due=due_at(date(2025, 4, 22))),
        terms=TERMS,
        calendar=CAL,
        now=NOW,
        local_hold=False,
    )
    assert from_record.due == due_at(date(2025, 4, 22))


def test_truncation_caps_at_the_tighter_limit_on_an_open_day() -> None:
    capped = attrs.evolve(TERMS, truncate_renewals=True, max_renewal_date=date(2025, 4, 20))
    decision = decide(capped)
    assert decision.approved
    assert decision.due == due_at(date(2025, 4, 18))  # Sunday 20th -> Friday 18th
    assert decision.reason is RenewalReason.BEYOND_MAX_RENEWAL_DATE
    assert "capped" in decision.explain()
    # Shipped 3 March + 50 days = 22 April, tighter than 25 April.
    duration = attrs.evolve(capped, max_renewal_date=date(2025, 4, 25), max_loan_days=50)
    assert decide(duration).reason is RenewalReason.BEYOND_MAX_LOAN_DURATION
    assert decide(duration).due == due_at(date(2025, 4, 22))


def test_truncation_that_would_not_extend_the_loan_refuses() -> None:
    terms = attrs.evolve(TERMS, truncate_renewals=True, max_renewal_date=date(2025, 4, 7))
    decision = decide(terms)
    assert decision.verdict is RenewalVerdict.REFUSED
    assert decision.reason is RenewalReason.BEYOND_MAX_RENEWAL_DATE


def test_an_overdue_loan_renews_from_today() -> None:
    decision = decide_renewal(
        lending_request(),
        terms=TERMS,
        calendar=CAL,
        now=datetime(2025, 4, 15, 9, tzinfo=UTC),
        local_hold=False,
    )
    assert decision.due == due_at(date(2025, 5, 13))


def test_staff_approval_is_checked_against_the_limits() -> None:
    terms = attrs.evolve(TERMS, auto_renew=False, max_renewal_date=date(2025, 5, 1))
    ok = staff_renewal(lending_request(), due=date(2025, 4, 26), terms=terms, calendar=CAL, now=NOW)
    assert ok.verdict is RenewalVerdict.APPROVED
    assert ok.due == due_at(date(2025, 4, 28))  # Saturday -> Monday
    late = staff_renewal(
        lending_request(), due=date(2025, 5, 2), terms=terms, calendar=CAL, now=NOW
    )
    assert late.reason is RenewalReason.BEYOND_MAX_RENEWAL_DATE
    spent = staff_renewal(
        lending_request(renewal_count=1), due=date(2025, 4, 22), terms=terms, calendar=CAL, now=NOW
    )
    assert spent.reason is RenewalReason.MAX_RENEWALS_REACHED
    with pytest.raises(InvalidInput, match="does not extend"):
        staff_renewal(lending_request(), due=date(2025, 4, 7), terms=terms, calendar=CAL, now=NOW)


def test_staff_refusal_has_its_own_reason() -> None:
    decision = staff_refuse_renewal()
    assert decision.reason is RenewalReason.REFUSED_BY_STAFF
    assert decision.explain() == "renewal refused: staff refused the renewal"


def test_bad_requests_and_decisions_are_typed_errors() -> None:
    with pytest.raises(InvalidInput, match="lender_due"):
        decide(lender_due=None)
    with pytest.raises(InvalidInput, match="shipped_at"):
        decide(shipped_at=None)
    with pytest.raises(InvalidInput, match="renewal_period_days"):
        decide(attrs.evolve(TERMS, renewal_period_days=0))
    with pytest.raises(InvalidInput, match="reason"):
        LenderRenewalDecision(RenewalVerdict.REFUSED)
    with pytest.raises(InvalidInput, match="due"):
        LenderRenewalDecision(RenewalVerdict.APPROVED)


mostly_true = st.sampled_from([True, True, True, False])


@st.composite
def renewal_cases(draw: st.DrawFn) -> dict[str, Any]:
    cal = draw(calendars())
    shipped = draw(days_in_range)
    loan_days = draw(st.integers(0, 120))
    due = cal.next_open_day(shipped + timedelta(days=loan_days))
    terms = attrs.evolve(
        draw(partner_terms()),
        renewals_allowed=draw(mostly_true),
        max_renewals=draw(st.integers(1, 6)),
        # Limits near the loan, so that they bind as often as not.
        max_renewal_date=draw(
            st.none() | st.integers(-10, 120).map(lambda d: due + timedelta(days=d))
        ),
        max_loan_days=draw(st.none() | st.integers(0, loan_days + 120)),
    )
    return {
        "request": lending_request(
            state=draw(st.sampled_from([LendingState.RECEIVED_BY_PARTNER, LendingState.OVERDUE])),
            shipped_at=datetime(shipped.year, shipped.month, shipped.day, 12, tzinfo=UTC),
            lender_due=due_at(due),
            renewal_count=draw(st.integers(0, 2)),
        ),
        "terms": terms,
        "calendar": cal,
        "now": due_at(due) - timedelta(days=draw(st.integers(-60, 30))),
        "local_hold": not draw(mostly_true),
        "requested_due": draw(
            st.none() | st.integers(-10, 150).map(lambda d: due_at(due + timedelta(days=d)))
        ),
    }


def _within_limits(decision: LenderRenewalDecision, case: dict[str, Any]) -> None:
    terms: PartnerTerms = case["terms"]
    assert decision.due is not None
    new = decision.due.date()
    shipped = case["calendar"].local_date(case["request"].shipped_at)
    assert new > case["request"].lender_due.date()
    assert case["calendar"].is_open(new)
    if terms.max_renewal_date is not None:
        assert new <= terms.max_renewal_date
    if terms.max_loan_days is not None:
        assert (new - shipped).days <= terms.max_loan_days


@given(renewal_cases())
def test_an_approved_renewal_never_passes_the_limits(case: dict[str, Any]) -> None:
    decision = decide_renewal(**case)
    assert decision == decide_renewal(**case)  # deterministic
    event(f"{decision.verdict} {decision.reason}")
    if decision.verdict is RenewalVerdict.REFUSED:
        assert decision.reason is not None
        return
    assert case["terms"].renewals_allowed
    assert case["request"].state is not LendingState.OVERDUE or case["terms"].renew_overdue
    assert not case["local_hold"]
    assert (decision.verdict is RenewalVerdict.APPROVED) == case["terms"].auto_renew
    _within_limits(decision, case)


@given(renewal_cases(), st.integers(1, 150))
def test_a_staff_approval_never_passes_the_limits(case: dict[str, Any], days: int) -> None:
    day = case["request"].lender_due.date() + timedelta(days=days)
    args = {k: case[k] for k in ("request", "terms", "calendar", "now")}
    decision = staff_renewal(due=day, **args)
    assert decision == staff_renewal(due=day, **args)  # deterministic
    event(f"{decision.verdict} {decision.reason}")
    if decision.approved:
        _within_limits(decision, case)
    else:
        assert decision.reason is not None


# --- the borrower -------------------------------------------------------------------------

POLICY = PatronLoanRules(renewal=PatronRenewalRules(window_days=7))
IN_WINDOW = datetime(2025, 4, 1, 12, tzinfo=UTC)  # patron due 4 April


def check(policy: PatronLoanRules = POLICY, now: datetime = IN_WINDOW, **kw: Any) -> Any:
    by = kw.pop("by", RenewalRequester.PATRON)
    refused_before = kw.pop("refused_before", False)
    return check_patron_renewal(
        borrowing_request(**kw),
        policy=policy,
        calendar=CAL,
        now=now,
        by=by,
        refused_before=refused_before,
    )


def _rules(**changes: Any) -> PatronLoanRules:
    return attrs.evolve(POLICY, renewal=attrs.evolve(POLICY.renewal, **changes))


@pytest.mark.parametrize(
    ("policy", "now", "overrides", "reason"),
    [
        (_rules(enabled=False), IN_WINDOW, {}, PatronRenewalReason.RENEWALS_DISABLED),
        (POLICY, IN_WINDOW, {"state": BorrowingState.RECEIVED}, PatronRenewalReason.NOT_ON_LOAN),
        (POLICY, IN_WINDOW, {"patron_due": None}, PatronRenewalReason.NOT_ON_LOAN),
        (
            POLICY,
            IN_WINDOW,
            {"state": BorrowingState.RENEW_REQUESTED},
            PatronRenewalReason.ALREADY_REQUESTED,
        ),
        (
            POLICY,
            IN_WINDOW,
            {"state": BorrowingState.RENEW_PENDING_REVIEW},
            PatronRenewalReason.ALREADY_REQUESTED,
        ),
        (POLICY, IN_WINDOW, {"state": BorrowingState.RECALLED}, PatronRenewalReason.RECALLED),
        (POLICY, IN_WINDOW, {"state": BorrowingState.OVERDUE}, PatronRenewalReason.OVERDUE),
        (POLICY, datetime(2025, 4, 5, tzinfo=UTC), {}, PatronRenewalReason.OVERDUE),
        (
            _rules(allowed_groups=frozenset({"faculty"})),
            IN_WINDOW,
            {},
            PatronRenewalReason.PATRON_GROUP_NOT_ALLOWED,
        ),
        (
            _rules(max_renewals=1),
            IN_WINDOW,
            {"renewal_count": 1},
            PatronRenewalReason.MAX_RENEWALS_REACHED,
        ),
        (POLICY, IN_WINDOW, {"refused_before": True}, PatronRenewalReason.REFUSED_BEFORE),
        (POLICY, datetime(2025, 3, 27, 23, tzinfo=UTC), {}, PatronRenewalReason.TOO_EARLY),
    ],
)
def test_each_patron_refusal_reason(
    policy: PatronLoanRules, now: datetime, overrides: dict[str, Any], reason: PatronRenewalReason
) -> None:
    decision = check(policy, now, **overrides)
    assert decision.route is PatronRenewalRoute.REFUSED
    assert decision.reason is reason


def test_the_lenders_no_is_a_reason_for_the_patron() -> None:
    request = borrowing_request()
    outcome = apply_renewal_answer(
        request, approved=False, new_lender_due=None, policy=POLICY, calendar=CAL
    )
    assert not outcome.renewed
    assert outcome.reason is PatronRenewalReason.LENDER_REFUSED
    assert (outcome.lender_due, outcome.patron_due) == (request.lender_due, request.patron_due)
    assert outcome.renewal_count == 0


def test_too_early_says_when_the_window_opens() -> None:
    decision = check(now=datetime(2025, 3, 20, tzinfo=UTC))
    assert decision.window_opens == datetime(2025, 3, 28, tzinfo=UTC)
    assert check(now=datetime(2025, 3, 28, tzinfo=UTC)).route is PatronRenewalRoute.SEND_TO_LENDER
    assert check(_rules(window_days=None), now=datetime(2025, 3, 5, tzinfo=UTC)).reason is None


def test_routes_send_mediate_and_staff_bypass_mediation() -> None:
    assert check().route is PatronRenewalRoute.SEND_TO_LENDER
    mediated = _rules(mediated=True)
    assert check(mediated).route is PatronRenewalRoute.MEDIATE
    assert check(mediated, by=RenewalRequester.STAFF).route is PatronRenewalRoute.SEND_TO_LENDER
    assert check(_rules(allow_after_refusal=True), refused_before=True).reason is None


def test_a_requested_due_date_is_asked_for_when_configured() -> None:
    assert check().requested_due is None
    asked = check(_rules(requested_days=21))
    assert asked.requested_due == due_at(date(2025, 4, 28))


def test_the_lenders_yes_gives_the_patron_a_new_due_date() -> None:
    outcome = apply_renewal_answer(
        borrowing_request(),
        approved=True,
        new_lender_due=due_at(date(2025, 5, 5)),
        policy=POLICY,
        calendar=CAL,
    )
    assert outcome.renewed
    assert outcome.reason is None
    assert outcome.lender_due == due_at(date(2025, 5, 5))
    assert outcome.patron_due == CAL.end_of_day(date(2025, 5, 2))  # buffer 3, then Friday
    assert outcome.renewal_count == 1
    undated = apply_renewal_answer(
        borrowing_request(), approved=True, new_lender_due=None, policy=POLICY, calendar=CAL
    )
    assert undated.lender_due == due_at(date(2025, 4, 7))
    with pytest.raises(InvalidInput, match="new_lender_due"):
        apply_renewal_answer(
            borrowing_request(lender_due=None),
            approved=True,
            new_lender_due=None,
            policy=POLICY,
            calendar=CAL,
        )


@given(
    st.sampled_from(list(BorrowingState)),
    st.integers(0, 3),
    st.integers(-20, 20),
    st.booleans(),
    st.sampled_from(list(RenewalRequester)),
    calendars(),
)
def test_patron_renewal_routing_is_deterministic_and_never_renews_a_refused_loan(
    state: BorrowingState,
    count: int,
    offset: int,
    refused_before: bool,
    by: RenewalRequester,
    cal: Calendar,
) -> None:
    request = borrowing_request(state=state, renewal_count=count)
    assert request.patron_due is not None
    now = request.patron_due - timedelta(days=offset)
    policy = _rules(max_renewals=2, mediated=True)
    args: dict[str, Any] = {"policy": policy, "calendar": cal, "now": now, "by": by}
    decision = check_patron_renewal(request, refused_before=refused_before, **args)
    assert decision == check_patron_renewal(request, refused_before=refused_before, **args)
    if decision.route is not PatronRenewalRoute.REFUSED:
        assert state is BorrowingState.ON_LOAN
        assert now <= request.patron_due
        assert count < 2
        assert not refused_before
        assert (decision.route is PatronRenewalRoute.MEDIATE) == (by is RenewalRequester.PATRON)
    else:
        assert decision.reason is not None


# --- an overdue loan (issue 14.4) ----------------------------------------------------------


def _reported(status: Status | None, **kw: Any) -> Any:
    """A borrowing request whose current lender last reported ``status``."""
    request = borrowing_request(**kw)
    attempt = Attempt(1, AgencyId("ISIL:L"), "B-1-1", request.created_at, last_status=status)
    return attrs.evolve(request, attempts=(attempt,))


LATE = datetime(2025, 4, 10, tzinfo=UTC)  # past both due dates


def test_a_loan_the_lender_reports_overdue_is_sent_for_renewal_by_default() -> None:
    request = _reported(Status.OVERDUE, state=BorrowingState.OVERDUE)
    args: dict[str, Any] = {"policy": POLICY, "calendar": CAL, "now": LATE}
    assert check_patron_renewal(request, **args).route is PatronRenewalRoute.SEND_TO_LENDER
    mediated = check_patron_renewal(request, **{**args, "policy": _rules(mediated=True)})
    assert mediated.route is PatronRenewalRoute.MEDIATE
    # the lender's terms say it does not renew overdue loans: the patron is told why
    strict = PartnerTerms(renew_overdue=False)
    refused = check_patron_renewal(request, lender_terms=strict, **args)
    assert refused.reason is PatronRenewalReason.OVERDUE


def test_an_overdue_the_lender_did_not_report_stays_refused() -> None:
    # our own patron-overdue timer (the lender still says Loaned)
    request = _reported(Status.LOANED, state=BorrowingState.OVERDUE)
    decision = check_patron_renewal(request, policy=POLICY, calendar=CAL, now=LATE)
    assert decision.reason is PatronRenewalReason.OVERDUE


def test_the_lender_side_considers_an_overdue_renewal_unless_its_terms_say_no() -> None:
    assert decide(state=LendingState.OVERDUE).approved
    strict = attrs.evolve(TERMS, renew_overdue=False)
    assert decide(strict, state=LendingState.OVERDUE).reason is RenewalReason.OVERDUE_NOT_RENEWED
    assert decide(strict).approved  # a loan that is not overdue is not affected


@given(
    st.sampled_from(list(BorrowingState)),
    st.none() | st.sampled_from(list(Status)),
    partner_terms(),
    st.integers(-20, 20),
    st.booleans(),
)
def test_an_overdue_loan_is_renewed_only_when_the_lender_reported_it_and_allows_it(
    state: BorrowingState,
    status: Status | None,
    terms: PartnerTerms,
    offset: int,
    mediated: bool,
) -> None:
    request = _reported(status, state=state)
    assert request.patron_due is not None
    now = request.patron_due + timedelta(days=offset)
    args: dict[str, Any] = {"calendar": CAL, "now": now, "lender_terms": terms}
    policy = _rules(mediated=mediated, window_days=None)
    decision = check_patron_renewal(request, policy=policy, **args)
    assert decision == check_patron_renewal(request, policy=policy, **args)
    event(f"{state.value} {decision.route.value}")
    overdue = state is BorrowingState.OVERDUE or now > request.patron_due
    if decision.route is not PatronRenewalRoute.REFUSED:
        assert state in (BorrowingState.ON_LOAN, BorrowingState.OVERDUE)
        if overdue:
            assert state is BorrowingState.OVERDUE
            assert status is Status.OVERDUE
            assert terms.renew_overdue
    elif state is BorrowingState.OVERDUE and status is Status.OVERDUE and terms.renew_overdue:
        raise AssertionError(f"refused a renewable overdue loan: {decision}")
