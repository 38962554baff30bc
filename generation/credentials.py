"""Reading an image's C2PA content credentials back: does it carry a valid Gasang credential, what does it say,
and was it altered since it was signed? (The GPU workers sign every output: gpu_worker/content_credentials.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from gpu_worker import content_credentials
from gpu_worker.spec import SOURCE_TYPE_COMPOSITE, SOURCE_TYPE_GENERATED

# What the verification says, from best to worst.
TRUSTED = "trusted"  # signed by a certificate of this operator's trust list, unaltered
UNTRUSTED = "untrusted"  # a well-formed signature by a certificate this server does not trust
ALTERED = "altered"  # the image or its manifest changed after signing
NONE = "none"  # no content credential at all (e.g. stripped by a re-encode)
UNREADABLE = "unreadable"  # not a PNG, JPEG or WebP image
OUTCOMES = (TRUSTED, UNTRUSTED, ALTERED, NONE, UNREADABLE)
ALTERED_CODES = ("dataHash.mismatch", "assertion.hashedURI.mismatch", "claimSignature.mismatch", "hash.mismatch")


@dataclass(frozen=True)
class Verification:
    outcome: str
    action: str = ""  # "c2pa.created" (a generated face) or "c2pa.edited" (a product shot with a face put in)
    source_type: str = ""  # "generated" | "composite" | the IPTC URI as written
    agent: str = ""  # "Gasang swap:classical-2.0 → restore:classical-1.0"
    job_id: str = ""
    failures: list[str] = field(default_factory=list)  # the library's failure codes, for people who want them

    @property
    def is_gasang(self) -> bool:
        return self.outcome == TRUSTED


def _trust_anchors() -> str | None:
    path = settings.C2PA_TRUST_ANCHORS_FILE
    return Path(path).read_text() if path else None


def _outcome(state: str, failures: list[str]) -> str:
    if state == "Trusted":
        return TRUSTED
    if any(code.endswith(altered) for code in failures for altered in ALTERED_CODES):
        return ALTERED
    if state == "Valid" or failures and all("untrusted" in code for code in failures):
        return UNTRUSTED
    return ALTERED


def verify_image(*, data: bytes) -> Verification:
    """Check ``data``'s content credential against the operator's trust list."""
    mime = content_credentials.image_mime(data)
    if mime is None:
        return Verification(outcome=UNREADABLE)
    try:
        found = content_credentials.read(data, mime, trust_anchors=_trust_anchors())
    except Exception:  # noqa: BLE001 - a damaged manifest: the library raises its own error types
        return Verification(outcome=ALTERED, failures=["manifest.unreadable"])
    if found is None:
        return Verification(outcome=NONE)
    failures = [str(f.get("code", "")) for f in found.failures]
    last = found.actions[-1] if found.actions else {}
    source = str(last.get("digitalSourceType", ""))
    agent = last.get("softwareAgent") or {}
    agent_text = " ".join(str(agent.get(k, "")) for k in ("name", "version")).strip() if isinstance(agent, dict) \
        else str(agent)
    return Verification(
        outcome=_outcome(found.state, failures), action=str(last.get("action", "")),
        source_type={SOURCE_TYPE_GENERATED: "generated", SOURCE_TYPE_COMPOSITE: "composite"}.get(source, source),
        agent=agent_text, job_id=str(found.job.get("job_id", "")), failures=failures,
    )
