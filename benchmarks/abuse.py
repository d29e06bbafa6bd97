"""Normal ISO 18626 traffic while slow and abandoned connections abuse the same node.

A lending node (``resource-sharing serve``, its own process, SQLite store, the default
``[server.limits]``) receives new requests from an authenticated partner, posted by 2
client processes x 4 threads for ``SECONDS``: on its own, and while an abuser process
holds ``SLOW`` slow connections open (half stall in their headers, half dribble a body,
one byte every ``DRIBBLE_SECONDS``; those the server closes at its header or body
timeout are opened again) and opens and abandons connections in the middle of a body at
``ABANDON_PER_SECOND``. ``ROUNDS`` abused runs alternate with quiet ones before, between
and after them, so that the drift of a busy machine counts for neither side.

Prints one JSON object per figure (``name``, ``value``, ``unit``, ``baseline``,
``baseline_value``, ``ratio`` = under abuse / without): the normal traffic's throughput
(the target is a ratio of at least 0.7 with 500 slow connections held) and p99, the slow
connections held on average, and the connections abandoned per second. Bounded: about a
minute, 127.0.0.1 only; every process stops itself. On Linux also the server's CPU
(in cores) while the abuse runs alone: a figure a busy machine's noise hardly moves.
"""

from __future__ import annotations

import asyncio
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

SECONDS = 3.0
ROUNDS = 3  # quiet, abused, quiet, abused, quiet: drift on a busy machine counts for neither
PROCESSES = 2
THREADS = 4
SLOW = 500
ABANDON_PER_SECOND = 10
DRIBBLE_SECONDS = 5.0  # a slow connection sends one byte this often (slowloris sends one a 15 s)
ABUSER_LIFETIME = 60.0  # the abuser stops itself after this, whatever happens
SERVE_CLI = "import sys; from resource_sharing_adapters.cli import main; sys.exit(main())"
A, C = AgencyId("US-A"), AgencyId("US-C")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(request_id: str) -> bytes:
    header = Header(
        A, C, request_id, datetime.now(UTC), authentication=Authentication("US-A", "bench-secret")
    )
    citation = Citation(
        title="The Art of Computer Programming",
        author="Knuth, Donald",
        item_ids=(Identifier("ISBN", "9780201896831"),),
    )
    return encode(Request(header, citation))


CONFIG = """
[institution]
agency = "ISIL:US-C"
auto_locate = false

[server]
port = {port}
staff_token = "bench"

[store]
sqlite = "{store}"

[security]
peer_requests_per_second = 0  # one partner at full speed is the normal traffic here

[[partners]]
agency = "ISIL:US-A"
inbound = {{ account_id = "US-A", security_code = "bench-secret" }}
"""


# -- the abuser (a child process, one asyncio loop) --------------------------------------


async def _hold(port: int, n: int, held: list[int], stop: asyncio.Event) -> None:
    """Keep one slow connection open: stall in the headers or dribble a body."""
    in_headers = n % 2 == 0
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        held[0] += 1
        try:
            if in_headers:
                writer.write(b"POST /iso18626 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                writer.write(
                    b"POST /iso18626 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/xml\r\nContent-Length: 100000\r\n\r\n<"
                )
            await writer.drain()
            while not stop.is_set() and not reader.at_eof():
                try:
                    await asyncio.wait_for(reader.read(4096), DRIBBLE_SECONDS)
                except TimeoutError:
                    writer.write(b"X" if in_headers else b"a")
                    await writer.drain()
        except OSError:
            pass
        finally:
            held[0] -= 1
            writer.close()


async def _abandon(port: int, count: Any, stop: asyncio.Event) -> None:
    """Open connections that send half a body and hang up."""
    head = (
        b"POST /iso18626 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/xml\r\nContent-Length: 5000\r\n\r\n<?xml version='1.0'?>"
    )
    while not stop.is_set():
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            await writer.drain()
            writer.close()
            count.value += 1
        except OSError:
            pass
        await asyncio.sleep(1.0 / ABANDON_PER_SECOND)


async def _abuse(port: int, report: Any, abandons: Any, stop_flag: Any) -> None:
    stop = asyncio.Event()
    held = [0]
    tasks = [asyncio.create_task(_hold(port, n, held, stop)) for n in range(SLOW)]
    tasks.append(asyncio.create_task(_abandon(port, abandons, stop)))
    deadline = time.monotonic() + ABUSER_LIFETIME
    while not stop_flag.is_set() and time.monotonic() < deadline:
        report.value = held[0]
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait(tasks, timeout=5)


def _abuser(port: int, report: Any, abandons: Any, stop_flag: Any) -> None:
    asyncio.run(_abuse(port, report, abandons, stop_flag))


# -- normal traffic --------------------------------------------------------------------


def _client(args: tuple[str, str, float]) -> list[float]:
    url, prefix, seconds = args
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        mine: list[float] = []
        with httpx.Client(timeout=30, trust_env=False) as client:
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


def _measure(url: str, prefix: str) -> tuple[list[float], float]:
    """Normal traffic for SECONDS: every request's latency, and the time it took."""
    _client((url, prefix + "-warm", 0.3))
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        started = time.perf_counter()
        parts = pool.map(_client, [(url, f"{prefix}-{p}", SECONDS) for p in range(PROCESSES)])
        elapsed = time.perf_counter() - started
    return [x for part in parts for x in part], elapsed


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _figures(runs: list[tuple[list[float], float]]) -> dict[str, float]:
    latencies = sorted(x for run, _ in runs for x in run)
    return {
        "throughput": len(latencies) / sum(elapsed for _, elapsed in runs),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def _abused(
    port: int, url: str, prefix: str, server: int
) -> tuple[list[float], float, float, float, float | None]:
    """Normal traffic while an abuser process runs.

    Returns the latencies, the elapsed time, the slow connections held on average, the
    connections abandoned per second, and the server's CPU share (of one core) while the
    abuse ran alone for a second before the traffic.
    """
    context = multiprocessing.get_context("spawn")
    held, abandons, stop = context.Value("i", 0), context.Value("i", 0), context.Event()
    abuser = context.Process(target=_abuser, args=(port, held, abandons, stop), daemon=True)
    abuser.start()
    try:
        deadline = time.monotonic() + 20
        while held.value < SLOW * 0.95 and time.monotonic() < deadline:
            time.sleep(0.1)
        cpu_before, cpu_at = _cpu_seconds(server), time.monotonic()
        time.sleep(2.0)
        cpu_after = _cpu_seconds(server)
        share = (
            (cpu_after - cpu_before) / (time.monotonic() - cpu_at)
            if cpu_before is not None and cpu_after is not None
            else None
        )
        samples: list[int] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                samples.append(held.value)

        sampler = threading.Thread(target=sample)
        sampler.start()
        first = abandons.value
        latencies, elapsed = _measure(url, prefix)
        abandoned = (abandons.value - first) / elapsed
        done.set()
        sampler.join()
    finally:
        stop.set()
        abuser.join(15)
        if abuser.is_alive():
            abuser.kill()
    return latencies, elapsed, sum(samples) / max(1, len(samples)), abandoned, share


def _wait(port: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"server exited with {child.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise TimeoutError("server did not start")


def _emit(name: str, value: float, unit: str, baseline: str, base: float) -> None:
    print(
        json.dumps(
            {
                "name": name,
                "value": round(value, 3),
                "unit": unit,
                "baseline": baseline,
                "baseline_value": round(base, 3),
                "ratio": round(value / base, 3) if base else None,
            }
        ),
        flush=True,
    )


def main() -> int:
    """Alternate normal traffic alone and beside the abuse; print the figures."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/iso18626"
    prefix = f"abuse-{os.getpid()}-{time.time_ns()}"
    quiet: list[tuple[list[float], float]] = []
    abused: list[tuple[list[float], float]] = []
    held: list[float] = []
    abandoned: list[float] = []
    shares: list[float] = []
    with tempfile.TemporaryDirectory(prefix="rs-abuse-bench-") as tmp:
        config = Path(tmp) / "node.toml"
        store = (Path(tmp) / "node.sqlite3").as_posix()
        config.write_text(CONFIG.format(port=port, store=store), encoding="utf-8")
        command = [sys.executable, "-c", SERVE_CLI, "serve", "--config", str(config)]
        child = subprocess.Popen(
            [*command, "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(port, child)
            quiet.append(_measure(url, f"{prefix}-q0"))
            for n in range(ROUNDS):
                latencies, elapsed, mean_held, rate, share = _abused(
                    port, url, f"{prefix}-a{n}", child.pid
                )
                if share is not None:
                    shares.append(share)
                abused.append((latencies, elapsed))
                held.append(mean_held)
                abandoned.append(rate)
                quiet.append(_measure(url, f"{prefix}-q{n + 1}"))
        finally:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
    alone, beside = _figures(quiet), _figures(abused)
    phases = [("quiet", run) for run in quiet] + [("abused", run) for run in abused]
    for kind, (latencies, elapsed) in phases:
        print(f"# {kind}: {len(latencies) / elapsed:.1f} msg/s", file=sys.stderr)
    _emit(
        "abuse_throughput",
        beside["throughput"],
        "msg/s",
        "no_abuse_throughput",
        alone["throughput"],
    )
    _emit("abuse_p99", beside["p99"], "ms", "no_abuse_p99", alone["p99"])
    _emit(
        "abuse_slow_connections_held",
        sum(held) / len(held),
        "connections",
        "slow_connections_wanted",
        SLOW,
    )
    _emit(
        "abuse_abandoned_per_second",
        sum(abandoned) / len(abandoned),
        "connections/s",
        "abandoned_per_second_wanted",
        ABANDON_PER_SECOND,
    )
    if shares:
        _emit(
            "abuse_alone_server_cpu",
            sum(shares) / len(shares),
            "cores",
            "one_core",
            1.0,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
