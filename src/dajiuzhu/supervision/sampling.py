"""Spot checks (抽查, SUPERVISION.md "Spot checks"): each quarter, per town,
``supervision.sample_share`` of the cases decided in the quarter, at least
``supervision.sample_min``, all of them where fewer — drawn at random with the seed
recorded, so that anyone can draw the same sample again.

The draw, exactly (so that it can be re-done by hand or in another language):

1. The cases decided in the quarter: every case of the unified intake (``cases``) whose
   decision date lies in the quarter and that was decided (approved, refused, or approved and
   since stopped), under the town it was decided for.
2. Per town, the cases sorted by (application number, programme code).
3. ``n`` = all of them when there are no more than ``sample_min``; otherwise the larger of
   ``sample_min`` and ⌈``sample_share`` × count⌉.
4. ``random.Random(f"{seed}:{quarter}:{town}").sample(cases, n)`` (Python's Mersenne Twister,
   seeded with that text).
5. Then every case of the town whose household has a member declared as a staff member's
   relative (近亲属备案, now or when the case was submitted) is added, if not drawn already:
   relatives are always in the sample, and the random part stays exactly as above.

Both parameters are those in force on the quarter's last day.
"""

from __future__ import annotations

import math
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from dajiuzhu.cases.models import DECIDED_STATUSES, Case, StaffRelative
from dajiuzhu.core.access import AccessDenied, require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.core.text import has_control_chars
from dajiuzhu.registry.models import Membership
from dajiuzhu.supervision import parameters
from dajiuzhu.supervision.access import RECTIFY_ROLES, access_sample_by_id
from dajiuzhu.supervision.models import (
    AuditContract,
    FindingCode,
    SampledCase,
    SampleStatus,
    SpotCheck,
)

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
Key = tuple[str, str]  # (application number, programme code): how a decided case is sorted


def quarter_bounds(quarter: str) -> tuple[date, date]:
    m = QUARTER.match((quarter or "").strip().upper())
    if m is None:
        raise ServiceError("sample.quarter", "季度格式不正确(应为如2024Q1)", field="quarter")
    year, q = int(m[1]), int(m[2])
    first = date(year, 3 * q - 2, 1)
    last = date(year + (q == 4), (3 * q) % 12 + 1, 1).toordinal() - 1
    end = date.fromordinal(last)
    if first > timezone.localdate() or year < 2000:
        raise ServiceError("sample.quarter", "只能抽取已开始的季度", field="quarter")
    return first, end


def sample_size(count: int, share: Decimal, minimum: int) -> int:
    if count <= minimum:
        return count
    return max(minimum, math.ceil(share * count))


def draw(
    cases_by_town: dict[str, list[Key]],
    *,
    quarter: str,
    seed: int,
    share: Decimal,
    minimum: int,
    always: frozenset[Key] = frozenset(),
) -> dict[str, list[Key]]:
    """The sample per town (a pure function of its inputs): the random draw, then the cases
    in ``always`` (relatives of staff) not drawn already."""
    out = {}
    for town in sorted(cases_by_town):
        cases = sorted(cases_by_town[town])
        rng = random.Random(f"{seed}:{quarter}:{town}")
        drawn = set(rng.sample(cases, sample_size(len(cases), share, minimum)))
        out[town] = sorted(drawn | {c for c in cases if c in always})
    return out


@dataclass(frozen=True)
class Decided:
    """What the sample records of a decided case."""

    case_id: int
    person_key: int  # the applicant
    programme: str
    decided_on: date
    division_code: str  # the household's 户籍 division
    household_no: str
    relative: bool


def decided_cases(quarter: str) -> tuple[dict[str, list[Key]], dict[Key, Decided]]:
    """The quarter's decided cases per town, and what the sample records of each."""
    first, last = quarter_bounds(quarter)
    declared = Membership.objects.filter(
        end_date__isnull=True,
        person_id__in=StaffRelative.objects.values("person_id"),
    ).values_list("household_id", flat=True)
    related = set(declared)
    rows = (
        Case.objects.filter(
            decided_on__gte=first, decided_on__lte=last, status__in=DECIDED_STATUSES
        )
        .select_related("application__applicant", "household")
        .order_by("id")
    )
    by_town: dict[str, list[Key]] = {}
    info: dict[Key, Decided] = {}
    for c in rows:
        key = (c.application.application_no, c.programme)
        by_town.setdefault(c.town_id, []).append(key)
        info[key] = Decided(
            case_id=c.pk,
            person_key=c.application.applicant.person_key,
            programme=c.programme,
            decided_on=c.decided_on or first,  # the filter above: never empty
            division_code=c.household.division_id,
            household_no=c.household.household_no,
            relative=c.relative_flag or c.household_id in related,
        )
    return by_town, info


@dataclass
class SampleReport:
    spot_check: SpotCheck
    again: bool  # this quarter and seed had been drawn before: the same sample, drawn again
    towns: list[dict[str, Any]] = field(default_factory=list)


@transaction.atomic
def sample_draw(
    *,
    actor: User | None,
    quarter: str,
    seed: int | None = None,
    contract_code: str = "",
) -> SampleReport:
    """Draw (and record) the quarter's sample; with the seed of an earlier draw, draw it again
    and say whether it is the same."""
    if actor is not None:
        require_role(actor, {Role.SUPERVISOR, Role.ADMIN})
    quarter = quarter.strip().upper()
    _first, last = quarter_bounds(quarter)
    contract = None
    if contract_code:
        contract = AuditContract.objects.filter(code=contract_code).first()
        if contract is None:
            raise ServiceError(
                "sample.contract", f"未找到第三方评估合同:{contract_code}", field="contract"
            )
    if seed is None:
        seed = secrets.randbelow(2**31)
    if not 0 <= seed < 2**63:
        raise ServiceError("sample.seed", "随机种子应为非负整数", field="seed")
    share = parameters.value_on(parameters.SAMPLE_SHARE, last)
    minimum = int(parameters.value_on(parameters.SAMPLE_MIN, last))
    by_town, info = decided_cases(quarter)
    always = frozenset(k for k, d in info.items() if d.relative)
    sample = draw(by_town, quarter=quarter, seed=seed, share=share, minimum=minimum, always=always)
    earlier = SpotCheck.objects.filter(quarter=quarter, seed=seed).first()
    towns = [
        {
            "town": t,
            "decided": len(by_town[t]),
            "sampled": len(sample[t]),
            "relatives": sum(1 for k in sample[t] if k in always),
        }
        for t in sorted(sample)
    ]
    if earlier is not None:
        recorded = sorted(earlier.cases.values_list("case_id", flat=True))
        same = recorded == sorted(info[k].case_id for keys in sample.values() for k in keys)
        report = SampleReport(spot_check=earlier, again=True, towns=towns)
        for t in report.towns:
            t["same"] = same
        return report
    check = SpotCheck.objects.create(
        quarter=quarter,
        seed=seed,
        share=share,
        minimum=minimum,
        population={t: len(c) for t, c in sorted(by_town.items())},
        contract=contract,
        drawn_at=timezone.now(),
    )
    SampledCase.objects.bulk_create(
        [
            SampledCase(
                spot_check=check,
                case_id=info[key].case_id,
                relative=info[key].relative,
                town_code=town,
                division_code=info[key].division_code,
                household_no=info[key].household_no,
                person_key=info[key].person_key,
                program_code=info[key].programme,
                start_date=info[key].decided_on,
            )
            for town, keys in sample.items()
            for key in keys
        ]
    )
    audit_record(
        actor=actor,
        action="supervision.sample.draw",
        object_type="spot_check",
        object_id=check.pk,
        purpose=Purpose.SUPERVISION,
        label=None if actor else "cli",
        detail={"quarter": quarter, "seed": seed, "towns": towns},
    )
    return SampleReport(spot_check=check, again=False, towns=towns)


# --------------------------------------------------------------------------- assessment


@transaction.atomic
def sample_assess(*, actor: User, case_id: int, codes: list[str], notes: str = "") -> SampledCase:
    """The auditor's findings on a sampled case (no codes: no findings). With findings the
    town must rectify by a deadline in working days."""
    case = access_sample_by_id(actor, case_id, for_update=True)
    if actor.role != Role.AUDITOR:
        raise AccessDenied("仅受托第三方评估人员可以登记评估结果")
    if case.status != SampleStatus.SAMPLED:
        raise ServiceError("sample.assessed", "该案件已登记评估结果")
    wanted = list(dict.fromkeys(str(c).strip() for c in codes if str(c).strip()))
    unknown = [c for c in wanted if c not in FindingCode.values]
    if unknown:
        raise ServiceError(
            "sample.finding_code", f"未知的评估问题代码:{'、'.join(unknown)}", field="codes"
        )
    notes = (notes or "").strip()
    if len(notes) > 2000 or has_control_chars(notes):
        raise ServiceError("sample.notes", "评估意见不能超过2000字,且不能含控制字符", field="notes")
    if FindingCode.OTHER in wanted and not notes:
        raise ServiceError("sample.notes", "选择“其他”时须写明评估意见", field="notes")
    today = timezone.localdate()
    case.findings = [c for c in FindingCode.values if c in wanted]
    case.notes = notes
    case.assessed_by = actor
    case.assessed_at = timezone.now()
    if case.findings:
        case.status = SampleStatus.FINDINGS
        case.due_date = add_working_days(today, parameters.rectification_days(today))
    else:
        case.status = SampleStatus.NO_FINDINGS
    case.save()
    audit_record(
        actor=actor,
        action="supervision.sample.assess",
        object_type="sampled_case",
        object_id=case.pk,
        purpose=Purpose.SUPERVISION,
        detail={"findings": case.findings},
    )
    return case


@transaction.atomic
def sample_rectify(*, actor: User, case_id: int, notes: str) -> SampledCase:
    """The town's rectification of an auditor's findings."""
    case = access_sample_by_id(actor, case_id, for_update=True)
    if actor.role not in RECTIFY_ROLES:
        raise AccessDenied("仅案件所在地区的经办、审批人员可以登记整改")
    if case.status != SampleStatus.FINDINGS:
        raise ServiceError("sample.not_open", "该案件没有待整改的评估问题")
    notes = (notes or "").strip()
    if not notes:
        raise ServiceError("sample.rectification", "请写明整改情况", field="notes")
    if len(notes) > 2000 or has_control_chars(notes):
        raise ServiceError(
            "sample.rectification", "整改情况不能超过2000字,且不能含控制字符", field="notes"
        )
    case.rectification = notes
    case.rectified_by = actor
    case.rectified_at = timezone.now()
    case.status = SampleStatus.RECTIFIED
    case.save()
    audit_record(
        actor=actor,
        action="supervision.sample.rectify",
        object_type="sampled_case",
        object_id=case.pk,
        purpose=Purpose.SUPERVISION,
        detail={"findings": case.findings},
    )
    return case


@transaction.atomic
def contract_create(
    *, actor: User | None, code: str, organisation: str, auditors: list[str]
) -> AuditContract:
    """A contract with a third-party organisation and its auditor accounts (role 第三方评估人员)."""
    if actor is not None:
        require_role(actor, {Role.ADMIN})
    code = (code or "").strip()
    organisation = (organisation or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", code):
        raise ServiceError("contract.code", "合同编号只能包含字母、数字、-和_", field="code")
    if not organisation or len(organisation) > 100:
        raise ServiceError("contract.organisation", "请填写受托机构名称(100字以内)")
    users = list(User.objects.filter(username__in=auditors, role=Role.AUDITOR, is_active=True))
    missing = sorted(set(auditors) - {u.username for u in users})
    if missing:
        raise ServiceError(
            "contract.auditor", f"以下账号不存在或不是第三方评估人员:{'、'.join(missing)}"
        )
    contract, _ = AuditContract.objects.get_or_create(
        code=code, defaults={"organisation": organisation}
    )
    contract.auditors.add(*users)
    audit_record(
        actor=actor,
        action="supervision.contract.create",
        object_type="audit_contract",
        object_id=contract.pk,
        purpose=Purpose.ADMINISTRATION,
        label=None if actor else "cli",
        detail={"code": code, "auditors": [u.pk for u in users]},
    )
    return contract
