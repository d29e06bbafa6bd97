"""The ``resource-sharing`` command line.

Each command family lives in its own module with a ``register(subparsers)`` function
that adds its parser and sets ``handler``: a function taking the parsed arguments and
returning the exit status. Registering imports no optional library: each handler imports
what it needs when it runs, so ``--help`` works on a bare install and a command whose
extra is missing says which one to install (:mod:`._extras`).

Exit statuses: 0 done, 1 the command ran and found a problem (a node that is down, an
invalid message, a broken invariant), 2 bad input, 3 a missing extra, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from resource_sharing import __version__
from resource_sharing_adapters.cli import desk, iso18626, ncip, node, rota, simulate, staff, states
from resource_sharing_adapters.cli._extras import EXIT_MISSING_EXTRA, missing_extra

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]

_FAMILIES = (states, iso18626, ncip, rota, node, desk, simulate, staff)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command family registered."""
    parser = argparse.ArgumentParser(
        prog="resource-sharing",
        description="Peer-to-peer interlibrary loan: lifecycles, rota, ISO 18626.",
        epilog="Exit status: 0 done, 1 a problem found, 2 bad input, 3 a missing extra.",
    )
    parser.add_argument("--version", action="version", version=f"resource-sharing {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in _FAMILIES:
        family.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module's docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ModuleNotFoundError as error:
        message = missing_extra(args.command, error)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return EXIT_MISSING_EXTRA
    except KeyboardInterrupt:
        print(f"resource-sharing {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
