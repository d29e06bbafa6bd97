"""The [ports.circulation] / [ports.patron_validator] tables and the ILS profiles."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import attrs
import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId
from resource_sharing_adapters.ncip import (
    PROFILES,
    NcipCirculation,
    NcipConfig,
    NcipPatronValidator,
    Removal,
    from_config,
    patron_validator_from_config,
)

_KOHA = """
[ports.circulation]
factory = "resource_sharing_adapters.ncip:from_config"
profile = "koha"
endpoint = "https://koha.example.org/api/v1/contrib/ncip_server/ncip/TOKEN"
from_agency = "ILL"
to_agency = "KOHA"
removal = "check_in"
institutional_patron = "ILL-{agency}"
pickup_locations = { "Main desk" = "CPL" }
timeout = 5.0
"""


@attrs.frozen
class _Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@attrs.frozen
class _Context:
    agency: AgencyId
    clock: _Clock


def test_a_toml_table_makes_the_adapter_with_the_profile_and_its_overrides() -> None:
    table = tomllib.loads(_KOHA)["ports"]["circulation"]
    adapter = from_config(table)
    assert isinstance(adapter, NcipCirculation)
    config = adapter.client.config
    assert config.profile.name == "koha"
    assert config.profile.removal is Removal.CHECK_IN
    assert config.profile.content_type == "text/xml"
    assert config.patron_account(AgencyId("US-A")) == "ILL-US-A"
    assert config.pickup_code("Main desk") == "CPL"
    assert config.pickup_code("Elsewhere") == "Elsewhere"
    assert config.name == "ILS KOHA (koha)"
    adapter.close()


def test_the_node_context_gives_the_agency_and_the_clock() -> None:
    context = _Context(AgencyId("US-A"), _Clock(datetime(2026, 1, 1, tzinfo=UTC)))
    table = {"profile": "folio", "endpoint": "http://127.0.0.1:9/ncip", "to_agency": "FOLIO"}
    validator = patron_validator_from_config(table, context)
    assert isinstance(validator, NcipPatronValidator)
    assert validator.client.config.from_agency == "US-A"
    assert not validator.client.config.profile.supports("RenewItem")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"profile": "aleph"}, "circulation.profile"),
        ({"endpoint": ""}, "circulation.endpoint"),
        ({"removal": "shred"}, "circulation.removal"),
        ({"tiemout": 3}, "circulation"),
    ],
)
def test_a_wrong_table_is_refused_with_the_key(change: dict[str, object], field: str) -> None:
    table: dict[str, object] = {"endpoint": "http://x/ncip", "from_agency": "A", "to_agency": "B"}
    table.update(change)
    with pytest.raises(InvalidInput) as caught:
        NcipConfig.from_table(table)
    assert caught.value.field == field


def test_services_can_be_declared_for_an_ils_no_profile_knows() -> None:
    config = NcipConfig.from_table(
        {
            "profile": "symphony",
            "endpoint": "http://x/ncip",
            "from_agency": "A",
            "to_agency": "B",
            "services": ["LookupUser", "CheckInItem"],
            "retryable_problems": ["Temporary Processing Failure", "System Busy"],
        }
    )
    assert config.profile.services == frozenset({"LookupUser", "CheckInItem"})
    assert "system busy" in config.profile.retryable_problems


def test_every_profile_follows_the_report() -> None:
    assert not PROFILES["folio"].supports("RenewItem")
    assert PROFILES["koha"].supports("RenewItem")
    assert PROFILES["alma"].removal is Removal.NONE
    assert not PROFILES["alma"].supports("DeleteItem")
    assert PROFILES["sierra"].services == frozenset({"LookupUser", "RequestItem"})
    assert all(p.requested_action == "Hold For Pickup" for p in PROFILES.values())


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NCIP_TEST_KEY", "k-123")
    table = {
        "endpoint": "http://x/ncip",
        "from_agency": "A",
        "to_agency": "B",
        "api_key_header": "apikey",
        "api_key_env": "NCIP_TEST_KEY",
    }
    assert NcipConfig.from_table(table).api_key == "k-123"
    monkeypatch.delenv("NCIP_TEST_KEY")
    with pytest.raises(InvalidInput, match="NCIP_TEST_KEY is not set"):
        NcipConfig.from_table(table)
