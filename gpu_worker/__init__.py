"""Gasang GPU worker: face analysis, engines and neural models.

Importing this package (or ``gpu_worker.spec``) must stay cheap: no torch, dlib or
OpenCV at import time, and never Django. Heavy modules are imported where used.
"""
