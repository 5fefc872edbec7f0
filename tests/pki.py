"""Certificates and web configs for Alertmanager and Prometheus behind TLS and basic auth.

Each test session makes its own CA (with `cryptography`), a server certificate for 127.0.0.1
and a client certificate, and writes the exporter-toolkit web config both servers read with
--web.config.file: `basic_auth_users` with a bcrypt hash, and `tls_server_config`.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USERNAME = "alertui"


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_file: Path  # a CA that signed nothing here: verifying with it must fail


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _ca(name: str):
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(ca_key, ca_cert, name: str, usage, sans=()):
    key = _key()
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("alertui test CA")
    server_key, server_cert = _leaf(
        ca_key,
        ca_cert,
        "127.0.0.1",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client_key, client_cert = _leaf(ca_key, ca_cert, "alertui", ExtendedKeyUsageOID.CLIENT_AUTH)
    _, other_cert = _ca("some other CA")
    return Pki(
        ca_file=_write_cert(ca_cert, directory / "ca.pem"),
        server_cert=_write_cert(server_cert, directory / "server.pem"),
        server_key=_write_key(server_key, directory / "server-key.pem"),
        client_cert=_write_cert(client_cert, directory / "client.pem"),
        client_key=_write_key(client_key, directory / "client-key.pem"),
        other_ca_file=_write_cert(other_cert, directory / "other-ca.pem"),
    )


def new_password() -> str:
    return f"pw-{secrets.token_hex(12)}"


def write_web_config(path: Path, pki: Pki, password: str, require_client_cert: bool) -> Path:
    """An exporter-toolkit web config: TLS with the test CA's server certificate, and basic
    auth for USERNAME with `password` (bcrypt); with `require_client_cert`, clients must also
    present a certificate signed by the test CA."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    tls = f"tls_server_config:\n  cert_file: {pki.server_cert}\n  key_file: {pki.server_key}\n"
    if require_client_cert:
        tls += f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {pki.ca_file}\n"
    path.write_text(f"{tls}basic_auth_users:\n  {USERNAME}: '{hashed}'\n")
    return path


def secure(process, pki: Pki, password: str, require_client_cert: bool):
    """`process` (not started yet) behind TLS and basic auth, and the tests' raw helpers set up
    to reach it; with `require_client_cert`, clients also need the test client certificate."""
    web = write_web_config(process.tmpdir / "web.yml", pki, password, require_client_cert)
    process.extra_args += (f"--web.config.file={web}",)
    process.scheme = "https"
    process.request_options = {"auth": (USERNAME, password), "verify": str(pki.ca_file)}
    if require_client_cert:
        process.request_options["cert"] = (str(pki.client_cert), str(pki.client_key))
    return process
