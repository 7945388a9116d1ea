"""The one Django set-up every command, benchmark and script shares.

``setup()`` configures Django with the platform's settings and brings the database up to date
(migrations, then the reference data on a fresh database), so that any command works on a new
``$DAJIUZHU_HOME`` without a separate ``init``.

A one-off command (``server=False``, the default) starts without ``settings.SERVER_ONLY_APPS``
— the apps only the web server and the worker use — so that it does not pay for importing
them; the worker passes ``server=True`` (its ``run_huey`` command comes from one of them), and
the web server loads the full settings through ``dajiuzhu.wsgi``. In a process where Django is
already set up (the test suite, a command called from the demo), the apps stay as they are.
"""

from __future__ import annotations

import gc
import os


def setup(*, server: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
    import django
    from django.apps import apps
    from django.conf import settings

    if apps.ready or apps.loading:  # set up already in this process: the apps stay
        django.setup()
    else:
        if not server:
            left_out = set(settings.SERVER_ONLY_APPS)
            settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a not in left_out]
        # Loading the apps makes hundreds of thousands of objects that live as long as the
        # process (modules, classes, the app registry): the cyclic collector is paused
        # meanwhile and they are then frozen, so that no later collection walks them again
        # (gc.freeze, as pre-forking servers do).
        collecting = gc.isenabled()
        gc.disable()
        try:
            django.setup()
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
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
