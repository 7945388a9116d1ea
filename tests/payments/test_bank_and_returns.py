"""The bank file (templates, XLSX and CSV, full ID numbers only for the roles that see them)
and the bank's returns (CLI and page): matched rows returned, others refused by row, the same
file twice changes nothing, a returned payment is sent again on a supplementary roster."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from dajiuzhu.cli import main
from dajiuzhu.core import crypto
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.roles import Role
from dajiuzhu.payments.models import Payment, PaymentStatus, Roster
from dajiuzhu.payments.services import roster_build, roster_release
from tests.factories.accounts import client_for, make_user
from tests.factories.cases import make_approved_case

TN = "320402001"
WJ = "320412001"


@pytest.fixture
def released(preparer, approver, db):
    tn = [make_approved_case(TN, amount=a, start_month="2024-01") for a in ("1350.00", "620.50")]
    wj = make_approved_case(WJ, amount="990.00", start_month="2024-01")
    roster_build(actor=None, month="2024-01")
    wj_approver = make_user("pay_ap_wj", Role.APPROVER, "320412", "minzheng")
    for roster in Roster.objects.all():
        who = approver if roster.district_id == "320402" else wj_approver
        roster_release(actor=who, roster_id=roster.pk)
    return tn, wj


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_writes_the_bank_file_in_the_default_template(tmp_path, capsys, released):
    tn, _wj = released
    out = tmp_path / "bank.xlsx"
    code, stdout, _ = _run(
        capsys,
        "payments",
        "export",
        "--month",
        "2024-01",
        "--out",
        str(out),
        "--district",
        "320402",
    )
    assert code == 0
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary == {
        "month": "2024-01",
        "template": "yikatong",
        "rosters": 1,
        "lines": 2,
        "total": "1970.50",
        "out": str(out),
    }
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("序号", "姓名", "证件类型", "证件号码", "金额", "摘要", "业务流水号")
    first = tn[0].application.applicant
    number = crypto.decrypt(first.id_number_enc, field="person.id_number")
    assert rows[1][:5] == (1, first.name, "居民身份证", number, "1350.00")
    assert rows[1][6] == f"DJZ202401{tn[0].pk:09d}"
    assert oct(out.stat().st_mode)[-3:] == "600"
    assert AuditEvent.objects.filter(action="payments.bank_file").exists()
    assert AuditEvent.objects.filter(action="person.reidentify").exists()


def test_another_template_as_csv(tmp_path, capsys, released):
    out = tmp_path / "bank.csv"
    code, _, _ = _run(
        capsys,
        "payments",
        "export",
        "--month",
        "2024-01",
        "--out",
        str(out),
        "--template",
        "jsbank",
    )
    assert code == 0
    lines = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert lines[0] == ["流水号", "户名", "身份证号", "代发金额", "用途", "所属期", "区县", "镇街"]
    assert len(lines) == 4  # 天宁区 two, 武进区 one
    assert {row[4] for row in lines[1:]} == {"最低生活保障"}


def test_an_unknown_template_or_an_unreleased_month_is_refused(tmp_path, capsys, released):
    code, _, err = _run(
        capsys,
        "payments",
        "export",
        "--month",
        "2024-01",
        "--out",
        str(tmp_path / "x.xlsx"),
        "--template",
        "nosuch",
    )
    assert code == 2 and "没有名为“nosuch”的代发模板" in err
    code, _, err = _run(
        capsys, "payments", "export", "--month", "2024-02", "--out", str(tmp_path / "x.xlsx")
    )
    assert code == 2 and "2024-02没有已审核发放的名册" in err


def _returns_file(tmp_path, rows, name="returns.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["业务流水号", "姓名", "退回原因"])
        w.writerows(rows)
    return path


def test_returns_are_imported_once_and_rows_of_other_districts_refused(tmp_path, capsys, released):
    tn, wj = released
    tn_pay = Payment.objects.get(case=tn[0])
    wj_pay = Payment.objects.get(case=wj)
    path = _returns_file(
        tmp_path,
        [
            [tn_pay.payment_id, "x", "账户已销户"],
            [wj_pay.payment_id, "y", "户名不符"],
            ["DJZ0", "z", ""],
        ],
    )
    code, out, _ = _run(capsys, "payments", "returns", str(path))
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["district"] == "320402"
    assert (summary["rows"], summary["returned"], summary["already"]) == (3, 1, 0)
    assert [(r["row"], r["code"]) for r in summary["refused"]] == [
        (3, "other_district"),
        (4, "unknown"),
    ]
    tn_pay.refresh_from_db()
    wj_pay.refresh_from_db()
    assert tn_pay.status == PaymentStatus.RETURNED and tn_pay.return_reason == "账户已销户"
    assert wj_pay.status == PaymentStatus.PAID
    code, out, _ = _run(capsys, "payments", "returns", str(path))
    again = json.loads(out.strip().splitlines()[-1])
    assert (again["returned"], again["already"], again["duplicate_file"]) == (0, 1, True)


def test_a_returns_file_matching_no_payment_is_refused_whole(tmp_path, capsys, released):
    path = _returns_file(tmp_path, [["NOPE-1", "x", "y"]])
    code, _, err = _run(capsys, "payments", "returns", str(path))
    assert code == 2 and "没有任何一行与平台的发放记录相符" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,金额\n张三,1\n", encoding="utf-8")
    code, _, err = _run(capsys, "payments", "returns", str(bad))
    assert code == 2 and "缺少发放流水号列" in err


def test_a_returned_payment_is_sent_again_under_its_id_on_a_supplementary_roster(
    tmp_path, capsys, released, preparer, approver
):
    tn, _ = released
    payment = Payment.objects.get(case=tn[0])
    _run(
        capsys,
        "payments",
        "returns",
        str(_returns_file(tmp_path, [[payment.payment_id, "", "销户"]])),
    )
    client = client_for(preparer)
    page = client.get("/work/payments/returns/").content.decode()
    assert payment.payment_id in page and "重新发放" in page
    client.post("/work/payments/returns/repay/", {"payment_id": payment.payment_id})
    body = client.post(
        "/api/v1/payments/rosters", {"month": "2024-01"}, content_type="application/json"
    ).json()
    assert body["resent"] == 1 and body["rosters_created"] == 1
    supplementary = Roster.objects.get(district_id="320402", month="2024-01", seq=2)
    assert supplementary.lines == 1 and str(supplementary.total) == "1350.00"
    roster_release(actor=approver, roster_id=supplementary.pk)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REPAID and payment.resent_on_id == supplementary.pk
    again = client.post(
        "/api/v1/payments/rosters", {"month": "2024-01"}, content_type="application/json"
    ).json()
    assert again["rosters_created"] == 0 and again["resent"] == 0


def test_the_returns_page_refuses_a_file_of_another_district(tmp_path, released, wj_preparer):
    tn, _ = released
    payment = Payment.objects.get(case=tn[0])
    path = _returns_file(tmp_path, [[payment.payment_id, "", "销户"]])
    with path.open("rb") as fh:
        r = client_for(wj_preparer).post("/api/v1/payments/returns", {"file": fh})
    assert r.status_code == 404
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID


def test_a_returns_file_for_an_unknown_district_is_refused(tmp_path, capsys, released):
    tn, _ = released
    payment = Payment.objects.get(case=tn[0])
    path = _returns_file(tmp_path, [[payment.payment_id, "", "销户"]])
    code, _, err = _run(capsys, "payments", "returns", str(path), "--district", "999999")
    assert code == 2 and "没有代码为999999的区(市)" in err
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
