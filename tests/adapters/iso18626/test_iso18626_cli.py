"""The ``resource-sharing iso18626`` commands, through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resource_sharing_adapters.cli import main
from tests.adapters.iso18626.corpus_iso18626 import expectation, manifest_rows, require_corpus

_ROWS = manifest_rows()
_IDS = [row["file"] for row in _ROWS] or ["corpus-missing"]
_PARAMS = _ROWS or [{}]


@pytest.mark.parametrize("row", _PARAMS, ids=_IDS)
def test_decode_works_on_every_sample(
    row: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = require_corpus() / row["file"]
    status = main(["iso18626", "decode", str(path)])
    out = json.loads(capsys.readouterr().out)
    expect = expectation(row)
    if expect == "decode":
        assert status == 0
        assert out["message"] == row["message"]
        assert isinstance(out["record"], dict)
    else:
        assert status == 2
        assert out["errorType"] == expect.removeprefix("error:")
        assert out["errorValue"] is not None


@pytest.mark.parametrize("row", _PARAMS, ids=_IDS)
@pytest.mark.parametrize(("version", "column"), [("1.2", "valid_v1_2"), ("2021-2", "valid_2021_2")])
def test_validate_works_on_every_sample(
    row: dict[str, str], version: str, column: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = require_corpus() / row["file"]
    status = main(["iso18626", "validate", str(path), "--version", version])
    out = capsys.readouterr().out
    if row[column] == "valid":
        assert status == 0
        assert f"valid ISO 18626 {version}" in out
    else:
        assert status == 1
        assert "line " in out


def test_decode_prints_datetimes_as_iso_strings_and_masks_the_security_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ram.xml"
    path.write_text(
        '<requestingAgencyMessage xmlns="http://illtransactions.org/2013/iso18626"><header>'
        "<supplyingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>S</agencyIdValue>"
        "</supplyingAgencyId><requestingAgencyId><agencyIdType>ISIL</agencyIdType>"
        "<agencyIdValue>R</agencyIdValue></requestingAgencyId>"
        "<timestamp>2024-05-01T12:00:00+0200</timestamp>"
        "<requestingAgencyRequestId>X</requestingAgencyRequestId>"
        "<requestingAgencyAuthentication><accountId>acc</accountId>"
        "<securityCode>s3cret</securityCode></requestingAgencyAuthentication></header>"
        "<action>Cancel</action></requestingAgencyMessage>",
        encoding="utf-8",
    )
    assert main(["iso18626", "decode", str(path)]) == 0
    text = capsys.readouterr().out
    out = json.loads(text)
    assert out["record"]["header"]["timestamp"] == "2024-05-01T10:00:00+00:00"
    assert out["record"]["action"] == "Cancel"
    assert out["version"] is None
    assert "s3cret" not in text
    assert out["record"]["header"]["authentication"] == {
        "account_id": "acc",
        "security_code": "***",
    }


def test_decode_of_hostile_or_missing_files_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "xxe.xml"
    path.write_bytes(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    assert main(["iso18626", "decode", str(path)]) == 2
    assert json.loads(capsys.readouterr().out)["errorType"] == "BadlyFormedMessage"
    assert main(["iso18626", "decode", str(tmp_path / "missing.xml")]) == 2
    assert main(["iso18626", "validate", str(path)]) == 2
