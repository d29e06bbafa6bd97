"""The NCIP adapter's errors, sorted by what the caller can do about them.

- :class:`MalformedNcip`: bytes that are not an NCIP message we can act on (hostile,
  broken, or missing what the service needs). Raised by :func:`decode`; an inbound
  handler answers it with a message-level Problem.
- :class:`NcipProblem`: the ILS answered with one or more Problems. It is a
  :class:`~resource_sharing.errors.DeliveryError`, so the outbox dispatcher retries it when
  ``retryable`` (a temporary processing failure) and gives up, raising a staff task,
  when retrying cannot fix it (an unknown user, a blocked patron, a refused agency).
- :class:`NcipUnavailable`: the ILS could not be asked (timeout, connection refused,
  HTTP 5xx, an answer that is not NCIP); retryable unless the HTTP status says otherwise.
- :class:`NcipUnsupported`: the configured ILS does not offer the service this step needs;
  not retryable, and its reason tells staff what to do in the ILS by hand.
- :class:`EncodeError`: a message we built would not validate against the NCIP 2.02 XSD
  (a bug or a bad value from the caller); nothing was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

import attrs

from resource_sharing.errors import DeliveryError, InvalidInput, ResourceSharingError

__all__ = [
    "EncodeError",
    "MalformedNcip",
    "NcipError",
    "NcipProblem",
    "NcipUnavailable",
    "NcipUnsupported",
    "Problem",
]


@final
@attrs.frozen
class Problem:
    """One NCIP Problem: what went wrong, in the ILS's own (often non-standard) words."""

    type: str
    """ProblemType, e.g. ``Unknown User`` (FOLIO sends it empty for an unknown user)."""
    detail: str | None = None
    """ProblemDetail: free text."""
    element: str | None = None
    """ProblemElement: the element at fault (a path, an XPath or a bare name)."""
    value: str | None = None
    """ProblemValue: the offending value."""
    scheme: str | None = None
    """The Scheme URI of the ProblemType, when the ILS gave one."""

    def describe(self) -> str:
        """The problem in one line staff can read."""
        text = self.type or "Problem"
        if self.detail:
            text += f": {self.detail}"
        where = " = ".join(p for p in (self.element, self.value) if p)
        return f"{text} ({where})" if where else text


class NcipError(ResourceSharingError):
    """Base class of every error of the NCIP adapter."""


class MalformedNcip(NcipError, ValueError):
    """The bytes are not an NCIP message we can act on; ``problem`` says why, as NCIP would."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.describe())
        self.problem = problem
        """The Problem an NCIP responder would answer with."""


class NcipProblem(NcipError, DeliveryError):
    """The ILS answered a service with Problems (message-level or service-level)."""

    def __init__(
        self,
        recipient: str,
        service: str,
        problems: Sequence[Problem],
        *,
        retryable: bool,
    ) -> None:
        self.service = service
        """The service that was refused (``AcceptItem``...)."""
        self.problems = tuple(problems)
        """Every Problem of the answer, in order."""
        text = "; ".join(p.describe() for p in self.problems) or "Problem"
        super().__init__(recipient, f"{service}: {text}", retryable=retryable)

    @property
    def problem(self) -> Problem:
        """The first Problem (most answers carry exactly one)."""
        return self.problems[0] if self.problems else Problem("")

    @property
    def problem_type(self) -> str:
        """The first ProblemType."""
        return self.problem.type

    @property
    def problem_detail(self) -> str | None:
        """The first ProblemDetail."""
        return self.problem.detail

    @property
    def problem_element(self) -> str | None:
        """The first ProblemElement."""
        return self.problem.element

    @property
    def problem_value(self) -> str | None:
        """The first ProblemValue."""
        return self.problem.value


class NcipUnavailable(NcipError, DeliveryError):
    """The ILS could not be asked or its answer could not be read."""

    def __init__(self, recipient: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(recipient, reason, retryable=retryable)


class NcipUnsupported(NcipError, DeliveryError):
    """The ILS does not offer the service a step needs; staff do it in the ILS by hand."""

    def __init__(self, recipient: str, service: str, todo: str) -> None:
        self.service = service
        """The NCIP service the ILS lacks."""
        super().__init__(recipient, f"the ILS does not support {service}: {todo}", retryable=False)


class EncodeError(NcipError, InvalidInput):
    """A message we built does not validate against the NCIP 2.02 XSD; nothing was sent."""

    def __init__(self, service: str, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        """The validator's messages."""
        InvalidInput.__init__(self, service, "not valid NCIP 2.02: " + "; ".join(self.errors))
