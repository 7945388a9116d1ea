"""The staff workbench's navigation: modules, who sees them, and which are not built yet."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from dajiuzhu.core.roles import REGISTRY_READ_ROLES, Role

ALL_STAFF = frozenset(r for r in Role if r != Role.RESIDENT)


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str | None  # None: module still to come
    roles: frozenset[str]
    url: str = ""
    active: bool = False


MODULES: list[NavItem] = [
    NavItem("工作台", "web:workbench", ALL_STAFF),
    NavItem("一户一档", "registry:household_search", REGISTRY_READ_ROLES),
    NavItem("数据交换", "exchange:contracts", ALL_STAFF),
    NavItem("救助政策库", "policy:programmes", ALL_STAFF),
    NavItem(
        "家庭经济状况核对",
        "verification:home",
        frozenset({Role.WINDOW_CLERK, Role.CASEWORKER, Role.APPROVER, Role.ADMIN}),
    ),
    NavItem(
        "政策找人",
        "policy:candidates",
        frozenset(
            {
                Role.WINDOW_CLERK,
                Role.CASEWORKER,
                Role.APPROVER,
                Role.GRID_WORKER,
                Role.SUPERVISOR,
                Role.ADMIN,
            }
        ),
    ),
    NavItem(
        "主动预警",
        "warnings:queue",
        frozenset(
            {
                Role.WINDOW_CLERK,
                Role.CASEWORKER,
                Role.APPROVER,
                Role.GRID_WORKER,
                Role.SUPERVISOR,
                Role.ADMIN,
            }
        ),
    ),
    NavItem(
        "救助申请",
        "cases:queue",
        frozenset(
            {
                Role.WINDOW_CLERK,
                Role.CASEWORKER,
                Role.APPROVER,
                Role.GRID_WORKER,
                Role.SUPERVISOR,
                Role.AUDITOR,
                Role.ADMIN,
            }
        ),
    ),
    NavItem(
        "救助金发放",
        "payments:rosters",
        frozenset({Role.CASEWORKER, Role.APPROVER, Role.SUPERVISOR, Role.ADMIN}),
    ),
    NavItem(
        "暖心护航",
        "care:console",
        frozenset(
            {
                Role.CALL_OPERATOR,
                Role.CASEWORKER,
                Role.WINDOW_CLERK,
                Role.SUPERVISOR,
                Role.ADMIN,
            }
        ),
    ),
    NavItem("上门走访", "care:visits", frozenset({Role.GRID_WORKER})),
    NavItem("复核", "reviews:queue", frozenset({Role.CASEWORKER, Role.APPROVER})),
    NavItem("复核入户", "reviews:visits", frozenset({Role.GRID_WORKER})),
    NavItem(
        "跟踪监督",
        "supervision:queue",
        frozenset({Role.SUPERVISOR, Role.CASEWORKER, Role.APPROVER, Role.ADMIN}),
    ),
    NavItem("投诉举报", "supervision:complaints", frozenset({Role.SUPERVISOR, Role.ADMIN})),
    NavItem("抽查评估", "supervision:samples", frozenset({Role.AUDITOR})),
    NavItem("区划管理", "core:divisions", frozenset({Role.ADMIN})),
    NavItem("接口令牌", "core:tokens", frozenset({Role.ADMIN})),
    NavItem("账号管理", "core:users", frozenset({Role.ADMIN})),
    NavItem("审计日志", "core:audit", frozenset({Role.AUDITOR, Role.ADMIN})),
]


def navigation_for(user, path: str) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False) or user.role == Role.RESIDENT:
        return []
    items = []
    for item in MODULES:
        if user.role not in item.roles:
            continue
        url = ""
        if item.url_name:
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                url = ""  # module not installed yet: shown as "to come"
        items.append(NavItem(item.label, item.url_name, item.roles, url))
    # The active module is the one whose address is the longest prefix of the page's.
    matches = [
        i
        for i in items
        if i.url and (path == i.url or (i.url != "/work/" and path.startswith(i.url)))
    ]
    best = max(matches, key=lambda i: len(i.url), default=None)
    return [NavItem(i.label, i.url_name, i.roles, i.url, i is best) for i in items]
