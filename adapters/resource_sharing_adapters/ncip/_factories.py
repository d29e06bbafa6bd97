"""Factories a node's TOML names in ``[ports.circulation]`` and ``[ports.patron_validator]``.

``factory = "resource_sharing_adapters.ncip:from_config"`` (and
``...:patron_validator_from_config``): the node calls ``factory(settings, context)`` with
the rest of the table and its port context; the table is read by
:meth:`NcipConfig.from_table`. From the context come our agency (the default
``from_agency``) and the clock (for expiry dates). Both also work without a context, from
a plain mapping. Nothing connects before the first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from resource_sharing.ports import Clock
from resource_sharing.records import AgencyId
from resource_sharing_adapters.ncip._circulation import NcipCirculation
from resource_sharing_adapters.ncip._client import NcipClient
from resource_sharing_adapters.ncip._config import NcipConfig
from resource_sharing_adapters.ncip._patrons import NcipPatronValidator

__all__ = ["PortContextLike", "from_config", "patron_validator_from_config"]


class PortContextLike(Protocol):
    """What the factories read of the node's port context."""

    @property
    def agency(self) -> AgencyId:
        """The institution the node is."""
        ...

    @property
    def clock(self) -> Clock:
        """The node's clock."""
        ...


def _config(settings: Mapping[str, Any], context: PortContextLike | None) -> NcipConfig:
    table = dict(settings)
    if context is not None:
        table.setdefault("from_agency", context.agency.value)
    return NcipConfig.from_table(table)


def from_config(
    settings: Mapping[str, Any], context: PortContextLike | None = None
) -> NcipCirculation:
    """The NCIP circulation of the ILS the table describes."""
    return NcipCirculation(NcipClient(_config(settings, context)))


def patron_validator_from_config(
    settings: Mapping[str, Any], context: PortContextLike | None = None
) -> NcipPatronValidator:
    """The LookupUser patron validator of the ILS the table describes."""
    client = NcipClient(_config(settings, context))
    if context is None:
        return NcipPatronValidator(client)
    return NcipPatronValidator(client, clock=context.clock.now)
