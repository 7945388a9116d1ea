"""Users and logged-in clients for tests."""

from __future__ import annotations

from django.test import Client

from dajiuzhu.core.roles import Role

PASSWORD = "Test-password-2023"


def make_user(username: str, role: str, scope: str | None, department: str | None = None):
    from dajiuzhu.core.services import user_create

    return user_create(
        actor=None,
        username=username,
        password=PASSWORD,
        role=role,
        scope_code=scope,
        department_code=department,
        check_password=False,
    )


def make_legacy_admin(username: str, scope: str):
    """An administrator below city level as an old database may still hold one (decision
    0003 forbids it; the constraint is set aside for this row only, inside the test's
    transaction)."""
    from django.db import connection

    from dajiuzhu.core.models import User

    user = User(username=username, role=Role.ADMIN, scope_id="320400")
    user.set_unusable_password()  # the tests log it in with force_login
    user.save()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                User.objects.filter(pk=user.pk).update(scope_id=scope)
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
        else:  # PostgreSQL: the test's rollback restores the constraint
            # (ALTER TABLE needs the deferred foreign-key checks queued so far to run first)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_user DROP CONSTRAINT admin_is_city_wide")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            User.objects.filter(pk=user.pk).update(scope_id=scope)
    user.refresh_from_db()
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
