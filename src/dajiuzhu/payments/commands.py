"""`dajiuzhu payments …`: the month's rosters, the bank file, the bank's returns.

    dajiuzhu payments roster --month 2024-01 [--district 320402]
    dajiuzhu payments export --month 2024-01 --out bank.xlsx [--template yikatong] [--district D]
    dajiuzhu payments returns returns.csv [--district 320402]
    dajiuzhu payments publish [--month 2024-01]

Each prints a JSON summary last; bad input (a malformed month or one before any case started,
an unknown template, a returns file none of whose rows matches a payment) exits 2 with a clear
message. The CLI acts for the platform (audited as ``cli``). Release is a second person's act
on the page or the API (an approver), never the CLI's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub, command) -> None:
    p = sub.add_parser("payments", help="payment rosters, the bank file, returns")
    actions = p.add_subparsers(dest="action", required=True)
    roster = actions.add_parser("roster", help="build or bring up to date a month's rosters")
    roster.add_argument("--month", required=True)
    roster.add_argument("--district")
    export = actions.add_parser("export", help="write the bank file of a month's released rosters")
    export.add_argument("--month", required=True)
    export.add_argument("--out", required=True)
    export.add_argument("--template")
    export.add_argument("--district")
    returns = actions.add_parser("returns", help="import the bank's returned payments")
    returns.add_argument("file")
    returns.add_argument("--district")
    publish = actions.add_parser("publish", help="publish released rosters not yet in the lake")
    publish.add_argument("--month")
    command("payments")(cmd_payments)


def _print(summary: dict) -> None:
    print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)


def cmd_payments(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core.errors import UserError
    from dajiuzhu.payments import bank, publication, services

    try:
        if args.action == "roster":
            _print(
                services.roster_build(
                    actor=None, month=args.month, district=args.district
                ).as_dict()
            )
        elif args.action == "export":
            out = Path(args.out)
            fmt = "csv" if out.suffix.lower() == ".csv" else "xlsx"
            if out.suffix.lower() not in (".csv", ".xlsx"):
                print("error: --out must end in .xlsx or .csv", file=sys.stderr)
                return 2
            made = bank.bank_file(
                actor=None,
                month=args.month,
                template=args.template,
                fmt=fmt,
                district=args.district,
            )
            bank.write_private(out, made.content)
            _print(
                {
                    "month": made.month,
                    "template": made.template,
                    "rosters": made.rosters,
                    "lines": made.lines,
                    "total": made.total,
                    "out": str(out),
                }
            )
        elif args.action == "returns":
            path = Path(args.file)
            content = path.read_bytes()
            rows = bank.read_returns(content, path.name)
            summary = services.returns_import(
                actor=None,
                rows=rows,
                name=path.name,
                digest=services.file_digest(content),
                district=args.district,
            )
            _print(summary.as_dict())
        else:
            _print({"published": publication.publish_pending(month=args.month)})
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror}: {getattr(exc, 'filename', '')}", file=sys.stderr)
        return 2
    return 0
