"""Several institutions in one process, wired with the in-memory adapters.

:class:`Consortium` builds each :class:`~resource_sharing.service.Institution` with a
:class:`~resource_sharing.testing.MemoryStore`, a transport on a shared
:class:`~resource_sharing.testing.fakes.Network` (every message goes through the
receiver's real peer inbox), a recording notifier, an in-memory circulation and
holdings, a printer that keeps its jobs, one shared clock and per-institution
identifiers. :meth:`Consortium.settle` runs the dispatchers until nothing more goes out,
as a quiet network would (every effect, not only peer messages, waits in the outbox
until a dispatch round delivers it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import final

import attrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import InvalidInput
from resource_sharing.memory import MemoryHoldings, MemoryPrinter, MemoryStore
from resource_sharing.ports import Holding, RequestStore
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


@final
class Member:
    """One institution of a consortium with its observable fakes."""

    def __init__(
        self,
        institution: Institution,
        store: RequestStore,
        notifier: RecordingNotifier,
        circulation: MemoryCirculation,
    ) -> None:
        self.institution = institution
        """The institution (desks, inbox, tick, dispatch)."""
        self.store = store
        """Its request store."""
        ports = institution.shell.ports
        assert isinstance(ports.holdings, MemoryHoldings)
        assert isinstance(ports.printer, MemoryPrinter)
        self.notifier = notifier
        """Every notice that reached its patrons and staff."""
        self.circulation = circulation
        """Its host system's circulation."""
        self.holdings: MemoryHoldings = ports.holdings
        """Its catalogue."""
        self.printer: MemoryPrinter = ports.printer
        """Every document it printed."""
        self.flaky_notifier = ports.notifier if isinstance(ports.notifier, FlakyNotifier) else None
        """The failing notifier in front of ``notifier``, when one was asked for."""
        self.flaky_circulation = (
            ports.circulation if isinstance(ports.circulation, FlakyCirculation) else None
        )
        """The failing circulation in front of ``circulation``, when one was asked for."""

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
    ) -> Member:
        """Add an institution (its directory is completed with ``partners``).

        It keeps its requests in ``store``, an in-memory one unless another is given.
        With ``notifier_failures`` or ``circulation_failures`` the port fails the first
        attempts of each effect (:class:`FlakyNotifier`, :class:`FlakyCirculation`);
        ``routing`` is its circulation's check-in answer per barcode; ``owner`` names its
        dispatcher.
        """
        agency = settings.agency
        store = store if store is not None else MemoryStore()
        notifier = RecordingNotifier()
        circulation = MemoryCirculation(routing)
        ports = Ports(
            store=store,
            transport=self.network.transport_for(agency),
            notifier=FlakyNotifier(notifier, notifier_failures, retryable=retryable)
            if notifier_failures
            else notifier,
            circulation=FlakyCirculation(circulation, circulation_failures, retryable=retryable)
            if circulation_failures
            else circulation,
            holdings=MemoryHoldings(holdings),
            clock=self.clock,
            ids=SequentialIds(f"{agency.value}:"),
            printer=MemoryPrinter(),
        )
        known = dict(settings.directory.partners)
        for partner in partners:
            known[partner.agency] = partner
        settings = _with_directory(settings, Directory(known))
        institution = Institution(settings, ports, owner=owner)
        self.network.attach(agency, institution.inbox.receive)
        member = Member(institution, store, notifier, circulation)
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
