"""The workflow through its services: submission rules, the statutory steps, decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dajiuzhu.cases import services
from dajiuzhu.cases.models import Application, Case, CaseStatus
from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.models import AuditEvent
from dajiuzhu.core.services import ServiceError
from tests.cases.conftest import id_number_of, paper_for, submit_window
from tests.factories.registry import make_household


def test_window_submission_is_routed_to_the_applicant_town(household, clerk_wj):
    _h, people = household
    app = submit_window(clerk_wj, people, programmes=("dibao", "yiliao"), idempotency_key="k1")
    assert app.accepted_division_id == "320412001"
    assert app.town_id == "320402001"
    assert app.channel == "window"
    # no department data at all: the check cannot run, and the case says so (nothing invented)
    assert app.verification_report_id is None
    assert app.check_note.startswith("前置核对未能完成")
    cases = list(app.cases.order_by("programme"))
    assert [c.programme for c in cases] == ["dibao", "yiliao"]
    assert [c.department_id for c in cases] == ["minzheng", "yibao"]
    assert all(c.status == CaseStatus.ACCEPTED for c in cases)
    dibao = cases[0]
    steps = {s.step: s for s in dibao.steps.all()}
    assert steps["accept"].done_at is not None
    assert steps["check"].done_at is None  # the check step waits for data
    assert steps["investigate"].due_on is not None
    assert dibao.due_on > dibao.accepted_on
    assert AuditEvent.objects.filter(action="case.submit", object_id=str(app.pk)).count() == 1
    again = submit_window(clerk_wj, people, programmes=("dibao", "yiliao"), idempotency_key="k1")
    assert again.pk == app.pk
    assert Application.objects.count() == 1


def test_second_open_application_is_refused_with_the_open_one(household, clerk_wj):
    _h, people = household
    app = submit_window(clerk_wj, people)
    with pytest.raises(services.DuplicateOpenCase) as exc:
        submit_window(clerk_wj, people)
    assert exc.value.code == "case.duplicate_open"
    assert exc.value.application_no == app.application_no
    assert app.application_no in exc.value.message
    assert Application.objects.count() == 1


def test_bad_input_gives_clear_errors_and_nothing_is_stored(household, clerk_wj):
    _h, people = household
    with pytest.raises(ServiceError) as exc:
        services.application_submit(
            actor=clerk_wj,
            channel="window",
            id_number="320402198001011234",
            programmes=["dibao"],
            commitment=True,
        )
    assert exc.value.code in ("id_number.checksum", "case.applicant_unknown")
    with pytest.raises(ServiceError) as exc:
        services.application_submit(
            actor=clerk_wj,
            channel="window",
            id_number=id_number_of(people[0]),
            programmes=["dibao"],
            paper_authorisations=paper_for(people[:1]),
            commitment=True,
        )
    assert exc.value.code == "case.authorisation_missing"
    assert people[1].name in exc.value.message
    _other, others = make_household("320402001")
    with pytest.raises(ServiceError) as exc:
        services.application_submit(
            actor=clerk_wj,
            channel="window",
            id_number=id_number_of(people[0]),
            programmes=["dibao"],
            paper_authorisations={**paper_for(people), **paper_for(others[:1])},
            commitment=True,
        )
    assert exc.value.code == "case.member_not_in_household"
    bad = {
        people[0].pk: services.Upload("a.pdf", b"GIF89a...."),
        people[1].pk: services.Upload("b.pdf", b"%PDF-1"),
    }
    with pytest.raises(ServiceError) as exc:
        services.application_submit(
            actor=clerk_wj,
            channel="window",
            id_number=id_number_of(people[0]),
            programmes=["dibao"],
            paper_authorisations=bad,
            commitment=True,
        )
    assert exc.value.code == "upload.type"
    assert Application.objects.count() == 0 and Case.objects.count() == 0


def test_the_statutory_dibao_workflow_to_approval(
    household,
    clerk_wj,
    grid,
    caseworker,
    approver,
    approver2,
    sms_outbox,
    django_capture_on_commit_callbacks,
):
    _h, people = household
    app = submit_window(clerk_wj, people)
    case = app.cases.get()
    with pytest.raises(AccessDenied):
        services.case_investigation_record(
            actor=clerk_wj, case_id=case.pk, worker_ids=[grid.pk], findings="x"
        )
    with pytest.raises(ServiceError) as exc:
        services.case_investigation_record(
            actor=caseworker, case_id=case.pk, worker_ids=[], findings="入户"
        )
    assert exc.value.code == "case.two_workers"
    services.case_investigation_record(
        actor=caseworker, case_id=case.pk, worker_ids=[grid.pk], findings="家中无固定收入"
    )
    services.case_town_review(actor=caseworker, case_id=case.pk, opinion="符合条件,拟批准")
    case.refresh_from_db()
    assert case.status == CaseStatus.PUBLICITY
    publicity = case.steps.get(step="publicity")
    assert publicity.due_on == publicity.started_on + timedelta(days=7)
    with pytest.raises(ServiceError) as exc:
        services.case_publicity_close(actor=caseworker, case_id=case.pk)
    assert exc.value.code == "case.publicity_running"
    services.case_publicity_close(actor=caseworker, case_id=case.pk, today=publicity.due_on)
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDING
    version = case.version
    with django_capture_on_commit_callbacks(execute=True):
        services.case_decide(
            actor=approver,
            case_id=case.pk,
            approve=True,
            version=version,
            amount="800",
            override_reason="按实际测算",
        )
    with pytest.raises(ServiceError) as exc:
        services.case_decide(
            actor=approver2, case_id=case.pk, approve=False, version=version, reasons="不符合"
        )
    assert exc.value.code == "case.conflict"
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert str(case.amount) == "800.00"
    assert case.decided_by == approver
    assert case.start_month > case.decided_on.strftime("%Y-%m")
    assert any("已批准" in m.text for m in sms_outbox)


def test_relatives_are_flagged_and_recused(household, clerk_wj, grid, caseworker):
    _h, people = household
    services.relative_declare(actor=caseworker, id_number=id_number_of(people[1]), relation="子女")
    app = submit_window(clerk_wj, people)
    case = app.cases.get()
    assert case.relative_flag and caseworker.pk in case.related_staff
    assert case.steps.filter(step="district_visit").exists()
    with pytest.raises(AccessDenied) as exc:
        services.case_investigation_record(
            actor=caseworker, case_id=case.pk, worker_ids=[grid.pk], findings="x"
        )
    assert "回避" in exc.value.message


def test_the_front_check_attaches_the_report_of_the_latest_month_with_data(
    complete_family, clerk_wj
):
    """前置核对 at submission: the departments' data reach 2023-08, so the check runs for that
    month (the month before today has no data) and its report is attached to the application."""
    family = complete_family
    app = _submit_for(family, clerk_wj)
    report = app.verification_report
    assert report is not None
    assert (report.household_id, report.month) == (family.household.pk, "2023-08")
    assert not app.check_note.startswith("前置核对未能完成")
    case = app.cases.get()
    assert case.steps.get(step="check").done_at is not None


def test_a_submission_holds_the_audit_chain_only_for_its_last_statements(
    complete_family, clerk_wj, monkeypatch
):
    """The chain's head is locked from an append until the transaction commits, and every
    audited request of the city waits for it: a submission appends its events (each adult's
    authorisation, the check's report, the submission) together at its end, not before the
    household check runs."""
    from dajiuzhu.core.models import AuditHead
    from dajiuzhu.verification import services as verification

    family = complete_family
    head = AuditHead.objects.filter(id=1).first()
    before = head.count if head else 0
    seen: dict[str, int] = {}
    real_verify = verification.verify

    def spy(**kwargs):
        head = AuditHead.objects.filter(id=1).first()
        seen["head_during_check"] = head.count if head else 0
        seen["events_during_check"] = AuditEvent.objects.count()
        return real_verify(**kwargs)

    monkeypatch.setattr(verification, "verify", spy)
    events_before = AuditEvent.objects.count()
    app = _submit_for(family, clerk_wj)
    assert app.verification_report is not None
    assert seen == {"head_during_check": before, "events_during_check": events_before}
    events = list(AuditEvent.objects.filter(id__gt=0).order_by("id")[events_before:])
    actions = [e.action for e in events]
    assert actions.count("verification.authorisation.record") == 2
    assert "verification.check" in actions
    assert actions[-1] == "case.submit"
    assert AuditHead.objects.get(id=1).count == before + len(events)
    # recorded in order: each event keeps the time it was recorded
    assert [e.at for e in events] == sorted(e.at for e in events)


def _submit_for(family, clerk):
    """The complete family's 低保 application at a window, both adults' scans attached."""
    return services.application_submit(
        actor=clerk,
        channel="window",
        id_number=family.numbers["head"],
        programmes=["dibao"],
        paper_authorisations=paper_for([family.head, family.spouse]),
        commitment=True,
    )
