"""Every real message in the shared corpus decodes, or fails as its MANIFEST row says."""

from __future__ import annotations

import pytest

from resource_sharing.messages import (
    Confirmation,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing_adapters.iso18626 import DecodeError, EncodeError, decode, encode, validate
from tests.adapters.iso18626.corpus_iso18626 import expectation, manifest_rows, require_corpus

_ROWS = manifest_rows()
_IDS = [row["file"] for row in _ROWS] or ["corpus-missing"]
_PARAMS = _ROWS or [{}]

_TYPES = {
    "request": Request,
    "supplyingAgencyMessage": SupplyingAgencyMessage,
    "requestingAgencyMessage": RequestingAgencyMessage,
    "requestConfirmation": Confirmation,
    "supplyingAgencyMessageConfirmation": Confirmation,
    "requestingAgencyMessageConfirmation": Confirmation,
}


def test_the_corpus_is_there() -> None:
    corpus = require_corpus()
    assert len(_ROWS) == len(list(corpus.glob("*.xml")))


@pytest.mark.parametrize("row", _PARAMS, ids=_IDS)
def test_sample_decodes_or_fails_as_the_manifest_says(row: dict[str, str]) -> None:
    corpus = require_corpus()
    data = (corpus / row["file"]).read_bytes()
    expect = expectation(row)
    if expect.startswith("error:"):
        with pytest.raises(DecodeError) as caught:
            decode(data)
        assert caught.value.error_type.value == expect.removeprefix("error:")
        return
    assert expect == "decode"
    decoded = decode(data)
    assert decoded.element == row["message"]
    assert isinstance(decoded.message, _TYPES[row["message"]])
    for pair in row["key_values"].split():
        key, _, value = pair.partition("=")
        _check_key_value(decoded.message, key, value)


def _check_key_value(message: object, key: str, value: str) -> None:
    if key == "serviceType":
        assert isinstance(message, Request)
        assert message.service.service_type.value == value
    elif key == "requestType":
        assert isinstance(message, Request)
        assert message.service.request_type is not None
        assert message.service.request_type.value == value
    elif key == "requestSubType":
        assert isinstance(message, Request)
        assert value in {s.value for s in message.service.request_subtypes}
    elif key == "reasonForMessage":
        assert isinstance(message, SupplyingAgencyMessage | Confirmation)
        assert message.reason is not None
        assert message.reason.value == value
    elif key == "status":
        assert isinstance(message, SupplyingAgencyMessage)
        assert message.status is not None
        assert message.status.value == value
    elif key == "answerYesNo":
        assert isinstance(message, SupplyingAgencyMessage)
        assert message.answer is (value == "Y")
    elif key == "action":
        assert isinstance(message, RequestingAgencyMessage | Confirmation)
        assert message.action is not None
        assert message.action.value == value
    elif key == "messageStatus":
        assert isinstance(message, Confirmation)
        assert message.status.value == value
    elif key == "errorType":
        assert isinstance(message, Confirmation)
        assert message.error is not None
        assert message.error.type.value == value
    else:  # pragma: no cover - a MANIFEST key this test does not know yet
        pytest.fail(f"unknown MANIFEST key {key}")


_DECODING = [row for row in _ROWS if expectation(row) == "decode"] or [{}]


@pytest.mark.parametrize(
    "row", _DECODING, ids=[row.get("file", "corpus-missing") for row in _DECODING]
)
def test_what_decodes_re_encodes_as_valid_v1_2_or_is_refused_by_the_strict_encoder(
    row: dict[str, str],
) -> None:
    corpus = require_corpus()
    message = decode((corpus / row["file"]).read_bytes()).message
    if isinstance(message, SupplyingAgencyMessage) and (
        message.status is None or message.last_change is None
    ):
        # The XSD requires both; a strict sender does not repeat what the peer left out.
        with pytest.raises(EncodeError, match="the XSD requires"):
            encode(message)
        return
    report = validate(encode(message))
    assert report.valid, report.errors


@pytest.mark.parametrize("row", _PARAMS, ids=_IDS)
def test_validation_agrees_with_the_manifest(row: dict[str, str]) -> None:
    corpus = require_corpus()
    data = (corpus / row["file"]).read_bytes()
    for version, column in (("1.2", "valid_v1_2"), ("2021-2", "valid_2021_2")):
        assert validate(data, version=version).valid is (row[column] == "valid"), version
