"""ResNet-18 feature extractor used as BiSeNet's context path backbone.

Layout of zllrunning/face-parsing.PyTorch ``resnet.py:Resnet18`` (keys ``conv1``, ``bn1``,
``layer{1..4}.{0,1}.{conv1,bn1,conv2,bn2,downsample.{0,1}}``; no ``fc``). Unlike the
reference, the constructor downloads nothing: every weight comes from the checkpoint.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN stages with a residual; ReLU after the sum. [N,cin,H,W] -> [N,cout,H/s,W/s].

    The shortcut is a 1x1 conv/s + BN (``downsample``) when the shape changes, else the identity.
    """

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Sequential | None = None
        if cin != cout or stride != 1:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x: Tensor) -> Tensor:
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        assert shortcut.shape == residual.shape
        return F.relu(shortcut + residual)


def _stage(cin: int, cout: int, stride: int) -> nn.Sequential:
    """Two basic blocks; the first one carries the stride/channel change."""
    return nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1))


class ResNet18Features(nn.Module):
    """``x`` [N,3,H,W] -> (feat8 [N,128,H/8,W/8], feat16 [N,256,H/16,W/16], feat32 [N,512,H/32,W/32])."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = _stage(64, 64, 1)
        self.layer2 = _stage(64, 128, 2)
        self.layer3 = _stage(128, 256, 2)
        self.layer4 = _stage(256, 512, 2)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        assert x.ndim == 4 and x.shape[1] == 3, f"expected [N,3,H,W], got {tuple(x.shape)}"
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.max_pool2d(h, kernel_size=3, stride=2, padding=1)
        h = self.layer1(h)
        feat8 = self.layer2(h)
        feat16 = self.layer3(feat8)
        feat32 = self.layer4(feat16)
        return feat8, feat16, feat32
