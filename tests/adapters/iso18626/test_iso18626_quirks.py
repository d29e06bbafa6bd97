"""Golden tests: each interoperability quirk of REPORT.md §9, read and written right."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lxml import etree

from resource_sharing.iso18626 import Action, ErrorType, MessageStatus, ReasonForMessage, Status
from resource_sharing.messages import (
    Confirmation,
    DeliveryInfo,
    Header,
    MessageKind,
    Request,
    RequestingAgencyMessage,
    ServiceInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation
from resource_sharing_adapters.iso18626 import (
    ISO_NAMESPACE,
    BadlyFormedMessage,
    Decoded,
    EncodeError,
    UnrecognisedDataElement,
    UnrecognisedDataValue,
    decode,
    encode,
    validate,
)

NS = ISO_NAMESPACE
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
HEADER = Header(
    requesting_agency=AgencyId("DK-REQ"),
    supplying_agency=AgencyId("DK-SUP"),
    requesting_agency_request_id="REQ-1~0",
    timestamp=T0,
)


def _header_xml(timestamp: str = "2024-05-01T12:00:00Z", p: str = "") -> str:
    return (
        f"<{p}header><{p}supplyingAgencyId><{p}agencyIdType>ISIL</{p}agencyIdType>"
        f"<{p}agencyIdValue>DK-SUP</{p}agencyIdValue></{p}supplyingAgencyId>"
        f"<{p}requestingAgencyId><{p}agencyIdType>ISIL</{p}agencyIdType>"
        f"<{p}agencyIdValue>DK-REQ</{p}agencyIdValue></{p}requestingAgencyId>"
        f"<{p}multipleItemRequestId></{p}multipleItemRequestId>"
        f"<{p}timestamp>{timestamp}</{p}timestamp>"
        f"<{p}requestingAgencyRequestId>REQ-1~0</{p}requestingAgencyRequestId></{p}header>"
    )


def _sam(
    body: str = "",
    *,
    reason: str = "StatusChange",
    status: str = "Loaned",
    timestamp: str = "2024-05-01T12:00:00Z",
    envelope: str = f'<ISO18626Message xmlns="{NS}" xmlns:ill="{NS}" ill:version="1.2">',
) -> bytes:
    message = (
        f"<supplyingAgencyMessage>{_header_xml(timestamp)}"
        f"<messageInfo><reasonForMessage>{reason}</reasonForMessage></messageInfo>"
        f"<statusInfo><status>{status}</status><lastChange>2024-05-01T12:00:00Z</lastChange>"
        f"</statusInfo>{body}</supplyingAgencyMessage>"
    )
    if not envelope:
        return f'<?xml version="1.0"?>{message}'.encode()
    return f"{envelope}{message}</ISO18626Message>".encode()


def _sam_of(data: bytes, *, strict: bool = False) -> SupplyingAgencyMessage:
    message = decode(data, strict=strict).message
    assert isinstance(message, SupplyingAgencyMessage)
    return message


# §9.1 prefixes and qualified attributes --------------------------------------------------


@pytest.mark.parametrize("prefix", ["ill", "ns1", "tag0"])
def test_any_prefix_everywhere_is_read(prefix: str) -> None:
    p = f"{prefix}:"
    data = (
        f'<{p}ISO18626Message xmlns:{prefix}="{NS}" {p}version="1.2">'
        f"<{p}requestingAgencyMessage>{_header_xml(p=p)}<{p}action>Renew</{p}action>"
        f"</{p}requestingAgencyMessage></{p}ISO18626Message>"
    ).encode()
    decoded = decode(data, strict=True)
    assert decoded.version == "1.2"
    assert decoded.message == RequestingAgencyMessage(header=HEADER, action=Action.RENEW)


def test_an_unqualified_version_attribute_is_read() -> None:
    data = _sam(envelope=f'<ISO18626Message xmlns="{NS}" version="1.0">')
    assert decode(data).version == "1.0"


def test_encoding_declares_xmlns_and_the_ill_prefix_with_a_qualified_version() -> None:
    data = encode(RequestingAgencyMessage(header=HEADER, action=Action.CANCEL))
    root = etree.fromstring(data)
    assert root.tag == f"{{{NS}}}ISO18626Message"
    assert root.nsmap == {None: NS, "ill": NS}
    assert root.get(f"{{{NS}}}version") == "1.2"
    assert b'ill:version="1.2"' in data
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


# §9.2 missing or wrong namespace ----------------------------------------------------------


@pytest.mark.parametrize("xmlns", ["", ' xmlns="https://example.com/ill/request"'])
def test_a_missing_or_wrong_namespace_is_read_by_local_name(xmlns: str) -> None:
    data = f"<request{xmlns}>{_header_xml()}<bibliographicInfo><title>T</title>"
    data += "</bibliographicInfo><serviceInfo><serviceType>Copy</serviceType></serviceInfo>"
    data += "</request>"
    message = decode(data.encode()).message
    assert isinstance(message, Request)
    assert message.citation.title == "T"
    assert message.header == HEADER
    with pytest.raises(BadlyFormedMessage, match="namespace"):
        decode(data.encode(), strict=True)


# §9.3 free-form versions, §9.4 missing envelope ---------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.2", "v1_2_2017", "2021-3", ""])
def test_any_version_string_is_accepted_and_reported(version: str) -> None:
    envelope = f'<ISO18626Message xmlns="{NS}" xmlns:ill="{NS}" ill:version="{version}">'
    assert decode(_sam(envelope=envelope)).version == version


def test_a_bare_message_without_envelope_decodes() -> None:
    decoded = decode(_sam(envelope=""))
    assert decoded.version is None
    assert decoded.element == "supplyingAgencyMessage"
    assert _sam_of(_sam(envelope="")) == _sam_of(_sam())


def test_an_empty_envelope_is_badly_formed() -> None:
    with pytest.raises(BadlyFormedMessage, match="no message"):
        decode(f'<ISO18626Message xmlns="{NS}" version="1.2"/>'.encode())


# §9.5 element order ----------------------------------------------------------------------


def test_both_orders_of_bibliographic_item_id_and_a_shuffled_header_are_read() -> None:
    header = (
        "<header><requestingAgencyRequestId>REQ-1~0</requestingAgencyRequestId>"
        "<timestamp>2024-05-01T12:00:00Z</timestamp>"
        "<requestingAgencyId><agencyIdValue>DK-REQ</agencyIdValue>"
        "<agencyIdType>ISIL</agencyIdType></requestingAgencyId>"
        "<supplyingAgencyId><agencyIdType>ISIL</agencyIdType>"
        "<agencyIdValue>DK-SUP</agencyIdValue></supplyingAgencyId></header>"
    )
    data = (
        f'<request xmlns="{NS}">{header}<bibliographicInfo>'
        "<bibliographicItemId><bibliographicItemIdentifier>123</bibliographicItemIdentifier>"
        "<bibliographicItemIdentifierCode>ISBN</bibliographicItemIdentifierCode>"
        "</bibliographicItemId><bibliographicItemId>"
        "<bibliographicItemIdentifierCode>ISSN</bibliographicItemIdentifierCode>"
        "<bibliographicItemIdentifier>456</bibliographicItemIdentifier></bibliographicItemId>"
        "</bibliographicInfo><serviceInfo><serviceType>Loan</serviceType></serviceInfo></request>"
    ).encode()
    message = decode(data).message
    assert isinstance(message, Request)
    assert message.header == HEADER
    assert message.citation.identifier("isbn") == "123"
    assert message.citation.identifier("ISSN") == "456"


def test_encoding_follows_each_versions_bibliographic_item_id_order() -> None:
    request = decode(
        f'<request xmlns="{NS}">{_header_xml()}<bibliographicInfo><bibliographicItemId>'
        "<bibliographicItemIdentifier>123</bibliographicItemIdentifier>"
        "<bibliographicItemIdentifierCode>ISBN</bibliographicItemIdentifierCode>"
        "</bibliographicItemId></bibliographicInfo></request>".encode()
    ).message
    v12 = etree.fromstring(encode(request))
    v21 = etree.fromstring(encode(request, version="2021-2"))
    path = f".//{{{NS}}}bibliographicItemId"
    assert [etree.QName(e).localname for e in v12.find(path)] == [  # type: ignore[union-attr]
        "bibliographicItemIdentifier",
        "bibliographicItemIdentifierCode",
    ]
    assert [etree.QName(e).localname for e in v21.find(path)] == [  # type: ignore[union-attr]
        "bibliographicItemIdentifierCode",
        "bibliographicItemIdentifier",
    ]


# §9.6 multipleItemRequestId -------------------------------------------------------------


def test_multiple_item_request_id_is_sent_empty_in_v1_2_and_left_out_in_2021_2() -> None:
    message = RequestingAgencyMessage(header=HEADER, action=Action.RECEIVED)
    v12 = etree.fromstring(encode(message))
    element = v12.find(f".//{{{NS}}}multipleItemRequestId")
    assert element is not None
    assert element.text is None
    v21 = encode(message, version="2021-2")
    assert b"multipleItemRequestId" not in v21
    assert validate(v21, version="2021-2").valid
    assert _sam_of(_sam()).header.multiple_item_request_id is None


# §9.7 dates and times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-12-12T20:12:00.62959771Z", datetime(2024, 12, 12, 20, 12, 0, 629597, tzinfo=UTC)),
        ("2023-09-29T12:55:16.2099166Z", datetime(2023, 9, 29, 12, 55, 16, 209916, tzinfo=UTC)),
        ("1900-01-01T01:01:01+0000", datetime(1900, 1, 1, 1, 1, 1, tzinfo=UTC)),
        ("2023-03-15 14:30:00", datetime(2023, 3, 15, 14, 30, tzinfo=UTC)),
        ("2013-07-31T16:00:00-06:00", datetime(2013, 7, 31, 22, 0, tzinfo=UTC)),
        ("2013-07-31T16:00:00+02:00", datetime(2013, 7, 31, 14, 0, tzinfo=UTC)),
        ("0001-01-01T00:00:00.000Z", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamps_in_every_seen_form_become_aware_utc(text: str, expected: datetime) -> None:
    message = _sam_of(_sam(timestamp=text))
    assert message.header.timestamp == expected
    assert message.header.timestamp.tzinfo is UTC


def test_empty_dates_are_absent() -> None:
    data = _sam(
        body="<deliveryInfo><dateSent>2024-05-02T00:00:00Z</dateSent></deliveryInfo>",
    ).replace(b"<lastChange>2024-05-01T12:00:00Z</lastChange>", b"<lastChange/><dueDate/>")
    decoded = decode(data)
    assert isinstance(decoded.message, SupplyingAgencyMessage)
    assert decoded.message.last_change is None
    assert decoded.message.due_date is None


@pytest.mark.parametrize("strict", [False, True])
def test_an_empty_or_unreadable_header_timestamp_is_refused_never_made_up(strict: bool) -> None:
    with pytest.raises(BadlyFormedMessage, match="header/timestamp is empty"):
        decode(_sam(timestamp=""), strict=strict)
    with pytest.raises(UnrecognisedDataValue, match="header/timestamp: 'timestamp_holder'"):
        decode(_sam(timestamp="timestamp_holder"), strict=strict)


def test_an_unreadable_body_date_is_an_unrecognised_data_value() -> None:
    data = _sam(body="<deliveryInfo><dateSent>_TIMESTAMP_</dateSent></deliveryInfo>")
    with pytest.raises(UnrecognisedDataValue) as caught:
        decode(data)
    assert caught.value.error_type is ErrorType.UNRECOGNISED_DATA_VALUE
    assert caught.value.error_value == "supplyingAgencyMessage/deliveryInfo/dateSent: '_TIMESTAMP_'"


def test_timestamps_are_written_in_utc_whole_seconds_and_due_dates_at_end_of_day() -> None:
    from datetime import timedelta, timezone

    local = datetime(2024, 5, 1, 14, 30, 15, 999999, tzinfo=timezone(timedelta(hours=2)))
    message = SupplyingAgencyMessage(
        header=Header(
            requesting_agency=AgencyId("DK-REQ"),
            supplying_agency=AgencyId("DK-SUP"),
            requesting_agency_request_id="R",
            timestamp=local,
        ),
        reason=ReasonForMessage.REQUEST_RESPONSE,
        status=Status.LOANED,
        last_change=local,
        due_date=datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
    )
    data = encode(message)
    assert b"<timestamp>2024-05-01T12:30:15Z</timestamp>" in data
    assert b"<dueDate>2024-06-01T23:59:59Z</dueDate>" in data
    assert validate(data).valid


def test_a_naive_datetime_is_refused_on_encoding() -> None:
    naive = Header(
        requesting_agency=AgencyId("A"),
        supplying_agency=AgencyId("B"),
        requesting_agency_request_id="R",
        timestamp=datetime(2024, 1, 1),
    )
    with pytest.raises(EncodeError, match="naive"):
        encode(RequestingAgencyMessage(header=naive, action=Action.CANCEL))


# §9.8 notes as a side channel -------------------------------------------------------------


def test_notes_with_reshare_markers_and_newlines_survive() -> None:
    note = "#ReShareSupplierAwaitingConditionConfirmation##seq:1#\nShip to: A & B <dept>"
    message = RequestingAgencyMessage(header=HEADER, action=Action.NOTIFICATION, note=note)
    assert decode(encode(message)).message == message


# §9.9 empty status ---------------------------------------------------------------------


def test_an_empty_status_on_a_notification_is_none() -> None:
    data = _sam(reason="Notification", status="")
    assert _sam_of(data).status is None
    assert _sam_of(data, strict=True).status is None


def test_an_empty_status_elsewhere_is_tolerated_but_refused_in_strict_mode() -> None:
    data = _sam(reason="CancelResponse", status="")
    assert _sam_of(data).status is None
    with pytest.raises(UnrecognisedDataValue):
        decode(data, strict=True)


def test_a_record_with_no_status_cannot_be_sent() -> None:
    message = SupplyingAgencyMessage(
        header=HEADER, reason=ReasonForMessage.NOTIFICATION, status=None, last_change=T0
    )
    with pytest.raises(EncodeError, match="status"):
        encode(message)


# §9.10 wrong confirmation type, §9.19 sparse confirmation headers ------------------------


def test_a_confirmation_of_any_type_with_a_sparse_header_decodes() -> None:
    data = (
        f'<ISO18626Message xmlns="{NS}" version="1.0"><requestingAgencyMessageConfirmation>'
        "<confirmationHeader><timestamp>2024-05-01T12:00:00Z</timestamp>"
        "<timestampReceived>2024-05-01T12:00:00Z</timestampReceived>"
        "<messageStatus>OK</messageStatus></confirmationHeader>"
        "</requestingAgencyMessageConfirmation></ISO18626Message>"
    ).encode()
    assert decode(data).message == Confirmation(
        confirms=MessageKind.REQUESTING_AGENCY_MESSAGE,
        status=MessageStatus.OK,
        timestamp=T0,
        timestamp_received=T0,
    )


# §9.11 itemId cardinality, §9.21 2021 renames --------------------------------------------


def test_2021_renames_are_read_as_their_v1_2_meaning() -> None:
    body = (
        "<retryInfo><offeredCosts><currencyCode>EUR</currencyCode>"
        "<monetaryValue>12.50</monetaryValue></offeredCosts>"
        "<retryBefore>2024-06-01T00:00:00Z</retryBefore>"
        "<retryAfter>2024-05-15T00:00:00Z</retryAfter></retryInfo>"
        "<deliveryInfo><dateSent>2024-05-01T12:00:00Z</dateSent><itemId>B1</itemId>"
        "<itemId>B2</itemId><deliveryMethod>Mail</deliveryMethod>"
        "<itemFormat>PaperCopy</itemFormat></deliveryInfo>"
    )
    decoded = decode(_sam(body, status="RetryPossible"))
    message = decoded.message
    assert isinstance(message, SupplyingAgencyMessage)
    assert message.offered_costs is not None
    assert message.offered_costs.amount == Decimal("12.50")
    assert message.retry_before == datetime(2024, 6, 1, tzinfo=UTC)
    assert message.retry_after == datetime(2024, 5, 15, tzinfo=UTC)
    assert message.delivery == DeliveryInfo(
        date_sent=T0, item_id="B1", sent_via="Mail", delivered_format="PaperCopy"
    )
    assert any("itemId" in w for w in decoded.warnings)


def test_2021_only_codes_are_refused_in_v1_2_but_sent_in_2021_2() -> None:
    message = SupplyingAgencyMessage(
        header=HEADER,
        reason=ReasonForMessage.STATUS_CHANGE,
        status=Status.HOLD_RETURN,
        last_change=T0,
    )
    with pytest.raises(EncodeError, match=r"v1\.2"):
        encode(message)
    assert validate(encode(message, version="2021-2"), version="2021-2").valid
    with pytest.raises(EncodeError, match=r"v1\.2"):
        encode(RequestingAgencyMessage(header=HEADER, action=Action.LOST))


# §9.12 Y/N versus boolean ---------------------------------------------------------------


def test_sent_to_patron_is_boolean_and_send_to_patron_is_y_n() -> None:
    data = _sam(
        body="<deliveryInfo><dateSent>2024-05-01T12:00:00Z</dateSent>"
        "<sentToPatron>1</sentToPatron></deliveryInfo>"
    )
    message = _sam_of(data)
    assert message.delivery is not None
    assert message.delivery.sent_to_patron is True
    out = encode(message)
    assert b"<sentToPatron>true</sentToPatron>" in out
    request = Request(
        header=HEADER,
        citation=Citation(title="T"),
        service=ServiceInfo(any_edition=False),
    )
    assert b"<anyEdition>N</anyEdition>" in encode(request)


# §9.13 errorType spelling -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelled", "meant"),
    [
        ("UnrecognizedDataValue", ErrorType.UNRECOGNISED_DATA_VALUE),
        ("UnrecognizedDataElement", ErrorType.UNRECOGNISED_DATA_ELEMENT),
        ("UnsupportedReasonforMessageType", ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE),
        ("UnrecognisedDataValue", ErrorType.UNRECOGNISED_DATA_VALUE),
    ],
)
def test_both_error_type_spellings_are_read_and_the_xsd_one_written(
    spelled: str, meant: ErrorType
) -> None:
    data = (
        f'<requestConfirmation xmlns="{NS}"><confirmationHeader>'
        "<timestamp>2024-05-01T12:00:00Z</timestamp>"
        "<timestampReceived>2024-05-01T12:00:00Z</timestampReceived>"
        f"<messageStatus>ERROR</messageStatus></confirmationHeader><errorData><errorType>{spelled}"
        "</errorType><errorValue>AuthenticationFailed</errorValue></errorData></requestConfirmation>"
    ).encode()
    message = decode(data).message
    assert isinstance(message, Confirmation)
    assert message.error is not None
    assert message.error.type is meant
    assert f"<errorType>{meant.value}</errorType>".encode() in encode(message)


# §9.14 correlation ids, §9.16 schemes, §9.17 costs ----------------------------------------


def test_ids_schemes_and_costs_as_peers_send_them() -> None:
    data = (
        f'<request xmlns="{NS}" xmlns:p3="{NS}">{_header_xml()}<bibliographicInfo>'
        '<bibliographicRecordId><bibliographicRecordIdentifierCode schema="x" p3:scheme="">'
        "OCLC</bibliographicRecordIdentifierCode>"
        "<bibliographicRecordIdentifier>1234</bibliographicRecordIdentifier>"
        "</bibliographicRecordId></bibliographicInfo><billingInfo><maximumCosts>"
        '<currencyCode scheme="http://illtransactions.org/ISO 18626/x">USD</currencyCode>'
        "<monetaryValue>35</monetaryValue></maximumCosts></billingInfo></request>"
    ).encode()
    message = decode(data).message
    assert isinstance(message, Request)
    assert message.header.requesting_agency_request_id == "REQ-1~0"
    assert message.citation.identifier("OCLC") == "1234"
    assert message.billing is not None
    assert message.billing.maximum_costs is not None
    assert message.billing.maximum_costs.amount == Decimal(35)
    assert message.billing.maximum_costs.currency == "USD"


# §9.15 escaping -------------------------------------------------------------------------


def test_text_that_looks_like_xml_is_escaped_never_injected() -> None:
    evil = "</note><action>Cancel</action><note>"
    message = RequestingAgencyMessage(header=HEADER, action=Action.NOTIFICATION, note=evil)
    data = encode(message)
    assert evil.encode() not in data
    assert decode(data).message == message


def test_text_xml_cannot_carry_is_refused_on_encoding() -> None:
    message = RequestingAgencyMessage(header=HEADER, action=Action.NOTIFICATION, note="a\x00b")
    with pytest.raises(EncodeError):
        encode(message)


# §9.20 unrecognised elements, and the legacy activeSection -------------------------------


def test_unknown_elements_are_reported_and_refused_only_in_strict_mode() -> None:
    data = (
        f'<request xmlns="{NS}">{_header_xml()}<bibliographicInfo><title>T</title>'
        "<isbn>978</isbn><oclcNumber>1</oclcNumber></bibliographicInfo>"
        "<serviceInfo><serviceType>Loan</serviceType></serviceInfo></request>"
    ).encode()
    decoded: Decoded = decode(data)
    assert decoded.unknown_elements == (
        "request/bibliographicInfo/isbn",
        "request/bibliographicInfo/oclcNumber",
    )
    with pytest.raises(UnrecognisedDataElement) as caught:
        decode(data, strict=True)
    assert caught.value.error_type is ErrorType.UNRECOGNISED_DATA_ELEMENT
    assert caught.value.error_value == "request/bibliographicInfo/isbn"


def test_the_v1_0_active_section_wrapper_is_looked_into() -> None:
    data = (
        f'<requestingAgencyMessage xmlns="{NS}">{_header_xml()}<activeSection>'
        "<action>Received</action><note>#seq:4#</note></activeSection></requestingAgencyMessage>"
    ).encode()
    assert decode(data).message == RequestingAgencyMessage(
        header=HEADER, action=Action.RECEIVED, note="#seq:4#"
    )


def test_a_confirmation_echoes_reason_only_for_its_kind() -> None:
    confirmation = Confirmation(
        confirms=MessageKind.SUPPLYING_AGENCY_MESSAGE,
        status=MessageStatus.OK,
        timestamp=T0,
        timestamp_received=T0,
        reason=ReasonForMessage.NOTIFICATION,
    )
    data = encode(confirmation)
    assert b"<reasonForMessage>Notification</reasonForMessage>" in data
    assert validate(data).valid
