"""Credential rate limits and lock-outs: the pure limiter on a fake clock, then the node."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from resource_sharing.messages import Authentication, Header, Request
from resource_sharing.records import AgencyId, Citation
from resource_sharing_adapters.http import (
    AUTHENTICATION_FAILED,
    AuthenticationFailed,
    Authenticator,
    Credentials,
    Guard,
    Limiter,
    Node,
    Origin,
    SecurityConfig,
    Throttled,
    create_app,
    parse_config,
)
from resource_sharing_adapters.iso18626 import encode

A, C = AgencyId("US-A"), AgencyId("US-C")
XML = {"Content-Type": "application/xml"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: FakeClock, **kw: Any) -> Limiter:
    settings: dict[str, Any] = {
        "rate": 2.0,
        "burst": 3,
        "max_failures": 3,
        "window": 60.0,
        "lockout": 120.0,
        **kw,
    }
    return Limiter(clock=clock, **settings)


def test_strikes_lock_a_pair_out_for_the_lockout_then_let_it_in() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    assert not limiter.failed("US-A", "10.0.0.1")
    assert not limiter.failed("US-A", "10.0.0.1")
    assert limiter.failed("US-A", "10.0.0.1")
    locked = limiter.locked("US-A", "10.0.0.1")
    assert (locked.allowed, locked.reason, locked.retry_after) == (False, "locked_out", 120.0)
    assert limiter.locked("US-A", "10.0.0.2").allowed
    assert limiter.locked("US-B", "10.0.0.1").allowed
    clock.now += 120.0
    assert limiter.locked("US-A", "10.0.0.1").allowed


def test_old_strikes_are_forgotten_and_a_success_clears_them() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    limiter.failed("US-A", "x")
    limiter.failed("US-A", "x")
    clock.now += 61.0
    assert not limiter.failed("US-A", "x")
    limiter.succeeded("US-A", "x")
    assert not limiter.failed("US-A", "x")
    assert not limiter.failed("US-A", "x")


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    assert [limiter.charge("US-A").allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.charge("US-A")
    assert refused.reason == "rate_limited"
    assert refused.retry_after == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.charge("US-A").allowed
    assert limiter.charge("US-B").allowed
    assert _limiter(clock, rate=0.0).charge("US-A").allowed


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, max_tracked=2, max_failures=1)
    for address in ("a", "b", "c"):
        limiter.failed("US-A", address)
    assert limiter.locked("US-A", "a").allowed  # forgotten, the least recently seen
    assert not limiter.locked("US-A", "c").allowed


@given(st.lists(st.tuples(st.floats(0, 200), st.sampled_from(["wrong", "right"])), max_size=80))
def test_no_more_than_max_failures_guesses_are_compared_within_the_window(
    steps: list[tuple[float, str]],
) -> None:
    """At most max_failures wrong guesses are compared within any failure window.

    Whatever the timing: the property the lock-out exists for.
    """
    clock = FakeClock()
    guard = Guard(
        SecurityConfig(max_failures=3, failure_window_seconds=60, lockout_seconds=120),
        clock=clock,
    )
    compared: list[float] = []
    for wait, guess in steps:
        clock.now += wait
        if not guard.before("peer", "US-A", "x").allowed:
            continue
        if guess == "wrong":
            compared.append(clock.now)
            guard.failure("peer", "US-A", "x", "test")
            recent = [t for t in compared if clock.now - t < 60]
            assert len(recent) <= 3
        else:
            guard.success("peer", "US-A", "x")
            compared.clear()


def _message(code: str, sender: AgencyId = A) -> Request:
    header = Header(
        sender,
        C,
        "r-1",
        datetime(2026, 9, 7, tzinfo=UTC),
        authentication=Authentication(sender.value, code),
    )
    return Request(header, Citation(title="x"))


def _authenticator(**security: Any) -> Authenticator:
    config = SecurityConfig(**{"max_failures": 3, **security})
    return Authenticator(C, {A: Credentials("US-A", "s3cret")}, guard=Guard(config))


def test_a_peer_locked_out_from_one_address_is_refused_even_with_the_right_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    auth = _authenticator()
    attacker, partner = Origin("203.0.113.9"), Origin("198.51.100.1")
    with caplog.at_level(logging.WARNING, logger="resource_sharing.security"):
        for _ in range(3):
            with pytest.raises(AuthenticationFailed) as failed:
                auth.check(_message("guess"), origin=attacker)
            assert failed.value.error_value == AUTHENTICATION_FAILED
    assert "locked out peer ISIL:US-A from 203.0.113.9" in caplog.text
    with pytest.raises(Throttled) as throttled:
        auth.check(_message("s3cret"), origin=attacker)
    assert throttled.value.reason == "locked_out"
    assert throttled.value.retry_after == 300
    assert auth.check(_message("s3cret"), origin=partner) == A
    counters = auth.guard.counters
    assert counters.get("auth_failures", kind="peer") == 3
    assert counters.get("lockouts", kind="peer") == 1
    assert counters.get("refused", kind="peer", reason="locked_out") == 1


def test_unknown_agencies_and_wrong_codes_read_the_same() -> None:
    auth = _authenticator(max_failures=100)
    texts = set()
    for message in (_message("guess"), _message("s3cret", AgencyId("US-Z"))):
        with pytest.raises(AuthenticationFailed) as failed:
            auth.check(message, origin=Origin("x"))
        texts.add(failed.value.error_value)
    assert texts == {AUTHENTICATION_FAILED}


def test_an_authenticated_partner_over_its_rate_is_throttled() -> None:
    auth = _authenticator(peer_requests_per_second=1.0, peer_burst=2)
    assert auth.check(_message("s3cret")) == A
    assert auth.check(_message("s3cret")) == A
    with pytest.raises(Throttled) as throttled:
        auth.check(_message("s3cret"))
    assert throttled.value.reason == "rate_limited"


# -- through the app ---------------------------------------------------------------------


def _node(**security: Any) -> Node:
    return Node(
        parse_config(
            {
                "institution": {"agency": "ISIL:US-C"},
                "server": {"staff_token": "t0ken"},
                "store": {"memory": True},
                "security": {"max_failures": 3, **security},
                "partners": [
                    {
                        "agency": "ISIL:US-A",
                        "inbound": {"account_id": "US-A", "security_code": "s3cret"},
                    }
                ],
            }
        )
    )


@pytest.fixture
def node() -> Iterator[Node]:
    made = _node()
    yield made
    made.close()


def test_staff_token_lock_out_answers_429_with_retry_after(node: Node) -> None:
    with TestClient(create_app(node, background=False)) as client:
        for _ in range(3):
            wrong = client.get("/staff/info", headers={"Authorization": "Bearer guess"})
            assert wrong.status_code == 401
            assert wrong.json()["detail"] == "a valid staff bearer token is required"
        locked = client.get("/staff/info", headers={"Authorization": "Bearer t0ken"})
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) == 300
        assert locked.json()["error"] == "TooManyRequests"
    counters = node.authenticator.guard.counters
    assert counters.get("lockouts", kind="staff") == 1
    assert counters.get("auth_failures", kind="staff") == 3


def test_a_locked_out_peer_gets_429_and_nothing_is_stored(node: Node) -> None:
    with TestClient(create_app(node, background=False)) as client:
        for _ in range(3):
            refused = client.post("/iso18626", content=encode(_message("guess")), headers=XML)
            assert refused.status_code == 200
            assert AUTHENTICATION_FAILED.encode() in refused.content
        locked = client.post("/iso18626", content=encode(_message("s3cret")), headers=XML)
        assert locked.status_code == 429
        assert "Retry-After" in locked.headers
    assert node.feed.last == 0


def test_the_staff_rate_limit_answers_429() -> None:
    made = _node(staff_requests_per_second=0.001, staff_burst=2)
    try:
        with TestClient(create_app(made, background=False)) as client:
            headers = {"Authorization": "Bearer t0ken"}
            codes = [client.get("/staff/info", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert (
            made.authenticator.guard.counters.get("refused", kind="staff", reason="rate_limited")
            == 1
        )
    finally:
        made.close()


def test_counters_can_be_subscribed_to(node: Node) -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    node.authenticator.guard.counters.subscribe(
        lambda name, labels: seen.append((name, dict(labels)))
    )
    with TestClient(create_app(node, background=False)) as client:
        client.get("/staff/info", headers={"Authorization": "Bearer guess"})
    assert seen == [("auth_failures", {"kind": "staff"})]
    assert node.authenticator.guard.counters.snapshot() == [("auth_failures", {"kind": "staff"}, 1)]


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"security": {"max_failures": 0}}, "security"),
        ({"security": {"lockout_minutes": 5}}, "security"),
        ({"server": {"staff_token": "t", "limits": {"body_timeout_seconds": -1}}}, "server.limits"),
        ({"server": {"staff_token": "t", "limits": {"header_timeout": 1}}}, "server.limits"),
    ],
)
def test_bad_limits_in_the_configuration_are_refused(table: dict[str, Any], field: str) -> None:
    config: dict[str, Any] = {"institution": {"agency": "ISIL:US-C"}, **table}
    with pytest.raises(ValueError, match=field):
        parse_config(config)
