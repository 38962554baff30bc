"""A virtual model's face asset: prepared once, lighting and occluders removed, rendered into any shot.

What a seller would notice: the model's face in a product shot takes the shot's light, not the light of the photo
the model was made from; hair that hung over the model's forehead is not pasted onto the shot; a head turned 44
degrees is swapped, not refused; the same asset in two shots stays the same person, and the job says how close.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.engines import FaceEngineError, get_engine
from gpu_worker.face.asset import ASSET_VERSION, FaceAsset, prepare_asset
from gpu_worker.face.detect import analyze
from gpu_worker.face.embed import distance, embedding
from gpu_worker.face.imageio import read_image
from gpu_worker.face.layout import layout68, texture_maps
from tests.gpu_worker.face_photos import astronaut, grace_hopper, shared_testdata


def _lab_l(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB)[:, :, 0].astype(np.float32)


def _relit(image: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """The photo with its lightness multiplied by ``gain`` (H, W): a different light on the same face."""
    import cv2

    lab = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[:, :, 0] = np.clip(lab[:, :, 0] * gain, 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)


def _cheeks() -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the image-left and image-right cheek of the texture layout."""
    _, _, skin = texture_maps()
    lm = layout68()
    rows = np.arange(skin.shape[0])[:, None]
    cols = np.arange(skin.shape[1])[None, :]
    band = (rows > lm[29, 1]) & (rows < lm[33, 1] + 20) & (skin > 0)
    return band & (cols < lm[31, 0] - 10), band & (cols > lm[35, 0] + 10)


def test_an_asset_round_trips_and_an_outdated_or_broken_one_is_refused():
    asset = prepare_asset(astronaut())
    again = FaceAsset.from_bytes(asset.to_bytes())
    assert np.array_equal(again.texture, asset.texture) and np.allclose(again.embedding, asset.embedding)
    assert asset.summary()["version"] == ASSET_VERSION and asset.summary()["face_px"] >= 80

    import io

    data = dict(np.load(io.BytesIO(asset.to_bytes())))
    data["version"] = np.int32(ASSET_VERSION + 1)
    stale = io.BytesIO()
    np.savez(stale, **data)
    with pytest.raises(FaceEngineError) as exc:
        FaceAsset.from_bytes(stale.getvalue())
    assert exc.value.code == "asset_outdated"
    with pytest.raises(FaceEngineError) as exc:
        FaceAsset.from_bytes(b"not an asset")
    assert exc.value.code == "bad_asset"


def test_the_photos_own_light_does_not_travel_with_the_asset():
    photo = grace_hopper()
    face = max(analyze(photo), key=lambda f: f.size)
    # Light from the image left: the left cheek 35 % brighter than the right, a gradient across the face.
    left, right = face.box[0], face.box[2]
    ramp = np.clip((np.arange(photo.shape[1]) - left) / max(1, right - left), 0, 1)
    gain = np.broadcast_to(1.2 - 0.35 * ramp, photo.shape[:2])
    lit = _relit(photo, gain)

    l_cheek, r_cheek = _cheeks()

    def cheek_gap(image: np.ndarray) -> float:
        lum = _lab_l(prepare_asset(image).texture)
        return float(lum[l_cheek].mean() - lum[r_cheek].mean())

    photo_gap = _lab_l(lit)[face.box[1]:face.box[3], left:right]
    imposed = float(photo_gap[:, : photo_gap.shape[1] // 3].mean() - photo_gap[:, -photo_gap.shape[1] // 3 :].mean())
    assert imposed > 25  # the relit photo really is lit from one side
    # In the asset the two cheeks differ by (nearly) what they did before the light was changed.
    assert abs(cheek_gap(lit) - cheek_gap(photo)) < 0.2 * imposed


def test_a_hot_spot_and_hair_over_the_forehead_are_not_in_the_asset():
    import cv2

    photo = np.array(grace_hopper())
    face = max(analyze(photo), key=lambda f: f.size)
    lm = face.landmarks68
    clean = prepare_asset(photo)
    spoiled = photo.copy()
    # A specular hot spot on one cheek.
    cx, cy = lm[[1, 2, 3, 31, 40, 41]].mean(0).round().astype(int)
    yy, xx = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]]
    sigma = face.eye_distance * 0.25
    gain = 1.0 + 0.45 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))
    spoiled = _relit(spoiled, gain)
    # Dark strands of hair falling over the forehead and one temple.
    brow_top = int(lm[17:27, 1].min())
    for k in range(7):
        x = int(lm[17, 0] + k * (lm[26, 0] - lm[17, 0]) / 10)
        cv2.line(spoiled, (x, brow_top - int(face.eye_distance * 0.7)), (x + 12, brow_top - 4), (40, 30, 25), 3)
    dirty = prepare_asset(spoiled)

    from gpu_worker.face.asset import find_asset_face, unwrap

    def lum(texture: np.ndarray) -> np.ndarray:
        return _lab_l(np.clip(texture, 0, 255).astype(np.uint8))

    # What the photo itself carries into the layout, without the asset's cleaning: the yardstick.
    raw = np.abs(lum(unwrap(spoiled, find_asset_face(spoiled))[0]) - lum(unwrap(photo, face)[0]))
    cleaned = np.abs(lum(dirty.texture) - lum(clean.texture))
    _, _, skin = texture_maps()
    l_cheek, _ = _cheeks()
    forehead = (skin > 0) & (np.arange(skin.shape[0])[:, None] < layout68()[17:27, 1].min() - 8)
    assert raw[l_cheek].mean() > 25 and raw[forehead].mean() > 35  # the spot and the strands are really there
    assert cleaned[l_cheek].mean() < 0.4 * raw[l_cheek].mean()
    assert cleaned[forehead].mean() < 0.5 * raw[forehead].mean()


def test_the_same_asset_in_two_product_shots_stays_the_model_and_says_how_close():
    swap = get_engine("swap")
    model = read_image(shared_testdata("makeup", "beautygan_no_makeup_xfsy_0055.png"))
    asset = prepare_asset(model)
    results = []
    for shot in ("catvton_baumu30483223c3_1719437121402_2-0.jpg", "catvton_Yifeng_0.png"):
        target = read_image(shared_testdata("fashion", shot))
        out = swap.run({"source_asset": asset, "target": target}, {})
        consistency = out.metadata["consistency"]
        assert consistency["distance"] < consistency["threshold"] and not consistency["flagged"]
        assert out.metadata["asset"]["prepared_in_job"] is False
        face = max(analyze(out.image), key=lambda f: f.size)
        results.append(embedding(out.image, face))
        before = max(analyze(target), key=lambda f: f.size)
        assert distance(results[-1], asset.embedding) < distance(results[-1], embedding(target, before))
    assert distance(*results) < 0.6  # the two results are the same person to dlib


def test_a_prepared_asset_gives_the_same_swap_as_the_photo_it_was_made_from():
    swap = get_engine("swap")
    target = grace_hopper()
    from_photo = swap.run({"source": astronaut(), "target": target}, {})
    from_asset = swap.run({"source_asset": prepare_asset(astronaut()), "target": target}, {})
    assert np.array_equal(from_photo.image, from_asset.image)
    assert from_photo.metadata["asset"]["prepared_in_job"] is True


def test_a_target_turned_44_degrees_is_swapped_and_a_44_degree_makeup_reference_is_read():
    turned = read_image(shared_testdata("identities", "simswap_ljm2.jpg"))
    face = max(analyze(turned), key=lambda f: f.size)
    assert 40 < abs(face.pose.yaw) <= 55
    out = get_engine("swap").run({"source": astronaut(), "target": turned}, {})
    assert abs(out.metadata["target_face"]["yaw"]) > 40
    left, top, right, bottom = face.box
    assert np.abs(out.image[top:bottom, left:right].astype(int) - turned[top:bottom, left:right]).mean() > 5

    made_up = get_engine("makeup").run(
        {"target": grace_hopper(), "reference": turned}, {"strength": 0.5}
    )
    assert made_up.metadata["reference_frontalised"] is True


def test_the_asset_tells_the_curator_what_in_the_photo_will_show_in_its_swaps():
    fringe_and_smile = prepare_asset(read_image(shared_testdata("identities", "simswap_jl.jpg")))
    clean = prepare_asset(read_image(shared_testdata("makeup", "beautygan_no_makeup_xfsy_0055.png")))
    assert {"forehead_covered", "open_mouth"} <= set(fringe_and_smile.summary()["warnings"])
    assert clean.summary()["warnings"] == []


def test_the_asset_says_which_photos_cannot_be_blended_into_new_faces():
    closed = prepare_asset(read_image(shared_testdata("identities", "simswap_1_source.jpg"))).summary()
    clean_photo = read_image(shared_testdata("makeup", "beautygan_no_makeup_xfsy_0055.png"))
    clean = prepare_asset(clean_photo).summary()
    assert "eyes_closed" in closed["warnings"] and "eyes_closed" in closed["contributor_problems"]
    assert clean["contributor_problems"] == []
    # The web tier screens generated faces with the stored descriptor: it is the photo's own.
    face = max(analyze(clean_photo), key=lambda f: f.size)
    assert distance(np.asarray(clean["embedding"]), embedding(clean_photo, face)) < 1e-3


def test_thick_glasses_frames_are_a_contributor_problem():
    import cv2

    photo = read_image(shared_testdata("makeup", "beautygan_no_makeup_xfsy_0055.png")).copy()
    lm = max(analyze(photo), key=lambda f: f.size).landmarks68
    for eye in (lm[36:42], lm[42:48]):
        centre, width = eye.mean(0), np.linalg.norm(eye[0] - eye[3])
        axes = (int(width * 0.95), int(width * 0.7))
        cv2.ellipse(photo, tuple(int(v) for v in centre), axes, 0, 0, 360, (20, 20, 20), max(3, int(width * 0.16)))
    cv2.line(photo, tuple(int(v) for v in lm[39] + [width * 0.3, 0]), tuple(int(v) for v in lm[42] - [width * 0.3, 0]),
             (20, 20, 20), max(3, int(width * 0.12)))
    summary = prepare_asset(photo).summary()
    assert "glasses" in summary["contributor_problems"]
