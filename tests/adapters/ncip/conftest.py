"""A loopback ILS per test, and adapters pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resource_sharing_adapters.ncip import NcipCirculation, NcipClient
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import Item, LoopbackIls, User, config_for


@pytest.fixture
def ils() -> Iterator[LoopbackIls]:
    server = LoopbackIls(require_ncip() / "ncip_v2_02.xsd", lifetime=60.0).start()
    server.state.users.update(
        {
            "p-1": User("p-1", "Ada Lovelace", "ada@example.org", "faculty"),
            "INST-US-A": User("INST-US-A", "Institution US-A", group="ILL"),
        }
    )
    server.state.items["C-1"] = Item("C-1", "Dune")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def circulation(ils: LoopbackIls) -> Iterator[NcipCirculation]:
    adapter = NcipCirculation(NcipClient(config_for(ils)))
    try:
        yield adapter
    finally:
        adapter.close()
