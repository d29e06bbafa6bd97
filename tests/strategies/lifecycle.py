"""Hypothesis strategies for the lifecycle tests: policies, and sequences of events.

An event is drawn as a *maker* (request -> event, see ``builders_lifecycle``) so that peer
messages can name the request's real attempt; the pool also holds the hostile cases: a
message from the wrong agency, about an earlier attempt, a response without its answer,
a rota naming ourselves, timers that are not set.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from resource_sharing.borrowing import BorrowingContext, BorrowingPolicy, EndOfRota
from resource_sharing.directory import PartnerTerms
from resource_sharing.events import (
    AnswerCancel,
    AnswerRenewal,
    AssignRota,
    RequestRenewal,
    SubmitRequest,
    TimerFired,
)
from resource_sharing.iso18626 import Action, ReasonForMessage, Status
from resource_sharing.lending import LendingContext, LendingPolicy
from resource_sharing.records import AgencyId, RotaEntry, TimerKind
from tests.resource_sharing.builders_lifecycle import (
    BORROWING_EVENTS,
    FALLBACK,
    HOME,
    LENDING_EVENTS,
    MANUAL_RENEWALS,
    NO_AUTO_RECALL,
    T0,
    B,
    BorrowingMaker,
    C,
    D,
    LendingMaker,
    const,
    from_borrower,
    from_lender,
    renewals,
    with_conditions,
)

STRANGER = AgencyId("US-STRANGER")

rota_entries = st.lists(
    st.sampled_from([B, C, D, HOME, FALLBACK]).map(RotaEntry), min_size=0, max_size=4
).map(tuple)
"""Rotas, sometimes empty, sometimes naming ourselves or a lender twice."""

BORROWING_MAKERS: list[BorrowingMaker] = [
    *BORROWING_EVENTS.values(),
    const(SubmitRequest(review=True)),
    const(RequestRenewal(by_staff=True)),
    *(from_lender(status) for status in Status),
    *(from_lender(status, ReasonForMessage.STATUS_REQUEST_RESPONSE) for status in Status),
    from_lender(None, ReasonForMessage.CANCEL_RESPONSE),  # no answer: a PeerError
    from_lender(None, ReasonForMessage.RENEW_RESPONSE),
    from_lender(Status.CANCELLED, ReasonForMessage.CANCEL_RESPONSE, answer=True),
    with_conditions(None),
    with_conditions(Status.EXPECT_TO_SUPPLY),
    from_lender(Status.LOANED, sender=STRANGER),  # the wrong counterpart
    from_lender(Status.UNFILLED, attempt=0),  # about the first attempt
    from_lender(Status.LOANED, attempt=0),
    *(const(TimerFired(kind)) for kind in TimerKind),
]
"""Every kind of borrowing event, good and bad."""


@st.composite
def borrowing_makers(draw: st.DrawFn) -> BorrowingMaker:
    """One borrowing event maker, rotas drawn fresh."""
    if draw(st.integers(0, 4)) == 0:
        return const(AssignRota(draw(rota_entries)))
    return draw(st.sampled_from(BORROWING_MAKERS))


@st.composite
def borrowing_contexts(draw: st.DrawFn) -> BorrowingContext:
    """A borrowing context with a drawn policy (the time is set per step)."""
    policy = BorrowingPolicy(
        end_of_rota=draw(st.sampled_from(EndOfRota)),
        fallback=draw(st.sampled_from([None, FALLBACK, B])),
        loan=renewals(
            mediated=draw(st.booleans()),
            window_days=draw(st.sampled_from([None, 7, 30])),
            allowed_groups=draw(st.sampled_from([None, frozenset({"faculty"}), frozenset()])),
        ),
    )
    return BorrowingContext(T0, policy)


LENDING_MAKERS: list[LendingMaker] = [
    *LENDING_EVENTS.values(),
    const(AnswerRenewal(approve=False, note="no")),
    const(AnswerCancel(accept=False)),
    *(from_borrower(action) for action in Action),
    from_borrower(Action.NOTIFICATION, "#ReShareLoanConditionAgreeResponse#"),
    from_borrower(Action.RECEIVED, sender=STRANGER),
    *(const(TimerFired(kind)) for kind in TimerKind),
]
"""Every kind of lending event, good and bad."""


@st.composite
def lending_contexts(draw: st.DrawFn) -> LendingContext:
    """A lending context with a drawn policy."""
    terms = draw(
        st.sampled_from([PartnerTerms(), MANUAL_RENEWALS, PartnerTerms(renewals_allowed=False)])
    )
    kwargs: dict[str, Any] = {
        "terms": terms,
        "rs_library": draw(st.sampled_from([None, "ILL desk"])),
        "auto_cancel": draw(st.booleans()),
        "auto_reject_not_held": draw(st.booleans()),
    }
    if draw(st.booleans()):
        kwargs["recall"] = NO_AUTO_RECALL
    return LendingContext(T0, LendingPolicy(**kwargs))


step_gaps = st.integers(0, 20).map(lambda days: timedelta(days=days))
"""Time passing between two events."""
