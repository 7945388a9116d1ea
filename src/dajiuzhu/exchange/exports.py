"""Quarantine downloads (XLSX/CSV), every cell through the platform's one formula guard
(``core.text.guard_cell``)."""

from __future__ import annotations

import io

from openpyxl import Workbook

from dajiuzhu.core.text import csv_writer, guard_cell
from dajiuzhu.exchange.contracts import Contract
from dajiuzhu.exchange.ingest import QUARANTINE_COLUMNS


def _rows(contract: Contract, rows):
    yield [guard_cell(c) for c in (*contract.columns, *QUARANTINE_COLUMNS)]
    for r in rows:
        problems = ";".join(f"{p['title']}:{p['message']}" for p in r.problems)
        yield [
            *(guard_cell(r.values.get(c)) for c in contract.columns),
            str(r.row_number),
            guard_cell(problems),
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
    writer = csv_writer(buffer)
    for line in _rows(contract, rows):
        writer.writerow(line)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 correctly
