"""The e-mail notifier passes the Notifier port's contract suite, against aiosmtpd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mail_server import PASSWORD, USER, MailServer
from resource_sharing.ports import Notifier
from resource_sharing.testing.port_contracts import NotifierContract
from resource_sharing_adapters.email import EmailNotifier, SmtpSettings


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

    def sent(self, notifier: Notifier) -> list[object]:
        return [received.message for received in self.server.messages]
