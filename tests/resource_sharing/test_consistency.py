"""The comparison table (our state against a lender's status) and the sweep's plan."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs
import pytest

from resource_sharing.borrowing import BORROWING, handle_borrowing
from resource_sharing.consistency import (
    CONSISTENT,
    SUGGESTIONS,
    Phase,
    SweepPolicy,
    compare,
    phase_of_state,
    phase_of_status,
    plan_sweep,
    suggestion,
)
from resource_sharing.errors import IllegalTransition, PeerError
from resource_sharing.iso18626 import ReasonForMessage, Status
from resource_sharing.records import AgencyId, AttemptOutcome, BorrowingRequest
from resource_sharing.states import BorrowingState as S
from tests.resource_sharing.builders_lifecycle import T0, bctx, borrowing_in, from_lender

ST = Status
_LOAN = {ST.LOANED, ST.OVERDUE, ST.RECALLED, ST.HOLD_RETURN, ST.RELEASE_HOLD_RETURN}
_ASKED = {ST.REQUEST_RECEIVED, ST.EXPECT_TO_SUPPLY, ST.WILL_SUPPLY}

EXPECTED: dict[S, set[Status]] = {
    S.CREATED: set(),
    S.PENDING_REVIEW: set(),
    S.LOCATING: set(),
    S.LOCATE_FAILED: set(),
    S.SENT: {ST.REQUEST_RECEIVED},
    S.WILL_SUPPLY: _ASKED,
    S.CONDITIONAL: _ASKED,
    S.RETRY_OFFERED: {ST.RETRY_POSSIBLE},
    S.CANCEL_PENDING: _ASKED,
    S.SHIPPED: _LOAN,
    S.RECEIVED: _LOAN,
    S.COPY_RECEIVED: {ST.COPY_COMPLETED},
    S.ON_LOAN: _LOAN,
    S.RENEW_PENDING_REVIEW: _LOAN,
    S.RENEW_REQUESTED: _LOAN,
    S.RECALLED: _LOAN,
    S.OVERDUE: _LOAN,
    S.RETURNED_BY_PATRON: _LOAN,
    S.RETURN_SHIPPED: _LOAN,
    S.DAMAGED: _LOAN | {ST.COMPLETED_WITHOUT_RETURN},
    S.END_OF_ROTA: {ST.UNFILLED, ST.RETRY_POSSIBLE, ST.CANCELLED},
    S.COMPLETED: {ST.LOAN_COMPLETED, ST.COPY_COMPLETED},
    S.CANCELLED: {ST.CANCELLED, ST.UNFILLED},
    S.UNFILLED: {ST.UNFILLED, ST.RETRY_POSSIBLE, ST.CANCELLED},
    S.LOST: {ST.COMPLETED_WITHOUT_RETURN},
}


def test_every_state_has_a_row_and_a_phase() -> None:
    assert set(CONSISTENT) == set(S) == set(EXPECTED)
    for state in S:
        assert isinstance(phase_of_state(state), Phase)
    for status in Status:
        assert isinstance(phase_of_status(status), Phase)


@pytest.mark.parametrize("state", list(S), ids=str)
def test_the_row_of_every_state(state: S) -> None:
    assert set(CONSISTENT[state]) == EXPECTED[state]
    own = BORROWING.info(state).iso_status
    if own is not None and state is not S.CONDITIONAL:
        assert Status(own) in CONSISTENT[state], "a state's own ISO status fits it"
    for status in Status:
        found = compare(state, status)
        assert found.consistent is (status in EXPECTED[state])
        assert (found.suggestion is None) is found.consistent
        if not found.consistent:
            assert found.suggestion == suggestion(state, status)
    assert not compare(state, None).consistent


@pytest.mark.parametrize("state", [s for s in S if not BORROWING.info(s).terminal], ids=str)
def test_an_answer_the_table_applies_lands_in_step(state: S) -> None:
    """Whatever status our table takes from a state, the state it reaches fits it.

    So an answer that moves us on never raises a task at once; one that cannot apply is
    out of step in the state we stay in (unless the row already holds it).
    """
    try:
        request = borrowing_in(state)
    except (KeyError, AssertionError):
        pytest.skip(f"no walk to {state}")
    for status in Status:
        event = from_lender(status, ReasonForMessage.STATUS_REQUEST_RESPONSE)(request)
        try:
            outcome = handle_borrowing(request, event, bctx())
        except (IllegalTransition, PeerError):  # no edge; or no attempt to be about
            continue
        if outcome.applied and outcome.record.state is not state:
            after = outcome.record.state
            attempt = outcome.record.attempt_for(request.attempts[-1].request_id)
            closed = attempt is not None and attempt.outcome is not None
            assert compare(after, status, closed=closed).consistent, (state, status, after)


def test_phase_pairs_that_disagree_have_a_suggestion_that_names_a_step() -> None:
    for (ours, theirs), text in SUGGESTIONS.items():
        assert ours is not theirs
        assert text
        assert text[0].islower()
        assert not text.endswith(".")
    assert "receive" in suggestion(S.WILL_SUPPLY, ST.LOANED)
    assert "ship it back" in suggestion(S.ON_LOAN, ST.LOAN_COMPLETED)
    assert "lost report" in suggestion(S.LOST, ST.LOANED)
    assert suggestion(S.CREATED, ST.LOANED).startswith("contact the lender")


def test_a_comparison_describes_both_sides() -> None:
    lender = AgencyId("US-C")
    assert compare(S.ON_LOAN, ST.OVERDUE).describe(lender) == (
        "in step: ISIL:US-C reports Overdue; we have on_loan"
    )
    assert (
        compare(S.ON_LOAN, ST.WILL_SUPPLY)
        .describe(lender)
        .startswith(
            "out of step: ISIL:US-C reports WillSupply; we have on_loan; suggested: the lender"
        )
    )


# -- the plan ---------------------------------------------------------------------------


def _asked(request: BorrowingRequest, at: datetime) -> BorrowingRequest:
    current = attrs.evolve(request.attempts[-1], status_asked_at=at)
    return attrs.evolve(request, attempts=(*request.attempts[:-1], current))


def test_the_plan_skips_recent_questions_and_limits_each_lender() -> None:
    policy = SweepPolicy(idle_after=timedelta(days=2), per_peer=2)
    base = borrowing_in(S.ON_LOAN)
    many = [attrs.evolve(base, id=f"B-{n}") for n in range(4)]
    many[0] = _asked(many[0], T0 - timedelta(days=1))  # asked yesterday
    many[1] = _asked(many[1], T0 - timedelta(days=3))  # long ago: ask again
    closed = attrs.evolve(
        base,
        id="B-closed",
        attempts=(attrs.evolve(base.attempts[-1], outcome=AttemptOutcome.SUPPLIED),),
    )
    plan = plan_sweep([*many, closed], T0, policy)
    assert plan.ask == ("B-1", "B-2")
    assert plan.asked_recently == 1
    assert plan.rate_limited == {base.attempts[-1].lender: 1}


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="idle_after"):
        SweepPolicy(idle_after=timedelta(0))
    with pytest.raises(ValueError, match="per_peer"):
        SweepPolicy(per_peer=0)
