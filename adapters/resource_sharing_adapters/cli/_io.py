"""What every command shares: JSON arguments (inline or ``@file``), JSON output, labels.

- :func:`json_argument` reads a JSON argument given inline or as ``@path`` (``-`` or
  ``@-``: standard input), with one-line errors naming the argument.
- :func:`read_file` reads a message file for ``decode`` and ``validate``, saying in one
  line on standard error why it could not.
- :func:`print_json` is what ``--json`` means in every command: one JSON document on
  standard output (indented, UTF-8 kept), and nothing else there.
- :func:`state_label` gives a state's label as staff know it (the Alma wording of the
  lifecycle tables).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from resource_sharing.borrowing import BORROWING
from resource_sharing.errors import InvalidInput
from resource_sharing.lending import LENDING
from resource_sharing.states import BorrowingState, LendingState

__all__ = ["json_argument", "print_json", "print_validation", "read_file", "state_label"]


def json_argument(text: str, name: str) -> Any:
    """``text`` as JSON, or the JSON in the file ``@path`` names (``@-``: stdin)."""
    where = name
    if text.startswith("@"):
        path = text[1:]
        where = f"{name} ({path})"
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(name, f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(where, f"not valid JSON ({exc})") from None


def read_file(path: Path) -> bytes | None:
    """The file's bytes, or None after printing why it cannot be read (the caller exits 2)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def print_validation(path: Path, standard: str, valid: bool, errors: Sequence[object]) -> int:
    """Print whether ``path`` is valid ``standard`` and each error; the exit status (0 or 1)."""
    if valid:
        print(f"{path}: valid {standard}")
        return 0
    print(f"{path}: not valid {standard}")
    for error in errors:
        print(f"  {error}")
    return 1


def print_json(value: Any) -> None:
    """Print ``value`` as the one JSON document of a command's ``--json`` output."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def state_label(side: str, state: str) -> str:
    """The label staff know for ``state`` on ``side`` (the name itself if unknown)."""
    try:
        if side == "borrowing":
            return BORROWING.info(BorrowingState(state)).label
        if side == "lending":
            return LENDING.info(LendingState(state)).label
    except (ValueError, KeyError):
        pass
    return state
