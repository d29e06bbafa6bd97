"""Recalls: a local hold on a lent item, and the shortened patron loan it causes.

Theory of operation
-------------------
**Lending side** (:func:`recall_for_local_hold`). When a local patron places a hold on an
item that is out on interlibrary loan, the lender wants it back early. The recall due
date is the lender's local today plus ``RecallRules.recall_period_days``, moved to the
lender's next open day, as a due date at 23:59:59Z. A recall only ever *shortens* a
loan: when the item is already due on or before that date there is nothing to recall.
With ``recall_on_local_hold`` the decision is RECALL (the lifecycle sends Recalled with
the new due date); otherwise STAFF_TASK (it goes on a task list with the same date,
and staff confirm or ignore it).

**Borrowing side** (:func:`recall_patron_loan`). When the lender's Recalled arrives, the
patron's loan is shortened to the borrower's local today plus
``PatronLoanRules.recall_period_days`` (moved to an open day), or to the lender's recall
due date minus the return buffer when that is sooner; never before the end of the
borrower's local today (the patron gets at least the day of the notice), and never later
than the patron's current due date. The lifecycle then re-sets the overdue timer from the
new patron due date, so a missed recall becomes overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.calendar import Calendar
from resource_sharing.policies._checks import utc, wire_date, wire_due
from resource_sharing.policies.config import PatronLoanRules, RecallRules
from resource_sharing.policies.due_dates import patron_due_date
from resource_sharing.records import BorrowingRequest, LendingRequest
from resource_sharing.states import LendingState

__all__ = [
    "LenderRecallDecision",
    "PatronRecall",
    "RecallAction",
    "RecallSkip",
    "recall_for_local_hold",
    "recall_patron_loan",
]


class RecallAction(StrEnum):
    """What the lender does about a local hold on a lent item."""

    RECALL = "recall"
    """Recall it now: send Recalled with the recall due date."""
    STAFF_TASK = "staff_task"
    """Manual recalls: put it on the staff task list with the recall due date."""
    NONE = "none"
    """Nothing to recall (see :class:`RecallSkip`)."""


class RecallSkip(StrEnum):
    """Why a local hold does not recall the item."""

    NOT_ON_LOAN = "not_on_loan"
    """The item is not out on loan to the borrower (not shipped yet, or back)."""
    ALREADY_RECALLED = "already_recalled"
    """It was recalled already."""
    DUE_SOONER = "due_sooner"
    """It is due back on or before the recall due date anyway (overdue loans included)."""


@final
@attrs.frozen
class LenderRecallDecision:
    """The lender's decision on a local hold for a lent item."""

    action: RecallAction
    """Recall, staff task, or nothing."""
    recall_due: datetime | None = None
    """RECALL and STAFF_TASK: the due date to ask the borrower for (23:59:59Z)."""
    skip: RecallSkip | None = None
    """NONE: why nothing is recalled."""


_LENT = frozenset(
    {
        LendingState.SHIPPED,
        LendingState.RECEIVED_BY_PARTNER,
        LendingState.RENEW_REQUESTED,
        LendingState.OVERDUE,
    }
)


def recall_for_local_hold(
    request: LendingRequest,
    *,
    policy: RecallRules,
    calendar: Calendar,
    now: datetime,
) -> LenderRecallDecision:
    """The lender's decision when a local patron places a hold on this lent item.

    ``calendar`` is the lender's. A pending renewal is not decided here: the renewal
    policy refuses it (``local_hold=True``) and this recalls.
    """
    moment = utc("now", now)
    if request.state is LendingState.RECALLED:
        return LenderRecallDecision(RecallAction.NONE, None, RecallSkip.ALREADY_RECALLED)
    if request.state not in _LENT or request.lender_due is None:
        return LenderRecallDecision(RecallAction.NONE, None, RecallSkip.NOT_ON_LOAN)
    target = calendar.local_date(moment) + timedelta(days=policy.recall_period_days)
    day = calendar.next_open_day(target)
    if day >= wire_date(request.lender_due):
        return LenderRecallDecision(RecallAction.NONE, None, RecallSkip.DUE_SOONER)
    action = RecallAction.RECALL if policy.recall_on_local_hold else RecallAction.STAFF_TASK
    return LenderRecallDecision(action, wire_due(day), None)


@final
@attrs.frozen
class PatronRecall:
    """The patron's loan after the lender's recall."""

    patron_due: datetime
    """The shortened patron due date (never later than the previous one)."""
    lender_due: datetime | None
    """The lender's due date now (its recall due date when it sent one)."""


def recall_patron_loan(
    request: BorrowingRequest,
    *,
    policy: PatronLoanRules,
    calendar: Calendar,
    now: datetime,
    lender_recall_due: datetime | None = None,
) -> PatronRecall:
    """The patron's shortened loan when the lender recalls the item.

    ``calendar`` is the borrower's; ``lender_recall_due`` the due date the lender sent
    with Recalled, if any. The result is never later than ``request.patron_due``.
    """
    moment = utc("now", now)
    candidate = calendar.after_days(moment, policy.recall_period_days)
    lender_due = request.lender_due
    if lender_recall_due is not None:
        lender_due = utc("lender_recall_due", lender_recall_due)
        candidate = min(candidate, patron_due_date(lender_due, policy=policy, calendar=calendar))
    candidate = max(candidate, calendar.end_of_day(calendar.local_date(moment)))
    if request.patron_due is not None:
        candidate = min(candidate, utc("request.patron_due", request.patron_due))
    return PatronRecall(patron_due=candidate, lender_due=lender_due)
