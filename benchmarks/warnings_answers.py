"""The warnings' end-to-end answers on a home, to compare two versions of the code (issue 10).

Runs, in a copy of the home: `dajiuzhu scan --year Y` (a re-scan of what the home holds), then
deletes every warning and scan run and runs `dajiuzhu scan --year Y` again (a first scan), and
prints one JSON line: both scans' per-rule summaries (without the timings) and a digest of
every recorded warning (rule, year, person, event, date, amount, household, division,
evidence, fingerprint) and of what each warning's page shows. Two versions give the same
answers when the lines are equal.

    .venv/bin/dajiuzhu demo --persons 20000 --no-serve      # with DAJIUZHU_HOME=/tmp/djz-demo
    .venv/bin/python benchmarks/warnings_answers.py --home /tmp/djz-demo --year 2023
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAJIUZHU = ROOT / ".venv" / "bin" / "dajiuzhu"
TIMINGS = ("seconds",)


def scan(env: dict[str, str], year: int, engine: str) -> list[dict]:
    done = subprocess.run(
        [str(DAJIUZHU), "scan", "--year", str(year), "--engine", engine],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"scan failed ({done.returncode}): {done.stderr[-2000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [{k: v for k, v in s.items() if k not in TIMINGS} for s in lines]


def django_env(home: Path) -> None:
    os.environ["DAJIUZHU_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dajiuzhu.settings"
    import django

    django.setup()


def page_lines() -> list[str]:
    """What a city administrator's warning page and task card show of each warning (the
    evidence lines, the lake's event rows and monthly figures, members, assistance, the
    one-line summary), keyed by the warning's natural identity."""
    from dajiuzhu.core.models import User
    from dajiuzhu.warnings import selectors
    from dajiuzhu.warnings.models import Warning

    admin = User.objects.get(username="city_admin")
    lines = []
    for w in Warning.objects.order_by("rule", "person_key", "event_ref"):
        d = selectors.warning_detail(user=admin, warning_id=w.pk)
        shown = {
            "key": [w.rule, w.person_key, w.event_ref],
            "summary": selectors.evidence_summary(w),
            "evidence": d.evidence_lines,
            "titles": d.event_titles,
            "events": d.event_values,
            "monthly": d.monthly,
            "total": d.monthly_total,
            "members": [vars(m) for m in d.members],
            "assistance": [vars(a) for a in d.assistance],
            "person": [d.person_known, d.person_name, d.person_id_number, d.person_status],
        }
        lines.append(json.dumps(shown, default=str, ensure_ascii=False, sort_keys=True))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True, help="a demo home (SQLite); it is copied first")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--engine", default="duckdb")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="djz-answers-")) / "home"
    shutil.copytree(args.home, work, symlinks=True)
    try:
        env = {**os.environ, "DAJIUZHU_HOME": str(work)}
        env.pop("DATABASE_URL", None)
        rescan = scan(env, args.year, args.engine)
        django_env(work)
        from dajiuzhu.warnings.models import ScanRun, Warning

        Warning.objects.all().delete()
        ScanRun.objects.all().delete()
        first = scan(env, args.year, args.engine)
        fields = (
            "rule",
            "year",
            "person_key",
            "event_ref",
            "event_date",
            "amount",
            "household_no",
            "division_code",
            "evidence",
            "fingerprint",
        )
        rows = sorted(
            json.dumps(list(r), default=str, ensure_ascii=False, sort_keys=True)
            for r in Warning.objects.values_list(*fields)
        )
        digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        pages = hashlib.sha256("\n".join(page_lines()).encode()).hexdigest()
        print(
            json.dumps(
                {
                    "year": args.year,
                    "engine": args.engine,
                    "rescan": rescan,
                    "first_scan": first,
                    "warnings": len(rows),
                    "warnings_sha256": digest,
                    "pages_sha256": pages,
                },
                ensure_ascii=False,
            )
        )
    finally:
        shutil.rmtree(work.parent)


if __name__ == "__main__":
    main()
