"""How the official checkpoints of aei_net, hear_net, psgan and bisenet_parsing are packaged.

``UNWRAPPERS[name](obj)`` turns the object returned by
``torch.load(path, map_location="cpu", weights_only=True)`` into a ``state_dict`` that
``gpu_worker.models.build(name, ...)`` loads with ``strict=True``. Never unpickle these
files with ``weights_only=False``: the unwrappers only need tensors and plain containers.

All four are saved by their authors as bare ``state_dict``s (see each fixture's
``manifest.json["checkpoint_container"]``):

* aei_net: FaceShifter ``G_latest.pth`` (``torch.save(G.state_dict(), ...)``);
* hear_net: FaceShifter ``HEAR_latest.pth`` (``torch.save(net.state_dict(), ...)``);
* psgan: PSGAN ``assets/models/G.pth``;
* bisenet_parsing: face-parsing ``79999_iter.pth`` (also PSGAN's ``faceutils/mask/resnet.pth``).

Community re-trainings of FaceShifter often wrap the model in ``nn.DataParallel`` before
saving, so a ``module.`` prefix present on *every* key is stripped as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

_DATA_PARALLEL_PREFIX = "module."


def plain_state_dict(obj: Any) -> dict[str, torch.Tensor]:
    """Validate a bare ``{key: tensor}`` container; strip a uniform ``module.`` prefix.

    Raises ``TypeError`` for anything that is not a mapping of string keys to tensors
    (for example a whole pickled model or a training-state dict with optimizer entries).
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"expected a state_dict mapping, got {type(obj).__name__}")
    if not obj:
        raise TypeError("empty state_dict")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise TypeError(f"not a plain state_dict; non-tensor entries: {bad[:5]}")
    state = dict(obj)
    if all(k.startswith(_DATA_PARALLEL_PREFIX) for k in state):
        state = {k[len(_DATA_PARALLEL_PREFIX) :]: v for k, v in state.items()}
    return state


UNWRAPPERS: dict[str, Callable[[Any], dict[str, torch.Tensor]]] = {
    "aei_net": plain_state_dict,
    "hear_net": plain_state_dict,
    "psgan": plain_state_dict,
    "bisenet_parsing": plain_state_dict,
}
