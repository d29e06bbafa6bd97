"""The console's pages through Starlette's test client: sessions, CSRF, roles, refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from resource_sharing.effects import TaskList
from resource_sharing.ports import StaffTask, TaskChoice
from resource_sharing.records import AgencyId, Citation, PatronRef, Side
from resource_sharing_adapters.console import Accounts, MemoryAccountStore, Role, create_console
from resource_sharing_adapters.http import Node, create_app, parse_config

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CONFIG: dict[str, Any] = {
    "institution": {"agency": "ISIL:US-C"},
    "server": {"staff_token": "t0ken"},
    "store": {"memory": True},
    "clock": {"start": "2026-09-07T09:00:00+00:00", "adjustable": True},
    "partners": [
        {"agency": "ISIL:US-A", "inbound": {"account_id": "US-A", "security_code": "s3cret"}}
    ],
    "holdings": [{"identifier": "9780201896831", "barcode": "C-1", "desk": "Main"}],
}


@pytest.fixture
def node() -> Iterator[Node]:
    made = Node(parse_config(CONFIG))
    yield made
    made.close()


@pytest.fixture
def accounts(node: Node) -> Accounts:
    from resource_sharing_adapters.console import accounts_of

    made = accounts_of(node)
    made._hasher = FAST  # quick hashes in tests
    made.add("ada", "correct horse", [Role.BORROWING], desk="Main", display_name="Ada")
    made.add("lee", "correct horse", [Role.LENDING], desk="Main")
    return made


@pytest.fixture
def client(node: Node, accounts: Accounts) -> Iterator[TestClient]:
    with TestClient(create_app(node, background=False)) as made:
        yield made


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, html
    return found.group(1)


def _error(html: str) -> str:
    found = re.search(r'class="error"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def login(client: TestClient, user: str, password: str = "correct horse") -> Any:
    page = client.get("/login")
    return client.post(
        "/login", data={"csrf": _csrf(page.text), "username": user, "password": password}
    )


def test_pages_need_a_login_and_the_login_form_its_token(client: TestClient) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    refused = client.post("/login", data={"username": "ada", "password": "correct horse"})
    assert refused.status_code == 403
    assert "security token" in _error(refused.text)
    home = login(client, "ada")
    assert home.status_code == 200
    assert "Home" in home.text
    assert "Ada" in home.text
    cookie = home.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, node: Node
) -> None:
    login(client, "ada")
    before = node.feed.last
    answer = client.post("/borrowing/new", data={"patron_id": "p", "title": "T", "send": "1"})
    assert answer.status_code == 403
    assert "CSRF" in _error(answer.text)
    answer = client.post(
        "/borrowing/new", data={"patron_id": "p", "title": "T", "send": "1", "csrf": "forged"}
    )
    assert answer.status_code == 403
    assert node.feed.last == before


def test_roles_limit_pages_and_actions(client: TestClient) -> None:
    login(client, "ada")
    answer = client.get("/lending/monitor")
    assert answer.status_code == 403
    assert "lending staff role" in _error(answer.text)
    assert client.get("/tasks/pick_from_shelf").status_code == 403
    assert "Pick From Shelf" not in client.get("/").text
    assert client.get("/borrowing/new").status_code == 200


def test_repeated_failures_lock_the_account(client: TestClient) -> None:
    for _ in range(4):
        assert "Wrong user name or password" in _error(login(client, "lee", "bad password").text)
    locked = login(client, "lee", "bad password")
    assert locked.status_code == 401
    assert "locked after 5 failed logins" in _error(locked.text)
    still = login(client, "lee")
    assert "locked" in _error(still.text)


def test_a_session_expires_on_the_nodes_clock(client: TestClient, node: Node) -> None:
    login(client, "ada")
    assert client.get("/", follow_redirects=False).status_code == 200
    node.clock.advance(timedelta(hours=8, seconds=1))
    answer = client.get("/", follow_redirects=False)
    assert answer.headers["location"] == "/login?why=expired"
    assert "session has expired" in client.get("/login?why=expired").text


def test_logout_ends_the_session(client: TestClient) -> None:
    home = login(client, "ada")
    cookie = client.cookies.get("rs_console_ISIL_US_C")
    client.post("/logout", data={"csrf": _csrf(home.text)})
    client.cookies.set("rs_console_ISIL_US_C", cookie or "")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_new_request_shows_its_rota_then_is_placed(client: TestClient, node: Node) -> None:
    page = login(client, "ada")
    form = {"csrf": _csrf(page.text), "patron_id": "p-1", "patron_name": "Pat", "title": "Book"}
    preview = client.post("/borrowing/new", data={**form, "rota": "ISIL:US-A", "send": "0"})
    assert "The rota this request will get" in preview.text
    assert "from staff rota" in preview.text
    placed = client.post(
        "/borrowing/new", data={**form, "rota": "ISIL:US-A", "send": "1"}, follow_redirects=False
    )
    assert placed.status_code == 303
    detail = client.get(placed.headers["location"])
    assert "Book" in detail.text
    assert "History" in detail.text


def test_refusals_are_said_in_words(client: TestClient, node: Node) -> None:
    page = login(client, "ada")
    token = _csrf(page.text)
    bad = client.post(
        "/borrowing/new", data={"csrf": token, "patron_id": "p\x07", "title": "T", "send": "1"}
    )
    assert bad.status_code == 400
    assert "control character" in _error(bad.text)
    assert "Traceback" not in bad.text
    missing = client.get("/requests/borrowing/nope")
    assert missing.status_code == 404
    assert _error(missing.text)
    placed = client.post(
        "/borrowing/new",
        data={"csrf": token, "patron_id": "p", "title": "T", "rota": "ISIL:US-A", "send": "1"},
        follow_redirects=False,
    )
    rid = placed.headers["location"].rsplit("/", 1)[1]
    refused = client.post(f"/requests/borrowing/{rid}/check-out", data={"csrf": token})
    assert refused.status_code == 409
    assert _error(refused.text).startswith("Not possible now")
    unknown = client.post("/scan/return", data={"csrf": token, "barcode": "NOPE"})
    assert unknown.status_code in (400, 404)
    assert _error(unknown.text)


def test_only_the_actions_the_table_allows_are_offered(client: TestClient, node: Node) -> None:
    page = login(client, "ada")
    placed = client.post(
        "/borrowing/new",
        data={
            "csrf": _csrf(page.text),
            "patron_id": "p",
            "title": "T",
            "rota": "ISIL:US-A",
            "send": "1",
        },
        follow_redirects=False,
    )
    rid = placed.headers["location"].rsplit("/", 1)[1]
    detail = client.get(placed.headers["location"]).text
    record = node.institution.get(Side.BORROWING, rid)
    assert f"/requests/borrowing/{rid}/cancel" in detail
    assert f"/requests/borrowing/{rid}/check-out" not in detail
    assert record.state.value in detail or "Request sent" in detail


def test_the_console_alone_is_an_app(node: Node) -> None:
    accounts = Accounts(MemoryAccountStore(), hasher=FAST)
    accounts.add("zed", "correct horse", [Role.ADMIN])
    with TestClient(create_console(node, accounts)) as client:
        assert "Home" in login(client, "zed").text


def test_documents_and_delivery_problems_pages(client: TestClient, node: Node) -> None:
    page = login(client, "lee")
    problems = client.get("/problems")
    assert problems.status_code == 200
    assert "No delivery waits for a decision" in problems.text
    assert client.get("/tasks/delivery_problems", follow_redirects=False).status_code == 303
    refused = client.post("/problems/nope", data={"csrf": _csrf(page.text), "choice": "drop"})
    assert refused.status_code == 404
    assert _error(refused.text)
    wrong = client.post("/problems/nope", data={"csrf": _csrf(page.text), "choice": "burn"})
    assert wrong.status_code == 400
    assert "retry now" in _error(wrong.text)
    missing = client.get("/documents/lending/nope/pick_slip.pdf")
    assert missing.status_code == 404
    assert _error(missing.text)
    odd = client.get("/documents/lending/nope/pick_slip.docx")
    assert odd.status_code == 404


def test_the_problems_page_shows_every_stored_task_list_with_its_choices(
    client: TestClient, node: Node
) -> None:
    page = login(client, "ada")
    placed = node.institution.borrowing.place_request(
        PatronRef("p-1", "Ada Lovelace"), Citation(title="Hamlet"), rota=[AgencyId("ISIL:US-A")]
    )
    now = node.clock.now()
    tasks = [
        StaffTask(
            id="task-step",
            side=Side.BORROWING,
            request_id=placed.id,
            task_list=TaskList.OUT_OF_STEP,
            title="Out of step with ISIL:US-A: it reports LoanCompleted, we have sent",
            error="suggested: ask the lender what it shipped",
            created_at=now,
            choices=(TaskChoice.DONE_BY_HAND, TaskChoice.DROP),
        ),
        StaffTask(
            id="task-misfit",
            side=Side.BORROWING,
            request_id=placed.id,
            task_list=TaskList.PEER_MESSAGES,
            title="ISIL:US-A sent Overdue, which does not apply now",
            error="'Overdue' does not apply now: the request is 'Request sent to partner'",
            created_at=now,
            choices=(TaskChoice.IGNORE, TaskChoice.ASK_STATUS),
        ),
    ]
    with node.store.transaction() as uow:
        for task in tasks:
            uow.tasks.add(task)
    assert "2 problems to decide" in client.get("/").text
    shown = client.get("/problems").text
    for heading in ("Delivery problems", "Messages that did not fit", "Out of step with partner"):
        assert heading in shown
    assert "No delivery waits for a decision" in shown
    assert "it reports LoanCompleted, we have sent" in shown
    assert "suggested: ask the lender what it shipped" in shown
    assert ">Done by hand</button>" in shown
    assert ">Ask status</button>" in shown
    assert ">Ignore</button>" in shown
    settled = client.post(
        "/problems/task-step", data={"csrf": _csrf(page.text), "choice": "drop", "note": "ok"}
    )
    assert settled.status_code == 200  # back on the page
    done = node.institution.task_desk.get("task-step")
    assert done.resolution is not None
    assert done.resolution.by.name == "ada"
    assert "it reports LoanCompleted" not in client.get("/problems").text
