"""Quarantine downloads (XLSX/CSV) with cells guarded against formula injection."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.ingest import QUARANTINE_COLUMNS

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def guard(value) -> str:
    """A cell that a spreadsheet would read as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(DANGEROUS):
        return "'" + text
    return text


def _rows(contract: Contract, rows):
    header = [*contract.columns, *QUARANTINE_COLUMNS]
    yield header
    for r in rows:
        problems = ";".join(f"{p['title']}:{p['message']}" for p in r.problems)
        yield [
            *(guard(r.values.get(c)) for c in contract.columns),
            str(r.row_number),
            guard(problems),
        ]


def quarantine_xlsx(contract: Contract, rows) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(contract.title[:31])
    for line in _rows(contract, rows):
        ws.append(line)  # every cell is a string: nothing is evaluated
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def quarantine_csv(contract: Contract, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _rows(contract, rows):
        writer.writerow(line)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 correctly
