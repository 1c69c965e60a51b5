"""TLS 1.3 for peer links: a self-signed certificate made from the peer's identity key.

The certificate's public key *is* the peer's Ed25519 identity, so the link handshake can
check that the peer who proves membership is the one the TLS session was made with. It is
not a certificate authority (``CA:FALSE``), so it cannot vouch for anything else, and
nothing here trusts a certificate for being signed: the client accepts any certificate at the
TLS level and the handshake (``protocol.link_auth``) binds its exact fingerprint instead.

This module must never write the private key anywhere but a file readable by the owner only,
removed as soon as the TLS context has read it, and never allow TLS below 1.3.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from cryptography.x509.oid import NameOID

from ..identity import Identity

_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "natakanu-peer")])


def certificate_for(identity: Identity) -> bytes:
    """A self-signed certificate (DER) holding the identity's public key."""
    key = identity.private_key
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_NAME)
        .issuer_name(_NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    return builder.sign(key, None).public_bytes(Encoding.DER)


def fingerprint(certificate_der: bytes) -> bytes:
    return hashlib.sha256(certificate_der).digest()


def public_key_of(certificate_der: bytes) -> bytes | None:
    """The raw Ed25519 key of a peer's certificate, or None if it holds another kind."""
    try:
        key = x509.load_der_x509_certificate(certificate_der).public_key()
    except ValueError:
        return None
    if not isinstance(key, Ed25519PublicKey):
        return None
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def server_context(identity: Identity, certificate_der: bytes, scratch: Path) -> ssl.SSLContext:
    """The listening side's context; ``scratch``: a private folder for a moment's key file."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    key_pem = identity.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    cert_pem = x509.load_der_x509_certificate(certificate_der).public_bytes(Encoding.PEM)
    fd, name = tempfile.mkstemp(prefix=".tls-", suffix=".pem", dir=scratch)
    try:
        os.write(fd, key_pem + cert_pem)  # mkstemp creates it readable by the owner only
        os.close(fd)
        context.load_cert_chain(name)
    finally:
        os.unlink(name)
    return context


def client_context() -> ssl.SSLContext:
    """The dialling side's context: encryption always, trust decided by the link handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
