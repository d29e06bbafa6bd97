"""The SRU locator passes the HoldingsLocator port's contract suite, on a loopback server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resource_sharing.records import ItemRef
from resource_sharing.testing.port_contracts import HoldingsLocatorContract
from resource_sharing_adapters.sru import SruClient, SruHoldingsLocator, SruTarget
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
