"""TLS on loopback: ``serve`` terminates it, the transport verifies it.

Mutual TLS maps a client certificate to its partner. Certificates come from a CA made
for the test (the ``cryptography`` package).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from resource_sharing.directory import Partner, ProtocolSettings
from resource_sharing.errors import DeliveryError, InvalidInput
from resource_sharing.iso18626 import MessageStatus
from resource_sharing.messages import Confirmation, Header, Request
from resource_sharing.records import AgencyId, Citation
from resource_sharing_adapters.http import (
    AUTHENTICATION_FAILED,
    ClientTLS,
    Credentials,
    HttpTransport,
    parse_config,
)
from tests.adapters.http.serve_http import SECRET, STAFF_TOKEN, Served, served
from tests.adapters.http.tls_certs import Authority, Leaf, authority

A, C = AgencyId("US-A"), AgencyId("US-C")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("pki")
    ca = authority(root / "ca")
    other = authority(root / "other", "Other CA")
    return {
        "ca": ca,
        "other": other,
        "server": ca.issue("localhost"),
        "us-a": ca.issue("us-a.example.org", client=True),
        "us-b": ca.issue("us-b.example.org", client=True),
        "stranger": other.issue("us-a.example.org", client=True),
    }


def _server_tls(pki: dict[str, Any], **extra: Any) -> dict[str, Any]:
    server: Leaf = pki["server"]
    return {"certificate": str(server.certificate), "key": str(server.key), **extra}


def _verify(pki: dict[str, Any], client: Leaf | None = None) -> ssl.SSLContext:
    """Trust the test CA (and present ``client``'s certificate, if given)."""
    ca: Authority = pki["ca"]
    context = ssl.create_default_context(cafile=str(ca.certificate))
    if client is not None:
        context.load_cert_chain(str(client.certificate), str(client.key))
    return context


def _send(made: Served, tls: ClientTLS | None, request_id: str) -> Confirmation:
    header = Header(A, C, request_id, datetime.now(UTC))
    credentials = Credentials("US-A", SECRET, tls=tls)
    partner = Partner(C, protocol=ProtocolSettings(endpoint=made.url))
    with HttpTransport(credentials={C: credentials}, timeout=10) as transport:
        return transport.send(partner, Request(header, Citation(title="x")), request_id)


@pytest.fixture(scope="module")
def tls_node(pki: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ca: Authority = pki["ca"]
    with served(
        tmp_path_factory.mktemp("tls"),
        tls=_server_tls(pki, client_ca=str(ca.certificate)),
        partner={
            "inbound": {
                "account_id": "US-A",
                "security_code": SECRET,
                "client_certificate": "us-a.example.org",
            }
        },
        verify=_verify(pki),
    ) as made:
        yield made


def test_serve_terminates_tls_and_the_transport_verifies_it_with_the_partner_ca(
    tls_node: Served, pki: dict[str, Any]
) -> None:
    assert tls_node.base_url.startswith("https://")
    us_a: Leaf = pki["us-a"]
    ca: Authority = pki["ca"]
    tls = ClientTLS(ca=ca.certificate, certificate=us_a.certificate, key=us_a.key)
    confirmation = _send(tls_node, tls, "tls-ok-1")
    assert confirmation.status is MessageStatus.OK
    staff = httpx.get(
        f"{tls_node.base_url}/staff/info",
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        verify=_verify(pki),
    )
    assert staff.json()["endpoint"].startswith("https://")


def test_the_transport_refuses_a_server_its_trust_store_does_not_know(
    tls_node: Served, pki: dict[str, Any]
) -> None:
    other: Authority = pki["other"]
    with pytest.raises(DeliveryError) as refused:
        _send(tls_node, ClientTLS(ca=other.certificate), "tls-unknown-ca")
    assert refused.value.retryable
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        _send(tls_node, None, "tls-system-store")


@pytest.mark.parametrize(
    ("who", "why"),
    [
        (None, "no verified TLS client certificate"),
        ("us-b", "does not name us-a.example.org"),
    ],
)
def test_mutual_tls_refuses_a_partner_without_its_own_verified_certificate(
    tls_node: Served, pki: dict[str, Any], who: str | None, why: str
) -> None:
    ca: Authority = pki["ca"]
    leaf: Leaf | None = pki[who] if who else None
    tls = ClientTLS(
        ca=ca.certificate,
        certificate=leaf.certificate if leaf else None,
        key=leaf.key if leaf else None,
    )
    confirmation = _send(tls_node, tls, f"tls-{who}")
    assert confirmation.status is MessageStatus.ERROR
    assert confirmation.error is not None
    assert confirmation.error.value == AUTHENTICATION_FAILED
    assert why in tls_node.log()


def test_a_client_certificate_from_another_ca_fails_the_handshake(
    tls_node: Served, pki: dict[str, Any]
) -> None:
    ca: Authority = pki["ca"]
    stranger: Leaf = pki["stranger"]
    tls = ClientTLS(ca=ca.certificate, certificate=stranger.certificate, key=stranger.key)
    with pytest.raises(DeliveryError, match="network error"):
        _send(tls_node, tls, "tls-stranger")


def test_a_certificate_fingerprint_names_a_partner_too(pki: dict[str, Any], tmp_path: Path) -> None:
    ca: Authority = pki["ca"]
    us_a: Leaf = pki["us-a"]
    with served(
        tmp_path,
        tls=_server_tls(pki, client_ca=str(ca.certificate), require_client_certificate=True),
        partner={"inbound": {"account_id": "US-A", "client_certificate": f"sha256:{us_a.sha256}"}},
        verify=_verify(pki, us_a),
    ) as made:
        tls = ClientTLS(ca=ca.certificate, certificate=us_a.certificate, key=us_a.key)
        assert _send(made, tls, "tls-fp-1").status is MessageStatus.OK
        with pytest.raises(DeliveryError):  # required: no certificate, no handshake
            _send(made, ClientTLS(ca=ca.certificate), "tls-fp-2")


def test_tls_files_are_checked_when_the_configuration_is_read(
    pki: dict[str, Any], tmp_path: Path
) -> None:
    base = {"institution": {"agency": "ISIL:US-C"}}
    server: Leaf = pki["server"]
    with pytest.raises(InvalidInput, match=r"server\.tls\.key"):
        parse_config(
            {
                **base,
                "server": {"tls": {"certificate": str(server.certificate), "key": "nope.key"}},
            },
            base=tmp_path,
        )
    with pytest.raises(InvalidInput, match="needs both"):
        parse_config({**base, "server": {"tls": {"certificate": str(server.certificate)}}})
    mixed = {"certificate": str(server.certificate), "key": str(pki["us-b"].key)}
    with pytest.raises(InvalidInput, match="cannot use these files"):
        parse_config({**base, "server": {"tls": mixed}})
    with pytest.raises(InvalidInput, match="require_client_certificate needs client_ca"):
        parse_config({**base, "server": {"tls": _server_tls(pki, require_client_certificate=True)}})
    partner = {
        "agency": "ISIL:US-A",
        "outbound": {"tls": {"ca": str(pki["ca"].certificate), "colour": "blue"}},
    }
    with pytest.raises(InvalidInput, match=r"partners\[0\].outbound.tls"):
        parse_config({**base, "partners": [partner]})
