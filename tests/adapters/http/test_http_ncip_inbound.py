"""``[ncip_inbound]``: the ILS posts a local hold on a lent item to the node over HTTP.

Two real nodes on loopback (``nodes_http.Cluster``); the ILS's POST is made with httpx,
as an ILS (or a script beside it) would send it; every answer validates against the XSD.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing_adapters.http import parse_config
from resource_sharing_adapters.ncip import Header, RequestItem, decode, encode, validate
from tests.adapters.nodes_http import BOOK, HOLDING, PATRON, cluster

KEY = "ils-inbound-key-0123456789"
_ILS = Header("ILS-C", "US-C")


def _hold(barcode: str) -> bytes:
    return encode(RequestItem("c-patron-7", barcode, request_id="H-1"), _ILS)


def test_a_hold_from_the_ils_recalls_the_loan_through_the_node(tmp_path: Path) -> None:
    with cluster(tmp_path) as made:
        made.define("US-A", ["US-C"])
        made.define("US-C", ["US-A"], holdings=[HOLDING])
        made.tables["US-C"]["ncip_inbound"] = {"path": "/ncip", "api_key": KEY}
        made.start("US-A")
        made.start("US-C")
        a, c = made.staff["US-A"], made.staff["US-C"]
        placed = a.place(
            {"patron": PATRON, "citation": BOOK, "pickup_location": "Main", "rota": ["ISIL:US-C"]}
        )
        rid = placed["id"]
        c_id = made.lending_id("US-C", "US-A", placed["protocol_ids"][0])
        made.settled()
        c.act("lending", c_id, "pick")
        c.act("lending", c_id, "ship")
        made.wait_state("US-A", "borrowing", rid, "shipped")
        a.act("borrowing", rid, "receive", {"barcode": "A-TEMP-9"})
        a.act("borrowing", rid, "check-out")
        made.settled()

        url = f"http://127.0.0.1:{made.ports['US-C']}/ncip"
        headers = {"Content-Type": "application/xml"}
        with httpx.Client(timeout=10) as ils:
            refused = ils.post(url, content=_hold(HOLDING["barcode"]), headers=headers)
            assert refused.status_code == 403
            assert made.state("US-C", "lending", c_id) == "received_by_partner"
            wrong = {**headers, "X-Api-Key": "not-the-key-at-all"}
            assert ils.post(url, content=_hold("C-39001"), headers=wrong).status_code == 403

            keyed = {**headers, "X-Api-Key": KEY}
            unknown = ils.post(url, content=_hold("NO-SUCH-ITEM"), headers=keyed)
            assert unknown.status_code == 200
            assert validate(unknown.content).valid
            answer = decode(unknown.content)
            assert [p.type for p in answer.problems] == ["Unknown Item"]

            held = ils.post(url, content=_hold(HOLDING["barcode"]), headers=keyed)
            assert held.status_code == 200
            assert validate(held.content).valid
            answer = decode(held.content)
            assert (answer.service, answer.problems) == ("RequestItemResponse", ())
            assert answer.header is not None
            assert (answer.header.from_agency, answer.header.to_agency) == ("US-C", "ILS-C")

        made.wait_state("US-C", "lending", c_id, "recalled")
        made.wait_state("US-A", "borrowing", rid, "recalled")
        history = c.request("lending", c_id)["history"]
        assert any(h["actor"] == "staff:ils" for h in history), history


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"path": "/ncip"}, "api_key: required, at least 16 characters"),
        ({"path": "/ncip", "api_key": "short"}, "at least 16 characters"),
        ({"path": "/iso18626", "api_key": KEY}, "ncip_inbound.path: must start with '/'"),
        ({"path": "/staff/ncip", "api_key": KEY}, "is taken by the node"),
        ({"path": "/ncip", "api_key": KEY, "secret": 1}, "unknown key(s): secret"),
    ],
)
def test_an_inbound_route_without_a_proper_key_or_path_is_refused(
    table: dict[str, object], message: str
) -> None:
    data = {"institution": {"agency": "ISIL:US-C"}, "ncip_inbound": table}
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(data)
