"""Face engines, one package per capability, all behind ``gpu_worker.engines.base``'s interface.

``get_engine(name)`` imports the engine lazily and checks it implements the interface.
"""

from gpu_worker.engines.base import ENGINE_NAMES, EngineResult, FaceEngineError, get_engine

__all__ = ["ENGINE_NAMES", "EngineResult", "FaceEngineError", "get_engine"]
