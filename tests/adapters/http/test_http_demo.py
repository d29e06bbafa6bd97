"""``make demo`` across real sockets: three serve processes, the seed story, exit 0."""

from __future__ import annotations

import argparse
import json
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_the_http_demo_runs_three_processes_and_ends_as_the_seed_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = runpy.run_path(str(EXAMPLES / "http_demo.py"))["main"]
    path = tmp_path / "timeline.jsonl"
    assert main(["--json", str(path), "--keep", str(tmp_path / "run")]) == 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    keys = {"institution", "side", "request", "state", "label", "event", "partner", "tasks"}
    keys |= {"notices", "instruction", "messages"}
    assert keys <= set(lines[0])
    last = {(line["institution"], line["side"]): line["state"] for line in lines}
    assert last == {
        ("US-A", "borrowing"): "completed",
        ("US-B", "lending"): "unfilled",
        ("US-C", "lending"): "completed",
    }
    out = capsys.readouterr().out
    assert "A: completed, B: unfilled, C: completed" in out
    assert (tmp_path / "run" / "US-A.sqlite3").exists()
    # Every change, with the label staff know: the rota's move from B to C included.
    at_a = [(line["label"], line["partner"]) for line in lines if line["institution"] == "US-A"]
    assert ("Request sent to partner", "US-B") in at_a
    assert ("Request sent to partner", "US-C") in at_a
    assert at_a.index(("Request sent to partner", "US-B")) < at_a.index(
        ("Request sent to partner", "US-C")
    )
    assert "Rejected the borrower request" in {line["label"] for line in lines}
    assert "  A borrowing Request sent to partner" in out
    # The ISO 18626 messages as they pass, in the order they were sent.
    conversation = [line.strip() for line in out.splitlines() if " ISO 18626 " in line]
    assert conversation[:4] == [
        "A -> B  ISO 18626 request",
        "B -> A  ISO 18626 supplyingAgencyMessage Unfilled (RequestResponse)",
        "A -> C  ISO 18626 request",
        "C -> A  ISO 18626 supplyingAgencyMessage WillSupply (RequestResponse)",
    ]
    assert "C -> A  ISO 18626 supplyingAgencyMessage LoanCompleted (StatusChange)" in conversation
    sent = [m for line in lines for m in line["messages"]]
    assert sent[0] == "A -> B  ISO 18626 request"


def test_the_demo_takes_fixed_ports() -> None:
    main = runpy.run_path(str(EXAMPLES / "http_demo.py"))["_ports"]
    assert main("8701,8702,8703") == [8701, 8702, 8703]
    for bad in ("8701,8702", "1,1,2", "a,b,c", "0,1,2"):
        with pytest.raises(argparse.ArgumentTypeError):
            main(bad)


def test_the_desk_cli_against_a_running_node(tmp_path: Path) -> None:
    from resource_sharing_adapters.cli import main
    from tests.adapters.nodes_http import HOLDING, cluster

    with cluster(tmp_path) as made:
        made.define("US-C", ["US-A"], holdings=[HOLDING])
        made.start("US-C")
        url = f"http://127.0.0.1:{made.ports['US-C']}"
        base = ["desk", "--url", url, "--token", "staff-token"]
        assert main([*base, "tasks", "pick_from_shelf"]) == 0
        assert main([*base, "scan", "C-39001"]) == 0
        assert main([*base, "act", "lending", "nope", "pick"]) == 2
        assert main(["desk", "--url", url, "--token", "bad", "tasks", "check_in"]) == 2
