"""The shell's effects: routing, check-in's answer, patron checks, who and why in history."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from resource_sharing.directory import Partner
from resource_sharing.effects import (
    AddTask,
    CheckIn,
    OutboundEffect,
    PrintHoldShelfSlip,
    PrintPickSlip,
    PrintReturnSlip,
    PrintShippingLabel,
    RouteItem,
    TaskList,
)
from resource_sharing.errors import ConcurrencyConflict, PatronNotEligible
from resource_sharing.iso18626 import Action
from resource_sharing.memory import MemoryStore
from resource_sharing.messages import Header, RequestingAgencyMessage
from resource_sharing.ports import Holding, PatronStanding, Port, RequestStore, UnitOfWork
from resource_sharing.records import (
    Actor,
    ActorKind,
    AgencyId,
    Citation,
    ItemRef,
    PatronRef,
    Side,
)
from resource_sharing.service import ROUTES, Settings, UnknownEffect, route_of
from resource_sharing.testing.consortium import Consortium, Member

A, C = AgencyId("US-A"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="The Art of Computer Programming")
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks", desk="Main desk")
PATRON = PatronRef("p-1", "Ada Lovelace")


def pair(**c_options: Any) -> tuple[Consortium, Member, Member]:
    net = Consortium(START)
    partners = [Partner(A, "A"), Partner(C, "C")]
    a = net.add(Settings(A), partners=partners)
    c = net.add(
        Settings(C),
        partners=partners,
        holdings={BOOK.title.casefold(): Holding(ITEM)},  # type: ignore[union-attr]
        **c_options,
    )
    return net, a, c


def shipped_back(net: Consortium, a: Member, c: Member) -> str:
    """A loan up to the lender's check-in; returns the borrowing request's id."""
    placed = a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[C])
    net.settle()
    (pick,) = c.institution.tasks(TaskList.PICK_FROM_SHELF)
    c.institution.lending.pick(pick.request_id)
    c.institution.lending.ship(pick.request_id)
    net.settle()
    a.institution.borrowing.receive(placed.id, "A-TEMP-1")
    a.institution.borrowing.check_out(placed.id)
    a.institution.borrowing.return_item("A-TEMP-1", desk="Main")
    a.institution.borrowing.ship_return(placed.id)
    net.settle()
    return placed.id


# -- routing -----------------------------------------------------------------------------


def test_every_outbound_effect_has_a_route_and_nothing_else_does() -> None:
    assert set(ROUTES) == set(typing.get_args(OutboundEffect))
    for kind in (PrintPickSlip, PrintShippingLabel, PrintHoldShelfSlip, PrintReturnSlip):
        assert ROUTES[kind].port is Port.PRINTER
    assert ROUTES[CheckIn].port is Port.CIRCULATION
    with pytest.raises(UnknownEffect, match="AddTask"):
        route_of(AddTask(TaskList.SHIPPING, "L-1", "ship it"))


def test_a_loan_prints_its_slips_labels_and_pick_slip_with_the_need_by_date() -> None:
    net, a, c = pair()
    rid = shipped_back(net, a, c)
    printed_c = list(c.printer.jobs.values())
    printed_a = list(a.printer.jobs.values())
    assert [type(j).__name__ for j in printed_c] == ["PrintPickSlip", "PrintShippingLabel"]
    label = printed_c[1]
    assert isinstance(label, PrintShippingLabel)
    assert (label.barcode, label.to) == (ITEM.barcode, A)
    assert [type(j).__name__ for j in printed_a] == ["PrintHoldShelfSlip", "PrintReturnSlip"]
    slip = printed_a[1]
    assert isinstance(slip, PrintReturnSlip)
    assert (slip.request_id, slip.barcode, slip.lender) == (rid, "A-TEMP-1", C)


# -- check-in's answer -------------------------------------------------------------------


def test_check_in_shows_the_host_systems_routing_answer() -> None:
    net, a, c = pair(routing={ITEM.barcode: "Send to home location Main Library"})
    shipped_back(net, a, c)
    result = c.institution.lending.check_in(ITEM.barcode)
    assert result.state == "completed"
    assert result.instruction == "Send to home location Main Library"
    assert [type(x).__name__ for x in c.circulation.commands][-2:] == ["CheckIn", "RouteItem"]


def test_check_in_falls_back_to_the_table_when_the_first_attempt_fails_and_retries() -> None:
    net, a, c = pair(circulation_failures=1, routing={ITEM.barcode: "Hold shelf for a local"})
    shipped_back(net, a, c)
    net.clock.advance(timedelta(hours=1))
    net.settle()  # C's earlier commands (check-out to A) went after their retry
    result = c.institution.lending.check_in(ITEM.barcode)
    assert result.instruction == "Reshelve at Stacks"
    assert not any(isinstance(x, CheckIn) for x in c.circulation.commands)
    for _ in range(3):  # each command's first attempt fails: check-in, then its routing
        net.clock.advance(timedelta(hours=1))
        net.settle()
    checked = [x for x in c.circulation.commands if isinstance(x, CheckIn | RouteItem)]
    assert [type(x).__name__ for x in checked] == ["CheckIn", "RouteItem"]


# -- the patron check --------------------------------------------------------------------


class Blocked:
    def validate(self, patron: PatronRef) -> PatronStanding:
        return PatronStanding(False, "blocked: unpaid fines over 50 EUR")


def test_a_patron_the_host_refuses_is_refused_with_its_reason_and_nothing_is_stored() -> None:
    net = Consortium(START)
    a = net.add(Settings(A), partners=[Partner(C, "C")])
    shell = a.institution.shell
    shell.ports = attrs.evolve(shell.ports, patrons=Blocked())
    commits = a.memory.commits
    with pytest.raises(PatronNotEligible) as refused:
        a.institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    assert refused.value.reason == "blocked: unpaid fines over 50 EUR"
    assert refused.value.patron_id == "p-1"
    assert "unpaid fines" in str(refused.value)
    assert a.memory.commits == commits
    assert a.memory._state.rows == {}


# -- who and why -------------------------------------------------------------------------


def test_history_names_the_actor_the_reason_and_the_peer_message() -> None:
    net, a, c = pair()
    placed = a.institution.borrowing.place_request(PATRON, BOOK, pickup_location="Main", rota=[C])
    net.settle()
    (pick,) = c.institution.tasks(TaskList.PICK_FROM_SHELF)
    c.institution.lending.by("bob").pick(pick.request_id)
    a_history = a.institution.history(Side.BORROWING, placed.id)
    actors = [h.actor for h in a_history]
    assert actors[0] == Actor.patron("p-1")
    assert Actor.system("rota") in actors
    from_c = [h for h in a_history if h.actor == Actor.peer(C)]
    assert from_c
    assert all(h.message_id for h in from_c)
    c_history = c.institution.history(Side.LENDING, pick.request_id)
    assert c_history[0].actor == Actor.peer(A)
    assert c_history[0].message_id is not None
    assert c_history[1].actor == Actor.system("auto-locate")
    assert c_history[-1].actor == Actor.staff("bob")
    assert {h.actor.kind for h in (*a_history, *c_history) if h.actor} == set(ActorKind)


def test_a_refusal_keeps_its_reason_in_history() -> None:
    net = Consortium(START)
    partners = [Partner(A, "A"), Partner(C, "C")]
    a = net.add(Settings(A), partners=partners)
    c = net.add(Settings(C, auto_locate=False), partners=partners)
    placed = a.institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    (line,) = c.institution.tasks(TaskList.LENDING_REQUESTS)
    c.institution.lending.by("carol").reject(line.request_id, "NotHeld", "we do not own it")
    net.settle()
    last = c.institution.history(Side.LENDING, line.request_id)[-1]
    assert (last.actor, last.reason) == (Actor.staff("carol"), "NotHeld")
    unfilled = [h for h in a.institution.history(Side.BORROWING, placed.id) if h.reason]
    assert unfilled
    assert str(Actor.parse("staff:carol")) == "staff:carol"
    assert Actor.parse("timer") == Actor.system("timer")
    assert Actor.parse("peer:ISIL:US-C") == Actor.peer(C)


# -- conflicts are retried inside the service --------------------------------------------


class Conflicting:
    """A store whose next ``conflicts`` saving units raise ConcurrencyConflict (not applied)."""

    def __init__(self, inner: MemoryStore, conflicts: int) -> None:
        self.inner = inner
        self.conflicts = conflicts
        self.armed = False

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        with self.inner.transaction() as uow:
            yield uow
            saving = bool(getattr(uow, "_rows", None))  # only a unit that saves can race
            if self.armed and self.conflicts > 0 and saving:
                self.conflicts -= 1
                raise ConcurrencyConflict("raced", 1, 2)


def test_a_conflict_while_applying_a_message_or_a_timer_is_retried_not_raised() -> None:
    net = Consortium(START)
    partners = [Partner(A, "A"), Partner(C, "C")]
    store = Conflicting(MemoryStore(), 0)
    net.add(Settings(A), partners=partners)
    c = net.add(
        Settings(C, auto_locate=False), partners=partners, store=typing.cast(RequestStore, store)
    )
    a = net[A].institution
    placed = a.borrowing.place_request(PATRON, BOOK, rota=[C])
    store.conflicts, store.armed = 2, True
    net.settle()  # C's inbox meets two conflicts, then applies the Request
    assert store.conflicts == 0
    (line,) = c.institution.tasks(TaskList.LENDING_REQUESTS)
    renew = RequestingAgencyMessage(
        Header(A, C, placed.attempts[0].request_id, net.clock.now()), Action.NOTIFICATION, "hi"
    )
    store.conflicts = 1
    answer = c.institution.inbox.receive(renew, message_id="n-1", sender=A)
    assert answer.ok
    store.conflicts = 2
    net.clock.advance(timedelta(days=60))
    assert c.institution.tick() >= 1  # the supply expiry fires after two conflicts
    assert store.conflicts == 0
    assert c.institution.get(Side.LENDING, line.request_id).state.value != "new"
