"""Offline tools (checkpoint converters). Never imported by the worker or the rest of ``gpu_worker``."""
