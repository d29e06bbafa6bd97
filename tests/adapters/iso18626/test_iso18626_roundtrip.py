"""Any message record encodes, validates against the XSD, and decodes to an equal record."""

from __future__ import annotations

import attrs
from hypothesis import given

from resource_sharing.messages import (
    Confirmation,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing_adapters.iso18626 import decode, encode, validate
from tests.strategies.iso18626 import messages

Message = Request | SupplyingAgencyMessage | RequestingAgencyMessage | Confirmation


@given(messages(v2021=False))
def test_v1_2_round_trip(message: Message) -> None:
    data = encode(message)
    report = validate(data, version="1.2")
    assert report.valid, report.errors
    decoded = decode(data, strict=True)
    assert decoded.version == "1.2"
    assert decoded.unknown_elements == ()
    assert decoded.warnings == ()
    assert decoded.message == message


def _as_2021_2_says_it(message: Message) -> Message:
    """The record as 2021-2 can carry it: a few header fields that layout dropped."""
    if isinstance(message, Confirmation):
        return attrs.evolve(message, multiple_item_request_id=None)
    header = message.header
    if isinstance(message, Request):
        header = attrs.evolve(header, supplying_agency_request_id=None)
    elif isinstance(message, SupplyingAgencyMessage):
        header = attrs.evolve(header, multiple_item_request_id=None, authentication=None)
    else:
        header = attrs.evolve(header, multiple_item_request_id=None)
    return attrs.evolve(message, header=header)


@given(messages(v2021=True))
def test_2021_2_round_trip(message: Message) -> None:
    data = encode(message, version="2021-2")
    report = validate(data, version="2021-2")
    assert report.valid, report.errors
    decoded = decode(data, strict=True)
    assert decoded.version == "2021-2"
    assert decoded.unknown_elements == ()
    assert decoded.message == _as_2021_2_says_it(message)
