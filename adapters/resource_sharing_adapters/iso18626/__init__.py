"""ISO 18626 XML codec: strict to send, lenient to receive, safe against hostile input.

- :func:`decode` reads any of the six message types, in any version peers send (1.0 to
  2021-x), with or without the envelope, into the core's records
  (:mod:`resource_sharing.messages`), and says what it tolerated.
- :func:`encode` writes a record as schema-valid v1.2 (default) or 2021-2.
- :func:`confirm_ok`, :func:`confirm_error` and :func:`confirm_decode_error` build the
  confirmations; :func:`encode` writes them too.
- :func:`validate` checks a document against the XSDs shipped in ``schemas/``.
- :func:`exists_in` tells whether a version has an action, status or reason;
  :func:`check_version` refuses a received message its sender's version cannot say.

Every decode failure is a :class:`DecodeError` (a
:class:`~resource_sharing.errors.PeerError`) with the ISO errorType and errorValue to
answer with.
"""

from resource_sharing_adapters.iso18626._confirm import (
    confirm_decode_error,
    confirm_error,
    confirm_ok,
)
from resource_sharing_adapters.iso18626._decode import (
    ISO_NAMESPACE,
    Decoded,
    DecodedMessage,
    decode,
    parse_datetime,
)
from resource_sharing_adapters.iso18626._encode import encode
from resource_sharing_adapters.iso18626._errors import (
    BadlyFormedMessage,
    DecodeError,
    EncodeError,
    HeaderEcho,
    UnrecognisedDataElement,
    UnrecognisedDataValue,
    UnsupportedActionType,
    UnsupportedReasonForMessageType,
)
from resource_sharing_adapters.iso18626._parse import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from resource_sharing_adapters.iso18626._validate import ValidationReport, schema, validate
from resource_sharing_adapters.iso18626._versions import Code, Version, check_version, exists_in

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "ISO_NAMESPACE",
    "BadlyFormedMessage",
    "Code",
    "DecodeError",
    "Decoded",
    "DecodedMessage",
    "EncodeError",
    "HeaderEcho",
    "UnrecognisedDataElement",
    "UnrecognisedDataValue",
    "UnsupportedActionType",
    "UnsupportedReasonForMessageType",
    "ValidationReport",
    "Version",
    "check_version",
    "confirm_decode_error",
    "confirm_error",
    "confirm_ok",
    "decode",
    "encode",
    "exists_in",
    "parse_datetime",
    "schema",
    "validate",
]
