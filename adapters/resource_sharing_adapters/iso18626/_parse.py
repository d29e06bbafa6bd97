"""The hardened XML front door: hostile bytes are refused before anything reads them.

libxml2 is asked never to load a DTD, expand an entity or touch the network, and any
document with a DOCTYPE is refused outright (so XXE, billion laughs and external DTDs
fail fast, whatever the parser would have done with them). A size limit is checked
before parsing and a depth limit after; only UTF-8 (or its ASCII subset) is accepted, as
ISO 18626 requires.
"""

from __future__ import annotations

import codecs
import threading
from functools import lru_cache

from lxml import etree

from resource_sharing_adapters.iso18626._errors import BadlyFormedMessage

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "parse_xml"]

DEFAULT_MAX_BYTES = 1024 * 1024
"""The largest message accepted by default (1 MiB)."""
DEFAULT_MAX_DEPTH = 16
"""The deepest element nesting accepted by default (ISO 18626 needs 6)."""

_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF8_NAMES = frozenset({"UTF-8", "UTF8", "US-ASCII", "ASCII"})
_local = threading.local()


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
    # No EXSLT regexp functions to register on each call: a pure path needs none.
    path = "boolean(" + "/".join(["*"] * max_depth) + ")"
    return etree.XPath(path, regexp=False, smart_strings=False)


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`BadlyFormedMessage`."""
    if len(data) > max_bytes:
        raise BadlyFormedMessage(f"message of {len(data)} bytes exceeds the limit of {max_bytes}")
    if data.startswith(_BOMS):
        raise BadlyFormedMessage("message is not UTF-8")
    # "!" is rare in messages and memchr finds it fast; only then look for the markup.
    if b"!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise BadlyFormedMessage("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise BadlyFormedMessage(f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise BadlyFormedMessage("DOCTYPE and entity declarations are not accepted")
    encoding = (docinfo.encoding or "UTF-8").upper()
    if encoding not in _UTF8_NAMES:
        raise BadlyFormedMessage(f"message is {encoding}, not UTF-8")
    if max_depth < 1 or _too_deep(max_depth)(root):
        raise BadlyFormedMessage(f"elements nested deeper than {max_depth}")
    return root
