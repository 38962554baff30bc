"""Face assets: every gallery face is analysed once by the GPU fleet and the result stored for its jobs.

``request_face_asset`` runs wherever a face enters a gallery (upload with consent, a kept candidate, a published
public copy, ``manage.py prepare_face_assets``); the outbox sends ``gpu_worker.prepare_face_asset`` once the
caller's transaction commits, and the worker answers with a ``face_asset_prepared`` event, applied by
``face_asset_prepared_apply`` (registered in CatalogConfig.ready). A job never waits for an asset: a swap or
pipeline job carries the face's asset (input role ``source_asset``) only when it is ready (generation/inputs.py).
"""

from __future__ import annotations

from django.db import transaction

from catalog.models import ModelFace
from core.outbox import outbox_enqueue
from gpu_worker.spec import FACE_ASSET_VERSION, QUEUE_GPU, TASK_PREPARE_FACE_ASSET


def face_asset_key(face: ModelFace, version: int = FACE_ASSET_VERSION) -> str:
    """``faces/<store id or "public">/<face id>/asset-v<version>.npz``: one key per face and format version."""
    owner = face.store_id if face.store_id is not None else "public"
    return f"faces/{owner}/{face.pk}/asset-v{version}.npz"


def face_asset_is_usable(face: ModelFace) -> bool:
    """True when the face's stored asset is ready and of the format this web tier asks for."""
    return (
        face.asset_state == ModelFace.AssetState.READY
        and face.asset_version == FACE_ASSET_VERSION
        and bool(face.asset_key)
    )


@transaction.atomic
def request_face_asset(*, face: ModelFace) -> ModelFace:
    """Mark the (saved) face's asset pending and queue its preparation, sent once the caller's transaction commits.

    Asking again re-prepares it (the worker overwrites the same key). Returns the face with its asset fields set.
    """
    face.asset_key = face_asset_key(face)
    face.asset_state, face.asset_error = ModelFace.AssetState.PENDING, ""
    face.save(update_fields=["asset_key", "asset_state", "asset_error"])
    outbox_enqueue(
        task=TASK_PREPARE_FACE_ASSET,
        queue=QUEUE_GPU,
        payload={"face_id": str(face.pk), "image": face.image, "asset_key": face.asset_key},
    )
    return face


def faces_request_assets(*, faces, missing_only: bool) -> int:
    """``request_face_asset`` for each face (``missing_only``: those without a usable asset); returns how many."""
    count = 0
    for face in faces.iterator():
        if missing_only and face_asset_is_usable(face):
            continue
        request_face_asset(face=face)
        count += 1
    return count


def face_asset_prepared_apply(event: dict) -> str:
    """Record the worker's answer on the face; runs inside ``core.events``' transaction.

    Stale answers are ignored: an asset for another key (an earlier format version) or older than the ready
    asset the face has, and a failure arriving after the face is ready.
    """
    face = ModelFace.objects.select_for_update().filter(pk=_face_pk(event["subject"])).first()
    if face is None:
        return "ignored: unknown face"
    asset, error = event.get("asset"), event.get("error")
    if isinstance(asset, dict) and not error:
        version = asset.get("version")
        if not isinstance(version, int) or asset.get("key") != face.asset_key:
            return "ignored: stale asset"
        if face.asset_state == ModelFace.AssetState.READY and version < (face.asset_version or 0):
            return "ignored: stale asset"
        summary = asset.get("summary")
        face.asset_state, face.asset_version, face.asset_error = ModelFace.AssetState.READY, version, ""
        face.asset_summary = summary if isinstance(summary, dict) else {}
    else:
        if face.asset_state == ModelFace.AssetState.READY:
            return "ignored: the face is already prepared"
        error = error if isinstance(error, dict) else {}
        code, message = str(error.get("code") or "internal_error"), str(error.get("message") or "")
        face.asset_state = ModelFace.AssetState.FAILED
        face.asset_error = f"{code}: {message}"[:300] if message else code[:300]
    face.save(update_fields=["asset_state", "asset_version", "asset_error", "asset_summary"])
    return "applied"


def _face_pk(subject: str) -> int:
    return int(subject) if str(subject).isdigit() else 0
