"""Vectorised codes for millions of rows: resident ID numbers (GB 11643-1999), unified social
credit codes (GB 32100-2015 with the GB 11714 organisation-code check), fixed-width strings
and dates as day numbers (days since 1970-01-01, Arrow's date32)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dajiuzhu.core.idnumber import CHECK_CHARS, WEIGHTS

_ID_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
_ID_CHECK = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)

# GB 32100-2015: 31 characters (no I, O, S, V, Z) and the weights of positions 1..17.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CHARS = np.frombuffer(CREDIT_ALPHABET.encode(), dtype=np.uint8)
_CREDIT_WEIGHTS = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
_CREDIT_VALUE = np.full(128, -1, dtype=np.int64)
_CREDIT_VALUE[_CREDIT_CHARS] = np.arange(31)
# GB 11714: organisation code, 8 characters and a check character.
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_VALUE = np.zeros(128, dtype=np.int64)
_ORG_VALUE[48:58] = np.arange(10)
_ORG_VALUE[65:91] = np.arange(10, 36)

ASCII_ZERO = 48


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) uint8 ASCII matrix."""
    v = np.array(values, dtype=np.int64)
    out = np.empty((v.size, width), dtype=np.uint8)
    for k in range(width - 1, -1, -1):
        out[:, k] = v % 10 + ASCII_ZERO
        v //= 10
    return out


def fixed_strings(mat: np.ndarray) -> pa.Array:
    """An Arrow string array from an (n, width) ASCII/UTF-8 byte matrix (one copy at most)."""
    n, width = mat.shape
    data = np.ascontiguousarray(mat, dtype=np.uint8).reshape(-1)
    if n * width >= 2**31:
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
        arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
        return arr.cast(pa.string())
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def concat_bytes(*parts: np.ndarray | bytes) -> np.ndarray:
    """Horizontally join byte matrices; a ``bytes`` part is a constant prefix/suffix."""
    n = next(p.shape[0] for p in parts if isinstance(p, np.ndarray))
    cols = []
    for p in parts:
        if isinstance(p, bytes):
            cols.append(np.broadcast_to(np.frombuffer(p, dtype=np.uint8), (n, len(p))))
        else:
            cols.append(p)
    return np.concatenate(cols, axis=1)


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of day numbers."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def day_number(year: int, month: int = 1, day: int = 1) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype(np.int64))


def month_start(month_index: np.ndarray, first_year: int) -> np.ndarray:
    """Day number of the first day of month ``first_year``-01 + month_index."""
    base = (first_year - 1970) * 12
    return (
        (np.asarray(month_index, dtype=np.int64) + base)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def month_index(days: np.ndarray, first_year: int) -> np.ndarray:
    """Months since ``first_year``-01 of day numbers."""
    m = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
    return m.astype(np.int64) - (first_year - 1970) * 12


def id_numbers(region: np.ndarray, birth_days: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """(n, 18) ASCII matrix of valid ID numbers: 6-digit region, birth date, 3-digit sequence
    and the GB 11643-1999 check character."""
    y, m, d = ymd(birth_days)
    body = np.concatenate(
        [digits(region, 6), digits(y, 4), digits(m, 2), digits(d, 2), digits(sequence, 3)], axis=1
    )
    total = ((body - ASCII_ZERO).astype(np.int64) * _ID_WEIGHTS).sum(axis=1) % 11
    return np.concatenate([body, _ID_CHECK[total][:, None]], axis=1)


def id_check_ok(mat: np.ndarray) -> np.ndarray:
    """Check-digit validity of an (n, 18) ID matrix."""
    body = (mat[:, :17] - ASCII_ZERO).astype(np.int64)
    return _ID_CHECK[(body * _ID_WEIGHTS).sum(axis=1) % 11] == mat[:, 17]


def _scramble(index: np.ndarray, modulus: int, mult: int, add: int) -> np.ndarray:
    """A bijection of [0, modulus) (mult must be coprime with modulus): unique in, unique out."""
    return (np.asarray(index, dtype=np.int64) * mult + add) % modulus


def credit_codes(entity_type: bytes, division: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(n, 18) unified social credit codes, unique for distinct ``index`` (< 2e8).

    entity_type: b"91" (company) or b"92" (个体工商户). Even indices get an old-style numeric
    organisation code, odd ones a post-2015 ``MA…`` code."""
    index = np.asarray(index, dtype=np.int64)
    n = index.shape[0]
    half = index // 2
    org = np.empty((n, 8), dtype=np.uint8)
    old = index % 2 == 0
    org[old] = digits(_scramble(half[old], 10**8, 48_271, 7_351_213), 8)
    new = ~old
    if new.any():
        v = _scramble(half[new], 31**6, 69_621, 123_457)
        chars = np.empty((v.shape[0], 6), dtype=np.uint8)
        for k in range(5, -1, -1):
            chars[:, k] = _CREDIT_CHARS[v % 31]
            v //= 31
        org[new] = concat_bytes(b"MA", chars)
    s = (_ORG_VALUE[org] * _ORG_WEIGHTS).sum(axis=1) % 11
    c9 = 11 - s
    check9 = np.where(c9 == 11, ord("0"), np.where(c9 == 10, ord("X"), c9 + ASCII_ZERO))
    body = concat_bytes(entity_type, digits(division, 6), org, check9.astype(np.uint8)[:, None])
    vals = _CREDIT_VALUE[body]
    c18 = (31 - (vals * _CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
    return np.concatenate([body, _CREDIT_CHARS[c18][:, None]], axis=1)


def credit_check_ok(mat: np.ndarray) -> np.ndarray:
    vals = _CREDIT_VALUE[mat[:, :17]]
    c18 = (31 - (vals * _CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
    return _CREDIT_CHARS[c18] == mat[:, 17]


def alnum_codes(index: np.ndarray, width: int, alphabet: bytes, mult: int, add: int) -> np.ndarray:
    """(n, width) codes over ``alphabet``, unique for distinct ``index`` < len(alphabet)**width."""
    base = len(alphabet)
    table = np.frombuffer(alphabet, dtype=np.uint8)
    v = _scramble(index, base**width, mult, add)
    out = np.empty((v.shape[0], width), dtype=np.uint8)
    for k in range(width - 1, -1, -1):
        out[:, k] = table[v % base]
        v = v // base
    return out
