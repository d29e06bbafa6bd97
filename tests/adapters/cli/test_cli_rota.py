"""``resource-sharing rota explain`` and the JSON documents it reads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId
from resource_sharing.rota import DropReason, build_rota
from resource_sharing_adapters.cli import rota as rota_cli
from resource_sharing_adapters.rota_json import load_directory, load_request, parse_directory

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rota"
DIRECTORY = EXAMPLES / "directory.json"
REQUEST = EXAMPLES / "request.json"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    rota_cli.register(parser.add_subparsers())
    args = parser.parse_args(["rota", "explain", *argv])
    status: int = args.handler(args)
    return status


def test_the_example_prints_the_table_with_every_candidate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("--directory", str(DIRECTORY), "--request", str(REQUEST)) == 0
    out = capsys.readouterr().out
    assert "Rota for request BR-2025-0042" in out
    assert "selection: rule faculty-loans" in out
    for agency in ("US-MID", "US-EAST", "US-CITY", "CA-FAR", "US-GHOST", "US-RARE"):
        assert f"ISIL:{agency}" in out
    for reason in (
        "own_institution",
        "inactive",
        "closed",
        "already_tried",
        "not_held",
        "deflected_cost",
        "deflected_age",
        "capacity_reached",
        "unknown_partner",
    ):
        assert f"dropped: {reason}" in out


def test_the_example_documents_build_the_documented_rota() -> None:
    directory, policy = load_directory(DIRECTORY)
    request, context = load_request(REQUEST)
    rota = build_rota(request, directory, context, policy)
    assert [str(a) for a in rota.agencies] == [
        "ISIL:US-MID",
        "ISIL:US-EAST",
        "ISIL:US-CITY",
        "ISIL:CA-FAR",
    ]
    assert rota.entries[-1].fallback
    # The OCLC number with its (OCoLC)ocm prefix matched the request's plain one.
    assert AgencyId("US-MID") in rota.agencies
    assert rota.explanation.dropped()[AgencyId("US-HILL")].reason is DropReason.NOT_HELD
    assert [s.weight for s in policy.scorers if s.name == "turnaround"] == [1.5]


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize(
    ("directory", "message"),
    [
        ("{not json", "not valid JSON"),
        ([], "JSON object"),
        ({"partners": [{"name": "no agency"}]}, "$.partners[0].agency"),
        ({"partners": [{"agency": "ISIL:A", "activ": False}]}, "activ"),
        ({"partners": [{"agency": 7}]}, "expected a string"),
        ({"rules": [{"name": "r", "templates": ["missing"]}]}, "unknown template"),
        ({"weights": {"speed": 2}}, "unknown scorer"),
        ({"partners": [{"agency": "ISIL:A"}, {"agency": "ISIL:A"}]}, "more than once"),
        ({"partners": [{"agency": "ISIL:A", "calendar": {"tz": "Mars/Olympus"}}]}, "time zone"),
        ({"partners": [{"agency": "ISIL:A", "services": ["teleport"]}]}, "$.partners[0].services"),
    ],
)
def test_a_bad_directory_is_a_clear_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], directory: object, message: str
) -> None:
    path = write(tmp_path, "dir.json", directory)
    assert run("--directory", str(path), "--request", str(REQUEST)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert str(path) in captured.err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["request"].pop("id"), "$.request.id"),
        (lambda d: d["request"].update(created_at="2025-03-03T09:15:00"), "UTC offset"),
        (lambda d: d["request"].update(service_type="Borrow"), "$.request.service_type"),
        (lambda d: d["context"].update(today="yesterday"), "ISO 8601 date"),
        (lambda d: d["context"]["facts"]["ISIL:US-MID"].update(open_requests=-1), "negative"),
        (lambda d: d["request"]["max_cost"].update(amount="ten"), "not a number"),
    ],
)
def test_a_bad_request_is_a_clear_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: object, message: str
) -> None:
    document = json.loads(REQUEST.read_text())
    change(document)  # type: ignore[operator]
    path = write(tmp_path, "req.json", document)
    assert run("--directory", str(DIRECTORY), "--request", str(path)) == 2
    assert message in capsys.readouterr().err


def test_a_missing_file_is_a_clear_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--directory", str(tmp_path / "nope.json"), "--request", str(REQUEST)) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_loader_errors_are_the_librarys_typed_errors() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_directory('{"partners": [{}]}', "inline")
    assert caught.value.field == "inline"
    assert not isinstance(caught.value, KeyError)


def test_json_prints_the_rota_and_every_candidate(capsys: pytest.CaptureFixture[str]) -> None:
    from resource_sharing_adapters.cli import main

    argv = ["rota", "explain", "--directory", str(EXAMPLES / "directory.json")]
    assert main([*argv, "--request", str(EXAMPLES / "request.json"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    kept = [c for c in shown["candidates"] if c["kept"]]
    assert [c["rank"] for c in kept] == list(range(1, len(kept) + 1))
    assert all(c["dropped"] and c["why"] is not None for c in shown["candidates"] if not c["kept"])
