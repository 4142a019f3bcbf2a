from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings

from cases.models import Role
from tests import factories


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked for a real service skip without it, except in CI where they fail."""
    needs = {
        "postgres": django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "redis": bool(django_settings.REDIS_URL),
    }
    for marker, available in needs.items():
        if item.get_closest_marker(marker) and not available:
            message = f"needs the real {marker} service ({'DATABASE_URL' if marker == 'postgres' else 'REDIS_URL'})"
            if _in_ci():
                pytest.fail(f"{message}, which CI must provide")
            pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_evidence(settings: Any, tmp_path: Any) -> None:
    """Each test stores evidence in its own folder; passwords hash fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    root = tmp_path / "evidence"
    settings.EVIDENCE_ROOT = root
    settings.FILE_UPLOAD_TEMP_DIR = root / ".staging"
    (root / ".staging").mkdir(parents=True)
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "evidence.storage.AtomicFileSystemStorage", "OPTIONS": {"location": root}},
    }


@pytest.fixture(autouse=True)
def _in_process_tasks_and_private_cache(settings: Any, request: pytest.FixtureRequest) -> Any:
    """Tasks run in-process and rate counters start empty, unless a test asks for a real worker."""
    from casemanager.celery import app

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid}
    }
    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    yield
    app.conf.task_always_eager = previous


@dataclass
class Personas:
    """One team with a member of each role, and an outsider who belongs to another team."""

    team: Any
    manager: Any
    agent: Any
    viewer: Any
    outsider: Any
    outsider_team: Any


@pytest.fixture
def personas(db: None) -> Personas:
    manager = factories.UserFactory(username="manager")
    team = factories.TeamFactory(creator=manager)
    agent = factories.MemberFactory(team=team, role=Role.AGENT, username="agent")
    viewer = factories.MemberFactory(team=team, role=Role.VIEWER, username="viewer")
    outsider = factories.UserFactory(username="outsider")
    outsider_team = factories.TeamFactory(creator=outsider, name="Other agency")
    return Personas(team, manager, agent, viewer, outsider, outsider_team)
