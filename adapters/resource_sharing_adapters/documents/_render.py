"""The printed documents: pick slip, shipping label, hold-shelf slip, return slip.

Each print job (:data:`resource_sharing.effects.PrintJob`) is laid out by one Jinja2
template, ``templates/{kind}.html`` extending ``_base.html`` (its ``@page`` CSS sets the
label size; the same page prints from a browser). The one layout gives two media:

- ``html``: a page for a browser, with each barcode as inline SVG drawn by reportlab;
- ``pdf``: the same template rendered by xhtml2pdf, each barcode drawn by reportlab as
  vector Code 128 (the ``<pdf:barcode>`` tag), so a scanner reads it at any print size.

Templates call ``barcode(value)``, which writes the right one for the medium. An
institution overrides any template (or ``_base.html``) with a ``template_folder`` searched
first. Addresses come from the directory (:attr:`~resource_sharing.directory.Partner.address`)
and our own :class:`Institution`; a shipping label or return slip for a partner without
an address in the directory is refused (:class:`MissingAddress`) rather than printed
blank. The patron on a hold-shelf slip is printed in a privacy-conscious form
(:class:`PatronForm`); dates are written for the configured locale with Babel.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from babel import Locale
from babel.dates import format_date
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)
from markupsafe import Markup

from resource_sharing.directory import Partner
from resource_sharing.effects import (
    PrintHoldShelfSlip,
    PrintJob,
    PrintPickSlip,
    PrintReturnSlip,
    PrintShippingLabel,
)
from resource_sharing.errors import InfrastructureError
from resource_sharing.records import AgencyId, Citation, PatronRef

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

DOCUMENT_KINDS: Mapping[type, str] = {
    PrintPickSlip: "pick_slip",
    PrintShippingLabel: "shipping_label",
    PrintHoldShelfSlip: "hold_shelf_slip",
    PrintReturnSlip: "return_slip",
}
"""The template name of each print job type."""


def document_kind(job: PrintJob) -> str:
    """The template name of a print job (``pick_slip``, ``shipping_label``...)."""
    return DOCUMENT_KINDS[type(job)]


class DocumentError(InfrastructureError):
    """A document could not be rendered (a template failed, the PDF could not be made)."""


class MissingAddress(DocumentError):
    """The directory has no postal address for the partner a parcel goes to."""

    def __init__(self, agency: AgencyId) -> None:
        super().__init__(f"no postal address for {agency} in the directory: add one to print")
        self.agency = agency
        """The partner without an address."""


class PatronForm(StrEnum):
    """How a patron is printed on a slip others can see on the hold shelf."""

    INITIAL = "initial"
    """First name and the initial of the last: ``Ada L.`` (else the id's last digits)."""
    INITIALS = "initials"
    """Initials only: ``A. L.``."""
    LAST_DIGITS = "last4"
    """The last four characters of the patron id: ``…1815``."""
    ID = "id"
    """The whole patron id."""
    FULL = "full"
    """The full name (only where the shelf is behind the desk)."""


def patron_label(patron: PatronRef, form: PatronForm) -> str:
    """The patron as the slip prints them.

    >>> patron_label(PatronRef("p-1815", "Ada Lovelace"), PatronForm.INITIAL)
    'Ada L.'
    >>> patron_label(PatronRef("p-1815"), PatronForm.INITIAL)
    '…1815'
    """
    words = (patron.name or "").split()
    if form is PatronForm.FULL and words:
        return " ".join(words)
    if form is PatronForm.INITIAL and words:
        return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0]}."
    if form is PatronForm.INITIALS and words:
        return " ".join(f"{word[0]}." for word in words)
    if form is PatronForm.ID:
        return patron.id
    return "…" + patron.id[-4:]


@attrs.frozen
class Institution:
    """Who we are, on labels and slips."""

    name: str
    """Our display name."""
    address: str = ""
    """Our postal address, one line per line (the return address on labels)."""
    agency: AgencyId | None = None
    """Our agency id."""


def _svg_barcode(value: str) -> Markup:
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode import createBarcodeDrawing

    drawing = createBarcodeDrawing(
        "Code128", value=value, barHeight=42, barWidth=1.1, humanReadable=True, quiet=True
    )
    svg = renderSVG.drawToString(drawing)
    return Markup('<span class="barcode">') + Markup(svg[svg.index("<svg") :]) + Markup("</span>")


def _pdf_barcode(value: str) -> Markup:
    return Markup(
        '<pdf:barcode value="{}" type="code128" humanreadable="1" barwidth="0.03cm"'
        ' barheight="1.3cm"></pdf:barcode>'
    ).format(value)


def _refuse_links(uri: str, rel: str) -> str:
    """xhtml2pdf's resource look-up: no network and no files (a template is data)."""
    return ""


class DocumentRenderer:
    """Renders print jobs as HTML pages with print CSS, or as PDF.

    ``partners`` gives a partner by agency (a :class:`~resource_sharing.directory.Directory`'s
    ``get``, or any callable); ``locale`` and ``timezone`` decide how dates are written.
    """

    def __init__(
        self,
        institution: Institution,
        partners: Callable[[AgencyId], Partner | None],
        *,
        template_folder: str | Path | None = None,
        patron_form: PatronForm = PatronForm.INITIAL,
        locale: str = "en",
        timezone: str | tzinfo = "UTC",
    ) -> None:
        loaders: list[Any] = [PackageLoader("resource_sharing_adapters.documents", "templates")]
        if template_folder is not None:
            loaders.insert(0, FileSystemLoader(str(template_folder)))
        self.institution = institution
        """Our name and address."""
        self.patron_form = patron_form
        """How patrons are printed."""
        self.locale = Locale.parse(locale.replace("-", "_"))
        """The locale dates are written for."""
        self.zone: tzinfo = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        """The time zone dates are shown in."""
        self._partners = partners
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        """The Jinja2 environment (filter ``date``; global ``barcode`` per medium)."""
        self.env.filters["date"] = self._date

    def _date(self, value: date | datetime | None, form: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, form, locale=self.locale)

    def _partner(self, agency: AgencyId, *, address: bool) -> dict[str, Any]:
        partner = self._partners(agency)
        if address and (partner is None or not partner.address.strip()):
            raise MissingAddress(agency)
        return {
            "agency": str(agency),
            "name": (partner.name if partner and partner.name else str(agency)),
            "address_lines": partner.address.strip().splitlines() if partner else [],
        }

    def context(self, job: PrintJob) -> dict[str, Any]:
        """What the job's template is given (the job's fields, looked-up parties, labels)."""
        us = self.institution
        values: dict[str, Any] = {
            "kind": document_kind(job),
            "job": job,
            "request_id": job.request_id,
            "citation": job.citation,
            "title": _title(job.citation),
            "institution": {
                "name": us.name,
                "agency": str(us.agency) if us.agency else "",
                "address_lines": us.address.strip().splitlines(),
            },
        }
        if isinstance(job, PrintPickSlip):
            values.update(
                item=job.item,
                barcode_value=job.item.barcode,
                borrower=self._partner(job.requester, address=False),
                need_before=job.need_before,
            )
        elif isinstance(job, PrintShippingLabel):
            values.update(
                to=self._partner(job.to, address=True),
                barcode_value=job.barcode or job.requester_request_id,
                item_barcode=job.barcode,
                requester_request_id=job.requester_request_id,
            )
        elif isinstance(job, PrintHoldShelfSlip):
            values.update(
                barcode_value=job.barcode,
                patron=patron_label(job.patron, self.patron_form),
                pickup_location=job.pickup_location,
                expires=job.expires,
            )
        else:
            values.update(
                to=self._partner(job.lender, address=True),
                barcode_value=job.barcode,
                lender_request_id=job.lender_request_id,
            )
        return values

    def _render(self, job: PrintJob, barcode: Callable[[str], Markup], medium: str) -> str:
        kind = document_kind(job)
        try:
            template = self.env.get_template(f"{kind}.html")
            return template.render(self.context(job), barcode=barcode, medium=medium)
        except TemplateError as exc:
            raise DocumentError(f"template {kind}.html: {exc}") from exc

    def html(self, job: PrintJob) -> str:
        """The document as an HTML page (print CSS, barcodes as inline SVG)."""
        return self._render(job, _svg_barcode, "html")

    def pdf(self, job: PrintJob) -> bytes:
        """The document as PDF (xhtml2pdf; barcodes drawn by reportlab as vector Code 128)."""
        from xhtml2pdf import pisa

        markup = self._render(job, _pdf_barcode, "pdf")
        out = io.BytesIO()
        try:
            status = pisa.CreatePDF(markup, dest=out, encoding="utf-8", link_callback=_refuse_links)
        except Exception as exc:  # xhtml2pdf raises whatever its parts raise
            raise DocumentError(f"{document_kind(job)}: PDF failed: {exc}") from exc
        if status.err:
            raise DocumentError(f"{document_kind(job)}: PDF failed with {status.err} error(s)")
        return out.getvalue()


def _title(citation: Citation) -> str:
    parts = [citation.title or "", citation.subtitle or ""]
    text = " : ".join(p.strip(" /:") for p in parts if p.strip(" /:"))
    return text or "(no title)"
