"""`dajiuzhu reviews schedule [--month YYYY-MM]` (the review tasks falling due) and
`dajiuzhu reviews run [--limit N]` (run the pending reviews' checks here, not in the worker).
Each prints a JSON summary last; bad input is refused with a message and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    p = sub.add_parser("reviews", help="periodic review (复核): schedule, run the checks")
    actions = p.add_subparsers(dest="action", required=True)
    schedule = actions.add_parser("schedule", help="create the review tasks falling due")
    schedule.add_argument("--month", help="YYYY-MM (default: this month)")
    run = actions.add_parser("run", help="run the pending reviews' checks")
    run.add_argument("--limit", type=int, help="at most N reviews")
    command("reviews")(cmd_reviews)


def cmd_reviews(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core.errors import ServiceError
    from dajiuzhu.reviews import services

    try:
        if args.action == "schedule":
            summary = services.reviews_schedule(actor=None, month=args.month)
        else:
            if args.limit is not None and args.limit < 1:
                raise ServiceError("review.limit", "--limit 应为正整数", field="limit")
            summary = services.reviews_run_pending(limit=args.limit)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        print(json.dumps({"error": exc.code, "message": exc.message}, ensure_ascii=False))
        return 2
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0
