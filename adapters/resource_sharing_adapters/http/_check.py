"""``serve --check``: every problem of a node configuration, not just the first.

:func:`check_config` reads the file as :func:`~resource_sharing_adapters.http.load_config`
does, and each time the reading stops at a problem it notes it, sets the offending key
(or, when it cannot be told apart, its whole table) aside, and reads again, until the
rest reads cleanly. Then it checks what reading alone cannot: that every partner has an
endpoint to deliver to and credentials to check its messages against, that the staff
API has a token, that a SQLite store's folder can be written, and that every
``[ports.NAME]`` factory builds its port from its table (a missing print folder or CA
file, an unset environment variable; nothing is connected to). Each problem is one line
naming the place in the file.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from resource_sharing.errors import InvalidInput
from resource_sharing.memory import FixedClock
from resource_sharing_adapters.http._config import NodeConfig, parse_config
from resource_sharing_adapters.http._ports import Journal, build_port, port_context
from resource_sharing_adapters.storage import MemoryFeeds

__all__ = ["ConfigReport", "check_config"]

_MAX_ROUNDS = 200
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDER_AGENCY = "ISIL:XX-CHECK"


@attrs.frozen
class ConfigReport:
    """What ``serve --check`` found."""

    source: Path
    """The file checked."""
    problems: tuple[str, ...]
    """Each problem in words, with its place in the file (empty: the file is good)."""
    notes: tuple[str, ...] = ()
    """Things worth knowing that do not stop the node (a staff API that is off...)."""
    config: NodeConfig | None = None
    """The configuration, when it read without problems."""

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def _steps(field: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(field)]


def _set_aside(data: dict[str, Any], error: InvalidInput) -> bool:
    """Remove what ``error`` names from ``data``; False when nothing could be removed."""
    field, problem = error.field, error.problem
    inner = re.match(r"^([\w.\[\]]+): (.*)$", problem)
    while inner and not problem.startswith("$"):  # "where: field: problem" from a nested read
        field, problem = inner.group(1), inner.group(2)
        inner = re.match(r"^([\w.\[\]]+): (.*)$", problem)
    steps = _steps(field)
    if not steps:
        return False
    if field == "institution.agency":
        data.setdefault("institution", {})["agency"] = _PLACEHOLDER_AGENCY
        return True
    unknown = re.match(r"unknown key\(s\): (.*)$", problem)
    node: Any = data
    for step in steps[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return _drop_top(data, steps)
    if unknown and isinstance(node, dict):
        table = node.get(steps[-1]) if steps[-1] in node else None
        target = table if isinstance(table, dict) else node
        names = [n.strip() for n in unknown.group(1).split(",")]
        removed = [target.pop(n) for n in names if n in target]
        if removed:
            return True
    last = steps[-1]
    try:
        del node[last]
    except (KeyError, IndexError, TypeError):
        return _drop_top(data, steps)
    return True


def _drop_top(data: dict[str, Any], steps: list[str | int]) -> bool:
    top = steps[0]
    if isinstance(top, str) and top in data:
        del data[top]
        return True
    return False


def _where(error: InvalidInput) -> str:
    return str(error)


def _semantic(config: NodeConfig) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    for partner in config.directory.partners.values():
        if not partner.protocol.endpoint:
            problems.append(f"partners {partner.agency}: no protocol.endpoint to deliver to")
        credentials = config.credentials.get(partner.agency)
        inbound = credentials.inbound if credentials is not None else None
        if inbound is None or not (inbound.security_code or inbound.authorization):
            problems.append(
                f"partners {partner.agency}: no inbound credentials (security_code or "
                "authorization): its messages would be refused"
            )
    if not config.server.staff_token:
        notes.append("server.staff_token is not set: the staff API (and desk) is off")
    if not 0 < config.server.port < 65536:
        problems.append(f"server.port: {config.server.port} is not a TCP port")
    if config.store.kind == "sqlite" and config.store.target:
        folder = Path(config.store.target).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK):
            problems.append(f"store.sqlite: cannot write in {folder}")
    if config.store.kind == "memory":
        notes.append("store: memory; nothing survives the process")
    problems += _port_problems(config)
    return problems, notes


def _port_problems(config: NodeConfig) -> list[str]:
    """What each configured port's factory says of its table (the port is closed again)."""
    context = port_context(config, Journal(MemoryFeeds()), FixedClock(datetime.now(UTC)))
    problems: list[str] = []
    for name, spec in config.ports.items():
        try:
            port = build_port(name, spec, context)
        except InvalidInput as error:
            problems.append(str(error))
            continue
        closer = getattr(port, "close", None)
        if callable(closer):
            closer()
    return problems


def check_config(path: str | os.PathLike[str]) -> ConfigReport:
    """Every problem of the configuration file at ``path``."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        return ConfigReport(file, (f"{file}: cannot read it: {exc.strerror or exc}",))
    except tomllib.TOMLDecodeError as exc:
        return ConfigReport(file, (f"{file}: not valid TOML: {exc}",))
    base = file.resolve().parent
    work = copy.deepcopy(data)
    problems: list[str] = []
    config: NodeConfig | None = None
    for _ in range(_MAX_ROUNDS):
        try:
            config = parse_config(work, base=base, stem=file.stem)
            break
        except InvalidInput as error:
            problems.append(_where(error))
            if not _set_aside(work, error):
                problems.append("(the rest of the file could not be checked past this)")
                break
    if config is None:
        return ConfigReport(file, tuple(problems))
    more, notes = _semantic(config)
    problems.extend(more)
    if problems:
        return ConfigReport(file, tuple(problems), tuple(notes))
    return ConfigReport(file, (), tuple(notes), attrs.evolve(config, source=file))
