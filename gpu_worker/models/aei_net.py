"""FaceShifter AEI-Net: multi-level attribute encoder + AAD generator.

Matches the ``state_dict`` layout of taotaonice/FaceShifter ``network/AEI_Net.py:AEI_Net``
(``G_latest.pth``), so an official checkpoint loads with ``strict=True``.

Data flow for a 256 px target ``Xt`` and identity embedding ``z_id`` ([N, c_id], unit norm)::

    Xt [N,3,256,256] --encoder--> 8 attribute maps, coarse to fine:
        [N,1024,2,2] [N,2048,4,4] [N,1024,8,8] [N,512,16,16]
        [N,256,32,32] [N,128,64,64] [N,64,128,128] [N,64,256,256]
    z_id [N,c_id] --generator(attrs)--> Y [N,3,256,256] in (-1, 1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_LRELU_SLOPE = 0.1
_IN_EPS = 1e-5

# (in, out) channels of the encoder's stride-2 convs and transposed convs.
_DOWN_CHANNELS = ((3, 32), (32, 64), (64, 128), (128, 256), (256, 512), (512, 1024), (1024, 1024))
_UP_CHANNELS = ((1024, 1024), (2048, 512), (1024, 256), (512, 128), (256, 64), (128, 32))
# (h_in, h_out, attr) channels of the eight AAD residual blocks.
_GENERATOR_BLOCKS = (
    (1024, 1024, 1024),
    (1024, 1024, 2048),
    (1024, 1024, 1024),
    (1024, 512, 512),
    (512, 256, 256),
    (256, 128, 128),
    (128, 64, 64),
    (64, 3, 64),
)
ATTR_CHANNELS: tuple[int, ...] = tuple(c for _, _, c in _GENERATOR_BLOCKS)


def _upsample2x(x: Tensor) -> Tensor:
    """Bilinear 2x upsample with ``align_corners=True`` (the reference's choice everywhere)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class DownBlock(nn.Sequential):
    """Conv4x4/s2 (no bias) -> BatchNorm -> LeakyReLU(0.1). [N,cin,H,W] -> [N,cout,H/2,W/2].

    Keys: ``0.weight`` (conv), ``1.*`` (BatchNorm2d).
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(_LRELU_SLOPE, inplace=True),
        )


class UpBlock(nn.Module):
    """ConvTranspose4x4/s2 -> BatchNorm -> LeakyReLU(0.1), then concatenate a skip map.

    ``x`` [N,cin,H,W], ``skip`` [N,cs,2H,2W] -> [N,cout+cs,2H,2W] (upsampled features first).
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        y = F.leaky_relu(self.bn(self.deconv(x)), _LRELU_SLOPE)
        assert y.shape[2:] == skip.shape[2:], f"skip {tuple(skip.shape)} does not fit {tuple(y.shape)}"
        return torch.cat((y, skip), dim=1)


class AttributeEncoder(nn.Module):
    """U-Net style multi-level attribute encoder (reference ``MLAttrEncoder``).

    ``Xt`` [N,3,H,W] (H, W divisible by 128) -> tuple of 8 maps; map k has
    ``ATTR_CHANNELS[k]`` channels and side ``H / 2**(7-k)`` (the last one at full size).
    """

    def __init__(self) -> None:
        super().__init__()
        for i, (cin, cout) in enumerate(_DOWN_CHANNELS, start=1):
            self.add_module(f"conv{i}", DownBlock(cin, cout))
        for i, (cin, cout) in enumerate(_UP_CHANNELS, start=1):
            self.add_module(f"deconv{i}", UpBlock(cin, cout))

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        assert x.ndim == 4 and x.shape[1] == 3, f"expected [N,3,H,W], got {tuple(x.shape)}"
        assert x.shape[2] % 128 == 0 and x.shape[3] % 128 == 0, "H and W must be multiples of 128"
        skips = []
        h = x
        for i in range(1, len(_DOWN_CHANNELS) + 1):
            h = getattr(self, f"conv{i}")(h)
            skips.append(h)
        attrs = [skips.pop()]  # bottleneck, 1/128 resolution
        for i in range(1, len(_UP_CHANNELS) + 1):
            attrs.append(getattr(self, f"deconv{i}")(attrs[-1], skips.pop()))
        attrs.append(_upsample2x(attrs[-1]))
        for a, c in zip(attrs, ATTR_CHANNELS):
            assert a.shape[1] == c
        assert attrs[-1].shape[2:] == x.shape[2:]
        return tuple(attrs)


class AADLayer(nn.Module):
    """Adaptive attentional denormalisation.

    Instance-normalises ``h`` [N,c_x,H,W], then blends an attribute-driven affine
    (1x1 convs of ``z_attr`` [N,c_attr,H,W]) and an identity-driven affine (linears of
    ``z_id`` [N,c_id]) with a per-pixel sigmoid mask predicted from the normalised ``h``.
    Returns [N,c_x,H,W].
    """

    def __init__(self, c_x: int, c_attr: int, c_id: int) -> None:
        super().__init__()
        self.c_x = c_x
        self.conv1 = nn.Conv2d(c_attr, c_x, kernel_size=1)  # attribute gamma
        self.conv2 = nn.Conv2d(c_attr, c_x, kernel_size=1)  # attribute beta
        self.fc1 = nn.Linear(c_id, c_x)  # identity gamma
        self.fc2 = nn.Linear(c_id, c_x)  # identity beta
        self.conv_h = nn.Conv2d(c_x, 1, kernel_size=1)  # blending mask logits

    def forward(self, h_in: Tensor, z_attr: Tensor, z_id: Tensor) -> Tensor:
        n = h_in.shape[0]
        assert h_in.shape[1] == self.c_x, f"h has {h_in.shape[1]} channels, expected {self.c_x}"
        assert z_attr.shape[0] == n and z_attr.shape[2:] == h_in.shape[2:], (
            f"attr {tuple(z_attr.shape)} does not match h {tuple(h_in.shape)}"
        )
        h = F.instance_norm(h_in, eps=_IN_EPS)
        attr_branch = self.conv1(z_attr) * h + self.conv2(z_attr)
        id_gamma = self.fc1(z_id).reshape(n, self.c_x, 1, 1)
        id_beta = self.fc2(z_id).reshape(n, self.c_x, 1, 1)
        id_branch = id_gamma * h + id_beta
        mask = torch.sigmoid(self.conv_h(h))
        return (1 - mask) * attr_branch + mask * id_branch


class AADResBlock(nn.Module):
    """Two (AAD -> ReLU -> conv3x3) stages plus a shortcut. [N,cin,H,W] -> [N,cout,H,W].

    The shortcut is the identity when ``cin == cout``, else a third AAD -> ReLU -> conv3x3
    stage (``AAD3``/``conv3`` exist only then, as in the reference checkpoint).
    """

    def __init__(self, cin: int, cout: int, c_attr: int, c_id: int) -> None:
        super().__init__()
        self.cin, self.cout = cin, cout
        self.AAD1 = AADLayer(cin, c_attr, c_id)
        self.conv1 = nn.Conv2d(cin, cin, kernel_size=3, padding=1, bias=False)
        self.AAD2 = AADLayer(cin, c_attr, c_id)
        self.conv2 = nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=False)
        if cin != cout:
            self.AAD3 = AADLayer(cin, c_attr, c_id)
            self.conv3 = nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=False)

    def forward(self, h: Tensor, z_attr: Tensor, z_id: Tensor) -> Tensor:
        x = self.conv1(F.relu(self.AAD1(h, z_attr, z_id)))
        x = self.conv2(F.relu(self.AAD2(x, z_attr, z_id)))
        if self.cin != self.cout:
            h = self.conv3(F.relu(self.AAD3(h, z_attr, z_id)))
        out = x + h
        assert out.shape[1] == self.cout
        return out


class AADGenerator(nn.Module):
    """``z_id`` [N,c_id] + 8 attribute maps -> image [N,3,H,W] in (-1, 1).

    ``up1`` lifts z_id to a [N,1024,2,2] seed; each AAD block is followed by a 2x
    bilinear upsample except the last, whose output goes through tanh.
    """

    def __init__(self, c_id: int) -> None:
        super().__init__()
        self.c_id = c_id
        self.up1 = nn.ConvTranspose2d(c_id, 1024, kernel_size=2, stride=1, padding=0)
        for i, (cin, cout, c_attr) in enumerate(_GENERATOR_BLOCKS, start=1):
            self.add_module(f"AADBlk{i}", AADResBlock(cin, cout, c_attr, c_id))

    def forward(self, z_attr: tuple[Tensor, ...], z_id: Tensor) -> Tensor:
        assert len(z_attr) == len(_GENERATOR_BLOCKS), f"expected 8 attribute maps, got {len(z_attr)}"
        assert z_id.ndim == 2 and z_id.shape[1] == self.c_id, f"z_id must be [N,{self.c_id}]"
        m = self.up1(z_id.reshape(z_id.shape[0], self.c_id, 1, 1))
        last = len(_GENERATOR_BLOCKS)
        for i, attr in enumerate(z_attr, start=1):
            m = getattr(self, f"AADBlk{i}")(m, attr, z_id)
            if i < last:
                m = _upsample2x(m)
        return torch.tanh(m)


class AEINet(nn.Module):
    """FaceShifter stage-1 network. ``forward(xt, z_id) -> (y, attrs)``.

    ``xt`` [N,3,256,256] target image in [-1,1]; ``z_id`` [N,c_id] (L2-normalised ArcFace embedding).
    ``y`` [N,3,256,256] in (-1,1); ``attrs`` the encoder's 8 maps (see module docstring).
    """

    def __init__(self, c_id: int = 256) -> None:
        super().__init__()
        self.encoder = AttributeEncoder()
        self.generator = AADGenerator(c_id)

    def get_attr(self, x: Tensor) -> tuple[Tensor, ...]:
        """Attribute maps of ``x`` only (used for the attribute loss in training)."""
        return self.encoder(x)

    def forward(self, xt: Tensor, z_id: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        attrs = self.encoder(xt)
        y = self.generator(attrs, z_id)
        assert y.shape == (xt.shape[0], 3, *xt.shape[2:])
        return y, attrs


def build(c_id: int = 256) -> AEINet:
    """``AEI_Net(c_id=...)``; the released FaceShifter config uses ``c_id=512``."""
    return AEINet(c_id=c_id)
