"""A real ``resource-sharing serve`` process on loopback, for the hardening tests.

:func:`served` writes a TOML configuration (one lender, US-C, with partner US-A; a
memory store), starts ``serve --log-level debug`` in a child process with its output in
a log file, waits for ``/health`` and stops the child at the end (terminate, then
kill), whatever happened. Every wait is bounded.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from resource_sharing.messages import Authentication, Header, Request
from resource_sharing.records import AgencyId, Citation, Identifier
from resource_sharing_adapters.iso18626 import encode

SERVE_CLI = "import sys; from resource_sharing_adapters.cli import main; sys.exit(main())"
STAFF_TOKEN = "staff-token-for-tests"
SECRET = "a-to-c-secret"
A, C = AgencyId("US-A"), AgencyId("US-C")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def toml(tables: Mapping[str, Mapping[str, Any]], partners: list[Mapping[str, Any]]) -> str:
    """A small TOML writer: tables of plain values, then ``[[partners]]``."""
    lines: list[str] = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
        lines.append("")
    for partner in partners:
        lines.append("[[partners]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in partner.items())
        lines.append("")
    return "\n".join(lines)


def request_body(request_id: str, code: str = SECRET, sender: AgencyId = A) -> bytes:
    """An ISO 18626 request from ``sender`` to US-C."""
    header = Header(
        sender,
        C,
        request_id,
        datetime.now(UTC),
        authentication=Authentication(sender.value, code),
    )
    citation = Citation(title="TAOCP", item_ids=(Identifier("ISBN", "9780201896831"),))
    return encode(Request(header, citation))


class Served:
    """One running ``serve`` child: its port, base URL, log and configuration file."""

    def __init__(self, root: Path, port: int, scheme: str) -> None:
        self.root = root
        self.port = port
        self.base_url = f"{scheme}://127.0.0.1:{port}"
        self.log_path = root / "serve.log"
        self.child: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ISO 18626 endpoint."""
        return f"{self.base_url}/iso18626"

    def log(self) -> str:
        """What the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def connect(self, timeout: float = 5.0) -> socket.socket:
        """A raw TCP connection to the server."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


def _wait_ready(served: Served, verify: ssl.SSLContext | bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    assert served.child is not None
    while time.monotonic() < deadline:
        if served.child.poll() is not None:
            raise RuntimeError(f"serve exited with {served.child.returncode}: {served.log()}")
        try:
            answer = httpx.get(f"{served.base_url}/health", timeout=1.0, verify=verify)
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"serve is not listening on {served.port}: {served.log()}")


@contextmanager
def served(
    root: Path,
    *,
    server: Mapping[str, Any] | None = None,
    limits: Mapping[str, Any] | None = None,
    tls: Mapping[str, Any] | None = None,
    security: Mapping[str, Any] | None = None,
    partner: Mapping[str, Any] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> Iterator[Served]:
    """Run ``serve`` for US-C (partner US-A) with these tables; stop it at the end."""
    port = free_port()
    made = Served(root, port, "https" if tls else "http")
    tables: dict[str, Mapping[str, Any]] = {
        "institution": {"agency": "ISIL:US-C", "auto_locate": False},
        "server": {"port": port, "staff_token": STAFF_TOKEN, **(server or {})},
        "store": {"memory": True},
    }
    if limits is not None:
        tables["server.limits"] = limits
    if tls is not None:
        tables["server.tls"] = tls
    if security is not None:
        tables["security"] = security
    entry = {"agency": "ISIL:US-A", "inbound": {"account_id": "US-A", "security_code": SECRET}}
    config = root / "node.toml"
    config.write_text(toml(tables, [{**entry, **(partner or {})}]), encoding="utf-8")
    with made.log_path.open("wb") as log:
        command = [sys.executable, "-c", SERVE_CLI, "serve", "--config", str(config)]
        made.child = subprocess.Popen(
            [*command, "--log-level", "debug"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(made, verify)
        yield made
    finally:
        made.child.terminate()
        try:
            made.child.wait(15)
        except subprocess.TimeoutExpired:
            made.child.kill()
            made.child.wait(5)
