"""What can go wrong in the codec: typed decode errors a confirmation can answer."""

from __future__ import annotations

from datetime import datetime
from typing import final

import attrs

from resource_sharing.errors import PeerError, UsageError
from resource_sharing.iso18626 import Action, ErrorType, ReasonForMessage
from resource_sharing.messages import MessageKind
from resource_sharing.records import AgencyId

__all__ = [
    "BadlyFormedMessage",
    "DecodeError",
    "EncodeError",
    "HeaderEcho",
    "UnrecognisedDataElement",
    "UnrecognisedDataValue",
    "UnsupportedActionType",
    "UnsupportedReasonForMessageType",
]


@final
@attrs.frozen
class HeaderEcho:
    """Whatever could be read of a refused message's header, to echo in the confirmation."""

    supplying_agency: AgencyId | None = None
    """``supplyingAgencyId``, if it could be read."""
    requesting_agency: AgencyId | None = None
    """``requestingAgencyId``, if it could be read."""
    requesting_agency_request_id: str | None = None
    """``requestingAgencyRequestId``, if it could be read."""
    multiple_item_request_id: str | None = None
    """``multipleItemRequestId``, if the message had a non-empty one."""
    timestamp: datetime | None = None
    """The message's own timestamp, if it could be read."""
    reason: ReasonForMessage | None = None
    """A supplying agency message's reasonForMessage, if it was valid."""
    action: Action | None = None
    """A requesting agency message's action, if it was valid."""


class DecodeError(PeerError):
    """A received ISO 18626 message could not be decoded; answer with ``error_type``.

    ``kind`` says which kind of message it was (``None`` when not even that could be
    told), so that a confirmation of the right type can be built; ``header`` holds the
    header fields that could be read, for the echo.
    """

    error_type_default: ErrorType = ErrorType.BADLY_FORMED_MESSAGE

    def __init__(self, error_value: str) -> None:
        super().__init__(self.error_type_default, error_value)
        self.kind: MessageKind | None = None
        """The kind of message refused, when known."""
        self.element: str | None = None
        """The message's root element (``request``, ``requestConfirmation``...), when known."""
        self.header: HeaderEcho = HeaderEcho()
        """The header fields that could be read."""


class BadlyFormedMessage(DecodeError):
    """Not XML, not an ISO 18626 message, hostile, too big or too deep, or incomplete."""

    error_type_default = ErrorType.BADLY_FORMED_MESSAGE


class UnrecognisedDataValue(DecodeError):
    """A closed-list value, date, number or boolean that cannot be read."""

    error_type_default = ErrorType.UNRECOGNISED_DATA_VALUE

    def __init__(self, element: str, value: str) -> None:
        super().__init__(f"{element}: {value!r}")
        self.element_name = element
        """The element whose value was refused."""
        self.value = value
        """The refused value, as received."""


class UnrecognisedDataElement(DecodeError):
    """An element the schema does not know (raised only in strict mode)."""

    error_type_default = ErrorType.UNRECOGNISED_DATA_ELEMENT

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path
        """Where the element was, e.g. ``request/bibliographicInfo/isbn``."""


class UnsupportedActionType(DecodeError):
    """A requesting agency message with an action that is not in the closed list."""

    error_type_default = ErrorType.UNSUPPORTED_ACTION_TYPE

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action
        """The action as received."""


class UnsupportedReasonForMessageType(DecodeError):
    """A supplying agency message with a reasonForMessage not in the closed list."""

    error_type_default = ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        """The reasonForMessage as received."""


class EncodeError(UsageError, ValueError):
    """A record cannot be written as a valid message of the chosen version."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        """The field at fault."""
        self.problem = problem
        """Why it cannot be encoded."""
