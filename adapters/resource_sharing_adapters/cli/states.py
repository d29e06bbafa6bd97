"""``resource-sharing states``: print a lifecycle table (JSON, Mermaid, DOT or Markdown).

The JSON form is :meth:`resource_sharing.lifecycle.Lifecycle.to_dict`, whose schema is
documented in ``docs/lifecycles.md``; Mermaid, DOT and Markdown are views of the same table
(the Markdown form is the states table that docs/lifecycles.md carries, checked by a test).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from resource_sharing.borrowing import BORROWING
from resource_sharing.lending import LENDING
from resource_sharing.lifecycle import Lifecycle

__all__ = ["register", "run"]

_LIFECYCLES: dict[str, Lifecycle[Any, Any, Any]] = {
    "borrowing": BORROWING,
    "lending": LENDING,
}
_FORMATS = ("json", "mermaid", "dot", "markdown")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``states`` command to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "states",
        help="print a lifecycle table (states, edges, guards, coverage)",
        description="Print the borrowing or lending lifecycle table.",
    )
    parser.add_argument("lifecycle", choices=sorted(_LIFECYCLES), help="which side")
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="json",
        help="json (the stable schema of docs/lifecycles.md), mermaid, dot or markdown",
    )
    parser.add_argument(
        "--json", action="store_true", help="the same as --format json (as in every command)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the chosen lifecycle in the chosen format; returns the exit status."""
    lifecycle = _LIFECYCLES[args.lifecycle]
    if args.json or args.format == "json":
        print(json.dumps(lifecycle.to_dict(), indent=2, ensure_ascii=False))
    elif args.format == "mermaid":
        print(lifecycle.to_mermaid(), end="")
    elif args.format == "markdown":
        print(lifecycle.to_markdown(), end="")
    else:
        print(lifecycle.to_dot(), end="")
    return 0
