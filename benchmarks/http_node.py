"""One node's inbound ISO 18626 throughput on loopback, against a minimal ASGI endpoint.

A lending node (``resource-sharing``'s ASGI app under uvicorn, in its own process, with an
SQLite store and, when ``RS_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) is reachable, a PostgreSQL store) receives
new ISO 18626 requests from an authenticated partner, each with its own id: read the body,
decode it, authenticate the sender, apply it in one unit of work (idempotency check,
counterpart look-up, save, history, remembered confirmation) and answer with the encoded
confirmation. Automatic locate is off, so the figure is the inbound path alone. The
baseline is a bare ASGI callable under the same uvicorn that reads the body and returns a
fixed confirmation. Load: 2 client processes x 4 threads posting back to back for a few
seconds each. Prints one JSON object per figure (``name``, ``value``, ``unit``,
``baseline``, ``baseline_value``, ``ratio`` = ours / baseline). Bounded: under a minute,
127.0.0.1 only.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "adapters")]

import httpx  # noqa: E402

from resource_sharing.messages import Authentication, Header, Request  # noqa: E402
from resource_sharing.records import AgencyId, Citation, Identifier  # noqa: E402
from resource_sharing_adapters.iso18626 import encode  # noqa: E402

SECONDS = 4.0
PROCESSES = 2
THREADS = 4
POSTGRES = os.environ.get("RS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
A, C = AgencyId("US-A"), AgencyId("US-C")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(request_id: str) -> bytes:
    header = Header(
        A,
        C,
        request_id,
        datetime.now(UTC),
        authentication=Authentication("US-A", "bench-secret"),
    )
    citation = Citation(
        title="The Art of Computer Programming",
        author="Knuth, Donald",
        item_ids=(Identifier("ISBN", "9780201896831"),),
    )
    return encode(Request(header, citation))


# -- servers (run in child processes) ------------------------------------------------------


def _serve_node(port: int, store: str) -> None:
    import uvicorn

    from resource_sharing_adapters.http import Node, create_app, parse_config

    config = parse_config(
        {
            "institution": {"agency": "ISIL:US-C", "auto_locate": False},
            "server": {"port": port, "staff_token": "bench"},
            "security": {"peer_requests_per_second": 0},  # measure the path, not the limit
            "store": {"sqlite": store} if store.endswith(".sqlite3") else {"postgres": store},
            "partners": [
                {
                    "agency": "ISIL:US-A",
                    "inbound": {"account_id": "US-A", "security_code": "bench-secret"},
                }
            ],
        }
    )
    node = Node(config)
    try:
        uvicorn.run(create_app(node), host="127.0.0.1", port=port, log_level="error")
    finally:
        node.close()


def _serve_baseline(port: int) -> None:
    import uvicorn

    from resource_sharing.iso18626 import MessageStatus
    from resource_sharing.messages import Confirmation, MessageKind

    now = datetime.now(UTC)
    fixed = encode(Confirmation(MessageKind.REQUEST, MessageStatus.OK, now, now, C, A, "x"))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            event = await receive()
            more = event.get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/xml; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": fixed})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")


# -- load --------------------------------------------------------------------------------------


def _client(args: tuple[str, str, float]) -> list[float]:
    url, prefix, seconds = args
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        mine: list[float] = []
        with httpx.Client(timeout=10, trust_env=False) as client:
            i = 0
            while time.perf_counter() < stop_at:
                i += 1
                body = _body(f"{prefix}-{n}-{i}")
                start = time.perf_counter()
                response = client.post(
                    url, content=body, headers={"Content-Type": "application/xml"}
                )
                mine.append(time.perf_counter() - start)
                if response.status_code != 200 or b"<messageStatus>OK" not in response.content:
                    raise RuntimeError(f"unexpected answer {response.status_code}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _wait(port: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"server exited with {child.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("server did not start")


def _measure(kind: str, *server_args: str) -> dict[str, float]:
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), *server_args],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait(port, child)
        url = f"http://127.0.0.1:{port}/iso18626"
        prefix = f"{kind}-{os.getpid()}-{time.time_ns()}"
        _client((url, prefix + "-warm", 0.5))
        with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
            started = time.perf_counter()
            parts = pool.map(_client, [(url, f"{prefix}-{p}", SECONDS) for p in range(PROCESSES)])
            elapsed = time.perf_counter() - started
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
    latencies = sorted(x for part in parts for x in part)
    return {
        "throughput": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES, connect_timeout=2):
            return True
    except Exception:
        return False


def _emit(name: str, ours: dict[str, float], base: dict[str, float]) -> None:
    for key, unit in (("throughput", "msg/s"), ("p50", "ms"), ("p99", "ms")):
        print(
            json.dumps(
                {
                    "name": f"http_node_{name}_{key}",
                    "value": round(ours[key], 3),
                    "unit": unit,
                    "baseline": f"minimal_asgi_{key}",
                    "baseline_value": round(base[key], 3),
                    "ratio": round(ours[key] / base[key], 3),
                }
            ),
            flush=True,
        )


def main() -> int:
    """Measure the baseline, then the node with SQLite and (if reachable) PostgreSQL."""
    base = _measure("baseline")
    with tempfile.TemporaryDirectory(prefix="rs-http-bench-") as tmp:
        _emit("sqlite", _measure("node", str(Path(tmp) / "bench.sqlite3")), base)
    if _postgres_reachable():
        _emit("postgres", _measure("node", POSTGRES), base)
    else:
        print(json.dumps({"name": "http_node_postgres", "skipped": f"{POSTGRES} unreachable"}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve":
        if sys.argv[2] == "baseline":
            _serve_baseline(int(sys.argv[3]))
        else:
            _serve_node(int(sys.argv[3]), sys.argv[4])
        sys.exit(0)
    sys.exit(main())
