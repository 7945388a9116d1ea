"""Staff accounts as administrators keep them: change role, scope (division, department) and
name, reset a password, unlock an account locked after failed log-ins, deactivate and
reactivate. Each write is atomic, city-level administrators only (decision 0006), and audited
with purpose 系统管理; passwords never reach the log.

Creating an account is :func:`dajiuzhu.core.services.user_create` (the same rules apply)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from dajiuzhu.core.access import AccessDenied, NotFound, is_admin
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.models import CITY_CODE, Department, Division, User
from dajiuzhu.core.roles import Purpose, Role
from dajiuzhu.core.services import ServiceError

# Letters and digits that cannot be mistaken for each other when read out over the phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def _admin(actor: User | None) -> None:
    if actor is not None and not is_admin(actor):
        raise AccessDenied


def _staff(user_id: int, *, lock: bool = True) -> User:
    users = User.objects.exclude(role=Role.RESIDENT).filter(pk=user_id)
    user = (users.select_for_update() if lock else users).first()
    if user is None:
        raise NotFound
    return user


def _audit(actor: User | None, action: str, user: User, detail: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="user",
        object_id=user.pk,
        purpose=Purpose.ADMINISTRATION,
        detail={"username": user.username, **(detail or {})},
    )


@transaction.atomic
def user_update(
    *,
    actor: User | None,
    user_id: int,
    role: str,
    scope_code: str,
    department_code: str = "",
    display_name: str = "",
) -> User:
    """Set a staff member's role, scope, department and name (the rules of user_create)."""
    _admin(actor)
    user = _staff(user_id)
    if role not in Role.values or role == Role.RESIDENT:
        raise ServiceError("user.role", "请选择工作人员角色", field="role")
    scope = Division.objects.filter(code=(scope_code or "").strip()).first()
    if scope is None:
        raise ServiceError("user.scope", "工作人员必须指定有效的管辖区划代码", field="scope")
    if role == Role.ADMIN and scope.code != CITY_CODE:
        raise ServiceError(
            "user.admin_scope",
            f"系统管理员只设在市级:管辖范围必须是常州市({CITY_CODE})",
            field="scope",
        )
    department = None
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            raise ServiceError("user.department", "请选择有效的所属部门", field="department")
    if role == Role.DATA_STEWARD and department is None:
        raise ServiceError("user.department", "部门数据管理员必须指定所属部门", field="department")
    if actor is not None and user.pk == actor.pk and role != Role.ADMIN:
        raise ServiceError("user.self", "不能取消自己的系统管理员角色", field="role")
    display_name = (display_name or "").strip()[:50]
    before = {
        "role": user.role,
        "scope": user.scope_id,
        "department": user.department_id,
        "name": user.display_name,
    }
    user.role, user.scope, user.department, user.display_name = (
        role,
        scope,
        department,
        display_name,
    )
    user.save(update_fields=["role", "scope", "department", "display_name"])
    after = {"role": role, "scope": scope.code, "department": department_code or None}
    after["name"] = display_name
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        _audit(actor, "user.update", user, {"changed": changed})
    return user


@transaction.atomic
def user_reset_password(*, actor: User | None, user_id: int, password: str = "") -> str:
    """Set a new password (a generated one when none is given); returns it to be handed over
    once. The account's lockout is lifted too."""
    _admin(actor)
    user = _staff(user_id)
    generated = not password
    if generated:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    else:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ServiceError("user.password", ";".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save(update_fields=["password"])
    _unlock(user)
    _audit(actor, "user.password_reset", user, {"generated": generated})
    return password


def _unlock(user: User) -> int:
    from axes.models import AccessAttempt

    count, _ = AccessAttempt.objects.filter(username=user.username).delete()
    return count


def is_locked(user: User) -> bool:
    """Locked by django-axes: the failure limit reached within the cool-off time."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        username=user.username,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=since,
    ).exists()


def locked_usernames(usernames: list[str]) -> set[str]:
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )


@transaction.atomic
def user_unlock(*, actor: User | None, user_id: int) -> bool:
    """Lift the lockout after failed log-ins. Returns whether the account was locked."""
    _admin(actor)
    user = _staff(user_id)
    was_locked = is_locked(user)
    cleared = _unlock(user)
    _audit(actor, "user.unlock", user, {"was_locked": was_locked, "attempts": cleared})
    return was_locked


@transaction.atomic
def user_set_active(*, actor: User | None, user_id: int, active: bool) -> User:
    """Deactivate (the account can no longer log in; its history stays) or reactivate."""
    _admin(actor)
    user = _staff(user_id)
    if actor is not None and user.pk == actor.pk and not active:
        raise ServiceError("user.self", "不能停用自己的账号")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        _audit(actor, "user.activate" if active else "user.deactivate", user)
    return user
