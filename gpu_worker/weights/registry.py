"""Every weight file the models of ``gpu_worker.models`` can load: where it comes from and its licence.

Plain data, no torch. Sources for each licence are in ``notes``; "verified" there means the licence
text was read in the named repository file, "not verified" means it was not found there.

No sha256 or size is recorded unless it was checked against the real file: where ``sha256`` is
None the operator must pass ``--sha256`` to ``install`` (the hash is then recorded in the
installed manifest and enforced from then on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WeightFile:
    """One weight file.

    ``model`` is the ``gpu_worker.models.build`` name and ``build_kwargs`` the full official
    constructor arguments (from the conformance manifest); ``container`` says how the file wraps
    the state_dict; ``commercial_use`` is False unless a commercial licence is positively known.
    """

    name: str
    model: str
    filename: str
    upstream_url: str | None
    sha256: str | None
    size_bytes: int | None
    container: str
    licence: str
    commercial_use: bool
    notes: str
    build_kwargs: Mapping[str, Any] = field(default_factory=dict)


_NVIDIA_NC = "Nvidia Source Code License-NC"

WEIGHTS: dict[str, WeightFile] = {
    w.name: w
    for w in (
        WeightFile(
            name="stylegan2-ffhq-config-f",
            model="stylegan2",
            filename="stylegan2-ffhq-config-f.pt",
            upstream_url="https://nvlabs-fi-cdn.nvidia.com/stylegan2/networks/stylegan2-ffhq-config-f.pkl",
            sha256=None,
            size_bytes=None,
            container="rosinality {'g_ema','latent_avg'}",
            licence=_NVIDIA_NC,
            commercial_use=False,
            notes=(
                "No official .pt: made with rosinality/stylegan2-pytorch convert_weight.py from NVIDIA's TF pickle "
                "(URL above, named in third-party docs; not checked). Licence verified: NVlabs/stylegan2 LICENSE.txt "
                "(sec. 3.3: non-commercial = research or evaluation only). sha256 unknown: operator supplies it."
            ),
            build_kwargs={"size": 1024, "style_dim": 512, "n_mlp": 8, "channel_multiplier": 2},
        ),
        WeightFile(
            name="psp_ffhq_encode",
            model="psp_encoder",
            filename="psp_ffhq_encode.pt",
            upstream_url="https://drive.google.com/file/d/1bMTNWkh5LArlaWSc_wa8VKyq2V42T2z0/view",
            sha256=None,
            size_bytes=None,
            container="pSp {'state_dict','latent_avg','opts'}",
            licence=f"MIT code (eladrich/pixel2style2pixel); weights include the FFHQ StyleGAN2 decoder ({_NVIDIA_NC})",
            commercial_use=False,
            notes=(
                "Code licence verified: eladrich/pixel2style2pixel LICENSE (MIT). The checkpoint embeds and was "
                "trained against NVIDIA's FFHQ StyleGAN2 (NVlabs/stylegan2 LICENSE.txt, non-commercial). Drive link "
                "taken from a third-party copy of the pSp README, not from the repo itself. sha256 unknown: operator "
                "supplies it."
            ),
            build_kwargs={"num_layers": 50, "mode": "ir_se", "input_nc": 3, "n_styles": 18},
        ),
        WeightFile(
            name="model_ir_se50",
            model="arcface_ir_se50",
            filename="model_ir_se50.pth",
            upstream_url="https://1drv.ms/u/s!AhMqVPD44cDOhkPsOU2S_HFpY9dC",
            sha256=None,
            size_bytes=None,
            container="plain state_dict",
            licence="MIT code (TreB1eN/InsightFace_Pytorch); weights trained on MS-Celeb-1M (refined MS1M/emore)",
            commercial_use=False,
            notes=(
                "Code licence verified: TreB1eN/InsightFace_Pytorch LICENSE (MIT). The MIT grant covers the code; the "
                "weights were trained on refined MS1M (README 3.2.3), a dataset of celebrity photos Microsoft withdrew "
                "in 2019 and never licensed for commercial use, so commercial use is not assumed. URL from the README "
                "(also mirrored by yangxy/GPEN README). sha256 unknown: operator supplies it."
            ),
            build_kwargs={"num_layers": 50, "drop_ratio": 0.6, "mode": "ir_se"},
        ),
        WeightFile(
            name="GPEN-BFR-512",
            model="gpen",
            filename="GPEN-BFR-512.pth",
            upstream_url="https://public-vigen-video.oss-cn-shanghai.aliyuncs.com/robin/models/GPEN-BFR-512.pth",
            sha256=None,
            size_bytes=None,
            container="plain state_dict",
            licence="© Alibaba 2021, academic and non-commercial use only (yangxy/GPEN)",
            commercial_use=False,
            notes=(
                "Verified: yangxy/GPEN README.md 'License' section ('For academic and non-commercial use only'); the "
                "README also says the released model is 'not our best model due to commercial issues'. URL from the "
                "same README. sha256 unknown: operator supplies it."
            ),
            build_kwargs={
                "size": 512,
                "style_dim": 512,
                "n_mlp": 8,
                "channel_multiplier": 2,
                "isconcat": True,
                "narrow": 1,
            },
        ),
        WeightFile(
            name="faceshifter-aei-net",
            model="aei_net",
            filename="G_latest.pth",
            upstream_url=None,
            sha256=None,
            size_bytes=None,
            container="plain state_dict",
            licence="unknown (no official weights; community checkpoint)",
            commercial_use=False,
            notes=(
                "taotaonice/FaceShifter released training code only (weights 'available on request'); no LICENSE or "
                "README was found for that repo in the reference index. Any G_latest.pth is a community re-training "
                "of unknown provenance and licence. sha256 must be supplied by the operator."
            ),
            build_kwargs={"c_id": 512},
        ),
        WeightFile(
            name="faceshifter-hear-net",
            model="hear_net",
            filename="HEAR_latest.pth",
            upstream_url=None,
            sha256=None,
            size_bytes=None,
            container="plain state_dict",
            licence="unknown (no official weights; community checkpoint)",
            commercial_use=False,
            notes="As faceshifter-aei-net: no official HEAR-Net weights, provenance and licence unknown.",
            build_kwargs={},
        ),
        WeightFile(
            name="psgan-G",
            model="psgan",
            filename="G.pth",
            upstream_url="https://github.com/wtjiang98/PSGAN (assets/models/G.pth in the repository)",
            sha256=None,
            size_bytes=None,
            container="plain state_dict",
            licence="none stated (wtjiang98/PSGAN has no LICENSE; all rights reserved by default)",
            commercial_use=False,
            notes=(
                "Checked: wtjiang98/PSGAN README.md has no licence section and no LICENSE file is in the indexed repo, "
                "so no licence is granted. Trained on the MT makeup dataset (research data). The URL points at the "
                "repo path the Solver loads; the file itself was not seen. sha256 unknown: operator supplies it."
            ),
            build_kwargs={},
        ),
        WeightFile(
            name="bisenet-79999_iter",
            model="bisenet_parsing",
            filename="79999_iter.pth",
            upstream_url="https://drive.google.com/open?id=154JgKpzCPW82qINcVieuPH3fZ2e0P812",
            sha256=None,
            size_bytes=None,
            container="plain state_dict",
            licence="MIT code (zllrunning/face-parsing.PyTorch); weights trained on CelebAMask-HQ (non-commercial)",
            commercial_use=False,
            notes=(
                "URL verified in zllrunning/face-parsing.PyTorch README.md. MIT for the code is NOT verified (no "
                "LICENSE file in the reference index). Trained on CelebAMask-HQ, whose README says use is 'RESTRICTED "
                "to non-commercial research and educational purposes' (the switchablenorms/CelebAMask-HQ repo's MIT "
                "LICENSE covers its code, not the images). sha256 unknown: operator supplies it."
            ),
            build_kwargs={"n_classes": 19},
        ),
    )
}


def get_weight(name: str) -> WeightFile:
    """The registry entry ``name``; raises ``KeyError`` naming the known entries."""
    try:
        return WEIGHTS[name]
    except KeyError:
        raise KeyError(f"unknown weight file {name!r}; known: {', '.join(sorted(WEIGHTS))}") from None
