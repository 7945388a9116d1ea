"""The programme catalogue's codes and names (``core/data/programmes.csv``), for the outcome
"helped to apply (which programme)" and for showing current assistance."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def programmes() -> dict[str, str]:
    text = resources.files("dajiuzhu.core").joinpath("data", "programmes.csv").read_text("utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}


def programme_label(code: str) -> str:
    return programmes().get(code, code)
