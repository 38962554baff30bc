"""The production licence gate for weight files.

Production (``GASANG_ENV=production``) refuses weights whose licence does not allow commercial use
unless the operator opts in with ``GASANG_ALLOW_NONCOMMERCIAL_WEIGHTS=1``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

PRODUCTION_ENV = "GASANG_ENV"
OPT_IN_ENV = "GASANG_ALLOW_NONCOMMERCIAL_WEIGHTS"


class LicencedWeight(Protocol):
    name: str
    licence: str
    commercial_use: bool


class LicenceRefused(PermissionError):
    """A non-commercial weight file was requested in production without the operator's opt-in."""


def check_licence(weight: LicencedWeight, *, production: bool, allow_noncommercial: bool) -> None:
    """Raise ``LicenceRefused`` (message names the licence) if ``weight`` may not be used here."""
    if weight.commercial_use or not production or allow_noncommercial:
        return
    raise LicenceRefused(
        f"refusing weight file {weight.name!r} in production: its licence ({weight.licence}) does not allow "
        f"commercial use; set {OPT_IN_ENV}=1 only if you hold the rights to use it"
    )


def gate_from_env(env: Mapping[str, str] | None = None) -> tuple[bool, bool]:
    """``(production, allow_noncommercial)`` read from the environment."""
    env = os.environ if env is None else env
    production = env.get(PRODUCTION_ENV, "").strip().lower() == "production"
    allow = env.get(OPT_IN_ENV, "").strip().lower() in {"1", "true", "yes"}
    return production, allow


def check_licence_from_env(weight: LicencedWeight, env: Mapping[str, str] | None = None) -> None:
    """``check_licence`` with production and opt-in taken from the environment."""
    production, allow = gate_from_env(env)
    check_licence(weight, production=production, allow_noncommercial=allow)
