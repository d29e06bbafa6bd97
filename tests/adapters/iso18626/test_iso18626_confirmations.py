"""OK and ERROR confirmations for each message type, built and encoded validly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resource_sharing.errors import WrongCounterpart
from resource_sharing.iso18626 import Action, ErrorType, MessageStatus, ReasonForMessage
from resource_sharing.messages import (
    Confirmation,
    ErrorData,
    Header,
    MessageKind,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation
from resource_sharing_adapters.iso18626 import (
    DecodeError,
    confirm_decode_error,
    confirm_error,
    confirm_ok,
    decode,
    encode,
    validate,
)
from tests.adapters.iso18626.corpus_iso18626 import sample

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
T1 = datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
HEADER = Header(
    requesting_agency=AgencyId("DK-REQ"),
    supplying_agency=AgencyId("DK-SUP"),
    requesting_agency_request_id="R-1",
    timestamp=T0,
)
MESSAGES = [
    Request(header=HEADER, citation=Citation(title="T")),
    SupplyingAgencyMessage(
        header=HEADER, reason=ReasonForMessage.RENEW_RESPONSE, status=None, answer=True
    ),
    RequestingAgencyMessage(header=HEADER, action=Action.RENEW),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.kind.value)
def test_ok_confirmation_echoes_the_header_and_encodes_validly(
    message: Request | SupplyingAgencyMessage | RequestingAgencyMessage,
) -> None:
    confirmation = confirm_ok(message, timestamp=T1, received=T0)
    assert confirmation.ok
    assert confirmation.confirms is message.kind
    assert confirmation.requesting_agency_request_id == "R-1"
    assert confirmation.supplying_agency == AgencyId("DK-SUP")
    assert confirmation.reason == (
        ReasonForMessage.RENEW_RESPONSE if isinstance(message, SupplyingAgencyMessage) else None
    )
    assert confirmation.action == (
        Action.RENEW if isinstance(message, RequestingAgencyMessage) else None
    )
    data = encode(confirmation)
    assert validate(data).valid
    assert decode(data).message == confirmation


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.kind.value)
def test_error_confirmation_from_a_peer_error(
    message: Request | SupplyingAgencyMessage | RequestingAgencyMessage,
) -> None:
    error = WrongCounterpart("R-1", "ISIL:X", "ISIL:DK-SUP")
    confirmation = confirm_error(message, error, timestamp=T1, received=T0)
    assert confirmation.status is MessageStatus.ERROR
    assert confirmation.error == ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, error.error_value)
    assert validate(encode(confirmation)).valid


def _decode_error(data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        decode(data)
    return caught.value


def test_an_unknown_action_gets_a_requesting_agency_message_confirmation() -> None:
    error = _decode_error(sample("crosslink_reqmsg-invalid-action.xml"))
    confirmation = confirm_decode_error(error, timestamp=T1, received=T0)
    assert confirmation.confirms is MessageKind.REQUESTING_AGENCY_MESSAGE
    assert confirmation.error == ErrorData(ErrorType.UNSUPPORTED_ACTION_TYPE, "WeCancelThisMessage")
    assert confirmation.requesting_agency_request_id is not None
    assert confirmation.requesting_agency is not None
    data = encode(confirmation)
    assert validate(data).valid
    assert b"<errorType>UnsupportedActionType</errorType>" in data


def test_an_unknown_reason_gets_a_supplying_agency_message_confirmation() -> None:
    error = _decode_error(sample("crosslink_supmsg-invalid-reason.xml"))
    confirmation = confirm_decode_error(error, timestamp=T1, received=T0)
    assert confirmation.confirms is MessageKind.SUPPLYING_AGENCY_MESSAGE
    assert confirmation.reason is None  # the reason was the problem: not echoed
    assert confirmation.error is not None
    assert confirmation.error.type is ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE
    assert validate(encode(confirmation)).valid


def test_an_unknown_status_names_element_and_value_and_echoes_the_reason() -> None:
    error = _decode_error(sample("crosslink_supmsg-invalid-status.xml"))
    confirmation = confirm_decode_error(error, timestamp=T1, received=T0)
    assert confirmation.error == ErrorData(
        ErrorType.UNRECOGNISED_DATA_VALUE,
        "supplyingAgencyMessage/statusInfo/status: 'WeCouldLoan'",
    )
    assert confirmation.reason is ReasonForMessage.STATUS_CHANGE


def test_unreadable_bytes_get_the_fallback_type_and_escaped_detail() -> None:
    error = _decode_error(b"<request><note>&</request>")
    confirmation = confirm_decode_error(
        error, timestamp=T1, received=T0, fallback=MessageKind.SUPPLYING_AGENCY_MESSAGE
    )
    assert confirmation.confirms is MessageKind.SUPPLYING_AGENCY_MESSAGE
    assert confirmation.error is not None
    assert confirmation.error.type is ErrorType.BADLY_FORMED_MESSAGE
    data = encode(confirmation)
    assert validate(data).valid
    decoded = decode(data).message
    assert isinstance(decoded, Confirmation)
    assert decoded.error == confirmation.error
