"""Authentication: per-partner credentials on every inbound message, and the staff token.

A partner proves who it is with the ISO 18626 ``requestingAgencyAuthentication``
(``accountId`` and ``securityCode`` in the message header), with an HTTP
``Authorization`` header, with a verified TLS client certificate, or several of these:
whatever its :class:`Credentials` name must all be presented and match (secrets are
compared in constant time, all of them, whichever fails). A message from an agency we
have no credentials for is refused, as is a message that is not addressed to us.

Every authentication failure gets the same answer (:data:`AUTHENTICATION_FAILED`): the
sender learns nothing about which part was wrong or whether the agency is known; the
detail goes to our log only. Failures count towards a lock-out and authenticated
requests towards a rate limit (:class:`~resource_sharing_adapters.http._limits.Guard`);
a refused request raises :class:`Throttled` (the HTTP layer answers 429).
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
from resource_sharing_adapters.http._limits import Guard, Verdict
from resource_sharing_adapters.http._tls import ClientTLS, PeerCertificate

__all__ = [
    "AUTHENTICATION_FAILED",
    "AuthenticationFailed",
    "Authenticator",
    "Credentials",
    "Origin",
    "PeerCredentials",
    "StaffAuthenticator",
    "Throttled",
    "recipient_of",
    "sender_of",
]

AUTHENTICATION_FAILED = "AuthenticationFailed: the sender could not be authenticated"
"""The one error text of every refused peer authentication."""


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
    client_certificate: str | None = None
    """Inbound: the verified TLS client certificate the partner must present, by DNS
    name or common name, or ``sha256:<hex>`` fingerprint (mutual TLS)."""
    tls: ClientTLS | None = None
    """Outbound: the CA to verify the partner with, and our client certificate."""

    @property
    def empty(self) -> bool:
        """True when nothing is configured that a sender must present."""
        return not (
            self.account_id or self.security_code or self.authorization or self.client_certificate
        )


@final
@attrs.frozen
class PeerCredentials:
    """The credentials exchanged with one partner, both ways."""

    inbound: Credentials = attrs.field(factory=Credentials)
    """What the partner must present to us."""
    outbound: Credentials = attrs.field(factory=Credentials)
    """What we present to the partner."""


class AuthenticationFailed(PeerError):
    """The sender is unknown or its credentials do not match; nothing was stored.

    Its text is always :data:`AUTHENTICATION_FAILED`; ``detail`` says what failed (for
    our log, never for the sender).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorType.UNRECOGNISED_DATA_VALUE, AUTHENTICATION_FAILED)
        self.detail = detail
        """What failed."""


class Throttled(Exception):
    """Refused before authentication (locked out) or after it (rate limited): answer 429."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"{verdict.reason}: retry after {verdict.retry_after:.0f}s")
        self.reason = verdict.reason
        """``rate_limited`` or ``locked_out``."""
        self.retry_after = max(1, int(verdict.retry_after + 0.999))
        """Whole seconds until the next try may be accepted (the ``Retry-After`` value)."""


@final
@attrs.frozen
class Origin:
    """Where a request came from: the client's address and its verified certificate."""

    address: str = "?"
    """The client's IP address (as the server saw it, or as a trusted proxy said)."""
    certificate: PeerCertificate | None = None
    """The verified TLS client certificate, if any."""


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


def _same(given: str | None, expected: str | None) -> bool:
    """Constant-time equality; True when nothing is expected."""
    if expected is None:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode()) and given is not None


_NOBODY = Credentials(account_id="?", security_code="?", authorization="?")


class Authenticator:
    """Checks that an inbound message is for us and from a partner with valid credentials.

    ``guard`` holds the lock-outs and rate limits (a default one when not given).
    """

    def __init__(
        self,
        agency: AgencyId,
        inbound: Mapping[AgencyId, Credentials],
        *,
        guard: Guard | None = None,
    ) -> None:
        self.agency = agency
        """Who we are."""
        self.guard = guard or Guard()
        """Lock-outs, rate limits and their counters."""
        self._inbound = dict(inbound)

    def check(
        self,
        message: PeerMessage,
        authorization: str | None = None,
        *,
        origin: Origin | None = None,
    ) -> AgencyId:
        """The authenticated sender; raises :class:`PeerError` when the message is refused.

        ``authorization`` is the HTTP ``Authorization`` header as received (if any),
        ``origin`` the client's address and certificate. Raises :class:`Throttled` when
        the sender is locked out from that address or over its rate.
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
        origin = origin or Origin()
        sender = sender_of(message)
        expected = self._inbound.get(sender)
        identity = str(sender) if expected is not None else "?"
        verdict = self.guard.before("peer", identity, origin.address)
        if not verdict.allowed:
            raise Throttled(verdict)
        problem = self._problem(message, authorization, origin, expected, sender)
        if problem is not None:
            self.guard.failure("peer", identity, origin.address, problem)
            raise AuthenticationFailed(problem)
        verdict = self.guard.success("peer", identity, origin.address)
        if not verdict.allowed:
            raise Throttled(verdict)
        return sender

    @staticmethod
    def _problem(
        message: PeerMessage,
        authorization: str | None,
        origin: Origin,
        expected: Credentials | None,
        sender: AgencyId,
    ) -> str | None:
        """What is wrong with the presented credentials (None: nothing)."""
        given = message.header.authentication
        # Compare every secret, against a dummy for an unknown agency, so that the time
        # taken says nothing about which one failed.
        against = expected if expected is not None and not expected.empty else _NOBODY
        account_ok = _same(given.account_id if given else None, against.account_id)
        code_ok = _same(given.security_code if given else None, against.security_code)
        header_ok = _same(authorization, against.authorization)
        if expected is None:
            return f"unknown agency {sender}"
        if expected.empty:
            return f"no credentials are configured for {sender}"
        if (expected.account_id or expected.security_code) and given is None:
            return "requestingAgencyAuthentication is missing"
        if not account_ok:
            return "accountId does not match"
        if not code_ok:
            return "securityCode does not match"
        if not header_ok:
            return "the Authorization header is missing or does not match"
        if expected.client_certificate is not None:
            if origin.certificate is None:
                return "no verified TLS client certificate"
            if not origin.certificate.names(expected.client_certificate):
                return f"the client certificate does not name {expected.client_certificate}"
        return None


class StaffAuthenticator:
    """Checks the staff API's bearer token, with lock-out and a rate limit per token.

    ``token`` None means the staff API is off.
    """

    IDENTITY = "staff-token"
    """The identity the (single) staff token is limited and locked out under."""

    def __init__(self, token: str | None, guard: Guard) -> None:
        self._expected = f"Bearer {token}".encode() if token else None
        self.guard = guard
        """Lock-outs, rate limits and their counters."""

    @property
    def enabled(self) -> bool:
        """Whether a staff token is configured."""
        return self._expected is not None

    def check(self, authorization: str | None, address: str) -> None:
        """Raise :class:`Throttled` or :class:`AuthenticationFailed` unless the token is valid."""
        if self._expected is None:
            raise AuthenticationFailed("the staff API is off")
        verdict = self.guard.before("staff", self.IDENTITY, address)
        if not verdict.allowed:
            raise Throttled(verdict)
        given = (authorization or "").encode()
        if not hmac.compare_digest(given, self._expected):
            detail = "no bearer token" if not given else "the bearer token does not match"
            self.guard.failure("staff", self.IDENTITY, address, detail)
            raise AuthenticationFailed(detail)
        verdict = self.guard.success("staff", self.IDENTITY, address)
        if not verdict.allowed:
            raise Throttled(verdict)
