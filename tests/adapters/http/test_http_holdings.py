"""A node asks SRU catalogues: its partners' at intake (the rota), its own at the auto-locate.

Real loopback parts: the nodes are uvicorn servers (``nodes_http.Cluster``), the
catalogues ``sru_catalogue.SruCatalogue`` servers; an outage is a port nothing listens on,
or a catalogue slower than the partner's timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from resource_sharing.records import BorrowingRequest, LendingRequest, Side
from tests.adapters.nodes_http import BOOK, PATRON, cluster, free_port, wait_until
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue

HELD = Book(
    "b-1",
    "The Art of Computer Programming",
    isbns=("9780201896831",),
    copies=(Copy("B-39001", "Main", "Stacks", "QA76 .K6"),),
)
OTHER = Book("c-1", "Another book", isbns=("9780262033848",))


@pytest.fixture
def catalogues() -> Iterator[dict[str, SruCatalogue]]:
    """B holds the book, C does not, D answers after its partner's timeout."""
    servers = {
        "US-B": SruCatalogue([HELD]),
        "US-C": SruCatalogue([OTHER]),
        "US-D": SruCatalogue([HELD], delay_seconds=2.0),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def test_the_rota_drops_partners_whose_catalogue_answers_not_held(
    tmp_path: object, catalogues: dict[str, SruCatalogue], caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/sru"  # nothing listens: an outage
    with cluster(tmp_path) as made:  # type: ignore[arg-type]
        made.define("US-A", ["US-B", "US-C", "US-D", "US-E", "US-F"])
        sru = {
            "US-B": {"url": catalogues["US-B"].url},
            "US-C": {"url": catalogues["US-C"].url, "version": "2.0"},
            "US-D": {"url": catalogues["US-D"].url, "timeout_seconds": 0.3},
            "US-E": {"url": dead, "timeout_seconds": 1},
            # US-F has no catalogue: it is not asked, and kept
        }
        for partner in made.tables["US-A"]["partners"]:
            table = sru.get(partner["agency"].removeprefix("ISIL:"))
            if table is not None:
                partner["sru"] = table
        node = made.start("US-A")
        with caplog.at_level(logging.WARNING, logger="resource_sharing_adapters.sru"):
            placed = made.staff["US-A"].place({"patron": PATRON, "citation": BOOK})
        record = node.institution.get(Side.BORROWING, placed["id"])
        assert isinstance(record, BorrowingRequest)
        rota = {entry.agency.value: entry.reason for entry in record.rota}
        # C answered and holds no matching record: dropped; the others stay
        assert set(rota) == {"US-B", "US-D", "US-E", "US-F"}
        assert "holdings unknown" not in rota["US-B"] + rota["US-F"]
        assert "holdings unknown: " in rota["US-D"]
        assert "no answer within 0.3 s" in rota["US-D"]
        assert "holdings unknown: " in rota["US-E"]
        assert "cannot reach it" in rota["US-E"]
        assert placed["state"] in ("sent", "locating")
        # one look-up per request per partner: the held ISBN query, nothing more
        assert len(catalogues["US-B"].requests) == 1
        assert "9780201896831" in catalogues["US-B"].requests[0]["query"]
        assert all(len(catalogues[n].requests) >= 1 for n in ("US-C", "US-D"))
        warned = " ".join(r.getMessage() for r in caplog.records)
        assert "ISIL:US-D" in warned
        assert "ISIL:US-E" in warned
        # a second request asks each catalogue again, once
        made.staff["US-A"].place({"patron": PATRON, "citation": BOOK})
        assert len(catalogues["US-B"].requests) == 2


def test_an_outage_of_our_catalogue_is_a_locate_failed_task_not_an_unfilled(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/sru"
    with cluster(tmp_path) as made:  # type: ignore[arg-type]
        made.define("US-A", ["US-C"])
        # auto_reject_not_held: a real "not held" would answer Unfilled at once
        made.define("US-C", ["US-A"], lending={"auto_reject_not_held": True})
        made.tables["US-C"]["ports"] = {
            "holdings": {"factory": "sru", "url": dead, "timeout_seconds": 1}
        }
        made.start("US-A")
        node_c = made.start("US-C")
        with caplog.at_level(logging.WARNING):
            placed = made.staff["US-A"].place(
                {"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-C"]}
            )
            c_id = made.lending_id("US-C", "US-A", placed["protocol_ids"][0])
            shown = made.wait_state("US-C", "lending", c_id, "locate_failed")
        assert shown["state"] == "locate_failed"
        record = node_c.institution.get(Side.LENDING, c_id)
        assert isinstance(record, LendingRequest)
        reasons = [h.reason or "" for h in node_c.institution.history(Side.LENDING, c_id)]
        assert any("our catalogue could not be asked" in r for r in reasons), reasons
        tasks = made.staff["US-C"].tasks("lending_requests")
        assert [t["request_id"] for t in tasks] == [c_id]
        # the borrower was not told "not held": its request still waits on C
        made.settled()
        assert made.state("US-A", "borrowing", placed["id"]) == "sent"
        assert any("could not be asked" in r.getMessage() for r in caplog.records)
        wait_until(lambda: not made.staff["US-C"].outbox("pending"), what="C's outbox")
