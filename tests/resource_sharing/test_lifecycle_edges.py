"""Every edge of both tables, driven through ``handle_borrowing`` / ``handle_lending``.

For each edge: walk a request from the initial state to the edge's source with real
events, set up the policy / event so that the edge's guard holds (and the guards of the
edges tried before it do not), apply the edge's event, and check that this very edge was
taken: the request lands in its destination and no earlier edge of the same
``(state, trigger)`` would have accepted it.
"""

from __future__ import annotations

from typing import Any

import pytest

from resource_sharing.borrowing import BORROWING, EndOfRota, handle_borrowing
from resource_sharing.directory import PartnerTerms
from resource_sharing.errors import PeerError
from resource_sharing.events import (
    AnswerCancel,
    AnswerRenewal,
    AssignRota,
    CancelRequest,
    OfferConditions,
    ReceiveItem,
    RejectConditions,
    RequestRenewal,
    SubmitRequest,
    SupplyItem,
    TimerFired,
)
from resource_sharing.iso18626 import Action, ServiceType
from resource_sharing.lending import LENDING, handle_lending
from resource_sharing.lifecycle import Edge
from resource_sharing.records import RotaEntry, TimerKind
from resource_sharing.states import BorrowingState, LendingState
from tests.resource_sharing.builders_lifecycle import (
    BORROWING_EVENTS,
    FALLBACK,
    LAST_ONLY,
    LENDING_EVENTS,
    LENDING_PATHS,
    LOCAL_ITEM,
    MANUAL_RENEWALS,
    NO_AUTO_RECALL,
    ROTA,
    bctx,
    borrowing_in,
    const,
    from_borrower,
    lctx,
    lending_in,
    new_lending,
    renewals,
    walk_borrowing,
    walk_lending,
)

BS = BorrowingState
LS = LendingState

# -- borrowing --------------------------------------------------------------------------

# Notes about a request that has no current attempt cannot reach the table through
# handle_borrowing: with no attempt at all the message names an unknown request
# (PeerError), and once the rota moved past the attempt it is answered, not applied.
NO_CURRENT_ATTEMPT = {
    BS.CREATED,
    BS.PENDING_REVIEW,
    BS.LOCATING,
    BS.LOCATE_FAILED,
    BS.END_OF_ROTA,
    BS.CANCELLED,
    BS.UNFILLED,
}

_ADVANCE: dict[str, tuple[tuple[RotaEntry, ...], dict[str, Any]]] = {
    "next_lender": (ROTA, {}),
    "fallback_lender": (LAST_ONLY, {"end_of_rota": EndOfRota.FALLBACK, "fallback": FALLBACK}),
    "end_of_rota": (LAST_ONLY, {"end_of_rota": EndOfRota.REVIEW}),
    "close_unfilled": (LAST_ONLY, {"end_of_rota": EndOfRota.CANCEL}),
}


_LATE_SUFFIX: dict[BS, list[Any]] = {
    BS.SENT: [],
    BS.END_OF_ROTA: [],
    BS.WILL_SUPPLY: [BORROWING_EVENTS["lender_will_supply"]],
    BS.CONDITIONAL: [BORROWING_EVENTS["lender_conditions"]],
    BS.RETRY_OFFERED: [BORROWING_EVENTS["lender_retry_possible"]],
    BS.CANCEL_PENDING: [const(CancelRequest())],
}


def _borrowing_case(edge: Edge) -> tuple[Any, Any, Any]:
    source = BS(edge.source)
    trigger = edge.trigger.value
    guard = edge.guard_name
    action = edge.action_name or ""
    make = BORROWING_EVENTS[trigger]
    rota: tuple[RotaEntry, ...] = ROTA
    policy: dict[str, Any] = {}
    for prefix, (advance_rota, advance_policy) in _ADVANCE.items():
        if action.startswith(prefix + "_after_"):
            rota, policy = advance_rota, advance_policy
    ctx = bctx(**policy)

    if trigger == "submit" and guard == "needs_review":
        make = const(SubmitRequest(review=True, reason="duplicate"))
    elif trigger == "assign_rota" and guard is None:
        make = const(AssignRota(()))
    elif trigger == "request_renewal" and guard == "renewal_refused":
        ctx = bctx(loan=renewals(allowed_groups=frozenset({"staff"})))
    elif trigger == "request_renewal" and guard == "renewal_mediated":
        ctx = bctx(loan=renewals(mediated=True))

    if trigger in ("late_supply", "late_copy"):
        # the first lender's answer deadline passed and the rota moved on, then it supplies
        first = LAST_ONLY if source is BS.END_OF_ROTA else ROTA
        expire = const(TimerFired(TimerKind.LENDER_ANSWER))
        request = walk_borrowing([expire], ctx, borrowing_in(BS.SENT, bctx(), first))
        request = walk_borrowing(_LATE_SUFFIX[source], ctx, request)
    elif source is BS.CANCEL_PENDING:
        # how we got there: our own cancel (from some state), or rejected conditions
        before, command = BS.SENT, CancelRequest()
        if action.split("_after_")[-1] == "conditions_rejected":
            before, command = BS.CONDITIONAL, RejectConditions("no")  # type: ignore[assignment]
        elif guard is not None and guard.startswith("was_"):
            before = BS(guard.removeprefix("was_"))
        request = walk_borrowing([const(command)], ctx, borrowing_in(before, bctx(), rota))
    elif guard == "was_overdue":
        # a renewal of a loan the lender reported Overdue (mediated, or sent at once)
        mediated = bctx(loan=renewals(mediated=True))
        how = mediated if source is BS.RENEW_PENDING_REVIEW else bctx()
        overdue = borrowing_in(BS.OVERDUE, bctx(), rota)
        request = walk_borrowing([const(RequestRenewal())], how, overdue)
    elif source is BS.RECEIVED and trigger == "lender_shipped":
        # received before the lender's Loaned arrived
        request = walk_borrowing([const(ReceiveItem("TEMP-1"))], ctx, borrowing_in(BS.SENT))
    else:
        request = borrowing_in(source, bctx(), rota)
    return request, make(request), ctx


def _borrowing_edge_id(edge: Edge) -> str:
    return f"{edge.source.value}-{edge.trigger.value}-{edge.dest.value}-{edge.guard_name}"


@pytest.mark.parametrize("edge", BORROWING.edges, ids=_borrowing_edge_id)
def test_every_borrowing_edge(edge: Edge) -> None:
    request, event, ctx = _borrowing_case(edge)
    assert request.state is edge.source
    candidates = BORROWING.edges_for(request.state, edge.trigger)
    taken = next(e for e in candidates if e.guard is None or e.guard(request, event, ctx))
    assert taken is edge, f"an earlier edge accepts it: {taken}"

    if edge.trigger.value == "lender_note" and edge.source in NO_CURRENT_ATTEMPT:
        if request.attempts:
            assert handle_borrowing(request, event, ctx).applied is False
        else:
            with pytest.raises(PeerError):
                handle_borrowing(request, event, ctx)
        outcome = BORROWING.step(request, edge.trigger, event, ctx)
    else:
        outcome = handle_borrowing(request, event, ctx)
    assert outcome.applied
    assert outcome.trigger == edge.trigger.value
    assert outcome.record.state is edge.dest
    kept = BORROWING.info(edge.dest).timers
    assert all(d.kind in kept for d in outcome.record.deadlines)


# -- lending ----------------------------------------------------------------------------


def _lending_case(edge: Edge) -> tuple[Any, Any, Any]:
    source = LS(edge.source)
    trigger = edge.trigger.value
    guard = edge.guard_name
    make = LENDING_EVENTS[trigger]
    ctx = lctx()
    service = ServiceType.LOAN
    request = None

    if trigger == "locate_failed" and guard == "auto_reject":
        ctx = lctx(auto_reject_not_held=True)
    elif trigger == "borrower_accepts_conditions" and guard == "item_located":
        request = walk_lending(
            [const(SupplyItem(LOCAL_ITEM)), const(OfferConditions("LibraryUseOnly"))]
        )
    elif trigger == "pick_item" and guard is None:
        request = walk_lending([const(SupplyItem(LOCAL_ITEM))])
    elif trigger == "ship" and guard == "is_copy":
        service = ServiceType.COPY
    elif trigger == "borrower_renew" and source is not LS.RECALLED:
        if guard == "renewal_is_manual":
            ctx = lctx(MANUAL_RENEWALS)
        elif guard is None:
            ctx = lctx(PartnerTerms(renewals_allowed=False))
    elif trigger == "answer_renewal":
        before = LS.RECEIVED_BY_PARTNER
        if guard is not None and guard.startswith("was_"):
            before = LS(guard.removeprefix("was_"))
        if guard != "staff_approves":
            make = const(AnswerRenewal(approve=False, note="no"))
        request = walk_lending(
            [from_borrower(Action.RENEW)], lctx(MANUAL_RENEWALS), lending_in(before)
        )
    elif trigger in ("local_hold",) and guard is None and source is not LS.RECALLED:
        ctx = lctx(recall=NO_AUTO_RECALL)
    elif trigger == "borrower_cancel" and guard is None and source in _BEFORE_SHIPPING:
        ctx = lctx(auto_cancel=False)
    elif trigger == "answer_cancel":
        before = LS.NEW
        if guard is not None and guard.startswith("was_"):
            before = LS(guard.removeprefix("was_"))
            make = const(AnswerCancel(accept=False, note="already picked"))
        request = walk_lending(
            [from_borrower(Action.CANCEL)], lctx(auto_cancel=False), lending_in(before)
        )

    if request is None:
        request = lending_in(source, lctx(), service)
    return request, make(request), ctx


_BEFORE_SHIPPING = {
    LS.NEW,
    LS.LOCATE_FAILED,
    LS.WILL_SUPPLY,
    LS.CONDITIONAL,
    LS.PICK_FROM_SHELF,
    LS.IN_TRANSIT_TO_RS_LIBRARY,
    LS.READY_TO_SHIP,
}


@pytest.mark.parametrize("edge", LENDING.edges, ids=_borrowing_edge_id)
def test_every_lending_edge(edge: Edge) -> None:
    request, event, ctx = _lending_case(edge)
    assert request.state is edge.source
    candidates = LENDING.edges_for(request.state, edge.trigger)
    taken = next(e for e in candidates if e.guard is None or e.guard(request, event, ctx))
    assert taken is edge, f"an earlier edge accepts it: {taken}"
    outcome = handle_lending(request, event, ctx)
    assert outcome.applied
    assert outcome.trigger == edge.trigger.value
    assert outcome.record.state is edge.dest
    kept = LENDING.info(edge.dest).timers
    assert all(d.kind in kept for d in outcome.record.deadlines)


def test_every_state_has_a_walk() -> None:
    assert set(LENDING_PATHS) == set(LS)
    for state in LS:
        assert lending_in(state).state is state
    for bstate in BS:
        assert borrowing_in(bstate).state is bstate
    assert new_lending().state is LS.NEW
