"""Reading the platform's declarations (contracts, the programme catalogue, parameters): YAML
with LibYAML's safe loader when PyYAML has it — about seven times faster than the pure-Python
one, which every command pays at start-up — and the pure-Python safe loader otherwise."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader, C or Python)
