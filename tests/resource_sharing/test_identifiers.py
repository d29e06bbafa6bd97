"""Identifier normalisation: table tests of the written forms catalogues really use."""

from __future__ import annotations

import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing.identifiers import (
    isbn10_to_isbn13,
    isbn13_to_isbn10,
    match_keys,
    normalise,
    normalise_isbn,
    normalise_issn,
    normalise_lccn,
    normalise_oclc,
    require,
)
from resource_sharing.records import Citation, Identifier


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-306-40615-2", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("0-306-40615-2 (pbk.)", "9780306406157"),
        ("ISBN 0-306-40615-2 (pbk. : alk. paper)", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("ISBN-13: 978 0 306 40615 7", "9780306406157"),
        ("080442957X", "9780804429573"),
        ("0-8044-2957-x", "9780804429573"),
        ("979-10-90636-07-1", "9791090636071"),
        ("9780306406157 (hardcover)", "9780306406157"),
        ("0-306-40615-3", None),  # bad ISBN-10 check digit
        ("978-0-306-40615-8", None),  # bad ISBN-13 check digit
        ("977-0-306-40615-7", None),  # not a 978/979 prefix
        ("12345", None),
        ("", None),
        ("(pbk.)", None),
        ("X306406152", None),
    ],
)
def test_isbn(text: str, expected: str | None) -> None:
    assert normalise_isbn(text) == expected


def test_isbn_10_and_13_convert_both_ways() -> None:
    assert isbn10_to_isbn13("0306406152") == "9780306406157"
    assert isbn13_to_isbn10("9780306406157") == "0306406152"
    assert isbn13_to_isbn10("9780804429573") == "080442957X"
    assert isbn13_to_isbn10("9791090636071") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0317-8471", "0317-8471"),
        ("03178471", "0317-8471"),
        ("ISSN 0317-8471", "0317-8471"),
        ("1050-124x", "1050-124X"),
        ("eISSN: 2434-561X", "2434-561X"),
        ("0378-5955 (print)", "0378-5955"),
        ("0317-8472", None),
        ("0317-847", None),
        ("ABCD-EFGH", None),
        ("", None),
    ],
)
def test_issn(text: str, expected: str | None) -> None:
    assert normalise_issn(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12345", "12345"),
        ("ocm00012345", "12345"),
        ("ocn123456789", "123456789"),
        ("on1234567890", "1234567890"),
        ("(OCoLC)ocm00012345", "12345"),
        ("(OCoLC)12345", "12345"),
        ("(OCoLC) 0012345", "12345"),
        ("OCLC: 45", "45"),
        ("OCLC #45", "45"),
        ("000", None),
        ("ocm", None),
        ("(DLC)12345", None),
        ("12a45", None),
        ("", None),
    ],
)
def test_oclc(text: str, expected: str | None) -> None:
    assert normalise_oclc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The examples of https://www.loc.gov/marc/lccn-namespace.html
        ("n78-890351", "n78890351"),
        ("n78-89035", "n78089035"),
        ("n 78890351 ", "n78890351"),
        (" 85000002 ", "85000002"),
        ("85-2 ", "85000002"),
        ("2001-000002", "2001000002"),
        ("75-425165//r75", "75425165"),
        (" 79139101 /AC/r932", "79139101"),
        ("sh 85-26371", "sh85026371"),
        ("N78-890351", "n78890351"),
        ("85-1234567", None),  # serial longer than six digits
        ("85-12a", None),
        ("abcd12345678", None),  # four-letter prefix
        ("1234567", None),
        ("", None),
    ],
)
def test_lccn(text: str, expected: str | None) -> None:
    assert normalise_lccn(text) == expected


def test_normalise_dispatches_on_the_code_and_folds_eissn() -> None:
    assert normalise(Identifier("isbn", "0-306-40615-2")) == Identifier("ISBN", "9780306406157")
    assert normalise(Identifier("EISSN", "0317-8471")) == Identifier("ISSN", "0317-8471")
    assert normalise(Identifier("ISMN", " M-2306-7118-7 ")) == Identifier("ISMN", "M-2306-7118-7")
    assert normalise(Identifier("ISBN", "garbage")) is None
    assert normalise(Identifier("ISMN", "  ")) is None


def test_match_keys_make_two_written_forms_of_one_book_meet() -> None:
    ours = Citation(item_ids=(Identifier("ISBN", "0-306-40615-2 (pbk.)"),))
    theirs = (Identifier("ISBN", "9780306406157"), Identifier("OCLC", "(OCoLC)ocm1"))
    assert match_keys(ours) & match_keys(theirs) == {Identifier("ISBN", "9780306406157")}
    assert match_keys((Identifier("ISBN", "bad"),)) == frozenset()


def test_require_raises_a_typed_error_for_garbage() -> None:
    assert require("LCCN", "n78-89035") == "n78089035"
    with pytest.raises(InvalidInput) as caught:
        require("ISSN", "0317-8472")
    assert caught.value.field == "ISSN"
