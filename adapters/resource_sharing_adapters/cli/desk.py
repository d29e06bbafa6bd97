"""``resource-sharing desk``: work a running node's desks through its staff API.

``desk`` talks to a running node's staff API (the URL and token from ``--config``, or
``--url`` and ``--token`` / ``$RS_STAFF_TOKEN``) and prints JSON: list a task list, show
a request, act on it, scan a barcode, take a return, check an item in, place a hold or a
request, follow the change feed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from resource_sharing.errors import InvalidInput

__all__ = ["register", "run_desk"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``desk`` command."""
    desk = subparsers.add_parser(
        "desk",
        help="staff actions on a running node",
        description="Staff actions on a running node, through its staff API (JSON output).",
    )
    desk.add_argument("--config", help="the node's TOML configuration (URL and staff token)")
    desk.add_argument("--url", help="the node's base URL, e.g. http://127.0.0.1:8701")
    desk.add_argument("--token", help="the staff token (default: $RS_STAFF_TOKEN)")
    actions = desk.add_subparsers(dest="desk_command", required=True, metavar="ACTION")
    tasks = actions.add_parser("tasks", help="list a task list")
    tasks.add_argument("task_list", help="e.g. pick_from_shelf, received_items, check_in")
    tasks.add_argument("--desk")
    tasks.add_argument("--limit", type=int, default=50)
    tasks.add_argument("--offset", type=int, default=0)
    show = actions.add_parser("show", help="show a request and its history")
    show.add_argument("side", choices=["borrowing", "lending"])
    show.add_argument("request_id")
    act = actions.add_parser("act", help="act on a request (receive, ship, answer-cancel...)")
    act.add_argument("side", choices=["borrowing", "lending"])
    act.add_argument("request_id")
    act.add_argument("action")
    act.add_argument(
        "args", nargs="*", metavar="KEY=VALUE", help="arguments (a VALUE that is JSON is read so)"
    )
    scan = actions.add_parser("scan", help="what to do with a scanned item")
    scan.add_argument("barcode")
    scan.add_argument("--desk")
    ret = actions.add_parser("return", help="a patron returned a borrowed item")
    ret.add_argument("barcode")
    ret.add_argument("--desk")
    check_in = actions.add_parser("check-in", help="check a returned loan in")
    check_in.add_argument("barcode")
    hold = actions.add_parser("hold", help="a local patron placed a hold on a lent item")
    hold.add_argument("barcode")
    hold.add_argument("--patron")
    place = actions.add_parser("place", help="place a borrowing request (JSON body)")
    place.add_argument("body", help="the request as JSON: patron, citation, rota, ...")
    changes = actions.add_parser("changes", help="the change feed")
    changes.add_argument("--since", type=int, default=0)
    desk.set_defaults(handler=run_desk)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput("args", f"expected KEY=VALUE, got {item!r}")
        body[key.replace("-", "_")] = _value(value)
    return body


def run_desk(args: argparse.Namespace) -> int:
    """Call the staff API and print the answer as JSON."""
    from resource_sharing_adapters.http import StaffClient, StaffError, load_config

    try:
        url, token = args.url, args.token or os.environ.get("RS_STAFF_TOKEN")
        if args.config:
            config = load_config(args.config)
            url = url or config.server.base_url
            token = token or config.server.staff_token
        if not url or not token:
            raise InvalidInput("desk", "give --config, or --url and --token ($RS_STAFF_TOKEN)")
        with StaffClient(url, token) as staff:
            result = _desk(staff, args)
    except (InvalidInput, StaffError) as exc:
        print(f"resource-sharing desk: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"resource-sharing desk: cannot reach the node: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _desk(staff: Any, args: argparse.Namespace) -> Any:
    command = args.desk_command
    if command == "tasks":
        return staff.tasks(args.task_list, desk=args.desk, limit=args.limit, offset=args.offset)
    if command == "show":
        return staff.request(args.side, args.request_id)
    if command == "act":
        return staff.act(args.side, args.request_id, args.action, _pairs(args.args))
    if command == "scan":
        return staff.scan(args.barcode, args.desk)
    if command == "return":
        return staff.return_item(args.barcode, args.desk)
    if command == "check-in":
        return staff.check_in(args.barcode)
    if command == "hold":
        return staff.local_hold(args.barcode, args.patron)
    if command == "place":
        body = _value(args.body)
        if not isinstance(body, dict):
            raise InvalidInput("body", "expected a JSON object")
        return staff.place(body)
    return staff.changes(args.since)
