"""Secret generation and hashing for API tokens and invitation links.

Secrets carry 256 bits of entropy, so a plain SHA-256 is the right hash here:
nothing to brute-force, and lookups stay one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "gsk_"
DISPLAY_PREFIX_LENGTH = 12


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:DISPLAY_PREFIX_LENGTH]
