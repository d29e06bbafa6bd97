"""Staff StatusRequest and the consistency sweep, over loopback HTTP, against a scripted lender.

Our node A borrows from :class:`~tests.adapters.http.scripted_peer.ScriptedPeer` P, whose
state drifts from ours (its Loaned never reaches us; it closes a loan we never got).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing.iso18626 import Action, ReasonForMessage, Status
from resource_sharing.messages import (
    PeerMessage,
    Request,
    RequestingAgencyMessage,
)
from resource_sharing_adapters.console._accounts import Role, accounts_of
from resource_sharing_adapters.http import StaffClient, parse_config
from tests.adapters.http.scripted_peer import ScriptedPeer, scripted_peer
from tests.adapters.nodes_http import BOOK, PATRON, Cluster, cluster, wait_until

DAY = 86400.0


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path) as made:
        yield made


def _requests(message: PeerMessage) -> bool:
    return isinstance(message, Request)


def _status_requests(message: PeerMessage) -> bool:
    return isinstance(message, RequestingAgencyMessage) and message.action is Action.STATUS_REQUEST


def _from_p(
    net: Cluster, peer: ScriptedPeer, protocol_id: str, status: Status, reason: ReasonForMessage
) -> None:
    """P (as lender) tells A ``status``, with the credentials A expects of it."""
    message = peer.supplying("US-A", protocol_id, status, reason)
    sent = peer.send(net.url("US-A"), message)
    assert sent.ok, sent.text


def _placed_with_will_supply(net: Cluster, peer: ScriptedPeer) -> tuple[str, str]:
    """A's request, sent to P, which answered WillSupply: (our id, the protocol id)."""
    placed = net.staff["US-A"].place({"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-P"]})
    protocol_id = peer.wait_for(_requests)[0].request_id
    _from_p(net, peer, protocol_id, Status.WILL_SUPPLY, ReasonForMessage.REQUEST_RESPONSE)
    net.wait_state("US-A", "borrowing", placed["id"], "will_supply")
    return placed["id"], protocol_id


def _answer(net: Cluster, peer: ScriptedPeer, protocol_id: str, status: Status) -> None:
    _from_p(net, peer, protocol_id, status, ReasonForMessage.STATUS_REQUEST_RESPONSE)


def _history(net: Cluster, request_id: str) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = net.staff["US-A"].request("borrowing", request_id)["history"]
    return shown


def test_the_sweep_finds_a_shipment_we_never_heard_of_and_catches_up(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as peer:
        net.define("US-A", ["US-P"])
        net.tables["US-A"]["sweep"] = {"idle_after_days": 3, "per_peer": 5}
        net.start("US-A")
        request_id, protocol_id = _placed_with_will_supply(net, peer)
        # P ships, but its Loaned is lost on the way: the two sides drift
        staff = net.staff["US-A"]
        assert staff.sweep()["asked"] == 0  # not idle yet
        net.advance(4 * DAY)
        report = staff.sweep()
        assert (report["ran"], report["idle"], report["asked"]) == (True, 1, 1)
        assert report["per_lender"] == {"ISIL:US-P": 1}
        (question,) = peer.wait_for(_status_requests)
        assert question.request_id == protocol_id
        assert staff.sweep()["asked_recently"] == 1  # asked once per idle period

        _answer(net, peer, protocol_id, Status.LOANED)

        net.wait_state("US-A", "borrowing", request_id, "shipped")
        compared = _history(net, request_id)[-1]
        assert compared["event"] == "StatusCompared"
        assert compared["detail"] == "in step: ISIL:US-P reports Loaned; we have shipped"
        assert staff.tasks("out_of_step") == []
        metrics = httpx.get(net.url("US-A").replace("/iso18626", "/metrics")).text
        assert "resource_sharing_sweep_runs_total 3.0" in metrics
        assert 'resource_sharing_sweep_status_requests_total{partner="ISIL:US-P"} 1.0' in metrics
        assert 'resource_sharing_sweep_requests_total{outcome="asked_recently"} 1.0' in metrics
        assert "resource_sharing_out_of_step_tasks 0.0" in metrics


def test_a_status_that_does_not_fit_is_a_task_with_both_sides(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as peer:
        net.define("US-A", ["US-P"])
        net.start("US-A")
        request_id, protocol_id = _placed_with_will_supply(net, peer)
        accounts = accounts_of(net.node("US-A"))
        accounts.add("ada", "correct horse battery", [Role.BORROWING])
        ada = StaffClient(f"http://127.0.0.1:{net.ports['US-A']}", accounts.new_token("ada"))
        try:
            asked = ada.act(
                "borrowing", request_id, "status-request", {"note": "is it on its way?"}
            )
            assert asked["record"]["attempts"][-1]["status_asked_at"] is not None
            (question,) = peer.wait_for(_status_requests)
            assert isinstance(question.message, RequestingAgencyMessage)
            assert question.message.note == "is it on its way?"
        finally:
            ada.close()
        asking = [h for h in _history(net, request_id) if h["event"] == "AskLenderStatus"]
        assert [h["actor"] for h in asking] == ["staff:ada"]

        _answer(net, peer, protocol_id, Status.LOAN_COMPLETED)  # a loan we never received

        staff = net.staff["US-A"]
        (task,) = wait_until(lambda: staff.tasks("out_of_step"), what="an out-of-step task")
        assert task["request_id"] == request_id
        assert task["instruction"].startswith(
            "Out of step with ISIL:US-P: it reports LoanCompleted, we have will_supply;"
            " suggested: the lender has closed a loan we never received"
        )
        assert task["instruction"].endswith("Choose: done by hand, drop")
        assert net.state("US-A", "borrowing", request_id) == "will_supply"
        assert _history(net, request_id)[-1]["reason"] == "out_of_step"
        metrics = httpx.get(net.url("US-A").replace("/iso18626", "/metrics")).text
        assert "resource_sharing_out_of_step_tasks 1.0" in metrics


def test_the_staff_api_refuses_what_it_cannot_ask_with_reasons(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as peer:
        net.define("US-A", ["US-P"])
        net.start("US-A")
        request_id, _ = _placed_with_will_supply(net, peer)
        base = f"http://127.0.0.1:{net.ports['US-A']}"
        headers = {"Authorization": "Bearer staff-token"}
        wrong = httpx.post(
            f"{base}/staff/borrowing/{request_id}/status-request",
            json={"urgent": True},
            headers=headers,
        )
        assert wrong.status_code == 400
        assert "urgent" in wrong.json()["detail"]
        lending = httpx.post(f"{base}/staff/lending/L-1/status-request", json={}, headers=headers)
        assert lending.status_code == 400
        assert "ISO 18626 has no message in which a lender asks" in lending.json()["detail"]
        unsent = net.staff["US-A"].place({"patron": PATRON, "citation": BOOK, "rota": []})
        refused = httpx.post(
            f"{base}/staff/borrowing/{unsent['id']}/status-request", json={}, headers=headers
        )
        assert refused.status_code == 409
        assert "ask_status" in refused.json()["detail"]
        assert peer.messages(_status_requests) == []


def test_the_sweep_settings_are_checked(tmp_path: Path) -> None:
    made = Cluster(tmp_path)
    made.define("US-A", [])
    made.tables["US-A"]["sweep"] = {"per_peer": 0}
    with pytest.raises(InvalidInput, match="per_peer must be at least 1"):
        parse_config(made.tables["US-A"], base=tmp_path)
    made.tables["US-A"]["sweep"] = {"idle_after_days": 2, "interval_minutes": 15, "enabled": False}
    policy = parse_config(made.tables["US-A"], base=tmp_path).sweep
    assert (policy.idle_after.days, policy.interval.seconds, policy.enabled) == (2, 900, False)
    made.tables["US-A"]["sweep"] = {"every": 3}
    with pytest.raises(InvalidInput, match="unknown key"):
        parse_config(made.tables["US-A"], base=tmp_path)
