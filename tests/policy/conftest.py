"""A small synthetic city, generated once per test session and loaded per test through the
real ingestion path."""

from __future__ import annotations

from pathlib import Path

import pytest

CITY_PERSONS = 3000


@pytest.fixture(scope="session")
def city_folder(tmp_path_factory) -> Path:
    from dajiuzhu.synth.generator import generate

    folder = tmp_path_factory.mktemp("city")
    generate(persons=CITY_PERSONS, seed=7, year=2023, out_dir=folder, known_answer=True)
    return folder


@pytest.fixture
def city(db, city_folder):
    from dajiuzhu.demo.population import load_folder

    return load_folder(city_folder)
