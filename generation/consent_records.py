"""The consent attestations a job's content credential records: for each real person's photo the job uses (an
uploaded model face, a reference face, a parent photo), who attested (the store, or the gallery's curators for a
public face), when, and a keyed hash of the record — never the person's name or the purpose text."""

from __future__ import annotations

from django.utils.crypto import salted_hmac

from catalog.models import ModelFace
from generation.models import Job, ParentPhoto

# job input -> (engine role, model)
CONSENTED_INPUTS = {
    "face": ("source", ModelFace), "reference_face": ("reference", ModelFace),
    "parent_a": ("parent_a", ModelFace), "parent_b": ("parent_b", ModelFace),
    "parent_a_photo": ("parent_a", ParentPhoto), "parent_b_photo": ("parent_b", ParentPhoto),
}


def _record_hash(kind: str, pk: int, given_by: str, purpose: str, at) -> str:
    """Proves which record it was to whoever holds the server's secret; reveals nothing to anyone else."""
    return salted_hmac("gasang.consent-record", f"{kind}:{pk}\n{given_by}\n{purpose}\n{at.isoformat()}",
                       algorithm="sha256").hexdigest()


def job_consents(job: Job) -> list[dict]:
    """The consent attestations of ``job``'s inputs that are photos of real people (generated faces have none)."""
    found = []
    for name, (role, model) in CONSENTED_INPUTS.items():
        pk = (job.inputs or {}).get(name)
        if pk in (None, "") or not str(pk).isdigit():
            continue
        record = model.objects.filter(pk=int(pk)).first()
        if record is None or record.consent_given_at is None:
            continue
        by = "gallery" if isinstance(record, ModelFace) and record.store_id is None else "store"
        found.append({"role": role, "attested_by": by, "attested_at": record.consent_given_at.isoformat(),
                      "record": _record_hash(model.__name__, record.pk, record.consent_given_by,
                                             record.consent_purpose, record.consent_given_at)})
    return found
