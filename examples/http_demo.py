"""The seed story across real sockets: three institution processes on loopback.

Starts borrower A, lender B (does not hold the book: answers Unfilled) and lender C
(supplies) as three ``resource-sharing serve`` processes on free 127.0.0.1 ports, each
with its own SQLite store in a temporary directory, configured from
``examples/http/institution-{a,b,c}.toml``. It drives the story through their staff APIs,
prints each institution's timeline (state, task lists, notices, operator instructions),
stops the processes and exits 0 when every request ended as the seed says.

After each step it prints every state change at every institution, in commit order, with
the label staff know (so the rota's move from B to C shows: B answers Unfilled, A's
request goes back to locating and on to C), the ISO 18626 messages that passed between
the institutions (``A -> B  request``, ``B -> A  supplyingAgencyMessage Unfilled
(StatusChange)``), the patron notices and the operator's next instruction.

    python examples/http_demo.py [--json PATH] [--keep DIR] [--ports 8701,8702,8703] [--console]

``--console`` does not tell the story: it adds demo staff users (``resource-sharing staff
add``), starts the three nodes, prints their consoles' URLs and logins and keeps them
running until Ctrl-C, for a newcomer to click the story through (``docs/console.md``).
``--json PATH`` also writes the timeline as JSON lines (one object per request change:
institution, side, request, state, label, event, partner, tasks, notices, instruction,
messages),
the format of ``examples/seed_story.py``. ``--keep DIR`` keeps configurations, stores and
logs there. ``--ports`` fixes the three ports (default: free ones).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from resource_sharing_adapters.cli._io import state_label
from resource_sharing_adapters.http import StaffClient

HERE = Path(__file__).resolve().parent
CONFIGS = {"US-A": "institution-a.toml", "US-B": "institution-b.toml", "US-C": "institution-c.toml"}
DEFAULT_PORTS = {"US-A": 8701, "US-B": 8702, "US-C": 8703}
TOKENS = {"US-A": "alpha-staff-token", "US-B": "beta-staff-token", "US-C": "gamma-staff-token"}
SERVE_CLI = "import sys; from resource_sharing_adapters.cli import main; sys.exit(main())"
SHORT = {"US-A": "A", "US-B": "B", "US-C": "C"}
START = "2026-09-07T09:00:00Z"
DAY = 86_400.0

BOOK = {
    "title": "The Art of Computer Programming",
    "author": "Knuth, Donald",
    "item_ids": [{"code": "ISBN", "value": "978-0-201-89683-1"}],
}
PATRON = {"id": "p-1", "name": "Ada Lovelace", "group": "faculty", "email": "ada@example.org"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_configs(root: Path, ports: Mapping[str, int]) -> dict[str, Path]:
    """The example configurations, moved to ``ports`` and to stores under ``root``."""
    written: dict[str, Path] = {}
    for agency, name in CONFIGS.items():
        text = (HERE / "http" / name).read_text(encoding="utf-8")
        for other, port in DEFAULT_PORTS.items():
            text = text.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{ports[other]}/")
        text = re.sub(r"(?m)^port = \d+", f"port = {ports[agency]}", text)
        text = re.sub(r'(?m)^sqlite = "[^"]*"', f'sqlite = "{agency}.sqlite3"', text)
        text += f'\n[clock]\nstart = "{START}"\nadjustable = true\n'
        path = root / name
        path.write_text(text, encoding="utf-8")
        written[agency] = path
    return written


DEMO_USERS = {  # institution: (user, roles, desk)
    "US-A": ("abby", ("borrowing",), "Main"),
    "US-B": ("bert", ("lending",), "Main desk"),
    "US-C": ("cleo", ("lending",), "Main desk"),
}
DEMO_PASSWORD = "demo-password"


def add_demo_users(configs: Mapping[str, Path]) -> None:
    """One staff user per institution (``resource-sharing staff add``), plus ``admin``."""
    for agency, config in configs.items():
        user, roles, desk = DEMO_USERS[agency]
        for name, given in ((user, roles), ("admin", ("admin",))):
            role_args = [arg for role in given for arg in ("--role", role)]
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    SERVE_CLI,
                    "staff",
                    "--config",
                    str(config),
                    "add",
                    name,
                    *role_args,
                    "--desk",
                    desk,
                    "--password-stdin",
                ],
                input=DEMO_PASSWORD.encode() + b"\n",
                check=True,
                stdout=subprocess.DEVNULL,
            )


def run_consoles(root: Path) -> int:
    """Start the three nodes with demo users; print the consoles' URLs; wait for Ctrl-C."""
    ports = {agency: free_port() for agency in CONFIGS}
    configs = write_configs(root, ports)
    add_demo_users(configs)
    processes = Processes(root)
    try:
        for agency, config in configs.items():
            processes.start(agency, config)
        processes.wait_ready(ports)
        print("The staff consoles of the three institutions (Ctrl-C stops them):")
        for agency, port in ports.items():
            user = DEMO_USERS[agency][0]
            print(
                f"  {agency}  http://127.0.0.1:{port}/   log in as {user} or admin,"
                f" password {DEMO_PASSWORD}"
            )
        print(
            "Start at A: New request (patron p-1, a title, rota 'ISIL:US-B ISIL:US-C');"
            " docs/console.md walks through the rest."
        )
        while all(child.poll() is None for child in processes.children.values()):
            time.sleep(0.5)
        print(processes.logs(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping the consoles")
        return 0
    finally:
        processes.stop()


class Processes:
    """The three server processes; every one is stopped at the end, whatever happened."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, agency: str, config: Path) -> None:
        """Start ``resource-sharing serve --config config`` (output to ``<agency>.log``)."""
        log = (self.root / f"{agency}.log").open("wb")
        self.children[agency] = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVE_CLI,
                "serve",
                "--config",
                str(config),
                "--log-level",
                "warning",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, ports: Mapping[str, int], timeout: float = 30.0) -> None:
        """Wait until every node answers ``/health`` (fail if one exits or the time is up)."""
        deadline = time.monotonic() + timeout
        for agency, port in ports.items():
            while True:
                child = self.children[agency]
                if child.poll() is not None:
                    raise RuntimeError(f"{agency} exited with {child.returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{agency} is not listening on {port}")
                time.sleep(0.05)

    def stop(self) -> None:
        """Terminate every child, kill those that do not stop within 10 s."""
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)

    def logs(self) -> str:
        """The tail of every child's log."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.root.glob("*.log"))
        )


class Timeline:
    """Follows each node's change feed, journal and outbox; prints what each step changed."""

    def __init__(self, staff: Mapping[str, StaffClient], timeout: float = 30.0) -> None:
        self.staff = staff
        self.timeout = timeout
        self.lines: list[dict[str, Any]] = []
        self._changes = dict.fromkeys(staff, 0)
        self._journal = dict.fromkeys(staff, 0)
        self._sent: set[str] = set()
        self._skew = {agency: self._clock_skew(client) for agency, client in staff.items()}

    @staticmethod
    def _clock_skew(client: StaffClient) -> float:
        """How far ahead of real time this node's (shifted) clock runs, in seconds.

        Each process shifts its clock from the moment it started, so two nodes' clocks
        differ by the time between their starts; messages from different nodes are put
        in order on real time.
        """
        before = time.time()
        now = datetime.fromisoformat(client.info()["now"]).timestamp()
        return now - (before + time.time()) / 2

    def settle(self) -> None:
        """Wait until no outbox has a pending message, twice in a row with no new change."""
        deadline = time.monotonic() + self.timeout
        previous: object = None
        while time.monotonic() < deadline:
            snapshot = tuple(
                (c.info()["changes"], len(c.outbox("pending"))) for c in self.staff.values()
            )
            if snapshot == previous and all(pending == 0 for _, pending in snapshot):
                return
            previous = snapshot
            time.sleep(0.1)
        raise TimeoutError("the network did not settle")

    def step(self, title: str, action: Callable[[], object]) -> None:
        """Run one staff or patron action, let the network settle, print the changes."""
        clock = next(iter(self.staff.values())).info()["now"][:10]
        print(f"\n== {clock} {title}")
        action()
        self.settle()
        messages = self._messages()
        for line in messages:
            print(f"  {line}")
        for agency, client in self.staff.items():
            self._report(agency, client, messages)

    def _messages(self) -> list[str]:
        """The ISO 18626 messages delivered since the last step, oldest first."""
        fresh: list[tuple[float, str, str]] = []
        for agency, client in self.staff.items():
            for message in client.outbox("delivered"):
                if message.get("port", "peer") != "peer" or message["id"] in self._sent:
                    continue
                self._sent.add(message["id"])
                to = SHORT.get(str(message["to"]).removeprefix("ISIL:"), message["to"])
                text = f"{SHORT[agency]} -> {to}  ISO 18626 {message['kind']}"
                gist = message.get("gist")
                if gist and gist != message["kind"]:
                    text += f" {gist}"
                created = datetime.fromisoformat(message["created_at"]).timestamp()
                fresh.append((created - self._skew[agency], message["id"], text))
        return [text for _, _, text in sorted(fresh)]

    def _report(self, agency: str, client: StaffClient, messages: list[str]) -> None:
        changes = client.changes(self._changes[agency])
        if changes:
            self._changes[agency] = changes[-1]["seq"]
        journal = client.journal(self._journal[agency])
        if journal:
            self._journal[agency] = journal[-1]["seq"]
        notices: dict[str, list[str]] = {}
        for entry in journal:
            if entry["kind"] == "patron_notice":
                notices.setdefault(str(entry["request_id"]), []).append(entry["detail"]["notice"])
        short = SHORT[agency]
        for n, change in enumerate(changes):
            side, request_id = change["side"], change["request_id"]
            last_of_request = all(
                (c["side"], c["request_id"]) != (side, request_id) for c in changes[n + 1 :]
            )
            line = {
                "institution": agency,
                "side": side,
                "request": request_id,
                "state": change["state"],
                "label": state_label(side, change["state"]),
                "event": change["event"],
                "partner": change.get("counterpart"),
                "tasks": [change["task_list"]] if change["task_list"] else [],
                "notices": notices.pop(request_id, []) if last_of_request else [],
                "instruction": change["instruction"],
                "messages": messages if n == 0 else [],
            }
            self.lines.append(line)
            partner = str(line["partner"] or "").removeprefix("ISIL:")
            extra = (
                f"  with {SHORT.get(partner, partner)}" if side == "borrowing" and partner else ""
            )
            extra += f"  [{', '.join(line['tasks'])}]" if line["tasks"] else ""
            if line["notices"]:
                extra += f"  patron told: {', '.join(line['notices'])}"
            print(f"  {short} {side:9} {line['label']:34} <- {line['event']}{extra}")
            if line["instruction"] and last_of_request:
                print(f"      -> {line['instruction']}")


def drive(staff: Mapping[str, StaffClient], timeline: Timeline) -> dict[tuple[str, str], str]:
    """The seed story through the staff APIs; returns each (institution, side)'s last state."""
    a, c = staff["US-A"], staff["US-C"]

    def advance(days: float) -> None:
        for client in staff.values():
            client.advance_clock(days * DAY)

    placed: list[str] = []

    def place() -> None:
        body = {
            "patron": PATRON,
            "citation": BOOK,
            "pickup_location": "Main",
            "rota": ["ISIL:US-B", "ISIL:US-C"],
        }
        placed.append(a.place(body)["id"])

    timeline.step("A patron at A asks for a book; the rota is B, then C", place)
    rid = placed[0]
    c_id = c.tasks("pick_from_shelf")[0]["request_id"]
    timeline.step(
        "C picks the item from the shelf (pick slip printed)",
        lambda: c.act("lending", c_id, "pick"),
    )
    timeline.step("C ships it", lambda: c.act("lending", c_id, "ship"))
    advance(3)
    timeline.step(
        "A receives it: temporary item, hold shelf",
        lambda: a.act("borrowing", rid, "receive", {"barcode": "A-TEMP-1"}),
    )
    timeline.step("The patron collects it", lambda: a.act("borrowing", rid, "check-out"))
    advance(27)
    timeline.step(
        "The patron asks to renew; C's policy decides", lambda: a.act("borrowing", rid, "renew")
    )
    advance(4)
    timeline.step(
        "A local patron at C places a hold: recall", lambda: c.local_hold("C-39001", "c-9")
    )
    advance(2)
    timeline.step(
        "The patron returns it at a branch desk", lambda: a.return_item("A-TEMP-1", "Branch")
    )
    timeline.step("A ships it back to C", lambda: a.act("borrowing", rid, "ship-return"))
    advance(3)
    checked: list[dict[str, Any]] = []
    timeline.step("C checks it in", lambda: checked.append(c.check_in("C-39001")))
    print(f"        -> C's operator: {checked[0]['instruction']}")
    return {(line["institution"], line["side"]): line["state"] for line in timeline.lines}


def run(root: Path, json_path: Path | None, fixed: list[int] | None = None) -> int:
    """Start the processes under ``root``, tell the story, stop them; returns the status."""
    chosen = fixed or [free_port() for _ in CONFIGS]
    ports = dict(zip(CONFIGS, chosen, strict=True))
    configs = write_configs(root, ports)
    processes = Processes(root)
    clients: dict[str, StaffClient] = {}
    try:
        for agency, config in configs.items():
            processes.start(agency, config)
        processes.wait_ready(ports)
        print("Three institutions on loopback: " + ", ".join(f"{a} :{p}" for a, p in ports.items()))
        clients = {a: StaffClient(f"http://127.0.0.1:{p}", TOKENS[a]) for a, p in ports.items()}
        timeline = Timeline(clients)
        final = drive(clients, timeline)
    except BaseException:
        print(processes.logs(), file=sys.stderr)
        raise
    finally:
        for client in clients.values():
            client.close()
        processes.stop()
    a_state = final.get(("US-A", "borrowing"))
    b_state = final.get(("US-B", "lending"))
    c_state = final.get(("US-C", "lending"))
    print(f"\nA: {a_state}, B: {b_state}, C: {c_state}")
    if json_path is not None:
        with json_path.open("w", encoding="utf-8") as out:
            for line in timeline.lines:
                out.write(json.dumps(line) + "\n")
        print(f"timeline written to {json_path}")
    ok = (a_state, b_state, c_state) == ("completed", "unfilled", "completed")
    return 0 if ok else 1


def _ports(text: str) -> list[int]:
    try:
        ports = [int(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three port numbers, got {text!r}") from None
    if len(ports) != len(CONFIGS) or len(set(ports)) != len(ports):
        raise argparse.ArgumentTypeError("expected three different ports: A,B,C")
    if not all(0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return ports


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write the timeline as JSON lines"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep configs, stores, logs here")
    parser.add_argument(
        "--ports",
        type=_ports,
        metavar="A,B,C",
        help="the ports of A, B and C (default: free ones), e.g. 8701,8702,8703",
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="leave the three consoles running with demo users (Ctrl-C stops them)",
    )
    args = parser.parse_args(argv)
    if args.console:
        root = args.keep or Path(tempfile.mkdtemp(prefix="rs-console-demo-"))
        root.mkdir(parents=True, exist_ok=True)
        try:
            return run_consoles(root)
        finally:
            if args.keep is None:
                shutil.rmtree(root, ignore_errors=True)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep, args.json, args.ports)
    root = Path(tempfile.mkdtemp(prefix="rs-http-demo-"))
    try:
        return run(root, args.json, args.ports)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
