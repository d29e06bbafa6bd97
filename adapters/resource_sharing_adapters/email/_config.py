"""The ``[ports.notifier]`` table of a node's TOML: the e-mail notifier's factory.

::

    [ports.notifier]
    factory = "resource_sharing_adapters.email:from_config"
    sender = "ill@library.example"
    institution = "Example University Library"   # default: the node's [institution] name
    default_language = "en"                      # en or de shipped, or a folder of yours
    staff_language = "en"
    timezone = "Europe/Berlin"                   # default: the institution's calendar
    template_folder = "mail-templates"           # overrides, relative to the config file
    patron_language = "my_ils.patrons:language"  # optional: a callable(PatronRef) -> str | None

    [ports.notifier.smtp]
    host = "smtp.library.example"
    port = 587
    security = "starttls"                        # starttls, tls or none
    username = "ill"
    password_env = "ILL_SMTP_PASSWORD"           # or password = "..."
    timeout_seconds = 20
    ca_file = "/etc/ssl/private-ca.pem"         # relative: to the configuration file

    [ports.notifier.staff]                             # desk -> addresses; "*" for any other desk
    "*" = ["ill-staff@library.example"]
    rs-desk = ["rs-desk@library.example"]

Every problem is an :class:`~resource_sharing.errors.InvalidInput` naming its key.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from resource_sharing.effects import NotifyPatron, NotifyStaff
from resource_sharing.errors import InvalidInput
from resource_sharing.records import BorrowingRequest, TimerKind
from resource_sharing_adapters._structuring import key_at
from resource_sharing_adapters.email._notifier import EmailNotifier, NoticeDetails, SmtpSettings
from resource_sharing_adapters.email._templates import Templates

__all__ = ["from_config", "load_callable", "request_lookups"]


_KEYS = frozenset(
    {
        "factory",
        "sender",
        "institution",
        "default_language",
        "staff_language",
        "timezone",
        "template_folder",
        "patron_language",
        "smtp",
        "staff",
    }
)
_SMTP_KEYS = frozenset(
    {
        "host",
        "port",
        "security",
        "username",
        "password",
        "password_env",
        "timeout_seconds",
        "ca_file",
        "local_hostname",
    }
)


def load_callable(spec: str, where: str) -> Callable[..., Any]:
    """The callable named ``module:attribute``; InvalidInput naming ``where`` if none."""
    module_name, _, attribute = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InvalidInput(where, f"cannot load {spec!r}: {exc}") from None
    if not callable(found):
        raise InvalidInput(where, f"{spec!r} is not callable")
    return found  # type: ignore[no-any-return]


RequestLookup = Callable[[str], Any]
"""A stored request by id, or None (the node's ``PortContext.request``)."""


def request_lookups(
    request: RequestLookup,
) -> tuple[Callable[[NotifyPatron], NoticeDetails | None], Callable[[NotifyStaff], str | None]]:
    """The notifier's ``details`` and ``staff_desk`` callables, read from stored requests.

    ``details`` gives a patron notice the request's title, its pickup location and the
    last day on the hold shelf; ``staff_desk`` gives a staff notice the desk of its
    request (a borrowing request's pickup location, a lent item's desk).
    """

    def details(notice: NotifyPatron) -> NoticeDetails | None:
        record = request(notice.request_id)
        if not isinstance(record, BorrowingRequest):
            return None
        expiry = [d.at for d in record.deadlines if d.kind is TimerKind.HOLD_SHELF_EXPIRY]
        return NoticeDetails(
            title=record.citation.title,
            pickup_location=record.pickup_location,
            pickup_by=min(expiry, default=None),
        )

    def staff_desk(notice: NotifyStaff) -> str | None:
        record = request(notice.request_id)
        if record is None:
            return None
        if isinstance(record, BorrowingRequest):
            return record.pickup_location
        item = getattr(record, "item", None)
        return getattr(item, "desk", None)

    return details, staff_desk


def _str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(key_at(where, key), f"expected a string, got {value!r}")
    return value


def _smtp(table: Any, base: Path) -> SmtpSettings:
    where = "smtp"
    if not isinstance(table, Mapping):
        raise InvalidInput(where, "expected a table")
    unknown = set(table) - _SMTP_KEYS
    if unknown:
        raise InvalidInput(key_at(where, ", ".join(sorted(unknown))), "unknown key(s)")
    password = _str(table, "password", where)
    variable = _str(table, "password_env", where)
    if variable is not None:
        password = os.environ.get(variable)
        if password is None:
            raise InvalidInput(key_at(where, "password_env"), f"${variable} is not set")
    ca_file = _str(table, "ca_file", where)
    if ca_file is not None and not (base / ca_file).is_file():
        raise InvalidInput(key_at(where, "ca_file"), f"{base / ca_file} is not a file")
    port = table.get("port", 587)
    timeout = table.get("timeout_seconds", 20.0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidInput(key_at(where, "port"), f"expected a TCP port, got {port!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise InvalidInput(key_at(where, "timeout_seconds"), "expected a positive number")
    try:
        return SmtpSettings(
            host=_str(table, "host", where, "localhost") or "localhost",
            port=port,
            security=_str(table, "security", where, "starttls") or "starttls",
            username=_str(table, "username", where),
            password=password,
            timeout_seconds=float(timeout),
            ca_file=str(base / ca_file) if ca_file else None,
            local_hostname=_str(table, "local_hostname", where),
        )
    except ValueError as exc:
        raise InvalidInput(key_at(where, "security"), str(exc)) from None


def from_config(table: Mapping[str, Any], context: Any = None) -> EmailNotifier:
    """The ``[ports.notifier]`` factory: an :class:`EmailNotifier` from its TOML table.

    ``context`` is the node's port context (``resource_sharing_adapters.http.PortContext``:
    its ``name`` is the default institution name and ``base`` the folder relative paths
    start from; a ``calendar.tz``, where the context has one, the default time zone; its
    ``request`` look-up gives the notices their title, pickup location and pickup-by
    date, and staff notices their desk: :func:`request_lookups`), or None.
    """
    where = ""
    unknown = set(table) - _KEYS
    if unknown:
        raise InvalidInput(key_at(where, ", ".join(sorted(unknown))), "unknown key(s)")
    sender = _str(table, "sender", where)
    if not sender or "@" not in sender:
        raise InvalidInput(key_at(where, "sender"), "required: the From address")
    institution = _str(table, "institution", where) or getattr(context, "name", "") or sender
    base = getattr(context, "base", None)
    if base is None:
        source = getattr(context, "source", None)
        base = Path(source).resolve().parent if source else Path.cwd()
    base = Path(base)
    folder = _str(table, "template_folder", where)
    zone: Any = _str(table, "timezone", where)
    if zone is None:
        calendar = getattr(context, "calendar", None)
        zone = getattr(calendar, "tz", None) or "UTC"
    try:
        templates = Templates(
            folder=(base / folder) if folder else None,
            timezone=zone,
        )
    except (KeyError, ValueError) as exc:
        raise InvalidInput(key_at(where, "timezone"), f"unknown time zone {zone!r}") from exc
    if folder and not (base / folder).is_dir():
        raise InvalidInput(key_at(where, "template_folder"), f"{base / folder} is not a folder")
    staff = table.get("staff", {})
    if not isinstance(staff, Mapping) or not all(
        isinstance(v, list) and all(isinstance(a, str) and "@" in a for a in v)
        for v in staff.values()
    ):
        raise InvalidInput(key_at(where, "staff"), "expected desk = [addresses]")
    language_spec = _str(table, "patron_language", where)
    patron_language = (
        load_callable(language_spec, key_at(where, "patron_language")) if language_spec else None
    )
    smtp = _smtp(table.get("smtp", {}), base)
    lookup = getattr(context, "request", None)
    details, staff_desk = request_lookups(lookup) if callable(lookup) else (None, None)
    try:
        return EmailNotifier(
            smtp,
            sender=sender,
            institution=institution,
            staff_addresses=staff,
            default_language=_str(table, "default_language", where, "en") or "en",
            staff_language=_str(table, "staff_language", where),
            patron_language=patron_language,
            details=details,
            staff_desk=staff_desk,
            templates=templates,
        )
    except ValueError as exc:
        raise InvalidInput(key_at(where, "default_language"), str(exc)) from None
