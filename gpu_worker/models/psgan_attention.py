"""PSGAN's attentive makeup morphing (AMM): per-region attention from source to reference pixels.

Shapes for a 256 px input (features at 1/4 resolution, ``hw = 64 * 64``):

* ``fea_c``, ``fea_s``: [1,256,64,64] MANet (source) and MDNet (reference) bottleneck features;
* ``mask_c``, ``mask_s``: [3,1,256,256] 0/1 region masks (lip, face skin, eyes);
* ``diff_c``, ``diff_s``: [3,136,64,64] landmark-relative position features, already
  masked per region and L2-normalised by the preprocessing;
* attention ``weight``: [3,hw,hw], row ``i`` of region ``r`` = how much source pixel ``i``
  takes from each reference pixel.

Sparsity rule (reproduced exactly from the reference): a pair whose raw similarity is
exactly 0 (either pixel outside that region's mask) gets weight 0 *after* a softmax taken
over the whole row, so rows of pixels outside a mask are all zero and the softmax
denominator still counts the zero-similarity pairs (as exp(0 - rowmax)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

N_REGIONS = 3
VISUAL_SCALE = 0.01  # weight of the visual feature against the landmark feature
SHARPNESS = 200.0  # softmax temperature^-1


def _region_masks(mask: Tensor, size: torch.Size | tuple[int, int]) -> Tensor:
    """[3,1,H,W] masks -> [3,1,h,w] by nearest-neighbour resizing (F.interpolate's default)."""
    assert mask.ndim == 4 and mask.shape[:2] == (N_REGIONS, 1), f"masks must be [3,1,H,W], got {tuple(mask.shape)}"
    return F.interpolate(mask, size=tuple(size))


class RegionAttention(nn.Module):
    """Dense-then-sparsified attention weights [3,hw,hw] (stateless; see module docstring)."""

    def forward(
        self, fea_c: Tensor, fea_s: Tensor, mask_c: Tensor, mask_s: Tensor, diff_c: Tensor, diff_s: Tensor
    ) -> Tensor:
        assert fea_c.ndim == 4 and fea_c.shape[0] == 1, f"one source image at a time, got {tuple(fea_c.shape)}"
        assert fea_s.shape == fea_c.shape, f"fea_s {tuple(fea_s.shape)} != fea_c {tuple(fea_c.shape)}"
        size = fea_c.shape[2:]
        for diff in (diff_c, diff_s):
            assert diff.ndim == 4 and diff.shape[0] == N_REGIONS and diff.shape[2:] == size, (
                f"diff must be [3,D,{size[0]},{size[1]}], got {tuple(diff.shape)}"
            )
        hw = size[0] * size[1]

        # [3, C+D, hw]: per-region masked visual features (scaled down) stacked on position features.
        theta = torch.cat(((fea_c * _region_masks(mask_c, size)) * VISUAL_SCALE, diff_c), dim=1)
        phi = torch.cat(((fea_s * _region_masks(mask_s, size)) * VISUAL_SCALE, diff_s), dim=1)
        theta = theta.reshape(N_REGIONS, -1, hw)
        phi = phi.reshape(N_REGIONS, -1, hw)

        similarity = torch.bmm(theta.permute(0, 2, 1), phi)  # [3, hw(source), hw(reference)]
        weight = torch.softmax(similarity * SHARPNESS, dim=-1)
        return weight.masked_fill(similarity == 0, 0.0)


class MakeupMorphing(nn.Module):
    """Warps a reference makeup matrix [1,1,h,w] onto the source with the attention weights.

    Each region's masked copy is attended separately ([3,hw,hw] @ [3,hw,1]); the three
    results are summed into [1,1,h,w]. The reference module (``NONLocalBlock2D``) owns a
    1x1 conv ``g`` that its forward never applies; it is kept only so checkpoints load.
    """

    def __init__(self) -> None:
        super().__init__()
        self.g = nn.Conv2d(1, 1, kernel_size=1)  # unused, checkpoint compatibility

    def forward(self, matrix_s: Tensor, mask_s: Tensor, weight: Tensor) -> Tensor:
        assert matrix_s.ndim == 4 and matrix_s.shape[:2] == (1, 1), f"expected [1,1,h,w], got {tuple(matrix_s.shape)}"
        size = matrix_s.shape[2:]
        hw = size[0] * size[1]
        assert weight.shape == (N_REGIONS, hw, hw), f"weight {tuple(weight.shape)} does not fit {tuple(size)}"
        per_region = (matrix_s * _region_masks(mask_s, size)).reshape(N_REGIONS, 1, hw)
        morphed = torch.bmm(weight, per_region.permute(0, 2, 1))  # [3, hw, 1]
        morphed = morphed.permute(0, 2, 1).reshape(N_REGIONS, 1, *size)
        return (morphed[0] + morphed[1] + morphed[2]).unsqueeze(0)
