"""A node's [ports] tables name the NCIP factories, and the node gets a working port."""

from __future__ import annotations

from pathlib import Path

from resource_sharing.records import AgencyId, PatronRef
from resource_sharing_adapters.http import Node, parse_config
from resource_sharing_adapters.ncip import NcipCirculation, NcipPatronValidator
from tests.adapters.ncip.loopback_ils import LoopbackIls


def test_a_node_takes_its_circulation_and_patron_checks_from_ncip(
    tmp_path: Path, ils: LoopbackIls
) -> None:
    ils.authentication = "s3cret"
    data = {
        "institution": {"agency": "ISIL:US-A", "name": "Alpha"},
        "store": {"memory": True},
        "ports": {
            "circulation": {
                "factory": "resource_sharing_adapters.ncip:from_config",
                "profile": "folio",
                "endpoint": ils.url,
                "to_agency": ils.agency,
                "from_agency_authentication": "s3cret",
            },
            "patron_validator": {
                "factory": "ncip_lookup_user",  # the entry point
                "profile": "koha",
                "endpoint": ils.url,
                "to_agency": ils.agency,
                "from_agency_authentication": "s3cret",
            },
        },
    }
    node = Node(parse_config(data, base=tmp_path))
    try:
        circulation = node.ports["circulation"]
        assert isinstance(circulation, NcipCirculation)
        assert circulation.client.config.profile.name == "folio"
        validator = node.ports["patron_validator"]
        assert isinstance(validator, NcipPatronValidator)
        assert validator.client.config.from_agency == AgencyId("US-A").value
        standing = validator.validate(PatronRef("p-1"))
        assert standing.eligible
        assert standing.patron == PatronRef("p-1", "Ada Lovelace", "faculty", "ada@example.org")
        assert not validator.validate(PatronRef("nobody")).eligible
        assert ils.state.received == [("LookupUser", None), ("LookupUser", None)]
    finally:
        node.close()
