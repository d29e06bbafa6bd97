"""The SRU adapters' TOML: the ``[ports.holdings]`` table and the ``sru`` key of a partner.

Own catalogue (the lending auto-locate)::

    [ports.holdings]
    factory = "resource_sharing_adapters.sru:from_config"
    url = "https://library.example/sru"
    version = "1.2"                 # 1.1, 1.2 or 2.0
    record_schema = "marcxml"       # or opac, isohold
    indexes = "standard"            # a preset (standard, alma, plain) or a table
    timeout_seconds = 5.0
    holders = ["MAIN"]              # in a shared catalogue: the holder codes that are ours
    default_desk = "circ"
    [ports.holdings.desks]                # location, library or holder code -> desk
    "Special Collections" = "special"

A partner's catalogue (the borrowing rota's look-up), under its ``[[partners]]`` entry::

    [partners.sru]
    url = "https://b.example/view/sru/B_INST"
    indexes = "alma"
    [partners.sru.params_env]       # query parameters whose values come from the environment
    x-password = "B_SRU_PASSWORD"

Keys of a target: ``url`` (required), ``version``, ``record_schema``, ``indexes``,
``max_records``, ``timeout_seconds``, ``title_fallback``, ``params``, ``params_env``,
``headers``, ``headers_env``, ``max_bytes``. Unknown keys are refused, and every problem
is an :class:`~resource_sharing.errors.InvalidInput` naming its place in the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId
from resource_sharing_adapters._structuring import key_at
from resource_sharing_adapters.sru._client import SRU_VERSIONS, SruClient, SruTarget
from resource_sharing_adapters.sru._cql import INDEX_PRESETS, CqlIndexes
from resource_sharing_adapters.sru._locator import PartnerHoldings, SruHoldingsLocator

__all__ = ["from_config", "parse_target", "partner_holdings", "split_partner_sru"]


_TARGET_KEYS = frozenset(
    {
        "url",
        "version",
        "record_schema",
        "indexes",
        "max_records",
        "timeout_seconds",
        "title_fallback",
        "params",
        "params_env",
        "headers",
        "headers_env",
        "max_bytes",
    }
)


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise InvalidInput(key_at(where, key), f"expected a number, got {value!r}")
    if not isinstance(value, kind):
        raise InvalidInput(key_at(where, key), f"unexpected value {value!r}")
    return value


def _pairs(table: Mapping[str, Any], key: str, where: str) -> list[tuple[str, str]]:
    direct = table.get(key, {})
    from_env = table.get(f"{key}_env", {})
    if not isinstance(direct, dict) or not isinstance(from_env, dict):
        raise InvalidInput(key_at(where, key), "expected a table of names and values")
    pairs = [(str(k), str(v)) for k, v in direct.items()]
    for name, variable in from_env.items():
        value = os.environ.get(str(variable))
        if value is None:
            raise InvalidInput(key_at(where, f"{key}_env.{name}"), f"${variable} is not set")
        pairs.append((str(name), value))
    return pairs


def _indexes(value: Any, where: str) -> CqlIndexes:
    if isinstance(value, str):
        if value not in INDEX_PRESETS:
            raise InvalidInput(where, f"unknown preset {value!r}; one of {sorted(INDEX_PRESETS)}")
        return INDEX_PRESETS[value]
    if not isinstance(value, dict):
        raise InvalidInput(where, "expected a preset name or a table of index names")
    unknown = set(value) - {"isbn", "issn", "oclc", "title"}
    if unknown:
        raise InvalidInput(key_at(where, ", ".join(sorted(unknown))), "unknown key(s)")
    names = {k: (v or None) for k, v in value.items()}
    if not all(v is None or isinstance(v, str) for v in names.values()):
        raise InvalidInput(where, "index names are strings ('' for none)")
    return CqlIndexes(**{"isbn": None, "issn": None, "oclc": None, "title": None, **names})


def parse_target(table: Mapping[str, Any], where: str, *, extra: Sequence[str] = ()) -> SruTarget:
    """An SRU target from its TOML table; keys in ``extra`` are left for the caller."""
    if not isinstance(table, Mapping):
        raise InvalidInput(where or "sru", "expected a table")
    unknown = set(table) - _TARGET_KEYS - set(extra)
    if unknown:
        raise InvalidInput(key_at(where, ", ".join(sorted(unknown))), "unknown key(s)")
    if not isinstance(table.get("url"), str) or not table["url"].startswith(
        ("http://", "https://")
    ):
        raise InvalidInput(key_at(where, "url"), "required: the SRU base URL (http:// or https://)")
    version = str(table.get("version", "1.2"))
    if version not in SRU_VERSIONS:
        raise InvalidInput(
            key_at(where, "version"), f"{version!r} is not one of {sorted(SRU_VERSIONS)}"
        )
    options: dict[str, Any] = {}
    for key, kind in (
        ("record_schema", str),
        ("max_records", int),
        ("timeout_seconds", (int, float)),
        ("title_fallback", bool),
        ("max_bytes", int),
    ):
        if key in table:
            options[key] = _typed(table, key, kind, where)
    if "timeout_seconds" in options:
        options["timeout_seconds"] = float(options["timeout_seconds"])
        if options["timeout_seconds"] <= 0:
            raise InvalidInput(key_at(where, "timeout_seconds"), "must be positive")
    if options.get("max_records", 1) < 1:
        raise InvalidInput(key_at(where, "max_records"), "must be at least 1")
    return SruTarget(
        url=table["url"],
        version=version,
        indexes=_indexes(table.get("indexes", "standard"), key_at(where, "indexes")),
        params=tuple(_pairs(table, "params", where)),
        headers=tuple(_pairs(table, "headers", where)),
        **options,
    )


def from_config(table: Mapping[str, Any], context: object = None) -> SruHoldingsLocator:
    """The ``[ports.holdings]`` factory: our catalogue's :class:`SruHoldingsLocator`.

    ``table`` is the ``[ports.holdings]`` table without its ``factory`` key (a ``factory`` key
    is ignored); ``context`` (the node's configuration) is not needed.
    """
    data = {k: v for k, v in table.items() if k != "factory"}
    where = ""
    target = parse_target(data, where, extra=("holders", "desks", "default_desk"))
    holders = data.get("holders", [])
    desks = data.get("desks", {})
    default_desk = data.get("default_desk")
    if not isinstance(holders, list) or not all(isinstance(h, str) for h in holders):
        raise InvalidInput(key_at(where, "holders"), "expected a list of holder codes")
    if not isinstance(desks, dict) or not all(isinstance(v, str) for v in desks.values()):
        raise InvalidInput(key_at(where, "desks"), "expected a table of location = desk")
    if default_desk is not None and not isinstance(default_desk, str):
        raise InvalidInput(key_at(where, "default_desk"), "expected a desk name")
    return SruHoldingsLocator(
        SruClient(target), holders=holders, desks=desks, default_desk=default_desk
    )


def split_partner_sru(
    partners: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], dict[AgencyId, SruTarget]]:
    """The ``[[partners]]`` tables without their ``sru`` key, and each partner's SRU target.

    The first part goes on to the directory parser unchanged; partners without an ``sru``
    key have no target.
    """
    rest: list[dict[str, Any]] = []
    targets: dict[AgencyId, SruTarget] = {}
    for n, raw in enumerate(partners):
        where = f"partners[{n}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(where, "expected a table")
        entry = dict(raw)
        sru = entry.pop("sru", None)
        rest.append(entry)
        if sru is None:
            continue
        agency = entry.get("agency")
        if not isinstance(agency, str) or not agency:
            raise InvalidInput(key_at(where, "agency"), "required with an sru table")
        targets[AgencyId.parse(agency)] = parse_target(sru, key_at(where, "sru"))
    return rest, targets


def partner_holdings(
    targets: Mapping[AgencyId, SruTarget], *, max_concurrency: int = 4
) -> PartnerHoldings:
    """The borrowing look-up over these partners' catalogues (one client each)."""
    return PartnerHoldings(
        {agency: SruClient(target) for agency, target in targets.items()},
        max_concurrency=max_concurrency,
    )
