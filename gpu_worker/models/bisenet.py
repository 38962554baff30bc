"""BiSeNet face parser (19 CelebAMask-HQ classes).

Matches the ``state_dict`` layout of zllrunning/face-parsing.PyTorch ``model.py:BiSeNet``
(``79999_iter.pth``; PSGAN's ``faceutils/mask/resnet.pth`` has the same layout), so the
official checkpoint loads with ``strict=True``. The constructor loads nothing.

``forward(x [N,3,H,W], ImageNet-normalised) -> (out, out16, out32)``, each [N,n_classes,H,W]:
the main logits and the two auxiliary heads, all bilinearly (align_corners=True) upsampled
from 1/8 (out, out16) and 1/16 (out32) resolution. ``out.argmax(1)`` is the parsing map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gpu_worker.models.bisenet_resnet import ResNet18Features


def _global_pool(x: Tensor) -> Tensor:
    """[N,C,H,W] -> [N,C,1,1] mean."""
    return F.adaptive_avg_pool2d(x, output_size=(1, 1))


class ConvBNReLU(nn.Module):
    """conv (no bias) -> BatchNorm -> ReLU. Keys ``conv``, ``bn``."""

    def __init__(self, cin: int, cout: int, ks: int = 3, stride: int = 1, padding: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=ks, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


class SegHead(nn.Module):
    """3x3 ConvBNReLU -> 1x1 classifier. [N,cin,H,W] -> [N,n_classes,H,W] (reference ``BiSeNetOutput``)."""

    def __init__(self, cin: int, mid: int, n_classes: int) -> None:
        super().__init__()
        self.conv = ConvBNReLU(cin, mid, ks=3, stride=1, padding=1)
        self.conv_out = nn.Conv2d(mid, n_classes, kernel_size=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv_out(self.conv(x))


class AttentionRefinement(nn.Module):
    """ConvBNReLU, then reweight channels by sigmoid(BN(1x1 conv(global mean))). [N,cin,H,W] -> [N,cout,H,W]."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = ConvBNReLU(cin, cout, ks=3, stride=1, padding=1)
        self.conv_atten = nn.Conv2d(cout, cout, kernel_size=1, bias=False)
        self.bn_atten = nn.BatchNorm2d(cout)

    def forward(self, x: Tensor) -> Tensor:
        feat = self.conv(x)
        weight = torch.sigmoid(self.bn_atten(self.conv_atten(_global_pool(feat))))
        return feat * weight


class ContextPath(nn.Module):
    """ResNet-18 + attention refinement + global context, fused top-down.

    ``x`` [N,3,H,W] -> (feat8 [N,128,H/8], ctx8 [N,128,H/8], ctx16 [N,128,H/16]) where
    ``feat8`` is the raw ResNet 1/8 feature (it replaces BiSeNet's spatial path).
    """

    def __init__(self) -> None:
        super().__init__()
        self.resnet = ResNet18Features()
        self.arm16 = AttentionRefinement(256, 128)
        self.arm32 = AttentionRefinement(512, 128)
        self.conv_head32 = ConvBNReLU(128, 128, ks=3, stride=1, padding=1)
        self.conv_head16 = ConvBNReLU(128, 128, ks=3, stride=1, padding=1)
        self.conv_avg = ConvBNReLU(512, 128, ks=1, stride=1, padding=0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        feat8, feat16, feat32 = self.resnet(x)
        context = self.conv_avg(_global_pool(feat32))  # [N,128,1,1]
        context = F.interpolate(context, size=feat32.shape[2:], mode="nearest")

        sum32 = self.arm32(feat32) + context
        ctx16 = self.conv_head32(F.interpolate(sum32, size=feat16.shape[2:], mode="nearest"))

        sum16 = self.arm16(feat16) + ctx16
        ctx8 = self.conv_head16(F.interpolate(sum16, size=feat8.shape[2:], mode="nearest"))
        return feat8, ctx8, ctx16


class FeatureFusion(nn.Module):
    """Concatenate spatial and context features, ConvBNReLU(1x1), then add a squeeze-excite reweighted copy.

    (fsp [N,c1,H,W], fcp [N,c2,H,W]) with c1 + c2 = cin -> [N,cout,H,W].
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.convblk = ConvBNReLU(cin, cout, ks=1, stride=1, padding=0)
        self.conv1 = nn.Conv2d(cout, cout // 4, kernel_size=1, bias=False)
        self.conv2 = nn.Conv2d(cout // 4, cout, kernel_size=1, bias=False)

    def forward(self, fsp: Tensor, fcp: Tensor) -> Tensor:
        assert fsp.shape[2:] == fcp.shape[2:]
        feat = self.convblk(torch.cat((fsp, fcp), dim=1))
        weight = torch.sigmoid(self.conv2(F.relu(self.conv1(_global_pool(feat)))))
        return feat * weight + feat


class BiSeNet(nn.Module):
    """``forward(x [N,3,H,W]) -> (out, out16, out32)``, each [N,n_classes,H,W] (see module docstring)."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.cp = ContextPath()
        self.ffm = FeatureFusion(256, 256)
        self.conv_out = SegHead(256, 256, n_classes)
        self.conv_out16 = SegHead(128, 64, n_classes)
        self.conv_out32 = SegHead(128, 64, n_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        assert x.ndim == 4 and x.shape[1] == 3, f"expected [N,3,H,W], got {tuple(x.shape)}"
        size = x.shape[2:]
        feat8, ctx8, ctx16 = self.cp(x)
        out = self._upsample(self.conv_out(self.ffm(feat8, ctx8)), size)
        out16 = self._upsample(self.conv_out16(ctx8), size)
        out32 = self._upsample(self.conv_out32(ctx16), size)
        for t in (out, out16, out32):
            assert t.shape == (x.shape[0], self.n_classes, *size)
        return out, out16, out32

    @staticmethod
    def _upsample(logits: Tensor, size: torch.Size) -> Tensor:
        return F.interpolate(logits, size=size, mode="bilinear", align_corners=True)


def build(n_classes: int = 19) -> BiSeNet:
    """``BiSeNet(n_classes=...)``; the face-parsing checkpoint uses 19 classes."""
    return BiSeNet(n_classes=n_classes)
