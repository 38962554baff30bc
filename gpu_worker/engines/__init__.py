"""Face engines: one package per capability (``swap``, ``restore``, ``makeup``, ``generate``,
``second_generation``), each with a ``classical`` and a ``neural`` module behind ``base``'s interface.

``get_engine(name, kind)`` imports one lazily and checks it implements the interface;
``selection.choose_engine(name, engine="auto")`` decides which one runs.
"""

from gpu_worker.engines.base import ENGINE_NAMES, EngineResult, FaceEngineError, get_engine

__all__ = ["ENGINE_NAMES", "EngineResult", "FaceEngineError", "get_engine"]
