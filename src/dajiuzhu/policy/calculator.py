"""The residents' self-check (政策计算器): a few answers → which programmes may apply, an
estimate and the reasons. Nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from dajiuzhu.policy import engine

DISTRICTS = [
    ("320402", "天宁区"),
    ("320404", "钟楼区"),
    ("320411", "新北区"),
    ("320412", "武进区"),
    ("320413", "金坛区"),
    ("320481", "溧阳市"),
]
KINDS = [
    ("none", "无"),
    ("physical", "肢体"),
    ("visual", "视力"),
    ("hearing", "听力"),
    ("speech", "言语"),
    ("intellectual", "智力"),
    ("psychiatric", "精神"),
    ("multiple", "多重"),
]
MAX_MEMBERS = 8
MONEY_MAX = Decimal("100000000")


@dataclass
class Answers:
    district: str = "320402"
    members: list[dict] = field(default_factory=list)
    household: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _money(raw: str, label: str, errors: list[str]) -> float:
    raw = (raw or "").strip().replace(",", "")
    if not raw:
        return 0.0
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append(f"{label}应为数字")
        return 0.0
    if not value.is_finite() or value < 0 or value > MONEY_MAX:
        errors.append(f"{label}应为不小于0的金额")
        return 0.0
    return float(round(value, 2))


def _int(raw: str, label: str, errors: list[str], lo: int, hi: int) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{label}应为整数")
        return None
    if not lo <= value <= hi:
        errors.append(f"{label}应在{lo}到{hi}之间")
        return None
    return value


def parse(data) -> Answers:
    """Read the form (a QueryDict or dict). Blank member rows are skipped."""
    a = Answers()
    district = data.get("district", "320402")
    a.district = district if district in dict(DISTRICTS) else "320402"
    for i in range(MAX_MEMBERS):
        label = f"第{i + 1}位成员"
        age = _int(data.get(f"age_{i}", ""), f"{label}的年龄", a.errors, 0, 120)
        if age is None:
            continue
        grade = _int(data.get(f"grade_{i}", ""), f"{label}的残疾等级", a.errors, 0, 4) or 0
        kind = data.get(f"kind_{i}", "none")
        a.members.append(
            {
                "id": f"成员{i + 1}",
                "age": age,
                "wage_income": _money(data.get(f"wage_{i}", ""), f"{label}的工资", a.errors),
                "other_income": _money(
                    data.get(f"pension_{i}", ""), f"{label}的养老金等收入", a.errors
                ),
                "disability_grade": grade,
                "disability_kind": kind if kind in dict(KINDS) and grade else "none",
                "has_serious_illness": data.get(f"ill_{i}") == "on",
            }
        )
    if not a.members and not a.errors:
        a.errors.append("请至少填写一位家庭成员的年龄")
    vehicles = _int(data.get("vehicles", ""), "汽车数量", a.errors, 0, 20) or 0
    homes = _int(data.get("homes", ""), "住房套数", a.errors, 0, 50) or 0
    a.household = {
        "district_code": a.district,
        "financial_assets": _money(data.get("assets", ""), "存款等金融资产", a.errors),
        "non_exempt_vehicles": vehicles,
        "extra_residential_units": max(homes - 1, 0),
        "runs_active_business": data.get("business") == "on",
        "rigid_expenditure": _money(data.get("rigid", ""), "每月医疗教育支出", a.errors),
    }
    # A resident does not know their supporters' capacity: assume a working-age member
    # supports the others, as the platform's own checks do.
    working = [m["age"] for m in a.members if 18 <= m["age"] <= 59]
    for m in a.members:
        others = len(working) - (1 if 18 <= m["age"] <= 59 else 0)
        m["has_able_supporter"] = others > 0
    return a


def estimate(answers: Answers, *, system, month: str | None = None) -> engine.Explanation:
    month = month or timezone.localdate().strftime("%Y-%m")
    return engine.explain(system, month, answers.members, answers.household)
