"""Writes of the core domain: divisions, departments, users, API tokens, resident log-in codes.

One function per action, keyword-only, atomic, audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dajiuzhu.core import crypto, sms
from dajiuzhu.core.access import AccessDenied, NotFound, is_admin
from dajiuzhu.core.audit import audit_record
from dajiuzhu.core.errors import ServiceError as ServiceError
from dajiuzhu.core.idnumber import normalise_phone
from dajiuzhu.core.models import (
    CITY_CODE,
    LEVEL_CODE_LENGTH,
    ApiToken,
    Department,
    Division,
    DivisionLevel,
    OtpChallenge,
    User,
)
from dajiuzhu.core.roles import Purpose, Role

CHILD_LEVEL = {
    DivisionLevel.TOWN: DivisionLevel.COMMUNITY,
    DivisionLevel.COMMUNITY: DivisionLevel.GRID,
}


@transaction.atomic
def division_create(*, actor: User | None, parent_code: str, code: str, name: str) -> Division:
    """Create a community under a town or a grid under a community."""
    if actor is not None and not is_admin(actor):
        raise AccessDenied
    parent = Division.objects.filter(code=parent_code).first()
    if parent is None:
        raise ServiceError("division.parent_unknown", "上级区划不存在", field="parent_code")
    level = CHILD_LEVEL.get(DivisionLevel(parent.level))
    if level is None:
        raise ServiceError(
            "division.parent_level",
            "只能在镇(街道)下新建村(社区),或在村(社区)下新建网格",
            field="parent_code",
        )
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ServiceError("division.name", "名称不能为空,且不超过60个字", field="name")
    if (
        len(code) != LEVEL_CODE_LENGTH[level]
        or not code.isdigit()
        or not code.startswith(parent.code)
    ):
        raise ServiceError(
            "division.code",
            f"代码应为{LEVEL_CODE_LENGTH[level]}位数字,并以上级代码{parent.code}开头",
            field="code",
        )
    if Division.objects.filter(code=code).exists():
        raise ServiceError("division.duplicate", "该区划代码已存在", field="code")
    division = Division.objects.create(code=code, name=name, level=level, parent=parent)
    audit_record(
        actor=actor,
        action="division.create",
        object_type="division",
        object_id=code,
        purpose=Purpose.ADMINISTRATION,
        detail={"name": name, "parent": parent.code},
    )
    return division


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    scope_code: str | None,
    department_code: str | None = None,
    display_name: str = "",
    check_password: bool = True,
) -> User:
    if actor is not None and not is_admin(actor):
        raise AccessDenied
    if role not in Role.values:
        raise ServiceError("user.role", f"未知角色:{role}", field="role")
    scope = None
    if role != Role.RESIDENT:
        scope = Division.objects.filter(code=scope_code or "").first()
        if scope is None:
            raise ServiceError("user.scope", "工作人员必须指定有效的管辖区划代码", field="scope")
    if role == Role.ADMIN and scope is not None and scope.code != CITY_CODE:
        raise ServiceError(
            "user.admin_scope",
            f"系统管理员只设在市级:管辖范围必须是常州市({CITY_CODE}),"
            f"不能是{scope.name}({scope.code})",
            field="scope",
        )
    department = None
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            raise ServiceError("user.department", f"未知部门:{department_code}", field="department")
    if role == Role.DATA_STEWARD and department is None:
        raise ServiceError("user.department", "部门数据管理员必须指定所属部门", field="department")
    if User.objects.filter(username=username).exists():
        raise ServiceError("user.duplicate", "用户名已存在", field="username")
    user = User(
        username=username,
        role=role,
        scope=scope,
        department=department,
        display_name=display_name,
    )
    if check_password:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ServiceError("user.password", ";".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        purpose=Purpose.ADMINISTRATION,
        detail={
            "username": username,
            "role": role,
            "scope": scope_code,
            "department": department_code,
        },
    )
    return user


@transaction.atomic
def api_token_create(
    *, actor: User | None, department_code: str, name: str
) -> tuple[ApiToken, str]:
    """Create a department token. Returns the token and its clear text, shown once."""
    if actor is not None and not is_admin(actor):
        raise AccessDenied
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise ServiceError("token.department", f"未知部门:{department_code}", field="department")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        department=department,
        name=name[:100],
        prefix=prefix,
        secret_hash=crypto.token_hash(secret),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="api_token.create",
        object_type="api_token",
        object_id=token.pk,
        purpose=Purpose.ADMINISTRATION,
        detail={"department": department_code, "prefix": prefix},
    )
    return token, f"djz_{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, actor: User | None, token_id: int) -> ApiToken:
    if actor is not None and not is_admin(actor):
        raise AccessDenied
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None:
        raise NotFound
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            object_type="api_token",
            object_id=token.pk,
            purpose=Purpose.ADMINISTRATION,
            detail={"prefix": token.prefix},
        )
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """Resolve ``djz_<prefix>_<secret>``; None when unknown, wrong or revoked."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "djz":
        return None
    token = ApiToken.objects.select_related("department").filter(prefix=parts[1]).first()
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.secret_hash, crypto.token_hash(parts[2])):
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def _code_hash(phone_index: str, code: str) -> str:
    return hashlib.sha256(f"{phone_index}:{code}".encode()).hexdigest()


def _client_index(kind: str, value: str) -> str:
    """A keyed hash of a client's session key or address (the address itself is not kept)."""
    if not value:
        return ""
    return hmac.digest(crypto.index_key(), f"otp-client:{kind}:{value}".encode(), "sha256").hex()


@transaction.atomic
def otp_send(*, phone: str, session_key: str = "", client_ip: str = "") -> None:
    """Send a six-digit log-in code to a resident's phone. Rate-limited per phone, and per
    client (browser session and address) so that one client cannot reach many phones."""
    phone = normalise_phone(phone)
    index = crypto.phone_index(phone)
    session_index = _client_index("session", session_key)
    ip_index = _client_index("ip", client_ip)
    now = timezone.now()
    recent = OtpChallenge.objects.filter(created_at__gte=now - timedelta(hours=1))
    if recent.filter(phone_index=index).count() >= settings.OTP_MAX_SENDS_PER_HOUR:
        raise ServiceError("otp.rate_limited", "验证码发送过于频繁,请一小时后再试", field="phone")
    if session_index and (
        recent.filter(session_index=session_index).count() >= settings.OTP_MAX_SENDS_PER_SESSION
    ):
        raise ServiceError(
            "otp.client_rate_limited",
            "本设备获取验证码过于频繁(一小时内已向多个手机号发送),请一小时后再试",
            field="phone",
        )
    if (
        ip_index
        and recent.filter(client_ip_index=ip_index).count() >= settings.OTP_MAX_SENDS_PER_IP
    ):
        raise ServiceError(
            "otp.client_rate_limited",
            "当前网络获取验证码过于频繁,请一小时后再试",
            field="phone",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    OtpChallenge.objects.create(
        phone_index=index,
        code_hash=_code_hash(index, code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        session_index=session_index,
        client_ip_index=ip_index,
    )
    text = f"【常州大救助】您的登录验证码为{code},{settings.OTP_TTL_SECONDS // 60}分钟内有效。"
    transaction.on_commit(lambda: sms.get_backend().send(sms.SmsMessage(phone=phone, text=text)))


def otp_verify(*, phone: str, code: str) -> User:
    """Check the code and return the resident's account (created on first log-in).

    A wrong code is counted in its own committed transaction before the error is raised, so
    that the attempt limit holds.
    """
    phone = normalise_phone(phone)
    index = crypto.phone_index(phone)
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone_index=index, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if challenge is None:
            error = ServiceError("otp.expired", "验证码已失效,请重新获取", field="code")
        elif challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
            error = ServiceError("otp.locked", "验证码错误次数过多,请重新获取", field="code")
        elif not hmac.compare_digest(challenge.code_hash, _code_hash(index, (code or "").strip())):
            OtpChallenge.objects.filter(pk=challenge.pk).update(attempts=challenge.attempts + 1)
            error = ServiceError("otp.wrong", "验证码不正确", field="code")
        else:
            error = None
            challenge.used_at = now
            challenge.save(update_fields=["used_at"])
            user = _resident_for_phone(phone=phone, index=index)
            audit_record(
                actor=user,
                action="resident.login",
                object_type="user",
                object_id=user.pk,
                purpose=Purpose.SELF,
            )
    if error is not None:
        raise error
    return user


def _resident_for_phone(*, phone: str, index: str) -> User:
    user = User.objects.filter(phone_index=index).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User.objects.create(
                username=f"r_{index[:16]}",
                role=Role.RESIDENT,
                phone_index=index,
                phone_enc=crypto.encrypt(phone, field="user.phone"),
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
    except IntegrityError:
        return User.objects.get(phone_index=index)
    audit_record(
        actor=user,
        action="resident.register",
        object_type="user",
        object_id=user.pk,
        purpose=Purpose.SELF,
    )
    return user
