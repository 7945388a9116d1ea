"""The supervision parameters (``policy/parameters/supervision/``): dated values as the policy
library ships them, with administrators' dated additions on top (the policy library's
``ParameterOverride``). Read directly, as the warning scan reads its threshold: loading the
whole OpenFisca system for one figure would cost more than the figure is worth."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from django.apps import apps

from dajiuzhu.core.services import ServiceError
from dajiuzhu.core.yamlfiles import safe_load

RECTIFICATION_DAYS = "supervision.rectification_days"
SAMPLE_SHARE = "supervision.sample_share"
SAMPLE_MIN = "supervision.sample_min"
COMPLAINT_DAYS = "supervision.complaint_days"


@cache
def _file_values(name: str) -> dict[date, Decimal]:
    *folders, leaf = name.split(".")
    path = resources.files("dajiuzhu.policy").joinpath("parameters", *folders, leaf + ".yaml")
    values = safe_load(path.read_text("utf-8"))["values"]
    return {
        (d if isinstance(d, date) else date.fromisoformat(str(d))): Decimal(str(v["value"]))
        for d, v in values.items()
        if v is not None and v.get("value") is not None
    }


def _overrides(name: str) -> dict[date, Decimal]:
    try:
        model = apps.get_model("policy", "ParameterOverride")
    except LookupError:
        return {}
    return {
        start: Decimal(str(value))
        for start, value in model.objects.filter(name=name).values_list("start", "value")
    }


def value_on(name: str, day: date) -> Decimal:
    """The parameter's value in force on ``day`` (a clear error before its first value)."""
    values = {**_file_values(name), **_overrides(name)}
    applicable = [start for start in values if start <= day]
    if not applicable:
        raise ServiceError(
            "supervision.parameter", f"没有适用于{day:%Y-%m-%d}的参数 {name}", field="month"
        )
    return values[max(applicable)]


def rectification_days(day: date) -> int:
    return max(1, int(value_on(RECTIFICATION_DAYS, day)))


def complaint_days(day: date) -> int:
    return max(1, int(value_on(COMPLAINT_DAYS, day)))
