"""The programme catalogue (救助政策库): the city's 32 assistance programmes of 14 departments.

Content lives in ``data/programmes.yaml`` of this package (one entry per programme, in the
order of ``core/data/programmes.csv``); this module only reads and checks it. No Django here.

- :func:`load_catalogue` — every :class:`Programme`, in file order (cached).
- :func:`programme` — one programme by code (``KeyError`` when unknown).
- :func:`by_department` — programmes grouped by owner department code.

``variables`` names the OpenFisca variables (see :mod:`dajiuzhu.policy.engine`) that decide a
programme's eligibility or amount; it is empty where the rules are not computable.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "CATEGORIES",
    "Programme",
    "by_department",
    "load_catalogue",
    "programme",
]

CATEGORIES: tuple[str, ...] = ("基本生活救助", "专项救助", "急难救助", "社会力量参与")

_TEXT_FIELDS = (
    "code",
    "name",
    "department",
    "category",
    "target",
    "benefit",
    "legal_basis",
    "plain",
    "how_to_apply",
)


@dataclass(frozen=True)
class Programme:
    """One assistance programme as staff and residents see it.

    ``target``/``benefit``/``legal_basis`` are staff wording; ``plain``/``how_to_apply`` are
    for residents. ``documents`` are the papers to bring (default 「一证一书」);
    ``commitment`` says whether a signed 告知承诺 replaces certificates; ``deadline_days`` is
    working days from acceptance to a decision.
    """

    code: str
    name: str
    department: str
    category: str
    target: str
    benefit: str
    legal_basis: str
    documents: tuple[str, ...]
    commitment: bool
    deadline_days: int
    variables: tuple[str, ...]
    plain: str
    how_to_apply: str


def _str_tuple(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"programme {entry.get('code')!r}: {key} must be a list of strings")
    return tuple(v.strip() for v in value)


def _programme(entry: Any) -> Programme:
    if not isinstance(entry, dict):
        raise ValueError(f"catalogue entry is not a mapping: {entry!r}")
    code = entry.get("code")
    expected = {f.name for f in fields(Programme)}
    if set(entry) != expected:
        missing, extra = sorted(expected - set(entry)), sorted(set(entry) - expected)
        raise ValueError(f"programme {code!r}: missing fields {missing}, unknown fields {extra}")
    texts: dict[str, str] = {}
    for key in _TEXT_FIELDS:
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"programme {code!r}: {key} must be a non-empty string")
        texts[key] = value.strip()
    if texts["category"] not in CATEGORIES:
        raise ValueError(f"programme {code!r}: unknown category {texts['category']!r}")
    commitment = entry["commitment"]
    if not isinstance(commitment, bool):
        raise ValueError(f"programme {code!r}: commitment must be true or false")
    deadline = entry["deadline_days"]
    if isinstance(deadline, bool) or not isinstance(deadline, int) or deadline <= 0:
        raise ValueError(f"programme {code!r}: deadline_days must be a positive integer")
    return Programme(
        documents=_str_tuple(entry, "documents"),
        commitment=commitment,
        deadline_days=deadline,
        variables=_str_tuple(entry, "variables"),
        **texts,
    )


@functools.cache
def load_catalogue() -> tuple[Programme, ...]:
    """Every programme of ``data/programmes.yaml``, in file order; raises ``ValueError`` when
    an entry is malformed or a code repeats."""
    text = resources.files("dajiuzhu.policy").joinpath("data", "programmes.yaml").read_text("utf-8")
    entries = yaml.safe_load(text)
    if not isinstance(entries, list):
        raise ValueError("programmes.yaml must be a list of programmes")
    programmes = tuple(_programme(entry) for entry in entries)
    codes = [p.code for p in programmes]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"duplicate programme codes: {duplicates}")
    return programmes


@functools.cache
def _by_code() -> dict[str, Programme]:
    return {p.code: p for p in load_catalogue()}


def programme(code: str) -> Programme:
    """The programme with this code; ``KeyError`` when there is none."""
    try:
        return _by_code()[code]
    except KeyError:
        raise KeyError(code) from None


def by_department() -> dict[str, list[Programme]]:
    """Programmes grouped by owner department code, departments in order of first appearance,
    programmes in catalogue order. A fresh dict each call: the caller may change it."""
    grouped: dict[str, list[Programme]] = {}
    for p in load_catalogue():
        grouped.setdefault(p.department, []).append(p)
    return grouped
