"""Several institutions in one process, wired with the in-memory adapters.

:class:`Consortium` builds each :class:`~resource_sharing.service.Institution` with a
:class:`~resource_sharing.testing.MemoryStore`, a transport on a shared
:class:`~resource_sharing.testing.fakes.Network` (every message goes through the
receiver's real peer inbox), a recording notifier, an in-memory circulation and
holdings, a printer that keeps its jobs, one shared clock and per-institution
identifiers. Any of those ports may be replaced by an adapter of your own (``add(...,
circulation=MyIls())``): the member then runs on it, and only the fakes it still has can
be inspected. :meth:`Consortium.settle` runs the dispatchers until nothing more goes out,
as a quiet network would (every effect, not only peer messages, waits in the outbox
until a dispatch round delivers it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar, final

import attrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import InvalidInput
from resource_sharing.memory import MemoryHoldings, MemoryPrinter, MemoryStore
from resource_sharing.ports import (
    AttemptRunner,
    Circulation,
    Holding,
    HoldingsLocator,
    Notifier,
    PartnerHoldingsLocator,
    PatronValidator,
    PeerTransport,
    Printer,
    RequestStore,
)
from resource_sharing.records import AgencyId
from resource_sharing.service import Institution, Ports, Settings
from resource_sharing.testing.fakes import (
    FixedClock,
    FlakyCirculation,
    FlakyNotifier,
    MemoryCirculation,
    Network,
    RecordingNotifier,
    SequentialIds,
)

__all__ = ["Consortium", "Member"]

T = TypeVar("T")


@final
class Member:
    """One institution of a consortium with its observable fakes.

    ``notifier``, ``circulation``, ``holdings`` and ``printer`` are the fakes it runs on;
    one replaced by another adapter raises :class:`InvalidInput` when asked for.
    """

    def __init__(
        self,
        institution: Institution,
        store: RequestStore,
        notifier: RecordingNotifier | None,
        circulation: MemoryCirculation | None,
    ) -> None:
        self.institution = institution
        """The institution (desks, inbox, tick, dispatch)."""
        self.store = store
        """Its request store."""
        ports = institution.shell.ports
        self._notifier = notifier
        self._circulation = circulation
        self._holdings = ports.holdings if isinstance(ports.holdings, MemoryHoldings) else None
        self._printer = ports.printer if isinstance(ports.printer, MemoryPrinter) else None
        self.flaky_notifier = ports.notifier if isinstance(ports.notifier, FlakyNotifier) else None
        """The failing notifier in front of ``notifier``, when one was asked for."""
        self.flaky_circulation = (
            ports.circulation if isinstance(ports.circulation, FlakyCirculation) else None
        )
        """The failing circulation in front of ``circulation``, when one was asked for."""

    @staticmethod
    def _fake(found: T | None, port: str) -> T:
        if found is None:
            raise InvalidInput(port, "this member runs on an adapter of its own, not the fake")
        return found

    @property
    def notifier(self) -> RecordingNotifier:
        """Every notice that reached its patrons and staff."""
        return self._fake(self._notifier, "notifier")

    @property
    def circulation(self) -> MemoryCirculation:
        """Its host system's circulation."""
        return self._fake(self._circulation, "circulation")

    @property
    def holdings(self) -> MemoryHoldings:
        """Its catalogue."""
        return self._fake(self._holdings, "holdings")

    @property
    def printer(self) -> MemoryPrinter:
        """Every document it printed."""
        return self._fake(self._printer, "printer")

    @property
    def memory(self) -> MemoryStore:
        """Its store, when it is the in-memory one (for inspecting everything stored)."""
        if not isinstance(self.store, MemoryStore):
            raise InvalidInput("store", "this member does not use the in-memory store")
        return self.store


class Consortium:
    """Institutions on one in-memory network, sharing one clock."""

    def __init__(self, start: datetime) -> None:
        self.clock = FixedClock(start)
        """The shared clock."""
        self.network = Network()
        """The shared network."""
        self.members: dict[AgencyId, Member] = {}
        """Every institution, by agency."""

    def add(
        self,
        settings: Settings,
        *,
        holdings: dict[str, Holding] | None = None,
        partners: Iterable[Partner] = (),
        store: RequestStore | None = None,
        notifier_failures: int = 0,
        circulation_failures: int = 0,
        retryable: bool = True,
        routing: dict[str, str] | None = None,
        owner: str = "local",
        transport: PeerTransport | None = None,
        notifier: Notifier | None = None,
        circulation: Circulation | None = None,
        holdings_locator: HoldingsLocator | None = None,
        printer: Printer | None = None,
        patrons: PatronValidator | None = None,
        partner_holdings: PartnerHoldingsLocator | None = None,
        attempts: AttemptRunner | None = None,
    ) -> Member:
        """Add an institution (its directory is completed with ``partners``).

        It keeps its requests in ``store``, an in-memory one unless another is given.
        With ``notifier_failures`` or ``circulation_failures`` the port fails the first
        attempts of each effect (:class:`FlakyNotifier`, :class:`FlakyCirculation`);
        ``routing`` is its circulation's check-in answer per barcode; ``owner`` names its
        dispatcher. ``transport``, ``notifier``, ``circulation``, ``holdings_locator``,
        ``printer`` and ``patrons`` replace the fakes with adapters of your own (a
        ``transport`` of its own sends around the shared network; the network still
        delivers to this member's inbox). ``partner_holdings`` is asked at intake for the
        rota (none by default). ``attempts`` makes its dispatcher's adapter calls (in its
        own thread by default).
        """
        agency = settings.agency
        store = store if store is not None else MemoryStore()
        fake_notifier = RecordingNotifier() if notifier is None else None
        fake_circulation = MemoryCirculation(routing) if circulation is None else None
        ports = Ports(
            store=store,
            transport=transport or self.network.transport_for(agency),
            notifier=notifier or _flaky_notifier(fake_notifier, notifier_failures, retryable),
            circulation=circulation
            or _flaky_circulation(fake_circulation, circulation_failures, retryable),
            holdings=holdings_locator or MemoryHoldings(holdings),
            clock=self.clock,
            ids=SequentialIds(f"{agency.value}:"),
            printer=printer or MemoryPrinter(),
            partner_holdings=partner_holdings,
        )
        if patrons is not None:
            ports = attrs.evolve(ports, patrons=patrons)
        if attempts is not None:
            ports = attrs.evolve(ports, attempts=attempts)
        known = dict(settings.directory.partners)
        for partner in partners:
            known[partner.agency] = partner
        settings = _with_directory(settings, Directory(known))
        institution = Institution(settings, ports, owner=owner)
        self.network.attach(agency, institution.inbox.receive)
        member = Member(institution, store, fake_notifier, fake_circulation)
        self.members[agency] = member
        return member

    def settle(self, rounds: int = 100) -> int:
        """Dispatch every outbox until nothing more goes out; returns entries delivered.

        The first round dispatches every member; a later one only those that delivered
        something in the round before or received a message since (the others have
        nothing new: time does not pass while the network settles).
        """
        delivered = 0
        busy = set(self.members)
        for _ in range(rounds):
            if not busy:
                break
            mark = len(self.network.log)
            active: set[AgencyId] = set()
            for agency, member in self.members.items():
                if agency in busy:
                    sent = member.institution.dispatch().sent
                    delivered += sent
                    if sent:
                        active.add(agency)
            active.update(s.to for s in self.network.log[mark:] if s.confirmation is not None)
            busy = active
        return delivered

    def __getitem__(self, agency: AgencyId) -> Member:
        return self.members[agency]


def _with_directory(settings: Settings, directory: Directory) -> Settings:
    return attrs.evolve(settings, directory=directory)


def _flaky_notifier(fake: RecordingNotifier | None, failures: int, retryable: bool) -> Notifier:
    assert fake is not None  # made whenever no notifier was given
    return FlakyNotifier(fake, failures, retryable=retryable) if failures else fake


def _flaky_circulation(
    fake: MemoryCirculation | None, failures: int, retryable: bool
) -> Circulation:
    assert fake is not None  # made whenever no circulation was given
    return FlakyCirculation(fake, failures, retryable=retryable) if failures else fake
