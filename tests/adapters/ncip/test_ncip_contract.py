"""The Circulation port contract, run by NcipCirculation against the loopback ILS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from resource_sharing.ports import Circulation, PatronValidator
from resource_sharing.testing.port_contracts import (
    CirculationContract,
    ItemSeen,
    PatronValidatorContract,
)
from resource_sharing_adapters.ncip import NcipCirculation, NcipClient, NcipPatronValidator
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import Item, LoopbackIls, User, config_for


class TestNcipCirculationContract(CirculationContract):
    ils: LoopbackIls

    @pytest.fixture(autouse=True)
    def _ils(self) -> Iterator[None]:
        self.ils = LoopbackIls(require_ncip() / "ncip_v2_02.xsd", lifetime=60.0).start()
        self.ils.state.users["p-1"] = User("p-1", "Ada")
        self.ils.state.users["INST-CONTRACT-THEM"] = User("INST-CONTRACT-THEM", "Them")
        self.ils.state.items["C-1"] = Item("C-1", "Dune")
        try:
            yield
        finally:
            self.ils.stop()

    def make_circulation(self) -> Circulation:
        return NcipCirculation(NcipClient(config_for(self.ils)))

    def on_loan(self, circulation: Circulation, barcode: str) -> datetime | None:
        loan = self.ils.state.loans.get(barcode)
        return None if loan is None else loan.due

    def item(self, circulation: Circulation, barcode: str) -> ItemSeen | None:
        found = self.ils.state.items.get(barcode)
        if found is None or not found.temporary:
            return None
        hold = next((h for h in self.ils.state.holds if h.barcode == barcode), None)
        return ItemSeen(barcode, found.title, None if hold is None else hold.user)

    def on_hold_shelf(self, circulation: Circulation, barcode: str) -> str | None:
        hold = next((h for h in self.ils.state.holds if h.barcode == barcode), None)
        return None if hold is None else hold.user


class TestNcipPatronValidatorContract(PatronValidatorContract):
    """LookupUser against the loopback ILS: blocked and unknown patrons are refused."""

    ils: LoopbackIls

    @pytest.fixture(autouse=True)
    def _ils(self) -> Iterator[None]:
        self.ils = LoopbackIls(require_ncip() / "ncip_v2_02.xsd", lifetime=60.0).start()
        ok, refused = self.ELIGIBLE, self.REFUSED
        self.ils.state.users[ok.id] = User(ok.id, ok.name or "", "ada@example.org")
        self.ils.state.users[refused.id] = User(refused.id, refused.name or "", blocked=True)
        try:
            yield
        finally:
            self.ils.stop()

    def make_validator(self) -> PatronValidator:
        return NcipPatronValidator(NcipClient(config_for(self.ils)))
