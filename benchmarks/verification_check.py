"""The household economic-status check on a 5-million-person lake (issue: policy library).

Claim: `verify` for one household p95 <= 300 ms with a 5,000,000-person lake.
Baseline in the same run: one bare DuckDB point query of a person's year of wages over the
same lake (the floor of any lake read).

    .venv/bin/python benchmarks/verification_check.py [--checks 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _city import BIN, ensure_city
from _common import emit

CHECKS = """
import json, os, random, sys, time
from datetime import date, timedelta
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
import django; django.setup()
from dajiuzhu.exchange import lake
from dajiuzhu.registry.models import Household, Membership
from dajiuzhu.registry.selectors import age_on
from dajiuzhu.verification.services import authorisation_record, verify
sys.path.insert(0, sys.argv[2]); from _common import percentile
n = int(sys.argv[1])
ids = list(Household.objects.order_by("?").values_list("pk", flat=True)[: n + 5])
today = date.today()
for hid in ids:
    members = Membership.objects.filter(household_id=hid, end_date__isnull=True)
    for m in members.select_related("person"):
        if age_on(m.person.birth_date, today) >= 18:
            authorisation_record(actor=None, person_id=m.person_id, signed_on=today,
                                 expires_on=today + timedelta(days=30))
verify(actor=None, household_id=ids[-1], month="2023-12")  # warm-up
times = []
for hid in ids[:n]:
    t0 = time.perf_counter()
    verify(actor=None, household_id=hid, month="2023-12")
    times.append((time.perf_counter() - t0) * 1000)
con = lake.connect(threads=2)
hukou = lake.current_sql("hukou")
sample = f"SELECT person_key FROM {hukou} USING SAMPLE 50 ROWS"
keys = [r[0] for r in con.execute(sample).fetchall()]
bare = []
for k in keys:
    t0 = time.perf_counter()
    wages = lake.current_sql("wages")
    con.execute(f"SELECT sum(wage) FROM {wages} WHERE person_key = {k}").fetchall()
    bare.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"p50": percentile(times, .5), "p95": percentile(times, .95),
                  "p99": percentile(times, .99), "bare_p50": percentile(bare, .5),
                  "bare_p95": percentile(bare, .95)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=5_000_000)
    parser.add_argument("--synth", default="/tmp/city5m")
    parser.add_argument("--home", default="/tmp/djz-city5m")
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()
    env, _ = ensure_city(
        persons=args.persons, synth=Path(args.synth), home=Path(args.home), name="dajiuzhu_city5m"
    )
    out = subprocess.run(
        [str(BIN / "python"), "-c", CHECKS, str(args.checks), str(Path(__file__).resolve().parent)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    emit(
        {
            "benchmark": "verification_check",
            "persons": args.persons,
            "checks": args.checks,
            "verify_ms": {"p50": round(r["p50"]), "p95": round(r["p95"]), "p99": round(r["p99"])},
            "baseline_bare_wage_lookup_ms": {
                "p50": round(r["bare_p50"]),
                "p95": round(r["bare_p95"]),
            },
            "p95_vs_bare_p95": round(r["p95"] / r["bare_p95"], 1),
        }
    )


if __name__ == "__main__":
    main()
