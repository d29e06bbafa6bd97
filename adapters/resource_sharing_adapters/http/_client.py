"""The HTTP peer transport: ISO 18626 POSTs through httpx.

:class:`HttpTransport` implements the :class:`~resource_sharing.ports.PeerTransport`
port. Per partner it reads the endpoint URL, the ISO 18626 version and the extra headers
from the directory (:class:`~resource_sharing.directory.ProtocolSettings`) and the
credentials we present from its own configuration. Failures map onto
:class:`~resource_sharing.errors.DeliveryError`: a network error, a timeout, a 5xx, 408 or
429 without an ISO body is retryable (the outbox tries again later with backoff); any
other refusal is not. An ISO confirmation is parsed from the body on any HTTP status
(peers answer errors with 200, 400 or 500) and returned as it is: the dispatcher treats
an ERROR confirmation as a refusal that retrying cannot mend.

TLS: every ``https`` endpoint's certificate and host name are verified, against the
system's trust store or, when the partner's outbound credentials carry
:class:`~resource_sharing_adapters.http._tls.ClientTLS`, against its own CA; that
configuration also holds our client certificate for mutual TLS. There is no way to
turn verification off. A verification failure is a retryable delivery error (a
renewed certificate mends it) whose reason says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import final

import attrs
import httpx

from resource_sharing.directory import Partner
from resource_sharing.errors import DeliveryError
from resource_sharing.messages import Authentication, Confirmation, PeerMessage
from resource_sharing.records import AgencyId
from resource_sharing_adapters.http._auth import Credentials
from resource_sharing_adapters.http._tls import ClientTLS, client_context
from resource_sharing_adapters.iso18626 import DecodeError, EncodeError, decode, encode

__all__ = ["MESSAGE_ID_HEADER", "XML_CONTENT_TYPE", "HttpTransport", "with_credentials"]

MESSAGE_ID_HEADER = "X-Message-ID"
"""The header carrying the outbox message id (the receiver's idempotency key)."""

XML_CONTENT_TYPE = 'application/xml; charset="utf-8"'
"""The content type of every message we send (ISO 18626:2017 §5.2)."""

_RETRYABLE_STATUS = frozenset({408, 425, 429})


def with_credentials(message: PeerMessage, credentials: Credentials | None) -> PeerMessage:
    """The message with our ``requestingAgencyAuthentication`` in its header, if configured."""
    if credentials is None or (
        credentials.account_id is None and credentials.security_code is None
    ):
        return message
    header = attrs.evolve(
        message.header,
        authentication=Authentication(credentials.account_id, credentials.security_code),
    )
    return attrs.evolve(message, header=header)


@final
class HttpTransport:
    """Sends peer messages as ISO 18626 over HTTP(S) POST.

    ``credentials`` are what we present to each partner (by agency). ``timeout`` bounds
    each exchange (connect, write, read, pool) in seconds. Pass ``client`` to share an
    :class:`httpx.Client` (its own timeouts then apply); otherwise the transport owns one,
    closed by :meth:`close`.
    """

    def __init__(
        self,
        *,
        credentials: Mapping[AgencyId, Credentials] | None = None,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        max_response_bytes: int = 1 << 20,
    ) -> None:
        self._credentials = dict(credentials or {})
        self._owned = client is None
        self._timeout = timeout
        self._client = client or self._new_client(None)
        self._tls_clients: dict[ClientTLS, httpx.Client] = {}
        self._max_response_bytes = max_response_bytes

    def _new_client(self, tls: ClientTLS | None) -> httpx.Client:
        return httpx.Client(
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            trust_env=False,
            verify=client_context(tls),
        )

    def _client_for(self, credentials: Credentials | None) -> httpx.Client:
        tls = credentials.tls if credentials is not None else None
        if tls is None:
            return self._client
        found = self._tls_clients.get(tls)
        if found is None:
            found = self._tls_clients.setdefault(tls, self._new_client(tls))
        return found

    def send(self, partner: Partner, message: PeerMessage, message_id: str) -> Confirmation:
        """POST the message to the partner's endpoint; return its confirmation."""
        agency = str(partner.agency)
        endpoint = partner.protocol.endpoint
        if not endpoint:
            raise DeliveryError(agency, "no endpoint configured", retryable=False)
        credentials = self._credentials.get(partner.agency)
        try:
            body = encode(
                with_credentials(message, credentials), version=partner.protocol.iso18626_version
            )
        except EncodeError as exc:
            raise DeliveryError(agency, f"cannot encode: {exc}", retryable=False) from exc
        headers = {"Content-Type": XML_CONTENT_TYPE, MESSAGE_ID_HEADER: message_id}
        if credentials is not None and credentials.authorization:
            headers["Authorization"] = credentials.authorization
        headers.update(dict(partner.protocol.headers))
        try:
            response = self._client_for(credentials).post(endpoint, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(agency, f"timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(agency, f"network error: {exc or type(exc).__name__}") from exc
        status = response.status_code
        confirmation = self._confirmation(response.content)
        if confirmation is not None:
            return confirmation
        retryable = status >= 500 or status in _RETRYABLE_STATUS or 200 <= status < 300
        snippet = response.text[:200].strip() if response.content else ""
        detail = f"HTTP {status}" + (f": {snippet}" if snippet else "")
        if 200 <= status < 300:
            detail += " without an ISO 18626 confirmation"
        raise DeliveryError(agency, detail, retryable=retryable)

    def _confirmation(self, content: bytes) -> Confirmation | None:
        if not content or len(content) > self._max_response_bytes:
            return None
        try:
            decoded = decode(content, max_bytes=self._max_response_bytes)
        except DecodeError:
            return None
        found = decoded.message
        return found if isinstance(found, Confirmation) else None

    def close(self) -> None:
        """Close the HTTP clients (the shared one only when the transport owns it)."""
        for client in self._tls_clients.values():
            client.close()
        self._tls_clients.clear()
        if self._owned:
            self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
