"""Renewals: the lender's decision, and the borrower's checks before and after it.

Theory of operation
-------------------
A renewal crosses both institutions, and each applies its own rules:

1. **The borrower** (:func:`check_patron_renewal`) checks a patron's (or staff's) request
   against its own rules in :class:`~resource_sharing.policies.config.PatronRenewalRules`:
   the loan must be with the patron, not recalled, and not overdue unless the lender
   reported it Overdue and its terms renew overdue loans (``PartnerTerms.renew_overdue``,
   the default: such lenders expect a Renew); the patron's group must be
   allowed; the borrower's own renewal limit; no second try after the lender said no
   (unless configured); and the renewal window (only so many days before the patron due
   date; a loan the lender reported Overdue is past it). The result routes the request:
   refused with a reason, sent to the lender, or held for staff first (mediated renewals;
   never for a request staff made themselves).
2. **The lender** (:func:`decide_renewal`) applies its terms for that borrower
   (:class:`~resource_sharing.directory.PartnerTerms`). Refusals come first and are the
   same in automatic and manual mode, because the system already knows the answer:
   renewals not allowed, an overdue loan when ``renew_overdue`` is off, a local hold or
   request on the item (always no, as in Alma), maximum renewals reached. Otherwise the
   new due date is proposed and checked against the maximum renew date and the maximum
   loan duration; with ``truncate_renewals`` it is capped at the tighter limit instead
   (still a renewal only if it extends the loan).
   ``auto_renew`` then decides who says yes: the policy (APPROVED) or staff
   (STAFF_DECIDES, with the proposed date; staff answer through :func:`staff_renewal`,
   which re-checks their chosen date against the same limits, or
   :func:`staff_refuse_renewal`).
3. **The borrower again** (:func:`apply_renewal_answer`): a yes gives the patron a new due
   date derived from the lender's new one (minus the return buffer); a no keeps the dates
   and gives the patron notice its reason.

The proposed new due date is the later of the current due date and the lender's local
today, plus ``renewal_period_days``, moved to the lender's next open day. A borrower may
ask for a specific date (``requested_due``): the lender grants up to that date, never more
than its renewal period. Every lender-side date is a due date at 23:59:59Z (see
:mod:`resource_sharing.policies.due_dates`); the loan duration is counted in days from the
lender's local shipping date to the due date.

Every function here is pure: the same arguments give the same decision.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import final

import attrs

from resource_sharing.calendar import Calendar
from resource_sharing.directory import PartnerTerms
from resource_sharing.errors import InvalidInput
from resource_sharing.iso18626 import Status
from resource_sharing.policies._checks import not_negative, utc, wire_date, wire_due
from resource_sharing.policies.config import PatronLoanRules
from resource_sharing.policies.due_dates import patron_due_date
from resource_sharing.records import BorrowingRequest, LendingRequest
from resource_sharing.states import BorrowingState, LendingState

__all__ = [
    "LenderRenewalDecision",
    "PatronRenewalDecision",
    "PatronRenewalOutcome",
    "PatronRenewalReason",
    "PatronRenewalRoute",
    "RenewalReason",
    "RenewalRequester",
    "RenewalVerdict",
    "apply_renewal_answer",
    "check_patron_renewal",
    "decide_renewal",
    "lender_reported_overdue",
    "staff_refuse_renewal",
    "staff_renewal",
]


# --- the lender's decision ----------------------------------------------------------------


class RenewalVerdict(StrEnum):
    """What the lender's renewal policy says."""

    APPROVED = "approved"
    """Renewed: answer RenewResponse yes with the new due date."""
    REFUSED = "refused"
    """Not renewed: answer RenewResponse no; the reason goes in the note."""
    STAFF_DECIDES = "staff_decides"
    """Manual renewals: put it on the staff task list with the proposed due date."""


class RenewalReason(StrEnum):
    """Why the lender refused a renewal (or, on a capped approval, which limit capped it).

    The values are stable: store them, show them, map them to notice templates.
    """

    RENEWALS_NOT_ALLOWED = "renewals_not_allowed"
    """The lender does not renew loans to this partner."""
    OVERDUE_NOT_RENEWED = "overdue_not_renewed"
    """The loan is overdue and the lender does not renew overdue loans to this partner."""
    LOCAL_HOLD = "local_hold"
    """A local patron has a hold or request on the item: always no, as in Alma."""
    MAX_RENEWALS_REACHED = "max_renewals_reached"
    """The loan has had the most renewals the lender grants."""
    BEYOND_MAX_RENEWAL_DATE = "beyond_max_renewal_date"
    """The (requested) new due date is past the lender's maximum renew date."""
    BEYOND_MAX_LOAN_DURATION = "beyond_max_loan_duration"
    """The whole loan, renewals included, would be longer than the lender allows."""
    REFUSED_BY_STAFF = "refused_by_staff"
    """Manual renewals: staff said no."""


_EXPLAIN = {
    RenewalReason.RENEWALS_NOT_ALLOWED: "renewals are not allowed for this partner",
    RenewalReason.OVERDUE_NOT_RENEWED: "overdue loans are not renewed for this partner",
    RenewalReason.LOCAL_HOLD: "the item has a local hold or request",
    RenewalReason.MAX_RENEWALS_REACHED: "the maximum number of renewals is reached",
    RenewalReason.BEYOND_MAX_RENEWAL_DATE: "the new due date is past the maximum renew date",
    RenewalReason.BEYOND_MAX_LOAN_DURATION: "the loan would exceed the maximum loan duration",
    RenewalReason.REFUSED_BY_STAFF: "staff refused the renewal",
}


@final
@attrs.frozen
class LenderRenewalDecision:
    """The lender's answer to a Renew request, with what it rests on."""

    verdict: RenewalVerdict
    """Approved, refused, or staff must decide."""
    due: datetime | None = None
    """APPROVED: the new due date; STAFF_DECIDES: the proposed one (23:59:59Z)."""
    reason: RenewalReason | None = None
    """REFUSED: why; APPROVED or STAFF_DECIDES: the limit that capped the date, if any."""

    def __attrs_post_init__(self) -> None:
        if self.verdict is RenewalVerdict.REFUSED and self.reason is None:
            raise InvalidInput("reason", "a refused renewal needs a reason")
        if self.verdict is not RenewalVerdict.REFUSED and self.due is None:
            raise InvalidInput("due", "an approved or proposed renewal needs a due date")

    @property
    def approved(self) -> bool:
        """True when the renewal is granted."""
        return self.verdict is RenewalVerdict.APPROVED

    def explain(self) -> str:
        """One line for staff, notices and the RenewResponse note."""
        why = _EXPLAIN[self.reason] if self.reason is not None else ""
        if self.verdict is RenewalVerdict.REFUSED or self.due is None:
            return f"renewal refused: {why}"
        day = wire_date(self.due).isoformat()
        capped = f" (capped: {why})" if why else ""
        if self.verdict is RenewalVerdict.APPROVED:
            return f"renewed until {day}{capped}"
        return f"staff to decide; proposed due date {day}{capped}"


def _refused(reason: RenewalReason) -> LenderRenewalDecision:
    return LenderRenewalDecision(RenewalVerdict.REFUSED, None, reason)


@attrs.frozen
class _Loan:
    """The facts of a lending request a renewal decision rests on."""

    due: date
    start: date
    count: int
    today: date


def _loan(request: LendingRequest, calendar: Calendar, now: datetime) -> _Loan:
    if request.lender_due is None:
        raise InvalidInput("request.lender_due", "a loan to renew needs a due date")
    if request.shipped_at is None:
        raise InvalidInput("request.shipped_at", "a loan to renew must have been shipped")
    return _Loan(
        due=wire_date(request.lender_due),
        start=calendar.local_date(utc("request.shipped_at", request.shipped_at)),
        count=not_negative("request.renewal_count", request.renewal_count),
        today=calendar.local_date(utc("now", now)),
    )


def _limits(terms: PartnerTerms, loan: _Loan) -> list[tuple[date, RenewalReason]]:
    """The latest allowed due date under each configured limit, in reason order."""
    limits: list[tuple[date, RenewalReason]] = []
    if terms.max_renewal_date is not None:
        limits.append((terms.max_renewal_date, RenewalReason.BEYOND_MAX_RENEWAL_DATE))
    if terms.max_loan_days is not None:
        last = loan.start + timedelta(days=not_negative("max_loan_days", terms.max_loan_days))
        limits.append((last, RenewalReason.BEYOND_MAX_LOAN_DURATION))
    return limits


def _within_limits(
    day: date,
    *,
    loan: _Loan,
    terms: PartnerTerms,
    calendar: Calendar,
    verdict: RenewalVerdict,
    truncate: bool,
) -> LenderRenewalDecision:
    limits = _limits(terms, loan)
    broken = [(last, reason) for last, reason in limits if day > last]
    if not broken:
        return LenderRenewalDecision(verdict, wire_due(day), None)
    if truncate:
        last, reason = min(broken)
        capped = calendar.previous_open_day(last)
        if capped > loan.due:
            return LenderRenewalDecision(verdict, wire_due(capped), reason)
    return _refused(broken[0][1])


def _proposed(
    loan: _Loan, terms: PartnerTerms, calendar: Calendar, requested: datetime | None
) -> date:
    period = terms.renewal_period_days
    if period < 1:
        # A renewal that adds nothing is a configuration mistake: say renewals_allowed=False.
        raise InvalidInput("renewal_period_days", f"must be at least 1 (got {period})")
    standard = calendar.next_open_day(max(loan.due, loan.today) + timedelta(days=period))
    if requested is None:
        return standard
    wanted = wire_date(utc("requested_due", requested))
    if wanted <= loan.due:
        return standard
    earlier = calendar.previous_open_day(wanted)
    day = earlier if earlier > loan.due else calendar.next_open_day(wanted)
    return min(day, standard)


def decide_renewal(
    request: LendingRequest,
    *,
    terms: PartnerTerms,
    calendar: Calendar,
    now: datetime,
    local_hold: bool,
    requested_due: datetime | None = None,
) -> LenderRenewalDecision:
    """The lender's decision on a borrower's Renew request.

    ``terms`` are the terms the lender lends to this borrower on, ``calendar`` the
    lender's, ``local_hold`` whether a local patron has a hold or request on the item,
    ``requested_due`` the date the borrower asked for (default: ``request.requested_due``).
    Refusal reasons are checked in :class:`RenewalReason` order and the first one wins.
    """
    loan = _loan(request, calendar, now)
    if not terms.renewals_allowed:
        return _refused(RenewalReason.RENEWALS_NOT_ALLOWED)
    if request.state is LendingState.OVERDUE and not terms.renew_overdue:
        return _refused(RenewalReason.OVERDUE_NOT_RENEWED)
    if local_hold:
        return _refused(RenewalReason.LOCAL_HOLD)
    if loan.count >= not_negative("max_renewals", terms.max_renewals):
        return _refused(RenewalReason.MAX_RENEWALS_REACHED)
    wanted = requested_due if requested_due is not None else request.requested_due
    return _within_limits(
        _proposed(loan, terms, calendar, wanted),
        loan=loan,
        terms=terms,
        calendar=calendar,
        verdict=RenewalVerdict.APPROVED if terms.auto_renew else RenewalVerdict.STAFF_DECIDES,
        truncate=terms.truncate_renewals,
    )


def staff_renewal(
    request: LendingRequest,
    *,
    due: date,
    terms: PartnerTerms,
    calendar: Calendar,
    now: datetime,
) -> LenderRenewalDecision:
    """Staff approve a renewal until ``due`` (a date in the lender's calendar).

    The date moves to the lender's next open day and is checked against the maximum
    renewals, the maximum renew date and the maximum loan duration: a date past a limit
    gives a REFUSED decision naming it (never silently capped). Staff may approve
    despite a local hold or ``renewals_allowed=False``: they have seen it. A date that
    does not extend the loan raises :class:`~resource_sharing.errors.InvalidInput`.
    """
    loan = _loan(request, calendar, now)
    day = calendar.next_open_day(due)
    if day <= loan.due:
        raise InvalidInput("due", f"{day} does not extend the loan (due {loan.due})")
    if loan.count >= not_negative("max_renewals", terms.max_renewals):
        return _refused(RenewalReason.MAX_RENEWALS_REACHED)
    return _within_limits(
        day,
        loan=loan,
        terms=terms,
        calendar=calendar,
        verdict=RenewalVerdict.APPROVED,
        truncate=False,
    )


def staff_refuse_renewal() -> LenderRenewalDecision:
    """Staff said no to a renewal on their task list."""
    return _refused(RenewalReason.REFUSED_BY_STAFF)


# --- the borrower's side ------------------------------------------------------------------


class RenewalRequester(StrEnum):
    """Who asked the borrower to renew."""

    PATRON = "patron"
    """The patron (discovery or self-service); mediated when so configured."""
    STAFF = "staff"
    """Staff on the patron's behalf; never mediated (staff are the mediators)."""


class PatronRenewalRoute(StrEnum):
    """Where a patron's renewal request goes next."""

    REFUSED = "refused"
    """Refused by the borrower's own rules: tell the patron why."""
    SEND_TO_LENDER = "send_to_lender"
    """Send Renew to the lender (state renew_requested)."""
    MEDIATE = "mediate"
    """Put it before staff first (state renew_pending_review)."""


class PatronRenewalReason(StrEnum):
    """Why the patron's loan is not renewed: the borrower's rules, or the lender's no.

    The values are stable: store them, show them, map them to notice templates.
    """

    RENEWALS_DISABLED = "renewals_disabled"
    """The borrower does not let patrons renew interlibrary loans."""
    NOT_ON_LOAN = "not_on_loan"
    """The item is not on loan to the patron."""
    ALREADY_REQUESTED = "already_requested"
    """A renewal is already waiting for staff or the lender."""
    RECALLED = "recalled"
    """The lender recalled the item: it must come back."""
    OVERDUE = "overdue"
    """The loan is overdue (and the lender did not report it Overdue, or does not renew
    overdue loans: ``PartnerTerms.renew_overdue``)."""
    PATRON_GROUP_NOT_ALLOWED = "patron_group_not_allowed"
    """The patron's group may not renew interlibrary loans."""
    MAX_RENEWALS_REACHED = "max_renewals_reached"
    """The patron has had the most renewals the borrower allows."""
    REFUSED_BEFORE = "refused_before"
    """The lender already refused a renewal of this loan."""
    TOO_EARLY = "too_early"
    """The renewal window has not opened yet (too long before the due date)."""
    LENDER_REFUSED = "lender_refused"
    """The lender answered no."""


_PATRON_EXPLAIN = {
    PatronRenewalReason.RENEWALS_DISABLED: "interlibrary loans cannot be renewed",
    PatronRenewalReason.NOT_ON_LOAN: "the item is not on loan to you",
    PatronRenewalReason.ALREADY_REQUESTED: "a renewal has already been requested",
    PatronRenewalReason.RECALLED: "the lender recalled the item",
    PatronRenewalReason.OVERDUE: "the loan is overdue",
    PatronRenewalReason.PATRON_GROUP_NOT_ALLOWED: "your patron group may not renew",
    PatronRenewalReason.MAX_RENEWALS_REACHED: "the maximum number of renewals is reached",
    PatronRenewalReason.REFUSED_BEFORE: "the lender already refused a renewal of this loan",
    PatronRenewalReason.TOO_EARLY: "it is too early to renew",
    PatronRenewalReason.LENDER_REFUSED: "the lender did not renew the loan",
}


@final
@attrs.frozen
class PatronRenewalDecision:
    """The borrower's routing of a renewal request."""

    route: PatronRenewalRoute
    """Refused, sent to the lender, or held for staff."""
    reason: PatronRenewalReason | None = None
    """Why it was refused (REFUSED only)."""
    requested_due: datetime | None = None
    """The due date to ask the lender for (None: let the lender choose)."""
    window_opens: datetime | None = None
    """TOO_EARLY: when the patron may ask (for the notice)."""

    def explain(self) -> str:
        """Why, in words, for the patron notice ("" unless REFUSED; see ``window_opens``)."""
        return _PATRON_EXPLAIN[self.reason] if self.reason is not None else ""


@final
@attrs.frozen
class PatronRenewalOutcome:
    """The patron's loan after the lender answered a renewal."""

    renewed: bool
    """The lender said yes."""
    lender_due: datetime | None
    """The lender's due date now."""
    patron_due: datetime | None
    """The patron's due date now."""
    renewal_count: int
    """Renewals granted so far, this one included."""
    reason: PatronRenewalReason | None = None
    """LENDER_REFUSED when the lender said no (for the patron notice)."""


_RENEWING = frozenset({BorrowingState.RENEW_PENDING_REVIEW, BorrowingState.RENEW_REQUESTED})
_RENEWABLE = frozenset({BorrowingState.ON_LOAN, BorrowingState.OVERDUE})


def _refuse_patron(
    reason: PatronRenewalReason, opens: datetime | None = None
) -> PatronRenewalDecision:
    return PatronRenewalDecision(PatronRenewalRoute.REFUSED, reason, None, opens)


def lender_reported_overdue(request: BorrowingRequest) -> bool:
    """The request is overdue because its lender said so (its last status is Overdue)."""
    attempt = request.current_attempt
    return (
        request.state is BorrowingState.OVERDUE
        and attempt is not None
        and attempt.last_status is Status.OVERDUE
    )


def check_patron_renewal(
    request: BorrowingRequest,
    *,
    policy: PatronLoanRules,
    calendar: Calendar,
    now: datetime,
    by: RenewalRequester = RenewalRequester.PATRON,
    refused_before: bool = False,
    lender_terms: PartnerTerms | None = None,
) -> PatronRenewalDecision:
    """Check a renewal request against the borrower's own rules and route it.

    ``calendar`` is the borrower's; ``refused_before`` says the lender already refused a
    renewal of this loan; ``lender_terms`` are the terms the lender advertises (default
    :class:`PartnerTerms`): with ``renew_overdue`` a loan the lender reported Overdue may
    be renewed. Reasons are checked in :class:`PatronRenewalReason` order and the first
    one wins. Staff requests are checked by the same rules but never mediated.
    """
    rules = policy.renewal
    moment = utc("now", now)
    if not rules.enabled:
        return _refuse_patron(PatronRenewalReason.RENEWALS_DISABLED)
    state = request.state
    if state in _RENEWING:
        return _refuse_patron(PatronRenewalReason.ALREADY_REQUESTED)
    if state is BorrowingState.RECALLED:
        return _refuse_patron(PatronRenewalReason.RECALLED)
    overdue_renewable = (
        lender_reported_overdue(request) and (lender_terms or PartnerTerms()).renew_overdue
    )
    if state is BorrowingState.OVERDUE and not overdue_renewable:
        return _refuse_patron(PatronRenewalReason.OVERDUE)
    if state not in _RENEWABLE or request.patron_due is None:
        return _refuse_patron(PatronRenewalReason.NOT_ON_LOAN)
    patron_due = utc("request.patron_due", request.patron_due)
    if moment > patron_due and not overdue_renewable:
        return _refuse_patron(PatronRenewalReason.OVERDUE)
    if rules.allowed_groups is not None and request.patron.group not in rules.allowed_groups:
        return _refuse_patron(PatronRenewalReason.PATRON_GROUP_NOT_ALLOWED)
    if rules.max_renewals is not None and request.renewal_count >= rules.max_renewals:
        return _refuse_patron(PatronRenewalReason.MAX_RENEWALS_REACHED)
    if refused_before and not rules.allow_after_refusal:
        return _refuse_patron(PatronRenewalReason.REFUSED_BEFORE)
    if rules.window_days is not None and not overdue_renewable:
        first = calendar.local_date(patron_due) - timedelta(days=rules.window_days)
        opens = calendar.start_of_day(first)
        if moment < opens:
            return _refuse_patron(PatronRenewalReason.TOO_EARLY, opens)
    requested = None
    if rules.requested_days is not None and request.lender_due is not None:
        lender_day = wire_date(request.lender_due)
        requested = wire_due(lender_day + timedelta(days=rules.requested_days))
    mediate = rules.mediated and by is RenewalRequester.PATRON
    route = PatronRenewalRoute.MEDIATE if mediate else PatronRenewalRoute.SEND_TO_LENDER
    return PatronRenewalDecision(route, None, requested)


def apply_renewal_answer(
    request: BorrowingRequest,
    *,
    approved: bool,
    new_lender_due: datetime | None,
    policy: PatronLoanRules,
    calendar: Calendar,
) -> PatronRenewalOutcome:
    """The patron's loan after the lender's RenewResponse.

    On a yes the lender's new due date (or, if it sent none, the current one) is the
    truth, and the patron's due date is derived from it in the borrower's ``calendar``;
    on a no nothing changes and the reason is LENDER_REFUSED.
    """
    if not approved:
        return PatronRenewalOutcome(
            renewed=False,
            lender_due=request.lender_due,
            patron_due=request.patron_due,
            renewal_count=request.renewal_count,
            reason=PatronRenewalReason.LENDER_REFUSED,
        )
    lender_due = new_lender_due if new_lender_due is not None else request.lender_due
    if lender_due is None:
        raise InvalidInput("new_lender_due", "a renewed loan needs a lender's due date")
    lender_due = utc("new_lender_due", lender_due)
    return PatronRenewalOutcome(
        renewed=True,
        lender_due=lender_due,
        patron_due=patron_due_date(lender_due, policy=policy, calendar=calendar),
        renewal_count=request.renewal_count + 1,
    )
