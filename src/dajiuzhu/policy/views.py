from __future__ import annotations

import re
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from dajiuzhu.core.access import AccessDenied, NotFound, is_staff_user
from dajiuzhu.core.errors import ServiceError
from dajiuzhu.core.models import Department
from dajiuzhu.core.roles import Role
from dajiuzhu.policy import calculator, catalogue, engine, selectors, services
from dajiuzhu.policy.access import CANDIDATE_ROLES
from dajiuzhu.policy.models import CandidateStatus
from dajiuzhu.policy.population import PROGRAMMES
from dajiuzhu.web.marks import no_personal_data, shows_personal_data
from dajiuzhu.web.requests import AuthedRequest


def _denied(request: HttpRequest, message: str = "您的角色无权使用此功能。") -> HttpResponse:
    return render(request, "web/error.html", {"title": "无权访问", "message": message}, status=403)


def _departments() -> dict[str, str]:
    return dict(Department.objects.values_list("code", "name"))


@no_personal_data
@login_required
def programmes(request: AuthedRequest) -> HttpResponse:
    """The policy library (救助政策库) for staff: 32 programmes of 14 departments."""
    if not is_staff_user(request.user):
        return redirect("policy:resident_programmes")
    names = _departments()
    groups = [(names.get(code, code), items) for code, items in catalogue.by_department().items()]
    return render(
        request,
        "policy/programmes.html",
        {"groups": groups, "total": len(catalogue.load_catalogue())},
    )


@no_personal_data
@login_required
def programme_detail(request: AuthedRequest, code: str) -> HttpResponse:
    try:
        p = catalogue.programme(code)
    except KeyError:
        raise Http404 from None
    today = timezone.localdate()
    system = selectors.policy_system()
    departments = _departments()
    decided_by = p.intake.decided_by
    return render(
        request,
        "policy/programme_detail.html",
        {
            "p": p,
            "department": departments.get(p.department, p.department),
            "deadline_days": selectors.programme_deadline_days(p, on=today, system=system),
            "steps": selectors.programme_steps(p, on=today, system=system),
            "decided_by": departments.get(decided_by.department, decided_by.department),
            "level": {"town": "镇（街道）", "district": "区（市）"}[decided_by.level],
        },
    )


UNIT_LABELS = {
    "currency-CNY": "元",
    "month": "月",
    "/1": "比例",
    "day": "自然日",
    "working-day": "工作日",
    "year": "年",
}
_ILLUSTRATIVE = re.compile(r"\s*[;；]?\s*illustrative\s*(—|-)?\s*")
_LATIN_ASIDE = re.compile(
    r"[（(][A-Za-z][A-Za-z .,:;'’“”\-]*[)）]"  # (city statistics as reported …)
    r"|[（(]RULES\.md[^)）]*[)）]"  # (RULES.md“…”)
    r"|[，,]\s*[A-Za-z][A-Za-z .]*(?=[)）])"  # （已确认，the seed）
)


def _zh(text: str) -> tuple[str, bool]:
    """A parameter's description or reference as staff read it: the English "illustrative"
    tag becomes a flag (shown as 示意) and English asides for developers are left out."""
    text = text or ""
    illustrative = "illustrative" in text
    text = _ILLUSTRATIVE.sub("", text)
    return _LATIN_ASIDE.sub("", text).strip(), illustrative


def _parameter_rows(system) -> list[dict]:
    rows = []

    def walk(node, prefix=""):
        for name, child in node.children.items():
            path = f"{prefix}{name}"
            if hasattr(child, "children"):
                walk(child, path + ".")
            else:
                values = sorted(
                    (
                        (v.instant_str, v.value, (v.metadata or {}).get("source"))
                        for v in child.values_list
                    ),
                    reverse=True,
                )
                description, flagged = _zh(child.description or "")
                reference, cited = _zh((child.metadata or {}).get("reference", ""))
                unit = (child.metadata or {}).get("unit", "")
                rows.append(
                    {
                        "name": path,
                        "description": description,
                        "illustrative": flagged or cited,
                        "unit": UNIT_LABELS.get(unit, unit),
                        "reference": reference,
                        "values": values,
                    }
                )

    walk(system.parameters)
    return rows


@no_personal_data
@login_required
def parameters(request: AuthedRequest) -> HttpResponse:
    """The rules' parameters with their dated values; administrators add a dated value."""
    if not is_staff_user(request.user):
        return _denied(request)
    form = {"name": "", "start": "", "value": "", "reference": ""}
    if request.method == "POST":
        if request.user.role != Role.ADMIN:
            return _denied(request, "仅系统管理员可以新增政策参数取值。")
        form = {k: request.POST.get(k, "")[:300] for k in form}
        try:
            start = date.fromisoformat(form["start"])
        except ValueError:
            messages.error(request, "生效日期格式应为YYYY-MM-DD")
        else:
            try:
                services.parameter_value_add(
                    actor=request.user,
                    name=form["name"],
                    start=start,
                    value=form["value"],
                    reference=form["reference"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已新增 {form['name']} 自 {start} 起的取值,立即生效")
                return redirect("policy:parameters")
    rows = _parameter_rows(selectors.policy_system())
    return render(
        request,
        "policy/parameters.html",
        {
            "rows": rows,
            "form": form,
            "is_admin": request.user.role == Role.ADMIN,
            "overrides": selectors.parameter_list(),
        },
    )


@shows_personal_data("candidate_list")
@login_required
def candidates(request: AuthedRequest) -> HttpResponse:
    """「政策找人」: households of the user's towns likely eligible for a programme they do
    not receive, to follow up."""
    if not is_staff_user(request.user):
        return _denied(request)
    if request.method == "POST":
        try:
            services.candidate_follow_up(
                actor=request.user,
                candidate_id=int(request.POST.get("candidate") or 0),
                status=request.POST.get("status", ""),
                note=request.POST.get("note", "")[:500],
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        except (NotFound, ValueError):
            raise Http404 from None
        except AccessDenied:
            return _denied(request)
        else:
            messages.success(request, "跟进结果已记录")
        return redirect(request.get_full_path())
    run = selectors.latest_run(request.GET.get("month") or None)
    month = request.GET.get("month") or (run.month if run else "")
    try:
        rows = selectors.candidates_for(
            user=request.user,
            month=month or None,
            programme=request.GET.get("programme") or None,
            status=request.GET.get("status", CandidateStatus.OPEN) or None,
        )
    except AccessDenied:
        return _denied(request)
    from dajiuzhu.policy.links import household_links

    links = household_links(user=request.user, household_nos={c.household_no for c in rows})
    return render(
        request,
        "policy/candidates.html",
        {
            "rows": rows,
            "run": run,
            "month": month,
            "programmes": PROGRAMMES,
            "statuses": CandidateStatus.choices,
            "links": links,
            "status": request.GET.get("status", CandidateStatus.OPEN),
            "programme": request.GET.get("programme", ""),
            "can_follow": request.user.role in CANDIDATE_ROLES,
        },
    )


@no_personal_data
def resident_programmes(request: HttpRequest) -> HttpResponse:
    """Plain-language policies for residents (mobile)."""
    names = _departments()
    groups = [(names.get(code, code), items) for code, items in catalogue.by_department().items()]
    return render(request, "policy/resident_programmes.html", {"groups": groups})


@no_personal_data
def calculator_page(request: HttpRequest) -> HttpResponse:
    """The self-check: no log-in, nothing stored."""
    answers = calculator.Answers()
    result = None
    error = ""
    data = request.POST if request.method == "POST" else None
    if data is not None:
        answers = calculator.parse(data)
        if not answers.errors:
            try:
                result = calculator.estimate(answers, system=selectors.policy_system())
            except engine.PolicyError as exc:
                error = exc.message_zh
    source: dict = data or {}
    count = 4 if data is None else min(calculator.MAX_MEMBERS, max(4, len(answers.members) + 1))
    rows = [
        {
            "i": i,
            "label": f"成员{i + 1}",
            **{
                k: source.get(f"{k}_{i}", "")
                for k in ("age", "wage", "pension", "grade", "kind", "ill")
            },
        }
        for i in range(count)
    ]
    household = {
        k: source.get(k, "")
        for k in ("district", "assets", "vehicles", "homes", "business", "rigid")
    }
    return render(
        request,
        "policy/calculator.html",
        {
            "answers": answers,
            "result": result,
            "error": error,
            "districts": calculator.DISTRICTS,
            "kinds": calculator.KINDS,
            "rows": rows,
            "household": household,
            "summary": _plain_result(result) if result else None,
        },
    )


def _plain_result(result: engine.Explanation) -> dict:
    """What the resident reads: programmes that may apply (with amounts) and the reasons."""
    may = [p for p in result.programmes if p.eligible and p.programme != "yiliao"]
    yiliao = [p for p in result.programmes if p.programme == "yiliao" and p.eligible]
    household_rules = [
        r
        for r in result.rules
        if r.subject == "household"
        and r.rule
        in ("dibao_eligible", "dibian_eligible", "zhichu_eligible", "assets_within_limits")
    ]
    return {
        "may": may,
        "yiliao": yiliao,
        "rules": household_rules,
        "standard": result.dibao_standard,
        "figures": result.figures,
    }
