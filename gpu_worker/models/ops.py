"""Plain-PyTorch versions of the StyleGAN2 custom ops (no CUDA extension needed).

* ``upfirdn2d``: upsample by zero insertion, pad (or crop), FIR-filter, downsample.
* ``fused_leaky_relu``: bias add + leaky ReLU + gain, the op the reference ships as a
  fused CUDA kernel. On CPU the reference itself runs exactly this composition.

Both work on any device and dtype; the FIR kernel is cast to the input's dtype.
The small modules below (``FusedLeakyReLU``, ``Blur``, ``Upsample``) own the state_dict
entries the official checkpoints carry (``bias`` and ``kernel``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

SQRT2 = math.sqrt(2.0)


def upfirdn2d(
    x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)
) -> torch.Tensor:
    """Upsample, FIR-filter and downsample every channel of ``x`` independently.

    x: [N, C, H, W]; kernel: [kh, kw]; ``pad = (before, after)`` applies to both axes
    (negative values crop). The kernel is applied as a true convolution (flipped), like
    the reference. Returns [N, C, (H*up + p0 + p1 - kh) // down + 1, (W*up + p0 + p1 - kw) // down + 1].
    """
    assert x.ndim == 4, f"upfirdn2d expects [N,C,H,W], got {tuple(x.shape)}"
    assert kernel.ndim == 2, f"kernel must be [kh,kw], got {tuple(kernel.shape)}"
    n, c, h, w = x.shape
    kh, kw = kernel.shape
    before, after = pad
    if up > 1:
        # Put up-1 zeros after every sample along H and W.
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(before, 0), max(after, 0), max(before, 0), max(after, 0)])
    if before < 0 or after < 0:
        x = x[:, :, max(-before, 0) : x.shape[2] - max(-after, 0), max(-before, 0) : x.shape[3] - max(-after, 0)]
    taps = torch.flip(kernel, [0, 1]).to(dtype=x.dtype, device=x.device)
    depthwise = taps.view(1, 1, kh, kw).expand(c, 1, kh, kw)
    # A strided convolution equals the full convolution subsampled with [::down].
    return F.conv2d(x, depthwise, stride=down, groups=c)


def fused_leaky_relu(
    x: torch.Tensor, bias: torch.Tensor, negative_slope: float = 0.2, scale: float = SQRT2
) -> torch.Tensor:
    """``leaky_relu(x + bias, negative_slope) * scale`` with ``bias`` [C] broadcast over dim 1 of x [N, C, ...]."""
    assert bias.ndim == 1 and x.shape[1] == bias.shape[0], f"bias {tuple(bias.shape)} vs input {tuple(x.shape)}"
    b = bias.view(1, bias.shape[0], *([1] * (x.ndim - 2)))
    return F.leaky_relu(x + b, negative_slope=negative_slope) * scale


class FusedLeakyReLU(nn.Module):
    """Learned per-channel bias followed by a scaled leaky ReLU. State: ``bias`` [C]."""

    def __init__(self, channels: int, negative_slope: float = 0.2, scale: float = SQRT2) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.negative_slope = negative_slope
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, ...] or [N, C] -> same shape."""
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


def make_fir_kernel(taps: Sequence[float]) -> torch.Tensor:
    """Separable 1-D taps -> normalised 2-D kernel [k, k] summing to 1."""
    k1 = torch.tensor(list(taps), dtype=torch.float32)
    k2 = k1[None, :] * k1[:, None]
    return k2 / k2.sum()


class Blur(nn.Module):
    """FIR low-pass with explicit padding. State: ``kernel`` [k, k] (scaled by ``gain``)."""

    def __init__(self, taps: Sequence[float], pad: tuple[int, int], gain: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("kernel", make_fir_kernel(taps) * gain)
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> [N, C, H + p0 + p1 - k + 1, W + p0 + p1 - k + 1]."""
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """2x (``factor``) FIR upsampling. State: ``kernel`` [k, k] scaled by factor**2."""

    def __init__(self, taps: Sequence[float], factor: int = 2) -> None:
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_fir_kernel(taps) * (factor**2))
        extra = len(taps) - factor
        self.pad = ((extra + 1) // 2 + factor - 1, extra // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> [N, C, H*factor, W*factor]."""
        out = upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)
        assert out.shape[-2:] == (x.shape[2] * self.factor, x.shape[3] * self.factor)
        return out
