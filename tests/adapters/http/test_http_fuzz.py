"""Fuzzing a real ``serve``: the ISO 18626 endpoint and the staff API.

Hypothesis draws messages (authentic or not, then maybe mutated byte by byte), staff
calls (any route, path and query parameters, JSON bodies made of anything, or a valid
body with one field replaced by anything) and sends them over loopback. Whatever comes:
never a 500, never a traceback in a body or in the server's log, never a hang (every
call has a timeout), and nothing stored from a refused request (the node's change feed
does not move). The budget is the hypothesis profile's (``dev`` locally, ``ci`` in CI).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from resource_sharing.messages import (
    Authentication,
    Confirmation,
    PeerMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId
from resource_sharing_adapters.iso18626 import EncodeError, encode
from tests.adapters.http.serve_http import SECRET, STAFF_TOKEN, Served, served
from tests.strategies.iso18626 import messages

A, C = AgencyId("US-A"), AgencyId("US-C")
TIMEOUT = 20.0  # a call that takes longer is a hang
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
REFUSED_OR_OK = {200, 201, 400, 403, 404, 409, 413, 415}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, httpx.Client]]:
    with (
        served(
            tmp_path_factory.mktemp("fuzz"),
            server={"max_body_bytes": 65536},
            # every request from the fuzzer is from 127.0.0.1: no lock-out, no rate limit
            security={
                "max_failures": 10**9,
                "peer_requests_per_second": 0,
                "staff_requests_per_second": 0,
            },
            partner={"protocol": {"endpoint": "http://127.0.0.1:9/iso18626"}},
        ) as made,
        httpx.Client(base_url=made.base_url, timeout=TIMEOUT) as client,
    ):
        yield made, client
        assert "Traceback" not in made.log()


def _changes(client: httpx.Client) -> int:
    return int(client.get("/staff/info", headers=STAFF).json()["changes"])


def _check(answer: httpx.Response) -> None:
    assert answer.status_code in REFUSED_OR_OK, (answer.status_code, answer.text[:500])
    assert b"Traceback" not in answer.content
    assert b'File "' not in answer.content


# -- the ISO 18626 endpoint -----------------------------------------------------------


def _authentic(message: PeerMessage) -> PeerMessage:
    """The message as US-A would send it to US-C, with US-A's credentials."""
    sam = isinstance(message, SupplyingAgencyMessage)
    header = attrs.evolve(
        message.header,
        requesting_agency=C if sam else A,
        supplying_agency=A if sam else C,
        authentication=Authentication("US-A", SECRET),
    )
    return attrs.evolve(message, header=header)


@st.composite
def _mutated(draw: st.DrawFn, body: bytes) -> bytes:
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, max(0, len(body) - 1)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if kind == "flip" and body:
            body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
        elif kind == "cut":
            body = body[:at] + body[at + draw(st.integers(1, 40)) :]
        elif kind == "insert":
            body = body[:at] + draw(st.binary(min_size=1, max_size=40)) + body[at:]
        else:
            body = body[:at]
    return body


@st.composite
def _iso_posts(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    message = draw(messages(v2021=False))
    if draw(st.booleans()) and not isinstance(message, Confirmation):
        message = _authentic(message)
    try:
        body = encode(message)
    except EncodeError:
        assume(False)
    if draw(st.booleans()):
        body = draw(_mutated(body))
    content_type = draw(
        st.sampled_from(["application/xml"] * 4 + ["text/xml; charset=utf-8", "text/plain", ""])
    )
    headers = {"Content-Type": content_type} if content_type else {}
    if draw(st.booleans()):
        headers["X-Message-ID"] = draw(
            st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40)
        )
    return body, headers


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(post=_iso_posts())
def test_the_iso_endpoint_never_fails_and_stores_nothing_it_refuses(
    node: tuple[Served, httpx.Client], post: tuple[bytes, dict[str, str]]
) -> None:
    _, client = node
    body, headers = post
    before = _changes(client)
    answer = client.post("/iso18626", content=body, headers=headers)
    _check(answer)
    refused = answer.status_code != 200 or b"<messageStatus>ERROR" in answer.content
    event(f"HTTP {answer.status_code}, {'refused' if refused else 'accepted'}")
    if refused:
        assert _changes(client) == before


# -- the staff API ---------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["ISIL:US-A", "2026-09-30", "2026-09-30T10:00:00Z", "EUR", "Loan"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_ROUTES = [
    ("GET", "/staff/info"),
    ("GET", "/staff/changes"),
    ("GET", "/staff/journal"),
    ("GET", "/staff/outbox"),
    ("GET", "/staff/find"),
    ("GET", "/staff/tasks/{p}"),
    ("GET", "/staff/requests/{p}/{q}"),
    ("POST", "/staff/scan"),
    ("POST", "/staff/dispatch"),
    ("POST", "/staff/tick"),
    ("POST", "/staff/clock"),
    ("POST", "/staff/borrowing/requests"),
    ("POST", "/staff/borrowing/requests"),
    ("POST", "/staff/borrowing/requests"),
    ("POST", "/staff/borrowing/return"),
    ("POST", "/staff/lending/check-in"),
    ("POST", "/staff/lending/local-hold"),
    ("POST", "/staff/{p}/{q}/{r}"),
]
_PARAMS = st.sampled_from(
    ["since", "limit", "offset", "desk", "status", "side", "protocol_id", "counterpart", "x"]
)
_VALID_PLACE = {
    "patron": {"id": "p-1", "name": "Ada"},
    "citation": {"title": "TAOCP", "item_ids": [{"code": "ISBN", "value": "9780201896831"}]},
    "rota": ["ISIL:US-A"],
    "pickup_location": "Main desk",
    "note": "fuzz",
}


@st.composite
def _bodies(draw: st.DrawFn) -> bytes | None:
    """No body, raw bytes, or JSON (NaN and Infinity included, which the API refuses)."""
    kind = draw(st.sampled_from(["none", "json", "place", "raw", "valid"]))
    if kind == "valid":
        return json.dumps(_VALID_PLACE).encode()
    if kind == "none":
        return None
    if kind == "raw":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(_json)).encode()
    body: dict[str, Any] = {**_VALID_PLACE}
    key = draw(st.sampled_from([*_VALID_PLACE, "need_before", "max_cost", "surprise"]))
    body[key] = draw(_json)
    return json.dumps(body).encode()


@st.composite
def _staff_calls(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes | None]:
    method, template = draw(st.sampled_from(_ROUTES))
    words = st.sampled_from(["borrowing", "lending", "cancel", "pick", "check_in", "x"]) | st.text(
        min_size=1, max_size=20
    )
    path = template.format(
        p=urllib.parse.quote(draw(words), safe=""),
        q=urllib.parse.quote(draw(words), safe=""),
        r=urllib.parse.quote(draw(words), safe=""),
    )
    params = draw(st.just({}) | st.dictionaries(_PARAMS, st.text(max_size=25), max_size=3))
    body = draw(_bodies()) if method == "POST" or draw(st.integers(0, 9)) == 0 else None
    return method, path, params, body


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(call=_staff_calls())
def test_the_staff_api_never_fails_and_stores_nothing_it_refuses(
    node: tuple[Served, httpx.Client], call: tuple[str, str, dict[str, str], bytes | None]
) -> None:
    _, client = node
    method, path, params, body = call
    before = _changes(client)
    headers = {**STAFF, "Content-Type": "application/json"}
    answer = client.request(method, path, params=params, content=body, headers=headers)
    _check(answer)
    event(f"HTTP {answer.status_code}")
    if answer.status_code >= 400:
        assert _changes(client) == before
