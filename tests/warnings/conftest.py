"""The warnings' test city as a fixture (the builder is tests/factories/city.py)."""

from __future__ import annotations

import pytest

from tests.factories.city import City, build_city


@pytest.fixture
def city(db) -> City:
    c = build_city()
    c.load()
    return c
