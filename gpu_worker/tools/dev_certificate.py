"""Throwaway C2PA signing certificates for development and tests (never an operator's): a CA and a leaf it signed.

``make run`` makes one under var/c2pa/ when no signer is configured, so the demo's outputs carry credentials the
verification page can check; the tests make their own. Production signs with the operator's certificate
(GASANG_C2PA_CERT / GASANG_C2PA_KEY, gpu_worker/content_credentials.py).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gasang test")])


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=not signer, crl_sign=not signer,
                         encipher_only=False, decipher_only=False)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_pki(folder: Path, label: str, days: int = 30) -> dict:
    """A CA and a leaf it signed (P-256, digitalSignature, emailProtection, not a CA); chain file = leaf + CA."""
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    validity = {"not_valid_before": now - day, "not_valid_after": now + days * day}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(subject_name=_name(f"{label} CA"), issuer_name=_name(f"{label} CA"),
                                public_key=ca_key.public_key(), serial_number=x509.random_serial_number(), **validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder(subject_name=_name(f"{label} signer"), issuer_name=ca.subject,
                                public_key=key.public_key(), serial_number=x509.random_serial_number(), **validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signer=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{label}-chain.pem", folder / f"{label}-key.pem"
    cert_path.write_bytes(_pem(leaf) + _pem(ca))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return {"ca": _pem(ca).decode(), "cert": str(cert_path), "key": str(key_path), "private_key": key}


def _expires_soon(chain: Path) -> bool:
    leaf = x509.load_pem_x509_certificate(chain.read_bytes())
    return leaf.not_valid_after_utc < datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=7)


def development_signer(folder: Path) -> dict:
    """The development signer under ``folder`` (made once, valid a year, made again a week before it expires, so
    the GPU worker's start-up check never meets an expired one): its chain, key and CA paths."""
    chain, key, ca = folder / "dev-chain.pem", folder / "dev-key.pem", folder / "dev-ca.pem"
    if not (chain.exists() and key.exists() and ca.exists()) or _expires_soon(chain):
        folder.mkdir(parents=True, exist_ok=True)
        made = make_pki(folder, "dev", days=365)
        ca.write_text(made["ca"])
    return {"cert": str(chain), "key": str(key), "ca": str(ca)}

