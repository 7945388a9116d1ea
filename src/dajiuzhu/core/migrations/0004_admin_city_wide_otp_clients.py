"""Administrators exist only at city level (docs/decisions/0006-city-level-administrators.md),
and log-in code sends remember which client asked for them.

An administrator with a narrower scope created before this decision could act city-wide. Such
accounts are not widened to the city: each is deactivated, its password made unusable and its
role withdrawn (set to ``resident``, the role without staff power; the row stays because audit
events refer to it). The migration prints their user names so that the operator can create
proper accounts for those people.
"""

from django.db import migrations, models

CITY_CODE = "320400"


def withdraw_district_admins(apps, schema_editor):
    User = apps.get_model("core", "User")
    from django.contrib.auth.hashers import make_password

    narrower = User.objects.filter(role="admin").exclude(scope_id=CITY_CODE)
    names = list(narrower.values_list("username", flat=True))
    for user in narrower:
        user.role = "resident"
        user.is_active = False
        user.password = make_password(None)  # unusable
        user.save(update_fields=["role", "is_active", "password"])
    if names:
        print(
            "\n  administrators below city level withdrawn (deactivated): " + ", ".join(names)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("core", "0003_audit_keyed_reseal"),
    ]

    operations = [
        migrations.AddField(
            model_name="otpchallenge",
            name="client_ip_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="otpchallenge",
            name="session_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(withdraw_district_admins, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("role", "admin"), _negated=True) | models.Q(scope="320400"),
                name="admin_is_city_wide",
            ),
        ),
    ]
