"""Real ``resource-sharing serve`` processes: several on one store, killed and restarted.

The lender US-C runs as child processes whose configuration names a flaky host system
(``port_factories:flaky_circulation`` / ``flaky_printer``: every effect fails its first
attempts, and every attempt is logged to a file the processes share). The test is the
borrower: it posts ISO 18626 requests to C's endpoints and works C's desks through the
staff APIs; C's messages to the borrower go to a port where nothing listens (they stay
pending, and are not what is checked).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from resource_sharing.messages import Authentication, Header, Request
from resource_sharing.records import AgencyId, Citation, Identifier
from resource_sharing_adapters.http import StaffClient
from resource_sharing_adapters.iso18626 import encode
from tests.adapters.http.port_factories import read_log
from tests.adapters.nodes_http import free_port, wait_until

URL = os.environ.get("RS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[3]
SERVE = "import sys; from resource_sharing_adapters.cli import main; sys.exit(main())"
A, C = AgencyId("US-A"), AgencyId("US-C")
TOKEN = "staff-token"
SECRET = "US-A-to-US-C-secret"
HOST_PORTS = ("circulation", "printer")  # the flaky ports


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_config(
    path: Path,
    port: int,
    store: dict[str, Any],
    ports: dict[str, Any],
    extra: dict[str, dict[str, Any]] | None = None,
) -> None:
    tables: dict[str, dict[str, Any]] = {
        "institution": {"agency": "ISIL:US-C", "name": "Gamma"},
        "server": {"port": port, "staff_token": TOKEN},
        "store": store,
        "delivery": {
            "max_attempts": 50,
            "retry_base_seconds": 0.05,
            "retry_max_seconds": 0.2,
            "dispatch_interval_seconds": 0.05,
            "tick_interval_seconds": 3600.0,
            "lease_seconds": 600.0,  # only a process's own release frees a claim soon
        },
        "delivery.peer": {"max_attempts": 10_000, "retry_base_seconds": 1.0},
        "clock": {"start": "2026-09-07T09:00:00Z"},
        **{f"ports.{name}": settings for name, settings in ports.items()},
    }
    for name, table in (extra or {}).items():
        tables[name] = {**tables.get(name, {}), **table}
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
        lines.append("")
    lines += [
        "[[partners]]",
        'agency = "ISIL:US-A"',
        f'protocol = {{ endpoint = "http://127.0.0.1:{free_port()}/iso18626" }}',
        f'inbound = {{ account_id = "US-A", security_code = "{SECRET}" }}',
        "",
        "[[holdings]]",
        'identifier = "9780201896831"',
        'barcode = "C-39001"',
        'desk = "Main desk"',
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


class Serve:
    """One ``resource-sharing serve`` child process (its output in ``<name>.log``)."""

    def __init__(self, root: Path, name: str, config: Path, port: int) -> None:
        self.root, self.name, self.config, self.port = root, name, config, port
        self.child: subprocess.Popen[bytes] | None = None
        self.staff = StaffClient(f"http://127.0.0.1:{port}", TOKEN)

    def start(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        with (self.root / f"{self.name}.log").open("ab") as log:
            self.child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    SERVE,
                    "serve",
                    "--config",
                    str(self.config),
                    "--log-level",
                    "warning",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        wait_until(self._healthy, timeout=60, what=f"{self.name} on {self.port}")

    def _healthy(self) -> bool:
        assert self.child is not None
        if self.child.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.log()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return (self.root / f"{self.name}.log").read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.child is not None
        os.kill(self.child.pid, signal.SIGKILL)
        self.child.wait(30)
        assert self.child.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(15)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait(10)
        self.staff.close()

    def post_request(self, rid: str) -> None:
        """The borrower's ISO 18626 request ``rid`` for the book C holds."""
        header = Header(
            A,
            C,
            rid,
            datetime(2026, 9, 7, 9, tzinfo=UTC),
            authentication=Authentication("US-A", SECRET),
        )
        citation = Citation(title="TAOCP", item_ids=(Identifier("ISBN", "9780201896831"),))
        answer = httpx.post(
            f"http://127.0.0.1:{self.port}/iso18626",
            content=encode(Request(header, citation)),
            headers={"Content-Type": "application/xml"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert b"OK" in answer.content, answer.text

    def lending_id(self, rid: str) -> str:
        return wait_until(lambda: self.staff.find("lending", rid, "ISIL:US-A"), what=rid)

    def wait_state(self, request_id: str, state: str) -> None:
        wait_until(
            lambda: self.staff.request("lending", request_id)["state"] == state,
            timeout=30,
            what=f"{request_id} {state}",
        )


def _host_entries(node: Serve, status: str | None = None) -> list[dict[str, Any]]:
    return [m for m in node.staff.outbox(status) if m["port"] in HOST_PORTS]


def _delivered(log: list[dict[str, Any]]) -> list[str]:
    return [line["key"] for line in log if line["event"] == "delivered"]


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    try:
        psycopg.connect(URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL at {URL}: {exc}")
        pytest.skip(f"PostgreSQL at {URL} is unreachable ({exc}); set RS_POSTGRES_URL")
    name = f"rs_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(URL, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _flaky(log: str, **extra: Any) -> dict[str, Any]:
    return {
        "circulation": {
            "factory": "tests.adapters.http.port_factories:flaky_circulation",
            "log": log,
            **extra,
        },
        "printer": {
            "factory": "tests.adapters.http.port_factories:flaky_printer",
            "log": log,
            "fail_first": 2,
        },
    }


@pytest.mark.postgres
def test_two_processes_on_one_schema_deliver_each_effect_once_and_share_one_feed(
    tmp_path: Path, postgres_schema: str
) -> None:
    store = {"postgres": URL, "schema": postgres_schema}
    nodes = []
    for n in (1, 2):
        port = free_port()
        _write_config(tmp_path / f"c{n}.toml", port, store, _flaky("host.log", fail_first=2))
        nodes.append(Serve(tmp_path, f"c{n}", tmp_path / f"c{n}.toml", port))
    try:
        for node in nodes:
            node.start()
        rids = [f"a-{n}" for n in range(6)]
        for n, rid in enumerate(rids):  # requests arrive at either process
            nodes[n % 2].post_request(rid)
        ids = [nodes[0].lending_id(rid) for rid in rids]
        for n, request_id in enumerate(ids):  # and staff work at either
            nodes[n % 2].wait_state(request_id, "pick_from_shelf")
            nodes[(n + 1) % 2].staff.act("lending", request_id, "pick")
            nodes[n % 2].staff.act("lending", request_id, "ship")
        wait_until(
            lambda: not _host_entries(nodes[0], "pending"), timeout=60, what="the host effects"
        )
        log = read_log(tmp_path / "host.log")
        delivered = _delivered(log)
        entries = _host_entries(nodes[1])
        # Each effect once: every entry of the host's ports delivered, by exactly one line.
        assert sorted(delivered) == sorted(m["id"] for m in entries)
        assert len(delivered) == len(set(delivered))
        assert {m["status"] for m in entries} == {"delivered"}
        assert {m["kind"] for m in entries} >= {"PrintPickSlip", "CheckOutToPartner"}
        # No two dispatchers tried one entry at once: each key failed twice, then went.
        for key in delivered:
            events = [line["event"] for line in log if line["key"] == key]
            assert events == ["attempt", "refused", "attempt", "refused", "attempt", "delivered"]
        # One change feed and one journal, whichever process is asked.
        feeds = [node.staff.changes(0) for node in nodes]
        assert feeds[0] == feeds[1]
        assert [c["seq"] for c in feeds[0]] == list(range(1, len(feeds[0]) + 1))
        assert {c["request_id"] for c in feeds[0]} == set(ids)
        journals = [node.staff.journal(0) for node in nodes]
        assert journals[0] == journals[1]
        assert sorted(e["key"] for e in journals[0] if e["key"] in delivered) == sorted(delivered)
    finally:
        for node in nodes:
            node.stop()


@pytest.mark.postgres
def test_two_processes_on_one_schema_fire_each_timer_once(
    tmp_path: Path, postgres_schema: str
) -> None:
    store = {"postgres": URL, "schema": postgres_schema}
    extra = {
        "institution": {"auto_locate": False},  # new requests wait, their expiry timer set
        "clock": {"adjustable": True},
    }
    nodes = []
    for n in (1, 2):
        port = free_port()
        config = tmp_path / f"c{n}.toml"
        _write_config(config, port, store, _flaky("host.log"), extra)
        nodes.append(Serve(tmp_path, f"c{n}", config, port))
    try:
        for node in nodes:
            node.start()
        rids = [f"a-{n}" for n in range(4)]
        for n, rid in enumerate(rids):
            nodes[n % 2].post_request(rid)
        ids = [nodes[0].lending_id(rid) for rid in rids]
        for request_id in ids:
            nodes[0].wait_state(request_id, "new")
        for node in nodes:  # each process has its own clock: both move past the expiry
            node.staff.advance_clock(14 * 86_400)
        start = threading.Barrier(2)
        fired: list[int] = []

        def tick(node: Serve) -> None:
            start.wait(timeout=30)
            fired.append(node.staff.tick())

        threads = [threading.Thread(target=tick, args=(node,)) for node in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sum(fired) == len(ids)  # between them, each timer once
        for request_id in ids:
            shown = nodes[1].staff.request("lending", request_id)
            assert shown["state"] == "expired"
            steps = [h for h in shown["history"] if h["to_state"] == "expired"]
            assert len(steps) == 1
        feeds = [node.staff.changes(0) for node in nodes]
        assert feeds[0] == feeds[1]
        expired = [c["request_id"] for c in feeds[0] if c["state"] == "expired"]
        assert sorted(expired) == sorted(ids)
    finally:
        for node in nodes:
            node.stop()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_node_killed_between_commit_and_delivery_delivers_once_at_once_after_restart(
    tmp_path: Path, request: pytest.FixtureRequest, engine: str
) -> None:
    if engine == "postgres":
        store: dict[str, Any] = {
            "postgres": URL,
            "schema": request.getfixturevalue("postgres_schema"),
        }
    else:
        store = {"sqlite": "c.sqlite3"}
    port = free_port()
    config = tmp_path / "c.toml"
    ports = _flaky("host.log", block_once="blocked", block_command="CheckOutToPartner")
    _write_config(config, port, store, ports)
    node = Serve(tmp_path, "c", config, port)
    try:
        node.start()
        node.post_request("a-1")
        request_id = node.lending_id("a-1")
        node.wait_state(request_id, "pick_from_shelf")
        node.staff.act("lending", request_id, "pick")
        node.staff.act("lending", request_id, "ship")  # committed with its CheckOutToPartner
        marker = tmp_path / "blocked"
        wait_until(marker.exists, timeout=60, what="the check-out to reach the host")
        key = marker.read_text(encoding="utf-8")
        before = node.staff.info()
        journal_before = node.staff.journal(0)
        node.kill()  # in the middle of delivering it: claimed, not marked

        node.start()
        wait_until(
            lambda: key in _delivered(read_log(tmp_path / "host.log")),
            timeout=60,  # far below the 600 s lease: the restarted owner released its claim
            what="the check-out after the restart",
        )
        log = read_log(tmp_path / "host.log")
        assert [line["event"] for line in log if line["key"] == key] == [
            "attempt",
            "attempt",
            "delivered",
        ]
        assert _delivered(log).count(key) == 1
        wait_until(lambda: not _host_entries(node, "pending"), timeout=60, what="the rest")
        assert {m["status"] for m in _host_entries(node)} == {"delivered"}
        # The journal has it once; the feed and journal continue their numbers.
        node.post_request("a-2")  # a new request: a new step and a new pick slip
        node.wait_state(node.lending_id("a-2"), "pick_from_shelf")
        wait_until(lambda: not _host_entries(node, "pending"), timeout=60, what="its slip")
        journal = node.staff.journal(0)
        assert journal[: len(journal_before)] == journal_before
        assert [e["key"] for e in journal].count(key) == 1
        assert [e["seq"] for e in journal] == list(range(1, len(journal) + 1))
        fresh = node.staff.changes(before["changes"])
        assert fresh
        assert fresh[0]["seq"] == before["changes"] + 1
        assert node.staff.info()["journal"] > before["journal"]
    finally:
        node.stop()


def test_a_delivery_task_survives_a_sigkill_and_is_resolved_after_the_restart(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = tmp_path / "c.toml"
    ports = _flaky("host.log")
    ports["printer"]["fail_first"] = 1_000  # the printer never prints: the slip gives up
    retries = {"delivery.printer": {"max_attempts": 2}}
    _write_config(config, port, {"sqlite": "c.sqlite3"}, ports, retries)
    node = Serve(tmp_path, "c", config, port)
    try:
        node.start()
        node.post_request("a-1")
        request_id = node.lending_id("a-1")
        (task,) = wait_until(
            lambda: node.staff.get("/staff/delivery-tasks") or None, timeout=60, what="a task"
        )
        assert (task["request_id"], task["port"], task["attempts"]) == (request_id, "printer", 2)
        node.kill()

        node.start()
        assert node.staff.get("/staff/delivery-tasks") == [task]
        done = node.staff.post(
            f"/staff/delivery-tasks/{task['id']}/mark-done", {"by": "alice", "note": "by hand"}
        )
        assert done["resolution"]["by"] == "staff:alice"
        assert node.staff.get("/staff/delivery-tasks") == []
        history = node.staff.request("lending", request_id)["history"]
        assert [h["actor"] for h in history if h["event"] == "ResolveTask"] == ["staff:alice"]
    finally:
        node.stop()
