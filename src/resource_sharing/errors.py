"""The library's errors: one base, the caller's mistakes apart from the peer's.

- :class:`UsageError` and its children: the calling code (or staff through it) asked for
  something the library will not do. Nothing was changed.
- :class:`PeerError` and its children: a peer sent something illegal. Each carries the
  ISO 18626 ``error_type`` (and ``error_value``) to answer it with in the confirmation.
  Nothing was changed.
- :class:`InfrastructureError` and its children: a port failed (storage conflict,
  delivery failure). The unit of work was not applied.
"""

from __future__ import annotations

from collections.abc import Iterable

from resource_sharing.iso18626 import ErrorType

__all__ = [
    "AmbiguousBarcode",
    "ConcurrencyConflict",
    "DeliveryError",
    "IllegalTransition",
    "InfrastructureError",
    "InvalidInput",
    "LeaseLost",
    "NotFound",
    "PatronNotEligible",
    "PeerError",
    "ResourceSharingError",
    "UsageError",
    "WrongCounterpart",
]


class ResourceSharingError(Exception):
    """Base class of every error the library raises on purpose."""


class UsageError(ResourceSharingError):
    """The caller asked for something the library will not do; nothing changed."""


class InvalidInput(UsageError, ValueError):
    """An argument is malformed or out of range (the message says which and why)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        """The argument or field at fault."""
        self.problem = problem
        """What is wrong with it."""


class NotFound(UsageError, LookupError):
    """No such request (or other stored thing)."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"no {what} {key!r}")
        self.what = what
        """The kind of thing looked for."""
        self.key = key
        """The key that was not found."""


class PatronNotEligible(UsageError):
    """The host system says this patron may not place a request; nothing was stored."""

    def __init__(self, patron_id: str, reason: str) -> None:
        super().__init__(f"patron {patron_id!r} may not place a request: {reason}")
        self.patron_id = patron_id
        """The patron."""
        self.reason = reason
        """Why not, in the host system's words (blocked, expired, unknown...), for staff."""


class IllegalTransition(UsageError):
    """The event does not apply to a request in its current state; nothing changed.

    When the event came from a peer, the service answers it with ``error_type``.
    """

    def __init__(
        self,
        side: str,
        state: str,
        event: str,
        allowed: Iterable[str],
        *,
        reason: str | None = None,
    ) -> None:
        self.side = side
        """``borrowing`` or ``lending``."""
        self.state = state
        """The request's state."""
        self.event = event
        """The event (trigger) that was refused."""
        self.allowed = tuple(sorted(allowed))
        """The triggers the state does accept."""
        self.reason = reason
        """Why a guarded edge refused, when one matched the event but not its guard."""
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"{side} request in state {state!r} cannot take {event!r}{detail}; "
            f"allowed: {', '.join(self.allowed) or 'nothing (terminal state)'}"
        )

    @property
    def error_type(self) -> ErrorType:
        """The ISO 18626 error to answer a peer with."""
        if self.side == "lending":
            return ErrorType.UNSUPPORTED_ACTION_TYPE
        return ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE


class AmbiguousBarcode(UsageError):
    """A scanned barcode names several open requests that could each take the action.

    Nothing changed: staff choose one of ``candidates`` and scan again naming it.
    """

    def __init__(
        self, barcode: str, side: str, event: str, candidates: Iterable[tuple[str, str]]
    ) -> None:
        self.barcode = barcode
        """The scanned barcode."""
        self.side = side
        """``borrowing`` or ``lending``."""
        self.event = event
        """The action asked for (``check_in``, ``local_hold``...)."""
        self.candidates = tuple(candidates)
        """``(request id, state)`` of every request that could take it, oldest first."""
        listed = ", ".join(f"{rid} ({state})" for rid, state in self.candidates)
        super().__init__(
            f"barcode {barcode!r} names {len(self.candidates)} {side} requests that can take "
            f"{event!r}: {listed}; choose one"
        )


class PeerError(ResourceSharingError):
    """A peer sent something we cannot accept; answer with ``error_type``."""

    def __init__(self, error_type: ErrorType, error_value: str) -> None:
        super().__init__(f"{error_type.value}: {error_value}")
        self.error_type = error_type
        """The ISO 18626 error type for the confirmation."""
        self.error_value = error_value
        """A readable errorValue for the confirmation."""


class WrongCounterpart(PeerError):
    """A message about a request came from an agency that is not on its other side."""

    def __init__(self, request_id: str, sender: str, expected: str) -> None:
        super().__init__(
            ErrorType.UNRECOGNISED_DATA_VALUE,
            f"requestingAgencyRequestId {request_id!r} is not a request between {sender} and us",
        )
        self.sender = sender
        """Who sent it."""
        self.expected = expected
        """Who may speak about that request."""


class InfrastructureError(ResourceSharingError):
    """A port failed; the unit of work was not applied."""


class ConcurrencyConflict(InfrastructureError):
    """Another writer saved the request first (optimistic concurrency); reload and retry."""

    def __init__(self, request_id: str, expected: int, actual: int | None) -> None:
        super().__init__(f"request {request_id!r}: expected version {expected}, found {actual}")
        self.request_id = request_id
        """The request that was saved concurrently."""
        self.expected = expected
        """The version the writer had loaded."""
        self.actual = actual
        """The version stored now (``None`` if it does not exist)."""


class LeaseLost(InfrastructureError):
    """A dispatcher's claim on an outbox entry ended and another dispatcher took it.

    The first one's result is not written (the port saw the same idempotency key twice,
    which is what the key is for).
    """

    def __init__(self, entry_id: str, owner: str, holder: str | None) -> None:
        super().__init__(f"outbox entry {entry_id!r} is not claimed by {owner} (held by {holder})")
        self.entry_id = entry_id
        """The outbox entry."""
        self.owner = owner
        """The dispatcher that thought it held it."""
        self.holder = holder
        """Who holds it now (None: nobody)."""


class DeliveryError(InfrastructureError):
    """An effect could not be delivered to its port (the outbox keeps it and retries).

    Raised by every delivering port: the peer transport, the notifier, circulation, the
    printer. ``retryable=False`` says that trying again cannot help.
    """

    def __init__(self, recipient: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(f"delivery to {recipient} failed: {reason}")
        self.recipient = recipient
        """The agency it was for."""
        self.reason = reason
        """What went wrong."""
        self.retryable = retryable
        """False when trying again cannot help (e.g. the peer refused it with an ERROR)."""
