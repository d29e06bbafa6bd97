"""A loan the lender reports Overdue may be renewed (issue 14.4): a policy per partner.

Two of our institutions on the in-memory network: A borrows from C, C's overdue timer
sends Overdue, and A's patron (or staff) asks to renew; ``PartnerTerms.renew_overdue``
(on by default) decides on both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from resource_sharing.directory import Partner, PartnerTerms
from resource_sharing.effects import NoticeKind, TaskList
from resource_sharing.iso18626 import Action, Status
from resource_sharing.messages import RequestingAgencyMessage
from resource_sharing.policies import PatronRenewalReason
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, BorrowingRequest, Citation, ItemRef, PatronRef, Side
from resource_sharing.service import Settings
from resource_sharing.states import BorrowingState, LendingState
from resource_sharing.testing.consortium import Consortium, Member

A, C = AgencyId("US-A"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="Hamlet")


def _overdue_loan(terms: PartnerTerms) -> tuple[Consortium, Member, Member, str, str]:
    """A's loan from C, checked out to the patron, that C has reported Overdue."""
    net = Consortium(START)
    a = net.add(Settings(A), partners=[Partner(C, "C", terms=terms)])
    c = net.add(
        Settings(C),
        partners=[Partner(A, "A")],
        holdings={"hamlet": Holding(ItemRef("C-1", location="Stacks"))},
    )
    request = a.institution.borrowing.place_request(PatronRef("p-1", "Ada"), BOOK, rota=[C])
    net.settle()
    (task,) = c.institution.tasks(TaskList.PICK_FROM_SHELF)
    lending_id = task.request_id
    c.institution.lending.pick(lending_id)
    c.institution.lending.ship(lending_id)
    net.settle()
    a.institution.borrowing.receive(request.id, barcode="A-T1")
    a.institution.borrowing.check_out(request.id)
    net.settle()
    net.clock.advance(timedelta(days=40))  # past C's due date
    c.institution.tick()
    net.settle()
    record = a.institution.get(Side.BORROWING, request.id)
    assert record.state is BorrowingState.OVERDUE
    assert c.institution.get(Side.LENDING, lending_id).state is LendingState.OVERDUE
    return net, a, c, request.id, lending_id


def test_a_loan_the_lender_reports_overdue_is_renewed_by_default() -> None:
    net, a, c, rid, lid = _overdue_loan(PartnerTerms())
    a.institution.borrowing.by("maria").renew(rid, by_staff=True)
    net.settle()
    renews = [
        s.message
        for s in net.network.log
        if isinstance(s.message, RequestingAgencyMessage) and s.message.action is Action.RENEW
    ]
    assert len(renews) == 1
    record = a.institution.get(Side.BORROWING, rid)
    assert isinstance(record, BorrowingRequest)
    assert record.state is BorrowingState.ON_LOAN
    assert record.renewal_count == 1
    assert record.attempts[-1].last_status is Status.LOANED
    assert record.patron_due is not None
    assert record.patron_due > net.clock.now()
    assert a.notifier.patron_notices[-1].notice is NoticeKind.RENEWED
    assert c.institution.get(Side.LENDING, lid).state is LendingState.RECEIVED_BY_PARTNER


def test_a_partner_that_does_not_renew_overdue_loans_is_not_asked() -> None:
    net, a, _, rid, _ = _overdue_loan(PartnerTerms(renew_overdue=False))
    sent = len(net.network.log)
    a.institution.borrowing.renew(rid)
    net.settle()
    assert len(net.network.log) == sent  # no Renew went out
    assert a.institution.get(Side.BORROWING, rid).state is BorrowingState.OVERDUE
    notice = a.notifier.patron_notices[-1]
    assert notice.notice is NoticeKind.RENEWAL_REFUSED
    assert notice.detail is not None
    assert notice.detail.startswith(PatronRenewalReason.OVERDUE.value)


def test_a_refused_overdue_renewal_leaves_the_loan_overdue() -> None:
    net, a, c, rid, lid = _overdue_loan(PartnerTerms())
    # the lender's terms for A say no to overdue loans: it answers RenewResponse No
    lender = c.institution.shell.settings
    strict = PartnerTerms(renew_overdue=False)
    lending = attrs.evolve(lender.lending, terms_by_borrower={A: strict})
    c.institution.shell.settings = attrs.evolve(lender, lending=lending)
    a.institution.borrowing.renew(rid)
    net.settle()
    assert a.institution.get(Side.BORROWING, rid).state is BorrowingState.OVERDUE
    notice = a.notifier.patron_notices[-1]
    assert notice.notice is NoticeKind.RENEWAL_REFUSED
    assert notice.detail is not None
    assert "overdue loans are not renewed" in notice.detail  # the lender's words follow
    assert c.institution.get(Side.LENDING, lid).state is LendingState.OVERDUE
