"""The review pages: the caseworker's queue, the review page, the approver's confirmation,
the grid worker's visit list, and the resident's stop notice on the progress page."""

from __future__ import annotations

import pytest
from django.test import Client

from dajiuzhu.cases.models import CaseStatus
from dajiuzhu.reviews import services
from dajiuzhu.reviews.models import Review
from tests.factories.reviews import approved_case, authorise
from tests.factories.verification import load_family


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def checked(db, caseworker):
    family = load_family(head_wage="9000.00", complete=True)
    authorise(family.household)
    case = approved_case(family.household, amount="300.00", start_month="2025-06")
    services.reviews_schedule(month="2025-12")
    services.reviews_run_pending()
    return case, Review.objects.get()


def test_queue_detail_and_confirm_a_stop(checked, caseworker, approver, grid):
    case, review = checked
    page = _client(caseworker).get("/work/reviews/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "2025-12" in text and "停发" in text and "周**" in text
    page = _client(caseworker).get(f"/work/reviews/{review.pk}/")
    assert "经复核,家庭人均收入或家庭财产状况不再符合低保条件" in page.content.decode()
    # the caseworker sends a visit; the grid worker sees it on the phone list and records it
    _client(caseworker).post(f"/work/reviews/{review.pk}/assign/", {"assignee": grid.pk})
    visits = _client(grid).get("/work/reviews/visits/").content.decode()
    assert f'id="r{review.pk}"' in visits and "周建华" in visits
    _client(grid).post(
        f"/work/reviews/{review.pk}/visit/", {"findings": "已就业,月收入稳定", "next": "visits"}
    )
    assert (
        "暂无派发给您的复核入户任务" in _client(grid).get("/work/reviews/visits/").content.decode()
    )
    response = _client(approver).post(f"/work/reviews/{review.pk}/confirm/", {"outcome": "stop"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.STOPPED
    pdf = _client(approver).get(f"/work/cases/{case.pk}/notice.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_refusal_is_shown_on_the_page(checked, approver):
    _case, review = checked
    response = _client(approver).post(
        f"/work/reviews/{review.pk}/confirm/", {"outcome": "continue"}, follow=True
    )
    assert "复核结果与测算建议不同,请写明理由" in response.content.decode()
    assert Review.objects.get().status == "checked"


def test_out_of_scope_is_404(checked, outsider):
    _case, review = checked
    assert _client(outsider).get(f"/work/reviews/{review.pk}/").status_code == 404
    assert "没有符合条件的复核任务" in _client(outsider).get("/work/reviews/").content.decode()


def test_the_resident_sees_the_stop_notice_on_the_progress_page(checked, approver):
    from dajiuzhu.core.models import User
    from dajiuzhu.registry.models import Person
    from tests.factories.accounts import client_for

    case, review = checked
    Person.objects.filter(pk=case.application.applicant_id).update(phone_index="probe-phone")
    resident = User.objects.create(username="r_stop", role="resident", phone_index="probe-phone")
    services.review_confirm(actor=approver, review_id=review.pk)
    no = case.application.application_no
    page = client_for(resident).get(f"/portal/applications/{no}/").content.decode()
    assert "已停发:发放至" in page and "查看停发通知书(PDF)" in page
    assert "经复核,家庭人均收入或家庭财产状况不再符合低保条件" in page
    pdf = client_for(resident).get(f"/portal/applications/{no}/notice/{case.pk}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_api_lists_and_confirms(checked, caseworker, approver, outsider):
    from tests.factories.accounts import client_for

    case, review = checked
    body = client_for(caseworker).get("/api/v1/reviews").json()
    assert body["total"] == 1
    assert (body["rows"][0]["id"], body["rows"][0]["proposed_outcome"]) == (review.pk, "stop")
    assert client_for(outsider).get(f"/api/v1/reviews/{review.pk}").status_code == 404
    refused = client_for(approver).post(
        f"/api/v1/reviews/{review.pk}/confirm",
        {"outcome": "continue"},
        content_type="application/json",
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "review.reasons")
    done = client_for(approver).post(
        f"/api/v1/reviews/{review.pk}/confirm", {}, content_type="application/json"
    )
    assert (done.status_code, done.json()["outcome"], done.json()["status"]) == (
        200,
        "stop",
        "done",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.STOPPED
