"""The hardened XML front door for NCIP: hostile bytes are refused before anything reads them.

The same rules as the ISO 18626 codec: libxml2 never loads a DTD, expands an entity or
touches the network, and a document with a DOCTYPE is refused outright; the size is
checked before parsing and the nesting depth after. NCIP messages nest deeper than ISO
18626 ones (a LookupUserResponse with a structured address is ten levels down), hence
the larger depth limit.
"""

from __future__ import annotations

from lxml import etree

from resource_sharing_adapters._xml import parse_untrusted
from resource_sharing_adapters.ncip._errors import MalformedNcip, Problem

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "INVALID_SYNTAX", "parse_xml"]

DEFAULT_MAX_BYTES = 1024 * 1024
"""The largest message accepted by default (1 MiB)."""
DEFAULT_MAX_DEPTH = 32
"""The deepest element nesting accepted by default."""
INVALID_SYNTAX = "Invalid Message Syntax Error"
"""The NCIP messaging-error ProblemType for bytes that are not a usable message."""


def _refuse(detail: str) -> MalformedNcip:
    return MalformedNcip(Problem(INVALID_SYNTAX, detail, "NCIPMessage"))


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`MalformedNcip`."""
    return parse_untrusted(data, _refuse, max_bytes=max_bytes, max_depth=max_depth)
