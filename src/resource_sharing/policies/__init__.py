"""Policies: due dates, renewals, recalls and timers, as pure and explainable functions.

Theory of operation
-------------------
Every rule that touches a patron's loan is a pure function of its inputs: the record, the
configuration that applies (:class:`~resource_sharing.directory.PartnerTerms` for what a
lender grants, :class:`PatronLoanRules`, :class:`RecallRules`, :class:`TimerPolicy`),
the calendar its rule names, and ``now``. No clock, no global configuration, no I/O: the
lifecycles call these from their edges and turn the returned values into effects.
Every "no" carries a stable reason enum, so a patron is never told "renewal rejected"
without a why.

- :mod:`~resource_sharing.policies.due_dates`: the lender's due date when it ships, and
  the patron's due date derived from it.
- :mod:`~resource_sharing.policies.renewals`: the borrower's checks and routing, the
  lender's automatic or manual decision, and the patron's loan after the answer.
- :mod:`~resource_sharing.policies.recalls`: a local hold recalls a lent item; a recall
  shortens the patron's loan.
- :mod:`~resource_sharing.policies.timers`: deadlines as data, one pure function per timer.
"""

from __future__ import annotations

from resource_sharing.policies.config import (
    PatronLoanRules,
    PatronRenewalRules,
    RecallRules,
    TimerPolicy,
)
from resource_sharing.policies.due_dates import (
    due_at,
    due_date_of,
    lender_due_date,
    patron_due_date,
)
from resource_sharing.policies.recalls import (
    LenderRecallDecision,
    PatronRecall,
    RecallAction,
    RecallSkip,
    recall_for_local_hold,
    recall_patron_loan,
)
from resource_sharing.policies.renewals import (
    LenderRenewalDecision,
    PatronRenewalDecision,
    PatronRenewalOutcome,
    PatronRenewalReason,
    PatronRenewalRoute,
    RenewalReason,
    RenewalRequester,
    RenewalVerdict,
    apply_renewal_answer,
    check_patron_renewal,
    decide_renewal,
    lender_reported_overdue,
    staff_refuse_renewal,
    staff_renewal,
)
from resource_sharing.policies.timers import (
    TIMER_CALENDARS,
    CalendarOf,
    answer_expiry,
    conditional_answer_expiry,
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

__all__ = [
    "TIMER_CALENDARS",
    "CalendarOf",
    "LenderRecallDecision",
    "LenderRenewalDecision",
    "PatronLoanRules",
    "PatronRecall",
    "PatronRenewalDecision",
    "PatronRenewalOutcome",
    "PatronRenewalReason",
    "PatronRenewalRoute",
    "PatronRenewalRules",
    "RecallAction",
    "RecallRules",
    "RecallSkip",
    "RenewalReason",
    "RenewalRequester",
    "RenewalVerdict",
    "TimerPolicy",
    "answer_expiry",
    "apply_renewal_answer",
    "check_patron_renewal",
    "conditional_answer_expiry",
    "decide_renewal",
    "due_at",
    "due_date_of",
    "due_reminder",
    "hold_shelf_expiry",
    "lender_due_date",
    "lender_overdue",
    "lender_reported_overdue",
    "not_received_claim",
    "patron_due_date",
    "patron_loan_deadlines",
    "patron_overdue",
    "recall_for_local_hold",
    "recall_patron_loan",
    "return_unconfirmed",
    "staff_refuse_renewal",
    "staff_renewal",
    "supply_expiry",
    "with_deadlines",
    "without_deadlines",
]
