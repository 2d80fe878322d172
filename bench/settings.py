"""Settings for the benchmark's own process: the application's, plus django-celery-beat, whose
per-enrollee schedule the benchmark compares with the sweep. The application itself (workers,
beat, web server) runs on `recovery.settings`, without it."""

from recovery.settings import *  # noqa: F403
from recovery.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_beat"]
