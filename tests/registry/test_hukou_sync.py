from datetime import date

from dajiuzhu.core import crypto
from dajiuzhu.core.idnumber import make_id_number
from dajiuzhu.core.models import AuditEvent, Division
from dajiuzhu.registry.bulk import HukouRow
from dajiuzhu.registry.models import Household, Membership, Person
from dajiuzhu.registry.services import hukou_sync


def _row(seq, household, relation="head", status="normal", name=None, division="320402001001"):
    number = make_id_number("320402", date(1970, 1, 1 + seq % 28), seq)
    return HukouRow(
        id_number=number,
        name=name or f"户籍{seq}",
        sex="M" if seq % 2 else "F",
        birth_date=date(1970, 1, 1 + seq % 28),
        household_no=household,
        relation=relation,
        division_code=division,
        address="青龙路1号",
        status=status,
    )


def test_a_first_load_creates_persons_households_and_memberships(db):
    rows = [_row(1, "H1"), _row(2, "H1", "spouse"), _row(3, "H2")]
    counts = hukou_sync(rows=rows, as_of=date(2023, 1, 1), source="batch-1")
    assert counts.persons_inserted == 3
    assert counts.households_inserted == 2
    assert counts.memberships_started == 3
    assert counts.divisions_created == 1
    assert Division.objects.get(code="320402001001").level == "community"
    person = Person.objects.get(id_index=crypto.id_index(rows[1].id_number))
    assert crypto.decrypt(person.id_number_enc, field="person.id_number") == rows[1].id_number
    assert person.person_key == crypto.person_key(rows[1].id_number)
    assert Membership.objects.get(person=person, end_date__isnull=True).relation == "spouse"
    event = AuditEvent.objects.filter(action="registry.hukou_sync").get()
    assert rows[0].id_number not in str(event.detail)


def test_loading_the_same_rows_twice_changes_nothing(db):
    rows = [_row(1, "H1"), _row(2, "H1", "spouse")]
    hukou_sync(rows=rows, as_of=date(2023, 1, 1), source="b1")
    counts = hukou_sync(rows=rows, as_of=date(2023, 2, 1), source="b2")
    assert (counts.persons_inserted, counts.persons_updated, counts.households_inserted) == (
        0,
        0,
        0,
    )
    assert (counts.memberships_started, counts.memberships_ended, counts.relations_changed) == (
        0,
        0,
        0,
    )
    assert Person.objects.count() == 2
    assert Membership.objects.count() == 2


def test_a_move_a_new_relation_a_death_and_a_new_name_are_applied(db):
    hukou_sync(
        rows=[_row(1, "H1"), _row(2, "H1", "spouse"), _row(3, "H1", "child")],
        as_of=date(2023, 1, 1),
        source="b1",
    )
    changed = [
        _row(1, "H1", status="deceased"),
        _row(2, "H1", "head", name="改名"),
        _row(3, "H9", "head", division="320402002001"),
    ]
    counts = hukou_sync(rows=changed, as_of=date(2023, 6, 1), source="b2")
    assert counts.persons_updated == 3
    assert counts.memberships_ended == 1
    assert counts.memberships_started == 1
    assert counts.relations_changed == 1
    p1, p2, p3 = (Person.objects.get(id_index=crypto.id_index(r.id_number)) for r in changed)
    assert p1.status == "deceased"
    assert p2.name == "改名"
    old = Membership.objects.get(person=p3, household__household_no="H1")
    assert old.end_date == date(2023, 6, 1)
    assert Membership.objects.get(person=p3, end_date__isnull=True).household.household_no == "H9"
    assert Household.objects.get(household_no="H9").division_id == "320402002001"
