"""A message without its header, or without a field that routes it, is refused: never made up.

Issue 14 item 7. Both agencies, the requesting agency's request id and the timestamp are
needed to build the header; when one is missing or empty the answer is
BadlyFormedMessage (an unreadable timestamp is UnrecognisedDataValue), in lenient mode
too, and ``resource-sharing iso18626 decode`` exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resource_sharing.iso18626 import ErrorType
from resource_sharing_adapters.cli import main
from resource_sharing_adapters.iso18626 import (
    ISO_NAMESPACE,
    BadlyFormedMessage,
    DecodeError,
    decode,
)
from tests.adapters.iso18626.corpus_iso18626 import HEADER_REFUSED, sample

NS = ISO_NAMESPACE
_FIELDS = {
    "supplyingAgencyId": (
        "<supplyingAgencyId><agencyIdType>ISIL</agencyIdType>"
        "<agencyIdValue>DK-SUP</agencyIdValue></supplyingAgencyId>"
    ),
    "requestingAgencyId": (
        "<requestingAgencyId><agencyIdType>ISIL</agencyIdType>"
        "<agencyIdValue>DK-REQ</agencyIdValue></requestingAgencyId>"
    ),
    "timestamp": "<timestamp>2024-05-01T12:00:00Z</timestamp>",
    "requestingAgencyRequestId": "<requestingAgencyRequestId>R-1</requestingAgencyRequestId>",
}
_BODIES = {
    "request": "<bibliographicInfo><title>T</title></bibliographicInfo>",
    "supplyingAgencyMessage": (
        "<messageInfo><reasonForMessage>StatusChange</reasonForMessage></messageInfo>"
        "<statusInfo><status>Loaned</status><lastChange>2024-05-01T12:00:00Z</lastChange>"
        "</statusInfo>"
    ),
    "requestingAgencyMessage": "<action>Received</action>",
}
_EMPTIED = {
    "supplyingAgencyId": "<supplyingAgencyId/>",
    "requestingAgencyId": (
        "<requestingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue/></requestingAgencyId>"
    ),
    "timestamp": "<timestamp> </timestamp>",
    "requestingAgencyRequestId": "<requestingAgencyRequestId></requestingAgencyRequestId>",
}


def _message(element: str, fields: dict[str, str], *, header: bool = True) -> bytes:
    head = f"<header>{''.join(fields.values())}</header>" if header else ""
    return (
        f'<ISO18626Message xmlns="{NS}" xmlns:ill="{NS}" ill:version="1.2">'
        f"<{element}>{head}{_BODIES[element]}</{element}></ISO18626Message>"
    ).encode()


def _refusal(data: bytes, *, strict: bool) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        decode(data, strict=strict)
    return caught.value


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("element", list(_BODIES))
def test_a_message_without_a_header_is_badly_formed(element: str, strict: bool) -> None:
    error = _refusal(_message(element, _FIELDS, header=False), strict=strict)
    assert isinstance(error, BadlyFormedMessage)
    assert error.error_value == f"{element}/header is missing"
    assert error.element == element


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("field", list(_FIELDS))
@pytest.mark.parametrize("element", list(_BODIES))
def test_a_missing_header_field_is_badly_formed(element: str, field: str, strict: bool) -> None:
    fields = {name: xml for name, xml in _FIELDS.items() if name != field}
    error = _refusal(_message(element, fields), strict=strict)
    assert error.error_type is ErrorType.BADLY_FORMED_MESSAGE
    assert error.error_value == f"{element}/header/{field} is missing"


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("field", list(_EMPTIED))
@pytest.mark.parametrize("element", list(_BODIES))
def test_an_empty_header_field_is_badly_formed(element: str, field: str, strict: bool) -> None:
    error = _refusal(_message(element, _FIELDS | {field: _EMPTIED[field]}), strict=strict)
    assert error.error_type is ErrorType.BADLY_FORMED_MESSAGE
    # an agency id with its value empty: the agency (or, strictly, its value) is empty
    assert error.error_value.startswith(f"{element}/header/{field}")
    assert error.error_value.endswith(" is empty")


def test_the_refusal_echoes_what_could_be_read_of_the_header() -> None:
    fields = {name: xml for name, xml in _FIELDS.items() if name != "supplyingAgencyId"}
    error = _refusal(_message("requestingAgencyMessage", fields), strict=False)
    assert error.header.supplying_agency is None
    assert error.header.requesting_agency is not None
    assert error.header.requesting_agency.value == "DK-REQ"
    assert error.header.requesting_agency_request_id == "R-1"


@pytest.mark.parametrize("field", [*_FIELDS, "header"])
def test_the_cli_exits_2_on_a_message_without_a_header_field(
    field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fields = {name: xml for name, xml in _FIELDS.items() if name != field}
    path = tmp_path / "message.xml"
    path.write_bytes(_message("request", fields, header=field != "header"))
    assert main(["iso18626", "decode", str(path)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["errorType"] == "BadlyFormedMessage"
    where = "request/header" if field == "header" else f"request/header/{field}"
    assert out["errorValue"] == f"{where} is missing"
    assert out["message"] == "request"


@pytest.mark.parametrize("name", sorted(HEADER_REFUSED))
def test_corpus_samples_without_a_header_field_are_refused_for_it(name: str) -> None:
    error = _refusal(sample(name), strict=False)
    assert error.error_type.value == HEADER_REFUSED[name]
    assert "/header/" in error.error_value
