"""Issue 14.3-14.5 at a node: configuration, and (below) loopback HTTP with a scripted peer."""

from __future__ import annotations

from typing import Any

from resource_sharing.records import AgencyId
from resource_sharing_adapters.http import parse_config


def _config(**terms: Any) -> dict[str, Any]:
    return {
        "institution": {"agency": "ISIL:US-A"},
        "store": {"memory": True},
        "partners": [
            {
                "agency": "ISIL:US-B",
                "inbound": {"authorization": "Bearer b"},
                "terms": terms,
            }
        ],
    }


def test_renewing_an_overdue_loan_is_configured_per_partner() -> None:
    default = parse_config(_config()).directory.get(AgencyId.parse("ISIL:US-B"))
    assert default is not None
    assert default.terms.renew_overdue
    strict = parse_config(_config(renew_overdue=False)).directory.get(AgencyId.parse("ISIL:US-B"))
    assert strict is not None
    assert not strict.terms.renew_overdue
