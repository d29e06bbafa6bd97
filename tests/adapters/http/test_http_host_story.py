"""The seed story across three nodes run from ``examples/host/``, each with its host systems.

A, B and C are the example configurations (NCIP circulation and patron checks, SRU
holdings, SMTP notices, a print folder, the NCIP inbound route), their loopback
addresses moved to the test's servers: per institution an ILS that validates every NCIP
message against the XSD, an SRU catalogue and a mail server with STARTTLS and AUTH.

A patron of A asks for a book without naming lenders. A asks the partners' catalogues:
D's has no record (dropped), B's has one with every copy out, C's an available copy. B
answers Unfilled (its own catalogue says no copy is available), C supplies. After the
story the test reads the three ILSs (the patron looked up, the temporary item created
with its hold and then deleted, the loans checked out and in), A's mail (headers, text
and HTML of each notice) and the PDFs printed at A and C.
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from resource_sharing.records import BorrowingRequest, Side
from resource_sharing_adapters.http import StaffClient, StaffError, parse_config
from resource_sharing_adapters.ncip import Header, RequestItem, decode, encode, validate
from tests.adapters.host_systems import EXAMPLES, HostCluster, HostSystems, example_ports, localise
from tests.adapters.ncip.corpus_ncip import require_ncip
from tests.adapters.ncip.loopback_ils import Item, User
from tests.adapters.nodes_http import BOOK, PATRON, free_port
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue

DAY = 86_400.0
ISBN = "9780201896831"
TITLE = str(BOOK["title"])
NAMES = {"A": "alpha", "B": "beta", "C": "gamma"}
SECRETS = {
    letter: {
        f"{letter}_STAFF_TOKEN": f"{name}-staff-token",
        f"{letter}_NCIP_SECRET": f"{name}-ncip-secret",
        f"{letter}_ILS_INBOUND_KEY": f"{name}-ils-inbound-key",
        f"{letter}_SMTP_PASSWORD": "secret",  # mail_server.PASSWORD
    }
    for letter, name in NAMES.items()
}


def _catalogues() -> dict[str, SruCatalogue]:
    out = Copy("B-77", "Beta College", "Stacks", "QA76 .K6 v.1", available=False)
    shelf = Copy("C-39001", "Gamma Main", "Stacks level 2", "QA76 .K6")
    return {
        "A": SruCatalogue([]),
        "B": SruCatalogue([Book("b-1", TITLE, isbns=(ISBN,), copies=(out,))]),
        "C": SruCatalogue(
            [Book("c-1", TITLE, isbns=("0-201-89683-4",), copies=(shelf,), layout="952")]
        ),
        "D": SruCatalogue([Book("d-1", "Another book", isbns=("9780262033848",))]),
    }


@pytest.fixture
def story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[HostCluster, dict[str, HostSystems], SruCatalogue]]:
    xsd = require_ncip() / "ncip_v2_02.xsd"
    for values in SECRETS.values():
        for key, value in values.items():
            monkeypatch.setenv(key, value)
    catalogues = _catalogues()
    systems: dict[str, HostSystems] = {}
    made = HostCluster(tmp_path)
    try:
        for letter, name in NAMES.items():
            systems[letter] = HostSystems.start(
                xsd,
                tmp_path / f"{name}-mail",
                agency=f"{name.upper()}-ILS",
                secret=SECRETS[letter][f"{letter}_NCIP_SECRET"],
                sru=catalogues[letter],
            )
        delta = catalogues["D"].start()
        a_ils, b_ils, c_ils = (systems[x].ils.state for x in "ABC")
        a_ils.users["p-1"] = User("p-1", "Ada Lovelace", "ada@example.org", "faculty")
        a_ils.users["p-8"] = User("p-8", "Barred Reader", blocked=True)
        for state in (b_ils, c_ils):
            state.users["INST-US-A"] = User("INST-US-A", "Alpha University Library", group="ILL")
        c_ils.items["C-39001"] = Item("C-39001", TITLE)
        nodes = {letter: free_port() for letter in "ABC"}
        ports = example_ports(systems, nodes)
        ports[8734] = int(delta.url.rsplit(":", 1)[1].split("/")[0])
        for letter, name in NAMES.items():
            made.use(f"US-{letter}", localise(name, ports), systems[letter])
        for letter in NAMES:
            made.start(f"US-{letter}")
            # the example's own token, from its environment variable
            made.staff[f"US-{letter}"].close()
            made.staff[f"US-{letter}"] = StaffClient(
                f"http://127.0.0.1:{nodes[letter]}", SECRETS[letter][f"{letter}_STAFF_TOKEN"]
            )
        yield made, systems, delta
    finally:
        made.close()
        for running in systems.values():
            running.stop()
        catalogues["D"].stop()


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def _printed(made: HostCluster, letter: str) -> dict[str, str]:
    """The text of each PDF in the institution's print folder, by document heading."""
    folder = made.folder(f"US-{letter}") / "var" / "print-out" / NAMES[letter]
    texts = [_pdf_text(pdf) for pdf in sorted(folder.glob("*.pdf"))]
    return {text.strip().splitlines()[0]: text for text in texts}


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def test_the_seed_story_with_each_institutions_ils_catalogue_and_mail(
    story: tuple[HostCluster, dict[str, HostSystems], SruCatalogue],
) -> None:
    made, systems, delta = story
    a, c = made.staff["US-A"], made.staff["US-C"]
    advance = made.advance

    # 0. A patron the ILS blocks is refused at intake, the reason shown to staff.
    with pytest.raises(StaffError) as refused:
        a.place({"patron": {"id": "p-8"}, "citation": BOOK})
    assert (refused.value.status, refused.value.kind) == (400, "PatronNotEligible")
    assert "blocked in the ILS: Fines" in str(refused.value)
    assert delta.requests == []  # refused before any catalogue was asked

    # 1. The patron asks at A; A's catalogues look-up builds the rota: B, C (D dropped).
    placed = a.place({"patron": PATRON, "citation": BOOK, "pickup_location": "Main"})
    rid = placed["id"]
    record = made.node("US-A").institution.get(Side.BORROWING, rid)
    assert isinstance(record, BorrowingRequest)
    assert [e.agency.value for e in record.rota] == ["US-B", "US-C"]
    # asked once (the identifiers, then the title words), answered "not held"
    assert [r["query"].split("=")[0].split()[0] for r in delta.requests] == [
        "bath.isbn",
        "dc.title",
    ]
    b_id = made.lending_id("US-B", "US-A", placed["protocol_ids"][0])
    made.wait_state("US-B", "lending", b_id, "unfilled")
    made.wait_state("US-A", "borrowing", rid, "will_supply")
    shown = a.request("borrowing", rid)
    c_id = made.lending_id("US-C", "US-A", shown["protocol_ids"][1])
    slip = made.wait_state("US-C", "lending", c_id, "pick_from_shelf")
    assert slip["record"]["item"]["barcode"] == "C-39001"  # found over SRU (MARC 952)
    assert slip["record"]["item"]["desk"] == "Main desk"

    # 2. C picks and ships: pick slip, label, and the loan to A's account in C's ILS.
    c.act("lending", c_id, "pick")
    c.act("lending", c_id, "ship")
    made.wait_state("US-A", "borrowing", rid, "shipped")
    made.settled()
    c_ils = systems["C"].ils.state
    assert c_ils.loans["C-39001"].user == "INST-US-A"

    # 3. A receives it (temporary item and hold in A's ILS), the patron collects it.
    advance(3 * DAY)
    a.act("borrowing", rid, "receive", {"barcode": "A-TEMP-1"})
    made.settled()
    a_ils = systems["A"].ils.state
    temporary = a_ils.items["A-TEMP-1"]
    assert (temporary.temporary, temporary.title, temporary.pickup) == (True, TITLE, "MAIN")
    assert [(h.barcode, h.user, h.pickup) for h in a_ils.holds] == [("A-TEMP-1", "p-1", "MAIN")]
    a.act("borrowing", rid, "check-out")
    made.settled()
    assert a_ils.loans["A-TEMP-1"].user == "p-1"
    assert a_ils.holds == []

    # 4. Renewed by C's policy; then C's ILS posts a local hold: the loan is recalled.
    advance(27 * DAY)
    first_due = a_ils.loans["A-TEMP-1"].due
    a.act("borrowing", rid, "renew")
    made.wait_state("US-A", "borrowing", rid, "on_loan")
    made.settled()
    renewed_due = a_ils.loans["A-TEMP-1"].due
    assert renewed_due > first_due
    advance(4 * DAY)
    hold = encode(
        RequestItem("c-patron-9", "C-39001", request_id="H-1"), Header("GAMMA-ILS", "US-C")
    )
    headers = {"Content-Type": "application/xml", "X-Api-Key": SECRETS["C"]["C_ILS_INBOUND_KEY"]}
    answer = httpx.post(
        f"http://127.0.0.1:{made.ports['US-C']}/ncip", content=hold, headers=headers
    )
    assert answer.status_code == 200
    assert validate(answer.content).valid
    assert decode(answer.content).problems == ()
    made.wait_state("US-A", "borrowing", rid, "recalled")
    made.settled()
    assert a_ils.loans["A-TEMP-1"].due < renewed_due  # the recall shortened the loan

    # 5. Returned at A's branch, shipped back, checked in at C: the request completes.
    advance(2 * DAY)
    a.return_item("A-TEMP-1", "Branch")
    a.act("borrowing", rid, "ship-return")
    made.wait_state("US-C", "lending", c_id, "returned_by_partner")
    advance(3 * DAY)
    checked = c.check_in("C-39001")
    assert checked["state"] == "completed"
    assert checked["instruction"] == "Send to home location: Main Library"
    made.wait_state("US-A", "borrowing", rid, "completed")
    made.settled()

    # The ILSs after the story: every message was valid NCIP 2.02.
    for letter in "ABC":
        assert systems[letter].ils.state.invalid == [], letter
    services = [service for service, _ in a_ils.received]
    assert services[0] == "LookupUser"  # the patron validated at intake
    for service in ("AcceptItem", "CheckOutItem", "RenewItem", "RecallItem", "CheckInItem"):
        assert service in services
    assert services[-1] == "DeleteItem"
    assert a_ils.deleted == ["A-TEMP-1"]
    assert "A-TEMP-1" not in a_ils.items  # created, then deleted
    assert a_ils.loans == {}  # checked out, then in
    assert [s for s, _ in c_ils.received] == ["CheckOutItem", "CheckInItem"]
    assert c_ils.loans == {}
    assert "C-39001" in c_ils.items  # its own item stays
    assert systems["B"].ils.state.loans == {}

    # A's notices by e-mail: headers, text and HTML.
    mails = [m.message for m in systems["A"].mail.messages]
    kinds = [m["X-ILL-Notice"] for m in mails]
    for kind in ("item_available", "renewed", "recalled"):
        assert kind in kinds, kinds
    for message in mails:
        assert message["To"] == "Ada Lovelace <ada@example.org>"
        assert message["From"] == "Alpha University Library <ill@alpha.example>"
        assert message["X-ILL-Request"] == rid
        assert message["Message-ID"].endswith("@alpha.example>")
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Content-Language"] == "en"
    available = mails[kinds.index("item_available")]
    text, html = _parts(available)
    assert TITLE in text
    assert "Main" in text
    assert "Ada" in text
    assert html.lstrip().startswith("<")
    assert TITLE in html
    assert "ada@example.org" not in text  # the address is in the envelope, not the notice
    recall_text, _ = _parts(mails[kinds.index("recalled")])
    assert TITLE in recall_text

    # The PDFs printed at C (pick slip, label) and at A (hold-shelf and return slips).
    at_c = _printed(made, "C")
    assert {"Pick slip", "Interlibrary loan"} <= set(at_c), list(at_c)
    assert "QA76 .K6" in at_c["Pick slip"]
    assert "Stacks level 2" in at_c["Pick slip"]
    label = at_c["Interlibrary loan"]
    assert "Alpha University Library" in label
    assert "1 College Green" in label
    assert rid in label  # A's request id, for A's receiving staff
    at_a = _printed(made, "A")
    assert {"Hold shelf", "Interlibrary loan return"} <= set(at_a), list(at_a)
    assert "Ada L." in at_a["Hold shelf"]
    assert "Lovelace" not in at_a["Hold shelf"]  # the public shelf shows an initial
    returned = at_a["Interlibrary loan return"]
    assert "Gamma Public Library" in returned
    assert "3 Gamma Street" in returned
    assert c_id in returned


def test_the_example_configurations_read_and_check(monkeypatch: pytest.MonkeyPatch) -> None:
    for values in SECRETS.values():
        for key, value in values.items():
            monkeypatch.setenv(key, value)
    for name in NAMES.values():
        table = tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))
        config = parse_config(table, base=EXAMPLES)
        assert set(config.ports) == {
            "circulation",
            "patron_validator",
            "holdings",
            "notifier",
            "printer",
        }
        assert config.ncip_inbound is not None
    alpha = parse_config(
        tomllib.loads((EXAMPLES / "alpha.toml").read_text(encoding="utf-8")), base=EXAMPLES
    )
    assert sorted(a.value for a in alpha.partner_sru) == ["US-B", "US-C", "US-D"]
