"""Catalog tests store objects in a throwaway folder (or a real S3-API server), never in ./var."""

from __future__ import annotations

from pathlib import Path

import pytest

# Django is set up by tests/conftest.py's pytest_configure, after this file is imported: import models lazily.


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": root, "base_url": "/media/"}},
    }
    return root


def stored_files(root: Path) -> list[str]:
    """Every object written under the local storage root, as keys."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def editor(db):
    from accounts.models import Role
    from tests.accounts.factories import MembershipFactory

    return MembershipFactory(role=Role.EDITOR)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor.user)
    return client


@pytest.fixture
def viewer_client(client, editor):
    from accounts.models import Role
    from tests.accounts.factories import MembershipFactory

    viewer = MembershipFactory(store=editor.store, role=Role.VIEWER)
    client.force_login(viewer.user)
    return client
