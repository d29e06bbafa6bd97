"""``resource-sharing staff``: accounts in the node's SQLite store, from the command line."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from resource_sharing_adapters.cli import main
from resource_sharing_adapters.console import Accounts, LoginRefused, SqlAccountStore
from resource_sharing_adapters.storage.sqlite import SQLiteStore


def _config(tmp_path: Path) -> str:
    path = tmp_path / "node.toml"
    path.write_text('[institution]\nagency = "ISIL:US-A"\n[store]\nsqlite = "node.sqlite3"\n')
    return str(path)


def _run(monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(args))


def test_add_list_passwd_token_disable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    base = ["staff", "--config", config]
    assert (
        _run(
            monkeypatch,
            "first pass\n",
            *base,
            "add",
            "ada",
            "--role",
            "borrowing",
            "--role",
            "lending",
            "--desk",
            "Main",
            "--password-stdin",
        )
        == 0
    )
    assert _run(monkeypatch, "", *base, "list") == 0
    assert "ada\tada\tborrowing,lending\tMain\tactive\t-" in capsys.readouterr().out
    assert _run(monkeypatch, "second pass\n", *base, "passwd", "ada", "--password-stdin") == 0
    assert _run(monkeypatch, "", *base, "token", "ada") == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    store = SQLiteStore(tmp_path / "node.sqlite3")
    accounts = Accounts(SqlAccountStore(store))
    now = datetime(2026, 9, 7, tzinfo=UTC)
    assert accounts.login("ada", "second pass", now).username == "ada"
    assert accounts.by_token(token) is not None
    assert _run(monkeypatch, "", *base, "disable", "ada") == 0
    with pytest.raises(LoginRefused, match="disabled"):
        accounts.login("ada", "second pass", now)
    store.close()


def test_refusals_are_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert _run(monkeypatch, "", "staff", "--config", config, "disable", "nobody") == 2
    assert (
        _run(
            monkeypatch,
            "short\n",
            "staff",
            "--config",
            config,
            "add",
            "bo",
            "--role",
            "admin",
            "--password-stdin",
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 2
    assert "Traceback" not in err
