"""One node's inbound ISO 18626 throughput on loopback, against a minimal ASGI endpoint.

A lending node (``resource-sharing``'s ASGI app under uvicorn, in its own process, with an
SQLite store and, when ``RS_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``) is reachable, a PostgreSQL store) receives
new ISO 18626 requests from an authenticated partner, each with its own id: read the body,
decode it, authenticate the sender, apply it in one unit of work (idempotency check,
counterpart look-up, save, history, remembered confirmation) and answer with the encoded
confirmation. Automatic locate is off, so the figure is the inbound path alone. The
baseline is a bare ASGI callable under the same uvicorn that reads the body and returns a
fixed confirmation. Load: 2 client processes x 4 threads posting back to back. All
servers run at once; in each of three rounds each is loaded in turn for two seconds, so a
burst of load elsewhere meets them alike, and each keeps its best round (highest
throughput, lowest p50 and p99). Prints one JSON object per figure (``name``, ``value``,
``unit`` saying whether higher or lower is better, ``baseline``, ``baseline_value``,
``ratio`` = ours / baseline). Targets (issue 17): throughput at least 0.4 of the
baseline's on SQLite and 0.3 on PostgreSQL, p99 within 3x; the script exits 1 when one is
missed. Then, informational, the codec's share of the node's time per message (decode and
encode against decode, ``Node.receive`` and encode, in this process, without HTTP).
Bounded: about a minute, 127.0.0.1 only.
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

from resource_sharing.messages import Authentication, Confirmation, Header, Request  # noqa: E402
from resource_sharing.records import AgencyId, Citation, Identifier  # noqa: E402
from resource_sharing_adapters.iso18626 import encode  # noqa: E402

SECONDS = 2.0
ROUNDS = 3
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


def node_config(port: int, store: str) -> Any:
    """The benchmark node's configuration: lender US-C, partner US-A, ``store`` a file or URL."""
    from resource_sharing_adapters.http import parse_config

    return parse_config(
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


def _serve_node(port: int, store: str) -> None:
    import uvicorn

    from resource_sharing_adapters.http import Node, create_app

    node = Node(node_config(port, store))
    try:
        uvicorn.run(create_app(node), host="127.0.0.1", port=port, log_level="error")
    finally:
        node.close()


def _serve_baseline(port: int) -> None:
    import uvicorn

    from resource_sharing.iso18626 import MessageStatus
    from resource_sharing.messages import MessageKind

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


class _Server:
    """One server in a child process on a free loopback port."""

    def __init__(self, kind: str, *server_args: str) -> None:
        self.kind = kind
        self.port = _free_port()
        self.child = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, str(self.port), *server_args],
            stdout=subprocess.DEVNULL,
        )
        _wait(self.port, self.child)
        self.url = f"http://127.0.0.1:{self.port}/iso18626"
        self.prefix = f"{kind}-{os.getpid()}-{time.time_ns()}"
        _client((self.url, self.prefix + "-warm", 0.5))

    def measure(self, pool: Any, round_no: int) -> dict[str, float]:
        """One round of load: throughput, p50 and p99 (ms)."""
        prefix = f"{self.prefix}-{round_no}"
        started = time.perf_counter()
        parts = pool.map(_client, [(self.url, f"{prefix}-{p}", SECONDS) for p in range(PROCESSES)])
        elapsed = time.perf_counter() - started
        latencies = sorted(x for part in parts for x in part)
        return {
            "throughput": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        }

    def stop(self) -> None:
        """End the child process."""
        self.child.terminate()
        try:
            self.child.wait(10)
        except subprocess.TimeoutExpired:
            self.child.kill()


def _best(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The best of several rounds: the highest throughput, the lowest p50 and p99."""
    return {
        "throughput": max(r["throughput"] for r in rounds),
        "p50": min(r["p50"] for r in rounds),
        "p99": min(r["p99"] for r in rounds),
    }


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES, connect_timeout=2):
            return True
    except Exception:
        return False


TARGETS = {"sqlite": 0.4, "postgres": 0.3}
"""The least throughput of each store, as a share of the minimal endpoint's (issue 17)."""
P99_LIMIT = 3.0
"""The most a node's p99 may be, as a multiple of the minimal endpoint's."""


def _emit(name: str, ours: dict[str, float], base: dict[str, float]) -> bool:
    within = True
    for key, unit in (
        ("throughput", "msg/s (higher is better)"),
        ("p50", "ms (lower is better)"),
        ("p99", "ms (lower is better)"),
    ):
        ratio = ours[key] / base[key]
        figure: dict[str, Any] = {
            "name": f"http_node_{name}_{key}",
            "value": round(ours[key], 3),
            "unit": unit,
            "baseline": f"minimal_asgi_{key}",
            "baseline_value": round(base[key], 3),
            "ratio": round(ratio, 3),
        }
        if key == "throughput":
            figure |= {"target_at_least": TARGETS[name], "within": ratio >= TARGETS[name]}
        elif key == "p99":
            figure |= {"limit": P99_LIMIT, "within": ratio <= P99_LIMIT}
        else:
            figure["informational"] = True
        within &= figure.get("within", True)
        print(json.dumps(figure), flush=True)
    return within


def codec_share(store: str, messages: int = 1000) -> dict[str, float]:
    """Decode, receive and encode ``messages`` in this process; the codec's share of them.

    The node's path without HTTP: decode the body, ``Node.receive`` (authenticate, store,
    confirm), encode the confirmation, each on the process clock. HTTP (uvicorn,
    Starlette) is left out, so the share of a whole request is smaller than this.
    """
    from resource_sharing_adapters.http import Node
    from resource_sharing_adapters.iso18626 import decode

    node = Node(node_config(0, store))
    try:
        prefix = f"codec-{os.getpid()}-{time.time_ns()}"
        bodies = [_body(f"{prefix}-{i}") for i in range(messages + 100)]
        spent = {"decode": 0.0, "receive": 0.0, "encode": 0.0}
        for n, body in enumerate(bodies):
            t0 = time.process_time()
            message = decode(body).message
            t1 = time.process_time()
            assert not isinstance(message, Confirmation)
            confirmation = node.receive(message, raw=body)
            t2 = time.process_time()
            encode(confirmation)
            t3 = time.process_time()
            if n >= 100:  # the first hundred warm up
                spent["decode"] += t1 - t0
                spent["receive"] += t2 - t1
                spent["encode"] += t3 - t2
    finally:
        node.close()
    total = sum(spent.values())
    return {key: value / messages * 1e6 for key, value in spent.items()} | {
        "share": (spent["decode"] + spent["encode"]) / total
    }


def main() -> int:
    """The baseline and the node on SQLite and (if reachable) PostgreSQL, in interleaved rounds.

    All servers run at once (idle but one); each round loads each in turn for
    ``SECONDS``, so a burst of load elsewhere meets them alike; each keeps its best round.
    """
    within = True
    with tempfile.TemporaryDirectory(prefix="rs-http-bench-") as tmp:
        sqlite = str(Path(tmp) / "bench.sqlite3")
        stores = {"sqlite": sqlite}
        if _postgres_reachable():
            stores["postgres"] = POSTGRES
        else:
            print(json.dumps({"name": "http_node_postgres", "skipped": f"{POSTGRES} unreachable"}))
        servers = {"baseline": _Server("baseline")}
        try:
            servers |= {name: _Server("node", store) for name, store in stores.items()}
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
                for round_no in range(ROUNDS):
                    for name, server in servers.items():
                        rounds[name].append(server.measure(pool, round_no))
        finally:
            for server in servers.values():
                server.stop()
        base = _best(rounds["baseline"])
        for name in stores:
            within &= _emit(name, _best(rounds[name]), base)
        for name, store in stores.items():
            codec = codec_share(store if name == "postgres" else str(Path(tmp) / "codec.sqlite3"))
            print(
                json.dumps(
                    {
                        "name": f"http_node_{name}_codec_share",
                        "value": round(codec["share"], 3),
                        "unit": "share of the node's time per message without HTTP"
                        " (decode + encode over decode + receive + encode)",
                        "decode_us": round(codec["decode"], 1),
                        "receive_us": round(codec["receive"], 1),
                        "encode_us": round(codec["encode"], 1),
                        "informational": True,
                    }
                ),
                flush=True,
            )
    return 0 if within else 1


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve":
        if sys.argv[2] == "baseline":
            _serve_baseline(int(sys.argv[3]))
        else:
            _serve_node(int(sys.argv[3]), sys.argv[4])
        sys.exit(0)
    sys.exit(main())
