"""GPEN blind face restoration network with the yangxy/GPEN ``FullGenerator`` checkpoint layout.

``FullGenerator(512, 512, 8, 2, isconcat=True, narrow=1)`` loads ``GPEN-BFR-512.pth`` strictly.

Structure: a downsampling encoder ``ecd0 .. ecd{log2(size)-2}`` (size -> 4x4), ``final_linear``
(4x4 map -> z), and a StyleGAN2 generator whose "noise" inputs are the encoder feature maps,
concatenated (not added) after every modulated conv. The forward pass draws no random numbers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from gpu_worker.models.ops import Blur, FusedLeakyReLU
from gpu_worker.models.sg2_layers import DEFAULT_BLUR, EqualConv2d, EqualLinear
from gpu_worker.models.stylegan2 import Generator, channel_table


class EncoderConv(nn.Sequential):
    """GPEN ``ConvLayer`` with activation: [Blur] -> EqualConv2d (no bias) -> FusedLeakyReLU.

    Indices are forced by the layout: without downsampling ``0`` conv, ``1`` act;
    with downsampling ``0`` blur, ``1`` conv (stride 2), ``2`` act.
    x: [N, in, H, W] -> [N, out, H, W] or [N, out, H/2, W/2].
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        downsample: bool = False,
        blur_taps: Sequence[int] = DEFAULT_BLUR,
    ) -> None:
        layers: list[nn.Module] = []
        if downsample:
            extra = (len(blur_taps) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_taps, pad=((extra + 1) // 2, extra // 2)))
            layers.append(EqualConv2d(in_ch, out_ch, kernel_size, stride=2, padding=0, bias=False))
        else:
            layers.append(EqualConv2d(in_ch, out_ch, kernel_size, stride=1, padding=kernel_size // 2, bias=False))
        layers.append(FusedLeakyReLU(out_ch))
        super().__init__(*layers)


class FullGenerator(nn.Module):
    """Degraded face [N, 3, size, size] -> restored face [N, 3, size, size] (raw, no clamp).

    forward(inputs, return_latents, inject_index, truncation, truncation_latent, input_is_latent)
    -> (image, W+ latent or None), like GPEN's FullGenerator at the pinned commit.
    """

    def __init__(
        self,
        size: int,
        style_dim: int,
        n_mlp: int,
        channel_multiplier: int = 2,
        blur_kernel: Sequence[int] = DEFAULT_BLUR,
        lr_mlp: float = 0.01,
        isconcat: bool = True,
        narrow: float = 1,
    ) -> None:
        super().__init__()
        channels = channel_table(channel_multiplier, narrow)
        self.size = size
        self.log_size = int(math.log(size, 2))
        self.generator = Generator(
            size,
            style_dim,
            n_mlp,
            channel_multiplier=channel_multiplier,
            blur_kernel=blur_kernel,
            lr_mlp=lr_mlp,
            narrow=narrow,
            concat_noise=isconcat,
            noise_buffers=False,
        )
        self.names = [f"ecd{i}" for i in range(self.log_size - 1)]
        self.ecd0 = nn.Sequential(EncoderConv(3, channels[size], 1))
        in_ch = channels[size]
        for idx, log_res in enumerate(range(self.log_size - 1, 1, -1), start=1):
            out_ch = channels[2**log_res]
            setattr(self, self.names[idx], nn.Sequential(EncoderConv(in_ch, out_ch, 3, downsample=True)))
            in_ch = out_ch
        self.final_linear = nn.Sequential(EqualLinear(channels[4] * 4 * 4, style_dim, activation=True))

    def encode(self, inputs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """[N, 3, size, size] -> (z [N, style_dim], feature maps from size x size down to 4x4)."""
        assert inputs.ndim == 4 and inputs.shape[1:] == (3, self.size, self.size), f"got {tuple(inputs.shape)}"
        feats = []
        x = inputs
        for name in self.names:
            x = getattr(self, name)(x)
            feats.append(x)
        assert x.shape[-2:] == (4, 4)
        return self.final_linear(x.reshape(x.shape[0], -1)), feats

    def forward(
        self,
        inputs: torch.Tensor,
        return_latents: bool = False,
        inject_index: int | None = None,
        truncation: float = 1,
        truncation_latent: torch.Tensor | None = None,
        input_is_latent: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        z, feats = self.encode(inputs)
        # Coarsest map feeds conv1; every finer map feeds the two convs of its resolution.
        doubled = list(itertools.chain.from_iterable((f, f) for f in reversed(feats)))
        noise = doubled[1:]
        return self.generator(
            [z], return_latents, inject_index, truncation, truncation_latent, input_is_latent, noise=noise
        )


def build(
    size: int, style_dim: int, n_mlp: int, channel_multiplier: int = 2, isconcat: bool = True, narrow: float = 1
) -> FullGenerator:
    """``FullGenerator(size, style_dim, n_mlp, channel_multiplier, isconcat=..., narrow=...)``."""
    return FullGenerator(size, style_dim, n_mlp, channel_multiplier, isconcat=isconcat, narrow=narrow)
