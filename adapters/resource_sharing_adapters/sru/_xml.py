"""Catalogue answers are untrusted XML: no DTD, no entities, no network, bounded size."""

from __future__ import annotations

from lxml import etree

from resource_sharing_adapters._xml import parse_untrusted as _parse

__all__ = ["UnsafeXml", "local_name", "parse_untrusted"]


class UnsafeXml(ValueError):
    """The bytes are not well-formed XML, or declare a DOCTYPE or entities."""


def parse_untrusted(data: bytes) -> etree._Element:
    """The root element of ``data``; :class:`UnsafeXml` when it is malformed or has a DTD."""
    return _parse(data, UnsafeXml, utf8_only=False)


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace (catalogues differ in namespaces)."""
    tag: object = element.tag  # entity references and comments have a function here
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
