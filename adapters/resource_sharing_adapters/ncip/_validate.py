"""Validation against the NISO NCIP 2.02 XSD shipped with the package (``schemas/``)."""

from __future__ import annotations

import threading
from importlib import resources
from typing import final

import attrs
from lxml import etree

from resource_sharing_adapters.ncip._parse import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml

__all__ = ["SCHEMA_FILE", "ValidationReport", "schema", "validate", "validate_element"]

SCHEMA_FILE = "ncip_v2_02.xsd"
"""The package-data file of the NCIP 2.02 schema (in ``schemas/``)."""


@final
@attrs.frozen
class ValidationReport:
    """Whether a document is valid NCIP 2.02, and why not."""

    valid: bool
    """True when the document validates."""
    errors: tuple[str, ...] = ()
    """The validator's messages (``line N: ...``), empty when valid."""


_local = threading.local()


def schema() -> etree.XMLSchema:
    """The compiled NCIP 2.02 XSD, read from the package data once per thread.

    One per thread because an lxml validator keeps its error log on itself.
    """
    compiled: etree.XMLSchema | None = getattr(_local, "schema", None)
    if compiled is not None:
        return compiled
    source = resources.files(__package__).joinpath("schemas", SCHEMA_FILE)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with source.open("rb") as handle:
        document = etree.parse(handle, parser)
    compiled = _local.schema = etree.XMLSchema(document)
    return compiled


def validate_element(root: etree._Element) -> ValidationReport:
    """Check a parsed document against the XSD."""
    xsd = schema()
    if xsd.validate(root):
        return ValidationReport(True)
    errors = tuple(f"line {e.line}: {e.message}" for e in xsd.error_log)  # type: ignore[attr-defined]
    return ValidationReport(False, errors)


def validate(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ValidationReport:
    """Check a document against the XSD; hostile or broken XML raises MalformedNcip."""
    return validate_element(parse_xml(data, max_bytes=max_bytes, max_depth=max_depth))
