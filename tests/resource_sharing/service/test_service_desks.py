"""The application services beyond the seed story.

Review, limits, the rota's end, cancellation, renewals refused, loss, timers, scanning,
the dispatcher and the inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resource_sharing.borrowing import BorrowingPolicy, EndOfRota
from resource_sharing.directory import Partner, PartnerTerms
from resource_sharing.effects import NoticeKind, TaskList
from resource_sharing.errors import IllegalTransition, InvalidInput
from resource_sharing.iso18626 import Action, ErrorType, ReasonUnfilled
from resource_sharing.lending import LendingPolicy
from resource_sharing.messages import Header, RequestingAgencyMessage
from resource_sharing.ports import Holding, OutboxStatus, Port
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    Identifier,
    ItemRef,
    LendingRequest,
    PatronRef,
    Side,
)
from resource_sharing.service import DeliveryPolicy, Institution, Settings
from resource_sharing.testing.consortium import Consortium

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
ISBN = "9780262033848"
BOOK = Citation(title="Introduction to Algorithms", item_ids=(Identifier("ISBN", ISBN),))
PATRON = PatronRef("p-1", "Ada Lovelace", group="faculty")


def network(
    *,
    a: Settings | None = None,
    b_lending: LendingPolicy | None = None,
    c_lending: LendingPolicy | None = None,
    b_holds: bool = False,
) -> Consortium:
    net = Consortium(datetime(2026, 3, 2, 9, tzinfo=UTC))
    partners = [Partner(x) for x in (A, B, C)]
    net.add(a or Settings(A), partners=partners)
    item_b = {ISBN: Holding(ItemRef("B-1", desk="Main"))} if b_holds else None
    net.add(Settings(B, lending=b_lending or LendingPolicy(auto_reject_not_held=True)),
            partners=partners, holdings=item_b)  # fmt: skip
    net.add(
        Settings(C, lending=c_lending or LendingPolicy()),
        partners=partners,
        holdings={ISBN: Holding(ItemRef("C-1", "QA76", "Stacks", desk="Main"))},
    )
    return net


def borrowing(net: Consortium, request_id: str) -> BorrowingRequest:
    record = net[A].institution.get(Side.BORROWING, request_id)
    assert isinstance(record, BorrowingRequest)
    return record


def only_lending(net: Consortium, agency: AgencyId) -> LendingRequest:
    rows = [r.record for k, r in net[agency].memory._state.rows.items() if k[0] is Side.LENDING]
    assert len(rows) == 1
    record = rows[0]
    assert isinstance(record, LendingRequest)
    return record


def test_a_duplicate_request_goes_to_review_and_approval_sends_it() -> None:
    net = network()
    a = net[A].institution
    first = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    second = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    assert first.state.value == "sent"
    assert second.state.value == "pending_review"
    review = a.tasks(TaskList.BORROWING_REQUESTS)
    assert [t.request_id for t in review] == [second.id]
    approved = a.borrowing.approve(second.id, rota=[C])
    assert approved.state.value == "sent"
    assert a.tasks(TaskList.BORROWING_REQUESTS) == []


def test_the_patron_request_limit_sends_new_requests_to_review() -> None:
    net = network(a=Settings(A, max_open_requests_per_patron=1))
    a = net[A].institution
    a.borrowing.place_request(PATRON, BOOK, rota=[C])
    other = Citation(title="SICP", item_ids=(Identifier("ISBN", "9780262510875"),))
    assert a.borrowing.place_request(PATRON, other, rota=[C]).state.value == "pending_review"


def test_mediated_borrowing_reviews_every_request() -> None:
    net = network(a=Settings(A, mediated_borrowing=True))
    placed = net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    assert placed.state.value == "pending_review"


def test_a_citation_without_title_or_identifier_is_refused_and_nothing_is_stored() -> None:
    net = network()
    with pytest.raises(InvalidInput):
        net[A].institution.borrowing.place_request(PATRON, Citation(author="Nobody"))
    assert net[A].memory._state.rows == {}


def test_end_of_rota_review_then_staff_add_a_lender() -> None:
    net = network(b_lending=LendingPolicy(auto_reject_not_held=True))
    a = net[A].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[B])
    net.settle()
    stuck = borrowing(net, placed.id)
    assert stuck.state.value == "end_of_rota"
    assert [t.request_id for t in a.tasks(TaskList.BORROWING_REQUESTS)] == [placed.id]
    a.borrowing.add_lenders(placed.id, [B, C])  # B was tried already: only C is asked
    net.settle()
    moved = borrowing(net, placed.id)
    assert moved.state.value == "will_supply"
    assert [x.lender for x in moved.attempts] == [B, C]


def test_end_of_rota_cancel_closes_it_unfilled_and_tells_the_patron() -> None:
    policy = BorrowingPolicy(end_of_rota=EndOfRota.CANCEL)
    net = network(a=Settings(A, borrowing=policy))
    placed = net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[B])
    net.settle()
    assert borrowing(net, placed.id).state.value == "unfilled"
    assert net[A].notifier.patron_notices[-1].notice is NoticeKind.UNFILLED


def test_cancel_before_shipping_is_accepted_automatically() -> None:
    net = network()
    a = net[A].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    a.borrowing.cancel(placed.id, reason="no longer needed")
    net.settle()
    assert borrowing(net, placed.id).state.value == "cancelled"
    assert only_lending(net, C).state.value == "cancelled"
    assert net[A].notifier.patron_notices[-1].notice is NoticeKind.CANCELLED


def test_cancel_left_to_staff_and_refused_keeps_the_request_going() -> None:
    net = network(c_lending=LendingPolicy(auto_cancel=False))
    a, c = net[A].institution, net[C].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    a.borrowing.cancel(placed.id)
    net.settle()
    lending = only_lending(net, C)
    assert lending.state.value == "cancel_requested"
    c.lending.answer_cancel(lending.id, accept=False, note="already on the cart")
    net.settle()
    assert only_lending(net, C).state.value == "pick_from_shelf"
    assert borrowing(net, placed.id).state.value == "will_supply"


def test_cancel_after_shipping_is_answered_no() -> None:
    net = network()
    a, c = net[A].institution, net[C].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    lending = only_lending(net, C)
    c.lending.pick(lending.id)
    c.lending.ship(lending.id)
    a.borrowing.cancel(placed.id)  # before the Loaned message arrives
    net.settle()
    assert borrowing(net, placed.id).state.value == "shipped"
    assert only_lending(net, C).state.value == "shipped"


def _on_loan(net: Consortium) -> tuple[Institution, Institution, str, LendingRequest]:
    a, c = net[A].institution, net[C].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    lending = only_lending(net, C)
    c.lending.pick(lending.id)
    c.lending.ship(lending.id)
    net.settle()
    a.borrowing.receive(placed.id, "T-1")
    a.borrowing.check_out(placed.id)
    net.settle()
    return a, c, placed.id, lending


def test_a_renewal_refused_by_the_lender_tells_the_patron_why() -> None:
    terms = PartnerTerms(max_renewals=0)
    net = network(c_lending=LendingPolicy(terms=terms))
    a, _, rid, _ = _on_loan(net)
    net.clock.advance(timedelta(days=28))
    a.borrowing.renew(rid)
    net.settle()
    assert borrowing(net, rid).state.value == "on_loan"
    notice = net[A].notifier.patron_notices[-1]
    assert notice.notice is NoticeKind.RENEWAL_REFUSED
    assert notice.detail is not None
    assert "renewals_not_allowed" in notice.detail or "max_renewals" in notice.detail


def test_a_lost_item_closes_both_sides() -> None:
    net = network()
    a, c, rid, lending = _on_loan(net)
    c.lending.mark_lost(lending.id, "never came back")
    net.settle()
    assert borrowing(net, rid).state.value == "lost"
    assert only_lending(net, C).state.value == "lost"
    assert "T-1" not in net[A].circulation.temporary_items
    assert a.scan("T-1") == []


def test_no_answer_in_time_moves_the_rota_on_when_the_timer_fires() -> None:
    net = network(b_holds=True)
    a = net[A].institution
    net.network.down.add(B)  # B never hears of it
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[B, C])
    net.clock.advance(timedelta(days=10))
    assert a.tick() == 1
    net.network.down.clear()
    net.settle()
    moved = borrowing(net, placed.id)
    assert [x.lender for x in moved.attempts] == [B, C]
    assert moved.attempts[0].outcome is not None
    assert moved.state.value == "will_supply"


def test_an_uncollected_item_goes_back_after_the_hold_shelf_expires() -> None:
    net = network()
    a, c = net[A].institution, net[C].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    lending = only_lending(net, C)
    c.lending.pick(lending.id)
    c.lending.ship(lending.id)
    net.settle()
    a.borrowing.receive(placed.id, "T-1")
    net.clock.advance(timedelta(days=20))
    assert a.tick() >= 1
    assert borrowing(net, placed.id).state.value == "returned_by_patron"
    scans = a.scan("T-1")
    assert [s.state for s in scans] == ["returned_by_patron"]
    assert "ship back" in scans[0].instruction


def test_the_dispatcher_gives_up_after_the_limit_and_raises_a_staff_task() -> None:
    delivery = DeliveryPolicy().with_all(max_attempts=3, base_delay=timedelta(seconds=1))
    net = network(a=Settings(A, delivery=delivery))
    a = net[A].institution
    net.network.down.add(C)
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    reports = []
    for _ in range(3):
        reports.append(a.dispatch())
        net.clock.advance(timedelta(minutes=10))
    assert [r.retried for r in reports] == [1, 1, 0]
    assert reports[-1].given_up == 1
    with net[A].store.transaction() as uow:
        assert [m.status for m in uow.outbox.entries(port=Port.PEER)] == [OutboxStatus.GIVEN_UP]
    (task,) = a.tasks(TaskList.DELIVERY_PROBLEMS)
    assert task.request_id == placed.id
    assert task.instruction is not None
    assert "unreachable" in task.instruction


def test_the_inbox_refuses_a_message_about_an_unknown_request_and_stores_nothing() -> None:
    net = network()
    c = net[C].institution
    message = RequestingAgencyMessage(Header(A, C, "nope-1", net.clock.now()), Action.RENEW)
    answer = c.inbox.receive(message, message_id="m-x", sender=A)
    assert not answer.ok
    assert answer.error is not None
    assert answer.error.type is ErrorType.UNRECOGNISED_DATA_VALUE
    with net[C].store.transaction() as uow:
        assert uow.inbox.processed("m-x") is None


def test_an_action_that_cannot_apply_now_is_reported_not_dropped() -> None:
    net = network()
    a = net[A].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    lending = only_lending(net, C)
    early = RequestingAgencyMessage(
        Header(A, C, lending.requester_request_id, net.clock.now()), Action.SHIPPED_RETURN
    )
    answer = net[C].institution.inbox.receive(early, message_id="early", sender=A)
    assert answer.error is not None
    assert answer.error.type is ErrorType.UNSUPPORTED_ACTION_TYPE
    assert only_lending(net, C) == lending
    assert placed.id


def test_lender_rejection_with_a_reason_reaches_the_borrower_attempt() -> None:
    net = network(b_holds=True)
    b = net[B].institution
    placed = net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[B, C])
    net.settle()
    lending = only_lending(net, B)
    b.lending.reject(lending.id, ReasonUnfilled.POOR_CONDITION.value)
    net.settle()
    moved = borrowing(net, placed.id)
    assert [x.lender for x in moved.attempts] == [B, C]


def test_staff_may_re_request_a_lender_that_was_tried() -> None:
    net = network(b_holds=True)
    a, b = net[A].institution, net[B].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[B])
    net.settle()
    b.lending.reject(only_lending(net, B).id, ReasonUnfilled.NOT_ON_SHELF.value)
    net.settle()
    assert borrowing(net, placed.id).state.value == "end_of_rota"
    before = borrowing(net, placed.id)
    with pytest.raises(IllegalTransition):  # not re-requested: B is not asked twice
        a.borrowing.add_lenders(placed.id, [B])
    assert borrowing(net, placed.id) == before
    again = a.borrowing.add_lenders(placed.id, [B], rerequest=[B])
    assert again.state.value == "sent"
    assert isinstance(again, BorrowingRequest)
    assert [x.lender for x in again.attempts] == [B, B]
    assert len({x.request_id for x in again.attempts}) == 2
    net.settle()
    rows = [k for k in net[B].memory._state.rows if k[0] is Side.LENDING]
    assert len(rows) == 2  # B sees a second, distinct request


def test_a_loss_the_borrower_reports_closes_the_lender_side_too() -> None:
    net = network()
    a, _, rid, _ = _on_loan(net)
    a.borrowing.report_lost(rid, "left on a train")
    net.settle()
    assert borrowing(net, rid).state.value == "lost"
    assert only_lending(net, C).state.value == "lost"  # and its CompletedWithoutReturn is OK
    with net[C].store.transaction() as uow:
        assert all(m.status is OutboxStatus.DELIVERED for m in uow.outbox.entries())


def test_check_in_tells_the_operator_to_reshelve_the_item() -> None:
    net = network()
    a, c, rid, _ = _on_loan(net)
    scan = a.borrowing.return_item("T-1", desk="Main")
    assert scan.state == "returned_by_patron"
    a.borrowing.ship_return(rid)
    net.settle()
    result = c.lending.check_in("C-1")
    assert result.state == "completed"
    assert result.instruction == "Reshelve at Stacks"
