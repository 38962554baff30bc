"""The worker prepares a gallery face's asset once: read the photo, analyse it, store the asset, answer the web tier.

Runs the real asset module on real photos (Grace Hopper; a blank image for "no face").
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from gpu_worker import tasks
from gpu_worker.spec import FACE_ASSET_VERSION, validate_event
from gpu_worker.storage import LocalStorage, StorageError
from tests.gpu_worker.face_photos import grace_hopper

SPEC = {
    "face_id": "7", "image": "gallery/faces/grace.jpg", "asset_key": f"faces/public/7/asset-v{FACE_ASSET_VERSION}.npz"
}


def jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture
def storage(tmp_path, monkeypatch) -> LocalStorage:
    local = LocalStorage(tmp_path)
    monkeypatch.setattr(tasks, "default_storage", lambda: local)
    return local


@pytest.fixture
def answers(monkeypatch) -> list[dict]:
    """The events the task publishes, built as gpu_worker.publish builds them (nothing is sent)."""
    from gpu_worker import publish

    sent: list[dict] = []
    monkeypatch.setattr(tasks, "publish_final",
                        lambda event_type, subject, attempt, **fields: sent.append(
                            validate_event(publish.event(event_type, subject, attempt, **fields))) or True)
    return sent


@pytest.mark.parametrize("case, code", [
    ("no_face", "no_face"), ("missing_image", "storage_error"), ("unreadable", "unreadable_image"),
    ("other_version", "asset_version_mismatch"), ("crash", "internal_error"),
])
def test_an_unusable_face_or_a_failure_is_answered_with_a_reason(storage, answers, monkeypatch, case, code):
    from gpu_worker.face import asset

    if case == "other_version":
        monkeypatch.setattr(asset, "ASSET_VERSION", FACE_ASSET_VERSION + 1)
    if case == "crash":
        monkeypatch.setattr(tasks.pipelines, "decode_image", lambda data: 1 / 0)
    if case != "missing_image":
        photo = np.full((200, 200, 3), 127, np.uint8) if case == "no_face" else np.ascontiguousarray(grace_hopper())
        storage.put(SPEC["image"], b"not an image" if case == "unreadable" else jpeg(photo), "image/jpeg")

    tasks.prepare_face_asset(SPEC)

    [event] = answers
    assert event["error"]["code"] == code and event["error"]["message"] and "asset" not in event
    with pytest.raises(StorageError):  # nothing was stored
        storage.get(SPEC["asset_key"])


def test_the_asset_is_stored_at_the_requested_key_and_announced(storage, answers):
    from gpu_worker.face import asset as asset_module

    storage.put(SPEC["image"], jpeg(np.ascontiguousarray(grace_hopper())), "image/jpeg")

    tasks.prepare_face_asset(SPEC)

    [event] = answers
    assert "error" not in event, event
    assert asset_module.ASSET_VERSION == FACE_ASSET_VERSION == event["asset"]["version"]
    assert json.loads(json.dumps(event["asset"]["summary"])) == event["asset"]["summary"]
    assert event["type"] == "face_asset_prepared" and event["subject"] == "7"
    assert event["asset"]["key"] == SPEC["asset_key"] and event["asset"]["summary"]["face_px"] > 80
    stored = asset_module.FaceAsset.from_bytes(storage.get(SPEC["asset_key"]))
    assert stored.texture.shape[2] == 3 and stored.embedding.shape == (128,)
