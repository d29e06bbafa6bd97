"""Port factories for node tests, named in configurations as ``port_factories:NAME``.

``recording_circulation`` journals like the default and also keeps what the factory was
given; ``broken`` raises; ``incomplete`` returns an object without the port's methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
