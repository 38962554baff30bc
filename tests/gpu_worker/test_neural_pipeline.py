"""The neural pipeline end to end on CPU with recipe weights.

Recipe weights are deterministic noise (shared/conformance recipes), so the pictures are meaningless;
what is checked is the plumbing: engine choice, alignment, one batched forward per model for all faces,
paste-back (pixels outside the mask bit-exact), masks, output shapes and metadata. Model sizes are the
conformance configs: AEI-Net, HEAR-Net, IR-SE50 and BiSeNet at full size; GPEN 128 (narrow 0.25) and
StyleGAN2 32 instead of 512 / 1024, which keeps the whole module around a minute on 2 CPU cores.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gpu_worker.engines import runtime
from gpu_worker.engines.base import FaceEngineError
from gpu_worker.engines.selection import choose_engine, pick_engine
from gpu_worker.weights import sources
from tests.gpu_worker.conformance_support import RecipeWeights, shared_dir
from tests.gpu_worker.face_photos import astronaut, grace_hopper

pytestmark = pytest.mark.slow
MODELS = {"arcface_ir_se50", "aei_net", "hear_net", "gpen", "stylegan2", "psp_encoder"}
# The StyleGAN2 recipe config is size 32 (8 W+ layers), so pSp predicts 8 styles instead of 18.
OVERRIDES = {"psp_encoder": {"n_styles": 8}}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    """CPU opt-in, no CUDA, recipe weights for MODELS (BiSeNet is exercised on its own, see below),
    and (1, 512) ``age`` / ``gender`` directions."""
    if not (shared_dir() / "conformance" / "aei_net" / "io.json").exists():
        pytest.skip("shared/conformance fixtures are absent; recipe weights need them")
    import torch

    torch.set_num_threads(min(2, torch.get_num_threads()))
    folder = tmp_path_factory.mktemp("directions")
    rng = np.random.default_rng(0)
    for name in ("age", "gender"):
        np.save(folder / f"{name}.npy", rng.standard_normal((1, 512)).astype(np.float32))
    np.save(folder / "wide.npy", rng.standard_normal((18, 512)).astype(np.float32))  # made for a 1024 model
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(runtime.ENV_ON_CPU, "1")
        mp.setenv("GASANG_DIRECTIONS_DIR", str(folder))
        mp.setattr(runtime, "cuda_available", lambda: False)
        with runtime.use_weight_source(RecipeWeights(names=MODELS, overrides=OVERRIDES)) as source:
            yield source
    runtime.clear_cache()


@pytest.fixture(scope="module")
def two_faces() -> np.ndarray:
    """Astronaut and Grace Hopper side by side: two faces of different sizes in one photo."""
    import cv2

    a, g = astronaut(), grace_hopper()
    g = cv2.resize(g, (round(g.shape[1] * a.shape[0] / g.shape[0]), a.shape[0]), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.concatenate([a, g], axis=1))


class CallCounter:
    """Counts forward calls of modules (a batched engine calls each model once per image)."""

    def __init__(self, **modules) -> None:
        self.calls = dict.fromkeys(modules, 0)
        self.handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]

    def _hook(self, name):
        def hook(module, args, output):
            self.calls[name] += 1

        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def assert_pasted(result_image: np.ndarray, original: np.ndarray, boxes: list[list[int]]) -> None:
    """Changes only inside the paste boxes (alpha > 0), and every face visibly changed."""
    assert result_image.shape == original.shape and result_image.dtype == np.uint8
    changed = (result_image != original).any(axis=2)
    inside = np.zeros(changed.shape, bool)
    for x0, y0, x1, y1 in boxes:
        assert x1 > x0 and y1 > y0
        inside[y0:y1, x0:x1] = True
        assert changed[y0:y1, x0:x1].mean() > 0.2, "the face region was not replaced"
    assert not changed[~inside].any(), "pixels outside the face masks changed"


def test_swap_batches_all_faces_of_all_shots_in_one_forward(recipe, two_faces):
    engine = pick_engine("swap")
    assert engine.__name__ == "gpu_worker.engines.swap.neural"
    models = {n: runtime.get_model(n, "cpu", recipe).module for n in ("aei_net", "hear_net", "arcface_ir_se50")}
    shots = [{"source": grace_hopper(), "target": two_faces}, {"source": astronaut(), "target": grace_hopper()}]
    counter = CallCounter(**models)
    try:
        results = engine.run_batch(shots, {"all_faces": True})
    finally:
        counter.remove()
    # A 2-face shot and a 1-face shot: each model runs once for all 3 faces (ArcFace: identities of
    # sources + targets, then the identity check of the results).
    assert counter.calls == {"aei_net": 1, "hear_net": 1, "arcface_ir_se50": 2}
    md = results[0].metadata
    assert md["engine"] == "neural-faceshifter" and md["version"] == engine.VERSION
    assert md["device"] == "cpu" and md["dtype"] == "fp32" and md["batch"] == {"shots": 2, "faces": 3}
    assert md["weights"] == {"aei_net": "recipe:aei_net", "arcface_ir_se50": "recipe:arcface_ir_se50",
                             "hear_net": "recipe:hear_net"}
    assert len(md["target_faces"]) == 2 and md["masks"] == ["landmarks", "landmarks"]
    assert len(md["identity_cosine"]) == 2 and set(md["timings"]) >= {"swap", "paste"}
    assert_pasted(results[0].image, two_faces, md["paste_boxes"])
    # Each face's box lies in its own half of the photo: the inverse affine put it back where it was.
    half = astronaut().shape[1]
    assert md["paste_boxes"][0][2] <= half < md["paste_boxes"][1][0]
    assert len(results[1].metadata["target_faces"]) == 1
    assert_pasted(results[1].image, grace_hopper(), results[1].metadata["paste_boxes"])


def test_restore_batches_faces_across_images(recipe, two_faces):
    engine = pick_engine("restore")
    assert engine.__name__ == "gpu_worker.engines.restore.neural"
    counter = CallCounter(gpen=runtime.get_model("gpen", "cpu", recipe).module)
    try:
        results = engine.run_batch([{"image": two_faces}, {"image": astronaut()}], {"all_faces": True, "strength": 1.0})
        single = engine.run({"image": astronaut()}, {"strength": 1.0})
    finally:
        counter.remove()
    assert counter.calls == {"gpen": 2}  # 3 faces of 2 images in one forward, then the single run
    md = results[0].metadata
    assert md["engine"] == "neural-gpen" and md["weights"] == {"gpen": "recipe:gpen"} and md["device"] == "cpu"
    assert len(md["faces"]) == 2 and md["batch"] == {"images": 2, "faces": 3}
    assert_pasted(results[0].image, two_faces, md["paste_boxes"])
    assert_pasted(results[1].image, astronaut(), results[1].metadata["paste_boxes"])
    # Batching may change float rounding (other conv kernels), never the result beyond that.
    assert single.metadata["paste_boxes"] == results[1].metadata["paste_boxes"]
    assert np.abs(single.image.astype(int) - results[1].image).max() <= 3, "batching changed a result"


def count_calls(monkeypatch, obj, method: str) -> dict[str, int]:
    """Count calls of ``obj.method`` (for methods that are not ``forward``, which hooks do not see)."""
    calls = {method: 0}
    original = getattr(obj, method)

    def wrapper(*args, **kwargs):
        calls[method] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, method, wrapper)
    return calls


def test_generate_from_a_seed_with_latent_directions(recipe):
    engine = pick_engine("generate")
    assert engine.__name__ == "gpu_worker.engines.generate.neural"
    plain = engine.run({}, {"seed": 7, "size": 256})
    again = engine.run({}, {"seed": 7, "size": 256})
    older = engine.run({}, {"seed": 7, "size": 256, "directions": {"age": 3.0}})
    assert plain.image.shape == (256, 256, 3) and plain.image.dtype == np.uint8
    assert np.array_equal(plain.image, again.image), "a seed must give the same image"
    assert not np.array_equal(plain.image, older.image)
    assert older.metadata["directions"][0]["name"] == "age" and len(older.metadata["directions"][0]["sha256"]) == 64
    assert plain.metadata["weights"] == {"stylegan2": "recipe:stylegan2"} and plain.metadata["mode"] == "seed"
    with pytest.raises(FaceEngineError, match="18 layers but the code has 8"):
        engine.run({}, {"directions": {"wide": 1.0}})
    with pytest.raises(FaceEngineError, match="unknown latent direction"):
        engine.run({}, {"directions": {"missing": 1.0}})


def test_generate_from_contributors_encodes_once_and_refuses_an_unverifiable_face(recipe, monkeypatch):
    psp = CallCounter(psp=runtime.get_model("psp_encoder", "cpu", recipe).module)
    synth = count_calls(monkeypatch, runtime.get_model("stylegan2", "cpu", recipe).module, "synthesize")
    gallery = {"face_0": astronaut(), "face_1": grace_hopper(), "face_2": np.ascontiguousarray(astronaut()[:, ::-1])}
    try:
        with pytest.raises(FaceEngineError) as exc:
            pick_engine("generate").run(gallery, {"size": 256, "seed": 3})
    finally:
        psp.remove()
    # Noise weights draw no face, so novelty cannot be verified: refused, never returned.
    assert exc.value.code == "identity_check_failed"
    assert psp.calls == {"psp": 1} and synth == {"synthesize": 1}  # 3 faces, 4 candidates: one forward each


def test_second_generation_blends_both_parents_in_one_forward(recipe):
    engine = pick_engine("second_generation")
    assert engine.__name__ == "gpu_worker.engines.second_generation.neural"
    psp = CallCounter(psp=runtime.get_model("psp_encoder", "cpu", recipe).module)
    try:
        result = engine.run({"parent_a": grace_hopper(), "parent_b": astronaut()}, {"size": 256, "sex": "girl"})
    finally:
        psp.remove()
    assert psp.calls == {"psp": 1}
    assert result.image.shape == (256, 256, 3)
    md = result.metadata
    assert md["engine"] == "neural-psp-stylegan2" and md["sex"] == "girl"
    assert md["weights"] == {"psp_encoder": "recipe:psp_encoder", "stylegan2": "recipe:stylegan2"}
    assert [d["name"] for d in md["directions"]] == ["age", "gender"] and md["directions"][1]["strength"] < 0
    assert set(md["distances"]) == {"parent_a", "parent_b"}


def test_makeup_parses_all_crops_once_and_adds_the_change_inside_the_regions(recipe):
    from gpu_worker.engines.makeup import neural as makeup

    source = RecipeWeights(names={"psgan", "bisenet_parsing"})
    psgan = CallCounter(psgan=runtime.get_model("psgan", "cpu", source).module,
                        bisenet=runtime.get_model("bisenet_parsing", "cpu", source).module)
    try:
        with runtime.use_weight_source(source):
            assert pick_engine("makeup") is makeup
            result = makeup.run({"target": astronaut(), "reference": grace_hopper()}, {"strength": 0.5})
    finally:
        psgan.remove()
    assert psgan.calls == {"psgan": 1, "bisenet": 1}  # target and reference parsed in one forward
    md = result.metadata
    assert md["engine"] == "neural-psgan" and md["dtype"] == "fp32"
    assert md["weights"] == {"bisenet_parsing": "recipe:bisenet_parsing", "psgan": "recipe:psgan"}
    changed = (result.image != astronaut()).any(axis=2)
    inside = np.zeros(changed.shape, bool)
    for x0, y0, x1, y1 in md["paste_boxes"]:
        inside[y0:y1, x0:x1] = True
    assert result.image.shape == astronaut().shape and not changed[~inside].any()


def test_projector_refines_w_plus_with_vgg16_features_in_torchvision_layout(recipe):
    import torch

    from gpu_worker.engines.generate import latents
    from gpu_worker.engines.generate.projector import ProjectorSettings, project
    from gpu_worker.models.vgg16 import VGG16Features, load_torchvision

    torch.manual_seed(0)
    vgg = VGG16Features().eval().requires_grad_(False)
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    assert list(vgg.state_dict()) == [f"features.{i}.{p}" for i in convs for p in ("weight", "bias")]
    torchvision_like = {**vgg.state_dict(), "classifier.0.weight": torch.zeros(4096, 25088)}
    load_torchvision(vgg, torchvision_like)  # classifier entries are ignored, features load strictly
    generator = runtime.get_model("stylegan2", "cpu", recipe)
    w = latents.seeded_w(generator, 5, 0.7).clone()
    target = latents.synthesize(generator, w[:, None].repeat(1, generator.module.n_latent, 1), "fp32")[0]
    result = project(generator.module, vgg, target, ProjectorSettings(steps=8, w_std_samples=1000))
    assert result.w_plus.shape == (1, generator.module.n_latent, 512) and torch.isfinite(result.w_plus).all()
    assert len(result.noise) == generator.module.num_layers
    assert all(abs(float(n.std()) - 1) < 0.05 for n in result.noise)  # renormalised after every step
    assert len(result.losses) == 8 and min(result.losses[-3:]) < result.losses[0]


def test_direction_files_are_validated(tmp_path):
    import torch

    from gpu_worker.engines.generate.directions import DirectionError, load_direction

    np.save(tmp_path / "a.npy", np.zeros(512, np.float32))
    torch.save({"direction": torch.ones(18, 512)}, tmp_path / "b.pt")
    np.save(tmp_path / "bad.npy", np.zeros((2, 3), np.float32))
    assert load_direction(tmp_path / "a.npy").vector.shape == (1, 512)
    assert load_direction(tmp_path / "b.pt").vector.shape == (18, 512)
    with pytest.raises(DirectionError, match=r"shape \(2, 3\)"):
        load_direction(tmp_path / "bad.npy")


def test_bisenet_masks_are_batched_and_checked_against_landmarks(recipe, two_faces):
    from gpu_worker.engines.face_crops import align_faces, find_faces, landmark_mask
    from gpu_worker.engines.parsing import choose_mask, parse_faces

    crops = align_faces(two_faces, find_faces(two_faces, "target", {"all_faces": True}), 256)
    parser = RecipeWeights().load("bisenet_parsing", "cpu")
    counter = CallCounter(bisenet=parser.module)
    masks = parse_faces([c.image for c in crops], parser)
    counter.remove()
    assert counter.calls == {"bisenet": 1}
    assert [m.shape for m in masks] == [(256, 256)] * 2 and masks[0].dtype == np.uint8
    landmarks = landmark_mask(crops[0])
    assert choose_mask(landmarks, landmarks)[1] == "bisenet"
    assert choose_mask(np.zeros_like(landmarks), landmarks)[1] == "landmarks"  # an empty parse is not trusted


def test_pick_engine_falls_back_to_classical(recipe, monkeypatch):
    assert choose_engine("swap")[0].__name__ == "gpu_worker.engines.swap.neural"
    monkeypatch.delenv(runtime.ENV_ON_CPU)
    engine, reason = choose_engine("swap")
    assert engine.__name__ == "gpu_worker.engines.swap.classical" and "no GPU" in reason
    monkeypatch.setenv(runtime.ENV_ON_CPU, "1")
    engine, reason = choose_engine("swap", RecipeWeights(names={"aei_net"}))
    assert engine.__name__ == "gpu_worker.engines.swap.classical" and "arcface_ir_se50" in reason
    assert pick_engine("restore").NAME == "restore"
    from gpu_worker.engines.selection import preload

    assert preload(("restore",)) == {"restore": "neural on cpu"}
    assert ("gpen", "cpu") in runtime.cached_models()
    monkeypatch.setenv("GASANG_DIRECTIONS_DIR", "/nonexistent")
    engine, reason = choose_engine("second_generation")
    assert engine.__name__ == "gpu_worker.engines.second_generation.classical" and "age" in reason


def test_installed_weights_without_the_installer_are_not_available(monkeypatch):
    monkeypatch.setattr(sources, "_installer", lambda: None)
    source = runtime.InstalledWeights()
    assert not source.available("aei_net")
    with pytest.raises(NotImplementedError, match="load_installed_with_extras"):
        source.load("aei_net", "cpu")


def test_installed_weights_are_named_by_sha256_and_licence_gated(recipe, tmp_path, monkeypatch):
    import hashlib

    import torch

    install = pytest.importorskip("gpu_worker.weights.install")
    from gpu_worker.weights.registry import WEIGHTS

    weight_name = next(n for n, w in WEIGHTS.items() if w.model == "hear_net")
    path = tmp_path / "hear.pth"
    torch.save(runtime.get_model("hear_net", "cpu", recipe).module.state_dict(), path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    install.install(weight_name, path, sha256=sha, store=install.open_store(tmp_path / "models"))
    monkeypatch.setenv("GASANG_MODEL_DIR", str(tmp_path / "models"))
    source = runtime.InstalledWeights()
    assert source.available("hear_net") and not source.available("aei_net")
    loaded = source.load("hear_net", "cpu")
    assert loaded.weight_id == f"sha256:{sha}" and not loaded.module.training
    engine, reason = choose_engine("swap", source)  # AEI-Net is not installed
    assert engine.__name__ == "gpu_worker.engines.swap.classical" and "aei_net" in reason
    if not WEIGHTS[weight_name].commercial_use:
        monkeypatch.setenv("GASANG_ENV", "production")
        assert not runtime.InstalledWeights().available("hear_net"), "the licence gate must refuse it"


def test_inference_context_never_autocasts_on_cpu():
    import torch

    assert runtime.compute_dtype("cpu") == "fp32"
    assert runtime.compute_dtype("cuda", ("psgan",)) == "fp32"
    with runtime.inference("cpu", "fp16"):
        assert torch.is_inference_mode_enabled()
        assert not torch.is_autocast_enabled("cuda") and not torch.is_autocast_enabled("cpu")


def test_importing_the_neural_package_does_not_import_torch():
    code = (
        "import sys, gpu_worker, gpu_worker.engines, gpu_worker.engines.runtime, gpu_worker.engines.selection; "
        "assert 'torch' not in sys.modules, 'torch imported'; assert 'django' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
