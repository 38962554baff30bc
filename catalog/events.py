"""The GPU fleet's events that change catalog rows: ``faces_detected`` (registered in CatalogConfig.ready).

``face_asset_prepared`` is applied in catalog/face_assets.py, next to the request it answers."""

from __future__ import annotations

from catalog.models import ProductShot


def faces_detected_apply(event: dict) -> str:
    """Store the faces found on a product shot (or that detection failed); runs inside ``core.events``' transaction."""
    shot = ProductShot.objects.select_for_update().filter(pk=event["subject"]).first()
    if shot is None:
        return "ignored: unknown shot"
    if event.get("error"):
        shot.faces_state = ProductShot.FacesState.FAILED
        shot.faces = []
    else:
        shot.faces_state = ProductShot.FacesState.READY
        shot.faces = event.get("faces") or []
    shot.save(update_fields=["faces", "faces_state"])
    return "applied"
