"""Catalogue answers are untrusted XML: no DTD, no entities, no network, bounded size."""

from __future__ import annotations

import threading

from lxml import etree

__all__ = ["UnsafeXml", "local_name", "parse_untrusted"]

_local = threading.local()


class UnsafeXml(ValueError):
    """The bytes are not well-formed XML, or declare a DOCTYPE or entities."""


def _parser() -> etree.XMLParser:
    # lxml parsers are not thread-safe: the partner look-ups run in a thread pool.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def parse_untrusted(data: bytes) -> etree._Element:
    """The root element of ``data``; :class:`UnsafeXml` when it is malformed or has a DTD."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXml("DOCTYPE and entity declarations are not accepted")
    try:
        return etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from None


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace (catalogues differ in namespaces)."""
    tag: object = element.tag  # entity references and comments have a function here
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
