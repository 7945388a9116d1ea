"""`dajiuzhu scan` and `dajiuzhu warnings export`.

    dajiuzhu scan --year 2023 [--engine duckdb|spark] [--rule MED_RETURN --rule TRAFFIC …]
    dajiuzhu warnings export --year 2023 --out warnings-2023.csv

``scan`` prints one JSON summary per rule, last; it exits 1 when a rule was refused (MED_FALL
without the previous year's disposable income), 2 on an error with a clear message.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    from dajiuzhu.warnings.rules import RULE_CODES  # the declarations only: no analytics stack

    p = sub.add_parser("scan", help="run the early-warning rules over a year and record warnings")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--engine", help="duckdb (default) or spark; default from DAJIUZHU_ENGINE")
    p.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="CODE",
        help=f"{', '.join(RULE_CODES)} (repeatable; default: all)",
    )
    command("scan")(cmd_scan)

    p = sub.add_parser("warnings", help="early-warning tools for administrators")
    actions = p.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="write the year's warnings as CSV (audited)")
    export.add_argument("--year", type=int, required=True)
    export.add_argument("--out", required=True)
    command("warnings")(cmd_warnings)


def cmd_scan(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core.services import ServiceError
    from dajiuzhu.exchange.contracts import ContractError
    from dajiuzhu.warnings.scanning import scan_run

    rules = [code for value in args.rule for code in value.split(",") if code.strip()]
    try:
        report = scan_run(year=args.year, rules=rules or None, engine=args.engine)
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except ContractError as exc:  # pragma: no cover - contracts ship with the code
        print(f"error: contract: {exc}", file=sys.stderr)
        return 2
    for refused in report.refused:
        print(f"refused: {refused['rule']}: {refused['message']}", file=sys.stderr)
    for summary in report.rules:
        print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 1 if report.refused else 0


def cmd_warnings(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from pathlib import Path

    from dajiuzhu.core.services import ServiceError
    from dajiuzhu.warnings.exports import warnings_export

    if args.action != "export":  # pragma: no cover - argparse allows only export
        return 2
    try:
        summary = warnings_export(actor=None, year=args.year, out=Path(args.out))
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    if summary.unknown_persons:
        print(
            f"note: {summary.unknown_persons} warning(s) about persons not in the registry "
            "(no 户籍 record): id_number left empty",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "year": summary.year,
                "rows": summary.rows,
                "unknown_persons": summary.unknown_persons,
                "out": summary.out,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    return 0
