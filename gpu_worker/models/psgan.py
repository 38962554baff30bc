"""PSGAN makeup-transfer generator (pose- and expression-robust spatial-aware GAN).

Matches the ``state_dict`` layout of wtjiang98/PSGAN ``psgan/net.py:Generator``
(``assets/models/G.pth``), so the official checkpoint loads with ``strict=True``.

Three parts, named as in the paper:

* **MDNet** (``pnet_*``): encodes the reference image ``s`` into a 256-channel 1/4-resolution
  feature and two 1-channel makeup matrices (gamma, beta).
* **AMM** (attentive makeup morphing, :mod:`gpu_worker.models.psgan_attention`): morphs
  the reference's gamma/beta onto the source's geometry with a per-region attention built
  from visual features and landmark-relative position features.
* **MANet** (``tnet_*``): an encoder-decoder on the source image ``c`` whose bottleneck
  feature is modulated as ``x * (1 + gamma) + beta`` half-way through its residual blocks.

``forward(c, s, mask_c, mask_s, diff_c, diff_s, gamma=None, beta=None, ret=False)``:

* ``c``, ``s``: [1,3,256,256] source / reference images in [-1,1];
* ``mask_c``, ``mask_s``: [3,1,256,256] float 0/1 region masks (lip, face skin, eyes);
* ``diff_c``, ``diff_s``: [3,136,64,64] landmark-difference features per region;
* ``ret=True`` returns ``(gamma, beta)`` [1,1,64,64] without decoding; passing
  ``gamma``/``beta`` skips MDNet and AMM (Solver.test's two-pass usage);
* otherwise returns the transferred image [1,3,256,256] in (-1,1).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from gpu_worker.models.psgan_attention import MakeupMorphing, RegionAttention

_FEAT = 256  # bottleneck channels of both branches
_N_PNET_RES = 3
_N_TNET_RES = 6
_MODULATE_BEFORE = 3  # gamma/beta are applied after this many MANet residual blocks


class ResidualBlock(nn.Module):
    """x + IN(conv3x3(ReLU(IN(conv3x3(x))))). Shape-preserving [N,C,H,W].

    Keys under ``main``: ``0`` conv, ``1`` norm, ``3`` conv, ``4`` norm (index 2 is the ReLU).
    ``affine`` decides whether the InstanceNorms carry weights (MDNet) or not (MANet).
    """

    def __init__(self, dim: int, affine: bool) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim, affine=affine),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim, affine=affine),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.main(x)


def _conv_in_relu(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    """conv (no bias) -> InstanceNorm(affine) -> ReLU; keys ``0.weight``, ``1.weight``, ``1.bias``."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel_size=kernel, stride=stride, padding=padding, bias=False),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )


class MakeupMatrices(nn.Module):
    """1x1 convs turning the MDNet feature [N,C,H,W] into gamma, beta [N,1,H,W] (reference ``GetMatrix``)."""

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.get_gamma = nn.Conv2d(dim_in, dim_out, kernel_size=1, bias=False)
        self.get_beta = nn.Conv2d(dim_in, dim_out, kernel_size=1, bias=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.get_gamma(x), self.get_beta(x)


class Generator(nn.Module):
    """PSGAN generator; see the module docstring for the call contract."""

    def __init__(self) -> None:
        super().__init__()
        # ---- MDNet: reference image -> bottleneck feature -> makeup matrices
        self.pnet_in = _conv_in_relu(3, 64, kernel=7, stride=1, padding=3)
        self.pnet_down_1 = _conv_in_relu(64, 128, kernel=4, stride=2, padding=1)
        self.pnet_down_2 = _conv_in_relu(128, _FEAT, kernel=4, stride=2, padding=1)
        # AMM's two morphing modules; their 1x1 convs are in the checkpoint but unused by the reference.
        self.atten_bottleneck_g = MakeupMorphing()
        self.atten_bottleneck_b = MakeupMorphing()
        self.simple_spade = MakeupMatrices(_FEAT, 1)
        for i in range(1, _N_PNET_RES + 1):
            self.add_module(f"pnet_bottleneck_{i}", ResidualBlock(_FEAT, affine=True))
        self.attention = RegionAttention()  # stateless

        # ---- MANet: source image -> modulated bottleneck -> output image
        self.tnet_in_conv = nn.Conv2d(3, 64, kernel_size=7, stride=1, padding=3, bias=False)
        self.tnet_down_conv_1 = nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1, bias=False)
        self.tnet_down_conv_2 = nn.Conv2d(128, _FEAT, kernel_size=4, stride=2, padding=1, bias=False)
        for i in range(1, _N_TNET_RES + 1):
            self.add_module(f"tnet_bottleneck_{i}", ResidualBlock(_FEAT, affine=False))
        self.tnet_up_conv_1 = nn.ConvTranspose2d(_FEAT, 128, kernel_size=4, stride=2, padding=1, bias=False)
        self.tnet_up_conv_2 = nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1, bias=False)
        self.tnet_out = nn.Sequential(nn.Conv2d(64, 3, kernel_size=7, stride=1, padding=3, bias=False), nn.Tanh())

    # -- MDNet -----------------------------------------------------------------------------
    def reference_features(self, s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``s`` [1,3,H,W] -> (feature [1,256,H/4,W/4], gamma, beta [1,1,H/4,W/4])."""
        h = self.pnet_down_2(self.pnet_down_1(self.pnet_in(s)))
        for i in range(1, _N_PNET_RES + 1):
            h = getattr(self, f"pnet_bottleneck_{i}")(h)
        gamma, beta = self.simple_spade(h)
        return h, gamma, beta

    # -- MANet -----------------------------------------------------------------------------
    def _encode_source(self, c: Tensor) -> Tensor:
        """``c`` [N,3,H,W] -> [N,256,H/4,W/4] after the first residual blocks (before modulation)."""
        h = F.relu(F.instance_norm(self.tnet_in_conv(c)))
        h = F.relu(F.instance_norm(self.tnet_down_conv_1(h)))
        h = F.relu(F.instance_norm(self.tnet_down_conv_2(h)))
        for i in range(1, _MODULATE_BEFORE + 1):
            h = getattr(self, f"tnet_bottleneck_{i}")(h)
        return h

    def _decode_source(self, h: Tensor) -> Tensor:
        """Modulated [N,256,H/4,W/4] -> remaining residual blocks -> upsampling -> [N,3,H,W] (tanh)."""
        for i in range(_MODULATE_BEFORE + 1, _N_TNET_RES + 1):
            h = getattr(self, f"tnet_bottleneck_{i}")(h)
        h = F.relu(F.instance_norm(self.tnet_up_conv_1(h)))
        h = F.relu(F.instance_norm(self.tnet_up_conv_2(h)))
        return self.tnet_out(h)

    # -- AMM -------------------------------------------------------------------------------
    def morph_makeup(
        self,
        fea_c: Tensor,
        s: Tensor,
        mask_c: Tensor,
        mask_s: Tensor,
        diff_c: Tensor,
        diff_s: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """Reference makeup matrices warped onto the source: (gamma, beta), each [1,1,h,w]."""
        fea_s, gamma_s, beta_s = self.reference_features(s)
        weight = self.attention(fea_c, fea_s, mask_c, mask_s, diff_c, diff_s)
        gamma = self.atten_bottleneck_g(gamma_s, mask_s, weight)
        beta = self.atten_bottleneck_b(beta_s, mask_s, weight)
        return gamma, beta

    def forward(
        self,
        c: Tensor,
        s: Tensor,
        mask_c: Tensor,
        mask_s: Tensor,
        diff_c: Tensor,
        diff_s: Tensor,
        gamma: Tensor | None = None,
        beta: Tensor | None = None,
        ret: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        # The reference accepts dataloader-batched inputs with a leading singleton dim.
        c, s, mask_c, mask_s, diff_c, diff_s = (
            x.squeeze(0) if x.ndim == 5 else x for x in (c, s, mask_c, mask_s, diff_c, diff_s)
        )
        assert c.ndim == 4 and c.shape[1] == 3 and s.shape == c.shape, f"c {tuple(c.shape)}, s {tuple(s.shape)}"
        assert (gamma is None) == (beta is None), "pass both gamma and beta, or neither"
        fea_c = self._encode_source(c)
        if gamma is None:
            gamma, beta = self.morph_makeup(fea_c, s, mask_c, mask_s, diff_c, diff_s)
            if ret:
                return gamma, beta
        assert gamma.shape[2:] == fea_c.shape[2:] and beta.shape[2:] == fea_c.shape[2:]
        out = self._decode_source(fea_c * (1 + gamma) + beta)
        assert out.shape == c.shape
        return out


def build() -> Generator:
    """``Generator()``."""
    return Generator()
