"""Writes of early warning. One module per job; this front keeps the names callers use:

* ``warnings.scanning`` — scans (all rules computed, then applied in one transaction), the
  real-time path for a published or retracted event batch, the lake summaries' rewrite;
* ``warnings.investigation`` — assignment, the visit's outcome, closing, escalation;
* ``warnings.exports`` — the administrators' CSV of a year's warnings (and the statistics'
  XLSX).

Who may see a warning is decided once, in ``warnings.access``; every write here fetches the
warning through ``access_warning_by_id``.
"""

from __future__ import annotations

from dajiuzhu.warnings.access import ASSIGNEE_ROLES, ASSIGNER_ROLES, can_be_assignee
from dajiuzhu.warnings.exports import EXPORT_HEADER, ExportSummary, warnings_export
from dajiuzhu.warnings.investigation import (
    MAX_NOTES,
    warning_assign,
    warning_close,
    warning_record_outcome,
    warnings_escalate_overdue,
)
from dajiuzhu.warnings.scanning import (
    DEFAULT_DEADLINE_DAYS,
    RealtimeReport,
    ScanReport,
    deadline_days,
    due_date_for,
    scan_for_batch,
    scan_run,
    summaries_refresh,
    town_codes_known,
)

__all__ = [
    "ASSIGNEE_ROLES",
    "ASSIGNER_ROLES",
    "DEFAULT_DEADLINE_DAYS",
    "EXPORT_HEADER",
    "MAX_NOTES",
    "ExportSummary",
    "RealtimeReport",
    "ScanReport",
    "can_be_assignee",
    "deadline_days",
    "due_date_for",
    "scan_for_batch",
    "scan_run",
    "summaries_refresh",
    "town_codes_known",
    "warning_assign",
    "warning_close",
    "warning_record_outcome",
    "warnings_escalate_overdue",
    "warnings_export",
]
