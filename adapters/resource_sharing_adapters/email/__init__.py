"""Patron and staff notices by e-mail (SMTP with STARTTLS and AUTH, Jinja2, Babel).

- :class:`EmailNotifier`: the :class:`~resource_sharing.ports.Notifier` (``notify_patron``
  and ``notify_staff`` with the effect's key as the Message-ID).
- :class:`SmtpSettings`, :class:`NoticeDetails`, :func:`message_id`.
- :class:`Templates`: the notice templates (``templates/{language}/{kind}.txt|.html``,
  English and German shipped), overridable from a folder.
- :func:`from_config`: the ``[ports.notifier]`` factory (``docs/integration.md``, "E-mail");
  :func:`request_lookups`: its notice details and staff desk from stored requests.
"""

from __future__ import annotations

from resource_sharing_adapters.email._config import from_config, request_lookups
from resource_sharing_adapters.email._notifier import (
    KEY_HEADER,
    NOTICE_HEADER,
    REQUEST_HEADER,
    EmailNotifier,
    NoticeDetails,
    SmtpSettings,
    message_id,
)
from resource_sharing_adapters.email._templates import RenderedNotice, TemplateFailure, Templates

__all__ = [
    "KEY_HEADER",
    "NOTICE_HEADER",
    "REQUEST_HEADER",
    "EmailNotifier",
    "NoticeDetails",
    "RenderedNotice",
    "SmtpSettings",
    "TemplateFailure",
    "Templates",
    "from_config",
    "message_id",
    "request_lookups",
]
