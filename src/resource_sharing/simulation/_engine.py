"""The discrete-event consortium simulator: the real services, simulated people and network.

Theory of operation
-------------------
Each member is a real :class:`~resource_sharing.service.Institution` on the in-memory
adapters, sharing one :class:`~resource_sharing.memory.FixedClock`. Demand (who borrows
which work, when) is drawn up front from the scenario's seed, so every policy variant
sees the same requests. Events wait in a priority queue ordered by (time, sequence): a
patron places a request, a lending desk processes one (supply or refuse, after its
processing days), an item arrives (after the shipping days), the patron collects, renews,
returns (late or lost, sometimes), the library ships it back, the lender checks it in.
Every morning each member's timers fire (answer deadlines, overdue notices). Each event is
one call of a desk; the outboxes are then dispatched through :class:`FaultyNetwork`, which
drops, duplicates or loses confirmations as the scenario says (the outbox retries what
failed, with its backoff; an hourly sweep dispatches the retries).

The rota is built per request with :func:`~resource_sharing.rota.build_rota`, the
variant's scorers and the facts the simulator observes (open requests per lender, fill
statistics), and handed to the borrowing desk as the request's rota.

At the end every request on both sides is checked: at most one open attempt, no lender
tried twice, both sides agree on how each attempt ended, and nothing is left open.
Randomness comes only from :class:`~resource_sharing.simulation.SplitMix64` seeded by the
scenario: a run is a pure function of its scenario.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from resource_sharing.borrowing import BorrowingPolicy, EndOfRota
from resource_sharing.calendar import Calendar
from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import DeliveryError, ResourceSharingError
from resource_sharing.iso18626 import Status
from resource_sharing.lending import LendingPolicy
from resource_sharing.memory import (
    FixedClock,
    MemoryCirculation,
    MemoryStore,
    RecordingNotifier,
    SequentialIds,
)
from resource_sharing.messages import Confirmation, PeerMessage, Request, SupplyingAgencyMessage
from resource_sharing.ports import Holding
from resource_sharing.records import (
    AgencyId,
    BorrowingRequest,
    Citation,
    ItemRef,
    LendingRequest,
    PatronRef,
    Side,
)
from resource_sharing.rota import (
    FillRateScorer,
    FillStats,
    HoldingsAnswer,
    LoadScorer,
    PartnerFacts,
    RotaContext,
    RotaPolicy,
    Scorer,
    TurnaroundScorer,
    build_rota,
)
from resource_sharing.rota import Holding as RotaHolding
from resource_sharing.service import DeliveryPolicy, Institution, Ports, Settings
from resource_sharing.simulation._metrics import Metrics, gini, percentile
from resource_sharing.simulation._random import SplitMix64
from resource_sharing.simulation._scenario import DayRange, Scenario, Variant
from resource_sharing.states import BorrowingState as B
from resource_sharing.states import LendingState as L

__all__ = ["FaultyNetwork", "Simulation", "simulate"]

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
_ENDED_B = frozenset({B.COMPLETED, B.CANCELLED, B.UNFILLED, B.LOST})
_ENDED_L = frozenset({L.COMPLETED, L.CANCELLED, L.UNFILLED, L.EXPIRED, L.LOST})
_UNSUPPLIED_L = frozenset({L.CANCELLED, L.UNFILLED, L.EXPIRED})
_AGREES: dict[B, frozenset[L]] = {
    B.COMPLETED: frozenset({L.COMPLETED}),
    B.LOST: frozenset({L.LOST}),
    B.CANCELLED: _UNSUPPLIED_L,
    B.UNFILLED: _UNSUPPLIED_L,
}
_SCORERS: dict[str, Callable[[float], Scorer]] = {
    "load": lambda w: LoadScorer(weight=w),
    "fill_rate": lambda w: FillRateScorer(weight=w),
    "turnaround": lambda w: TurnaroundScorer(weight=w),
}


class FaultyNetwork:
    """Delivers through each receiver's real inbox, with the scenario's faults.

    ``after_delivery(receiver, message, confirmation)`` lets the simulator react to what
    arrived (a new lending request to process); ``dirty`` collects the members that
    received something and may now have messages to send.
    """

    def __init__(
        self,
        rng: SplitMix64,
        drop: float = 0.0,
        lose_confirmation: float = 0.0,
        duplicate: float = 0.0,
    ) -> None:
        self._rng = rng
        self._drop, self._lose, self._duplicate = drop, lose_confirmation, duplicate
        self.inboxes: dict[AgencyId, Institution] = {}
        """Members, by agency."""
        self.counts: Counter[str] = Counter()
        """delivered, dropped, confirmation_lost, duplicated."""
        self.dirty: set[AgencyId] = set()
        """Members that received something since the last dispatch."""
        self.after_delivery: Callable[[AgencyId, PeerMessage], None] = lambda a, m: None
        """Called after each message a receiver accepted."""

    def transport_for(self, sender: AgencyId) -> _FaultyTransport:
        """The transport of one member."""
        return _FaultyTransport(self, sender)

    def deliver(
        self, sender: AgencyId, to: AgencyId, message: PeerMessage, message_id: str
    ) -> Confirmation:
        """One delivery attempt."""
        rng = self._rng
        if rng.chance(self._drop):
            self.counts["dropped"] += 1
            raise DeliveryError(str(to), "dropped by the network")
        inbox = self.inboxes[to].inbox
        confirmation = inbox.receive(message, message_id=message_id, sender=sender)
        self.counts["delivered"] += 1
        self.dirty.add(to)
        if confirmation.ok:
            self.after_delivery(to, message)
        if rng.chance(self._duplicate):
            self.counts["duplicated"] += 1
            inbox.receive(message, message_id=message_id, sender=sender)
        if rng.chance(self._lose):
            self.counts["confirmation_lost"] += 1
            raise DeliveryError(str(to), "confirmation lost")
        return confirmation


class _FaultyTransport:
    def __init__(self, network: FaultyNetwork, sender: AgencyId) -> None:
        self._network = network
        self._sender = sender

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        return self._network.deliver(self._sender, partner.agency, message, message_id)


class _Holdings:
    """A member's catalogue: every held work has copies enough (fill rate models refusal)."""

    def __init__(self, agency: AgencyId, titles: set[str]) -> None:
        self._agency = agency
        self._titles = titles
        self._copies = 0

    def locate(self, citation: Citation) -> Holding | None:
        title = citation.title or ""
        if title not in self._titles:
            return None
        self._copies += 1
        return Holding(ItemRef(f"{self._agency.value}/{title}/{self._copies}", desk="ILL"))


class Simulation:
    """One run of a scenario with one policy variant (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        variant: Variant | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.variant = variant or scenario.runs()[0]
        self._progress = progress
        root = SplitMix64(scenario.seed)
        demand_rng, catalogue_rng = root.split(), root.split()
        self._people = root.split()  # lender and patron behaviour draws
        self._net_rng = root.split()
        self.clock = FixedClock(START)
        n = scenario.institutions
        self.agencies = [AgencyId(f"SIM-{i:03d}") for i in range(n)]
        self._index = {a: i for i, a in enumerate(self.agencies)}
        self.holders: dict[str, list[AgencyId]] = {}
        held: dict[AgencyId, set[str]] = {a: set() for a in self.agencies}
        for t in range(scenario.titles):
            title = f"Work {t:05d}"
            low, high = scenario.holders_per_title
            count = min(n, catalogue_rng.randint(low, high))
            holders = sorted(catalogue_rng.sample(self.agencies, count), key=str)
            self.holders[title] = holders
            for agency in holders:
                held[agency].add(title)
        self.demand = list(_draw_demand(scenario, self.agencies, demand_rng))
        faults = scenario.faults
        self.network = FaultyNetwork(
            self._net_rng, faults.drop, faults.lose_confirmation, faults.duplicate
        )
        self.network.after_delivery = self._arrived
        partners = {}
        for i, agency in enumerate(self.agencies):
            partners[agency] = Partner(agency, agency.value, calendar=self._calendar(i))
        directory = Directory(partners)
        self.policy = RotaPolicy(
            scorers=tuple(_SCORERS[name](weight) for name, weight in self.variant.scorers),
            max_length=scenario.max_rota,
        )
        self.members: dict[AgencyId, Institution] = {}
        self.stores: dict[AgencyId, MemoryStore] = {}
        for i, agency in enumerate(self.agencies):
            store = MemoryStore()
            ports = Ports(
                store=store,
                transport=self.network.transport_for(agency),
                notifier=RecordingNotifier(),
                circulation=MemoryCirculation(),
                holdings=_Holdings(agency, held[agency]),
                clock=self.clock,
                ids=SequentialIds(f"{agency.value}:"),
            )
            settings = Settings(
                agency,
                directory=directory,
                calendar=self._calendar(i),
                borrowing=BorrowingPolicy(end_of_rota=EndOfRota.CANCEL),
                lending=LendingPolicy(auto_reject_not_held=True),
                max_open_requests_per_patron=None,
                delivery=DeliveryPolicy().with_all(max_attempts=50),
            )
            institution = Institution(settings, ports)
            self.members[agency] = institution
            self.stores[agency] = store
            self.network.inboxes[agency] = institution
        self._queue: list[tuple[datetime, int, str, tuple[Any, ...]]] = []
        self._sequence = 0
        self._retrying: set[AgencyId] = set()
        # observations
        self.turnarounds: list[float] = []
        self.placed: list[tuple[AgencyId, str]] = []
        self.load: Counter[AgencyId] = Counter()
        self.shipped: Counter[AgencyId] = Counter()
        self.open_with: Counter[tuple[AgencyId, AgencyId]] = Counter()
        self.asked: Counter[tuple[AgencyId, AgencyId]] = Counter()
        self.filled_by: Counter[tuple[AgencyId, AgencyId]] = Counter()
        self.overdue = self.lost = self.renewals = 0
        self.violations: list[str] = []
        self._open: list[tuple[AgencyId, str]] | None = None
        self.refused: Counter[str] = Counter()
        """Actions the services refused (the state no longer allowed them), by kind."""

    # -- set-up helpers ---------------------------------------------------------------

    def _calendar(self, index: int) -> Calendar:
        if self.scenario.behaviour(index).closed_weekends:
            return Calendar(closed_weekdays=frozenset({5, 6}))
        return Calendar()

    def _days(self, span: DayRange) -> timedelta:
        """Whole days from the range, plus up to seven hours; exact for a single value."""
        low, high = span
        if low == high:
            return timedelta(days=low)
        return timedelta(days=self._people.randint(low, high), hours=self._people.randint(0, 7))

    def _at(self, when: datetime, kind: str, *args: Any) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (when, self._sequence, kind, args))

    # -- the run ----------------------------------------------------------------------

    def run(self) -> Metrics:
        """Run every event; the metrics."""
        scenario = self.scenario
        for when, borrower, title, patron in self.demand:
            self._at(when, "place", borrower, title, patron)
        last_day = scenario.days + 400
        for day in range(last_day):
            self._at(START + day * DAY + timedelta(hours=6), "tick")
        done = 0
        total = len(self.demand)
        while self._queue:
            when, _, kind, args = heapq.heappop(self._queue)
            if kind == "tick" and self._quiet(when):
                continue
            if when > self.clock.now():
                self.clock.set(when)
            try:
                getattr(self, f"_on_{kind}")(*args)
            except ResourceSharingError as error:  # a person tried what the state refuses
                self.refused[f"{kind}: {type(error).__name__}"] += 1
            self._flush()
            if kind == "place":
                done += 1
                if self._progress is not None and (done % 500 == 0 or done == total):
                    self._progress(done, total)
        return self._metrics()

    def _quiet(self, when: datetime) -> bool:
        """After demand ends: stop ticking once no request is open."""
        if when < START + self.scenario.days * DAY:
            return False
        busy = any(kind != "tick" for _, _, kind, _ in self._queue)
        return not busy and self._open_count() == 0

    def _flush(self) -> None:
        """Dispatch until no member that received or did something has a message to send."""
        dirty = self.network.dirty
        rounds = 0
        while dirty and rounds < 100:
            rounds += 1
            todo = sorted(dirty, key=str)
            dirty.clear()
            for agency in todo:
                report = self.members[agency].dispatch(limit=1000)
                if report.retried:
                    self._retrying.add(agency)
                    self._at(self.clock.now() + timedelta(minutes=30), "retry", agency)

    # -- events -----------------------------------------------------------------------

    def _on_tick(self) -> None:
        for agency, member in self.members.items():
            if member.tick():
                self.network.dirty.add(agency)

    def _on_retry(self, agency: AgencyId) -> None:
        self.network.dirty.add(agency)

    def _on_place(self, borrower: AgencyId, title: str, patron: str) -> None:
        member = self.members[borrower]
        citation = Citation(title=title)
        rota = self._rota(borrower, citation)
        request = member.borrowing.place_request(
            PatronRef(patron), citation, pickup_location="Main", rota=rota
        )
        self.placed.append((borrower, request.id))
        if request.state is B.SENT:
            self._asked(borrower, request)
        elif request.state not in _ENDED_B:
            member.borrowing.cancel(request.id, reason="no lender holds it")
        self.network.dirty.add(borrower)

    def _rota(self, borrower: AgencyId, citation: Citation) -> list[AgencyId]:
        holders = [a for a in self.holders.get(citation.title or "", ()) if a != borrower]
        if not holders:
            return []
        facts = {
            a: PartnerFacts(
                open_requests=self.open_with[(borrower, a)],
                fill=FillStats(self.asked[(borrower, a)], self.filled_by[(borrower, a)]),
            )
            for a in holders
        }
        context = RotaContext(
            today=self.clock.now().date(),
            holdings=HoldingsAnswer(tuple(RotaHolding(a) for a in holders)),
            facts=facts,
            own_agencies=frozenset({borrower}),
        )
        probe = BorrowingRequest(
            id="probe",
            agency=borrower,
            patron=PatronRef("probe"),
            citation=citation,
            created_at=self.clock.now(),
        )
        directory = self.members[borrower].shell.settings.directory
        return [
            entry.agency for entry in build_rota(probe, directory, context, self.policy).entries
        ]

    def _asked(self, borrower: AgencyId, request: BorrowingRequest) -> None:
        lender = request.attempts[-1].lender
        self.asked[(borrower, lender)] += 1
        self.open_with[(borrower, lender)] += 1

    def _arrived(self, receiver: AgencyId, message: PeerMessage) -> None:
        """A member accepted a message: schedule what its people do about it."""
        if isinstance(message, Request):
            header = message.header
            with self.stores[receiver].transaction() as uow:
                lending_id = uow.requests.find(
                    Side.LENDING, header.requesting_agency_request_id, header.requesting_agency
                )
            if lending_id is None:
                return
            self.load[receiver] += 1
            span = self.scenario.behaviour(self._index[receiver]).processing_days
            self._at(self.clock.now() + self._days(span), "process", receiver, lending_id)
        elif isinstance(message, SupplyingAgencyMessage) and message.status in (
            Status.UNFILLED,
            Status.CANCELLED,
        ):
            self._follow_rota(receiver, message)

    def _follow_rota(self, borrower: AgencyId, message: SupplyingAgencyMessage) -> None:
        lender = message.header.supplying_agency
        self.open_with[(borrower, lender)] = max(0, self.open_with[(borrower, lender)] - 1)
        with self.stores[borrower].transaction() as uow:
            rid = uow.requests.find(
                Side.BORROWING, message.header.requesting_agency_request_id, lender
            )
            request = uow.requests.get(Side.BORROWING, rid) if rid else None
        if (
            isinstance(request, BorrowingRequest)
            and request.state is B.SENT
            and request.attempts[-1].lender != lender
        ):
            self._asked(borrower, request)

    def _on_process(self, lender: AgencyId, lending_id: str) -> None:
        member = self.members[lender]
        record = member.get(Side.LENDING, lending_id)
        assert isinstance(record, LendingRequest)
        if record.state is not L.PICK_FROM_SHELF:
            return
        behaviour = self.scenario.behaviour(self._index[lender])
        if not self._people.chance(behaviour.fill_rate):
            member.lending.reject(lending_id, "NotAvailableForILL")
            self.network.dirty.add(lender)
            return
        record = member.lending.pick(lending_id)
        if record.state is L.IN_TRANSIT_TO_RS_LIBRARY:
            record = member.lending.arrive(lending_id)
        record = member.lending.ship(lending_id)
        assert isinstance(record, LendingRequest)
        self.network.dirty.add(lender)
        self.shipped[lender] += 1
        borrower = record.requester
        self.filled_by[(borrower, lender)] += 1
        self.open_with[(borrower, lender)] = max(0, self.open_with[(borrower, lender)] - 1)
        when = self.clock.now() + self._days(behaviour.shipping_days)
        self._at(when, "receive", borrower, lender, record.requester_request_id)

    def _borrowing(self, borrower: AgencyId, lender: AgencyId, protocol_id: str) -> Any:
        with self.stores[borrower].transaction() as uow:
            rid = uow.requests.find(Side.BORROWING, protocol_id, lender)
            return uow.requests.get(Side.BORROWING, rid) if rid else None

    def _on_receive(self, borrower: AgencyId, lender: AgencyId, protocol_id: str) -> None:
        request = self._borrowing(borrower, lender, protocol_id)
        if not isinstance(request, BorrowingRequest):
            self.violations.append(f"{lender} shipped {protocol_id}: no request at {borrower}")
            return
        if request.attempts[-1].request_id != protocol_id or request.state in _ENDED_B:
            self.violations.append(
                f"{lender} shipped for {request.id} attempt {protocol_id}, which is "
                f"{request.state.value}: the item is not accounted for"
            )
            return
        member = self.members[borrower]
        member.borrowing.receive(request.id, f"{borrower.value}/T/{request.id}")
        self.network.dirty.add(borrower)
        days = (self.clock.now() - request.created_at) / DAY
        self.turnarounds.append(days)
        self._at(
            self.clock.now() + self._days(self.scenario.patron.pickup_days),
            "pickup",
            borrower,
            request.id,
        )

    def _on_pickup(self, borrower: AgencyId, request_id: str) -> None:
        member = self.members[borrower]
        request = member.get(Side.BORROWING, request_id)
        if request.state is not B.RECEIVED:
            return
        request = member.borrowing.check_out(request_id)
        assert isinstance(request, BorrowingRequest)
        patron = self.scenario.patron
        people = self._people
        keep = self._days(patron.use_days)
        due = request.patron_due
        if due is not None:
            keep = min(keep, due - self.clock.now() - timedelta(hours=1))
        if people.chance(patron.renew_probability) and due is not None:
            self._at(max(self.clock.now(), due - timedelta(days=3)), "renew", borrower, request_id)
        if people.chance(patron.late_probability):
            keep = (due - self.clock.now() if due else keep) + self._days(patron.late_days)
        lost = people.chance(patron.lost_probability)
        self._at(
            self.clock.now() + max(keep, timedelta(hours=1)),
            "give_back",
            borrower,
            request_id,
            lost,
        )

    def _on_renew(self, borrower: AgencyId, request_id: str) -> None:
        member = self.members[borrower]
        if member.get(Side.BORROWING, request_id).state is B.ON_LOAN:
            member.borrowing.renew(request_id)
            self.network.dirty.add(borrower)

    def _on_give_back(self, borrower: AgencyId, request_id: str, lost: bool) -> None:
        member = self.members[borrower]
        request = member.get(Side.BORROWING, request_id)
        assert isinstance(request, BorrowingRequest)
        if request.state in _ENDED_B:
            return
        if request.state is B.RENEW_REQUESTED:  # wait for the lender's answer
            self._at(self.clock.now() + timedelta(hours=4), "give_back", borrower, request_id, lost)
            return
        self.renewals += request.renewal_count
        if lost:
            member.borrowing.report_lost(request_id)
            self.lost += 1
            self.network.dirty.add(borrower)
            return
        if request.patron_due is not None and self.clock.now() > request.patron_due:
            self.overdue += 1
        member.borrowing.return_item(request.item_barcode or "", "Main")
        self._at(self.clock.now() + timedelta(days=1), "ship_back", borrower, request_id)

    def _on_ship_back(self, borrower: AgencyId, request_id: str) -> None:
        member = self.members[borrower]
        request = member.borrowing.ship_return(request_id)
        assert isinstance(request, BorrowingRequest)
        self.network.dirty.add(borrower)
        lender = request.attempts[-1].lender
        span = self.scenario.behaviour(self._index[lender]).shipping_days
        self._at(
            self.clock.now() + self._days(span),
            "check_in",
            lender,
            borrower,
            request.attempts[-1].request_id,
        )

    def _on_check_in(self, lender: AgencyId, borrower: AgencyId, protocol_id: str) -> None:
        with self.stores[lender].transaction() as uow:
            lid = uow.requests.find(Side.LENDING, protocol_id, borrower)
            record = uow.requests.get(Side.LENDING, lid) if lid else None
        if not isinstance(record, LendingRequest) or record.item is None:
            self.violations.append(f"{borrower} returned {protocol_id} to {lender}: unknown")
            return
        if record.state in _ENDED_L:
            return
        self.members[lender].lending.check_in(record.item.barcode)
        self.network.dirty.add(lender)

    # -- the end ----------------------------------------------------------------------

    def _open_count(self) -> int:
        """Borrowing requests not yet ended (rechecks only those open last time)."""
        if self._open is None:
            self._open = list(self.placed)
        still = []
        for agency, rid in self._open:
            with self.stores[agency].transaction() as uow:
                record = uow.requests.get(Side.BORROWING, rid)
            if record is not None and record.state not in _ENDED_B:
                still.append((agency, rid))
        self._open = still
        return len(still)

    def _check(self) -> int:
        """Check every invariant on every request; the number still open."""
        open_ = 0
        for borrower, rid in self.placed:
            with self.stores[borrower].transaction() as uow:
                request = uow.requests.get(Side.BORROWING, rid)
            assert isinstance(request, BorrowingRequest)
            attempts = request.attempts
            if sum(1 for a in attempts if a.outcome is None) > 1:
                self.violations.append(f"{rid} is with two lenders")
            lenders = [a.lender for a in attempts]
            if len(set(lenders)) != len(lenders):
                self.violations.append(f"{rid} tried a lender twice: {lenders}")
            if request.state not in _ENDED_B:
                open_ += 1
                continue
            for attempt in attempts:
                with self.stores[attempt.lender].transaction() as uow:
                    lid = uow.requests.find(Side.LENDING, attempt.request_id, borrower)
                    lending = uow.requests.get(Side.LENDING, lid) if lid else None
                if lending is None:
                    continue
                if lending.state not in _ENDED_L:
                    open_ += 1
                    continue
                expected = _AGREES[request.state] if attempt is attempts[-1] else _UNSUPPLIED_L
                if lending.state not in expected:
                    self.violations.append(
                        f"{rid} is {request.state.value} but {attempt.lender} says "
                        f"{lending.state.value} (attempt {attempt.number})"
                    )
        return open_

    def _metrics(self) -> Metrics:
        open_at_end = self._check()
        filled = len(self.turnarounds)
        total = len(self.placed)
        depths: list[int] = []
        filled_depths: list[int] = []
        unfilled = 0
        for borrower, rid in self.placed:
            with self.stores[borrower].transaction() as uow:
                request = uow.requests.get(Side.BORROWING, rid)
            assert isinstance(request, BorrowingRequest)
            depths.append(len(request.attempts))
            if request.state in (B.UNFILLED, B.CANCELLED) and request.item_barcode is None:
                unfilled += 1
            if request.item_barcode is not None:
                filled_depths.append(len(request.attempts))
        turnarounds = tuple(round(t, 4) for t in self.turnarounds)
        loads = {str(a.value): self.load[a] for a in self.agencies}
        span = (self.clock.now() - START) / DAY
        return Metrics(
            variant=self.variant.name,
            requests=total,
            filled=filled,
            unfilled=unfilled,
            fill_rate=round(filled / total, 6) if total else 0.0,
            turnaround_days={
                "mean": round(sum(turnarounds) / filled, 4) if filled else None,
                "p50": percentile(turnarounds, 0.5),
                "p90": percentile(turnarounds, 0.9),
                "p99": percentile(turnarounds, 0.99),
            },
            turnarounds=turnarounds,
            rota_depth={
                "mean": round(sum(depths) / len(depths), 4) if depths else 0.0,
                "max": float(max(depths, default=0)),
                "mean_filled": round(sum(filled_depths) / len(filled_depths), 4)
                if filled_depths
                else 0.0,
            },
            load=loads,
            load_gini=round(gini(list(loads.values())), 6),
            loans_shipped={str(a.value): self.shipped[a] for a in self.agencies},
            overdue=self.overdue,
            lost=self.lost,
            renewals=self.renewals,
            messages={
                k: self.network.counts[k]
                for k in ("delivered", "dropped", "confirmation_lost", "duplicated")
            },
            open_at_end=open_at_end,
            invariant_violations=tuple(self.violations),
            simulated_days=round(span, 3),
        )


def _draw_demand(
    scenario: Scenario, agencies: list[AgencyId], rng: SplitMix64
) -> Iterator[tuple[datetime, AgencyId, str, str]]:
    """(when, borrower, title, patron) for every request, in time order."""
    weights = [1.0 / (i + 1) ** scenario.demand_skew for i in range(len(agencies))]
    cumulative: list[float] = []
    running = 0.0
    for w in weights:
        running += w
        cumulative.append(running)
    drawn = []
    for _ in range(scenario.requests):
        day = rng.randint(0, scenario.days - 1)
        minute = rng.randint(9 * 60, 17 * 60 - 1)
        point = rng.random() * running
        index = next(i for i, c in enumerate(cumulative) if point < c)
        title = f"Work {rng.randint(0, scenario.titles - 1):05d}"
        patron = f"p-{rng.randint(1, 5000)}"
        when = START + day * DAY + timedelta(minutes=minute)
        drawn.append((when, agencies[index], title, patron))
    drawn.sort(key=lambda d: (d[0], str(d[1]), d[2], d[3]))
    yield from drawn


def simulate(
    scenario: Scenario, *, progress: Callable[[str, int, int], None] | None = None
) -> list[Metrics]:
    """Run every variant of the scenario on the same demand; their metrics, in order."""
    results = []
    for variant in scenario.runs():
        report = None
        if progress is not None:
            report = _bind(progress, variant.name)
        results.append(Simulation(scenario, variant, progress=report).run())
    return results


def _bind(progress: Callable[[str, int, int], None], name: str) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        progress(name, done, total)

    return report
