"""Settings of the NHS Joint Working Portal, read from the environment.

Every value that differs between a developer's machine, CI and production comes
from an environment variable (see the README's table). The defaults work on a
machine with PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

from nhs_joint.timeouts import server_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env file is read when present (never committed); the environment wins.
# The test settings turn it off: the tests run on the portal's defaults.
if env.bool("DJANGO_READ_DOT_ENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Only for local development: production sets DJANGO_SECRET_KEY (prod settings refuse to start without it).
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="insecure-development-key-set-DJANGO_SECRET_KEY-in-production",
)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "simple_history",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "nhs_joint.versions",
    "accounts",
    "organisations",
    "regions",
    "dashboards",
    "programmes",
    "measures",
    "asks",
    "appointments",
    "reports",
    "jobs",
    "notifications",
    "collaboration",
    "search",
]

MIDDLEWARE = [
    "nhs_joint.timeouts.DatabaseTimeoutMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "nhs_joint.content_policy.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "nhs_joint.failures.ServiceUnavailableMiddleware",
    "nhs_joint.failures.APIBodySizeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "accounts.middleware.PartnerAllowListMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nhs_joint.urls"
WSGI_APPLICATION = "nhs_joint.wsgi.application"

SERVICE_NAME = "NHS Joint Working Portal"
# Who signs the letters the portal sends to organisations (what both bodies ask of them), and whom to contact.
LETTER_SIGNATORY = env.str("LETTER_SIGNATORY", default="Director of Joint Working")
LETTER_SIGNATORY_ROLE = env.str("LETTER_SIGNATORY_ROLE", default="On behalf of NHS England and NHS Improvement")
LETTER_CONTACT = env.str("LETTER_CONTACT", default="joint.working@example.nhs.uk")

TEMPLATES = [
    {
        # The portal's own pages: Jinja2 with the NHS.UK frontend macros.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "nhs_joint.jinja2.environment",
            "autoescape": True,
            "auto_reload": DEBUG,
        },
    },
    {
        # The Django admin and the API's browsable pages keep Django templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates" / "django"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/nhs_joint")}
# Keep connections between requests: opening one per request costs far more
# than the request itself.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that does not answer is given up on after a few seconds (the page then says so, 503), not waited for.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
)
# Every request answers in bounded time (nhs_joint/timeouts.py). PostgreSQL ends a statement after
# DATABASE_STATEMENT_TIMEOUT seconds and a wait for a lock after DATABASE_LOCK_TIMEOUT (0: no limit; the
# Celery workers' statements have the reports' own limit, nhs_joint/celery.py); TCP keepalives and
# tcp_user_timeout find a connection whose server's machine has gone; and a request waits at most
# DATABASE_REQUEST_TIMEOUT seconds for any one answer of the database before it answers 503.
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=30)
DATABASE_LOCK_TIMEOUT = env.float("DATABASE_LOCK_TIMEOUT", default=10)
DATABASE_REQUEST_TIMEOUT = env.float("DATABASE_REQUEST_TIMEOUT", default=3)
DATABASE_KEEPALIVES_IDLE = env.int("DATABASE_KEEPALIVES_IDLE", default=30)
DATABASES["default"]["OPTIONS"].update(
    options=server_options(
        DATABASE_STATEMENT_TIMEOUT, DATABASE_LOCK_TIMEOUT, DATABASES["default"]["OPTIONS"].get("options", "")
    ),
    keepalives=1,
    keepalives_idle=DATABASE_KEEPALIVES_IDLE,
    keepalives_interval=max(1, DATABASE_KEEPALIVES_IDLE // 3),
    keepalives_count=3,
    tcp_user_timeout=DATABASE_KEEPALIVES_IDLE * 2 * 1000,  # milliseconds: data the server's machine never acknowledged
)
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("DATABASE_TEST_NAME", default="test_nhs_joint")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# The NHS.UK frontend's stylesheet asks for /assets/...: WhiteNoise serves that folder at the root.
WHITENOISE_ROOT = BASE_DIR / "static" / "nhsuk"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Board papers (collaboration): kept with Django's storage API in STORAGES["attachments"], never under a public
# address (they are served only through the portal, to people signed in). ATTACHMENTS_STORAGE=local (the
# default) keeps them in ATTACHMENTS_DIR; =s3 in an S3-compatible bucket through django-storages (see README).
ATTACHMENT_MAX_MB = env.int("ATTACHMENT_MAX_MB", default=20)
ATTACHMENT_MAX_BYTES = ATTACHMENT_MAX_MB * 1024 * 1024
ATTACHMENTS_STORAGE = env.str("ATTACHMENTS_STORAGE", default="local")
if ATTACHMENTS_STORAGE == "s3":
    STORAGES["attachments"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("ATTACHMENTS_S3_BUCKET"),
            "endpoint_url": env.str("ATTACHMENTS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("ATTACHMENTS_S3_REGION", default=None),
            "access_key": env.str("ATTACHMENTS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("ATTACHMENTS_S3_SECRET_ACCESS_KEY", default=None),
            "location": env.str("ATTACHMENTS_S3_PREFIX", default="attachments"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif ATTACHMENTS_STORAGE == "local":
    STORAGES["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env.str("ATTACHMENTS_DIR", default=str(BASE_DIR / "var" / "attachments")),
            "base_url": "/no-public-address/",  # nothing serves this folder: downloads go through the portal
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ATTACHMENTS_STORAGE must be local or s3.")
# Uploads: files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file as they arrive, never all in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# A field choosing a record from a list that narrows as people type draws every record as an option up to this
# many; beyond it, only the chosen one, the others asked for as people type (nhs_joint/suggest.py).
AUTOCOMPLETE_INLINE_LIMIT = env.int("AUTOCOMPLETE_INLINE_LIMIT", default=200)

# Redis is the Celery broker. When it is not reachable the run script sets
# CELERY_TASK_ALWAYS_EAGER so that reports run inside the web process.
# Pages and API lists drawn for someone are kept, keyed by the version of the data they were drawn from
# (nhs_joint/conditional.py), so that asking again before anything changed costs a look-up, not a drawing.
# PAGE_CACHE_SECONDS=0 turns this off. By default each web process keeps its own (at most 200 pages, none
# over 512 KB: 100 MB at the very most); PAGE_CACHE_URL (such as redis://127.0.0.1:6379/2) shares them
# between processes, and then PAGE_CACHE_KEY_PREFIX should name the release, so that a new release never
# serves an old drawing.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=300)
PAGE_CACHE_MAX_BYTES = 512 * 1024
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "pages": {
        **env.cache_url("PAGE_CACHE_URL", default="locmemcache://pages?MAX_ENTRIES=200"),
        "TIMEOUT": max(PAGE_CACHE_SECONDS, 1),
        "KEY_PREFIX": env.str("PAGE_CACHE_KEY_PREFIX", default="pages"),
    },
    # The API's OpenAPI schema, kept under a digest of the code it is made from (nhs_joint/api_docs.py): made
    # once per release, read back by every web process and after every restart. By default a folder of this
    # machine; API_SCHEMA_CACHE_URL (such as redis://127.0.0.1:6379/3) shares it between machines. Each release's
    # copy (about a megabyte) is dropped 30 days after it was made.
    "schema": {
        **env.cache_url("API_SCHEMA_CACHE_URL", default=f"filecache://{BASE_DIR}/.local/api-schema"),
        "TIMEOUT": 30 * 24 * 3600,
    },
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# A request that hands work to the workers must not hang while Redis is away or hung: connect within a few
# seconds, try once more, then give up (the page says the work cannot start now, 503). A task is published
# once, with no retry: a Redis that has not answered within BROKER_TIMEOUT will not answer a second try
# either, and each try would wait again (three waits of 4 seconds made a hung Redis's 503 take 12).
BROKER_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT", default=2)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT,
    "socket_timeout": BROKER_TIMEOUT,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = BROKER_TIMEOUT * 2
CELERY_REDIS_RETRY_ON_TIMEOUT = False
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
}

REST_FRAMEWORK = {
    # Token first: an anonymous request is answered 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.WriteRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "nhs_joint.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "nhs_joint.api_schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "nhs_joint.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["nhs_joint.parsers.BoundedJSONParser"],
    "DATE_INPUT_FORMATS": ["iso-8601"],
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "NHS Joint Working Portal API",
    "DESCRIPTION": (
        "The programmes, appointments, measures and reports of the joint working of NHS England and "
        "NHS Improvement. Related records are named by natural key: bodies by code (NHSE, NHSI), regions, "
        "local systems and organisations by ODS code, measures by code, programmes by slug, people by email. "
        "Authenticate with a session or with `Authorization: Token <token>` from POST /api/v1/auth/token/. "
        "Single records carry an ETag: send it back in If-Match to update only what you read."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"AudienceEnum": "programmes.models.Audience"},
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "accounts.authentication.SessionAuthentication",
        "accounts.authentication.TokenAuthentication",
    ],
}

SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (django-csp 4): the portal's own files only; an inline script runs only with the
# page's nonce (templates write request.csp_nonce), and nothing runs inline without one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, each read together with its person and the data's versions (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
X_FRAME_OPTIONS = "DENY"

import logging  # noqa: E402  (for the console's format below)


class ConsoleFormatter(logging.Formatter):
    """The console's format. A refused request (403) is an expected answer, not a fault: it is
    logged as one line ("Forbidden (Permission denied): /users/"), without the traceback of the
    refusal. Every other record, a server error (500) above all, keeps its traceback."""

    def format(self, record):
        if getattr(record, "status_code", None) == 403 and (record.exc_info or record.exc_text):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"console": {"()": ConsoleFormatter}},
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "console"},
        # Django's own, kept as it is by default.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    # Django's records (django.request among them) reach the console once, through the root
    # logger, in its format: Django's default second console handler (DEBUG only) is left out.
    "loggers": {"django": {"handlers": ["mail_admins"], "level": "INFO"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# The measures each region shows side by side on the national overview (measure codes).
HEADLINE_MEASURES = env.list("HEADLINE_MEASURES", default=["ae-4hr", "rtt-18wk", "cancer-62d", "amb-cat2-mean"])

# seed_demo adds fictional people and generated figures: never where real records live.
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=True)

# Statistical process control: the points in a run or a trend that make a special cause.
SPC_RUN_LENGTH = env.int("SPC_RUN_LENGTH", default=7)

# Reports, duplicate-work (reports/duplication.py, docs/duplication.md): the match probability (0 to 1) from
# which two workstreams or programmes are reported as possibly the same work, the probability from which
# they are "likely" the same work, and how many closest records of each record are looked at.
DUPLICATE_WORK_POSSIBLE = env.float("DUPLICATE_WORK_POSSIBLE", default=0.5)
DUPLICATE_WORK_LIKELY = env.float("DUPLICATE_WORK_LIKELY", default=0.8)
DUPLICATE_WORK_NEIGHBOURS = env.int("DUPLICATE_WORK_NEIGHBOURS", default=10)
# Report jobs: time limits (seconds) and how long a silent worker is trusted before its run is marked failed.
REPORT_SOFT_TIME_LIMIT = env.int("REPORT_SOFT_TIME_LIMIT", default=600)
REPORT_TIME_LIMIT = env.int("REPORT_TIME_LIMIT", default=660)
REPORT_STALE_AFTER = env.int("REPORT_STALE_AFTER", default=120)
# A Celery worker's statements may run as long as a report may (nhs_joint/celery.py), not DATABASE_STATEMENT_TIMEOUT.
DATABASE_WORKER_STATEMENT_TIMEOUT = env.float("DATABASE_WORKER_STATEMENT_TIMEOUT", default=REPORT_TIME_LIMIT)
# A queued run that no worker has started after this many seconds lost its message: it is marked failed.
REPORT_QUEUED_STALE_AFTER = env.int("REPORT_QUEUED_STALE_AFTER", default=3600)
# A run that lost its database connection is tried again after this many seconds (then twice as long each time).
REPORT_RETRY_SECONDS = env.float("REPORT_RETRY_SECONDS", default=5)
# The Celery queue report runs are sent to (workers started with -Q take them).
REPORTS_QUEUE = env.str("REPORTS_QUEUE", default="celery")
# Seconds to pause before each rule: lets a demonstration (or a test) watch a run's progress. Off by default.
REPORT_RULE_DELAY = env.float("REPORT_RULE_DELAY", default=0)

# Long work off the request: a list export of more rows than this, or a measurements file of more bytes, is
# done by a worker, and the person follows it on its page and downloads the result there.
EXPORT_ROWS_IN_REQUEST = env.int("EXPORT_ROWS_IN_REQUEST", default=20000)
IMPORT_BYTES_IN_REQUEST = env.int("IMPORT_BYTES_IN_REQUEST", default=256 * 1024)
# Days a finished job (and its file) is kept for the person who started it.
JOB_KEEP_DAYS = env.int("JOB_KEEP_DAYS", default=7)

# Notifications by email (notifications/). The mail server is EMAIL_URL, read by django-environ's
# email_url: smtp://user:password@host:25, smtp+tls://…:587, or consolemail:// (the default: emails are
# written to the worker's output). PORTAL_URL is the portal's address that emails link to.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("EMAIL_FROM", default="NHS Joint Working Portal <portal@localhost>")
EMAIL_TIMEOUT = 10
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")
NOTIFICATIONS_QUEUE = env.str("NOTIFICATIONS_QUEUE", default="celery")
# A failed delivery is tried again after this many seconds, doubling each time (at most 6 tries by the
# task; the periodic re-send picks up any that are still unsent after that).
NOTIFICATION_RETRY_SECONDS = env.float("NOTIFICATION_RETRY_SECONDS", default=30)

CELERY_BEAT_SCHEDULE = {
    "consistency-report-nightly": {
        "task": "reports.nightly",
        "schedule": crontab(hour=2, minute=0),
        "args": ["consistency"],
    },
    "duplication-report-nightly": {
        "task": "reports.nightly",
        "schedule": crontab(hour=2, minute=30),
        "args": ["duplication"],
    },
    "reap-stale-report-runs": {"task": "reports.reap_stale_runs", "schedule": 60.0},
    "tidy-jobs": {"task": "jobs.tidy", "schedule": 3600.0},
    "notifications-daily-digest": {"task": "notifications.send_digests", "schedule": crontab(hour=7, minute=0)},
    "notifications-resend-unsent": {"task": "notifications.resend_unsent", "schedule": 600.0},
    # Consultations (asks/tasks.py): closed once their closing date has passed, their author told; partners
    # who have not answered reminded 7 days before. Each is done once, however often the tasks run.
    "consultations-close": {"task": "asks.close_consultations", "schedule": crontab(hour=0, minute=15)},
    "consultations-remind": {"task": "asks.remind_consultations", "schedule": crontab(hour=8, minute=0)},
    # The search's documents written again: catches up writes that send no signal (bulk imports, raw SQL).
    "search-rebuild-nightly": {"task": "search.rebuild", "schedule": crontab(hour=3, minute=0)},
}

# Sign-in, API tokens, lockouts and write throttling, NHS identity: nhs_joint/settings/identity.py.
from .identity import *  # noqa: E402

# A filter's empty choice, in words rather than django-filter's "---------".
FILTERS_EMPTY_CHOICE_LABEL = "Any"
