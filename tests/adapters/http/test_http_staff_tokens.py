"""Staff users' own API tokens: each carries its user's roles, as the console does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from resource_sharing_adapters.console import Role, accounts_of
from resource_sharing_adapters.http import Node, create_app, parse_config

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CONFIG: dict[str, Any] = {
    "institution": {"agency": "ISIL:US-C"},
    "server": {"staff_token": "node-wide-bootstrap-token"},
    "store": {"memory": True},
    "clock": {"start": "2026-09-07T09:00:00+00:00", "adjustable": True},
    "partners": [
        {"agency": "ISIL:US-A", "inbound": {"account_id": "US-A", "security_code": "s3cret"}}
    ],
}
PLACE = {
    "patron": {"id": "p-1", "name": "Ada"},
    "citation": {"title": "The Art of Computer Programming"},
    "rota": ["ISIL:US-A"],
}


@pytest.fixture
def node() -> Iterator[Node]:
    made = Node(parse_config(CONFIG))
    yield made
    made.close()


@pytest.fixture
def tokens(node: Node) -> dict[str, str]:
    """A token for a borrowing, a lending and an admin user."""
    accounts = accounts_of(node)
    accounts._hasher = FAST  # quick hashes in tests
    made = {}
    for name, role in (("ada", Role.BORROWING), ("lee", Role.LENDING), ("root", Role.ADMIN)):
        accounts.add(name, "correct horse battery", [role])
        made[name] = accounts.new_token(name)
    return made


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node, background=False, console=False)) as made:
        yield made


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_token_does_what_its_user_may_and_names_the_user(
    client: TestClient, tokens: dict[str, str]
) -> None:
    placed = client.post("/staff/borrowing/requests", json=PLACE, headers=_as(tokens["ada"]))
    assert placed.status_code == 201, placed.text
    rid = placed.json()["id"]
    shown = client.get(f"/staff/requests/borrowing/{rid}", headers=_as(tokens["ada"])).json()
    assert shown["history"][0]["actor"] == "staff:ada"
    # every role reads the node's own figures
    assert client.get("/staff/info", headers=_as(tokens["lee"])).status_code == 200


def test_a_token_without_the_role_is_refused_in_words_and_changes_nothing(
    client: TestClient, tokens: dict[str, str], node: Node
) -> None:
    placed = client.post("/staff/borrowing/requests", json=PLACE, headers=_as(tokens["ada"]))
    rid = placed.json()["id"]
    before = node.feed.last
    refused = client.post("/staff/borrowing/requests", json=PLACE, headers=_as(tokens["lee"]))
    assert refused.status_code == 403
    assert "lee may not do this: it needs the borrowing staff role" in refused.json()["detail"]
    for path in (f"/staff/requests/borrowing/{rid}", f"/staff/requests/borrowing/{rid}/tasks"):
        assert client.get(path, headers=_as(tokens["lee"])).status_code == 403
    cancel = client.post(f"/staff/borrowing/{rid}/cancel", json={}, headers=_as(tokens["lee"]))
    assert cancel.status_code == 403
    check_in = client.post(
        "/staff/lending/check-in", json={"barcode": "X"}, headers=_as(tokens["ada"])
    )
    assert check_in.status_code == 403
    assert "lending" in check_in.json()["detail"]
    for path in ("/staff/tick", "/staff/dispatch", "/staff/sweep", "/staff/clock"):
        answer = client.post(path, json={}, headers=_as(tokens["ada"]))
        assert answer.status_code == 403, path
        assert "admin" in answer.json()["detail"], path
    assert node.feed.last == before  # nothing refused changed anything


def test_an_admin_token_may_do_everything(client: TestClient, tokens: dict[str, str]) -> None:
    root = _as(tokens["root"])
    assert client.post("/staff/tick", json={}, headers=root).status_code == 200
    assert client.post("/staff/borrowing/requests", json=PLACE, headers=root).status_code == 201
    check_in = client.post("/staff/lending/check-in", json={"barcode": "X"}, headers=root)
    assert check_in.status_code not in (401, 403)  # allowed (and no lent item is "X")
    assert "X" in check_in.json()["detail"]


def test_a_disabled_users_or_replaced_token_stops_working(
    client: TestClient, tokens: dict[str, str], node: Node
) -> None:
    accounts = accounts_of(node)
    accounts.disable("ada")
    answer = client.get("/staff/info", headers=_as(tokens["ada"]))
    assert answer.status_code == 401
    assert "disabled" in answer.json()["detail"]
    old = tokens["lee"]
    accounts.new_token("lee")
    assert client.get("/staff/info", headers=_as(old)).status_code == 401


def test_the_node_wide_token_remains_a_bootstrap_for_everything(client: TestClient) -> None:
    bootstrap = _as("node-wide-bootstrap-token")
    assert client.post("/staff/tick", json={}, headers=bootstrap).status_code == 200
    placed = client.post("/staff/borrowing/requests", json=PLACE, headers=bootstrap)
    assert placed.status_code == 201
