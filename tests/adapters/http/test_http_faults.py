"""Faults over real HTTP: a node down and back, duplicates, reordering, refused senders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from resource_sharing.directory import Partner, ProtocolSettings
from resource_sharing.iso18626 import MessageStatus, ReasonForMessage, Status
from resource_sharing.messages import Header, SupplyingAgencyMessage
from resource_sharing.records import AgencyId
from resource_sharing_adapters.http import AUTHENTICATION_FAILED, Credentials, HttpTransport
from resource_sharing_adapters.iso18626 import encode
from tests.adapters.nodes_http import BOOK, HOLDING, PATRON, Cluster, cluster, secret, wait_until

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")


def _three(made: Cluster) -> None:
    made.define("US-A", ["US-B", "US-C"])
    made.define("US-B", ["US-A", "US-C"])
    made.define("US-C", ["US-A", "US-B"], holdings=[HOLDING])
    for name in ("US-A", "US-B", "US-C"):
        made.start(name)


def _placed_with_c(made: Cluster) -> tuple[str, str, str]:
    placed = made.staff["US-A"].place({"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-C"]})
    protocol_id = placed["protocol_ids"][0]
    c_id = made.lending_id("US-C", "US-A", protocol_id)
    made.wait_state("US-A", "borrowing", placed["id"], "will_supply")
    made.settled()
    return placed["id"], c_id, protocol_id


def _sam(
    sender: AgencyId, protocol_id: str, status: Status, reason: ReasonForMessage
) -> SupplyingAgencyMessage:
    now = datetime.now(UTC)
    header = Header(A, sender, protocol_id, now)
    return SupplyingAgencyMessage(header, reason, status, last_change=now)


def _as(made: Cluster, sender: str, *, code: str | None = None) -> tuple[HttpTransport, Partner]:
    """A transport speaking for ``sender`` to A (with ``code`` or sender's real secret)."""
    credentials = Credentials(sender, code or secret(sender, "US-A"))
    transport = HttpTransport(credentials={A: credentials}, timeout=5)
    return transport, Partner(A, protocol=ProtocolSettings(endpoint=made.url("US-A")))


def test_a_node_down_and_back_gets_its_messages_after_retries(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        _three(made)
        rid, c_id, _ = _placed_with_c(made)
        made.stop("US-A")
        c = made.staff["US-C"]
        c.act("lending", c_id, "pick")
        c.act("lending", c_id, "ship")
        wait_until(
            lambda: any(m["attempts"] >= 2 for m in c.outbox("pending")),
            what="C retrying its message to the stopped A",
        )
        made.start("US-A")
        made.wait_state("US-A", "borrowing", rid, "shipped")
        made.settled()
        assert all(m["status"] == "delivered" for m in c.outbox())
        history = made.staff["US-A"].request("borrowing", rid)["history"]
        assert [h["to_state"] for h in history][-1] == "shipped"


def test_a_duplicate_post_is_confirmed_again_and_changes_nothing(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        _three(made)
        rid, c_id, protocol_id = _placed_with_c(made)
        made.staff["US-C"].act("lending", c_id, "pick")
        made.staff["US-C"].act("lending", c_id, "ship")
        made.wait_state("US-A", "borrowing", rid, "shipped")
        made.settled()
        version = made.staff["US-A"].request("borrowing", rid)["version"]
        transport, partner = _as(made, "US-C")
        message = _sam(C, protocol_id, Status.LOANED, ReasonForMessage.STATUS_CHANGE)
        with transport:
            first = transport.send(partner, message, "dup-1")
            second = transport.send(partner, message, "dup-1")
        assert first == second
        assert made.staff["US-A"].request("borrowing", rid)["version"] <= version + 1
        third_version = made.staff["US-A"].request("borrowing", rid)["version"]
        with _as(made, "US-C")[0] as again:
            again.send(partner, message, "dup-1")
        assert made.staff["US-A"].request("borrowing", rid)["version"] == third_version


def test_a_late_message_is_answered_not_applied(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        _three(made)
        rid, c_id, protocol_id = _placed_with_c(made)
        made.staff["US-C"].act("lending", c_id, "pick")
        made.staff["US-C"].act("lending", c_id, "ship")
        made.wait_state("US-A", "borrowing", rid, "shipped")
        made.settled()
        transport, partner = _as(made, "US-C")
        late = _sam(C, protocol_id, Status.WILL_SUPPLY, ReasonForMessage.REQUEST_RESPONSE)
        with transport:
            confirmation = transport.send(partner, late, "late-1")
        assert confirmation.requesting_agency_request_id == protocol_id
        assert made.state("US-A", "borrowing", rid) == "shipped"


def test_bad_credentials_get_an_error_and_nothing_is_stored(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        _three(made)
        rid, _, protocol_id = _placed_with_c(made)
        before = made.staff["US-A"].info()["changes"]
        transport, partner = _as(made, "US-C", code="guessed")
        message = _sam(C, protocol_id, Status.LOANED, ReasonForMessage.STATUS_CHANGE)
        with transport:
            confirmation = transport.send(partner, message, "bad-1")
        assert confirmation.status is MessageStatus.ERROR
        assert confirmation.error is not None
        assert "AuthenticationFailed" in (confirmation.error.value or "")
        assert made.staff["US-A"].info()["changes"] == before
        assert made.state("US-A", "borrowing", rid) == "will_supply"


def test_an_unknown_agency_gets_an_error(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        _three(made)
        _, _, protocol_id = _placed_with_c(made)
        before = made.staff["US-A"].info()["changes"]
        transport = HttpTransport(credentials={A: Credentials("US-Z", "x")})
        partner = Partner(A, protocol=ProtocolSettings(endpoint=made.url("US-A")))
        message = _sam(AgencyId("US-Z"), protocol_id, Status.LOANED, ReasonForMessage.STATUS_CHANGE)
        with transport:
            confirmation = transport.send(partner, message, "z-1")
        assert confirmation.status is MessageStatus.ERROR
        assert confirmation.error is not None
        assert confirmation.error.value == AUTHENTICATION_FAILED
        assert made.staff["US-A"].info()["changes"] == before


def test_the_wrong_agency_gets_an_error_and_changes_nothing(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        _three(made)
        rid, _, protocol_id = _placed_with_c(made)
        before = made.staff["US-A"].info()["changes"]
        # B is authenticated, but the request is between A and C.
        transport, partner = _as(made, "US-B")
        message = _sam(B, protocol_id, Status.LOANED, ReasonForMessage.STATUS_CHANGE)
        with transport:
            confirmation = transport.send(partner, message, "wrong-1")
            assert confirmation.status is MessageStatus.ERROR
            # B with its own credentials cannot speak as C either.
            posing = _sam(C, protocol_id, Status.LOANED, ReasonForMessage.STATUS_CHANGE)
            refused = transport.send(partner, posing, "wrong-2")
        assert refused.status is MessageStatus.ERROR
        assert made.staff["US-A"].info()["changes"] == before
        assert made.state("US-A", "borrowing", rid) == "will_supply"


def test_hostile_bodies_over_http(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        made.define("US-A", ["US-C"])
        made.start("US-A")
        url = made.url("US-A")
        xml = {"Content-Type": "application/xml"}
        with httpx.Client(timeout=10, trust_env=False) as client:
            assert (
                client.post(
                    url, content=b"<a/>", headers={"Content-Type": "text/plain"}
                ).status_code
                == 415
            )
            assert client.post(url, content=b"<a/>").status_code == 415
            big = b"<a>" + b"x" * (2 << 20) + b"</a>"
            assert client.post(url, content=big, headers=xml).status_code == 413

            def chunks() -> object:
                for _ in range(40):
                    yield b"x" * 65536

            streamed = client.post(url, content=chunks(), headers=xml)  # type: ignore[arg-type]
            assert streamed.status_code == 413
            xxe = (
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626"><request>'
                b"<header><requestingAgencyRequestId>&x;</requestingAgencyRequestId></header>"
                b"</request></ISO18626Message>"
            )
            answer = client.post(url, content=xxe, headers=xml)
            assert answer.status_code == 400
            assert b"BadlyFormedMessage" in answer.content
            assert b"root:" not in answer.content
            laughs = (
                b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">'
                b'<!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
            )
            assert client.post(url, content=laughs, headers=xml).status_code == 400
            garbage = client.post(
                url, content=b"\x00\xff not xml", headers={"Content-Type": "text/xml"}
            )
            assert garbage.status_code == 400
            assert b"BadlyFormedMessage" in garbage.content
        assert made.staff["US-A"].info()["changes"] == 0


def test_encode_of_a_sam_is_what_the_transport_posts() -> None:
    message = _sam(C, "p-1", Status.LOANED, ReasonForMessage.STATUS_CHANGE)
    assert b"supplyingAgencyMessage" in encode(message)
