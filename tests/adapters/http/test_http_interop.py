"""Working with other implementations, over loopback HTTP, against a scripted peer.

Each test runs a real node (:mod:`tests.nodes_http`) beside a
:class:`~tests.adapters.http.scripted_peer.ScriptedPeer` that behaves as an independent ISO 18626
implementation does (issue 14): it refuses, stores our requests late, or reuses ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from resource_sharing.iso18626 import Action, ErrorType, ReasonForMessage, Status
from resource_sharing.messages import PeerMessage, Request, SupplyingAgencyMessage
from resource_sharing.records import Citation, Identifier
from resource_sharing_adapters.http import StaffError
from resource_sharing_adapters.iso18626 import Version, exists_in, validate
from tests.adapters.http.scripted_peer import (
    Answer,
    bearer,
    error,
    http,
    partner_protocol,
    scripted_peer,
)
from tests.adapters.nodes_http import BOOK, PATRON, Cluster, cluster, wait_until


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path) as made:
        yield made


def _requests(message: PeerMessage) -> bool:
    return isinstance(message, Request)


def _status(status: Status) -> Callable[[PeerMessage], bool]:
    def match(message: PeerMessage) -> bool:
        return isinstance(message, SupplyingAgencyMessage) and message.status is status

    return match


@pytest.mark.parametrize(
    "refusal",
    [
        error(ErrorType.UNRECOGNISED_DATA_VALUE, "bibliographicInfo: no such title"),
        http(404, "no such endpoint"),
    ],
    ids=["ERROR", "4xx"],
)
def test_a_refusing_lender_moves_the_rota_on(net: Cluster, refusal: Answer) -> None:
    with scripted_peer(net, "US-P") as p, scripted_peer(net, "US-Q") as q:
        net.define("US-A", ["US-P", "US-Q"])
        net.start("US-A")
        p.script(refusal)
        placed = net.staff["US-A"].place(
            {"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-P", "ISIL:US-Q"]}
        )
        first = p.wait_for(_requests)[0]
        second = q.wait_for(_requests)[0]
        assert first.request_id != second.request_id  # a new attempt, a new id
        shown = net.staff["US-A"].request("borrowing", placed["id"])
        assert shown["state"] == "sent"
        attempts = shown["record"]["attempts"]
        assert [a["lender"]["value"] for a in attempts] == ["US-P", "US-Q"]
        assert attempts[0]["outcome"] == "refused"
        assert "no such" in attempts[0]["reason"]
        assert len(p.messages()) == 1


def test_a_lender_failing_with_5xx_until_the_give_up_leaves_a_delivery_task(net: Cluster) -> None:
    # the Request may have arrived (only its confirmation lost): staff decide, the rota waits
    with scripted_peer(net, "US-P") as p, scripted_peer(net, "US-Q") as q:
        net.define("US-A", ["US-P", "US-Q"], delivery={"max_attempts": 3})
        net.start("US-A")
        p.default = lambda message, known: http(503, "down for maintenance")
        placed = net.staff["US-A"].place(
            {"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-P", "ISIL:US-Q"]}
        )
        tasks = wait_until(lambda: net.staff["US-A"].tasks("delivery_problems"), what="a task")
        assert tasks[0]["request_id"] == placed["id"]
        assert "HTTP 503: down for maintenance" in tasks[0]["instruction"]
        assert len(p.messages(_requests)) == 3
        assert q.messages() == []


def test_our_unfilled_reaches_a_peer_that_stores_its_request_late(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as p:
        net.define("US-C", ["US-P"], lending={"auto_reject_not_held": True})
        net.start("US-C")
        p.store_late("P-1", messages=2)  # "unknown request id" twice after our confirmation
        citation = Citation(title="Not here", item_ids=(Identifier("ISBN", "9780000000002"),))
        sent = p.send(net.url("US-C"), p.request("US-C", "P-1", citation))
        assert sent.ok
        answers = p.wait_for(_status(Status.UNFILLED), count=3)
        assert answers[-1].known
        assert [a.answer.error is None for a in answers] == [False, False, True]
        net.settled()
        c_id = net.lending_id("US-C", "US-P", "P-1")
        assert net.state("US-C", "lending", c_id) == "unfilled"
        assert net.staff["US-C"].outbox("given_up") == []
        assert [e["gist"] for e in net.staff["US-C"].outbox("delivered")] == [
            "Unfilled (RequestResponse)"
        ]


def test_message_identity_is_content_not_the_id_header(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as p:
        net.define("US-C", ["US-P"], institution={"auto_locate": False})
        net.start("US-C")
        url = net.url("US-C")
        citation = Citation(title="Anything", item_ids=(Identifier("ISBN", "9780000000002"),))
        request = p.request("US-C", "P-9", citation)
        assert p.send(url, request, message_id="x-1").ok
        c_id = net.lending_id("US-C", "US-P", "P-9")
        shown = net.staff["US-C"].request("lending", c_id)
        note = p.requesting("US-C", "P-9", Action.NOTIFICATION, "please hurry")
        assert p.send(url, note, message_id="x-2").ok
        assert p.send(url, note, message_id="x-3").ok  # the same content again
        assert p.send(url, note).ok  # and without an id
        after = net.staff["US-C"].request("lending", c_id)
        assert len(after["history"]) == len(shown["history"]) + 1
        other = p.requesting("US-C", "P-9", Action.NOTIFICATION, "a different note")
        refused = p.send(url, other, message_id="x-2")
        assert refused.status == 200
        assert refused.error is not None
        assert refused.error.type is ErrorType.UNRECOGNISED_DATA_VALUE
        assert "X-Message-ID: 'x-2' already names another message" in str(refused.error.value)
        assert net.staff["US-C"].request("lending", c_id)["history"] == after["history"]


# What a version lacks first, while the requests are where those codes would apply.
_CODES: list[Action | Status | ReasonForMessage] = sorted(
    [*Action, *Status, *ReasonForMessage], key=lambda code: exists_in(code, Version.V1_2)
)


@pytest.mark.parametrize("version", list(Version))
def test_every_code_from_a_partner_is_checked_against_its_version_and_confirmed_validly(
    net: Cluster, version: Version
) -> None:
    with scripted_peer(net, "US-P", version=version.value) as p:
        net.define("US-A", ["US-P"], institution={"auto_locate": False})
        partner_protocol(net, "US-A", "US-P", iso18626_version=version.value)
        bearer(net, "US-A", p)
        net.start("US-A")
        url, staff = net.url("US-A"), net.staff["US-A"]
        assert p.send(url, p.request("US-A", "P-1", Citation(title="Lent by A"))).ok
        lent = net.lending_id("US-A", "US-P", "P-1")
        staff.act("lending", lent, "supply", {"item": {"barcode": "A-1", "desk": "Main"}})
        staff.act("lending", lent, "pick")
        staff.act("lending", lent, "ship")
        assert net.state("US-A", "lending", lent) == "shipped"
        placed = staff.place({"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-P"]})
        ours = p.wait_for(_requests)[0].request_id
        for code in _CODES:
            if isinstance(code, Action):
                side, rid = "lending", lent
                message: PeerMessage = p.requesting("US-A", "P-1", code)
            elif isinstance(code, Status):
                side, rid = "borrowing", placed["id"]
                message = p.supplying("US-A", ours, code)
            else:
                side, rid = "borrowing", placed["id"]
                message = p.supplying("US-A", ours, Status.WILL_SUPPLY, code, answer=False)
            before = staff.request(side, rid)["history"]
            # the peer writes 2021-2 whatever it is configured for: a 1.2 peer saying Lost
            sent = p.send(url, message, version=Version.V2021_2.value)
            assert sent.status == 200, (code, sent.text)
            assert sent.confirmation is not None, code
            report = validate(sent.body, version=version)
            assert report.valid, (code, report.errors)
            if exists_in(code, version):
                # the request's state may refuse it ("... the request is 'Will supply'",
                # issue 14.3: the story has moved on); the partner's version must not
                refused = str(sent.error.value) if sent.error is not None else ""
                assert code.value not in refused or "the request is '" in refused, code
                continue
            assert sent.error is not None, code
            expected = (
                ErrorType.UNSUPPORTED_ACTION_TYPE
                if isinstance(code, Action)
                else ErrorType.UNRECOGNISED_DATA_VALUE
            )
            assert sent.error.type is expected, code
            assert code.value in str(sent.error.value)
            assert staff.request(side, rid)["history"] == before, code  # nothing applied


def test_a_scan_that_fits_several_loans_is_refused_with_the_candidates(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as p:
        net.define("US-C", ["US-P"], institution={"auto_locate": False})
        net.start("US-C")
        url, staff = net.url("US-C"), net.staff["US-C"]
        book = Citation(title="Concrete Mathematics")
        lent = []
        for rid in ("P-1", "P-2"):  # the same copy given to two requests
            assert p.send(url, p.request("US-C", rid, book)).ok
            c_id = net.lending_id("US-C", "US-P", rid)
            staff.act("lending", c_id, "supply", {"item": {"barcode": "C-1", "desk": "Main"}})
            lent.append(c_id)
        with pytest.raises(StaffError) as on_shelf:
            staff.check_in("C-1")
        assert on_shelf.value.status == 409
        assert on_shelf.value.kind == "IllegalTransition"  # neither can: the oldest says why
        for rid, c_id in zip(("P-1", "P-2"), lent, strict=True):
            staff.act("lending", c_id, "pick")
            staff.act("lending", c_id, "ship")
            assert p.send(url, p.requesting("US-C", rid, Action.SHIPPED_RETURN)).ok
            assert net.state("US-C", "lending", c_id) == "returned_by_partner"
        with pytest.raises(StaffError) as both:
            staff.check_in("C-1")
        assert both.value.status == 409
        assert both.value.kind == "AmbiguousBarcode"
        assert both.value.body["candidates"] == [
            {"request": lent[0], "state": "returned_by_partner"},
            {"request": lent[1], "state": "returned_by_partner"},
        ]
        assert staff.check_in("C-1", request_id=lent[1])["request"] == lent[1]
        assert staff.check_in("C-1")["request"] == lent[0]
        assert net.state("US-C", "lending", lent[0]) == "completed"
