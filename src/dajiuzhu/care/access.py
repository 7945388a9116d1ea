"""Who may see and act on the care centre's records — written once, used by reads and writes.

Devices, alarms, plans and visits carry the person's division code; staff see those within
their jurisdiction (the 24-hour centre's operators are city-wide, a town sees its own people),
and a grid worker also sees the visits assigned to them. The scope is part of the query, so an
out-of-scope record is simply not found.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dajiuzhu.care.models import Alarm, Device, Plan, Visit
from dajiuzhu.core.access import NotFound, require_role, scope_q
from dajiuzhu.core.models import User
from dajiuzhu.core.roles import Role

# The console: who sees alarms, and who answers them.
CONSOLE_ROLES = frozenset(
    {Role.CALL_OPERATOR, Role.CASEWORKER, Role.WINDOW_CLERK, Role.SUPERVISOR, Role.ADMIN}
)
ANSWER_ROLES = frozenset({Role.CALL_OPERATOR, Role.CASEWORKER, Role.SUPERVISOR})
# Device registry and plans: who keeps them.
DEVICE_ROLES = frozenset({Role.CASEWORKER, Role.WINDOW_CLERK, Role.ADMIN, Role.CALL_OPERATOR})
PLAN_WRITE_ROLES = frozenset({Role.CASEWORKER, Role.WINDOW_CLERK})
PLAN_READ_ROLES = CONSOLE_ROLES | {Role.GRID_WORKER}
VISIT_ROLES = frozenset({Role.GRID_WORKER, Role.CASEWORKER, Role.WINDOW_CLERK})

# Escalation of an alarm nobody accepted in time: to the duty supervisor(s) — the supervisors
# in the group DUTY_GROUP, or every supervisor when nobody is in it — and to the operators of
# the second group, each only for alarms in their jurisdiction. (Groups are Django auth groups,
# kept by administrators; the demo fills them.)
DUTY_GROUP = "care_duty_supervisor"
SECOND_GROUP = "care_second_line"


def escalation_reason(user: User) -> str | None:
    """Why ``user`` receives escalated alarms (``supervisor`` / ``second_group``), or None."""
    from django.contrib.auth.models import Group

    if not user.is_active:
        return None
    names = set(user.groups.values_list("name", flat=True))
    if user.role == Role.SUPERVISOR:
        on_duty = (
            DUTY_GROUP in names
            or not Group.objects.filter(
                name=DUTY_GROUP, user__is_active=True, user__role=Role.SUPERVISOR
            ).exists()
        )
        if on_duty:
            return "supervisor"
    if SECOND_GROUP in names and user.role in ANSWER_ROLES:
        return "second_group"
    return None


def escalation_recipients(division_code: str) -> list[tuple[User, str]]:
    """The users an alarm of ``division_code`` escalates to, with the reason."""
    candidates = (
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.SUPERVISOR) | Q(groups__name=SECOND_GROUP))
        .distinct()
        .order_by("username")
    )
    out = []
    for user in candidates:
        prefix = user.scope_prefix
        if not prefix or not division_code.startswith(prefix):
            continue
        reason = escalation_reason(user)
        if reason:
            out.append((user, reason))
    return out


def alarms_visible(user: User) -> QuerySet[Alarm]:
    require_role(user, CONSOLE_ROLES)
    return Alarm.objects.filter(scope_q(user, "division_code"))


def access_alarm_by_id(user: User, alarm_id: int, *, for_update: bool = False) -> Alarm:
    alarms = alarms_visible(user).filter(pk=alarm_id)
    if for_update:
        alarms = alarms.select_for_update()
    alarm = alarms.first()
    if alarm is None:
        raise NotFound
    return alarm


def devices_visible(user: User) -> QuerySet[Device]:
    require_role(user, DEVICE_ROLES | CONSOLE_ROLES)
    return Device.objects.filter(scope_q(user, "division_code"))


def plans_visible(user: User) -> QuerySet[Plan]:
    require_role(user, PLAN_READ_ROLES)
    return Plan.objects.filter(scope_q(user, "division_code"))


def visits_visible(user: User) -> QuerySet[Visit]:
    require_role(user, VISIT_ROLES | CONSOLE_ROLES)
    return Visit.objects.filter(scope_q(user, "division_code") | Q(assignee=user))


def access_visit_by_id(user: User, visit_id: int, *, for_update: bool = False) -> Visit:
    visits = visits_visible(user).filter(pk=visit_id)
    if for_update:
        visits = visits.select_for_update()
    visit = visits.first()
    if visit is None:
        raise NotFound
    return visit
