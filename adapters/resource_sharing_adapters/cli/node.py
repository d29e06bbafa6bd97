"""``resource-sharing serve``: run a node.

``serve --config institution.toml`` runs one institution (``docs/http.md``): the ISO
18626 endpoint, the staff API, the dispatcher and the timers, on 127.0.0.1 unless the
configuration or ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys

from resource_sharing.errors import InvalidInput

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
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Load the configuration and serve until interrupted."""
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
