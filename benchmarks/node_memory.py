"""A node's memory after 100,000 inbound ISO 18626 messages against after 10,000.

One process (this one) builds a lending node with an SQLite store in a temporary folder
and feeds its ASGI app new ISO 18626 requests from an authenticated partner, each with
its own id, straight through the ASGI interface (no sockets: the figure is the node's own
memory: HTTP handling in Starlette, decode, authenticate, store, confirm). It reads its own
resident set size (``VmRSS``) after 10,000 messages and after 100,000. Prints one JSON
object: ``value`` (RSS after 100,000, MiB), ``baseline_value`` (after 10,000, MiB) and
``ratio`` = ours / baseline (lower is better), with its ``limit`` (1.10: within 10%, issue
17) and ``within``; exits 1 when over. Takes a few minutes; ``RS_MEMORY_MESSAGES`` sets
the larger count (the smaller is a tenth of it).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "adapters"), str(ROOT / "benchmarks")]

from http_node import _body, node_config  # type: ignore[import-not-found]  # noqa: E402
from resource_sharing_adapters.http import Node, create_app  # noqa: E402

MESSAGES = int(os.environ.get("RS_MEMORY_MESSAGES", "100000"))
LIMIT = 1.10


def rss_mib() -> float:
    """The resident set size of the running process, in MiB (Linux ``/proc``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


async def post(app: Any, body: bytes) -> bytes:
    """One ``POST /iso18626`` through the ASGI interface; returns the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/iso18626",
        "raw_path": b"/iso18626",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/xml"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    out: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # nothing more: the client waits for the answer
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.body":
            out.append(event.get("body", b""))

    await app(scope, receive, send)
    return b"".join(out)


async def feed(app: Any, prefix: str, start: int, stop: int) -> None:
    """Post messages ``start`` to ``stop`` (exclusive), each answered OK."""
    for i in range(start, stop):
        answer = await post(app, _body(f"{prefix}-{i}"))
        if b"<messageStatus>OK" not in answer:
            raise RuntimeError(f"unexpected answer: {answer[:200]!r}")


def main() -> int:
    """Feed the node, read RSS at a tenth and at the whole count, print the figure."""
    small = MESSAGES // 10
    with tempfile.TemporaryDirectory(prefix="rs-memory-bench-") as tmp:
        node = Node(node_config(0, str(Path(tmp) / "memory.sqlite3")))
        try:
            app = create_app(node)
            prefix = f"mem-{os.getpid()}"
            asyncio.run(feed(app, prefix, 0, small))
            gc.collect()
            at_small = rss_mib()
            asyncio.run(feed(app, prefix, small, MESSAGES))
            gc.collect()
            at_large = rss_mib()
        finally:
            node.close()
    ratio = at_large / at_small
    print(
        json.dumps(
            {
                "name": f"node_memory.rss_after_{MESSAGES}",
                "value": round(at_large, 1),
                "unit": "MiB resident (lower is better; in-process ASGI app, no sockets)",
                "baseline": f"node_memory.rss_after_{small}",
                "baseline_value": round(at_small, 1),
                "ratio": round(ratio, 3),
                "limit": LIMIT,
                "within": ratio <= LIMIT,
            }
        )
    )
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
