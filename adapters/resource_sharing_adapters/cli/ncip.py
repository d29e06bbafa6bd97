"""``resource-sharing ncip``: decode or validate an NCIP 2.02 message file.

``decode FILE`` prints the message as JSON (service, version, header with the
authentication masked, fields by local name, Problems, the quirks tolerated); for bytes
that are not a usable NCIP message it prints the Problem an NCIP responder would answer
with, in one line, and exits 2. ``validate FILE`` checks the file against the NCIP 2.02
XSD shipped with the package: exit 0 when valid, 1 when invalid (the validator's
messages listed), 2 when the file cannot be read or is not XML at all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from resource_sharing_adapters.cli._io import print_validation, read_file

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``ncip`` command (``decode`` and ``validate``) to the CLI."""
    parser = subparsers.add_parser(
        "ncip",
        help="decode or validate NCIP 2.02 messages",
        description="Decode or validate NCIP 2.02 messages (the ILS circulation protocol).",
    )
    commands = parser.add_subparsers(dest="ncip_command", required=True, metavar="ACTION")
    decode_parser = commands.add_parser(
        "decode", help="print a message as JSON, or its Problem (exit 2)"
    )
    decode_parser.add_argument("file", type=Path, help="the XML file")
    decode_parser.set_defaults(handler=run_decode)
    validate_parser = commands.add_parser("validate", help="check a message against the XSD")
    validate_parser.add_argument("file", type=Path, help="the XML file")
    validate_parser.set_defaults(handler=run_validate)


def run_decode(args: argparse.Namespace) -> int:
    """Decode the file leniently and print it as JSON; exit 2 with the Problem when it fails."""
    from resource_sharing_adapters.ncip import MalformedNcip, decode  # the ncip extra

    data = read_file(args.file)
    if data is None:
        return 2
    try:
        message = decode(data)
    except MalformedNcip as exc:
        print(f"{args.file}: {exc}")
        return 2
    print(json.dumps(message.to_json(), indent=2, ensure_ascii=False))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Validate the file; exit 0 when valid, 1 when invalid, 2 when it is not even XML."""
    from resource_sharing_adapters.ncip import MalformedNcip, validate  # the ncip extra

    data = read_file(args.file)
    if data is None:
        return 2
    try:
        report = validate(data)
    except MalformedNcip as exc:
        print(f"{args.file}: not valid NCIP 2.02: {exc}")
        return 2
    return print_validation(args.file, "NCIP 2.02", report.valid, report.errors)
