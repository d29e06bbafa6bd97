"""Hypothesis strategies for NCIP messages: every request the adapter sends, and headers."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from resource_sharing_adapters.ncip import (
    AcceptItem,
    BibliographicDescription,
    CheckInItem,
    CheckOutItem,
    DeleteItem,
    Header,
    LookupUser,
    RecallItem,
    RenewItem,
    Request,
    RequestItem,
)

# Values survive the decoder's stripping: no surrounding whitespace, nothing XML forbids.
text = (
    st.text(
        st.characters(
            categories=("L", "N", "P", "S", "Zs"),
            exclude_characters="\x00",
        ),
        min_size=1,
        max_size=24,
    )
    .map(str.strip)
    .filter(bool)
)
maybe_text = st.none() | text
moments = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(9999, 1, 1),
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))
maybe_moment = st.none() | moments

headers = st.builds(
    Header,
    from_agency=text,
    to_agency=text,
    from_agency_authentication=maybe_text,
    application_profile=maybe_text,
)

bibliographic = st.builds(
    BibliographicDescription,
    title=maybe_text,
    author=maybe_text,
    identifier=maybe_text,
    identifier_code=maybe_text,
    publisher=maybe_text,
    publication_date=maybe_text,
    call_number=maybe_text,
).filter(lambda bib: bib.identifier is not None or bib.identifier_code is None)

requests: st.SearchStrategy[Request] = st.one_of(
    st.builds(LookupUser, user_id=text, element_types=st.lists(text, max_size=4).map(tuple)),
    st.builds(
        AcceptItem,
        request_id=text,
        requested_action=text,
        item_id=maybe_text,
        user_id=maybe_text,
        date_for_return=maybe_moment,
        bibliographic=st.none() | bibliographic,
        pickup_location=maybe_text,
    ),
    st.builds(
        CheckOutItem, user_id=text, item_id=text, request_id=maybe_text, desired_due=maybe_moment
    ),
    st.builds(CheckInItem, item_id=text),
    st.builds(DeleteItem, item_id=text),
    st.builds(RenewItem, user_id=text, item_id=text, desired_due=maybe_moment),
    st.builds(RecallItem, item_id=text, desired_due=maybe_moment),
    st.builds(
        RequestItem,
        user_id=text,
        item_id=text,
        request_type=text,
        scope=text,
        request_id=maybe_text,
        pickup_location=maybe_text,
    ),
)
