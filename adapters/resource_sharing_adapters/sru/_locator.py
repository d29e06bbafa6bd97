"""Holdings over SRU, for both sides of a request.

- Lending: :class:`SruHoldingsLocator` is the :class:`~resource_sharing.ports.HoldingsLocator`
  of our own catalogue. It searches the citation (identifiers first, then the title),
  keeps the records that really match it (identifiers compared normalised), and picks
  the best copy: available before unknown before unavailable, a barcode before none. The
  copy becomes the pick slip's item: barcode, call number, location, and the desk whose
  list shows the work (looked up by location, then library, then holder).
- Borrowing: :class:`PartnerHoldings` asks the catalogue of every candidate partner that
  has an SRU endpoint, once per request and concurrently (a bounded pool), and returns the
  :class:`~resource_sharing.rota.HoldingsAnswer` that ``BorrowingDesk.place_request(...,
  holdings=...)`` takes. The rota then drops exactly the partners whose catalogue
  answered and holds no matching record. A partner without an endpoint, or whose
  catalogue failed or timed out, is listed as a holder without identifiers, so it is kept:
  only a real answer removes a lender, never an outage. A failed one carries the reason
  (``Holding.unknown``), which its rota entry shows ("holdings unknown: ...").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

import attrs

from resource_sharing.identifiers import match_keys
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, Citation, ItemRef
from resource_sharing.rota import Holding as PartnerHolding
from resource_sharing.rota import HoldingsAnswer
from resource_sharing_adapters.sru._client import SruClient
from resource_sharing_adapters.sru._errors import SruError
from resource_sharing_adapters.sru._records import CatalogueItem, CatalogueRecord

__all__ = ["LookupOutcome", "PartnerHoldings", "PartnerLookup", "SruHoldingsLocator"]

_log = logging.getLogger(__name__)


def _rank(item: CatalogueItem) -> tuple[int, int]:
    availability = {True: 0, None: 1, False: 2}[item.available]
    return availability, 0 if item.barcode else 1


class SruHoldingsLocator:
    """Finds the copy to lend in our own catalogue over SRU (the lending auto-locate).

    ``holders``: in a shared (union or network-zone) catalogue, the holder codes or ISILs
    that are ours (other copies are ignored); empty: every copy is ours. ``desks`` maps a
    location, library or holder code to the desk that picks from it; ``default_desk`` is
    used otherwise. Search failures raise the client's :class:`SruError` subclasses.
    """

    def __init__(
        self,
        client: SruClient,
        *,
        holders: Iterable[str] = (),
        desks: Mapping[str, str] | None = None,
        default_desk: str | None = None,
    ) -> None:
        self.client = client
        """The SRU client of our catalogue."""
        self._holders = frozenset(h.casefold() for h in holders)
        self._desks = {k.casefold(): v for k, v in (desks or {}).items()}
        self._default_desk = default_desk

    def _ours(self, item: CatalogueItem) -> bool:
        return not self._holders or (item.holder or "").casefold() in self._holders

    def _desk(self, item: CatalogueItem) -> str | None:
        for key in (item.location, item.library, item.holder):
            if key and key.casefold() in self._desks:
                return self._desks[key.casefold()]
        return self._default_desk

    def candidates(self, citation: Citation) -> list[tuple[CatalogueRecord, CatalogueItem]]:
        """Our copies of the citation, best first (see the module's ranking)."""
        try:
            records = self.client.find(citation)
        except SruError as exc:  # the shell turns it into "locate failed" with the reason
            _log.warning("our catalogue could not be asked: %s", exc)
            raise
        found = [
            (record, item)
            for record in records
            for item in record.items
            if self._ours(item) and (item.barcode or item.local_id or record.record_id)
        ]
        return sorted(found, key=lambda pair: _rank(pair[1]))

    def locate(self, citation: Citation) -> Holding | None:
        """The best copy we hold, or None when our catalogue has no matching copy.

        A copy whose availability the catalogue does not say counts as available (staff
        find out at the shelf). Where the catalogue gives no item barcode (Alma AVA,
        MARC 924), the holding or record id stands in for it on the pick slip.
        """
        ranked = self.candidates(citation)
        if not ranked:
            return None
        record, item = ranked[0]
        barcode = item.barcode or item.local_id or record.record_id or ""
        ref = ItemRef(
            barcode=barcode,
            call_number=item.call_number,
            location=item.location,
            desk=self._desk(item),
            home_library=item.library,
        )
        return Holding(ref, available=item.available is not False)


class LookupOutcome(StrEnum):
    """What one partner's catalogue said about a citation."""

    HELD = "held"
    """It has a matching record (listed in the answer)."""
    NOT_HELD = "not_held"
    """It answered and has no matching record (left out: the rota drops it)."""
    FAILED = "failed"
    """It could not be asked (timeout, error, diagnostic): kept in the rota."""
    NOT_ASKED = "not_asked"
    """It has no SRU endpoint: kept in the rota."""


@attrs.frozen
class PartnerLookup:
    """One partner's part of a holdings look-up, for the explanation and the logs."""

    agency: AgencyId
    """The partner."""
    outcome: LookupOutcome
    """What its catalogue said."""
    available: bool = True
    """Held: whether any matching copy is available (or not said)."""
    reason: str | None = None
    """Failed: why."""


class PartnerHoldings:
    """The borrowing side's holdings look-up: each partner's catalogue asked once.

    ``clients`` maps a partner to the SRU client of its catalogue; ``max_concurrency``
    bounds how many catalogues are asked at the same time.
    """

    def __init__(self, clients: Mapping[AgencyId, SruClient], *, max_concurrency: int = 4) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.clients = dict(clients)
        """The partners' catalogues."""
        self.max_concurrency = max_concurrency
        """How many catalogues are asked at once, at most."""

    def close(self) -> None:
        """Close every client's HTTP connections."""
        for client in self.clients.values():
            client.close()

    def _ask(self, agency: AgencyId, citation: Citation) -> PartnerLookup:
        client = self.clients[agency]
        try:
            records = client.find(citation)
        except SruError as exc:
            _log.warning("holdings of %s not known: %s", agency, exc)
            return PartnerLookup(agency, LookupOutcome.FAILED, reason=str(exc))
        if not records:
            return PartnerLookup(agency, LookupOutcome.NOT_HELD)
        items = [item for record in records for item in record.items]
        available = not items or any(item.available is not False for item in items)
        return PartnerLookup(agency, LookupOutcome.HELD, available=available)

    def lookups(self, citation: Citation, partners: Iterable[AgencyId]) -> list[PartnerLookup]:
        """What each partner's catalogue says, in the order the partners were given."""
        agencies = list(dict.fromkeys(partners))
        asked = [a for a in agencies if a in self.clients]
        results: dict[AgencyId, PartnerLookup] = {}
        if asked:
            workers = min(self.max_concurrency, len(asked))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sru") as pool:
                futures = {a: pool.submit(self._ask, a, citation) for a in asked}
                results = {a: f.result() for a, f in futures.items()}
        return [results.get(a) or PartnerLookup(a, LookupOutcome.NOT_ASKED) for a in agencies]

    def answer(self, citation: Citation, partners: Iterable[AgencyId]) -> HoldingsAnswer:
        """The holdings answer for the rota: every partner but those that answered "not held".

        Held partners carry the citation's identifiers their records matched on, so the
        rota's own normalised comparison agrees with ours.
        """
        keys = tuple(sorted(match_keys(citation), key=lambda k: (k.code, k.value)))
        holdings = tuple(
            PartnerHolding(
                lookup.agency,
                identifiers=keys if lookup.outcome is LookupOutcome.HELD else (),
                available=lookup.available,
                unknown=lookup.reason if lookup.outcome is LookupOutcome.FAILED else None,
            )
            for lookup in self.lookups(citation, partners)
            if lookup.outcome is not LookupOutcome.NOT_HELD
        )
        return HoldingsAnswer(holdings)
