"""The other paths of the workflow: 先行救助, minors' 特困 not posted, an objection during 公示,
the extension to 45 working days, the short catalogue workflow, the limits from the dated
parameters."""

from __future__ import annotations

from datetime import date

import pytest

from dajiuzhu.cases import services, workflow
from dajiuzhu.cases.models import CaseStatus
from dajiuzhu.core.access import AccessDenied
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.services import ServiceError
from dajiuzhu.policy import catalogue
from tests.cases.conftest import id_number_of, submit_window
from tests.factories.accounts import make_user
from tests.factories.registry import make_household


def test_due_dates_come_from_the_dated_parameters(household, clerk_wj):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    start = case.accepted_on
    assert case.due_on == add_working_days(start, 30)
    steps = {s.step: s for s in case.steps.all()}
    assert steps["investigate"].due_on == add_working_days(start, 3)
    assert steps["town_review"].due_on == add_working_days(start, 15)
    assert steps["decide"].due_on is None  # counted from the town's review
    assert workflow.limit("handling.dibao.whole_case", on=date(2024, 1, 1))[0] == 30


def test_advance_payment_for_urgent_temporary_assistance(household, clerk_wj, caseworker):
    _h, people = household
    case = submit_window(clerk_wj, people, programmes=("linshi",)).cases.get()
    assert case.decision_level == "town"
    services.case_advance_payment(actor=caseworker, case_id=case.pk, amount="2000", reason="火灾")
    case.refresh_from_db()
    assert case.advance_paid_on == case.accepted_on
    assert case.advance_file_due == add_working_days(case.accepted_on, 5)
    with pytest.raises(ServiceError) as exc:
        services.case_advance_payment(actor=caseworker, case_id=case.pk, amount="1", reason="x")
    assert exc.value.code == "case.advance_done"
    dibao = submit_window(clerk_wj, people, programmes=("dibao",)).cases.get()
    with pytest.raises(ServiceError) as exc:
        services.case_advance_payment(actor=caseworker, case_id=dibao.pk, amount="1", reason="x")
    assert exc.value.code == "case.no_advance"


def test_minors_tekun_cases_are_not_posted(clerk_wj, grid, caseworker):
    _h, people = make_household("320402001", members=1)
    from dajiuzhu.registry.models import Person

    Person.objects.filter(pk=people[0].pk).update(birth_date=date(2015, 3, 1))
    people[0].refresh_from_db()
    app = services.application_submit(
        actor=clerk_wj,
        channel="window",
        id_number=id_number_of(people[0]),
        programmes=["tekun"],
        commitment=True,
    )  # a child alone: no adult to sign
    case = app.cases.get()
    services.case_investigation_record(
        actor=caseworker, case_id=case.pk, worker_ids=[grid.pk], findings="事实无人抚养"
    )
    services.case_town_review(actor=caseworker, case_id=case.pk, opinion="拟纳入特困")
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDING
    assert "不张榜公示" in case.steps.get(step="publicity").outcome
    from dajiuzhu.cases.selectors import publicity_list

    assert publicity_list() == []


def test_an_objection_sends_the_case_back_to_investigation(household, clerk_wj, grid, caseworker):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    services.case_investigation_record(
        actor=caseworker, case_id=case.pk, worker_ids=[grid.pk], findings="困难"
    )
    services.case_town_review(actor=caseworker, case_id=case.pk, opinion="拟批准")
    services.case_objection_record(
        actor=caseworker, case_id=case.pk, text="群众反映其有营运车辆", handling="reinvestigation"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.objections.count() == 1
    assert case.steps.filter(step="investigate", round=2, done_at__isnull=True).exists()
    with pytest.raises(ServiceError):
        services.case_objection_record(
            actor=caseworker, case_id=case.pk, text="再次", handling="reinvestigation"
        )


def test_extension_to_45_working_days_needs_a_reason(household, clerk_wj, caseworker):
    _h, people = household
    case = submit_window(clerk_wj, people).cases.get()
    with pytest.raises(ServiceError) as exc:
        services.case_extend(actor=caseworker, case_id=case.pk, reason=" ")
    assert exc.value.code == "case.reason_required"
    services.case_extend(actor=caseworker, case_id=case.pk, reason="需核实异地房产")
    case.refresh_from_db()
    assert case.extended and case.due_on == add_working_days(case.accepted_on, 45)


def test_the_short_workflow_is_decided_by_the_owner_department(household, clerk_wj):
    _h, people = household
    case = submit_window(clerk_wj, people, programmes=("jiuye_yuanzhu",)).cases.get()
    assert case.status == CaseStatus.DECIDING
    assert [s.step for s in case.steps.order_by("order")] == list(catalogue.SHORT_STEPS)
    owner = catalogue.programme("jiuye_yuanzhu").intake.decided_by.department
    minzheng = make_user("ap_mz", "approver", "320402", "minzheng")
    if owner != "minzheng":
        with pytest.raises(AccessDenied):
            services.case_decide(
                actor=minzheng, case_id=case.pk, approve=True, version=case.version
            )
    approver = make_user("ap_owner", "approver", "320402", owner)
    services.case_decide(actor=approver, case_id=case.pk, approve=True, version=case.version)
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and case.amount is None


def test_a_resident_applies_only_in_their_own_name(household):
    from dajiuzhu.core.models import User

    _h, people = household
    resident = User.objects.create(username="r", role="resident", phone_index=people[1].phone_index)
    with pytest.raises(ServiceError) as exc:
        services.application_submit(
            actor=resident,
            channel="phone",
            id_number=id_number_of(people[0]),
            programmes=["dibao"],
            commitment=True,
        )
    assert exc.value.code == "case.not_self"
