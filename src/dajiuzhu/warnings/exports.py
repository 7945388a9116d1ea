"""The statistics as XLSX (per rule, town and month), cells guarded against formula injection
as the exchange's quarantine downloads are."""

from __future__ import annotations

import io

from openpyxl import Workbook

from dajiuzhu.exchange.exports import guard

HEADER = ["", "推送", "已派发", "已核查", "帮助申请", "已纳入救助", "逾期", "已撤销", "精准度"]


def _line(r) -> list:
    precision = "" if r.precision is None else round(r.precision, 4)
    return [
        guard(r.label),
        r.pushed,
        r.assigned,
        r.investigated,
        r.helped,
        r.covered,
        r.overdue,
        r.withdrawn,
        precision,
    ]


def stats_xlsx(stats) -> bytes:
    wb = Workbook(write_only=True)
    for title, first, rows in (
        ("按规则", "规则", [*stats.by_rule, stats.total]),
        ("按镇街", "镇(街道)", stats.by_town),
        ("按月份", "推送月份", stats.by_month),
    ):
        ws = wb.create_sheet(title)
        ws.append([first, *HEADER[1:]])
        for r in rows:
            ws.append(_line(r))  # labels are guarded strings; figures are numbers
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
