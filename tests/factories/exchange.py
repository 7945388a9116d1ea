"""Helpers for the data exchange tests: small deliveries written as CSV/XLSX/Parquet."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dajiuzhu.core.idnumber import make_id_number

_claim = itertools.count(1)


def person_id(n: int, birth: date = date(1975, 6, 1)) -> str:
    return make_id_number("320402", birth, n % 1000)


def claim(n: int | None = None, **over) -> dict:
    n = next(_claim) if n is None else n
    row = {
        "claim_id": f"C{n:08d}",
        "id_number": person_id(n % 50),
        "settlement_date": "2023-03-05",
        "claim_type": "inpatient",
        "total_cost": "1200.50",
        "fund_paid": "800.00",
        "critical_illness_paid": "0",
        "assistance_paid": "0",
        "out_of_pocket": "400.50",
        "in_policy_out_of_pocket": "300.00",
        "hospital_code": "H0001",
    }
    row.update(over)
    return row


def write_csv(path: Path, rows: list[dict], *, encoding: str = "utf-8", columns=None) -> Path:
    columns = columns or list(rows[0].keys())
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_xlsx(path: Path, rows: list[dict]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    columns = list(rows[0].keys())
    ws.append(columns)
    for r in rows:
        ws.append([r[c] for c in columns])
    wb.save(path)
    return path
