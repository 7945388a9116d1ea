"""`dajiuzhu cases export --out FILE` (administrators; audited) and
`dajiuzhu cases flag-overdue` (the escalation the worker runs daily).

The CLI runs with the operator's shell access, as the other administrators' exports do
(``warnings export``): the event is audited as ``cli:cases export``.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    p = sub.add_parser("cases", help="unified intake and cases: export, overdue escalation")
    actions = p.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="write every case as CSV (audited)")
    export.add_argument("--out", required=True)
    actions.add_parser("flag-overdue", help="escalate open cases past a due date to the district")
    command("cases")(cmd_cases)


def cmd_cases(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from pathlib import Path

    from dajiuzhu.cases.exports import cases_export
    from dajiuzhu.cases.services import cases_flag_overdue

    if args.action == "flag-overdue":
        print(json.dumps({"escalated": cases_flag_overdue()}), flush=True)
        return 0
    try:
        summary = cases_export(actor=None, out=Path(args.out))
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(json.dumps({"rows": summary.rows, "out": summary.out}, ensure_ascii=False), flush=True)
    return 0
