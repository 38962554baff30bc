"""FaceShifter HEAR-Net (heuristic error acknowledging refinement), stage 2.

Matches the ``state_dict`` layout of taotaonice/FaceShifter ``network/HEAR_Net.py:HearNet``
(``HEAR_latest.pth``), so a checkpoint loads with ``strict=True``.

Input: ``cat(Y_hat_st, Xt - Y_hat_tt)`` [N,6,H,W] (H, W multiples of 32, 256 in practice).
Output: refined swap [N,3,H,W] in (-1, 1). A five-level U-Net whose skips are concatenated
*before* the upsampled features, finished by a bilinear 2x upsample and a 3x3 conv.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_LRELU_SLOPE = 0.1
_DOWN_CHANNELS = ((6, 64), (64, 128), (128, 256), (256, 512), (512, 512))
_UP_CHANNELS = ((512, 512), (1024, 256), (512, 128), (256, 64))


class DownBlock(nn.Sequential):
    """Conv4x4/s2 (with bias) -> BatchNorm -> LeakyReLU(0.1). [N,cin,H,W] -> [N,cout,H/2,W/2]."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(_LRELU_SLOPE, inplace=True),
        )


class UpBlock(nn.Sequential):
    """ConvTranspose4x4/s2 (with bias) -> BatchNorm -> LeakyReLU(0.1). [N,cin,H,W] -> [N,cout,2H,2W]."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(_LRELU_SLOPE, inplace=True),
        )


class HearNet(nn.Module):
    """``forward(x [N,6,H,W]) -> [N,3,H,W]`` (tanh)."""

    def __init__(self) -> None:
        super().__init__()
        for i, (cin, cout) in enumerate(_DOWN_CHANNELS, start=1):
            self.add_module(f"down{i}", DownBlock(cin, cout))
        for i, (cin, cout) in enumerate(_UP_CHANNELS, start=1):
            self.add_module(f"up{i}", UpBlock(cin, cout))
        self.up5 = nn.Conv2d(128, 3, kernel_size=3, stride=1, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        assert x.ndim == 4 and x.shape[1] == 6, f"expected [N,6,H,W], got {tuple(x.shape)}"
        assert x.shape[2] % 32 == 0 and x.shape[3] % 32 == 0, "H and W must be multiples of 32"
        skips = []
        h = x
        for i in range(1, len(_DOWN_CHANNELS) + 1):
            h = getattr(self, f"down{i}")(h)
            skips.append(h)
        h = skips.pop()  # 1/32 resolution bottleneck
        for i in range(1, len(_UP_CHANNELS) + 1):
            skip = skips.pop()
            up = getattr(self, f"up{i}")(h)
            assert up.shape[2:] == skip.shape[2:]
            h = torch.cat((skip, up), dim=1)
        h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=True)
        y = torch.tanh(self.up5(h))
        assert y.shape == (x.shape[0], 3, *x.shape[2:])
        return y


def build() -> HearNet:
    """``HearNet()``."""
    return HearNet()
