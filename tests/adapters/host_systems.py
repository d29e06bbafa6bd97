"""Each institution's host systems on loopback, and the example configs pointed at them.

:class:`HostSystems` starts one institution's ILS (``loopback_ils.LoopbackIls``, which
validates every NCIP message against the XSD), SRU catalogue (``sru_catalogue``) and mail
server (``mail_server``, STARTTLS and AUTH). :func:`localise` reads a configuration of
``examples/host/`` and moves its loopback addresses (``127.0.0.1:87xx``) to the ports the
test servers got, leaving every other setting as the example has it; :class:`HostCluster`
runs such nodes as ``nodes_http.Cluster`` does, each in its own folder (its store, print
folder and the mail server's CA as ``mail-ca.pem``).
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resource_sharing_adapters.http import NodeConfig, parse_config
from tests.adapters.mail_server import MailServer
from tests.adapters.ncip.loopback_ils import LoopbackIls
from tests.adapters.nodes_http import FAST_DELIVERY, START, Cluster, free_port
from tests.adapters.sru_catalogue import SruCatalogue

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "host"


@dataclass
class HostSystems:
    """One institution's ILS, catalogue and mail server (started; :meth:`stop` them)."""

    ils: LoopbackIls
    sru: SruCatalogue
    mail: MailServer

    @classmethod
    def start(
        cls, xsd: Path, folder: Path, *, agency: str, secret: str, sru: SruCatalogue
    ) -> HostSystems:
        folder.mkdir(parents=True, exist_ok=True)
        ils = LoopbackIls(xsd, agency=agency, authentication=secret, lifetime=300.0).start()
        mail = MailServer(folder)
        mail.__enter__()
        sru.start()
        return cls(ils, sru, mail)

    def stop(self) -> None:
        self.ils.stop()
        self.sru.stop()
        self.mail.__exit__()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def _moved(value: Any, ports: dict[int, int]) -> Any:
    if isinstance(value, dict):
        return {
            k: (ports.get(v, v) if k == "port" and isinstance(v, int) else _moved(v, ports))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_moved(v, ports) for v in value]
    if isinstance(value, str):
        for old, new in ports.items():
            value = value.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
        return value
    return value


def localise(name: str, ports: dict[int, int]) -> dict[str, Any]:
    """``examples/host/<name>.toml`` with its loopback ports moved (``ports``: old -> new).

    The node also gets a shifted, adjustable clock (the story skips days) and fast
    retries; nothing else changes.
    """
    table = tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))
    moved: dict[str, Any] = _moved(table, ports)
    moved["clock"] = {"start": START, "adjustable": True}
    moved["delivery"] = dict(FAST_DELIVERY)
    return moved


class HostCluster(Cluster):
    """A :class:`~nodes_http.Cluster` whose nodes live in their own folders."""

    def folder(self, name: str) -> Path:
        return self.root / name

    def config(self, name: str) -> NodeConfig:
        return parse_config(self.tables[name], base=self.folder(name))

    def use(self, name: str, table: dict[str, Any], systems: HostSystems | None) -> None:
        """Run ``table`` as institution ``name`` (its ``[server] port`` is its port)."""
        self.tables[name] = table
        self.ports[name] = int(table["server"]["port"])
        self.folder(name).mkdir(parents=True, exist_ok=True)
        printer = table.get("ports", {}).get("printer", {})
        if "folder" in printer:  # the printer wants its folder to exist (a hot folder)
            (self.folder(name) / printer["folder"]).mkdir(parents=True, exist_ok=True)
        if systems is not None:
            shutil.copy(systems.mail.cert_file, self.folder(name) / "mail-ca.pem")


def example_ports(systems: dict[str, HostSystems], nodes: dict[str, int]) -> dict[int, int]:
    """The examples' loopback ports (87x1 A, 87x2 B, 87x3 C, 87x4 D) -> the test's ones.

    ``nodes`` gives each institution letter's node port; ``systems`` each one's servers.
    """
    found: dict[int, int] = {}
    for n, letter in enumerate("ABCD", 1):
        found[8710 + n] = nodes.get(letter) or free_port()
        own = systems.get(letter)
        if own is not None:
            found[8720 + n] = _port(own.ils.url)
            found[8730 + n] = _port(own.sru.url)
            found[8740 + n] = own.mail.port
    return found
