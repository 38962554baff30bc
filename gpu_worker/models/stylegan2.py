"""StyleGAN2 generator with the rosinality/stylegan2-pytorch ``Generator`` checkpoint layout.

``Generator(1024, 512, 8, channel_multiplier=2)`` loads ``stylegan2-ffhq-config-f.pt['g_ema']``
with strict=True. The same class, with ``narrow``/``concat_noise``/``noise_buffers`` changed,
is GPEN's inner generator (see ``gpu_worker.models.gpen``).

Latent conventions: z and w are [N, style_dim]; W+ is [N, n_latent, style_dim] with
``n_latent = 2 * log2(size) - 2``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import torch
from torch import nn

from gpu_worker.models.sg2_layers import DEFAULT_BLUR, ConstantInput, StyledConv, ToRGB, mapping_network


def channel_table(channel_multiplier: int, narrow: float = 1.0) -> dict[int, int]:
    """Feature channels per resolution (StyleGAN2 config-f, optionally narrowed as in GPEN)."""
    base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * channel_multiplier, 128: 128 * channel_multiplier}
    base |= {256: 64 * channel_multiplier, 512: 32 * channel_multiplier, 1024: 16 * channel_multiplier}
    return {res: int(ch * narrow) for res, ch in base.items()}


class Generator(nn.Module):
    """Mapping network + synthesis network.

    forward(styles, return_latents, inject_index, truncation, truncation_latent, input_is_latent,
    noise, randomize_noise) -> (image [N, 3, size, size], W+ latent [N, n_latent, style_dim] or None).
    The image is the raw ToRGB sum (no tanh/clamp).
    """

    def __init__(
        self,
        size: int,
        style_dim: int,
        n_mlp: int,
        channel_multiplier: int = 2,
        blur_kernel: Sequence[int] = DEFAULT_BLUR,
        lr_mlp: float = 0.01,
        *,
        narrow: float = 1.0,
        concat_noise: bool = False,
        noise_buffers: bool = True,
    ) -> None:
        super().__init__()
        self.size = size
        self.style_dim = style_dim
        self.log_size = int(math.log(size, 2))
        assert 2**self.log_size == size and size >= 8, f"size must be a power of two >= 8, got {size}"
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.n_latent = self.log_size * 2 - 2
        self.channels = channel_table(channel_multiplier, narrow)
        mult = 2 if concat_noise else 1  # concatenated noise doubles what the next layer reads

        self.style = mapping_network(style_dim, n_mlp, lr_mlp)
        ch = self.channels[4]
        self.input = ConstantInput(ch)
        self.conv1 = StyledConv(ch, ch, 3, style_dim, blur_taps=blur_kernel, concat_noise=concat_noise)
        self.to_rgb1 = ToRGB(ch * mult, style_dim, upsample=False)

        self.convs = nn.ModuleList()
        self.upsamples = nn.ModuleList()  # unused; kept because the reference defines it (no state)
        self.to_rgbs = nn.ModuleList()
        in_ch = ch
        for log_res in range(3, self.log_size + 1):
            out_ch = self.channels[2**log_res]
            self.convs.append(
                StyledConv(
                    in_ch * mult, out_ch, 3, style_dim, upsample=True, blur_taps=blur_kernel, concat_noise=concat_noise
                )
            )
            self.convs.append(
                StyledConv(out_ch * mult, out_ch, 3, style_dim, blur_taps=blur_kernel, concat_noise=concat_noise)
            )
            self.to_rgbs.append(ToRGB(out_ch * mult, style_dim, blur_taps=blur_kernel))
            in_ch = out_ch

        if noise_buffers:
            self.noises = nn.Module()
            for idx in range(self.num_layers):
                res = 2 ** ((idx + 5) // 2)
                self.noises.register_buffer(f"noise_{idx}", torch.randn(1, 1, res, res))

    # ----------------------------------------------------------------- latents
    def get_latent(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, style_dim] -> w [N, style_dim] through the mapping network."""
        assert z.ndim == 2 and z.shape[1] == self.style_dim, f"z must be [N, {self.style_dim}], got {tuple(z.shape)}"
        return self.style(z)

    @torch.no_grad()
    def mean_latent(self, n_latent: int) -> torch.Tensor:
        """Average w over ``n_latent`` random z: [1, style_dim] (the truncation centre)."""
        z = torch.randn(n_latent, self.style_dim, device=self.input.input.device, dtype=self.input.input.dtype)
        return self.style(z).mean(0, keepdim=True)

    def make_noise(self) -> list[torch.Tensor]:
        """Fresh noise maps [1, 1, r, r] for every layer."""
        ref = self.input.input
        return [
            torch.randn(1, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2), device=ref.device)
            for i in range(self.num_layers)
        ]

    def stored_noise(self) -> list[torch.Tensor]:
        """The ``noises.noise_i`` buffers (used with ``randomize_noise=False``)."""
        if not hasattr(self, "noises"):
            raise RuntimeError("this generator has no stored noise buffers")
        return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]

    def _to_wplus(self, styles: list[torch.Tensor], inject_index: int | None) -> torch.Tensor:
        """One or two codes ([N, D] or [N, n_latent, D]) -> W+ [N, n_latent, D] (style mixing at inject_index)."""
        if len(styles) < 2:
            if styles[0].ndim == 3:
                latent = styles[0]
            else:
                latent = styles[0].unsqueeze(1).repeat(1, self.n_latent, 1)
        else:
            if inject_index is None:
                inject_index = random.randint(1, self.n_latent - 1)
            first = styles[0].unsqueeze(1).repeat(1, inject_index, 1)
            second = styles[1].unsqueeze(1).repeat(1, self.n_latent - inject_index, 1)
            latent = torch.cat([first, second], 1)
        assert latent.shape[1:] == (self.n_latent, self.style_dim), f"W+ has shape {tuple(latent.shape)}"
        return latent

    # ---------------------------------------------------------------- forward
    def synthesize(self, latent: torch.Tensor, noise: Sequence[torch.Tensor | None]) -> torch.Tensor:
        """W+ [N, n_latent, D] and one noise entry per layer -> image [N, 3, size, size]."""
        assert len(noise) == self.num_layers, f"need {self.num_layers} noise entries, got {len(noise)}"
        out = self.input(latent.shape[0])
        out = self.conv1(out, latent[:, 0], noise=noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        idx = 1
        for up_conv, conv, to_rgb, k in zip(self.convs[::2], self.convs[1::2], self.to_rgbs, range(1, len(noise), 2)):
            out = up_conv(out, latent[:, idx], noise=noise[k])
            out = conv(out, latent[:, idx + 1], noise=noise[k + 1])
            skip = to_rgb(out, latent[:, idx + 2], skip)
            idx += 2
        assert skip.shape[1:] == (3, self.size, self.size)
        return skip

    def forward(
        self,
        styles: list[torch.Tensor],
        return_latents: bool = False,
        inject_index: int | None = None,
        truncation: float = 1,
        truncation_latent: torch.Tensor | None = None,
        input_is_latent: bool = False,
        noise: Sequence[torch.Tensor | None] | None = None,
        randomize_noise: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """styles: list of 1-2 codes; z/w [N, D] or (with input_is_latent) W+ [N, n_latent, D]."""
        if not input_is_latent:
            styles = [self.style(s) for s in styles]
        if noise is None:
            noise = [None] * self.num_layers if randomize_noise else self.stored_noise()
        if truncation < 1:
            assert truncation_latent is not None, "truncation < 1 needs truncation_latent (e.g. mean_latent())"
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        latent = self._to_wplus(list(styles), inject_index)
        image = self.synthesize(latent, noise)
        return (image, latent) if return_latents else (image, None)


def build(size: int, style_dim: int, n_mlp: int, channel_multiplier: int = 2) -> Generator:
    """``Generator(size, style_dim, n_mlp, channel_multiplier=...)`` as in the reference."""
    return Generator(size, style_dim, n_mlp, channel_multiplier=channel_multiplier)
