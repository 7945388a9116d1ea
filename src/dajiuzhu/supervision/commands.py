"""`dajiuzhu supervision …`.

    dajiuzhu supervision check --month 2024-03 [--engine duckdb|spark] [--check VEHICLE …]
    dajiuzhu supervision findings export --month 2024-03 --out findings-2024-03.csv
    dajiuzhu supervision notice --month 2024-03 [--out notice-2024-03.pdf]
    dajiuzhu supervision escalate            (overdue findings and complaints to the city)

``check`` prints one JSON summary per check, last; it exits 2 on an error with a clear message
(a month with no payments, an unknown check, an engine that is not installed).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    from dajiuzhu.supervision.checks import CHECK_CODES  # declarations only

    p = sub.add_parser("supervision", help="fund verification and spot checks (监督检查)")
    actions = p.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="run the fund checks for a month, record findings")
    check.add_argument("--month", required=True, help="YYYY-MM")
    check.add_argument("--engine", help="duckdb (default) or spark; default from DAJIUZHU_ENGINE")
    check.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="CODE",
        help=f"{', '.join(CHECK_CODES)} (repeatable; default: all)",
    )
    findings = actions.add_parser("findings", help="findings tools for administrators")
    what = findings.add_subparsers(dest="what", required=True)
    export = what.add_parser("export", help="write the month's findings as CSV (audited)")
    export.add_argument("--month", required=True)
    export.add_argument("--out", required=True)
    notice = actions.add_parser("notice", help="make the month's 通报 (PDF) and keep it")
    notice.add_argument("--month", required=True, help="YYYY-MM")
    notice.add_argument("--out", default="", help="also write the PDF to this file")
    actions.add_parser("escalate", help="escalate overdue findings and complaints to the city")
    sample = actions.add_parser("sample", help="draw (or re-draw) a quarter's spot-check sample")
    sample.add_argument("--quarter", required=True, help="e.g. 2024Q1")
    sample.add_argument("--seed", type=int, help="the seed (default: a new random one, recorded)")
    sample.add_argument("--contract", default="", help="the third-party contract it is for")
    contract = actions.add_parser("contract", help="a third-party audit contract and its auditors")
    contract.add_argument("--code", required=True)
    contract.add_argument("--organisation", required=True)
    contract.add_argument("--auditor", action="append", default=[], metavar="USERNAME")
    command("supervision")(cmd_supervision)


def cmd_supervision(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core.services import ServiceError

    try:
        if args.action == "check":
            return _check(args)
        if args.action == "findings":
            return _export(args)
        if args.action == "sample":
            return _sample(args)
        if args.action == "contract":
            from dajiuzhu.supervision.sampling import contract_create

            c = contract_create(
                actor=None, code=args.code, organisation=args.organisation, auditors=args.auditor
            )
            print(json.dumps({"contract": c.code, "auditors": c.auditors.count()}), flush=True)
            return 0
        if args.action == "notice":
            return _notice(args)
        if args.action == "escalate":
            from dajiuzhu.supervision.complaints import complaints_escalate_overdue
            from dajiuzhu.supervision.rectification import findings_escalate_overdue

            escalated = {
                "escalated": findings_escalate_overdue(),
                "complaints_escalated": complaints_escalate_overdue(),
            }
            print(json.dumps(escalated), flush=True)
            return 0
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse allows only the actions above


def _check(args: argparse.Namespace) -> int:
    from dajiuzhu.supervision.running import check_run

    codes = [code for value in args.check for code in value.split(",") if code.strip()]
    report = check_run(month=args.month, checks=codes or None, engine=args.engine)
    for summary in report.checks:
        print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dajiuzhu.supervision.exports import findings_export

    try:
        summary = findings_export(actor=None, month=args.month, out=Path(args.out))
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    if summary.unknown_persons:
        print(
            f"note: {summary.unknown_persons} finding(s) about persons not in the registry "
            "(no 户籍 record): id_number left empty",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {"month": summary.month, "rows": summary.rows, "out": summary.out}, ensure_ascii=False
        ),
        flush=True,
    )
    return 0


def _sample(args: argparse.Namespace) -> int:
    from dajiuzhu.supervision.sampling import sample_draw

    report = sample_draw(
        actor=None, quarter=args.quarter, seed=args.seed, contract_code=args.contract
    )
    check = report.spot_check
    for town in report.towns:
        print(json.dumps({"quarter": check.quarter, "seed": check.seed, **town}), flush=True)
    print(
        json.dumps(
            {
                "quarter": check.quarter,
                "seed": check.seed,
                "spot_check": check.pk,
                "drawn_again": report.again,
                "sampled": sum(t["sampled"] for t in report.towns),
            }
        ),
        flush=True,
    )
    return 0


def _notice(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dajiuzhu.supervision.notice import notice_generate

    notice = notice_generate(actor=None, month=args.month)
    if args.out:
        try:
            Path(args.out).write_bytes(bytes(notice.pdf))
        except OSError as exc:
            print(f"error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return 2
    print(
        json.dumps({"month": notice.month, "bytes": notice.size, "out": args.out or None}),
        flush=True,
    )
    return 0
