"""The one pass that reads a structure's children agrees with the careful reading.

The decoder reads each structure in one pass that assumes every child is known, in the
ISO namespace and not repeated; at the first child that is not, it reads the structure
again the careful way (odd children reported in document order, repeats kept). Forcing
the careful reading everywhere must give the same result, or the same error, for written
messages, real ones, and messages with repeated, unknown, foreign and emptied elements.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from corpus_iso18626 import corpus_dir
from resource_sharing_adapters.iso18626 import (
    ISO_NAMESPACE,
    DecodedMessage,
    DecodeError,
    EncodeError,
    _decode,
    decode,
    encode,
)
from strategies_iso18626 import messages

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
_MUTATIONS = ("repeat", "unknown", "foreign", "no-namespace", "empty", "blank", "drop")


def _careful_kids(
    self: _decode._Reader,
    el: etree._Element,
    path: str,
    text_names: _decode._Names,
    el_names: _decode._Names,
    name: str | None = None,
) -> tuple[_decode._Texts, _decode._Els, _decode._More | None]:
    where = path if name is None else f"{path}/{name}"
    return self.odd_kids(list(el), where, text_names, el_names)


def _careful_leaves(
    self: _decode._Reader,
    el: etree._Element,
    path: str,
    names: _decode._Names,
    name: str | None = None,
) -> _decode._Texts:
    return _careful_kids(self, el, path, names, {}, name)[0]


def _outcome(data: bytes, *, strict: bool) -> object:
    try:
        decoded = decode(data, strict=strict)
    except DecodeError as exc:
        return (type(exc), exc.error_type, exc.error_value, exc.kind, exc.element, exc.header)
    return decoded


def _agree(data: bytes) -> None:
    for strict in (False, True):
        one_pass = _outcome(data, strict=strict)
        with (
            patch.object(_decode._Reader, "kids", _careful_kids),
            patch.object(_decode._Reader, "leaves", _careful_leaves),
        ):
            careful = _outcome(data, strict=strict)
        assert one_pass == careful


def _mutate(root: etree._Element, target: int, mutation: str) -> None:
    elements = list(root.iter())
    el = elements[target % len(elements)]
    parent = el.getparent()
    local = etree.QName(el).localname
    if mutation == "repeat" and parent is not None:
        el.addnext(copy.deepcopy(el))
    elif mutation == "unknown":
        etree.SubElement(el if len(el) else root, f"{{{ISO_NAMESPACE}}}fooBar").text = "x"
    elif mutation == "foreign":
        el.tag = f"{{urn:example:other}}{local}"
    elif mutation == "no-namespace":
        el.tag = local
    elif mutation == "empty":
        el.text = None
        for child in list(el):
            el.remove(child)
    elif mutation == "blank":
        el.text = f"  {el.text or ''}\n"
    elif mutation == "drop" and parent is not None:
        parent.remove(el)


@given(messages(), st.sampled_from(["1.2", "2021-2"]))
def test_written_messages_read_alike(message: DecodedMessage, version: str) -> None:
    try:
        data = encode(message, version=version)
    except EncodeError:
        return  # not every record can be written in 2021-2
    _agree(data)


@given(
    messages(v2021=False),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=200), st.sampled_from(_MUTATIONS)),
        min_size=1,
        max_size=4,
    ),
)
def test_odd_messages_read_alike(message: DecodedMessage, mutations: list[tuple[int, str]]) -> None:
    root = etree.fromstring(encode(message))
    for target, mutation in mutations:
        _mutate(root, target, mutation)
    _agree(etree.tostring(root))


def test_real_messages_read_alike() -> None:
    corpus = corpus_dir()
    if corpus is None:
        pytest.skip("the ISO 18626 corpus is not there")
    for path in sorted(corpus.glob("*.xml")):
        _agree(path.read_bytes())
