"""CQL built from citations: normalised identifiers, terms that parse back as written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.identifiers import isbn13_to_isbn10, normalise_isbn
from resource_sharing.records import Citation, Identifier
from resource_sharing_adapters.sru import (
    INDEX_PRESETS,
    CqlIndexes,
    identifier_query,
    quote,
    title_query,
    title_words,
)
from tests.adapters.sru_catalogue import clauses, parse_cql, tokens

STANDARD = CqlIndexes()


@st.composite
def isbn13s(draw: st.DrawFn) -> str:
    first12 = draw(st.sampled_from(["978", "979"])) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9))
    )
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


@st.composite
def written(draw: st.DrawFn, compact: str) -> str:
    """The ISBN as a catalogue might write it: hyphens, spaces, a label, a qualifier."""
    cuts = sorted(draw(st.sets(st.integers(1, len(compact) - 1), max_size=4)))
    parts, start = [], 0
    for cut in cuts:
        parts.append(compact[start:cut])
        start = cut
    parts.append(compact[start:])
    text = draw(st.sampled_from(["-", " "])).join(parts)
    text = draw(st.sampled_from(["", "ISBN ", "ISBN: ", "isbn-13 "])) + text
    return text + draw(st.sampled_from(["", " (pbk.)", " (alk. paper)", " : 25.00"]))


@given(st.data())
def test_any_written_form_of_an_isbn_gives_the_canonical_query(data: st.DataObject) -> None:
    isbn = data.draw(isbn13s())
    form = data.draw(written(isbn))
    if data.draw(st.booleans()) and (short := isbn13_to_isbn10(isbn)) is not None:
        form = data.draw(written(short))
    query = identifier_query(Citation(item_ids=(Identifier("isbn", form),)), STANDARD)
    canonical = normalise_isbn(isbn)
    assert query is not None
    assert canonical is not None
    terms = [term for _, _, term in clauses(parse_cql(query))]
    assert terms[0] == canonical
    assert set(terms) <= {canonical, isbn13_to_isbn10(canonical)}


@given(st.text())
def test_quote_round_trips_through_a_cql_parser(term: str) -> None:
    ((kind, value),) = tokens(quote(term))
    assert (kind, value) == ("term", term)


@given(st.text(min_size=1))
def test_a_title_query_parses_and_searches_the_title_words(title: str) -> None:
    query = title_query(Citation(title=title), STANDARD)
    words = title_words(title)
    if not words:
        assert query is None
        return
    assert query is not None
    assert list(clauses(parse_cql(query))) == [("dc.title", "all", words)]


def test_invalid_identifiers_are_left_out_and_presets_name_their_indexes() -> None:
    bad = Citation(item_ids=(Identifier("ISBN", "0-306-40615-3"),))
    assert identifier_query(bad, STANDARD) is None
    mixed = Citation(
        item_ids=(Identifier("ISSN", "0317-8471"), Identifier("ISBN", "9791234567896")),
        record_ids=(Identifier("OCLC", "on1234567890"),),
    )
    assert identifier_query(mixed, INDEX_PRESETS["alma"]) == (
        'alma.isbn="9791234567896" or alma.issn="0317-8471"'
        ' or alma.other_system_number="1234567890"'
    )
    assert identifier_query(mixed, INDEX_PRESETS["plain"]) == (
        'isbn="9791234567896" or issn="0317-8471"'
    )
