"""TLS for the node: the server's certificate, mutual TLS, and verified outbound peers.

Server (the ``[server.tls]`` table, :class:`ServerTLS`): ``serve`` terminates TLS with
``certificate`` and ``key`` (PEM files; TLS 1.2 at least). With ``client_ca`` it asks
every client for a certificate and verifies it against that CA bundle; a client without
one may still connect (staff, partners without mutual TLS) unless
``require_client_certificate`` is set. A partner whose ``inbound.client_certificate`` is
configured must present a verified certificate that names it: the value is compared
with the certificate's DNS names and subject common name, or, written
``sha256:<hex>``, with the certificate's fingerprint. That maps a verified client
certificate to the partner agency (see the authenticator).

Client (a partner's ``outbound.tls``, :class:`ClientTLS`): the HTTP transport always
verifies the partner's certificate and host name, against the system's trust store or
against the partner's own ``ca``; ``certificate`` and ``key`` are ours, presented for
mutual TLS.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from pathlib import Path
from typing import Any, Literal, final

import attrs

from resource_sharing.errors import InvalidInput

__all__ = [
    "ClientTLS",
    "PeerCertificate",
    "ServerTLS",
    "client_context",
    "parse_client_tls",
    "parse_server_tls",
    "peer_certificate",
    "server_context",
    "tls_scope",
]

_PEER_KEY = "resource_sharing.peer_certificate"
_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


@final
@attrs.frozen(kw_only=True)
class ServerTLS:
    """The ``[server.tls]`` table: terminate TLS in ``serve``."""

    certificate: Path
    """Our certificate chain (PEM), leaf first."""
    key: Path
    """Its private key (PEM, unencrypted; readable by the service user only)."""
    client_ca: Path | None = None
    """CA bundle (PEM) that client certificates must chain to (mutual TLS)."""
    require_client_certificate: bool = False
    """Refuse, in the handshake, any client without a verified certificate."""
    minimum_version: Literal["1.2", "1.3"] = "1.2"
    """The oldest TLS version accepted."""


@final
@attrs.frozen(kw_only=True)
class ClientTLS:
    """A partner's ``outbound.tls``: how we verify it, and what we present."""

    ca: Path | None = None
    """CA bundle (PEM) for this partner's certificate (None: the system trust store)."""
    certificate: Path | None = None
    """Our client certificate chain (PEM) for mutual TLS."""
    key: Path | None = None
    """Its private key (PEM)."""


def server_context(tls: ServerTLS) -> ssl.SSLContext:
    """The server's SSL context (certificate, minimum version, client verification)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[tls.minimum_version]
    context.load_cert_chain(str(tls.certificate), str(tls.key))
    if tls.client_ca is not None:
        context.load_verify_locations(cafile=str(tls.client_ca))
        context.verify_mode = (
            ssl.CERT_REQUIRED if tls.require_client_certificate else ssl.CERT_OPTIONAL
        )
    elif tls.require_client_certificate:
        raise ValueError("server.tls: require_client_certificate needs client_ca")
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def client_context(tls: ClientTLS | None) -> ssl.SSLContext:
    """An SSL context that verifies the peer (host name and chain) and may present ours."""
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(tls.ca) if tls and tls.ca else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls is not None and tls.certificate is not None:
        context.load_cert_chain(str(tls.certificate), str(tls.key) if tls.key else None)
    return context


@final
@attrs.frozen
class PeerCertificate:
    """A client certificate the handshake verified."""

    subject_cn: str | None
    """The subject's common name."""
    dns_names: tuple[str, ...]
    """The subjectAltName DNS entries."""
    sha256: str
    """The SHA-256 fingerprint of the DER certificate, lowercase hex."""

    def names(self, expected: str) -> bool:
        """Whether the certificate is the one ``expected`` names (a name or ``sha256:hex``)."""
        if expected.lower().startswith("sha256:"):
            wanted = expected[7:].replace(":", "").lower()
            return hmac.compare_digest(wanted.encode(), self.sha256.encode())
        wanted = expected.lower()
        candidates = [*(n.lower() for n in self.dns_names)]
        if self.subject_cn is not None:
            candidates.append(self.subject_cn.lower())
        return wanted in candidates


def _from_ssl(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> PeerCertificate | None:
    details = ssl_object.getpeercert()
    der = ssl_object.getpeercert(binary_form=True)
    if not details or not der:  # none, or not verified (getpeercert is then empty)
        return None
    cn = None
    for rdn in details.get("subject", ()):
        for pair in rdn:
            if pair[0] == "commonName":
                cn = str(pair[1])
    dns = tuple(str(pair[1]) for pair in details.get("subjectAltName", ()) if pair[0] == "DNS")
    return PeerCertificate(cn, dns, hashlib.sha256(der).hexdigest())


def tls_scope(transport: Any) -> dict[str, Any] | None:
    """The ASGI ``tls`` extension for a connection (None when it is not TLS).

    Besides the standard keys it carries the verified :class:`PeerCertificate` under
    ``resource_sharing.peer_certificate`` (None without one).
    """
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    certificate = _from_ssl(ssl_object)
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": (
            [ssl.DER_cert_to_PEM_cert(ssl_object.getpeercert(binary_form=True))]
            if certificate is not None
            else []
        ),
        "client_cert_name": certificate.subject_cn if certificate else None,
        "client_cert_error": None,
        "tls_version": ssl_object.version(),
        "cipher_suite": cipher[0] if cipher else None,
        _PEER_KEY: certificate,
    }


def peer_certificate(scope: Any) -> PeerCertificate | None:
    """The verified client certificate of a request's connection, if any."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    found = tls.get(_PEER_KEY)
    return found if isinstance(found, PeerCertificate) else None


# -- reading the configuration ---------------------------------------------------------


def _path(table: dict[str, Any], key: str, base: Path, where: str) -> Path | None:
    value = table.pop(key, None)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}.{key}", f"expected a file name, got {value!r}")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise InvalidInput(f"{where}.{key}", f"no such file: {path}")
    return path


def _done(table: dict[str, Any], where: str) -> None:
    if table:
        raise InvalidInput(where, f"unknown key(s): {', '.join(sorted(table))}")


def parse_server_tls(data: Any, base: Path, where: str = "server.tls") -> ServerTLS:
    """``[server.tls]`` as a :class:`ServerTLS` (files relative to ``base``, and checked)."""
    if not isinstance(data, dict):
        raise InvalidInput(where, "expected a table")
    table = dict(data)
    certificate = _path(table, "certificate", base, where)
    key = _path(table, "key", base, where)
    if certificate is None or key is None:
        raise InvalidInput(where, "needs both certificate and key")
    client_ca = _path(table, "client_ca", base, where)
    required = table.pop("require_client_certificate", False)
    if not isinstance(required, bool):
        raise InvalidInput(f"{where}.require_client_certificate", "expected true or false")
    version = table.pop("minimum_version", "1.2")
    if version not in _VERSIONS:
        raise InvalidInput(f"{where}.minimum_version", "expected '1.2' or '1.3'")
    _done(table, where)
    tls = ServerTLS(
        certificate=certificate,
        key=key,
        client_ca=client_ca,
        require_client_certificate=required,
        minimum_version=version,
    )
    try:
        server_context(tls)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise InvalidInput(where, f"cannot use these files: {exc}") from exc
    return tls


def parse_client_tls(data: Any, base: Path, where: str) -> ClientTLS:
    """A partner's ``outbound.tls`` as a :class:`ClientTLS` (files relative to ``base``)."""
    if not isinstance(data, dict):
        raise InvalidInput(where, "expected a table")
    table = dict(data)
    tls = ClientTLS(
        ca=_path(table, "ca", base, where),
        certificate=_path(table, "certificate", base, where),
        key=_path(table, "key", base, where),
    )
    _done(table, where)
    if tls.key is not None and tls.certificate is None:
        raise InvalidInput(where, "a key without a certificate")
    try:
        client_context(tls)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise InvalidInput(where, f"cannot use these files: {exc}") from exc
    return tls
