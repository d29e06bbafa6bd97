"""An SRU searchRetrieve client (SRU 1.1, 1.2 and 2.0 over HTTP GET, with httpx).

The two response forms differ in namespace and in how a record is embedded: SRU 1.x
(``http://www.loc.gov/zing/srw/``) says ``recordPacking`` ``xml`` or ``string``, SRU 2.0
(``http://docs.oasis-open.org/ns/search-ws/sruResponse``) says ``recordXMLEscaping``;
``string`` means the record is escaped text to parse again. Both are read by local name,
whatever the server's prefixes. A non-surrogate diagnostic with no records is fatal
(:class:`SruDiagnostic`); a surrogate diagnostic (a record whose schema is
``info:srw/schema/1/diagnostics-v1.1``) stands for one record that could not be sent and
is kept aside. Answers are bounded in size and parsed without DTDs or entities.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs
import httpx
from lxml import etree

from resource_sharing.records import Citation
from resource_sharing_adapters.sru._cql import CqlIndexes, identifier_query, title_query
from resource_sharing_adapters.sru._errors import (
    Diagnostic,
    SruBadResponse,
    SruDiagnostic,
    SruTimeout,
    SruUnavailable,
)
from resource_sharing_adapters.sru._records import CatalogueRecord, read_record
from resource_sharing_adapters.sru._xml import UnsafeXml, local_name, parse_untrusted

__all__ = ["SRU_VERSIONS", "SearchResult", "SruClient", "SruTarget"]

_log = logging.getLogger(__name__)

SRU_VERSIONS = frozenset({"1.1", "1.2", "2.0"})
"""The protocol versions the client speaks."""


@attrs.frozen
class SruTarget:
    """One catalogue's SRU endpoint and how to ask it."""

    url: str
    """The base URL (``https://host/view/sru/INST`` for Alma, ``http://host:9999/biblios``...)."""
    version: str = attrs.field(default="1.2")
    """``1.1``, ``1.2`` or ``2.0`` (Alma documents 1.2; Koha's Zebra speaks 1.1)."""
    record_schema: str = "marcxml"
    """The ``recordSchema`` asked for: ``marcxml``, ``opac`` (YAZ, FOLIO), ``isohold`` (Alma)."""
    indexes: CqlIndexes = attrs.field(factory=CqlIndexes)
    """The server's CQL index names."""
    max_records: int = 10
    """``maximumRecords``: the most records one search returns."""
    timeout_seconds: float = 10.0
    """Bound on connecting and on each read."""
    title_fallback: bool = True
    """When the identifier search finds no matching record, search the title too."""
    params: tuple[tuple[str, str], ...] = ()
    """Extra query parameters (``x-username``, ``x-filterHoldingsByCampusCode``...)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra HTTP headers (an API key...)."""
    max_bytes: int = 8 << 20
    """Larger answers are refused (:class:`SruBadResponse`)."""

    @version.validator
    def _known(self, _: object, value: str) -> None:
        if value not in SRU_VERSIONS:
            raise ValueError(f"SRU version {value!r} is not one of {sorted(SRU_VERSIONS)}")


@attrs.frozen
class SearchResult:
    """What one searchRetrieve answered."""

    version: str
    """The response form: ``1.x`` or ``2.0``."""
    number_of_records: int
    """Hits the server counted (may exceed the records sent)."""
    records: tuple[CatalogueRecord, ...] = ()
    """The records sent, read."""
    diagnostics: tuple[Diagnostic, ...] = ()
    """Non-fatal and surrogate diagnostics."""


def _diagnostic(element: etree._Element) -> Diagnostic:
    found = {local_name(child): (child.text or "").strip() or None for child in element}
    return Diagnostic(found.get("uri") or "", found.get("details"), found.get("message"))


def _element_children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


class SruClient:
    """Searches one SRU catalogue; thread-safe (the partner look-ups share nothing else).

    ``http`` is an httpx client to use (its timeouts apply); by default the client makes
    its own with the target's timeout and closes it in :meth:`close`.
    """

    def __init__(self, target: SruTarget, *, http: httpx.Client | None = None) -> None:
        self.target = target
        """Where and how it searches."""
        self._owned = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(target.timeout_seconds), follow_redirects=True
        )

    def close(self) -> None:
        """Close the HTTP client if this client made it."""
        if self._owned:
            self._http.close()

    def __enter__(self) -> SruClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def params(self, query: str) -> dict[str, str]:
        """The searchRetrieve query parameters for a CQL query."""
        target = self.target
        packing = "recordXMLEscaping" if target.version == "2.0" else "recordPacking"
        return {
            "operation": "searchRetrieve",
            "version": target.version,
            "query": query,
            "startRecord": "1",
            "maximumRecords": str(target.max_records),
            "recordSchema": target.record_schema,
            packing: "xml",
            **dict(target.params),
        }

    def search(self, query: str) -> SearchResult:
        """Run one CQL searchRetrieve; raises an :class:`SruError` subclass when it fails."""
        url = self.target.url
        try:
            with self._http.stream(
                "GET", url, params=self.params(query), headers=dict(self.target.headers)
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.target.max_bytes:
                        raise SruBadResponse(
                            url, f"answer larger than {self.target.max_bytes} bytes"
                        )
                status = response.status_code
        except httpx.TimeoutException as exc:
            raise SruTimeout(url, f"no answer within {self.target.timeout_seconds} s") from exc
        except httpx.HTTPError as exc:
            raise SruUnavailable(url, f"cannot reach it: {exc}") from exc
        if status >= 500:
            raise SruUnavailable(url, f"HTTP {status}")
        try:
            result = self.read(bytes(body))
        except SruBadResponse:
            if status >= 400:
                raise SruBadResponse(url, f"HTTP {status}") from None
            raise
        _log.debug("SRU %s: %d hit(s) for %s", url, result.number_of_records, query)
        return result

    def read(self, body: bytes) -> SearchResult:
        """A searchRetrieve response's records and diagnostics (either SRU version)."""
        url = self.target.url
        try:
            root = parse_untrusted(body)
        except UnsafeXml as exc:
            raise SruBadResponse(url, str(exc)) from None
        name = local_name(root)
        if name == "diagnostics":
            raise SruDiagnostic(url, [_diagnostic(d) for d in _element_children(root)])
        if name != "searchRetrieveResponse":
            raise SruBadResponse(url, f"expected a searchRetrieveResponse, got <{name}>")
        version = "2.0" if "oasis-open.org" in str(root.tag) else "1.x"
        parts: Mapping[str, etree._Element] = {
            local_name(child): child for child in _element_children(root)
        }
        diagnostics = (
            [_diagnostic(d) for d in _element_children(parts["diagnostics"])]
            if "diagnostics" in parts
            else []
        )
        count_text = (
            (parts["numberOfRecords"].text or "").strip() if "numberOfRecords" in parts else ""
        )
        if not count_text.isdigit():
            if diagnostics:
                raise SruDiagnostic(url, diagnostics)
            raise SruBadResponse(url, "numberOfRecords missing or not a number")
        records: list[CatalogueRecord] = []
        for record in _element_children(parts["records"]) if "records" in parts else []:
            found = self._record(record, diagnostics)
            if found is not None:
                records.append(found)
        if diagnostics and not records and int(count_text) == 0:
            raise SruDiagnostic(url, diagnostics)
        return SearchResult(version, int(count_text), tuple(records), tuple(diagnostics))

    def _record(
        self, record: etree._Element, diagnostics: list[Diagnostic]
    ) -> CatalogueRecord | None:
        fields = {local_name(child): child for child in _element_children(record)}
        schema = (fields["recordSchema"].text or "") if "recordSchema" in fields else ""
        packing_element = fields.get("recordXMLEscaping", fields.get("recordPacking"))
        packing = (packing_element.text or "xml").strip() if packing_element is not None else "xml"
        data = fields.get("recordData")
        if data is None:
            return None
        content = _element_children(data)
        if packing == "string" or not content:
            text = (data.text or "").strip()
            if not text:
                return None
            try:
                root = parse_untrusted(text.encode("utf-8"))
            except UnsafeXml as exc:
                raise SruBadResponse(self.target.url, f"escaped record: {exc}") from None
        else:
            root = content[0]
        if "diagnostic" in schema or local_name(root) == "diagnostic":
            diagnostics.append(_diagnostic(root))
            return None
        return read_record(root)

    def find(self, citation: Citation) -> tuple[CatalogueRecord, ...]:
        """The records of the catalogue that match the citation (one search, or two).

        The identifier search runs first; only when it finds no matching record (or the
        citation has no searchable identifier) is the title searched, if allowed.
        """
        indexes: CqlIndexes = self.target.indexes
        query = identifier_query(citation, indexes)
        if query is not None:
            found = tuple(r for r in self.search(query).records if r.matches(citation))
            if found or not self.target.title_fallback:
                return found
        query = title_query(citation, indexes)
        if query is None:
            return ()
        return tuple(r for r in self.search(query).records if r.matches(citation))
