"""Confirmations: the synchronous OK or ERROR answer to every received message.

An OK (or an ERROR the application decided on) echoes the confirmed message's header
and its reasonForMessage or action. An ERROR for a message that could not even be
decoded echoes what :class:`DecodeError` managed to read, and is of the type the message
was (a requestConfirmation when not even that could be told, unless the caller says
otherwise: a supplier's endpoint gets requests, a requester's gets supplying agency
messages).
"""

from __future__ import annotations

from datetime import datetime

from resource_sharing.errors import PeerError
from resource_sharing.iso18626 import MessageStatus
from resource_sharing.messages import (
    Confirmation,
    ErrorData,
    MessageKind,
    PeerMessage,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from resource_sharing_adapters.iso18626._errors import DecodeError

__all__ = ["confirm_decode_error", "confirm_error", "confirm_ok"]


def _echo(
    message: PeerMessage,
    status: MessageStatus,
    error: ErrorData | None,
    *,
    timestamp: datetime,
    received: datetime,
) -> Confirmation:
    header = message.header
    return Confirmation(
        confirms=message.kind,
        status=status,
        timestamp=timestamp,
        timestamp_received=received,
        supplying_agency=header.supplying_agency,
        requesting_agency=header.requesting_agency,
        requesting_agency_request_id=header.requesting_agency_request_id,
        multiple_item_request_id=header.multiple_item_request_id,
        error=error,
        reason=message.reason if isinstance(message, SupplyingAgencyMessage) else None,
        action=message.action if isinstance(message, RequestingAgencyMessage) else None,
    )


def confirm_ok(message: PeerMessage, *, timestamp: datetime, received: datetime) -> Confirmation:
    """The OK confirmation of a request, supplying or requesting agency message."""
    return _echo(message, MessageStatus.OK, None, timestamp=timestamp, received=received)


def confirm_error(
    message: PeerMessage,
    error: PeerError | ErrorData,
    *,
    timestamp: datetime,
    received: datetime,
) -> Confirmation:
    """The ERROR confirmation of a decoded message the application refused.

    ``error`` is a :class:`PeerError` (``IllegalTransition`` and ``WrongCounterpart``
    carry their error type too) or a ready :class:`ErrorData`.
    """
    data = error if isinstance(error, ErrorData) else ErrorData(error.error_type, error.error_value)
    return _echo(message, MessageStatus.ERROR, data, timestamp=timestamp, received=received)


def confirm_decode_error(
    error: DecodeError,
    *,
    timestamp: datetime,
    received: datetime,
    fallback: MessageKind = MessageKind.REQUEST,
) -> Confirmation:
    """The ERROR confirmation of a message that could not be decoded.

    Its type follows the refused message (``fallback`` when it could not be told) and its
    header echoes whatever could be read. The errorValue is the error's readable detail
    (for BadlyFormedMessage the standard defines none, but peers log it).
    """
    echo = error.header
    kind = error.kind or fallback
    return Confirmation(
        confirms=kind,
        status=MessageStatus.ERROR,
        timestamp=timestamp,
        timestamp_received=received,
        supplying_agency=echo.supplying_agency,
        requesting_agency=echo.requesting_agency,
        requesting_agency_request_id=echo.requesting_agency_request_id,
        multiple_item_request_id=echo.multiple_item_request_id,
        error=ErrorData(error.error_type, error.error_value or None),
        reason=echo.reason if kind is MessageKind.SUPPLYING_AGENCY_MESSAGE else None,
        action=echo.action if kind is MessageKind.REQUESTING_AGENCY_MESSAGE else None,
    )
