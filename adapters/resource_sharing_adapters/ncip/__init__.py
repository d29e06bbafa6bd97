"""NCIP 2.02: the library's circulation and patron checks against an ILS.

- the codec: :func:`decode` reads any NCIP message leniently (the quirks of FOLIO, Koha,
  Alma, XC and ReShare), :func:`encode` writes the services we send as schema-valid
  NCIP 2.02, :func:`validate` checks a document against the XSD shipped in ``schemas/``.
- the ports: :class:`NcipCirculation` (``Circulation``: AcceptItem, CheckOutItem,
  CheckInItem with the ILS's routing, DeleteItem, RenewItem, RecallItem) and
  :class:`NcipPatronValidator` (``PatronValidator``: LookupUser), both over an
  :class:`NcipClient` configured by an :class:`NcipConfig` and an ILS profile
  (:data:`PROFILES`: FOLIO mod-ncip, Koha, Alma, Sierra, Polaris, Symphony);
  :func:`from_config` and :func:`patron_validator_from_config` build them from a node's TOML.
- inbound: :func:`handle_inbound` (and :func:`inbound_app`, a mountable Starlette app;
  :func:`inbound_route`, the route a node serves at ``[ncip_inbound] path``)
  turns a hold the ILS posts for a lent item into ``lending.local_hold``, answering in NCIP.
- every NCIP Problem becomes a typed :class:`NcipProblem`, a
  :class:`~resource_sharing.errors.DeliveryError` that says whether retrying can help.
"""

from resource_sharing_adapters.ncip._circulation import NcipCirculation, routing_instruction
from resource_sharing_adapters.ncip._client import NcipClient
from resource_sharing_adapters.ncip._config import PROFILES, IlsProfile, NcipConfig, Removal
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
from resource_sharing_adapters.ncip._factories import from_config, patron_validator_from_config
from resource_sharing_adapters.ncip._inbound import (
    LocalHold,
    handle_inbound,
    inbound_app,
    inbound_route,
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
from resource_sharing_adapters.ncip._patrons import NcipPatronValidator
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
    "PROFILES",
    "SERVICES",
    "AcceptItem",
    "BibliographicDescription",
    "CheckInItem",
    "CheckOutItem",
    "DeleteItem",
    "EncodeError",
    "Header",
    "IlsProfile",
    "LocalHold",
    "LookupUser",
    "MalformedNcip",
    "NcipCirculation",
    "NcipClient",
    "NcipConfig",
    "NcipError",
    "NcipMessage",
    "NcipPatronValidator",
    "NcipProblem",
    "NcipUnavailable",
    "NcipUnsupported",
    "Node",
    "Problem",
    "RecallItem",
    "Removal",
    "RenewItem",
    "Request",
    "RequestItem",
    "ValidationReport",
    "decode",
    "encode",
    "format_datetime",
    "from_config",
    "handle_inbound",
    "inbound_app",
    "inbound_route",
    "parse_datetime",
    "patron_validator_from_config",
    "read_request",
    "routing_instruction",
    "schema",
    "validate",
]
