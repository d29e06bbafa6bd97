"""Holdings over SRU: our own catalogue for the lending locate, partners' for the rota.

- :class:`SruClient` and :class:`SruTarget`: searchRetrieve over SRU 1.1, 1.2 and 2.0
  (httpx, lxml), records read by :func:`read_record` into :class:`CatalogueRecord` and
  :class:`CatalogueItem` (MARC 852, 952, AVA, 924, 999, OPAC XML, ISO 20775).
- :class:`SruHoldingsLocator`: the :class:`~resource_sharing.ports.HoldingsLocator` of
  our own catalogue (barcode, call number, location, desk of the copy to lend).
- :class:`PartnerHoldings`: each partner's catalogue asked once per request, concurrently,
  into the :class:`~resource_sharing.rota.HoldingsAnswer` the rota takes.
- :func:`from_config` (the ``[ports.holdings]`` factory), :func:`split_partner_sru` (the ``sru``
  key of a ``[[partners]]`` table), :func:`partner_holdings`.
- Errors: :class:`SruError` and its children (:class:`SruUnavailable`,
  :class:`SruTimeout`, :class:`SruBadResponse`, :class:`SruDiagnostic`).

See ``docs/integration.md`` ("SRU").
"""

from __future__ import annotations

from resource_sharing_adapters.sru._client import SRU_VERSIONS, SearchResult, SruClient, SruTarget
from resource_sharing_adapters.sru._config import (
    from_config,
    parse_target,
    partner_holdings,
    split_partner_sru,
)
from resource_sharing_adapters.sru._cql import (
    INDEX_PRESETS,
    CqlIndexes,
    identifier_query,
    quote,
    title_query,
    title_words,
)
from resource_sharing_adapters.sru._errors import (
    Diagnostic,
    SruBadResponse,
    SruDiagnostic,
    SruError,
    SruTimeout,
    SruUnavailable,
)
from resource_sharing_adapters.sru._locator import (
    LookupOutcome,
    PartnerHoldings,
    PartnerLookup,
    SruHoldingsLocator,
)
from resource_sharing_adapters.sru._records import CatalogueItem, CatalogueRecord, read_record

__all__ = [
    "INDEX_PRESETS",
    "SRU_VERSIONS",
    "CatalogueItem",
    "CatalogueRecord",
    "CqlIndexes",
    "Diagnostic",
    "LookupOutcome",
    "PartnerHoldings",
    "PartnerLookup",
    "SearchResult",
    "SruBadResponse",
    "SruClient",
    "SruDiagnostic",
    "SruError",
    "SruHoldingsLocator",
    "SruTarget",
    "SruTimeout",
    "SruUnavailable",
    "from_config",
    "identifier_query",
    "parse_target",
    "partner_holdings",
    "quote",
    "read_record",
    "split_partner_sru",
    "title_query",
    "title_words",
]
