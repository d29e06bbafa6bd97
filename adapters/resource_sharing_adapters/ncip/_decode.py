"""Lenient NCIP decoding: read what real ILSs send, refuse only what nobody can act on.

Tolerated, each noted in ``NcipMessage.warnings``: no NCIP namespace (mod-ncip's own
fixtures), a bare ``version`` attribute instead of ``ncip:version`` (FOLIO, Koha,
lib-ncip-client), a missing or odd version value, a missing header, a missing envelope,
elements out of order or in unexpected places, stray text between elements, NCIP 1
``<Scheme>``/``<Value>`` pairs inside v2 elements (Koha), space-padded values, services
the 2.02 schema does not declare (Koha's LookupVersion), and success responses lacking a
mandatory element. Refused with :class:`MalformedNcip`: hostile or broken XML, a root
that is not NCIP, an empty envelope, and a request (initiation) lacking an element its
service cannot do without, because nobody could carry it out.

Problems are read both where the schema puts them (service-level, inside the response)
and directly under NCIPMessage (message-level), and from mod-ncip's non-NCIP
``<Problem><message>`` bodies.
"""

from __future__ import annotations

from lxml import etree

from resource_sharing_adapters.ncip._errors import MalformedNcip, Problem
from resource_sharing_adapters.ncip._message import NCIP_NAMESPACE, Header, NcipMessage, Node
from resource_sharing_adapters.ncip._parse import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    INVALID_SYNTAX,
    parse_xml,
)

__all__ = ["MANDATORY", "NEEDED_DATA_MISSING", "SERVICES", "decode", "missing"]

NEEDED_DATA_MISSING = "Needed Data Missing"
"""The NCIP messaging-error ProblemType for a message without a mandatory element."""

_BASE_SERVICES = (
    "AcceptItem",
    "AgencyCreated",
    "AgencyUpdated",
    "CancelRecallItem",
    "CancelRequestItem",
    "CheckInItem",
    "CheckOutItem",
    "CirculationStatusChangeReported",
    "CirculationStatusUpdated",
    "CreateAgency",
    "CreateItem",
    "CreateUser",
    "CreateUserFiscalTransaction",
    "DeleteItem",
    "DeleteUser",
    "ItemCheckedIn",
    "ItemCheckedOut",
    "ItemCreated",
    "ItemRecallCancelled",
    "ItemRecalled",
    "ItemReceived",
    "ItemRenewed",
    "ItemRequestCancelled",
    "ItemRequestUpdated",
    "ItemRequested",
    "ItemShipped",
    "ItemUpdated",
    "LookupAgency",
    "LookupItem",
    "LookupItemSet",
    "LookupRequest",
    "LookupUser",
    "RecallItem",
    "RenewItem",
    "ReportCirculationStatusChange",
    "RequestItem",
    "SendUserNotice",
    "UndoCheckOutItem",
    "UpdateAgency",
    "UpdateCirculationStatus",
    "UpdateItem",
    "UpdateRequestItem",
    "UpdateUser",
    "UserCreated",
    "UserFiscalTransactionCreated",
    "UserNoticeSent",
    "UserUpdated",
)
SERVICES = frozenset(base + suffix for base in _BASE_SERVICES for suffix in ("", "Response"))
"""Every service (and its response) the NCIPMessage choice of the 2.02 XSD declares."""

MANDATORY: dict[str, tuple[tuple[str, ...], ...]] = {
    # Each entry: the alternatives of which one must be present, per the 2.02 XSD.
    "LookupUser": (("UserId", "AuthenticationInput"),),
    "AcceptItem": (("RequestId",), ("RequestedActionType",)),
    "CheckOutItem": (("UserId", "AuthenticationInput"), ("ItemId",)),
    "CheckInItem": (("ItemId",),),
    "DeleteItem": (("ItemId",),),
    "RenewItem": (("UserId", "AuthenticationInput"), ("ItemId",)),
    "RecallItem": (("ItemId",),),
    "LookupItem": (("ItemId", "RequestId"),),
    "RequestItem": (
        ("UserId", "AuthenticationInput"),
        ("ItemId", "BibliographicId"),
        ("RequestType",),
        ("RequestScopeType",),
    ),
    "CancelRequestItem": (
        ("UserId", "AuthenticationInput"),
        ("ItemId", "RequestId"),
        ("RequestType",),
    ),
    "ItemRequested": (("UserId",), ("ItemId", "BibliographicId"), ("RequestType",)),
    "ItemRecalled": (("ItemId",), ("DateDue",)),
    "LookupUserResponse": (("UserId",),),
    "AcceptItemResponse": (("RequestId",),),
    "CheckOutItemResponse": (
        ("ItemId",),
        ("UserId",),
        ("DateDue", "IndeterminateLoanPeriodFlag", "NonReturnableFlag"),
    ),
    "CheckInItemResponse": (("ItemId",),),
    "DeleteItemResponse": (("ItemId",),),
    "RenewItemResponse": (("ItemId", "Pending"),),
    "RecallItemResponse": (("ItemId",),),
    "LookupItemResponse": (("ItemId", "RequestId"),),
    "RequestItemResponse": (
        ("ItemId", "RequestId"),
        ("UserId",),
        ("RequestType",),
        ("RequestScopeType",),
    ),
    "CancelRequestItemResponse": (("ItemId", "RequestId"), ("UserId",)),
}
"""What each service we read cannot do without (responses: only when they carry no Problem)."""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _scheme(element: etree._Element) -> str | None:
    for name, value in element.attrib.items():
        if etree.QName(name).localname == "Scheme":
            return str(value)
    return None


def _node(element: etree._Element) -> Node:
    children = [child for child in element if isinstance(child.tag, str)]
    names = {_local(child) for child in children}
    if children and "Value" in names and names <= {"Scheme", "Value"}:
        # NCIP 1 style <Scheme>...</Scheme><Value>...</Value>, which Koha accepts in v2.
        scheme = next((c for c in children if _local(c) == "Scheme"), None)
        value = next(c for c in children if _local(c) == "Value")
        return Node(
            _local(element),
            (value.text or "").strip(),
            scheme=None if scheme is None else (scheme.text or "").strip() or None,
        )
    if children:
        return Node(_local(element), "", tuple(_node(child) for child in children))
    return Node(_local(element), (element.text or "").strip(), scheme=_scheme(element))


def _problem(node: Node) -> Problem:
    if node.first("ProblemType") is None and node.first("message") is not None:
        # mod-ncip's non-NCIP error body: <Problem><message/><exception/></Problem>.
        return Problem("", node.text_of("message"), None, node.text_of("exception"))
    kind = node.first("ProblemType")
    return Problem(
        type="" if kind is None else kind.text,
        detail=node.text_of("ProblemDetail"),
        element=node.text_of("ProblemElement"),
        value=node.text_of("ProblemValue"),
        scheme=None if kind is None else kind.scheme,
    )


def _header(node: Node) -> Header | None:
    header = node.first("InitiationHeader") or node.first("ResponseHeader")
    if header is None:
        return None
    return Header(
        from_agency=header.text_of("FromAgencyId", "AgencyId") or "",
        to_agency=header.text_of("ToAgencyId", "AgencyId") or "",
        from_agency_authentication=header.text_of("FromAgencyAuthentication"),
        application_profile=header.text_of("ApplicationProfileType"),
    )


def _version(root: etree._Element, warnings: list[str]) -> str | None:
    qualified = root.get(f"{{{NCIP_NAMESPACE}}}version")
    if qualified is not None:
        return qualified
    bare = root.get("version")
    if bare is not None:
        warnings.append("unqualified version attribute (the schema wants ncip:version)")
        return bare
    warnings.append("no version attribute")
    return None


def missing(service: str, body: Node) -> list[str]:
    """The mandatory elements of ``service`` that ``body`` lacks, as ``A or B`` phrases."""
    present = {child.name for child in body.children}
    return [
        " or ".join(options)
        for options in MANDATORY.get(service, ())
        if not present.intersection(options)
    ]


def decode(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> NcipMessage:
    """Decode an NCIP message leniently, or raise :class:`MalformedNcip` saying why not."""
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)
    warnings: list[str] = []
    namespace = etree.QName(root).namespace
    if namespace != NCIP_NAMESPACE:
        warnings.append(
            "no NCIP namespace" if namespace is None else f"unexpected namespace {namespace}"
        )
    name = _local(root)
    version: str | None = None
    if name == "NCIPMessage":
        version = _version(root, warnings)
        elements = [child for child in root if isinstance(child.tag, str)]
    elif name in SERVICES or name == "Problem":
        warnings.append("no NCIPMessage envelope")
        elements = [root]
    else:
        raise MalformedNcip(Problem(INVALID_SYNTAX, f"{name} is not an NCIP message", name))
    if not elements:
        raise MalformedNcip(Problem(INVALID_SYNTAX, "empty NCIPMessage", "NCIPMessage"))
    nodes = [_node(element) for element in elements]
    if all(node.name == "Problem" for node in nodes):
        return NcipMessage(
            service="Problem",
            body=Node("NCIPMessage", "", tuple(nodes)),
            problems=tuple(_problem(node) for node in nodes),
            version=version,
            warnings=tuple(warnings),
        )
    body = next(node for node in nodes if node.name != "Problem")
    if len(nodes) > 1:
        warnings.append(f"{len(nodes) - 1} more element(s) under NCIPMessage ignored")
    service = body.name
    if service not in SERVICES:
        warnings.append(f"{service} is not a service of NCIP 2.02")
    problems = tuple(_problem(node) for node in body.all("Problem"))
    header = _header(body)
    if header is None:
        warnings.append("no header")
    lacking = missing(service, body)
    if lacking and not service.endswith("Response"):
        raise MalformedNcip(
            Problem(
                NEEDED_DATA_MISSING,
                f"{service} needs {'; '.join(lacking)}",
                f"{service}/{lacking[0].split(' or ')[0]}",
            )
        )
    if lacking and not problems:
        warnings.extend(f"{service} lacks {phrase}" for phrase in lacking)
    return NcipMessage(
        service=service,
        body=body,
        header=header,
        problems=problems,
        version=version,
        warnings=tuple(warnings),
    )
