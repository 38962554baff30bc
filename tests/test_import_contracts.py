"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and a deliberate violation breaks them.

Runs ``lint-imports`` (import-linter) the way CI does. The violation test copies an app into a temporary folder
that comes first on the path, adds a module that breaks the rules, and checks the same contracts fail on it: it
leaves nothing in the repository.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), str(ROOT)])}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_deliberate_violation_breaks_the_contracts(tmp_path):
    # core that imports config and a business app; accounts (the bottom layer) that imports generation.
    for app in ("core", "accounts"):
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "core" / "violation.py").write_text("import config.settings\nfrom catalog import models\n")
    (tmp_path / "accounts" / "violation.py").write_text("from generation import models\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0
    out = result.stdout
    assert "Apps (core and the business apps) never import config BROKEN" in out
    assert "core imports no business app BROKEN" in out
    assert "No cycles among business apps" in out and "3 broken" in out
    assert "core.violation -> config" in out and "accounts.violation -> generation" in out
    assert not (ROOT / "core" / "violation.py").exists() and not (ROOT / "accounts" / "violation.py").exists()


def test_the_tools_contract_lists_every_other_module_of_gpu_worker():
    """A new top-level gpu_worker module must join the sources of the tools contract (else it could import tools)."""
    (contract,) = [c for c in _contracts() if c["id"] == "tools-not-imported-by-worker"]
    modules = {f"gpu_worker.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "gpu_worker")])}
    assert set(contract["source_modules"]) == modules - {"gpu_worker.tools"}


@pytest.mark.parametrize("app", ["core", "accounts", "catalog", "generation", "billing", "frontend"])
def test_every_web_app_is_under_the_config_contract(app):
    (contract,) = [c for c in _contracts() if c["id"] == "apps-never-import-config"]
    assert app in contract["source_modules"]


def test_every_folder_of_modules_is_a_package():
    """import-linter does not see namespace packages (a folder without ``__init__.py``): the contracts would miss it."""
    roots = ["core", "accounts", "catalog", "generation", "billing", "frontend", "config", "gpu_worker"]
    folders = {p.parent for root in roots for p in (ROOT / root).rglob("*.py") if "__pycache__" not in p.parts}
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()) == []
