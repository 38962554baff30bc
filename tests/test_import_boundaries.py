"""The web tier never imports torch; the GPU worker never imports Django.

Each check runs in a fresh interpreter with the other side's packages made unimportable,
so an accidental import fails loudly instead of passing because the package happens to be installed.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = textwrap.dedent(
    """
    import sys
    class Block:
        def __init__(self, names): self.names = names
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ImportError(name + " is blocked in this process")
    sys.meta_path.insert(0, Block(BLOCKED))
    """
)


def run_python(code: str, blocked: set[str]) -> subprocess.CompletedProcess:
    program = f"BLOCKED = {blocked!r}\n" + BLOCKER + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_gpu_worker_imports_and_runs_without_django():
    result = run_python(
        """
        import gpu_worker, gpu_worker.spec, gpu_worker.app, gpu_worker.models
        assert "torch" not in sys.modules, "importing gpu_worker must not import torch"
        assert gpu_worker.app.ping.apply().get() == "pong"
        import pkgutil, importlib
        for mod in pkgutil.walk_packages(gpu_worker.__path__, "gpu_worker."):
            if mod.name.endswith("__main__"):
                continue
            importlib.import_module(mod.name)
        print("ok")
        """,
        blocked={"django", "rest_framework", "config", "accounts", "catalog", "generation", "billing", "frontend"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_web_tier_never_imports_torch():
    result = run_python(
        """
        import os
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        import django
        django.setup()
        from django.test import Client
        from django.urls import get_resolver
        import config.celery_app, config.urls, config.wsgi
        get_resolver().url_patterns
        for app in ("accounts", "catalog", "generation", "billing", "frontend"):
            import pkgutil, importlib
            package = importlib.import_module(app)
            for mod in pkgutil.walk_packages(package.__path__, app + "."):
                if ".tests" in mod.name or "migrations" in mod.name:
                    continue
                importlib.import_module(mod.name)
        Client().get("/healthz")
        for heavy in ("torch", "dlib", "cv2"):
            assert heavy not in sys.modules, heavy
        print("ok")
        """,
        blocked={"torch", "dlib", "cv2", "torchvision"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
