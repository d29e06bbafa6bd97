"""``resource-sharing ncip validate|decode`` on every real message in ../shared/ncip/samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resource_sharing_adapters.cli import main
from resource_sharing_adapters.ncip import CheckInItem, Header, encode
from tests.adapters.ncip.corpus_ncip import manifest_rows, require_ncip

_ROWS = manifest_rows()
_IDS = [row["file"] for row in _ROWS] or ["ncip-folder-missing"]
_PARAMS = _ROWS or [{}]
_BROKEN = "folio_CancelRequestItem-missing-user.xml"
"""The one deliberately broken request: a CancelRequestItem without UserId."""


def test_every_sample_is_in_the_manifest() -> None:
    files = {path.name for path in (require_ncip() / "samples").glob("*.xml")}
    assert files == {row["file"] for row in manifest_rows()}
    assert _BROKEN in files


@pytest.mark.parametrize("row", _PARAMS, ids=_IDS)
def test_validate_agrees_with_the_manifest(
    row: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = require_ncip() / "samples" / row["file"]
    status = main(["ncip", "validate", str(path)])
    out = capsys.readouterr().out
    if row["valid_against_ncip_v2_02"] == "yes":
        assert status == 0, out
        assert out.strip().endswith("valid NCIP 2.02")
    else:
        assert row["valid_against_ncip_v2_02"].startswith("no: ")
        assert status == 1, out
        first_error = row["valid_against_ncip_v2_02"].removeprefix("no: ").split(" (line")[0]
        assert first_error in out


@pytest.mark.parametrize("row", _PARAMS, ids=_IDS)
def test_decode_is_lenient_except_on_the_broken_request(
    row: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = require_ncip() / "samples" / row["file"]
    status = main(["ncip", "decode", str(path)])
    out = capsys.readouterr().out
    if row["file"] == _BROKEN:
        assert status == 2
        assert len(out.strip().splitlines()) == 1
        assert "Needed Data Missing: CancelRequestItem needs UserId or AuthenticationInput" in out
        return
    assert status == 0, out
    decoded = json.loads(out)
    assert decoded["service"] == row["message"]
    assert (decoded["header"] is None) or isinstance(decoded["header"]["from_agency"], str)
    if row["message"] == "Problem" or "problem" in row["file"]:
        assert decoded["problems"]
        assert all(isinstance(p["type"], str) for p in decoded["problems"])


def test_the_lenient_readings_are_noted(capsys: pytest.CaptureFixture[str]) -> None:
    folder = require_ncip() / "samples"
    assert main(["ncip", "decode", str(folder / "folio_AcceptItem-fee-no-namespace.xml")]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert "no NCIP namespace" in decoded["warnings"]
    assert any("unqualified version" in w for w in decoded["warnings"])
    assert decoded["fields"]["ItemId"]["ItemIdentifierValue"] == "LEH-20191003227"
    assert decoded["fields"]["PickupLocation"] == "DELIVERY"


def test_the_header_authentication_is_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "checkin.xml"
    path.write_bytes(
        encode(CheckInItem("C-1"), Header("US-A", "ILS", from_agency_authentication="s3cret"))
    )
    assert main(["ncip", "decode", str(path)]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert json.loads(out)["header"]["from_agency_authentication"] == "***"


def test_unreadable_files_exit_2(tmp_path: Path) -> None:
    missing = f"{tmp_path}/nothing.xml"
    assert main(["ncip", "decode", missing]) == 2
    assert main(["ncip", "validate", missing]) == 2
