"""The effect delivery contract: a store and the dispatcher together, through whole loans.

Subclass :class:`EffectDeliveryContract` and implement ``make_store`` (and ``reopen`` for
a durable store); pytest collects the ``test_*`` methods. Each test runs a borrower A and
a lender C on a :class:`~resource_sharing.testing.consortium.Consortium`, A on the store
under test, with a circulation and a notifier that fail the first attempts of every
effect, and checks the guarantees of issue 13:

- every effect arrives exactly once (one idempotency key each), in order per request;
- a delivery that gives up becomes a staff task on its request, shown on the
  ``delivery_problems`` list; "retry now" delivers it; "done by hand" and "drop" are
  recorded with the staff user who chose them, and nothing more is delivered;
- a restarted dispatcher releases its own claims at once; another takes a dead one's
  after the lease.

Plain ``assert`` and no test framework, so that the suite can live in the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from resource_sharing.directory import Partner
from resource_sharing.effects import CreateTemporaryItem, PlaceOnHoldShelf, TaskList
from resource_sharing.errors import InvalidInput
from resource_sharing.ports import (
    Holding,
    OutboxEntry,
    OutboxStatus,
    Port,
    RequestStore,
    TaskChoice,
)
from resource_sharing.records import Actor, AgencyId, Citation, ItemRef, PatronRef, Side
from resource_sharing.service import DeliveryPolicy, Institution, Settings
from resource_sharing.testing.consortium import Consortium, Member

__all__ = ["EffectDeliveryContract"]

A, C = AgencyId("US-DELIVERY-A"), AgencyId("US-DELIVERY-C")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = Citation(title="The Art of Computer Programming")
ITEM = ItemRef("C-39001", "QA76 .K6", "Stacks", desk="Main desk")
PATRON = PatronRef("p-1", "Ada Lovelace", email="ada@example.org")


class EffectDeliveryContract:
    """Effect delivery through the dispatcher on the store under test."""

    def make_store(self) -> RequestStore:
        """A new, empty store (each test makes its own)."""
        raise NotImplementedError

    def reopen(self, store: RequestStore) -> RequestStore | None:
        """A new store on the same data, as after a restart; None when not durable."""
        return None

    # -- the scene ---------------------------------------------------------------------

    def _network(
        self,
        *,
        failures: int = 0,
        retryable: bool = True,
        delivery: DeliveryPolicy | None = None,
        store: RequestStore | None = None,
    ) -> tuple[Consortium, Member, Member]:
        net = Consortium(START)
        partners = [Partner(A, "A"), Partner(C, "C")]
        settings = Settings(A, delivery=delivery) if delivery else Settings(A)
        a = net.add(
            settings,
            partners=partners,
            store=store if store is not None else self.make_store(),
            notifier_failures=failures,
            circulation_failures=failures,
            retryable=retryable,
        )
        c = net.add(Settings(C), partners=partners, holdings={BOOK.title.casefold(): Holding(ITEM)})  # type: ignore[union-attr]
        return net, a, c

    @staticmethod
    def _drain(net: Consortium, rounds: int = 40) -> None:
        """Dispatch, let retry delays pass, again, until nothing is waiting anywhere."""
        for _ in range(rounds):
            net.settle()
            if all(m.institution.pending_messages() == 0 for m in net.members.values()):
                return
            net.clock.advance(timedelta(minutes=30))
        raise AssertionError("the outboxes never emptied")

    def _loan(self, net: Consortium, a: Member, c: Member) -> str:
        """A whole loan: request, supply, receipt, loan, return, check-in."""
        placed = a.institution.borrowing.place_request(
            PATRON, BOOK, pickup_location="Main", rota=[C]
        )
        self._drain(net)
        (pick,) = c.institution.tasks(TaskList.PICK_FROM_SHELF)
        c.institution.lending.pick(pick.request_id)
        c.institution.lending.ship(pick.request_id)
        self._drain(net)
        a.institution.borrowing.by("desk-1").receive(placed.id, "A-TEMP-1")
        self._drain(net)
        a.institution.borrowing.check_out(placed.id)
        self._drain(net)
        a.institution.borrowing.return_item("A-TEMP-1", desk="Main")
        a.institution.borrowing.ship_return(placed.id)
        self._drain(net)
        c.institution.lending.check_in(ITEM.barcode)
        self._drain(net)
        assert a.institution.get(Side.BORROWING, placed.id).state.value == "completed"
        return placed.id

    @staticmethod
    def _entries(member: Member, port: Port) -> list[OutboxEntry]:
        with member.store.transaction() as uow:
            return list(uow.outbox.entries(port=port))

    # -- exactly once, in order --------------------------------------------------------

    def test_every_effect_arrives_once_in_order_though_the_ports_fail_first(self) -> None:
        """Circulation and notices that fail twice per effect, then recover: all arrive once."""
        net, a, c = self._network(failures=2)
        request_id = self._loan(net, a, c)
        circulation = self._entries(a, Port.CIRCULATION)
        notices = self._entries(a, Port.NOTIFIER)
        assert circulation, "the loan sent no circulation commands"
        assert notices, "the loan sent no notices"
        for entry in (*circulation, *notices):
            assert entry.status is OutboxStatus.DELIVERED, entry
            assert entry.attempts == 3, entry  # two failures, then it went
        # Exactly once: one command per entry, each under its own key, in commit order.
        assert a.circulation.keys == [e.key for e in circulation]
        assert a.circulation.commands == [e.effect for e in circulation]
        assert a.notifier.keys == [e.key for e in notices]
        assert [n for _, n in a.notifier.log] == [e.effect for e in notices]
        kinds = [type(e.effect).__name__ for e in circulation if e.request_id == request_id]
        assert kinds[:3] == ["CreateTemporaryItem", "PlaceOnHoldShelf", "CheckOutToPatron"]
        created = circulation[0].effect
        assert isinstance(created, CreateTemporaryItem)
        assert (created.barcode, created.patron, created.pickup_location) == (
            "A-TEMP-1",
            PATRON,
            "Main",
        )
        flaky = a.flaky_circulation
        assert flaky is not None
        assert set(flaky.faults.attempts.values()) == {3}

    # -- give-up and staff tasks -------------------------------------------------------

    def _given_up(self, *, retryable: bool) -> tuple[Consortium, Member, str]:
        delivery = DeliveryPolicy().with_all(max_attempts=2, base_delay=timedelta(seconds=10))
        net, a, c = self._network(failures=99, retryable=retryable, delivery=delivery)
        placed = a.institution.borrowing.place_request(
            PATRON, BOOK, pickup_location="Main", rota=[C]
        )
        for _ in range(6):
            net.settle()
            net.clock.advance(timedelta(minutes=5))
        (pick,) = c.institution.tasks(TaskList.PICK_FROM_SHELF)
        c.institution.lending.pick(pick.request_id)
        c.institution.lending.ship(pick.request_id)
        net.settle()
        a.institution.borrowing.receive(placed.id, "A-TEMP-1")
        for _ in range(6):
            net.settle()
            net.clock.advance(timedelta(minutes=5))
        return net, a, placed.id

    def test_a_delivery_that_gives_up_becomes_a_task_and_retry_now_delivers_it(self) -> None:
        """The task says what failed and why; "retry now" delivers it; the task survives."""
        _, a, request_id = self._given_up(retryable=True)
        inst = a.institution
        lines = [t for t in inst.tasks(TaskList.DELIVERY_PROBLEMS) if t.request_id == request_id]
        titles = [t.instruction or "" for t in lines]
        assert any("Create temporary item A-TEMP-1" in t for t in titles), titles
        assert all("refused" in t and "retry now" in t for t in titles), titles
        (task,) = [
            t
            for t in inst.tasks_of(Side.BORROWING, request_id)
            if "Create temporary item" in t.title
        ]
        assert task.port is Port.CIRCULATION
        assert task.attempts == 2
        assert task.resolution is None
        assert "refused" in task.error
        events = [h.event for h in inst.history(Side.BORROWING, request_id)]
        assert "DeliveryGaveUp" in events
        flaky = a.flaky_circulation
        assert flaky is not None
        flaky.faults.failures = 0
        assert inst.task_desk.retry_now(task.id, by="alice") is True
        assert "A-TEMP-1" in a.circulation.temporary_items
        resolved = inst.task_desk.get(task.id)
        assert resolved.resolution is not None
        assert resolved.resolution.choice is TaskChoice.RETRY_NOW
        assert resolved.resolution.by == Actor.staff("alice")
        assert task.id not in [t.task_id for t in inst.tasks(TaskList.DELIVERY_PROBLEMS)]
        last = inst.history(Side.BORROWING, request_id)[-1]
        assert (last.event, last.actor) == ("ResolveTask", Actor.staff("alice"))
        reopened = self.reopen(a.store)
        if reopened is not None:  # the task and its resolution survive a restart
            with reopened.transaction() as uow:
                kept = uow.tasks.get(task.id)
            assert kept is not None
            assert kept == resolved

    def test_done_by_hand_and_drop_are_recorded_with_the_staff_user(self) -> None:
        """Refusals give up at once; staff settle them by hand or drop them, named."""
        _, a, request_id = self._given_up(retryable=False)
        inst = a.institution
        tasks = {t.title: t for t in inst.tasks_of(Side.BORROWING, request_id)}
        create = next(t for title, t in tasks.items() if "Create temporary item" in title)
        shelf = next(t for title, t in tasks.items() if "hold shelf" in title)
        assert create.attempts == shelf.attempts == 1
        inst.task_desk.mark_done(create.id, by="bob", note="made in the ILS")
        inst.task_desk.drop(shelf.id, by="carol")
        with a.store.transaction() as uow:
            made = uow.outbox.get(create.entry_id or "")
            dropped = uow.outbox.get(shelf.entry_id or "")
        assert made is not None
        assert dropped is not None
        assert made.status is OutboxStatus.DONE_BY_HAND
        assert dropped.status is OutboxStatus.DROPPED
        assert isinstance(dropped.effect, PlaceOnHoldShelf)
        assert a.circulation.commands == []
        done, gone = inst.task_desk.get(create.id), inst.task_desk.get(shelf.id)
        assert done.resolution is not None
        assert gone.resolution is not None
        assert (done.resolution.by, done.resolution.note) == (Actor.staff("bob"), "made in the ILS")
        assert gone.resolution.by == Actor.staff("carol")
        actors = [
            h.actor for h in inst.history(Side.BORROWING, request_id) if h.event == "ResolveTask"
        ]
        assert actors == [Actor.staff("bob"), Actor.staff("carol")]
        for again in (
            lambda: inst.task_desk.drop(create.id, by="dave"),
            lambda: inst.task_desk.retry_now(shelf.id, by="dave"),
            lambda: inst.task_desk.mark_done(create.id, by="  "),
        ):
            try:
                again()
            except InvalidInput:
                continue
            raise AssertionError("a resolved task (or an unnamed user) must be refused")

    # -- leases and restarts -----------------------------------------------------------

    def _claimed(self, owner: str) -> tuple[Consortium, Member, list[str]]:
        """A's entries claimed by ``owner`` as a dispatcher that died mid-delivery."""
        net, a, _ = self._network()
        a.institution.borrowing.place_request(PATRON, BOOK, rota=[C])
        lease = a.institution.shell.settings.delivery.lease
        ids: list[str] = []
        with a.store.transaction() as uow:
            for port in Port:
                taken = uow.outbox.claim(
                    port, now=net.clock.now(), limit=100, lease=lease, owner=owner
                )
                ids += [e.id for e in taken]
        assert ids
        return net, a, ids

    @staticmethod
    def _states(store: RequestStore, ids: Sequence[str]) -> list[OutboxStatus]:
        with store.transaction() as uow:
            found = [uow.outbox.get(i) for i in ids]
        return [e.status for e in found if e is not None]

    def test_a_restarted_dispatcher_releases_its_claims_at_once(self) -> None:
        """The same owner, restarted, delivers at once; another waits for the lease."""
        net, a, ids = self._claimed("local")
        shell = a.institution.shell
        store = self.reopen(a.store) or a.store
        ports = attrs.evolve(shell.ports, store=store)
        other = Institution(shell.settings, ports, owner="another-process")
        assert other.dispatch().sent == 0
        assert set(self._states(store, ids)) == {OutboxStatus.PENDING}
        restarted = Institution(shell.settings, ports, owner="local")
        assert restarted.dispatch().sent == len(ids)
        assert set(self._states(store, ids)) == {OutboxStatus.DELIVERED}
        assert net[C].institution.pending_messages() >= 1  # C received the request

    def test_a_dead_dispatchers_claims_are_taken_after_the_lease(self) -> None:
        """Claims of a process that never comes back wait for the lease, then go."""
        net, a, ids = self._claimed("dead-process")
        assert a.institution.dispatch().sent == 0
        lease = a.institution.shell.settings.delivery.lease
        net.clock.advance(lease)
        assert a.institution.dispatch().sent == len(ids)
        assert set(self._states(a.store, ids)) == {OutboxStatus.DELIVERED}
