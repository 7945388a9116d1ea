"""The bank's files: the payment file a released month's rosters become (a column template of
``data/bank_templates.yaml``, XLSX or CSV), and the returns file the bank sends back.

The payment file holds full ID numbers (the bank pays by the payee's social-security card):
it is written only for the roles that see them, through the registry's audited
re-identification, and the export itself is audited."""

from __future__ import annotations

import csv
import functools
import io
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from django.db.models import Q

from dajiuzhu.core.access import AccessDenied, is_staff_user
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose
from dajiuzhu.core.text import csv_writer, guard_row
from dajiuzhu.core.yamlfiles import safe_load
from dajiuzhu.payments.access import EXPORT_ROLES, rosters_visible
from dajiuzhu.payments.models import Payment, Roster, RosterStatus
from dajiuzhu.payments.services import check_roster_month
from dajiuzhu.policy import catalogue
from dajiuzhu.registry.selectors import id_numbers_for_keys

SOURCES = frozenset(
    {
        "seq",
        "payment_id",
        "name",
        "id_number",
        "amount",
        "month",
        "programme",
        "programme_code",
        "district",
        "town",
        "household_no",
        "memo",
        "id_type",
    }
)
MAX_RETURN_ROWS = 100_000
MAX_RETURN_BYTES = 20 * 1024 * 1024
ID_COLUMNS = ("payment_id", "发放流水号", "业务流水号", "流水号")
REASON_COLUMNS = ("reason", "退回原因", "失败原因", "原因")


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (title, source)


@functools.cache
def templates() -> tuple[str, dict[str, Template]]:
    """(the default template's name, name → template); a malformed file is a start-up error."""
    text = resources.files("dajiuzhu.payments").joinpath("data", "bank_templates.yaml")
    data = safe_load(text.read_text("utf-8"))
    found: dict[str, Template] = {}
    for name, spec in data["templates"].items():
        columns = tuple((str(c["title"]), str(c["source"])) for c in spec["columns"])
        unknown = sorted({s for _, s in columns} - SOURCES)
        if unknown:
            raise ValueError(f"bank template {name}: unknown sources {unknown}")
        found[name] = Template(name=name, title=str(spec["title"]), columns=columns)
    if data["default"] not in found:
        raise ValueError(f"bank templates: default {data['default']!r} is not a template")
    return data["default"], found


def template_or_error(name: str | None) -> Template:
    default, found = templates()
    key = (name or default).strip()
    if key not in found:
        raise ServiceError(
            "payments.template",
            f"没有名为“{key[:30]}”的代发模板;可用:{'、'.join(found)}",
            field="template",
        )
    return found[key]


@dataclass
class BankFile:
    month: str
    template: str
    rosters: int
    lines: int
    total: str
    content: bytes
    file_name: str


def bank_file(
    *,
    actor: User | None,
    month: str,
    template: str | None = None,
    fmt: str = "xlsx",
    district: str | None = None,
    roster_id: int | None = None,
) -> BankFile:
    """The payment file of a month's released rosters (of one district, or one roster)."""
    if actor is not None and (not is_staff_user(actor) or actor.role not in EXPORT_ROLES):
        raise AccessDenied("代发文件含完整身份证号码,只有经办和审批人员可以导出")
    month = check_roster_month(month)
    spec = template_or_error(template)
    if fmt not in ("xlsx", "csv"):
        raise ServiceError("payments.format", "文件格式应为 xlsx 或 csv", field="format")
    rosters = (rosters_visible(actor) if actor is not None else Roster.objects.all()).filter(
        month=month, status=RosterStatus.RELEASED
    )
    if district:
        rosters = rosters.filter(district_id=district.strip())
    if roster_id is not None:
        rosters = rosters.filter(pk=roster_id)
    chosen = list(rosters.select_related("district").order_by("district_id", "programme", "seq"))
    if not chosen:
        raise ServiceError(
            "payments.nothing_released",
            f"{month}没有已审核发放的名册,不能生成代发文件",
            field="month",
        )
    ids = [r.pk for r in chosen]
    lines = list(
        Payment.objects.filter(Q(roster_id__in=ids) | Q(resent_on_id__in=ids))
        .order_by("roster__district_id", "programme", "payment_id")
        .values_list(
            "payment_id",
            "person__name",
            "person__person_key",
            "amount",
            "month",
            "programme",
            "roster__district__name",
            "case__town__name",
            "household__household_no",
        )
    )
    numbers = {}
    if any(source == "id_number" for _, source in spec.columns):
        numbers = id_numbers_for_keys(
            actor=actor,
            keys=[line[2] for line in lines],
            purpose=Purpose.CASEWORK,
            reason=f"银行代发文件 {month}",
        )
    names = catalogue.names()
    sources = [source for _, source in spec.columns]
    rows = []
    for i, (pid, name, key, amount, m, programme, district_name, town, hh) in enumerate(
        lines, start=1
    ):
        label = names.get(programme, programme)
        value = {
            "seq": i,
            "payment_id": pid,
            "name": name,
            "id_number": numbers.get(key, ""),
            "amount": f"{amount:.2f}",
            "month": m,
            "programme": label,
            "programme_code": programme,
            "district": district_name,
            "town": town,
            "household_no": hh,
            "memo": f"{m}{label}",
            "id_type": "居民身份证",
        }
        rows.append([value[source] for source in sources])
    header = [title for title, _ in spec.columns]
    content = _xlsx(header, rows) if fmt == "xlsx" else _csv(header, rows)
    total = sum((line[3] for line in lines), start=Decimal("0.00"))
    audit_record(
        actor=actor,
        action="payments.bank_file",
        object_type="roster",
        object_id=",".join(str(i) for i in ids)[:60],
        purpose=Purpose.CASEWORK,
        label=None if actor else "cli",
        detail={"month": month, "template": spec.name, "lines": len(lines), "format": fmt},
    )
    return BankFile(
        month=month,
        template=spec.name,
        rosters=len(chosen),
        lines=len(lines),
        total=f"{total:.2f}",
        content=content,
        file_name=f"代发-{month}-{spec.name}.{fmt}",
    )


def _csv(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(header)
    writer.writerows(guard_row(r) for r in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(header: list[str], rows: list[list]) -> bytes:
    """XlsxWriter in constant-memory mode (a month of a city is tens of thousands of rows;
    openpyxl writes them several times slower). Every cell is written as text: amounts keep
    their two decimals so the bank reads the fen exactly, and nothing is a formula."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer, {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False}
    )
    ws = wb.add_worksheet("代发")
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(guard_row(values)):
            if isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    wb.close()
    return buffer.getvalue()


def write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.chmod(path, 0o600)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    cleaned = [str(h or "").strip().lstrip("\ufeff") for h in header]
    for name in names:
        if name in cleaned:
            return cleaned.index(name)
    return None


def read_returns(content: bytes, name: str) -> list[dict]:
    """The bank's returns (CSV in UTF-8 or GB18030, or XLSX): one dict per row with
    ``payment_id``, ``reason`` and the file's ``row`` number. A file without a payment-id
    column, too large, or unreadable is refused whole with a message."""
    if len(content) > MAX_RETURN_BYTES:
        raise ServiceError("payments.returns_file", "退回文件超过20MB")
    table = _xlsx_rows(content) if content[:4] == b"PK\x03\x04" else _csv_rows(content)
    if not table:
        raise ServiceError("payments.returns_empty", "退回文件是空的")
    header, body = table[0], table[1:]
    id_col = _column(header, ID_COLUMNS)
    if id_col is None:
        raise ServiceError(
            "payments.returns_columns",
            f"退回文件缺少发放流水号列(列名应为 {'、'.join(ID_COLUMNS)} 之一)",
        )
    reason_col = _column(header, REASON_COLUMNS)
    if len(body) > MAX_RETURN_ROWS:
        raise ServiceError("payments.returns_file", f"退回文件超过{MAX_RETURN_ROWS}行")
    rows = []
    for i, record in enumerate(body, start=2):
        if not any(str(c or "").strip() for c in record):
            continue
        cell = record[id_col] if id_col < len(record) else ""
        reason = record[reason_col] if reason_col is not None and reason_col < len(record) else ""
        rows.append({"payment_id": str(cell or "").strip(), "reason": str(reason or ""), "row": i})
    return rows


def _csv_rows(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [row for row in csv.reader(io.StringIO(text))]
    raise ServiceError(
        "payments.returns_file", "退回文件的编码无法识别(应为UTF-8或GB18030的CSV,或XLSX)"
    )


def _xlsx_rows(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    from dajiuzhu.exchange.sources import SourceError
    from dajiuzhu.exchange.xlsx import check_archive

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as fh:
        fh.write(content)
        fh.flush()
        try:
            check_archive(Path(fh.name))
            wb = load_workbook(fh.name, read_only=True, data_only=True)
        except SourceError as exc:
            raise ServiceError("payments.returns_file", exc.message) from None
        except (OSError, ValueError, KeyError):
            raise ServiceError("payments.returns_file", "退回文件不是有效的XLSX工作簿") from None
        try:
            ws = wb.worksheets[0]
            rows = ws.iter_rows(values_only=True)
            return [list(r) for _, r in zip(range(MAX_RETURN_ROWS + 2), rows, strict=False)]
        finally:
            wb.close()
