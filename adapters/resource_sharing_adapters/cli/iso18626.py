"""``resource-sharing iso18626``: decode or validate an ISO 18626 message file.

``decode FILE`` prints the decoded record as JSON (datetimes as ISO 8601 strings, the
security code masked), with
the envelope version, unknown elements and warnings; for a message that cannot be
decoded it prints the ISO 18626 errorType and errorValue and exits 2. ``validate FILE``
reports validity against the shipped XSD of ``--version`` (1.2 by default) with the
validator's messages, exiting 1 when invalid.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import cattrs

from resource_sharing.messages import Authentication
from resource_sharing_adapters.cli._io import print_validation, read_file

__all__ = ["VERSIONS", "register", "to_json"]

VERSIONS = ("1.2", "2021-2")
"""The schema versions ``validate`` knows (the codec's ``Version``; the codec needs lxml)."""


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(Decimal, str)
    # The security code is a credential: shown masked, never printed.
    converter.register_unstructure_hook(
        Authentication,
        lambda auth: {
            "account_id": auth.account_id,
            "security_code": None if auth.security_code is None else "***",
        },
    )
    return converter


_CONVERTER = _converter()


def to_json(value: object) -> Any:
    """A record (or any value cattrs knows) as JSON-ready data."""
    return _CONVERTER.unstructure(value)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``iso18626`` command (``decode`` and ``validate``) to the CLI."""
    parser = subparsers.add_parser(
        "iso18626",
        help="decode or validate ISO 18626 XML messages",
        description="Decode or validate ISO 18626 XML messages.",
    )
    commands = parser.add_subparsers(dest="iso18626_command", required=True, metavar="ACTION")
    decode_parser = commands.add_parser(
        "decode", help="print a message as JSON, or its ISO error (exit 2)"
    )
    decode_parser.add_argument("file", type=Path, help="the XML file")
    decode_parser.add_argument(
        "--strict", action="store_true", help="refuse unknown elements and a wrong namespace"
    )
    decode_parser.set_defaults(handler=run_decode)
    validate_parser = commands.add_parser("validate", help="check a message against the XSD")
    validate_parser.add_argument("file", type=Path, help="the XML file")
    validate_parser.add_argument(
        "--version",
        choices=VERSIONS,
        default=VERSIONS[0],
        help="the schema version (default 1.2)",
    )
    validate_parser.set_defaults(handler=run_validate)


def run_decode(args: argparse.Namespace) -> int:
    """Decode the file and print it as JSON; exit 2 with the ISO error when it fails."""
    from resource_sharing_adapters.iso18626 import DecodeError, decode

    data = read_file(args.file)
    if data is None:
        return 2
    try:
        decoded = decode(data, strict=args.strict)
    except DecodeError as exc:
        print(
            json.dumps(
                {
                    "errorType": exc.error_type.value,
                    "errorValue": exc.error_value,
                    "message": exc.element,
                },
                ensure_ascii=False,
            )
        )
        return 2
    out = {
        "message": decoded.element,
        "version": decoded.version,
        "record": to_json(decoded.message),
        "unknown_elements": list(decoded.unknown_elements),
        "warnings": list(decoded.warnings),
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Validate the file; exit 0 when valid, 1 when invalid, 2 when it is not even XML."""
    from resource_sharing_adapters.iso18626 import DecodeError, validate

    data = read_file(args.file)
    if data is None:
        return 2
    try:
        report = validate(data, version=args.version)
    except DecodeError as exc:
        print(f"{args.file}: not valid ISO 18626 {args.version}: {exc.error_value}")
        return 2
    return print_validation(
        args.file, f"ISO 18626 {report.version.value}", report.valid, report.errors
    )
