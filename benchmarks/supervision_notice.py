"""The monthly 通报 PDF: how long it takes to make for the whole city (every district and town
ranked, three bar charts, the rules' table) against a one-page PDF in the same CJK font made
through the same path (`core.pdf.render_pdf`) in the same run.

SQLite in a fresh temporary home (reference data: the divisions and departments) with one
investigated warning per town in the month, so that every town has a figure and is ranked (the
longest table the 通报 holds), and an empty lake. The cost measured is the ranking, the charts
and the layout; the figures' queries are the scorecard's and grow with the month's records.

    .venv/bin/python benchmarks/supervision_notice.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--month", default="2024-03")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-notice-")
    os.environ["DAJIUZHU_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    from dajiuzhu.bootstrap import setup

    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from dajiuzhu.core.models import Division
    from dajiuzhu.core.pdf import render_pdf
    from dajiuzhu.core.reference import reference_data_load

    reference_data_load()
    _warnings(args.month)
    from benchmarks._common import machine, peak_rss_mib

    from dajiuzhu.supervision.notice import notice_pdf

    notice_pdf(args.month)  # warm: fonts, WeasyPrint, templates
    render_pdf("web/pdf_base.html", {})
    notice, baseline, size = [], [], 0
    for _ in range(args.runs):
        started = time.perf_counter()
        data = notice_pdf(args.month)
        notice.append(time.perf_counter() - started)
        size = len(data)
        started = time.perf_counter()
        render_pdf("cases/notice_pdf.html", _baseline_context())
        baseline.append(time.perf_counter() - started)
    import io

    import pypdf

    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    result = {
        "benchmark": "supervision_notice",
        "machine": machine(),
        "districts": Division.objects.filter(level="district").count(),
        "towns": Division.objects.filter(level="town").count(),
        "runs": args.runs,
        "notice_seconds_median": round(statistics.median(notice), 3),
        "notice_bytes": size,
        "notice_pages": pages,
        "baseline_one_page_seconds_median": round(statistics.median(baseline), 3),
        "ratio": round(statistics.median(notice) / statistics.median(baseline), 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    import json

    print(json.dumps(result, ensure_ascii=False), flush=True)


def _warnings(month: str) -> None:
    from datetime import datetime, timedelta

    from django.utils import timezone

    from dajiuzhu.core.models import Division
    from dajiuzhu.warnings.models import Warning
    from dajiuzhu.warnings.rules import RULE_CODES

    pushed = datetime.fromisoformat(f"{month}-04T09:00").replace(
        tzinfo=timezone.get_current_timezone()
    )
    towns = Division.objects.filter(level="town").order_by("code")
    for n, town in enumerate(towns):
        Warning.objects.create(
            rule=RULE_CODES[n % len(RULE_CODES)],
            year=pushed.year,
            person_key=n + 1,
            division_code=f"{town.code}001",
            pushed_at=pushed,
            due_date=(pushed + timedelta(days=10)).date(),
            status="investigated",
            investigated_at=pushed + timedelta(days=n % 20),
            outcome="helped_to_apply" if n % 3 else "not_in_hardship",
        )


def _baseline_context() -> dict:
    """A decision notice's context without database rows (the same template the cases use)."""
    from types import SimpleNamespace

    case = SimpleNamespace(
        decided_on=None,
        workflow="statutory",
        amount="800.00",
        start_month="2024-03",
        decision_reasons="家庭人均收入低于当地低保标准,符合条件。",
    )
    app = SimpleNamespace(application_no="SQ20240301000001", submitted_at=None)
    return {
        "title": "救助决定书",
        "approved": True,
        "case": case,
        "application": app,
        "programme": SimpleNamespace(name="最低生活保障"),
        "applicant_name": "张三",
        "department": "常州市天宁区民政局",
        "appeal_days": 60,
        "lawsuit_months": 6,
    }


if __name__ == "__main__":
    main()
