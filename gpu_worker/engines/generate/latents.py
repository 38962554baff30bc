"""StyleGAN2 latent plumbing shared by generate and second generation: mean W, pSp encoding of real
faces into W+, synthesis of W+ codes into RGB images, and the dlib identity guard.
"""

from __future__ import annotations

import numpy as np

from gpu_worker.engines import session as common
from gpu_worker.engines.face_crops import align_faces, to_images, to_tensor
from gpu_worker.engines.runtime import LoadedModel, inference
from gpu_worker.face.detect import Face

W_AVG_SAMPLES = 10_000
W_AVG_SEED = 20_201_122
PSP_SIZE = 256  # pSp encodes FFHQ-aligned faces resized to 256


def mean_w(loaded: LoadedModel):
    """The mean W [1, D] (truncation centre): the checkpoint's ``latent_avg`` when it has one, else the
    mapping of ``W_AVG_SAMPLES`` seeded z (computed once and kept with the warm model)."""
    import torch

    if "w_avg" not in loaded.extras:
        avg = loaded.extras.get("latent_avg")
        if avg is not None:
            avg = torch.as_tensor(avg).float().reshape(-1, avg.shape[-1])[:1].to(loaded.device)
        else:
            gen = loaded.module
            z = torch.randn(W_AVG_SAMPLES, gen.style_dim, generator=torch.Generator().manual_seed(W_AVG_SEED))
            with torch.inference_mode():
                avg = gen.style(z.to(loaded.device)).float().mean(0, keepdim=True)
        loaded.extras["w_avg"] = avg
    return loaded.extras["w_avg"]


def seeded_w(loaded: LoadedModel, seed: int, truncation: float):
    """W [1, D] of the seed's z (CPU generator, so the same on every device), truncated towards mean W."""
    import torch

    gen = loaded.module
    z = torch.randn(1, gen.style_dim, generator=torch.Generator().manual_seed(seed)).to(loaded.device)
    with torch.inference_mode():
        avg = mean_w(loaded)
        return avg + truncation * (gen.get_latent(z).float() - avg)


def synthesize(loaded: LoadedModel, w_plus, dtype: str, size: int | None = None) -> list[np.ndarray]:
    """W+ [N, n_latent, D] -> N RGB uint8 images (stored noise: deterministic), resized to ``size``."""
    import cv2

    gen = loaded.module
    if w_plus.shape[1:] != (gen.n_latent, gen.style_dim):
        raise ValueError(f"W+ {tuple(w_plus.shape)} does not fit this generator ({gen.n_latent} x {gen.style_dim})")
    with inference(loaded.device, dtype):
        images = to_images(gen.synthesize(w_plus.to(loaded.device), gen.stored_noise()).float())
    if size is None or size == gen.size:
        return images
    flag = cv2.INTER_AREA if size < gen.size else cv2.INTER_CUBIC
    return [cv2.resize(im, (size, size), interpolation=flag) for im in images]


def encode(session: common.Session, images: list[np.ndarray], faces: list[Face]):
    """pSp W+ codes [K, n_styles, D] of the given faces (FFHQ-aligned at 256, one batched forward).

    The encoder predicts offsets from the generator's average latent: the checkpoint's ``latent_avg``
    when present, else the generator's mean W. Raises ValueError when the encoder's style count does
    not match the generator's W+ layers.
    """
    encoder = session.model("psp_encoder")
    generator = session.model("stylegan2")
    crops = [align_faces(img, [face], PSP_SIZE)[0].image for img, face in zip(images, faces)]
    with inference(session.device, session.dtype):
        codes = encoder.module(to_tensor(crops, session.device)).float()
    if codes.shape[1] != generator.module.n_latent:
        raise ValueError(f"pSp predicts {codes.shape[1]} styles but the generator has {generator.module.n_latent}")
    avg = encoder.extras.get("latent_avg")
    if avg is None:
        avg = mean_w(generator)
    import torch

    avg = torch.as_tensor(avg, device=codes.device).float()
    return codes + (avg if avg.ndim == 2 and avg.shape[0] == codes.shape[1] else avg.reshape(1, -1))


def identity_distances(image: np.ndarray, references: list[np.ndarray]) -> list[float] | None:
    """dlib distances of the largest face of ``image`` to each reference embedding; None without a face."""
    from gpu_worker.face.detect import analyze
    from gpu_worker.face.embed import distance, embedding
    from gpu_worker.face.select import select_face

    faces = analyze(image, upsample=1)
    if not faces:
        return None
    emb = embedding(image, select_face(faces))
    return [round(distance(emb, r), 4) for r in references]
