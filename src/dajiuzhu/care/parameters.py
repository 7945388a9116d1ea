"""The care rules' parameters: dated values of the policy library (``care.*`` under
policy/parameters/care/) with administrators' dated additions (policy.ParameterOverride).

Read directly from the YAML files rather than through the OpenFisca system: the intake reads
them for every message, and building the whole system for nine figures would cost far more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from django.apps import apps

from dajiuzhu.core.yamlfiles import safe_load

NAMES = (
    "inactivity_hours",
    "morning_from",
    "morning_deadline",
    "heartbeat_seconds",
    "offline_heartbeats",
    "low_battery_percent",
    "escalation_seconds",
    "future_tolerance_seconds",
    "max_payload_bytes",
)


@dataclass(frozen=True)
class CareParameters:
    inactivity_hours: float
    morning_from: float
    morning_deadline: float
    heartbeat_seconds: float
    offline_heartbeats: float
    low_battery_percent: float
    escalation_seconds: float
    future_tolerance_seconds: float
    max_payload_bytes: float

    @property
    def offline_seconds(self) -> float:
        return self.heartbeat_seconds * self.offline_heartbeats


@cache
def _file_values(name: str) -> dict[date, float]:
    path = resources.files("dajiuzhu.policy").joinpath("parameters", "care", f"{name}.yaml")
    values = safe_load(path.read_text("utf-8"))["values"]
    return {
        (d if isinstance(d, date) else date.fromisoformat(str(d))): float(v["value"])
        for d, v in values.items()
        if v is not None and v.get("value") is not None
    }


def _overrides() -> dict[str, dict[date, float]]:
    try:
        model = apps.get_model("policy", "ParameterOverride")
    except LookupError:
        return {}
    out: dict[str, dict[date, float]] = {}
    rows = model.objects.filter(name__startswith="care.").values_list("name", "start", "value")
    for name, start, value in rows:
        out.setdefault(name.removeprefix("care."), {})[start] = float(value)
    return out


def care_parameters(on: date) -> CareParameters:
    """Every ``care.*`` parameter in force on ``on`` (the latest dated value on or before)."""
    extra = _overrides()
    values = {}
    for name in NAMES:
        dated = {**_file_values(name), **extra.get(name, {})}
        applicable = [start for start in dated if start <= on]
        start = max(applicable) if applicable else min(dated)
        values[name] = dated[start]
    return CareParameters(**values)
