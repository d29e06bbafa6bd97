"""The node's ASGI app through Starlette's TestClient (no sockets), and the transport."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from resource_sharing.directory import Partner, ProtocolSettings
from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing.iso18626 import MessageStatus
from resource_sharing.messages import Confirmation, Header, MessageKind, Request
from resource_sharing.records import AgencyId, Citation, Identifier, Side
from resource_sharing.testing import IdSourceContract
from resource_sharing_adapters.http import (
    AUTHENTICATION_FAILED,
    MESSAGE_ID_HEADER,
    Credentials,
    HttpTransport,
    Node,
    create_app,
    load_config,
    parse_config,
)
from resource_sharing_adapters.http._node import UniqueIds
from resource_sharing_adapters.iso18626 import decode, encode

A, C = AgencyId("US-A"), AgencyId("US-C")
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "http"
STAFF = {"Authorization": "Bearer t0ken"}
XML = {"Content-Type": "application/xml"}


def _config(**server: Any) -> dict[str, Any]:
    return {
        "institution": {"agency": "ISIL:US-C"},
        "server": {"staff_token": "t0ken", **server},
        "store": {"memory": True},
        "partners": [
            {
                "agency": "ISIL:US-A",
                "inbound": {"account_id": "US-A", "security_code": "s3cret"},
            },
            {"agency": "ISIL:US-B", "inbound": {"authorization": "Bearer b-token"}},
        ],
        "holdings": [{"identifier": "9780201896831", "barcode": "C-1", "desk": "Main"}],
    }


@pytest.fixture
def node() -> Iterator[Node]:
    made = Node(parse_config(_config(max_body_bytes=4096)))
    yield made
    made.close()


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node, background=False)) as made:
        yield made


def _request(sender: AgencyId = A, code: str | None = "s3cret", rid: str = "r-1") -> bytes:
    auth = None
    if code is not None:
        from resource_sharing.messages import Authentication

        auth = Authentication(sender.value, code)
    header = Header(sender, C, rid, datetime(2026, 9, 7, 9, tzinfo=UTC), authentication=auth)
    citation = Citation(title="TAOCP", item_ids=(Identifier("ISBN", "9780201896831"),))
    return encode(Request(header, citation))


def _confirmation(body: bytes) -> Confirmation:
    found = decode(body).message
    assert isinstance(found, Confirmation)
    return found


def test_a_request_from_an_authenticated_partner_is_confirmed_and_stored(
    client: TestClient, node: Node
) -> None:
    answer = client.post("/iso18626", content=_request(), headers=XML)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    confirmation = _confirmation(answer.content)
    assert confirmation.status is MessageStatus.OK
    assert confirmation.confirms is MessageKind.REQUEST
    tasks = client.get("/staff/tasks/pick_from_shelf", headers=STAFF).json()
    assert len(tasks) == 1
    assert node.feed.last == 2


def test_text_xml_with_charset_is_accepted(client: TestClient) -> None:
    answer = client.post(
        "/iso18626", content=_request(), headers={"Content-Type": 'text/xml; charset="utf-8"'}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", ""])
def test_other_content_types_get_415(client: TestClient, content_type: str) -> None:
    answer = client.post("/iso18626", content=_request(), headers={"Content-Type": content_type})
    assert answer.status_code == 415


def test_a_body_over_the_limit_gets_413(client: TestClient, node: Node) -> None:
    answer = client.post("/iso18626", content=b"<a>" + b"x" * 5000 + b"</a>", headers=XML)
    assert answer.status_code == 413
    assert node.feed.last == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<a/>",
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        b"<ISO18626Message xmlns='http://illtransactions.org/2013/iso18626'/>",
    ],
)
def test_unparseable_bodies_get_400_with_badly_formed_message(
    client: TestClient, node: Node, body: bytes
) -> None:
    answer = client.post("/iso18626", content=body, headers=XML)
    assert answer.status_code == 400
    confirmation = _confirmation(answer.content)
    assert confirmation.status is MessageStatus.ERROR
    assert confirmation.error is not None
    assert confirmation.error.type.value == "BadlyFormedMessage"
    assert node.feed.last == 0


def test_a_posted_confirmation_is_refused(client: TestClient) -> None:
    first = client.post("/iso18626", content=_request(), headers=XML)
    answer = client.post("/iso18626", content=first.content, headers=XML)
    assert answer.status_code == 400
    assert b"BadlyFormedMessage" in answer.content


@pytest.mark.parametrize(
    ("sender", "code", "why"),
    [
        (A, "wrong", "securityCode"),
        (A, None, "missing"),
        (AgencyId("US-Z"), "s3cret", "unknown agency"),
        (AgencyId("US-B"), None, "Authorization"),
    ],
)
def test_refused_senders_get_one_uniform_error_and_nothing_is_stored(
    client: TestClient,
    node: Node,
    sender: AgencyId,
    code: str | None,
    why: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="resource_sharing.security"):
        answer = client.post("/iso18626", content=_request(sender, code), headers=XML)
    assert answer.status_code == 200
    confirmation = _confirmation(answer.content)
    assert confirmation.status is MessageStatus.ERROR
    assert confirmation.error is not None
    assert confirmation.error.value == AUTHENTICATION_FAILED
    assert why not in answer.text
    assert why in caplog.text
    assert node.feed.last == 0


def test_the_authorization_header_authenticates(client: TestClient) -> None:
    body = _request(AgencyId("US-B"), None)
    headers = {**XML, "Authorization": "Bearer b-token"}
    answer = client.post("/iso18626", content=body, headers=headers)
    assert _confirmation(answer.content).status is MessageStatus.OK


def test_a_message_for_another_institution_is_refused(client: TestClient, node: Node) -> None:
    header = Header(A, AgencyId("US-Q"), "r-9", datetime(2026, 9, 7, tzinfo=UTC))
    from resource_sharing.messages import Authentication

    header = Header(
        A,
        AgencyId("US-Q"),
        "r-9",
        header.timestamp,
        authentication=Authentication("US-A", "s3cret"),
    )
    body = encode(Request(header, Citation(title="x")))
    confirmation = _confirmation(client.post("/iso18626", content=body, headers=XML).content)
    assert confirmation.status is MessageStatus.ERROR
    assert node.feed.last == 0


def test_a_duplicate_post_with_the_same_message_id_changes_nothing(
    client: TestClient, node: Node
) -> None:
    headers = {**XML, MESSAGE_ID_HEADER: "m-1"}
    first = client.post("/iso18626", content=_request(), headers=headers)
    mark = node.feed.last
    second = client.post("/iso18626", content=_request(), headers=headers)
    assert _confirmation(first.content) == _confirmation(second.content)
    assert node.feed.last == mark


def test_an_applied_message_is_kept_in_its_requests_log_without_the_security_code(
    client: TestClient, node: Node
) -> None:
    body = _request()
    headers = {**XML, MESSAGE_ID_HEADER: "m-7"}
    client.post("/iso18626", content=body, headers=headers)
    client.post("/iso18626", content=body, headers=headers)  # a duplicate: logged once
    client.post("/iso18626", content=_request(code="wrong"), headers=XML)  # refused: not kept
    (task,) = client.get("/staff/tasks/pick_from_shelf", headers=STAFF).json()
    (kept,) = node.institution.received(Side.LENDING, task["request_id"])
    assert kept.sender == A
    assert kept.message_id == "ISIL:US-A|m-7"
    assert kept.confirmation.status is MessageStatus.OK
    assert kept.message.header.requesting_agency_request_id == "r-1"
    assert kept.message.header.authentication is not None
    assert kept.message.header.authentication.security_code is None
    assert b"s3cret" in body
    assert kept.raw is not None
    assert "s3cret" not in kept.raw
    assert "securityCode>(not kept)<" in kept.raw
    assert kept.raw.replace("(not kept)", "s3cret") == body.decode("utf-8")


def test_the_staff_api_needs_the_token(client: TestClient) -> None:
    assert client.get("/staff/info").status_code == 401
    assert client.get("/staff/info", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/staff/info", headers=STAFF).json()["agency"] == "ISIL:US-C"
    assert client.get("/health").json()["ok"] is True


def test_staff_errors_are_typed(client: TestClient) -> None:
    client.post("/iso18626", content=_request(), headers=XML)
    lending_id = client.get("/staff/tasks/pick_from_shelf", headers=STAFF).json()[0]["request_id"]
    assert client.post("/staff/lending/nope/pick", headers=STAFF).status_code == 404
    illegal = client.post(f"/staff/lending/{lending_id}/check-in-now", headers=STAFF)
    assert illegal.status_code == 404
    wrong = client.post(f"/staff/lending/{lending_id}/recall", headers=STAFF)
    assert wrong.status_code == 409
    assert wrong.json()["error"] == "IllegalTransition"
    bad = client.post(f"/staff/lending/{lending_id}/pick", json={"x": 1}, headers=STAFF)
    assert bad.status_code == 400
    picked = client.post(f"/staff/lending/{lending_id}/pick", headers=STAFF)
    assert picked.json()["state"] == "ready_to_ship"
    scan = client.post("/staff/scan", json={"barcode": "C-1"}, headers=STAFF).json()
    assert scan[0]["request"] == lending_id
    assert (
        client.post("/staff/clock", json={"advance_seconds": 5}, headers=STAFF).status_code == 403
    )
    assert client.get("/staff/tasks/not_a_list", headers=STAFF).status_code == 400


def test_the_staff_api_is_off_without_a_token() -> None:
    config = _config()
    del config["server"]["staff_token"]
    made = Node(parse_config(config))
    with TestClient(create_app(made, background=False)) as client:
        assert client.get("/staff/info", headers=STAFF).status_code == 404
    made.close()


# -- the transport, against httpx's mock transport ----------------------------------------


def _partner(**protocol: Any) -> Partner:
    settings = ProtocolSettings(endpoint="http://127.0.0.1:9/iso18626", **protocol)
    return Partner(C, protocol=settings)


def _ok_body(request: httpx.Request) -> bytes:
    message = decode(request.content).message
    assert isinstance(message, Request)
    from resource_sharing_adapters.iso18626 import confirm_ok

    now = datetime.now(UTC)
    return encode(confirm_ok(message, timestamp=now, received=now))


def _transport(handler: Any, **kwargs: Any) -> HttpTransport:
    return HttpTransport(client=httpx.Client(transport=httpx.MockTransport(handler)), **kwargs)


def _message() -> Request:
    return decode(_request(code=None)).message  # type: ignore[return-value]


def test_the_transport_sends_credentials_headers_and_the_message_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=_ok_body(request))

    credentials = {C: Credentials("US-A", "s3cret", "Bearer xyz")}
    transport = _transport(handler, credentials=credentials)
    partner = _partner(headers=(("X-Okapi-Tenant", "c"),))
    confirmation = transport.send(partner, _message(), "msg-7")
    assert confirmation.status is MessageStatus.OK
    request = seen[0]
    assert request.headers["x-message-id"] == "msg-7"
    assert request.headers["authorization"] == "Bearer xyz"
    assert request.headers["x-okapi-tenant"] == "c"
    assert request.headers["content-type"].startswith("application/xml")
    sent = decode(request.content).message
    assert isinstance(sent, Request)
    assert sent.header.authentication is not None
    assert sent.header.authentication.security_code == "s3cret"


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (415, False)]
)
def test_http_failures_without_an_iso_body(status: int, retryable: bool) -> None:
    transport = _transport(lambda request: httpx.Response(status, text="nope"))
    with pytest.raises(DeliveryError) as caught:
        transport.send(_partner(), _message(), "m")
    assert caught.value.retryable is retryable


def test_an_iso_error_body_is_read_on_any_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        message = decode(request.content).message
        assert isinstance(message, Request)
        from resource_sharing.iso18626 import ErrorType
        from resource_sharing.messages import ErrorData
        from resource_sharing_adapters.iso18626 import confirm_error

        now = datetime.now(UTC)
        error = ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, "AuthenticationFailed")
        return httpx.Response(
            400, content=encode(confirm_error(message, error, timestamp=now, received=now))
        )

    confirmation = _transport(handler).send(_partner(), _message(), "m")
    assert confirmation.status is MessageStatus.ERROR


def test_network_errors_are_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(DeliveryError) as caught:
        _transport(handler).send(_partner(), _message(), "m")
    assert caught.value.retryable
    real = HttpTransport(timeout=2)
    with pytest.raises(DeliveryError) as refused:
        real.send(_partner(), _message(), "m")  # port 9 on loopback: nothing listens
    assert refused.value.retryable
    real.close()


def test_no_endpoint_is_not_retryable() -> None:
    with pytest.raises(DeliveryError) as caught:
        HttpTransport().send(Partner(C), _message(), "m")
    assert not caught.value.retryable


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["institution-a.toml", "institution-b.toml", "institution-c.toml"])
def test_the_example_configurations_load(name: str) -> None:
    config = load_config(EXAMPLES / name)
    assert config.server.host == "127.0.0.1"
    assert config.store.kind == "sqlite"
    assert len(config.directory) == 2
    assert all(not c.inbound.empty for c in config.credentials.values())


def test_unknown_keys_are_refused() -> None:
    config = _config()
    config["server"]["prot"] = 1
    with pytest.raises(InvalidInput, match="prot"):
        parse_config(config)
    config = _config()
    config["partners"][0]["inbound"]["password"] = "x"
    with pytest.raises(InvalidInput, match="password"):
        parse_config(config)


def test_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config()
    config["server"] = {"staff_token_env": "RS_TEST_TOKEN"}
    with pytest.raises(InvalidInput, match="RS_TEST_TOKEN"):
        parse_config(config)
    monkeypatch.setenv("RS_TEST_TOKEN", "from-env")
    assert parse_config(config).server.staff_token == "from-env"


class TestUniqueIds(IdSourceContract):
    def make_ids(self) -> UniqueIds:
        return UniqueIds("US-A:")
