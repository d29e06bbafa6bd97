"""Issue 14.3-14.5 at a node: configuration, and (below) loopback HTTP with a scripted peer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from resource_sharing.iso18626 import Action, ErrorType, ReasonForMessage, Status
from resource_sharing.messages import (
    PeerMessage,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId
from resource_sharing_adapters.http import parse_config
from tests.adapters.http.scripted_peer import ScriptedPeer, scripted_peer
from tests.adapters.nodes_http import BOOK, PATRON, START, Cluster, cluster


def _config(**terms: Any) -> dict[str, Any]:
    return {
        "institution": {"agency": "ISIL:US-A"},
        "store": {"memory": True},
        "partners": [
            {
                "agency": "ISIL:US-B",
                "inbound": {"authorization": "Bearer b"},
                "terms": terms,
            }
        ],
    }


def test_renewing_an_overdue_loan_is_configured_per_partner() -> None:
    default = parse_config(_config()).directory.get(AgencyId.parse("ISIL:US-B"))
    assert default is not None
    assert default.terms.renew_overdue
    strict = parse_config(_config(renew_overdue=False)).directory.get(AgencyId.parse("ISIL:US-B"))
    assert strict is not None
    assert not strict.terms.renew_overdue


# -- over loopback HTTP, with a scripted lender -------------------------------------------


def _requests(message: PeerMessage) -> bool:
    return isinstance(message, Request)


def _action(action: Action) -> Callable[[PeerMessage], bool]:
    def match(message: PeerMessage) -> bool:
        return isinstance(message, RequestingAgencyMessage) and message.action is action

    return match


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path) as made:
        yield made


def _sam(
    peer: ScriptedPeer,
    protocol_id: str,
    status: Status | None,
    reason: ReasonForMessage = ReasonForMessage.STATUS_CHANGE,
    **fields: Any,
) -> SupplyingAgencyMessage:
    """A supplying agency message from the scripted lender to US-A, with its credentials."""
    return peer.supplying("US-A", protocol_id, status, reason, **fields)


def _placed(net: Cluster, peer: ScriptedPeer) -> tuple[str, str]:
    """A request of US-A sent to the scripted lender; its id and its protocol id."""
    net.define("US-A", [peer.name])
    net.start("US-A")
    placed = net.staff["US-A"].place(
        {
            "patron": PATRON,
            "citation": BOOK,
            "pickup_location": "Main",
            "rota": [f"ISIL:{peer.name}"],
        }
    )
    (first,) = peer.wait_for(_requests)
    return str(placed["id"]), first.request_id


def test_a_lender_answering_loan_completed_first_is_a_task_staff_resolve(
    net: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    with scripted_peer(net, "US-P") as p:
        rid, protocol_id = _placed(net, p)
        staff = net.staff["US-A"]
        with caplog.at_level(logging.WARNING, logger="resource_sharing_adapters"):
            sent = p.send(
                net.url("US-A"),
                _sam(p, protocol_id, Status.LOAN_COMPLETED, ReasonForMessage.REQUEST_RESPONSE),
            )
        assert sent.error is not None
        assert sent.error.type is ErrorType.UNRECOGNISED_DATA_VALUE
        assert sent.error.value is not None
        assert "'LoanCompleted' does not apply now" in sent.error.value
        assert any("with ERROR UnrecognisedDataValue" in r.getMessage() for r in caplog.records)
        assert net.state("US-A", "borrowing", rid) == "sent"
        (line,) = staff.tasks("peer_messages")
        assert line["request_id"] == rid
        assert "Choose: apply, ignore, ask status" in line["instruction"]
        task = staff.task(line["task_id"])
        assert task["choices"] == ["apply", "ignore", "ask_status"]
        assert task["gist"] == "LoanCompleted (RequestResponse)"
        assert task["message"]["status"] == "LoanCompleted"
        # staff ask first: a StatusRequest goes to the lender, the task is done
        staff.choose_task(line["task_id"], "ask_status", by="maria", note="what happened?")
        p.wait_for(_action(Action.STATUS_REQUEST))
        # its answer repeats LoanCompleted: the sweep's comparison keeps it (out of step)
        p.send(
            net.url("US-A"),
            _sam(p, protocol_id, Status.LOAN_COMPLETED, ReasonForMessage.STATUS_REQUEST_RESPONSE),
        )
        (off,) = staff.tasks("out_of_step")
        assert off["request_id"] == rid
        # then it closes the request as lost to it: a task again, which staff apply
        closing = _sam(p, protocol_id, Status.COMPLETED_WITHOUT_RETURN)
        assert p.send(net.url("US-A"), closing).error is not None
        (again,) = staff.tasks("peer_messages")
        done = staff.choose_task(again["task_id"], "apply", by="maria", note="closed at P")
        assert done["resolution"]["by"] == "staff:maria"
        shown = net.wait_state("US-A", "borrowing", rid, "cancelled")
        assert shown["record"]["attempts"][-1]["outcome"] == "cancelled_by_lender"
        events = [(h["event"], h["actor"]) for h in shown["history"]]
        assert ("PeerMessageNotApplied", "peer:ISIL:US-P") in events
        assert ("AskLenderStatus", "staff:maria") in events
        assert ("ApplyLenderMessage", "staff:maria") in events
        assert staff.tasks("peer_messages") == []


def test_a_lender_reporting_overdue_gets_the_renew_it_expects(net: Cluster) -> None:
    with scripted_peer(net, "US-P") as p:
        rid, protocol_id = _placed(net, p)
        staff = net.staff["US-A"]
        due = datetime.fromisoformat(START) + timedelta(days=10)  # the nodes' clock
        loaned = _sam(
            p, protocol_id, Status.LOANED, ReasonForMessage.REQUEST_RESPONSE, due_date=due
        )
        assert p.send(net.url("US-A"), loaned).ok
        staff.act("borrowing", rid, "receive", {"barcode": "A-T1"})
        staff.act("borrowing", rid, "check-out")
        overdue = _sam(p, protocol_id, Status.OVERDUE)
        assert p.send(net.url("US-A"), overdue).ok
        assert net.state("US-A", "borrowing", rid) == "overdue"
        staff.act("borrowing", rid, "renew", {"by_staff": True})
        (renew,) = p.wait_for(_action(Action.RENEW))
        assert renew.request_id == protocol_id
        later = due + timedelta(days=28)
        yes = _sam(
            p,
            protocol_id,
            Status.LOANED,
            ReasonForMessage.RENEW_RESPONSE,
            answer=True,
            due_date=later,
        )
        assert p.send(net.url("US-A"), yes).ok
        shown = net.wait_state("US-A", "borrowing", rid, "on_loan")
        assert shown["record"]["renewal_count"] == 1
        assert shown["record"]["lender_due"].startswith(later.date().isoformat())
