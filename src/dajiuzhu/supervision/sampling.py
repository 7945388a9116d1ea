"""Spot checks (抽查, SUPERVISION.md "Spot checks"): each quarter, per town,
``supervision.sample_share`` of the cases decided in the quarter, at least
``supervision.sample_min``, all of them where fewer — drawn at random with the seed
recorded, so that anyone can draw the same sample again.

The draw, exactly (so that it can be re-done by hand or in another language):

1. The cases decided in the quarter: every ``assistance_recipients`` record whose
   ``start_date`` lies in the quarter (the approval decision; the unified intake's decided
   cases replace this source when they exist), routed to the town of the person's 户籍
   division (its first 9 digits); persons without a 户籍 record are left out.
2. Per town, the cases sorted by (``person_key``, ``program_code``, ``start_date``).
3. ``n`` = all of them when there are no more than ``sample_min``; otherwise the larger of
   ``sample_min`` and ⌈``sample_share`` × count⌉.
4. ``random.Random(f"{seed}:{quarter}:{town}").sample(cases, n)`` (Python's Mersenne Twister,
   seeded with that text).

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

from dajiuzhu.analytics.engine import open_lake
from dajiuzhu.core.access import AccessDenied, require_role
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.calendar import add_working_days
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError
from dajiuzhu.core.text import has_control_chars
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
Case = tuple[int, str, date]  # (person_key, program_code, start_date)


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
    cases_by_town: dict[str, list[Case]], *, quarter: str, seed: int, share: Decimal, minimum: int
) -> dict[str, list[Case]]:
    """The sample per town (a pure function of its inputs)."""
    out = {}
    for town in sorted(cases_by_town):
        cases = sorted(cases_by_town[town])
        rng = random.Random(f"{seed}:{quarter}:{town}")
        out[town] = sorted(rng.sample(cases, sample_size(len(cases), share, minimum)))
    return out


def decided_cases(quarter: str) -> tuple[dict[str, list[Case]], dict[Case, tuple[str, str]]]:
    """The quarter's decided cases per town, and each case's (division, household)."""
    first, last = quarter_bounds(quarter)
    import ibis

    with open_lake("duckdb", threads=1, memory_limit="512MB") as lake:
        rec = lake.table("assistance_recipients")
        rec = rec.filter(
            rec.start_date.between(ibis.literal(first, "date"), ibis.literal(last, "date"))
        )
        hukou = lake.table("hukou").select("person_key", "household_no", "division_code")
        rows = lake.to_rows(
            rec.select("person_key", "program_code", "start_date").join(hukou, "person_key")
        )
    by_town: dict[str, list[Case]] = {}
    where: dict[Case, tuple[str, str]] = {}
    for r in rows:
        case = (int(r["person_key"]), r["program_code"], r["start_date"])
        by_town.setdefault(r["division_code"][:9], []).append(case)
        where[case] = (r["division_code"], r["household_no"] or "")
    return by_town, where


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
    by_town, where = decided_cases(quarter)
    sample = draw(by_town, quarter=quarter, seed=seed, share=share, minimum=minimum)
    earlier = SpotCheck.objects.filter(quarter=quarter, seed=seed).first()
    towns = [
        {"town": t, "decided": len(by_town[t]), "sampled": len(sample[t])} for t in sorted(sample)
    ]
    if earlier is not None:
        recorded = sorted(earlier.cases.values_list("person_key", "program_code", "start_date"))
        same = recorded == sorted(c for cases in sample.values() for c in cases)
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
                town_code=town,
                division_code=where[case][0],
                household_no=where[case][1],
                person_key=case[0],
                program_code=case[1],
                start_date=case[2],
            )
            for town, cases in sample.items()
            for case in cases
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
