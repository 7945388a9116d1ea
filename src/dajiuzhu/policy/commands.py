"""`dajiuzhu find-eligible`: 政策找人 over the whole population for a month."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    p = sub.add_parser("find-eligible", help="run the rules over the population (政策找人)")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--batch-households", type=int, default=200_000)
    command("find-eligible")(cmd_find_eligible)


def cmd_find_eligible(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core.services import ServiceError
    from dajiuzhu.policy.services import find_eligible

    try:
        run = find_eligible(month=args.month, batch_households=args.batch_households)
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "run": run.pk,
                "month": run.month,
                "persons": run.persons,
                "households": run.households,
                "seconds": round(run.seconds, 2),
                "timings": run.summary["seconds"],
            },
            ensure_ascii=False,
        )
    )
    for summary in run.summary["programmes"].values():
        print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0
