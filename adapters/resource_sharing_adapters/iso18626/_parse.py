"""The hardened XML front door: hostile bytes are refused before anything reads them.

libxml2 is asked never to load a DTD, expand an entity or touch the network, and any
document with a DOCTYPE is refused outright (so XXE, billion laughs and external DTDs
fail fast, whatever the parser would have done with them). A size limit is checked
before parsing and a depth limit after; only UTF-8 (or its ASCII subset) is accepted, as
ISO 18626 requires.
"""

from __future__ import annotations

from lxml import etree

from resource_sharing_adapters._xml import parse_untrusted
from resource_sharing_adapters.iso18626._errors import BadlyFormedMessage

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "parse_xml"]

DEFAULT_MAX_BYTES = 1024 * 1024
"""The largest message accepted by default (1 MiB)."""
DEFAULT_MAX_DEPTH = 16
"""The deepest element nesting accepted by default (ISO 18626 needs 6)."""


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`BadlyFormedMessage`."""
    return parse_untrusted(data, BadlyFormedMessage, max_bytes=max_bytes, max_depth=max_depth)
