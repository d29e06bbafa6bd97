"""A node configuration naming the SRU, e-mail and print factories builds working ports."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from resource_sharing.effects import NoticeKind, NotifyPatron, PrintShippingLabel
from resource_sharing.errors import InvalidInput
from resource_sharing.ports import PatronValidator
from resource_sharing.records import AgencyId, Citation, Identifier, PatronRef
from resource_sharing.testing.fakes import FixedClock
from resource_sharing.testing.port_contracts import PatronValidatorContract
from resource_sharing_adapters.email import EmailNotifier
from resource_sharing_adapters.http import AcceptingValidator, Journal, build_ports, parse_config
from resource_sharing_adapters.printing import FolderPrinter
from resource_sharing_adapters.sru import SruHoldingsLocator
from resource_sharing_adapters.storage import MemoryFeeds
from tests.adapters.documents_jobs import CITATION, pdf_text
from tests.adapters.mail_server import PASSWORD, USER, MailServer
from tests.adapters.sru_catalogue import Book, Copy, SruCatalogue


def test_the_node_builds_the_host_ports_from_their_entry_point_names(tmp_path: Path) -> None:
    (tmp_path / "print-out").mkdir()
    book = Book(
        "r-1", "Held", isbns=("9780306406157",), copies=(Copy("BC-9", "Main", "Stacks", "Q1"),)
    )
    with SruCatalogue([book]) as catalogue, MailServer(tmp_path) as mail:
        text = f"""
        [institution]
        agency = "ISIL:US-A"
        name = "Borrower A Library"

        [[partners]]
        agency = "ISIL:US-B"
        name = "Lender B"
        address = "ILL office\\n1 Main Street\\nSpringfield"

        [ports.holdings]
        factory = "sru"
        url = "{catalogue.url}"
        default_desk = "circ"

        [ports.notifier]
        factory = "smtp"
        sender = "ill@library.example"
        [ports.notifier.smtp]
        host = "127.0.0.1"
        port = {mail.port}
        username = "{USER}"
        password = "{PASSWORD}"
        ca_file = "{mail.cert_file}"

        [ports.printer]
        factory = "print"
        folder = "print-out"
        address = "2 Elm Street"
        """
        config = parse_config(tomllib.loads(text), base=tmp_path)
        clock = FixedClock(datetime(2026, 9, 7, 9, tzinfo=UTC))
        ports = build_ports(config, Journal(MemoryFeeds()), clock)
        holdings, notifier, printer = ports["holdings"], ports["notifier"], ports["printer"]
        assert isinstance(holdings, SruHoldingsLocator)
        assert isinstance(notifier, EmailNotifier)
        assert isinstance(printer, FolderPrinter)

        found = holdings.locate(Citation(item_ids=(Identifier("ISBN", "0-306-40615-2"),)))
        assert found is not None
        assert (found.item.barcode, found.item.desk) == ("BC-9", "circ")

        patron = PatronRef("p-1", "Ada Lovelace", email="ada@patrons.example")
        notifier.notify_patron(NotifyPatron(patron, NoticeKind.ITEM_AVAILABLE, "B-1"), key="k-1")
        (received,) = mail.messages
        assert received.message["From"] == "Borrower A Library <ill@library.example>"

        label = PrintShippingLabel("L-1", "BC-9", CITATION, AgencyId("US-B"), "B-7")
        printer.print_document(label, key="k-2")
        printed = pdf_text((tmp_path / "print-out" / "k-2.pdf").read_bytes())
        assert "Springfield" in printed
        assert "2 Elm Street" in printed


def test_a_bad_adapter_setting_stops_the_node_naming_the_table_and_key(tmp_path: Path) -> None:
    text = """
    [institution]
    agency = "ISIL:US-A"
    [ports.notifier]
    factory = "smtp"
    sender = "ill@library.example"
    [ports.notifier.smtp]
    port = 0
    """
    config = parse_config(tomllib.loads(text), base=tmp_path)
    clock = FixedClock(datetime(2026, 9, 7, 9, tzinfo=UTC))
    with pytest.raises(InvalidInput) as raised:
        build_ports(config, Journal(MemoryFeeds()), clock)
    assert str(raised.value).startswith("ports.notifier: smtp.port: expected a TCP port")


class TestAcceptingValidatorContract(PatronValidatorContract):
    """The node's default patron check (no host system): everyone may ask."""

    refuses = False

    def make_validator(self) -> PatronValidator:
        return AcceptingValidator()
