"""The one Django set-up every command, benchmark and script shares.

``setup()`` configures Django with the platform's settings and brings the database up to date
(migrations, then the reference data on a fresh database), so that any command works on a new
``$DAJIUZHU_HOME`` without a separate ``init``.
"""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
    import django

    django.setup()
    ensure_database()


def ensure_database() -> None:
    """Apply pending migrations (a no-op check when the database is current)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
        from dajiuzhu.core.reference import reference_data_load

        reference_data_load()
