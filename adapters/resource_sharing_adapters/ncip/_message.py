"""A decoded NCIP message: the service, its header, its Problems and a tree of its fields.

NCIP has some ninety services and every ILS bends the schema (elements out of order,
no namespace, NCIP 1 ``Scheme``/``Value`` pairs inside v2 messages), so the decoder does
not map messages onto classes field by field. It keeps the body as a :class:`Node` tree
keyed by local names; readers (:mod:`._services`) then pick what they need by name, in
any order, and say precisely what is missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, final

import attrs

from resource_sharing_adapters.ncip._errors import Problem

__all__ = [
    "KEY_TYPE",
    "NCIP_NAMESPACE",
    "NCIP_VERSION",
    "Header",
    "NcipMessage",
    "Node",
    "format_datetime",
    "parse_datetime",
]

NCIP_NAMESPACE = "http://www.niso.org/2008/ncip"
"""The namespace of NCIP 2 messages."""
NCIP_VERSION = "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"
"""The ``version`` we send (Koha tells v1 from v2 by looking for ``v2`` in it)."""
KEY_TYPE = "Idempotency Key"
"""The RequestIdentifierType of the RequestId we put in ``Ext`` to carry the idempotency key."""


@final
@attrs.frozen
class Node:
    """One element of a decoded message, by local name (namespaces and order forgotten)."""

    name: str
    """The element's local name."""
    text: str = ""
    """Its text, stripped (empty for an element with children)."""
    children: tuple[Node, ...] = ()
    """Its child elements, in document order."""
    scheme: str | None = None
    """The ``Scheme`` attribute (qualified or not) of a SchemeValuePair."""

    def all(self, name: str) -> tuple[Node, ...]:
        """The children with this local name."""
        return tuple(child for child in self.children if child.name == name)

    def first(self, *path: str) -> Node | None:
        """The first element down ``path`` (each step a child's local name), or None."""
        node: Node | None = self
        for step in path:
            assert node is not None
            node = next((child for child in node.children if child.name == step), None)
            if node is None:
                return None
        return node

    def text_of(self, *path: str) -> str | None:
        """The stripped text down ``path``; None when absent or empty."""
        node = self.first(*path)
        return node.text or None if node is not None else None

    def to_json(self) -> Any:
        """Text for a leaf; otherwise an object of children (a list where one repeats)."""
        if not self.children:
            return self.text
        grouped: dict[str, list[Any]] = {}
        for child in self.children:
            grouped.setdefault(child.name, []).append(child.to_json())
        return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


@final
@attrs.frozen
class Header:
    """The InitiationHeader (or ResponseHeader) of a message."""

    from_agency: str
    """FromAgencyId/AgencyId."""
    to_agency: str
    """ToAgencyId/AgencyId."""
    from_agency_authentication: str | None = None
    """FromAgencyAuthentication: a shared secret (Alma also accepts its partner code here)."""
    application_profile: str | None = None
    """ApplicationProfileType (Alma: the resource-sharing partner code)."""

    def to_json(self) -> dict[str, Any]:
        """The header as JSON, the authentication masked (it is a credential)."""
        return {
            "from_agency": self.from_agency,
            "to_agency": self.to_agency,
            "from_agency_authentication": None
            if self.from_agency_authentication is None
            else "***",
            "application_profile": self.application_profile,
        }


@final
@attrs.frozen
class NcipMessage:
    """A message as decoded: leniently read, with what was tolerated in ``warnings``."""

    service: str
    """The element under NCIPMessage (``LookupUser``, ``CheckInItemResponse``), or
    ``Problem`` for a message-level Problem."""
    body: Node
    """That element as a tree."""
    header: Header | None = None
    """Its header, when it has one (the header is optional in NCIP 2.02)."""
    problems: tuple[Problem, ...] = ()
    """Message-level or service-level Problems: the answer is a failure when not empty."""
    version: str | None = None
    """The ``version`` attribute as sent (never checked: ILSs send anything there)."""
    warnings: tuple[str, ...] = ()
    """Quirks tolerated on the way (no namespace, a bare ``version``, elements missing)."""

    @property
    def is_response(self) -> bool:
        """True for a ``...Response`` or a message-level Problem."""
        return self.service.endswith("Response") or self.service == "Problem"

    @property
    def key(self) -> str | None:
        """The idempotency key we carried in ``Ext`` (None when the sender put none there)."""
        ext = self.body.first("Ext")
        if ext is None:
            return None
        for request_id in ext.all("RequestId"):
            if request_id.text_of("RequestIdentifierType") == KEY_TYPE:
                return request_id.text_of("RequestIdentifierValue")
        return None

    def to_json(self) -> dict[str, Any]:
        """The message as JSON: service, version, header, fields, problems, warnings."""
        fields = self.body.to_json()
        if isinstance(fields, dict):
            fields.pop("InitiationHeader", None)
            fields.pop("ResponseHeader", None)
            fields.pop("Problem", None)
        return {
            "service": self.service,
            "version": self.version,
            "header": None if self.header is None else self.header.to_json(),
            "fields": fields,
            "problems": [attrs.asdict(problem) for problem in self.problems],
            "warnings": list(self.warnings),
        }


def format_datetime(value: datetime) -> str:
    """An aware datetime as NCIP's xs:dateTime, in UTC to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime | None:
    """Read xs:dateTime leniently; None when it is not a date at all.

    ``Z`` or an offset; naive taken as UTC; a bare date (Koha's ``%Y-%m-%d``) as midnight UTC.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        except ValueError:
            return None
    if len(value) == 10:  # fromisoformat accepts a bare date too
        return parsed.replace(tzinfo=UTC)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
