"""VGG16 convolutional features in torchvision's key layout, for the projector's perceptual loss.

The module is ``features`` only, an ``nn.Sequential`` whose indices match torchvision's ``vgg16``
(``features.0.weight`` ... ``features.28.bias``; ReLUs and max-pools hold no state), so torchvision's
ImageNet checkpoint (``vgg16-397923af.pth``) loads with ``load_torchvision`` after its ``classifier.*``
entries are dropped. No torchvision import.

Perceptual distance (LPIPS-style, without LPIPS's learned per-channel weights): features at relu1_2,
relu2_2, relu3_3, relu4_3 and relu5_3 are unit-normalised along channels; the distance is the sum over
those layers of the spatial mean of the squared differences.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

# Conv widths per block; "M" is a 2x2 max-pool. Same as torchvision's configuration "D".
CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
TAPS = (3, 8, 15, 22, 29)  # indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in ``features``
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _layers() -> list[nn.Module]:
    layers: list[nn.Module] = []
    cin = 3
    for item in CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(cin, int(item), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
            cin = int(item)
    return layers


class VGG16Features(nn.Module):
    """``features`` of torchvision's VGG16. ``forward(x)`` -> the five tapped ReLU maps.

    ``x`` [N, 3, H, W] in [-1, 1] (ImageNet normalisation is applied inside).
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(*_layers())
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        assert x.ndim == 4 and x.shape[1] == 3, f"expected [N, 3, H, W], got {tuple(x.shape)}"
        h = ((x + 1) / 2 - self.mean) / self.std
        taps = []
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in TAPS:
                taps.append(h)
            if i == TAPS[-1]:
                break
        return taps


def load_torchvision(model: VGG16Features, state_dict: Mapping[str, Tensor]) -> None:
    """Load a torchvision ``vgg16`` state_dict (``classifier.*`` ignored) with strict key checking."""
    features = {k: v for k, v in state_dict.items() if k.startswith("features.")}
    model.load_state_dict(features, strict=True)


def perceptual_distance(vgg: VGG16Features, a: Tensor, b_features: list[Tensor]) -> Tensor:
    """Distance [N] between images ``a`` [N, 3, H, W] and precomputed features of the target."""
    total = a.new_zeros(a.shape[0])
    for fa, fb in zip(vgg(a), b_features):
        fa = fa / (fa.square().sum(1, keepdim=True).sqrt() + 1e-10)
        fb = fb / (fb.square().sum(1, keepdim=True).sqrt() + 1e-10)
        total = total + (fa - fb).square().sum(1).mean((1, 2))
    return total
