"""Run the security probes and print their figures (the tables of docs/security.md).

    .venv/bin/python tools/security_probes.py [--examples N] [--database-url URL]

Runs tests/core/test_scoping.py (the cross-scope walks, the district-administrator walk, the
token/steward matrix, the form-id probe) and tests/test_api_fuzz.py (schemathesis with
response conformance) with ``DAJIUZHU_PROBE_REPORT`` set, merges the counts the tests record
(tests/probe_tally.py) and prints one Markdown table: requests tried and problems found
(a leak, a change out of scope, a wrong status, a 5xx, a non-conforming answer) per probe.
The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBES = ["tests/core/test_scoping.py", "tests/test_api_fuzz.py"]
LABELS = {
    "cross-scope page requests": "Pages, as users outside the record's scope (both districts)",
    "cross-scope API requests": "API operations, as users outside the record's scope",
    "cross-department token requests": "API operations, as tokens of departments without an "
    "agreement",
    "district administrator requests": "Administration and catalogue endpoints, as an "
    "administrator row below city level",
    "cross-department token and steward requests": "Shared rows: every department's token and "
    "stewards × every dataset it has no agreement for",
    "form actions with missing or foreign ids": "Form actions with missing, malformed or "
    "foreign ids",
    "schemathesis cases": "Schemathesis cases (problems: 5xx answers / answers that do not "
    "conform to the OpenAPI document)",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30, help="schemathesis examples per op")
    parser.add_argument(
        "--database-url", default="", help="e.g. postgres://…/wtc (SQLite if empty)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "probes.json"
        env = dict(os.environ)
        env.update(
            {
                "DAJIUZHU_PROBE_REPORT": str(report),
                "DAJIUZHU_FUZZ_EXAMPLES": str(args.examples),
                "DAJIUZHU_HOME": str(Path(tmp) / "home"),
            }
        )
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        command = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", *PROBES]
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)
        counts: Counter[str] = Counter()
        for part in Path(tmp).glob("probes.json.*"):
            counts.update(json.loads(part.read_text(encoding="utf-8")))
    print()
    print("| probe | requests | problems |")
    print("|---|---:|---:|")
    for key, label in LABELS.items():
        requests = counts.get(f"{key}|requests", 0)
        problems = f"{counts.get(f'{key}|problems', 0):,}"
        if key == "schemathesis cases":
            problems = f"{counts.get(f'{key}|5xx', 0):,} / {problems}"
        print(f"| {label} | {requests:,} | {problems} |")
    print(f"\npytest exit status: {result.returncode}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
