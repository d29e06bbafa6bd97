"""``resource-sharing desk``: help on everything, one-line errors, tables and --json.

The commands run against real nodes on loopback (tests/adapters/nodes_http.py); errors are
checked as a user sees them: one line on stderr, the exit status, no traceback.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_sharing_adapters.cli import build_parser, main
from resource_sharing_adapters.http import ACTIONS
from tests.adapters.nodes_http import (
    BOOK,
    HOLDING,
    PATRON,
    STAFF_TOKEN,
    Cluster,
    cluster,
    free_port,
)

DAY = 86_400.0


def walk(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, f"{path} {name}".strip())
        else:
            yield path, action


def test_every_argument_of_every_command_has_help() -> None:
    missing = [
        f"{path}: {action.dest}"
        for path, action in walk(build_parser())
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []


def test_act_help_lists_every_action_of_each_side_with_its_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["desk", "act", "--help"])
    out = capsys.readouterr().out
    borrowing, lending = out.split("  borrowing:")[1].split("  lending:")
    for (side, name), (_, fields) in ACTIONS.items():
        section = borrowing if side.value == "borrowing" else lending
        line = next(line for line in section.splitlines() if line.split()[:1] == [name])
        for field in fields:
            assert f"--{field.replace('_', '-')}" in line
    assert "receive            --barcode* TEXT" in out


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_a_node_that_is_down_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["desk", "--url", url, "--token", "t", "info"]) == 1
    line = one_line_error(capsys)
    assert line.startswith("resource-sharing desk: the node is down or unreachable")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["act", "borrowing", "R-1", "receive"], "receive needs --barcode"),
        (["act", "lending", "R-1", "answer-cancel"], "answer-cancel needs --accept"),
        (["act", "borrowing", "R-1", "receive", "--shelf", "x"], "receive does not take --shelf"),
        (["act", "borrowing", "R-1", "fly"], "borrowing has no action 'fly'"),
        (["act", "borrowing", "R-1", "receive", "--barcode"], "--barcode needs a value"),
        (["place", "@/nonexistent/request.json"], "cannot read /nonexistent/request.json"),
        (["place", "[1, 2]"], "the request must be a JSON object"),
        (["place", "{not json"], "JSON: not valid JSON"),
    ],
)
def test_bad_input_is_one_line_in_words_before_any_call(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the check comes first
    status = main(["desk", "--url", url, "--token", "t", *argv])
    line = one_line_error(capsys)
    assert message in line
    assert status == 2 or "place" not in argv[0]


def test_without_a_node_or_a_token_says_what_to_give(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RS_STAFF_TOKEN", raising=False)
    assert main(["desk", "info"]) == 2
    assert "give the node: --config FILE, or --url URL" in one_line_error(capsys)
    assert main(["desk", "--url", "http://127.0.0.1:1", "info"]) == 2
    assert "give the staff token" in one_line_error(capsys)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Cluster, list[str]]]:
    with cluster(tmp_path) as made:
        made.define("US-A", ["US-C"], borrowing={"loan": {"renewal": {"window_days": 3}}})
        made.define("US-C", ["US-A"], holdings=[HOLDING])
        made.start("US-A")
        made.start("US-C")
        yield (
            made,
            ["desk", "--url", f"http://127.0.0.1:{made.ports['US-A']}", "--token", STAFF_TOKEN],
        )


def test_a_staff_session_in_tables_and_json(
    node: tuple[Cluster, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made, desk = node
    body = tmp_path / "request.json"
    body.write_text(
        json.dumps({"patron": PATRON, "citation": BOOK, "rota": ["ISIL:US-C"]}), encoding="utf-8"
    )
    assert main([*desk, "--json", "place", f"@{body}"]) == 0
    placed = json.loads(capsys.readouterr().out)
    rid = placed["id"]
    made.settled()
    c_id = made.lending_id("US-C", "US-A", placed["protocol_ids"][0])
    c = made.staff["US-C"]
    c.act("lending", c_id, "pick")
    c.act("lending", c_id, "ship")
    made.wait_state("US-A", "borrowing", rid, "shipped")

    assert main([*desk, "tasks", "received_items"]) == 0
    assert "received_items: " in capsys.readouterr().out
    assert main([*desk, "act", "borrowing", rid, "receive", "--barcode", "A-TEMP-1"]) == 0
    out = capsys.readouterr().out
    assert "Physically received by library" in out
    assert main([*desk, "act", "borrowing", rid, "check-out"]) == 0
    assert "Loaned item to patron" in capsys.readouterr().out

    # Too early to renew: the refusal is shown, with the day renewals open.
    assert main([*desk, "act", "borrowing", rid, "renew"]) == 0
    out = capsys.readouterr().out
    assert "renewal refused" in out
    assert "too early to renew" in out
    assert "renewals open on" in out
    assert main([*desk, "act", "borrowing", rid, "renew", "--json"]) == 0
    told = json.loads(capsys.readouterr().out)["told"]
    assert told[0]["detail"]["notice"] == "renewal_refused"

    assert main([*desk, "show", "borrowing", rid]) == 0
    out = capsys.readouterr().out
    assert "History" in out
    assert "Loaned item to patron" in out
    for command in (
        ["info"],
        ["journal"],
        ["changes"],
        ["failed"],
        ["outbox"],
        ["tick"],
        ["dispatch"],
    ):
        assert main([*desk, *command]) == 0, command
        assert capsys.readouterr().out.strip()
    assert main([*desk, "find", "borrowing", placed["protocol_ids"][0], "ISIL:US-C"]) == 0
    assert capsys.readouterr().out.strip() == f"borrowing request {rid}"


@pytest.mark.parametrize(
    ("command", "api"),
    [
        (["info"], lambda s: s.info()),
        (["journal"], lambda s: s.journal()),
        (["changes"], lambda s: s.changes()),
        (["outbox"], lambda s: s.outbox()),
        (["failed"], lambda s: s.outbox("given_up")),
        (["tasks", "pick_from_shelf"], lambda s: s.tasks("pick_from_shelf")),
    ],
)
def test_json_is_the_staff_api_answer(
    node: tuple[Cluster, list[str]],
    command: list[str],
    api: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made, desk = node
    assert main([*desk, *command, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    expected = api(made.staff["US-A"])  # type: ignore[operator]
    if command == ["info"]:
        shown.pop("now"), expected.pop("now")
    assert shown == json.loads(json.dumps(expected, default=str))


def test_refusals_from_the_node_are_one_line(
    node: tuple[Cluster, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _made, desk = node
    assert main([*desk, "show", "borrowing", "nope"]) == 2
    assert one_line_error(capsys).startswith("resource-sharing desk: not found:")
    assert main([*desk, "tasks", "nope"]) == 2
    assert "task_list: expected one of" in one_line_error(capsys)
    bad = [*desk[:-1], "wrong-token"]
    assert main([*bad, "info"]) == 2
    assert "refused the staff token" in one_line_error(capsys)
