"""The [holdings] factory and the partner sru tables: read, or refused with the place."""

from __future__ import annotations

import tomllib

import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing.records import Citation, Identifier
from resource_sharing_adapters.sru import SruHoldingsLocator, from_config, parse_target
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue


def test_the_holdings_factory_builds_a_working_locator() -> None:
    book = Book("r", "T", isbns=("9780306406157",), copies=(Copy("BC-1", "Main", "Special", "Z1"),))
    with SruCatalogue([book]) as server:
        table = tomllib.loads(
            f"""
            factory = "resource_sharing_adapters.sru:from_config"
            url = "{server.url}"
            version = "2.0"
            timeout_seconds = 3
            default_desk = "circ"
            [desks]
            Special = "special-desk"
            """
        )
        locator = from_config(table, None)
        assert isinstance(locator, SruHoldingsLocator)
        found = locator.locate(Citation(item_ids=(Identifier("ISBN", "0306406152"),)))
    assert found is not None
    assert (found.item.barcode, found.item.desk) == ("BC-1", "special-desk")
    assert locator.client.target.timeout_seconds == 3.0


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({}, "url"),
        ({"url": "ftp://x"}, "url"),
        ({"url": "http://x", "version": "3.0"}, "version"),
        ({"url": "http://x", "indexes": "koha-ish"}, "indexes"),
        ({"url": "http://x", "indexes": {"isbm": "x"}}, "indexes"),
        ({"url": "http://x", "timeout_seconds": 0}, "timeout_seconds"),
        ({"url": "http://x", "timeout_seconds": True}, "timeout_seconds"),
        ({"url": "http://x", "colour": "red"}, "colour"),
        ({"url": "http://x", "holders": "MAIN"}, "holders"),
        (
            {"url": "http://x", "params_env": {"x-password": "NOT_SET_ANYWHERE_42"}},
            "params_env",
        ),
    ],
)
def test_bad_tables_are_refused_naming_the_key(table: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        from_config(table, None)
    assert str(raised.value).startswith(where)


def test_a_target_table_with_custom_indexes() -> None:
    target = parse_target(
        {"url": "https://x/sru", "indexes": {"isbn": "isbn", "title": "", "oclc": "oclc"}}, "t"
    )
    assert (
        target.indexes.isbn,
        target.indexes.issn,
        target.indexes.oclc,
        target.indexes.title,
    ) == (
        "isbn",
        None,
        "oclc",
        None,
    )
