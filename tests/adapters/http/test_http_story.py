"""Stories over real HTTP on loopback: nodes are uvicorn servers with SQLite stores."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.nodes_http import BOOK, HOLDING, PATRON, Cluster, cluster, seed_cluster

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
DAY = 86_400.0


def test_the_seed_story_with_three_nodes(tmp_path: Path) -> None:
    demo = runpy.run_path(str(EXAMPLES / "http_demo.py"))
    made = seed_cluster(tmp_path)
    try:
        for name in ("US-A", "US-B", "US-C"):
            made.start(name)
        timeline = demo["Timeline"](made.staff)
        final = demo["drive"](made.staff, timeline)
    finally:
        made.close()
    assert final == {
        ("US-A", "borrowing"): "completed",
        ("US-B", "lending"): "unfilled",
        ("US-C", "lending"): "completed",
    }
    states_at_a = [line["state"] for line in timeline.lines if line["institution"] == "US-A"]
    for expected in ("will_supply", "shipped", "received", "on_loan", "recalled"):
        assert expected in states_at_a
    notices = [n for line in timeline.lines for n in line["notices"]]
    assert {"item_available", "renewed", "recalled"} <= set(notices)


@pytest.fixture
def pair(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Cluster, str, str]]:
    """Borrower A and lender C running; A's request placed with C, C's id found."""
    lending: dict[str, Any] = getattr(request, "param", {})
    with cluster(tmp_path) as made:
        made.define("US-A", ["US-C"])
        made.define("US-C", ["US-A"], holdings=[HOLDING], lending=lending)
        made.start("US-A")
        made.start("US-C")
        placed = made.staff["US-A"].place(
            {"patron": PATRON, "citation": BOOK, "pickup_location": "Main", "rota": ["ISIL:US-C"]}
        )
        c_id = made.lending_id("US-C", "US-A", placed["protocol_ids"][0])
        made.settled()
        yield made, placed["id"], c_id


def _on_loan(made: Cluster, rid: str, c_id: str) -> None:
    a, c = made.staff["US-A"], made.staff["US-C"]
    c.act("lending", c_id, "pick")
    c.act("lending", c_id, "ship")
    made.wait_state("US-A", "borrowing", rid, "shipped")
    a.act("borrowing", rid, "receive", {"barcode": "A-TEMP-9"})
    a.act("borrowing", rid, "check-out")
    made.settled()
    assert made.state("US-C", "lending", c_id) == "received_by_partner"


def _notices(made: Cluster, name: str) -> list[str]:
    journal = made.staff[name].journal()
    return [e["detail"]["notice"] for e in journal if e["kind"] == "patron_notice"]


def test_unfilled_then_the_next_lender(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        made.define("US-A", ["US-B", "US-C"])
        made.define("US-B", ["US-A"], lending={"auto_reject_not_held": True})
        made.define("US-C", ["US-A"], holdings=[HOLDING])
        for name in ("US-A", "US-B", "US-C"):
            made.start(name)
        placed = made.staff["US-A"].place(
            {"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-B", "ISIL:US-C"]}
        )
        rid = placed["id"]
        made.wait_state("US-A", "borrowing", rid, "will_supply")
        shown = made.staff["US-A"].request("borrowing", rid)
        lenders = [a["lender"]["value"] for a in shown["record"]["attempts"]]
        assert lenders == ["US-B", "US-C"]
        b_id = made.lending_id("US-B", "US-A", shown["protocol_ids"][0])
        c_id = made.lending_id("US-C", "US-A", shown["protocol_ids"][1])
        assert made.state("US-B", "lending", b_id) == "unfilled"
        made.wait_state("US-C", "lending", c_id, "pick_from_shelf")


def test_cancel_accepted_by_the_lender(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    made.staff["US-A"].act("borrowing", rid, "cancel", {"reason": "no longer needed"})
    made.wait_state("US-A", "borrowing", rid, "cancelled")
    made.wait_state("US-C", "lending", c_id, "cancelled")
    assert "cancelled" in _notices(made, "US-A")


@pytest.mark.parametrize("pair", [{"auto_cancel": False}], indirect=True)
def test_cancel_refused_by_the_lender(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    made.staff["US-A"].act("borrowing", rid, "cancel")
    made.wait_state("US-C", "lending", c_id, "cancel_requested")
    made.wait_state("US-A", "borrowing", rid, "cancel_pending")
    made.staff["US-C"].act("lending", c_id, "answer-cancel", {"accept": False})
    made.wait_state("US-A", "borrowing", rid, "will_supply")
    assert made.state("US-C", "lending", c_id) == "pick_from_shelf"


def test_renewal_approved_by_the_lenders_policy(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    _on_loan(made, rid, c_id)
    before = made.staff["US-A"].request("borrowing", rid)["record"]["lender_due"]
    made.advance(27 * DAY)
    made.staff["US-A"].act("borrowing", rid, "renew")
    made.settled()
    shown = made.staff["US-A"].request("borrowing", rid)
    assert shown["state"] == "on_loan"
    assert shown["record"]["lender_due"] > before
    assert "renewed" in _notices(made, "US-A")


@pytest.mark.parametrize("pair", [{"terms": {"renewals_allowed": False}}], indirect=True)
def test_renewal_refused_by_the_lender(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    _on_loan(made, rid, c_id)
    before = made.staff["US-A"].request("borrowing", rid)["record"]["lender_due"]
    made.advance(27 * DAY)
    made.staff["US-A"].act("borrowing", rid, "renew")
    made.settled()
    shown = made.staff["US-A"].request("borrowing", rid)
    assert shown["state"] == "on_loan"
    assert shown["record"]["lender_due"] == before
    assert "renewal_refused" in _notices(made, "US-A")


@pytest.mark.parametrize("pair", [{"terms": {"auto_renew": False}}], indirect=True)
def test_renewal_decided_by_lending_staff(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    _on_loan(made, rid, c_id)
    made.advance(27 * DAY)
    made.staff["US-A"].act("borrowing", rid, "renew")
    made.wait_state("US-C", "lending", c_id, "renew_requested")
    made.staff["US-C"].act("lending", c_id, "answer-renewal", {"approve": True})
    made.wait_state("US-A", "borrowing", rid, "on_loan")
    made.settled()
    assert "renewed" in _notices(made, "US-A")


def test_recall_by_lending_staff(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    _on_loan(made, rid, c_id)
    made.staff["US-C"].act("lending", c_id, "recall", {"note": "needed for a course"})
    made.wait_state("US-A", "borrowing", rid, "recalled")
    assert made.state("US-C", "lending", c_id) == "recalled"
    made.settled()  # notices go out through A's outbox
    assert "recalled" in _notices(made, "US-A")
    made.staff["US-A"].return_item("A-TEMP-9", "Main")
    made.staff["US-A"].act("borrowing", rid, "ship-return")
    made.wait_state("US-C", "lending", c_id, "returned_by_partner")
    checked = made.staff["US-C"].check_in("C-39001")
    assert checked["state"] == "completed"
    made.wait_state("US-A", "borrowing", rid, "completed")


def test_lost_reported_by_the_borrower(pair: tuple[Cluster, str, str]) -> None:
    made, rid, c_id = pair
    _on_loan(made, rid, c_id)
    made.staff["US-A"].act("borrowing", rid, "report-lost", {"note": "patron lost it"})
    made.wait_state("US-A", "borrowing", rid, "lost")
    made.settled()
    texts = [
        e["detail"]["text"] for e in made.staff["US-C"].journal() if e["kind"] == "staff_notice"
    ]
    assert any("lost" in text.casefold() for text in texts)
    # the borrower's Lost notification closes the lender's side by itself
    made.wait_state("US-C", "lending", c_id, "lost")
