"""Every user-visible string in the code has its Korean translation, and the committed .mo files match the .po.

`makemessages` runs on a copy of the web apps (never on the repository: it rewrites the catalogue), and the fresh
catalogue must have no untranslated or fuzzy Korean entry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_APPS = ("config", "core", "accounts", "catalog", "generation", "billing", "frontend", "gpu_worker")
pytestmark = pytest.mark.skipif(shutil.which("msgattrib") is None, reason="GNU gettext tools are not installed")


def _entries(po: Path, *which: str) -> list[str]:
    out = subprocess.run(["msgattrib", *which, "--no-wrap", str(po)], capture_output=True, text=True, check=True)
    return [line[len("msgid "):] for line in out.stdout.splitlines() if line.startswith("msgid ")][1:]  # header


def test_every_string_in_the_code_has_a_korean_translation(tmp_path):
    for name in WEB_APPS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(tmp_path)}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "ko", "--ignore", "gpu_worker/*"],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    po = tmp_path / "frontend" / "locale" / "ko" / "LC_MESSAGES" / "django.po"
    assert _entries(po, "--untranslated") == [], "strings with no Korean translation"
    assert _entries(po, "--only-fuzzy") == [], "Korean translations to check (fuzzy)"


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_compiled_catalogue_is_the_committed_po(tmp_path, language):
    folder = ROOT / "frontend" / "locale" / language / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(folder / "django.po")], check=True)
    assert fresh.read_bytes() == (folder / "django.mo").read_bytes(), "run msgfmt: the .mo is stale"
