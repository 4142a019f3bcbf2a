from __future__ import annotations

import pytest

from tests.factories import BrandFactory, CaseFactory


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="Lumora")


@pytest.fixture
def case(brand):
    return CaseFactory(brand=brand, asin="B0C1HJ4K2L", title="Desk lamp")
