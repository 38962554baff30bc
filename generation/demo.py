"""The demo store ``make run`` opens on: an owner login, and, when the test photos are on the machine, real model
faces, product shots and one batch, so every page has something to click at once.

Two steps, because the batch needs the GPU worker: ``demo_seed`` (before the workers start: login, store, faces,
shots, store model) and ``demo_batch_start`` (once they run: waits for the shots' face detection, then starts the
batch). Both are idempotent: ``make run`` calls them on every start.

The photos (``settings.DEMO_PHOTOS_DIR``, ../shared/testdata) are research test images, used in place and never
copied into the repository; the faces' consent record says so, and that they are for this local demo only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts import services as accounts
from accounts.models import Membership, Role, Store, User
from catalog import selectors as catalog
from catalog import services as catalog_services
from catalog.bulk_import import ImportReport, faces_import, image_files, shots_import
from catalog.models import ProductShot
from generation import selectors, services
from generation.models import Batch

DEMO_EMAIL = "demo@gasang.local"
DEMO_PASSWORD = "gasang-demo-1234"
DEMO_STORE = "가상 데모 스토어"
DEMO_CONSENT = "Demo only: BeautyGAN research test photo (../shared/testdata/makeup); no model release"
DEMO_PURPOSE = "the local Gasang demo on this machine; not for publication or commercial use"
DEMO_FACES = 10
STYLE_TAGS = ("elegant", "innocent", "graceful", "edgy", "fresh")  # the seeded presets' face tags


@dataclass
class DemoSeed:
    user: User
    store: Store
    faces: ImportReport = field(default_factory=ImportReport)
    shots: ImportReport = field(default_factory=ImportReport)
    photos_found: bool = False


def _demo_tags(index: int) -> list[str]:
    """Two style tags per face, so each preset finds the three contributors generation blends (four each)."""
    return [STYLE_TAGS[index % len(STYLE_TAGS)], STYLE_TAGS[(index + 2) % len(STYLE_TAGS)]]


def _demo_account() -> tuple[User, Store]:
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        accounts.user_signup(email=DEMO_EMAIL, password=DEMO_PASSWORD, store_name=DEMO_STORE, name="Demo")
        user = User.objects.get(email=DEMO_EMAIL)
    else:
        user.set_password(DEMO_PASSWORD)
    user.is_staff = True  # so the demo can open the curation pages
    user.save(update_fields=["password", "is_staff"])
    membership = Membership.objects.filter(user=user, role=Role.OWNER).select_related("store").order_by("pk").first()
    return user, membership.store


def _demo_face_files(photos: Path) -> list[Path]:
    """Half with makeup, half without: the gallery shows both, and the makeup presets have references."""
    files = image_files(photos / "makeup")
    made_up = [p for p in files if "_no_makeup_" not in p.name]
    bare = [p for p in files if "_no_makeup_" in p.name]
    half = DEMO_FACES // 2
    return sorted(made_up[:half] + bare[:DEMO_FACES - half])


@transaction.atomic
def demo_seed(*, photos: Path | None = None) -> DemoSeed:
    """Create (or refresh) the demo login and store; with the photos present, fill its gallery and shots."""
    user, store = _demo_account()
    seed = DemoSeed(user=user, store=store)
    photos = Path(photos or settings.DEMO_PHOTOS_DIR)
    if not (photos / "makeup").is_dir() or not (photos / "fashion").is_dir():
        return seed
    seed.photos_found = True
    face_files = _demo_face_files(photos)
    order = {path.name: index for index, path in enumerate(face_files)}
    seed.faces, faces = faces_import(
        files=face_files, store=None, consent_given_by=DEMO_CONSENT, consent_purpose=DEMO_PURPOSE,
        tags_for=lambda path: _demo_tags(order[path.name]), publish_as=user, created_by=user,
    )
    seed.shots = shots_import(files=image_files(photos / "fashion"), store=store, uploaded_by=user)
    options = catalog.store_options(store=store)
    if faces and not (options and options.model_face_id):
        bare = [f for f in faces if "_no_makeup_" in f.name]  # the presets' makeup goes on a bare face
        catalog_services.store_model_set(store=store, face=(bare or faces)[0])
    return seed


def _detected_shots(store: Store) -> list[ProductShot]:
    return list(catalog.store_product_shots(store=store).filter(status=ProductShot.Status.READY).order_by("pk"))


def _largest_face(shot: ProductShot) -> int:
    return max(face["box"][3] for face in shot.faces)  # box: [x, y, width, height]


def demo_batch_start(*, wait_seconds: float = 180, poll_seconds: float = 1.0) -> Batch | None:
    """Start the demo's one batch (the two shots with the largest faces, the store model) once the GPU worker has
    detected the shots' faces. Returns None when the demo has no shots or model, or already has a batch."""
    user, store = _demo_account()
    options = catalog.store_options(store=store)
    if not (options and options.model_face_id) or selectors.store_batches(store=store).exists():
        return None
    deadline = time.monotonic() + wait_seconds
    shots = _detected_shots(store)
    while shots and any(s.faces_state == ProductShot.FacesState.PENDING for s in shots):
        if time.monotonic() > deadline:
            return None
        time.sleep(poll_seconds)
        shots = _detected_shots(store)
    # The two shots with the largest faces: the half-body studio shots show the swap best.
    with_faces = [s.pk for s in sorted((s for s in shots if s.faces), key=_largest_face, reverse=True)][:2]
    if not with_faces:
        return None
    return services.batch_create(store=store, face_id=options.model_face_id, product_shot_ids=with_faces,
                                 created_by=user)
