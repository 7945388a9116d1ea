"""「协助申请」 on a warning: the intake prefilled from it; the submission links back and sets
the warning's outcome "helped to apply"."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from dajiuzhu.cases.models import Application
from dajiuzhu.registry.models import Person
from dajiuzhu.warnings.models import Outcome, Status, Warning
from dajiuzhu.warnings.services import scan_run
from tests.cases.conftest import PDF
from tests.factories.accounts import client_for
from tests.factories.city import YEAR, City


def test_helping_to_apply_from_a_warning_sets_its_outcome(db, caseworker, outsider_ly):
    city = City()
    subject = city.person("协助", household_no="HX-HELP")
    city.accident(subject, "AC-HELP", f"{YEAR}-05-05", "serious")
    city.load()
    scan_run(year=YEAR, rules=["TRAFFIC"])
    warning = Warning.objects.get(event_ref="AC-HELP")
    person = Person.objects.get(person_key=subject.key)
    url = f"/work/cases/from-warning/{warning.pk}/"
    assert client_for(outsider_ly).get(url).status_code == 404
    client = client_for(caseworker)
    detail = client.get(f"/work/warnings/{warning.pk}/").content.decode()
    assert url in detail
    page = client.get(url).content.decode()
    assert person.name in page and "协助申请" in page
    form = {
        "action": "submit",
        "programmes": ["linshi"],
        "commitment": "1",
        "idempotency_key": "help-1",
        f"scan_{person.pk}": SimpleUploadedFile("a.pdf", PDF),
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    app = Application.objects.get()
    assert app.warning_id == warning.pk and app.applicant_id == person.pk
    warning.refresh_from_db()
    assert warning.outcome == Outcome.HELPED_TO_APPLY
    assert warning.status == Status.INVESTIGATED
    assert warning.programme_code == "linshi"
    assert app.application_no in warning.notes
