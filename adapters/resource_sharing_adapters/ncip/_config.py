"""How one ILS is reached over NCIP, and what it does: the configuration and the ILS profiles.

A profile is what REPORT.md of the shared notes (§2, "Which responders support what",
and §4) says of a kind of ILS: the services it answers, the RequestedActionType its
AcceptItem wants, whether it deletes a temporary item by itself, how a recall reaches a
patron loan, its Content-Type, and which Problems mean "already done". A configuration
picks a profile and adds the endpoint, the agency ids, the credentials and the timeouts;
any profile value can be overridden in the node's TOML.

A step whose service the ILS lacks is not silently dropped: the adapter raises
:class:`~resource_sharing_adapters.ncip.NcipUnsupported` (not retryable), so the
dispatcher gives the operator a task saying what to do in the ILS by hand. Only a step
the ILS does by itself (``removal = "check_in"`` or ``"none"``, ``accept_checks_out``)
is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, final

import attrs

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId

__all__ = ["PROFILES", "IlsProfile", "NcipConfig", "Removal"]


class Removal(StrEnum):
    """How a temporary item leaves the ILS when its request completes."""

    DELETE_ITEM = "DeleteItem"
    """We send DeleteItem (FOLIO soft-deletes; Koha deletes)."""
    CHECK_IN = "check_in"
    """The ILS deletes it when it is checked in (Koha's ``delete_item_on_checkin``)."""
    NONE = "none"
    """The ILS keeps or removes it by its own rules (Alma's profile has no DeleteItem)."""


_SECRETS = ("from_agency_authentication", "api_key", "password")
_CORE_SERVICES = frozenset(
    {"LookupUser", "AcceptItem", "CheckOutItem", "CheckInItem", "DeleteItem"}
)
_ALREADY_DONE = {
    # mod-rs counts these as "already checked in" (BaseHostLMSService.checkInItem).
    "CheckInItem": frozenset({"item not checked out", "9022", "not on loan", "unknown item"}),
    "DeleteItem": frozenset({"unknown item", "item does not exist"}),
    "AcceptItem": frozenset(
        {"duplicate item", "duplicate request", "item already exists", "request already processed"}
    ),
    "CheckOutItem": frozenset({"item already checked out to this user"}),
}


@final
@attrs.frozen
class IlsProfile:
    """What a kind of ILS answers over NCIP and how it wants to be spoken to."""

    name: str
    """``generic``, ``folio``, ``koha``, ``alma``, ``sierra``, ``polaris`` or ``symphony``."""
    services: frozenset[str]
    """The NCIP services it answers."""
    requested_action: str = "Hold For Pickup"
    """The RequestedActionType of AcceptItem."""
    accept_checks_out: bool = False
    """True when AcceptItem already lends the item to the patron (no CheckOutItem then)."""
    removal: Removal = Removal.DELETE_ITEM
    """How a temporary item is removed when the request completes."""
    recall_service: str | None = "RecallItem"
    """How a recall shortens a patron loan: ``RecallItem``, ``RenewItem`` (with
    DesiredDateDue), or None when only staff can."""
    content_type: str = "application/xml"
    """The Content-Type of our POSTs (Koha behind Apache wants ``text/xml``)."""
    send_key: bool = True
    """Carry the idempotency key as a RequestId in ``Ext``."""
    already_done: Mapping[str, frozenset[str]] = attrs.field(factory=lambda: dict(_ALREADY_DONE))
    """Per service, the ProblemTypes (casefolded) that mean the step was done before."""
    retryable_problems: frozenset[str] = frozenset({"temporary processing failure"})
    """ProblemTypes (casefolded) that a later attempt may get past."""

    def supports(self, service: str) -> bool:
        """Whether the ILS answers ``service``."""
        return service in self.services


PROFILES: Mapping[str, IlsProfile] = {
    "generic": IlsProfile("generic", _CORE_SERVICES | {"RenewItem", "RecallItem"}),
    # toolkit.properties: no RenewItem; AcceptItem creates a suppressed instance, holding,
    # item and a hold request at the service point; DeleteItem soft-deletes.
    "folio": IlsProfile(
        "folio",
        _CORE_SERVICES | {"RequestItem", "CancelRequestItem", "CreateUserFiscalTransaction"},
        recall_service=None,
    ),
    # The ByWater plugin: everything but RecallItem; RenewItem honours DesiredDateDue
    # (Inference: the plugin passes it to Koha's renewal), text/xml as its README advises.
    "koha": IlsProfile(
        "koha",
        _CORE_SERVICES
        | {"RenewItem", "RequestItem", "CancelRequestItem", "LookupItem", "LookupVersion"},
        recall_service="RenewItem",
        content_type="text/xml",
    ),
    # The Alma v2 profile: AcceptItem, CheckOutItem and CheckInItem required, LookupUser,
    # RenewItem, RequestItem and CancelRequestItem optional, no DeleteItem.
    "alma": IlsProfile(
        "alma",
        frozenset(
            {
                "LookupUser",
                "AcceptItem",
                "CheckOutItem",
                "CheckInItem",
                "RenewItem",
                "RequestItem",
                "CancelRequestItem",
            }
        ),
        removal=Removal.NONE,
        recall_service="RenewItem",
    ),
    # Sierra documents LookupUser and RequestItem for NCIP 2.0; nothing more was found.
    "sierra": IlsProfile("sierra", frozenset({"LookupUser", "RequestItem"}), removal=Removal.NONE),
    # Polaris: LookupUser, CheckOutItem (Circ_Ncip_CheckOutItem) and a delete-hold; it
    # ignores the requested due date. ReShare speaks NCIP 1 to it: enable its 2.0 responder.
    "polaris": IlsProfile(
        "polaris",
        frozenset({"LookupUser", "CheckOutItem", "CancelRequestItem"}),
        removal=Removal.NONE,
        recall_service=None,
    ),
    # Symphony: a licensed SirsiDynix NCIP service or the XC toolkit connector; no source
    # says which services. Configure ``services`` from your own responder's list.
    "symphony": IlsProfile("symphony", _CORE_SERVICES, recall_service=None),
}
"""The built-in profiles, by name."""


@final
@attrs.frozen
class NcipConfig:
    """One ILS reached over NCIP: where, as whom, with which credentials and profile."""

    endpoint: str
    """The URL every message is POSTed to (Alma: ``https://<host>/view/NCIPServlet``;
    FOLIO edge-ncip: ``https://<edge>/ncip/<apikey>``; Koha: ``.../ncip/<token>``)."""
    from_agency: str
    """Our FromAgencyId (mod-ncip keys its settings by it: ``ReShare``, ``Relais``...)."""
    to_agency: str
    """The ILS's ToAgencyId (Alma: the institution code or ISIL; Polaris: the branch)."""
    profile: IlsProfile = PROFILES["generic"]
    """What the ILS supports."""
    from_agency_authentication: str | None = None
    """A FromAgencyAuthentication secret in every header."""
    application_profile: str | None = None
    """ApplicationProfileType (Alma: our resource-sharing partner code there)."""
    api_key_header: str | None = None
    """The name of an HTTP header carrying ``api_key`` (e.g. ``apikey`` for edge-ncip)."""
    api_key: str | None = None
    """Its value."""
    username: str | None = None
    """HTTP basic auth user."""
    password: str | None = None
    """HTTP basic auth password."""
    timeout: float = 10.0
    """Seconds to wait for the ILS (connect, read and write each)."""
    institutional_patron: str = "INST-{agency}"
    """The borrowing institution's patron id in our ILS, from its agency (``{agency}`` is
    the value, ``{type}`` the agency id type); crosslink's default pattern."""
    institutional_patrons: Mapping[str, str] = attrs.field(factory=dict)
    """Explicit patron ids per borrowing agency (``ISIL:DK-820010`` or the bare value)."""
    pickup_locations: Mapping[str, str] = attrs.field(factory=dict)
    """Our pickup location names to the ILS's codes (FOLIO: service point codes)."""
    max_response_bytes: int = 1024 * 1024
    """The largest answer read from the ILS."""

    @property
    def name(self) -> str:
        """How errors name the ILS: ``ILS <to agency> (<profile>)``."""
        return f"ILS {self.to_agency} ({self.profile.name})"

    def patron_account(self, borrower: AgencyId) -> str:
        """The ILS patron id of a borrowing institution (lending: CheckOutItem's UserId)."""
        explicit = self.institutional_patrons.get(str(borrower)) or self.institutional_patrons.get(
            borrower.value
        )
        if explicit:
            return explicit
        return self.institutional_patron.format(agency=borrower.value, type=borrower.type)

    def pickup_code(self, location: str | None) -> str | None:
        """The ILS's code for our pickup location (unchanged when none is configured)."""
        if location is None:
            return None
        return self.pickup_locations.get(location, location)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> NcipConfig:
        """Read the ``[circulation]`` table of a node's TOML (see docs/integration.md).

        ``profile`` names a built-in profile; ``services``, ``requested_action``,
        ``accept_checks_out``, ``removal``, ``recall_service``, ``content_type`` and
        ``send_key`` override its values. A secret (``from_agency_authentication``,
        ``api_key``, ``password``) may instead name an environment variable in the same key
        with ``_env``. Unknown keys are refused, so a typo is not silently ignored.
        """
        data = {key: value for key, value in table.items() if key != "factory"}
        for secret in _SECRETS:
            variable = data.pop(f"{secret}_env", None)
            if variable is None:
                continue
            value = os.environ.get(str(variable))
            if not value:
                raise InvalidInput(
                    f"circulation.{secret}_env", f"the environment variable {variable} is not set"
                )
            data[secret] = value
        profile_name = str(data.pop("profile", "generic"))
        if profile_name not in PROFILES:
            raise InvalidInput("circulation.profile", f"unknown profile {profile_name!r}")
        profile = PROFILES[profile_name]
        overrides: dict[str, Any] = {}
        for field in attrs.fields(IlsProfile):
            if field.name in data and field.name not in {"name", "already_done"}:
                overrides[field.name] = data.pop(field.name)
        if "services" in overrides:
            overrides["services"] = frozenset(str(s) for s in overrides["services"])
        if "removal" in overrides:
            try:
                overrides["removal"] = Removal(overrides["removal"])
            except ValueError:
                raise InvalidInput(
                    "circulation.removal", f"one of {', '.join(r.value for r in Removal)}"
                ) from None
        if "retryable_problems" in overrides:
            overrides["retryable_problems"] = frozenset(
                str(p).casefold() for p in overrides["retryable_problems"]
            )
        known = {field.name for field in attrs.fields(cls)} - {"profile"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput("circulation", f"unknown keys {', '.join(unknown)}")
        for needed in ("endpoint", "from_agency", "to_agency"):
            if not isinstance(data.get(needed), str) or not data[needed]:
                raise InvalidInput(f"circulation.{needed}", "required (a non-empty string)")
        try:
            return cls(profile=attrs.evolve(profile, **overrides), **data)
        except TypeError as exc:
            raise InvalidInput("circulation", str(exc)) from None
