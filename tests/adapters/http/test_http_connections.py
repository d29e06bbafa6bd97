"""Bounded connections against a real ``serve`` on loopback, with raw sockets.

Slow headers, a stalled body, a chunked body over the limit, clients that hang up in
the middle of a body, idle kept-alive connections and too many connections: each is
cut off within its configured bound, and none leaves a traceback in the server's log.
Every socket has a timeout, so a server that failed to cut one off fails the test
instead of hanging it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.adapters.http.serve_http import Served, request_body, served

LIMITS = {
    "header_timeout_seconds": 1.0,
    "body_timeout_seconds": 1.0,
    "keep_alive_seconds": 1.0,
    "max_connections": 20,
}
BOUND = 15.0  # seconds a socket waits before the test gives up on the server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serve")
    with served(root, server={"max_body_bytes": 4096}, limits=LIMITS) as made:
        yield made


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by BOUND)."""
    sock.settimeout(BOUND)
    received = b""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open; got {received[:200]!r}")


def _headers(length: int | None = None, path: str = "/iso18626") -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    chunked = "" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
        f"{size}{chunked}\r\n"
    ).encode()


def _wait_for_log(server: Served, text: str, count: int) -> str:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        log = server.log()
        if log.count(text) >= count:
            return log
        time.sleep(0.05)
    raise AssertionError(f"expected {count} x {text!r} in the log:\n{server.log()[-3000:]}")


def test_a_client_that_sends_nothing_is_closed_after_the_header_timeout(server: Served) -> None:
    with server.connect() as sock:
        assert _until_closed(sock) == b""


def test_a_client_that_stalls_in_its_headers_is_closed(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /iso18626 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
        assert _until_closed(sock) == b""


def test_a_stalled_body_gets_408_and_the_connection_is_closed(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(_headers(1000) + b"<?xml version='1.0'?><ISO18626Message")
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Traceback" not in answer


def test_a_body_dribbled_byte_by_byte_is_cut_off_at_the_body_timeout(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(_headers(4000))
        sock.settimeout(0.2)
        answer = b""
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline and not answer:
            try:
                sock.sendall(b"x")
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_chunked_body_over_the_limit_gets_413(server: Served) -> None:
    chunk = b"x" * 1000
    with server.connect() as sock:
        sock.sendall(_headers())
        answer = b""
        try:
            for _ in range(10):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_declared_length_over_the_limit_is_refused_before_the_body(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(_headers(10**9))
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_the_staff_api_body_is_bounded_too(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(_headers(10**6, "/staff/borrowing/requests"))
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_clients_that_hang_up_mid_body_are_one_debug_line_each(server: Served) -> None:
    before = server.log().count(": disconnected")
    paths = ["/iso18626", "/staff/borrowing/requests"] * 5
    for path in paths:
        with server.connect() as sock:
            head = _headers(2000, path)
            if path.startswith("/staff"):
                head = head.replace(
                    b"\r\n\r\n", b"\r\nAuthorization: Bearer staff-token-for-tests\r\n\r\n"
                )
            sock.sendall(head + b"<partial")
            time.sleep(0.05)
    log = _wait_for_log(server, ": disconnected", before + len(paths))
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log


def test_an_idle_kept_alive_connection_is_closed(server: Served) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_connections_beyond_the_limit_get_503_and_normal_service_resumes(
    tmp_path: Path,
) -> None:
    patient = {**LIMITS, "header_timeout_seconds": 60.0, "max_connections": 5}
    with served(tmp_path, limits=patient) as server:
        _beyond_the_limit(server, 5)


def _beyond_the_limit(server: Served, limit: int) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(limit):
            held.append(server.connect())
            held[-1].sendall(b"POST /iso18626 HTTP/1.1\r\n")  # and stall
        with server.connect() as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = _until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + BOUND
    status = 0
    while time.monotonic() < deadline and status != 200:
        status = httpx.get(f"{server.base_url}/health", timeout=BOUND).status_code
    assert status == 200


def test_normal_traffic_is_served_beside_stalled_connections(server: Served) -> None:
    held = [server.connect() for _ in range(10)]
    try:
        for sock in held:
            sock.sendall(_headers(1000) + b"<partial")
        answer = httpx.post(
            server.url,
            content=request_body("beside-stalled-1"),
            headers={"Content-Type": "application/xml"},
            timeout=BOUND,
        )
    finally:
        for sock in held:
            sock.close()
    assert answer.status_code == 200
    assert b"<messageStatus>OK</messageStatus>" in answer.content
    assert "Traceback" not in server.log()
