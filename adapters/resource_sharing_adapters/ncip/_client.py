"""NCIP over HTTP POST with httpx: one request, one answer, every failure typed.

Every message is validated against the XSD before it leaves (an invalid one raises
:class:`EncodeError` and is not sent). The answer is decoded leniently; a Problem becomes
an :class:`NcipProblem` whose ``retryable`` says whether a later attempt may succeed.
Transport failures, timeouts, HTTP 5xx/408/429 and answers that are not NCIP (mod-ncip's
500 error bodies, a proxy's HTML page) are retryable :class:`NcipUnavailable`; other 4xx
(a wrong API key or token: 401/403, a wrong path: 404) are not.
"""

from __future__ import annotations

from types import TracebackType
from typing import final

import httpx

from resource_sharing_adapters.ncip._config import NcipConfig
from resource_sharing_adapters.ncip._decode import decode
from resource_sharing_adapters.ncip._errors import MalformedNcip, NcipProblem, NcipUnavailable
from resource_sharing_adapters.ncip._message import Header, NcipMessage
from resource_sharing_adapters.ncip._services import Request, encode

__all__ = ["NcipClient"]

_RETRYABLE_STATUS = frozenset({408, 425, 429})


@final
class NcipClient:
    """Sends NCIP requests to one ILS and returns its successful answers."""

    def __init__(self, config: NcipConfig, *, http: httpx.Client | None = None) -> None:
        self.config = config
        """Where and how the ILS is reached."""
        auth = None
        if config.username is not None:
            auth = httpx.BasicAuth(config.username, config.password or "")
        headers = {"Content-Type": config.profile.content_type, "Accept": "application/xml"}
        if config.api_key_header and config.api_key is not None:
            headers[config.api_key_header] = config.api_key
        self._owned = http is None
        self._http = http or httpx.Client(timeout=config.timeout)
        self._auth = auth
        self._headers = headers
        self._header = Header(
            from_agency=config.from_agency,
            to_agency=config.to_agency,
            from_agency_authentication=config.from_agency_authentication,
            application_profile=config.application_profile,
        )

    def encode(self, request: Request, *, key: str | None) -> bytes:
        """The bytes that would be sent for ``request`` (schema-valid, or EncodeError)."""
        return encode(request, self._header, key=key if self.config.profile.send_key else None)

    def call(self, request: Request, *, key: str | None = None) -> NcipMessage:
        """Send ``request`` and return the ILS's successful answer.

        Raises :class:`NcipProblem` for an answer with Problems, :class:`NcipUnavailable`
        when the ILS could not be asked or did not answer in NCIP.
        """
        body = self.encode(request, key=key)
        name = self.config.name
        try:
            response = self._http.post(
                self.config.endpoint,
                content=body,
                headers=self._headers,
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
                timeout=self.config.timeout,
            )
        except httpx.InvalidURL as exc:
            raise NcipUnavailable(
                name, f"bad endpoint {self.config.endpoint!r}: {exc}", retryable=False
            ) from None
        except httpx.TimeoutException:
            raise NcipUnavailable(name, f"{request.SERVICE}: no answer in time") from None
        except httpx.HTTPError as exc:
            raise NcipUnavailable(name, f"{request.SERVICE}: {type(exc).__name__}: {exc}") from None
        data = response.content
        if response.status_code >= 400:
            retryable = response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS
            snippet = data[:200].decode("utf-8", "replace").strip()
            raise NcipUnavailable(
                name,
                f"{request.SERVICE}: HTTP {response.status_code} {snippet}".rstrip(),
                retryable=retryable,
            )
        try:
            answer = decode(data, max_bytes=self.config.max_response_bytes)
        except MalformedNcip as exc:
            raise NcipUnavailable(
                name, f"{request.SERVICE}: the answer is not NCIP: {exc}"
            ) from None
        if answer.problems:
            profile = self.config.profile
            retryable = all(
                p.type.casefold() in profile.retryable_problems for p in answer.problems
            )
            raise NcipProblem(name, request.SERVICE, answer.problems, retryable=retryable)
        if answer.service != f"{request.SERVICE}Response":
            raise NcipUnavailable(
                name,
                f"{request.SERVICE}: the ILS answered {answer.service}",
                retryable=False,
            )
        return answer

    def close(self) -> None:
        """Close the HTTP connections (only those this client opened)."""
        if self._owned:
            self._http.close()

    def __enter__(self) -> NcipClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
