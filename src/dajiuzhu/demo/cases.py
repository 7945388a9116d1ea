"""Demo applications in every state, from every channel, for several programmes, one started
from a warning — so that a newcomer sees the whole flow at once. Every write goes through the
services (audited) as the demo accounts would make it."""

from __future__ import annotations

import logging

from django.db import transaction

from dajiuzhu.cases import services
from dajiuzhu.cases.models import Application
from dajiuzhu.core import crypto
from dajiuzhu.core.models import User
from dajiuzhu.core.services import ServiceError
from dajiuzhu.registry.models import Household, Membership, Person
from dajiuzhu.registry.selectors import age_on

log = logging.getLogger("dajiuzhu.demo")
PAPER = b"%PDF-1.4\n% demo: signed paper authorisation (scan)\n"
SKIP_FIRST = 30  # the first 天宁区 households hold the verification demo's authorisations


def _with_adults(household: Household) -> tuple[Household, list[Person]] | None:
    from django.utils import timezone

    today = timezone.localdate()
    people = [
        m.person
        for m in Membership.objects.filter(household=household, end_date__isnull=True)
        .select_related("person")
        .order_by("start_date", "pk")
    ]
    adults = [p for p in people if age_on(p.birth_date, today) >= 18]
    if adults and all(p.status == "normal" for p in people):
        return household, adults
    return None


def _adults(household_no: str) -> tuple[Household, list[Person]] | None:
    household = Household.objects.filter(household_no=household_no).first()
    return _with_adults(household) if household is not None else None


def _households(limit: int) -> list[tuple[Household, list[Person]]]:
    out = []
    for household in Household.objects.filter(division__code__startswith="320402").order_by(
        "household_no"
    )[SKIP_FIRST : SKIP_FIRST + limit * 3]:
        found = _with_adults(household)
        if found is not None:
            out.append(found)
        if len(out) == limit:
            break
    return out


def _id(person: Person) -> str:
    return crypto.decrypt(person.id_number_enc, field="person.id_number")


def _paper(adults: list[Person]) -> dict[int, services.Upload]:
    return {p.pk: services.Upload(f"授权书-{p.pk}.pdf", PAPER) for p in adults}


def _set_demo_phones(adults: list[Person], first: str) -> None:
    """Demo only: the registry's hukou feed carries no phones; the demo resident's household
    gets them so that the resident can log in and see the application."""
    for n, person in enumerate(adults):
        phone = first if n == 0 else f"1380000{n + 1:04d}"
        Person.objects.filter(pk=person.pk).update(
            phone_enc=crypto.encrypt(phone, field="person.phone"),
            phone_index=crypto.phone_index(phone),
        )


def demo_cases() -> int:
    """Create the demo's applications once. Returns how many were created."""
    if Application.objects.exists():
        return 0
    from dajiuzhu.demo.accounts import DEMO_RESIDENT_PHONE

    users = {u.username: u for u in User.objects.filter(username__startswith=("tn_"))}
    users.update({u.username: u for u in User.objects.filter(username__startswith=("wj_"))})
    needed = ("tn_clerk", "tn_caseworker", "tn_grid", "tn_approver", "wj_clerk")
    if not all(n in users for n in needed) or not Household.objects.exists():
        return 0
    households = _households(8)
    if len(households) < 8:
        log.warning("demo.cases.few_households", extra={"found": len(households)})
        return 0
    clerk, wj_clerk = users["tn_clerk"], users["wj_clerk"]
    cw, grid, approver = users["tn_caseworker"], users["tn_grid"], users["tn_approver"]

    def window(n: int, programmes, *, by=clerk, **kwargs) -> Application:
        _h, adults = households[n]
        return services.application_submit(
            actor=by,
            channel="window",
            id_number=_id(adults[0]),
            programmes=list(programmes),
            paper_authorisations=_paper(adults),
            commitment=True,
            idempotency_key=f"demo-{n}",
            **kwargs,
        )

    def through_publicity(case_id: int) -> None:
        services.case_investigation_record(
            actor=cw,
            case_id=case_id,
            worker_ids=[grid.pk],
            findings="入户核实:家庭收入低,无大额财产",
        )
        services.case_town_review(actor=cw, case_id=case_id, opinion="经初审,符合条件,拟同意")

    def to_decision(case_id: int) -> None:
        through_publicity(case_id)
        from dajiuzhu.cases.models import StepRecord

        step = StepRecord.objects.filter(case_id=case_id, step="publicity").first()
        services.case_publicity_close(
            actor=cw, case_id=case_id, today=step.due_on if step else None
        )

    created = 0
    with transaction.atomic():
        # 1. just submitted at a 武进区 window for a 天宁区 household (全城办)
        window(0, ["dibao"], by=wj_clerk)
        # 2. the demo resident's application on the phone, with a document still owed (容缺)
        _h, adults = households[1]
        _set_demo_phones(adults, DEMO_RESIDENT_PHONE)
        services.application_submit(
            actor=None,
            channel="phone",
            id_number=_id(adults[0]),
            programmes=["dibao", "yiliao"],
            paper_authorisations=_paper(adults),
            commitment=True,
            missing_documents=["近三个月医疗费用票据"],
            idempotency_key="demo-1",
        )
        # 3. investigated, waiting for the town's review
        case = window(2, ["tekun"]).cases.get()
        services.case_investigation_record(
            actor=cw, case_id=case.pk, worker_ids=[grid.pk], findings="老人独居,无子女赡养"
        )
        # 4. in 公示 (shown on /gongshi/)
        through_publicity(window(3, ["dibao"]).cases.get().pk)
        # 5. approved (the rules' amount, or 600 with a reason when the rules give none)
        case = window(4, ["dibao"]).cases.get()
        to_decision(case.pk)
        case.refresh_from_db()
        services.case_decide(
            actor=approver,
            case_id=case.pk,
            approve=True,
            version=case.version,
            amount=case.proposed_amount if case.proposed_amount is not None else "600",
            override_reason="" if case.proposed_amount is not None else "按入户调查核定的收入测算",
        )
        # 6. refused with reasons
        case = window(5, ["dibao"]).cases.get()
        to_decision(case.pk)
        case.refresh_from_db()
        services.case_decide(
            actor=approver,
            case_id=case.pk,
            approve=False,
            version=case.version,
            reasons="家庭成员名下有两套住房,超过本市低保家庭财产标准",
        )
        # 7. from the province's portal (the short catalogue workflow)
        from dajiuzhu.core.services import api_token_create

        token, _clear = api_token_create(
            actor=None, department_code="minzheng", name="江苏政务服务网(演示)"
        )
        _h, adults = households[6]
        services.application_submit(
            actor=None,
            token=token,
            channel="portal",
            id_number=_id(adults[0]),
            programmes=["jiuye_yuanzhu"],
            paper_authorisations=_paper(adults),
            commitment=True,
            idempotency_key="demo-6",
        )
        # 8. 临时救助 急难型 with 先行救助
        case = window(7, ["linshi"]).cases.get()
        services.case_advance_payment(
            actor=cw, case_id=case.pk, amount="3000", reason="家中失火,先行救助"
        )
        created = 8
    created += _from_warning([u for n, u in sorted(users.items()) if n.endswith("_caseworker")])
    return created


def _from_warning(actors: list[User]) -> int:
    """「协助申请」 on a warning (the outcome set by submitting): the applicant is a living adult
    of the warned household (for EARNER_DEATH the warned person is the deceased earner)."""
    from django.utils import timezone

    from dajiuzhu.warnings.access import warnings_visible
    from dajiuzhu.warnings.models import OPEN_STATUSES, Status

    today = timezone.localdate()
    for actor in actors:
        # pushed warnings first: the ones assigned to the demo's grid workers are kept for
        # their journey where the town has another
        open_warnings = warnings_visible(actor).filter(status__in=OPEN_STATUSES)
        for warning in sorted(open_warnings, key=lambda w: (w.status != Status.PUSHED, w.pk)):
            household = Household.objects.filter(household_no=warning.household_no).first()
            if household is None:
                continue
            members = [
                m.person
                for m in Membership.objects.filter(
                    household=household, end_date__isnull=True
                ).select_related("person")
                if m.person.status == "normal"
            ]
            adults = [p for p in members if age_on(p.birth_date, today) >= 18]
            if not members:
                continue
            # a child left alone (the earner died): 事实无人抚养儿童; else 临时救助
            programme = "linshi" if adults else "wurenfuyang"
            try:
                services.application_submit(
                    actor=actor,
                    channel="window",
                    id_number=_id((adults or members)[0]),
                    programmes=[programme],
                    paper_authorisations=_paper(adults),
                    commitment=True,
                    warning_id=warning.pk,
                    idempotency_key="demo-warning",
                )
            except ServiceError as exc:
                log.warning("demo.cases.warning_skipped %s", exc.code, extra={"code": exc.code})
                continue
            return 1
    return 0
