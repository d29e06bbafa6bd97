"""The SRU locator passes the HoldingsLocator port's contract suite, on a loopback server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from resource_sharing.records import ItemRef
from resource_sharing.testing.port_contracts import (
    HoldingsLocatorContract,
    PartnerHoldingsLocatorContract,
)
from resource_sharing_adapters.sru import (
    PartnerHoldings,
    SruClient,
    SruHoldingsLocator,
    SruTarget,
    partner_holdings,
)
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue


class TestSruHoldingsLocatorContract(HoldingsLocatorContract):
    servers: list[SruCatalogue]

    @pytest.fixture(autouse=True)
    def _servers(self) -> Iterator[None]:
        self.servers = []
        yield
        for server in self.servers:
            server.stop()

    def make_locator(self, isbn: str, item: ItemRef) -> SruHoldingsLocator:
        copy = Copy(item.barcode, "Main Library", item.location or "", item.call_number or "")
        server = SruCatalogue([Book("r-1", "The held book", isbns=(isbn,), copies=(copy,))])
        self.servers.append(server.start())
        desks = {item.location or "": item.desk or ""}
        return SruHoldingsLocator(SruClient(SruTarget(server.url)), desks=desks)


class TestSruPartnerHoldingsContract(PartnerHoldingsLocatorContract):
    """Each partner's loopback catalogue; the one that is down is a port nobody listens on."""

    servers: list[SruCatalogue]

    @pytest.fixture(autouse=True)
    def _servers(self) -> Iterator[None]:
        self.servers = []
        yield
        for server in self.servers:
            server.stop()

    def make_locator(self) -> PartnerHoldings:
        held = SruCatalogue([Book("h-1", "Contract Title", isbns=(self.ISBN,))]).start()
        other = SruCatalogue([Book("n-1", "Another", isbns=("9780262033848",))]).start()
        self.servers += [held, other]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{probe.getsockname()[1]}/sru"
        return partner_holdings(
            {
                self.HOLDER: SruTarget(held.url),
                self.NON_HOLDER: SruTarget(other.url, version="2.0"),
                self.DOWN: SruTarget(dead, timeout_seconds=1.0),
            }
        )
