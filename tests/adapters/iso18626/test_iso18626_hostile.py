"""Hostile and broken input fails fast with BadlyFormedMessage, and nothing is fetched."""

from __future__ import annotations

import time

import pytest

from resource_sharing.iso18626 import ErrorType
from resource_sharing_adapters.iso18626 import (
    ISO_NAMESPACE,
    BadlyFormedMessage,
    decode,
    validate,
)

NS = ISO_NAMESPACE

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<requestingAgencyMessage xmlns="' + NS.encode() + b'"><note>&x;</note>'
    b"</requestingAgencyMessage>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "' % i + (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10 + b'">'
        for i in range(1, 10)
    )
    + b"]><request>&lol9;</request>"
)
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE request SYSTEM "http://127.0.0.1:9/evil.dtd"><request/>'
)
HOSTILE = {
    "xxe": XXE,
    "billion-laughs": LAUGHS,
    "external-dtd": EXTERNAL_DTD,
    "garbage": b"\x00\xff\xfe garbage <<<",
    "not-xml": b"this is not xml",
    "empty": b"",
    "truncated": b'<ISO18626Message xmlns="' + NS.encode() + b'"><request>',
    "latin-1-bytes": b"<request><note>caf\xe9</note></request>",
    "declared-latin-1": b'<?xml version="1.0" encoding="ISO-8859-1"?><request/>',
    "utf-16": '<?xml version="1.0" encoding="UTF-16"?><request/>'.encode("utf-16"),
    "not-iso": b"<html><body/></html>",
}


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_is_a_badly_formed_message(data: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(BadlyFormedMessage) as caught:
        decode(data)
    assert time.perf_counter() - started < 1.0  # fails fast (a generous bound, not a benchmark)
    assert caught.value.error_type is ErrorType.BADLY_FORMED_MESSAGE
    assert b"root:" not in caught.value.error_value.encode()  # never /etc/passwd content


@pytest.mark.parametrize("data", [XXE, LAUGHS, EXTERNAL_DTD], ids=["xxe", "laughs", "dtd"])
def test_validation_refuses_hostile_input_too(data: bytes) -> None:
    with pytest.raises(BadlyFormedMessage, match="DOCTYPE"):
        validate(data)


def test_the_size_limit_is_one_mebibyte_by_default_and_configurable() -> None:
    note = "x" * (1024 * 1024)
    data = f'<requestingAgencyMessage xmlns="{NS}"><note>{note}</note></requestingAgencyMessage>'
    with pytest.raises(BadlyFormedMessage, match="exceeds the limit of 1048576"):
        decode(data.encode())
    small = f'<requestingAgencyMessage xmlns="{NS}"/>'.encode()
    with pytest.raises(BadlyFormedMessage, match="exceeds the limit of 10"):
        decode(small, max_bytes=10)


def test_the_depth_limit() -> None:
    deep = b"<a>" * 40 + b"</a>" * 40
    with pytest.raises(BadlyFormedMessage, match="deeper than 16"):
        decode(deep)
    shallow = b'<ISO18626Message xmlns="' + NS.encode() + b'"><request><header/></request>'
    shallow += b"</ISO18626Message>"
    with pytest.raises(BadlyFormedMessage, match="deeper than 2"):
        decode(shallow, max_depth=2)


def test_an_undefined_entity_is_not_expanded() -> None:
    data = b'<requestingAgencyMessage xmlns="' + NS.encode() + b'"><note>&x;</note>'
    data += b"</requestingAgencyMessage>"
    with pytest.raises(BadlyFormedMessage):
        decode(data)


def test_the_error_carries_no_kind_when_the_message_was_unreadable() -> None:
    with pytest.raises(BadlyFormedMessage) as caught:
        decode(b"<<<")
    assert caught.value.kind is None
    assert caught.value.header.requesting_agency_request_id is None
