"""Stateful property tests: two and three institutions on an unreliable network.

The machines drive the real application services (desks, peer inbox, timers, outbox
dispatcher) over the in-memory store. Messages in flight are a hypothesis ``Bundle``
(see :mod:`strategies_protocol` for the network double, which holds every message until
a rule delivers it): ``deliver`` consumes a copy, ``duplicate`` delivers one and leaves
it in flight, ``drop`` consumes it without delivering (the sender retries),
``lose_confirmation`` delivers it but the answer never reaches the sender (so it is sent
again), and since a rule may draw any copy in flight, messages arrive in any order
(``deliver_newest`` forces the newest first). Time is a rule (timers fire), and so is a
node restart (the institution rebuilt on the same store). Staff and patron actions are
drawn among the requests whose state allows them.

Invariants, checked after every step:

- a borrowing request has at most one open attempt, the newest: it is never with two
  lenders at once;
- no lender is tried twice (a Retry to the same lender is a deliberate exception and is
  not one of the rules);
- an item a lender shipped is accounted for: the borrowing request still follows that
  attempt (in transit, with the borrower, back in transit) or it has ended completed or
  lost;
- a borrower holds an item only from a lender that shipped it;
- no message applies twice (checked when each copy arrives: a copy of a message already
  applied changes nothing and gets the same confirmation);
- a staff action the state does not allow raises and changes nothing.

At the end (``teardown``) the network is drained: every copy in flight is delivered, the
outboxes are flushed, staff and patrons finish every request, time passes, and then
every request on both sides has ended and both sides agree on how.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, ParamSpec, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import IllegalTransition, InvalidInput
from resource_sharing.lending import LendingPolicy
from resource_sharing.messages import Confirmation
from resource_sharing.ports import Holding
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    ItemRef,
    LendingRequest,
    PatronRef,
    Side,
)
from resource_sharing.service import DeliveryPolicy, Institution, Ports, Settings
from resource_sharing.states import BorrowingState as BS  # noqa: N817 - short in tables
from resource_sharing.states import LendingState as LS  # noqa: N817 - short in tables
from resource_sharing.testing import FixedClock, MemoryCirculation, RecordingNotifier, SequentialIds
from resource_sharing.testing.consortium import Consortium
from tests.strategies.protocol import (
    HeldNetwork,
    HeldTransport,
    InFlight,
    ShelfHoldings,
    TrackingStore,
    citation_of,
    citations,
    long_waits,
    short_waits,
)

P = ParamSpec("P")
R = TypeVar("R")

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
EVERY = (A, B, C)  # rules draw from these; a machine skips the ones it does not have
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# The lending states in which the item has left the lender's shelf for the borrower.
ITEM_AWAY = frozenset(
    {
        LS.SHIPPED,
        LS.RECEIVED_BY_PARTNER,
        LS.RENEW_REQUESTED,
        LS.RECALLED,
        LS.OVERDUE,
        LS.RETURNED_BY_PARTNER,
    }
)
# The borrowing states in which the library or the patron has the item.
ITEM_HERE = frozenset(
    {
        BS.RECEIVED,
        BS.ON_LOAN,
        BS.RENEW_PENDING_REVIEW,
        BS.RENEW_REQUESTED,
        BS.RECALLED,
        BS.OVERDUE,
        BS.RETURNED_BY_PATRON,
        BS.DAMAGED,
    }
)
LOANED = frozenset({BS.ON_LOAN, BS.RECALLED, BS.OVERDUE})
LENDING_ENDED_UNSUPPLIED = frozenset({LS.UNFILLED, LS.CANCELLED, LS.EXPIRED})

# How each side's agreement looks once everything has ended: the borrowing state, and
# the states the lending request of its last attempt may be in.
AGREES: dict[BS, frozenset[LS]] = {
    BS.COMPLETED: frozenset({LS.COMPLETED}),
    BS.LOST: frozenset({LS.LOST}),
    BS.CANCELLED: LENDING_ENDED_UNSUPPLIED,
    BS.UNFILLED: LENDING_ENDED_UNSUPPLIED,
}


def _label(agency: AgencyId, rid: str) -> str:
    return f"{agency.value}-T-{rid}"


# The drain's staff and patrons: for requests in these states, this next step.
FINISH_BORROWING: tuple[tuple[tuple[BS, ...], Callable[..., object]], ...] = (
    (
        (BS.PENDING_REVIEW, BS.LOCATE_FAILED, BS.END_OF_ROTA),
        lambda i, agency, rid: i.borrowing.cancel(rid),
    ),
    ((BS.CONDITIONAL,), lambda i, agency, rid: i.borrowing.reject_conditions(rid)),
    ((BS.RETRY_OFFERED,), lambda i, agency, rid: i.borrowing.decline_retry(rid)),
    ((BS.SHIPPED,), lambda i, agency, rid: i.borrowing.receive(rid, _label(agency, rid))),
    ((BS.RECEIVED,), lambda i, agency, rid: i.borrowing.check_out(rid)),
    ((BS.RENEW_PENDING_REVIEW,), lambda i, agency, rid: i.borrowing.deny_renewal(rid, "drain")),
    (
        (BS.ON_LOAN, BS.RECALLED, BS.OVERDUE),
        lambda i, agency, rid: i.borrowing.return_item(_label(agency, rid), "Main"),
    ),
    (
        (BS.RETURNED_BY_PATRON, BS.DAMAGED),
        lambda i, agency, rid: i.borrowing.ship_return(rid),
    ),
)
FINISH_LENDING: tuple[tuple[tuple[LS, ...], Callable[..., object]], ...] = (
    (
        (LS.NEW, LS.LOCATE_FAILED, LS.WILL_SUPPLY),
        lambda i, rid, barcode: i.lending.reject(rid, "NotAvailableForILL"),
    ),
    ((LS.PICK_FROM_SHELF,), lambda i, rid, barcode: i.lending.pick(rid)),
    ((LS.IN_TRANSIT_TO_RS_LIBRARY,), lambda i, rid, barcode: i.lending.arrive(rid)),
    ((LS.READY_TO_SHIP,), lambda i, rid, barcode: i.lending.ship(rid)),
    ((LS.RENEW_REQUESTED,), lambda i, rid, barcode: i.lending.answer_renewal(rid, False)),
    ((LS.CANCEL_REQUESTED,), lambda i, rid, barcode: i.lending.answer_cancel(rid, True)),
    ((LS.RETURNED_BY_PARTNER,), lambda i, rid, barcode: i.lending.check_in(barcode)),
)


@attrs.define
class Node:
    """One institution and the parts the test watches."""

    settings: Settings
    ports: Ports
    store: TrackingStore
    transport: HeldTransport
    institution: Institution


def _step(method: Callable[P, R]) -> Callable[P, R]:
    """Mark the machine unclean until the invariants have passed after this step."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        machine = args[0]
        assert isinstance(machine, ConsortiumMachine)
        machine.clean = False
        return method(*args, **kwargs)

    return wrapper


class ConsortiumMachine(RuleBasedStateMachine):
    """Institutions borrowing from each other over a network that holds messages."""

    agencies: tuple[AgencyId, ...] = (A, B)
    holdings: ClassVar[dict[AgencyId, tuple[str, ...]]] = {
        A: ("Delta",),
        B: ("Alpha", "Beta", "Gamma"),
    }
    forgetful = False
    """Seeded fault: the stores forget processed messages (duplicates apply again)."""

    in_flight = Bundle("in_flight")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(START)
        self.network = HeldNetwork()
        self.nodes: dict[AgencyId, Node] = {}
        self.applied: dict[tuple[AgencyId, str], Confirmation] = {}
        self.errors: list[tuple[InFlight, Confirmation]] = []
        self.patrons = 0
        self.clean = True
        partners = {a: Partner(a, a.value) for a in self.agencies}
        for number, agency in enumerate(self.agencies):
            store = TrackingStore(forgetful=self.forgetful)
            transport = self.network.transport_for(agency)
            items = {
                title: ItemRef(f"{agency.value}-{title}", "QA76", "Stacks", desk="Main")
                for title in self.holdings.get(agency, ())
            }
            ports = Ports(
                store=store,
                transport=transport,
                notifier=RecordingNotifier(),
                circulation=MemoryCirculation(),
                holdings=ShelfHoldings(store, items),
                clock=self.clock,
                ids=SequentialIds(f"{agency.value}:"),
            )
            node_settings = Settings(
                agency,
                directory=Directory(partners),
                lending=LendingPolicy(auto_reject_not_held=number % 2 == 1),
                delivery=DeliveryPolicy().with_all(
                    max_attempts=1_000_000,
                    base_delay=timedelta(seconds=1),
                    max_delay=timedelta(seconds=60),
                ),
            )
            self.nodes[agency] = Node(
                node_settings, ports, store, transport, Institution(node_settings, ports)
            )

    # -- looking things up -------------------------------------------------------------

    def records(self, side: Side) -> list[tuple[AgencyId, Any]]:
        """Every request of one side, as (institution, record), in a stable order."""
        return [
            (agency, record)
            for agency, node in self.nodes.items()
            for (record_side, _), record in sorted(node.store.records.items())
            if record_side is side
        ]

    def borrowing_in(self, *states: BS) -> list[tuple[AgencyId, str]]:
        """(institution, id) of the borrowing requests in these states."""
        return [(a, r.id) for a, r in self.records(Side.BORROWING) if r.state in states]

    def lending_in(self, *states: LS) -> list[tuple[AgencyId, str]]:
        """(institution, id) of the lending requests in these states."""
        return [(a, r.id) for a, r in self.records(Side.LENDING) if r.state in states]

    def lending_for(self, lender: AgencyId, protocol_id: str) -> LendingRequest | None:
        """The lender's request for one borrowing attempt."""
        for record in self.nodes[lender].store.records.values():
            if isinstance(record, LendingRequest) and record.requester_request_id == protocol_id:
                return record
        return None

    def arrived(self) -> list[tuple[AgencyId, str]]:
        """Borrowing requests whose lender has physically shipped the item to them."""
        found = []
        for agency, request in self.records(Side.BORROWING):
            if request.state not in (BS.SENT, BS.WILL_SUPPLY, BS.SHIPPED, BS.CANCEL_PENDING):
                continue
            attempt = request.attempts[-1]
            lending = self.lending_for(attempt.lender, attempt.request_id)
            if lending is not None and lending.state in ITEM_AWAY:
                found.append((agency, request.id))
        return found

    def returned(self) -> list[tuple[AgencyId, str]]:
        """(lender, item barcode) of items the borrower has physically shipped back."""
        found = []
        for agency, lending in self.records(Side.LENDING):
            if lending.state not in ITEM_AWAY or lending.item is None:
                continue
            borrower = self.nodes.get(lending.requester)
            if borrower is None:
                continue
            for (side, _), request in borrower.store.records.items():
                if (
                    side is Side.BORROWING
                    and request.state is BS.RETURN_SHIPPED
                    and request.attempts[-1].request_id == lending.requester_request_id
                    and request.attempts[-1].lender == agency
                ):
                    found.append((agency, lending.item.barcode))
        return found

    def quiet(self) -> bool:
        """No copy in flight and no outbox message waiting for its confirmation."""
        return not self.network.flying and all(
            n.institution.pending_messages() == 0 for n in self.nodes.values()
        )

    def act(self, agency: AgencyId, action: Callable[[Institution], object]) -> None:
        """A staff action; one the state does not allow must raise and change nothing."""
        node = self.nodes[agency]
        before = node.store.writes
        try:
            action(node.institution)
        except (IllegalTransition, InvalidInput):
            assert node.store.writes == before, "a refused action changed something"

    # -- the network -------------------------------------------------------------------

    def deliver(self, copy: InFlight, *, confirm: bool = True) -> Confirmation:
        """Hand one copy to the receiver's inbox; check it applies at most once."""
        node = self.nodes[copy.to]
        key = (copy.sender, copy.message_id)
        before = node.store.writes
        answer = node.institution.inbox.receive(
            copy.message, message_id=copy.message_id, sender=copy.sender
        )
        earlier = self.applied.get(key)
        if earlier is not None:
            assert node.store.writes == before, f"{copy} applied twice"
            assert answer == earlier, f"{copy} confirmed differently the second time"
        elif answer.ok:
            self.applied[key] = answer
        else:
            self.errors.append((copy, answer))
        if confirm:
            self.network.confirmed[key] = answer
        return answer

    def dispatch_all(self) -> list[InFlight]:
        """Run every dispatcher; the copies they put in flight."""
        sent: list[InFlight] = []
        for node in self.nodes.values():
            node.institution.dispatch(limit=1000)
            sent += node.transport.drain_sent()
        return sent

    # -- rules: the patron and the borrowing desk ---------------------------------------

    @rule(
        target=in_flight,
        borrower=st.sampled_from(EVERY),
        citation=citations,
        order=st.randoms(use_true_random=False),
        patron=st.integers(0, 2),
    )
    @_step
    def place(self, borrower: AgencyId, citation: Any, order: Any, patron: int) -> Any:
        """A patron places a request; staff give the rota (every other member)."""
        if borrower not in self.nodes:
            return multiple()
        rota = [a for a in self.agencies if a != borrower]
        order.shuffle(rota)
        self.nodes[borrower].institution.borrowing.place_request(
            PatronRef(f"p-{patron}", f"Patron {patron}"),
            citation,
            pickup_location="Main",
            rota=rota,
        )
        return multiple(*self.dispatch_all())

    @precondition(lambda self: bool(self.arrived()))
    @rule(data=st.data())
    @_step
    def receive(self, data: st.DataObject) -> None:
        """A shipped item arrives at the borrowing library (its Loaned may still fly)."""
        agency, rid = data.draw(st.sampled_from(self.arrived()))
        self.act(agency, lambda i: i.borrowing.receive(rid, f"{agency.value}-T-{rid}"))

    @precondition(lambda self: bool(self.borrowing_in(BS.RECEIVED)))
    @rule(data=st.data())
    @_step
    def check_out(self, data: st.DataObject) -> None:
        """The patron collects the item."""
        agency, rid = data.draw(st.sampled_from(self.borrowing_in(BS.RECEIVED)))
        self.act(agency, lambda i: i.borrowing.check_out(rid))

    @precondition(lambda self: bool(self.borrowing_in(BS.ON_LOAN)))
    @rule(data=st.data())
    @_step
    def renew(self, data: st.DataObject) -> None:
        """The patron asks to renew."""
        agency, rid = data.draw(st.sampled_from(self.borrowing_in(BS.ON_LOAN)))
        self.act(agency, lambda i: i.borrowing.renew(rid, by_staff=True))

    @precondition(lambda self: bool(self.borrowing_in(*LOANED, BS.RENEW_REQUESTED)))
    @rule(data=st.data())
    @_step
    def return_item(self, data: st.DataObject) -> None:
        """The patron returns the item at the desk."""
        agency, rid = data.draw(st.sampled_from(self.borrowing_in(*LOANED, BS.RENEW_REQUESTED)))
        self.act(agency, lambda i: i.borrowing.return_item(f"{agency.value}-T-{rid}", "Main"))

    @precondition(lambda self: bool(self.borrowing_in(BS.RETURNED_BY_PATRON)))
    @rule(data=st.data())
    @_step
    def ship_return(self, data: st.DataObject) -> None:
        """Staff ship the item back to the lender."""
        agency, rid = data.draw(st.sampled_from(self.borrowing_in(BS.RETURNED_BY_PATRON)))
        self.act(agency, lambda i: i.borrowing.ship_return(rid))

    @precondition(lambda self: bool(self.borrowing_in(BS.SENT, BS.WILL_SUPPLY, BS.PENDING_REVIEW)))
    @rule(data=st.data(), mind=st.integers(0, 3))
    @_step
    def cancel(self, data: st.DataObject, mind: int) -> None:
        """The patron cancels (the lender is asked when it has the request); now and then."""
        if mind:
            return
        agency, rid = data.draw(
            st.sampled_from(self.borrowing_in(BS.SENT, BS.WILL_SUPPLY, BS.PENDING_REVIEW))
        )
        self.act(agency, lambda i: i.borrowing.cancel(rid))

    # -- rules: the lending desk -------------------------------------------------------

    @precondition(lambda self: bool(self.lending_in(LS.PICK_FROM_SHELF)))
    @rule(data=st.data())
    @_step
    def pick(self, data: st.DataObject) -> None:
        """The item is picked from the shelf."""
        agency, rid = data.draw(st.sampled_from(self.lending_in(LS.PICK_FROM_SHELF)))
        self.act(agency, lambda i: i.lending.pick(rid))

    @precondition(lambda self: bool(self.lending_in(LS.READY_TO_SHIP)))
    @rule(data=st.data())
    @_step
    def ship(self, data: st.DataObject) -> None:
        """The item is shipped."""
        agency, rid = data.draw(st.sampled_from(self.lending_in(LS.READY_TO_SHIP)))
        self.act(agency, lambda i: i.lending.ship(rid))

    @precondition(lambda self: bool(self.lending_in(LS.NEW, LS.LOCATE_FAILED, LS.PICK_FROM_SHELF)))
    @rule(data=st.data())
    @_step
    def reject(self, data: st.DataObject) -> None:
        """The lender refuses (Unfilled)."""
        agency, rid = data.draw(
            st.sampled_from(self.lending_in(LS.NEW, LS.LOCATE_FAILED, LS.PICK_FROM_SHELF))
        )
        self.act(agency, lambda i: i.lending.reject(rid, "NotAvailableForILL"))

    @precondition(lambda self: bool(self.returned()))
    @rule(data=st.data())
    @_step
    def check_in(self, data: st.DataObject) -> None:
        """A returned item is checked in (its ShippedReturn may still fly)."""
        agency, barcode = data.draw(st.sampled_from(self.returned()))
        self.act(agency, lambda i: i.lending.check_in(barcode))

    @precondition(lambda self: bool(self.lending_in(LS.SHIPPED, LS.RECEIVED_BY_PARTNER)))
    @rule(data=st.data())
    @_step
    def local_hold(self, data: st.DataObject) -> None:
        """A local patron places a hold on a lent item (recalls it)."""
        agency, rid = data.draw(
            st.sampled_from(self.lending_in(LS.SHIPPED, LS.RECEIVED_BY_PARTNER))
        )
        record = self.nodes[agency].store.records[(Side.LENDING, rid)]
        assert isinstance(record, LendingRequest)
        assert record.item is not None
        barcode = record.item.barcode
        self.act(agency, lambda i: i.lending.local_hold(barcode, "local-1"))

    @precondition(lambda self: bool(self.lending_in(LS.RENEW_REQUESTED)))
    @rule(data=st.data(), approve=st.booleans())
    @_step
    def answer_renewal(self, data: st.DataObject, approve: bool) -> None:
        """Staff decide a renewal the policy left to them."""
        agency, rid = data.draw(st.sampled_from(self.lending_in(LS.RENEW_REQUESTED)))
        self.act(agency, lambda i: i.lending.answer_renewal(rid, approve))

    @precondition(lambda self: bool(self.lending_in(LS.CANCEL_REQUESTED)))
    @rule(data=st.data(), accept=st.booleans())
    @_step
    def answer_cancel(self, data: st.DataObject, accept: bool) -> None:
        """Staff answer a cancel request."""
        agency, rid = data.draw(st.sampled_from(self.lending_in(LS.CANCEL_REQUESTED)))
        self.act(agency, lambda i: i.lending.answer_cancel(rid, accept))

    # -- rules: the network, time, restarts --------------------------------------------

    @rule(target=in_flight)
    @_step
    def dispatch(self) -> Any:
        """Every dispatcher delivers what is due (copies join the network)."""
        return multiple(*self.dispatch_all())

    @rule(copy=consumes(in_flight))
    @_step
    def deliver_one(self, copy: InFlight) -> None:
        """A copy arrives and its confirmation travels back."""
        self.network.take(copy)
        self.deliver(copy)

    @rule(copy=in_flight)
    @_step
    def duplicate(self, copy: InFlight) -> None:
        """A copy arrives and stays in flight: it will arrive again."""
        self.deliver(copy)

    @rule(copy=consumes(in_flight))
    @_step
    def drop(self, copy: InFlight) -> None:
        """A copy is lost (the sender retries once its backoff has passed)."""
        self.network.take(copy)

    @rule(copy=consumes(in_flight))
    @_step
    def lose_confirmation(self, copy: InFlight) -> None:
        """A copy arrives but its confirmation is lost: the sender will send it again."""
        self.network.take(copy)
        self.deliver(copy, confirm=False)

    @rule()
    @_step
    def network_catches_up(self) -> None:
        """A calm spell: everything in flight arrives in order, and the outboxes empty."""
        self.settle()

    @precondition(lambda self: len(self.network.flying) > 1)
    @rule()
    @_step
    def deliver_newest(self) -> None:
        """The newest copy overtakes the others."""
        copy = self.network.flying.pop()
        self.deliver(copy)
        # it stays in the bundle; delivering it again later is a duplicate

    @rule(delta=short_waits)
    @_step
    def wait(self, delta: timedelta) -> None:
        """Minutes or hours pass; every institution's due timers fire."""
        self.clock.advance(delta)
        for node in self.nodes.values():
            node.institution.tick()

    @precondition(lambda self: self.quiet())
    @rule(delta=long_waits)
    @_step
    def wait_days(self, delta: timedelta) -> None:
        """Days pass on a quiet network (timers: answer expiry, due dates, overdue).

        The protocol's timing assumption: a partition never outlasts a lender's answer
        deadline (see ``test_a_partition_longer_than_the_answer_deadline_loses_an_item``
        for what happens when it does).
        """
        self.wait(delta)

    @rule(agency=st.sampled_from(EVERY))
    @_step
    def restart(self, agency: AgencyId) -> None:
        """The institution restarts: rebuilt from its store, nothing else kept."""
        if agency in self.nodes:
            node = self.nodes[agency]
            node.institution = Institution(node.settings, node.ports)

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def protocol_holds(self) -> None:
        """Every invariant of the module docstring, on the current state."""
        for _, request in self.records(Side.BORROWING):
            assert isinstance(request, BorrowingRequest)
            attempts = request.attempts
            open_ = [a for a in attempts if a.outcome is None]
            assert len(open_) <= 1, f"{request.id} is with {len(open_)} lenders"
            if open_:
                assert open_[0] is attempts[-1], f"{request.id}: an old attempt is open"
            lenders = [a.lender for a in attempts]
            assert len(lenders) == len(set(lenders)), f"{request.id} tried {lenders}"
            if request.state in ITEM_HERE:
                lending = self.lending_for(attempts[-1].lender, attempts[-1].request_id)
                assert lending is not None, f"{request.id} has an item nobody lent"
                assert lending.state in ITEM_AWAY | {LS.COMPLETED, LS.LOST}, (
                    f"{request.id} has the item; the lender says {lending.state}"
                )
            for attempt in attempts:
                lending = self.lending_for(attempt.lender, attempt.request_id)
                if lending is None or lending.state not in ITEM_AWAY:
                    continue
                following = attempt is attempts[-1] and request.state not in (
                    BS.CANCELLED,
                    BS.UNFILLED,
                    BS.END_OF_ROTA,
                )
                assert following or request.state in (BS.COMPLETED, BS.LOST), (
                    f"{attempt.lender} shipped {lending.id} for {request.id} (attempt "
                    f"{attempt.number}), which is {request.state} and follows attempt "
                    f"{attempts[-1].number}: the item is not accounted for"
                )
        self.clean = True

    # -- the drain ---------------------------------------------------------------------

    def settle(self) -> None:
        """Deliver everything until no copy flies and no outbox waits."""
        for _ in range(200):
            self.network.flying.extend(self.dispatch_all())
            if not self.network.flying:
                if all(n.institution.pending_messages() == 0 for n in self.nodes.values()):
                    return
                self.clock.advance(timedelta(minutes=2))
                continue
            while self.network.flying:
                self.deliver(self.network.flying.pop(0))
            self.clock.advance(timedelta(minutes=2))
        raise AssertionError("the network never became quiet")

    def finish(self) -> None:
        """Staff and patrons take each open request one step towards its end."""
        for states, action in FINISH_BORROWING:
            for agency, rid in self.borrowing_in(*states):
                self.act(agency, functools.partial(action, agency=agency, rid=rid))
        for lstates, laction in FINISH_LENDING:
            for agency, rid in self.lending_in(*lstates):
                record = self.nodes[agency].store.records[(Side.LENDING, rid)]
                assert isinstance(record, LendingRequest)
                barcode = record.item.barcode if record.item is not None else ""
                self.act(agency, functools.partial(laction, rid=rid, barcode=barcode))

    def open_requests(self) -> list[str]:
        """Requests of either side that have not ended."""
        ended_b = set(AGREES)
        ended_l = LENDING_ENDED_UNSUPPLIED | {LS.COMPLETED, LS.LOST}
        return [
            f"{a}:{r.id}={r.state}"
            for side, ended in ((Side.BORROWING, ended_b), (Side.LENDING, ended_l))
            for a, r in self.records(side)
            if r.state not in ended
        ]

    def teardown(self) -> None:
        """Drain: quiet network, everyone finishes, time passes; then all agree and ended."""
        if not self.clean:
            return  # a step failed: let its error be the one reported
        for _ in range(30):
            self.settle()
            self.finish()
            self.settle()
            if not self.open_requests():
                break
            self.clock.advance(timedelta(days=1))
            for node in self.nodes.values():
                node.institution.tick()
        self.protocol_holds()
        assert not self.open_requests(), f"never ended: {self.open_requests()}; {self.errors}"
        for _, request in self.records(Side.BORROWING):
            assert isinstance(request, BorrowingRequest)
            for attempt in request.attempts:
                lending = self.lending_for(attempt.lender, attempt.request_id)
                if attempt is request.attempts[-1]:
                    expected = AGREES[request.state]
                    seen = lending.state if lending is not None else None
                    assert seen in expected or (
                        lending is None and request.state in (BS.CANCELLED, BS.UNFILLED)
                    ), f"{request.id} {request.state} but its lender says {seen}; {self.errors}"
                else:
                    assert lending is None or lending.state in LENDING_ENDED_UNSUPPLIED, (
                        f"{request.id} moved past {attempt.lender}, which is {lending.state}"
                    )


class ThreeInstitutions(ConsortiumMachine):
    """Three members; a work held by two lenders makes the rota move on."""

    agencies = (A, B, C)
    holdings: ClassVar[dict[AgencyId, tuple[str, ...]]] = {
        A: ("Delta",),
        B: ("Alpha", "Beta"),
        C: ("Beta", "Gamma"),
    }


ConsortiumMachine.TestCase.settings = settings(
    stateful_step_count=150, suppress_health_check=[HealthCheck.too_slow]
)
TestTwoInstitutions = ConsortiumMachine.TestCase
ThreeInstitutions.TestCase.settings = settings(
    stateful_step_count=150, suppress_health_check=[HealthCheck.too_slow]
)
TestThreeInstitutions = ThreeInstitutions.TestCase


class ForgetfulInstitutions(ConsortiumMachine):
    """The seeded fault: every store forgets the messages it processed."""

    forgetful = True


def test_a_store_that_forgets_processed_messages_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"applied twice|confirmed differently"):
        run_state_machine_as_test(
            ForgetfulInstitutions,
            settings=settings(
                max_examples=200,
                stateful_step_count=30,
                database=None,
                suppress_health_check=list(HealthCheck),
                deadline=None,
                report_multiple_bugs=False,
            ),
        )


# -- minimal examples of what the machines found ------------------------------------------


def _pair() -> tuple[Consortium, BorrowingRequest]:
    net = Consortium(START)
    partners = [Partner(A, "A"), Partner(B, "B")]
    net.add(Settings(A), partners=partners)
    item = ItemRef("B-Alpha", "QA76", "Stacks", desk="Main")
    net.add(Settings(B), partners=partners, holdings={"alpha": Holding(item)})
    request = net[A].institution.borrowing.place_request(
        PatronRef("p-1"), citation_of("Alpha"), pickup_location="Main", rota=[B]
    )
    return net, request


def test_a_message_never_overtakes_an_earlier_one_waiting_for_a_retry() -> None:
    """Found by the machine: a Cancel sent before its Request was refused, then supplied."""
    net, request = _pair()
    a = net[A].institution
    net.network.down.add(B)
    assert a.dispatch().retried == 1  # the Request waits 30 s for its retry
    net.clock.advance(timedelta(seconds=1))
    a.borrowing.cancel(request.id)  # the Cancel is due at once
    net.network.down.clear()
    net.clock.advance(timedelta(minutes=1))
    net.settle()
    delivered = [m.message.kind.value for m in net.network.log if m.confirmation is not None]
    assert delivered[:2] == ["request", "requestingAgencyMessage"]
    assert all(m.confirmation.ok for m in net.network.log if m.confirmation is not None)
    assert a.get(Side.BORROWING, request.id).state is BS.CANCELLED


def test_a_partition_longer_than_the_answer_deadline_does_not_lose_the_item() -> None:
    """The lender ships while it cannot reach the borrower, whose answer deadline passes."""
    net, request = _pair()
    a, b = net[A].institution, net[B].institution
    a.dispatch()  # B has the request and supplies it; its WillSupply cannot reach A:
    net.network.down.add(A)
    net.settle()
    lending_id = "US-B:L-000000001"  # the only lending request (SequentialIds)
    b.lending.pick(lending_id)
    b.lending.ship(lending_id)
    net.settle()
    net.clock.advance(timedelta(days=8))
    a.tick()  # the answer deadline passes: A withdraws (Cancel; B refuses, it shipped)
    net.settle()
    net.network.down.clear()
    net.clock.advance(timedelta(hours=7))
    net.settle()
    assert b.get(Side.LENDING, lending_id).state is LS.SHIPPED
    # the item is on its way to A: A's request must follow it (to receive and return it)
    assert a.get(Side.BORROWING, request.id).state in (BS.SHIPPED, BS.CANCEL_PENDING)
