"""ISO 18626 as data: one table per structure, read by the decoder and the encoder alike.

Each :class:`Structure` lists its child elements in schema order. A :class:`Field` says
which record attribute an element fills (by keyword), what kind of value it holds, how
much it is needed, and in which versions it is written:

- ``need``: OPTIONAL; MANDATORY (the schema requires it: lenient decoding reports it
  missing, strict decoding refuses, encoding refuses a None); REQUIRED (nothing can be
  decoded without it, so it is refused in lenient mode too: the message header and the
  fields that route it, reasonForMessage, action, messageStatus).
- ``versions``: the versions that *write* the element. The decoder reads every element of
  every version wherever it appears (version strings are free text, REPORT §9.3), so a
  rename is two rows filling one attribute (``sentVia`` in 1.2, ``deliveryMethod`` in
  2021-2; the first non-empty wins), and a reordering is the same element in two places
  (``bibliographicItemId``'s code). Rows for one element must agree on how it is read.
- A nested structure whose table has a ``record`` builds that record; one without is
  *flattened*: its children fill the enclosing record (``messageInfo`` and
  ``statusInfo`` fill a supplying agency message). Two rows with the same attribute and
  record fill one record (``bibliographicInfo`` and ``publicationInfo``: one citation).
- ``absent_when_empty``: a structure with nothing in it is None (and not written).
  ``choice``: only the first alternative with content counts (an address).

Elements in a table's ``skip`` are known to the schema but not carried by the records: read
past without a report, never written.
"""

from __future__ import annotations

from enum import Enum, auto
from typing import final

import attrs

from resource_sharing.iso18626 import (
    Action,
    ErrorType,
    MessageStatus,
    ReasonForMessage,
    RequestSubType,
    RequestType,
    ServiceType,
    Status,
)
from resource_sharing.messages import (
    Address,
    Authentication,
    BillingInfo,
    Confirmation,
    DeliveryInfo,
    ErrorData,
    Header,
    MessageKind,
    PatronInfo,
    Request,
    RequestingAgencyInfo,
    RequestingAgencyMessage,
    ReturnInfo,
    ServiceInfo,
    SupplierInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation, Identifier, Money
from resource_sharing_adapters.iso18626._errors import (
    DecodeError,
    UnsupportedActionType,
    UnsupportedReasonForMessageType,
)
from resource_sharing_adapters.iso18626._versions import Version

__all__ = ["CONFIRMATIONS", "MESSAGES", "Field", "Kind", "Need", "Placed", "Structure"]


class Kind(Enum):
    """How an element's content is read and written."""

    TEXT = auto()
    """Text, stripped; empty is absent."""
    CODE = auto()
    """A closed-list code (``Field.code`` names the enum)."""
    DATETIME = auto()
    """An xs:dateTime, written as UTC whole seconds with ``Z``."""
    END_OF_DAY = auto()
    """A date-time written at ``23:59:59Z`` of its UTC day (due and need-before dates)."""
    YES_NO = auto()
    """``type_yesNo``: written ``Y``/``N``; read also as any xs:boolean spelling."""
    BOOLEAN = auto()
    """xs:boolean: written ``true``/``false``."""
    INTEGER = auto()
    """xs:integer."""
    NATURAL = auto()
    """xs:nonNegativeInteger (2021-2's sortOrder)."""
    DECIMAL = auto()
    """xs:decimal (a monetary value)."""
    STRUCTURE = auto()
    """A nested structure (``Field.structure``)."""


class Need(Enum):
    """How much a structure needs an element (see the module docstring)."""

    OPTIONAL = auto()
    """May be left out."""
    MANDATORY = auto()
    """The schema requires it; lenient decoding reports its absence."""
    REQUIRED = auto()
    """Nothing can be decoded without it: refused in lenient mode too."""


ALL = frozenset(Version)
V1_2 = frozenset({Version.V1_2})
V2021 = frozenset({Version.V2021_2})
READ_ONLY: frozenset[Version] = frozenset()


@final
@attrs.frozen(eq=False)  # compared and hashed by identity: tables are built once
class Field:
    """One child element of a structure (see the module docstring)."""

    element: str
    """The local name on the wire."""
    attr: str | None
    """The record attribute it fills (a keyword); None for a flattened structure."""
    kind: Kind = Kind.TEXT
    need: Need = Need.OPTIONAL
    versions: frozenset[Version] = ALL
    """The versions that write it."""
    code: type[Enum] | None = None
    """The closed list of a CODE."""
    structure: Structure | None = None
    """The table of a STRUCTURE."""
    many: bool = False
    """Repeats into a tuple (otherwise the first counts and repeats are reported)."""
    most: int | None = None
    """The most repeats the schema allows, when bounded."""
    refuse: type[DecodeError] | None = None
    """The error for an unknown code, when not UnrecognisedDataValue."""
    fallback: str | None = None
    """A header or confirmation field read earlier that stands in when this is missing."""
    empty: bool = False
    """Written empty when the value is None (v1.2's multipleItemRequestId)."""
    echo: bool = False
    """An echo of the confirmed message: left out where the version lacks the code."""


@final
@attrs.frozen(eq=False)  # compared and hashed by identity: tables are built once
class Structure:
    """The table of one structure: its fields in schema order."""

    fields: tuple[Field, ...]
    record: type | None = None
    """The record it builds; None when flattened into the enclosing one."""
    skip: tuple[str, ...] = ()
    """Elements the schema knows that the records do not carry."""
    absent_when_empty: bool = False
    choice: bool = False


@final
@attrs.frozen
class Placed:
    """A request's ``requestedDeliveryInfo``: an address and its place in the order."""

    sort_order: int | None = None
    address: Address | None = None


def _text(element: str, attr: str, **more: object) -> Field:
    return Field(element, attr, Kind.TEXT, **more)  # type: ignore[arg-type]


def _code(element: str, attr: str, code: type[Enum], **more: object) -> Field:
    return Field(element, attr, Kind.CODE, code=code, **more)  # type: ignore[arg-type]


def _nested(element: str, attr: str | None, structure: Structure, **more: object) -> Field:
    return Field(element, attr, Kind.STRUCTURE, structure=structure, **more)  # type: ignore[arg-type]


def _texts(*names: tuple[str, str]) -> tuple[Field, ...]:
    return tuple(_text(element, attr) for element, attr in names)


_M, _R = Need.MANDATORY, Need.REQUIRED

AGENCY = Structure(
    (_text("agencyIdType", "type", need=_M), _text("agencyIdValue", "value", need=_M)),
    AgencyId,
    absent_when_empty=True,
)
MONEY = Structure(
    (
        _text("currencyCode", "currency", need=_M),
        Field("monetaryValue", "amount", Kind.DECIMAL, _M),
    ),
    Money,
    absent_when_empty=True,
)
AUTHENTICATION = Structure(
    _texts(("accountId", "account_id"), ("securityCode", "security_code")),
    Authentication,
    absent_when_empty=True,
)
_PHYSICAL = _texts(
    ("line1", "line1"),
    ("line2", "line2"),
    ("locality", "locality"),
    ("postalCode", "postal_code"),
    ("region", "region"),
    ("country", "country"),
)
PHYSICAL_ADDRESS = Structure(_PHYSICAL, Address, absent_when_empty=True)
ADDRESS = Structure(
    (
        _nested(
            "electronicAddress",
            None,
            Structure(
                (
                    _text("electronicAddressType", "electronic_type", need=_M),
                    _text("electronicAddressData", "electronic_data", need=_M),
                )
            ),
        ),
        _nested("physicalAddress", None, Structure(_PHYSICAL)),
    ),
    Address,
    absent_when_empty=True,
    choice=True,
)
RECORD_ID = Structure(
    (
        _text("bibliographicRecordIdentifierCode", "code", need=_M),
        _text("bibliographicRecordIdentifier", "value", need=_M),
    ),
    Identifier,
)
ITEM_ID = Structure(
    (
        _text("bibliographicItemIdentifierCode", "code", need=_M, versions=V2021),
        _text("bibliographicItemIdentifier", "value", need=_M),
        _text("bibliographicItemIdentifierCode", "code", need=_M, versions=V1_2),
    ),
    Identifier,
)


def _header(
    *, supplier_id: frozenset[Version], multiple_2021: bool, auth: frozenset[Version]
) -> Structure:
    """A message header; 2021-2 gives each message its own (``type_requestHeader``...)."""
    multiple = [
        _text("multipleItemRequestId", "multiple_item_request_id", versions=V1_2, empty=True)
    ]
    if multiple_2021:
        multiple.append(_text("multipleItemRequestId", "multiple_item_request_id", versions=V2021))
    return Structure(
        (
            _nested("supplyingAgencyId", "supplying_agency", AGENCY, need=_R),
            _nested("requestingAgencyId", "requesting_agency", AGENCY, need=_R),
            *multiple,
            Field("timestamp", "timestamp", Kind.DATETIME, _R),
            _text("requestingAgencyRequestId", "requesting_agency_request_id", need=_R),
            _text("supplyingAgencyRequestId", "supplying_agency_request_id", versions=supplier_id),
            _nested(
                "requestingAgencyAuthentication", "authentication", AUTHENTICATION, versions=auth
            ),
        ),
        Header,
        skip=("consortialId",),
    )


BIBLIOGRAPHIC_INFO = Structure(
    (
        *_texts(
            ("supplierUniqueRecordId", "supplier_unique_record_id"),
            ("title", "title"),
            ("author", "author"),
            ("subtitle", "subtitle"),
            ("seriesTitle", "series_title"),
            ("edition", "edition"),
            ("titleOfComponent", "title_of_component"),
            ("authorOfComponent", "author_of_component"),
            ("volume", "volume"),
            ("issue", "issue"),
            ("pagesRequested", "pages_requested"),
        ),
        _nested("bibliographicItemId", "item_ids", ITEM_ID, many=True),
        _nested("bibliographicRecordId", "record_ids", RECORD_ID, many=True),
    ),
    Citation,
    skip=("authorId", "estimatedNoPages", "sponsor", "informationSource"),
)
PUBLICATION_INFO = Structure(
    _texts(
        ("publisher", "publisher"),
        ("publicationType", "publication_type"),
        ("publicationDate", "publication_date"),
        ("placeOfPublication", "place_of_publication"),
    ),
    Citation,
    skip=("publisherId",),
    absent_when_empty=True,
)
SERVICE_INFO = Structure(
    (
        _code("requestType", "request_type", RequestType),
        _code(
            "requestSubType", "request_subtypes", RequestSubType, many=True, most=3, versions=V1_2
        ),
        _code("requestSubType", "request_subtypes", RequestSubType, many=True, versions=V2021),
        _text("requestingAgencyPreviousRequestId", "previous_request_id"),
        _code("serviceType", "service_type", ServiceType, need=_M),
        _text("serviceLevel", "service_level"),
        _text("preferredFormat", "preferred_format", versions=V1_2),
        _text("itemFormat", "preferred_format", versions=V2021),
        Field("needBeforeDate", "need_before", Kind.END_OF_DAY),
        _text("copyrightCompliance", "copyright_compliance"),
        Field("anyEdition", "any_edition", Kind.YES_NO),
        Field("startDate", "start_date", Kind.DATETIME),
        Field("endDate", "end_date", Kind.DATETIME),
        _text("note", "note"),
    ),
    ServiceInfo,
    skip=("loanCondition", "preferredEdition"),
)
SUPPLIER_INFO = Structure(
    (
        Field("sortOrder", "sort_order", Kind.INTEGER, versions=V1_2),
        Field("sortOrder", "sort_order", Kind.NATURAL, versions=V2021),
        _nested("supplierCode", "supplier", AGENCY),
        _text("supplierDescription", "description"),
        _nested("bibliographicRecordId", "record_id", RECORD_ID),
        *_texts(
            ("callNumber", "call_number"),
            ("summaryHoldings", "summary_holdings"),
            ("availabilityNote", "availability_note"),
        ),
    ),
    SupplierInfo,
)
REQUESTED_DELIVERY_INFO = Structure(
    (Field("sortOrder", "sort_order", Kind.INTEGER), _nested("address", "address", ADDRESS)),
    Placed,
    skip=("deliveryMethod", "courierName"),
)
_ADDRESSES = _nested("address", "addresses", ADDRESS, many=True)
REQUESTING_AGENCY_INFO = Structure(
    (*_texts(("name", "name"), ("contactName", "contact_name")), _ADDRESSES),
    RequestingAgencyInfo,
)
PATRON_INFO = Structure(
    (
        *_texts(
            ("patronId", "patron_id"),
            ("surname", "surname"),
            ("givenName", "given_name"),
            ("patronType", "patron_type"),
        ),
        Field("sendToPatron", "send_to_patron", Kind.YES_NO),
        _ADDRESSES,
    ),
    PatronInfo,
)
BILLING_INFO = Structure(
    (
        _text("paymentMethod", "payment_method"),
        _nested("maximumCosts", "maximum_costs", MONEY),
        _text("billingMethod", "billing_method"),
        _text("billingName", "billing_name"),
        _nested("address", "address", ADDRESS),
    ),
    BillingInfo,
)
REQUEST = Structure(
    (
        _nested(
            "header", "header", _header(supplier_id=V1_2, multiple_2021=True, auth=ALL), need=_R
        ),
        _nested("bibliographicInfo", "citation", BIBLIOGRAPHIC_INFO, need=_M),
        _nested("publicationInfo", "citation", PUBLICATION_INFO),
        _nested("serviceInfo", "service", SERVICE_INFO, need=_M),
        _nested("supplierInfo", "suppliers", SUPPLIER_INFO, many=True),
        _nested("requestedDeliveryInfo", "delivery_addresses", REQUESTED_DELIVERY_INFO, many=True),
        _nested("requestingAgencyInfo", "requesting_agency_info", REQUESTING_AGENCY_INFO),
        _nested("patronInfo", "patron", PATRON_INFO),
        _nested("billingInfo", "billing", BILLING_INFO),
    ),
    Request,
)

_DATE_FIELDS = (
    _nested("offeredCosts", "offered_costs", MONEY),
    Field("retryAfter", "retry_after", Kind.DATETIME),
    Field("retryBefore", "retry_before", Kind.DATETIME),
)
MESSAGE_INFO = Structure(
    (
        _code(
            "reasonForMessage",
            "reason",
            ReasonForMessage,
            need=_R,
            refuse=UnsupportedReasonForMessageType,
        ),
        Field("answerYesNo", "answer", Kind.YES_NO),
        *_texts(
            ("note", "note"), ("reasonUnfilled", "reason_unfilled"), ("reasonRetry", "reason_retry")
        ),
        *(attrs.evolve(field, versions=V1_2) for field in _DATE_FIELDS),
    )
)
STATUS_INFO = Structure(
    (
        _code("status", "status", Status, need=_M),
        Field("expectedDeliveryDate", "expected_delivery", Kind.DATETIME),
        Field("dueDate", "due_date", Kind.END_OF_DAY),
        Field("lastChange", "last_change", Kind.DATETIME, _M),
    )
)
RETRY_INFO = Structure(
    (_DATE_FIELDS[0], _DATE_FIELDS[2], _DATE_FIELDS[1]),
    skip=(
        "loanCondition",
        "edition",
        "itemFormat",
        "volume",
        "serviceType",
        "serviceLevel",
        "deliveryMethod",
        "courierName",
        "paymentMethod",
    ),
)
DELIVERY_INFO = Structure(
    (
        Field("dateSent", "date_sent", Kind.DATETIME, _M, fallback="timestamp"),
        _text("itemId", "item_id"),
        _text("sentVia", "sent_via", versions=V1_2),
        _text("deliveryMethod", "sent_via", versions=V2021),
        Field("sentToPatron", "sent_to_patron", Kind.BOOLEAN),
        _text("loanCondition", "loan_condition"),
        _text("deliveredFormat", "delivered_format", versions=V1_2),
        _text("itemFormat", "delivered_format", versions=V2021),
        _nested("deliveryCosts", "delivery_costs", MONEY),
    ),
    DeliveryInfo,
    skip=("URL", "address", "serviceType", "paymentMethod"),
    absent_when_empty=True,
)
RETURN_INFO = Structure(
    (
        _nested("returnAgencyId", "return_agency", AGENCY),
        _text("name", "name"),
        _nested("physicalAddress", "address", PHYSICAL_ADDRESS),
    ),
    ReturnInfo,
    absent_when_empty=True,
)
SUPPLYING_AGENCY_MESSAGE = Structure(
    (
        _nested(
            "header", "header", _header(supplier_id=ALL, multiple_2021=False, auth=V1_2), need=_R
        ),
        _nested("messageInfo", None, MESSAGE_INFO, need=_R),
        _nested("statusInfo", None, STATUS_INFO, need=_M),
        _nested("retryInfo", None, RETRY_INFO, versions=V2021),
        _nested("deliveryInfo", "delivery", DELIVERY_INFO),
        _nested("returnInfo", "return_info", RETURN_INFO),
    ),
    SupplyingAgencyMessage,
    skip=("shippingInfo",),
)

_ACTION = _code("action", "action", Action, need=_R, refuse=UnsupportedActionType)
_NOTE = _text("note", "note")
REQUESTING_AGENCY_MESSAGE = Structure(
    (
        _nested(
            "header", "header", _header(supplier_id=ALL, multiple_2021=False, auth=ALL), need=_R
        ),
        _ACTION,
        _NOTE,
        # v1.0 wrapped action and note in an activeSection.
        _nested(
            "activeSection",
            None,
            Structure((attrs.evolve(_ACTION, need=Need.OPTIONAL), _NOTE)),
            versions=READ_ONLY,
        ),
    ),
    RequestingAgencyMessage,
)

CONFIRMATION_HEADER = Structure(
    (
        _nested("supplyingAgencyId", "supplying_agency", AGENCY),
        _nested("requestingAgencyId", "requesting_agency", AGENCY),
        Field("timestamp", "timestamp", Kind.DATETIME, _R),
        _text("requestingAgencyRequestId", "requesting_agency_request_id"),
        _text("multipleItemRequestId", "multiple_item_request_id", versions=V1_2),
        Field("timestampReceived", "timestamp_received", Kind.DATETIME, _M, fallback="timestamp"),
        _code("messageStatus", "status", MessageStatus, need=_R),
    )
)
ERROR_DATA = Structure(
    (_code("errorType", "type", ErrorType, need=_M), _text("errorValue", "value")),
    ErrorData,
)


def _confirmation(kind: MessageKind) -> Structure:
    """A confirmation: it echoes a reason or an action only for its own kind (any is read)."""
    sam, ram = MessageKind.SUPPLYING_AGENCY_MESSAGE, MessageKind.REQUESTING_AGENCY_MESSAGE
    return Structure(
        (
            _nested("confirmationHeader", None, CONFIRMATION_HEADER, need=_R),
            _code(
                "reasonForMessage",
                "reason",
                ReasonForMessage,
                echo=True,
                versions=ALL if kind is sam else READ_ONLY,
            ),
            _code(
                "action", "action", Action, echo=True, versions=ALL if kind is ram else READ_ONLY
            ),
            _nested("errorData", "error", ERROR_DATA),
        ),
        Confirmation,
    )


MESSAGES: dict[str, tuple[Structure, MessageKind]] = {
    "request": (REQUEST, MessageKind.REQUEST),
    "supplyingAgencyMessage": (SUPPLYING_AGENCY_MESSAGE, MessageKind.SUPPLYING_AGENCY_MESSAGE),
    "requestingAgencyMessage": (REQUESTING_AGENCY_MESSAGE, MessageKind.REQUESTING_AGENCY_MESSAGE),
}
"""Each message element: its table and kind."""
CONFIRMATIONS: dict[MessageKind, tuple[str, Structure]] = {
    kind: (f"{kind.value}Confirmation", _confirmation(kind)) for kind in MessageKind
}
"""Each kind's confirmation element and table."""
