"""StyleGAN2 building blocks with the rosinality/stylegan2-pytorch state_dict layout.

Shared by the StyleGAN2 generator, the GPEN generator/encoder and the pSp style heads.
Attribute names (``weight``, ``bias``, ``modulation``, ``blur``, ``noise``, ``activate``,
``conv``, ``upsample``, ``input``) are forced by the official checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gpu_worker.models.ops import Blur, FusedLeakyReLU, Upsample, fused_leaky_relu

DEFAULT_BLUR: tuple[int, ...] = (1, 3, 3, 1)


class PixelNorm(nn.Module):
    """Normalise each row of z to unit RMS over dim 1. [N, D] -> [N, D]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: weight * (lr_mul / sqrt(in)), bias * lr_mul.

    With ``activation=True`` the bias goes through the fused leaky ReLU (slope 0.2, gain sqrt 2).
    State: ``weight`` [out, in], ``bias`` [out].
    """

    def __init__(
        self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0, activation: bool = False
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, in] -> [N, out]."""
        assert x.shape[-1] == self.weight.shape[1], f"EqualLinear expects [..., {self.weight.shape[1]}]"
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, bias=self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """Conv2d with equalised learning rate (weight * 1/sqrt(fan_in)). State: ``weight`` [+ ``bias``]."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel_size: int, stride: int = 1, padding: int = 0, bias: bool = True
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = 1 / math.sqrt(in_ch * kernel_size**2)
        self.stride = stride
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, in, H, W] -> [N, out, H', W']."""
        assert x.ndim == 4 and x.shape[1] == self.weight.shape[1], f"EqualConv2d got {tuple(x.shape)}"
        return F.conv2d(x, self.weight * self.scale, bias=self.bias, stride=self.stride, padding=self.padding)


class ModulatedConv2d(nn.Module):
    """Style-modulated (and optionally demodulated) convolution, batched as a grouped conv.

    ``upsample``: transposed conv (stride 2) followed by a FIR blur -> 2x resolution.
    State: ``weight`` [1, out, in, k, k], ``modulation.{weight,bias}``, ``blur.kernel`` when upsampling.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        style_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
        blur_taps: Sequence[int] = DEFAULT_BLUR,
    ) -> None:
        super().__init__()
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.upsample = upsample
        self.demodulate = demodulate
        if upsample:
            factor = 2
            extra = (len(blur_taps) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_taps, pad=((extra + 1) // 2 + factor - 1, extra // 2 + 1), gain=factor**2)
        self.scale = 1 / math.sqrt(in_ch * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)

    def _styled_weight(self, style: torch.Tensor) -> torch.Tensor:
        """style [N, style_dim] -> per-sample kernels [N, out, in, k, k]."""
        batch = style.shape[0]
        s = self.modulation(style).view(batch, 1, self.in_ch, 1, 1)
        weight = self.scale * self.weight * s
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * demod.view(batch, self.out_ch, 1, 1, 1)
        return weight

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """x: [N, in, H, W], style: [N, style_dim] -> [N, out, H, W] (or [N, out, 2H, 2W] when upsampling)."""
        batch, in_ch, height, width = x.shape
        assert in_ch == self.in_ch and style.shape[0] == batch, f"ModulatedConv2d got {tuple(x.shape)}"
        k = self.kernel_size
        weight = self._styled_weight(style)
        grouped = x.reshape(1, batch * in_ch, height, width)
        if self.upsample:
            # conv_transpose2d wants [in, out/groups, k, k] per group.
            weight = weight.transpose(1, 2).reshape(batch * in_ch, self.out_ch, k, k)
            out = F.conv_transpose2d(grouped, weight, padding=0, stride=2, groups=batch)
            out = self.blur(out.view(batch, self.out_ch, out.shape[2], out.shape[3]))
            assert out.shape[-2:] == (2 * height, 2 * width)
            return out
        out = F.conv2d(grouped, weight.reshape(batch * self.out_ch, in_ch, k, k), padding=self.padding, groups=batch)
        return out.view(batch, self.out_ch, height, width)


class NoiseInjection(nn.Module):
    """Scaled per-pixel noise, added (StyleGAN2) or concatenated along channels (GPEN).

    State: ``weight`` [1]. Without ``noise`` a fresh N(0, 1) map is drawn
    ([N, 1, H, W] when adding, [N, C, H, W] when concatenating).
    """

    def __init__(self, concat: bool = False) -> None:
        super().__init__()
        self.concat = concat
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, image: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """image: [N, C, H, W] -> [N, C, H, W] (add) or [N, C + C_noise, H, W] (concat)."""
        batch, channels, height, width = image.shape
        if noise is None:
            noise = image.new_empty(batch, channels if self.concat else 1, height, width).normal_()
        assert noise.shape[-2:] == (height, width), f"noise {tuple(noise.shape)} vs image {tuple(image.shape)}"
        if self.concat:
            return torch.cat((image, self.weight * noise), dim=1)
        return image + self.weight * noise


class ConstantInput(nn.Module):
    """Learned constant start map. State: ``input`` [1, C, size, size]."""

    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int | torch.Tensor) -> torch.Tensor:
        """batch size (or any tensor whose dim 0 is the batch) -> [batch, C, size, size]."""
        n = batch.shape[0] if isinstance(batch, torch.Tensor) else batch
        return self.input.repeat(n, 1, 1, 1)


class StyledConv(nn.Module):
    """ModulatedConv2d -> NoiseInjection -> FusedLeakyReLU.

    With ``concat_noise`` the activation sees out_ch * 2 channels (GPEN).
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        style_dim: int,
        upsample: bool = False,
        blur_taps: Sequence[int] = DEFAULT_BLUR,
        demodulate: bool = True,
        concat_noise: bool = False,
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(
            in_ch, out_ch, kernel_size, style_dim, demodulate=demodulate, upsample=upsample, blur_taps=blur_taps
        )
        self.noise = NoiseInjection(concat=concat_noise)
        self.activate = FusedLeakyReLU(out_ch * (2 if concat_noise else 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """x: [N, in, H, W] -> [N, out(*2), H', W']."""
        return self.activate(self.noise(self.conv(x, style), noise=noise))


class ToRGB(nn.Module):
    """1x1 modulated conv to RGB (no demodulation) + bias, plus the upsampled skip image.

    State: ``bias`` [1, 3, 1, 1], ``conv.*``, ``upsample.kernel`` when ``upsample``.
    """

    def __init__(self, in_ch: int, style_dim: int, upsample: bool = True, blur_taps: Sequence[int] = DEFAULT_BLUR):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_taps)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        """x: [N, in, H, W], skip: [N, 3, H/2, W/2] or None -> [N, 3, H, W]."""
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


def mapping_network(style_dim: int, n_mlp: int, lr_mul: float = 0.01) -> nn.Sequential:
    """z -> w: PixelNorm then ``n_mlp`` EqualLinear+lrelu layers (keys ``style.1`` .. ``style.{n_mlp}``)."""
    layers: list[nn.Module] = [PixelNorm()]
    layers += [EqualLinear(style_dim, style_dim, lr_mul=lr_mul, activation=True) for _ in range(n_mlp)]
    return nn.Sequential(*layers)
