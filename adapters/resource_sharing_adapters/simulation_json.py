"""The JSON scenario format of the simulator, parsed at the edge (see ``docs/simulation.md``).

Every key is optional; unknown keys are refused so that a typo never silently runs the
default. Ranges are ``[low, high]`` lists. Errors are :class:`InvalidInput` naming the key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from resource_sharing.errors import InvalidInput
from resource_sharing.simulation import (
    LenderBehaviour,
    NetworkFaults,
    PatronBehaviour,
    Scenario,
    Variant,
)

__all__ = ["load_scenario", "parse_scenario"]

_TOP = {
    "institutions", "requests", "days", "seed", "titles", "holders_per_title", "demand_skew",
    "lender", "lenders", "patron", "faults", "scorers", "variants", "max_rota",
}  # fmt: skip


def load_scenario(path: Path) -> Scenario:
    """Read and parse a scenario file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(str(path), f"cannot read the scenario: {error}") from error
    return parse_scenario(data)


def parse_scenario(data: Any, **overrides: Any) -> Scenario:
    """A scenario from a decoded JSON document; ``overrides`` replace top-level keys."""
    if not isinstance(data, dict):
        raise InvalidInput("scenario", "must be a JSON object")
    data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    unknown = set(data) - _TOP - {"description"}
    if unknown:
        raise InvalidInput("scenario", f"unknown keys: {', '.join(sorted(unknown))}")
    fields: dict[str, Any] = {}
    try:
        for key in ("institutions", "requests", "days", "seed", "titles"):
            if key in data:
                fields[key] = _int(key, data[key])
        if "holders_per_title" in data:
            fields["holders_per_title"] = _range("holders_per_title", data["holders_per_title"])
        if "demand_skew" in data:
            fields["demand_skew"] = float(data["demand_skew"])
        if "max_rota" in data:
            fields["max_rota"] = (
                None if data["max_rota"] is None else _int("max_rota", data["max_rota"])
            )
        if "lender" in data:
            fields["lender"] = _lender("lender", data["lender"])
        if "lenders" in data:
            fields["lenders"] = {
                _int("lenders", int(k)): _lender(f"lenders.{k}", v)
                for k, v in _object("lenders", data["lenders"]).items()
            }
        if "patron" in data:
            fields["patron"] = PatronBehaviour(**_ranges(_object("patron", data["patron"])))
        if "faults" in data:
            fields["faults"] = NetworkFaults(**_object("faults", data["faults"]))
        if "scorers" in data:
            fields["scorers"] = _scorers("scorers", data["scorers"])
        if "variants" in data:
            fields["variants"] = tuple(
                Variant(str(v["name"]), _scorers(f"variants.{v['name']}", v.get("scorers", {})))
                for v in data["variants"]
            )
        return Scenario(**fields)
    except InvalidInput:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise InvalidInput("scenario", str(error)) from error


def _int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(key, f"{value!r} is not a whole number")
    return value


def _object(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(key, "must be a JSON object")
    return value


def _range(key: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise InvalidInput(key, f"{value!r} is not a [low, high] pair")
    return (_int(key, value[0]), _int(key, value[1]))


def _ranges(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _range(k, v) if k.endswith("_days") else v for k, v in values.items()}


def _lender(key: str, value: Any) -> LenderBehaviour:
    return LenderBehaviour(**_ranges(_object(key, value)))


def _scorers(key: str, value: Any) -> tuple[tuple[str, float], ...]:
    known = {"load", "fill_rate", "turnaround"}
    scorers = _object(key, value)
    bad = set(scorers) - known
    if bad:
        raise InvalidInput(key, f"unknown scorers {sorted(bad)}; known: {sorted(known)}")
    return tuple((name, float(weight)) for name, weight in scorers.items())
