"""Reading a department's delivery: CSV (UTF-8 with or without BOM, GBK/GB18030), XLSX
(first sheet), Parquet, or JSON rows. Each becomes a relation DuckDB can scan, with a
``_row`` column: the data row's ordinal (1 = the first row after the header)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dajiuzhu.core.errors import UserError
from dajiuzhu.core.text import unguard_cell

FORMATS = ("csv", "xlsx", "parquet")
BOM = codecs.BOM_UTF8
MiB = 1 << 20

# What a delivery may hold (docs/exchange.md, "Limits"). Settings named EXCHANGE_<NAME> may
# lower them (the tests do, to stay small).
LIMITS = {
    # any cell, in UTF-8 bytes (the contract's max_length is checked per row as well)
    "MAX_CELL_BYTES": 64 * 1024,
    # XLSX: all parts decompressed; the parts openpyxl loads whole (shared strings, styles,
    # workbook, ...) together; the decompressed/compressed ratio of any part over 1 MiB
    "XLSX_MAX_BYTES": 1536 * MiB,
    "XLSX_MAX_WHOLE_PARTS_BYTES": 64 * MiB,
    "XLSX_MAX_RATIO": 100,
    # quarantine: the rejected rows' original values of one batch, uncompressed
    "MAX_QUARANTINE_BYTES": 512 * MiB,
}


def limit(name: str) -> int:
    from django.conf import settings

    return int(getattr(settings, f"EXCHANGE_{name}", LIMITS[name]))


def size_text(n: int) -> str:
    """A byte count as stewards read it (64 KiB, 1.5 GiB)."""
    for unit, size in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} 字节"


class SourceError(UserError, ValueError):
    """The file cannot be read at all (wrong format, unreadable, empty, too large).

    ``message`` is shown to stewards, stored on the batch and printed by the CLI: it names a
    row, a column and a reason, never a value of the file (docs/exchange.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Source:
    """A readable delivery. ``sql`` is a DuckDB table expression; ``columns`` its header."""

    columns: list[str]
    sql: str
    encoding: str = ""
    arrow: pa.Table | None = None  # for JSON rows: registered in DuckDB as "src_rows"
    parquet: str | None = None  # the Parquet file scanned (its footer holds null counts)


def detect_format(path: Path, declared: str | None = None) -> str:
    fmt = (declared or path.suffix).lower().lstrip(".")
    if fmt in ("xls",):
        raise SourceError("format.xls", "不支持旧版 .xls 文件,请另存为 .xlsx 或 CSV 后上传")
    if fmt not in FORMATS:
        raise SourceError("format.unknown", "文件格式应为 CSV、XLSX 或 Parquet")
    return fmt


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def detect_encoding(path: Path) -> str:
    """'utf-8-bom', 'utf-8' or 'gb18030' (what Excel in China writes as "CSV")."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(BOM):
        return "utf-8-bom"
    cut = head.rfind(b"\n")
    sample = head if cut <= 0 or len(head) < (1 << 20) else head[: cut + 1]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as not_utf8:
        try:
            sample.decode("gb18030")
        except UnicodeDecodeError as not_gb:
            # Neither: the file is one of them with some bad bytes (reported with their row
            # when the rows are read) — the one that decodes further.
            return "utf-8" if not_utf8.start >= not_gb.start else "gb18030"
        return "gb18030"
    return "utf-8"


ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-bom": "UTF-8", "gb18030": "GBK/GB18030"}
HEADER_MAX_CHARS = 1 * MiB


class _LineTooLong(Exception):
    pass


def _text_stream(path: Path, encoding: str, errors: str = "strict") -> io.TextIOWrapper:
    raw = path.open("rb")
    if encoding == "utf-8-bom":
        raw.read(len(BOM))
        return io.TextIOWrapper(raw, encoding="utf-8", errors=errors, newline="")
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")


def _bounded_lines(fh: io.TextIOWrapper, max_chars: int) -> Iterator[str]:
    """The file's lines, refusing one longer than ``max_chars`` (memory stays bounded)."""
    while line := fh.readline(max_chars + 1):
        if len(line) > max_chars:
            raise _LineTooLong
        yield line


def csv_header(path: Path, encoding: str) -> list[str]:
    # Undecodable bytes further down are found, with their row, when the rows are read.
    with _text_stream(path, encoding, errors="surrogateescape") as fh:
        try:
            header = next(csv.reader(_bounded_lines(fh, HEADER_MAX_CHARS)))
        except StopIteration:
            raise SourceError("file.empty", "文件为空,没有表头") from None
        except (_LineTooLong, csv.Error):
            raise SourceError(
                "file.csv_header", "CSV 文件的表头行无法解析(过长或引号不匹配),请检查文件"
            ) from None
    if _undecodable(header):
        raise SourceError(
            "file.encoding",
            f"CSV 文件的表头行含有不符合{ENCODING_NAMES.get(encoding, encoding)}编码的字节,"
            "请使用 UTF-8 或 GBK 编码",
        )
    return [h.strip() for h in header]


class _ParseFailed(Exception):
    """pyarrow could not read the CSV; the caller finds the row and the reason itself
    (pyarrow's message quotes the row's content, which must never be shown)."""


def csv_to_parquet(
    path: Path, encoding: str, columns: list[str], out: Path, *, header: list[str] | None = None
) -> None:
    """Stream a CSV into a staging Parquet of strings with _row (memory stays bounded).

    ``header`` is the file's own header when it carries extra columns to drop (our quarantine
    downloads add row-number and problem columns); ``columns`` are the ones kept. Values with
    line breaks inside quotes are rare in departments' exports: the fast parser is tried
    first, the one that allows them if it fails. A file neither reads is refused with the
    row and the reason found by ``csv_problem``."""
    header = header or columns
    try:
        _csv_to_parquet(path, encoding, columns, out, header, newlines=False)
    except _ParseFailed:
        try:
            _csv_to_parquet(path, encoding, columns, out, header, newlines=True)
        except _ParseFailed:
            raise SourceError("file.csv", csv_problem(path, encoding, len(header))) from None


def _csv_to_parquet(
    path: Path, encoding: str, columns: list[str], out: Path, header: list[str], *, newlines: bool
) -> None:
    raw = path.open("rb")
    if encoding == "utf-8-bom":
        raw.read(len(BOM))
    read_options = pacsv.ReadOptions(
        encoding="utf8" if encoding.startswith("utf-8") else encoding,
        block_size=16 << 20,
        column_names=header,
        skip_rows=1,
    )
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in header},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
        include_columns=columns,
    )
    parse = pacsv.ParseOptions(newlines_in_values=newlines)
    schema = pa.schema([(c, pa.string()) for c in columns] + [("_row", pa.int64())])
    cap = limit("MAX_CELL_BYTES")
    row = 0
    try:
        reader = pacsv.open_csv(
            raw, read_options=read_options, parse_options=parse, convert_options=convert
        )
        with pq.ParquetWriter(out, schema, compression="snappy") as writer:
            for batch in reader:
                n = batch.num_rows
                check_cell_sizes(batch, row, cap)
                arrays = [*batch.columns, pa.array(range(row + 1, row + n + 1), pa.int64())]
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                row += n
    except (pa.ArrowException, UnicodeError):
        raise _ParseFailed from None
    finally:
        raw.close()
    if row == 0:
        _empty_parquet(out, columns)


def check_cell_sizes(batch: pa.RecordBatch, first_row: int, cap: int) -> None:
    """Refuse the file at the first cell over ``cap`` bytes (row numbers from first_row+1)."""
    import pyarrow.compute as pc  # lazy: a query that never reads a file need not load it

    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        lengths = pc.binary_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > cap:
            at = pc.index(pc.greater(lengths, cap), True).as_py()
            raise cell_too_large(f"第{first_row + at + 1}行“{name}”列", cap)


def cell_too_large(where: str, cap: int) -> SourceError:
    """``where``: e.g. 第5行“name”列, 工作表第6行的一个单元格."""
    return SourceError(
        "file.cell_too_large",
        f"{where}的内容超过{size_text(cap)}(每个单元格的上限),整个文件被拒收,请检查文件",
    )


def csv_problem(path: Path, encoding: str, width: int) -> str:
    """Why a CSV cannot be read, and where: the data row (1 = the first after the header,
    blank lines not counted, as when the file is read) and the reason, in Chinese. Never the
    row's content: the reader's own messages quote it."""
    cap = limit("MAX_CELL_BYTES")
    encoding_name = ENCODING_NAMES.get(encoding, encoding)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(cap)  # characters: over it the cell is over the byte cap too
    row = 0
    try:
        with _text_stream(path, encoding, errors="surrogateescape") as fh:
            reader = csv.reader(_bounded_lines(fh, (width + 1) * cap + 1024))
            next(reader, None)  # the header
            for record in reader:
                if not record:
                    continue  # a blank line: skipped by the reader as well
                row += 1
                if _undecodable(record):
                    return f"CSV 文件第{row}行含有不符合{encoding_name}编码的字节,请检查文件编码"
                if len(record) != width:
                    hint = (
                        "(该行的引号可能没有闭合)"
                        if any("\n" in v or "\r" in v for v in record)
                        else "(请检查该行是否多了或少了分隔符)"
                    )
                    return f"CSV 文件第{row}行有{len(record)}个字段,而表头有{width}列{hint}"
    except _LineTooLong:
        return f"CSV 文件第{row + 1}行过长(有单元格超过{size_text(cap)}),请检查文件"
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # classified, never shown
            return f"CSV 文件第{row + 1}行有单元格的内容超过{size_text(cap)},请检查文件"
        return f"CSV 文件第{row + 1}行的引号或分隔符不正确,请检查文件"
    finally:
        csv.field_size_limit(old_limit)
    return "CSV 文件无法解析,请检查分隔符、引号和编码"


def _undecodable(record: list[str]) -> bool:
    """Bytes the codec could not decode are kept as surrogates (errors="surrogateescape")."""
    return not _encodable("".join(record))


def _empty_parquet(out: Path, columns: list[str]) -> None:
    schema = pa.schema([(c, pa.string()) for c in columns] + [("_row", pa.int64())])
    pq.write_table(schema.empty_table(), out)


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(round(value, 6))
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value).strip()
    return text or None


def _xlsx_text(value) -> str | None:
    """A cell's text: trimmed, except a cell our formula guard wrote (a quarantine download
    sent back), which is restored exactly."""
    if isinstance(value, str):
        restored = unguard_cell(value)
        if restored != value:
            return restored
    return _cell_text(value)


def xlsx_to_parquet(
    path: Path,
    columns: list[str],
    out: Path,
    *,
    strip: set[str],
    check_header: Callable[[list[str]], None],
) -> None:
    """Stream the first sheet into a staging Parquet of strings with _row. The workbook is
    checked first (``xlsx.open_rows``: damaged files, bombs, oversized cells are refused);
    ``check_header`` sees the header (without the ``strip`` columns) before any row is read."""
    from dajiuzhu.exchange import xlsx

    header_row, rows, workbook = xlsx.open_rows(path)
    try:
        header = [(_cell_text(c) or "") for c in header_row]
        while header and header[-1] == "":
            header.pop()
        check_header([h for h in header if h not in strip])
        at = [header.index(c) for c in columns]  # by name: the sheet's order may differ
        width = len(header)
        schema = pa.schema([(c, pa.string()) for c in columns] + [("_row", pa.int64())])
        row = 0
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            buffer: list[list] = [[] for _ in columns]
            rownums: list[int] = []
            for values in rows:
                padded = list(values[:width]) + [None] * (width - len(values))
                cells = [_xlsx_text(padded[i]) for i in at]
                if all(c is None for c in cells):
                    continue  # Excel's trailing empty rows
                row += 1
                for j, c in enumerate(cells):
                    buffer[j].append(c)
                rownums.append(row)
                if len(rownums) >= 50_000:
                    writer.write_batch(_batch(buffer, rownums, schema))
                    buffer, rownums = [[] for _ in columns], []
            if rownums:
                writer.write_batch(_batch(buffer, rownums, schema))
    finally:
        workbook.close()


def _batch(buffer, rownums, schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array(col, pa.string()) for col in buffer] + [pa.array(rownums, pa.int64())],
        schema=schema,
    )


def guarded_csv_to_parquet(
    path: Path, encoding: str, columns: list[str], out: Path, *, header: list[str]
) -> None:
    """Like csv_to_parquet, but undoes our formula guard (used for resubmitted quarantine)."""
    csv_to_parquet(path, encoding, columns, out, header=header)
    table = pq.read_table(out)
    fixed = [
        pa.array([unguard_cell(v) for v in table.column(c).to_pylist()], pa.string())
        if c != "_row"
        else table.column(c)
        for c in table.column_names
    ]
    pq.write_table(pa.table(dict(zip(table.column_names, fixed, strict=True))), out)


def json_rows_table(rows: list[dict], columns: list[str]) -> pa.Table:
    """Pushed JSON rows as a table of strings with _row and _shape ("|name|address|": the
    fields holding a list or an object, a row problem ``not_scalar``); a value over the cell
    cap refuses the push (its row and field named, not its value)."""
    cap = limit("MAX_CELL_BYTES")

    def text(v):
        if v is None:
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float, Decimal)):
            return str(v)
        if isinstance(v, str):
            return v
        return json.dumps(v, ensure_ascii=False)  # kept (encrypted) in the quarantine

    shapes = []
    for r in rows:
        odd = [c for c in columns if isinstance(r.get(c), list | dict)]
        shapes.append("|" + "|".join(odd) + "|" if odd else None)

    data = {}
    for c in columns:
        values = [text(r.get(c)) for r in rows]
        try:
            array = pa.array(values, pa.string())
        except (pa.ArrowException, UnicodeError):  # a lone surrogate ("\ud800") in a value
            at = next(i for i, v in enumerate(values) if v is not None and not _encodable(v))
            raise SourceError(
                "rows.invalid_text", f"第{at + 1}行“{c}”字段含有无效的 Unicode 字符"
            ) from None
        import pyarrow.compute as pc  # lazy, as in check_cell_sizes

        lengths = pc.binary_length(array)
        if (pc.max(lengths).as_py() or 0) > cap:
            at = pc.index(pc.greater(lengths, cap), True).as_py()
            raise cell_too_large(f"第{at + 1}行“{c}”字段", cap)
        data[c] = array
    data["_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    data["_shape"] = pa.array(shapes, pa.string())
    return pa.table(data)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError):  # the reader's message is not shown
        raise SourceError(
            "file.parquet",
            "Parquet 文件不完整或已损坏(无法读取文件尾部的结构信息),请重新导出后上传",
        ) from None
