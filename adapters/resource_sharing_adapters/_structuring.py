"""Structuring configuration and input documents (JSON, TOML) into the core's records.

One set of cattrs hooks, shared by every adapter that reads documents people write (the
rota's directory and request files, an institution's TOML configuration): agency ids as
``TYPE:VALUE`` strings, decimals, dates and aware datetimes (ISO 8601 strings, or the
native values TOML already gives), and IANA time-zone names. Every failure becomes an
:class:`~resource_sharing.errors.InvalidInput` that names where in the document it is.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cattrs

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId

__all__ = ["base_converter", "key_at", "structure"]

T = TypeVar("T")


def key_at(where: str, key: str) -> str:
    """``key`` inside the table at ``where`` ("" for the factory's own table)."""
    return f"{where}.{key}" if where else key


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
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput("date", f"{value!r} is not an ISO 8601 date")


def _datetime(value: Any, _: object) -> datetime:
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput("datetime", f"{value!r} is not an ISO 8601 date and time") from None
    if not isinstance(moment, datetime):
        raise InvalidInput("datetime", f"{value!r} is not an ISO 8601 date and time")
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


def base_converter() -> cattrs.Converter:
    """A strict converter (unknown keys refused) with the shared hooks registered."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(AgencyId, _agency)
    converter.register_structure_hook(Decimal, _decimal)
    converter.register_structure_hook(date, _date)
    converter.register_structure_hook(datetime, _datetime)
    converter.register_structure_hook(tzinfo, _zone)
    return converter


def _message(exc: BaseException, _: object) -> str:
    if isinstance(exc, InvalidInput):
        return exc.problem
    if isinstance(exc, KeyError):
        return "required field missing"
    return cattrs.v.format_exception(exc, None)


def structure(
    converter: cattrs.Converter, data: Any, cls: type[T], where: str, *, path: str | None = None
) -> T:
    """``data`` as a ``cls``; an InvalidInput naming ``where`` and each problem if not.

    Each problem is located by a path starting with ``path`` (default: ``where``).
    """
    try:
        return converter.structure(data, cls)
    except InvalidInput as exc:
        raise InvalidInput(where, str(exc)) from exc
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            problems = cattrs.transform_error(exc, path=path or where, format_exception=_message)
        else:
            problems = [str(exc)]
        raise InvalidInput(where, "; ".join(problems)) from exc
