"""A request's page, receiving in network-unique-barcode mode, and ``[console]`` settings.

Through the test client: the request's ISO 18626 conversation decoded, its history in the
staff's words, and the actions that need more than a button (approve with the rota
explained, lenders added at the end of the rota, a retry offer's conditions).
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from resource_sharing.iso18626 import ReasonForMessage, Status
from resource_sharing.messages import (
    Authentication,
    DeliveryInfo,
    Header,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, BorrowingRequest, Money, Side
from resource_sharing_adapters.console import Role, accounts_of
from resource_sharing_adapters.console._live import feed_events
from resource_sharing_adapters.http import Node, create_app, parse_config
from resource_sharing_adapters.iso18626 import encode
from tests.adapters.console.test_console_app import CONFIG, FAST, _csrf, _error, login

A, B = AgencyId("US-A"), AgencyId("US-B")
XML = {"content-type": "application/xml"}
WHEN = datetime(2026, 9, 7, 10, tzinfo=UTC)


def _config(**console: Any) -> dict[str, Any]:
    made = copy.deepcopy(CONFIG)
    made["partners"].append(
        {"agency": "ISIL:US-B", "inbound": {"account_id": "US-B", "security_code": "b3cret"}}
    )
    if console:
        made["console"] = console
    return made


def _client(config: dict[str, Any]) -> Iterator[tuple[TestClient, Node]]:
    node = Node(parse_config(config))
    accounts = accounts_of(node)
    accounts._hasher = FAST
    accounts.add("ada", "correct horse", [Role.BORROWING], desk="Main", display_name="Ada")
    try:
        with TestClient(create_app(node, background=False)) as client:
            yield client, node
    finally:
        node.close()


@pytest.fixture
def pair() -> Iterator[tuple[TestClient, Node]]:
    yield from _client(_config())


def _place(client: TestClient, lenders: str = "ISIL:US-A") -> str:
    page = login(client, "ada")
    placed = client.post(
        "/borrowing/new",
        data={
            "csrf": _csrf(page.text),
            "patron_id": "p-1",
            "patron_name": "Pat",
            "title": "Book",
            "rota": lenders,
            "send": "1",
        },
        follow_redirects=False,
    )
    assert placed.status_code == 303, _error(placed.text)
    return str(placed.headers["location"].rsplit("/", 1)[1])


def _from_lender(
    client: TestClient, node: Node, rid: str, status: Status, lender: AgencyId = A, **more: Any
) -> None:
    """The lender's supplying agency message about our request ``rid``, over HTTP."""
    record = node.institution.get(Side.BORROWING, rid)
    assert isinstance(record, BorrowingRequest)
    attempt = record.current_attempt or record.attempts[-1]
    code = "s3cret" if lender == A else "b3cret"
    header = Header(
        AgencyId("US-C"),
        lender,
        attempt.request_id,
        WHEN,
        authentication=Authentication(lender.value, code),
    )
    reason = more.pop("reason", ReasonForMessage.STATUS_CHANGE)
    message = SupplyingAgencyMessage(header, reason, status, last_change=WHEN, **more)
    answer = client.post("/iso18626", content=encode(message), headers=XML)
    assert answer.status_code == 200
    assert b"ERROR" not in answer.content, answer.text


def test_the_conversation_in_and_out_is_decoded_with_the_raw_xml_on_demand(
    pair: tuple[TestClient, Node],
) -> None:
    client, node = pair
    rid = _place(client)
    _from_lender(client, node, rid, Status.WILL_SUPPLY, reason=ReasonForMessage.REQUEST_RESPONSE)
    delivery = DeliveryInfo(date_sent=WHEN, item_id="A-BAR-1")
    _from_lender(client, node, rid, Status.LOANED, delivery=delivery, note="with care")
    page = client.get(f"/requests/borrowing/{rid}").text
    section = page[page.index('id="messages-title"') :]
    articles = re.findall(r'<article class="card message-log" id="message-(\d+)"', section)
    assert articles == ["1", "2", "3"]  # our Request out, then the lender's two in
    first, second, third = re.split(r"<article ", section)[1:4]
    assert "<strong>1. Out</strong>" in first
    assert "to ISIL:US-A · Request" in first
    assert "<strong>2. In</strong>" in second
    assert "from ISIL:US-A" in second
    assert "WillSupply" in second
    assert "answered OK" in third
    assert '<th scope="row">Delivery \u203a Item id</th><td>A-BAR-1</td>' in third
    assert '<th scope="row">Note</th><td>with care</td>' in third
    assert "Security code" not in section  # the sender's code is neither kept nor shown
    assert "s3cret" not in page
    assert "securityCode&gt;(not kept)&lt;" in third  # the wire text, as it arrived
    assert "re-encoded" not in third
    assert "re-encoded" not in first  # what we post is its encoding
    opened = client.get(f"/requests/borrowing/{rid}?raw=3").text
    assert opened.count("<details open>") == 2


def test_the_history_says_the_staff_labels_who_and_why_and_links_its_messages(
    pair: tuple[TestClient, Node],
) -> None:
    client, node = pair
    rid = _place(client)
    _from_lender(
        client,
        node,
        rid,
        Status.UNFILLED,
        reason=ReasonForMessage.REQUEST_RESPONSE,
        reason_unfilled="NotHeld",
    )
    page = client.get(f"/requests/borrowing/{rid}").text
    history = page[page.index('id="history-title"') : page.index('id="messages-title"')]
    rows = re.findall(
        r"<tr><td>[^<]*</td><td>([^<]*)</td><td>(.*?)</td><td>(.*?)</td><td>([^<]*)</td>", history
    )
    who = [r[0] for r in rows]
    assert who[0] == "staff:ada"
    assert "peer:ISIL:US-A" in who
    unfilled = next(r for r in rows if r[0] == "peer:ISIL:US-A")
    assert "message 2" in unfilled[1]
    assert unfilled[3] == "NotHeld"
    assert "Request sent to partner →" in unfilled[2]
    assert "_" not in "".join(r[2] for r in rows)  # labels, never state names
    assert "unfilled</td>" not in history


def test_lenders_are_added_at_the_end_of_the_rota(pair: tuple[TestClient, Node]) -> None:
    client, node = pair
    rid = _place(client)
    _from_lender(client, node, rid, Status.UNFILLED, reason=ReasonForMessage.REQUEST_RESPONSE)
    page = client.get(f"/requests/borrowing/{rid}").text
    assert f"/requests/borrowing/{rid}/add-lenders" in page
    assert f"/requests/borrowing/{rid}/approve" not in page
    token = _csrf(page)
    empty = client.post(f"/requests/borrowing/{rid}/add-lenders", data={"csrf": token})
    assert empty.status_code == 400
    assert "Lenders to add" in _error(empty.text)
    sent = client.post(
        f"/requests/borrowing/{rid}/add-lenders", data={"csrf": token, "lenders": "ISIL:US-B"}
    )
    assert sent.status_code == 200, _error(sent.text)
    record = node.institution.get(Side.BORROWING, rid)
    assert isinstance(record, BorrowingRequest)
    assert record.current_lender == B


def test_a_retry_offer_shows_its_conditions_before_it_is_accepted(
    pair: tuple[TestClient, Node],
) -> None:
    client, node = pair
    rid = _place(client)
    _from_lender(
        client,
        node,
        rid,
        Status.RETRY_POSSIBLE,
        reason=ReasonForMessage.REQUEST_RESPONSE,
        reason_retry="CostExceedsMaxCost",
        offered_costs=Money(amount=Decimal("12.50"), currency="USD"),
    )
    page = client.get(f"/requests/borrowing/{rid}").text
    offer = page[page.index("The lender offers a retry") : page.index("Accept the retry")]
    assert "CostExceedsMaxCost" in offer
    assert "12.50 USD" in offer
    assert (
        client.post(
            f"/requests/borrowing/{rid}/accept-retry", data={"csrf": _csrf(page)}
        ).status_code
        == 200
    )
    record = node.institution.get(Side.BORROWING, rid)
    assert record.state.value == "sent"


def test_approving_a_request_in_review_shows_the_rota_before_sending() -> None:
    config = _config()
    config["institution"]["mediated_borrowing"] = True
    for client, node in _client(config):
        rid = _place(client, lenders="")
        page = client.get(f"/requests/borrowing/{rid}").text
        assert node.institution.get(Side.BORROWING, rid).state.value == "pending_review"
        assert "The rota this request will get" in page
        preview = client.get(f"/requests/borrowing/{rid}?rota=ISIL:US-B").text
        table = preview[preview.index("The rota this request will get") :]
        assert "ISIL:US-B" in table.split("</table>")[0]
        assert "from staff rota" in table.split("</table>")[0]
        assert 'name="rota" value="ISIL:US-B"' in preview  # what is shown is what is sent
        sent = client.post(
            f"/requests/borrowing/{rid}/approve", data={"csrf": _csrf(preview), "rota": "ISIL:US-B"}
        )
        assert sent.status_code == 200, _error(sent.text)
        record = node.institution.get(Side.BORROWING, rid)
        assert isinstance(record, BorrowingRequest)
        assert record.current_lender == B


@pytest.mark.parametrize("unique", [False, True])
def test_receiving_with_network_unique_barcodes_is_the_scan_alone(unique: bool) -> None:
    for client, node in _client(_config(network_unique_barcodes=unique)):
        rid = _place(client)
        _from_lender(client, node, rid, Status.LOANED, delivery=DeliveryInfo(WHEN, "A-BAR-1"))
        page = client.get("/scan/receive").text
        answer = client.post(
            "/scan/receive",
            data={"csrf": _csrf(page), "barcode": "A-BAR-1"},
            follow_redirects=False,
        )
        record = node.institution.get(Side.BORROWING, rid)
        if not unique:
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/receive/{rid}"
            assert record.state.value == "shipped"
            continue
        assert answer.status_code == 200, _error(answer.text)
        assert re.search(r'class="big next">Place on hold shelf for Pat<', answer.text)
        assert record.state.value == "received"
        assert isinstance(record, BorrowingRequest)
        assert record.item_barcode == "A-BAR-1"


def test_a_session_idle_too_long_ends_and_use_keeps_it(pair: tuple[TestClient, Node]) -> None:
    client, node = pair
    login(client, "ada")
    for _ in range(3):  # 50 minutes apart, three times: used, so still open
        node.clock.advance(timedelta(minutes=50))
        assert client.get("/", follow_redirects=False).status_code == 200
        assert client.get("/live").status_code == 200
    node.clock.advance(timedelta(minutes=59))
    assert client.get("/live").status_code == 200  # the live refresh is not use...
    node.clock.advance(timedelta(minutes=2))
    answer = client.get("/", follow_redirects=False)  # ...so 61 minutes idle end it
    assert answer.headers["location"] == "/login?why=idle"
    assert "after a time without use" in client.get("/login?why=idle").text


def test_console_settings_come_from_the_node_configuration(tmp_path: Path) -> None:
    (tmp_path / "home.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Our own home</h1>{% endblock %}'
    )
    config = _config(
        templates=str(tmp_path),
        item_policies=["Ask staff", "Reading room only"],
        max_failed_logins=2,
        lockout_minutes=1,
        idle_minutes=0,
        session_hours=1,
    )
    for client, node in _client(config):
        assert "Our own home" in login(client, "ada").text
        rid = _place(client)
        form = client.get(f"/receive/{rid}").text
        assert re.findall(r"<option>([^<]*)</option>", form) == ["Ask staff", "Reading room only"]
        bad = client.post(
            f"/receive/{rid}",
            data={"csrf": _csrf(form), "barcode": "T-1", "item_policy": "Take it home"},
        )
        assert bad.status_code == 400
        assert "Ask staff" in _error(bad.text)
        node.clock.advance(timedelta(minutes=59))  # no idle limit; the session is an hour
        assert client.get("/", follow_redirects=False).status_code == 200
        node.clock.advance(timedelta(minutes=2))
        assert client.get("/", follow_redirects=False).headers["location"] == "/login?why=expired"
        for _ in range(2):
            login(client, "ada", "wrong password")
        assert "locked after 2 failed logins" in _error(login(client, "ada").text)
        node.clock.advance(timedelta(minutes=2))
        assert "Home" in login(client, "ada").text or "Our own home" in login(client, "ada").text


def test_the_event_stream_says_where_the_feed_is_and_each_move() -> None:
    positions = iter([3, 3, 4, 4, 6])

    async def position() -> int:
        return next(positions)

    async def collect(start: int | None) -> list[str]:
        return [e async for e in feed_events(position, start, seconds=1.0, interval=0.25)]

    events = asyncio.run(collect(None))
    assert events[0] == "retry: 2000\nid: 3\nevent: hello\ndata: 3\n\n"
    assert events[1:] == ["id: 4\nevent: change\ndata: 4\n\n", "id: 6\nevent: change\ndata: 6\n\n"]
    positions = iter([5, 5, 5, 5, 5])
    assert asyncio.run(collect(4))[0].startswith("retry: 2000\nid: 5\nevent: change")


def test_staff_ask_the_lender_for_its_status_from_the_request(
    pair: tuple[TestClient, Node],
) -> None:
    client, _ = pair
    rid = _place(client)
    page = client.get(f"/requests/borrowing/{rid}").text
    assert "Ask the lender for its status" in page
    asked = client.post(
        f"/requests/borrowing/{rid}/status-request", data={"csrf": _csrf(page), "note": "where?"}
    )
    assert asked.status_code == 200, _error(asked.text)
    after = client.get(f"/requests/borrowing/{rid}").text
    messages = after[after.index('id="messages-title"') :]
    assert "Requesting agency message: <strong>StatusRequest</strong>" in messages
    history = after[after.index('id="history-title"') : after.index('id="messages-title"')]
    assert "staff:ada" in history
    assert "where?" in history


def test_the_live_feeds_of_an_ended_session_leave_the_login_form_alone(
    pair: tuple[TestClient, Node],
) -> None:
    client, node = pair
    login(client, "ada")
    node.clock.advance(timedelta(hours=2))
    form = client.get("/login?why=idle")
    cookie = client.cookies.get("rs_login_ISIL_US_C")
    for path in ("/live", "/events"):
        answer = client.get(path)
        assert answer.status_code == 401
        assert "set-cookie" not in answer.headers
    assert client.cookies.get("rs_login_ISIL_US_C") == cookie
    assert (
        client.post(
            "/login",
            data={"csrf": _csrf(form.text), "username": "ada", "password": "correct horse"},
        ).url.path
        == "/"
    )


def test_a_second_login_page_keeps_the_token_of_a_form_already_open(
    pair: tuple[TestClient, Node],
) -> None:
    client, _ = pair
    first = client.get("/login")
    cookie = client.cookies.get("rs_login_ISIL_US_C")
    again = client.get("/login?why=expired")  # another tab, or a live list's refresh
    assert client.cookies.get("rs_login_ISIL_US_C") == cookie
    assert _csrf(again.text) == _csrf(first.text)
    landed = client.post(
        "/login", data={"csrf": _csrf(first.text), "username": "ada", "password": "correct horse"}
    )
    assert landed.url.path == "/"
