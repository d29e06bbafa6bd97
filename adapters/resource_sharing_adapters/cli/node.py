"""``resource-sharing serve``: run a node.

``serve --config institution.toml`` runs one institution (``docs/http.md``): the ISO
18626 endpoint, the staff API, the dispatcher and the timers, on 127.0.0.1 unless the
configuration or ``--host`` says otherwise. ``serve --check`` reads the configuration,
lists every problem in it (one line each, with its place in the file) and exits: 0 when
there is none, 2 otherwise; ``--json`` prints ``{"ok", "problems", "notes"}`` instead.
"""

from __future__ import annotations

import argparse
import sys

from resource_sharing.errors import InvalidInput
from resource_sharing_adapters.cli._io import print_json

__all__ = ["register", "run_serve"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command."""
    serve = subparsers.add_parser(
        "serve",
        help="run an institution node (ISO 18626 over HTTP)",
        description="Run one institution: ISO 18626 endpoint, staff API, dispatcher, timers.",
    )
    serve.add_argument("--config", required=True, help="the node's TOML configuration")
    serve.add_argument("--host", help="listen on this interface (default: the config's)")
    serve.add_argument("--port", type=int, help="listen on this port (default: the config's)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="the least severe log lines written (default info)",
    )
    serve.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="text lines, or one JSON object per line (default text)",
    )
    serve.add_argument(
        "--check",
        action="store_true",
        help="check the configuration, list every problem in it, and exit (0: none)",
    )
    serve.add_argument("--json", action="store_true", help="with --check: print the report as JSON")
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Load the configuration and serve until interrupted (or only check it)."""
    if args.check:
        return run_check(args)
    from resource_sharing_adapters.http import load_config, serve

    try:
        config = load_config(args.config)
    except InvalidInput as exc:
        print(f"resource-sharing serve: {exc}", file=sys.stderr)
        return 2
    serve(
        config,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_format=args.log_format,
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Print every problem of the configuration; 0 when there is none, 2 otherwise."""
    from resource_sharing_adapters.http._check import check_config

    report = check_config(args.config)
    if args.json:
        print_json({"ok": report.ok, "problems": report.problems, "notes": report.notes})
    else:
        for problem in report.problems:
            print(f"problem: {problem}")
        for note in report.notes:
            print(f"note: {note}")
        count = len(report.problems)
        verdict = "ok" if report.ok else f"{count} problem{'s' if count != 1 else ''}"
        print(f"{report.source}: {verdict}")
    return 0 if report.ok else 2
