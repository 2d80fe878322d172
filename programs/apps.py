from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProgramsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programs"
    verbose_name = "Recovery programs"

    def ready(self):
        # These load models, so only once the registry is ready; `effects` connects its
        # receivers as it loads.
        from programs import effects, roles, throttling

        post_migrate.connect(roles.create_groups, sender=self)
        post_migrate.connect(throttling.create_cache_table, sender=self)
        post_migrate.connect(effects.build_missing_rows, sender=self)
