from __future__ import annotations

from catalog.models import ModelFace, ProductShot
from generation.models import Job


def shot_for(store, key: str | None = None) -> ProductShot:
    return ProductShot.objects.create(
        store=store, image=key or f"stores/{store.pk}/shots/look.jpg", faces_state=ProductShot.FacesState.READY,
        faces=[{"box": [40, 30, 64, 64], "score": 0.9}],  # detected: a pipeline may replace it
    )


def private_face(store, key: str | None = None) -> ModelFace:
    return ModelFace.objects.create(store=store, image=key or f"stores/{store.pk}/faces/f.png")


def public_face(curation=ModelFace.Curation.PUBLISHED, key: str = "gallery/faces/g.png") -> ModelFace:
    return ModelFace.objects.create(store=None, image=key, curation=curation)


def queued_job(store, **fields) -> Job:
    return Job.objects.create(store=store, kind=fields.pop("kind", "restore"), **fields)
