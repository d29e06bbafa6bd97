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
    MemoryCirculation,
    Network,
    RecordingNotifier,
    SequentialIds,
)

__all__ = ["Consortium", "Member"]


@final
class Member:
    """One institution of a consortium with its observable fakes."""

    def __init__(self, institution: Institution, store: RequestStore) -> None:
        self.institution = institution
        """The institution (desks, inbox, tick, dispatch)."""
        self.store = store
        """Its request store."""
        ports = institution.shell.ports
        assert isinstance(ports.notifier, RecordingNotifier)
        assert isinstance(ports.circulation, MemoryCirculation)
        assert isinstance(ports.holdings, MemoryHoldings)
        assert isinstance(ports.printer, MemoryPrinter)
        self.notifier: RecordingNotifier = ports.notifier
        """Every notice it sent."""
        self.circulation: MemoryCirculation = ports.circulation
        """Its host system's circulation."""
        self.holdings: MemoryHoldings = ports.holdings
        """Its catalogue."""
        self.printer: MemoryPrinter = ports.printer
        """Every document it printed."""

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
    ) -> Member:
        """Add an institution (its directory is completed with ``partners``).

        It keeps its requests in ``store``, an in-memory one unless another is given.
        """
        agency = settings.agency
        store = store if store is not None else MemoryStore()
        ports = Ports(
            store=store,
            transport=self.network.transport_for(agency),
            notifier=RecordingNotifier(),
            circulation=MemoryCirculation(),
            holdings=MemoryHoldings(holdings),
            clock=self.clock,
            ids=SequentialIds(f"{agency.value}:"),
            printer=MemoryPrinter(),
        )
        known = dict(settings.directory.partners)
        for partner in partners:
            known[partner.agency] = partner
        settings = _with_directory(settings, Directory(known))
        institution = Institution(settings, ports)
        self.network.attach(agency, institution.inbox.receive)
        member = Member(institution, store)
        self.members[agency] = member
        return member

    def settle(self, rounds: int = 100) -> int:
        """Dispatch every outbox until a round delivers nothing; returns entries delivered."""
        delivered = 0
        for _ in range(rounds):
            sent = sum(m.institution.dispatch().sent for m in self.members.values())
            delivered += sent
            if sent == 0:
                return delivered
        return delivered

    def __getitem__(self, agency: AgencyId) -> Member:
        return self.members[agency]


def _with_directory(settings: Settings, directory: Directory) -> Settings:
    return attrs.evolve(settings, directory=directory)
