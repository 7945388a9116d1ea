"""A review (复核) cycle over 60,000 approved cases (issue 13).

Claims: the cycle over 60,000 cases is scheduled in <= 60 s; the checks run in the worker at
>= 20 households/s.

Set-up (not timed): a synthetic city loaded through the real ingestion path into a fresh home
on SQLite (the shared PostgreSQL is not for helpers' runs), then 60,000 approved 低保 cases
(one per household, approved a year ago, bulk-written) and signed authorisations for the
households whose checks are run.

Timed, each with its baseline measured in the same run:
- ``reviews schedule`` for this month (every case is due: yearly or half-yearly) — baseline:
  reading the same inputs bare (the cases' rows and the households' current members);
- the same schedule again (idempotent: creates nothing);
- the checks of ``--checks`` pending reviews run as the worker runs a batch
  (``reviews_run_pending``) — baseline: the bare household check (``verify``) of as many
  other households, which the review runs and then adds the rules' re-run and its writes.

    .venv/bin/python benchmarks/reviews_cycle.py [--persons 180000] [--cases 60000] [--checks 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, fresh_home, peak_rss_mib

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

CYCLE = r"""
import json, os, sys, time
from datetime import date, timedelta
from decimal import Decimal
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
import django; django.setup()
from django.db import transaction
from django.utils import timezone
from dajiuzhu.cases.models import Application, Case, CaseStatus, Channel
from dajiuzhu.core.models import Department, Division
from dajiuzhu.core.months import add_months, month_of
from dajiuzhu.registry.models import Household, Membership
from dajiuzhu.registry.selectors import age_on
from dajiuzhu.reviews.models import Review
from dajiuzhu.reviews.services import reviews_run_pending, reviews_schedule
from dajiuzhu.verification.services import authorisation_record, verify

n_cases, n_checks = int(sys.argv[1]), int(sys.argv[2])
today = timezone.localdate()
this = month_of(today)
towns = set(Division.objects.filter(level="town").values_list("code", flat=True))
homes = [h for h in Household.objects.order_by("pk").values_list("pk", "division_id")
         if h[1][:9] in towns][: n_cases]
heads = {}
for hid, pid in Membership.objects.filter(end_date__isnull=True).order_by("pk").values_list(
        "household_id", "person_id"):
    heads.setdefault(hid, pid)
homes = [h for h in homes if h[0] in heads][:n_cases]
dept = Department.objects.get(code="minzheng")
t0 = time.perf_counter()
if Case.objects.exists():  # a second run in the same home: the cases are there, start again
    Review.objects.all().delete()
    apps = list(Application.objects.all())
else:
  with transaction.atomic():
      apps = Application.objects.bulk_create([
          Application(application_no=f"B{hid:09d}", household_id=hid, applicant_id=heads[hid],
                      channel=Channel.WINDOW, accepted_division_id=div[:9], town_id=div[:9],
                      submitted_at=timezone.now() - timedelta(days=400))
          for hid, div in homes], batch_size=5000)
      Case.objects.bulk_create([
          Case(application=a, household_id=a.household_id, programme="dibao", department=dept,
               decision_level="district", workflow="statutory", town_id=a.town_id,
               status=CaseStatus.APPROVED, accepted_on=date(2025, 10, 1),
               due_on=date(2025, 11, 15), amount=Decimal("600.00"),
               proposed_amount=Decimal("600.00"), start_month=add_months(this, -12),
               decided_on=date(2025, 11, 10))
          for a in apps], batch_size=5000)
setup_cases = time.perf_counter() - t0
# authorisations for the households checked (reviews and baseline)
checked = [hid for hid, _ in homes[: 2 * n_checks + 10]]
for pid in Membership.objects.filter(household_id__in=checked, end_date__isnull=True).values_list(
        "person_id", flat=True):
    authorisation_record(actor=None, person_id=pid, signed_on=today,
                         expires_on=today + timedelta(days=60), document_ref="bench")

# baseline: the schedule's inputs read bare
t0 = time.perf_counter()
rows = list(Case.objects.filter(status="approved").values_list(
    "pk", "household_id", "programme", "start_month", "application__verification_report_id"))
members = list(Membership.objects.filter(end_date__isnull=True, household__in=Case.objects.filter(
    status="approved").values("household_id")).values_list(
    "household_id", "person_id", "person__birth_date", "person__status"))
bare_read = time.perf_counter() - t0

t0 = time.perf_counter()
first = reviews_schedule(actor=None, month=this)
schedule_s = time.perf_counter() - t0
t0 = time.perf_counter()
again = reviews_schedule(actor=None, month=this)
again_s = time.perf_counter() - t0

# the checks: reviews of the first n_checks households, bare verify of the next ones
ids = list(Review.objects.filter(case__household_id__in=checked[:n_checks]).values_list(
    "pk", flat=True))
verify(actor=None, household_id=checked[-1], month="2023-12")  # warm-up (DuckDB, rules)
t0 = time.perf_counter()
counts = reviews_run_pending(ids=ids)
run_s = time.perf_counter() - t0
t0 = time.perf_counter()
for hid in checked[n_checks: 2 * n_checks]:
    verify(actor=None, household_id=hid, month="2023-12")
bare_s = time.perf_counter() - t0
print(json.dumps({
    "cases": len(apps), "setup_cases_s": setup_cases,
    "schedule_s": schedule_s, "schedule": first, "again_s": again_s,
    "again_created": again["created"], "bare_read_s": bare_read,
    "members_rows": len(members),
    "run_s": run_s, "run": counts, "reviews_run": len(ids), "bare_verify_s": bare_s,
    "bare_verified": len(checked[n_checks: 2 * n_checks]),
}, default=str))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=180_000)
    parser.add_argument("--cases", type=int, default=60_000)
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--home", default="")
    args = parser.parse_args()
    home = Path(args.home or fresh_home())
    env = {**os.environ, "DAJIUZHU_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    synth = home / "synth"
    t0 = time.perf_counter()
    if not (home / "city-loaded").exists():
        subprocess.run(
            [
                str(BIN / "dajiuzhu"),
                "synth",
                "--persons",
                str(args.persons),
                "--seed",
                "1",
                "--year",
                "2023",
                "--out",
                str(synth),
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        code = (
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'dajiuzhu.settings'); django.setup();"
            "from dajiuzhu.bootstrap import ensure_database; ensure_database();"
            "from dajiuzhu.core.reference import reference_data_load; reference_data_load();"
            "from pathlib import Path; from dajiuzhu.demo.population import load_folder;"
            f"load_folder(Path({str(synth)!r}))"
        )
        subprocess.run(
            [str(BIN / "python"), "-c", code], env=env, check=True, stdout=subprocess.DEVNULL
        )
        (home / "city-loaded").write_text("ok\n")
    load_s = time.perf_counter() - t0
    out = subprocess.run(
        [str(BIN / "python"), "-c", CYCLE, str(args.cases), str(args.checks)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(out.returncode)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    emit(
        {
            "benchmark": "reviews_cycle",
            "database": "sqlite",
            "persons": args.persons,
            "cases": r["cases"],
            "city_load_s": round(load_s, 1),
            "schedule_s": round(r["schedule_s"], 2),
            "scheduled": r["schedule"]["created"],
            "by_basis": r["schedule"]["by_basis"],
            "schedule_again_s": round(r["again_s"], 2),
            "schedule_again_created": r["again_created"],
            "baseline_bare_read_s": round(r["bare_read_s"], 2),
            "schedule_vs_bare_read": round(r["schedule_s"] / r["bare_read_s"], 1),
            "reviews_run": r["reviews_run"],
            "run_s": round(r["run_s"], 2),
            "households_per_s": round(r["reviews_run"] / r["run_s"], 1),
            "outcomes": r["run"],
            "baseline_bare_verify_per_s": round(r["bare_verified"] / r["bare_verify_s"], 1),
            "run_vs_bare_verify": round(
                (r["run_s"] / r["reviews_run"]) / (r["bare_verify_s"] / r["bare_verified"]), 2
            ),
            "peak_rss_mib": round(peak_rss_mib()),
        }
    )


if __name__ == "__main__":
    main()
