"""Project an aligned face into StyleGAN2's W+ by optimisation (refines a pSp code, or starts from mean W).

Procedure of the StyleGAN2 projector (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN", appendix D), re-implemented, with W+ instead of W as the optimised code:

* the code starts at ``init`` (e.g. the pSp encoding) or the mean W; the per-layer noise maps are
  optimised too, starting from unit Gaussian noise;
* each step adds Gaussian noise to the code, of scale ``std(W) * initial_noise * max(0, 1 - t / 0.75)^2``
  (t = step / steps), which explores early and vanishes in the last quarter;
* Adam (betas 0.9, 0.999) with learning rate ``lr * ramp``, ramped up over the first 5 % of the steps and
  down with a cosine over the last 25 %;
* loss = VGG16 perceptual distance (``vgg16.perceptual_distance``; images above 256 px are area-pooled
  to 256 first) + ``noise_weight`` x noise regularisation: for every noise map and each of its
  downsampled versions down to 8 x 8, the squared autocorrelation at a one-pixel shift in x and in y;
* after each step every noise map is renormalised to zero mean and unit variance.

Runs in fp32 with gradients (not under ``runtime.inference``). ``project`` returns the final W+, the
noise maps and the loss history; ``steps`` trades time for fidelity (1000 in the paper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gpu_worker.models.vgg16 import VGG16Features, perceptual_distance


@dataclass
class ProjectorSettings:
    steps: int = 500
    lr: float = 0.1
    initial_noise: float = 0.05
    noise_ramp: float = 0.75
    lr_rampup: float = 0.05
    lr_rampdown: float = 0.25
    noise_weight: float = 1e5
    w_std_samples: int = 10_000
    seed: int = 0


@dataclass
class Projection:
    w_plus: Tensor  # [1, n_latent, D]
    noise: list[Tensor]  # one [1, 1, r, r] map per synthesis layer
    losses: list[float] = field(default_factory=list)


def noise_regularisation(noise: list[Tensor]) -> Tensor:
    """Sum of squared one-pixel autocorrelations of every noise map at every scale down to 8 x 8."""
    reg = noise[0].new_zeros(())
    for v in noise:
        while True:
            reg = reg + (v * torch.roll(v, 1, dims=3)).mean().square() + (v * torch.roll(v, 1, dims=2)).mean().square()
            if v.shape[2] <= 8:
                break
            v = F.avg_pool2d(v, 2)
    return reg


def learning_rate(settings: ProjectorSettings, t: float) -> float:
    """Learning rate at progress ``t`` in [0, 1): linear ramp-up, cosine ramp-down."""
    ramp = min(1.0, (1.0 - t) / settings.lr_rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp = ramp * min(1.0, t / settings.lr_rampup)
    return settings.lr * ramp


def _to_256(x: Tensor) -> Tensor:
    return F.adaptive_avg_pool2d(x, (256, 256)) if x.shape[-1] > 256 else x


def project(
    generator,
    vgg: VGG16Features,
    target: np.ndarray,
    settings: ProjectorSettings | None = None,
    init: Tensor | None = None,
    w_avg: Tensor | None = None,
) -> Projection:
    """Optimise W+ and noise so that ``generator`` reproduces ``target``.

    In: ``generator`` (a StyleGAN2 ``Generator``, eval, on its device), ``vgg`` on the same device,
    ``target`` an FFHQ-aligned RGB uint8 (S, S, 3) with S the generator's size, optional ``init`` W+
    [1, n_latent, D] and ``w_avg`` [1, D]. Raises ValueError for a target of the wrong size.
    """
    settings = settings or ProjectorSettings()
    device = next(generator.parameters()).device
    size = generator.size
    if target.shape != (size, size, 3):
        raise ValueError(f"target must be ({size}, {size}, 3) for this generator, got {target.shape}")
    rng = torch.Generator().manual_seed(settings.seed)
    with torch.no_grad():
        z = torch.randn(settings.w_std_samples, generator.style_dim, generator=rng).to(device)
        samples = generator.style(z).float()
        mean = samples.mean(0, keepdim=True) if w_avg is None else w_avg.detach().clone().float().to(device)
        w_std = ((samples - mean).square().sum() / settings.w_std_samples).sqrt().item()
        x_target = torch.from_numpy(target).to(device).permute(2, 0, 1)[None].float() / 127.5 - 1
        target_features = [f.detach() for f in vgg(_to_256(x_target))]
    start = init.detach().clone().float() if init is not None else mean[:, None].repeat(1, generator.n_latent, 1)
    w_plus = start.to(device).requires_grad_(True)
    noise = [torch.randn(1, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2), generator=rng).to(device).requires_grad_(True)
             for i in range(generator.num_layers)]
    optimiser = torch.optim.Adam([w_plus, *noise], betas=(0.9, 0.999), lr=settings.lr)
    result = Projection(w_plus, noise)
    for step in range(settings.steps):
        t = step / settings.steps
        scale = w_std * settings.initial_noise * max(0.0, 1.0 - t / settings.noise_ramp) ** 2
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(settings, t)
        jitter = torch.randn(w_plus.shape, generator=rng).to(device) * scale
        image = generator.synthesize(w_plus + jitter, noise)
        loss = perceptual_distance(vgg, _to_256(image), target_features).sum()
        loss = loss + settings.noise_weight * noise_regularisation(noise)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            for n in noise:
                n.sub_(n.mean()).div_(n.square().mean().sqrt() + 1e-8)
        result.losses.append(float(loss.detach()))
    result.w_plus = w_plus.detach()
    result.noise = [n.detach() for n in noise]
    return result
