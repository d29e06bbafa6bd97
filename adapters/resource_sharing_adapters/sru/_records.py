"""Catalogue records as SRU servers send them, read into bibliographic keys and items.

One record may come as plain MARCXML (with or without the MARC 21 slim namespace: the
German union catalogue drops it), as a YAZ/metaproxy OPAC record (MARCXML plus
``holdings/holding/circulations``), or as ISO 20775 holdings (Alma's ``isohold``).
Everything is read by local name. Where the items are, by system (REPORT.md §5):

- OPAC XML (FOLIO, Alma and Voyager through metaproxy, Sierra): ``localLocation``,
  ``shelvingLocation``, ``callNumber``; per circulation ``itemId`` and
  ``availableNow@value="1"``; Sierra says ``publicNote`` AVAILABLE or CHECK SHELVES.
- MARC 852 (Evergreen, Polaris, generic): ``$a`` institution, ``$b`` library or collection,
  ``$c`` shelving location, ``$k $h $i`` call number, ``$p`` or ``$g`` barcode, status in
  ``$n`` (Evergreen) or ``$r`` (Polaris In/Out/Held), ``$7`` loanable.
- MARC 952 (Koha): ``$a`` home branch, ``$b`` holding branch, ``$c`` location, ``$o`` call
  number, ``$p`` barcode; ``$7`` not for loan, ``$q`` due date (on loan), ``$0`` withdrawn,
  ``$1`` lost.
- MARC AVA (Alma with availability): ``$b`` library code, ``$q`` library name, ``$c``
  location, ``$d`` call number, ``$e`` available/unavailable/check_holdings, ``$8``
  holding id.
- MARC 924 (MARC 21 plus, DNB/GVI): ``$b`` ISIL, ``$a`` local id, ``$g`` call number,
  ``$d`` ILL indicator (``d``: no interlibrary loan).
- MARC 999 with first indicator 1 (Index Data reservoir): ``$s`` symbol, ``$l`` local id.
- ISO 20775: ``holding/institutionIdentifier/value``, ``physicalLocation``, per
  ``copyInformation`` ``pieceIdentifier/value``, ``sublocation``, ``shelfLocator`` and
  ``availabilityInformation//availabilityStatus``.

An item's ``available`` is None where the catalogue does not say.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs
from lxml import etree

from resource_sharing.identifiers import match_keys
from resource_sharing.records import Citation, Identifier
from resource_sharing_adapters.sru._cql import title_words
from resource_sharing_adapters.sru._xml import local_name

__all__ = ["CatalogueItem", "CatalogueRecord", "read_record"]

_AVAILABLE = frozenset({"available", "in", "check shelves", "on shelf", "checked in", "1"})
_UNAVAILABLE = frozenset(
    {
        "out",
        "checked out",
        "on loan",
        "held",
        "on hold",
        "in transit",
        "missing",
        "lost",
        "on order",
        "unavailable",
        "not available",
        "withdrawn",
        "damaged",
        "0",
    }
)


@attrs.frozen
class CatalogueItem:
    """One copy (or, where the catalogue gives no copies, one holding) of a record."""

    source: str
    """Where it was read from: a MARC tag, ``opac`` or ``iso20775``."""
    holder: str | None = None
    """The institution, library code or ISIL whose copy it is, when the record says."""
    library: str | None = None
    """The library (branch) it is in."""
    location: str | None = None
    """Its shelving location."""
    call_number: str | None = None
    """Its call number."""
    barcode: str | None = None
    """Its barcode (or the catalogue's item id)."""
    local_id: str | None = None
    """The holding's or record's id in the holder's own system, when no barcode is given."""
    available: bool | None = None
    """On the shelf (True), not (False), or not said (None)."""
    status: str | None = None
    """The status text as the catalogue gave it."""


@attrs.frozen
class CatalogueRecord:
    """A bibliographic record with the identifiers that match it and its items."""

    record_id: str | None = None
    """The catalogue's record id (MARC 001)."""
    title: str | None = None
    """Title and subtitle (245 $a $b)."""
    identifiers: tuple[Identifier, ...] = ()
    """ISBN (020), ISSN (022), OCLC (035, 016, 001/003) and LCCN (010), as written."""
    items: tuple[CatalogueItem, ...] = ()
    """Its copies or holdings, in the catalogue's order."""

    def matches(self, citation: Citation) -> bool:
        """True when the record is the citation's: a shared identifier, or else its title.

        Identifiers are compared normalised (an ISBN-10 equals its ISBN-13, ``(pbk.)`` and
        ``(OCoLC)`` do not matter). When either side has no identifier, the title words
        must agree (one is the start of the other). A holdings-only record (ISO 20775,
        which carries no bibliographic data) is taken as the server's match.
        """
        if not self.identifiers and not self.title:
            return True
        wanted = match_keys(citation)
        found = match_keys(self.identifiers)
        if wanted and found:
            return bool(wanted & found)
        if not citation.title or not self.title:
            return False
        ours, theirs = title_words(self.title), title_words(citation.title)
        return bool(ours and theirs) and (ours.startswith(theirs) or theirs.startswith(ours))


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in element if local_name(child) == name)


def _descendants(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (node for node in element.iter() if local_name(node) == name)


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(str(part) for part in element.itertext()).strip()
    return text or None


def _first(element: etree._Element, *path: str) -> etree._Element | None:
    current: etree._Element | None = element
    for name in path:
        if current is None:
            return None
        current = next(_children(current, name), None)
    return current


@attrs.frozen
class _Field:
    tag: str
    ind1: str
    subfields: tuple[tuple[str, str], ...]

    def get(self, code: str) -> str | None:
        return next((v for c, v in self.subfields if c == code and v), None)

    def all(self, code: str) -> list[str]:
        return [v for c, v in self.subfields if c == code and v]


def _fields(record: etree._Element) -> tuple[dict[str, str], list[_Field]]:
    control: dict[str, str] = {}
    data: list[_Field] = []
    for child in record:
        name = local_name(child)
        tag = (child.get("tag") or "").strip()
        if name == "controlfield":
            control.setdefault(tag, (child.text or "").strip())
        elif name == "datafield":
            subfields = tuple(
                ((s.get("code") or "").strip(), (s.text or "").strip())
                for s in child
                if local_name(s) == "subfield"
            )
            data.append(_Field(tag, (child.get("ind1") or " ").strip(), subfields))
    return control, data


def _status(text: str | None) -> bool | None:
    if text is None:
        return None
    word = " ".join(text.casefold().split())
    if word in _AVAILABLE:
        return True
    if word in _UNAVAILABLE or word.startswith(("checked out", "due ", "on loan")):
        return False
    return None


def _joined(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None


def _flag(value: str | None) -> bool:
    """A Koha-style flag subfield is set when present and not ``0``."""
    return value is not None and value.strip() not in ("", "0")


def _item_852(f: _Field) -> CatalogueItem:
    status = f.get("n") or f.get("r")
    available = _status(status)
    loanable = f.get("7")
    if loanable is not None and loanable.casefold() == "false":
        available = False
    return CatalogueItem(
        "852",
        holder=f.get("a"),
        library=f.get("b"),
        location=f.get("c") or f.get("b"),
        call_number=_joined(f.get("k"), f.get("h"), f.get("i")) or f.get("j"),
        barcode=f.get("p") or f.get("g"),
        available=available,
        status=status,
    )


def _item_952(f: _Field) -> CatalogueItem:
    out = f.get("q") is not None
    refused = _flag(f.get("7")) or _flag(f.get("0")) or _flag(f.get("1"))
    return CatalogueItem(
        "952",
        holder=f.get("a"),
        library=f.get("b") or f.get("a"),
        location=f.get("c"),
        call_number=f.get("o"),
        barcode=f.get("p"),
        available=not (out or refused),
        status=f"due {f.get('q')}" if out else None,
    )


def _item_ava(f: _Field) -> CatalogueItem:
    status = f.get("e")
    available = {"available": True, "unavailable": False}.get((status or "").casefold())
    return CatalogueItem(
        "AVA",
        holder=f.get("b"),
        library=f.get("q") or f.get("b"),
        location=f.get("c") or f.get("j"),
        call_number=f.get("d"),
        local_id=f.get("8"),
        available=available,
        status=status,
    )


def _item_924(f: _Field) -> CatalogueItem:
    indicator = f.get("d")
    return CatalogueItem(
        "924",
        holder=f.get("b"),
        call_number=f.get("g"),
        local_id=f.get("a"),
        available=None if indicator is None else indicator.casefold() != "d",
        status=f"ILL indicator {indicator}" if indicator else None,
    )


def _item_999(f: _Field) -> CatalogueItem:
    symbol = f.get("s")
    if symbol and ":" not in symbol:
        symbol = f"ISIL:{symbol}"
    return CatalogueItem("999", holder=symbol, local_id=f.get("l"))


_ITEMS = {"852": _item_852, "952": _item_952, "AVA": _item_ava, "924": _item_924}


def _marc(record: etree._Element) -> CatalogueRecord:
    control, data = _fields(record)
    identifiers: list[Identifier] = []
    items: list[CatalogueItem] = []
    title: str | None = None
    for f in data:
        if f.tag == "020":
            identifiers += [Identifier("ISBN", v) for v in f.all("a")]
        elif f.tag == "022":
            identifiers += [Identifier("ISSN", v) for v in f.all("a")]
        elif f.tag == "010":
            identifiers += [Identifier("LCCN", v) for v in f.all("a")]
        elif f.tag == "035":
            identifiers += [
                Identifier("OCLC", v) for v in f.all("a") if v.upper().startswith("(OCOLC)")
            ]
        elif f.tag == "016" and (f.get("2") or "").casefold() == "ocolc":
            identifiers += [Identifier("OCLC", v) for v in f.all("a")]
        elif f.tag == "245" and title is None:
            title = _joined(f.get("a"), f.get("b"))
        elif f.tag in _ITEMS:
            items.append(_ITEMS[f.tag](f))
        elif f.tag == "999" and f.ind1 == "1":
            items.append(_item_999(f))
    record_id = control.get("001") or None
    if record_id and (
        control.get("003", "").casefold() == "ocolc"
        or record_id.casefold().startswith(("ocm", "ocn", "on"))
    ):
        identifiers.append(Identifier("OCLC", record_id))
    return CatalogueRecord(record_id, title, tuple(identifiers), tuple(items))


def _opac_items(holding: etree._Element) -> Iterator[CatalogueItem]:
    holder = _text(_first(holding, "nucCode"))
    library = _text(_first(holding, "localLocation"))
    location = _text(_first(holding, "shelvingLocation"))
    call_number = _text(_first(holding, "callNumber"))
    note = _text(_first(holding, "publicNote"))
    circulations = list(_descendants(holding, "circulation"))
    if not circulations:
        yield CatalogueItem(
            "opac", holder, library, location, call_number, available=_status(note), status=note
        )
        return
    for circ in circulations:
        flag = _first(circ, "availableNow")
        restriction = _text(_first(circ, "restrictions"))
        if flag is not None:
            available: bool | None = (flag.get("value") or _text(flag)) == "1"
        else:
            available = _status(note)
        if restriction and available is not False and _status(restriction) is False:
            available = False
        yield CatalogueItem(
            "opac",
            holder=holder,
            library=library,
            location=_text(_first(circ, "temporaryLocation")) or location,
            call_number=call_number,
            barcode=_text(_first(circ, "itemId")),
            available=available,
            status=restriction or note,
        )


def _iso20775_items(holding: etree._Element) -> Iterator[CatalogueItem]:
    holder = _text(_first(holding, "institutionIdentifier", "value"))
    library = _text(_first(holding, "physicalLocation"))
    copies = list(_descendants(holding, "copyInformation"))
    counts = [_text(c) for c in _descendants(holding, "availableCount")]
    summary: bool | None = None
    if counts and all(c is not None and c.isdigit() for c in counts):
        summary = any(int(c or 0) > 0 for c in counts)
    if not copies:
        yield CatalogueItem("iso20775", holder, library, available=summary)
        return
    for copy in copies:
        status = _text(next(_descendants(copy, "availabilityStatus"), None))
        available = _status(status)
        yield CatalogueItem(
            "iso20775",
            holder=holder,
            library=library,
            location=_text(_first(copy, "sublocation")) or library,
            call_number=_text(_first(copy, "shelfLocator")),
            barcode=_text(_first(copy, "pieceIdentifier", "value")),
            available=summary if available is None else available,
            status=status,
        )


def _holding_items(holdings: Iterable[etree._Element]) -> list[CatalogueItem]:
    items: list[CatalogueItem] = []
    for holding in holdings:
        if _first(holding, "institutionIdentifier") is not None or any(
            True for _ in _descendants(holding, "copyInformation")
        ):
            items.extend(_iso20775_items(holding))
        else:
            items.extend(_opac_items(holding))
    return items


def read_record(data: etree._Element) -> CatalogueRecord | None:
    """The record in an SRU ``recordData`` element's content, or None when it has none.

    ``data`` is the content's root: a MARC ``record``, an ``opacRecord``, an ISO 20775
    ``holdings``, or a wrapper holding one of them.
    """
    marc = data if local_name(data) == "record" else next(_descendants(data, "record"), None)
    record = _marc(marc) if marc is not None else None
    inside = set(marc.iter()) if marc is not None else set()
    holdings = [h for h in _descendants(data, "holding") if h not in inside]
    extra = _holding_items(holdings)
    if record is None:
        return CatalogueRecord(items=tuple(extra)) if extra else None
    # A server that sends holdings beside the MARC record (OPAC XML, ISO 20775) says there
    # what it knows of each copy; item fields inside its MARC (FOLIO's 952) repeat less.
    return attrs.evolve(record, items=tuple(extra)) if extra else record
