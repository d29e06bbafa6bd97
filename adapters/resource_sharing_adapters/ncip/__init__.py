"""NCIP 2.02: the library's circulation and patron checks against an ILS.

- the codec: :func:`decode` reads any NCIP message leniently (the quirks of FOLIO, Koha,
  Alma, XC and ReShare), :func:`encode` writes the services we send as schema-valid
  NCIP 2.02, :func:`validate` checks a document against the XSD shipped in ``schemas/``.
- every NCIP Problem becomes a typed :class:`NcipProblem`, a
  :class:`~resource_sharing.errors.DeliveryError` that says whether retrying can help.
"""

from resource_sharing_adapters.ncip._decode import MANDATORY, SERVICES, decode
from resource_sharing_adapters.ncip._errors import (
    EncodeError,
    MalformedNcip,
    NcipError,
    NcipProblem,
    NcipUnavailable,
    NcipUnsupported,
    Problem,
)
from resource_sharing_adapters.ncip._message import (
    NCIP_NAMESPACE,
    NCIP_VERSION,
    Header,
    NcipMessage,
    Node,
    format_datetime,
    parse_datetime,
)
from resource_sharing_adapters.ncip._parse import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from resource_sharing_adapters.ncip._services import (
    AcceptItem,
    BibliographicDescription,
    CheckInItem,
    CheckOutItem,
    DeleteItem,
    LookupUser,
    RecallItem,
    RenewItem,
    Request,
    RequestItem,
    encode,
    read_request,
)
from resource_sharing_adapters.ncip._validate import ValidationReport, schema, validate

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "MANDATORY",
    "NCIP_NAMESPACE",
    "NCIP_VERSION",
    "SERVICES",
    "AcceptItem",
    "BibliographicDescription",
    "CheckInItem",
    "CheckOutItem",
    "DeleteItem",
    "EncodeError",
    "Header",
    "LookupUser",
    "MalformedNcip",
    "NcipError",
    "NcipMessage",
    "NcipProblem",
    "NcipUnavailable",
    "NcipUnsupported",
    "Node",
    "Problem",
    "RecallItem",
    "RenewItem",
    "Request",
    "RequestItem",
    "ValidationReport",
    "decode",
    "encode",
    "format_datetime",
    "parse_datetime",
    "read_request",
    "schema",
    "validate",
]
