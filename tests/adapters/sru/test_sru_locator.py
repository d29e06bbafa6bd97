"""The SRU holdings locator against a loopback SRU server (tests/adapters/sru_catalogue.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resource_sharing.ports import Holding
from resource_sharing.records import Citation, Identifier, ItemRef
from resource_sharing_adapters.sru import (
    CqlIndexes,
    SruBadResponse,
    SruClient,
    SruDiagnostic,
    SruHoldingsLocator,
    SruTarget,
    SruTimeout,
    SruUnavailable,
)
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue

BABBAGE = Book(
    "rec-1",
    "Passages from the life of a philosopher /",
    isbns=("0-306-40615-2 (pbk.)",),
    oclc="ocm00012345",
    copies=(
        Copy("3900001", "Main Library", "Stacks", "QA29 .B2", available=False),
        Copy("3900002", "Science Library", "Reserve", "QA29 .B2 c.2"),
    ),
)
NATURE = Book(
    "rec-2",
    "Nature",
    issns=("0028-0836",),
    copies=(Copy("3900100", "Main Library", "Periodicals", "Q1 .N2"),),
)
LOVELACE = Book(
    "rec-3",
    "Sketch of the analytical engine",
    copies=(Copy("3900200", "Main Library", "Special", "QA76 .L6"),),
)

ISBN13 = Citation(item_ids=(Identifier("ISBN", "978-0-306-40615-7"),))


@pytest.fixture(scope="module")
def catalogue() -> Iterator[SruCatalogue]:
    with SruCatalogue([BABBAGE, NATURE, LOVELACE]) as server:
        yield server


def _locator(url: str, **target: object) -> SruHoldingsLocator:
    client = SruClient(SruTarget(url, **target))  # type: ignore[arg-type]
    return SruHoldingsLocator(
        client, desks={"Reserve": "science-desk", "Main Library": "main-desk"}, default_desk="rs"
    )


@pytest.mark.parametrize("version", ["1.1", "1.2", "2.0"])
def test_isbn_finds_the_available_copy_with_its_desk(catalogue: SruCatalogue, version: str) -> None:
    found = _locator(catalogue.url, version=version).locate(ISBN13)
    assert found == Holding(
        ItemRef("3900002", "QA29 .B2 c.2", "Reserve", "science-desk", "Science Library"),
        available=True,
    )
    asked = catalogue.requests[-1]
    assert asked["version"] == version
    assert asked["query"] == 'bath.isbn="9780306406157" or bath.isbn="0306406152"'
    packing = "recordXMLEscaping" if version == "2.0" else "recordPacking"
    assert asked[packing] == "xml"


@pytest.mark.parametrize("layout", ["852", "952", "AVA", "opac"])
def test_each_holdings_layout_gives_the_same_copy(layout: str) -> None:
    book = Book(
        "rec-9",
        "Notes on the engine",
        isbns=("9780306406157",),
        copies=(Copy("B-7", "Main Library", "Stacks", "QA1 .N6"),),
        layout=layout,
    )
    with SruCatalogue([book]) as server:
        found = _locator(server.url).locate(ISBN13)
    assert found is not None
    assert (found.item.barcode, found.item.call_number, found.item.location) == (
        "B-7",
        "QA1 .N6",
        "Stacks",
    )
    assert found.item.desk == "main-desk"


def test_iso20775_holdings_schema() -> None:
    with SruCatalogue([BABBAGE]) as server:
        found = _locator(server.url, record_schema="isohold").locate(ISBN13)
    assert found is not None
    assert found.item.barcode == "3900002"
    assert found.available


def test_string_packing_is_parsed_again() -> None:
    with SruCatalogue([NATURE]) as server:
        client = SruClient(SruTarget(server.url, params=(("recordPacking", "string"),)))
        found = SruHoldingsLocator(client).locate(
            Citation(item_ids=(Identifier("ISSN", "0028-0836"),))
        )
    assert found is not None
    assert found.item.barcode == "3900100"


def test_issn_and_oclc_numbers_are_normalised_before_the_query(catalogue: SruCatalogue) -> None:
    indexes = CqlIndexes(oclc="oclc")
    found = _locator(catalogue.url, indexes=indexes).locate(
        Citation(record_ids=(Identifier("OCLC", "(OCoLC)00012345"),))
    )
    assert found is not None
    assert found.item.barcode == "3900002"
    assert catalogue.requests[-1]["query"] == 'oclc="12345"'
    _locator(catalogue.url).locate(Citation(item_ids=(Identifier("ISSN", "issn 0028-0836"),)))
    assert catalogue.requests[-1]["query"] == 'bath.issn="0028-0836"'


def test_title_search_when_there_is_no_identifier(catalogue: SruCatalogue) -> None:
    found = _locator(catalogue.url).locate(Citation(title="Sketch of the Analytical Engine."))
    assert found is not None
    assert found.item.barcode == "3900200"
    assert found.item.desk == "main-desk"
    assert catalogue.requests[-1]["query"] == 'dc.title all "sketch of the analytical engine"'


def test_an_oclc_number_without_an_index_is_matched_on_the_records_035(
    catalogue: SruCatalogue,
) -> None:
    citation = Citation(
        title="Passages from the life of a philosopher", record_ids=(Identifier("OCLC", "12345"),)
    )
    found = _locator(catalogue.url).locate(citation)
    assert found is not None
    assert found.item.barcode == "3900002"
    wrong = Citation(
        title="Passages from the life of a philosopher", record_ids=(Identifier("OCLC", "999"),)
    )
    assert _locator(catalogue.url).locate(wrong) is None


def test_not_held_is_none(catalogue: SruCatalogue) -> None:
    absent = Citation(title="A book nobody has", item_ids=(Identifier("ISBN", "9780262033848"),))
    assert _locator(catalogue.url).locate(absent) is None


def test_only_unavailable_copies_are_found_but_not_available() -> None:
    book = Book(
        "r",
        "Gone",
        isbns=("9780306406157",),
        copies=(Copy("X1", "Main", "Stacks", "A1", available=False),),
    )
    with SruCatalogue([book]) as server:
        found = _locator(server.url).locate(ISBN13)
    assert found is not None
    assert (found.item.barcode, found.available) == ("X1", False)


def test_only_our_holders_count_in_a_shared_catalogue() -> None:
    shared = Book(
        "r",
        "Shared",
        isbns=("9780306406157",),
        copies=(
            Copy("THEIRS", "Other", "Stacks", "A1", holder="OTHER"),
            Copy("OURS", "Main", "Stacks", "A2", available=False),
        ),
    )
    with SruCatalogue([shared]) as server:
        client = SruClient(SruTarget(server.url))
        found = SruHoldingsLocator(client, holders=["main"]).locate(ISBN13)
    assert found is not None
    assert found.item.barcode == "OURS"


def test_unsupported_index_is_a_diagnostic_error(catalogue: SruCatalogue) -> None:
    locator = _locator(catalogue.url, indexes=CqlIndexes(isbn="alma.isbn"))
    with pytest.raises(SruDiagnostic) as raised:
        locator.locate(ISBN13)
    assert raised.value.diagnostics[0].code == 16
    assert "alma.isbn" in str(raised.value)


def test_unsupported_version_is_a_diagnostic_error() -> None:
    with (
        SruCatalogue([BABBAGE], versions=frozenset({"2.0"})) as server,
        pytest.raises(SruDiagnostic) as raised,
    ):
        _locator(server.url, version="1.2").locate(ISBN13)
    assert raised.value.diagnostics[0].code == 5


def test_a_server_too_slow_is_a_timeout() -> None:
    with (
        SruCatalogue([BABBAGE], delay_seconds=2.0) as server,
        pytest.raises(SruTimeout) as raised,
    ):
        _locator(server.url, timeout_seconds=0.2).locate(ISBN13)
    assert isinstance(raised.value, SruUnavailable)
    assert server.url in str(raised.value)


def test_a_closed_port_is_unavailable() -> None:
    with SruCatalogue([]) as server:
        url = server.url
    with pytest.raises(SruUnavailable):
        _locator(url).locate(ISBN13)


def test_server_errors_and_non_sru_answers_are_typed() -> None:
    with (
        SruCatalogue([BABBAGE], status=503) as server,
        pytest.raises(SruUnavailable, match="HTTP 503"),
    ):
        _locator(server.url).locate(ISBN13)
    client = SruClient(SruTarget("http://catalogue.invalid/sru"))
    with pytest.raises(SruBadResponse, match="searchRetrieveResponse"):
        client.read(b"<html><body>It works!</body></html>")
    with pytest.raises(SruBadResponse, match="DOCTYPE"):
        client.read(b'<!DOCTYPE x [<!ENTITY a "b">]><searchRetrieveResponse/>')
    with pytest.raises(SruBadResponse, match="well-formed"):
        client.read(b"<searchRetrieveResponse>")


def test_an_answer_over_the_size_limit_is_refused(catalogue: SruCatalogue) -> None:
    with pytest.raises(SruBadResponse, match="larger than"):
        _locator(catalogue.url, max_bytes=200).locate(ISBN13)
