"""What each schema version can say: the codes 2021-2 added, and the check a node makes.

A partner is configured for one version (``Protocol.iso18626_version``). A message whose
action or status that version lacks (a ``Lost`` from a 1.2 partner) is refused *before*
anything is applied, with the error type the standard gives for it: UnsupportedActionType
for an action, UnsupportedReasonForMessageType for a reasonForMessage, and
UnrecognisedDataValue for a status. The confirmation of such a refusal can always be
written: the encoder leaves out an echoed action or reason the version lacks (the echo is
optional in every XSD).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from resource_sharing.iso18626 import Action, ReasonForMessage, Status
from resource_sharing.messages import PeerMessage, RequestingAgencyMessage, SupplyingAgencyMessage
from resource_sharing_adapters.iso18626._errors import (
    DecodeError,
    EncodeError,
    HeaderEcho,
    UnrecognisedDataValue,
    UnsupportedActionType,
    UnsupportedReasonForMessageType,
)

__all__ = ["Code", "Version", "check_version", "exists_in"]


class Version(StrEnum):
    """The schema versions the codec writes and validates against."""

    V1_2 = "1.2"
    """ISO 18626:2017, XSD v1.2: what every live peer speaks (the default)."""
    V2021_2 = "2021-2"
    """ISO 18626:2021, XSD 2021-2, for partners configured for it."""


Code = Action | Status | ReasonForMessage
"""A closed-list code whose existence depends on the version."""

# The codes each version lacks, per vocabulary (type_action, type_status,
# type_reasonForMessage of each XSD). Keyed by type: Status.HOLD_RETURN and
# Action.HOLD_RETURN are equal strings.
_LACKS: Mapping[Version, Mapping[type[Code], frozenset[Code]]] = {
    Version.V1_2: {
        Action: frozenset({Action.HOLD_RETURN, Action.LOST}),
        Status: frozenset({Status.HOLD_RETURN, Status.RELEASE_HOLD_RETURN}),
        ReasonForMessage: frozenset(),
    },
    Version.V2021_2: {Action: frozenset(), Status: frozenset(), ReasonForMessage: frozenset()},
}


def _version(version: Version | str) -> Version:
    try:
        return Version(version)
    except ValueError:
        raise EncodeError("version", f"unsupported version {version!r}") from None


def exists_in(code: Code, version: Version | str) -> bool:
    """Whether ``version``'s schema has ``code`` (an action, status or reasonForMessage).

    Raises :class:`EncodeError` for a version the codec does not know.
    """
    return code not in _LACKS[_version(version)][type(code)]


def check_version(message: PeerMessage, version: Version | str) -> None:
    """Refuse a received message whose action, reason or status ``version`` lacks.

    Call it with the sender's configured version before applying the message. Raises the
    :class:`DecodeError` to answer with (``confirm_error(message, error, ...)``):
    UnsupportedActionType, UnsupportedReasonForMessageType or UnrecognisedDataValue,
    carrying the message kind and its header for the echo. Returns None when the
    version can say everything in the message.
    """
    error: DecodeError | None = None
    if isinstance(message, RequestingAgencyMessage):
        if not exists_in(message.action, version):
            error = UnsupportedActionType(message.action.value)
    elif isinstance(message, SupplyingAgencyMessage):
        if not exists_in(message.reason, version):
            error = UnsupportedReasonForMessageType(message.reason.value)
        elif message.status is not None and not exists_in(message.status, version):
            error = UnrecognisedDataValue(
                "supplyingAgencyMessage/statusInfo/status", message.status.value
            )
    else:
        _version(version)
    if error is None:
        return
    header = message.header
    error.kind = message.kind
    error.element = message.kind.value
    error.header = HeaderEcho(
        supplying_agency=header.supplying_agency,
        requesting_agency=header.requesting_agency,
        requesting_agency_request_id=header.requesting_agency_request_id,
        multiple_item_request_id=header.multiple_item_request_id,
        timestamp=header.timestamp,
        reason=message.reason if isinstance(message, SupplyingAgencyMessage) else None,
    )
    raise error
