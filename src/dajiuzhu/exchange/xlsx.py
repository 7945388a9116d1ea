"""Reading an XLSX delivery within bounded memory, refusing damaged files and bombs.

An XLSX file is a zip of XML parts. openpyxl (read-only mode) streams the worksheet but
loads every other part whole — the shared-strings table above all, where one cell of
300 MB costs gigabytes. So, before openpyxl sees the file:

1. the zip's directory is read: the decompressed size of all parts, of the parts loaded
   whole (everything but worksheets, known from ``[Content_Types].xml``), and the ratio of
   decompressed to compressed size of each large part are bounded (``zipfile`` never
   returns more bytes than a part's declared size: a lying header fails its CRC check);
2. every part is streamed once through expat, which refuses a DTD (entity expansion), a
   cell — a shared string, an inline string, a value — over the cell cap, and any XML token
   (a tag, a comment) over ``XML_MAX_TOKEN_BYTES`` without building it in memory.

Messages name the part of the file and the reason, never a value of the file.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from dajiuzhu.exchange.sources import BOM, MiB, SourceError, cell_too_large, limit, size_text

WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CONTENT_TYPES = "[Content_Types].xml"
CONTENT_TYPES_MAX_BYTES = 1 * MiB
RATIO_FROM_BYTES = 1 * MiB  # small parts (styles, themes) compress well and cost nothing
XML_MAX_TOKEN_BYTES = 4 * MiB
CHUNK = 1 * MiB
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # .xls, and Excel's encrypted workbooks
# What a broken archive or broken XML raises inside zipfile, zlib, expat and openpyxl.
READ_ERRORS = (
    zipfile.BadZipFile,
    NotImplementedError,  # a compression method or zip version zipfile does not know
    RuntimeError,  # an encrypted part
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    OverflowError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
    expat.ExpatError,
)

DAMAGED = "XLSX 文件不完整或已损坏(无法按 zip 压缩包读取),请重新导出后上传"
UNREADABLE = "XLSX 文件无法打开(文件已损坏,或不是 Excel 工作簿),请重新导出后上传"


def refuse(code: str, message: str) -> SourceError:
    return SourceError(code, message)


def check_archive(path: Path) -> None:
    """Refuse a damaged archive or one whose parts exceed the limits, before parsing."""
    with path.open("rb") as fh:
        if fh.read(8) == OLE_MAGIC:
            raise refuse(
                "file.xlsx_ole",
                "这是旧版 .xls 文件或设置了密码的工作簿,请取消密码并另存为 .xlsx 或 CSV 后上传",
            )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_sizes(archive, infos)
            for info in infos:
                _scan_part(archive, info)
    except SourceError:
        raise
    except READ_ERRORS:
        raise refuse("file.xlsx_damaged", DAMAGED) from None


def _check_sizes(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    total_cap = limit("XLSX_MAX_BYTES")
    whole_cap = limit("XLSX_MAX_WHOLE_PARTS_BYTES")
    ratio_cap = limit("XLSX_MAX_RATIO")
    total = sum(i.file_size for i in infos)
    if total > total_cap:
        raise refuse(
            "file.xlsx_too_large",
            f"XLSX 文件解压后超过{size_text(total_cap)},请拆分文件或改用 CSV/Parquet 格式",
        )
    for info in infos:
        if info.file_size >= RATIO_FROM_BYTES and info.file_size > ratio_cap * max(
            info.compress_size, 1
        ):
            raise refuse(
                "file.xlsx_ratio",
                f"XLSX 文件的压缩比异常(某部分解压后是压缩时的{ratio_cap}倍以上,疑似压缩炸弹),"
                "整个文件被拒收",
            )
    sheets = _worksheet_parts(archive)
    whole = sum(i.file_size for i in infos if i.filename not in sheets)
    if whole > whole_cap:
        raise refuse(
            "file.xlsx_too_large",
            f"XLSX 文件的共享字符串、样式等部分解压后超过{size_text(whole_cap)},"
            "请拆分文件或改用 CSV/Parquet 格式",
        )


def _worksheet_parts(archive: zipfile.ZipFile) -> set[str]:
    """Parts declared only as worksheets (openpyxl streams them; it loads the rest whole)."""
    try:
        info = archive.getinfo(CONTENT_TYPES)
    except KeyError:
        raise refuse("file.xlsx_damaged", DAMAGED) from None
    if info.file_size > CONTENT_TYPES_MAX_BYTES:
        raise refuse("file.xlsx_damaged", DAMAGED)
    _scan_part(archive, info)  # no DTD, no oversized token
    root = ElementTree.fromstring(archive.read(info))  # noqa: S314 (scanned: no DTD, ≤ 1 MiB)
    defaults: dict[str, str] = {}
    overrides: dict[str, set[str]] = {}
    for element in root:
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "Default":
            defaults[element.get("Extension", "").lower()] = element.get("ContentType", "")
        elif tag == "Override":
            name = element.get("PartName", "").lstrip("/")
            overrides.setdefault(name, set()).add(element.get("ContentType", ""))
    sheets = set()
    for name in archive.namelist():
        types = overrides.get(name) or {defaults.get(name.rsplit(".", 1)[-1].lower(), "")}
        if types == {WORKSHEET_TYPE}:
            sheets.add(name)
    return sheets


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one part through expat, counting each cell's text and each token's size."""
    if info.is_dir():
        return
    cap = limit("MAX_CELL_BYTES")
    token_cap = max(XML_MAX_TOKEN_BYTES, 2 * cap + CHUNK)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = min(cap + 1, CHUNK)
    state: dict[str, Any] = {"cell": 0, "in_item": False, "row": None, "event": 0}
    sheet = info.filename.startswith("xl/worksheets/")

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        if local in ("si", "is"):  # a shared or inline string: its rich-text runs add up
            state["in_item"] = True
            state["cell"] = 0
        elif not state["in_item"]:
            state["cell"] = 0
        if local == "row":
            state["row"] = attrs.get("r")
        state["event"] = parser.CurrentByteIndex

    def end(name: str) -> None:
        if name.rsplit(":", 1)[-1] in ("si", "is"):
            state["in_item"] = False
        state["event"] = parser.CurrentByteIndex

    def text(data: str) -> None:
        state["cell"] += len(data) if data.isascii() else len(data.encode("utf-8"))
        if state["cell"] > cap:
            row = state["row"] if sheet else None
            if row and str(row).isdigit():
                raise cell_too_large(f"工作表第{row}行的一个单元格", cap)
            raise cell_too_large("XLSX 文件中的一个单元格(共享字符串)", cap)
        state["event"] = parser.CurrentByteIndex

    def doctype(*_args) -> None:
        raise refuse("file.xlsx_dtd", "XLSX 文件含有不允许的 XML 文档类型声明(DTD),整个文件被拒收")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    fed = 0
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(CHUNK):
                if fed == 0 and chunk.removeprefix(BOM).lstrip()[:1] != b"<":
                    return  # not XML (an image, a binary part): openpyxl does not parse it
                parser.Parse(chunk, False)
                fed += len(chunk)
                if fed - state["event"] > token_cap:
                    raise refuse(
                        "file.xlsx_token",
                        f"XLSX 文件中有超过{size_text(token_cap)}的 XML 标记,整个文件被拒收",
                    )
            parser.Parse(b"", True)
    except expat.ExpatError:
        return  # malformed XML: openpyxl refuses it when it reads the part


@contextmanager
def _reading(where: str) -> Iterator[None]:
    try:
        yield
    except SourceError:
        raise
    except READ_ERRORS:
        raise refuse(
            "file.xlsx_damaged", f"XLSX 文件{where}无法读取(文件可能已损坏),请重新导出后上传"
        ) from None


def open_rows(path: Path) -> tuple[list, Iterator[tuple], Any]:
    """(header row, the other rows, the workbook to close) of the first sheet."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, *READ_ERRORS):
        raise refuse("file.xlsx_damaged", UNREADABLE) from None
    if not workbook.worksheets:
        workbook.close()
        raise SourceError("file.empty", "工作簿中没有工作表")
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    with _reading("的表头行"):
        header = next(rows, None)
    if header is None:
        workbook.close()
        raise SourceError("file.empty", "工作表为空,没有表头")
    return list(header), _guarded(rows), workbook


def _guarded(rows: Iterator[tuple]) -> Iterator[tuple]:
    excel_row = 1
    while True:
        excel_row += 1
        with _reading(f"第{excel_row}行附近"):
            values = next(rows, None)
        if values is None:
            return
        yield values
