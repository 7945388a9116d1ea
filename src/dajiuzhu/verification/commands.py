"""`dajiuzhu verify`: the household economic-status check from the command line."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    p = sub.add_parser("verify", help="household economic-status check (家庭经济状况核对)")
    p.add_argument("--id-number", required=True, help="any member's resident ID number")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument(
        "--purpose", default="verification", choices=["verification", "casework", "supervision"]
    )
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    command("verify")(cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core import crypto
    from dajiuzhu.core.idnumber import InvalidIdNumber, parse_id_number
    from dajiuzhu.core.services import ServiceError
    from dajiuzhu.registry.models import Person
    from dajiuzhu.registry.selectors import person_current_household
    from dajiuzhu.verification.render import text_report
    from dajiuzhu.verification.services import verify

    try:
        number = parse_id_number(args.id_number).number
    except InvalidIdNumber as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    person = Person.objects.filter(id_index=crypto.id_index(number)).first()
    household = person_current_household(person=person) if person else None
    if household is None:
        print("error: person.unknown: 人员库中没有该身份证号码对应的在册家庭成员", file=sys.stderr)
        return 2
    try:
        report = verify(
            actor=None, household_id=household.pk, month=args.month, purpose=args.purpose
        )
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"report": report.pk, **report.report}, ensure_ascii=False, default=str))
    else:
        print(text_report(report))
    return 0
