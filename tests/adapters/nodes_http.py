"""Real ISO 18626 nodes on loopback for the HTTP tests: uvicorn servers in threads.

:class:`Cluster` starts institutions (SQLite stores in a temporary directory, fast
retries), each on a free 127.0.0.1 port, with a staff client per node; nodes can be
stopped and started again on the same port and store (a node down and then back).
Everything is bounded in time: :func:`wait_until` raises after its timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from resource_sharing_adapters.http import (
    Node,
    NodeConfig,
    StaffClient,
    create_app,
    parse_config,
    server_config,
)

T = TypeVar("T")

STAFF_TOKEN = "staff-token"
FAST_DELIVERY = {
    "timeout_seconds": 5.0,
    "max_attempts": 200,
    "retry_base_seconds": 0.1,
    "retry_max_seconds": 0.5,
    "dispatch_interval_seconds": 0.1,
    "tick_interval_seconds": 3600.0,
}
"""Short timeouts and fast retries: a test node delivers within a second or two."""
START = "2026-09-07T09:00:00Z"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], T | None], *, timeout: float = 15.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception as exc:  # a transient failure is just another "not yet"
            last = exc
        else:
            last = found
            if found:
                return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last {last!r}")


def secret(sender: str, receiver: str) -> str:
    """The security code ``sender`` presents to ``receiver``."""
    return f"{sender}-to-{receiver}-secret"


class ServerThread:
    """A uvicorn server running one node in a thread."""

    def __init__(self, node: Node, port: int) -> None:
        self.node = node
        self.port = port
        # the same uvicorn settings as ``serve``: its connection limits and h11 protocol
        config = server_config(
            create_app(node), node.config, host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=10, what=f"server on {self.port}")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.node.close()


class Cluster:
    """Institutions on loopback ports, each with a staff client."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports: dict[str, int] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        self.servers: dict[str, ServerThread] = {}
        self.staff: dict[str, StaffClient] = {}

    def define(
        self,
        name: str,
        peers: list[str],
        *,
        holdings: list[dict[str, Any]] | None = None,
        lending: Mapping[str, Any] | None = None,
        borrowing: Mapping[str, Any] | None = None,
        institution: Mapping[str, Any] | None = None,
        delivery: Mapping[str, Any] | None = None,
    ) -> None:
        """Describe an institution ``name`` (agency ``ISIL:<name>``) and its partners."""
        port = self.ports.setdefault(name, free_port())
        for peer in peers:
            self.ports.setdefault(peer, free_port())
        partners = [
            {
                "agency": f"ISIL:{peer}",
                "name": peer,
                "protocol": {"endpoint": f"http://127.0.0.1:{self.ports[peer]}/iso18626"},
                "inbound": {"account_id": peer, "security_code": secret(peer, name)},
                "outbound": {"account_id": name, "security_code": secret(name, peer)},
            }
            for peer in peers
        ]
        self.tables[name] = {
            "institution": {"agency": f"ISIL:{name}", "name": name, **(institution or {})},
            "server": {"port": port, "staff_token": STAFF_TOKEN},
            "store": {"sqlite": str(self.root / f"{name}.sqlite3")},
            "delivery": {**FAST_DELIVERY, **(delivery or {})},
            "clock": {"start": START, "adjustable": True},
            "lending": dict(lending or {}),
            "borrowing": dict(borrowing or {}),
            "partners": partners,
            "holdings": list(holdings or []),
        }

    def config(self, name: str) -> NodeConfig:
        return parse_config(self.tables[name], base=self.root)

    def start(self, name: str) -> Node:
        """Start (or restart) one institution's server."""
        node = Node(self.config(name))
        server = ServerThread(node, self.ports[name])
        server.start()
        self.servers[name] = server
        if name not in self.staff:
            self.staff[name] = StaffClient(f"http://127.0.0.1:{self.ports[name]}", STAFF_TOKEN)
        return node

    def stop(self, name: str) -> None:
        """Stop one institution's server (its store stays on disk)."""
        self.servers.pop(name).stop()

    def node(self, name: str) -> Node:
        return self.servers[name].node

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/iso18626"

    def close(self) -> None:
        for name in list(self.servers):
            self.stop(name)
        for client in self.staff.values():
            client.close()

    def advance(self, seconds: float) -> None:
        """Move every running node's clock forward."""
        for name in self.servers:
            self.staff[name].advance_clock(seconds)

    def state(self, name: str, side: str, request_id: str) -> str:
        return str(self.staff[name].request(side, request_id)["state"])

    def wait_state(
        self, name: str, side: str, request_id: str, state: str, timeout: float = 15.0
    ) -> dict[str, Any]:
        """Wait until the request is in ``state``; returns its staff view."""

        def check() -> dict[str, Any] | None:
            shown = self.staff[name].request(side, request_id)
            return shown if shown["state"] == state else None

        return wait_until(check, timeout=timeout, what=f"{name} {side} {request_id} {state}")

    def lending_id(self, lender: str, borrower: str, protocol_id: str) -> str:
        """The lender's id of the request the borrower names ``protocol_id`` (waits)."""
        return wait_until(
            lambda: self.staff[lender].find("lending", protocol_id, f"ISIL:{borrower}"),
            what=f"{lender}'s request {protocol_id}",
        )

    def settled(self, timeout: float = 15.0) -> None:
        """Wait until no node has a pending outbox message."""
        wait_until(
            lambda: all(not self.staff[n].outbox("pending") for n in self.servers),
            timeout=timeout,
            what="every outbox to empty",
        )


@contextmanager
def cluster(root: Path) -> Iterator[Cluster]:
    """A cluster that stops every server at the end, whatever happened."""
    made = Cluster(root)
    try:
        yield made
    finally:
        made.close()


BOOK = {
    "title": "The Art of Computer Programming",
    "author": "Knuth, Donald",
    "item_ids": [{"code": "ISBN", "value": "978-0-201-89683-1"}],
}
PATRON = {"id": "p-1", "name": "Ada Lovelace", "group": "faculty", "email": "ada@example.org"}
HOLDING = {
    "identifier": "9780201896831",
    "barcode": "C-39001",
    "call_number": "QA76 .K6",
    "location": "Stacks level 2",
    "desk": "Main desk",
}


def seed_cluster(root: Path) -> Cluster:
    """Borrower A, lender B (answers Unfilled at once), lender C (holds the book)."""
    made = Cluster(root)
    made.define("US-A", ["US-B", "US-C"])
    made.define("US-B", ["US-A", "US-C"], lending={"auto_reject_not_held": True})
    made.define("US-C", ["US-A", "US-B"], holdings=[HOLDING])
    return made
