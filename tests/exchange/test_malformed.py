"""Malformed deliveries: each kind of broken file gets a clear Chinese message naming the
row, the column or the file problem — never a traceback — and the ID number, name and
address planted in it appear nowhere outside the encrypted quarantine: not in batch rows,
API answers, pages, log records, audit events or the CLI's output.

Limits are lowered here (settings EXCHANGE_*) so that every file stays a few kilobytes;
``test_the_default_limits_are_the_documented_ones`` checks the real ones.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dajiuzhu.cli import main
from dajiuzhu.core.idnumber import make_id_number
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Role
from dajiuzhu.core.services import api_token_create
from dajiuzhu.exchange import sources
from dajiuzhu.exchange.models import Batch, BatchStatus, QuarantineRow
from dajiuzhu.registry.models import Household, Person
from tests.factories.accounts import client_for, make_user

ID = make_id_number("320402", date(1956, 10, 5), 699)  # odd sequence: a man
NAME = "熊辉"
ADDRESS = "常州市天宁区青果巷九号"
SECRETS = (ID, ID[:17], NAME, ADDRESS)
HEADER = [
    "id_number",
    "name",
    "sex",
    "birth_date",
    "household_no",
    "relation_to_head",
    "division_code",
    "address",
    "status",
]
CAP = 4096  # the cell cap of these tests (64 KiB by default)


def person(i: int, **over) -> dict:
    row = {
        "id_number": make_id_number("320402", date(1970, 1, 1), i),
        "name": f"张{i}",
        "sex": "M" if i % 2 else "F",
        "birth_date": "1970-01-01",
        "household_no": f"H{i:05d}",
        "relation_to_head": "head",
        "division_code": "320402001001",
        "address": "常州市某路1号",
        "status": "normal",
    }
    row.update(over)
    return row


def planted() -> dict:
    return person(0, id_number=ID, name=NAME, sex="M", birth_date="1956-10-05", address=ADDRESS)


def rows_with_planted(n: int = 6, at: int = 5) -> list[dict]:
    rows = [person(i) for i in range(1, n + 1)]
    rows[at - 1] = planted()
    return rows


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def values(rows: list[dict]) -> list[list[str]]:
    return [[r[c] for c in HEADER] for r in rows]


def xlsx_bytes(rows: list[dict], *, write_only: bool = False) -> bytes:
    """Shared strings (a normal workbook) or inline strings (write-only, as our synth)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("户籍") if write_only else wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append([r[c] for c in HEADER])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def shared_strings_xlsx(rows: list[dict], *, strings: list[str] | None = None) -> bytes:
    """A workbook as Excel writes it: every text in the shared-strings part (openpyxl writes
    inline strings). ``strings`` replaces the table (e.g. with a bomb)."""
    table: list[str] = []
    index: dict[str, int] = {}

    def ref(text: str) -> int:
        if text not in index:
            index[text] = len(table)
            table.append(text)
        return index[text]

    lines = [HEADER] + [[r[c] for c in HEADER] for r in rows]
    sheet_rows = []
    for n, line in enumerate(lines, start=1):
        cells = "".join(
            f'<c r="{chr(65 + i)}{n}" t="s"><v>{ref(v)}</v></c>' for i, v in enumerate(line)
        )
        sheet_rows.append(f'<row r="{n}">{cells}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="{ct}.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{ct}.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{ct}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="户籍" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            f'Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">'
            f'<dimension ref="A1:I{len(lines)}"/><sheetData>'
            + "".join(sheet_rows)
            + "</sheetData></worksheet>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        archive.writestr("xl/sharedStrings.xml", shared_strings(*(strings or table)))
    return out.getvalue()


def replace_part(content: bytes, name: str, data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == name else src.read(info))
    return out.getvalue()


def shared_strings(*texts: str, doctype: str = "") -> bytes:
    items = "".join(f"<si><t>{t}</t></si>" for t in texts)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(texts)}" uniqueCount="{len(texts)}">{items}</sst>'
    ).encode()


def parquet_bytes(rows: list[dict], **schema_over) -> bytes:
    table = pa.Table.from_pylist(rows)
    for name, value in schema_over.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, value)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _pseudo_random_text(n: int, seed: int = 12345) -> str:
    # Text that does not compress (so that only the cell cap refuses it), built without
    # the random module: a linear congruential walk over letters and digits.
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    x, out = seed, []
    for _ in range(n):
        x = (x * 1103515245 + 12345) % (1 << 31)
        out.append(alphabet[x % len(alphabet)])
    return "".join(out)


def _damaged_parquet() -> bytes:
    content = bytearray(parquet_bytes([planted() for _ in range(50)]))
    meta = pq.ParquetFile(io.BytesIO(bytes(content))).metadata
    start = meta.row_group(0).column(1).data_page_offset + 20
    for i in range(start, start + 200):
        content[i] = (content[i] * 7 + 13) % 256
    return bytes(content)


def _bad_bytes_at_row_3() -> bytes:
    body = values(rows_with_planted())
    data = csv_bytes(body)
    marker = body[2][4].encode()  # row 3's household number
    return data.replace(marker, marker + b"\xff\xfe", 1)


def _bad_gbk_bytes_at_row_4() -> bytes:
    body = values(rows_with_planted())
    data = csv_bytes(body, encoding="gbk")
    marker = body[3][4].encode()  # row 4's household number
    return data.replace(marker, marker + b"\xff", 1)


def _bad_utf8_after_the_first_megabyte() -> bytes:
    rows = [person(i % 900 + 1) for i in range(12_000)] + [planted()]
    data = csv_bytes(values(rows))
    assert len(data) > (1 << 20)
    return data[:-1] + b"\xff\n"


def _unterminated_quote() -> bytes:
    lines = csv_bytes(values(rows_with_planted())).decode().splitlines()
    lines[5] = lines[5].replace(NAME, '"' + NAME, 1)  # data row 5 opens a quote, never closed
    return ("\n".join(lines) + "\n").encode()


def _ragged() -> bytes:
    lines = csv_bytes(values(rows_with_planted())).decode().splitlines()
    lines[5] += ",多余"
    return ("\n".join(lines) + "\n").encode()


def _headerless() -> bytes:
    return b"\n".join(csv_bytes(values(rows_with_planted(at=1))).split(b"\n")[1:])


def _truncated_xlsx() -> bytes:
    content = xlsx_bytes(rows_with_planted())
    return content[: len(content) // 2]


def _corrupt_member_xlsx() -> bytes:
    content = bytearray(xlsx_bytes(rows_with_planted(), write_only=True))
    info = zipfile.ZipFile(io.BytesIO(bytes(content))).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + 40
    for i in range(start, start + 64):
        content[i] ^= 0x5A
    return bytes(content)


def _malformed_sheet_xml() -> bytes:
    content = shared_strings_xlsx(rows_with_planted())
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    broken = sheet.replace('<row r="5">', '<row r="5"><c><v>', 1)  # never closed
    return replace_part(content, "xl/worksheets/sheet1.xml", broken.encode())


def _unreadable_workbook() -> bytes:
    # No <dimension>: openpyxl reads the whole sheet to size it when it opens the workbook
    content = xlsx_bytes(rows_with_planted(), write_only=True)
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    broken = sheet.replace('<row r="5">', '<row r="5"><c><v>', 1)
    return replace_part(content, "xl/worksheets/sheet1.xml", broken.encode())


def _huge_shared_string() -> bytes:
    rows = rows_with_planted()
    rows[2]["address"] = _pseudo_random_text(CAP + 1)
    return shared_strings_xlsx(rows)


def _huge_inline_string() -> bytes:
    rows = rows_with_planted()
    rows[2]["address"] = _pseudo_random_text(CAP + 1)
    return xlsx_bytes(rows, write_only=True)


def _bomb_xlsx() -> bytes:
    # The probe's 300 MB shared string, scaled down: 3 MB of one letter, 3 KB compressed
    rows = rows_with_planted()
    rows[2]["address"] = "A" * 3_000_000
    return shared_strings_xlsx(rows)


def _too_large_whole_parts() -> bytes:
    # 40 shared strings of 2,000 characters each: every cell under the cap, 80 KB together
    rows = [person(i, address=_pseudo_random_text(2000, i)) for i in range(1, 41)] + [planted()]
    return shared_strings_xlsx(rows)


def _dtd_xlsx() -> bytes:
    content = shared_strings_xlsx(rows_with_planted())
    doctype = '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    return replace_part(content, "xl/sharedStrings.xml", shared_strings(NAME, doctype=doctype))


def _huge_csv_cell() -> bytes:
    rows = rows_with_planted()
    rows[1]["address"] = "长" * (CAP // 3 + 1)
    return csv_bytes(values(rows))


def _huge_cell_in_a_broken_csv() -> bytes:
    rows = rows_with_planted()
    rows[3]["address"] = "x" * (5 * CAP)
    lines = csv_bytes(values(rows)).decode().splitlines()
    lines[6] += ",多余"
    return ("\n".join(lines) + "\n").encode()


def _titles_as_header() -> bytes:
    data = csv_bytes(values(rows_with_planted()))
    return data.replace(b"id_number,name,", "公民身份号码,姓名,".encode(), 1)


def _huge_parquet_cell() -> bytes:
    rows = rows_with_planted()
    rows[3]["address"] = "x" * (CAP + 1)
    return parquet_bytes(rows)


def _date_as_int() -> bytes:
    rows = rows_with_planted()
    return parquet_bytes(rows, birth_date=pa.array([19561005] * len(rows), pa.int64()))


def _name_as_list() -> bytes:
    rows = rows_with_planted()
    return parquet_bytes(rows, name=pa.array([[r["name"], NAME] for r in rows]))


def _truncated_parquet() -> bytes:
    content = parquet_bytes([planted() for _ in range(50)])
    return content[: len(content) - 30]


# kind: (file name, builder, the batch's exact error message)
FAILING = {
    "ragged_csv": (
        "f.csv",
        _ragged,
        "CSV 文件第5行有10个字段,而表头有9列(请检查该行是否多了或少了分隔符)",
    ),
    "unterminated_quote": (
        "f.csv",
        _unterminated_quote,
        "CSV 文件第5行有2个字段,而表头有9列(该行的引号可能没有闭合)",
    ),
    "bad_encoding": (
        "f.csv",
        _bad_bytes_at_row_3,
        "CSV 文件第3行含有不符合UTF-8编码的字节,请检查文件编码",
    ),
    "bad_gbk": (
        "f.csv",
        _bad_gbk_bytes_at_row_4,
        "CSV 文件第4行含有不符合GBK/GB18030编码的字节,请检查文件编码",
    ),
    "bad_utf8_late": (
        "f.csv",
        _bad_utf8_after_the_first_megabyte,
        "CSV 文件第12001行含有不符合UTF-8编码的字节,请检查文件编码",
    ),
    "headerless_csv": (
        "f.csv",
        _headerless,
        "文件第一行不是表头(没有一个列名与数据集约定相符),请在第一行写上列名:id_number、name、"
        "sex、birth_date、household_no、relation_to_head、division_code、address、status",
    ),
    "chinese_titles_as_header": (
        "f.csv",
        _titles_as_header,
        "文件的列与数据集约定不符,缺少列:id_number、name;多余列:公民身份号码(应为 id_number)、"
        "姓名(应为 name)",
    ),
    "huge_csv_cell": (
        "f.csv",
        _huge_csv_cell,
        "第2行“address”列的内容超过4 KiB(每个单元格的上限),整个文件被拒收,请检查文件",
    ),
    "huge_cell_in_a_broken_csv": (  # found by the row-by-row scan after the reader failed
        "f.csv",
        _huge_cell_in_a_broken_csv,
        "CSV 文件第4行有单元格的内容超过4 KiB,请检查文件",
    ),
    "truncated_xlsx": (
        "f.xlsx",
        _truncated_xlsx,
        "XLSX 文件不完整或已损坏(无法按 zip 压缩包读取),请重新导出后上传",
    ),
    "xlsx_not_a_zip": (
        "f.xlsx",
        lambda: csv_bytes(values(rows_with_planted())),
        "XLSX 文件不完整或已损坏(无法按 zip 压缩包读取),请重新导出后上传",
    ),
    "xls_renamed_xlsx": (
        "f.xlsx",
        lambda: bytes.fromhex("d0cf11e0a1b11ae1") + ID.encode() + NAME.encode() * 100,
        "这是旧版 .xls 文件或设置了密码的工作簿,请取消密码并另存为 .xlsx 或 CSV 后上传",
    ),
    "xlsx_corrupt_member": (
        "f.xlsx",
        _corrupt_member_xlsx,
        "XLSX 文件不完整或已损坏(无法按 zip 压缩包读取),请重新导出后上传",
    ),
    "xlsx_malformed_xml": (
        "f.xlsx",
        _malformed_sheet_xml,
        "XLSX 文件第5行附近无法读取(文件可能已损坏),请重新导出后上传",
    ),
    "xlsx_unreadable_workbook": (
        "f.xlsx",
        _unreadable_workbook,
        "XLSX 文件无法打开(文件已损坏,或不是 Excel 工作簿),请重新导出后上传",
    ),
    "xlsx_huge_shared_string": (
        "f.xlsx",
        _huge_shared_string,
        "XLSX 文件中的一个单元格(共享字符串)的内容超过4 KiB(每个单元格的上限),"
        "整个文件被拒收,请检查文件",
    ),
    "xlsx_huge_inline_string": (
        "f.xlsx",
        _huge_inline_string,
        "工作表第4行的一个单元格的内容超过4 KiB(每个单元格的上限),整个文件被拒收,请检查文件",
    ),
    "xlsx_bomb": (
        "f.xlsx",
        _bomb_xlsx,
        "XLSX 文件的压缩比异常(某部分解压后是压缩时的100倍以上,疑似压缩炸弹),整个文件被拒收",
    ),
    "xlsx_whole_parts_too_large": (
        "f.xlsx",
        _too_large_whole_parts,
        "XLSX 文件的共享字符串、样式等部分解压后超过64 KiB,请拆分文件或改用 CSV/Parquet 格式",
    ),
    "xlsx_dtd": (
        "f.xlsx",
        _dtd_xlsx,
        "XLSX 文件含有不允许的 XML 文档类型声明(DTD),整个文件被拒收",
    ),
    "parquet_date_as_int": (
        "f.parquet",
        _date_as_int,
        "文件中列的数据类型与约定不符,整个文件被拒收:“birth_date”(出生日期)为 BIGINT(整数),"
        "应为文本(VARCHAR)或日期或时间(DATE/TIMESTAMP)",
    ),
    "parquet_name_as_list": (
        "f.parquet",
        _name_as_list,
        "文件中列的数据类型与约定不符,整个文件被拒收:“name”(姓名)为 VARCHAR[](列表),"
        "应为文本(VARCHAR)或整数",
    ),
    "parquet_truncated": (
        "f.parquet",
        _truncated_parquet,
        "Parquet 文件不完整或已损坏(无法读取文件尾部的结构信息),请重新导出后上传",
    ),
    "parquet_damaged_pages": (
        "f.parquet",
        _damaged_parquet,
        "文件内容无法读取(文件可能已损坏或不完整),未入库任何数据,请重新导出后上传",
    ),
    "parquet_huge_cell": (
        "f.parquet",
        _huge_parquet_cell,
        "第4行“address”列的内容超过4 KiB(每个单元格的上限),整个文件被拒收,请检查文件",
    ),
    "empty_file": ("f.csv", lambda: b"", "文件为空,没有表头"),
}


def _control_chars_csv() -> bytes:
    rows = rows_with_planted()
    rows[1]["name"] = "王\x00五"
    rows[2]["address"] = "地址\x00尾"
    rows[3]["household_no"] = "H\x1b3"
    rows[5]["name"] = NAME + "\x07"
    return csv_bytes(values(rows))


def _control_chars_xlsx() -> bytes:
    # XML 1.0 holds no C0 control but tab and line breaks; it does hold the C1 controls
    rows = rows_with_planted()
    rows[1]["name"] = "王\x9b五"
    rows[2]["address"] = "地址\x85尾"
    rows[3]["household_no"] = "H\x803"
    rows[5]["name"] = NAME + "\x9f"
    return shared_strings_xlsx(rows)


def _control_chars_parquet() -> bytes:
    rows = rows_with_planted()
    rows[1]["name"] = "王\x00五"
    rows[2]["address"] = "地址\x00尾"
    rows[3]["household_no"] = "H\x1b3"
    rows[5]["name"] = NAME + "\x07"
    return parquet_bytes(rows)


CONTROL_CHARS = {
    "control_chars_csv": ("f.csv", _control_chars_csv),
    "control_chars_xlsx": ("f.xlsx", _control_chars_xlsx),
    "control_chars_parquet": ("f.parquet", _control_chars_parquet),
}
QUARANTINED = {
    2: [("name", "control_chars")],
    3: [("address", "control_chars")],
    4: [("household_no", "control_chars")],
    6: [("name", "control_chars")],
}
CRAFTED_FILES = len(FAILING) + len(CONTROL_CHARS)


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.EXCHANGE_MAX_CELL_BYTES = CAP
    settings.EXCHANGE_XLSX_MAX_WHOLE_PARTS_BYTES = 64 * 1024


@pytest.fixture
def readers(db, settings):
    """Who reads batches: the delivering steward, a 武进区 supervisor, a city auditor."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    return [
        make_user("gongan_steward", Role.DATA_STEWARD, "320400", "gongan"),
        make_user("wj_supervisor", Role.SUPERVISOR, "320412"),
        make_user("city_auditor", Role.AUDITOR, "320400"),
    ]


def write(files: Path, name: str, content: bytes) -> Path:
    path = files / name
    path.write_bytes(content)
    return path


def assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} holds planted data"


def assert_nothing_leaked(caplog, *texts: str) -> None:
    """The planted values are nowhere but in the encrypted quarantine."""
    for text in texts:
        assert_clean("output", text)
        assert "Traceback" not in text
    for record in caplog.records:
        assert_clean(f"log {record.name}", repr(record.__dict__) + record.getMessage())
        assert record.exc_info is None and record.exc_text is None, record.getMessage()
    assert_clean("batches", repr(list(Batch.objects.values())))
    assert_clean("audit", repr(list(AuditEvent.objects.values("action", "object_id", "detail"))))
    for row in QuarantineRow.objects.all():
        assert_clean("quarantine problems", json.dumps(row.problems, ensure_ascii=False))
        for secret in SECRETS:
            assert secret.encode() not in bytes(row.raw_enc)


def read_everywhere(readers, batch: Batch, token_client: Client) -> list[str]:
    """The batch as each reader sees it: the API and the pages."""
    seen = [token_client.get(f"/api/v1/exchange/batches/{batch.pk}").content.decode()]
    for user in readers:
        client = client_for(user)
        for url in (
            f"/api/v1/exchange/batches/{batch.pk}",
            f"/work/exchange/batches/{batch.pk}/",
            "/work/exchange/batches/",
        ):
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            seen.append(response.content.decode())
    return seen


def run_cli(capsys, path: Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["ingest", "hukou", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("kind", sorted(FAILING))
def test_a_malformed_file_is_refused_by_the_cli_with_a_message(db, capsys, caplog, files, kind):
    caplog.set_level(logging.DEBUG)
    name, build, message = FAILING[kind]
    code, out, err = run_cli(capsys, write(files, name, build()))
    batch = Batch.objects.get()
    assert (code, out, batch.status, batch.error) == (2, "", BatchStatus.FAILED, message)
    assert err.endswith(f": {message}\n")
    assert_nothing_leaked(caplog, out, err)


@pytest.mark.parametrize("kind", sorted(FAILING))
def test_a_malformed_upload_fails_with_the_message_on_the_api_and_the_pages(
    readers, caplog, files, django_capture_on_commit_callbacks, kind
):
    caplog.set_level(logging.DEBUG)
    name, build, message = FAILING[kind]
    _token, clear = api_token_create(actor=None, department_code="gongan", name="t")
    gongan = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    with django_capture_on_commit_callbacks(execute=True):
        response = gongan.post(  # a file named after the person: the name is masked too
            "/api/v1/exchange/hukou/files", {"file": SimpleUploadedFile(ID + name, build())}
        )
    assert response.status_code == 202
    batch = Batch.objects.get()
    assert (batch.status, batch.error) == (BatchStatus.FAILED, message)
    assert batch.source_name == "…" + name
    seen = read_everywhere(readers, batch, gongan)
    detail = json.loads(seen[0])
    assert (detail["status"], detail["error"], detail["note"]) == ("failed", message, "")
    page = seen[2]
    assert message in page.replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert_nothing_leaked(caplog, response.content.decode(), *seen)


@pytest.mark.parametrize("kind", sorted(CONTROL_CHARS))
def test_control_characters_are_quarantined_per_field_and_never_reach_the_registry(
    readers, capsys, caplog, files, kind
):
    caplog.set_level(logging.DEBUG)
    name, build = CONTROL_CHARS[kind]
    code, out, err = run_cli(capsys, write(files, name, build()))
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (6, 2, 4)
    batch = Batch.objects.get()
    problems = {
        r.row_number: [(p["field"], p["code"]) for p in r.problems]
        for r in QuarantineRow.objects.filter(batch=batch)
    }
    assert problems == QUARANTINED
    assert QuarantineRow.objects.get(batch=batch, row_number=2).problems[0]["message"] == (
        "含有控制字符(如 NUL),请删除后重新报送"
    )
    assert Person.objects.count() == 2
    assert not [p.name for p in Person.objects.all() if "\x00" in p.name or "\x07" in p.name]
    assert not [h for h in Household.objects.all() if "\x00" in h.address]
    _token, clear = api_token_create(actor=None, department_code="gongan", name="t")
    seen = read_everywhere(readers, batch, Client(HTTP_AUTHORIZATION=f"Bearer {clear}"))
    assert_nothing_leaked(caplog, out, err, *seen)


def _push(client, rows):
    return client.post(
        "/api/v1/exchange/hukou/rows", {"rows": rows}, content_type="application/json"
    )


def test_pushed_rows_of_the_wrong_shape_get_messages_and_leak_nothing(readers, caplog):
    caplog.set_level(logging.DEBUG)
    _token, clear = api_token_create(actor=None, department_code="gongan", name="t")
    gongan = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    answers = []

    not_objects = _push(gongan, [[ID, NAME], ID])
    assert not_objects.status_code == 422
    assert not_objects.json()["code"] == "invalid_input"
    answers.append(not_objects.content.decode())

    unknown_keys = _push(gongan, [{**planted(), ID: NAME, NAME: ADDRESS}])
    assert unknown_keys.status_code == 400
    assert unknown_keys.json()["message"] == (
        "文件的列与数据集约定不符,多余列:另有2列的列名不像字段名(未显示其内容;文件可能缺少表头行)"
    )
    answers.append(unknown_keys.content.decode())

    huge = _push(gongan, [person(1), {**planted(), "address": "x" * (CAP + 1)}])
    assert huge.status_code == 400
    assert huge.json() == {
        "code": "file.cell_too_large",
        "message": "第2行“address”字段的内容超过4 KiB(每个单元格的上限),整个文件被拒收,请检查文件",
    }
    answers.append(huge.content.decode())

    surrogate = gongan.post(
        "/api/v1/exchange/hukou/rows",
        '{"rows": [{"id_number": "' + ID + '", "name": "\\ud800' + NAME + '"}]}',
        content_type="application/json",
    )
    assert surrogate.status_code == 400
    assert surrogate.json()["message"] == "第1行“name”字段含有无效的 Unicode 字符"
    answers.append(surrogate.content.decode())

    odd = [
        {**planted(), "name": [NAME, ID]},  # a list where a name belongs
        {**person(2), "address": {"road": ADDRESS}},  # an object
        {**person(3), "name": "王\x00五"},
        {**person(4), "birth_date": 19700101},
        {**person(5), "sex": None},
        person(6),
    ]
    pushed = _push(gongan, odd)
    assert pushed.status_code == 200
    body = pushed.json()
    assert (body["rows"], body["accepted"], body["rejected"]) == (6, 1, 5)
    assert {
        q["row_number"]: [(p["field"], p["code"]) for p in q["problems"]]
        for q in body["quarantine"]
    } == {
        1: [("name", "not_scalar")],
        2: [("address", "not_scalar")],
        3: [("name", "control_chars")],
        4: [("birth_date", "date_format")],
        5: [("sex", "required")],
    }
    answers.append(pushed.content.decode())
    failed = Batch.objects.filter(status=BatchStatus.FAILED)
    assert sorted(b.error for b in failed) == sorted(
        [huge.json()["message"], surrogate.json()["message"]]
    )
    for batch in Batch.objects.all():
        answers += read_everywhere(readers, batch, gongan)
    assert_nothing_leaked(caplog, *answers)


def test_a_bomb_is_refused_before_openpyxl_reads_it(db, capsys, files, monkeypatch):
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("openpyxl was asked to read a refused file")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    for kind in (
        "xlsx_bomb",
        "xlsx_huge_shared_string",
        "xlsx_whole_parts_too_large",
        "xlsx_dtd",
        "truncated_xlsx",
    ):
        name, build, message = FAILING[kind]
        code, _out, err = run_cli(capsys, write(files, name, build()))
        assert (code, err.endswith(f": {message}\n")) == (2, True), kind


def test_a_header_only_file_is_published_empty_and_says_so(readers, capsys, files):
    path = write(files, "empty.csv", csv_bytes([]))
    code, out, _err = run_cli(capsys, path)
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    note = "文件只有表头,没有数据行:本批次为空,未入库任何数据"
    assert summary == {
        "dataset": "hukou",
        "batch": summary["batch"],
        "rows": 0,
        "accepted": 0,
        "rejected": 0,
        "seconds": summary["seconds"],
        "note": note,
    }
    batch = Batch.objects.get()
    _token, clear = api_token_create(actor=None, department_code="gongan", name="t")
    seen = read_everywhere(readers, batch, Client(HTTP_AUTHORIZATION=f"Bearer {clear}"))
    assert json.loads(seen[0])["note"] == note
    assert f'<p class="notice" role="status">{note}</p>' in seen[2]
    assert f'<span class="badge warn" title="{note}">空批次</span>' in seen[3]  # the list


def test_a_delivery_whose_every_row_is_quarantined_says_so(db, capsys, files):
    rows = [person(i, sex="X") for i in range(1, 4)]
    code, out, _err = run_cli(capsys, write(files, "f.csv", csv_bytes(values(rows))))
    assert code == 0
    assert json.loads(out.strip().splitlines()[-1])["note"] == (
        "全部3行均不符合约定,已隔离,未入库任何数据"
    )


def test_the_default_limits_are_the_documented_ones():
    assert sources.LIMITS == {
        "MAX_CELL_BYTES": 64 * 1024,
        "XLSX_MAX_BYTES": 1536 << 20,
        "XLSX_MAX_WHOLE_PARTS_BYTES": 64 << 20,
        "XLSX_MAX_RATIO": 100,
        "MAX_QUARANTINE_BYTES": 512 << 20,
    }
    doc = (Path(__file__).parents[2] / "docs" / "exchange.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Limits") :]
    for figure in ("64 KiB", "1.5 GiB", "64 MiB", "100", "512 MiB", "4 MiB"):
        assert figure in section, figure
