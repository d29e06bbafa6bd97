"""Several institutions in one process, wired with the in-memory adapters.

:class:`Consortium` builds each :class:`~resource_sharing.service.Institution` with a
:class:`~resource_sharing.testing.MemoryStore`, a transport on a shared
:class:`~resource_sharing.testing.fakes.Network` (every message goes through the
receiver's real peer inbox), a recording notifier, an in-memory circulation and
holdings, one shared clock and per-institution identifiers. :meth:`Consortium.settle`
runs the dispatchers until no message is waiting, as a quiet network would.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import final

import attrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId
from resource_sharing.service import Institution, Ports, Settings
from resource_sharing.testing.fakes import (
    FixedClock,
    MemoryCirculation,
    MemoryHoldings,
    Network,
    RecordingNotifier,
    SequentialIds,
)
from resource_sharing.testing.memory_store import MemoryStore

__all__ = ["Consortium", "Member"]


@final
class Member:
    """One institution of a consortium with its observable fakes."""

    def __init__(self, institution: Institution, store: MemoryStore) -> None:
        self.institution = institution
        """The institution (desks, inbox, tick, dispatch)."""
        self.store = store
        """Its in-memory store."""
        ports = institution.shell.ports
        assert isinstance(ports.notifier, RecordingNotifier)
        assert isinstance(ports.circulation, MemoryCirculation)
        assert isinstance(ports.holdings, MemoryHoldings)
        self.notifier: RecordingNotifier = ports.notifier
        """Every notice it sent."""
        self.circulation: MemoryCirculation = ports.circulation
        """Its host system's circulation."""
        self.holdings: MemoryHoldings = ports.holdings
        """Its catalogue."""


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
    ) -> Member:
        """Add an institution (its directory is completed with every other member)."""
        agency = settings.agency
        store = MemoryStore()
        ports = Ports(
            store=store,
            transport=self.network.transport_for(agency),
            notifier=RecordingNotifier(),
            circulation=MemoryCirculation(),
            holdings=MemoryHoldings(holdings),
            clock=self.clock,
            ids=SequentialIds(f"{agency.value}:"),
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
        """Dispatch every outbox until nothing is waiting; returns messages delivered."""
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
