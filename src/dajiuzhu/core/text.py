"""Text hygiene shared by every domain: control characters in stored fields, and the one
formula guard of every spreadsheet or CSV the platform writes.

Control characters: C0 (except tab and line breaks, which real addresses and hospital names
hold), DEL and C1. PostgreSQL refuses NUL in text outright (a whole batch would fail); the
others corrupt pages, exports and logs. Ingestion refuses them per field as a row problem
(``CONTROL_CHARS_RE`` is also the DuckDB pattern); registry writes refuse them with a message.

Formula guard (CWE-1236): a cell a spreadsheet could read as a formula gets a leading
apostrophe — one starting, after any leading whitespace (spaces, ideographic spaces, tabs,
line breaks), with ``= + - @`` or their full-width forms ``＝ ＋ － ＠``, or starting with a
tab, carriage return or line break, or with an apostrophe (so that ``unguard_cell`` restores
every value exactly). Plain numbers (``-5``, ``+3.20``) are left alone. CSV files are written
through ``csv_writer``: its CRLF line ending makes the writer quote any field holding a
carriage return or a line feed (with "\n" alone a bare CR goes out unquoted, and a
spreadsheet starts a new row — and a new first cell — there).
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal

CONTROL_CHARS_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
LINE_CONTROL_CHARS_RE = r"[\x00-\x1f\x7f-\x9f]"  # single-line fields: no tab or line break
_CONTROL = re.compile(CONTROL_CHARS_RE)
_LINE_CONTROL = re.compile(LINE_CONTROL_CHARS_RE)

FORMULA_STARTS = frozenset("=+-@＝＋－＠")
_BREAKING_STARTS = ("\t", "\r", "\n", "'")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def has_control_chars(text: str | None, *, single_line: bool = False) -> bool:
    """Whether ``text`` holds a control character (``single_line``: tabs and breaks too)."""
    if not text:
        return False
    pattern = _LINE_CONTROL if single_line else _CONTROL
    return pattern.search(text) is not None


def needs_guard(text: str) -> bool:
    if not text:
        return False
    if text.startswith(_BREAKING_STARTS):
        return True
    stripped = text.lstrip()
    if not stripped or stripped[0] not in FORMULA_STARTS:
        return False
    return _PLAIN_NUMBER.fullmatch(text) is None


def guard_cell(value):
    """The value to write into a spreadsheet or CSV cell: numbers as they are, None as an
    empty string, any other value as text, guarded when a spreadsheet could run it."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if needs_guard(text) else text


def guard_row(values) -> list:
    return [guard_cell(v) for v in values]


def unguard_cell(text: str | None) -> str | None:
    """Undo ``guard_cell`` (a steward sends our download back corrected)."""
    if text and text.startswith("'") and needs_guard(text[1:]):
        return text[1:]
    return text


def csv_writer(fh):
    """The platform's CSV writer (RFC 4180 line endings); write rows through ``guard_row``."""
    return csv.writer(fh, lineterminator="\r\n")
