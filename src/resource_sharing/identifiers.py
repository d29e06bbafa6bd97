"""Identifier normalisation for matching a citation against holdings: pure functions.

Catalogues write the same identifier many ways: ``0-306-40615-2 (pbk.)``,
``9780306406157``, ``ISBN 978-0-306-40615-7``; ``(OCoLC)ocm00012345`` and ``12345``;
``n 78-89035`` and ``n78089035``. Alma's locate famously failed on an ISBN with
``(pbk.)`` because it compared strings as given (ILL-SYSTEMS.md §1.5). Every function here
reads one written form and returns the canonical one, or ``None`` when the text is not a
valid identifier of that kind (wrong length, bad check digit, stray letters). None of them
raises: garbage is an ordinary answer when matching records from many catalogues, and the
caller decides whether it is an error (:func:`require` turns ``None`` into
:class:`~resource_sharing.errors.InvalidInput`).

Canonical forms:

- ISBN: the 13 digits of the ISBN-13 (an ISBN-10 becomes ``978`` + its first nine digits +
  a new check digit), so the two forms of one book compare equal.
- ISSN: ``NNNN-NNNC`` with an upper-case ``X`` check character.
- OCLC number: the digits without prefixes (``(OCoLC)``, ``ocm``, ``ocn``, ``on``) or
  leading zeros.
- LCCN: the Library of Congress normalisation (https://www.loc.gov/marc/lccn-namespace.html):
  blanks removed, anything from a ``/`` on removed, and a hyphen removed with the serial
  after it left-padded with zeros to six digits; lower-case prefix letters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from resource_sharing.errors import InvalidInput
from resource_sharing.records import Citation, Identifier

__all__ = [
    "NORMALISERS",
    "isbn10_to_isbn13",
    "isbn13_to_isbn10",
    "match_keys",
    "normalise",
    "normalise_isbn",
    "normalise_issn",
    "normalise_lccn",
    "normalise_oclc",
    "require",
]

_ISBN_PREFIX = re.compile(r"^\s*ISBN(?:-1[03])?\s*:?\s*", re.IGNORECASE)
_ISBN_BODY = re.compile(r"^[0-9][0-9\- ]*[0-9Xx]")
_ISSN_PREFIX = re.compile(r"^\s*(?:e-?)?ISSN\s*:?\s*", re.IGNORECASE)
_ISSN = re.compile(r"^(\d{4})[\- ]?(\d{3}[\dXx])$")
_OCLC = re.compile(
    r"^\s*(?:\(OCoLC\)\s*)?(?:OCLC\s*(?:#|no\.?|number)?\s*:?\s*)?(?:ocm|ocn|on)?\s*(\d+)\s*$",
    re.IGNORECASE,
)
_LCCN = re.compile(r"^(?:[a-z]{0,3}\d{8}|[a-z]{0,2}\d{10})$")


def _isbn10_check(first9: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalise_isbn(text: str) -> str | None:
    """The ISBN-13 for an ISBN-10 or ISBN-13 as catalogues write it, or ``None``.

    Accepts an ``ISBN`` label, hyphens and spaces, and trailing qualifiers such as
    ``(pbk.)`` or ``: 25.00``; verifies the check digit.

    >>> normalise_isbn("0-306-40615-2 (pbk.)")
    '9780306406157'
    >>> normalise_isbn("978-0-306-40615-7") == normalise_isbn("0306406152")
    True
    >>> normalise_isbn("0-306-40615-3") is None
    True
    """
    body = _ISBN_BODY.match(_ISBN_PREFIX.sub("", text))
    if body is None:
        return None
    digits = body.group(0).replace("-", "").replace(" ", "").upper()
    if len(digits) == 10 and digits[:9].isdigit():
        if _isbn10_check(digits[:9]) != digits[9]:
            return None
        return isbn10_to_isbn13(digits)
    if len(digits) == 13 and digits.isdigit() and digits[:3] in ("978", "979"):
        return digits if _isbn13_check(digits[:12]) == digits[12] else None
    return None


def isbn10_to_isbn13(isbn10: str) -> str:
    """The ISBN-13 of a valid, compact ISBN-10 (no check of its own check digit)."""
    first12 = "978" + isbn10[:9]
    return first12 + _isbn13_check(first12)


def isbn13_to_isbn10(isbn13: str) -> str | None:
    """The ISBN-10 of a compact ``978`` ISBN-13, or ``None`` (``979`` ISBNs have none)."""
    if len(isbn13) != 13 or not isbn13.startswith("978"):
        return None
    first9 = isbn13[3:12]
    return first9 + _isbn10_check(first9)


def normalise_issn(text: str) -> str | None:
    """``NNNN-NNNC`` for an ISSN with a valid check character, or ``None``.

    >>> normalise_issn("ISSN 2434-561x")
    '2434-561X'
    >>> normalise_issn("0317-8472") is None
    True
    """
    found = _ISSN.match(_ISSN_PREFIX.sub("", text).strip().split(" (")[0].strip())
    if found is None:
        return None
    first7 = found.group(1) + found.group(2)[:3]
    given = found.group(2)[3].upper()
    total = sum((8 - i) * int(d) for i, d in enumerate(first7))
    check = (11 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    if given != expected:
        return None
    return f"{found.group(1)}-{found.group(2)[:3]}{given}"


def normalise_oclc(text: str) -> str | None:
    """The OCLC number's digits without prefixes or leading zeros, or ``None``.

    >>> normalise_oclc("(OCoLC)ocm00012345")
    '12345'
    >>> normalise_oclc("on1234567890")
    '1234567890'
    """
    found = _OCLC.match(text)
    if found is None:
        return None
    number = found.group(1).lstrip("0")
    return number or None


def normalise_lccn(text: str) -> str | None:
    """The normalised LCCN (Library of Congress rules), or ``None`` if it is not one.

    >>> normalise_lccn("n 78-89035")
    'n78089035'
    >>> normalise_lccn(" 79139101 /AC/r932")
    '79139101'
    >>> normalise_lccn("2001-000002")
    '2001000002'
    """
    compact = "".join(text.split())
    compact = compact.partition("/")[0]
    if "-" in compact:
        head, _, serial = compact.partition("-")
        if not serial.isdigit() or len(serial) > 6:
            return None
        compact = head + serial.zfill(6)
    compact = compact.lower()
    return compact if _LCCN.match(compact) else None


NORMALISERS: dict[str, Callable[[str], str | None]] = {
    "ISBN": normalise_isbn,
    "ISSN": normalise_issn,
    "EISSN": normalise_issn,
    "OCLC": normalise_oclc,
    "LCCN": normalise_lccn,
}
"""The normaliser for each identifier code (upper case); other codes are compared as given."""

_KEY_CODE = {"EISSN": "ISSN"}


def normalise(identifier: Identifier) -> Identifier | None:
    """The identifier in canonical form, or ``None`` when its value is not valid.

    A code without a normaliser (``ISMN``, a local record id...) keeps its value with the
    surrounding blanks removed; an empty value gives ``None``. The code is upper-cased and
    ``EISSN`` is folded into ``ISSN``.
    """
    code = identifier.code.strip().upper()
    normaliser = NORMALISERS.get(code)
    value = normaliser(identifier.value) if normaliser else identifier.value.strip() or None
    if value is None:
        return None
    return Identifier(_KEY_CODE.get(code, code), value)


def match_keys(identifiers: Citation | Iterable[Identifier]) -> frozenset[Identifier]:
    """The canonical identifiers of a citation (or of any identifiers), invalid ones left out.

    Two descriptions of the same item match when their key sets intersect.
    """
    source = (
        (*identifiers.item_ids, *identifiers.record_ids)
        if isinstance(identifiers, Citation)
        else identifiers
    )
    keys = (normalise(ident) for ident in source)
    return frozenset(key for key in keys if key is not None)


def require(code: str, text: str) -> str:
    """The canonical form of ``text`` as an identifier of this code, or raise.

    Raises :class:`~resource_sharing.errors.InvalidInput` (field = the code) when the
    text is not a valid identifier of that kind.
    """
    found = normalise(Identifier(code, text))
    if found is None:
        raise InvalidInput(code, f"{text!r} is not a valid {code.upper()}")
    return found.value
