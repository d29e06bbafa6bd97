"""Node configuration: the consortium file, secrets, [store] options, ``serve --check``.

The consortium directory file is included; secrets come from the environment and from
files; ``serve --check`` lists every problem of a configuration, not just the first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from resource_sharing.errors import InvalidInput
from resource_sharing.records import AgencyId
from resource_sharing_adapters.cli import main
from resource_sharing_adapters.http import load_config, parse_config
from resource_sharing_adapters.http._check import check_config

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
B, C = AgencyId.parse("ISIL:US-B"), AgencyId.parse("ISIL:US-C")


@pytest.fixture
def consortium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example consortium in a folder of its own, its secrets provided."""
    for name in ("consortium.toml", "alpha.toml"):
        shutil.copy(EXAMPLES / "consortium" / name, tmp_path / name)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "alpha-to-beta").write_text("a-to-b\n", encoding="utf-8")
    (credentials / "alpha-to-gamma").write_text("a-to-c", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    monkeypatch.setenv("RS_ALPHA_STAFF_TOKEN", "staff")
    monkeypatch.setenv("RS_BETA_TO_ALPHA", "b-to-a")
    monkeypatch.setenv("RS_GAMMA_TO_ALPHA", "c-to-a")
    return tmp_path / "alpha.toml"


def test_a_node_takes_its_partners_from_the_consortium_file(consortium: Path) -> None:
    config = load_config(consortium)
    assert set(config.directory.partners) == {B, C}  # not itself
    beta, gamma = config.directory.partners[B], config.directory.partners[C]
    assert beta.name == "Beta College"
    assert beta.protocol.endpoint == "http://127.0.0.1:8702/iso18626"
    assert (beta.terms.loan_period_days, beta.terms.delivery_days) == (28, 3)  # the defaults
    assert gamma.terms.delivery_days == 2  # its own entry wins
    assert config.server.staff_token == "staff"
    assert config.credentials[B].inbound.security_code == "b-to-a"
    assert config.credentials[B].outbound.security_code == "a-to-b"  # file, newline dropped
    assert config.credentials[C].outbound.security_code == "a-to-c"


def test_the_node_entry_wins_over_the_shared_one(consortium: Path) -> None:
    text = consortium.read_text(encoding="utf-8").replace(
        'agency = "ISIL:US-C"\n', 'agency = "ISIL:US-C"\nname = "Gamma (our name)"\n', 1
    )
    consortium.write_text(text, encoding="utf-8")
    assert load_config(consortium).directory.partners[C].name == "Gamma (our name)"


def test_check_of_the_example_consortium_is_ok(
    consortium: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--config", str(consortium), "--check"]) == 0
    assert capsys.readouterr().out.strip().endswith("alpha.toml: ok")


@pytest.mark.parametrize("name", ["institution-a.toml", "institution-b.toml", "institution-c.toml"])
def test_the_http_examples_check_ok(name: str) -> None:
    report = check_config(EXAMPLES / "http" / name)
    assert report.problems == ()


def test_a_missing_secret_file_or_variable_is_named(
    consortium: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RS_BETA_TO_ALPHA")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", "/nonexistent")
    problems = check_config(consortium).problems
    assert any("security_code_env: $RS_BETA_TO_ALPHA is not set" in p for p in problems)
    assert any("security_code_file: cannot read /nonexistent/alpha-to-beta" in p for p in problems)


def test_a_missing_consortium_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        '[institution]\nagency = "ISIL:US-A"\n[consortium]\ndirectory = "nowhere.toml"\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match=r"consortium\.directory: cannot read"):
        load_config(config)


def test_postgres_store_options() -> None:
    config = parse_config(
        {
            "institution": {"agency": "ISIL:US-A"},
            "store": {
                "postgres": "postgresql://rs@db/ill",
                "schema": "alpha",
                "pool_min_size": 2,
                "pool_max_size": 16,
            },
        }
    )
    store = config.store
    assert (store.kind, store.schema, store.pool_min_size, store.pool_max_size) == (
        "postgres",
        "alpha",
        2,
        16,
    )
    with pytest.raises(InvalidInput, match="pool_min_size <= pool_max_size"):
        parse_config(
            {
                "institution": {"agency": "ISIL:US-A"},
                "store": {"postgres": "x", "pool_min_size": 9, "pool_max_size": 4},
            }
        )


BAD = """
[institution]
name = 3
colour = "red"

[server]
port = "eighty"
staf_token = "x"

[store]
sqlite = "x.db"
pool_max_size = 4

[delivery]
max_attempts = "many"

[borrowing]
default_loan_days = "three weeks"

[[partners]]
agency = "ISIL:US-B"
"""


def test_check_lists_every_problem_not_just_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(BAD, encoding="utf-8")
    assert main(["serve", "--config", str(config), "--check"]) == 2
    out = capsys.readouterr().out.splitlines()
    problems = [line.removeprefix("problem: ") for line in out if line.startswith("problem: ")]
    expected = [
        "institution.agency: required",
        "institution.name: expected str",
        "institution: unknown key(s): colour",
        "server.port: expected int, got 'eighty'",
        "server: unknown key(s): staf_token",
        "store.pool_max_size: only a PostgreSQL store has a pool",
        "delivery.max_attempts: expected int",
        "borrowing: ",
        "partners ISIL:US-B: no protocol.endpoint",
        "partners ISIL:US-B: no inbound credentials",
    ]
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), (problem, start)
    assert out[-1] == f"{config}: 10 problems"
    assert "note: server.staff_token is not set" in "\n".join(out)


def test_check_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[institution]\nagency = 'ISIL:US-A'\n[server]\nport = 0\n", encoding="utf-8")
    assert main(["serve", "--config", str(config), "--check", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["problems"] == ["server.port: 0 is not a TCP port"]


def test_check_of_a_file_that_is_not_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[institution\n", encoding="utf-8")
    assert main(["serve", "--config", str(config), "--check"]) == 2
    assert "not valid TOML" in capsys.readouterr().out


def test_check_builds_every_configured_port_and_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/host/alpha.toml as shipped: its print folder and mail CA are not there yet."""
    shutil.copy(EXAMPLES / "host" / "alpha.toml", tmp_path / "alpha.toml")
    for key in ("A_STAFF_TOKEN", "A_NCIP_SECRET", "A_SMTP_PASSWORD"):
        monkeypatch.setenv(key, "value")
    monkeypatch.setenv("A_ILS_INBOUND_KEY", "an-inbound-key-long-enough")
    report = check_config(tmp_path / "alpha.toml")
    assert report.problems == (
        f"ports.notifier: smtp.ca_file: {tmp_path}/mail-ca.pem is not a file",
        f"ports.printer: folder: {tmp_path}/var/print-out/alpha is not a folder",
    )
    (tmp_path / "mail-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    (tmp_path / "var" / "print-out" / "alpha").mkdir(parents=True)
    assert check_config(tmp_path / "alpha.toml").ok
    monkeypatch.delenv("A_NCIP_SECRET")
    problems = check_config(tmp_path / "alpha.toml").problems
    assert [p.split(":")[0] for p in problems] == ["ports.circulation", "ports.patron_validator"]
    assert all("A_NCIP_SECRET is not set" in p for p in problems)
