"""Shared fixtures for the model tests. torch is imported lazily so collecting other tests stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture(scope="module")
def _two_torch_threads() -> Iterator[None]:
    """The fixtures' tolerances were measured with 2 threads; CI machines have 2 cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(min(2, before))
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def io_model(_two_torch_threads) -> Iterator[Callable[[str], object]]:
    """Recipe-weight IO models (strict load, eval), built once per module: the big ones take seconds."""
    from tests.gpu_worker.conformance_support import build_io_model

    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = build_io_model(name)
        return cache[name]

    yield get
    cache.clear()
