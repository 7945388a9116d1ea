"""Set-up of `cases_load.py` (not timed): 100,000 cases in every state, residents and town
caseworkers with sessions, a pool of households able to submit (each adult holding a signing
code), and a portal token, written to a fixture file for the locust users. Run by
`cases_load.py` in the loaded city's environment:

    python benchmarks/_cases_fixture.py CASES POOL RESIDENTS TOWNS CODE OUT
"""

# ruff: noqa: E402 (Django is set up before the models are imported)
import json
import os
import random
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.utils import timezone

from dajiuzhu.cases import workflow
from dajiuzhu.cases.models import Application, Case, CaseStatus, Channel, SigningCode, StepRecord
from dajiuzhu.cases.services import _code_hash
from dajiuzhu.core import crypto
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role
from dajiuzhu.core.services import api_token_create, user_create
from dajiuzhu.policy import catalogue
from dajiuzhu.registry.models import Membership, Person

cases_wanted, pool_size, residents_wanted, towns_wanted, code, out = (
    int(sys.argv[1]),
    int(sys.argv[2]),
    int(sys.argv[3]),
    int(sys.argv[4]),
    sys.argv[5],
    sys.argv[6],
)
if Case.objects.exists():
    sys.exit("this database already holds cases; rebuild the city (--rebuild)")
today = timezone.localdate()
rng = random.Random(12)
households = defaultdict(list)
# living members only (a deceased member neither applies nor signs)
for hh, pid, birth, town in (
    Membership.objects.filter(end_date__isnull=True, person__status="normal")
    .values_list(
        "household_id", "person_id", "person__birth_date", "household__division__parent_id"
    )
    .iterator(chunk_size=20000)
):
    households[hh].append((pid, birth, town))
order = sorted(households)
rng.shuffle(order)


def adult(birth):
    return (today - birth).days >= 18 * 365.25


with_adult = [h for h in order if any(adult(b) for _, b, _ in households[h])]
case_households = with_adult[:cases_wanted]
pool_households = with_adult[cases_wanted : cases_wanted + pool_size]
assert len(case_households) == cases_wanted and len(pool_households) == pool_size

# The cases: statutory programmes, states spread as a working city's would be.
PROGRAMMES = ["dibao"] * 6 + ["tekun", "yiliao", "dibian", "zhichu"]
STATES = (
    [CaseStatus.ACCEPTED] * 10
    + [CaseStatus.INVESTIGATING] * 15
    + [CaseStatus.TOWN_REVIEW] * 10
    + [CaseStatus.PUBLICITY] * 10
    + [CaseStatus.DECIDING] * 10
    + [CaseStatus.APPROVED] * 35
    + [CaseStatus.REFUSED] * 10
)
CURRENT = {  # the step a case in this state is at (None: all done)
    CaseStatus.ACCEPTED: "investigate",
    CaseStatus.INVESTIGATING: "investigate",
    CaseStatus.TOWN_REVIEW: "town_review",
    CaseStatus.PUBLICITY: "publicity",
    CaseStatus.DECIDING: "decide",
    CaseStatus.APPROVED: None,
    CaseStatus.REFUSED: None,
}
now = timezone.now()
apps, specs = [], []
for i, hh in enumerate(case_households):
    members = households[hh]
    applicant = next(pid for pid, b, _ in members if adult(b))
    town = members[0][2]
    accepted = today - timedelta(days=rng.randrange(1, 90))
    apps.append(
        Application(
            application_no=f"SQ{accepted:%Y%m%d}{900000 + i:06d}"[:20],
            household_id=hh,
            applicant_id=applicant,
            channel=rng.choice(Channel.values),
            accepted_division_id=town,
            town_id=town,
            commitment_signed=True,
            submitted_at=datetime.combine(accepted, datetime.min.time(), tzinfo=UTC),
            routed_at=datetime.combine(accepted, datetime.min.time(), tzinfo=UTC),
        )
    )
    specs.append((rng.choice(PROGRAMMES), rng.choice(STATES), accepted))
with transaction.atomic():
    Application.objects.bulk_create(apps, batch_size=5000)
    cases = []
    for app, (prog, state, accepted) in zip(apps, specs, strict=True):
        p = catalogue.programme(prog)
        decided = state in (CaseStatus.APPROVED, CaseStatus.REFUSED)
        amount = Decimal(rng.choice(["535.00", "820.00", "1070.00"]))
        cases.append(
            Case(
                application_id=app.pk,
                household_id=app.household_id,
                programme=prog,
                department_id=p.intake.decided_by.department,
                decision_level=p.intake.decided_by.level,
                workflow=p.intake.workflow,
                town_id=app.town_id,
                status=state,
                accepted_on=accepted,
                due_on=workflow.whole_case_due(p, accepted),
                proposed_amount=amount,
                amount=amount if state == CaseStatus.APPROVED else None,
                start_month=workflow.next_month(accepted + timedelta(days=20))
                if state == CaseStatus.APPROVED
                else "",
                decided_on=accepted + timedelta(days=20) if decided else None,
            )
        )
    Case.objects.bulk_create(cases, batch_size=5000)
    steps = []
    for case in cases:
        p = catalogue.programme(case.programme)
        current = CURRENT[case.status]
        reached = False
        for n, s in enumerate(p.intake.steps):
            rec = StepRecord(
                case_id=case.pk,
                step=s.step,
                order=n * 10,
                started_on=case.accepted_on,
                due_on=None
                if s.step == "accept"
                else workflow.step_due(p, s.step, case.accepted_on, case.due_on),
            )
            if s.step == current:
                reached = True
            elif not reached:
                rec.done_at = now
                rec.outcome = "已完成"
            else:
                rec.started_on = None
                rec.due_on = None
            steps.append(rec)
        if len(steps) >= 50000:
            StepRecord.objects.bulk_create(steps, batch_size=5000)
            steps = []
    StepRecord.objects.bulk_create(steps, batch_size=5000)


# Residents: the applicants of some cases, with a registered phone and a log-in of their own.
def session_for(user):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


residents = []
for n, app in enumerate(apps[:residents_wanted]):
    phone = f"139{n:08d}"
    index = crypto.phone_index(phone)
    Person.objects.filter(pk=app.applicant_id).update(
        phone_enc=crypto.encrypt(phone, field="person.phone"), phone_index=index
    )
    user = User.objects.create(
        username=f"r_bench_{n}",
        role=Role.RESIDENT,
        phone_index=index,
        phone_enc=crypto.encrypt(phone, field="user.phone"),
    )
    residents.append({"session": session_for(user), "application_no": app.application_no})

# Town caseworkers, each with the case ids of their town.
by_town = defaultdict(list)
for case in cases:
    by_town[case.town_id].append(case.pk)
staff = []
for n, town in enumerate(sorted(by_town, key=lambda t: -len(by_town[t]))[:towns_wanted]):
    user = user_create(
        actor=None,
        username=f"cw_bench_{n}",
        password="x",  # noqa: S106 (throw-away benchmark user)
        role=Role.CASEWORKER,
        scope_code=town,
        check_password=False,
    )
    staff.append({"session": session_for(user), "cases": by_town[town][:2000]})

# The submission pool: every adult signs with a code already sent (hash stored, as the SMS
# step leaves it).
pool = []
codes = []
expires = now + timedelta(days=2)
wanted = set()
for hh in pool_households:
    wanted.update(pid for pid, b, _ in households[hh] if adult(b))
numbers = dict(Person.objects.filter(pk__in=wanted).values_list("pk", "id_number_enc"))
for hh in pool_households:
    adults = [pid for pid, b, _ in households[hh] if adult(b)]
    for pid in adults:
        codes.append(
            SigningCode(
                person_id=pid, code_hash=_code_hash(pid, code), created_at=now, expires_at=expires
            )
        )
    ids = [crypto.decrypt(bytes(numbers[pid]), field="person.id_number") for pid in adults]
    pool.append({"id_number": ids[0], "adults": ids})
SigningCode.objects.bulk_create(codes, batch_size=5000)
_, token = api_token_create(actor=None, department_code="minzheng", name="locust")
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # synthetic ID numbers only
with os.fdopen(fd, "w") as fh:
    json.dump(
        {"token": token, "code": code, "residents": residents, "staff": staff, "pool": pool}, fh
    )
print(
    json.dumps(
        {
            "cases": Case.objects.count(),
            "steps": StepRecord.objects.count(),
            "persons": Person.objects.count(),
            "residents": len(residents),
            "caseworkers": len(staff),
            "pool": len(pool),
            "signing_codes": len(codes),
        }
    )
)
