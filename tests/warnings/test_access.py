"""Who sees a warning is decided once (``warnings.access``): the reads and the writes fetch it
with the scope in the query."""

from __future__ import annotations

import pytest
from django.db import transaction

from dajiuzhu.core.access import AccessDenied, NotFound
from dajiuzhu.core.services import division_create
from dajiuzhu.warnings import investigation, scanning, selectors
from dajiuzhu.warnings.access import access_warning_by_id
from dajiuzhu.warnings.models import Warning
from tests.factories.accounts import make_user
from tests.factories.city import TN_COMMUNITY, TN_TOWN, YEAR


@pytest.fixture
def scanned(city):
    scanning.scan_run(year=YEAR)
    return city


def _warning(city, rule, label) -> Warning:
    return Warning.objects.get(rule=rule, person_key=city.people[label].key)


def test_a_warning_is_found_within_the_scope_only(scanned, tn_clerk, wj_caseworker, city_admin):
    tianning = _warning(scanned, "MED_RETURN", "med_return")
    wujin = _warning(scanned, "DISASTER", "disaster")
    unrouted = _warning(scanned, "TRAFFIC", "no_hukou")
    assert access_warning_by_id(tn_clerk, tianning.pk).pk == tianning.pk
    assert access_warning_by_id(wj_caseworker, wujin.pk).pk == wujin.pk
    assert access_warning_by_id(city_admin, unrouted.pk).pk == unrouted.pk
    for user, warning in ((wj_caseworker, tianning), (tn_clerk, wujin), (tn_clerk, unrouted)):
        with pytest.raises(NotFound):
            access_warning_by_id(user, warning.pk)
        with pytest.raises(NotFound):
            access_warning_by_id(user, warning.pk, for_update=True)
    with pytest.raises(NotFound):
        access_warning_by_id(tn_clerk, 999_999)


def test_the_assignee_sees_it_outside_their_own_community(scanned, tn_clerk):
    """A grid worker of one community sent to a warning of another community of the town."""
    w = _warning(scanned, "TRAFFIC", "traffic")
    division_create(actor=None, parent_code=TN_TOWN, code=TN_TOWN + "002", name="二社区")
    grid = make_user("tn_grid_other", "grid_worker", TN_TOWN + "002")
    assert w.division_code.startswith(TN_COMMUNITY)
    with pytest.raises(NotFound):
        access_warning_by_id(grid, w.pk)
    investigation.warning_assign(actor=tn_clerk, warning_id=w.pk, assignee_id=grid.pk)
    assert access_warning_by_id(grid, w.pk).pk == w.pk
    with transaction.atomic():
        assert access_warning_by_id(grid, w.pk, for_update=True).assignee_id == grid.pk


def test_reads_and_writes_refuse_the_same_warnings(scanned, tn_clerk, wj_caseworker):
    w = _warning(scanned, "MED_FALL", "med_fall")
    with pytest.raises(NotFound):
        selectors.warning_detail(user=wj_caseworker, warning_id=w.pk)
    with pytest.raises(NotFound):
        investigation.warning_assign(actor=wj_caseworker, warning_id=w.pk, assignee_id=1)
    with pytest.raises(NotFound):
        investigation.warning_close(actor=wj_caseworker, warning_id=w.pk)
    with pytest.raises(NotFound):
        investigation.warning_record_outcome(
            actor=wj_caseworker, warning_id=w.pk, outcome="moved_away", notes="x"
        )
    steward = make_user("tn_steward", "data_steward", "320402", "minzheng")
    with pytest.raises(AccessDenied):  # a role that does not read warnings at all
        selectors.warning_detail(user=steward, warning_id=w.pk)
