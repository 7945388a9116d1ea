"""Reading a department's delivery: CSV (UTF-8 with or without BOM, GBK/GB18030), XLSX
(first sheet), Parquet, or JSON rows. Each becomes a relation DuckDB can scan, with a
``_row`` column: the data row's ordinal (1 = the first row after the header)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("csv", "xlsx", "parquet")
BOM = codecs.BOM_UTF8


class SourceError(ValueError):
    """The file cannot be read at all (wrong format, unreadable, empty)."""

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
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _text_stream(path: Path, encoding: str) -> io.TextIOWrapper:
    raw = path.open("rb")
    if encoding == "utf-8-bom":
        raw.read(len(BOM))
        return io.TextIOWrapper(raw, encoding="utf-8", newline="")
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def csv_header(path: Path, encoding: str) -> list[str]:
    with _text_stream(path, encoding) as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise SourceError("file.empty", "文件为空,没有表头") from None
        except UnicodeDecodeError:
            raise SourceError(
                "file.encoding", "文件编码无法识别,请使用 UTF-8 或 GBK 编码"
            ) from None
    return [h.strip() for h in header]


def csv_to_parquet(
    path: Path, encoding: str, columns: list[str], out: Path, *, header: list[str] | None = None
) -> None:
    """Stream a CSV into a staging Parquet of strings with _row (memory stays bounded).

    ``header`` is the file's own header when it carries extra columns to drop (our quarantine
    downloads add row-number and problem columns); ``columns`` are the ones kept. Values with
    line breaks inside quotes are rare in departments' exports: the fast parser is tried
    first, the one that allows them if it fails."""
    try:
        _csv_to_parquet(path, encoding, columns, out, header or columns, newlines=False)
    except SourceError:
        _csv_to_parquet(path, encoding, columns, out, header or columns, newlines=True)


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
    row = 0
    try:
        reader = pacsv.open_csv(
            raw, read_options=read_options, parse_options=parse, convert_options=convert
        )
        with pq.ParquetWriter(out, schema, compression="snappy") as writer:
            for batch in reader:
                n = batch.num_rows
                arrays = [*batch.columns, pa.array(range(row + 1, row + n + 1), pa.int64())]
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                row += n
    except pa.ArrowInvalid as exc:
        raise SourceError("file.csv", f"CSV 文件无法解析(第{row + 1}行附近):{exc}") from None
    except UnicodeDecodeError:
        raise SourceError("file.encoding", "文件编码无法识别,请使用 UTF-8 或 GBK 编码") from None
    finally:
        raw.close()
    if row == 0:
        _empty_parquet(out, columns)


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


def _unguard(text: str | None) -> str | None:
    """Undo the formula-injection guard of our own quarantine downloads ('=… → =…)."""
    if text and len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def xlsx_rows(path: Path) -> tuple[list[str], Iterator[list]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SourceError("file.xlsx", f"XLSX 文件无法打开:{type(exc).__name__}") from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header = [(_cell_text(c) or "") for c in next(rows)]
    except StopIteration:
        raise SourceError("file.empty", "工作表为空,没有表头") from None
    while header and header[-1] == "":
        header.pop()
    return header, rows


def xlsx_to_parquet(path: Path, columns: list[str], out: Path, *, strip: set[str]) -> None:
    header, rows = xlsx_rows(path)
    keep = [i for i, h in enumerate(header) if h not in strip]
    schema = pa.schema([(c, pa.string()) for c in columns] + [("_row", pa.int64())])
    row = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        buffer: list[list] = [[] for _ in columns]
        rownums: list[int] = []
        for values in rows:
            values = list(values) + [None] * (len(header) - len(values))
            cells = [_unguard(_cell_text(values[i])) for i in keep]
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
        pa.array([_unguard(v) for v in table.column(c).to_pylist()], pa.string())
        if c != "_row"
        else table.column(c)
        for c in table.column_names
    ]
    pq.write_table(pa.table(dict(zip(table.column_names, fixed, strict=True))), out)


def json_rows_table(rows: list[dict], columns: list[str]) -> pa.Table:
    def text(v):
        if v is None:
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float, Decimal)):
            return str(v)
        if isinstance(v, str):
            return v
        return json.dumps(v, ensure_ascii=False)

    data = {c: pa.array([text(r.get(c)) for r in rows], pa.string()) for c in columns}
    data["_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    return pa.table(data)


def parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError("file.parquet", f"Parquet 文件无法读取:{exc}") from None
