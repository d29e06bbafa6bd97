"""A consortium's shared directory file, included by each member's node configuration.

A consortium keeps one TOML file of its members (who they are, where they listen, the
terms they lend on) and every member's configuration includes it::

    # institution-a.toml
    [consortium]
    directory = "consortium.toml"        # relative to this file; or a list of files

    [[partners]]                         # only what is ours to say: the credentials
    agency = "ISIL:US-B"
    inbound = { account_id = "US-B", security_code_env = "RS_SECRET_B_TO_A" }
    outbound = { account_id = "US-A", security_code_file = "/run/credentials/a-to-b" }

    # consortium.toml
    [consortium]
    name = "Seed consortium"
    [terms]                              # every member's default terms
    loan_period_days = 28
    [[partners]]
    agency = "ISIL:US-B"
    name = "Beta College"
    protocol = { endpoint = "https://beta.example.org/iso18626" }
    terms = { delivery_days = 3 }

The node's partners are the file's members except itself, each merged with the node's
own ``[[partners]]`` entry of the same agency (the node's values win, table by table);
an entry only in the node's file is a partner too. Secrets stay out of the shared file:
``..._env`` and ``..._file`` keys name where each node finds them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId
from resource_sharing_adapters._structuring import base_converter, structure

__all__ = ["merge", "read_directory", "with_consortium"]

_CONVERTER = base_converter()
_FILE_KEYS = frozenset({"consortium", "terms", "partners"})


def _agency(entry: Any, where: str) -> AgencyId:
    if not isinstance(entry, dict):
        raise InvalidInput(where, "expected a table")
    return structure(_CONVERTER, entry.get("agency"), AgencyId, f"{where}.agency")


def merge(shared: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    """``shared`` with ``local`` laid over it, table by table (``local`` wins)."""
    out = dict(shared)
    for key, value in local.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_directory(path: Path, where: str) -> list[dict[str, Any]]:
    """The member entries of one consortium file, its default ``[terms]`` applied."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(where, f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(where, f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise InvalidInput(f"{path}", f"unknown key(s): {', '.join(unknown)}")
    terms = data.get("terms", {})
    members = data.get("partners", [])
    if not isinstance(terms, dict):
        raise InvalidInput(f"{path}: terms", "expected a table")
    if not isinstance(members, list):
        raise InvalidInput(f"{path}: partners", "expected an array of tables ([[partners]])")
    found = []
    for n, entry in enumerate(members):
        _agency(entry, f"{path}: partners[{n}]")
        found.append(merge({"terms": terms} if terms else {}, entry))
    return found


def with_consortium(
    table: Any, partners: Any, base: Path, agency: AgencyId
) -> list[dict[str, Any]]:
    """The node's partner entries: the consortium's members merged with its own."""
    if table is None:
        return partners  # type: ignore[no-any-return]  # checked by the caller
    if not isinstance(table, dict):
        raise InvalidInput("consortium", "expected a table")
    unknown = sorted(set(table) - {"directory"})
    if unknown:
        raise InvalidInput("consortium", f"unknown key(s): {', '.join(unknown)}")
    files = table.get("directory")
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise InvalidInput("consortium.directory", "expected a file name or a list of them")
    if not isinstance(partners, list):
        raise InvalidInput("partners", "expected an array of tables ([[partners]])")
    members: dict[AgencyId, dict[str, Any]] = {}
    for name in files:
        path = Path(name).expanduser()
        path = path if path.is_absolute() else base / path
        for entry in read_directory(path, "consortium.directory"):
            key = _agency(entry, "consortium.directory")
            members[key] = merge(members.get(key, {}), entry)
    members.pop(agency, None)
    for n, entry in enumerate(partners):
        key = _agency(entry, f"partners[{n}]")
        members[key] = merge(members.get(key, {}), entry)
    return list(members.values())
