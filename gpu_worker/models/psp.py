"""pSp ``GradualStyleEncoder`` with the eladrich/pixel2style2pixel checkpoint layout.

``GradualStyleEncoder(50, 'ir_se', input_nc=3, n_styles=18)`` loads the ``encoder.*`` part of
``psp_ffhq_encode.pt`` strictly (see ``gpu_worker.weights.containers``). It maps an aligned
256x256 face in [-1, 1] to W+ codes [N, n_styles, 512]; pSp adds ``latent_avg`` afterwards and
feeds the sum to a StyleGAN2 ``Generator(1024, 512, 8)`` with ``input_is_latent=True``.

The IR-SE stem and body come from ``gpu_worker.models.ir_se`` (identical layout).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gpu_worker.models.ir_se import input_stem, residual_body
from gpu_worker.models.sg2_layers import EqualLinear

# Body units whose outputs feed the feature pyramid (IR-50: 64x64/128ch, 32x32/256ch, 16x16/512ch).
_TAPS = {"fine": 6, "middle": 20, "coarse": 23}
_COARSE_END = 3  # styles [0, 3) read the 16x16 map
_MIDDLE_END = 7  # styles [3, 7) read the 32x32 map; the rest read 64x64


class GradualStyleBlock(nn.Module):
    """log2(spatial) stride-2 conv3x3 + LeakyReLU(0.01) steps down to 1x1, then EqualLinear.

    Keys: ``convs.{0,2,4,...}.{weight,bias}``, ``linear.{weight,bias}``.
    x: [N, in_c, spatial, spatial] -> [N, out_c].
    """

    def __init__(self, in_c: int, out_c: int, spatial: int) -> None:
        super().__init__()
        self.out_c = out_c
        self.spatial = spatial
        steps = int(math.log2(spatial))
        layers: list[nn.Module] = []
        for i in range(steps):
            layers += [nn.Conv2d(in_c if i == 0 else out_c, out_c, kernel_size=3, stride=2, padding=1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(out_c, out_c, lr_mul=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-2:] == (self.spatial, self.spatial), f"style block expects {self.spatial}px, got {x.shape}"
        x = self.convs(x)
        return self.linear(x.view(-1, self.out_c))


def upsample_add(top: torch.Tensor, lateral: torch.Tensor) -> torch.Tensor:
    """Bilinear (align_corners=True) resize of ``top`` to ``lateral``'s size, plus ``lateral``."""
    return F.interpolate(top, size=lateral.shape[-2:], mode="bilinear", align_corners=True) + lateral


class GradualStyleEncoder(nn.Module):
    """IR-SE body + feature pyramid + one GradualStyleBlock per style: [N, C, 256, 256] -> [N, n_styles, 512]."""

    def __init__(self, num_layers: int, mode: str = "ir", input_nc: int = 3, n_styles: int = 18) -> None:
        super().__init__()
        self.input_layer = input_stem(input_nc)
        self.body = residual_body(num_layers, mode)
        self.style_count = n_styles
        self.coarse_ind = _COARSE_END
        self.middle_ind = _MIDDLE_END
        self.styles = nn.ModuleList()
        for i in range(n_styles):
            spatial = 16 if i < self.coarse_ind else 32 if i < self.middle_ind else 64
            self.styles.append(GradualStyleBlock(512, 512, spatial))
        self.latlayer1 = nn.Conv2d(256, 512, kernel_size=1, stride=1, padding=0)
        self.latlayer2 = nn.Conv2d(128, 512, kernel_size=1, stride=1, padding=0)

    def pyramid_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run stem and body; return the fine (c1), middle (c2) and coarse (c3) body outputs."""
        assert x.ndim == 4 and x.shape[1] == self.input_layer[0].in_channels, f"got {tuple(x.shape)}"
        x = self.input_layer(x)
        wanted = set(_TAPS.values())
        taps: dict[int, torch.Tensor] = {}
        for i, unit in enumerate(self.body):
            x = unit(x)
            if i in wanted:
                taps[i] = x
        return taps[_TAPS["fine"]], taps[_TAPS["middle"]], taps[_TAPS["coarse"]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, input_nc, 256, 256] -> W+ codes [N, n_styles, 512] (before adding latent_avg)."""
        c1, c2, c3 = self.pyramid_inputs(x)
        codes = [self.styles[j](c3) for j in range(self.coarse_ind)]
        p2 = upsample_add(c3, self.latlayer1(c2))
        codes += [self.styles[j](p2) for j in range(self.coarse_ind, self.middle_ind)]
        p1 = upsample_add(p2, self.latlayer2(c1))
        codes += [self.styles[j](p1) for j in range(self.middle_ind, self.style_count)]
        return torch.stack(codes, dim=1)


def build(num_layers: int, mode: str, input_nc: int = 3, n_styles: int = 18) -> GradualStyleEncoder:
    """``GradualStyleEncoder(num_layers, mode, opts)`` with ``opts.input_nc`` / ``opts.n_styles`` flattened."""
    return GradualStyleEncoder(num_layers, mode, input_nc=input_nc, n_styles=n_styles)
