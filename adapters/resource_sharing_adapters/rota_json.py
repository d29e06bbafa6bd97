"""Read the rota's JSON inputs: a directory with its rota policy, and a request with its facts.

The formats are documented in ``docs/rota.md`` (examples in ``examples/rota/``). One
cattrs converter, built once, turns the documents into the core's records; unknown keys are
refused (a misspelt field is an error, not a silently ignored setting). Every failure, from
malformed JSON to a bad ISBN check digit in a rule, becomes
:class:`~resource_sharing.errors.InvalidInput` naming the document and the path in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import cattrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId, BorrowingRequest
from resource_sharing.rota import (
    DEFAULT_SCORERS,
    AssignmentRule,
    Holding,
    HoldingsAnswer,
    RotaContext,
    RotaPolicy,
    RotaTemplate,
    Scorer,
)

__all__ = [
    "DirectoryDocument",
    "RequestDocument",
    "load_directory",
    "load_request",
    "parse_directory",
    "parse_request",
]

T = TypeVar("T")


@final
@attrs.frozen
class DirectoryDocument:
    """The directory file: partners and the rota policy over them."""

    partners: tuple[Partner, ...] = ()
    """Every partner."""
    templates: tuple[RotaTemplate, ...] = ()
    """Named partner lists in tiers."""
    rules: tuple[AssignmentRule, ...] = ()
    """Assignment rules, first match wins."""
    default_templates: tuple[str, ...] = ()
    """Templates for requests no rule matches (empty: the whole directory)."""
    max_length: int | None = None
    """Keep at most this many ranked lenders."""
    weights: Mapping[str, float] = attrs.field(factory=dict)
    """Weights of the built-in scorers by name (``tier``, ``turnaround``, ``load``...)."""

    def directory(self) -> Directory:
        """The partners as a :class:`Directory` (an agency listed twice is an error)."""
        directory = Directory.of(self.partners)
        if len(directory) != len(self.partners):
            raise InvalidInput("partners", "an agency is listed more than once")
        return directory

    def policy(self) -> RotaPolicy:
        """The rota policy: templates, rules, limit and the weighted built-in scorers."""
        names = {s.name for s in DEFAULT_SCORERS}
        unknown = sorted(set(self.weights) - names)
        if unknown:
            raise InvalidInput("weights", f"unknown scorer {unknown[0]!r}; known: {sorted(names)}")
        scorers: tuple[Scorer, ...] = tuple(
            attrs.evolve(s, weight=self.weights[s.name])  # type: ignore[misc]
            if s.name in self.weights
            else s
            for s in DEFAULT_SCORERS
        )
        return RotaPolicy(
            templates=self.templates,
            rules=self.rules,
            default_templates=self.default_templates,
            scorers=scorers,
            max_length=self.max_length,
        )


@final
@attrs.frozen
class RequestDocument:
    """The request file: the borrowing request and the facts to build its rota from."""

    request: BorrowingRequest
    """The request."""
    context: RotaContext
    """The date, holdings answer, partner facts and staff choices."""


def _agency(value: Any, _: object) -> AgencyId:
    if not isinstance(value, str):
        raise InvalidInput("agency", f"expected a string like 'ISIL:DK-820010', got {value!r}")
    return AgencyId.parse(value)


def _decimal(value: Any, _: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput("amount", f"expected a number or a numeric string, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("amount", f"{value!r} is not a number") from None


def _date(value: Any, _: object) -> date:
    if not isinstance(value, str):
        raise InvalidInput("date", f"expected an ISO 8601 date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("date", f"{value!r} is not an ISO 8601 date") from None


def _datetime(value: Any, _: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput("datetime", f"expected an ISO 8601 string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("datetime", f"{value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise InvalidInput("datetime", f"{value!r} needs a UTC offset (e.g. 'Z' or '+01:00')")
    return moment


def _zone(value: Any, _: object) -> tzinfo:
    if not isinstance(value, str):
        raise InvalidInput("tz", f"expected an IANA time-zone name, got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("tz", f"unknown time zone {value!r}") from None


def _build() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(AgencyId, _agency)
    converter.register_structure_hook(Decimal, _decimal)
    converter.register_structure_hook(date, _date)
    converter.register_structure_hook(datetime, _datetime)
    converter.register_structure_hook(tzinfo, _zone)
    converter.register_structure_hook(
        HoldingsAnswer,
        lambda value, _: HoldingsAnswer(converter.structure(value, tuple[Holding, ...])),
    )
    return converter


_CONVERTER = _build()


def _message(exc: BaseException, _: object) -> str:
    if isinstance(exc, InvalidInput):
        return exc.problem
    if isinstance(exc, KeyError):
        return "required field missing"
    return cattrs.v.format_exception(exc, None)


def _structure(data: Any, cls: type[T], source: str) -> T:
    if not isinstance(data, dict):
        raise InvalidInput(source, "expected a JSON object at the top level")
    try:
        return _CONVERTER.structure(data, cls)
    except InvalidInput as exc:
        raise InvalidInput(source, str(exc)) from exc
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            problems = cattrs.transform_error(exc, path="$", format_exception=_message)
        else:
            problems = [str(exc)]
        raise InvalidInput(source, "; ".join(problems)) from exc


def _json(text: str | bytes, source: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(source, f"not valid JSON: {exc}") from exc


def parse_directory(text: str | bytes, source: str = "directory") -> tuple[Directory, RotaPolicy]:
    """The directory and rota policy from a directory document's text."""
    document = _structure(_json(text, source), DirectoryDocument, source)
    try:
        return document.directory(), document.policy()
    except InvalidInput as exc:
        raise InvalidInput(source, str(exc)) from exc


def parse_request(
    text: str | bytes, source: str = "request"
) -> tuple[BorrowingRequest, RotaContext]:
    """The request and its rota context from a request document's text."""
    document = _structure(_json(text, source), RequestDocument, source)
    return document.request, document.context


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(str(path), f"cannot read it: {exc.strerror or exc}") from exc


def load_directory(path: Path) -> tuple[Directory, RotaPolicy]:
    """Read a directory document from a file."""
    return parse_directory(_read(path), str(path))


def load_request(path: Path) -> tuple[BorrowingRequest, RotaContext]:
    """Read a request document from a file."""
    return parse_request(_read(path), str(path))
