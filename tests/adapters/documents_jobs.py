"""Print jobs, a directory and a renderer shared by the documents and printing tests."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pypdfium2
import zxingcpp
from pypdf import PdfReader

from resource_sharing.directory import Directory, Partner
from resource_sharing.effects import (
    PrintHoldShelfSlip,
    PrintJob,
    PrintPickSlip,
    PrintReturnSlip,
    PrintShippingLabel,
)
from resource_sharing.records import AgencyId, Citation, ItemRef, PatronRef
from resource_sharing_adapters.documents import DocumentRenderer, Institution

US_A, US_B = AgencyId("US-A"), AgencyId("US-B")
DIRECTORY = Directory.of(
    [
        Partner(
            US_B,
            name="Lender B University Library",
            address="Interlibrary Loan Office\n1 Main Street\nSpringfield 12345",
        ),
        Partner(AgencyId("US-C"), name="Lender C"),
    ]
)
HOME = Institution("Borrower A Library", "ILL office\n2 Elm Street\nShelbyville 54321", US_A)
CITATION = Citation(title="Sketch of the Analytical Engine", author="L. F. Menabrea")
ADA = PatronRef("p-001815", "Ada Lovelace")

PICK = PrintPickSlip(
    "L-17",
    ItemRef("39000012345678", "QA76 .M46 1843", "Stacks level 2", "circ", "Science Library"),
    CITATION,
    US_B,
    need_before=date(2026, 10, 1),
)
LABEL = PrintShippingLabel("L-17", "39000012345678", CITATION, US_B, "B-0042")
HOLD = PrintHoldShelfSlip(
    "B-0042", "TMP-77001", ADA, "Main desk", datetime(2026, 9, 21, 18, tzinfo=UTC), CITATION
)
RETURN = PrintReturnSlip("B-0042", "TMP-77001", US_B, CITATION, lender_request_id="L-17")
JOBS: dict[str, PrintJob] = {
    "pick_slip": PICK,
    "shipping_label": LABEL,
    "hold_shelf_slip": HOLD,
    "return_slip": RETURN,
}
BARCODES = {
    "pick_slip": "39000012345678",
    "shipping_label": "39000012345678",
    "hold_shelf_slip": "TMP-77001",
    "return_slip": "TMP-77001",
}


def renderer(**options: object) -> DocumentRenderer:
    return DocumentRenderer(HOME, DIRECTORY.get, locale="en_GB", **options)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def pdf_barcodes(pdf: bytes) -> list[tuple[str, str]]:
    """Every barcode on the PDF's pages, read from a 216 dpi rendering: (format, text)."""
    found: list[tuple[str, str]] = []
    document = pypdfium2.PdfDocument(pdf)
    for page in document:
        image = page.render(scale=3).to_pil()
        found += [(b.format.name, b.text) for b in zxingcpp.read_barcodes(image)]
    return found
