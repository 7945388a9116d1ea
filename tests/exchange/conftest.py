"""Fixtures of the data exchange tests (the file builders are tests/factories/exchange.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def files(tmp_path):
    return tmp_path
