"""The seed story through the application services: three institutions in one process.

Borrower A, lender B (does not hold the book: answers Unfilled) and lender C (supplies)
are connected by an in-memory network that passes every message through the receiving
institution's real peer inbox. Each step prints, per institution, the requests it
changed: state, task lists, patron notices and the operator's instruction.

    python examples/seed_story.py [--json PATH]     (make demo ARGS="--json PATH")

``--json PATH`` also writes the timeline as JSON lines (one object per request change:
institution, side, request, state, event, tasks, notices, instruction).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from resource_sharing.directory import Partner
from resource_sharing.effects import TaskList
from resource_sharing.lending import LendingPolicy
from resource_sharing.messages import Request
from resource_sharing.ports import Holding, RequestStore
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef, Side
from resource_sharing.service import Settings, index_of
from resource_sharing.testing.consortium import Consortium, Member
from resource_sharing_adapters.storage.sqlite import SQLiteStore

A, B, C = AgencyId("US-A"), AgencyId("US-B"), AgencyId("US-C")
NAMES = {A: "Alpha University (borrower)", B: "Beta College", C: "Gamma Public Library"}


class Timeline:
    """Watches every institution through its ports and reports what changed."""

    def __init__(self, net: Consortium) -> None:
        self.net = net
        self.lines: list[dict[str, Any]] = []
        self.borrowing: dict[AgencyId, list[str]] = {agency: [] for agency in net.members}
        self._versions: dict[tuple[AgencyId, Side, str], int] = {}
        self._notices: dict[AgencyId, int] = dict.fromkeys(net.members, 0)

    def step(self, title: str, action: Callable[[], object]) -> None:
        """Run one staff or patron action, let the network settle, print the changes."""
        print(f"\n== {self.net.clock.now():%Y-%m-%d} {title}")
        action()
        self.net.settle()
        for agency, member in self.net.members.items():
            self._report(agency, member)

    def _requests(self, agency: AgencyId, member: Member) -> list[tuple[Side, str]]:
        """The requests an institution has: its borrowing ones and those peers sent it."""
        keys = [(Side.BORROWING, rid) for rid in self.borrowing[agency]]
        with member.store.transaction() as uow:
            for sent in self.net.network.log:
                if sent.to == agency and isinstance(sent.message, Request):
                    header = sent.message.header
                    found = uow.requests.find(
                        Side.LENDING,
                        header.requesting_agency_request_id,
                        header.requesting_agency,
                    )
                    if found is not None and (Side.LENDING, found) not in keys:
                        keys.append((Side.LENDING, found))
        return keys

    def _report(self, agency: AgencyId, member: Member) -> None:
        notices = member.notifier.patron_notices
        fresh = [n.notice.value for n in notices[self._notices[agency] :]]
        self._notices[agency] = len(notices)
        institution = member.institution
        for side, request_id in self._requests(agency, member):
            record = institution.get(side, request_id)
            key = (agency, side, request_id)
            if self._versions.get(key) == record.version:
                continue
            self._versions[key] = record.version
            index = index_of(record)
            last = institution.history(side, request_id)[-1]
            tasks = [index.task_list.value] if index.task_list else []
            line = {
                "institution": agency.value,
                "side": side.value,
                "request": request_id,
                "state": record.state.value,
                "event": last.detail or last.event,
                "tasks": tasks,
                "notices": fresh if side is Side.BORROWING else [],
                "instruction": index.instruction,
            }
            self.lines.append(line)
            extra = f"  tasks={tasks}" if tasks else ""
            if line["notices"]:
                extra += f"  notices={line['notices']}"
            print(f"  {agency.value:5} {side.value:9} {line['state']:22} <- {line['event']}{extra}")
            if line["instruction"]:
                print(f"        -> {line['instruction']}")


def build(store: Callable[[AgencyId], RequestStore | None]) -> Consortium:
    """The three institutions of the seed story, each with the store ``store`` gives it."""
    net = Consortium(datetime(2026, 9, 7, 9, tzinfo=UTC))
    partners = [Partner(agency, name) for agency, name in NAMES.items()]
    item = ItemRef("C-39001", "QA76 .K6", "Stacks level 2", desk="Main desk")
    net.add(Settings(A), partners=partners, store=store(A))
    net.add(
        Settings(B, lending=LendingPolicy(auto_reject_not_held=True)),
        partners=partners,
        store=store(B),
    )
    net.add(
        Settings(C),
        partners=partners,
        holdings={"9780201896831": Holding(item)},
        store=store(C),
    )
    return net


def tell(json_path: Path | None, store: Callable[[AgencyId], RequestStore | None]) -> int:
    """Tell the story; returns 0 when every request ended as the seed says."""
    net = build(store)
    timeline = Timeline(net)
    a, c = net[A].institution, net[C].institution
    patron = PatronRef("p-1", "Ada Lovelace", group="faculty", email="ada@example.org")
    book = Citation(
        title="The Art of Computer Programming",
        author="Knuth, Donald",
        item_ids=(Identifier("ISBN", "978-0-201-89683-1"),),
    )
    placed: list[str] = []

    def place() -> None:
        request = a.borrowing.place_request(patron, book, pickup_location="Main", rota=[B, C])
        placed.append(request.id)
        timeline.borrowing[A].append(request.id)

    timeline.step("A patron at A asks for a book; the rota is B, then C", place)
    rid = placed[0]
    c_id = c.tasks(TaskList.PICK_FROM_SHELF)[0].request_id
    timeline.step(
        "C picks the item from the shelf (pick slip printed)", lambda: c.lending.pick(c_id)
    )
    timeline.step("C ships it", lambda: c.lending.ship(c_id))
    net.clock.advance(timedelta(days=3))
    timeline.step(
        "A receives it: temporary item, hold shelf", lambda: a.borrowing.receive(rid, "A-TEMP-1")
    )
    timeline.step("The patron collects it", lambda: a.borrowing.check_out(rid))
    net.clock.advance(timedelta(days=27))
    timeline.step("The patron asks to renew; C's policy decides", lambda: a.borrowing.renew(rid))
    net.clock.advance(timedelta(days=4))
    timeline.step(
        "A local patron at C places a hold: recall", lambda: c.lending.local_hold("C-39001", "c-9")
    )
    net.clock.advance(timedelta(days=2))
    timeline.step(
        "The patron returns it at a branch desk",
        lambda: a.borrowing.return_item("A-TEMP-1", "Branch"),
    )
    timeline.step("A ships it back to C", lambda: a.borrowing.ship_return(rid))
    net.clock.advance(timedelta(days=3))
    timeline.step("C checks it in", lambda: c.lending.check_in("C-39001"))
    print(f"        -> C's operator: {net[C].circulation.routes[-1].instruction}")

    final = {(line["institution"], line["side"]): line["state"] for line in timeline.lines}
    ok = (
        final[("US-A", "borrowing")] == "completed"
        and final[("US-B", "lending")] == "unfilled"
        and final[("US-C", "lending")] == "completed"
    )
    print(
        f"\nA: {final[('US-A', 'borrowing')]}, B: {final[('US-B', 'lending')]}, "
        f"C: {final[('US-C', 'lending')]}"
    )
    if json_path is not None:
        with json_path.open("w", encoding="utf-8") as out:
            for line in timeline.lines:
                out.write(json.dumps(line) + "\n")
        print(f"timeline written to {json_path}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and tell the story."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write the timeline as JSON lines"
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "memory"),
        default="sqlite",
        help="where each institution keeps its requests (default: a SQLite file each)",
    )
    args = parser.parse_args(argv)
    if args.store == "memory":
        return tell(args.json, lambda agency: None)
    with tempfile.TemporaryDirectory(prefix="rs-demo-") as folder:
        stores: list[SQLiteStore] = []

        def sqlite(agency: AgencyId) -> SQLiteStore:
            stores.append(SQLiteStore(Path(folder) / f"{agency.value}.sqlite3"))
            return stores[-1]

        try:
            print(f"(each institution keeps its requests in SQLite under {folder})")
            return tell(args.json, sqlite)
        finally:
            for opened in stores:
                opened.close()


if __name__ == "__main__":
    sys.exit(main())
