"""Face masks from BiSeNet face parsing (CelebAMask-HQ labels), batched over all crops of a job.

Labels of the face-parsing checkpoint: 0 background, 1 skin, 2/3 brows, 4/5 eyes, 6 glasses, 7/8 ears,
9 earring, 10 nose, 11 mouth, 12/13 lips, 14 neck, 15 necklace, 16 cloth, 17 hair, 18 hat.
The face mask is skin + brows + eyes + nose + mouth + lips: hair, hats, hands (not skin-labelled
where the parser sees them) and glasses frames stay out, which is what occlusion handling needs.
"""

from __future__ import annotations

import numpy as np

from gpu_worker.engines.runtime import LoadedModel, inference

FACE_LABELS = (1, 2, 3, 4, 5, 10, 11, 12, 13)
PARSE_SIZE = 512  # the face-parsing model's training resolution
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_AGREEMENT = 0.3  # parsed face area / landmark face area below this: the parse is not trusted


def parse_labels(crops: list[np.ndarray], model: LoadedModel, dtype: str = "fp32") -> list[np.ndarray]:
    """Aligned RGB uint8 crops (S, S, 3) -> uint8 label maps (S, S) in the labels above. One batched forward."""
    import torch
    import torch.nn.functional as F

    size = crops[0].shape[0]
    x = torch.from_numpy(np.stack(crops)).to(model.device).permute(0, 3, 1, 2).contiguous().float().div(255.0)
    if size != PARSE_SIZE:
        x = F.interpolate(x, size=(PARSE_SIZE, PARSE_SIZE), mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    with inference(model.device, dtype):
        labels = model.module((x - mean) / std)[0].argmax(1, keepdim=True).float()
        if size != PARSE_SIZE:
            labels = F.interpolate(labels, size=(size, size), mode="nearest")
    return list(labels[:, 0].byte().cpu().numpy())


def parse_faces(crops: list[np.ndarray], model: LoadedModel, dtype: str = "fp32") -> list[np.ndarray]:
    """Aligned RGB uint8 crops (S, S, 3) -> uint8 masks (S, S), 255 on the face. One batched forward."""
    return [np.isin(labels, FACE_LABELS).astype(np.uint8) * 255 for labels in parse_labels(crops, model, dtype)]


def choose_mask(parsed: np.ndarray | None, landmark: np.ndarray) -> tuple[np.ndarray, str]:
    """The parsed mask when it agrees with the landmark mask (enough overlap), else the landmark mask.

    Returns (mask, source) with source ``bisenet`` or ``landmarks``.
    """
    if parsed is None:
        return landmark, "landmarks"
    lm_area = max(1, int((landmark > 0).sum()))
    overlap = int(((parsed > 0) & (landmark > 0)).sum())
    if overlap / lm_area < MIN_AGREEMENT:
        return landmark, "landmarks"
    return parsed, "bisenet"
