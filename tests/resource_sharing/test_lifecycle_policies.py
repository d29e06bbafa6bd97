"""The policies are used by the lifecycles: the seed story's renewal and recall, end to end.

A borrows for its patron from C (the seed story without B), through the pure core: each
side's messages are handed to the other's lifecycle. Every date the lifecycles set is
checked against the policy function that should have decided it, so a lifecycle that
computes a rule inline again fails here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resource_sharing.borrowing import BorrowingContext, BorrowingPolicy, handle_borrowing
from resource_sharing.calendar import Calendar
from resource_sharing.directory import Closure, Directory, Partner, PartnerTerms
from resource_sharing.effects import NoticeKind, NotifyPatron, NotifyStaff, SendMessage
from resource_sharing.events import (
    AnswerRenewal,
    AssignRota,
    BorrowingEvent,
    CheckOutItem,
    LendingEvent,
    LocalHoldPlaced,
    PickItem,
    ReceiveItem,
    RequesterMessageReceived,
    RequestRenewal,
    ReturnByPatron,
    ShipItem,
    ShipReturn,
    SubmitRequest,
    SupplierMessageReceived,
    SupplyItem,
)
from resource_sharing.iso18626 import ReasonForMessage, Status
from resource_sharing.lending import LendingContext, LendingPolicy, handle_lending
from resource_sharing.lending import new_lending_request as new_lending
from resource_sharing.messages import Request, RequestingAgencyMessage, SupplyingAgencyMessage
from resource_sharing.policies import (
    PatronLoanRules,
    PatronRenewalRules,
    RecallAction,
    RecallRules,
    RenewalVerdict,
    TimerPolicy,
    answer_expiry,
    decide_renewal,
    hold_shelf_expiry,
    lender_due_date,
    lender_overdue,
    not_received_claim,
    patron_due_date,
    patron_loan_deadlines,
    recall_for_local_hold,
    recall_patron_loan,
    return_unconfirmed,
    supply_expiry,
)
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    Deadline,
    ItemRef,
    LendingRequest,
    PatronRef,
    RotaEntry,
    TimerKind,
)
from resource_sharing.states import BorrowingState, LendingState
from tests.resource_sharing.builders_lifecycle import bctx, borrowing_in, from_lender, renewals

BS, LS = BorrowingState, LendingState
A, C = AgencyId("US-A"), AgencyId("US-C")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, as in the seed story
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks level 2", desk="Main desk")
OPEN_WINDOW = PatronLoanRules(renewal=PatronRenewalRules(window_days=14))
"""A's rules in the seed story: patrons may ask to renew two weeks before the due date."""


@attrs.define
class Pair:
    """A's borrowing request and C's lending request, and the clock they share."""

    borrowing_policy: BorrowingPolicy = attrs.field(
        factory=lambda: BorrowingPolicy(loan=OPEN_WINDOW)
    )
    lending_policy: LendingPolicy = attrs.field(factory=LendingPolicy)
    directory: Directory = attrs.field(factory=Directory)
    now: datetime = T0
    borrowing: BorrowingRequest = attrs.field(
        factory=lambda: BorrowingRequest(
            "A-1", A, PatronRef("p-1", "Ada", group="faculty"), Citation(title="TAOCP"), T0
        )
    )
    lending: LendingRequest | None = None
    sent: list[Any] = attrs.field(factory=list)
    """Every message either side sent, in order."""
    effects: list[Any] = attrs.field(factory=list)
    """Every other effect, in order."""

    @property
    def lent(self) -> LendingRequest:
        assert self.lending is not None
        return self.lending

    def bctx(self) -> BorrowingContext:
        return BorrowingContext(self.now, self.borrowing_policy, self.directory)

    def lctx(self) -> LendingContext:
        return LendingContext(self.now, self.lending_policy)

    def borrow(self, event: BorrowingEvent) -> None:
        outcome = handle_borrowing(self.borrowing, event, self.bctx())
        self.borrowing = outcome.record
        self._exchange(outcome.effects)

    def lend(self, event: LendingEvent) -> None:
        outcome = handle_lending(self.lent, event, self.lctx())
        self.lending = outcome.record
        self._exchange(outcome.effects)

    def _exchange(self, effects: Sequence[Any]) -> None:
        for effect in effects:
            if not isinstance(effect, SendMessage):
                self.effects.append(effect)
                continue
            message = effect.message
            self.sent.append(message)
            if isinstance(message, Request):
                timers = self.lending_policy.timers
                self.lending = new_lending(
                    message, id="C-L1", agency=C, now=self.now, timers=timers
                )
                self.lend(SupplyItem(ITEM))
            elif isinstance(message, SupplyingAgencyMessage):
                self.borrow(SupplierMessageReceived(message))
            elif isinstance(message, RequestingAgencyMessage):
                self.lend(RequesterMessageReceived(message))

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)

    def last_to_borrower(self) -> SupplyingAgencyMessage:
        return [m for m in self.sent if isinstance(m, SupplyingAgencyMessage)][-1]

    def notices(self, kind: NoticeKind) -> list[NotifyPatron]:
        return [e for e in self.effects if isinstance(e, NotifyPatron) and e.notice is kind]


def on_loan(pair: Pair | None = None) -> Pair:
    """The seed story up to the patron's loan: shipped on T0, received and lent on T0+3."""
    pair = pair or Pair()
    pair.borrow(SubmitRequest())
    pair.borrow(AssignRota((RotaEntry(C, "tier 1"),)))
    pair.lend(PickItem())
    pair.lend(ShipItem())
    pair.advance(3)
    pair.borrow(ReceiveItem("A-TEMP-1"))
    pair.borrow(CheckOutItem())
    assert (pair.borrowing.state, pair.lent.state) == (BS.ON_LOAN, LS.RECEIVED_BY_PARTNER)
    return pair


def renewed(pair: Pair | None = None) -> Pair:
    """The seed story's renewal: asked for on T0+23."""
    pair = on_loan(pair)
    pair.advance(20)
    pair.borrow(RequestRenewal())
    return pair


# -- due dates -------------------------------------------------------------------------


def test_shipping_sets_the_lenders_due_date_and_the_patrons_from_it() -> None:
    pair = on_loan()
    terms = pair.lending_policy.terms
    due = lender_due_date(T0, terms=terms, calendar=Calendar())
    assert pair.lent.lender_due == due == pair.borrowing.lender_due
    assert pair.lent.deadlines == (lender_overdue(due),)
    patron_due = patron_due_date(due, policy=OPEN_WINDOW, calendar=Calendar())
    assert pair.borrowing.patron_due == patron_due
    assert pair.borrowing.deadlines == patron_loan_deadlines(
        patron_due, timers=TimerPolicy(), borrower_calendar=Calendar(), now=pair.now
    )


# -- the lender's renewal decision -----------------------------------------------------


def test_the_seed_renewal_is_approved_by_the_lenders_policy() -> None:
    before = on_loan()
    before.advance(20)
    expected = decide_renewal(
        before.lent,
        terms=before.lending_policy.terms,
        calendar=Calendar(),
        now=before.now,
        local_hold=False,
    )
    assert expected.verdict is RenewalVerdict.APPROVED
    before.borrow(RequestRenewal())
    pair = before

    answer = pair.last_to_borrower()
    assert answer.reason is ReasonForMessage.RENEW_RESPONSE
    assert (answer.answer, answer.due_date) == (True, expected.due)
    assert pair.lent.state is LS.RECEIVED_BY_PARTNER
    assert (pair.lent.lender_due, pair.lent.renewal_count) == (expected.due, 1)
    assert expected.due is not None
    assert pair.lent.deadlines == (lender_overdue(expected.due),)
    # the borrower: the patron's due date follows the lender's new one
    patron_due = patron_due_date(expected.due, policy=OPEN_WINDOW, calendar=Calendar())
    assert pair.borrowing.state is BS.ON_LOAN
    assert (pair.borrowing.lender_due, pair.borrowing.patron_due) == (expected.due, patron_due)
    assert pair.borrowing.renewal_count == 1
    assert [n.due for n in pair.notices(NoticeKind.RENEWED)] == [patron_due]


def test_a_renewal_past_the_maximum_is_refused_with_the_reason_in_the_note() -> None:
    pair = renewed(Pair(lending_policy=LendingPolicy(terms=PartnerTerms(max_renewals=0))))
    answer = pair.last_to_borrower()
    assert answer.reason is ReasonForMessage.RENEW_RESPONSE
    assert answer.answer is False
    assert answer.note is not None
    assert answer.note.startswith("max_renewals_reached: ")
    assert pair.lent.renewal_count == 0
    # the patron is told no, with the lender's reason
    assert pair.borrowing.state is BS.ON_LOAN
    (notice,) = pair.notices(NoticeKind.RENEWAL_REFUSED)
    assert notice.detail is not None
    assert notice.detail.startswith("lender_refused: max_renewals_reached: ")


def test_a_renewal_past_the_maximum_renew_date_is_refused() -> None:
    limit = (T0 + timedelta(days=40)).date()
    terms = PartnerTerms(max_renewal_date=limit)
    pair = renewed(Pair(lending_policy=LendingPolicy(terms=terms)))
    note = pair.last_to_borrower().note
    assert note is not None
    assert note.startswith("beyond_max_renewal_date: ")


def test_manual_renewal_terms_leave_it_to_staff_who_answer_through_the_policy() -> None:
    manual = LendingPolicy(terms=PartnerTerms(auto_renew=False))
    pair = renewed(Pair(lending_policy=manual))
    assert pair.lent.state is LS.RENEW_REQUESTED
    assert pair.borrowing.state is BS.RENEW_REQUESTED
    proposal = decide_renewal(
        pair.lent, terms=manual.terms, calendar=Calendar(), now=pair.now, local_hold=False
    )
    assert proposal.verdict is RenewalVerdict.STAFF_DECIDES
    pair.lend(AnswerRenewal(approve=True))
    answer = pair.last_to_borrower()
    assert (answer.answer, answer.due_date) == (True, proposal.due)
    assert pair.borrowing.lender_due == proposal.due


def test_staff_refusal_carries_its_reason() -> None:
    pair = renewed(Pair(lending_policy=LendingPolicy(terms=PartnerTerms(auto_renew=False))))
    pair.lend(AnswerRenewal(approve=False, note="we need it back"))
    answer = pair.last_to_borrower()
    assert answer.answer is False
    assert answer.note == (
        "refused_by_staff: renewal refused: staff refused the renewal (we need it back)"
    )
    assert pair.lent.state is LS.RECEIVED_BY_PARTNER


def test_staff_cannot_approve_past_the_limits() -> None:
    limit = (T0 + timedelta(days=40)).date()
    terms = PartnerTerms(auto_renew=False, max_renewal_date=limit)
    pair = on_loan(Pair(lending_policy=LendingPolicy(terms=terms)))
    pair.advance(20)
    pair.borrow(RequestRenewal())
    # the proposal is past the limit: refused without staff
    note = pair.last_to_borrower().note
    assert note is not None
    assert note.startswith("beyond_max_renewal_date: ")
    assert pair.lent.state is LS.RECEIVED_BY_PARTNER


# -- recalls ---------------------------------------------------------------------------


def test_a_local_hold_recalls_the_loan() -> None:
    pair = renewed()
    before = pair.borrowing
    pair.advance(5)
    decision = recall_for_local_hold(
        pair.lent, policy=RecallRules(), calendar=Calendar(), now=pair.now
    )
    assert decision.action is RecallAction.RECALL
    assert decision.recall_due is not None
    pair.lend(LocalHoldPlaced("c-patron-9"))

    assert pair.lent.state is LS.RECALLED
    assert pair.lent.lender_due == decision.recall_due
    assert pair.lent.deadlines == (lender_overdue(decision.recall_due),)
    recalled = pair.last_to_borrower()
    assert (recalled.status, recalled.due_date) == (Status.RECALLED, decision.recall_due)
    # the borrower shortens the patron's loan, never lengthens it
    expected = recall_patron_loan(
        before,
        policy=OPEN_WINDOW,
        calendar=Calendar(),
        now=pair.now,
        lender_recall_due=decision.recall_due,
    )
    assert pair.borrowing.state is BS.RECALLED
    assert pair.borrowing.patron_due == expected.patron_due
    assert pair.borrowing.lender_due == decision.recall_due
    assert before.patron_due is not None
    assert expected.patron_due <= before.patron_due
    assert pair.borrowing.deadlines == (
        Deadline(expected.patron_due + timedelta(seconds=1), TimerKind.PATRON_OVERDUE),
    )
    assert [n.due for n in pair.notices(NoticeKind.RECALLED)] == [expected.patron_due]


def test_a_local_hold_is_a_staff_task_when_recalls_are_manual() -> None:
    manual = LendingPolicy(recall=RecallRules(recall_on_local_hold=False))
    any_time = PatronLoanRules(renewal=PatronRenewalRules(window_days=None))
    pair = renewed(Pair(borrowing_policy=BorrowingPolicy(loan=any_time), lending_policy=manual))
    pair.advance(5)
    decision = recall_for_local_hold(
        pair.lent, policy=manual.recall, calendar=Calendar(), now=pair.now
    )
    assert decision.action is RecallAction.STAFF_TASK
    assert decision.recall_due is not None
    sent = len(pair.sent)
    pair.lend(LocalHoldPlaced("c-patron-9"))
    assert pair.lent.state is LS.RECEIVED_BY_PARTNER
    assert pair.lent.local_hold
    assert len(pair.sent) == sent  # nothing told to the borrower yet
    task = pair.effects[-1]
    assert isinstance(task, NotifyStaff)
    assert decision.recall_due.date().isoformat() in task.text
    # the hold refuses the next renewal, with the reason
    pair.borrow(RequestRenewal(by_staff=True))
    note = pair.last_to_borrower().note
    assert note is not None
    assert note.startswith("local_hold: ")


def test_a_local_hold_on_a_loan_due_sooner_recalls_nothing() -> None:
    pair = on_loan()
    pair.advance(25)  # due in a week; a recall would give 14 days
    sent = len(pair.sent)
    pair.lend(LocalHoldPlaced("c-patron-9"))
    assert pair.lent.state is LS.RECEIVED_BY_PARTNER
    assert pair.lent.local_hold
    assert len(pair.sent) == sent
    note = pair.effects[-1]
    assert isinstance(note, NotifyStaff)
    assert "due_sooner" in note.text


@settings(max_examples=40, deadline=None)
@given(
    days=st.integers(0, 40),
    recall_days=st.integers(0, 30),
    lender_recall=st.none() | st.integers(-5, 60),
)
def test_a_recall_never_lengthens_the_patrons_loan(
    days: int, recall_days: int, lender_recall: int | None
) -> None:
    policy = BorrowingPolicy(loan=PatronLoanRules(recall_period_days=recall_days))
    pair = on_loan(Pair(borrowing_policy=policy))
    before = pair.borrowing.patron_due
    assert before is not None
    pair.advance(days)
    due = None if lender_recall is None else pair.now + timedelta(days=lender_recall)
    message = attrs.evolve(
        pair.last_to_borrower(),
        reason=ReasonForMessage.STATUS_CHANGE,
        status=Status.RECALLED,
        answer=None,
        due_date=due,
    )
    outcome = handle_borrowing(pair.borrowing, SupplierMessageReceived(message), pair.bctx())
    assert outcome.record.state is BS.RECALLED
    assert outcome.record.patron_due is not None
    assert outcome.record.patron_due <= before


# -- the borrower's own renewal rules --------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        (PatronRenewalRules(), "too_early"),  # a 7-day window, asked 18 days before
        (PatronRenewalRules(enabled=False), "renewals_disabled"),
        (
            PatronRenewalRules(window_days=None, allowed_groups=frozenset({"staff"})),
            "patron_group_not_allowed",
        ),
        (PatronRenewalRules(window_days=None, max_renewals=0), "max_renewals_reached"),
    ],
)
def test_the_borrowers_rules_refuse_a_patrons_renewal_with_a_reason(
    rules: PatronRenewalRules, reason: str
) -> None:
    policy = BorrowingPolicy(loan=PatronLoanRules(renewal=rules))
    pair = on_loan(Pair(borrowing_policy=policy))
    pair.advance(2)
    sent = len(pair.sent)
    pair.borrow(RequestRenewal())
    assert pair.borrowing.state is BS.ON_LOAN
    assert len(pair.sent) == sent  # the lender is not asked
    (notice,) = pair.notices(NoticeKind.RENEWAL_REFUSED)
    assert notice.detail is not None
    assert notice.detail.startswith(f"{reason}: ")


def test_too_early_says_when_the_window_opens() -> None:
    pair = on_loan(Pair(borrowing_policy=BorrowingPolicy()))
    pair.borrow(RequestRenewal())
    (notice,) = pair.notices(NoticeKind.RENEWAL_REFUSED)
    assert notice.detail is not None
    assert "renewals open on 2026-03-26" in notice.detail  # due 2 April, a 7-day window


def test_mediated_renewals_wait_for_staff_unless_staff_asked() -> None:
    mediated = PatronLoanRules(renewal=PatronRenewalRules(window_days=None, mediated=True))
    pair = on_loan(Pair(borrowing_policy=BorrowingPolicy(loan=mediated)))
    pair.borrow(RequestRenewal())
    assert pair.borrowing.state is BS.RENEW_PENDING_REVIEW
    staff = on_loan(Pair(borrowing_policy=BorrowingPolicy(loan=mediated)))
    staff.borrow(RequestRenewal(by_staff=True))
    assert staff.borrowing.state is BS.ON_LOAN  # sent, answered yes by C's policy
    assert staff.borrowing.renewal_count == 1


# -- deadlines from the timer policy ---------------------------------------------------


def test_the_answer_deadline_is_the_lenders_terms_in_the_lenders_calendar() -> None:
    weekdays = Calendar(closed_weekdays=frozenset({5, 6}))
    lender = Partner(C, terms=PartnerTerms(answer_days=2), calendar=weekdays)
    pair = Pair(directory=Directory.of([lender]))
    pair.advance(4)  # a Friday: the deadline skips C's weekend
    pair.borrow(SubmitRequest())
    outcome = handle_borrowing(pair.borrowing, AssignRota((RotaEntry(C),)), pair.bctx())
    expected = answer_expiry(pair.now, terms=lender.terms, lender_calendar=weekdays)
    assert outcome.record.deadlines == (expected,)
    assert expected.at.date() == (pair.now + timedelta(days=4)).date()  # Tuesday


def test_the_return_chase_deadline_comes_from_the_timer_policy() -> None:
    timers = TimerPolicy(return_unconfirmed_days=9)
    pair = on_loan(Pair(borrowing_policy=BorrowingPolicy(timers=timers)))
    pair.borrow(ReturnByPatron("Main"))
    pair.borrow(ShipReturn())
    chase = return_unconfirmed(pair.now, timers=timers, borrower_calendar=Calendar())
    assert pair.borrowing.deadlines == (chase,)


def test_the_hold_shelf_deadline_is_set_on_receipt() -> None:
    timers = TimerPolicy(hold_shelf_days=3)
    pair = Pair(borrowing_policy=BorrowingPolicy(timers=timers))
    pair.borrow(SubmitRequest())
    pair.borrow(AssignRota((RotaEntry(C),)))
    pair.lend(PickItem())
    pair.lend(ShipItem())
    claim = not_received_claim(pair.now, timers=timers, borrower_calendar=Calendar())
    assert pair.borrowing.deadlines == (claim,)
    pair.advance(3)
    pair.borrow(ReceiveItem("A-TEMP-1"))
    shelf = hold_shelf_expiry(pair.now, timers=timers, borrower_calendar=Calendar())
    assert pair.borrowing.deadlines == (shelf,)


def test_a_timer_switched_off_sets_no_deadline() -> None:
    off = TimerPolicy(hold_shelf_days=None, not_received_days=None, supply_expiry_days=None)
    pair = Pair(
        borrowing_policy=BorrowingPolicy(timers=off), lending_policy=LendingPolicy(timers=off)
    )
    pair.borrow(SubmitRequest())
    pair.borrow(AssignRota((RotaEntry(C),)))
    pair.lend(PickItem())
    pair.lend(ShipItem())
    assert pair.borrowing.deadlines == ()
    pair.borrow(ReceiveItem("A-TEMP-1"))
    assert pair.borrowing.state is BS.RECEIVED
    assert pair.borrowing.deadlines == ()


def test_a_new_lending_request_expires_per_the_timer_policy_in_our_calendar() -> None:
    pair = Pair(lending_policy=LendingPolicy(timers=TimerPolicy(supply_expiry_days=2)))
    pair.borrow(SubmitRequest())
    pair.borrow(AssignRota((RotaEntry(C),)))
    request = next(m for m in pair.sent if isinstance(m, Request))
    weekdays = Calendar(closed_weekdays=frozenset({5, 6}))
    friday = T0 + timedelta(days=4)
    fresh = new_lending(
        request, id="C-L2", agency=C, now=friday, calendar=weekdays, timers=TimerPolicy()
    )
    assert fresh.deadlines == (
        supply_expiry(friday, timers=TimerPolicy(), lender_calendar=weekdays),
    )
    assert fresh.deadlines[0].at.weekday() not in (5, 6)


def test_a_patron_may_not_ask_again_after_the_lender_refused_unless_allowed() -> None:
    strict = bctx(loan=renewals(window_days=None))
    asked = handle_borrowing(borrowing_in(BorrowingState.ON_LOAN), RequestRenewal(), strict).record
    assert asked.state is BorrowingState.RENEW_REQUESTED
    refusal = from_lender(Status.LOANED, ReasonForMessage.RENEW_RESPONSE, answer=False)
    refused = handle_borrowing(asked, refusal(asked), strict).record
    assert refused.renewal_refused
    again = handle_borrowing(refused, RequestRenewal(), strict)
    assert again.record.state is BorrowingState.ON_LOAN  # refused by our own rules this time
    details = [e.detail for e in again.effects if isinstance(e, NotifyPatron)]
    assert details
    assert details[0] is not None
    assert details[0].startswith("refused_before")
    lenient = bctx(loan=renewals(window_days=None, allow_after_refusal=True))
    retried = handle_borrowing(refused, RequestRenewal(), lenient)
    assert retried.record.state is BorrowingState.RENEW_REQUESTED


def test_a_lenders_closure_pushes_its_answer_deadline_back() -> None:
    lender = AgencyId("US-C")
    open_partner = Partner(lender, terms=PartnerTerms(answer_days=2))
    start = T0.date()
    closed_partner = attrs.evolve(
        open_partner, closures=(Closure(start, start + timedelta(days=9), lending=True),)
    )

    def deadline(partner: Partner) -> datetime:
        ctx = BorrowingContext(T0, BorrowingPolicy(), Directory.of([partner]))
        request = borrowing_in(BorrowingState.LOCATING)
        sent = handle_borrowing(request, AssignRota((RotaEntry(lender),)), ctx).record
        return next(d.at for d in sent.deadlines if d.kind is TimerKind.LENDER_ANSWER)

    assert deadline(closed_partner) - deadline(open_partner) >= timedelta(days=9)
