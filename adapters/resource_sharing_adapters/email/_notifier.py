"""Patron and staff notices by e-mail over SMTP (smtplib): the Notifier port.

Each notice becomes one ``multipart/alternative`` message (plain text and HTML, from the
templates of :mod:`._templates`) in the patron's language, with the effect's idempotency
key as its ``Message-ID``: a retry after a lost answer sends the same message again, and
mail systems and clients drop the repeat. Staff notices go to the addresses configured
for the desk concerned (``"*"`` for every other desk).

Failures are :class:`~resource_sharing.errors.DeliveryError`: a permanent SMTP refusal
(5xx: unknown recipient, authentication refused, STARTTLS not offered, a certificate
that does not verify, no e-mail address) is not retryable; an unreachable or failing
server (connection refused, timeout, 4xx) is. Patron names and addresses never appear in
log lines at INFO or in the error's text (ids only).
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import attrs

from resource_sharing.effects import NotifyPatron, NotifyStaff
from resource_sharing.errors import DeliveryError
from resource_sharing.records import PatronRef
from resource_sharing_adapters.email._templates import TemplateFailure, Templates

__all__ = ["EmailNotifier", "NoticeDetails", "SmtpSettings", "message_id"]

_log = logging.getLogger(__name__)

KEY_HEADER = "X-ILL-Key"
"""The header that carries the effect's idempotency key as given (the Message-ID is made
safe from it)."""
REQUEST_HEADER = "X-ILL-Request"
"""The header that names the request a notice is about (for filters and replies)."""
NOTICE_HEADER = "X-ILL-Notice"
"""The header that names the notice's kind (a ``NoticeKind`` value, or ``staff``)."""
_SAFE = re.compile(r"[^A-Za-z0-9._\-+=]")
_ADDRESS = re.compile(r"[^\s<>@,;]+@[^\s<>@,;]+")


def message_id(key: str, domain: str) -> str:
    """The ``Message-ID`` for an idempotency key: the key made safe, ``@`` the domain.

    >>> message_id("outbox:42/notice", "library.example")
    '<outbox.3A42.2Fnotice@library.example>'
    """
    safe = _SAFE.sub(lambda m: "".join(f".{b:02X}" for b in m.group().encode()), key)
    return f"<{safe}@{domain}>"


@attrs.frozen
class SmtpSettings:
    """How to reach the mail server."""

    host: str = "localhost"
    """The SMTP server."""
    port: int = 587
    """Its port (587 submission with STARTTLS, 465 implicit TLS, 25 relay)."""
    security: str = attrs.field(default="starttls")
    """``starttls`` (required, not opportunistic), ``tls`` (implicit) or ``none``."""
    username: str | None = None
    """Log in as this user (AUTH), when set."""
    password: str | None = attrs.field(default=None, repr=False)
    """The password for ``username``."""
    timeout_seconds: float = 20.0
    """Bound on connecting and on each command."""
    ca_file: str | None = None
    """Trust these certificates (PEM) instead of the system's (a private CA)."""
    local_hostname: str | None = None
    """The name sent in EHLO (default: this machine's)."""

    @security.validator
    def _known(self, _: object, value: str) -> None:
        if value not in ("starttls", "tls", "none"):
            raise ValueError(f"security must be starttls, tls or none, not {value!r}")

    def tls_context(self) -> ssl.SSLContext:
        """The TLS context: certificates and host names verified."""
        return ssl.create_default_context(cafile=self.ca_file)


@attrs.frozen
class NoticeDetails:
    """What a patron notice shows beyond the effect itself, looked up by the host."""

    title: str | None = None
    """The requested item's title."""
    pickup_location: str | None = None
    """Where the patron collects it."""
    pickup_by: datetime | None = None
    """The last day on the hold shelf."""


def _derived_key(notice: NotifyPatron | NotifyStaff) -> str:
    digest = hashlib.sha256(repr(notice).encode("utf-8")).hexdigest()[:32]
    return f"notice-{digest}"


def _code_retryable(code: int) -> bool:
    return not 500 <= code < 600


class EmailNotifier:
    """The :class:`~resource_sharing.ports.Notifier` that sends e-mail over SMTP.

    ``sender`` is the From address (its domain also ends every Message-ID);
    ``institution`` the name shown in From and in every notice. ``staff_addresses``
    maps a desk to its addresses, ``"*"`` to those of every other desk. The patron's
    language comes from ``patron_language(patron)`` when given and known to the
    templates, else ``default_language``; ``details(notice)`` supplies the title, pickup
    location and pickup-by date a notice shows; ``staff_desk(notice)`` the desk of a
    staff notice (or its ``desk`` attribute, when the effect has one).
    """

    def __init__(
        self,
        smtp: SmtpSettings,
        *,
        sender: str,
        institution: str,
        staff_addresses: Mapping[str, Sequence[str]] | None = None,
        default_language: str = "en",
        staff_language: str | None = None,
        patron_language: Callable[[PatronRef], str | None] | None = None,
        details: Callable[[NotifyPatron], NoticeDetails | None] | None = None,
        staff_desk: Callable[[NotifyStaff], str | None] | None = None,
        templates: Templates | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if "@" not in sender:
            raise ValueError(f"sender {sender!r} is not an e-mail address")
        self.smtp = smtp
        """The mail server."""
        self.sender = sender
        """The From address."""
        self.institution = institution
        """Our name, in From and in the notices."""
        self.staff_addresses = {k: tuple(v) for k, v in (staff_addresses or {}).items()}
        """Staff addresses per desk (``"*"``: any other desk)."""
        self.templates = templates or Templates()
        """The notices' templates."""
        if default_language not in self.templates.languages():
            raise ValueError(f"no templates for the default language {default_language!r}")
        self.default_language = default_language
        """Patrons whose language is unknown get this one."""
        self.staff_language = staff_language or default_language
        """Staff notices are written in this language."""
        self._patron_language = patron_language
        self._details = details
        self._staff_desk = staff_desk
        self._clock = clock or (lambda: datetime.now(UTC))
        self._domain = sender.rpartition("@")[2]

    # -- the port ------------------------------------------------------------------------

    def notify_patron(self, notice: NotifyPatron, *, key: str | None = None) -> None:
        """E-mail the patron; DeliveryError when it cannot (see the module).

        Without a ``key`` (a caller older than the durable outbox) one is derived from the
        notice's content, so the same notice still gets the same Message-ID.
        """
        key = key or _derived_key(notice)
        who = f"patron {notice.patron.id}"
        address = notice.patron.email
        if not address:
            raise DeliveryError(who, "the patron has no e-mail address", retryable=False)
        message, language = self.patron_message(notice, key=key)
        self._send(message, [address], who)
        _log.info(
            "sent %s notice for request %s to %s in %s (%s)",
            notice.notice.value,
            notice.request_id,
            who,
            language,
            message["Message-ID"],
        )

    def notify_staff(self, notice: NotifyStaff, *, key: str | None = None) -> None:
        """E-mail the staff of the notice's desk; DeliveryError when it cannot."""
        key = key or _derived_key(notice)
        desk = getattr(notice, "desk", None) or (
            self._staff_desk(notice) if self._staff_desk else None
        )
        who = f"staff of desk {desk}" if desk else "staff"
        addresses = self.staff_addresses.get(desk or "*") or self.staff_addresses.get("*")
        if not addresses:
            raise DeliveryError(who, "no staff e-mail address is configured", retryable=False)
        message = self.staff_message(notice, addresses, key=key)
        self._send(message, list(addresses), who)
        _log.info(
            "sent staff notice for request %s to %s (%s)",
            notice.request_id,
            who,
            message["Message-ID"],
        )

    # -- messages ------------------------------------------------------------------------

    def language_of(self, patron: PatronRef) -> str:
        """The template language for this patron."""
        wanted = self._patron_language(patron) if self._patron_language else None
        return self.templates.language_for(wanted, self.default_language)

    def patron_message(self, notice: NotifyPatron, *, key: str) -> tuple[EmailMessage, str]:
        """The message a patron notice becomes, and the language it is in."""
        wanted = self._patron_language(notice.patron) if self._patron_language else None
        language = self.templates.language_for(wanted, self.default_language)
        details = (self._details(notice) if self._details else None) or NoticeDetails()
        context: dict[str, Any] = {
            "institution": self.institution,
            "kind": notice.notice.value,
            "request_id": notice.request_id,
            "patron_name": notice.patron.name,
            "patron_id": notice.patron.id,
            "due": notice.due,
            "detail": notice.detail,
            "title": details.title,
            "pickup_location": getattr(notice, "pickup_location", None) or details.pickup_location,
            "pickup_by": details.pickup_by,
        }
        locale = wanted if wanted and wanted.replace("-", "_").startswith(language) else language
        rendered = self._render(notice.notice.value, language, context, locale, notice.patron.id)
        name = " ".join((notice.patron.name or "").split())  # no line breaks in a header
        to = formataddr((name, notice.patron.email or ""))
        try:
            message = self._message(
                rendered.subject, rendered.text, rendered.html, [to], key, language
            )
            message[NOTICE_HEADER] = notice.notice.value
            message[REQUEST_HEADER] = notice.request_id
        except ValueError as exc:  # an address with line breaks or other header damage
            raise DeliveryError(
                f"patron {notice.patron.id}", f"cannot write the message: {exc}", retryable=False
            ) from None
        return message, language

    def staff_message(
        self, notice: NotifyStaff, addresses: Sequence[str], *, key: str
    ) -> EmailMessage:
        """The message a staff notice becomes."""
        context = {
            "institution": self.institution,
            "request_id": notice.request_id,
            "text": notice.text,
        }
        rendered = self._render("staff", self.staff_language, context, self.staff_language, "staff")
        message = self._message(
            rendered.subject,
            rendered.text,
            rendered.html,
            list(addresses),
            key,
            self.staff_language,
        )
        message[NOTICE_HEADER] = "staff"
        message[REQUEST_HEADER] = " ".join(notice.request_id.split())
        return message

    def _render(
        self, name: str, language: str, context: Mapping[str, Any], locale: str, who: str
    ) -> Any:
        try:
            return self.templates.render(name, language, context, locale=locale)
        except TemplateFailure as exc:
            raise DeliveryError(who, str(exc), retryable=False) from exc

    def _message(
        self, subject: str, text: str, html: str, to: list[str], key: str, language: str
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((self.institution, self.sender))
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock())
        message["Message-ID"] = message_id(key, self._domain)
        message[KEY_HEADER] = " ".join(key.split())
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        message["Content-Language"] = language.replace("_", "-")  # set_content clears Content-*
        return message

    # -- SMTP ----------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        settings = self.smtp
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                local_hostname=settings.local_hostname,
                timeout=settings.timeout_seconds,
                context=settings.tls_context(),
            )
        else:
            client = smtplib.SMTP(
                settings.host,
                settings.port,
                local_hostname=settings.local_hostname,
                timeout=settings.timeout_seconds,
            )
        try:
            client.ehlo()
            if settings.security == "starttls":
                client.starttls(context=settings.tls_context())
                client.ehlo()
            if settings.username:
                client.login(settings.username, settings.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _send(self, message: EmailMessage, recipients: list[str], who: str) -> None:
        def scrub(text: str) -> str:
            return _ADDRESS.sub("<address>", text)

        try:
            client = self._connect()
            try:
                refused = client.send_message(message, from_addr=self.sender, to_addrs=recipients)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            answers = "; ".join(
                f"{code} {scrub(text.decode(errors='replace'))}"
                for code, text in exc.recipients.values()
            )
            retryable = all(_code_retryable(code) for code in codes)
            raise DeliveryError(who, f"recipient refused: {answers}", retryable=retryable) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                who, f"SMTP login refused: {exc.smtp_code}", retryable=False
            ) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            error = exc.smtp_error
            detail = scrub(error.decode(errors="replace") if isinstance(error, bytes) else error)
            raise DeliveryError(
                who,
                f"message refused: {exc.smtp_code} {detail}",
                retryable=_code_retryable(exc.smtp_code),
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                who, f"the server does not offer it: {exc}", retryable=False
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                who,
                f"the server's certificate does not verify: {exc.verify_message}",
                retryable=False,
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                who, f"SMTP error {exc.smtp_code}", retryable=_code_retryable(exc.smtp_code)
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = (
                f"mail server {self.smtp.host}:{self.smtp.port} unreachable: {type(exc).__name__}"
            )
            raise DeliveryError(who, f"{reason} {exc}".strip(), retryable=True) from None
        if refused:
            _log.warning("%s: %d of %d address(es) refused", who, len(refused), len(recipients))
