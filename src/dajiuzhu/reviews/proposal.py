"""What the rules say now for a case under review, from the check just re-run: continue,
adjust (a new amount), gradual exit (渐退) or stop — with the figures and reasons shown to the
approver, and whether a home visit is needed first.

The check knows neither that the household is paid now nor how long it has been in gradual
exit (the lake's 救助对象 feed lags, and ``gradual_exit_months_used`` is in no dataset), so the
rules are run again on the check's own inputs with: ``dibao_last_month`` true and
``last_dibao_amount`` the case's current amount (the case is being paid), and
``gradual_exit_months_used`` counted from the case's ``AmountChange`` rows of kind
``gradual_exit`` (the months of the current run of gradual exit up to the month before the
outcome takes effect)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from openfisca_core.indexed_enums import Enum

from dajiuzhu.cases.models import AmountChange, AmountChangeKind, Case
from dajiuzhu.core.months import add_months, first_day
from dajiuzhu.policy import catalogue, engine
from dajiuzhu.reviews.models import Outcome

GRADUAL_EXIT_MONTHS = "dibao.gradual_exit_months"


@dataclass
class Proposal:
    outcome: str
    amount: Decimal | None
    reasons: str
    figures: dict = field(default_factory=dict)
    visit_reasons: list[str] = field(default_factory=list)


def gradual_exit_months_used(changes: list[AmountChange], effective_month: str) -> tuple[int, str]:
    """Months already paid in the current run of gradual exit before ``effective_month``, and
    the month that run began ("" when the case is not in gradual exit)."""
    current = None
    for change in changes:
        if change.from_month >= effective_month:
            break
        current = change
    if current is None or current.kind != AmountChangeKind.GRADUAL_EXIT:
        return 0, ""
    began = current.from_month
    for change in reversed([c for c in changes if c.from_month < current.from_month]):
        if change.kind != AmountChangeKind.GRADUAL_EXIT:
            break
        began = change.from_month
    y1, m1 = int(began[:4]), int(began[5:7])
    y2, m2 = int(effective_month[:4]), int(effective_month[5:7])
    return (y2 - y1) * 12 + (m2 - m1), began


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _columns(system, rows: list[dict]) -> dict[str, np.ndarray]:
    """Rows of {input: value} to {input: array}; a missing value takes the default."""
    names = dict.fromkeys(n for row in rows for n in row if n != "id")
    columns = {}
    for name in names:
        default = system.variables[name].default_value
        if isinstance(default, Enum):
            default = default.name
        values = [row.get(name, default) for row in rows]
        columns[name] = np.asarray([v.name if isinstance(v, Enum) else v for v in values])
    return columns


def overrides(current: Decimal, used: int) -> dict:
    """What the check cannot know: the case is paid now, and the gradual exit used."""
    return {
        "dibao_last_month": True,
        "last_dibao_amount": float(current),
        "gradual_exit_months_used": used,
    }


def rerun_many(system, month: str, entries: list[tuple[dict, dict]]) -> list[list[dict]]:
    """The catalogue's programme results for many checked households at once (one vectorised
    run of the rules): for each (report, overrides), the results as the check's explanation
    lists them (``programme``, ``label_zh``, ``subject``, ``eligible``, ``amount``)."""
    if not entries:
        return []
    people, index, households = [], [], []
    for i, (report, extra) in enumerate(entries):
        for m in report["members"]:
            people.append({"id": str(m["person_id"]), **m["inputs"]})
            index.append(i)
        households.append({**report["household_inputs"], **extra})
    results = catalogue.results()
    outputs = list(dict.fromkeys(v for r in results for v in r.variables))
    out = engine.simulate(
        system,
        month,
        _columns(system, people),
        _columns(system, households),
        np.asarray(index, dtype=np.int64),
        outputs,
    )
    answers: list[list[dict]] = [[] for _ in entries]
    for i in range(len(entries)):
        for r in (r for r in results if r.entity == "household"):
            answers[i].append(_answer(r, out, i, "household"))
    for j, person in enumerate(people):
        for r in (r for r in results if r.entity == "person"):
            answers[index[j]].append(_answer(r, out, j, person["id"]))
    return answers


def _answer(r, out: dict, i: int, subject: str) -> dict:
    eligible = bool(out[r.eligible][i])
    amount = None
    if r.amount is not None:
        amount = round(float(out[r.amount][i]), 2) if eligible else 0.0
    return {
        "programme": r.code,
        "label_zh": r.label,
        "subject": subject,
        "eligible": eligible,
        "amount": amount,
    }


def _result(explanation: dict, code: str, subject: str = "household") -> dict | None:
    return next(
        (
            r
            for r in explanation["programmes"]
            if r["programme"] == code and r["subject"] == subject
        ),
        None,
    )


def propose(
    *,
    case: Case,
    report: dict,
    system,
    current: Decimal,
    effective_month: str,
    changes: list[AmountChange],
    members_before: set[int] | None,
    results: list[dict] | None = None,
) -> Proposal:
    """``results``: this household's answer of :func:`rerun_many` when the caller ran a
    batch (with ``overrides(current, used)``); else the rules are run here for it alone."""
    visits = []
    if report.get("missing"):
        visits.append("核对缺少部门数据:" + "、".join(report["missing"]))
    now = {m["person_id"] for m in report["members"]}
    if members_before is not None and now != members_before:
        visits.append(f"家庭成员发生变化(上次核对{len(members_before)}人,本次{len(now)}人)")
    params = system.parameters(first_day(report["month"]))
    limit = int(catalogue.limit_value(params, GRADUAL_EXIT_MONTHS))
    used, began = gradual_exit_months_used(changes, effective_month)
    figures = {
        "check_month": report["month"],
        "current_amount": str(current),
        "gradual_exit_months_used": used,
        "gradual_exit_began": began,
        "gradual_exit_months": limit,
    }
    if results is None:
        results = rerun_many(system, report["month"], [(report, overrides(current, used))])[0]
    explanation = {"programmes": results}
    mine = {x.code for x in catalogue.programme(case.programme).results}
    names = {str(m["person_id"]): n + 1 for n, m in enumerate(report["members"])}
    figures["results"] = {
        f"{r['programme']}:{r['subject']}": {
            "label": r["label_zh"]
            + ("" if r["subject"] == "household" else f"(成员{names.get(r['subject'], '')})"),
            "eligible": r["eligible"],
            "amount": r["amount"],
        }
        for r in results
        if r["programme"] in mine
    }
    undetermined = [
        r["label_zh"]
        for r in report.get("explanation", {}).get("programmes", [])
        if r.get("undetermined") and r["programme"] in mine
    ]
    if undetermined:
        visits.append("核对结果受缺失数据影响:" + "、".join(dict.fromkeys(undetermined)))
    if case.programme == "dibao":
        return _dibao(case, explanation, current, used, limit, figures, visits)
    return _generic(case, explanation, current, figures, visits)


def _same_or_adjust(amount: Decimal, current: Decimal, label: str, figures, visits) -> Proposal:
    if amount == current:
        return Proposal(
            Outcome.CONTINUE, current, f"经复核仍符合{label}条件,金额不变", figures, visits
        )
    return Proposal(
        Outcome.ADJUST,
        amount,
        f"经复核仍符合{label}条件,按现行标准和家庭收入测算,月金额由{current}元调整为{amount}元",
        figures,
        visits,
    )


def _dibao(case, explanation, current, used, limit, figures, visits) -> Proposal:
    household = _result(explanation, "dibao")
    if household and household["eligible"]:
        return _same_or_adjust(_money(household["amount"]), current, "低保", figures, visits)
    single = _result(explanation, "single_person_dibao", str(case.application.applicant_id))
    if single and single["eligible"]:
        return _same_or_adjust(_money(single["amount"]), current, "单人保", figures, visits)
    gradual = _result(explanation, "dibao_gradual_exit")
    if gradual and gradual["eligible"]:
        if used:
            return Proposal(
                Outcome.CONTINUE,
                current,
                f"家庭人均收入已超过低保标准,处于渐退期(已{used}个月,最长{limit}个月),"
                "渐退期内按原金额发放",
                figures,
                visits,
            )
        return Proposal(
            Outcome.GRADUAL_EXIT,
            current,
            f"家庭人均收入已超过低保标准但低于1.5倍,给予渐退期:最长{limit}个月内按原金额"
            f"{current}元发放,期满复核",
            figures,
            visits,
        )
    if used >= limit:
        reason = f"渐退期({limit}个月)已满,经复核家庭人均收入仍高于低保标准,不再符合低保条件"
    else:
        reason = "经复核,家庭人均收入或家庭财产状况不再符合低保条件"
    return Proposal(Outcome.STOP, None, reason, figures, visits)


def _generic(case, explanation, current, figures, visits) -> Proposal:
    programme = catalogue.programme(case.programme)
    for result in programme.results:
        subject = (
            "household" if result.entity == "household" else str(case.application.applicant_id)
        )
        r = _result(explanation, result.code, subject)
        if r and r["eligible"]:
            amount = _money(r["amount"]) if r.get("amount") is not None else current
            return _same_or_adjust(amount, current, programme.name, figures, visits)
    if not programme.results:
        return Proposal(
            Outcome.CONTINUE, current, "该项目规则不可测算,请结合入户核查确认", figures, visits
        )
    return Proposal(Outcome.STOP, None, f"经复核,不再符合{programme.name}条件", figures, visits)


def next_follow_up(effective_month: str, limit: int) -> str:
    """The month the gradual exit ends: reviewed then (the last month paid is the one before)."""
    return add_months(effective_month, limit)
