"""
Settings, read from environment variables.

The defaults suit a developer's machine: SQLite in var/, emails written to var/mail/, Redis on
localhost. A deployment sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and
the EMAIL_* variables (see README, "Deploying").
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "True")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = os.environ.get("SITE_NAME", "Postpartum Recovery")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "programs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise, so static files keep their caching; every other response is private.
    "programs.privacy.PrivateResponses",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into the "too many attempts" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "recovery.urls"
WSGI_APPLICATION = "recovery.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "programs.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer rather than failing at once when the worker and web server overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins, so a read-then-write transaction waits
    # for another writer instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Write-ahead logging: readers never wait for the writer, and a commit needs no flush to
    # disk (synchronous=NORMAL); a crashed process loses nothing, only a power cut could lose
    # the last commits.
    DATABASES["default"]["OPTIONS"]["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so Celery workers started by the tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from it once collected
# Uploads (an exercise's picture or video) go through Django's storage API: files under
# var/media/ by default, or an S3-compatible bucket when MEDIA_S3_BUCKET is set (needs
# `pip install django-storages[s3]`; README). Only DEBUG serves var/media/ itself.
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = VAR_DIR / "media"
EXERCISE_IMAGE_MAX_BYTES = int(os.environ.get("EXERCISE_IMAGE_MAX_BYTES", str(5_000_000)))
EXERCISE_VIDEO_MAX_BYTES = int(os.environ.get("EXERCISE_VIDEO_MAX_BYTES", str(30_000_000)))
# Uploads up to this size are written to a temporary file, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

if os.environ.get("MEDIA_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MEDIA_S3_BUCKET"],
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            "custom_domain": os.environ.get("MEDIA_S3_CUSTOM_DOMAIN") or None,
            "querystring_auth": False,  # exercise media is not private; plain, cacheable URLs
            "file_overwrite": False,
        },
    }

# Email: written to files in var/mail/ unless an SMTP server is configured.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Recovery <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True")
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# Whom to call: every country has its own numbers, so none is built in.
EMERGENCY_NUMBER = os.environ.get("EMERGENCY_NUMBER", "")
URGENT_ADVICE_LINE = os.environ.get("URGENT_ADVICE_LINE", "")
# Where she is urged to call about thoughts of harming herself or her baby, e.g. a national
# mental health crisis line; shown on the "Get help now" page and after such an answer.
CRISIS_LINE = os.environ.get("CRISIS_LINE", "")

# Red-flag alerts (programs.alerts): the clinic's address gets an alert for each hold of a woman
# without a coach, and any coach alert not acknowledged within these many seconds (tier 1, urgent).
# Unset: no clinic alerts at all, which the triage page shows to staff.
CLINIC_ALERT_EMAIL = os.environ.get("CLINIC_ALERT_EMAIL", "")
ALERT_ESCALATE_AFTER_TIER1 = float(os.environ.get("ALERT_ESCALATE_AFTER_TIER1", str(24 * 3600)))
ALERT_ESCALATE_AFTER_URGENT = float(os.environ.get("ALERT_ESCALATE_AFTER_URGENT", "3600"))

# Celery, with Redis as the broker. Due times live in our tables, never in delayed tasks.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Longer than any task may run, so a slow task is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The static schedule: the per-person schedule lives in our tables, never one entry per person.
# Each entry expires before the next is due, so a backlog never piles up while workers are down.
# How often beat starts senders; a sender waits for rows falling due before the next tick.
DISPATCH_SECONDS = float(os.environ.get("DISPATCH_SECONDS", "10"))
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "programs.tasks.sweep",
        "schedule": float(os.environ.get("PLAN_SWEEP_SECONDS", "60")),
        "options": {"expires": 55},
    },
    "roll-over-client-status": {
        "task": "programs.tasks.roll_over_client_status",
        "schedule": float(os.environ.get("STATUS_ROLL_SECONDS", "60")),
        "options": {"expires": 55},
    },
    "dispatch-notifications": {
        "task": "programs.tasks.dispatch_notifications",
        "schedule": DISPATCH_SECONDS,
        "options": {"expires": 9},
    },
    "prepare-notifications": {
        "task": "programs.tasks.prepare_sweep",
        "schedule": float(os.environ.get("PREPARE_SWEEP_SECONDS", "60")),
        "options": {"expires": 55},
    },
}

# Planning (programs.planning): enrolments per batch task, at most how many batch tasks one
# sweep asks for, how long before her 48-hour horizon runs out she is planned again, and how
# long a claimed batch is left alone before another task takes it.
PLAN_BATCH = int(os.environ.get("PLAN_BATCH", "500"))
PLAN_MAX_BATCHES_PER_SWEEP = int(os.environ.get("PLAN_MAX_BATCHES_PER_SWEEP", "400"))
PLAN_LEAD_SECONDS = float(os.environ.get("PLAN_LEAD_SECONDS", str(12 * 3600)))
PLAN_CLAIM_SECONDS = float(os.environ.get("PLAN_CLAIM_SECONDS", "300"))

# The dashboard rows (programs.standing) recomputed at her local midnight: rows per batch (one
# transaction each), and at most how many batches one run takes; the next run goes on.
STATUS_ROLL_BATCH = int(os.environ.get("STATUS_ROLL_BATCH", "200"))
STATUS_ROLL_MAX_BATCHES = int(os.environ.get("STATUS_ROLL_MAX_BATCHES", "250"))

# The outbox: rows per batch, and how many senders one dispatch tick may start.
OUTBOX_SEND_BATCH = int(os.environ.get("OUTBOX_SEND_BATCH", "100"))
OUTBOX_SENDERS = int(os.environ.get("OUTBOX_SENDERS", "4"))
# A sender hands over to a fresh task after this many batches, well inside the time limit. A
# dispatch tick starts senders for at most OUTBOX_SENDERS × this × OUTBOX_SEND_BATCH messages
# (20,000, or 2,000 a second at a tick every 10 s): more than the workers can send, so a rush
# never waits for the next tick.
OUTBOX_MAX_BATCHES_PER_TASK = int(os.environ.get("OUTBOX_MAX_BATCHES_PER_TASK", "50"))
# The first retry after a temporary SMTP failure; each further one waits twice as long.
OUTBOX_BACKOFF_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_SECONDS", "60"))
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
# How long a sender's claim on a row lasts: longer than any task may run (CELERY_TASK_TIME_LIMIT),
# so only a dead sender's rows are ever taken again.
OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "600"))
# Preparing ahead (programs.preparation): scheduled emails are rendered this long before they
# fall due, in batches of this many rows, at most this many batches per sweep.
PREPARE_AHEAD_SECONDS = float(os.environ.get("PREPARE_AHEAD_SECONDS", "600"))
PREPARE_BATCH = int(os.environ.get("PREPARE_BATCH", "500"))
PREPARE_MAX_BATCHES_PER_SWEEP = int(os.environ.get("PREPARE_MAX_BATCHES_PER_SWEEP", "400"))
# The status page (/status/, /status.json): the dispatch heartbeat counts as stale after this
# long, and monitoring may read the JSON with "Authorization: Bearer <STATUS_TOKEN>".
STATUS_STALE_SECONDS = float(os.environ.get("STATUS_STALE_SECONDS", "60"))
STATUS_TOKEN = os.environ.get("STATUS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Security. Production (DEBUG off) gets the strict defaults; each can be set from the
# environment. `manage.py check --deploy --fail-level WARNING` passes with them (tested).
# Logging: django.db.backends stays at WARNING above whatever LOG_LEVEL says (tested), since at
# DEBUG it logs every query with its parameters: her pain scores, symptoms and notes. So does
# django.template, whose DEBUG records of a failed variable lookup show the object looked in.
LOGGING["loggers"]["django.template"] = {"level": "INFO"}

# HTTPS only, and browsers told to remember it for a year (subdomains included; "preload" only
# allows submitting the domain to the browsers' preload list, which is done by hand).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(not DEBUG))
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", str(not DEBUG))
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", str(not DEBUG))
# Behind a TLS proxy: the header it sets and its value, e.g. "HTTP_X_FORWARDED_PROTO,https".
# Only set this if the proxy always sets (or strips) that header.
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip() or "https")

SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", str(not DEBUG))
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", str(not DEBUG))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (base.html), not the cookie
# Lax, not Strict: a link from her email must open her logged-in page.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # signed links never leak to another site
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy (django-csp 4): scripts and styles from our own static files only.
# No inline scripts, styles or event handlers anywhere; htmx's indicator <style> is turned off
# by the htmx-config meta tag in base.html.
# Exercise media served from a bucket's own host may be shown too.
_media_origins = envlist("MEDIA_ORIGINS", "")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", *_media_origins],
        "media-src": ["'self'", *_media_origins],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Login throttling (django-axes): the 5th wrong password for one account from one address locks
# that account from that address for 15 minutes, right password or not; other accounts and
# other addresses are unaffected. A successful login clears the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out do not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "programs.views.account.locked_out"
# Failed attempts are kept (for the lockout); a history of every successful login is not.
AXES_DISABLE_ACCESS_LOG = True
# Behind N trusted proxies that append to X-Forwarded-For, the client's address is the N-th
# from the right; with none, REMOTE_ADDR. Set TRUSTED_PROXY_COUNT=1 behind one TLS proxy, or
# every user shares the proxy's address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


AXES_CLIENT_IP_CALLABLE = "programs.throttling.client_ip"

# Password-reset and sign-up emails (programs.throttling): at most this many an hour for one
# address, and for one client address; past that, nothing is sent and the page is unchanged.
ACCOUNT_EMAIL_LIMITS = {
    "per_address": int(os.environ.get("ACCOUNT_EMAILS_PER_ADDRESS", "3")),
    "per_ip": int(os.environ.get("ACCOUNT_EMAILS_PER_IP", "10")),
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every web process, like the sessions; its table is made after each migrate.
    "throttle": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "throttle_cache",
    },
}

# Where to report a security problem, shown at /.well-known/security.txt (RFC 9116): an email
# address or an https:// URL. Unset, that page is a 404.
SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT", "")
