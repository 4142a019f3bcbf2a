from typing import Any

import pytest

from tests.cases.hostile_world import World, build_world


@pytest.fixture
def hostile_world(personas: Any, api: Any, settings: Any) -> World:
    """A team with a record of every kind, to fill with hostile text."""
    settings.ALLOW_PRIVATE_URLS = True
    return build_world(personas, api)
