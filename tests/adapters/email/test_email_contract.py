"""The e-mail notifier passes the Notifier port's contract suite, against aiosmtpd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_sharing.ports import Notifier
from resource_sharing.testing.port_contracts import NoticeSeen, NotifierContract
from resource_sharing_adapters.email import (
    KEY_HEADER,
    NOTICE_HEADER,
    REQUEST_HEADER,
    EmailNotifier,
    SmtpSettings,
)
from tests.adapters.mail_server import PASSWORD, USER, MailServer


class TestEmailNotifierContract(NotifierContract):
    server: MailServer

    @pytest.fixture(autouse=True)
    def _mail_server(self, tmp_path: Path) -> Iterator[None]:
        with MailServer(tmp_path) as server:
            self.server = server
            yield

    def make_notifier(self) -> EmailNotifier:
        settings = SmtpSettings(
            "127.0.0.1",
            self.server.port,
            username=USER,
            password=PASSWORD,
            ca_file=str(self.server.cert_file),
        )
        return EmailNotifier(
            settings,
            sender="ill@library.example",
            institution="Contract Library",
            staff_addresses={"*": ["staff@library.example"]},
        )

    def delivered(self, notifier: Notifier) -> list[NoticeSeen]:
        seen = []
        for received in self.server.messages:
            message = received.message
            body = message.get_body(("plain",))
            assert body is not None
            kind = str(message[NOTICE_HEADER])
            seen.append(
                NoticeSeen(
                    key=str(message[KEY_HEADER]),
                    recipient="staff" if kind == "staff" else received.rcpt_tos[0],
                    request_id=str(message[REQUEST_HEADER]),
                    kind=kind,
                    text=body.get_content(),
                )
            )
        return seen
