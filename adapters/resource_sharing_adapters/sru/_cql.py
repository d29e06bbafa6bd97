"""CQL for a citation: identifiers normalised first, then quoted the way CQL wants.

A citation's identifiers are written as catalogues wrote them (``0-306-40615-2 (pbk.)``,
``(OCoLC)ocm00012345``); the query uses the canonical forms of
:mod:`resource_sharing.identifiers` instead, and for an ISBN both its 13- and 10-digit
forms (a catalogue indexes what it stores). All identifiers go into one query joined by
``or``, so one search answers one citation; a citation without a searchable identifier is
searched by its title words (``all``). Index names differ between systems (``bath.isbn``,
``alma.isbn``, ``isbn``): :class:`CqlIndexes` names them, with presets for the common ones.
There is no portable OCLC-number index (REPORT: FOLIO's does not work): unless one is
configured, an OCLC number is only matched against the records' 035 fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from resource_sharing.identifiers import isbn13_to_isbn10, match_keys
from resource_sharing.records import Citation

__all__ = ["INDEX_PRESETS", "CqlIndexes", "identifier_query", "quote", "title_query", "title_words"]


@attrs.frozen
class CqlIndexes:
    """The CQL index for each kind of search; None: the server cannot search by it."""

    isbn: str | None = "bath.isbn"
    """ISBN (the Bath context set's name by default)."""
    issn: str | None = "bath.issn"
    """ISSN."""
    oclc: str | None = None
    """OCLC number (none is portable; Alma calls it ``alma.other_system_number``)."""
    title: str | None = "dc.title"
    """Title words."""


INDEX_PRESETS: Mapping[str, CqlIndexes] = MappingProxyType(
    {
        "standard": CqlIndexes(),
        "alma": CqlIndexes("alma.isbn", "alma.issn", "alma.other_system_number", "alma.title"),
        "plain": CqlIndexes("isbn", "issn", None, "title"),
    }
)
"""Index names by system: ``standard`` (Bath and Dublin Core context sets, Koha's Zebra,
YAZ), ``alma`` (Alma's ``alma.`` indexes), ``plain`` (FOLIO's Z39.50/SRU server, the
crosslink and Index Data mocks)."""

_SPECIAL = re.compile(r'([\\"*?^])')
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def quote(term: str) -> str:
    r"""``term`` as a CQL quoted string: quotes, backslashes and masking characters escaped.

    >>> quote('Pride & "Prejudice"?')
    '"Pride & \\"Prejudice\\"\\?"'
    """
    return '"' + _SPECIAL.sub(r"\\\1", term) + '"'


def title_words(title: str) -> str:
    """The words of a title, lower-cased, punctuation and ISBD marks (`` /``, `` :``) dropped.

    >>> title_words("The death of the banker : the decline /")
    'the death of the banker the decline'
    """
    return " ".join(_NOT_WORD.sub(" ", title.casefold()).replace("_", " ").split())


def identifier_query(citation: Citation, indexes: CqlIndexes) -> str | None:
    """One CQL query OR-ing every searchable identifier of the citation, or None if none.

    Identifiers that are not valid (a bad check digit) are left out, as are kinds the
    server has no index for.
    """
    clauses: list[str] = []
    for key in sorted(match_keys(citation), key=lambda k: (k.code, k.value)):
        index = {"ISBN": indexes.isbn, "ISSN": indexes.issn, "OCLC": indexes.oclc}.get(key.code)
        if index is None:
            continue
        forms = [key.value]
        if key.code == "ISBN" and (short := isbn13_to_isbn10(key.value)) is not None:
            forms.append(short)
        clauses.extend(f"{index}={quote(form)}" for form in forms)
    return " or ".join(dict.fromkeys(clauses)) or None


def title_query(citation: Citation, indexes: CqlIndexes) -> str | None:
    """A CQL query for the citation's title words (``all``), or None without title or index."""
    if indexes.title is None or not citation.title:
        return None
    words = title_words(citation.title)
    return f"{indexes.title} all {quote(words)}" if words else None
