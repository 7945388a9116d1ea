"""`dajiuzhu ingest`: load one department file; the last line printed is a JSON summary."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    p = sub.add_parser("ingest", help="load a department's file (CSV, XLSX or Parquet)")
    p.add_argument("dataset")
    p.add_argument("file")
    p.add_argument("--department", help="delivering department (default: the contract's owner)")
    p.add_argument("--format", choices=["csv", "xlsx", "parquet"], help="default: from the suffix")
    command("ingest")(cmd_ingest)
    p = sub.add_parser("lake", help="lake maintenance")
    p.add_argument(
        "action",
        choices=["optimize"],
        help="optimize: sort large batches by person_key and rewrite stale lake summaries "
        "(the worker does both after each load)",
    )
    command("lake")(cmd_lake)


def cmd_lake(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.analytics.summaries import refresh_all
    from dajiuzhu.exchange.lake import cluster_batch
    from dajiuzhu.exchange.models import Batch, BatchStatus

    done = [
        b
        for b in Batch.objects.filter(status=BatchStatus.PUBLISHED, clustered=False)
        .order_by("id")
        .values_list("pk", flat=True)
        if cluster_batch(b)
    ]
    written = refresh_all()
    print(json.dumps({"clustered_batches": done, "summaries_written": written}), flush=True)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from pathlib import Path

    from dajiuzhu.core.access import AccessDenied
    from dajiuzhu.core.services import ServiceError
    from dajiuzhu.exchange.services import batch_ingest_file
    from dajiuzhu.exchange.sources import SourceError

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    try:
        result = batch_ingest_file(
            actor=None,
            dataset=args.dataset,
            path=path,
            fmt=args.format,
            department_code=args.department,
        )
    except (ServiceError, SourceError) as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except AccessDenied as exc:  # pragma: no cover - the CLI acts for the platform
        print(f"error: forbidden: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps(result.summary(), ensure_ascii=False), flush=True)
    return 0
