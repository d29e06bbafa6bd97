"""The staff API's delivery tasks, against a real node on loopback.

Node US-A's only partner, US-B, is not running: the Request to it fails (the connection
is refused) and, with one attempt allowed, gives up into a staff task at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resource_sharing_adapters.cli import main
from resource_sharing_adapters.console import Role, accounts_of
from resource_sharing_adapters.http import StaffClient
from resource_sharing_adapters.http._staff_client import StaffError
from tests.adapters.nodes_http import (
    BOOK,
    PATRON,
    STAFF_TOKEN,
    Cluster,
    cluster,
    wait_until,
)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path) as made:
        made.define("US-A", ["US-B"], delivery={"max_attempts": 1})
        made.start("US-A")
        yield made


def gave_up(made: Cluster) -> tuple[str, dict[str, Any]]:
    """Place a request to the absent US-B; returns its id and its open task."""
    staff = made.staff["US-A"]
    placed = staff.place({"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-B"]})
    (task,) = wait_until(lambda: staff.get("/staff/delivery-tasks") or None, what="a task")
    return str(placed["id"]), task


def refused(call: Any, status: int) -> str:
    with pytest.raises(StaffError) as raised:
        call()
    assert raised.value.status == status, raised.value
    return str(raised.value)


def test_a_delivery_that_gave_up_is_listed_with_what_failed_and_the_choices(
    node: Cluster,
) -> None:
    request_id, task = gave_up(node)
    staff = node.staff["US-A"]
    assert (task["side"], task["request_id"], task["port"]) == ("borrowing", request_id, "peer")
    assert task["open"] is True
    assert task["attempts"] == 1
    assert task["title"].startswith("Peer message")
    assert task["error"]  # the refused connection, in words
    assert set(task["choices"]) == {"retry_now", "done_by_hand", "drop"}
    assert "Choose: retry now, done by hand, drop" in task["instruction"]
    assert staff.get(f"/staff/delivery-tasks/{task['id']}") == task
    assert staff.get(f"/staff/requests/borrowing/{request_id}/tasks") == [task]
    assert staff.get("/staff/delivery-tasks", desk="Nowhere") == []


def test_each_choice_is_a_staff_action_recorded_with_the_named_user(node: Cluster) -> None:
    request_id, task = gave_up(node)
    staff = node.staff["US-A"]
    again = staff.post(f"/staff/delivery-tasks/{task['id']}/retry-now", {"by": "alice"})
    assert again["delivered"] is False  # US-B is still down: it gives up again
    assert again["open"] is False
    assert again["resolution"]["choice"] == "retry_now"
    assert again["resolution"]["by"] == "staff:alice"
    (second,) = wait_until(lambda: staff.get("/staff/delivery-tasks") or None, what="task 2")
    assert second["id"] != task["id"]
    note = "sent by post"
    done = staff.post(
        f"/staff/delivery-tasks/{second['id']}/mark-done", {"by": "bob", "note": note}
    )
    assert (done["resolution"]["choice"], done["resolution"]["note"]) == ("done_by_hand", note)
    assert staff.get("/staff/delivery-tasks") == []
    history = staff.request("borrowing", request_id)["history"]
    resolved = [h for h in history if h["event"] == "ResolveTask"]
    assert [h["actor"] for h in resolved] == ["staff:alice", "staff:bob"]
    assert [len(staff.get(f"/staff/requests/borrowing/{request_id}/tasks"))] == [2]


def test_a_per_user_token_names_its_user(node: Cluster) -> None:
    _, task = gave_up(node)
    accounts = accounts_of(node.node("US-A"))
    accounts.add("carol", "a long enough password 1", [Role.BORROWING])
    token = accounts.new_token("carol")
    url = f"http://127.0.0.1:{node.ports['US-A']}"
    with StaffClient(url, token) as carol:
        dropped = carol.post(f"/staff/delivery-tasks/{task['id']}/drop", {})
        assert dropped["resolution"]["by"] == "staff:carol"
        assert "carol" in refused(
            lambda: carol.post(f"/staff/delivery-tasks/{task['id']}/drop", {"by": "dave"}), 400
        )


def test_bad_input_and_wrong_state_are_4xx_with_a_reason(node: Cluster) -> None:
    _, task = gave_up(node)
    staff = node.staff["US-A"]
    path = f"/staff/delivery-tasks/{task['id']}"
    assert "by" in refused(lambda: staff.post(f"{path}/drop", {}), 400)
    assert "retry-now, mark-done, drop" in refused(lambda: staff.post(f"{path}/undo", {}), 400)
    assert "note" in refused(lambda: staff.post(f"{path}/drop", {"by": "x", "note": 5}), 400)
    assert "unknown" in refused(lambda: staff.post(f"{path}/drop", {"by": "x", "y": 1}), 400)
    assert "task" in refused(lambda: staff.get("/staff/delivery-tasks/nope"), 404)
    assert "task" in refused(
        lambda: staff.post("/staff/delivery-tasks/nope/drop", {"by": "x"}), 404
    )
    assert refused(lambda: staff.get("/staff/requests/borrowing/nope/tasks"), 404)
    assert "limit" in refused(lambda: staff.get("/staff/delivery-tasks", limit=0), 400)
    staff.post(f"{path}/drop", {"by": "erin"})
    assert "resolved" in refused(lambda: staff.post(f"{path}/mark-done", {"by": "erin"}), 400)


def test_the_desk_cli_lists_and_resolves_them(
    node: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    _, task = gave_up(node)
    base = ["desk", "--url", f"http://127.0.0.1:{node.ports['US-A']}", "--token", STAFF_TOKEN]
    assert main([*base, "problems"]) == 0
    assert "Delivery problems: 1" in capsys.readouterr().out
    assert main([*base, "--json", "problems"]) == 0
    assert [t["id"] for t in json.loads(capsys.readouterr().out)] == [task["id"]]
    done = ["resolve", task["id"], "mark-done", "--by", "frank", "--note", "phoned"]
    assert main([*base, *done]) == 0
    assert "mark done by staff:frank" in capsys.readouterr().out
    assert main([*base, "--json", "problems"]) == 0
    assert json.loads(capsys.readouterr().out) == []
