"""Every command without its extra says which one to install, in one line, never a traceback.

Each case runs the real command line in a fresh interpreter whose import system refuses
the extra's modules (a meta-path blocker installed before anything is imported), as on a
machine where that extra was never installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from resource_sharing_adapters.cli._extras import EXIT_MISSING_EXTRA, EXTRA_OF_MODULE, EXTRAS

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


_RUNNER = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = set(sys.argv[1].split(",")) - {""}

class Blocker(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
from resource_sharing_adapters.cli import main
sys.exit(main(sys.argv[2:]))
"""


def modules_of(extra: str) -> list[str]:
    return sorted(EXTRAS[extra])


def run(blocked: list[str], *argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, ",".join(blocked), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def postgres_config(tmp_path: Path) -> Path:
    config = tmp_path / "node.toml"
    config.write_text(
        '[institution]\nagency = "ISIL:US-A"\n\n'
        '[store]\npostgres = "postgresql://nobody@127.0.0.1:1/none"\n',
        encoding="utf-8",
    )
    return config


def iso_file(tmp_path: Path) -> Path:
    path = tmp_path / "message.xml"
    path.write_text("<ISO18626Message/>", encoding="utf-8")
    return path


ROTA = (
    "rota",
    "explain",
    "--directory",
    str(EXAMPLES / "rota" / "directory.json"),
    "--request",
    str(EXAMPLES / "rota" / "request.json"),
)
SERVE = ("serve", "--config", str(EXAMPLES / "http" / "institution-a.toml"))
DESK = ("desk", "--url", "http://127.0.0.1:9", "--token", "t", "info")
SIMULATE = ("simulate", "--institutions", "3", "--requests", "5", "--days", "5", "--seed", "1")

CASES = [
    pytest.param("cli", ROTA, id="rota-explain-without-cli"),
    pytest.param("cli", SIMULATE, id="simulate-without-cli"),
    pytest.param("plot", (*SIMULATE, "--plot", "out.png"), id="simulate-plot-without-plot"),
    pytest.param("server", SERVE, id="serve-without-server"),
    pytest.param("server", DESK, id="desk-without-server"),
]


@pytest.mark.parametrize(("extra", "argv"), CASES)
def test_a_command_without_its_extra_names_the_extra_in_one_line(
    extra: str, argv: tuple[str, ...], tmp_path: Path
) -> None:
    result = run(modules_of(extra), *argv, cwd=tmp_path)
    assert result.returncode == EXIT_MISSING_EXTRA, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"resource-sharing {argv[0]} needs the {extra} extra")
    assert lines[0].endswith(f"pip install 'resource-sharing[{extra}]'")
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("action", ["decode", "validate"])
def test_ncip_without_its_extra_names_the_ncip_extra(action: str, tmp_path: Path) -> None:
    result = run(modules_of("ncip"), "ncip", action, str(iso_file(tmp_path)))
    assert result.returncode == EXIT_MISSING_EXTRA, result.stderr
    assert result.stderr.strip().endswith("pip install 'resource-sharing[ncip]'")


def test_the_extras_table_matches_pyproject() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)
    alias = {
        "lxml": "lxml",
        "prometheus-client": "prometheus_client",
        "psycopg-pool": "psycopg_pool",
    }
    for extra, modules in EXTRAS.items():
        names = {req.split(">")[0].split("[")[0].strip() for req in declared[extra]}
        assert {alias.get(n, n) for n in names} <= modules, extra


@pytest.mark.parametrize("action", ["decode", "validate"])
def test_iso18626_without_lxml_names_the_iso18626_extra(action: str, tmp_path: Path) -> None:
    result = run(modules_of("iso18626"), "iso18626", action, str(iso_file(tmp_path)))
    assert result.returncode == EXIT_MISSING_EXTRA
    assert result.stderr.strip() == (
        "resource-sharing iso18626 needs the iso18626 extra (lxml is not installed): "
        "pip install 'resource-sharing[iso18626]'"
    )


def test_a_postgres_node_without_psycopg_names_the_postgres_extra(tmp_path: Path) -> None:
    result = run(modules_of("postgres"), "serve", "--config", str(postgres_config(tmp_path)))
    assert result.returncode == EXIT_MISSING_EXTRA, result.stderr
    assert result.stderr.strip().endswith("pip install 'resource-sharing[postgres]'")
    assert "Traceback" not in result.stderr


ALL_OPTIONAL = sorted(EXTRA_OF_MODULE)
COMMANDS = [
    (),
    ("states",),
    ("iso18626",),
    ("iso18626", "decode"),
    ("iso18626", "validate"),
    ("ncip", "decode"),
    ("rota", "explain"),
    ("serve",),
    ("desk",),
    ("desk", "act"),
    ("simulate",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_needs_no_extra(command: tuple[str, ...]) -> None:
    result = run(ALL_OPTIONAL, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: resource-sharing")


def test_the_core_commands_run_on_a_bare_install() -> None:
    result = run(ALL_OPTIONAL, "states", "lending", "--format", "mermaid")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stateDiagram-v2")


def test_version_is_the_package_version() -> None:
    import resource_sharing

    result = run(ALL_OPTIONAL, "--version")
    assert result.stdout.strip() == f"resource-sharing {resource_sharing.__version__}"


def test_validate_offers_the_codecs_versions() -> None:
    from resource_sharing_adapters.cli.iso18626 import VERSIONS
    from resource_sharing_adapters.iso18626 import Version

    assert tuple(v.value for v in Version) == VERSIONS
