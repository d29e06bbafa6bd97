"""``resource-sharing desk``: work a running node's desks through its staff API.

``desk`` talks to a node started with ``resource-sharing serve`` (its URL and staff
token from ``--config``, or ``--url`` and ``--token`` / ``$RS_STAFF_TOKEN``). It prints
tables staff can read, with the state labels they know; ``--json`` prints the staff
API's answer as one JSON document instead (the same meaning in every command).

After an action it also shows what the node told people about that request (a renewal
refused as too early says so, and when renewals open). Every failure is one line in
words on stderr: bad input exits 2 ("receive needs --barcode"), a node that is down or
refuses the call exits 1.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from resource_sharing.errors import InvalidInput
from resource_sharing.service import BorrowingDesk, LendingDesk
from resource_sharing_adapters.cli._io import json_argument, print_json, state_label

if TYPE_CHECKING:
    from rich.console import Console

    from resource_sharing_adapters.http import StaffClient

__all__ = ["action_fields", "register", "run_desk"]

_PROG = "resource-sharing desk"
_SIDES = ("borrowing", "lending")
_DESKS: Mapping[str, type] = {"borrowing": BorrowingDesk, "lending": LendingDesk}


class DeskError(Exception):
    """A desk command that cannot go on: the one line to print and the exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status
        """2 for bad input, 1 for a node that is down or refused the call."""


# -- the actions: names from the staff API, fields from the desks' signatures ----------


def _actions() -> Mapping[tuple[str, str], tuple[str, Sequence[str]]] | None:
    """(side, action) to (desk method, fields) as the staff API defines them."""
    try:
        from resource_sharing_adapters.http import ACTIONS
    except ImportError:  # the server extra is missing: the command says so when it runs
        return None
    return {
        (side.value, name): (method, tuple(params))
        for (side, name), (method, params) in ACTIONS.items()
    }


_KINDS = {
    "str": "TEXT",
    "bool": "true|false",
    "datetime": "DATE-TIME",
    "Money": "MONEY",
    "ItemRef": "ITEM",
    "CancelledBy": "patron|staff",
    "Sequence[AgencyId]": "AGENCIES",
}


def action_fields(side: str, method: str, fields: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(field, kind of value, required) for an action, from its desk method's signature."""
    params = inspect.signature(getattr(_DESKS[side], method)).parameters
    found = []
    for field in fields:
        param = params.get(field)
        kind = str(param.annotation).replace(" | None", "") if param is not None else "value"
        required = param is not None and param.default is inspect.Parameter.empty
        found.append((field, _KINDS.get(kind, kind.upper()), required))
    return found


_VALUES = """values: TEXT as is; DATE-TIME in ISO 8601 (2026-10-01T12:00:00Z); AGENCIES a JSON
list ('["ISIL:US-C"]'); MONEY '{"amount": "10.00", "currency": "USD"}'; ITEM
'{"barcode": "C-1", "call_number": "QA76", "location": "Stacks"}'; any VALUE may be
@file.json."""


def _actions_epilog() -> str:
    actions = _actions()
    if actions is None:
        return "The list of actions needs the server extra: pip install 'resource-sharing[server]'"
    lines = ["actions and their fields (* required):"]
    for side in _SIDES:
        lines.append(f"  {side}:")
        for (s, name), (method, fields) in sorted(actions.items()):
            if s != side:
                continue
            shown = " ".join(
                f"--{f.replace('_', '-')}{'*' if req else ''} {kind}"
                for f, kind, req in action_fields(side, method, fields)
            )
            lines.append(f"    {name:<18} {shown}".rstrip())
    lines.append(_VALUES)
    lines.append("example: desk act borrowing REQ-1 receive --barcode A-TEMP-1")
    return "\n".join(lines)


def _fields(items: Sequence[str]) -> dict[str, str]:
    """``--field VALUE``, ``--field=VALUE`` and ``field=VALUE`` items as a mapping."""
    found: dict[str, str] = {}
    rest = list(items)
    while rest:
        item = rest.pop(0)
        if item.startswith("--"):
            key, sep, value = item[2:].partition("=")
            if not sep:
                if not rest or rest[0].startswith("--"):
                    raise DeskError(f"--{key} needs a value")
                value = rest.pop(0)
        else:
            key, sep, value = item.partition("=")
            if not sep:
                raise DeskError(f"expected --FIELD VALUE or FIELD=VALUE, got {item!r}")
        if not key:
            raise DeskError(f"a field needs a name: {item!r}")
        found[key.replace("-", "_")] = value
    return found


def _field_value(text: str, name: str) -> Any:
    """A field's value: JSON when it reads as JSON (``@file`` always), text otherwise."""
    if text.startswith("@"):
        return json_argument(text, f"--{name}")
    try:
        return json_argument(text, name)
    except InvalidInput:
        return text


def act_body(side: str, action: str, items: Sequence[str]) -> dict[str, Any]:
    """The JSON body of an action, checked against its fields first (one-line errors)."""
    given = _fields(items)
    actions = _actions()
    if actions is not None:
        spec = actions.get((side, action))
        if spec is None:
            known = ", ".join(sorted(n for s, n in actions if s == side))
            raise DeskError(f"{side} has no action {action!r}; its actions: {known}")
        method, fields = spec
        unknown = sorted(set(given) - set(fields))
        if unknown:
            allowed = ", ".join(f"--{f.replace('_', '-')}" for f in fields) or "no fields"
            names = ", ".join(f"--{u.replace('_', '-')}" for u in unknown)
            raise DeskError(f"{action} does not take {names} (it takes {allowed})")
        missing = [f for f, _, req in action_fields(side, method, fields) if req and f not in given]
        if missing:
            needs = " and ".join(f"--{m.replace('_', '-')}" for m in missing)
            raise DeskError(f"{action} needs {needs}")
    return {k: _field_value(v, k) for k, v in given.items()}


# -- the parser -----------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    """Options every desk command takes after its name too."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the staff API's answer as JSON instead of tables",
    )
    return common


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``desk`` command and its actions."""
    desk = subparsers.add_parser(
        "desk",
        help="staff work on a running node (task lists, requests, scans, the journal)",
        description=(
            "Staff work on a running node through its staff API: tables by default, "
            "JSON with --json. The node's URL and token come from --config, or from --url "
            "and --token ($RS_STAFF_TOKEN)."
        ),
        epilog="Exit status: 0 done, 1 the node is down or refused, 2 bad input, 3 extra missing.",
    )
    desk.add_argument(
        "--config", metavar="FILE", help="the node's TOML configuration (its URL and token)"
    )
    desk.add_argument("--url", help="the node's base URL, e.g. http://127.0.0.1:8701")
    desk.add_argument("--token", help="the staff token (default: $RS_STAFF_TOKEN)")
    desk.add_argument(
        "--json", action="store_true", help="print the staff API's answer as JSON, not tables"
    )
    desk.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for the node (default 30)"
    )
    common = [_common()]
    actions = desk.add_subparsers(dest="desk_command", required=True, metavar="ACTION")

    def add(name: str, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, description=help, parents=common, **kwargs)

    add("info", "the node: agency, name, clock, endpoint, feed positions")
    tasks = add("tasks", "list a staff task list")
    tasks.add_argument(
        "task_list", help="the list, e.g. pick_from_shelf, received_items, check_in, failed"
    )
    tasks.add_argument("--desk", help="only this desk's part of a per-desk list")
    tasks.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    tasks.add_argument("--offset", type=int, default=0, help="skip this many first")
    show = add("show", "show a request: state, instruction, history")
    show.add_argument("side", choices=_SIDES, help="borrowing or lending")
    show.add_argument("request_id", help="the request's id at this node")
    find = add("find", "the request a partner names by its own id")
    find.add_argument("side", choices=_SIDES, help="borrowing or lending")
    find.add_argument("protocol_id", help="the requestingAgencyRequestId")
    find.add_argument("counterpart", help="the partner's agency, e.g. ISIL:US-B")
    act = add(
        "act",
        "act on a request (receive, ship, renew, answer-cancel...)",
        epilog=_actions_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    act.add_argument("side", choices=_SIDES, help="borrowing or lending")
    act.add_argument("request_id", help="the request's id at this node")
    act.add_argument("action", help="the action (listed below)")
    act.add_argument(
        "fields",
        nargs=argparse.REMAINDER,
        metavar="--FIELD VALUE",
        help="the action's fields (also FIELD=VALUE); a VALUE is JSON, text, or @file.json",
    )
    scan = add("scan", "what to do with a scanned item now")
    scan.add_argument("barcode", help="the item's barcode")
    scan.add_argument("--desk", help="the desk where it was scanned")
    ret = add("return", "a patron returned a borrowed item at a desk")
    ret.add_argument("barcode", help="the item's barcode")
    ret.add_argument("--desk", help="the desk where it was returned")
    check_in = add("check-in", "check a loan in when it comes back (says where it goes)")
    check_in.add_argument("barcode", help="the item's barcode")
    hold = add("hold", "a local patron placed a hold on a lent item (recalls it)")
    hold.add_argument("barcode", help="the item's barcode")
    hold.add_argument("--patron", help="the local patron's id")
    place = add("place", "place a borrowing request")
    place.add_argument(
        "body",
        metavar="JSON",
        help="the request as JSON or @request.json: patron, citation, rota, pickup_location...",
    )
    problems = add("problems", "deliveries that gave up: the open delivery tasks")
    problems.add_argument("--desk", help="only this desk's tasks")
    resolve = add("resolve", "a staff choice on a delivery task (recorded with your name)")
    resolve.add_argument("task_id", help="the task's id (from desk problems)")
    resolve.add_argument(
        "choice", choices=["retry-now", "mark-done", "drop"], help="what to do with it"
    )
    resolve.add_argument("--by", help="your staff user name (not needed with your own token)")
    resolve.add_argument("--note", help="why, in words")
    changes = add("changes", "the change feed: every committed step, in order")
    changes.add_argument("--since", type=int, default=0, help="after this position (default 0)")
    journal = add("journal", "notices and circulation commands the node gave, in order")
    journal.add_argument("--since", type=int, default=0, help="after this position (default 0)")
    outbox = add("outbox", "outgoing effects (ISO 18626 messages, notices, commands), delivery")
    outbox.add_argument(
        "--status",
        choices=["pending", "delivered", "given_up", "done_by_hand", "dropped"],
        help="only entries in this status",
    )
    add("failed", "deliveries given up on (a partner or port that kept failing), with the reason")
    add("dispatch", "deliver the outbox now")
    add("tick", "fire the timers that are due now")
    add("sweep", "ask lenders about idle requests now (the consistency sweep), with counts")
    desk.set_defaults(handler=run_desk)


# -- running --------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> StaffClient:
    from resource_sharing_adapters.http import StaffClient, load_config

    url, token = args.url, args.token or os.environ.get("RS_STAFF_TOKEN")
    if args.config:
        config = load_config(args.config)
        url = url or config.server.base_url
        token = token or config.server.staff_token
    if not url:
        raise DeskError("give the node: --config FILE, or --url URL")
    if not token:
        raise DeskError("give the staff token: --token, $RS_STAFF_TOKEN, or --config FILE")
    return StaffClient(url, token, timeout=args.timeout)


def _staff_message(status: int, kind: str, detail: str) -> str:
    if status == 401:
        return "the node refused the staff token (check --token or $RS_STAFF_TOKEN)"
    if kind == "StaffApiOff":
        return "the node's staff API is off (set [server] staff_token in its configuration)"
    if kind == "IllegalTransition":
        return f"refused: {detail}"
    if kind == "NotFound":
        return f"not found: {detail}"
    return detail if status < 500 else f"the node failed ({status}): {detail}"


def run_desk(args: argparse.Namespace) -> int:
    """Run one desk command; prints tables or JSON (see the module's docstring)."""
    import httpx

    from resource_sharing_adapters.http import StaffError

    try:
        with _client(args) as staff:
            result = _COMMANDS[args.desk_command](staff, args)
    except (DeskError, InvalidInput) as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return exc.status if isinstance(exc, DeskError) else 2
    except StaffError as exc:
        print(f"{_PROG}: {_staff_message(exc.status, exc.kind, exc.detail)}", file=sys.stderr)
        return 2 if exc.status in (400, 401, 404, 409) else 1
    except httpx.TimeoutException:
        print(
            f"{_PROG}: the node at {args.url or args.config} did not answer in time",
            file=sys.stderr,
        )
        return 1
    except httpx.HTTPError as exc:
        where = getattr(getattr(exc, "request", None), "url", None) or args.url or args.config
        print(f"{_PROG}: the node is down or unreachable ({where}): {exc}", file=sys.stderr)
        return 1
    if args.json:
        print_json(result.data)
    else:
        result.show(_console())
    return 0


def _console() -> Console:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


class _Result:
    """What a command got: the staff API's answer and how to show it to a person."""

    def __init__(self, data: Any, show: Callable[[Console], None]) -> None:
        self.data = data
        self.show = show


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def _when(value: Any) -> str:
    text = str(value or "")
    return text.replace("T", " ")[:19]


def _pairs(title: str, pairs: Sequence[tuple[str, Any]]) -> Any:
    return _table(title, ["", ""], [(k, v) for k, v in pairs if v not in (None, "", [])])


def _request_pairs(shown: Mapping[str, Any]) -> list[tuple[str, Any]]:
    record = shown.get("record") or {}
    patron = record.get("patron") or {}
    citation = record.get("citation") or {}
    return [
        ("state", f"{state_label(shown['side'], shown['state'])} ({shown['state']})"),
        ("instruction", shown.get("instruction")),
        ("task list", shown.get("task_list")),
        ("desk", shown.get("desk")),
        ("partner", shown.get("counterpart")),
        ("title", citation.get("title")),
        ("patron", patron.get("id")),
        ("barcodes", ", ".join(shown.get("barcodes") or [])),
        ("partner ids", ", ".join(shown.get("protocol_ids") or [])),
        ("version", shown.get("version")),
    ]


def _notice_text(entry: Mapping[str, Any]) -> str:
    detail = entry.get("detail") or {}
    if entry.get("kind") == "patron_notice":
        words = str(detail.get("notice", "")).replace("_", " ")
        extra = detail.get("detail")
        due = detail.get("due")
        text = f"patron notice: {words}"
        if extra:
            text += f": {extra}"
        if due:
            text += f" (due {_when(due)})"
        return text
    if entry.get("kind") == "staff_notice":
        return f"staff notice: {detail.get('text', '')}"
    return f"{entry.get('command')}: " + ", ".join(
        f"{k}={v}" for k, v in detail.items() if k != "request_id" and not isinstance(v, dict)
    )


_SETTLE_SECONDS = 3.0


def _after(staff: StaffClient, mark: int, request_id: str | None) -> list[dict[str, Any]]:
    """The journal entries about ``request_id`` since ``mark``: what the step told people.

    Notices and circulation commands leave through the outbox, which the node's
    dispatcher delivers at once: wait a moment (at most ``_SETTLE_SECONDS``) until none
    of the request's entries is pending, then read the journal.
    """
    deadline = time.monotonic() + _SETTLE_SECONDS
    while time.monotonic() < deadline:
        pending = [
            m
            for m in staff.outbox("pending")
            if m.get("port") != "peer" and (request_id is None or m.get("request") == request_id)
        ]
        if not pending:
            break
        time.sleep(0.05)
    return [
        e for e in staff.journal(mark) if request_id is None or e.get("request_id") == request_id
    ]


def _acted(shown: dict[str, Any], told: list[dict[str, Any]], what: str) -> _Result:
    data = {**shown, "told": told}

    def show(console: Console) -> None:
        title = f"{what}: {shown['side']} request {shown['id']}"
        console.print(_pairs(title, _request_pairs(shown)))
        for entry in told:
            console.print(f"  {_notice_text(entry)}")

    return _Result(data, show)


# -- the commands ---------------------------------------------------------------------


def _info(staff: StaffClient, args: argparse.Namespace) -> _Result:
    info = staff.info()
    return _Result(
        info, lambda c: c.print(_pairs(f"Node {info.get('agency')}", list(info.items())))
    )


def _tasks(staff: StaffClient, args: argparse.Namespace) -> _Result:
    tasks = staff.tasks(args.task_list, desk=args.desk, limit=args.limit, offset=args.offset)
    rows = [
        (
            t.get("request_id"),
            t.get("side"),
            state_label(str(t.get("side")), str(t.get("state"))),
            t.get("instruction"),
            t.get("desk"),
            _when(t.get("updated_at")),
        )
        for t in tasks
    ]
    columns = ["request", "side", "state", "what to do", "desk", "since"]
    title = f"{args.task_list}: {len(tasks)} request(s)"
    return _Result(tasks, lambda c: c.print(_table(title, columns, rows)))


def _show(staff: StaffClient, args: argparse.Namespace) -> _Result:
    shown = staff.request(args.side, args.request_id)
    history = [
        (
            h.get("sequence"),
            _when(h.get("at")),
            h.get("actor"),
            h.get("detail") or h.get("event"),
            state_label(args.side, str(h.get("to_state"))),
        )
        for h in shown.get("history", [])
    ]

    def show(console: Console) -> None:
        console.print(_pairs(f"{args.side} request {shown['id']}", _request_pairs(shown)))
        console.print(_table("History", ["#", "at", "who", "what", "state after"], history))

    return _Result(shown, show)


def _find(staff: StaffClient, args: argparse.Namespace) -> _Result:
    found = staff.find(args.side, args.protocol_id, args.counterpart)
    data = {"side": args.side, "id": found}
    return _Result(data, lambda c: c.print(f"{args.side} request {found}"))


def _act(staff: StaffClient, args: argparse.Namespace) -> _Result:
    fields = [f for f in args.fields if f != "--json"]
    if len(fields) != len(args.fields):
        args.json = True
    body = act_body(args.side, args.action, fields)
    mark = int(staff.info()["journal"])
    shown = staff.act(args.side, args.request_id, args.action, body)
    return _acted(shown, _after(staff, mark, shown["id"]), args.action)


def _scanned(results: list[dict[str, Any]], title: str) -> Callable[[Console], None]:
    rows = [
        (
            r.get("request"),
            r.get("side"),
            state_label(str(r.get("side")), str(r.get("state"))),
            r.get("instruction"),
        )
        for r in results
    ]
    return lambda c: c.print(_table(title, ["request", "side", "state", "what to do"], rows))


def _scan(staff: StaffClient, args: argparse.Namespace) -> _Result:
    results = staff.scan(args.barcode, args.desk)
    if not results:
        return _Result(results, lambda c: c.print(f"no request has the item {args.barcode}"))
    return _Result(results, _scanned(results, f"Item {args.barcode}"))


def _return(staff: StaffClient, args: argparse.Namespace) -> _Result:
    result = staff.return_item(args.barcode, args.desk)
    return _Result(result, _scanned([result], f"Returned {args.barcode}"))


def _check_in(staff: StaffClient, args: argparse.Namespace) -> _Result:
    result = staff.check_in(args.barcode)
    return _Result(result, _scanned([result], f"Checked in {args.barcode}"))


def _hold(staff: StaffClient, args: argparse.Namespace) -> _Result:
    mark = int(staff.info()["journal"])
    shown = staff.local_hold(args.barcode, args.patron)
    return _acted(shown, _after(staff, mark, shown["id"]), "local hold")


def _place(staff: StaffClient, args: argparse.Namespace) -> _Result:
    body = json_argument(args.body, "JSON")
    if not isinstance(body, dict):
        raise DeskError("the request must be a JSON object (patron, citation, ...)")
    mark = int(staff.info()["journal"])
    shown = staff.place(body)
    return _acted(shown, _after(staff, mark, shown["id"]), "placed")


def _changes(staff: StaffClient, args: argparse.Namespace) -> _Result:
    changes = staff.changes(args.since)
    rows = [
        (
            c.get("seq"),
            _when(c.get("at")),
            f"{c.get('side')} {c.get('request_id')}",
            c.get("event"),
            state_label(str(c.get("side")), str(c.get("state"))),
            c.get("instruction"),
        )
        for c in changes
    ]
    columns = ["#", "at", "request", "what happened", "state", "what to do"]
    return _Result(changes, lambda c: c.print(_table("Changes", columns, rows)))


def _journal(staff: StaffClient, args: argparse.Namespace) -> _Result:
    entries = staff.journal(args.since)
    rows = [(e.get("seq"), e.get("request_id"), _notice_text(e)) for e in entries]
    return _Result(entries, lambda c: c.print(_table("Journal", ["#", "request", "what"], rows)))


def _outbox_rows(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            m.get("id"),
            m.get("to") or m.get("port"),
            m.get("request"),
            m.get("kind"),
            m.get("status"),
            m.get("attempts"),
            _when(m.get("next_attempt_at")),
            m.get("last_error"),
        )
        for m in messages
    ]


_OUTBOX_COLUMNS = ["entry", "to", "request", "kind", "status", "tries", "next try", "last error"]


def _outbox(staff: StaffClient, args: argparse.Namespace) -> _Result:
    messages = staff.outbox(args.status)
    rows = _outbox_rows(messages)
    return _Result(messages, lambda c: c.print(_table("Outbox", _OUTBOX_COLUMNS, rows)))


def _failed(staff: StaffClient, args: argparse.Namespace) -> _Result:
    messages = staff.outbox("given_up")
    if not messages:
        return _Result(messages, lambda c: c.print("no failed deliveries"))
    rows = _outbox_rows(messages)
    title = f"Failed deliveries: {len(messages)}"
    return _Result(messages, lambda c: c.print(_table(title, _OUTBOX_COLUMNS, rows)))


def _problems(staff: StaffClient, args: argparse.Namespace) -> _Result:
    tasks = staff.delivery_tasks(args.desk)
    if not tasks:
        return _Result(tasks, lambda c: c.print("no delivery problems"))
    columns = ["task", "request", "what failed", "error", "tries", "desk"]
    rows = [
        (t["id"], t["request_id"], t["title"], t["error"], t["attempts"], t.get("desk"))
        for t in tasks
    ]
    title = f"Delivery problems: {len(tasks)} (desk resolve TASK retry-now|mark-done|drop)"
    return _Result(tasks, lambda c: c.print(_table(title, columns, rows)))


def _resolve(staff: StaffClient, args: argparse.Namespace) -> _Result:
    task = staff.resolve_task(args.task_id, args.choice, by=args.by, note=args.note)
    words = f"{task['id']}: {args.choice.replace('-', ' ')} by {task['resolution']['by']}"
    if task.get("delivered") is not None:
        words += ", delivered" if task["delivered"] else ", failed again (it keeps retrying)"
    return _Result(task, lambda c: c.print(words))


def _dispatch(staff: StaffClient, args: argparse.Namespace) -> _Result:
    report = staff.dispatch()
    words = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in report.items())
    return _Result(report, lambda c: c.print(f"dispatched: {words}"))


def _tick(staff: StaffClient, args: argparse.Namespace) -> _Result:
    fired = staff.tick()
    return _Result({"fired": fired}, lambda c: c.print(f"timers fired: {fired}"))


def _sweep(staff: StaffClient, args: argparse.Namespace) -> _Result:
    report = staff.sweep()
    if not report.get("ran"):
        return _Result(report, lambda c: c.print("sweep: another process is running it"))
    lenders = report.get("per_lender") or {}
    asked = ", ".join(f"{k} {v}" for k, v in sorted(lenders.items())) or "none"
    words = (
        f"sweep: {report['idle']} idle, {report['asked']} asked ({asked}),"
        f" {report['asked_recently']} asked recently, {report['rate_limited']} rate-limited,"
        f" {report['failed']} failed"
    )
    return _Result(report, lambda c: c.print(words))


_COMMANDS: Mapping[str, Callable[[StaffClient, argparse.Namespace], _Result]] = {
    "info": _info,
    "tasks": _tasks,
    "show": _show,
    "find": _find,
    "act": _act,
    "scan": _scan,
    "return": _return,
    "check-in": _check_in,
    "hold": _hold,
    "place": _place,
    "changes": _changes,
    "journal": _journal,
    "outbox": _outbox,
    "failed": _failed,
    "problems": _problems,
    "resolve": _resolve,
    "dispatch": _dispatch,
    "tick": _tick,
    "sweep": _sweep,
}
