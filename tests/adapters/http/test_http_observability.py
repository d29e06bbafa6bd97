"""A node's logs, metrics and health, through its app (no sockets).

Ids on every line, no patron data at INFO, failed deliveries at WARNING, the Prometheus
names, and a /health that says what is wrong.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from resource_sharing.messages import Authentication, Header, Request
from resource_sharing.records import AgencyId, Citation, Identifier
from resource_sharing_adapters.http import Node, create_app, parse_config
from resource_sharing_adapters.http._logging import (
    ContextFilter,
    JsonFormatter,
    configure_logging,
    redact,
)
from resource_sharing_adapters.http._metrics import METRIC_NAMES
from resource_sharing_adapters.iso18626 import encode
from tests.adapters.nodes_http import BOOK, PATRON, free_port

STAFF = {"Authorization": "Bearer t0ken"}
XML = {"Content-Type": "application/xml"}


def borrower() -> dict[str, Any]:
    """US-A, whose only lender US-C listens nowhere (every delivery fails)."""
    return {
        "institution": {"agency": "ISIL:US-A"},
        "server": {"staff_token": "t0ken"},
        "store": {"memory": True},
        "clock": {"start": "2026-09-07T09:00:00Z", "adjustable": True},
        "delivery": {"timeout_seconds": 1.0, "retry_base_seconds": 1.0, "max_attempts": 3},
        "partners": [
            {
                "agency": "ISIL:US-C",
                "protocol": {"endpoint": f"http://127.0.0.1:{free_port()}/iso18626"},
                "inbound": {"account_id": "US-C", "security_code": "c-secret"},
            }
        ],
    }


def lender() -> dict[str, Any]:
    return {
        "institution": {"agency": "ISIL:US-C"},
        "server": {"staff_token": "t0ken"},
        "store": {"memory": True},
        "partners": [
            {"agency": "ISIL:US-A", "inbound": {"account_id": "US-A", "security_code": "s3cret"}}
        ],
        "holdings": [{"identifier": "9780201896831", "barcode": "C-1", "desk": "Main"}],
    }


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger's lines as the JSON format writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def a() -> Iterator[tuple[Node, TestClient]]:
    node = Node(parse_config(borrower()))
    with TestClient(create_app(node, background=False)) as client:
        yield node, client
    node.close()


def place(client: TestClient) -> dict[str, Any]:
    body = {"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-C"]}
    answer = client.post("/staff/borrowing/requests", json=body, headers=STAFF)
    assert answer.status_code == 201
    result: dict[str, Any] = answer.json()
    return result


def samples(client: TestClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_every_metric_is_exported_under_its_name(a: tuple[Node, TestClient]) -> None:
    _, client = a
    place(client)
    text = client.get("/metrics").text
    families = {
        f.name for f in text_string_to_metric_families(text) if not f.name.endswith("_created")
    }
    assert families == {name.removesuffix("_total") for name in METRIC_NAMES}
    found = samples(client)
    (pending,) = [
        v
        for labels, v in found["resource_sharing_outbox_messages"]
        if labels == {"status": "pending", "port": "peer"}
    ]
    assert pending == 1  # the request to C (the patron's notice waits beside it)


def test_a_failed_delivery_is_a_warning_with_the_reason_and_a_metric(
    a: tuple[Node, TestClient], captured: io.StringIO
) -> None:
    _, client = a
    placed = place(client)
    client.post("/staff/dispatch", headers=STAFF, params={})
    warnings = [line for line in lines(captured) if line["level"] == "WARNING"]
    assert warnings, captured.getvalue()
    warning = warnings[0]
    assert "to ISIL:US-C failed (will retry)" in warning["message"]
    assert warning["message_id"]  # the outbox message being delivered
    outbox = client.get("/staff/outbox", headers=STAFF).json()
    (to_c,) = [entry for entry in outbox if entry["port"] == "peer"]
    assert to_c["request"] == placed["id"]
    assert warning["message_id"] == to_c["id"]
    found = samples(client)
    failed = found["resource_sharing_deliveries_failed_total"]
    assert failed == [({"partner": "ISIL:US-C", "retryable": "true"}, 1.0)]
    out = found["resource_sharing_messages_total"]
    assert ({"direction": "out", "kind": "request", "status": "failed"}, 1.0) in out


def test_no_patron_name_or_email_at_info_and_an_id_on_every_line(
    a: tuple[Node, TestClient], captured: io.StringIO
) -> None:
    _, client = a
    client.post(
        "/staff/borrowing/requests",
        json={"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-C"]},
        headers=STAFF,
    )
    # the notice leaves through the outbox: its lines carry the id of the call that sent it
    client.post("/staff/dispatch", headers={**STAFF, "X-Request-Id": "req-42"})
    logged = lines(captured)
    notices = [line for line in logged if "patron_notice" in line["message"]]
    assert notices, captured.getvalue()
    assert notices[0]["request_id"] == "req-42"
    assert notices[0]["message_id"]  # the outbox entry's key, also outside any HTTP call
    for line in logged:
        assert "Ada" not in line["message"]
        assert "Lovelace" not in line["message"]
        assert "ada@example.org" not in line["message"]
    ours = [line for line in logged if line["logger"].startswith("resource_sharing")]
    assert ours
    assert all(line["request_id"] or line["message_id"] for line in ours)


def test_the_response_carries_the_request_id(a: tuple[Node, TestClient]) -> None:
    _, client = a
    assert client.get("/health", headers={"X-Request-Id": "abc"}).headers["x-request-id"] == "abc"
    assert len(client.get("/health").headers["x-request-id"]) == 16


def test_redact_keeps_ids_and_drops_personal_fields() -> None:
    detail = {
        "patron": {"id": "p-1", "name": "Ada Lovelace", "email": "ada@example.org"},
        "request_id": "r-1",
        "detail": "write to ada@example.org",
        "nested": [{"name": "x", "barcode": "B-1"}],
    }
    assert redact(detail) == {
        "patron": "p-1",
        "request_id": "r-1",
        "detail": "write to <email>",
        "nested": [{"barcode": "B-1"}],
    }


def test_an_email_left_in_a_line_at_info_is_masked(captured: io.StringIO) -> None:
    logging.getLogger("resource_sharing.test").info("mail %s", "ada@example.org")
    logging.getLogger("resource_sharing.test").debug("not shown at INFO")
    (line,) = lines(captured)
    assert line["message"] == "mail <email>"


def test_text_and_json_formats(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    old = (root.level, list(root.handlers))
    try:
        configure_logging("info", "json")
        logging.getLogger("resource_sharing.test").info("hello")
        assert json.loads(capsys.readouterr().err.strip().splitlines()[-1])["message"] == "hello"
        configure_logging("info", "text")
        logging.getLogger("resource_sharing.test").info("hello")
        assert "INFO resource_sharing.test [thread=MainThread] hello" in capsys.readouterr().err
    finally:
        for handler in list(root.handlers):
            if handler not in old[1]:
                root.removeHandler(handler)
        root.setLevel(old[0])


def test_health_is_ok_with_what_it_checked(a: tuple[Node, TestClient]) -> None:
    _, client = a
    answer = client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {"store", "dispatcher"}
    assert body["problems"] == []


def test_health_is_503_when_the_dispatcher_is_behind(a: tuple[Node, TestClient]) -> None:
    _, client = a
    place(client)
    client.post("/staff/clock", json={"advance_seconds": 3600}, headers=STAFF)
    answer = client.get("/health")
    assert answer.status_code == 503
    body = answer.json()
    assert body["ok"] is False
    assert body["checks"]["store"]["ok"] is True
    assert body["problems"][0].startswith("the dispatcher is behind: 2 outbox entry(ies) overdue")


def test_health_is_503_when_the_store_cannot_be_read(
    a: tuple[Node, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, client = a

    def broken() -> Any:
        raise OSError("disk I/O error")

    monkeypatch.setattr(node.store, "transaction", broken)
    answer = client.get("/health")
    assert answer.status_code == 503
    assert "the store cannot be read: OSError: disk I/O error" in answer.json()["problems"]


def test_failed_authentications_and_lockouts_are_counted(a: tuple[Node, TestClient]) -> None:
    node, client = a
    wrong = {"Authorization": "Bearer not-the-token"}
    limit = node.config.security.max_failures
    for _ in range(limit + 1):
        assert client.get("/staff/tasks/borrowing_requests", headers=wrong).status_code in (
            401,
            429,
        )
    found = samples(client)
    assert found["resource_sharing_auth_failures_total"] == [({"kind": "staff"}, float(limit))]
    assert found["resource_sharing_lockouts_total"] == [({"kind": "staff"}, 1.0)]
    refused = found["resource_sharing_requests_refused_total"]
    assert refused == [({"kind": "staff", "reason": "locked_out"}, 1.0)]


def test_inbound_messages_are_counted_by_kind_and_status() -> None:
    node = Node(parse_config(lender()))
    try:
        with TestClient(create_app(node, background=False)) as client:
            header = Header(
                AgencyId("US-A"),
                AgencyId("US-C"),
                "r-1",
                datetime(2026, 9, 7, 9, tzinfo=UTC),
                authentication=Authentication("US-A", "s3cret"),
            )
            citation = Citation(title="TAOCP", item_ids=(Identifier("ISBN", "9780201896831"),))
            assert (
                client.post(
                    "/iso18626", content=encode(Request(header, citation)), headers=XML
                ).status_code
                == 200
            )
            assert client.post("/iso18626", content=b"<nope/>", headers=XML).status_code == 400
            found = samples(client)
    finally:
        node.close()
    counted = {
        (labels["direction"], labels["kind"], labels["status"]): value
        for labels, value in found["resource_sharing_messages_total"]
    }
    assert counted[("in", "request", "OK")] == 1
    assert sum(v for (d, _, s), v in counted.items() if d == "in" and s == "BadlyFormed") == 1
    on_lists = found["resource_sharing_requests"]
    assert on_lists == [({"side": "lending", "state": "pick_from_shelf"}, 1.0)]
    routes = {
        labels["route"]
        for labels, _ in found["resource_sharing_http_request_duration_seconds_count"]
    }
    assert "iso18626" in routes
