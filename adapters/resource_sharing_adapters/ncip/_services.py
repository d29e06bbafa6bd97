"""The NCIP services this library sends, as typed values, and their strict encoding.

Each request class names the elements an ILL flow sets (REPORT.md of the shared notes, §2
and §3); :func:`encode` writes it in schema order with a qualified ``ncip:version``, the
header, and the idempotency key as a RequestId of type ``Idempotency Key`` in ``Ext``
(ignored by ILSs that do not look, used by those that do). :func:`read_request` reads one
back from a leniently decoded message, so a message an ILS posts to us (a RequestItem for
a lent item) becomes the same typed value.

:func:`element` and :func:`envelope` are the small builder both the requests here and the
responses of :mod:`._inbound` are written with.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, final

import attrs
from lxml import etree

from resource_sharing_adapters.ncip._decode import decode
from resource_sharing_adapters.ncip._errors import EncodeError, MalformedNcip, Problem
from resource_sharing_adapters.ncip._message import (
    KEY_TYPE,
    NCIP_NAMESPACE,
    NCIP_VERSION,
    Header,
    NcipMessage,
    Node,
    format_datetime,
    parse_datetime,
)
from resource_sharing_adapters.ncip._validate import validate_element

__all__ = [
    "AcceptItem",
    "BibliographicDescription",
    "CheckInItem",
    "CheckOutItem",
    "DeleteItem",
    "LookupUser",
    "RecallItem",
    "RenewItem",
    "Request",
    "RequestItem",
    "element",
    "encode",
    "envelope",
    "read_request",
    "to_bytes",
]

_NS = f"{{{NCIP_NAMESPACE}}}"
Child = etree._Element | None


def element(name: str, *children: Child | str, scheme: str | None = None) -> etree._Element:
    """An NCIP element with text or children (None children are skipped)."""
    made = etree.Element(_NS + name, nsmap={"ns1": NCIP_NAMESPACE})
    if scheme is not None:
        made.set(_NS + "Scheme", scheme)
    for child in children:
        if isinstance(child, str):
            made.text = child
        elif child is not None:
            made.append(child)
    return made


def _maybe(name: str, value: str | None) -> Child:
    return None if value is None else element(name, value)


def _date(name: str, value: datetime | None) -> Child:
    return None if value is None else element(name, format_datetime(value))


def _agency(name: str, agency: str) -> etree._Element:
    return element(name, element("AgencyId", agency))


def _id(kind: str, value: str) -> etree._Element:
    return element(f"{kind}Id", element(f"{kind}IdentifierValue", value))


def envelope(body: etree._Element) -> etree._Element:
    """Wrap a service element in an NCIPMessage with the qualified version we send."""
    root = element("NCIPMessage", body)
    root.set(_NS + "version", NCIP_VERSION)
    return root


def to_bytes(root: etree._Element) -> bytes:
    """Serialize a message as UTF-8 with an XML declaration, after checking it is valid.

    Raises :class:`EncodeError` (nothing is sent) when it does not validate.
    """
    etree.cleanup_namespaces(root)
    report = validate_element(root)
    if not report.valid:
        service = etree.QName(root[0]).localname if len(root) else "NCIPMessage"
        raise EncodeError(service, report.errors)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _initiation_header(header: Header) -> etree._Element:
    return element(
        "InitiationHeader",
        _agency("FromAgencyId", header.from_agency),
        _maybe("FromAgencyAuthentication", header.from_agency_authentication),
        _agency("ToAgencyId", header.to_agency),
        _maybe("ApplicationProfileType", header.application_profile),
    )


def _ext(key: str | None) -> Child:
    if key is None:
        return None
    return element(
        "Ext",
        element(
            "RequestId",
            element("RequestIdentifierType", KEY_TYPE),
            element("RequestIdentifierValue", key),
        ),
    )


@final
@attrs.frozen
class BibliographicDescription:
    """The brief record of a temporary item (ItemOptionalFields/BibliographicDescription)."""

    title: str | None = None
    """Title (crosslink's responder refuses an AcceptItem without one)."""
    author: str | None = None
    """Author."""
    identifier: str | None = None
    """An ISBN or ISSN (BibliographicItemIdentifier)."""
    identifier_code: str | None = None
    """Its code, ``ISBN`` or ``ISSN`` (BibliographicItemIdentifierCode)."""
    publisher: str | None = None
    """Publisher."""
    publication_date: str | None = None
    """Publication date as given."""
    call_number: str | None = None
    """A call number for the spine label (ItemDescription/CallNumber)."""

    def xml(self) -> etree._Element:
        """The ItemOptionalFields element, in schema order."""
        item_id = None
        if self.identifier is not None:
            item_id = element(
                "BibliographicItemId",
                element("BibliographicItemIdentifier", self.identifier),
                _maybe("BibliographicItemIdentifierCode", self.identifier_code),
            )
        bib = element(
            "BibliographicDescription",
            _maybe("Author", self.author),
            item_id,
            _maybe("PublicationDate", self.publication_date),
            _maybe("Publisher", self.publisher),
            _maybe("Title", self.title),
        )
        description = None
        if self.call_number is not None:
            description = element("ItemDescription", element("CallNumber", self.call_number))
        return element("ItemOptionalFields", bib, description)

    @classmethod
    def read(cls, fields: Node | None) -> BibliographicDescription | None:
        """Read ItemOptionalFields back (None when absent)."""
        if fields is None:
            return None
        return cls(
            title=fields.text_of("BibliographicDescription", "Title"),
            author=fields.text_of("BibliographicDescription", "Author"),
            identifier=fields.text_of(
                "BibliographicDescription", "BibliographicItemId", "BibliographicItemIdentifier"
            ),
            identifier_code=fields.text_of(
                "BibliographicDescription", "BibliographicItemId", "BibliographicItemIdentifierCode"
            ),
            publisher=fields.text_of("BibliographicDescription", "Publisher"),
            publication_date=fields.text_of("BibliographicDescription", "PublicationDate"),
            call_number=fields.text_of("ItemDescription", "CallNumber"),
        )


def _needed(message: NcipMessage, *path: str) -> str:
    value = message.body.text_of(*path)
    if value is None:
        where = f"{message.service}/{'/'.join(path)}"
        raise MalformedNcip(Problem("Needed Data Missing", f"{where} is empty", where))
    return value


def _when(message: NcipMessage, name: str) -> datetime | None:
    text = message.body.text_of(name)
    if text is None:
        return None
    value = parse_datetime(text)
    if value is None:
        raise MalformedNcip(Problem("Invalid Date", text, f"{message.service}/{name}", text))
    return value


@final
@attrs.frozen
class LookupUser:
    """Borrowing, at intake: ask the ILS who the patron is and whether they may borrow."""

    SERVICE: ClassVar[str] = "LookupUser"
    user_id: str
    """The patron's identifier (barcode) in the ILS."""
    element_types: tuple[str, ...] = (
        "Name Information",
        "User Address Information",
        "User Privilege",
        "Block Or Trap",
        "User Id",
    )
    """The UserElementType values asked for (what mod-rs asks, and the blocks)."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The LookupUser element."""
        return element(
            self.SERVICE,
            _initiation_header(header),
            _id("User", self.user_id),
            *(element("UserElementType", kind) for kind in self.element_types),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> LookupUser:
        """Read it back from a decoded message."""
        kinds = tuple(node.text for node in message.body.all("UserElementType"))
        user = message.body.text_of("UserId", "UserIdentifierValue")
        if user is None:
            user = _needed(message, "AuthenticationInput", "AuthenticationInputData")
        return cls(user, kinds)


@final
@attrs.frozen
class AcceptItem:
    """Borrowing, on receipt: create the temporary item and the hold for the patron."""

    SERVICE: ClassVar[str] = "AcceptItem"
    request_id: str
    """Our request id (RequestId: how the ILS names the ILL request)."""
    requested_action: str
    """RequestedActionType: ``Hold For Pickup`` (FOLIO, ReShare), ``Circulate``..."""
    item_id: str | None = None
    """The temporary barcode."""
    user_id: str | None = None
    """The patron the hold is for."""
    date_for_return: datetime | None = None
    """When it is due (DateForReturn)."""
    bibliographic: BibliographicDescription | None = None
    """The brief record."""
    pickup_location: str | None = None
    """The pickup location's code in the ILS (FOLIO: a service point code)."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The AcceptItem element."""
        return element(
            self.SERVICE,
            _initiation_header(header),
            element(
                "RequestId",
                element("AgencyId", header.from_agency),
                element("RequestIdentifierValue", self.request_id),
            ),
            element("RequestedActionType", self.requested_action),
            None if self.user_id is None else _id("User", self.user_id),
            None if self.item_id is None else _id("Item", self.item_id),
            _date("DateForReturn", self.date_for_return),
            None if self.bibliographic is None else self.bibliographic.xml(),
            _maybe("PickupLocation", self.pickup_location),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> AcceptItem:
        """Read it back from a decoded message."""
        body = message.body
        return cls(
            request_id=_needed(message, "RequestId", "RequestIdentifierValue"),
            requested_action=_needed(message, "RequestedActionType"),
            item_id=body.text_of("ItemId", "ItemIdentifierValue"),
            user_id=body.text_of("UserId", "UserIdentifierValue"),
            date_for_return=_when(message, "DateForReturn"),
            bibliographic=BibliographicDescription.read(body.first("ItemOptionalFields")),
            pickup_location=body.text_of("PickupLocation"),
        )


@final
@attrs.frozen
class CheckOutItem:
    """Lend an item: to the patron (borrowing) or to the partner's account (lending)."""

    SERVICE: ClassVar[str] = "CheckOutItem"
    user_id: str
    """The patron, or the borrowing institution's patron account."""
    item_id: str
    """The item's barcode."""
    request_id: str | None = None
    """Our request id (lib-ncip-client sends it too)."""
    desired_due: datetime | None = None
    """DesiredDateDue (Polaris ignores it)."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The CheckOutItem element."""
        request = None
        if self.request_id is not None:
            request = element(
                "RequestId",
                element("AgencyId", header.from_agency),
                element("RequestIdentifierValue", self.request_id),
            )
        return element(
            self.SERVICE,
            _initiation_header(header),
            _id("User", self.user_id),
            _id("Item", self.item_id),
            request,
            _date("DesiredDateDue", self.desired_due),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> CheckOutItem:
        """Read it back from a decoded message."""
        return cls(
            user_id=_needed(message, "UserId", "UserIdentifierValue"),
            item_id=_needed(message, "ItemId", "ItemIdentifierValue"),
            request_id=message.body.text_of("RequestId", "RequestIdentifierValue"),
            desired_due=_when(message, "DesiredDateDue"),
        )


@final
@attrs.frozen
class CheckInItem:
    """End the loan of an item; the answer may say where it goes next."""

    SERVICE: ClassVar[str] = "CheckInItem"
    item_id: str
    """The item's barcode."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The CheckInItem element (asking for the item's location, for the routing)."""
        return element(
            self.SERVICE,
            _initiation_header(header),
            _id("Item", self.item_id),
            element("ItemElementType", "Location"),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> CheckInItem:
        """Read it back from a decoded message."""
        return cls(_needed(message, "ItemId", "ItemIdentifierValue"))


@final
@attrs.frozen
class DeleteItem:
    """Borrowing, when the request ends: remove the temporary item."""

    SERVICE: ClassVar[str] = "DeleteItem"
    item_id: str
    """The temporary barcode."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The DeleteItem element."""
        return element(
            self.SERVICE, _initiation_header(header), _id("Item", self.item_id), _ext(key)
        )

    @classmethod
    def read(cls, message: NcipMessage) -> DeleteItem:
        """Read it back from a decoded message."""
        return cls(_needed(message, "ItemId", "ItemIdentifierValue"))


@final
@attrs.frozen
class RenewItem:
    """Move a patron loan's due date (DesiredDateDue: the date the lender granted)."""

    SERVICE: ClassVar[str] = "RenewItem"
    user_id: str
    """The patron who has it."""
    item_id: str
    """The item's barcode."""
    desired_due: datetime | None = None
    """The new due date."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The RenewItem element."""
        return element(
            self.SERVICE,
            _initiation_header(header),
            _id("User", self.user_id),
            _id("Item", self.item_id),
            _date("DesiredDateDue", self.desired_due),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> RenewItem:
        """Read it back from a decoded message."""
        return cls(
            user_id=_needed(message, "UserId", "UserIdentifierValue"),
            item_id=_needed(message, "ItemId", "ItemIdentifierValue"),
            desired_due=_when(message, "DesiredDateDue"),
        )


@final
@attrs.frozen
class RecallItem:
    """Recall a patron loan to an earlier due date (the lender recalled it)."""

    SERVICE: ClassVar[str] = "RecallItem"
    item_id: str
    """The item's barcode."""
    desired_due: datetime | None = None
    """The shortened due date."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The RecallItem element."""
        return element(
            self.SERVICE,
            _initiation_header(header),
            _id("Item", self.item_id),
            _date("DesiredDateDue", self.desired_due),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> RecallItem:
        """Read it back from a decoded message."""
        return cls(
            item_id=_needed(message, "ItemId", "ItemIdentifierValue"),
            desired_due=_when(message, "DesiredDateDue"),
        )


@final
@attrs.frozen
class RequestItem:
    """A hold or page on an item: what an ILS posts us when a local patron wants a lent item."""

    SERVICE: ClassVar[str] = "RequestItem"
    user_id: str
    """The local patron who wants it."""
    item_id: str
    """The item's barcode."""
    request_type: str = "Hold"
    """RequestType: ``Hold``, ``Page``, ``Loan``, ``Recall``..."""
    scope: str = "Item"
    """RequestScopeType: ``Item`` or ``Bibliographic Item``."""
    request_id: str | None = None
    """The ILS's id for the request."""
    pickup_location: str | None = None
    """Where the local patron collects it."""

    def xml(self, header: Header, key: str | None) -> etree._Element:
        """The RequestItem element."""
        return element(
            self.SERVICE,
            _initiation_header(header),
            _id("User", self.user_id),
            _id("Item", self.item_id),
            None if self.request_id is None else _id("Request", self.request_id),
            element("RequestType", self.request_type),
            element("RequestScopeType", self.scope),
            _maybe("PickupLocation", self.pickup_location),
            _ext(key),
        )

    @classmethod
    def read(cls, message: NcipMessage) -> RequestItem:
        """Read it back from a decoded message."""
        body = message.body
        return cls(
            user_id=_needed(message, "UserId", "UserIdentifierValue"),
            item_id=_needed(message, "ItemId", "ItemIdentifierValue"),
            request_type=body.text_of("RequestType") or "",
            scope=body.text_of("RequestScopeType") or "",
            request_id=body.text_of("RequestId", "RequestIdentifierValue"),
            pickup_location=body.text_of("PickupLocation"),
        )


Request = (
    LookupUser
    | AcceptItem
    | CheckOutItem
    | CheckInItem
    | DeleteItem
    | RenewItem
    | RecallItem
    | RequestItem
)
"""Any request this library sends (or reads, for RequestItem)."""

_READERS: dict[str, type[Request]] = {
    kind.SERVICE: kind
    for kind in (
        LookupUser,
        AcceptItem,
        CheckOutItem,
        CheckInItem,
        DeleteItem,
        RenewItem,
        RecallItem,
        RequestItem,
    )
}


def encode(request: Request, header: Header, *, key: str | None = None) -> bytes:
    """The request as schema-valid NCIP 2.02 bytes; raises EncodeError when it is not valid."""
    return to_bytes(envelope(request.xml(header, key)))


def read_request(message: NcipMessage | bytes) -> Request:
    """The typed request in a decoded message (or in raw bytes, decoded leniently first).

    Raises :class:`MalformedNcip` with ``Unsupported Service`` for other services.
    """
    decoded = decode(message) if isinstance(message, bytes) else message
    reader = _READERS.get(decoded.service)
    if reader is None:
        raise MalformedNcip(
            Problem("Unsupported Service", f"{decoded.service} is not read here", decoded.service)
        )
    return reader.read(decoded)
