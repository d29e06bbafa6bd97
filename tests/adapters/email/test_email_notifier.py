"""The e-mail notifier against aiosmtpd on loopback: STARTTLS, AUTH, refusals, outages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from resource_sharing.effects import NoticeKind, NotifyPatron, NotifyStaff
from resource_sharing.errors import DeliveryError
from resource_sharing.records import PatronRef
from resource_sharing_adapters.email import (
    EmailNotifier,
    NoticeDetails,
    SmtpSettings,
    Templates,
    message_id,
)
from tests.adapters.mail_server import PASSWORD, USER, MailServer, free_port

ADA = PatronRef("p-1815", "Ada Lovelace", email="ada@patrons.example")
DUE = datetime(2026, 10, 7, 12, tzinfo=UTC)
LANGUAGES = {"p-1815": "en-GB", "p-2": "de-DE"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MailServer]:
    with MailServer(tmp_path) as running:
        yield running


def _notifier(server: MailServer, **settings: Any) -> EmailNotifier:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=server.port,
        username=USER,
        password=PASSWORD,
        ca_file=str(server.cert_file),
        timeout_seconds=5,
    )
    smtp = attrs.evolve(smtp, **settings)
    return EmailNotifier(
        smtp,
        sender="ill@library.example",
        institution="Example University Library",
        staff_addresses={"*": ["ill@library.example"], "special": ["special@library.example"]},
        patron_language=lambda patron: LANGUAGES.get(patron.id),
        details=lambda notice: NoticeDetails(
            "Sketch of the Analytical Engine",
            "Main Library, desk 2",
            datetime(2026, 9, 21, tzinfo=UTC),
        ),
        clock=lambda: datetime(2026, 9, 14, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_kind_arrives_over_starttls_with_auth(
    server: MailServer, kind: NoticeKind
) -> None:
    notice = NotifyPatron(ADA, kind, "B-42", due=DUE, detail="Too early to renew")
    _notifier(server).notify_patron(notice, key=f"outbox-7/{kind.value}")
    (received,) = server.messages
    message = received.message
    assert received.rcpt_tos == ["ada@patrons.example"]
    assert received.mail_from == "ill@library.example"
    assert message["From"] == "Example University Library <ill@library.example>"
    assert message["To"] == "Ada Lovelace <ada@patrons.example>"
    assert message["Message-ID"] == message_id(f"outbox-7/{kind.value}", "library.example")
    assert message["Content-Language"] == "en"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] == "Mon, 14 Sep 2026 09:00:00 +0000"
    assert message["Subject"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    text_content, html_content = text.get_content(), html.get_content()
    for part in (text_content, html_content):
        assert "Example University Library" in part
        assert "B-42" in part
        assert "Ada Lovelace" in part
    assert '<html lang="en">' in html_content


def test_a_german_patron_reads_german_with_german_dates(server: MailServer) -> None:
    patron = PatronRef("p-2", "Grete Hermann", email="grete@patrons.example")
    _notifier(server).notify_patron(
        NotifyPatron(patron, NoticeKind.ITEM_AVAILABLE, "B-43", due=DUE), key="k-de"
    )
    message = server.messages[0].message
    assert message["Subject"] == "Ihre Fernleihe liegt zur Abholung bereit"
    assert message["Content-Language"] == "de"
    text = message.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "Guten Tag Grete Hermann," in content
    assert (
        "„Sketch of the Analytical Engine“ liegt in Main Library, desk 2 für Sie bereit." in content
    )
    assert "bis zum 21. September 2026 ab" in content
    assert "endet am 7. Oktober 2026" in content


def test_english_dates_and_pickup_location(server: MailServer) -> None:
    _notifier(server).notify_patron(
        NotifyPatron(ADA, NoticeKind.ITEM_AVAILABLE, "B-1", due=DUE), key="k"
    )
    html = server.messages[0].message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "at Main Library, desk 2" in content
    assert "by 21 September 2026" in content  # en-GB: day first
    assert "due back on 7 October 2026" in content


def test_staff_notices_go_to_the_desk_or_the_default_addresses(server: MailServer) -> None:
    notifier = _notifier(server)
    notifier.notify_staff(NotifyStaff("L-9", "The lender asks for a condition."), key="s-1")
    routed = EmailNotifier(
        notifier.smtp,
        sender="ill@library.example",
        institution="Example University Library",
        staff_addresses={"*": ["ill@library.example"], "special": ["special@library.example"]},
        staff_desk=lambda notice: "special",
    )
    routed.notify_staff(NotifyStaff("L-10", "Check the binding."), key="s-2")
    first, second = server.messages
    assert first.rcpt_tos == ["ill@library.example"]
    assert second.rcpt_tos == ["special@library.example"]
    assert second.message["Subject"] == "Interlibrary loan: request L-10 needs staff"
    body = second.message.get_body(("plain",))
    assert body is not None
    assert "Check the binding." in body.get_content()


def test_a_refused_recipient_is_not_retryable(server: MailServer) -> None:
    patron = PatronRef("p-3", "Nobody", email="nobody@refused.example")
    with pytest.raises(DeliveryError) as raised:
        _notifier(server).notify_patron(NotifyPatron(patron, NoticeKind.OVERDUE, "B-3"), key="k")
    assert raised.value.retryable is False
    assert "550" in raised.value.reason
    assert "nobody@refused.example" not in str(raised.value)
    assert raised.value.recipient == "patron p-3"
    assert server.messages == []


def test_a_temporarily_refused_recipient_is_retryable(server: MailServer) -> None:
    patron = PatronRef("p-4", email="someone@busy.example")
    with pytest.raises(DeliveryError) as raised:
        _notifier(server).notify_patron(NotifyPatron(patron, NoticeKind.OVERDUE, "B-4"), key="k")
    assert raised.value.retryable is True
    assert "450" in raised.value.reason


def test_an_unreachable_server_is_retryable() -> None:
    notifier = EmailNotifier(
        SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2),
        sender="ill@library.example",
        institution="X",
    )
    with pytest.raises(DeliveryError) as raised:
        notifier.notify_patron(NotifyPatron(ADA, NoticeKind.RENEWED, "B-5"), key="k")
    assert raised.value.retryable is True
    assert "unreachable" in raised.value.reason


def test_a_wrong_password_is_not_retryable(server: MailServer) -> None:
    with pytest.raises(DeliveryError) as raised:
        _notifier(server, password="wrong").notify_patron(
            NotifyPatron(ADA, NoticeKind.RENEWED, "B-6"), key="k"
        )
    assert raised.value.retryable is False
    assert "login refused: 535" in raised.value.reason


def test_a_certificate_we_do_not_trust_is_not_retryable(server: MailServer) -> None:
    with pytest.raises(DeliveryError) as raised:
        _notifier(server, ca_file=None).notify_patron(
            NotifyPatron(ADA, NoticeKind.RENEWED, "B-7"), key="k"
        )
    assert raised.value.retryable is False
    assert "certificate" in raised.value.reason


def test_starttls_is_required_not_opportunistic(tmp_path: Path) -> None:
    with MailServer(tmp_path, tls=False, auth=False) as plain:
        notifier = EmailNotifier(
            SmtpSettings(host="127.0.0.1", port=plain.port, timeout_seconds=5),
            sender="ill@library.example",
            institution="X",
        )
        with pytest.raises(DeliveryError) as raised:
            notifier.notify_patron(NotifyPatron(ADA, NoticeKind.RENEWED, "B-8"), key="k")
        assert raised.value.retryable is False
        relaxed = EmailNotifier(
            SmtpSettings(host="127.0.0.1", port=plain.port, security="none"),
            sender="ill@library.example",
            institution="X",
        )
        relaxed.notify_patron(NotifyPatron(ADA, NoticeKind.RENEWED, "B-8"), key="k")
        assert len(plain.messages) == 1


def test_a_patron_without_an_address_is_not_retryable(server: MailServer) -> None:
    with pytest.raises(DeliveryError) as raised:
        _notifier(server).notify_patron(
            NotifyPatron(PatronRef("p-9", "No Mail"), NoticeKind.RENEWED, "B-9"), key="k"
        )
    assert raised.value.retryable is False


def test_logs_at_info_carry_ids_not_personal_data(
    server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    notifier = _notifier(server)
    notifier.notify_patron(NotifyPatron(ADA, NoticeKind.ITEM_AVAILABLE, "B-10"), key="k-10")
    refused = PatronRef("p-11", "Charles Babbage", email="charles@refused.example")
    with pytest.raises(DeliveryError):
        notifier.notify_patron(NotifyPatron(refused, NoticeKind.OVERDUE, "B-11"), key="k-11")
    logged = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.INFO and r.name.startswith("resource_sharing")  # not aiosmtpd's
    )
    assert "p-1815" in logged
    assert "B-10" in logged
    for personal in ("Ada", "Lovelace", "ada@patrons.example", "Charles", "charles@"):
        assert personal not in logged


def test_an_institution_overrides_one_template(server: MailServer, tmp_path: Path) -> None:
    folder = tmp_path / "mail" / "en"
    folder.mkdir(parents=True)
    (folder / "overdue.txt").write_text(
        '{% extends "en/_layout.txt" %}{% block subject %}Overdue at {{ institution }}'
        "{% endblock %}{% block body %}Bring back {{ request_id }}.{% endblock %}"
    )
    notifier = _notifier(server)
    notifier.templates = Templates(folder=tmp_path / "mail")
    notifier.notify_patron(NotifyPatron(ADA, NoticeKind.OVERDUE, "B-12"), key="k")
    message = server.messages[0].message
    assert message["Subject"] == "Overdue at Example University Library"
    text = message.get_body(("plain",))
    assert text is not None
    assert "Bring back B-12." in text.get_content()


def test_a_broken_override_is_a_permanent_failure(server: MailServer, tmp_path: Path) -> None:
    folder = tmp_path / "mail" / "en"
    folder.mkdir(parents=True)
    (folder / "renewed.txt").write_text("{% block subject %}{{ no_such_thing }}{% endblock %}")
    notifier = _notifier(server)
    notifier.templates = Templates(folder=tmp_path / "mail")
    with pytest.raises(DeliveryError) as raised:
        notifier.notify_patron(NotifyPatron(ADA, NoticeKind.RENEWED, "B-13"), key="k")
    assert raised.value.retryable is False
    assert "no_such_thing" in raised.value.reason


def test_the_node_context_gives_notices_their_title_pickup_and_desk(server: MailServer) -> None:
    """``from_config`` with a port context that reads stored requests (as a node's does)."""
    from resource_sharing.directory import Directory
    from resource_sharing.records import (
        AgencyId,
        BorrowingRequest,
        Citation,
        Deadline,
        ItemRef,
        LendingRequest,
        TimerKind,
    )
    from resource_sharing_adapters.email import from_config

    shelf_until = datetime(2026, 9, 21, 21, 59, tzinfo=UTC)
    borrowed = BorrowingRequest(
        id="B-1",
        agency=AgencyId("US-A"),
        patron=ADA,
        citation=Citation(title="Sketch of the Analytical Engine"),
        created_at=DUE,
        pickup_location="West Branch",
        deadlines=(Deadline(shelf_until, TimerKind.HOLD_SHELF_EXPIRY),),
    )
    lent = LendingRequest(
        id="L-1",
        agency=AgencyId("US-A"),
        requester=AgencyId("US-B"),
        requester_request_id="B-9",
        citation=Citation(title="Another"),
        created_at=DUE,
        item=ItemRef("A-1", desk="special"),
    )
    stored = {"B-1": borrowed, "L-1": lent}

    @attrs.frozen
    class Context:
        name: str = "Example University Library"
        base: Path = attrs.field(factory=Path.cwd)
        directory: Directory = attrs.field(factory=Directory)

        def request(self, request_id: str) -> object:
            return stored.get(request_id)

    table = {
        "sender": "ill@library.example",
        "smtp": {
            "host": "127.0.0.1",
            "port": server.port,
            "username": USER,
            "password": PASSWORD,
            "ca_file": str(server.cert_file),
        },
        "staff": {"*": ["ill@library.example"], "special": ["special@library.example"]},
    }
    notifier = from_config(table, Context())
    notifier.notify_patron(NotifyPatron(ADA, NoticeKind.ITEM_AVAILABLE, "B-1"), key="k-1")
    notifier.notify_staff(NotifyStaff("L-1", "Check the item for damage"), key="k-2")
    notifier.notify_staff(NotifyStaff("B-1", "Call the patron"), key="k-3")
    patron, special, other = (m.message for m in server.messages)
    body = patron.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Sketch of the Analytical Engine" in text
    assert "West Branch" in text
    assert "September 21, 2026" in text
    assert special["To"] == "special@library.example"
    assert other["To"] == "ill@library.example"  # West Branch has no addresses: "*"
