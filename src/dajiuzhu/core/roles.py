"""Roles and what each may see. The lists here are the only place such decisions live."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    RESIDENT = "resident", "居民"
    WINDOW_CLERK = "window_clerk", "窗口受理员"
    CASEWORKER = "caseworker", "经办人员"
    APPROVER = "approver", "审批人员"
    GRID_WORKER = "grid_worker", "网格员"
    CALL_OPERATOR = "call_operator", "呼叫中心坐席"
    DATA_STEWARD = "data_steward", "部门数据管理员"
    SUPERVISOR = "supervisor", "监督人员"
    AUDITOR = "auditor", "第三方评估人员"
    ADMIN = "admin", "系统管理员"


STAFF_ROLES = frozenset(r for r in Role if r != Role.RESIDENT)

# Roles that handle a person's case and need the full ID number (identity checks, decisions).
FULL_ID_ROLES = frozenset({Role.CASEWORKER, Role.APPROVER})
# Roles that must be able to call a person.
FULL_PHONE_ROLES = frozenset({Role.CASEWORKER, Role.APPROVER, Role.GRID_WORKER, Role.CALL_OPERATOR})
# Roles that may open people's files (registry reads) within their scope. (Third-party
# auditors open only the cases sampled for their contract, through supervision's spot checks.)
REGISTRY_READ_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.CASEWORKER,
        Role.APPROVER,
        Role.GRID_WORKER,
        Role.CALL_OPERATOR,
        Role.SUPERVISOR,
        Role.ADMIN,
    }
)
# Roles that may create or change registry records within their scope.
REGISTRY_WRITE_ROLES = frozenset({Role.WINDOW_CLERK, Role.CASEWORKER, Role.ADMIN})


class Purpose(models.TextChoices):
    """Why personal data is read. Every audited read names one."""

    CASEWORK = "casework", "业务办理"
    VERIFICATION = "verification", "经济状况核对"
    WARNING = "warning", "预警核查"
    CARE = "care", "关爱监测"
    SUPERVISION = "supervision", "监督检查"
    ADMINISTRATION = "administration", "系统管理"
    SELF = "self", "本人查询"


# Staff roles that read departments' shared data (the exchange's shared rows) for each
# purpose — always through their department's sharing agreement and within their division
# scope. Data stewards read the datasets their own department delivers; residents never.
PURPOSE_ROLES: dict[str, frozenset[str]] = {
    Purpose.VERIFICATION: frozenset({Role.WINDOW_CLERK, Role.CASEWORKER, Role.APPROVER}),
    Purpose.WARNING: frozenset({Role.CASEWORKER, Role.APPROVER, Role.GRID_WORKER}),
    Purpose.SUPERVISION: frozenset({Role.SUPERVISOR, Role.AUDITOR}),
}
