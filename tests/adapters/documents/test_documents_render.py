"""Every printed document as PDF and HTML: its words, and a barcode that scans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.effects import PrintHoldShelfSlip, PrintShippingLabel
from resource_sharing.records import AgencyId, Citation, PatronRef
from resource_sharing_adapters.documents import (
    DocumentError,
    DocumentRenderer,
    MissingAddress,
    PatronForm,
    document_kind,
    patron_label,
)
from tests.adapters.documents_jobs import (
    BARCODES,
    CITATION,
    DIRECTORY,
    HOLD,
    HOME,
    JOBS,
    LABEL,
    RETURN,
    pdf_barcodes,
    pdf_pages,
    pdf_text,
    renderer,
)

EXPECTED_TEXT = {
    "pick_slip": [
        "Pick slip",
        "QA76 .M46 1843",
        "Stacks level 2",
        "Science Library",
        "Sketch of the Analytical Engine / L. F. Menabrea",
        "Lender B University Library (ISIL:US-B)",
        "1 Oct 2026",
    ],
    "shipping_label": [
        "Lender B University Library",
        "Interlibrary Loan Office",
        "1 Main Street",
        "Springfield 12345",
        "Borrower A Library",
        "2 Elm Street",
        "B-0042",
        "L-17",
    ],
    "hold_shelf_slip": ["Hold shelf", "Ada L.", "21 Sept 2026", "Main desk", "B-0042"],
    "return_slip": [
        "Lender B University Library",
        "Springfield 12345",
        "Borrower A Library",
        "Shelbyville 54321",
        "L-17",
        "B-0042",
    ],
}


@pytest.mark.parametrize("kind", list(JOBS))
def test_each_document_as_pdf_says_what_it_must_and_its_barcode_scans(kind: str) -> None:
    job = JOBS[kind]
    pdf = renderer().pdf(job)
    assert pdf.startswith(b"%PDF-")
    assert pdf_pages(pdf) == 1
    text = pdf_text(pdf)
    for expected in EXPECTED_TEXT[kind]:
        assert expected in text, (kind, expected)
    assert ("Code128", BARCODES[kind]) in pdf_barcodes(pdf)


@pytest.mark.parametrize("kind", list(JOBS))
def test_each_document_as_html_has_print_css_and_an_svg_barcode(kind: str) -> None:
    page = renderer().html(JOBS[kind])
    assert document_kind(JOBS[kind]) == kind
    assert "@page { size: 105mm 148mm" in page
    assert '<span class="barcode"><svg' in page
    for expected in EXPECTED_TEXT[kind]:
        assert expected.replace("'", "&#39;") in page, (kind, expected)


def test_the_hold_shelf_slip_keeps_the_patron_private() -> None:
    text = pdf_text(renderer().pdf(HOLD))
    assert "Lovelace" not in text
    assert "p-001815" not in text
    last4 = pdf_text(renderer(patron_form=PatronForm.LAST_DIGITS).pdf(HOLD))
    assert "…1815" in last4
    assert "Ada" not in last4


def test_a_label_without_a_barcode_scans_as_the_borrowers_request_id() -> None:
    copy = PrintShippingLabel("L-18", None, CITATION, AgencyId("US-B"), "B-0043")
    pdf = renderer().pdf(copy)
    assert ("Code128", "B-0043") in pdf_barcodes(pdf)
    assert "copy" in pdf_text(pdf)


def test_a_partner_without_an_address_is_refused_not_printed_blank() -> None:
    nowhere = PrintShippingLabel("L-19", "3900", CITATION, AgencyId("US-C"), "C-1")
    with pytest.raises(MissingAddress) as raised:
        renderer().pdf(nowhere)
    assert raised.value.agency == AgencyId("US-C")
    with pytest.raises(MissingAddress):
        renderer().html(attrs.evolve(RETURN, lender=AgencyId("US-Z")))


def test_text_from_the_request_is_escaped_in_the_page() -> None:
    sneaky = Citation(title='<script>alert("x")</script> & <b>more</b>')
    page = renderer().html(attrs.evolve(LABEL, citation=sneaky))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<script>" in pdf_text(renderer().pdf(attrs.evolve(LABEL, citation=sneaky)))


def test_an_institution_overrides_a_layout(tmp_path: Path) -> None:
    (tmp_path / "pick_slip.html").write_text(
        '{% extends "_base.html" %}{% block heading %}Fetch me{% endblock %}'
        "{% block content %}<p>{{ item.call_number }} for {{ borrower.name }}</p>"
        "{{ barcode(barcode_value) }}{% endblock %}"
    )
    pdf = renderer(template_folder=tmp_path).pdf(JOBS["pick_slip"])
    text = pdf_text(pdf)
    assert "Fetch me" in text
    assert "QA76 .M46 1843 for Lender B University Library" in text
    assert ("Code128", "39000012345678") in pdf_barcodes(pdf)
    # the other documents still come from the package
    assert "Hold shelf" in pdf_text(renderer(template_folder=tmp_path).pdf(HOLD))


def test_a_broken_override_is_a_document_error(tmp_path: Path) -> None:
    (tmp_path / "return_slip.html").write_text("{{ no_such_field.name }}")
    with pytest.raises(DocumentError, match=r"return_slip\.html"):
        renderer(template_folder=tmp_path).pdf(RETURN)


def test_dates_follow_the_locale_and_time_zone() -> None:
    late = attrs.evolve(HOLD, expires=datetime(2026, 9, 21, 23, 30, tzinfo=UTC))
    german = DocumentRenderer(HOME, DIRECTORY.get, locale="de", timezone="Europe/Berlin")
    assert "22.09.2026" in pdf_text(german.pdf(late))


@given(
    st.text(min_size=1, max_size=20).filter(lambda s: s.strip()),
    st.none() | st.text(max_size=40),
    st.sampled_from(PatronForm),
)
def test_patron_labels_never_show_more_than_their_form_allows(
    patron_id: str, name: str | None, form: PatronForm
) -> None:
    label = patron_label(PatronRef(patron_id, name), form)
    words = (name or "").split()
    assert label
    if form is PatronForm.INITIAL and len(words) > 1:
        assert words[-1] not in label.split() or words[-1][0] + "." == words[-1]
        assert label.startswith(words[0])
    if form in (PatronForm.INITIAL, PatronForm.INITIALS, PatronForm.LAST_DIGITS) and not words:
        assert label == "…" + patron_id[-4:]
    if form is PatronForm.LAST_DIGITS:
        assert label == "…" + patron_id[-4:]


def test_hold_shelf_slip_with_a_patron_without_a_name() -> None:
    slip = PrintHoldShelfSlip("B-9", "TMP-9", PatronRef("p-12345678"), None, None, CITATION)
    text = pdf_text(renderer().pdf(slip))
    assert "…5678" in text
    assert "Ada" not in text
