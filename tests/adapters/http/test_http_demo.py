"""``make demo`` across real sockets: three serve processes, the seed story, exit 0."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_the_http_demo_runs_three_processes_and_ends_as_the_seed_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = runpy.run_path(str(EXAMPLES / "http_demo.py"))["main"]
    out = tmp_path / "timeline.jsonl"
    assert main(["--json", str(out), "--keep", str(tmp_path / "run")]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    keys = {"institution", "side", "request", "state", "event", "tasks", "notices", "instruction"}
    assert keys <= set(lines[0])
    last = {(line["institution"], line["side"]): line["state"] for line in lines}
    assert last == {
        ("US-A", "borrowing"): "completed",
        ("US-B", "lending"): "unfilled",
        ("US-C", "lending"): "completed",
    }
    assert "A: completed, B: unfilled, C: completed" in capsys.readouterr().out
    assert (tmp_path / "run" / "US-A.sqlite3").exists()


def test_the_desk_cli_against_a_running_node(tmp_path: Path) -> None:
    from nodes_http import HOLDING, cluster
    from resource_sharing_adapters.cli import main

    with cluster(tmp_path) as made:
        made.define("US-C", ["US-A"], holdings=[HOLDING])
        made.start("US-C")
        url = f"http://127.0.0.1:{made.ports['US-C']}"
        base = ["desk", "--url", url, "--token", "staff-token"]
        assert main([*base, "tasks", "pick_from_shelf"]) == 0
        assert main([*base, "scan", "C-39001"]) == 0
        assert main([*base, "act", "lending", "nope", "pick"]) == 2
        assert main(["desk", "--url", url, "--token", "bad", "tasks", "check_in"]) == 2
