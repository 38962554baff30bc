"""Webhook signing secrets at rest: encrypted with a key from the environment, so a database dump alone
cannot forge signatures.

``WEBHOOK_SECRET_KEY`` (required in production) is one or more comma-separated passphrases; each becomes a Fernet
key (AES-128-CBC + HMAC-SHA256) through SHA-256. The first one encrypts, every one of them decrypts: to change the
key, set ``WEBHOOK_SECRET_KEY=new,old``, run ``manage.py reencrypt_webhook_secrets`` (the secrets themselves do not
change, so receivers notice nothing), then drop the old key.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "gAAAA"  # every Fernet token starts so (version byte 0x80 and a timestamp)


@functools.lru_cache(maxsize=4)
def _box(keys: str) -> MultiFernet:
    passphrases = [key.strip() for key in keys.split(",") if key.strip()]
    if not passphrases:
        raise ValueError("WEBHOOK_SECRET_KEY is empty")
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"gasang-webhook-secret:" + p.encode()).digest()))
        for p in passphrases
    ])


def encrypt_secret(secret: str) -> str:
    return _box(settings.WEBHOOK_SECRET_KEY).encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str:
    """The plaintext secret. Raises InvalidToken when no configured key opens it (a wrong WEBHOOK_SECRET_KEY)."""
    if not stored:
        return ""
    return _box(settings.WEBHOOK_SECRET_KEY).decrypt(stored.encode()).decode()


def reencrypt_secret(stored: str) -> str:
    """The same secret encrypted with the first key (``manage.py reencrypt_webhook_secrets`` after a key change)."""
    return _box(settings.WEBHOOK_SECRET_KEY).rotate(stored.encode()).decode()


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


__all__ = ["InvalidToken", "decrypt_secret", "encrypt_secret", "is_encrypted", "reencrypt_secret"]
