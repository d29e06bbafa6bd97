"""Peer authentication: per-partner credentials, checked on every inbound message.

A partner proves who it is with the ISO 18626 ``requestingAgencyAuthentication``
(``accountId`` and ``securityCode`` in the message header), with an HTTP
``Authorization`` header, or both: whatever its :class:`Credentials` name must all be
presented and match (compared in constant time). A message from an agency we have no
credentials for is refused, as is a message that is not addressed to us.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import final

import attrs

from resource_sharing.errors import PeerError
from resource_sharing.iso18626 import ErrorType
from resource_sharing.messages import PeerMessage, SupplyingAgencyMessage
from resource_sharing.records import AgencyId

__all__ = [
    "AuthenticationFailed",
    "Authenticator",
    "Credentials",
    "PeerCredentials",
    "recipient_of",
    "sender_of",
]


@final
@attrs.frozen
class Credentials:
    """What one side presents: ISO account id and security code, and/or an HTTP header."""

    account_id: str | None = None
    """``requestingAgencyAuthentication/accountId``."""
    security_code: str | None = attrs.field(default=None, repr=False)
    """``requestingAgencyAuthentication/securityCode``."""
    authorization: str | None = attrs.field(default=None, repr=False)
    """The whole HTTP ``Authorization`` header value, e.g. ``Bearer 3c1f...``."""

    @property
    def empty(self) -> bool:
        """True when nothing is configured."""
        return not (self.account_id or self.security_code or self.authorization)


@final
@attrs.frozen
class PeerCredentials:
    """The credentials exchanged with one partner, both ways."""

    inbound: Credentials = attrs.field(factory=Credentials)
    """What the partner must present to us."""
    outbound: Credentials = attrs.field(factory=Credentials)
    """What we present to the partner."""


class AuthenticationFailed(PeerError):
    """The sender is unknown or its credentials do not match; nothing was stored."""

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorType.UNRECOGNISED_DATA_VALUE, f"AuthenticationFailed: {detail}")


def sender_of(message: PeerMessage) -> AgencyId:
    """The agency a message claims to come from (the supplier for a SAM)."""
    header = message.header
    if isinstance(message, SupplyingAgencyMessage):
        return header.supplying_agency
    return header.requesting_agency


def recipient_of(message: PeerMessage) -> AgencyId:
    """The agency a message is addressed to."""
    header = message.header
    if isinstance(message, SupplyingAgencyMessage):
        return header.requesting_agency
    return header.supplying_agency


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Authenticator:
    """Checks that an inbound message is for us and from a partner with valid credentials."""

    def __init__(self, agency: AgencyId, inbound: Mapping[AgencyId, Credentials]) -> None:
        self.agency = agency
        """Who we are."""
        self._inbound = dict(inbound)

    def check(self, message: PeerMessage, authorization: str | None = None) -> AgencyId:
        """The authenticated sender; raises :class:`PeerError` when the message is refused.

        ``authorization`` is the HTTP ``Authorization`` header as received (if any).
        """
        recipient = recipient_of(message)
        if recipient != self.agency:
            field = (
                "requestingAgencyId"
                if isinstance(message, SupplyingAgencyMessage)
                else "supplyingAgencyId"
            )
            raise PeerError(
                ErrorType.UNRECOGNISED_DATA_VALUE,
                f"{field}: {recipient} is not this institution ({self.agency})",
            )
        sender = sender_of(message)
        expected = self._inbound.get(sender)
        if expected is None:
            raise AuthenticationFailed(f"unknown agency {sender}")
        if expected.empty:
            raise AuthenticationFailed(f"no credentials are configured for {sender}")
        if expected.account_id is not None or expected.security_code is not None:
            given = message.header.authentication
            if given is None:
                raise AuthenticationFailed("requestingAgencyAuthentication is missing")
            if expected.account_id is not None and not _same(given.account_id, expected.account_id):
                raise AuthenticationFailed("accountId does not match")
            if expected.security_code is not None and not _same(
                given.security_code, expected.security_code
            ):
                raise AuthenticationFailed("securityCode does not match")
        if expected.authorization is not None and not _same(authorization, expected.authorization):
            raise AuthenticationFailed("the Authorization header is missing or does not match")
        return sender
