"""Validation against the XSDs shipped with the package (v1.2 and 2021-2)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import final

import attrs
from lxml import etree

from resource_sharing_adapters.iso18626._errors import EncodeError
from resource_sharing_adapters.iso18626._parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    parse_xml,
)
from resource_sharing_adapters.iso18626._versions import Version

__all__ = ["SCHEMA_FILES", "ValidationReport", "schema", "validate"]

SCHEMA_FILES = {
    Version.V1_2: "ISO-18626-v1_2.xsd",
    Version.V2021_2: "ISO-18626-2021-2.xsd",
}
"""The package-data file of each version's XSD (in ``schemas/``)."""


@final
@attrs.frozen
class ValidationReport:
    """Whether a document is valid against one version's XSD, and why not."""

    version: Version
    """The schema version checked against."""
    valid: bool
    """True when the document validates."""
    errors: tuple[str, ...] = ()
    """The validator's messages (``line N: ...``), empty when valid."""


@lru_cache(maxsize=2)
def schema(version: Version | str = Version.V1_2) -> etree.XMLSchema:
    """The compiled XSD of ``version``, read from the package data once."""
    chosen = Version(version)
    source = resources.files(__package__).joinpath("schemas", SCHEMA_FILES[chosen])
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    with source.open("rb") as handle:
        document = etree.parse(handle, parser)
    return etree.XMLSchema(document)


def validate(
    data: bytes,
    *,
    version: Version | str = Version.V1_2,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ValidationReport:
    """Check a document against an XSD; hostile or broken XML raises BadlyFormedMessage."""
    try:
        chosen = Version(version)
    except ValueError:
        raise EncodeError("version", f"unsupported version {version!r}") from None
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)
    xsd = schema(chosen)
    if xsd.validate(root):
        return ValidationReport(chosen, True)
    errors = tuple(f"line {e.line}: {e.message}" for e in xsd.error_log)  # type: ignore[attr-defined]
    return ValidationReport(chosen, False, errors)
