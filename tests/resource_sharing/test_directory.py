"""The directory: a read-only copy of the partners it is given."""

from __future__ import annotations

import pytest

from resource_sharing.directory import Directory, Partner
from resource_sharing.records import AgencyId


def test_a_directory_keeps_a_read_only_copy_of_its_partners() -> None:
    a, b = AgencyId("A"), AgencyId("B")
    given_map = {a: Partner(a)}
    directory = Directory(given_map)
    given_map[b] = Partner(b)
    assert b not in directory.partners
    assert len(directory) == 1
    with pytest.raises(TypeError):
        directory.partners[b] = Partner(b)  # type: ignore[index]
    assert directory == Directory.of([Partner(a)])
    assert directory.get(b) is None
    assert list(directory) == [Partner(a)]
