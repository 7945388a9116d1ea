"""The demo accounts: one per role in 天宁区 and 武进区 (administrators only at city level,
decision 0006), city-wide ones, the data stewards."""

from __future__ import annotations

from django.db import transaction

from dajiuzhu.core.models import Department, User
from dajiuzhu.core.roles import Role
from dajiuzhu.core.services import user_create

DEMO_PASSWORD = "Changzhou-2023"  # noqa: S105 (demo accounts only, printed by `make demo`)
DEMO_RESIDENT_PHONE = "13800000001"
TIANNING = "320402"
WUJIN = "320412"
CITY = "320400"

SHORT = {
    Role.WINDOW_CLERK: "clerk",
    Role.CASEWORKER: "caseworker",
    Role.APPROVER: "approver",
    Role.GRID_WORKER: "grid",
    Role.CALL_OPERATOR: "call",
    Role.DATA_STEWARD: "steward",
    Role.SUPERVISOR: "supervisor",
    Role.AUDITOR: "auditor",
}  # no district administrators: administrators exist only at city level (decision 0006)
DISTRICTS = {"tn": (TIANNING, "天宁区"), "wj": (WUJIN, "武进区")}
# City-wide stewards of the departments that provide data.
CITY_STEWARDS = [
    "gongan",
    "jiaojing",
    "canlian",
    "yibao",
    "renshe",
    "ziranziyuan",
    "shichang",
    "gongjijin",
    "jinrong",
    "yingji",
    "minzheng",
    "tongji",
]


def demo_account_specs() -> list[dict[str, str | None]]:
    specs: list[dict[str, str | None]] = []
    for prefix, (code, label) in DISTRICTS.items():
        for role, short in SHORT.items():
            specs.append(
                {
                    "username": f"{prefix}_{short}",
                    "role": role,
                    "scope": code,
                    "department": "minzheng" if role == Role.DATA_STEWARD else None,
                    "name": f"{label}{role.label}",
                }
            )
    specs.append(
        {
            "username": "city_admin",
            "role": Role.ADMIN,
            "scope": CITY,
            "department": None,
            "name": "市级系统管理员",
        }
    )
    specs.append(
        {
            "username": "city_supervisor",
            "role": Role.SUPERVISOR,
            "scope": CITY,
            "department": None,
            "name": "市级监督人员",
        }
    )
    specs.append(
        {
            "username": "city_call",
            "role": Role.CALL_OPERATOR,
            "scope": CITY,
            "department": None,
            "name": "24小时呼叫中心",
        }
    )
    specs.append(
        {
            "username": "city_call2",
            "role": Role.CALL_OPERATOR,
            "scope": CITY,
            "department": None,
            "name": "24小时呼叫中心二线坐席",
        }
    )
    names = dict(Department.objects.values_list("code", "name"))
    for dept in CITY_STEWARDS:
        specs.append(
            {
                "username": f"steward_{dept}",
                "role": Role.DATA_STEWARD,
                "scope": CITY,
                "department": dept,
                "name": f"{names.get(dept, dept)}数据管理员",
            }
        )
    return specs


@transaction.atomic
def demo_accounts() -> list[dict[str, str]]:
    out = []
    for spec in demo_account_specs():
        if not User.objects.filter(username=spec["username"]).exists():
            user_create(
                actor=None,
                username=str(spec["username"]),
                password=DEMO_PASSWORD,
                role=str(spec["role"]),
                scope_code=spec["scope"],
                department_code=spec["department"],
                display_name=str(spec["name"]),
                check_password=False,
            )
        out.append(
            {
                "username": str(spec["username"]),
                "role": str(spec["role"]),
                "scope": f"{spec['scope']}"
                + (f" / {spec['department']}" if spec["department"] else ""),
            }
        )
    return out
