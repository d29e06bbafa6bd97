"""Every command's bad input is one line in words and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from resource_sharing_adapters.cli import main

CASES = [
    (["iso18626", "decode", "/nonexistent.xml"], "cannot read /nonexistent.xml"),
    (["iso18626", "validate", "/nonexistent.xml"], "cannot read /nonexistent.xml"),
    (["ncip", "decode", "/nonexistent.xml"], "cannot read /nonexistent.xml"),
    (
        ["rota", "explain", "--directory", "/nonexistent.json", "--request", "/x.json"],
        "/nonexistent.json: cannot read it",
    ),
    (["simulate", "--scenario", "/nonexistent.json"], "cannot read the scenario"),
    (["simulate", "--requests", "-5"], "requests: -5 must be at least 1"),
    (["serve", "--config", "/nonexistent.toml"], "/nonexistent.toml: cannot read it"),
    (["serve", "--config", "/nonexistent.toml", "--check"], "/nonexistent.toml: cannot read it"),
    (["desk", "--config", "/nonexistent.toml", "info"], "/nonexistent.toml: cannot read it"),
]


@pytest.mark.parametrize(
    ("argv", "words"), CASES, ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else ""
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    said = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert "Traceback" not in captured.err
    assert words in said[0]
    if "--check" not in argv:
        assert len(said) == 1, said


@pytest.mark.parametrize("argv", [["states"], ["desk", "act"], ["serve"], ["nope"]])
def test_a_usage_error_is_argparse_s_two_lines_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("resource-sharing")


def test_states_json_is_format_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["states", "lending", "--json"]) == 0
    flag = capsys.readouterr().out
    assert main(["states", "lending", "--format", "json"]) == 0
    assert flag == capsys.readouterr().out
