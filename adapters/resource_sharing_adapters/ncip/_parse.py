"""The hardened XML front door for NCIP: hostile bytes are refused before anything reads them.

The same rules as the ISO 18626 codec: libxml2 never loads a DTD, expands an entity or
touches the network, and a document with a DOCTYPE is refused outright; the size is
checked before parsing and the nesting depth after. NCIP messages nest deeper than ISO
18626 ones (a LookupUserResponse with a structured address is ten levels down), hence
the larger depth limit.
"""

from __future__ import annotations

import codecs
import threading
from functools import lru_cache

from lxml import etree

from resource_sharing_adapters.ncip._errors import MalformedNcip, Problem

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "INVALID_SYNTAX", "parse_xml"]

DEFAULT_MAX_BYTES = 1024 * 1024
"""The largest message accepted by default (1 MiB)."""
DEFAULT_MAX_DEPTH = 32
"""The deepest element nesting accepted by default."""
INVALID_SYNTAX = "Invalid Message Syntax Error"
"""The NCIP messaging-error ProblemType for bytes that are not a usable message."""

_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF8_NAMES = frozenset({"UTF-8", "UTF8", "US-ASCII", "ASCII"})
_local = threading.local()


def _refuse(detail: str) -> MalformedNcip:
    return MalformedNcip(Problem(INVALID_SYNTAX, detail, "NCIPMessage"))


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads: one per thread, built once.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            dtd_validation=False,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


@lru_cache(maxsize=8)
def _too_deep(max_depth: int) -> etree.XPath:
    # True when some element lies deeper than max_depth (the root is at depth 1).
    return etree.XPath("boolean(" + "/".join(["*"] * max_depth) + ")", regexp=False)


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`MalformedNcip`."""
    if len(data) > max_bytes:
        raise _refuse(f"message of {len(data)} bytes exceeds the limit of {max_bytes}")
    if data.startswith(_BOMS):
        raise _refuse("message is not UTF-8")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _refuse("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _refuse(f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise _refuse("DOCTYPE and entity declarations are not accepted")
    encoding = (docinfo.encoding or "UTF-8").upper()
    if encoding not in _UTF8_NAMES:
        raise _refuse(f"message is {encoding}, not UTF-8")
    if max_depth < 1 or _too_deep(max_depth)(root):
        raise _refuse(f"elements nested deeper than {max_depth}")
    return root
