"""The one hardened XML front door of every codec (ISO 18626, NCIP, SRU answers).

libxml2 is asked never to load a DTD, expand an entity or touch the network, and any
document with a DOCTYPE is refused outright (so XXE, billion laughs and external DTDs fail
fast, whatever the parser would have done with them). A size limit is checked before
parsing and a depth limit after; a protocol that requires UTF-8 also refuses any other
encoding. Each codec passes the error its protocol answers with.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable
from functools import lru_cache

from lxml import etree

__all__ = ["parse_untrusted"]

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
    path = "boolean(" + "/".join(["*"] * max_depth) + ")"
    return etree.XPath(path, regexp=False, smart_strings=False)


def parse_untrusted(
    data: bytes,
    refuse: Callable[[str], Exception],
    *,
    max_bytes: int | None = None,
    max_depth: int | None = None,
    utf8_only: bool = True,
) -> etree._Element:
    """The root element of ``data``, or ``refuse(reason)`` raised for hostile or bad bytes.

    ``max_bytes`` and ``max_depth`` are not checked when None; ``utf8_only`` refuses a
    document in any other encoding (ISO 18626 and NCIP require UTF-8).
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise refuse(f"message of {len(data)} bytes exceeds the limit of {max_bytes}")
    if utf8_only and data.startswith(_BOMS):
        raise refuse("message is not UTF-8")
    # "!" is rare in messages and memchr finds it fast; only then look for the markup.
    if b"!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise refuse("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise refuse(f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise refuse("DOCTYPE and entity declarations are not accepted")
    encoding = (docinfo.encoding or "UTF-8").upper()
    if utf8_only and encoding not in _UTF8_NAMES:
        raise refuse(f"message is {encoding}, not UTF-8")
    if max_depth is not None and (max_depth < 1 or _too_deep(max_depth)(root)):
        raise refuse(f"elements nested deeper than {max_depth}")
    return root
