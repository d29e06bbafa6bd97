"""The NCIP codec: strict and valid to send, lenient to read, safe against hostile bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from lxml import etree

from resource_sharing_adapters.ncip import (
    BibliographicDescription,
    CheckInItem,
    CheckOutItem,
    EncodeError,
    Header,
    MalformedNcip,
    Request,
    decode,
    encode,
    parse_datetime,
    read_request,
    validate,
)
from resource_sharing_adapters.ncip._services import element, envelope, to_bytes
from tests.strategies.ncip import bibliographic, headers, maybe_text, requests

_HEADER = Header("US-A", "ILS")


@given(requests, headers, maybe_text)
def test_every_request_round_trips_and_validates(
    request: Request, header: Header, key: str | None
) -> None:
    data = encode(request, header, key=key)
    assert validate(data).valid
    message = decode(data)
    assert message.warnings == ()
    assert message.service == request.SERVICE
    assert message.header == header
    assert message.key == key
    assert read_request(message) == request


@given(bibliographic)
def test_a_brief_record_round_trips(bib: BibliographicDescription) -> None:
    assert (
        BibliographicDescription.read(
            decode(to_bytes(envelope(_accept(bib)))).body.first("ItemOptionalFields")
        )
        == bib
    )


def _accept(bib: BibliographicDescription) -> etree._Element:
    return element(
        "AcceptItem",
        element("RequestId", element("RequestIdentifierValue", "R")),
        element("RequestedActionType", "Hold For Pickup"),
        bib.xml(),
    )


def test_an_invalid_message_is_never_sent() -> None:
    with pytest.raises(EncodeError, match=r"CheckInItem: not valid NCIP 2\.02"):
        to_bytes(envelope(element("CheckInItem")))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'<!DOCTYPE x [<!ENTITY a "b">]><NCIPMessage/>', "DOCTYPE"),
        (b"<NCIPMessage", "not well-formed"),
        ("<NCIPMessage/>".encode("utf-16"), "not UTF-8"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><NCIPMessage/>', "not UTF-8"),
        (b"<a>" * 40 + b"</a>" * 40, "nested deeper"),
        (b"<NCIPMessage>" + b" " * 2_000_000 + b"</NCIPMessage>", "exceeds the limit"),
        (b"<html><body>Login</body></html>", "html is not an NCIP message"),
        (b'<NCIPMessage version="x"/>', "empty NCIPMessage"),
    ],
)
def test_hostile_or_broken_bytes_are_refused_with_a_problem(data: bytes, fragment: str) -> None:
    with pytest.raises(MalformedNcip, match=fragment) as caught:
        decode(data)
    assert caught.value.problem.type == "Invalid Message Syntax Error"


def test_koha_ncip1_scheme_value_pairs_are_read_as_values() -> None:
    message = decode(
        b"<NCIPMessage version='http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd'>"
        b"<AcceptItem><RequestId><RequestIdentifierValue>R-1</RequestIdentifierValue></RequestId>"
        b"<RequestedActionType><Scheme>http://x/scm</Scheme><Value>Hold For Pickup</Value>"
        b"</RequestedActionType></AcceptItem></NCIPMessage>"
    )
    node = message.body.first("RequestedActionType")
    assert node is not None
    assert (node.text, node.scheme) == ("Hold For Pickup", "http://x/scm")


def test_a_service_without_an_envelope_and_out_of_order_is_read() -> None:
    message = decode(
        b"<CheckOutItem><ItemId><ItemIdentifierValue> C-1 </ItemIdentifierValue></ItemId>"
        b"<UserId><UserIdentifierValue>INST-B</UserIdentifierValue>"
        b"<UserIdentifierType>Barcode</UserIdentifierType></UserId></CheckOutItem>"
    )
    assert "no NCIPMessage envelope" in message.warnings
    assert read_request(message) == CheckOutItem("INST-B", "C-1")


def test_folio_500_body_and_empty_problem_type_become_problems() -> None:
    crash = decode(b"<Problem><message>boom</message><exception>NPE</exception></Problem>")
    assert crash.service == "Problem"
    assert crash.problems[0].detail == "boom"
    unknown = decode(
        b'<NCIPMessage version="v2"><LookupUserResponse><Problem><ProblemType/>'
        b"<ProblemElement>User</ProblemElement><ProblemValue>Could not find user p-9"
        b"</ProblemValue></Problem></LookupUserResponse></NCIPMessage>"
    )
    assert unknown.problems[0].type == ""
    assert unknown.problems[0].describe() == "Problem (User = Could not find user p-9)"


def test_a_success_response_lacking_a_mandatory_element_is_read_with_a_warning() -> None:
    message = decode(b'<NCIPMessage version="v2"><CheckInItemResponse/></NCIPMessage>')
    assert "CheckInItemResponse lacks ItemId" in message.warnings


def test_a_request_lacking_a_mandatory_element_is_refused() -> None:
    with pytest.raises(MalformedNcip, match="CheckInItem needs ItemId") as caught:
        decode(b'<NCIPMessage version="v2"><CheckInItem/></NCIPMessage>')
    assert caught.value.problem.element == "CheckInItem/ItemId"


def test_unknown_services_are_read_and_refused_by_read_request() -> None:
    message = decode(b"<NCIPMessage><LookupVersion/></NCIPMessage>")
    assert "LookupVersion is not a service of NCIP 2.02" in message.warnings
    with pytest.raises(MalformedNcip, match="Unsupported Service"):
        read_request(message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-07T10:00:00Z", datetime(2026, 9, 7, 10, tzinfo=UTC)),
        ("2026-09-07T12:00:00+02:00", datetime(2026, 9, 7, 10, tzinfo=UTC)),
        ("2026-09-07T10:00:00", datetime(2026, 9, 7, 10, tzinfo=UTC)),
        ("2026-09-07", datetime(2026, 9, 7, tzinfo=UTC)),
        ("next week", None),
    ],
)
def test_dates_are_read_leniently(text: str, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


def test_an_invalid_date_in_a_request_is_a_problem() -> None:
    with pytest.raises(MalformedNcip, match="Invalid Date"):
        read_request(
            b"<NCIPMessage><RecallItem><ItemId><ItemIdentifierValue>T</ItemIdentifierValue>"
            b"</ItemId><DesiredDateDue>soon</DesiredDateDue></RecallItem></NCIPMessage>"
        )


def test_the_check_in_asks_for_the_location() -> None:
    assert b"<ns1:ItemElementType>Location</ns1:ItemElementType>" in encode(
        CheckInItem("C-1"), _HEADER
    )
