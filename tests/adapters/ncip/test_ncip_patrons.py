"""NcipPatronValidator: LookupUser against the loopback ILS, and the quirks of real answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resource_sharing.records import PatronRef
from resource_sharing_adapters.ncip import (
    IlsProfile,
    NcipClient,
    NcipPatronValidator,
    NcipProblem,
    NcipUnsupported,
    decode,
)
from resource_sharing_adapters.ncip._patrons import standing
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import LoopbackIls, User, config_for

_NOW = datetime(2026, 9, 7, 9, tzinfo=UTC)


def _validator(
    ils: LoopbackIls, profile: str | IlsProfile = "generic", **overrides: object
) -> NcipPatronValidator:
    return NcipPatronValidator(
        NcipClient(config_for(ils, profile, **overrides)), clock=lambda: _NOW
    )


def test_a_patron_in_good_standing_is_eligible_as_the_ils_knows_them(ils: LoopbackIls) -> None:
    result = _validator(ils).validate(PatronRef("p-1"))
    assert result.eligible
    assert result.reason is None
    assert result.patron == PatronRef("p-1", "Ada Lovelace", "faculty", "ada@example.org")
    assert ils.state.received == [("LookupUser", None)]
    assert ils.state.invalid == []


def test_blocked_expired_and_unknown_patrons_are_refused_with_the_reason(ils: LoopbackIls) -> None:
    ils.state.users["p-2"] = User("p-2", "Bob", blocked=True)
    ils.state.users["p-3"] = User("p-3", "Cy", expires=datetime(2026, 1, 31, tzinfo=UTC))
    validator = _validator(ils)
    blocked = validator.validate(PatronRef("p-2"))
    assert (blocked.eligible, blocked.reason) == (False, "blocked in the ILS: Fines")
    expired = validator.validate(PatronRef("p-3"))
    assert (expired.eligible, expired.reason) == (False, "expired in the ILS on 2026-01-31")
    assert expired.patron is not None
    assert expired.patron.name == "Cy"
    unknown = validator.validate(PatronRef("p-9", "Given Name"))
    assert not unknown.eligible
    assert unknown.reason == "unknown to the ILS (Unknown User: no such user (UserId = p-9))"
    assert unknown.patron is None


def test_when_the_ils_refuses_us_the_patron_is_not_judged(ils: LoopbackIls) -> None:
    ils.authentication = "s3cret"
    with pytest.raises(NcipProblem, match="Agency Authentication Failed") as caught:
        _validator(ils).validate(PatronRef("p-1"))
    assert not caught.value.retryable
    ils.authentication = None
    ils.faults.append("temporary")
    with pytest.raises(NcipProblem) as temporary:
        _validator(ils).validate(PatronRef("p-1"))
    assert temporary.value.retryable


def test_an_ils_without_lookup_user_is_unsupported(ils: LoopbackIls) -> None:
    with pytest.raises(NcipUnsupported, match="check patron p-1 in the ILS"):
        _validator(ils, profile=IlsProfile("none", frozenset())).validate(PatronRef("p-1"))


def test_reshare_answer_with_placeholders_and_padded_values() -> None:
    data = (require_ncip() / "samples" / "reshare_LookupUserResponse.xml").read_bytes()
    result = standing(PatronRef("reshare"), decode(data), _NOW)
    assert result.eligible
    assert result.patron == PatronRef("reshare", "Reshare Testing Purposes", "126", None)


def test_xc_answer_and_a_mod_rs_style_blocked_status() -> None:
    data = (require_ncip() / "samples" / "xc_LookupUserResponse.xml").read_bytes()
    assert standing(PatronRef("x"), decode(data), _NOW).patron is not None
    blocked = decode(
        b'<NCIPMessage version="v2"><LookupUserResponse><UserId><UserIdentifierValue>u'
        b"</UserIdentifierValue></UserId><UserOptionalFields><NameInformation>"
        b"<PersonalNameInformation><StructuredPersonalUserName><GivenName>Ada</GivenName>"
        b"<Surname>King</Surname></StructuredPersonalUserName></PersonalNameInformation>"
        b"</NameInformation><UserPrivilege><AgencyId/><AgencyUserPrivilegeType>STATUS"
        b"</AgencyUserPrivilegeType><UserPrivilegeStatus><UserPrivilegeStatusType>BLOCKED"
        b"</UserPrivilegeStatusType></UserPrivilegeStatus></UserPrivilege>"
        b"</UserOptionalFields></LookupUserResponse></NCIPMessage>"
    )
    result = standing(PatronRef("u"), blocked, _NOW)
    assert (result.eligible, result.reason) == (False, "blocked in the ILS: status BLOCKED")
    assert result.patron is not None
    assert result.patron.name == "Ada King"
