"""Reads of early warning, always scoped to the acting user and audited with purpose 预警核查.

The reads live in one module per job; this front keeps the names callers use:

* ``warnings.access`` — who sees a warning (the scope in the query), ``access_warning_by_id``;
* ``warnings.queue`` — the town's queue and the grid worker's task list;
* ``warnings.evidence`` — one warning's page (evidence, household, history);
* ``warnings.statistics`` — counts per rule, town and month.
"""

from __future__ import annotations

from dajiuzhu.warnings.access import (
    ASSIGNEE_ROLES,
    ASSIGNER_ROLES,
    READ_ROLES,
    access_warning_by_id,
    can_be_assignee,
    warnings_visible,
)
from dajiuzhu.warnings.evidence import (
    HISTORY_ACTIONS,
    AssistanceLine,
    HistoryLine,
    MemberLine,
    WarningDetail,
    assignable_users,
    warning_detail,
    warning_get,
)
from dajiuzhu.warnings.queue import (
    AGE_LABELS,
    AGES,
    MAX_LIST,
    UNKNOWN_PERSON,
    QueueFilters,
    TaskCard,
    WarningRow,
    communities,
    evidence_summary,
    is_overdue,
    task_list,
    warning_list,
)
from dajiuzhu.warnings.statistics import StatRow, Stats, latest_year, warning_stats

__all__ = [
    "AGES",
    "AGE_LABELS",
    "ASSIGNEE_ROLES",
    "ASSIGNER_ROLES",
    "HISTORY_ACTIONS",
    "MAX_LIST",
    "READ_ROLES",
    "UNKNOWN_PERSON",
    "AssistanceLine",
    "HistoryLine",
    "MemberLine",
    "QueueFilters",
    "StatRow",
    "Stats",
    "TaskCard",
    "WarningDetail",
    "WarningRow",
    "access_warning_by_id",
    "assignable_users",
    "can_be_assignee",
    "communities",
    "evidence_summary",
    "is_overdue",
    "latest_year",
    "task_list",
    "warning_detail",
    "warning_get",
    "warning_list",
    "warning_stats",
    "warnings_visible",
]
