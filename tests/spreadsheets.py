"""Checks of the spreadsheets and CSV files the platform writes (formula injection).

``dangerous`` is written independently of ``core.text`` so that the tests do not grade the
guard with itself."""

from __future__ import annotations

import csv
import io
import re

# Cells a spreadsheet may run: each formula start, behind spaces, ideographic spaces, tabs
# and line breaks, in ASCII and full width.
EVIL_CELLS = [
    "=1+1",
    " =1+1",
    '  =HYPERLINK("http://x")',
    "\n=1+1",
    "\t=1+1",
    "\r=1+1",
    "\u3000=1+1",
    "＝1+1",
    " ＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1)",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "=cmd|' /C calc'!A0",
    "\t",
    "\r\n",
]
_STARTS = set("=+-@＝＋－＠")


def dangerous(text: str) -> bool:
    if text[:1] in ("\t", "\r", "\n"):
        return True
    stripped = text.lstrip(" \t\r\n\u3000\xa0")
    if stripped[:1] not in _STARTS:
        return False
    return re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", text) is None


def assert_xlsx_safe(content: bytes) -> int:
    """No cell of the workbook is a formula or a text a spreadsheet could run; returns the
    number of text cells checked."""
    from openpyxl import load_workbook

    checked = 0
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not dangerous(cell.value), (sheet.title, cell.coordinate)
                    checked += 1
    return checked


def assert_csv_safe(text: str) -> int:
    checked = 0
    for row in csv.reader(io.StringIO(text)):
        for value in row:
            assert not dangerous(value), value
            checked += 1
    return checked
