"""Port factories for node tests, named in configurations as ``MODULE:NAME``.

``recording_circulation`` journals like the default and also keeps what the factory was
given; ``broken`` raises; ``incomplete`` returns an object without the port's methods;
``flaky_circulation`` and ``flaky_printer`` are a host system that fails the first
attempts of every effect and logs each attempt to a file several processes share.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from resource_sharing.effects import (
    CheckIn,
    CheckOutToPartner,
    CheckOutToPatron,
    CreateTemporaryItem,
    DeleteTemporaryItem,
    PlaceOnHoldShelf,
    PrintJob,
    RecallPatronLoan,
    RenewPatronLoan,
    RouteItem,
)
from resource_sharing.errors import DeliveryError
from resource_sharing_adapters.http import JournalCirculation, PortContext

MADE: list[tuple[dict[str, Any], PortContext]] = []
"""Every (settings, context) ``recording_circulation`` was called with, in this process."""


def recording_circulation(settings: Mapping[str, Any], context: PortContext) -> object:
    """The journal's circulation, noting the settings and context it was made with."""
    MADE.append((dict(settings), context))
    return JournalCirculation(context.journal)


def broken(settings: Mapping[str, Any], context: PortContext) -> object:
    """A factory whose host system cannot be reached."""
    raise ConnectionRefusedError("the ILS is down")


def incomplete(settings: Mapping[str, Any], context: PortContext) -> object:
    """A factory that returns something that is not a circulation port."""
    return object()


# -- a flaky host system shared by several processes -------------------------------------


class _Flaky:
    """Deliveries that fail the first ``fail_first`` attempts of every key, then succeed.

    Every attempt and every delivery is one JSON line appended to the file ``log`` (one
    ``write`` with ``O_APPEND``, so several processes can share it): ``event`` (attempt,
    refused, delivered), ``pid``, ``command``, ``key``, ``request``. With ``block_once`` (a
    marker file) and ``block_command``, the first attempt of that command writes the
    marker and hangs (the test kills the process there: between commit and delivery).
    """

    def __init__(self, settings: Mapping[str, Any], context: PortContext) -> None:
        self._log = Path(str(settings["log"]))
        if not self._log.is_absolute():
            self._log = context.base / self._log
        self._fail_first = int(settings.get("fail_first", 0))
        marker = settings.get("block_once")
        self._marker = None if marker is None else context.base / str(marker)
        self._block = settings.get("block_command")
        self._journal = context.journal

    def _write(self, event: str, command: object, key: str) -> None:
        line = json.dumps(
            {
                "event": event,
                "pid": os.getpid(),
                "command": type(command).__name__,
                "key": key,
                "request": getattr(command, "request_id", None),
            }
        )
        fd = os.open(self._log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def _attempts(self, key: str) -> int:
        if not self._log.exists():
            return 0
        lines = self._log.read_text(encoding="utf-8").splitlines()
        return sum(1 for line in lines if '"attempt"' in line and f'"{key}"' in line)

    def deliver(self, kind: str, command: object, key: str) -> None:
        """One attempt: maybe hang, maybe refuse (retryable), else deliver and journal it."""
        earlier = self._attempts(key)
        self._write("attempt", command, key)
        if (
            self._marker is not None
            and type(command).__name__ == self._block
            and not self._marker.exists()
        ):
            self._marker.write_text(key, encoding="utf-8")
            time.sleep(600)  # killed here
        if earlier < self._fail_first:
            self._write("refused", command, key)
            raise DeliveryError("the flaky host", f"attempt {earlier + 1} fails", retryable=True)
        self._journal.record(kind, command, key=key)
        self._write("delivered", command, key)


class FlakyCirculation(_Flaky):
    """A circulation port of the flaky host system."""

    def create_temporary_item(self, command: CreateTemporaryItem, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def delete_temporary_item(self, command: DeleteTemporaryItem, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def place_on_hold_shelf(self, command: PlaceOnHoldShelf, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def check_out_to_patron(self, command: CheckOutToPatron, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def renew_patron_loan(self, command: RenewPatronLoan, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def recall_patron_loan(self, command: RecallPatronLoan, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def check_out_to_partner(self, command: CheckOutToPartner, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)

    def check_in(self, command: CheckIn, *, key: str) -> str | None:
        """Deliver (after the failures); no routing instruction."""
        self.deliver("circulation", command, key)
        return None

    def route_item(self, command: RouteItem, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("circulation", command, key)


class FlakyPrinter(_Flaky):
    """A printer of the flaky host system."""

    def print_document(self, job: PrintJob, *, key: str) -> None:
        """Deliver (after the failures)."""
        self.deliver("print", job, key)


def flaky_circulation(settings: Mapping[str, Any], context: PortContext) -> object:
    """``[ports.circulation] factory = "tests.adapters.http.port_factories:flaky_circulation"``."""
    return FlakyCirculation(settings, context)


def flaky_printer(settings: Mapping[str, Any], context: PortContext) -> object:
    """``[ports.printer] factory = "tests.adapters.http.port_factories:flaky_printer"``."""
    return FlakyPrinter(settings, context)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The lines of a flaky port's log."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
