"""`dajiuzhu synth`: write a synthetic Changzhou as the departments' datasets."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub, command) -> None:
    p = sub.add_parser("synth", help="write a synthetic city as every contract dataset")
    p.add_argument("--persons", type=int, required=True)
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--year", type=int, default=2023)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", choices=["parquet", "csv", "xlsx"], default="parquet")
    command("synth")(cmd_synth)


def cmd_synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dajiuzhu.synth.generator import generate

    try:
        summary = generate(
            persons=args.persons,
            seed=args.seed,
            year=args.year,
            out_dir=Path(args.out),
            fmt=args.format,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps({k: v for k, v in summary.items() if k != "stats"}, ensure_ascii=False),
        flush=True,
    )
    return 0
