"""Printed documents (pick slip, shipping label, hold-shelf and return slips), HTML and PDF.

- :class:`DocumentRenderer`: a print job (:data:`resource_sharing.effects.PrintJob`) as an
  HTML page with print CSS (barcodes as inline SVG) or as PDF (xhtml2pdf, barcodes drawn
  by reportlab as vector Code 128), from Jinja2 templates an institution can override.
- :class:`Institution`, :class:`PatronForm` and :func:`patron_label` (the patron on a
  hold-shelf slip, privacy-conscious), :func:`document_kind`.
- Errors: :class:`DocumentError`, :class:`MissingAddress`.

See ``docs/integration.md`` ("Printing").
"""

from __future__ import annotations

from resource_sharing_adapters.documents._render import (
    DOCUMENT_KINDS,
    DocumentError,
    DocumentRenderer,
    Institution,
    MissingAddress,
    PatronForm,
    document_kind,
    patron_label,
)

__all__ = [
    "DOCUMENT_KINDS",
    "DocumentError",
    "DocumentRenderer",
    "Institution",
    "MissingAddress",
    "PatronForm",
    "document_kind",
    "patron_label",
]
