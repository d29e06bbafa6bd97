"""What can go wrong asking a catalogue over SRU, as typed errors.

Every error names the endpoint it came from. :class:`SruUnavailable` (connection refused,
timeout, an HTTP 5xx) may pass if asked again later; :class:`SruDiagnostic` (the server
answered with a fatal SRU diagnostic: an unsupported index, a query it cannot parse) and
:class:`SruBadResponse` (not an SRU answer at all) will not, until the configuration or
the server changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from resource_sharing.errors import InfrastructureError

__all__ = [
    "Diagnostic",
    "SruBadResponse",
    "SruDiagnostic",
    "SruError",
    "SruTimeout",
    "SruUnavailable",
]


@attrs.frozen
class Diagnostic:
    """An SRU diagnostic (``info:srw/diagnostic/1/...``) as the server gave it."""

    uri: str
    """The diagnostic's URI; its last number is the code of the SRU diagnostics list."""
    details: str | None = None
    """What it is about (the index, the version...), as the server said."""
    message: str | None = None
    """The server's readable message."""

    @property
    def code(self) -> int | None:
        """The number at the end of a standard diagnostic URI (16: unsupported index...)."""
        tail = self.uri.rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else None

    def __str__(self) -> str:
        parts = [self.uri, self.message, f"({self.details})" if self.details else None]
        return " ".join(p for p in parts if p)


class SruError(InfrastructureError):
    """The catalogue at ``endpoint`` could not answer a search."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(f"SRU {endpoint}: {reason}")
        self.endpoint = endpoint
        """The SRU base URL asked."""
        self.reason = reason
        """What went wrong, in words."""


class SruUnavailable(SruError):
    """The catalogue could not be reached or failed (connection, HTTP 5xx): try later."""


class SruTimeout(SruUnavailable):
    """The catalogue did not answer within the configured timeout."""


class SruBadResponse(SruError):
    """The answer is not an SRU searchRetrieve response (malformed, too large, HTTP 4xx)."""


class SruDiagnostic(SruError):
    """The server refused the search with fatal diagnostics (e.g. 16, unsupported index)."""

    def __init__(self, endpoint: str, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(endpoint, "; ".join(str(d) for d in diagnostics) or "diagnostic")
        self.diagnostics = tuple(diagnostics)
        """The diagnostics the server sent."""
