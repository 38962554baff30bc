"""IR / IR-SE ResNet face backbones with the TreB1eN/InsightFace_Pytorch ``Backbone`` layout.

``Backbone(50, 0.6, 'ir_se')`` loads ``model_ir_se50.pth`` strictly and maps an aligned
112x112 face in [-1, 1] to an L2-normalised 512-d identity embedding. The input stem and
residual body (``input_layer``, ``body``) are shared with the pSp encoder
(``gpu_worker.models.psp``), whose layout is identical there.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

# Units per stage (in 64 -> 64 -> 128 -> 256 -> 512 channels, each stage starts with stride 2).
_STAGE_UNITS: dict[int, tuple[int, int, int, int]] = {50: (3, 4, 14, 3), 100: (3, 13, 30, 3), 152: (3, 8, 36, 3)}
_STAGE_DEPTHS: tuple[int, ...] = (64, 128, 256, 512)


class UnitSpec(NamedTuple):
    in_ch: int
    depth: int
    stride: int


def unit_specs(num_layers: int) -> list[UnitSpec]:
    """The residual units of an IR-{50,100,152} body, in order."""
    if num_layers not in _STAGE_UNITS:
        raise ValueError(f"num_layers must be one of {sorted(_STAGE_UNITS)}, got {num_layers}")
    specs: list[UnitSpec] = []
    in_ch = 64
    for depth, units in zip(_STAGE_DEPTHS, _STAGE_UNITS[num_layers]):
        specs.append(UnitSpec(in_ch, depth, 2))
        specs += [UnitSpec(depth, depth, 1)] * (units - 1)
        in_ch = depth
    return specs


class SqueezeExcite(nn.Module):
    """Channel attention: x * sigmoid(fc2(relu(fc1(avgpool(x))))). State: ``fc1.weight``, ``fc2.weight``."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1, padding=0, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1, padding=0, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> [N, C, H, W]."""
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))
        return x * gate


class BottleneckIR(nn.Module):
    """Pre-activation IR unit: BN-conv3x3-PReLU-conv3x3(stride)-BN[-SE] plus shortcut.

    The shortcut is a strided identity (``MaxPool2d(1, stride)``, no state) when the channel count is
    unchanged, else conv1x1(stride)+BN. x: [N, in, H, W] -> [N, depth, H/stride, W/stride].
    """

    def __init__(self, in_ch: int, depth: int, stride: int, use_se: bool = True) -> None:
        super().__init__()
        self.in_ch, self.depth, self.stride = in_ch, depth, stride
        if in_ch == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_ch, depth, (1, 1), stride, bias=False), nn.BatchNorm2d(depth)
            )
        branch: list[nn.Module] = [
            nn.BatchNorm2d(in_ch),
            nn.Conv2d(in_ch, depth, (3, 3), (1, 1), 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, (3, 3), stride, 1, bias=False),
            nn.BatchNorm2d(depth),
        ]
        if use_se:
            branch.append(SqueezeExcite(depth, 16))
        self.res_layer = nn.Sequential(*branch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.ndim == 4 and x.shape[1] == self.in_ch, f"unit expects {self.in_ch} channels, got {tuple(x.shape)}"
        return self.res_layer(x) + self.shortcut_layer(x)


def input_stem(in_ch: int = 3) -> nn.Sequential:
    """conv3x3(in -> 64, no bias) - BN - PReLU at full resolution (keys ``input_layer.{0,1,2}``)."""
    return nn.Sequential(nn.Conv2d(in_ch, 64, (3, 3), 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))


def residual_body(num_layers: int, mode: str) -> nn.Sequential:
    """The 24 (IR-50) / 49 / 52 residual units as one Sequential (keys ``body.{i}``); /16 spatially."""
    if mode not in ("ir", "ir_se"):
        raise ValueError(f"mode must be 'ir' or 'ir_se', got {mode!r}")
    return nn.Sequential(*(BottleneckIR(s.in_ch, s.depth, s.stride, mode == "ir_se") for s in unit_specs(num_layers)))


class Flatten(nn.Module):
    """[N, ...] -> [N, prod(...)]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), -1)


def l2_normalize(x: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """x / ||x||_2 along ``dim`` (no epsilon, like the reference)."""
    return torch.div(x, torch.norm(x, 2, dim, True))


class Backbone(nn.Module):
    """ArcFace IR/IR-SE backbone: [N, 3, 112, 112] in [-1, 1] -> unit-norm embedding [N, 512].

    ``output_layer`` (BN2d, Dropout, Flatten, Linear(512*7*7, 512), BN1d) yields the embedding
    before normalisation.
    """

    def __init__(self, num_layers: int, drop_ratio: float, mode: str = "ir") -> None:
        super().__init__()
        self.input_layer = input_stem(3)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512),
            nn.Dropout(drop_ratio),
            Flatten(),
            nn.Linear(512 * 7 * 7, 512),
            nn.BatchNorm1d(512),
        )
        self.body = residual_body(num_layers, mode)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, 112, 112] -> body output [N, 512, 7, 7]."""
        assert x.ndim == 4 and x.shape[1:] == (3, 112, 112), f"expected [N,3,112,112], got {tuple(x.shape)}"
        return self.body(self.input_layer(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, 112, 112] -> [N, 512], each row of unit L2 norm."""
        return l2_normalize(self.output_layer(self.features(x)))


def build(num_layers: int, drop_ratio: float, mode: str = "ir") -> Backbone:
    """``Backbone(num_layers, drop_ratio, mode)`` as in the reference."""
    return Backbone(num_layers, drop_ratio, mode)
