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
from pathlib import Path
from typing import Any, TypeVar, final

import attrs
import cattrs

from resource_sharing.directory import Directory, Partner
from resource_sharing.errors import InvalidInput
from resource_sharing.records import BorrowingRequest
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
from resource_sharing_adapters._structuring import base_converter, structure

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


def _build() -> cattrs.Converter:
    converter = base_converter()
    converter.register_structure_hook(
        HoldingsAnswer,
        lambda value, _: HoldingsAnswer(converter.structure(value, tuple[Holding, ...])),
    )
    return converter


_CONVERTER = _build()


def _structure(data: Any, cls: type[T], source: str) -> T:
    if not isinstance(data, dict):
        raise InvalidInput(source, "expected a JSON object at the top level")
    return structure(_CONVERTER, data, cls, source, path="$")


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
