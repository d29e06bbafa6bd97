"""The ``resource-sharing`` command line.

Each command family lives in its own module with a ``register(subparsers)`` function
that adds its parser and sets ``handler``: a function taking the parsed arguments and
returning the exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from resource_sharing_adapters.cli import iso18626, ncip, node, rota, simulate, staff, states

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]

_FAMILIES = (states, iso18626, ncip, rota, node, simulate, staff)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command family registered."""
    parser = argparse.ArgumentParser(
        prog="resource-sharing",
        description="Peer-to-peer interlibrary loan: lifecycles, rota, ISO 18626.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in _FAMILIES:
        family.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
