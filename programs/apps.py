from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programs"
    verbose_name = "Recovery programs"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_migrate

        from programs import roles, throttling
        from programs.models import groups_changed

        post_migrate.connect(roles.create_groups, sender=self)
        post_migrate.connect(throttling.create_cache_table, sender=self)
        post_migrate.connect(_build_missing_rows, sender=self)

        # Joining or leaving the Coaches group decides whether she gets a digest.
        m2m_changed.connect(groups_changed, sender=get_user_model().groups.through)


def _build_missing_rows(using="default", **kwargs):
    """Once every migration is applied, derived rows for what has none: built by today's code,
    so only against today's tables, never part-way through migrating."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from programs import standing

    executor = MigrationExecutor(connections[using])
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        standing.build_missing(timezone.now())
