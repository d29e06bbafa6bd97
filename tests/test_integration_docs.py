"""docs/integration.md's worked examples build working ports, exactly as written."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from resource_sharing.testing.fakes import FixedClock
from resource_sharing_adapters.http import Journal, build_ports, parse_config
from resource_sharing_adapters.ncip import NcipCirculation, NcipPatronValidator
from resource_sharing_adapters.sru import SruHoldingsLocator
from resource_sharing_adapters.storage import MemoryFeeds

DOC = Path(__file__).resolve().parents[1] / "docs" / "integration.md"


def _worked_examples() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Worked examples\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```toml\n(.*?)```", section, re.S)


def _variables(value: Any, key: str = "") -> Iterator[str]:
    """The environment variables a table names (``*_env`` keys and tables)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _variables(inner, name)
    elif isinstance(value, str) and key.endswith("_env"):
        yield value
    if isinstance(value, dict) and key.endswith("_env"):
        yield from (v for v in value.values() if isinstance(v, str))


def test_there_is_a_worked_example_for_folio_koha_and_alma() -> None:
    profiles = [
        tomllib.loads(block)["ports"]["circulation"]["profile"] for block in _worked_examples()
    ]
    assert profiles == ["folio", "koha", "alma"]


@pytest.mark.parametrize("block", _worked_examples(), ids=["folio", "koha", "alma"])
def test_a_worked_example_builds_its_ports(
    block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tomllib.loads(block)
    for variable in set(_variables(table)):
        monkeypatch.setenv(variable, f"{variable.lower()}-value-for-the-test")
    config = parse_config({"institution": {"agency": "ISIL:US-X"}, **table}, base=tmp_path)
    clock = FixedClock(datetime(2026, 9, 7, 9, tzinfo=UTC))
    ports = build_ports(config, Journal(MemoryFeeds()), clock)
    assert isinstance(ports["circulation"], NcipCirculation)
    assert isinstance(ports["patron_validator"], NcipPatronValidator)
    assert isinstance(ports["holdings"], SruHoldingsLocator)
    assert config.ncip_inbound is not None
    assert config.ncip_inbound.path == "/ncip"
    circulation = ports["circulation"]
    assert circulation.client.config.profile.name == table["ports"]["circulation"]["profile"]
