"""What each version can say, checked against its XSD; confirmations always encodable.

Issue 14 item 8: a 2021-only action from a 1.2 partner must be refusable before it is
applied, and the confirmation of any message, OK or ERROR, must encode validly in every
version, whatever action, status or reason the message had.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources

import pytest
from lxml import etree

from resource_sharing.iso18626 import Action, ErrorType, ReasonForMessage, Status
from resource_sharing.messages import (
    Confirmation,
    ErrorData,
    Header,
    PeerMessage,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation
from resource_sharing_adapters.iso18626 import (
    DecodeError,
    EncodeError,
    UnrecognisedDataValue,
    UnsupportedActionType,
    Version,
    check_version,
    confirm_error,
    confirm_ok,
    decode,
    encode,
    exists_in,
    validate,
)
from resource_sharing_adapters.iso18626._validate import SCHEMA_FILES

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
HEADER = Header(
    requesting_agency=AgencyId("DK-REQ"),
    supplying_agency=AgencyId("DK-SUP"),
    requesting_agency_request_id="R-1",
    timestamp=T0,
)
_XS = "{http://www.w3.org/2001/XMLSchema}"
_TYPES = {Action: "type_action", Status: "type_status", ReasonForMessage: "type_reasonForMessage"}
_CODES = [*Action, *Status, *ReasonForMessage]
_IDS = [f"{type(code).__name__}.{code.value}" for code in _CODES]


@cache
def _enumeration(version: Version, type_name: str) -> frozenset[str]:
    """The values an XSD's simple type lists, read from the shipped schema itself."""
    package = resources.files("resource_sharing_adapters.iso18626")
    source = package.joinpath("schemas", SCHEMA_FILES[version]).read_bytes()
    root = etree.fromstring(source)
    found = root.find(f"{_XS}simpleType[@name='{type_name}']")
    assert found is not None, type_name
    return frozenset(str(e.get("value")) for e in found.iter(f"{_XS}enumeration"))


def _message_of(code: Action | Status | ReasonForMessage) -> PeerMessage:
    if isinstance(code, Action):
        return RequestingAgencyMessage(header=HEADER, action=code)
    if isinstance(code, Status):
        return SupplyingAgencyMessage(
            header=HEADER, reason=ReasonForMessage.STATUS_CHANGE, status=code, last_change=T0
        )
    return SupplyingAgencyMessage(header=HEADER, reason=code, status=Status.LOANED, last_change=T0)


@pytest.mark.parametrize("version", list(Version))
@pytest.mark.parametrize("code", _CODES, ids=_IDS)
def test_exists_in_agrees_with_the_xsd(
    code: Action | Status | ReasonForMessage, version: Version
) -> None:
    assert exists_in(code, version) is (code.value in _enumeration(version, _TYPES[type(code)]))
    assert exists_in(code, version.value) is exists_in(code, version)


def test_exists_in_refuses_an_unknown_version() -> None:
    with pytest.raises(EncodeError, match="unsupported version"):
        exists_in(Action.LOST, "1.1")


@pytest.mark.parametrize("version", list(Version))
@pytest.mark.parametrize("code", _CODES, ids=_IDS)
def test_a_confirmation_of_any_code_encodes_validly_in_every_version(
    code: Action | Status | ReasonForMessage, version: Version
) -> None:
    message = _message_of(code)
    refusal = UnsupportedActionType(code.value)
    for confirmation in (
        confirm_ok(message, timestamp=T0, received=T0),
        confirm_error(message, refusal, timestamp=T0, received=T0),
    ):
        data = encode(confirmation, version=version)
        report = validate(data, version=version)
        assert report.valid, report.errors
        decoded = decode(data, strict=True).message
        assert isinstance(decoded, Confirmation)
        assert decoded.error == confirmation.error
        echoed = decoded.action if isinstance(code, Action) else decoded.reason
        if isinstance(code, Status):
            assert echoed is ReasonForMessage.STATUS_CHANGE
        else:
            assert echoed is (code if exists_in(code, version) else None)


@pytest.mark.parametrize("version", list(Version))
@pytest.mark.parametrize("error_type", list(ErrorType))
def test_an_error_confirmation_of_every_type_encodes_validly(
    error_type: ErrorType, version: Version
) -> None:
    for message in (
        Request(header=HEADER, citation=Citation(title="T")),
        _message_of(Status.LOANED),
        _message_of(Action.RENEW),
    ):
        error = ErrorData(error_type, "detail")
        confirmation = confirm_error(message, error, timestamp=T0, received=T0)
        report = validate(encode(confirmation, version=version), version=version)
        assert report.valid, report.errors


@pytest.mark.parametrize("version", list(Version))
@pytest.mark.parametrize("code", _CODES, ids=_IDS)
def test_check_version_refuses_what_the_version_lacks_with_the_right_error(
    code: Action | Status | ReasonForMessage, version: Version
) -> None:
    message = _message_of(code)
    if exists_in(code, version):
        check_version(message, version)  # nothing to refuse
        return
    with pytest.raises(DecodeError) as caught:
        check_version(message, version)
    error = caught.value
    expected = UnsupportedActionType if isinstance(code, Action) else UnrecognisedDataValue
    assert type(error) is expected
    assert code.value in error.error_value
    assert error.kind is message.kind
    assert error.header.requesting_agency_request_id == "R-1"
    # The refusal is answered in the partner's version, validly.
    confirmation = confirm_error(message, error, timestamp=T0, received=T0)
    assert validate(encode(confirmation, version=version), version=version).valid


def test_the_codes_2021_2_added_are_refused_from_a_1_2_partner() -> None:
    # (type, value) pairs: Action.HOLD_RETURN and Status.HOLD_RETURN are equal strings.
    lacking = {(type(code), code.value) for code in _CODES if not exists_in(code, "1.2")}
    assert lacking == {
        (Action, "HoldReturn"),
        (Action, "Lost"),
        (Status, "HoldReturn"),
        (Status, "ReleaseHoldReturn"),
    }
    request = Request(header=HEADER, citation=Citation(title="T"))
    check_version(request, "1.2")  # nothing to refuse
    with pytest.raises(EncodeError):
        check_version(request, "3.0")
