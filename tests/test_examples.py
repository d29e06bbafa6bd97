"""The runnable examples do what their documentation says."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_seed_story_writes_a_timeline_ending_as_the_seed_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = runpy.run_path(str(EXAMPLES / "seed_story.py"))["main"]
    out = tmp_path / "timeline.jsonl"
    assert main(["--json", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {"institution", "side", "request", "state", "event"} <= set(lines[0])
    last = {(line["institution"], line["side"]): line["state"] for line in lines}
    assert last == {
        ("US-A", "borrowing"): "completed",
        ("US-B", "lending"): "unfilled",
        ("US-C", "lending"): "completed",
    }
    states_at_a = [line["state"] for line in lines if line["institution"] == "US-A"]
    for expected in ("will_supply", "shipped", "received", "on_loan", "recalled"):
        assert expected in states_at_a
    assert "Return to lender" in capsys.readouterr().out


def test_pure_seed_story_ends_as_the_seed_says(capsys: pytest.CaptureFixture[str]) -> None:
    main = runpy.run_path(str(EXAMPLES / "pure_seed_story.py"))["main"]
    assert main() == 0
    assert "end: A completed, B unfilled, C completed" in capsys.readouterr().out


def test_the_benchmarks_story_steps_still_run() -> None:
    """The benchmarks drive real stories; run one iteration of each so they cannot rot."""
    benchmarks = EXAMPLES.parent / "benchmarks"
    simulation = runpy.run_path(str(benchmarks / "simulation.py"))
    simulation["service_loan"]()
    lifecycle = runpy.run_path(str(benchmarks / "lifecycle.py"))
    b0, l0, steps = lifecycle["record_story"]()
    ends = lifecycle["run_ours"](b0, l0, steps)
    assert (ends[0].state.value, ends[1].state.value) == ("completed", "completed")
