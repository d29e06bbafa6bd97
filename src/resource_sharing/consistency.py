"""Are we in step with the lender? The comparison table and the sweep's plan.

Theory of operation
-------------------
ISO 18626 is stateless: each side keeps its own state, and a message lost or refused
on a hostile network leaves the two apart without either noticing. The borrowing side
can ask (the StatusRequest action; the lender answers with a supplying agency message
whose reason is StatusRequestResponse). The supplying side cannot: ISO 18626 gives the
lender no message that asks the borrower anything, so the lending side has no sweep.

:data:`CONSISTENT` is the table: for every borrowing state, the lender statuses that fit
it. The table is about *where the item is* (not yet supplied, on its way or here,
on its way back, closed), not about the exact last word: a lender that reports Overdue
while the item is on our hold shelf agrees with us that we have it. Each state's own
ISO status (the lifecycle table's ``iso_status``) is always in its row.

When an answer comes, the service first lets the borrowing table apply it (the lender
may simply be ahead: it shipped and our copy of its Loaned was lost), then calls
:func:`compare` with the state we are in afterwards. A status outside the row is *out
of step*: the service stores a task showing both sides and :func:`suggestion`, the step
the phases of the two sides call for (:data:`SUGGESTIONS`, a table of phase pairs).

The sweep (:func:`plan_sweep`) decides, for requests that have not changed state for
:attr:`SweepPolicy.idle_after`, which lenders to ask in one run: never one asked within
that period, at most :attr:`SweepPolicy.per_peer` per lender per run (oldest first),
so one run never floods a partner. It is pure: the candidates and the time come in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.iso18626 import Status
from resource_sharing.records import AgencyId, BorrowingRequest
from resource_sharing.states import BorrowingState as S

__all__ = [
    "CONSISTENT",
    "SUGGESTIONS",
    "Comparison",
    "Phase",
    "SweepPlan",
    "SweepPolicy",
    "compare",
    "phase_of_state",
    "phase_of_status",
    "plan_sweep",
    "suggestion",
]


class Phase(StrEnum):
    """Where the item is, as one side sees it."""

    NOT_SENT = "not_sent"
    """No lender has the request."""
    ASKED = "asked"
    """A lender has the request and has not supplied (received, will supply, conditions)."""
    RETRY = "retry"
    """The lender offered a retry on changed terms."""
    SUPPLIED = "supplied"
    """The item was shipped and is on loan: on its way, here, or with the patron."""
    COPY = "copy"
    """A non-returnable copy was delivered."""
    RETURNED = "returned"
    """The loan is over: the item is back with the lender."""
    LOST = "lost"
    """Closed without the item coming back."""
    NOT_SUPPLIED = "not_supplied"
    """The lender will not supply (unfilled, cancelled)."""


_ASKED = frozenset({Status.REQUEST_RECEIVED, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY})
_LOAN = frozenset(
    {
        Status.LOANED,
        Status.OVERDUE,
        Status.RECALLED,
        Status.HOLD_RETURN,
        Status.RELEASE_HOLD_RETURN,
    }
)

CONSISTENT: Mapping[S, frozenset[Status]] = {
    # nobody has it: any lender status is out of step
    S.CREATED: frozenset(),
    S.PENDING_REVIEW: frozenset(),
    S.LOCATING: frozenset(),
    S.LOCATE_FAILED: frozenset(),
    # a lender has it and has not supplied
    S.SENT: frozenset({Status.REQUEST_RECEIVED}),
    S.WILL_SUPPLY: _ASKED,
    S.CONDITIONAL: _ASKED,
    S.RETRY_OFFERED: frozenset({Status.RETRY_POSSIBLE}),
    S.CANCEL_PENDING: _ASKED,  # its answer to our cancel is on the way
    # the item is on loan to us: on its way, here, with the patron, or on its way back
    S.SHIPPED: _LOAN,
    S.RECEIVED: _LOAN,
    S.ON_LOAN: _LOAN,
    S.RENEW_PENDING_REVIEW: _LOAN,
    S.RENEW_REQUESTED: _LOAN,
    S.RECALLED: _LOAN,
    S.OVERDUE: _LOAN,
    S.RETURNED_BY_PATRON: _LOAN,
    S.RETURN_SHIPPED: _LOAN,  # until the lender checks it in
    S.DAMAGED: _LOAN | {Status.COMPLETED_WITHOUT_RETURN},
    S.COPY_RECEIVED: frozenset({Status.COPY_COMPLETED}),
    # closed
    S.END_OF_ROTA: frozenset({Status.UNFILLED, Status.RETRY_POSSIBLE, Status.CANCELLED}),
    S.COMPLETED: frozenset({Status.LOAN_COMPLETED, Status.COPY_COMPLETED}),
    S.CANCELLED: frozenset({Status.CANCELLED, Status.UNFILLED}),
    S.UNFILLED: frozenset({Status.UNFILLED, Status.RETRY_POSSIBLE, Status.CANCELLED}),
    S.LOST: frozenset({Status.COMPLETED_WITHOUT_RETURN}),
}
"""For each borrowing state, the lender statuses consistent with it."""

_STATE_PHASE: Mapping[S, Phase] = {
    S.CREATED: Phase.NOT_SENT,
    S.PENDING_REVIEW: Phase.NOT_SENT,
    S.LOCATING: Phase.NOT_SENT,
    S.LOCATE_FAILED: Phase.NOT_SENT,
    S.SENT: Phase.ASKED,
    S.WILL_SUPPLY: Phase.ASKED,
    S.CONDITIONAL: Phase.ASKED,
    S.RETRY_OFFERED: Phase.RETRY,
    S.CANCEL_PENDING: Phase.ASKED,
    S.SHIPPED: Phase.SUPPLIED,
    S.RECEIVED: Phase.SUPPLIED,
    S.ON_LOAN: Phase.SUPPLIED,
    S.RENEW_PENDING_REVIEW: Phase.SUPPLIED,
    S.RENEW_REQUESTED: Phase.SUPPLIED,
    S.RECALLED: Phase.SUPPLIED,
    S.OVERDUE: Phase.SUPPLIED,
    S.RETURNED_BY_PATRON: Phase.SUPPLIED,
    S.RETURN_SHIPPED: Phase.SUPPLIED,
    S.DAMAGED: Phase.SUPPLIED,
    S.COPY_RECEIVED: Phase.COPY,
    S.END_OF_ROTA: Phase.NOT_SUPPLIED,
    S.COMPLETED: Phase.RETURNED,
    S.CANCELLED: Phase.NOT_SUPPLIED,
    S.UNFILLED: Phase.NOT_SUPPLIED,
    S.LOST: Phase.LOST,
}

_STATUS_PHASE: Mapping[Status, Phase] = {
    **dict.fromkeys(_ASKED, Phase.ASKED),
    **dict.fromkeys(_LOAN, Phase.SUPPLIED),
    Status.RETRY_POSSIBLE: Phase.RETRY,
    Status.COPY_COMPLETED: Phase.COPY,
    Status.LOAN_COMPLETED: Phase.RETURNED,
    Status.COMPLETED_WITHOUT_RETURN: Phase.LOST,
    Status.UNFILLED: Phase.NOT_SUPPLIED,
    Status.CANCELLED: Phase.NOT_SUPPLIED,
}

SUGGESTIONS: Mapping[tuple[Phase, Phase], str] = {
    (Phase.ASKED, Phase.SUPPLIED): (
        "the lender says it shipped the item: expect it and receive it when it comes,"
        " or ask the lender for the tracking"
    ),
    (Phase.ASKED, Phase.COPY): "the lender says it delivered a copy: look for it, then deliver it",
    (Phase.ASKED, Phase.RETRY): (
        "the lender offers a retry we never received: ask it to send its offer again,"
        " or cancel the request"
    ),
    (Phase.ASKED, Phase.NOT_SUPPLIED): (
        "the lender has closed its side without supplying: cancel here so the rota moves on"
    ),
    (Phase.ASKED, Phase.RETURNED): (
        "the lender has closed a loan we never received: ask it what it shipped, and where"
    ),
    (Phase.ASKED, Phase.LOST): (
        "the lender has written off an item we never received: ask it what it shipped and"
        " when; if it never arrives, report it lost"
    ),
    (Phase.RETRY, Phase.ASKED): (
        "the lender is still working on the request: wait for its answer or decline the retry"
    ),
    (Phase.RETRY, Phase.NOT_SUPPLIED): "decline the retry: the lender has closed its side",
    (Phase.RETRY, Phase.SUPPLIED): (
        "the lender shipped after offering a retry: receive the item when it comes"
    ),
    (Phase.SUPPLIED, Phase.ASKED): (
        "the lender has not recorded the shipment we received: ask it to record the loan"
        " before the item goes back"
    ),
    (Phase.SUPPLIED, Phase.RETURNED): (
        "the lender considers the loan returned while we still have the item (or it is on"
        " its way back): tell the lender, and ship it back if it is still here"
    ),
    (Phase.SUPPLIED, Phase.NOT_SUPPLIED): (
        "the lender has closed the request while its item is with us: contact the lender"
        " and return the item"
    ),
    (Phase.SUPPLIED, Phase.LOST): (
        "the lender has written the item off while we have it: contact the lender about"
        " returning it"
    ),
    (Phase.RETURNED, Phase.SUPPLIED): (
        "we closed the loan but the lender still shows the item on loan: check that it"
        " arrived back and ask the lender to check it in"
    ),
    (Phase.LOST, Phase.SUPPLIED): (
        "the lender has not processed our lost report: report the loss to it again and"
        " settle the bill"
    ),
    (Phase.NOT_SUPPLIED, Phase.SUPPLIED): (
        "the lender shipped a request we closed: receive the item when it comes or return it"
    ),
}
"""The step suggested when our phase (first) and the lender's (second) disagree."""

_FALLBACK = "contact the lender, agree which side is right, then resolve this task"


def phase_of_state(state: S) -> Phase:
    """Where the item is, as our borrowing state says."""
    return _STATE_PHASE[state]


def phase_of_status(status: Status) -> Phase:
    """Where the item is, as a lender's status says."""
    return _STATUS_PHASE[status]


def suggestion(state: S, status: Status | None) -> str:
    """The step staff should take when the lender's status does not fit our state."""
    if status is None:
        return "the lender answered without a status: ask again, or contact the lender"
    pair = (phase_of_state(state), phase_of_status(status))
    return SUGGESTIONS.get(pair, _FALLBACK)


@final
@attrs.frozen
class Comparison:
    """A lender's answer held against our state."""

    state: S
    """Our state (after the borrowing table applied what it could)."""
    status: Status | None
    """What the lender reports (None: an answer without a status)."""
    consistent: bool
    """The status fits our state."""
    suggestion: str | None
    """What staff should do (None when consistent)."""

    def describe(self, lender: AgencyId) -> str:
        """Both sides in words, for the history and the task."""
        theirs = self.status.value if self.status is not None else "no status"
        text = f"{lender} reports {theirs}; we have {self.state.value}"
        if self.consistent:
            return f"in step: {text}"
        return f"out of step: {text}; suggested: {self.suggestion}"


def compare(state: S, status: Status | None, *, closed: bool = False) -> Comparison:
    """Hold a lender's reported status against our state (see :data:`CONSISTENT`).

    ``closed``: the answer itself ended the attempt it is about (an Unfilled that moved
    the rota on): both sides agree that attempt is over, whatever our state is now.
    """
    consistent = closed or (status is not None and status in CONSISTENT[state])
    return Comparison(state, status, consistent, None if consistent else suggestion(state, status))


def _positive(instance: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{attribute.name} must be positive")


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1")


@final
@attrs.frozen
class SweepPolicy:
    """When the consistency sweep runs and how hard it may ask."""

    enabled: bool = True
    """Run the sweep at all."""
    idle_after: timedelta = attrs.field(default=timedelta(days=7), validator=_positive)
    """A request whose state has not changed for this long is asked about; it is not
    asked again until this long after the question."""
    interval: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive)
    """How often a run starts (once per institution, whatever the number of processes)."""
    per_peer: int = attrs.field(default=20, validator=_at_least_one)
    """At most this many StatusRequests to one lender per run."""
    scan_limit: int = attrs.field(default=2000, validator=_at_least_one)
    """At most this many idle requests looked at per run (oldest first)."""


@final
@attrs.frozen
class SweepPlan:
    """What one run asks, and what it leaves."""

    ask: tuple[str, ...]
    """The ids of the requests to ask about, oldest idle first."""
    asked_recently: int
    """Idle requests skipped: asked within ``idle_after`` already."""
    rate_limited: dict[AgencyId, int]
    """Per lender, the idle requests left for a later run by ``per_peer``."""


def plan_sweep(
    candidates: Sequence[BorrowingRequest], now: datetime, policy: SweepPolicy
) -> SweepPlan:
    """Which idle requests to ask about in one run (``candidates``: oldest idle first)."""
    ask: list[str] = []
    per_lender: dict[AgencyId, int] = {}
    limited: dict[AgencyId, int] = {}
    recent = 0
    for request in candidates:
        if not request.attempts or request.attempts[-1].outcome is not None:
            continue  # no lender holds it now
        attempt = request.attempts[-1]
        if (
            attempt.status_asked_at is not None
            and now - attempt.status_asked_at < policy.idle_after
        ):
            recent += 1
            continue
        lender = attempt.lender
        if per_lender.get(lender, 0) >= policy.per_peer:
            limited[lender] = limited.get(lender, 0) + 1
            continue
        per_lender[lender] = per_lender.get(lender, 0) + 1
        ask.append(request.id)
    return SweepPlan(tuple(ask), recent, limited)
