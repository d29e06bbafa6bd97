"""The record reader on the real SRU answers in ../shared/ncip/sru_samples."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from resource_sharing.records import Citation, Identifier
from resource_sharing_adapters.sru import SruClient, SruTarget

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "ncip" / "sru_samples"

if not SAMPLES.is_dir():  # pragma: no cover - the folder is there in CI
    if os.environ.get("CI"):
        raise RuntimeError(f"the shared SRU samples are missing: {SAMPLES}")
    pytest.skip("../shared/ncip/sru_samples is not here", allow_module_level=True)

CLIENT = SruClient(SruTarget("http://catalogue.invalid/sru"))


def _read(name: str):  # type: ignore[no-untyped-def]
    return CLIENT.read((SAMPLES / name).read_bytes())


def test_every_sample_in_the_manifest_reads() -> None:
    with (SAMPLES / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    assert rows
    for row in rows:
        result = _read(row["file"])
        expected = "1.x" if row["sru_version"].startswith("1") else "2.0"
        assert result.version == expected, row["file"]
        assert len(result.records) == result.number_of_records, row["file"]


def test_alma_opac_record_gives_the_circulating_copy() -> None:
    (record,) = _read("modrs_alma-princeton_opac.xml").records
    assert record.matches(Citation(item_ids=(Identifier("ISBN", "978-0-375-70037-8"),)))
    assert record.matches(Citation(record_ids=(Identifier("OCLC", "36783841"),)))
    (item,) = record.items
    assert (item.barcode, item.call_number, item.library, item.available) == (
        "32101034358281",
        "HG2481 .C42 1997",
        "Firestone Library",
        True,
    )


def test_folio_opac_record_tells_the_checked_out_copy_apart() -> None:
    (record,) = _read("modrs_folio-not-requestable_opac.xml").records
    availability = {item.barcode: item.available for item in record.items}
    assert availability == {"31924128478918": True, "31924127029480": False}
    assert {item.holder for item in record.items} == {"Cornell University"}


def test_koha_952_items_read_with_branch_barcode_and_call_number() -> None:
    (record,) = _read("modrs_koha-chatham_marcxml-952.xml").records
    (item,) = record.items
    assert item.source == "952"
    assert (item.library, item.location, item.call_number, item.barcode) == (
        "CHATHAM",
        "CIRC2",
        "580.1 G733v",
        "31437000069572",
    )
    assert item.available is True
    assert record.matches(Citation(record_ids=(Identifier("OCLC", "(OCoLC)ocm936082941"),)))


def test_852_status_words_of_evergreen_and_polaris() -> None:
    (evergreen,) = _read("modrs_evergreen-lake-agassiz_marcxml-852.xml").records
    (polaris,) = _read("modrs_polaris-in_marcxml-852.xml").records
    assert [(i.barcode, i.available) for i in evergreen.items] == [("33500012563250", True)]
    assert [(i.barcode, i.call_number, i.available) for i in polaris.items] == [
        ("31256015853493", "j574.92 Sill", True)
    ]


def test_sierra_public_note_is_the_only_availability() -> None:
    (record,) = _read("modrs_sierra-laroche_opac-publicnote.xml").records
    (item,) = record.items
    assert (item.status, item.available, item.call_number) == (
        "AVAILABLE",
        True,
        "813.54 P648my 2003",
    )
    assert record.matches(Citation(item_ids=(Identifier("ISBN", "1-4000-3104-4"),)))


def test_union_catalogue_without_marc_namespace_lists_holders_by_isil() -> None:
    (record,) = _read("crosslink_gvi-sru1.1_marc21plus-924.xml").records
    assert [item.holder for item in record.items] == ["DE-89", "DE-468", "DE-Kob7"]
    assert record.items[0].call_number == "T 10 B 6278"
    assert record.matches(Citation(item_ids=(Identifier("ISBN", "0-07-162860-6"),)))


def test_zero_hits_is_an_empty_answer_not_an_error() -> None:
    result = _read("modrs_alma-princeton-notfound.xml")
    assert (result.number_of_records, result.records) == (0, ())
