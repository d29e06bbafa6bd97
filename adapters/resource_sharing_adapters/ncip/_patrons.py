"""The PatronValidator port over NCIP LookupUser: whether the patron may borrow, and who they are.

Read as mod-rs reads it (``processLookupUserResponse``) and a little wider:

- a Problem about the user (``Unknown User``, Koha's old ``Unkown User``, FOLIO's empty
  ProblemType with the text in ProblemElement/ProblemValue, ``User Blocked``...) means
  not eligible, with the Problem in words as the reason;
- a Problem about us (agency authentication, an unknown agency, an unsupported service,
  a temporary failure, a message-level Problem) means the ILS could not be asked: it is
  raised as :class:`NcipProblem`, as the port says;
- on success: any BlockOrTrap still in force, or a UserPrivilege of type ``STATUS`` whose
  status is ``BLOCKED``/``BARRED``, means blocked; a privilege whose ValidToDate is past
  (the patron's card) means expired; the name, the e-mail address and the group (the
  ``PROFILE`` privilege) are taken as the ILS knows them, skipping ``none`` placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import final

from resource_sharing.ports import PatronStanding
from resource_sharing.records import PatronRef
from resource_sharing_adapters.ncip._client import NcipClient
from resource_sharing_adapters.ncip._errors import NcipProblem, NcipUnsupported
from resource_sharing_adapters.ncip._message import NcipMessage, Node, parse_datetime
from resource_sharing_adapters.ncip._services import LookupUser

__all__ = ["NcipPatronValidator", "standing"]

_NOT_ABOUT_THE_USER = frozenset(
    {
        "agency authentication failed",
        "unknown agency",
        "unknown system",
        "system authentication failed",
        "unauthorized service for agency",
        "unauthorized service for system",
        "unsupported service",
        "unknown service",
        "temporary processing failure",
        "invalid message syntax error",
    }
)
_BLOCKED_STATUS = frozenset({"blocked", "barred", "block"})
_PLACEHOLDERS = frozenset({"", "none", "null", "n/a"})


def _real(text: str | None) -> str | None:
    if text is None or text.strip().casefold() in _PLACEHOLDERS:
        return None
    return text.strip()


def _name(fields: Node) -> str | None:
    personal = fields.first("NameInformation", "PersonalNameInformation")
    if personal is None:
        return _real(
            fields.text_of("NameInformation", "OrganizationNameInformation", "OrganizationName")
        )
    unstructured = _real(personal.text_of("UnstructuredPersonalUserName"))
    if unstructured:
        return unstructured
    structured = personal.first("StructuredPersonalUserName")
    if structured is None:
        return None
    parts = (structured.text_of(part) for part in ("GivenName", "Surname"))
    return " ".join(p for p in parts if p) or None


def _email(fields: Node) -> str | None:
    for address in fields.all("UserAddressInformation"):
        electronic = address.first("ElectronicAddress")
        if electronic is None:
            continue
        kind = (electronic.text_of("ElectronicAddressType") or "").casefold()
        data = _real(electronic.text_of("ElectronicAddressData"))
        if data and ("mail" in kind or "@" in data):
            return data.removeprefix("mailto:")
    return None


def _privileges(fields: Node) -> list[tuple[str, Node]]:
    return [
        ((p.text_of("AgencyUserPrivilegeType") or "").casefold(), p)
        for p in fields.all("UserPrivilege")
    ]


def _group(fields: Node) -> str | None:
    for kind, privilege in _privileges(fields):
        if kind == "profile":
            return _real(privilege.text_of("UserPrivilegeDescription")) or _real(
                privilege.text_of("UserPrivilegeStatus", "UserPrivilegeStatusType")
            )
    return None


def _refusal(fields: Node, now: datetime) -> str | None:
    for block in fields.all("BlockOrTrap"):
        until = parse_datetime(block.text_of("ValidToDate") or "")
        if until is None or until > now:
            return f"blocked in the ILS: {block.text_of('BlockOrTrapType') or 'a block'}"
    expiries: list[datetime] = []
    for kind, privilege in _privileges(fields):
        status = privilege.text_of("UserPrivilegeStatus", "UserPrivilegeStatusType") or ""
        if kind == "status" and status.casefold() in _BLOCKED_STATUS:
            return f"blocked in the ILS: status {status}"
        until = parse_datetime(privilege.text_of("ValidToDate") or "")
        if until is not None:
            expiries.append(until)
    if expiries and max(expiries) < now:
        return f"expired in the ILS on {max(expiries):%Y-%m-%d}"
    return None


def _problem_reason(error: NcipProblem) -> str:
    words = "; ".join(p.describe() for p in error.problems)
    kind = error.problem_type.casefold().replace("unkown", "unknown")
    about_user = "user" in (error.problem_element or "").casefold()
    if kind == "unknown user" or (not kind and about_user):
        return f"unknown to the ILS ({words})"
    if "blocked" in kind:
        return f"blocked in the ILS ({words})"
    return f"refused by the ILS ({words})"


def standing(patron: PatronRef, answer: NcipMessage, now: datetime) -> PatronStanding:
    """The standing a successful LookupUserResponse gives ``patron`` at ``now``."""
    fields = answer.body.first("UserOptionalFields") or Node("UserOptionalFields")
    known = PatronRef(
        id=patron.id,
        name=_name(fields) or patron.name,
        group=_group(fields) or patron.group,
        email=_email(fields) or patron.email,
    )
    reason = _refusal(fields, now)
    return PatronStanding(eligible=reason is None, reason=reason, patron=known)


@final
class NcipPatronValidator:
    """A :class:`~resource_sharing.ports.PatronValidator` asking the ILS with LookupUser."""

    def __init__(
        self,
        client: NcipClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        """The NCIP client of the ILS."""
        self._clock = clock

    def validate(self, patron: PatronRef) -> PatronStanding:
        """LookupUser; blocked, expired or unknown patrons are not eligible (reason in words).

        Raises :class:`NcipProblem` or :class:`NcipUnavailable` when the ILS cannot be asked.
        """
        if not self.client.config.profile.supports("LookupUser"):
            raise NcipUnsupported(
                self.client.config.name, "LookupUser", f"check patron {patron.id} in the ILS"
            )
        try:
            answer = self.client.call(LookupUser(patron.id))
        except NcipProblem as exc:
            types = {p.type.casefold() for p in exc.problems}
            if exc.retryable or types & _NOT_ABOUT_THE_USER:
                raise
            return PatronStanding(False, _problem_reason(exc), None)
        return standing(patron, answer, self._clock())
