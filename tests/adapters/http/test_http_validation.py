"""Staff API input is checked at the edge: a 400 naming the field, and nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from resource_sharing_adapters.http import ACTIONS, Node, create_app, parse_config
from resource_sharing_adapters.http._validation import ACTION_BODIES, ENDPOINTS, parse_json

STAFF = {"Authorization": "Bearer t0ken"}
PATRON = {"id": "p-1", "name": "Ada"}
BOOK = {"title": "TAOCP", "item_ids": [{"code": "ISBN", "value": "9780201896831"}]}


def _config() -> dict[str, Any]:
    return {
        "institution": {"agency": "ISIL:US-A"},
        "server": {"staff_token": "t0ken"},
        "store": {"memory": True},
        "partners": [{"agency": "ISIL:US-C", "inbound": {"authorization": "Bearer c"}}],
    }


@pytest.fixture
def node() -> Iterator[Node]:
    made = Node(parse_config(_config()))
    yield made
    made.close()


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node, background=False)) as made:
        yield made


def _place(client: TestClient, **extra: Any) -> Any:
    body = {"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-C"], **extra}
    return client.post("/staff/borrowing/requests", json=body, headers=STAFF)


def _refused(answer: Any, field: str) -> None:
    assert answer.status_code == 400, answer.text
    shown = answer.json()
    assert shown["error"] == "InvalidInput"
    assert shown["detail"].startswith(f"{field}:"), shown["detail"]
    assert "Traceback" not in answer.text


def test_a_huge_limit_is_a_400_not_an_overflow(client: TestClient) -> None:
    answer = client.get(
        "/staff/tasks/pick_from_shelf", params={"limit": "99999999999999999999"}, headers=STAFF
    )
    _refused(answer, "limit")


def test_a_deeply_nested_body_is_a_400_not_a_recursion_error(
    client: TestClient, node: Node
) -> None:
    body = b'{"patron": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = client.post(
        "/staff/borrowing/requests",
        content=body,
        headers={**STAFF, "Content-Type": "application/json"},
    )
    _refused(answer, "body")
    assert "nested too deeply" in answer.json()["detail"]
    assert node.feed.last == 0


def test_an_object_where_a_string_belongs_is_a_400_naming_it(
    client: TestClient, node: Node
) -> None:
    _refused(_place(client, pickup_location={"desk": "Main"}), "pickup_location")
    assert node.feed.last == 0


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufffe", "\n"])
def test_a_control_character_in_a_citation_is_refused_and_nothing_is_stored(
    client: TestClient, node: Node, char: str
) -> None:
    answer = _place(client, citation={**BOOK, "title": f"TAOCP{char}vol. 1"})
    _refused(answer, "citation.title")
    assert node.feed.last == 0
    assert node.outbox() == []


def test_free_text_may_carry_line_breaks_but_no_other_control(client: TestClient) -> None:
    assert _place(client, note="first line\nsecond line\tand a tab").status_code == 201
    _refused(_place(client, note="bell\x07"), "note")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (
            {"citation": {**BOOK, "item_ids": [{"code": "ISBN", "value": {"x": 1}}]}},
            "citation.item_ids[0].value",
        ),
        ({"rota": ["ISIL:US-C", ["nested"]]}, "rota[1]"),
        ({"rota": ["has space"]}, "rota[0]"),
        ({"max_cost": {"amount": "1e999999", "currency": "EUR"}}, "max_cost.amount"),
        ({"max_cost": {"amount": "NaN", "currency": "EUR"}}, "max_cost.amount"),
        ({"max_cost": {"amount": 10, "currency": "euro"}}, "max_cost.currency"),
        ({"need_before": "9999-12-31"}, "need_before"),
        ({"need_before": 20260930}, "need_before"),
        ({"service_type": "Teleport"}, "service_type"),
        ({"patron": {"id": ""}}, "patron.id"),
        ({"patron": {"name": "no id"}}, "patron.id"),
        ({"citation": {**BOOK, "title": "x" * 1001}}, "citation.title"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_anything_beyond_the_schema_is_a_400_naming_the_field(
    client: TestClient, node: Node, extra: dict[str, Any], field: str
) -> None:
    _refused(_place(client, **extra), field)
    assert node.feed.last == 0


def test_a_complete_valid_request_is_placed(client: TestClient) -> None:
    answer = _place(
        client,
        pickup_location="Main desk",
        note="for the seminar",
        max_cost={"amount": "12.50", "currency": "EUR"},
        need_before="2026-12-24",
        service_type="Loan",
    )
    assert answer.status_code == 201, answer.text


def test_action_bodies_are_checked_by_the_action_schema(client: TestClient) -> None:
    placed = _place(client).json()
    path = f"/staff/borrowing/{placed['id']}/cancel"
    _refused(client.post(path, json={"by": "robot"}, headers=STAFF), "by")
    _refused(client.post(path, json={"reason": ["x"]}, headers=STAFF), "reason")
    unknown = client.post(f"/staff/borrowing/{placed['id']}/fly", json={}, headers=STAFF)
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/staff/changes", {"since": "-1"}, "since"),
        ("/staff/changes", {"since": "1.5"}, "since"),
        ("/staff/journal", {"since": "x"}, "since"),
        ("/staff/outbox", {"status": "lost"}, "status"),
        ("/staff/find", {"side": "borrowing", "protocol_id": "x"}, "counterpart"),
        ("/staff/tasks/pick_from_shelf", {"offset": "-5"}, "offset"),
        ("/staff/tasks/pick_from_shelf", {"desk": "a\x00b"}, "desk"),
    ],
)
def test_query_parameters_are_checked(
    client: TestClient, path: str, params: dict[str, str], field: str
) -> None:
    _refused(client.get(path, params=params, headers=STAFF), field)


def test_every_staff_route_refuses_an_unknown_query_parameter(
    client: TestClient, node: Node
) -> None:
    app = create_app(node, background=False)
    staff = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/staff")]
    assert staff
    for route in staff:
        path = route.path.format(
            side="borrowing",
            id="x",
            action="cancel",
            task_list="check_in",
            task_id="t-1",
            choice="drop",
        )
        method = sorted(route.methods or {"GET"} - {"HEAD"})[0]
        answer = client.request(method, path, params={"sneaky": "1"}, headers=STAFF)
        _refused(answer, "sneaky")


def test_every_handler_and_action_has_a_schema() -> None:
    assert set(ACTION_BODIES) == set(ACTIONS)
    for key, (_, params) in ACTIONS.items():
        assert set(ACTION_BODIES[key].fields) == set(params), key
    for name in ("place", "act", "tasks", "find", "scan", "clock", "local_hold", "resolve_task"):
        assert name in ENDPOINTS


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": 1, "a": 2}', "given twice"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"a": 1', "not valid JSON"),
        (b"1" * 5000, "not valid JSON"),
    ],
)
def test_json_is_read_strictly(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_json(raw)
